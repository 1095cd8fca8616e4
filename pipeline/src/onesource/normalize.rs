//! Normalisation of identifiers and matching attributes before entity
//! resolution.
//!
//! Identifiers (公民身份号码, 统一社会信用代码) go through, in order:
//!
//! 1. trimming (ASCII and Unicode white space, including U+3000) and removal
//!    of white space or `-` inside the number (copied from forms in groups);
//! 2. full-width to half-width (`１２３` → `123`, `Ｘ` → `X`);
//! 3. lowercase `x` (resident IDs) and lowercase letters (USCCs) to upper case;
//! 4. first-generation 15-digit resident IDs upgraded to 18 digits (`19` is
//!    inserted before the year and the GB 11643 MOD 11-2 check digit is
//!    computed);
//! 5. validation (length, alphabet, birth date, GB/T 2260 division, check
//!    character). A value that fails is set aside with its [`IdIssue`]; it
//!    never becomes a matching key.
//!
//! A person may also be identified by another lawful identity document
//! ([`normalize_person_key`]: permanent-residence cards, residence permits of
//! Hong Kong, Macao and Taiwan residents, travel permits, passports), folded
//! the same way and validated by its own format; its key keeps its type
//! (`pr_card:…`, `passport:USA:…`), so documents of different types never
//! share a key.
//!
//! Every step is recorded in [`Fixes`], so findings can say what was repaired.
//! Nothing here allocates for identifiers: values are rewritten into a fixed
//! 18-byte buffer and a valid resident ID is packed into a `u64` (its first 17
//! digits; the 18th is implied by them).
//!
//! Names are normalised for comparison only: traditional characters to
//! simplified (OpenCC's character table, `data/onesource/ts_characters.txt`),
//! full-width to half-width, ASCII lowercased, and the separators of minority
//! names (`·`, `•`, `.`, `・`, `‧`, spaces …) removed, so `艾力·买买提`,
//! `艾力•买买提` and `艾力 买买提` compare equal.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use quality_rules::ids::person_document::{self as doc, DocumentKind};
use quality_rules::ids::{Invalid, resident_id, uscc};
use serde::{Deserialize, Serialize};

/// Why an identifier was set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdIssue {
    /// Missing (NULL, empty or only white space).
    Missing,
    /// Wrong number of characters after normalisation.
    Length,
    /// A character outside the identifier's alphabet.
    Characters,
    /// The embedded birth date is not a real date (or is in the future).
    Date,
    /// The division code (GB/T 2260) does not exist.
    Division,
    /// The check character does not match.
    CheckCharacter,
    /// A prefix the document's numbering does not use (a residence permit
    /// not from 81/82/83, an 18-character 永居证 not from 9, …).
    Range,
    /// The document type column names no document pdq knows.
    DocumentType,
    /// A passport without a valid nationality (3 letters).
    Nationality,
}

impl IdIssue {
    /// The stable snake_case name used in findings and benchmark reports.
    pub fn as_str(self) -> &'static str {
        match self {
            IdIssue::Missing => "missing",
            IdIssue::Length => "length",
            IdIssue::Characters => "characters",
            IdIssue::Date => "date",
            IdIssue::Division => "division",
            IdIssue::CheckCharacter => "check_character",
            IdIssue::Range => "range",
            IdIssue::DocumentType => "document_type",
            IdIssue::Nationality => "nationality",
        }
    }

    fn from_invalid(i: Invalid) -> IdIssue {
        match i {
            Invalid::Length => IdIssue::Length,
            Invalid::Date => IdIssue::Date,
            Invalid::Division => IdIssue::Division,
            Invalid::CheckCharacter | Invalid::OrgCodeCheck => IdIssue::CheckCharacter,
            Invalid::Range => IdIssue::Range,
            _ => IdIssue::Characters,
        }
    }
}

/// Repairs applied while normalising one identifier (bit set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fixes(pub u8);

impl Fixes {
    /// Leading/trailing or inner white space (or `-`) removed.
    pub const TRIMMED: u8 = 1;
    /// Full-width characters turned half-width.
    pub const FULL_WIDTH: u8 = 2;
    /// Lowercase letters (`x`) upper-cased.
    pub const LOWERCASE: u8 = 4;
    /// A 15-digit number upgraded to 18 digits.
    pub const UPGRADED_15: u8 = 8;

    /// Whether `flag` is set.
    pub fn has(self, flag: u8) -> bool {
        self.0 & flag != 0
    }
}

/// A valid, normalised identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NormalizedId {
    /// The 18 characters.
    pub id: [u8; 18],
    /// What was repaired to get there.
    pub fixes: Fixes,
}

impl NormalizedId {
    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII bytes are ever written into `id`.
        std::str::from_utf8(&self.id).unwrap_or_default()
    }

    /// A resident ID's first 17 digits as a number: a compact exact-match key
    /// (the 18th character is a function of them). USCCs have letters and use
    /// [`NormalizedId::id`] directly.
    pub fn resident_key(&self) -> u64 {
        self.id[..17].iter().fold(0u64, |acc, &b| {
            acc * 10 + u64::from(b.wrapping_sub(b'0') % 10)
        })
    }
}

/// Characters that are dropped from identifiers: spaces of every width and
/// hyphens (full-width ones are folded first).
fn is_id_filler(c: char) -> bool {
    c.is_whitespace() || c == '-' || c == '\u{feff}'
}

/// Half-width form of a full-width ASCII variant (U+FF01–U+FF5E) and of the
/// ideographic space; other characters unchanged.
#[inline]
pub fn half_width(c: char) -> char {
    match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// Folds `raw` into `buf` (trim, fillers, full-width, upper case). Returns the
/// length written, or an issue when it cannot be an identifier.
fn fold_id(raw: &str, buf: &mut [u8; 20], fixes: &mut Fixes) -> Result<usize, IdIssue> {
    let trimmed = raw.trim_matches(is_id_filler);
    if trimmed.is_empty() {
        return Err(IdIssue::Missing);
    }
    if trimmed.len() != raw.len() {
        fixes.0 |= Fixes::TRIMMED;
    }
    let mut n = 0;
    // Fast path: pure ASCII.
    for c in trimmed.chars() {
        let h = half_width(c);
        if h != c {
            fixes.0 |= Fixes::FULL_WIDTH;
        }
        if is_id_filler(h) {
            fixes.0 |= Fixes::TRIMMED;
            continue;
        }
        if !h.is_ascii_alphanumeric() {
            return Err(IdIssue::Characters);
        }
        let mut b = h as u8;
        if b.is_ascii_lowercase() {
            fixes.0 |= Fixes::LOWERCASE;
            b = b.to_ascii_uppercase();
        }
        if n == buf.len() {
            return Err(IdIssue::Length);
        }
        buf[n] = b;
        n += 1;
    }
    Ok(n)
}

/// Normalises and validates a resident ID (GB 11643) as of `as_of`.
///
/// ```
/// use chrono::NaiveDate;
/// use pipeline::onesource::normalize::{Fixes, IdIssue, normalize_resident_id};
/// let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
/// let n = normalize_resident_id(" １１０１０５１９４９１２３１００２ｘ ", as_of).unwrap();
/// assert_eq!(n.as_str(), "11010519491231002X");
/// assert!(n.fixes.has(Fixes::FULL_WIDTH) && n.fixes.has(Fixes::LOWERCASE));
/// let n = normalize_resident_id("110105491231002", as_of).unwrap();
/// assert_eq!(n.as_str(), "11010519491231002X");
/// assert_eq!(normalize_resident_id("110105194912310021", as_of), Err(IdIssue::CheckCharacter));
/// ```
pub fn normalize_resident_id(raw: &str, as_of: NaiveDate) -> Result<NormalizedId, IdIssue> {
    let mut fixes = Fixes::default();
    let mut buf = [0u8; 20];
    let n = fold_id(raw, &mut buf, &mut fixes)?;
    let id = match n {
        15 => {
            let up = resident_id::upgrade_15_to_18(&buf[..15]).ok_or(IdIssue::Characters)?;
            fixes.0 |= Fixes::UPGRADED_15;
            up
        }
        18 => {
            let mut id = [0u8; 18];
            id.copy_from_slice(&buf[..18]);
            id
        }
        _ => return Err(IdIssue::Length),
    };
    resident_id::validate(&id, as_of, false).map_err(IdIssue::from_invalid)?;
    Ok(NormalizedId { id, fixes })
}

/// Normalises and validates a unified social credit code (GB 32100).
///
/// ```
/// use pipeline::onesource::normalize::normalize_uscc;
/// let n = normalize_uscc(" ９１３５０１００Ｍ０００１００Ｙ４３ ").unwrap();
/// assert_eq!(n.as_str(), "91350100M000100Y43");
/// ```
pub fn normalize_uscc(raw: &str) -> Result<NormalizedId, IdIssue> {
    let mut fixes = Fixes::default();
    let mut buf = [0u8; 20];
    let n = fold_id(raw, &mut buf, &mut fixes)?;
    if n != 18 {
        return Err(IdIssue::Length);
    }
    let mut id = [0u8; 18];
    id.copy_from_slice(&buf[..18]);
    uscc::validate(&id).map_err(IdIssue::from_invalid)?;
    Ok(NormalizedId { id, fixes })
}

/// A person's valid key: a 公民身份号码, or another lawful identity document
/// with its type (issue #17, 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonKey {
    /// 公民身份号码 (GB 11643), the texts' first identifier: its key is the
    /// bare number, as before.
    Resident(NormalizedId),
    /// Another document: `type:number`, or `passport:NAT:number`; a key
    /// never equals another type's (nor a bare resident ID: it has `:`).
    Document {
        /// Which document.
        kind: DocumentKind,
        /// `pr_card:931586197501010011`, `passport:USA:123456789`.
        key: String,
        /// What was repaired.
        fixes: Fixes,
    },
}

impl PersonKey {
    /// The key as text.
    pub fn as_str(&self) -> &str {
        match self {
            PersonKey::Resident(n) => n.as_str(),
            PersonKey::Document { key, .. } => key,
        }
    }

    /// What was repaired.
    pub fn fixes(&self) -> Fixes {
        match self {
            PersonKey::Resident(n) => n.fixes,
            PersonKey::Document { fixes, .. } => *fixes,
        }
    }

    /// The document.
    pub fn kind(&self) -> DocumentKind {
        match self {
            PersonKey::Resident(_) => DocumentKind::ResidentId,
            PersonKey::Document { kind, .. } => *kind,
        }
    }
}

/// Normalises and validates a person's identity document number.
///
/// `document_type` is the row's document type (`外国人永久居留身份证`,
/// `pr_card`, `护照` …, see [`DocumentKind::parse`]) when the dataset has a
/// column for it; without one, the number's shape tells the documents that
/// cannot be anything else (港澳台居民居住证 from 81/82/83, 永居证 from 9 or
/// 3 letters + 12 digits, 通行证 `H`/`M` + digits) and everything else is a
/// 公民身份号码 as before (台胞证 and passports need the type). A passport's
/// `nationality` (3 letters) is part of its key; a Chinese passport (`E`/`G`)
/// without one is `CHN`.
///
/// ```
/// use chrono::NaiveDate;
/// use pipeline::onesource::normalize::{IdIssue, normalize_person_key};
/// let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
/// let k = normalize_person_key(" 931586197501010011 ", None, None, as_of).unwrap();
/// assert_eq!(k.as_str(), "pr_card:931586197501010011");
/// let k = normalize_person_key("11010519491231002x", None, None, as_of).unwrap();
/// assert_eq!(k.as_str(), "11010519491231002X");
/// let k = normalize_person_key("e12345678", Some("护照"), None, as_of).unwrap();
/// assert_eq!(k.as_str(), "passport:CHN:E12345678");
/// assert_eq!(normalize_person_key("12345678", Some("驾驶证"), None, as_of), Err(IdIssue::DocumentType));
/// ```
pub fn normalize_person_key(
    raw: &str,
    document_type: Option<&str>,
    nationality: Option<&str>,
    as_of: NaiveDate,
) -> Result<PersonKey, IdIssue> {
    let kind = match document_type.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => Some(DocumentKind::parse(t).ok_or(IdIssue::DocumentType)?),
        None => None,
    };
    if kind == Some(DocumentKind::ResidentId) {
        return normalize_resident_id(raw, as_of).map(PersonKey::Resident);
    }
    let mut fixes = Fixes::default();
    let mut buf = [0u8; 20];
    let folded = fold_id(raw, &mut buf, &mut fixes);
    let kind = match kind {
        Some(k) => k,
        None => match folded.ok().and_then(|n| doc::kind_by_shape(&buf[..n])) {
            Some(k) => k,
            None => return normalize_resident_id(raw, as_of).map(PersonKey::Resident),
        },
    };
    let n = folded?;
    let s = &buf[..n];
    let number = std::str::from_utf8(s).unwrap_or_default();
    let checked = match kind {
        DocumentKind::HmtResidencePermit => {
            doc::validate_hmt_residence_permit(s, resident_id::birth_limit(as_of))
        }
        DocumentKind::PermanentResidence => doc::validate_permanent_residence(s),
        DocumentKind::HkMacaoPermit => doc::validate_hk_macao_permit(s),
        DocumentKind::TaiwanPermit => doc::validate_taiwan_permit(s),
        DocumentKind::Passport => {
            let nat: String = match nationality.map(str::trim).filter(|t| !t.is_empty()) {
                Some(t) => t
                    .chars()
                    .map(half_width)
                    .collect::<String>()
                    .to_ascii_uppercase(),
                None if matches!(s.first(), Some(b'E' | b'G')) => "CHN".into(),
                None => return Err(IdIssue::Nationality),
            };
            let nat = if nat == "中国" {
                "CHN".to_string()
            } else {
                nat
            };
            doc::validate_passport(nat.as_bytes(), s).map_err(|e| match e {
                Invalid::Range
                    if nat.len() != 3 || !nat.bytes().all(|b| b.is_ascii_uppercase()) =>
                {
                    IdIssue::Nationality
                }
                e => IdIssue::from_invalid(e),
            })?;
            return Ok(PersonKey::Document {
                kind,
                key: format!("{}:{nat}:{number}", kind.id()),
                fixes,
            });
        }
        DocumentKind::ResidentId => {
            return normalize_resident_id(raw, as_of).map(PersonKey::Resident);
        }
    };
    checked.map_err(IdIssue::from_invalid)?;
    // A 通行证's renewals keep its first 9 characters: the holder's key.
    let number = match kind {
        DocumentKind::HkMacaoPermit => {
            std::str::from_utf8(doc::hk_macao_lifelong(s)).unwrap_or(number)
        }
        _ => number,
    };
    Ok(PersonKey::Document {
        kind,
        key: format!("{}:{number}", kind.id()),
        fixes,
    })
}

/// The identifier folded (trim, half-width, upper case, 15→18 when possible)
/// but not validated: what an invalid key is compared with in fuzzy matching
/// (a one-digit typo is strong evidence). `None` when nothing is left.
pub fn fold_resident_id(raw: &str) -> Option<String> {
    let mut fixes = Fixes::default();
    let mut buf = [0u8; 20];
    let n = fold_id(raw, &mut buf, &mut fixes).ok()?;
    if n == 15
        && let Some(up) = resident_id::upgrade_15_to_18(&buf[..15])
    {
        return Some(String::from_utf8_lossy(&up).into_owned());
    }
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

fn ts_table() -> &'static HashMap<char, char> {
    static TABLE: OnceLock<HashMap<char, char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("../../data/onesource/ts_characters.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let (t, s) = l.split_once('\t')?;
                let mut t = t.chars();
                let mut s = s.chars();
                let (tc, sc) = (t.next()?, s.next()?);
                (t.next().is_none()).then_some((tc, sc))
            })
            .collect()
    })
}

/// The simplified form of one character (itself when it has none).
#[inline]
pub fn simplified(c: char) -> char {
    if (c as u32) < 0x3400 {
        return c;
    }
    ts_table().get(&c).copied().unwrap_or(c)
}

/// Separators written inside minority (e.g. Uyghur, Tibetan transliterated)
/// names: middle dots, bullets, full stops, katakana middle dot, hyphenation
/// point, spaces. They are dropped for comparison.
#[inline]
pub fn is_name_separator(c: char) -> bool {
    matches!(
        c,
        '·' | '•' | '.' | '・' | '‧' | '∙' | '⋅' | '･' | '．' | '-' | '_'
    ) || c.is_whitespace()
}

/// A name normalised for comparison: simplified characters, half-width,
/// ASCII lowercase, minority-name separators removed. Appends to `out` (so a
/// caller can reuse one buffer).
///
/// ```
/// use pipeline::onesource::normalize::normalize_name_into;
/// let mut s = String::new();
/// normalize_name_into(" 艾力•買買提 ", &mut s);
/// assert_eq!(s, "艾力买买提");
/// ```
pub fn normalize_name_into(raw: &str, out: &mut String) {
    for c in raw.chars() {
        let c = half_width(c);
        if is_name_separator(c) {
            continue;
        }
        let c = if c.is_ascii() {
            c.to_ascii_lowercase()
        } else {
            simplified(c)
        };
        out.push(c);
    }
}

/// [`normalize_name_into`] returning a new string.
pub fn normalize_name(raw: &str) -> String {
    let mut s = String::with_capacity(raw.len());
    normalize_name_into(raw, &mut s);
    s
}

/// Free text (addresses): simplified, half-width, white space and
/// punctuation dropped, ASCII lowercase.
pub fn normalize_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        let c = half_width(c);
        if c.is_whitespace() || c.is_ascii_punctuation() || is_name_separator(c) {
            continue;
        }
        out.push(if c.is_ascii() {
            c.to_ascii_lowercase()
        } else {
            simplified(c)
        });
    }
    out
}

/// A date as `yyyymmdd`, from `2024-03-05`, `2024/3/5`, `20240305`,
/// `2024.03.05`, `2024年3月5日` or a timestamp starting with one of them
/// (full-width digits allowed). `None` unless it is a real calendar date.
///
/// ```
/// use pipeline::onesource::normalize::normalize_date;
/// assert_eq!(normalize_date("1990年1月2日"), Some(19900102));
/// assert_eq!(normalize_date("1990-02-30"), None);
/// ```
pub fn normalize_date(raw: &str) -> Option<u32> {
    let mut parts = [0u32; 3];
    let mut lens = [0u8; 3];
    let mut k = 0;
    let mut digits = 0u8;
    for c in raw.trim().chars() {
        let c = half_width(c);
        if let Some(d) = c.to_digit(10) {
            if k >= 3 {
                break;
            }
            parts[k] = parts[k] * 10 + d;
            lens[k] += 1;
            digits += 1;
            if digits == 8 && k == 0 {
                // yyyymmdd in one run
                let v = parts[0];
                return check_date(v / 10_000, v / 100 % 100, v % 100);
            }
        } else if lens[k] > 0 {
            k += 1;
            if k == 3 {
                break;
            }
        }
    }
    if lens[0] == 4 && lens[1] > 0 && lens[2] > 0 {
        check_date(parts[0], parts[1], parts[2])
    } else {
        None
    }
}

fn check_date(y: u32, m: u32, d: u32) -> Option<u32> {
    NaiveDate::from_ymd_opt(y as i32, m, d)
        .map(|dt| dt.year() as u32 * 10_000 + dt.month() * 100 + dt.day())
}

/// Sex as GB/T 2261.1 code: `1` male, `2` female; `None` when unknown.
pub fn normalize_sex(raw: &str) -> Option<u8> {
    match raw.trim() {
        "1" | "男" | "M" | "m" | "male" | "Male" | "MALE" | "男性" => Some(1),
        "2" | "女" | "F" | "f" | "female" | "Female" | "FEMALE" | "女性" => Some(2),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    #[test]
    fn trimming_and_inner_spaces() {
        let n = normalize_resident_id("\u{3000} 110105 19491231 002X\t", as_of()).unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert!(n.fixes.has(Fixes::TRIMMED));
        assert!(!n.fixes.has(Fixes::FULL_WIDTH));
    }

    #[test]
    fn full_width_to_half_width() {
        let n = normalize_resident_id("１１０１０５１９４９１２３１００２Ｘ", as_of()).unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert!(n.fixes.has(Fixes::FULL_WIDTH));
        assert_eq!(half_width('Ａ'), 'A');
        assert_eq!(half_width('张'), '张');
    }

    #[test]
    fn lowercase_x() {
        let n = normalize_resident_id("11010519491231002x", as_of()).unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert!(n.fixes.has(Fixes::LOWERCASE));
    }

    #[test]
    fn fifteen_digits_upgraded_with_check_digit() {
        let n = normalize_resident_id("110105491231002", as_of()).unwrap();
        assert_eq!(n.as_str(), "11010519491231002X");
        assert!(n.fixes.has(Fixes::UPGRADED_15));
        // a 15-digit number with an impossible date is set aside
        assert_eq!(
            normalize_resident_id("110105491331002", as_of()),
            Err(IdIssue::Date)
        );
    }

    #[test]
    fn invalid_identifiers_set_aside_with_reason() {
        let cases = [
            ("", IdIssue::Missing),
            ("   ", IdIssue::Missing),
            ("1101051949123100", IdIssue::Length),
            ("11010519491231002X1", IdIssue::Length),
            ("1101051949123100?X", IdIssue::Characters),
            ("11010519491331002X", IdIssue::Date),
            ("99010519491231002X", IdIssue::Division),
            ("110105194912310021", IdIssue::CheckCharacter),
        ];
        for (raw, want) in cases {
            assert_eq!(normalize_resident_id(raw, as_of()), Err(want), "{raw:?}");
        }
    }

    #[test]
    fn resident_key_is_first_17_digits() {
        let n = normalize_resident_id("11010519491231002X", as_of()).unwrap();
        assert_eq!(n.resident_key(), 11010519491231002);
    }

    #[test]
    fn uscc_normalised() {
        let n = normalize_uscc("91350100m000100y43").unwrap();
        assert_eq!(n.as_str(), "91350100M000100Y43");
        assert!(n.fixes.has(Fixes::LOWERCASE));
        assert_eq!(
            normalize_uscc("91350100M000100Y44"),
            Err(IdIssue::CheckCharacter)
        );
    }

    #[test]
    fn fold_keeps_invalid_ids_comparable() {
        assert_eq!(
            fold_resident_id(" 110105194912310021 ").as_deref(),
            Some("110105194912310021")
        );
        assert_eq!(
            fold_resident_id("110105491231002").as_deref(),
            Some("11010519491231002X")
        );
        assert_eq!(fold_resident_id(" "), None);
    }

    #[test]
    fn names_traditional_and_separators() {
        assert_eq!(normalize_name("張國強"), "张国强");
        assert_eq!(normalize_name("艾力·买买提"), "艾力买买提");
        assert_eq!(normalize_name("艾力•买买提"), "艾力买买提");
        assert_eq!(normalize_name("艾力.买买提"), "艾力买买提");
        assert_eq!(normalize_name("艾力 买买提"), "艾力买买提");
        assert_eq!(normalize_name("艾力・买买提"), "艾力买买提");
        assert_eq!(normalize_name("ＺＨＡＮＧ San"), "zhangsan");
    }

    #[test]
    fn text_and_dates_and_sex() {
        assert_eq!(
            normalize_text("乌鲁木齐市 天山区，解放路1号"),
            "乌鲁木齐市天山区解放路1号"
        );
        assert_eq!(normalize_date("1990-01-02"), Some(19900102));
        assert_eq!(normalize_date("1990/1/2"), Some(19900102));
        assert_eq!(normalize_date("19900102"), Some(19900102));
        assert_eq!(normalize_date("１９９０年１月２日"), Some(19900102));
        assert_eq!(normalize_date("1990-01-02 08:00:00"), Some(19900102));
        assert_eq!(normalize_date("90-01-02"), None);
        assert_eq!(normalize_date(""), None);
        assert_eq!(normalize_sex("男"), Some(1));
        assert_eq!(normalize_sex("2"), Some(2));
        assert_eq!(normalize_sex("9"), None);
    }

    fn key(raw: &str, t: Option<&str>, nat: Option<&str>) -> Result<String, IdIssue> {
        normalize_person_key(raw, t, nat, as_of()).map(|k| k.as_str().to_string())
    }

    #[test]
    fn residence_permits_of_hong_kong_macao_and_taiwan_residents() {
        // 810000 1990-01-01 123, check 0 (GB 11643 MOD 11-2)
        assert_eq!(
            key("810000199001011230", None, None).as_deref(),
            Ok("hmt_residence_permit:810000199001011230")
        );
        assert_eq!(
            key(
                "８１００００１９９００１０１１２３０",
                Some("港澳台居民居住证"),
                None
            )
            .as_deref(),
            Ok("hmt_residence_permit:810000199001011230")
        );
        assert_eq!(
            key("810000199001011231", None, None),
            Err(IdIssue::CheckCharacter)
        );
        assert_eq!(
            key("81000019900101123", Some("港澳台居民居住证"), None),
            Err(IdIssue::Length)
        );
        // a citizen's number is not a residence permit
        assert_eq!(
            key("11010519491231002X", Some("港澳台居民居住证"), None),
            Err(IdIssue::Range)
        );
    }

    #[test]
    fn permanent_residence_cards_2017_and_2023() {
        let k = normalize_person_key("931586197501010011", None, None, as_of()).unwrap();
        assert_eq!(k.kind(), DocumentKind::PermanentResidence);
        assert_eq!(k.as_str(), "pr_card:931586197501010011");
        assert_eq!(
            key("931586197501010012", None, None),
            Err(IdIssue::CheckCharacter)
        );
        assert_eq!(
            key("93158619750101001", Some("永居证"), None),
            Err(IdIssue::Length)
        );
        assert_eq!(
            key("usa110075010101", None, None).as_deref(),
            Ok("pr_card:USA110075010101")
        );
        assert_eq!(
            key("USA11007501010", Some("外国人永久居留身份证"), None),
            Err(IdIssue::Length)
        );
        assert_eq!(
            key("US1110075010101", Some("外国人永久居留身份证"), None),
            Err(IdIssue::Characters)
        );
    }

    #[test]
    fn travel_permits() {
        assert_eq!(
            key("h1234 5678", None, None).as_deref(),
            Ok("hk_macao_permit:H12345678")
        );
        // A renewal (the last two digits count them) is the same holder.
        assert_eq!(
            key("M1234567801", Some("回乡证"), None).as_deref(),
            Ok("hk_macao_permit:M12345678")
        );
        assert_eq!(key("M1234567800", None, None), key("M12345678", None, None));
        assert_ne!(key("M12345678", None, None), key("H12345678", None, None));
        assert_eq!(
            key("H1234567", Some("港澳居民来往内地通行证"), None),
            Err(IdIssue::Length)
        );
        assert_eq!(
            key("12345678", Some("台湾居民来往大陆通行证"), None).as_deref(),
            Ok("taiwan_permit:12345678")
        );
        assert_eq!(key("1234567", Some("台胞证"), None), Err(IdIssue::Length));
        assert_eq!(
            key("1234567A", Some("台胞证"), None),
            Err(IdIssue::Characters)
        );
        // Eight digits without a document type are not taken for a 台胞证.
        assert_eq!(key("12345678", None, None), Err(IdIssue::Length));
    }

    #[test]
    fn passports_keep_their_nationality() {
        assert_eq!(
            key("E12345678", Some("护照"), None).as_deref(),
            Ok("passport:CHN:E12345678")
        );
        assert_eq!(
            key("EA1234567", Some("普通护照"), Some("chn")).as_deref(),
            Ok("passport:CHN:EA1234567")
        );
        assert_eq!(key("E1234567", Some("护照"), None), Err(IdIssue::Length));
        assert_eq!(
            key("123456789", Some("外国护照"), Some("USA")).as_deref(),
            Ok("passport:USA:123456789")
        );
        // the same number from two countries is two documents
        assert_ne!(
            key("123456789", Some("护照"), Some("USA")),
            key("123456789", Some("护照"), Some("CAN"))
        );
        assert_eq!(
            key("123456789", Some("护照"), None),
            Err(IdIssue::Nationality)
        );
        assert_eq!(
            key("123456789", Some("护照"), Some("U5A")),
            Err(IdIssue::Nationality)
        );
        assert_eq!(key("1234", Some("护照"), Some("USA")), Err(IdIssue::Length));
    }

    #[test]
    fn document_types_never_collide() {
        // the same digits as a resident ID and as a residence permit, and a
        // document type column that names the citizen's card
        let a = key("11010519491231002X", Some("居民身份证"), None).unwrap();
        let b = key("810000199001011230", None, None).unwrap();
        assert_eq!(a, "11010519491231002X");
        assert!(b.starts_with("hmt_residence_permit:"));
        let t = key("12345678", Some("台胞证"), None).unwrap();
        let p = key("12345678", Some("护照"), Some("USA")).unwrap();
        assert_ne!(t, p);
        assert_eq!(
            key("12345678", Some("驾驶证"), None),
            Err(IdIssue::DocumentType)
        );
    }
}

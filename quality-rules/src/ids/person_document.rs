//! The other lawful identity documents of a person (besides the 公民身份号码
//! of GB 11643), whose numbers identify persons in one-source resolution:
//! the texts name 有效身份证件号码 (兵团 art.17) and 其他有效身份证件号码 (西藏
//! art.15, 吴忠 art.19), 其他个人身份证件号码 (甘孜 art.10), without listing
//! them. Formats implemented (the issuers' published numbering plans; none
//! of them is cited by any regulation text):
//!
//! | document | format | check |
//! |---|---|---|
//! | 港澳台居民居住证 | 18 characters, 810000 / 820000 / 830000 + birth date + sequence + check, as GB 11643 | MOD 11-2 (GB 11643) |
//! | 外国人永久居留身份证, 2023 | 18 characters, first `9` (17 digits + check) | MOD 11-2 (GB 11643) |
//! | 外国人永久居留身份证, 2017 | 15 characters: 3 letters (nationality) + 12 digits | none published |
//! | 港澳居民来往内地通行证 | `H` (Hong Kong) or `M` (Macao) + 8 digits, the holder's lifelong number, then on the 1999 card 2 digits counting renewals (00, 01, …) | none published |
//! | 台湾居民来往大陆通行证 | 8 digits (card) | none published |
//! | 中国护照 (普通护照) | `E` or `G` + 8 characters (`E` + 8 digits, `E` + letter + 7 digits, `G` + 8 digits) | none published |
//! | 外国护照 | nationality (3 letters, ICAO 9303) + number of 5–17 letters or digits | none (the MRZ check digit is not part of the number) |
//!
//! All functions take the number already folded (trimmed, half-width,
//! upper case) as ASCII bytes.

use super::Invalid;
use super::resident_id::check_digit;

/// A kind of identity document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocumentKind {
    /// 居民身份证 (公民身份号码, GB 11643).
    ResidentId,
    /// 港澳台居民居住证.
    HmtResidencePermit,
    /// 外国人永久居留身份证 (2017 or 2023 version).
    PermanentResidence,
    /// 港澳居民来往内地通行证.
    HkMacaoPermit,
    /// 台湾居民来往大陆通行证.
    TaiwanPermit,
    /// 护照 (Chinese or foreign; the nationality is part of the key).
    Passport,
}

impl DocumentKind {
    /// Every kind.
    pub const ALL: [DocumentKind; 6] = [
        DocumentKind::ResidentId,
        DocumentKind::HmtResidencePermit,
        DocumentKind::PermanentResidence,
        DocumentKind::HkMacaoPermit,
        DocumentKind::TaiwanPermit,
        DocumentKind::Passport,
    ];

    /// The stable id, the prefix of a key (`pr_card:9…`).
    pub fn id(self) -> &'static str {
        match self {
            DocumentKind::ResidentId => "resident_id",
            DocumentKind::HmtResidencePermit => "hmt_residence_permit",
            DocumentKind::PermanentResidence => "pr_card",
            DocumentKind::HkMacaoPermit => "hk_macao_permit",
            DocumentKind::TaiwanPermit => "taiwan_permit",
            DocumentKind::Passport => "passport",
        }
    }

    /// Its name in Chinese.
    pub fn name(self) -> &'static str {
        match self {
            DocumentKind::ResidentId => "居民身份证",
            DocumentKind::HmtResidencePermit => "港澳台居民居住证",
            DocumentKind::PermanentResidence => "外国人永久居留身份证",
            DocumentKind::HkMacaoPermit => "港澳居民来往内地通行证",
            DocumentKind::TaiwanPermit => "台湾居民来往大陆通行证",
            DocumentKind::Passport => "护照",
        }
    }

    /// The kind a document-type value names: the id, the Chinese name, or
    /// a common short name (`身份证`, `永居证`, `回乡证`, `台胞证`, `普通护照`,
    /// `外国护照`). Case and surrounding white space are ignored.
    pub fn parse(value: &str) -> Option<DocumentKind> {
        let v = value.trim();
        let l = v.to_ascii_lowercase();
        if let Some(k) = DocumentKind::ALL.into_iter().find(|k| k.id() == l) {
            return Some(k);
        }
        Some(match v {
            "居民身份证" | "身份证" | "公民身份号码" | "居民身份号码" => {
                DocumentKind::ResidentId
            }
            "港澳台居民居住证" | "港澳居民居住证" | "台湾居民居住证" => {
                DocumentKind::HmtResidencePermit
            }
            "外国人永久居留身份证" | "外国人永久居留证" | "永居证" => {
                DocumentKind::PermanentResidence
            }
            "港澳居民来往内地通行证" | "回乡证" => DocumentKind::HkMacaoPermit,
            "台湾居民来往大陆通行证" | "台胞证" => DocumentKind::TaiwanPermit,
            "护照" | "普通护照" | "中国护照" | "外国护照" => DocumentKind::Passport,
            _ => return None,
        })
    }
}

fn all_digits(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_digit)
}

fn all_letters(s: &[u8]) -> bool {
    s.iter().all(u8::is_ascii_uppercase)
}

/// The MOD 11-2 check of an 18-character number whose first 17 are digits.
fn mod11_2(s: &[u8]) -> Result<(), Invalid> {
    if !all_digits(&s[..17]) || !(s[17].is_ascii_digit() || s[17] == b'X') {
        return Err(Invalid::Characters);
    }
    if check_digit(&s[..17]) != Some(s[17]) {
        return Err(Invalid::CheckCharacter);
    }
    Ok(())
}

/// 港澳台居民居住证: 18 characters, GB 11643's structure with the address
/// code 810000 (Hong Kong), 820000 (Macao) or 830000 (Taiwan), a real birth
/// date up to `birth_limit` (`yyyymmdd`) and the MOD 11-2 check.
///
/// ```
/// use quality_rules::ids::{Invalid, person_document::validate_hmt_residence_permit};
/// assert_eq!(validate_hmt_residence_permit(b"810000199001011230", 20261122), Ok(()));
/// assert_eq!(validate_hmt_residence_permit(b"810000199001011231", 20261122), Err(Invalid::CheckCharacter));
/// assert_eq!(validate_hmt_residence_permit(b"110000199001011235", 20261122), Err(Invalid::Range));
/// ```
pub fn validate_hmt_residence_permit(s: &[u8], birth_limit: u32) -> Result<(), Invalid> {
    if s.len() != 18 {
        return Err(Invalid::Length);
    }
    mod11_2(s)?;
    if !matches!(&s[..6], b"810000" | b"820000" | b"830000") {
        return Err(Invalid::Range);
    }
    let (y, m, d) = super::ymd(&s[6..14]).ok_or(Invalid::Date)?;
    if y < 1900 || y * 10_000 + m * 100 + d > birth_limit {
        return Err(Invalid::Date);
    }
    Ok(())
}

/// 外国人永久居留身份证: the 2023 version (18 characters, first `9`, MOD 11-2
/// check) or the 2017 version (3 letters + 12 digits).
///
/// ```
/// use quality_rules::ids::{Invalid, person_document::validate_permanent_residence};
/// assert_eq!(validate_permanent_residence(b"931586197501010011"), Ok(()));
/// assert_eq!(validate_permanent_residence(b"931586197501010012"), Err(Invalid::CheckCharacter));
/// assert_eq!(validate_permanent_residence(b"USA110075010101"), Ok(()));
/// assert_eq!(validate_permanent_residence(b"USA11007501010"), Err(Invalid::Length));
/// ```
pub fn validate_permanent_residence(s: &[u8]) -> Result<(), Invalid> {
    match s.len() {
        18 => {
            mod11_2(s)?;
            if s[0] != b'9' {
                return Err(Invalid::Range);
            }
            Ok(())
        }
        15 => {
            if all_letters(&s[..3]) && all_digits(&s[3..]) {
                Ok(())
            } else {
                Err(Invalid::Characters)
            }
        }
        _ => Err(Invalid::Length),
    }
}

/// 港澳居民来往内地通行证: `H` or `M`, then 8 digits, or 10 where the last
/// two count renewals (公安部出入境管理局's numbering rules, 2010: the first
/// 9 characters stay the same across renewals; see [`hk_macao_lifelong`]).
///
/// ```
/// use quality_rules::ids::{Invalid, person_document::validate_hk_macao_permit};
/// assert_eq!(validate_hk_macao_permit(b"H12345678"), Ok(()));
/// assert_eq!(validate_hk_macao_permit(b"M1234567801"), Ok(()));
/// assert_eq!(validate_hk_macao_permit(b"H1234567"), Err(Invalid::Length));
/// assert_eq!(validate_hk_macao_permit(b"K12345678"), Err(Invalid::Range));
/// ```
pub fn validate_hk_macao_permit(s: &[u8]) -> Result<(), Invalid> {
    if s.len() != 9 && s.len() != 11 {
        return Err(Invalid::Length);
    }
    if !all_digits(&s[1..]) {
        return Err(Invalid::Characters);
    }
    if s[0] != b'H' && s[0] != b'M' {
        return Err(Invalid::Range);
    }
    Ok(())
}

/// The part of a valid 港澳居民来往内地通行证 number that identifies its
/// holder for life: the letter and the 8-digit number, without the renewal
/// count.
///
/// ```
/// use quality_rules::ids::person_document::hk_macao_lifelong;
/// assert_eq!(hk_macao_lifelong(b"H1234567801"), b"H12345678");
/// assert_eq!(hk_macao_lifelong(b"H12345678"), b"H12345678");
/// ```
pub fn hk_macao_lifelong(s: &[u8]) -> &[u8] {
    &s[..s.len().min(9)]
}

/// 台湾居民来往大陆通行证: 8 digits.
///
/// ```
/// use quality_rules::ids::{Invalid, person_document::validate_taiwan_permit};
/// assert_eq!(validate_taiwan_permit(b"12345678"), Ok(()));
/// assert_eq!(validate_taiwan_permit(b"1234567"), Err(Invalid::Length));
/// ```
pub fn validate_taiwan_permit(s: &[u8]) -> Result<(), Invalid> {
    if s.len() != 8 {
        return Err(Invalid::Length);
    }
    if !all_digits(s) {
        return Err(Invalid::Characters);
    }
    Ok(())
}

/// A passport number of `nationality` (3 letters, ICAO 9303). A Chinese
/// (`CHN`) ordinary passport: `E` or `G` + 8 characters, the last 7 digits
/// (`E12345678`, `EA1234567`, `G12345678`); any other: 5 to 17 letters or
/// digits.
///
/// ```
/// use quality_rules::ids::{Invalid, person_document::validate_passport};
/// assert_eq!(validate_passport(b"CHN", b"E12345678"), Ok(()));
/// assert_eq!(validate_passport(b"CHN", b"EA1234567"), Ok(()));
/// assert_eq!(validate_passport(b"CHN", b"E1234567"), Err(Invalid::Length));
/// assert_eq!(validate_passport(b"USA", b"123456789"), Ok(()));
/// assert_eq!(validate_passport(b"US", b"123456789"), Err(Invalid::Range));
/// ```
pub fn validate_passport(nationality: &[u8], s: &[u8]) -> Result<(), Invalid> {
    if nationality.len() != 3 || !all_letters(nationality) {
        return Err(Invalid::Range);
    }
    if !s
        .iter()
        .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return Err(Invalid::Characters);
    }
    if nationality == b"CHN" {
        if s.len() != 9 {
            return Err(Invalid::Length);
        }
        if (s[0] != b'E' && s[0] != b'G') || !all_digits(&s[2..]) {
            return Err(Invalid::Range);
        }
        if s[0] == b'G' && !s[1].is_ascii_digit() {
            return Err(Invalid::Range);
        }
        return Ok(());
    }
    if !(5..=17).contains(&s.len()) {
        return Err(Invalid::Length);
    }
    Ok(())
}

/// The kind a number's shape alone shows, among those that cannot be
/// anything else: 18 characters from 81/82/83 (港澳台居民居住证) or from 9
/// (2023 永居证), 3 letters + 12 digits (2017 永居证), `H`/`M` + 8 or 10
/// digits (通行证). None for a 公民身份号码 and for what needs the document
/// type to be told (台胞证's 8 digits, passports).
///
/// ```
/// use quality_rules::ids::person_document::{DocumentKind, kind_by_shape};
/// assert_eq!(kind_by_shape(b"931586197501010011"), Some(DocumentKind::PermanentResidence));
/// assert_eq!(kind_by_shape(b"11010519491231002X"), None);
/// assert_eq!(kind_by_shape(b"12345678"), None);
/// ```
pub fn kind_by_shape(s: &[u8]) -> Option<DocumentKind> {
    match s.len() {
        18 if matches!(&s[..2], b"81" | b"82" | b"83") => Some(DocumentKind::HmtResidencePermit),
        18 if s[0] == b'9' => Some(DocumentKind::PermanentResidence),
        15 if all_letters(&s[..3]) && all_digits(&s[3..]) => Some(DocumentKind::PermanentResidence),
        9 | 11 if (s[0] == b'H' || s[0] == b'M') && all_digits(&s[1..]) => {
            Some(DocumentKind::HkMacaoPermit)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: u32 = 20261122;

    /// 17 digits with their MOD 11-2 check character.
    fn with_check(first17: &str) -> String {
        let c = check_digit(first17.as_bytes()).unwrap();
        format!("{first17}{}", c as char)
    }

    /// The same number with another check character.
    fn wrong_check(id: &str) -> String {
        let last = id.as_bytes()[17];
        let other = if last == b'0' { '1' } else { '0' };
        format!("{}{other}", &id[..17])
    }

    #[test]
    fn hmt_residence_permit_valid_check_length_prefix_and_date() {
        for prefix in ["810000", "820000", "830000"] {
            let id = with_check(&format!("{prefix}19900101123"));
            assert_eq!(validate_hmt_residence_permit(id.as_bytes(), LIMIT), Ok(()));
            assert_eq!(
                validate_hmt_residence_permit(wrong_check(&id).as_bytes(), LIMIT),
                Err(Invalid::CheckCharacter)
            );
            assert_eq!(
                validate_hmt_residence_permit(&id.as_bytes()[..17], LIMIT),
                Err(Invalid::Length)
            );
            assert_eq!(
                kind_by_shape(id.as_bytes()),
                Some(DocumentKind::HmtResidencePermit)
            );
        }
        // a mainland address code, a real check digit: not a residence permit
        let id = with_check("11010519900101123");
        assert_eq!(
            validate_hmt_residence_permit(id.as_bytes(), LIMIT),
            Err(Invalid::Range)
        );
        let id = with_check("81000019901301123");
        assert_eq!(
            validate_hmt_residence_permit(id.as_bytes(), LIMIT),
            Err(Invalid::Date)
        );
        let id = with_check("81000020990101123");
        assert_eq!(
            validate_hmt_residence_permit(id.as_bytes(), LIMIT),
            Err(Invalid::Date)
        );
    }

    #[test]
    fn permanent_residence_both_versions() {
        let new = with_check("93158619750101001");
        assert_eq!(validate_permanent_residence(new.as_bytes()), Ok(()));
        assert_eq!(
            validate_permanent_residence(wrong_check(&new).as_bytes()),
            Err(Invalid::CheckCharacter)
        );
        assert_eq!(
            validate_permanent_residence(&new.as_bytes()[..17]),
            Err(Invalid::Length)
        );
        // 18 characters with a valid check but a citizen's first digit
        let citizen = with_check("11010519491231002");
        assert_eq!(
            validate_permanent_residence(citizen.as_bytes()),
            Err(Invalid::Range)
        );
        assert_eq!(validate_permanent_residence(b"CAN310081010100"), Ok(()));
        assert_eq!(
            validate_permanent_residence(b"CAN31008101010"),
            Err(Invalid::Length)
        );
        assert_eq!(
            validate_permanent_residence(b"CA1310081010100"),
            Err(Invalid::Characters)
        );
    }

    #[test]
    fn permits_and_passports() {
        assert_eq!(validate_hk_macao_permit(b"H12345678"), Ok(()));
        assert_eq!(validate_hk_macao_permit(b"M12345678"), Ok(()));
        assert_eq!(validate_hk_macao_permit(b"H1234567890"), Ok(()));
        assert_eq!(
            validate_hk_macao_permit(b"H123456789"),
            Err(Invalid::Length)
        );
        assert_eq!(
            validate_hk_macao_permit(b"H1234567A"),
            Err(Invalid::Characters)
        );
        assert_eq!(validate_taiwan_permit(b"01234567"), Ok(()));
        assert_eq!(validate_taiwan_permit(b"012345678"), Err(Invalid::Length));
        assert_eq!(
            validate_taiwan_permit(b"0123456A"),
            Err(Invalid::Characters)
        );
        assert_eq!(validate_passport(b"CHN", b"G12345678"), Ok(()));
        assert_eq!(validate_passport(b"CHN", b"GA1234567"), Err(Invalid::Range));
        assert_eq!(validate_passport(b"CHN", b"P12345678"), Err(Invalid::Range));
        assert_eq!(
            validate_passport(b"CHN", b"E123456789"),
            Err(Invalid::Length)
        );
        assert_eq!(validate_passport(b"GBR", b"1234"), Err(Invalid::Length));
        assert_eq!(
            validate_passport(b"GBR", b"12345-78"),
            Err(Invalid::Characters)
        );
        assert_eq!(validate_passport(b"G1R", b"123456789"), Err(Invalid::Range));
    }

    #[test]
    fn document_types_by_name() {
        assert_eq!(
            DocumentKind::parse(" 永居证 "),
            Some(DocumentKind::PermanentResidence)
        );
        assert_eq!(
            DocumentKind::parse("PR_CARD"),
            Some(DocumentKind::PermanentResidence)
        );
        assert_eq!(
            DocumentKind::parse("台胞证"),
            Some(DocumentKind::TaiwanPermit)
        );
        assert_eq!(DocumentKind::parse("驾驶证"), None);
        for k in DocumentKind::ALL {
            assert_eq!(DocumentKind::parse(k.id()), Some(k));
            assert_eq!(DocumentKind::parse(k.name()), Some(k));
        }
    }
}

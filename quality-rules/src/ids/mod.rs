//! Check characters of the Chinese national identifiers, as pure functions over
//! ASCII bytes.
//!
//! These are the arithmetic cores shared by the validators (and their UDFs),
//! the demo and benchmark generators and, later, identifier normalisation in
//! one-source resolution. They never allocate and never panic: input of the
//! wrong length or alphabet gives `None`.
//!
//! | identifier | standard | check |
//! |---|---|---|
//! | 公民身份号码 (resident ID) | GB 11643-1999 | ISO 7064 MOD 11-2 over 17 digits |
//! | 组织机构代码 (organisation code) | GB 11714-1997 | MOD 11 over 8 characters |
//! | 统一社会信用代码 (USCC) | GB 32100-2015 | MOD 31 over 17 characters |
//! | 港澳台居民居住证, 2023 外国人永久居留身份证 | GB 11643's check | MOD 11-2 over 17 digits ([`person_document`]) |

/// Marks a byte outside an identifier's alphabet in a `value_table!`
/// (high bit set, so one OR over a code's values tells if any is outside).
pub(crate) const NOT_IN_ALPHABET: u8 = 0x80;

/// The values of a `const fn value(u8) -> Option<u32>` for every byte, as a
/// table (`NOT_IN_ALPHABET` where `None`): validators look values up instead
/// of branching per character, which matters when codes mix digits and
/// letters at random.
macro_rules! value_table {
    ($value:path) => {{
        let mut t = [$crate::ids::NOT_IN_ALPHABET; 256];
        let mut b = 0;
        while b < 256 {
            if let Some(v) = $value(b as u8) {
                t[b] = v as u8;
            }
            b += 1;
        }
        t
    }};
}

pub mod date_format;
pub mod division_code;
pub mod org_code;
pub mod person_document;
pub mod phone;
pub mod postal_code;
pub mod resident_id;
pub mod uscc;

/// Why a value is not a valid identifier or code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Wrong number of characters.
    Length,
    /// A character outside the allowed alphabet.
    Characters,
    /// A lowercase `x` check character where only `X` is allowed.
    LowercaseX,
    /// Not a real date, or outside the allowed period.
    Date,
    /// The division code is not (or no longer) a GB/T 2260 code.
    Division,
    /// The check character does not match.
    CheckCharacter,
    /// The embedded organisation code's own check character does not match.
    OrgCodeCheck,
    /// A prefix or range the numbering plan does not use.
    Range,
}

impl Invalid {
    /// A short explanation, Chinese then English.
    pub fn describe(self) -> &'static str {
        match self {
            Invalid::Length => "长度错误 / wrong length",
            Invalid::Characters => "含非法字符 / invalid characters",
            Invalid::LowercaseX => "校验位为小写 x / lowercase x check character",
            Invalid::Date => "日期无效 / invalid or out-of-range date",
            Invalid::Division => "行政区划代码无效 / unknown division code",
            Invalid::CheckCharacter => "校验码错误 / wrong check character",
            Invalid::OrgCodeCheck => "组织机构代码校验错误 / wrong organisation-code check",
            Invalid::Range => "号段无效 / prefix not in use",
        }
    }
}

/// Days in a month of the proleptic Gregorian calendar.
pub(crate) fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

/// Parses `n` ASCII digits.
pub(crate) fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |a, b| a * 10 + u32::from(b - b'0')))
}

/// A real calendar date `yyyymmdd` as (y, m, d).
pub(crate) fn ymd(s: &[u8]) -> Option<(u32, u32, u32)> {
    if s.len() != 8 {
        return None;
    }
    let (y, m, d) = (digits(&s[0..4])?, digits(&s[4..6])?, digits(&s[6..8])?);
    (m >= 1 && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

//! GB 11643-1999 citizen identity number (公民身份号码): check digit,
//! validation, and the parts derived from a number (birth date, sex,
//! division), including first-generation 15-digit numbers.

use chrono::{Datelike, NaiveDate};

use super::{Invalid, days_in_month, ymd};
use crate::codes::divisions::divisions;

/// Weights of positions 1–17 (2^(18-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each value of the weighted sum mod 11.
const CHECK: [u8; 11] = *b"10X98765432";

/// The check character (`b'0'..=b'9'` or `b'X'`) for the first 17 digits of an
/// 18-character resident ID, or `None` if `first17` is not 17 ASCII digits.
///
/// ```
/// use quality_rules::ids::resident_id::check_digit;
/// assert_eq!(check_digit(b"11010519491231002"), Some(b'X'));
/// assert_eq!(check_digit(b"1101051949123100"), None);
/// ```
pub fn check_digit(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (&b, &w) in first17.iter().zip(WEIGHTS.iter()) {
        if !b.is_ascii_digit() {
            return None;
        }
        sum += u32::from(b - b'0') * w;
    }
    Some(CHECK[(sum % 11) as usize])
}

/// Validates an 18-character resident ID (already trimmed) against
/// CONTRACT.md `cn_resident_id`: 17 digits then a digit or `X` (lowercase
/// only if allowed), a real birth date between 1900-01-01 and `as_of`, a
/// GB/T 2260 code in use in the birth year or later, and the MOD 11-2 check.
///
/// ```
/// use chrono::NaiveDate;
/// use quality_rules::ids::{Invalid, resident_id::validate};
/// let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
/// assert_eq!(validate(b"11010519491231002X", as_of, false), Ok(()));
/// assert_eq!(validate(b"11010519491231002x", as_of, false), Err(Invalid::LowercaseX));
/// assert_eq!(validate(b"110105194912310021", as_of, false), Err(Invalid::CheckCharacter));
/// ```
pub fn validate(s: &[u8], as_of: NaiveDate, allow_lowercase_x: bool) -> Result<(), Invalid> {
    validate_until(s, birth_limit(as_of), allow_lowercase_x)
}

/// The latest birth date [`validate`] accepts on `as_of`, as `yyyymmdd`.
pub fn birth_limit(as_of: NaiveDate) -> u32 {
    as_of.year() as u32 * 10_000 + as_of.month() * 100 + as_of.day()
}

/// [`validate`] with the as-of date given as [`birth_limit`], for checking
/// many numbers against one date (the date's parts are then found once).
///
/// ```
/// use chrono::NaiveDate;
/// use quality_rules::ids::resident_id::{birth_limit, validate_until};
/// let limit = birth_limit(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
/// assert_eq!(limit, 20_261_122);
/// assert!(validate_until(b"11010519491231002X", limit, false).is_ok());
/// assert!(validate_until(b"11010519491231002X", 19_491_230, false).is_err());
/// ```
pub fn validate_until(s: &[u8], limit: u32, allow_lowercase_x: bool) -> Result<(), Invalid> {
    let Ok(s) = <&[u8; 18]>::try_from(s) else {
        return Err(Invalid::Length);
    };
    // One branch-free pass over the 17 digits: check and weighted sum.
    let mut not_digit = false;
    let mut sum = 0u32;
    for i in 0..17 {
        let d = s[i].wrapping_sub(b'0');
        not_digit |= d > 9;
        sum += u32::from(d) * WEIGHTS[i];
    }
    if not_digit {
        return Err(Invalid::Characters);
    }
    let last = match s[17] {
        b'0'..=b'9' | b'X' => s[17],
        b'x' if allow_lowercase_x => b'X',
        b'x' => return Err(Invalid::LowercaseX),
        _ => return Err(Invalid::Characters),
    };
    // The first 17 bytes are digits (checked above): read them directly.
    let n = |i: usize| u32::from(s[i] - b'0');
    let (y, m, d) = (
        n(6) * 1000 + n(7) * 100 + n(8) * 10 + n(9),
        n(10) * 10 + n(11),
        n(12) * 10 + n(13),
    );
    // `days_in_month` is 0 for a month that does not exist.
    if m == 0 || d == 0 || d > days_in_month(y, m) {
        return Err(Invalid::Date);
    }
    let born = y * 10_000 + m * 100 + d;
    if !(19_000_101..=limit).contains(&born) {
        return Err(Invalid::Date);
    }
    let code = (0..6).fold(0, |acc, i| acc * 10 + n(i));
    if !divisions().in_use_in_or_after(code, y as i32) {
        return Err(Invalid::Division);
    }
    if CHECK[(sum % 11) as usize] != last {
        return Err(Invalid::CheckCharacter);
    }
    Ok(())
}

/// Upgrades a 15-digit first-generation number (yymmdd birth date, 19xx) to
/// 18 digits with its check digit; an 18-character number passes through
/// (uppercased). `None` for anything else.
///
/// ```
/// use quality_rules::ids::resident_id::upgrade_15_to_18;
/// assert_eq!(&upgrade_15_to_18(b"110105491231002").unwrap(), b"11010519491231002X");
/// ```
pub fn upgrade_15_to_18(s: &[u8]) -> Option<[u8; 18]> {
    let mut out = [0u8; 18];
    match s.len() {
        15 if s.iter().all(u8::is_ascii_digit) => {
            out[..6].copy_from_slice(&s[..6]);
            out[6..8].copy_from_slice(b"19");
            out[8..17].copy_from_slice(&s[6..15]);
            out[17] = check_digit(&out[..17])?;
            Some(out)
        }
        18 if s[..17].iter().all(u8::is_ascii_digit)
            && matches!(s[17], b'0'..=b'9' | b'X' | b'x') =>
        {
            out.copy_from_slice(s);
            out[17] = out[17].to_ascii_uppercase();
            Some(out)
        }
        _ => None,
    }
}

/// The birth date of a 15- or 18-digit number, if it is a real date.
pub fn birth_date(s: &[u8]) -> Option<NaiveDate> {
    let full = upgrade_15_to_18(s)?;
    let (y, m, d) = ymd(&full[6..14])?;
    NaiveDate::from_ymd_opt(y as i32, m, d)
}

/// Sex recorded in a number (GB 11643: odd sequence digit = male).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    /// 男 (GB/T 2261.1 code 1).
    Male,
    /// 女 (GB/T 2261.1 code 2).
    Female,
}

/// The sex recorded in a 15- or 18-digit number.
pub fn sex(s: &[u8]) -> Option<Sex> {
    let full = upgrade_15_to_18(s)?;
    Some(if (full[16] - b'0') % 2 == 1 {
        Sex::Male
    } else {
        Sex::Female
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples() {
        // GB 11643-1999 appendix examples.
        assert_eq!(check_digit(b"11010519491231002"), Some(b'X'));
        assert_eq!(check_digit(b"44052418800101001"), Some(b'4'));
    }

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn id(first17: &str) -> Vec<u8> {
        let mut v = first17.as_bytes().to_vec();
        v.push(check_digit(first17.as_bytes()).unwrap());
        v
    }

    #[test]
    fn contract_cases() {
        assert_eq!(validate(b"11010519491231002X", as_of(), false), Ok(()));
        assert_eq!(validate(b"11010519491231002x", as_of(), true), Ok(()));
        assert_eq!(
            validate(b"110105491231002", as_of(), false),
            Err(Invalid::Length)
        );
        assert_eq!(
            validate(&id("11010520240230001"), as_of(), false),
            Err(Invalid::Date)
        ); // 30 February
        assert_eq!(
            validate(&id("11010520230229001"), as_of(), false),
            Err(Invalid::Date)
        ); // 2023 not leap
        assert_eq!(validate(&id("11010520240229001"), as_of(), false), Ok(()));
        assert_eq!(validate(&id("11010520261122001"), as_of(), false), Ok(())); // born on the as-of date
        assert_eq!(
            validate(&id("11010520261123001"), as_of(), false),
            Err(Invalid::Date)
        ); // after it
        assert_eq!(
            validate(&id("11010518991231001"), as_of(), false),
            Err(Invalid::Date)
        );
        assert_eq!(validate(&id("11010519000101001"), as_of(), false), Ok(()));
        // 110223 通县 abolished in 1997: valid for births up to 1997 only.
        assert_eq!(validate(&id("11022319970101001"), as_of(), false), Ok(()));
        assert_eq!(
            validate(&id("11022319980101001"), as_of(), false),
            Err(Invalid::Division)
        );
        // 110112 通州区 created in 1997: valid for earlier births (numbers issued at registration).
        assert_eq!(validate(&id("11011219800101001"), as_of(), false), Ok(()));
        assert_eq!(
            validate(&id("99999919800101001"), as_of(), false),
            Err(Invalid::Division)
        );
        assert_eq!(
            validate(b"11010519491231002A", as_of(), false),
            Err(Invalid::Characters)
        );
    }

    #[test]
    fn derived_parts() {
        assert_eq!(
            birth_date(b"110105491231002"),
            NaiveDate::from_ymd_opt(1949, 12, 31)
        );
        assert_eq!(sex(b"11010519491231002X"), Some(Sex::Female));
        assert_eq!(sex(b"440524188001010014"), Some(Sex::Male));
        assert_eq!(
            upgrade_15_to_18(b"11010519491231002x").map(|a| a[17]),
            Some(b'X')
        );
        assert_eq!(upgrade_15_to_18(b"1101054912310"), None);
    }

    #[test]
    fn rejects_non_digits_and_wrong_length() {
        assert_eq!(check_digit(b"1101051949123100A"), None);
        assert_eq!(check_digit(b""), None);
        assert_eq!(check_digit(b"110105194912310021"), None);
    }
}

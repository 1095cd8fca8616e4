//! GB 32100-2015 unified social credit code (统一社会信用代码): alphabet and
//! check character.
//!
//! Layout: 1 registration authority, 2 organisation type, 3–8 GB/T 2260
//! division code, 9–17 GB 11714 organisation code (8 + its own check
//! character), 18 the MOD 31 check character over 1–17.

use super::org_code;
use super::{Invalid, NOT_IN_ALPHABET};
use crate::codes::divisions::{divisions, parse_code};

/// The 31 characters of the code's alphabet, in value order (no I, O, S, V, Z).
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Value 0–30 of a character of the alphabet, `None` for anything else
/// (including the letters I, O, S, V, Z and lowercase).
pub const fn value(b: u8) -> Option<u32> {
    let v = match b {
        b'0'..=b'9' => b - b'0',
        b'A'..=b'H' => b - b'A' + 10,
        b'J'..=b'N' => b - b'J' + 18,
        b'P'..=b'R' => b - b'P' + 23,
        b'T' | b'U' => b - b'T' + 26,
        b'W'..=b'Y' => b - b'W' + 28,
        _ => return None,
    };
    Some(v as u32)
}

/// [`value`] of every byte.
const VALUES: [u8; 256] = value_table!(value);

/// The check character for the first 17 characters of a USCC, or `None` if
/// `first17` is not 17 characters of the alphabet.
///
/// ```
/// use quality_rules::ids::uscc::check_char;
/// assert_eq!(check_char(b"91350100M000100Y4"), Some(b'3'));
/// ```
pub fn check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0u32;
    for (&b, &w) in first17.iter().zip(WEIGHTS.iter()) {
        sum += value(b)? * w;
    }
    Some(ALPHABET[((31 - sum % 31) % 31) as usize])
}

/// Validates a USCC (already trimmed) against CONTRACT.md `cn_uscc`.
///
/// ```
/// use quality_rules::ids::{Invalid, uscc::validate};
/// assert_eq!(validate(b"91350100M000100Y43"), Ok(()));
/// assert_eq!(validate(b"91350100M000100Y44"), Err(Invalid::CheckCharacter));
/// ```
pub fn validate(s: &[u8]) -> Result<(), Invalid> {
    let Ok(s) = <&[u8; 18]>::try_from(s) else {
        return Err(Invalid::Length);
    };
    // One branch-free pass: alphabet membership and the weighted sum.
    let mut seen = VALUES[usize::from(s[17])];
    let mut sum = 0u32;
    for i in 0..17 {
        let v = VALUES[usize::from(s[i])];
        seen |= v;
        sum += u32::from(v) * WEIGHTS[i];
    }
    if seen & NOT_IN_ALPHABET != 0 {
        return Err(Invalid::Characters);
    }
    let division = parse_code(&s[2..8]).ok_or(Invalid::Division)?;
    if !divisions().is_listed(division) {
        return Err(Invalid::Division);
    }
    if ALPHABET[((31 - sum % 31) % 31) as usize] != s[17] {
        return Err(Invalid::CheckCharacter);
    }
    if org_code::check_char(&s[8..16]) != Some(s[16]) {
        return Err(Invalid::OrgCodeCheck);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples() {
        // GB 32100-2015 appendix example.
        assert_eq!(check_char(b"91350100M000100Y4"), Some(b'3'));
    }

    #[test]
    fn contract_cases() {
        assert_eq!(validate(b"91350100M000100Y43"), Ok(()));
        assert_eq!(validate(b"91350100M000100Y4"), Err(Invalid::Length));
        assert_eq!(validate(b"91350100M0001O0Y43"), Err(Invalid::Characters));
        assert_eq!(validate(b"91999999M000100Y43"), Err(Invalid::Division));
        // Right final check character over a body whose org-code check (5, should be 4) is wrong.
        let mut broken = b"91350100M000100Y5".to_vec();
        broken.push(check_char(&broken).unwrap());
        assert_eq!(validate(&broken), Err(Invalid::OrgCodeCheck));
    }

    #[test]
    fn alphabet_values_round_trip() {
        for (i, &c) in ALPHABET.iter().enumerate() {
            assert_eq!(value(c), Some(i as u32));
        }
        for c in [b'I', b'O', b'S', b'V', b'Z', b'a'] {
            assert_eq!(value(c), None);
        }
    }
}

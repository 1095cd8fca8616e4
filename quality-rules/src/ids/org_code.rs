//! GB 11714-1997 organisation code (组织机构代码): check character.

use super::NOT_IN_ALPHABET;

const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// Value of an organisation-code body character: digits 0–9, letters A–Z as 10–35.
const fn value(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some((b - b'0') as u32),
        b'A'..=b'Z' => Some((b - b'A') as u32 + 10),
        _ => None,
    }
}

/// [`value`] of every byte.
const VALUES: [u8; 256] = value_table!(value);

/// The check character (`0`–`9` or `X`) for the 8-character body of an
/// organisation code, or `None` if the body is not 8 characters of `0-9A-Z`.
///
/// ```
/// use quality_rules::ids::org_code::check_char;
/// assert_eq!(check_char(b"D2143569"), Some(b'X'));
/// ```
pub fn check_char(body8: &[u8]) -> Option<u8> {
    let body8 = <&[u8; 8]>::try_from(body8).ok()?;
    // Looked up, not branched on: bodies mix digits and letters at random.
    let mut seen = 0u8;
    let mut sum = 0u32;
    for i in 0..8 {
        let v = VALUES[usize::from(body8[i])];
        seen |= v;
        sum += u32::from(v) * WEIGHTS[i];
    }
    if seen & NOT_IN_ALPHABET != 0 {
        return None;
    }
    match 11 - sum % 11 {
        10 => Some(b'X'),
        11 => Some(b'0'),
        c => Some(b'0' + c as u8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples() {
        // The classic worked example D2143569-X.
        assert_eq!(check_char(b"D2143569"), Some(b'X'));
        // The organisation code inside the USCC 91350100M000100Y43.
        assert_eq!(check_char(b"M000100Y"), Some(b'4'));
    }

    #[test]
    fn rejects_bad_alphabet() {
        assert_eq!(check_char(b"d2143569"), None);
        assert_eq!(check_char(b"D214356"), None);
    }
}

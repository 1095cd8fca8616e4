//! GB 32100-2015 unified social credit code (统一社会信用代码): alphabet and
//! check character.
//!
//! Layout: 1 registration authority, 2 organisation type, 3–8 GB/T 2260
//! division code, 9–17 GB 11714 organisation code (8 + its own check
//! character), 18 the MOD 31 check character over 1–17.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples() {
        // GB 32100-2015 appendix example.
        assert_eq!(check_char(b"91350100M000100Y4"), Some(b'3'));
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

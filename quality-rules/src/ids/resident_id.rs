//! GB 11643-1999 citizen identity number (公民身份号码): check digit.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_examples() {
        // GB 11643-1999 appendix examples.
        assert_eq!(check_digit(b"11010519491231002"), Some(b'X'));
        assert_eq!(check_digit(b"44052418800101001"), Some(b'4'));
    }

    #[test]
    fn rejects_non_digits_and_wrong_length() {
        assert_eq!(check_digit(b"1101051949123100A"), None);
        assert_eq!(check_digit(b""), None);
        assert_eq!(check_digit(b"110105194912310021"), None);
    }
}

//! Mainland postal codes (邮政编码): six digits whose first two digits are a
//! province-level prefix of the national plan (01–86); `000000` is not a code.

use super::{Invalid, digits};

/// Validates a postal code (already trimmed).
///
/// ```
/// use quality_rules::ids::postal_code::validate;
/// assert!(validate(b"830000").is_ok());
/// assert!(validate(b"000000").is_err());
/// ```
pub fn validate(s: &[u8]) -> Result<(), Invalid> {
    if s.len() != 6 {
        return Err(Invalid::Length);
    }
    let prefix = digits(&s[..2]).ok_or(Invalid::Characters)?;
    digits(&s[2..]).ok_or(Invalid::Characters)?;
    if !(1..=86).contains(&prefix) {
        return Err(Invalid::Range);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert!(validate(b"100000").is_ok());
        assert_eq!(validate(b"83000"), Err(Invalid::Length));
        assert_eq!(validate(b"8300a0"), Err(Invalid::Characters));
        assert_eq!(validate(b"990000"), Err(Invalid::Range));
    }
}

//! Mainland China mobile numbers: 11 digits `1[3-9]xxxxxxxxx`, optionally
//! written with the country code `+86` (or `86`/`0086`) and a space or `-`.

use super::Invalid;

/// Validates a mobile number (already trimmed).
///
/// ```
/// use quality_rules::ids::phone::validate_mobile;
/// assert!(validate_mobile(b"13800138000").is_ok());
/// assert!(validate_mobile(b"+86 13800138000").is_ok());
/// assert!(validate_mobile(b"12800138000").is_err());
/// ```
pub fn validate_mobile(s: &[u8]) -> Result<(), Invalid> {
    let mut rest = s;
    for prefix in [&b"+86"[..], b"0086", b"86"] {
        if rest.len() > 11
            && let Some(r) = rest.strip_prefix(prefix)
        {
            rest = r
                .strip_prefix(b" ")
                .or_else(|| r.strip_prefix(b"-"))
                .unwrap_or(r);
            break;
        }
    }
    if rest.len() != 11 {
        return Err(Invalid::Length);
    }
    if !rest.iter().all(u8::is_ascii_digit) {
        return Err(Invalid::Characters);
    }
    if rest[0] != b'1' || !(b'3'..=b'9').contains(&rest[1]) {
        return Err(Invalid::Range);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert!(validate_mobile(b"19912345678").is_ok());
        assert!(validate_mobile(b"008613800138000").is_ok());
        assert!(validate_mobile(b"86-13800138000").is_ok());
        assert_eq!(validate_mobile(b"1380013800"), Err(Invalid::Length));
        assert_eq!(validate_mobile(b"1380013800a"), Err(Invalid::Characters));
        assert_eq!(validate_mobile(b"23800138000"), Err(Invalid::Range));
        assert_eq!(validate_mobile(b"+8612800138000"), Err(Invalid::Range));
    }
}

//! GB/T 2260 division codes as values of a column.

use super::Invalid;
use crate::codes::divisions::{divisions, parse_code};

/// Six digits and listed in GB/T 2260 (any time); with `current_year`, in use
/// in that year or later.
///
/// ```
/// use quality_rules::ids::division_code::validate;
/// assert!(validate(b"110223", None).is_ok()); // 通县, abolished 1997
/// assert!(validate(b"110223", Some(2026)).is_err());
/// ```
pub fn validate(s: &[u8], current_year: Option<i32>) -> Result<(), Invalid> {
    let code = parse_code(s).ok_or(if s.len() == 6 {
        Invalid::Characters
    } else {
        Invalid::Length
    })?;
    let t = divisions();
    let ok = match current_year {
        None => t.is_listed(code),
        Some(y) => t.in_use_in_or_after(code, y),
    };
    if ok { Ok(()) } else { Err(Invalid::Division) }
}

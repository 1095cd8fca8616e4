//! The bureau's own catalog files in the workspace (changes of law or
//! function, approval records): their one-line errors.

use std::path::Path;

/// A workspace file that cannot be used: the file, the line or key, and
/// what was expected, on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {detail}")]
pub struct InputError {
    /// The file.
    pub path: String,
    /// Line or key, and what was expected.
    pub detail: String,
}

impl InputError {
    /// An error about `path`.
    pub fn new(path: &Path, detail: String) -> InputError {
        InputError {
            path: path.display().to_string(),
            detail,
        }
    }
}

/// The line of the `n`th (0-based) `[[table]]` header in a TOML text (0:
/// not found).
pub fn header_line(text: &str, table: &str, n: usize) -> usize {
    let header = format!("[[{table}]]");
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == header)
        .nth(n)
        .map(|(i, _)| i + 1)
        .unwrap_or(0)
}

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

/// A day written as a TOML date (`2026-09-24`) or a string (`"2026-09-24"`).
pub fn day<'de, D: serde::Deserializer<'de>>(d: D) -> Result<chrono::NaiveDate, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Day {
        Text(String),
        Toml(toml::value::Datetime),
    }
    let text = match <Day as serde::Deserialize>::deserialize(d)? {
        Day::Text(t) => t,
        Day::Toml(t) => t.to_string(),
    };
    chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        serde::de::Error::custom(format!("`{text}` is not a date; expected YYYY-MM-DD"))
    })
}

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

/// The `[[table]]` records of the workspace file `path` (none when there is
/// no file), each checked by `invalid`: a record it refuses, a TOML error or
/// another top-level key names the file and line and what was expected.
pub fn load_records<T: serde::de::DeserializeOwned>(
    path: &Path,
    table: &str,
    invalid: impl Fn(&T) -> Option<String>,
) -> Result<Vec<T>, InputError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(InputError::new(path, e.to_string())),
    };
    let mut file: std::collections::BTreeMap<String, Vec<T>> = toml::from_str(&text)
        .map_err(|e| InputError::new(path, crate::dataset::one_line_toml(&e, &text)))?;
    if let Some(other) = file.keys().find(|k| *k != table) {
        return Err(InputError::new(
            path,
            format!("`{other}`: not a table of this file; expected [[{table}]]"),
        ));
    }
    let records = file.remove(table).unwrap_or_default();
    for (i, r) in records.iter().enumerate() {
        if let Some(what) = invalid(r) {
            return Err(InputError::new(
                path,
                format!(
                    "line {} ([[{table}]] {}): {what}",
                    header_line(&text, table, i),
                    i + 1
                ),
            ));
        }
    }
    Ok(records)
}

/// Appends `record` as one `[[table]]` to the workspace file `path`,
/// created with the comment line `first` when absent.
pub fn append_record<T: serde::Serialize>(
    path: &Path,
    table: &str,
    record: &T,
    first: &str,
) -> Result<(), InputError> {
    let one = std::collections::BTreeMap::from([(table, [record])]);
    let block = toml::to_string(&one).map_err(|e| InputError::new(path, e.to_string()))?;
    let mut text = std::fs::read_to_string(path).unwrap_or_else(|_| format!("# {first}\n"));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&block);
    std::fs::write(path, text).map_err(|e| InputError::new(path, e.to_string()))
}

//! The GB/T 2260 division codes the generator draws from, read at generation
//! time from the bureau's code list (`code,name,province,from_year,to_year`,
//! `#` comments, empty `to_year` = still in use).
//!
//! The generator needs three kinds of code: codes in use now (valid in every
//! identifier, whatever the birth year), codes abolished in a known year (a
//! resident ID whose holder was born after that year is invalid, a USCC
//! keeps them valid) and one code never listed at all.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why the code list could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DivisionsError {
    /// The file could not be opened or read.
    #[error("cannot read the division list {path}: {source}")]
    Read {
        /// The list's path.
        path: PathBuf,
        /// The underlying error.
        source: csv::Error,
    },
    /// A field is not what the format requires.
    #[error("{path}:{line}: column `{column}`: {message} (found `{value}`)")]
    Field {
        /// The list's path.
        path: PathBuf,
        /// 1-based line in the file.
        line: u64,
        /// The column name.
        column: &'static str,
        /// The offending text.
        value: String,
        /// What was expected.
        message: &'static str,
    },
    /// Nothing to generate from.
    #[error("{path}: no division code is in use (no row with an empty `to_year`)")]
    NoCurrentCodes {
        /// The list's path.
        path: PathBuf,
    },
}

/// A six-digit code as ASCII bytes.
pub type Code = [u8; 6];

/// The codes of the list, split by what the generator does with them.
#[derive(Debug, Clone)]
pub struct DivisionCodes {
    /// Codes with at least one open record (in use now), ascending.
    pub current: Vec<Code>,
    /// Codes with no open record, with the last year they were in use,
    /// ordered by that year (then code).
    pub abolished: Vec<(Code, i32)>,
    /// A six-digit code that the list does not contain.
    pub unlisted: Code,
}

impl DivisionCodes {
    /// The abolished codes whose last year is before `year`: a resident ID
    /// with one of them and a birth in `year` is invalid (CONTRACT.md).
    pub fn abolished_before(&self, year: i32) -> &[(Code, i32)] {
        let end = self.abolished.partition_point(|(_, last)| *last < year);
        &self.abolished[..end]
    }
}

/// Reads the code list at `path`.
pub fn load(path: &Path) -> Result<DivisionCodes, DivisionsError> {
    let read = |source| DivisionsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .has_headers(true)
        .from_path(path)
        .map_err(read)?;
    let headers = reader.headers().map_err(read)?.clone();
    let index = |name: &'static str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| DivisionsError::Field {
                path: path.to_path_buf(),
                line: 1,
                column: name,
                value: headers.iter().collect::<Vec<_>>().join(","),
                message: "missing from the header",
            })
    };
    let (code_at, to_year_at) = (index("code")?, index("to_year")?);
    // Per code: None = in use now, Some(y) = last year in use.
    let mut last: BTreeMap<Code, Option<i32>> = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(read)?;
        let line = record.position().map_or(0, |p| p.line());
        let field =
            |column: &'static str, value: &str, message: &'static str| DivisionsError::Field {
                path: path.to_path_buf(),
                line,
                column,
                value: value.to_string(),
                message,
            };
        let code_text = record.get(code_at).unwrap_or("").trim();
        let code: Code = code_text
            .as_bytes()
            .try_into()
            .ok()
            .filter(|c: &Code| c.iter().all(u8::is_ascii_digit))
            .ok_or_else(|| field("code", code_text, "expected six digits"))?;
        let year_text = record.get(to_year_at).unwrap_or("").trim();
        let to_year = if year_text.is_empty() {
            None
        } else {
            Some(
                year_text
                    .parse::<i32>()
                    .map_err(|_| field("to_year", year_text, "expected a year or nothing"))?,
            )
        };
        let slot = last.entry(code).or_insert(to_year);
        *slot = match (*slot, to_year) {
            (None, _) | (_, None) => None,
            (Some(a), Some(b)) => Some(a.max(b)),
        };
    }
    let current: Vec<Code> = last
        .iter()
        .filter(|(_, y)| y.is_none())
        .map(|(c, _)| *c)
        .collect();
    if current.is_empty() {
        return Err(DivisionsError::NoCurrentCodes {
            path: path.to_path_buf(),
        });
    }
    let mut abolished: Vec<(Code, i32)> = last
        .iter()
        .filter_map(|(c, y)| y.map(|y| (*c, y)))
        .collect();
    abolished.sort_by_key(|(c, y)| (*y, *c));
    // 99xxxx is not a province prefix; search down from 999999 so the
    // answer stays right even if the list ever grows such a code.
    let unlisted = (0..1_000_000u32)
        .rev()
        .map(code_of)
        .find(|c| !last.contains_key(c))
        .unwrap_or(*b"999999");
    Ok(DivisionCodes {
        current,
        abolished,
        unlisted,
    })
}

fn code_of(n: u32) -> Code {
    let mut c = [b'0'; 6];
    let mut n = n;
    for b in c.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        (dir, path)
    }

    #[test]
    fn splits_current_abolished_and_reused_codes() {
        let (_dir, path) = write(
            "# comment\ncode,name,province,from_year,to_year\n\
             110101,东城区,北京市,,\n\
             110223,通县,北京市,1982,1997\n\
             110103,崇文区,北京市,,2010\n\
             120221,宁河县,天津市,,1990\n\
             120221,宁河区,天津市,2015,\n",
        );
        let codes = load(&path).unwrap();
        assert_eq!(codes.current, vec![*b"110101", *b"120221"]);
        assert_eq!(
            codes.abolished,
            vec![(*b"110223", 1997), (*b"110103", 2010)]
        );
        assert_eq!(codes.abolished_before(1997), &[] as &[(Code, i32)]);
        assert_eq!(codes.abolished_before(1998), &codes.abolished[..1]);
        assert_eq!(codes.abolished_before(2026).len(), 2);
        assert_eq!(&codes.unlisted, b"999999");
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let (_dir, path) =
            write("code,name,province,from_year,to_year\n110101,a,b,,\n11010x,a,b,,\n");
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("d.csv:3"), "{err}");
        assert!(err.contains("`code`"), "{err}");
        let (_dir, path) = write("code,name,province,from_year,to_year\n110101,a,b,,19x7\n");
        let err = load(&path).unwrap_err().to_string();
        assert!(err.contains("`to_year`") && err.contains("19x7"), "{err}");
        let (_dir, path) = write("code,name,province,from_year,to_year\n110101,a,b,,1997\n");
        assert!(matches!(
            load(&path),
            Err(DivisionsError::NoCurrentCodes { .. })
        ));
        let missing = load(Path::new("/nonexistent/d.csv"))
            .unwrap_err()
            .to_string();
        assert!(missing.contains("/nonexistent/d.csv"), "{missing}");
    }

    #[test]
    fn the_shared_list_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../quality-rules/data/gbt2260-divisions.csv");
        let codes = load(&path).unwrap();
        assert!(codes.current.len() > 2000, "{}", codes.current.len());
        assert!(!codes.abolished.is_empty());
        for c in &codes.current {
            assert!(quality_rules::ids::division_code::validate(c, Some(2026)).is_ok());
        }
        for (c, y) in &codes.abolished {
            assert!(quality_rules::ids::division_code::validate(c, Some(y + 1)).is_err());
        }
        assert!(quality_rules::ids::division_code::validate(&codes.unlisted, None).is_err());
    }
}

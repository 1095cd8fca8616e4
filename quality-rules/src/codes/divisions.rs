//! GB/T 2260 administrative division codes (行政区划代码), current and
//! historical, from `data/gbt2260-divisions.csv` (see `data/README.md`).
//!
//! Lookups are O(1) without hashing: a dense table indexed by the six-digit
//! code holds the last year each code was in use.

use std::sync::OnceLock;

const CSV: &str = include_str!("../../data/gbt2260-divisions.csv");

/// `to_year` value meaning "still in use".
const OPEN: u16 = u16::MAX;

/// One row of the code list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DivisionRecord {
    /// Six-digit code.
    pub code: u32,
    /// Name (e.g. 天山区).
    pub name: String,
    /// Province-level name.
    pub province: String,
    /// First year in use, when known.
    pub from_year: Option<i32>,
    /// Year it stopped being used; `None` = still in use.
    pub to_year: Option<i32>,
}

/// The GB/T 2260 code list.
#[derive(Debug)]
pub struct DivisionTable {
    /// Per code: 0 = never listed, OPEN = in use, else the latest to_year.
    last_year: Vec<u16>,
    records: Vec<DivisionRecord>,
}

/// The embedded table, parsed on first use.
///
/// # Panics
/// If the embedded CSV is malformed — a build defect caught by the tests,
/// never by user input.
pub fn divisions() -> &'static DivisionTable {
    static TABLE: OnceLock<DivisionTable> = OnceLock::new();
    TABLE.get_or_init(|| DivisionTable::parse(CSV).expect("embedded GB/T 2260 table parses"))
}

/// Exactly six ASCII digits as a number.
pub fn parse_code(s: &[u8]) -> Option<u32> {
    if s.len() != 6 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u32, |acc, b| acc * 10 + u32::from(b - b'0')))
}

impl DivisionTable {
    fn parse(text: &str) -> Result<DivisionTable, String> {
        let mut last_year = vec![0u16; 1_000_000];
        let mut records = Vec::new();
        let mut header_seen = false;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if !header_seen {
                header_seen = true;
                if line.starts_with("code,") {
                    continue;
                }
            }
            let cols: Vec<&str> = line.split(',').collect();
            if cols.len() != 5 {
                return Err(format!("line {}: expected 5 fields", n + 1));
            }
            let code = parse_code(cols[0].as_bytes())
                .ok_or_else(|| format!("line {}: bad code", n + 1))?;
            let year = |s: &str| -> Result<Option<i32>, String> {
                if s.is_empty() {
                    Ok(None)
                } else {
                    s.parse()
                        .map(Some)
                        .map_err(|_| format!("line {}: bad year `{s}`", n + 1))
                }
            };
            let from_year = year(cols[3])?;
            let to_year = year(cols[4])?;
            let slot = &mut last_year[code as usize];
            let y = to_year
                .map(|y| y.clamp(1, i32::from(OPEN) - 1) as u16)
                .unwrap_or(OPEN);
            *slot = (*slot).max(y);
            records.push(DivisionRecord {
                code,
                name: cols[1].to_string(),
                province: cols[2].to_string(),
                from_year,
                to_year,
            });
        }
        Ok(DivisionTable { last_year, records })
    }

    /// Listed at any time, current or historical.
    pub fn is_listed(&self, code: u32) -> bool {
        self.last_year.get(code as usize).is_some_and(|y| *y != 0)
    }

    /// In use in `year` or later: some record is still open or ended in or after `year`.
    pub fn in_use_in_or_after(&self, code: u32, year: i32) -> bool {
        match self.last_year.get(code as usize) {
            Some(0) | None => false,
            Some(&OPEN) => true,
            Some(&y) => i32::from(y) >= year,
        }
    }

    /// In use during `year`.
    pub fn in_use_in(&self, code: u32, year: i32) -> bool {
        self.records.iter().any(|r| {
            r.code == code
                && r.from_year.is_none_or(|f| f <= year)
                && r.to_year.is_none_or(|t| t >= year)
        })
    }

    /// The name of a code in `year`, if it was in use then.
    pub fn name(&self, code: u32, year: i32) -> Option<&str> {
        self.records
            .iter()
            .find(|r| {
                r.code == code
                    && r.from_year.is_none_or(|f| f <= year)
                    && r.to_year.is_none_or(|t| t >= year)
            })
            .map(|r| r.name.as_str())
    }

    /// Every record, in file order.
    pub fn records(&self) -> &[DivisionRecord] {
        &self.records
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses_and_answers() {
        let t = divisions();
        assert!(t.records().len() > 7000);
        assert!(t.is_listed(110101));
        assert!(t.in_use_in_or_after(110101, 2026));
        // 110223 通县: 1982–1997.
        assert!(t.is_listed(110223));
        assert!(t.in_use_in_or_after(110223, 1997));
        assert!(!t.in_use_in_or_after(110223, 1998));
        assert!(t.in_use_in(110223, 1990));
        assert!(!t.in_use_in(110112, 1990));
        assert_eq!(t.name(110112, 2020), Some("通州区"));
        assert!(!t.is_listed(999999));
        assert_eq!(parse_code(b"650102"), Some(650102));
        assert_eq!(parse_code(b"65010"), None);
        assert_eq!(parse_code(b"65010x"), None);
    }
}

//! Dates written as text in a declared format; the date must exist
//! (2024-02-30 does not).

use super::{Invalid, digits, ymd};

/// A date (or date-time) format a column is declared to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    /// `YYYY-MM-DD`
    Dash,
    /// `YYYY/MM/DD`
    Slash,
    /// `YYYYMMDD`
    Compact,
    /// `YYYY年MM月DD日` (month and day may have one digit)
    Chinese,
    /// `YYYY-MM-DD HH:MM:SS`
    DashDateTime,
}

impl DateFormat {
    /// Parses a format name as written in a rule.
    pub fn parse(text: &str) -> Result<DateFormat, String> {
        Ok(match text.trim() {
            "YYYY-MM-DD" | "yyyy-MM-dd" | "%Y-%m-%d" => DateFormat::Dash,
            "YYYY/MM/DD" | "yyyy/MM/dd" | "%Y/%m/%d" => DateFormat::Slash,
            "YYYYMMDD" | "yyyyMMdd" | "%Y%m%d" => DateFormat::Compact,
            "YYYY年MM月DD日" | "YYYY年M月D日" | "%Y年%m月%d日" => DateFormat::Chinese,
            "YYYY-MM-DD HH:MM:SS" | "yyyy-MM-dd HH:mm:ss" | "%Y-%m-%d %H:%M:%S" => {
                DateFormat::DashDateTime
            }
            other => {
                return Err(format!(
                    "unknown date format `{other}` (expected YYYY-MM-DD, YYYY/MM/DD, YYYYMMDD, YYYY年MM月DD日 or YYYY-MM-DD HH:MM:SS)"
                ));
            }
        })
    }
}

fn date_with(s: &[u8], sep: u8) -> Result<(), Invalid> {
    if s.len() != 10 || s[4] != sep || s[7] != sep {
        return Err(Invalid::Length);
    }
    let compact = [&s[0..4], &s[5..7], &s[8..10]].concat();
    ymd(&compact).map(|_| ()).ok_or(Invalid::Date)
}

/// Validates `s` (already trimmed) against `format`.
///
/// ```
/// use quality_rules::ids::date_format::{DateFormat, validate};
/// assert!(validate("2024-02-29".as_bytes(), DateFormat::Dash).is_ok());
/// assert!(validate("2024-02-30".as_bytes(), DateFormat::Dash).is_err());
/// assert!(validate("2024年2月9日".as_bytes(), DateFormat::Chinese).is_ok());
/// ```
pub fn validate(s: &[u8], format: DateFormat) -> Result<(), Invalid> {
    match format {
        DateFormat::Dash => date_with(s, b'-'),
        DateFormat::Slash => date_with(s, b'/'),
        DateFormat::Compact => ymd(s).map(|_| ()).ok_or(if s.len() == 8 {
            Invalid::Date
        } else {
            Invalid::Length
        }),
        DateFormat::Chinese => {
            let text = std::str::from_utf8(s).map_err(|_| Invalid::Characters)?;
            let (y, rest) = text.split_once('年').ok_or(Invalid::Characters)?;
            let (m, rest) = rest.split_once('月').ok_or(Invalid::Characters)?;
            let d = rest.strip_suffix('日').ok_or(Invalid::Characters)?;
            if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
                return Err(Invalid::Length);
            }
            let compact = format!("{y}{m:0>2}{d:0>2}");
            ymd(compact.as_bytes()).map(|_| ()).ok_or(Invalid::Date)
        }
        DateFormat::DashDateTime => {
            if s.len() != 19 || s[10] != b' ' || s[13] != b':' || s[16] != b':' {
                return Err(Invalid::Length);
            }
            date_with(&s[..10], b'-')?;
            let (h, mi, se) = (
                digits(&s[11..13]).ok_or(Invalid::Characters)?,
                digits(&s[14..16]).ok_or(Invalid::Characters)?,
                digits(&s[17..19]).ok_or(Invalid::Characters)?,
            );
            if h < 24 && mi < 60 && se < 60 {
                Ok(())
            } else {
                Err(Invalid::Date)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(DateFormat::parse("QQ").is_err());
        assert!(validate(b"20240229", DateFormat::Compact).is_ok());
        assert!(validate(b"20230229", DateFormat::Compact).is_err());
        assert!(validate(b"2024/01/31", DateFormat::Slash).is_ok());
        assert!(validate(b"2024-01-31", DateFormat::Slash).is_err());
        assert!(validate("2024年02月30日".as_bytes(), DateFormat::Chinese).is_err());
        assert!(validate(b"2024-01-31 23:59:59", DateFormat::DashDateTime).is_ok());
        assert!(validate(b"2024-01-31 24:00:00", DateFormat::DashDateTime).is_err());
    }
}

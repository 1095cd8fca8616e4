//! Working days as the State Council's yearly holiday notices define them:
//! Monday to Friday, minus public holidays, plus the make-up working
//! weekends (调休). Embedded for 2020–2026 (`data/cn-calendar-2020-2026.csv`,
//! copied from the shared data set); extendable with the same CSV format.
//! A date in a year the calendar does not cover is an error, never a guess.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use chrono::{Datelike, NaiveDate, Weekday};

const EMBEDDED: &str = include_str!("../data/cn-calendar-2020-2026.csv");

/// Why a working-day computation cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The year is not in the calendar.
    #[error(
        "no holiday calendar for {year} (it covers {first}–{last}); add the State Council's notice for {year} with [calendar] files in pdq.toml"
    )]
    NotCovered {
        /// The year asked for.
        year: i32,
        /// First covered year.
        first: i32,
        /// Last covered year.
        last: i32,
    },
    /// A calendar file that cannot be read.
    #[error("{file}:{line}: {message}")]
    Bad {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

/// A day off, or a weekend day worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Holiday,
    Workday,
}

/// The working-day calendar.
///
/// ```
/// use chrono::NaiveDate;
/// use pipeline::calendar::WorkCalendar;
/// let cal = WorkCalendar::embedded();
/// let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
/// // Saturday 28 February 2026 is a make-up working day after the Spring Festival.
/// assert!(cal.is_working_day(d(2026, 2, 28)).unwrap());
/// // Two working days after Friday 13 February 2026: the holiday runs to the 23rd.
/// assert_eq!(cal.add_working_days(d(2026, 2, 13), 2).unwrap(), d(2026, 2, 24));
/// assert!(cal.is_working_day(d(2027, 3, 1)).is_err()); // not covered: an error
/// ```
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    days: HashMap<NaiveDate, Kind>,
    years: BTreeSet<i32>,
}

impl WorkCalendar {
    /// The embedded calendar (2020–2026).
    pub fn embedded() -> Self {
        let mut c = WorkCalendar {
            days: HashMap::new(),
            years: BTreeSet::new(),
        };
        c.add_csv("cn-calendar-2020-2026.csv", EMBEDDED)
            .expect("the embedded calendar parses");
        c
    }

    /// Adds a calendar file (`date,kind,festival`; `kind` = holiday or
    /// workday; `#` comments). Its years become covered.
    pub fn add_file(&mut self, path: &Path) -> Result<(), CalendarError> {
        let text = std::fs::read_to_string(path).map_err(|e| CalendarError::Bad {
            file: path.display().to_string(),
            line: 0,
            message: e.to_string(),
        })?;
        self.add_csv(&path.display().to_string(), &text)
    }

    fn add_csv(&mut self, file: &str, text: &str) -> Result<(), CalendarError> {
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with("date,") {
                continue;
            }
            let bad = |message: String| CalendarError::Bad {
                file: file.to_string(),
                line: i + 1,
                message,
            };
            let mut parts = line.split(',');
            let date = parts.next().unwrap_or("");
            let kind = parts.next().unwrap_or("").trim();
            let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| bad(format!("`{date}` is not a date (YYYY-MM-DD)")))?;
            let kind = match kind {
                "holiday" => Kind::Holiday,
                "workday" => Kind::Workday,
                other => return Err(bad(format!("kind `{other}`: expected holiday or workday"))),
            };
            self.days.insert(date, kind);
            self.years.insert(date.year());
        }
        Ok(())
    }

    fn covered(&self, year: i32) -> Result<(), CalendarError> {
        if self.years.contains(&year) {
            return Ok(());
        }
        Err(CalendarError::NotCovered {
            year,
            first: self.years.first().copied().unwrap_or(0),
            last: self.years.last().copied().unwrap_or(0),
        })
    }

    /// Whether people work on `date`.
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        self.covered(date.year())?;
        Ok(match self.days.get(&date) {
            Some(Kind::Holiday) => false,
            Some(Kind::Workday) => true,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        })
    }

    /// The date `n` working days after `from` (`from` itself not counted):
    /// a deadline of "n working days".
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Result<NaiveDate, CalendarError> {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d = d.succ_opt().ok_or(CalendarError::NotCovered {
                year: d.year(),
                first: 0,
                last: 0,
            })?;
            if self.is_working_day(d)? {
                left -= 1;
            }
        }
        Ok(d)
    }

    /// Working days in `(from, to]`.
    pub fn working_days_between(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<i64, CalendarError> {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d = d.succ_opt().unwrap_or(to);
            if self.is_working_day(d)? {
                n += 1;
            }
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn spring_festival_2025_and_2026() {
        let c = WorkCalendar::embedded();
        // 2025: off 28 Jan – 4 Feb; Sunday 26 Jan and Saturday 8 Feb worked.
        assert!(c.is_working_day(d(2025, 1, 26)).unwrap());
        assert!(!c.is_working_day(d(2025, 1, 28)).unwrap());
        assert!(!c.is_working_day(d(2025, 2, 4)).unwrap());
        assert!(c.is_working_day(d(2025, 2, 8)).unwrap());
        // 5 working days from Friday 24 Jan 2025: Sun 26, Mon 27, Wed 5 Feb, Thu 6, Fri 7.
        assert_eq!(
            c.add_working_days(d(2025, 1, 24), 5).unwrap(),
            d(2025, 2, 7)
        );
        // 2026: off 15–23 Feb; Saturday 14 and Saturday 28 Feb worked.
        assert!(c.is_working_day(d(2026, 2, 14)).unwrap());
        assert!(!c.is_working_day(d(2026, 2, 16)).unwrap());
        assert_eq!(
            c.add_working_days(d(2026, 2, 12), 3).unwrap(),
            d(2026, 2, 24),
            "Fri 13, Sat 14, Tue 24"
        );
        assert_eq!(
            c.working_days_between(d(2026, 2, 13), d(2026, 3, 2))
                .unwrap(),
            7,
            "14, 24, 25, 26, 27, 28, 2 Mar"
        );
    }

    #[test]
    fn national_day_2025_and_2026() {
        let c = WorkCalendar::embedded();
        // 2025: off 1–8 Oct; Sunday 28 Sep and Saturday 11 Oct worked.
        assert!(c.is_working_day(d(2025, 9, 28)).unwrap());
        assert!(!c.is_working_day(d(2025, 10, 8)).unwrap());
        assert!(c.is_working_day(d(2025, 10, 11)).unwrap());
        // 15 working days from 30 Sep 2025 (a catalog-update deadline):
        // 9, 10, 11 (Sat, worked), 13–17, 20–24, 27, 28 October.
        assert_eq!(
            c.add_working_days(d(2025, 9, 30), 15).unwrap(),
            d(2025, 10, 28)
        );
        // 2026: Mid-autumn 25–27 Sep, National Day 1–7 Oct; Sundays 20 Sep and Saturday 10 Oct worked.
        assert!(c.is_working_day(d(2026, 9, 20)).unwrap());
        assert!(!c.is_working_day(d(2026, 9, 25)).unwrap());
        assert!(!c.is_working_day(d(2026, 10, 7)).unwrap());
        assert_eq!(
            c.add_working_days(d(2026, 9, 30), 1).unwrap(),
            d(2026, 10, 8)
        );
        assert_eq!(
            c.add_working_days(d(2026, 10, 8), 2).unwrap(),
            d(2026, 10, 10),
            "Fri 9, Sat 10 (worked)"
        );
    }

    #[test]
    fn beyond_the_calendar_is_an_error_and_files_extend_it() {
        let mut c = WorkCalendar::embedded();
        let e = c.add_working_days(d(2026, 12, 28), 5).unwrap_err();
        assert_eq!(
            e,
            CalendarError::NotCovered {
                year: 2027,
                first: 2020,
                last: 2026
            }
        );
        assert!(e.to_string().contains("2027"));
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("2027.csv");
        std::fs::write(
            &f,
            "date,kind,festival\n2027-01-01,holiday,New Year's Day\n",
        )
        .unwrap();
        c.add_file(&f).unwrap();
        assert_eq!(
            c.add_working_days(d(2026, 12, 31), 1).unwrap(),
            d(2027, 1, 4)
        );
        std::fs::write(&f, "2027-13-01,holiday,x\n").unwrap();
        let e = c.add_file(&f).unwrap_err().to_string();
        assert!(e.contains("2027.csv:1") && e.contains("2027-13-01"), "{e}");
    }
}

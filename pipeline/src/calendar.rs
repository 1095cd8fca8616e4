//! Working days as the State Council's yearly holiday notices define them:
//! Monday to Friday, minus public holidays, plus the make-up working
//! weekends (调休). Embedded for 2020–2026 (`data/cn-calendar-2020-2026.csv`,
//! copied from the shared data set); extendable with the same CSV format
//! (`pdq calendar import FILE`).
//!
//! A year after the last one the notices cover is *provisional*: weekends
//! and the fixed-date statutory holidays only (see [`FIXED_HOLIDAYS`]), so
//! that deadlines can still be computed in late December; everything
//! computed from such a day says it is provisional, and is recomputed once
//! the year's notice is imported. A year before the first covered one is an
//! error: it is history, and history is not guessed.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use chrono::{Datelike, NaiveDate, Weekday};

const EMBEDDED: &str = include_str!("../data/cn-calendar-2020-2026.csv");

/// The statutory holidays with a fixed Gregorian date (month, day), as the
/// 全国年节及纪念日放假办法 lists them in its article 2 (as amended in 2024,
/// in force from 2025-01-01): 元旦 1 January, 劳动节 1–2 May, 国庆节 1–3
/// October. The holidays that follow the lunar calendar or a solar term
/// (春节, 清明节, 端午节, 中秋节) and the make-up working days are set by each
/// year's notice, so a provisional year does not have them.
pub const FIXED_HOLIDAYS: [(u32, u32); 6] = [(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)];

/// Why a working-day computation cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The year is before the calendar's first year.
    #[error(
        "no holiday calendar for {year} (it covers {first}–{last}); import the State Council's notice for {year} with `pdq calendar import FILE`"
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

/// The workspace folder whose `*.csv` files extend the calendar
/// (`pdq calendar import` writes there), besides `[calendar] files`.
pub const IMPORTED_DIR: &str = "calendar";

/// What `pdq calendar import` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The file written in the workspace.
    pub path: std::path::PathBuf,
    /// The years it covers.
    pub years: BTreeSet<i32>,
    /// Of those, the years that were provisional until now.
    pub were_provisional: Vec<i32>,
}

/// Imports a year's holiday notice into the workspace: the file is checked
/// line by line (an error names the file and line), then written
/// atomically as `calendar/<first>[-<last>].csv` in `workspace_dir`,
/// replacing an earlier import of the same years. Rectification deadlines
/// are computed from stored counts, so the next sweep or `pdq publish`
/// recomputes them; catalog deadlines are recomputed by the next sweep.
pub fn import(
    workspace_dir: &Path,
    file: &Path,
    current: &WorkCalendar,
) -> Result<Imported, CalendarError> {
    let bad = |line: usize, message: String| CalendarError::Bad {
        file: file.display().to_string(),
        line,
        message,
    };
    let text = std::fs::read_to_string(file).map_err(|e| bad(0, e.to_string()))?;
    let years = WorkCalendar::years_of(&file.display().to_string(), &text)?;
    let (Some(first), Some(last)) = (years.first(), years.last()) else {
        return Err(bad(
            0,
            "no dates in it (expected lines `YYYY-MM-DD,holiday|workday,festival`)".into(),
        ));
    };
    let name = if first == last {
        format!("{first}.csv")
    } else {
        format!("{first}-{last}.csv")
    };
    let dir = workspace_dir.join(IMPORTED_DIR);
    let path = dir.join(name);
    // A hidden temporary file (`.NAME.tmp-PID`, not `*.csv`, so never read
    // as a calendar), synced, then renamed over the target.
    crate::atomic::write(&path, text.as_bytes()).map_err(|e| CalendarError::Bad {
        file: path.display().to_string(),
        line: 0,
        message: e.to_string(),
    })?;
    let were_provisional = years
        .iter()
        .copied()
        .filter(|y| NaiveDate::from_ymd_opt(*y, 6, 1).is_some_and(|d| current.is_provisional(d)))
        .collect();
    Ok(Imported {
        path,
        years,
        were_provisional,
    })
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
/// // After the last notice: provisional, weekends and fixed-date holidays only.
/// assert!(cal.is_provisional(d(2027, 3, 1)));
/// assert_eq!(cal.add_working_days(d(2026, 12, 31), 1).unwrap(), d(2027, 1, 4));
/// // Before the first year: an error, never a guess.
/// assert!(cal.is_working_day(d(2019, 3, 1)).is_err());
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

    /// The years a calendar file covers, after checking every line of it.
    pub fn years_of(file: &str, text: &str) -> Result<BTreeSet<i32>, CalendarError> {
        let mut c = WorkCalendar {
            days: HashMap::new(),
            years: BTreeSet::new(),
        };
        c.add_csv(file, text)?;
        Ok(c.years)
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
        match self.years.first() {
            Some(first) if year >= *first => Ok(()),
            _ => Err(CalendarError::NotCovered {
                year,
                first: self.years.first().copied().unwrap_or(0),
                last: self.years.last().copied().unwrap_or(0),
            }),
        }
    }

    /// The last year an official notice covers.
    pub fn last_official_year(&self) -> Option<i32> {
        self.years.last().copied()
    }

    /// Whether `date` is in a year no notice covers yet (after the first
    /// covered year): its working days are provisional.
    pub fn is_provisional(&self, date: NaiveDate) -> bool {
        let y = date.year();
        !self.years.contains(&y) && self.years.first().is_some_and(|f| y > *f)
    }

    /// Whether people work on `date`; in a provisional year, every weekday
    /// that is not one of the [`FIXED_HOLIDAYS`].
    pub fn is_working_day(&self, date: NaiveDate) -> Result<bool, CalendarError> {
        self.covered(date.year())?;
        let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
        if self.is_provisional(date) {
            let fixed = FIXED_HOLIDAYS.contains(&(date.month(), date.day()));
            return Ok(!weekend && !fixed);
        }
        Ok(match self.days.get(&date) {
            Some(Kind::Holiday) => false,
            Some(Kind::Workday) => true,
            None => !weekend,
        })
    }

    /// The first working day on or after `date`: a period that ends on a
    /// rest day ends on the next working day (民法典 第二百零三条).
    pub fn working_day_on_or_after(&self, date: NaiveDate) -> Result<NaiveDate, CalendarError> {
        if self.is_working_day(date)? {
            Ok(date)
        } else {
            self.add_working_days(date, 1)
        }
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
    fn after_the_last_notice_is_provisional_and_an_import_makes_it_official() {
        let mut c = WorkCalendar::embedded();
        assert_eq!(c.last_official_year(), Some(2026));
        assert!(!c.is_provisional(d(2026, 12, 31)));
        assert!(c.is_provisional(d(2027, 1, 1)));
        // Provisional 2027: New Year's Day and the weekend are off.
        assert!(!c.is_working_day(d(2027, 1, 1)).unwrap());
        assert_eq!(
            c.add_working_days(d(2026, 12, 28), 5).unwrap(),
            d(2027, 1, 5),
            "29, 30, 31 Dec, Mon 4, Tue 5 Jan"
        );
        // 1–2 May and 1–3 October are fixed; nothing else is guessed.
        assert_eq!(
            c.add_working_days(d(2027, 4, 30), 1).unwrap(),
            d(2027, 5, 3),
            "Sat 1 and Sun 2 May are off anyway; Mon 3 is worked"
        );
        assert!(!c.is_working_day(d(2027, 10, 1)).unwrap()); // a Friday
        assert!(c.is_working_day(d(2027, 10, 4)).unwrap());
        // Before the first year: an error naming the year.
        let e = c.is_working_day(d(2019, 6, 3)).unwrap_err();
        assert_eq!(
            e,
            CalendarError::NotCovered {
                year: 2019,
                first: 2020,
                last: 2026
            }
        );
        assert!(e.to_string().contains("2019"));
        // The official notice replaces the provisional year.
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("2027.csv");
        std::fs::write(
            &f,
            "date,kind,festival\n2027-01-01,holiday,New Year's Day\n2027-05-03,holiday,Labour Day\n",
        )
        .unwrap();
        c.add_file(&f).unwrap();
        assert!(!c.is_provisional(d(2027, 5, 3)));
        assert_eq!(c.last_official_year(), Some(2027));
        assert_eq!(
            c.add_working_days(d(2027, 4, 30), 1).unwrap(),
            d(2027, 5, 4)
        );
        std::fs::write(&f, "2027-13-01,holiday,x\n").unwrap();
        let e = c.add_file(&f).unwrap_err().to_string();
        assert!(e.contains("2027.csv:1") && e.contains("2027-13-01"), "{e}");
    }

    #[test]
    fn a_period_ending_on_a_rest_day_ends_on_the_next_working_day() {
        let c = WorkCalendar::embedded();
        // Saturday 3 October 2026, in the National Day holiday (1–7
        // October): Thursday 8th is the next working day.
        assert_eq!(
            c.working_day_on_or_after(d(2026, 10, 3)).unwrap(),
            d(2026, 10, 8)
        );
        assert_eq!(
            c.working_day_on_or_after(d(2026, 10, 12)).unwrap(),
            d(2026, 10, 12)
        );
    }
}

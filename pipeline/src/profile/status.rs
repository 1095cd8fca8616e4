//! Whether a regulation is in force on a date: computed from the dates its
//! text gives, never stored as a word.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// `[validity]`: the dates in the text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Validity {
    /// A draft for comment: never in force.
    #[serde(default)]
    pub draft: bool,
    /// The first day in force.
    #[serde(default)]
    pub effective_from: Option<NaiveDate>,
    /// In force for so many years from `effective_from`; none: no end.
    #[serde(default)]
    pub years: Option<u32>,
    /// Those years are a trial period (试行期).
    #[serde(default)]
    pub trial: bool,
}

/// A regulation's status on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// In force, with its last day when the text gives one.
    InForce {
        /// The last day in force.
        until: Option<NaiveDate>,
    },
    /// In its trial period (试行期), up to and including `until`.
    Trial {
        /// The trial's last day.
        until: NaiveDate,
    },
    /// No longer in force since `since`.
    Lapsed {
        /// The first day not in force.
        since: NaiveDate,
    },
    /// Not yet in force: from `from`.
    NotYet {
        /// The first day in force.
        from: NaiveDate,
    },
    /// A draft for comment, never in force.
    Draft,
}

impl Validity {
    /// The last day in force, when the text sets a period.
    pub fn last_day(&self) -> Option<NaiveDate> {
        let from = self.effective_from?;
        let years = self.years?;
        from.checked_add_months(Months::new(years * 12))?.pred_opt()
    }

    /// The status on `day`.
    ///
    /// ```
    /// use chrono::NaiveDate;
    /// use pipeline::profile::{Status, Validity};
    /// let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    /// // 自2025年1月1日起试行,试行期2年
    /// let v = Validity { effective_from: Some(d(2025, 1, 1)), years: Some(2), trial: true, draft: false };
    /// assert_eq!(v.status(d(2026, 12, 31)), Status::Trial { until: d(2026, 12, 31) });
    /// assert_eq!(v.status(d(2027, 1, 1)), Status::Lapsed { since: d(2027, 1, 1) });
    /// ```
    pub fn status(&self, day: NaiveDate) -> Status {
        if self.draft {
            return Status::Draft;
        }
        let Some(from) = self.effective_from else {
            return Status::Draft;
        };
        if day < from {
            return Status::NotYet { from };
        }
        match self.last_day() {
            Some(last) if day > last => Status::Lapsed {
                since: last.succ_opt().unwrap_or(last),
            },
            Some(last) if self.trial => Status::Trial { until: last },
            until => Status::InForce { until },
        }
    }
}

impl Status {
    /// In force or on trial: the regulation applies.
    pub fn applies(&self) -> bool {
        matches!(self, Status::InForce { .. } | Status::Trial { .. })
    }

    /// Chinese first, then English: `试行至 2026-12-31 / trial until 2026-12-31`.
    pub fn words(&self) -> String {
        match self {
            Status::InForce { until: None } => "现行有效 / in force".into(),
            Status::InForce { until: Some(u) } => format!("有效至 {u} / in force until {u}"),
            Status::Trial { until } => format!("试行至 {until} / trial until {until}"),
            Status::Lapsed { since } => format!("自 {since} 起失效 / lapsed since {since}"),
            Status::NotYet { from } => format!("{from} 起施行 / in force from {from}"),
            Status::Draft => "征求意见稿，未施行 / draft, not in force".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_two_year_period_ends_the_day_before_its_second_anniversary() {
        let v = Validity {
            effective_from: Some(d(2023, 2, 17)),
            years: Some(2),
            ..Validity::default()
        };
        assert_eq!(v.last_day(), Some(d(2025, 2, 16)));
        assert_eq!(
            v.status(d(2025, 2, 16)),
            Status::InForce {
                until: Some(d(2025, 2, 16))
            }
        );
        assert_eq!(
            v.status(d(2025, 2, 17)),
            Status::Lapsed {
                since: d(2025, 2, 17)
            }
        );
        assert!(!v.status(d(2026, 12, 4)).applies());
        assert_eq!(
            v.status(d(2023, 2, 16)),
            Status::NotYet {
                from: d(2023, 2, 17)
            }
        );
        let open = Validity {
            effective_from: Some(d(2025, 5, 1)),
            ..Validity::default()
        };
        assert_eq!(open.status(d(2040, 1, 1)), Status::InForce { until: None });
        let draft = Validity {
            draft: true,
            ..Validity::default()
        };
        assert_eq!(draft.status(d(2026, 1, 1)), Status::Draft);
        assert!(Status::Draft.words().contains("征求意见稿"));
    }
}

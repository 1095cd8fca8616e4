//! Rectification lists (整改清单): every rule at `fail` opens an item for its
//! department with a due date (the profile's deadline, in working days with
//! the holiday calendar); the item is carried from run to run until the data
//! shows it fixed (the rule no longer at `fail`). Like the scores, a pure
//! function of the stored counts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{Counts, RuleCount};
use crate::calendar::{CalendarError, WorkCalendar};
use crate::profile::Deadline;

/// One item of the rectification list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rectification {
    /// `department.dataset/rule`.
    pub id: String,
    /// Who must act.
    pub department: String,
    /// Where.
    pub dataset: String,
    /// Which rule.
    pub rule: String,
    /// The run that found it.
    pub opened_run: String,
    /// The day it was found (the run's as-of date in the bureau's zone).
    pub opened_on: NaiveDate,
    /// When it is due.
    pub due: NaiveDate,
    /// The due date falls in a year with no holiday notice yet, so it was
    /// counted with weekends and fixed-date holidays only: it is recomputed
    /// once the year's notice is imported (`pdq calendar import`).
    #[serde(default)]
    pub provisional: bool,
    /// The run that found it fixed.
    pub closed_run: Option<String>,
    /// The day it was found fixed.
    pub closed_on: Option<NaiveDate>,
    /// `open`, `overdue`, `closed` or `closed_late`.
    pub status: String,
    /// Failed rows at the last run that evaluated it.
    pub failed: i64,
    /// Evaluated rows at that run.
    pub evaluated: i64,
}

/// The rectification list as of run `up_to` (every item opened up to it,
/// open or closed).
pub fn rectifications(
    history: &[RuleCount],
    up_to: &str,
    deadline: Deadline,
    cal: &WorkCalendar,
    tz: Tz,
) -> Result<Vec<Rectification>, CalendarError> {
    let counts = Counts::from_counts(history);
    match counts.runs.get(up_to) {
        Some(run) => rectifications_of(&counts, run, deadline, cal, tz),
        None => Ok(vec![]),
    }
}

/// [`rectifications`] over compact, normalized counts, as of run index `up_to`.
pub fn rectifications_of(
    counts: &Counts,
    up_to: u32,
    deadline: Deadline,
    cal: &WorkCalendar,
    tz: Tz,
) -> Result<Vec<Rectification>, CalendarError> {
    let order = counts.run_order();
    let Some(end) = order.iter().position(|r| *r == up_to) else {
        return Ok(vec![]);
    };
    let ranges = counts.run_ranges();
    let mut items: BTreeMap<(u32, u32), Vec<Rectification>> = BTreeMap::new();
    for run in &order[..=end] {
        let day = counts.run_as_of[*run as usize]
            .with_timezone(&tz)
            .date_naive();
        let Some((lo, hi)) = ranges.get(run) else {
            continue;
        };
        for c in &counts.rows[*lo..*hi] {
            let list = items.entry((c.dataset, c.rule)).or_default();
            let open = list.last_mut().filter(|i| i.closed_on.is_none());
            match (c.status == 2, open) {
                (true, Some(item)) => {
                    item.failed = c.failed;
                    item.evaluated = c.evaluated;
                }
                (true, None) => {
                    let due = deadline.due(day, cal)?;
                    list.push(Rectification {
                        id: format!(
                            "{}/{}",
                            counts.datasets.name(c.dataset),
                            counts.rules.name(c.rule)
                        ),
                        department: counts.departments.name(c.department).to_string(),
                        dataset: counts.datasets.name(c.dataset).to_string(),
                        rule: counts.rules.name(c.rule).to_string(),
                        opened_run: counts.runs.name(*run).to_string(),
                        opened_on: day,
                        due,
                        provisional: cal.is_provisional(due),
                        closed_run: None,
                        closed_on: None,
                        status: "open".into(),
                        failed: c.failed,
                        evaluated: c.evaluated,
                    })
                }
                (false, Some(item)) => {
                    item.closed_run = Some(counts.runs.name(*run).to_string());
                    item.closed_on = Some(day);
                    item.failed = c.failed;
                    item.evaluated = c.evaluated;
                }
                (false, None) => {}
            }
        }
    }
    let today = counts.run_as_of[order[end] as usize]
        .with_timezone(&tz)
        .date_naive();
    let mut out: Vec<Rectification> = items.into_values().flatten().collect();
    for i in &mut out {
        i.status = match i.closed_on {
            Some(c) if c > i.due => "closed_late",
            Some(_) => "closed",
            None if today > i.due => "overdue",
            None => "open",
        }
        .into();
    }
    out.sort_by(|a, b| (&a.department, a.due, &a.id).cmp(&(&b.department, b.due, &b.id)));
    Ok(out)
}

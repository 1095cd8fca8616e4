//! Rectification lists (整改清单): every rule at `fail` opens an item for its
//! department with a due date (the profile's deadline, in working days with
//! the holiday calendar); the item is carried from run to run until the data
//! shows it fixed (the rule no longer at `fail`). Like the scores, a pure
//! function of the stored counts.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::{RuleCount, run_order};
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
    let runs = run_order(history);
    let Some(end) = runs.iter().position(|(r, _)| r == up_to) else {
        return Ok(vec![]);
    };
    let mut by_run: std::collections::HashMap<&str, Vec<&RuleCount>> =
        std::collections::HashMap::new();
    for c in history {
        by_run.entry(c.run_id.as_str()).or_default().push(c);
    }
    let mut items: BTreeMap<String, Vec<Rectification>> = BTreeMap::new();
    for (run, as_of) in &runs[..=end] {
        let day = as_of.with_timezone(&tz).date_naive();
        for c in by_run.get(run.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
            let id = format!("{}/{}", c.dataset, c.rule);
            let list = items.entry(id.clone()).or_default();
            let open = list.last_mut().filter(|i| i.closed_on.is_none());
            match (c.status == "fail", open) {
                (true, Some(item)) => {
                    item.failed = c.failed;
                    item.evaluated = c.evaluated;
                }
                (true, None) => list.push(Rectification {
                    id,
                    department: c.department.clone(),
                    dataset: c.dataset.clone(),
                    rule: c.rule.clone(),
                    opened_run: run.clone(),
                    opened_on: day,
                    due: deadline.due(day, cal)?,
                    closed_run: None,
                    closed_on: None,
                    status: "open".into(),
                    failed: c.failed,
                    evaluated: c.evaluated,
                }),
                (false, Some(item)) => {
                    item.closed_run = Some(run.clone());
                    item.closed_on = Some(day);
                    item.failed = c.failed;
                    item.evaluated = c.evaluated;
                }
                (false, None) => {}
            }
        }
    }
    let today = runs[end].1.with_timezone(&tz).date_naive();
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

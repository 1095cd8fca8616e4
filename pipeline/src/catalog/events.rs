//! Changes of legal basis or function (法律、法规、规章修改 / 管理服务职能
//!变更): the events that start the catalog-update clock.
//!
//! Every text starts its catalog-update deadline at such a change (新疆
//! 第十一条, 兵团 第十四条, 西藏 第十二条, 甘孜 第八条, 吴忠 第十三条), not at
//! schema drift of the landed data, which stays a finding of its own
//! (`schema_*`, citing no article). The bureau records each change in the
//! workspace file [`FILE`] (`pdq catalog change record`); an entry it
//! affects that the catalog has not updated (a harvest that added, changed
//! or restored it on or after the event's date) within the profile's
//! `catalog_update` deadline counted from that date is a
//! `catalog_update_overdue` finding citing the profile's article.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::checks::CatalogFinding;
use super::reconcile::provisional_note;
use super::store::CatalogState;
use super::workfile::{InputError, append_record, load_records};
use crate::calendar::{CalendarError, WorkCalendar};
use crate::profile::Profile;

/// The workspace file of recorded changes.
pub const FILE: &str = "catalog-changes.toml";

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// 法律、法规、规章修改.
    Law,
    /// 管理服务职能变更 (法定职能变化).
    Function,
}

impl EventKind {
    /// In Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            EventKind::Law => "法律法规规章修改",
            EventKind::Function => "职能变更",
        }
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeEvent {
    /// The department whose catalog must follow.
    pub department: String,
    /// The day the change took effect, `YYYY-MM-DD`: the clock starts here.
    #[serde(deserialize_with = "super::workfile::day")]
    pub date: NaiveDate,
    /// Law or function.
    pub kind: EventKind,
    /// The change: the law amended, the function reassigned.
    pub basis: String,
    /// The entries it affects, by key (none: every entry of the department).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<String>,
}

fn invalid(e: &ChangeEvent, state: &CatalogState) -> Option<String> {
    if e.department.trim().is_empty() {
        return Some("department: blank; expected a department code".into());
    }
    if e.basis.trim().is_empty() {
        return Some("basis: blank; expected the law amended or the function changed".into());
    }
    for k in &e.entries {
        match state.entries.get(k) {
            None => {
                return Some(format!(
                    "entries: `{k}` is not a catalog entry's key; expected a key as `pdq harvest --format json` lists it"
                ));
            }
            Some(s) if s.entry.department != e.department => {
                return Some(format!(
                    "entries: `{k}` belongs to department {}, not {}",
                    s.entry.department, e.department
                ));
            }
            Some(_) => {}
        }
    }
    None
}

/// Reads [`FILE`] from the workspace directory (none: no events); every
/// entry named must be one of the catalog's, of the event's department.
pub fn load(dir: &Path, state: &CatalogState) -> Result<Vec<ChangeEvent>, InputError> {
    load_records(&dir.join(FILE), "change", |e| invalid(e, state))
}

/// Appends an event to [`FILE`] (created if absent) after checking it and
/// the file against the catalog; returns the file.
pub fn record(
    dir: &Path,
    event: &ChangeEvent,
    state: &CatalogState,
) -> Result<PathBuf, InputError> {
    let path = dir.join(FILE);
    load(dir, state)?;
    if let Some(what) = invalid(event, state) {
        return Err(InputError::new(&path, format!("new change: {what}")));
    }
    // A misspelt department would start no clock at all.
    let departments: std::collections::BTreeSet<&str> = state
        .entries
        .values()
        .map(|s| s.entry.department.as_str())
        .collect();
    if !departments.contains(event.department.as_str()) {
        return Err(InputError::new(
            &path,
            format!(
                "new change: department: `{}` has no catalog entry; expected one of {}",
                event.department,
                departments.into_iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    append_record(
        &path,
        "change",
        event,
        "Changes of law or function that start the catalog-update clock (pdq catalog change record).",
    )?;
    Ok(path)
}

/// Where one affected entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// Updated by the due date.
    Updated,
    /// Updated, but after the due date.
    UpdatedLate,
    /// Not updated yet; not due yet.
    Pending,
    /// Not updated, and past the due date.
    Overdue,
}

/// One affected entry's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryClock {
    /// The event's index in the file.
    pub event: usize,
    /// The entry.
    pub key: String,
    /// Its name.
    pub name: Option<String>,
    /// The day the catalog was due to be updated.
    pub due: NaiveDate,
    /// The first update on or after the event's date (up to `today`).
    pub updated: Option<NaiveDate>,
    /// Where it stands on `today`.
    pub state: ClockState,
}

/// The clock of every entry each event affects (listed entries, or every
/// entry in force of its department), as of `today`.
pub fn clocks(
    events: &[ChangeEvent],
    state: &CatalogState,
    profile: &Profile,
    cal: &WorkCalendar,
    tz: chrono_tz::Tz,
    today: NaiveDate,
) -> Result<Vec<EntryClock>, CalendarError> {
    let mut out = vec![];
    for (i, ev) in events.iter().enumerate() {
        let due = profile.catalog_update.due(ev.date, cal)?;
        let affected = state.entries.values().filter(|s| {
            !s.withdrawn
                && if ev.entries.is_empty() {
                    s.entry.department == ev.department
                } else {
                    ev.entries.contains(&s.entry.key)
                }
        });
        for s in affected {
            let updated = s
                .updated
                .iter()
                .map(|t| t.with_timezone(&tz).date_naive())
                .filter(|d| *d >= ev.date && *d <= today)
                .min();
            let state = match updated {
                Some(u) if u <= due => ClockState::Updated,
                Some(_) => ClockState::UpdatedLate,
                None if today > due => ClockState::Overdue,
                None => ClockState::Pending,
            };
            out.push(EntryClock {
                event: i,
                key: s.entry.key.clone(),
                name: s.entry.name.clone(),
                due,
                updated,
                state,
            });
        }
    }
    Ok(out)
}

/// The profile's catalog-update article, quoted.
pub fn citation(profile: &Profile) -> String {
    profile.quote("catalog_update")
}

/// `catalog_update_overdue` findings: entries an event affects that the
/// catalog did not update within the deadline, citing the article.
pub fn overdue(
    events: &[ChangeEvent],
    state: &CatalogState,
    profile: &Profile,
    cal: &WorkCalendar,
    tz: chrono_tz::Tz,
    today: NaiveDate,
) -> Result<Vec<CatalogFinding>, CalendarError> {
    let d = profile.catalog_update;
    let unit = d.unit.words();
    let mut out = vec![];
    for c in clocks(events, state, profile, cal, tz, today)? {
        let done = match (c.state, c.updated) {
            (ClockState::Overdue, _) => "has not been updated".to_string(),
            (ClockState::UpdatedLate, Some(u)) => format!("was updated only on {u}"),
            _ => continue,
        };
        let (ev, e) = (&events[c.event], &state.entries[&c.key].entry);
        out.push(CatalogFinding {
            check: "catalog_update_overdue".into(),
            department: e.department.clone(),
            key: Some(e.key.clone()),
            code: e.resource_code.clone(),
            name: e.name.clone(),
            field: None,
            location: format!("{FILE} [[change]] {}", c.event + 1),
            message: format!(
                "{} on {} ({}): the entry {done}; it was due by {} ({} {unit}, {}){}",
                ev.kind.zh(),
                ev.date,
                ev.basis,
                c.due,
                d.days,
                citation(profile),
                provisional_note(c.due, cal)
            ),
        });
    }
    Ok(out)
}

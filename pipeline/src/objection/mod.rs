//! Objections and corrections (异议与校核): a citizen, a user department
//! or the bureau reports a wrong value in a dataset or catalog entry; the
//! bureau forwards it to the responsible department, which verifies it
//! (upheld or rejected, with a reason) and corrects it; the correction is
//! confirmed by data (the next delivery no longer holds the wrong value,
//! else the objection re-opens) and the objection is closed.
//!
//! ```text
//! filed → forwarded → upheld → corrected → confirmed → closed
//!                   ↘ rejected ──────────────────────↗
//!              (corrected → re-opened → upheld when the value is still there)
//! ```
//!
//! The history is append-only ([`store`], `_pdq/objections`): the state of
//! an objection on a day is a fold of its events up to that day
//! ([`Objection::fold`]), so every tally is reproducible. Each step's
//! deadline comes from the active profile (`[objections]`, with its
//! article; `pdq profile show`), the correction's from the profile's
//! rectification deadline; a step without a deadline in the text has none.
//!
//! This module is the model (pure); [`stage`] reads and writes the lake.

pub mod stage;
pub mod store;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::calendar::WorkCalendar;
use crate::land::LandError;
use crate::profile::{Deadline, Profile, Source};

/// What can go wrong with an objection.
#[derive(Debug, thiserror::Error)]
pub enum ObjectionError {
    /// Bad input: nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// The lake failed.
    #[error(transparent)]
    Lake(#[from] LandError),
}

fn invalid<T>(message: impl Into<String>) -> Result<T, ObjectionError> {
    Err(ObjectionError::Invalid(message.into()))
}

/// Who reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reporter {
    /// A natural or legal person about their own data (自然人、法人).
    Citizen,
    /// A department that uses the data (使用部门/需求部门).
    Department,
    /// The bureau itself (公共数据主管部门), e.g. from its own checks.
    Bureau,
}

impl Reporter {
    /// Parses `citizen`, `department` or `bureau`.
    pub fn parse(s: &str) -> Result<Reporter, ObjectionError> {
        match s {
            "citizen" => Ok(Reporter::Citizen),
            "department" => Ok(Reporter::Department),
            "bureau" => Ok(Reporter::Bureau),
            _ => invalid(format!(
                "reporter `{s}`: expected citizen, department or bureau"
            )),
        }
    }

    /// In Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            Reporter::Citizen => "自然人/法人",
            Reporter::Department => "使用部门",
            Reporter::Bureau => "主管部门",
        }
    }
}

/// One thing that happened to an objection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Filed (受理).
    Filed,
    /// Forwarded to the responsible department (转交).
    Forwarded,
    /// Verified: the objection is right (校核属实).
    Upheld,
    /// Verified: the objection is wrong, with the reason (校核不属实).
    Rejected,
    /// The department says it corrected the data (更正), naming the
    /// delivery or catalog version.
    Corrected,
    /// The data no longer holds the wrong value (复核通过).
    Confirmed,
    /// The data still holds the wrong value: back to upheld (重新打开).
    Reopened,
    /// Closed (办结).
    Closed,
    /// A department that received the wrong data was told of the
    /// correction (通知使用单位; 西藏 第十八条、第二十七条): the event's
    /// `department` is the consumer. It changes no state.
    Notified,
}

impl Action {
    /// Its name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Filed => "filed",
            Action::Forwarded => "forwarded",
            Action::Upheld => "upheld",
            Action::Rejected => "rejected",
            Action::Corrected => "corrected",
            Action::Confirmed => "confirmed",
            Action::Reopened => "reopened",
            Action::Closed => "closed",
            Action::Notified => "notified",
        }
    }
}

/// An objection's state: the last action that set one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Filed, not yet forwarded or verified.
    Filed,
    /// With the responsible department.
    Forwarded,
    /// Verified and right: to be corrected.
    Upheld,
    /// Verified and wrong.
    Rejected,
    /// Corrected, not yet confirmed by data.
    Corrected,
    /// Corrected and confirmed by data.
    Confirmed,
    /// Closed.
    Closed,
}

impl State {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Filed => "filed",
            State::Forwarded => "forwarded",
            State::Upheld => "upheld",
            State::Rejected => "rejected",
            State::Corrected => "corrected",
            State::Confirmed => "confirmed",
            State::Closed => "closed",
        }
    }

    /// In Chinese.
    pub fn zh(self) -> &'static str {
        match self {
            State::Filed => "已受理",
            State::Forwarded => "已转交",
            State::Upheld => "属实待更正",
            State::Rejected => "不属实",
            State::Corrected => "已更正待复核",
            State::Confirmed => "已复核",
            State::Closed => "已办结",
        }
    }

    /// Parses a state's name.
    pub fn parse(s: &str) -> Result<State, ObjectionError> {
        [
            State::Filed,
            State::Forwarded,
            State::Upheld,
            State::Rejected,
            State::Corrected,
            State::Confirmed,
            State::Closed,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
        .map_or_else(
            || invalid(format!("state `{s}`: expected filed, forwarded, upheld, rejected, corrected, confirmed or closed")),
            Ok,
        )
    }

    /// Still needs action (not closed, not rejected-and-answered).
    pub fn is_open(self) -> bool {
        self != State::Closed
    }
}

/// One stored event (one row of `_pdq/objections`). The `filed` event
/// carries what the objection is about; later events carry what they add.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectionEvent {
    /// The objection (`YYYY-NNNN`).
    pub objection: String,
    /// Its place in the objection's history (0: filed).
    pub seq: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub action: Action,
    /// Who recorded it (the audit actor).
    pub actor: String,
    /// Filed: the responsible department; forwarded: the department it went
    /// to; verified, corrected: the department that acted.
    pub department: Option<String>,
    /// Filed: the dataset (`department.name`).
    pub dataset: Option<String>,
    /// Filed: the catalog entry's key.
    pub entry: Option<String>,
    /// Filed: the column that identifies the row.
    pub key_column: Option<String>,
    /// Filed: its value.
    pub key_value: Option<String>,
    /// Filed: the field objected to.
    pub field: Option<String>,
    /// Filed: the value objected to, as the data held it; confirmed,
    /// reopened: the value found.
    pub value: Option<String>,
    /// Filed: what is wrong; rejected: why; corrected: what was done;
    /// reopened: what was found; closed: a note.
    pub text: Option<String>,
    /// Filed: who reports.
    pub reporter: Option<Reporter>,
    /// Filed: the reporting department, when a department reports.
    pub reporter_department: Option<String>,
    /// Filed: how to reach the reporter (masked in every output).
    pub contact: Option<String>,
    /// Corrected: the delivery or catalog version that fixed it.
    pub fixed_in: Option<String>,
}

impl ObjectionEvent {
    /// An event with only the common fields set.
    pub fn new(objection: &str, seq: i64, at: DateTime<Utc>, action: Action, actor: &str) -> Self {
        ObjectionEvent {
            objection: objection.to_string(),
            seq,
            at,
            action,
            actor: actor.to_string(),
            department: None,
            dataset: None,
            entry: None,
            key_column: None,
            key_value: None,
            field: None,
            value: None,
            text: None,
            reporter: None,
            reporter_department: None,
            contact: None,
            fixed_in: None,
        }
    }
}

/// A step with a deadline: forwarding, verifying, correcting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepDue {
    /// `forward`, `verify` or `correct`.
    pub step: String,
    /// In Chinese.
    pub zh: String,
    /// When it started (the day counting starts from).
    pub from: NaiveDate,
    /// Due by (none: the text sets no period).
    pub due: Option<NaiveDate>,
    /// The article the deadline comes from, or what the text lacks.
    pub basis: String,
    /// When it was done.
    pub done: Option<NaiveDate>,
    /// `on_time`, `late`, `open`, `overdue`, or `no_deadline`.
    pub status: String,
}

impl StepDue {
    fn new(
        step: &str,
        zh: &str,
        from: NaiveDate,
        deadline: Option<(Deadline, String)>,
        done: Option<NaiveDate>,
        today: NaiveDate,
        cal: &WorkCalendar,
    ) -> StepDue {
        // A date the calendar cannot tell (a year without a holiday notice
        // and beyond its provisional rule) leaves the step without a due date
        // rather than inventing one.
        let (due, basis) = match deadline {
            Some((d, basis)) => (d.due(from, cal).ok(), basis),
            None => (None, "条文未规定期限 the text sets no period".into()),
        };
        let status = match (due, done) {
            (None, _) => "no_deadline",
            (Some(due), Some(done)) if done <= due => "on_time",
            (Some(_), Some(_)) => "late",
            (Some(due), None) if today > due => "overdue",
            (Some(_), None) => "open",
        };
        StepDue {
            step: step.into(),
            zh: zh.into(),
            from,
            due,
            basis,
            done,
            status: status.into(),
        }
    }

    /// Past its due date without being done.
    pub fn is_overdue(&self) -> bool {
        self.status == "overdue"
    }
}

/// An objection as of a day: what it is about, its state and its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objection {
    /// `YYYY-NNNN`.
    pub id: String,
    /// Filed at.
    pub filed: DateTime<Utc>,
    /// Its state.
    pub state: State,
    /// Its state in Chinese.
    pub state_zh: String,
    /// The department that must verify and correct (the data item's
    /// authority where one-source knows it, else the provider).
    pub responsible: String,
    /// The dataset.
    pub dataset: Option<String>,
    /// The catalog entry.
    pub entry: Option<String>,
    /// The row: `column = value`.
    pub row: Option<(String, String)>,
    /// The field.
    pub field: Option<String>,
    /// The value objected to.
    pub value: Option<String>,
    /// What is wrong.
    pub what: String,
    /// Who reported.
    pub reporter: Reporter,
    /// The reporting department.
    pub reporter_department: Option<String>,
    /// How to reach the reporter.
    pub contact: Option<String>,
    /// Verified right (`Some(true)`), wrong (`Some(false)`), not yet.
    pub upheld: Option<bool>,
    /// Times the data check re-opened it.
    pub reopened: usize,
    /// The steps with their deadlines.
    pub steps: Vec<StepDue>,
    /// A step is past its deadline.
    pub overdue: bool,
    /// The consumers told of the correction (`notified` events), in order.
    #[serde(default)]
    pub notified: Vec<String>,
    /// Every event, oldest first.
    pub history: Vec<ObjectionEvent>,
}

/// The deadlines of a profile, each with its basis.
pub struct Deadlines {
    forward: Option<(Deadline, String)>,
    verify: Option<(Deadline, String)>,
    correct: Option<(Deadline, String)>,
}

fn basis(profile: &Profile, field: &str) -> String {
    match profile.source(field) {
        Some(Source::Cited(c)) => c
            .iter()
            .map(|c| format!("{} {}", profile.title, c.article))
            .collect::<Vec<_>>()
            .join("; "),
        Some(Source::NotInText { not_in_text }) => {
            format!("条文未规定 not in the text: {not_in_text}")
        }
        None => String::new(),
    }
}

impl Deadlines {
    /// The deadlines `profile` sets, each with the article it comes from.
    pub fn of(profile: &Profile) -> Deadlines {
        let with = |d: Option<Deadline>, field: &str| d.map(|d| (d, basis(profile, field)));
        Deadlines {
            forward: with(profile.objections.forward, "objections.forward"),
            verify: with(profile.objections.verify, "objections.verify"),
            correct: with(Some(profile.rectification), "rectification"),
        }
    }
}

impl Objection {
    /// Folds one objection's events (oldest first, starting with `filed`)
    /// up to `as_of`; `None` when it was not filed by then.
    pub fn fold(
        events: &[ObjectionEvent],
        as_of: DateTime<Utc>,
        deadlines: &Deadlines,
        cal: &WorkCalendar,
        tz: Tz,
    ) -> Option<Objection> {
        let events: Vec<&ObjectionEvent> = events.iter().filter(|e| e.at <= as_of).collect();
        let filed = events.iter().find(|e| e.action == Action::Filed)?;
        let day = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
        let today = day(as_of);
        let mut o = Objection {
            id: filed.objection.clone(),
            filed: filed.at,
            state: State::Filed,
            state_zh: String::new(),
            responsible: filed.department.clone().unwrap_or_default(),
            dataset: filed.dataset.clone(),
            entry: filed.entry.clone(),
            row: filed.key_column.clone().zip(filed.key_value.clone()),
            field: filed.field.clone(),
            value: filed.value.clone(),
            what: filed.text.clone().unwrap_or_default(),
            reporter: filed.reporter.unwrap_or(Reporter::Bureau),
            reporter_department: filed.reporter_department.clone(),
            contact: filed.contact.clone(),
            upheld: None,
            reopened: 0,
            steps: vec![],
            overdue: false,
            notified: vec![],
            history: events.iter().map(|e| (*e).clone()).collect(),
        };
        let (mut forwarded, mut verified, mut corrected) = (None, None, None);
        for e in &events {
            match e.action {
                Action::Filed => {}
                Action::Forwarded => {
                    o.state = State::Forwarded;
                    forwarded.get_or_insert(day(e.at));
                }
                Action::Upheld | Action::Rejected => {
                    o.upheld = Some(e.action == Action::Upheld);
                    o.state = if e.action == Action::Upheld {
                        State::Upheld
                    } else {
                        State::Rejected
                    };
                    verified.get_or_insert(day(e.at));
                }
                Action::Corrected => {
                    o.state = State::Corrected;
                    corrected = Some(day(e.at));
                }
                Action::Confirmed => o.state = State::Confirmed,
                Action::Reopened => {
                    o.state = State::Upheld;
                    o.reopened += 1;
                    corrected = None;
                }
                Action::Closed => o.state = State::Closed,
                Action::Notified => {
                    if let Some(d) = &e.department
                        && !o.notified.contains(d)
                    {
                        o.notified.push(d.clone());
                    }
                }
            }
        }
        let filed_day = day(o.filed);
        if deadlines.forward.is_some() || forwarded.is_some() {
            // Answered without being forwarded (the department had it
            // directly): it reached the department when it answered.
            o.steps.push(StepDue::new(
                "forward",
                "转交",
                filed_day,
                deadlines.forward.clone(),
                forwarded.or(verified),
                today,
                cal,
            ));
        }
        o.steps.push(StepDue::new(
            "verify",
            "校核答复",
            forwarded.unwrap_or(filed_day),
            deadlines.verify.clone(),
            verified,
            today,
            cal,
        ));
        if o.upheld == Some(true)
            && let Some(v) = verified
        {
            o.steps.push(StepDue::new(
                "correct",
                "更正",
                v,
                deadlines.correct.clone(),
                corrected,
                today,
                cal,
            ));
        }
        // A closed objection is overdue no more; its late steps stay late.
        o.overdue = o.state.is_open() && o.steps.iter().any(StepDue::is_overdue);
        o.state_zh = o.state.zh().into();
        Some(o)
    }

    /// What may be shown outside the bureau's lake (CLI, HTTP, published
    /// files): the reporter's contact, the value and identifiers in the
    /// text masked (`pipeline::mask`).
    pub fn masked(&self) -> Objection {
        let mut o = self.clone();
        o.contact = o.contact.as_deref().map(mask_contact);
        let field = o.field.clone().unwrap_or_default();
        o.value = o.value.as_deref().map(|v| crate::mask::mask(&field, v));
        if let Some((col, v)) = &mut o.row {
            *v = crate::mask::mask(col, v);
        }
        o.what = crate::mask::mask_identifiers(&o.what);
        for e in &mut o.history {
            e.contact = e.contact.as_deref().map(mask_contact);
            let field = e.field.clone().unwrap_or_else(|| field.clone());
            e.value = e.value.as_deref().map(|v| crate::mask::mask(&field, v));
            if let (Some(col), Some(v)) = (&e.key_column, &mut e.key_value) {
                *v = crate::mask::mask(col, v);
            }
            e.text = e.text.as_deref().map(crate::mask::mask_identifiers);
        }
        o
    }
}

/// A contact masked: an e-mail keeps its first letter and domain, anything
/// else is masked as a phone number.
///
/// ```
/// use pipeline::objection::mask_contact;
/// assert_eq!(mask_contact("13800138000"), "138****8000");
/// assert_eq!(mask_contact("zhang.san@example.cn"), "z***@example.cn");
/// ```
pub fn mask_contact(contact: &str) -> String {
    match contact.split_once('@') {
        Some((user, domain)) => format!(
            "{}***@{domain}",
            user.chars().next().map(String::from).unwrap_or_default()
        ),
        None => {
            let masked = crate::mask::mask("phone", contact);
            if masked == contact && contact.chars().count() > 4 {
                // Not a number the masker knows: keep the last four only.
                let n = contact.chars().count();
                let tail: String = contact.chars().skip(n - 4).collect();
                format!("{}{tail}", "*".repeat(n - 4))
            } else {
                masked
            }
        }
    }
}

/// Every objection as of `as_of`, by id.
pub fn fold_all(
    events: &[ObjectionEvent],
    as_of: DateTime<Utc>,
    deadlines: &Deadlines,
    cal: &WorkCalendar,
    tz: Tz,
) -> Vec<Objection> {
    let mut by_id: BTreeMap<&str, Vec<ObjectionEvent>> = BTreeMap::new();
    for e in events {
        by_id.entry(&e.objection).or_default().push(e.clone());
    }
    by_id
        .into_values()
        .filter_map(|mut evs| {
            evs.sort_by_key(|e| e.seq);
            Objection::fold(&evs, as_of, deadlines, cal, tz)
        })
        .collect()
}

/// Objection counts of a department or dataset, as scorecards and the
/// evaluation show them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectionTally {
    /// Filed.
    pub filed: usize,
    /// Not closed.
    pub open: usize,
    /// Not closed with a step past its deadline.
    pub overdue: usize,
    /// Steps with a deadline that were done: on time.
    pub steps_on_time: usize,
    /// … and late.
    pub steps_late: usize,
    /// Steps with a deadline not done yet, past due.
    pub steps_overdue: usize,
    /// Upheld (verified right).
    pub upheld: usize,
    /// Corrected and confirmed by data (or closed after correction).
    pub corrected: usize,
    /// Re-opened by the data check at least once.
    pub reopened: usize,
}

impl ObjectionTally {
    /// Adds one objection.
    pub fn add(&mut self, o: &Objection) {
        self.filed += 1;
        self.open += usize::from(o.state.is_open());
        self.overdue += usize::from(o.overdue);
        for s in &o.steps {
            match s.status.as_str() {
                "on_time" => self.steps_on_time += 1,
                "late" => self.steps_late += 1,
                "overdue" => self.steps_overdue += 1,
                _ => {}
            }
        }
        self.upheld += usize::from(o.upheld == Some(true));
        self.corrected += usize::from(
            o.upheld == Some(true) && matches!(o.state, State::Confirmed | State::Closed),
        );
        self.reopened += usize::from(o.reopened > 0);
    }

    /// 100 × steps on time / steps due (done or past due); `None`: none due.
    pub fn on_time_rate(&self) -> Option<f64> {
        let due = self.steps_on_time + self.steps_late + self.steps_overdue;
        (due > 0).then(|| (10000.0 * self.steps_on_time as f64 / due as f64).round() / 100.0)
    }
}

/// Tallies per responsible department and per dataset.
pub fn tallies(
    objections: &[Objection],
) -> (
    BTreeMap<String, ObjectionTally>,
    BTreeMap<String, ObjectionTally>,
) {
    let mut by_dept: BTreeMap<String, ObjectionTally> = BTreeMap::new();
    let mut by_dataset: BTreeMap<String, ObjectionTally> = BTreeMap::new();
    for o in objections {
        by_dept.entry(o.responsible.clone()).or_default().add(o);
        if let Some(d) = &o.dataset {
            by_dataset.entry(d.clone()).or_default().add(o);
        }
    }
    (by_dept, by_dataset)
}

/// Checks that `action` may follow `state`, by `department` when it must
/// be the responsible one; the error says what is allowed.
pub fn allowed(
    o: &Objection,
    action: Action,
    department: Option<&str>,
) -> Result<(), ObjectionError> {
    let id = &o.id;
    let state = o.state;
    if state == State::Closed {
        return invalid(format!("objection {id} is already closed"));
    }
    if matches!(
        action,
        Action::Upheld | Action::Rejected | Action::Corrected
    ) {
        match department {
            Some(d) if d == o.responsible => {}
            Some(d) => {
                return invalid(format!(
                    "objection {id} is for department `{}` to answer, not `{d}`",
                    o.responsible
                ));
            }
            None => {
                return invalid(format!(
                    "objection {id}: say which department acts (--as {})",
                    o.responsible
                ));
            }
        }
    }
    let ok = match action {
        Action::Filed => false,
        Action::Forwarded => state == State::Filed,
        Action::Upheld | Action::Rejected => matches!(state, State::Filed | State::Forwarded),
        Action::Corrected => state == State::Upheld,
        Action::Confirmed | Action::Reopened => state == State::Corrected,
        // Consumers are told of a correction once there is one.
        Action::Notified => matches!(state, State::Corrected | State::Confirmed),
        // Closing needs an answer: rejected, or corrected and (where the
        // objection names a value the data can be checked for) confirmed.
        Action::Closed => match state {
            State::Rejected | State::Confirmed => true,
            State::Corrected => o.value.is_none(),
            _ => false,
        },
    };
    if ok {
        return Ok(());
    }
    let why = match (action, state) {
        (Action::Closed, State::Corrected) => {
            "the correction is not yet confirmed by data (the next delivery or harvest is checked; `pdq objection check`)"
        }
        (Action::Closed, State::Upheld) if o.reopened > 0 => {
            "it was re-opened: the data still holds the value objected to, so it must be corrected again"
        }
        (Action::Closed, _) => "it has not been answered (rejected) or corrected",
        (Action::Corrected, _) => "only an upheld objection is corrected",
        (Action::Forwarded, _) => "only a newly filed objection is forwarded",
        (Action::Notified, _) => {
            "consumers are notified of a correction: it must be upheld and corrected first"
        }
        (Action::Upheld | Action::Rejected, _) => "it has already been answered",
        _ => "that step does not follow",
    };
    invalid(format!(
        "objection {id} is {} ({}): cannot {}: {why}",
        state.as_str(),
        state.zh(),
        match action {
            Action::Upheld | Action::Rejected => "answer",
            Action::Closed => "close",
            Action::Corrected => "correct",
            Action::Forwarded => "forward",
            Action::Notified => "notify consumers of",
            a => a.as_str(),
        }
    ))
}

#[cfg(test)]
mod tests;

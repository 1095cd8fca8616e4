//! The objection desk: filing, forwarding, answering, correcting, checking
//! and closing objections against the workspace's datasets and catalog.
//! Every action is checked first and changes nothing when it is refused
//! (an unknown dataset, a row that is not there, closing twice, a
//! department answering another department's objection).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::store;
use super::{
    Action, Deadlines, Objection, ObjectionError, ObjectionEvent, Reporter, State, allowed,
    fold_all,
};
use crate::calendar::WorkCalendar;
use crate::dataset::DatasetDef;
use crate::land::Lake;
use crate::usage::stage::Consumer;
use crate::workspace::Workspace;

/// What an objection is about and who reports it.
#[derive(Debug, Clone, Default)]
pub struct Filing {
    /// The dataset (`department.name`).
    pub dataset: Option<String>,
    /// Or the catalog entry (its key, as `pdq harvest` lists it).
    pub entry: Option<String>,
    /// The row: a column and the value that identifies it.
    pub row: Option<(String, String)>,
    /// The field (a column, or a catalog field).
    pub field: Option<String>,
    /// What is wrong.
    pub what: String,
    /// Who reports.
    pub reporter: Option<Reporter>,
    /// The reporting department.
    pub reporter_department: Option<String>,
    /// How to reach the reporter.
    pub contact: Option<String>,
}

/// Objection tallies as of `as_of`, per responsible department and per
/// dataset (what scorecards show).
pub async fn tallies(
    ws: &Workspace,
    lake: &Lake,
    as_of: DateTime<Utc>,
) -> Result<
    (
        std::collections::BTreeMap<String, super::ObjectionTally>,
        std::collections::BTreeMap<String, super::ObjectionTally>,
    ),
    ObjectionError,
> {
    Ok(super::tallies(&all_as_of(ws, lake, as_of).await?))
}

/// Every objection as of `as_of` (what the evaluation counts).
pub async fn all_as_of(
    ws: &Workspace,
    lake: &Lake,
    as_of: DateTime<Utc>,
) -> Result<Vec<Objection>, ObjectionError> {
    let events = store::events(lake).await?;
    if events.is_empty() {
        return Ok(vec![]);
    }
    Ok(fold_all(
        &events,
        as_of,
        &Deadlines::of(&ws.profile()?),
        &ws.calendar()?,
        ws.tz(),
    ))
}

/// The sweep's objection step: every corrected objection that names a
/// value is checked against what landed (confirmed, or re-opened when the
/// value is still there). `None` when no objection awaits a check, so a
/// bureau without objections sees no step.
pub async fn check_step(
    ws: &Workspace,
    run_id: &str,
    actor: &str,
    at: DateTime<Utc>,
) -> Option<crate::run::Step> {
    let mut step = crate::run::Step::start(run_id, "objections", "");
    let desk = match Desk::open(ws) {
        Ok(d) => d,
        Err(e) => {
            step.fail(e.to_string());
            return Some(step.finish());
        }
    };
    match desk.check(actor, at).await {
        Ok(done) if done.is_empty() => return None,
        Ok(done) => {
            let ids = |a: Action| -> Vec<&str> {
                done.iter()
                    .filter(|(_, x)| *x == a)
                    .map(|(id, _)| id.as_str())
                    .collect()
            };
            step.outputs = serde_json::json!({"confirmed": ids(Action::Confirmed), "reopened": ids(Action::Reopened)}).to_string();
        }
        Err(e) => step.fail(e.to_string()),
    }
    Some(step.finish())
}

/// The period in which consumers received the wrong data: from the
/// delivery (or catalog version) in force when the objection was filed to
/// its correction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Window {
    /// From.
    pub from: DateTime<Utc>,
    /// What `from` is.
    pub from_what: String,
    /// To.
    pub to: DateTime<Utc>,
    /// What `to` is.
    pub to_what: String,
}

/// The departments that received an objection's wrong data, and whether
/// the text requires them to be told of the correction.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Consumers {
    /// The objection.
    pub objection: String,
    /// The period.
    pub window: Window,
    /// Each consumer of the data in the period (from the usage log).
    pub consumers: Vec<Consumer>,
    /// Those already notified.
    pub notified: Vec<String>,
    /// Those not yet notified.
    pub pending: Vec<String>,
    /// The text requires it (`objections.notify_consumers`).
    pub required: bool,
    /// The article, or what the text lacks.
    pub basis: String,
}

/// The objections of a workspace.
pub struct Desk<'a> {
    ws: &'a Workspace,
    lake: Lake,
    deadlines: Deadlines,
    cal: WorkCalendar,
    tz: Tz,
}

fn usage_err(e: crate::usage::UsageError) -> ObjectionError {
    match e {
        crate::usage::UsageError::Lake(l) => ObjectionError::Lake(l),
        crate::usage::UsageError::Invalid(m) => ObjectionError::Invalid(m),
    }
}

fn err(e: impl std::fmt::Display) -> ObjectionError {
    ObjectionError::Invalid(e.to_string())
}

impl<'a> Desk<'a> {
    /// Opens the workspace's objections.
    pub fn open(ws: &'a Workspace) -> Result<Desk<'a>, ObjectionError> {
        Ok(Desk {
            lake: Lake::open(&ws.config.lake, &ws.dir)?,
            deadlines: Deadlines::of(&ws.profile()?),
            cal: ws.calendar()?,
            tz: ws.tz(),
            ws,
        })
    }

    /// Every objection as of `as_of`, oldest first.
    pub async fn all(&self, as_of: DateTime<Utc>) -> Result<Vec<Objection>, ObjectionError> {
        let events = store::events(&self.lake).await?;
        let mut all = fold_all(&events, as_of, &self.deadlines, &self.cal, self.tz);
        all.sort_by(|a, b| (a.filed, &a.id).cmp(&(b.filed, &b.id)));
        Ok(all)
    }

    /// One objection as of `as_of`.
    pub async fn get(&self, id: &str, as_of: DateTime<Utc>) -> Result<Objection, ObjectionError> {
        let events: Vec<ObjectionEvent> = store::events(&self.lake)
            .await?
            .into_iter()
            .filter(|e| e.objection == id)
            .collect();
        if events.is_empty() {
            return Err(err(format!(
                "no objection `{id}` (see `pdq objection list`)"
            )));
        }
        Objection::fold(&events, as_of, &self.deadlines, &self.cal, self.tz).ok_or_else(|| {
            err(format!(
                "objection {id} was filed after {}",
                as_of.to_rfc3339()
            ))
        })
    }

    fn dataset(&self, id: &str) -> Result<&DatasetDef, ObjectionError> {
        self.ws
            .datasets
            .iter()
            .find(|d| d.id() == id)
            .ok_or_else(|| {
                let known: Vec<String> = self.ws.datasets.iter().map(|d| d.id()).collect();
                err(format!(
                    "unknown dataset `{id}` (datasets: {})",
                    known.join(", ")
                ))
            })
    }

    /// The value of `field` in the row where `column = key` of the
    /// dataset's landed table: `Ok(None)` when no row has that key.
    pub async fn row_value(
        &self,
        def: &DatasetDef,
        (column, key): (&str, &str),
        field: Option<&str>,
    ) -> Result<Option<Option<String>>, ObjectionError> {
        let path = def.data_path();
        let Some(table) = self.lake.open_table(&path).await? else {
            return Err(err(format!(
                "dataset {} has no landed data yet: nothing to object to",
                def.id()
            )));
        };
        let schema = table
            .snapshot()
            .map_err(|e| crate::land::LandError::lake(&path, e))?
            .schema();
        for c in std::iter::once(column).chain(field) {
            if schema.field(c).is_none() {
                let names: Vec<&str> = schema
                    .fields()
                    .map(|f| f.name().as_str())
                    .filter(|n| !n.starts_with('_'))
                    .collect();
                return Err(err(format!(
                    "dataset {} has no column `{c}` (columns: {})",
                    def.id(),
                    names.join(", ")
                )));
            }
        }
        let ident = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
        let sql = format!(
            "SELECT {} AS v FROM d WHERE CAST({} AS VARCHAR) = {} LIMIT 2",
            field.map_or("NULL".to_string(), |f| format!(
                "CAST({} AS VARCHAR)",
                ident(f)
            )),
            ident(column),
            store::literal(key)
        );
        let batches = self.lake.sql(&[("d", &path)], &sql).await?;
        let mut values: Vec<Option<String>> = vec![];
        for b in &batches {
            let col = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)
                .map_err(err)?;
            use arrow::array::{Array, AsArray};
            let col = col.as_string::<i32>();
            for i in 0..col.len() {
                values.push((!col.is_null(i)).then(|| col.value(i).to_string()));
            }
        }
        match values.len() {
            0 => Ok(None),
            1 => Ok(Some(values.pop().flatten())),
            _ => Err(err(format!(
                "{column} = {} matches more than one row of dataset {}: name a column that identifies one row",
                crate::mask::mask(column, key),
                def.id()
            ))),
        }
    }

    /// The responsible department for `field` of dataset `def`: the data
    /// item's authority where the one-source registry names one that is not
    /// the provider itself, else the provider.
    fn responsible(&self, def: &DatasetDef, field: Option<&str>) -> String {
        let provider = def.department.clone();
        // One-source knows a dataset's data items only when the dataset
        // declares its subjects (`[onesource]`): a bare `name` column may be
        // anyone's or anything's name.
        let (Some(field), Some(os)) = (field, def.onesource.as_ref()) else {
            return provider;
        };
        let Ok(profile) = self.ws.profile() else {
            return provider;
        };
        let Ok(registry) =
            crate::onesource::registry::AuthorityRegistry::load(&profile.id, &self.ws.dir)
        else {
            return provider;
        };
        // The dataset's own mapping of attribute → column first.
        let attribute = os
            .attributes
            .iter()
            .find(|(_, c)| c.as_str() == field)
            .map(|(a, _)| a.clone())
            .or_else(|| registry.attribute_for_column(field).map(|a| a.id.clone()));
        match attribute.as_deref().and_then(|a| registry.owner_of(a)) {
            Some(item) if !registry.is_authority(item, &provider) => {
                item.authorities.first().cloned().unwrap_or(provider)
            }
            _ => provider,
        }
    }

    /// An objection as it stands, for an action recorded at `at` (which
    /// must not precede its last event).
    async fn current(&self, id: &str, at: DateTime<Utc>) -> Result<Objection, ObjectionError> {
        let o = self.get(id, Utc::now().max(at)).await?;
        self.check_at(at, Some(&o))?;
        Ok(o)
    }

    fn check_at(&self, at: DateTime<Utc>, after: Option<&Objection>) -> Result<(), ObjectionError> {
        if at > Utc::now() + chrono::Duration::minutes(5) {
            return Err(err(format!(
                "--at {}: an objection's history cannot be recorded in the future",
                at.to_rfc3339()
            )));
        }
        if let Some(o) = after
            && let Some(last) = o.history.last()
            && at < last.at
        {
            return Err(err(format!(
                "--at {}: objection {} was last changed at {}; events are recorded in order",
                at.to_rfc3339(),
                o.id,
                last.at.to_rfc3339()
            )));
        }
        Ok(())
    }

    async fn next_id(&self, at: DateTime<Utc>) -> Result<String, ObjectionError> {
        use chrono::Datelike;
        let year = at.with_timezone(&self.tz).year();
        let prefix = format!("{year}-");
        let n = store::events(&self.lake)
            .await?
            .iter()
            .filter(|e| e.action == Action::Filed)
            .filter_map(|e| e.objection.strip_prefix(&prefix)?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        Ok(format!("{prefix}{:04}", n + 1))
    }

    /// Files an objection; it is checked against the data (the dataset or
    /// entry exists, the row and field are there) and the value objected
    /// to is taken from the data.
    pub async fn file(
        &self,
        f: &Filing,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Objection, ObjectionError> {
        self.check_at(at, None)?;
        if f.what.trim().is_empty() {
            return Err(err("say what is wrong (--what)"));
        }
        let reporter = f
            .reporter
            .ok_or_else(|| err("say who reports (--reporter citizen|department|bureau)"))?;
        if reporter == Reporter::Department {
            let Some(d) = &f.reporter_department else {
                return Err(err(
                    "a department that reports must be named (--reporter-department CODE)",
                ));
            };
            self.known_department(d)?;
        }
        let mut e = ObjectionEvent::new("", 0, at, Action::Filed, actor);
        e.text = Some(f.what.trim().to_string());
        e.reporter = Some(reporter);
        e.reporter_department = f.reporter_department.clone();
        e.contact = f.contact.clone().filter(|c| !c.trim().is_empty());
        e.field = f.field.clone();
        match (&f.dataset, &f.entry) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(err(
                    "name either a dataset (--dataset DEPT.NAME) or a catalog entry (--entry KEY)",
                ));
            }
            (Some(id), None) => {
                let def = self.dataset(id)?;
                if let Some((col, key)) = &f.row {
                    match self.row_value(def, (col, key), f.field.as_deref()).await? {
                        None => {
                            return Err(err(format!(
                                "no row of dataset {id} has {col} = {} (row key not found)",
                                crate::mask::mask(col, key)
                            )));
                        }
                        Some(v) => e.value = v,
                    }
                    e.key_column = Some(col.clone());
                    e.key_value = Some(key.clone());
                } else if f.field.is_some() {
                    return Err(err(
                        "a field is objected to in a row: name the row too (--row COLUMN=VALUE)",
                    ));
                }
                e.dataset = Some(id.clone());
                e.department = Some(self.responsible(def, f.field.as_deref()));
            }
            (None, Some(key)) => {
                if f.row.is_some() {
                    return Err(err("--row applies to a dataset, not a catalog entry"));
                }
                let state = crate::catalog::store::load_state(&self.lake).await?;
                let entry = state.current().find(|c| &c.key == key).ok_or_else(|| {
                    err(format!(
                        "no catalog entry `{key}` in force (see `pdq harvest`)"
                    ))
                })?;
                if let Some(field) = &f.field {
                    if !crate::catalog::model::ENTRY_FIELDS.contains(&field.as_str()) {
                        return Err(err(format!(
                            "catalog entries have no field `{field}` (fields: {})",
                            crate::catalog::model::ENTRY_FIELDS.join(", ")
                        )));
                    }
                    e.value = entry.get(field).map(String::from);
                    // An empty field can be objected to, but a correction can
                    // only be confirmed against a value.
                }
                e.entry = Some(key.clone());
                e.department = Some(entry.department.clone());
            }
        }
        // The id is the next of the year; should another filing take it at
        // the same moment, the next one is taken.
        for _ in 0..5 {
            e.objection = self.next_id(at).await?;
            match store::append(&self.lake, &e).await {
                Ok(()) => return self.get(&e.objection, Utc::now().max(at)).await,
                Err(ObjectionError::Invalid(_)) => continue,
                Err(other) => return Err(other),
            }
        }
        Err(err(
            "could not take an objection id: too many filings at once; try again",
        ))
    }

    fn known_department(&self, d: &str) -> Result<(), ObjectionError> {
        let depts = &self.ws.config.departments;
        let in_datasets = self.ws.datasets.iter().any(|x| x.department == d);
        if depts.contains_key(d) || in_datasets || (depts.is_empty() && self.ws.datasets.is_empty())
        {
            Ok(())
        } else {
            let mut known: Vec<&str> = depts.keys().map(String::as_str).collect();
            known.extend(self.ws.datasets.iter().map(|x| x.department.as_str()));
            known.sort();
            known.dedup();
            Err(err(format!(
                "unknown department `{d}` (departments: {})",
                known.join(", ")
            )))
        }
    }

    async fn record(
        &self,
        o: &Objection,
        mut e: ObjectionEvent,
    ) -> Result<Objection, ObjectionError> {
        e.objection = o.id.clone();
        e.seq = o.history.len() as i64;
        store::append(&self.lake, &e).await?;
        self.get(&o.id, Utc::now().max(e.at)).await
    }

    /// The bureau forwards an objection to the responsible department (or
    /// to `to`, which then becomes responsible).
    pub async fn forward(
        &self,
        id: &str,
        to: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Objection, ObjectionError> {
        let o = self.current(id, at).await?;
        allowed(&o, Action::Forwarded, None)?;
        if let Some(d) = to {
            self.known_department(d)?;
        }
        let mut e = ObjectionEvent::new(id, 0, at, Action::Forwarded, actor);
        e.department = Some(to.unwrap_or(&o.responsible).to_string());
        self.record(&o, e).await
    }

    /// The responsible department answers: upheld, or rejected with the
    /// reason.
    pub async fn answer(
        &self,
        id: &str,
        department: Option<&str>,
        upheld: bool,
        reason: &str,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Objection, ObjectionError> {
        let o = self.current(id, at).await?;
        let action = if upheld {
            Action::Upheld
        } else {
            Action::Rejected
        };
        allowed(&o, action, department)?;
        if !upheld && reason.trim().is_empty() {
            return Err(err(format!(
                "objection {id}: a rejection must say why (--reason)"
            )));
        }
        let mut e = ObjectionEvent::new(id, 0, at, action, actor);
        e.department = department.map(String::from);
        e.text = Some(reason.trim().to_string()).filter(|r| !r.is_empty());
        self.record(&o, e).await
    }

    /// The responsible department says it corrected the data in
    /// `fixed_in` (a delivery or catalog version).
    pub async fn correct(
        &self,
        id: &str,
        department: Option<&str>,
        fixed_in: &str,
        note: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Objection, ObjectionError> {
        let o = self.current(id, at).await?;
        allowed(&o, Action::Corrected, department)?;
        if fixed_in.trim().is_empty() {
            return Err(err(format!(
                "objection {id}: name the delivery or catalog version that corrects it (--fixed-in)"
            )));
        }
        let mut e = ObjectionEvent::new(id, 0, at, Action::Corrected, actor);
        e.department = department.map(String::from);
        e.fixed_in = Some(fixed_in.trim().to_string());
        e.text = note.map(String::from);
        self.record(&o, e).await
    }

    /// What the data says now of a corrected objection: the value found
    /// (`None`: the row or entry is gone, or the field is empty).
    async fn value_now(&self, o: &Objection) -> Result<Option<String>, ObjectionError> {
        match (&o.dataset, &o.entry, &o.row) {
            (Some(id), _, Some((col, key))) => {
                let def = self.dataset(id)?;
                Ok(self
                    .row_value(def, (col, key), o.field.as_deref())
                    .await?
                    .flatten())
            }
            (_, Some(key), _) => {
                let state = crate::catalog::store::load_state(&self.lake).await?;
                Ok(state
                    .current()
                    .find(|c| &c.key == key)
                    .and_then(|c| o.field.as_deref().and_then(|f| c.get(f)))
                    .map(String::from))
            }
            _ => Ok(None),
        }
    }

    /// Checks every corrected objection that names a value against the
    /// data as it is now: confirmed when the value is gone, re-opened
    /// (back to upheld, its correction deadline running on) when it is
    /// still there. Returns what it recorded.
    pub async fn check(
        &self,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<(String, Action)>, ObjectionError> {
        let mut done = vec![];
        for o in self.all(Utc::now().max(at)).await? {
            if let Some(action) = self.check_one(&o, actor, at).await? {
                done.push((o.id.clone(), action));
            }
        }
        Ok(done)
    }

    /// Checks one objection, when it is corrected and names a value: what
    /// it recorded (confirmed or re-opened), `None` when there was nothing
    /// to check.
    async fn check_one(
        &self,
        o: &Objection,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<Action>, ObjectionError> {
        if o.state != State::Corrected || o.value.is_none() {
            return Ok(None);
        }
        let now = self.value_now(o).await?;
        let action = if now == o.value {
            Action::Reopened
        } else {
            Action::Confirmed
        };
        let last = o.history.last().map_or(at, |l| l.at);
        let mut e = ObjectionEvent::new(&o.id, 0, at.max(last), action, actor);
        e.value = now;
        e.text = Some(match action {
            Action::Reopened => "the data still holds the value objected to".into(),
            _ => "the value objected to is no longer in the data".into(),
        });
        self.record(o, e).await?;
        Ok(Some(action))
    }

    /// When the wrong data began to reach consumers: the landing of the
    /// last delivery of the dataset (the catalog version of the entry) at
    /// or before the filing, else the filing itself; and when it stopped:
    /// the last correction, else `as_of`.
    async fn window(&self, o: &Objection, as_of: DateTime<Utc>) -> Result<Window, ObjectionError> {
        let (mut from, mut from_what) = (
            o.filed,
            "the filing (no earlier delivery known)".to_string(),
        );
        if let Some(d) = &o.dataset {
            let landed = crate::land::read_ledger(&self.lake, Some(d))
                .await?
                .into_iter()
                .filter(|r| {
                    r.status == crate::land::DeliveryStatus::Landed && r.started_at <= o.filed
                })
                .max_by_key(|r| r.started_at);
            if let Some(r) = landed {
                from = r.started_at;
                from_what = format!("delivery {} landed", r.delivery);
            }
        } else if let Some(k) = &o.entry {
            let state = crate::catalog::store::load_state(&self.lake).await?;
            if let Some(t) = state
                .entries
                .get(k)
                .and_then(|s| s.updated.iter().filter(|t| **t <= o.filed).max().copied())
            {
                from = t;
                from_what = "the catalog version in force".into();
            }
        }
        let corrected = o
            .history
            .iter()
            .rev()
            .find(|e| e.action == Action::Corrected);
        let (to, to_what) = match corrected {
            Some(e) => (
                e.at,
                format!("the correction ({})", e.fixed_in.as_deref().unwrap_or("")),
            ),
            None => (as_of, "now (not yet corrected)".into()),
        };
        Ok(Window {
            from,
            from_what,
            to,
            to_what,
        })
    }

    /// The departments that received the wrong data of an upheld
    /// objection (the usage log's consumers of the dataset or entry in its
    /// [`Window`]), who of them was notified, and whether the text requires
    /// it.
    pub async fn consumers(
        &self,
        id: &str,
        as_of: DateTime<Utc>,
    ) -> Result<Consumers, ObjectionError> {
        let o = self.get(id, as_of).await?;
        if o.upheld != Some(true) {
            return Err(err(format!(
                "objection {id} is {} ({}): only an upheld objection has wrong data that reached consumers",
                o.state.as_str(),
                o.state.zh()
            )));
        }
        let window = self.window(&o, as_of).await?;
        let state = crate::catalog::store::load_state(&self.lake).await?;
        let subject = o.dataset.clone().or(o.entry.clone()).unwrap_or_default();
        let names = crate::usage::stage::aliases(&state, &subject);
        let rows = crate::usage::store::rows(&self.lake)
            .await
            .map_err(usage_err)?;
        let consumers = crate::usage::stage::consumers_in(&rows, &names, window.from, window.to);
        let profile = self.ws.profile()?;
        let pending = consumers
            .iter()
            .map(|c| c.department.clone())
            .filter(|d| !o.notified.contains(d))
            .collect();
        Ok(Consumers {
            objection: o.id.clone(),
            window,
            consumers,
            notified: o.notified.clone(),
            pending,
            required: profile.objections.notify_consumers,
            basis: format!(
                "{} {}",
                profile.name,
                profile.quote("objections.notify_consumers")
            ),
        })
    }

    /// Records that `consumers` were told of the correction (one
    /// `notified` event each). Each must be a consumer of the wrong data
    /// and not already notified; nothing is recorded when one is refused.
    pub async fn notify(
        &self,
        id: &str,
        consumers: &[String],
        note: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Objection, ObjectionError> {
        let o = self.current(id, at).await?;
        allowed(&o, Action::Notified, None)?;
        if consumers.is_empty() {
            return Err(err(format!(
                "objection {id}: name the consumers notified (--consumer CODE, repeated)"
            )));
        }
        let c = self.consumers(id, Utc::now().max(at)).await?;
        let known: Vec<&str> = c.consumers.iter().map(|c| c.department.as_str()).collect();
        let mut seen: Vec<&str> = vec![];
        for x in consumers {
            if o.notified.contains(x) || seen.contains(&x.as_str()) {
                return Err(err(format!(
                    "objection {id}: `{x}` was already notified of the correction"
                )));
            }
            if !known.contains(&x.as_str()) {
                return Err(err(format!(
                    "objection {id}: `{x}` did not receive the wrong data between {} and {} (consumers in the usage log: {})",
                    c.window
                        .from
                        .with_timezone(&self.tz)
                        .format("%Y-%m-%d %H:%M"),
                    c.window.to.with_timezone(&self.tz).format("%Y-%m-%d %H:%M"),
                    if known.is_empty() {
                        "none".to_string()
                    } else {
                        known.join(", ")
                    }
                )));
            }
            seen.push(x);
        }
        let mut o = o;
        for x in consumers {
            let mut e = ObjectionEvent::new(id, 0, at, Action::Notified, actor);
            e.department = Some(x.clone());
            e.text = note.map(String::from).filter(|n| !n.trim().is_empty());
            o = self.record(&o, e).await?;
        }
        Ok(o)
    }

    /// Closes an objection (a rejected one, or a corrected one once the
    /// data confirms it; `check` runs first). Where the text requires a
    /// correction to reach every consumer, an upheld objection with
    /// consumers not yet notified is not closed.
    pub async fn close(
        &self,
        id: &str,
        note: Option<&str>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Objection, ObjectionError> {
        let o = self.current(id, at).await?;
        if self.check_one(&o, actor, at).await? == Some(Action::Reopened) {
            return Err(err(format!(
                "objection {id} is not closed: the data still holds the value objected to, so it was re-opened (upheld, to be corrected again)"
            )));
        }
        let o = self.get(id, Utc::now().max(at)).await?;
        allowed(&o, Action::Closed, None)?;
        if o.upheld == Some(true) {
            let c = self.consumers(id, Utc::now().max(at)).await?;
            if c.required && !c.pending.is_empty() {
                return Err(err(format!(
                    "objection {id} is not closed: consumers of the wrong data not yet notified of the correction: {} ({}); record it with `pdq objection notify {id} --consumer CODE`",
                    c.pending.join(", "),
                    c.basis
                )));
            }
        }
        let mut e = ObjectionEvent::new(id, 0, at, Action::Closed, actor);
        e.text = note.map(String::from);
        self.record(&o, e).await
    }
}

//! The usage-log stage: importing the platform's exports, listing the log,
//! checking it against the active profile, and answering who used a
//! dataset or catalog entry in a period (the consumers a correction or a
//! withdrawal must reach).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::parse::{self, Format};
use super::store;
use super::{Element, Quarantined, UsageError, UsageFinding, UsageRow};
use crate::catalog::store::CatalogState;
use crate::land::Lake;
use crate::workspace::Workspace;

fn err<T>(message: impl Into<String>) -> Result<T, UsageError> {
    Err(UsageError::Invalid(message.into()))
}

/// What an import did. `read` = `landed` + `duplicates` + `quarantined` +
/// `expired`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The file.
    pub file: String,
    /// Its content hash.
    pub import: String,
    /// `csv` or `jsonl`.
    pub format: String,
    /// The file was imported before: nothing was added.
    pub unchanged: bool,
    /// Records read.
    pub read: usize,
    /// Rows added to the log.
    pub landed: usize,
    /// Rows already in the log (the same use in an earlier export, or
    /// twice in this one): not added again.
    pub duplicates: usize,
    /// Rows used before the horizon of the last `pdq usage prune`: past
    /// the retention, not landed (a prune is not undone by importing the
    /// old export again).
    pub expired: usize,
    /// Rows quarantined, each with its line, column and reason (the row
    /// as written stays in the lake: it may hold an operator's name).
    pub quarantined: Vec<QuarantineNote>,
    /// Of the rows read into the log, those lacking an element the
    /// profile's log article requires (landed, and a finding of `pdq usage
    /// check`).
    pub incomplete: usize,
    /// The elements the profile requires, and its article.
    pub required: Vec<String>,
    /// Headers or keys no element names (ignored).
    pub unmapped: Vec<String>,
}

/// A quarantined row as reported: where and why, not what it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantineNote {
    /// Its line.
    pub line: i64,
    /// The column.
    pub column: String,
    /// What was wrong and what was expected (file, line and column too).
    pub reason: String,
}

impl From<&Quarantined> for QuarantineNote {
    fn from(q: &Quarantined) -> QuarantineNote {
        QuarantineNote {
            line: q.line,
            column: q.column.clone(),
            reason: q.reason.clone(),
        }
    }
}

/// The names a dataset or catalog entry goes by in a usage log: the
/// dataset's id, and for a catalog entry its key and resource code; a
/// dataset mounted on entries (挂接) goes by theirs too, and an entry by
/// its mounted dataset's.
pub fn aliases(state: &CatalogState, subject: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::from([subject.to_string()]);
    for s in state.entries.values() {
        let e = &s.entry;
        let names: Vec<&str> = std::iter::once(e.key.as_str())
            .chain(e.resource_code.as_deref())
            .chain(e.dataset.as_deref())
            .collect();
        if names.contains(&subject) {
            out.extend(names.into_iter().map(String::from));
        }
    }
    out
}

/// Whether `name` is a dataset or a catalog entry (key or resource code,
/// withdrawn ones included) of the workspace.
fn known(ws: &Workspace, state: &CatalogState, name: &str) -> bool {
    ws.datasets.iter().any(|d| d.id() == name)
        || state
            .entries
            .values()
            .any(|s| s.entry.key == name || s.entry.resource_code.as_deref() == Some(name))
}

/// The profile's required elements.
pub fn required(ws: &Workspace) -> Result<Vec<Element>, UsageError> {
    let p = ws.profile()?;
    p.usage_log
        .required
        .iter()
        .map(|k| {
            Element::parse(k)
                .map_err(|e| UsageError::Invalid(format!("profile {}: [usage_log] {e}", p.id)))
        })
        .collect()
}

/// Imports a platform export into the log (see the module's docs).
pub async fn import(
    ws: &Workspace,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<ImportReport, UsageError> {
    let bytes =
        std::fs::read(path).map_err(|e| UsageError::Invalid(format!("{}: {e}", path.display())))?;
    // Named as the workspace sees it: the stored rows and messages do not
    // depend on where the workspace lies.
    let file = path
        .strip_prefix(&ws.dir)
        .unwrap_or(path)
        .display()
        .to_string();
    let export = parse::read(&bytes, &file)?;
    let import = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&bytes))
    };
    let lake = Lake::open(&ws.config.lake, &ws.dir)?;
    let required = required(ws)?;
    let mut report = ImportReport {
        file: file.clone(),
        import: import.clone(),
        format: export.format.as_str().into(),
        unchanged: false,
        read: export.records.len(),
        landed: 0,
        duplicates: 0,
        expired: 0,
        quarantined: vec![],
        incomplete: 0,
        required: required.iter().map(|e| e.key().to_string()).collect(),
        unmapped: export.unmapped.clone(),
    };
    if export.format == Format::JsonLines && export.records.is_empty() {
        return err(format!(
            "{file}: no record; expected one JSON object per line"
        ));
    }
    if store::imported(&lake, &import).await? {
        report.unchanged = true;
        report.duplicates = report.read;
        return Ok(report);
    }
    let state = crate::catalog::store::load_state(&lake).await?;
    let tz = ws.tz();
    let is_known = |name: &str| known(ws, &state, name);
    let mut rows = vec![];
    let mut quarantined = vec![];
    for r in &export.records {
        match parse::classify(r, &import, &file, now, tz, &is_known) {
            Ok(row) => rows.push(row),
            Err(q) => quarantined.push(*q),
        }
    }
    if let Some(cutoff) = super::prune::pruned_before(&lake).await? {
        let before = rows.len();
        rows.retain(|r| r.at >= cutoff);
        report.expired = before - rows.len();
    }
    report.quarantined = quarantined.iter().map(QuarantineNote::from).collect();
    report.incomplete = rows
        .iter()
        .filter(|r| !r.missing(&required).is_empty())
        .count();
    let added = store::append(&lake, &import, &rows, &quarantined).await?;
    report.landed = added.len();
    report.duplicates = rows.len() - added.len();
    tracing::info!(
        file = %file,
        read = report.read,
        landed = report.landed,
        duplicates = report.duplicates,
        expired = report.expired,
        quarantined = report.quarantined.len(),
        "usage log imported"
    );
    Ok(report)
}

/// Which rows `pdq usage list` shows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Of this dataset or catalog entry (any of its names).
    pub dataset: Option<String>,
    /// Of this consumer.
    pub consumer: Option<String>,
    /// Used on or after this day.
    pub since: Option<NaiveDate>,
}

/// The log's rows matching `filter`, oldest first (unmasked: callers
/// show [`UsageRow::masked`]). An unknown dataset is an error.
pub async fn list(ws: &Workspace, filter: &Filter) -> Result<Vec<UsageRow>, UsageError> {
    let lake = Lake::open(&ws.config.lake, &ws.dir)?;
    let state = crate::catalog::store::load_state(&lake).await?;
    let names = match &filter.dataset {
        Some(d) if !known(ws, &state, d) => {
            return err(format!(
                "unknown dataset or catalog entry `{d}`; expected DEPT.NAME, an entry's key or its resource code"
            ));
        }
        Some(d) => Some(aliases(&state, d)),
        None => None,
    };
    let tz = ws.tz();
    Ok(store::rows(&lake)
        .await?
        .into_iter()
        .filter(|r| names.as_ref().is_none_or(|n| n.contains(&r.resource)))
        .filter(|r| filter.consumer.as_ref().is_none_or(|c| &r.consumer == c))
        .filter(|r| {
            filter
                .since
                .is_none_or(|s| r.at.with_timezone(&tz).date_naive() >= s)
        })
        .collect())
}

/// One consumer of a dataset or entry in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Consumer {
    /// The department.
    pub department: String,
    /// Its first use in the period.
    pub first: DateTime<Utc>,
    /// Its last.
    pub last: DateTime<Utc>,
    /// How many uses.
    pub uses: usize,
}

/// The departments that used any of `names` from `from` to `to`
/// (inclusive), by department.
pub fn consumers_in(
    rows: &[UsageRow],
    names: &BTreeSet<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Consumer> {
    let mut by: BTreeMap<&str, Consumer> = BTreeMap::new();
    for r in rows {
        if !names.contains(&r.resource) || r.at < from || r.at > to {
            continue;
        }
        let c = by.entry(&r.consumer).or_insert_with(|| Consumer {
            department: r.consumer.clone(),
            first: r.at,
            last: r.at,
            uses: 0,
        });
        c.first = c.first.min(r.at);
        c.last = c.last.max(r.at);
        c.uses += 1;
    }
    by.into_values().collect()
}

/// The findings on the log as of `today`: rows lacking what the profile's
/// article requires, and a log that does not reach back as far as the
/// retention says (see [`super::retention`]).
pub async fn check(ws: &Workspace, today: NaiveDate) -> Result<Vec<UsageFinding>, UsageError> {
    let lake = Lake::open(&ws.config.lake, &ws.dir)?;
    let profile = ws.profile()?;
    let rows = store::rows(&lake).await?;
    let required = required(ws)?;
    let mut out = super::incomplete(
        &rows,
        &required,
        &format!("{} {}", profile.name, profile.quote("usage_log.required")),
    );
    let since = crate::run::runs(&lake)
        .await?
        .iter()
        .map(|r| r.started.at)
        .min();
    // A prune removed rows before its cutoff: the log reached back that
    // far (the retention is kept, not broken, by pruning past it).
    let pruned = super::prune::pruned_before(&lake).await?;
    out.extend(super::retention(
        rows.iter().map(|r| r.at).chain(pruned).min(),
        since,
        profile.log_retention_years,
        &format!("{} {}", profile.name, profile.quote("log_retention_years")),
        today,
        ws.tz(),
    ));
    Ok(out)
}

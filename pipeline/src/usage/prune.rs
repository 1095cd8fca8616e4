//! Pruning the usage log past the active profile's retention (`pdq usage
//! prune`, issue #21, 5): the texts keep logs *at least* so many years
//! (新疆 第十五条, 西藏 第十九条: 不得少于三年), so a row may go only once it
//! is older than that, never a row inside the period.
//!
//! ```text
//! as-of day ─ years ─▶ horizon (a day; its local midnight is the cutoff)
//! _pdq/usage_log rows:  at < cutoff ─▶ pruned      at ≥ cutoff ─▶ kept
//! 1. _pdq/usage_prunes ◀─ the record (horizon, article, counts)   one commit
//! 2. _pdq/usage_log    ◀─ delete at < cutoff                      one commit
//! ```
//!
//! The record is written first: a crash between the two leaves the old
//! rows readable and a record saying the log reached back past the
//! horizon (true: the rows are still there), and running again deletes
//! them (the record is written once per horizon). The delete is a single
//! commit of the table, so the table is never half pruned. The record
//! keeps [`super::retention`] honest (the log reached back to the horizon
//! before it was pruned) and keeps an import from bringing pruned rows
//! back ([`pruned_before`]).
//!
//! A text that sets no retention (兵团, 甘孜, 吴忠) gives no horizon: the
//! prune is refused and nothing changes.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::Serialize;

use super::{UsageError, store};
use crate::land::Lake;
use crate::profile::Source;
use crate::workspace::Workspace;

pub use super::store::PruneRecord;

/// What a prune did (or, dry, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PruneReport {
    /// The active profile.
    pub profile: String,
    /// The as-of day.
    pub as_of: NaiveDate,
    /// The retention in years.
    pub years: u32,
    /// The horizon: rows used before this day go, rows on or after it stay.
    pub horizon: NaiveDate,
    /// The article(s) setting the retention (第十五条 …).
    pub article: String,
    /// The profile, article and the text's words.
    pub cites: String,
    /// Nothing was changed: this is what would go.
    pub dry_run: bool,
    /// Rows kept (inside the retention).
    pub kept: usize,
    /// Rows removed (or, dry, to remove).
    pub pruned: usize,
    /// Of those, per consuming department.
    pub pruned_by_consumer: BTreeMap<String, usize>,
    /// The oldest and newest use among them.
    pub oldest_pruned: Option<DateTime<Utc>>,
    /// The newest.
    pub newest_pruned: Option<DateTime<Utc>>,
}

/// The horizon of a retention of `years` as of `today`: rows used before
/// this day are past it (the same day [`super::retention`] checks the log
/// reaches back to).
pub fn horizon(today: NaiveDate, years: u32) -> Option<NaiveDate> {
    today.checked_sub_months(chrono::Months::new(12 * years))
}

/// A day's local midnight in UTC.
fn midnight(day: NaiveDate, tz: chrono_tz::Tz) -> Result<DateTime<Utc>, UsageError> {
    tz.from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| UsageError::Invalid(format!("{day} has no midnight in {tz}")))
}

/// Removes the log's rows used before the horizon the active profile's
/// retention sets as of `today` (see the module's docs); with `dry_run`,
/// only says what would go. A profile whose text sets no retention is
/// refused, and nothing changes.
pub async fn prune(
    ws: &Workspace,
    today: NaiveDate,
    dry_run: bool,
    now: DateTime<Utc>,
) -> Result<PruneReport, UsageError> {
    let profile = ws.profile()?;
    let Some(years) = profile.log_retention_years else {
        return Err(UsageError::Invalid(format!(
            "profile {} ({}): 条文未规定使用日志保存期限 the text sets no retention for usage logs, so nothing is past it; nothing pruned",
            profile.id, profile.name
        )));
    };
    let article = match profile.source("log_retention_years") {
        Some(Source::Cited(c)) => c
            .iter()
            .map(|c| c.article.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        _ => String::new(),
    };
    let cites = format!("{} {}", profile.name, profile.quote("log_retention_years"));
    let horizon = horizon(today, years).ok_or_else(|| {
        UsageError::Invalid(format!("{today}: no day lies {years} years before it"))
    })?;
    let tz = ws.tz();
    let cutoff = midnight(horizon, tz)?;
    let lake = Lake::open(&ws.config.lake, &ws.dir)?;
    let rows = store::rows(&lake).await?;
    let (old, kept): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.at < cutoff);
    let mut by_consumer = BTreeMap::new();
    for r in &old {
        *by_consumer.entry(r.consumer.clone()).or_insert(0) += 1;
    }
    let report = PruneReport {
        profile: profile.id.clone(),
        as_of: today,
        years,
        horizon,
        article,
        cites: cites.clone(),
        dry_run,
        kept: kept.len(),
        pruned: old.len(),
        pruned_by_consumer: by_consumer,
        oldest_pruned: old.iter().map(|r| r.at).min(),
        newest_pruned: old.iter().map(|r| r.at).max(),
    };
    if dry_run || old.is_empty() {
        return Ok(report);
    }
    store::record_prune(
        &lake,
        &PruneRecord {
            horizon,
            cutoff,
            as_of: today,
            years: i64::from(years),
            cites,
            pruned: old.len() as i64,
            kept: kept.len() as i64,
            recorded_at: now,
        },
    )
    .await?;
    store::delete_before(&lake, cutoff).await?;
    tracing::info!(
        horizon = %horizon,
        pruned = report.pruned,
        kept = report.kept,
        "usage log pruned"
    );
    Ok(report)
}

/// The latest cutoff a prune removed rows before (`None`: never pruned):
/// the log reached back to it, and rows older than it are past the
/// retention and are not imported again.
pub async fn pruned_before(lake: &Lake) -> Result<Option<DateTime<Utc>>, UsageError> {
    Ok(store::prunes(lake).await?.iter().map(|p| p.cutoff).max())
}

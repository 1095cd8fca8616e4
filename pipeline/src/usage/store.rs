//! `_pdq/usage_log` and `_pdq/usage_quarantine`: the usage log's rows and
//! the rows that could not be landed, append-only. An import commits once
//! per file (transaction id `usage:<file hash>` and
//! `usage-quarantine:<file hash>`), and a row whose content is already
//! stored is not stored again, so re-importing a file, or an export that
//! repeats rows of an earlier one, adds nothing twice.
//!
//! The one exception to append-only is `pdq usage prune` ([`super::prune`]):
//! rows past the profile's retention are deleted in one commit of the
//! table, after the prune is recorded in `_pdq/usage_prunes`.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{Quarantined, UsageError, UsageRow};
use crate::land::Lake;

/// The log's table.
pub const USAGE_LOG: &str = crate::tables::USAGE_LOG.path;
/// The quarantine's table.
pub const USAGE_QUARANTINE: &str = crate::tables::USAGE_QUARANTINE.path;
/// The prunes' table.
pub const USAGE_PRUNES: &str = crate::tables::USAGE_PRUNES.path;

fn ts(n: &str) -> Field {
    Field::new(
        n,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        true,
    )
}

fn log_schema() -> SchemaRef {
    let t = |n: &str| Field::new(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        t("hash"),
        t("import"),
        t("file"),
        Field::new("line", DataType::Int64, true),
        ts("at"),
        t("consumer"),
        t("resource"),
        t("purpose"),
        t("operator"),
        t("scenario"),
        t("outcome"),
        t("process"),
        t("quantity"),
        t("interface"),
        t("storage"),
        t("disposal"),
        ts("imported_at"),
    ]))
}

fn quarantine_schema() -> SchemaRef {
    let t = |n: &str| Field::new(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        t("import"),
        t("file"),
        Field::new("line", DataType::Int64, true),
        t("column"),
        t("reason"),
        t("raw"),
        ts("imported_at"),
    ]))
}

/// One prune as stored (`_pdq/usage_prunes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruneRecord {
    /// The horizon: rows used before this day (local time) went.
    pub horizon: NaiveDate,
    /// Its local midnight, in UTC: rows before it went.
    pub cutoff: DateTime<Utc>,
    /// The as-of day the horizon was counted back from.
    pub as_of: NaiveDate,
    /// The retention in years, as the profile sets it.
    pub years: i64,
    /// The profile and article cited.
    pub cites: String,
    /// Rows removed.
    pub pruned: i64,
    /// Rows kept.
    pub kept: i64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
}

fn prune_schema() -> SchemaRef {
    let t = |n: &str| Field::new(n, DataType::Utf8, true);
    let i = |n: &str| Field::new(n, DataType::Int64, true);
    Arc::new(Schema::new(vec![
        t("horizon"),
        ts("cutoff"),
        t("as_of"),
        i("years"),
        t("cites"),
        i("pruned"),
        i("kept"),
        ts("recorded_at"),
    ]))
}

/// Every stored row, oldest use first.
pub async fn rows(lake: &Lake) -> Result<Vec<UsageRow>, UsageError> {
    Ok(lake.read_records(USAGE_LOG, None, "at, hash").await?)
}

/// Every quarantined row, by import and line.
pub async fn quarantined(lake: &Lake) -> Result<Vec<Quarantined>, UsageError> {
    Ok(lake
        .read_records(USAGE_QUARANTINE, None, "imported_at, import, line")
        .await?)
}

/// Whether the file with this hash was imported before.
pub async fn imported(lake: &Lake, import: &str) -> Result<bool, UsageError> {
    let cond = format!("import = '{}'", import.replace('\'', "''"));
    let landed: Vec<UsageRow> = lake.read_records(USAGE_LOG, Some(&cond), "line").await?;
    if !landed.is_empty() {
        return Ok(true);
    }
    let q: Vec<Quarantined> = lake
        .read_records(USAGE_QUARANTINE, Some(&cond), "line")
        .await?;
    Ok(!q.is_empty())
}

/// Appends an import's rows (those not already stored, by content hash)
/// and its quarantined rows; returns the rows added.
pub async fn append(
    lake: &Lake,
    import: &str,
    rows: &[UsageRow],
    quarantined: &[Quarantined],
) -> Result<Vec<UsageRow>, UsageError> {
    let stored: BTreeSet<String> = self::rows(lake)
        .await?
        .into_iter()
        .map(|r| r.hash)
        .collect();
    let mut seen = BTreeSet::new();
    let new: Vec<UsageRow> = rows
        .iter()
        .filter(|r| !stored.contains(&r.hash) && seen.insert(r.hash.clone()))
        .cloned()
        .collect();
    // The table keeps microseconds.
    let micros = |t: chrono::DateTime<chrono::Utc>| {
        chrono::DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
    };
    let new: Vec<UsageRow> = new
        .into_iter()
        .map(|mut r| {
            r.at = micros(r.at);
            r.imported_at = micros(r.imported_at);
            r
        })
        .collect();
    lake.append_records(
        USAGE_LOG,
        &log_schema(),
        &new,
        Some(&format!("usage:{import}")),
    )
    .await?;
    lake.append_records(
        USAGE_QUARANTINE,
        &quarantine_schema(),
        quarantined,
        Some(&format!("usage-quarantine:{import}")),
    )
    .await?;
    Ok(new)
}

/// Every prune recorded, oldest first.
pub async fn prunes(lake: &Lake) -> Result<Vec<PruneRecord>, UsageError> {
    Ok(lake
        .read_records(USAGE_PRUNES, None, "recorded_at, horizon")
        .await?)
}

/// Records a prune, once per horizon (a prune run again after a crash
/// between its record and its delete records nothing twice).
pub async fn record_prune(lake: &Lake, record: &PruneRecord) -> Result<(), UsageError> {
    lake.append_records(
        USAGE_PRUNES,
        &prune_schema(),
        std::slice::from_ref(record),
        Some(&format!("usage-prune:{}", record.horizon)),
    )
    .await?;
    Ok(())
}

/// Deletes the rows used before `cutoff`, in one commit of the table.
pub async fn delete_before(lake: &Lake, cutoff: DateTime<Utc>) -> Result<(), UsageError> {
    use datafusion::prelude::{col, lit};
    use datafusion::scalar::ScalarValue;
    let at = ScalarValue::TimestampMicrosecond(Some(cutoff.timestamp_micros()), Some("UTC".into()));
    lake.delete_where(USAGE_LOG, col("at").lt(lit(at))).await?;
    Ok(())
}

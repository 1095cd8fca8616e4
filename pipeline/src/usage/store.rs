//! `_pdq/usage_log` and `_pdq/usage_quarantine`: the usage log's rows and
//! the rows that could not be landed, append-only. An import commits once
//! per file (transaction id `usage:<file hash>` and
//! `usage-quarantine:<file hash>`), and a row whose content is already
//! stored is not stored again, so re-importing a file, or an export that
//! repeats rows of an earlier one, adds nothing twice.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::{Quarantined, UsageError, UsageRow};
use crate::land::Lake;

/// The log's table.
pub const USAGE_LOG: &str = crate::tables::USAGE_LOG.path;
/// The quarantine's table.
pub const USAGE_QUARANTINE: &str = crate::tables::USAGE_QUARANTINE.path;

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

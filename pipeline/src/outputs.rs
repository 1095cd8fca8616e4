//! What a stage publishes from one run, kept in the stage's own lake table
//! as a JSON document (one per run and subject: a dataset, or the run
//! itself), so that publishing reads the lake alone and a publication can
//! be rebuilt byte for byte (`pdq publish`).
//!
//! The check stage keeps its reports here ([`crate::tables::CHECK_REPORTS`]),
//! the catalog its assessment and one-source its report; each stage owns
//! its table and gives a typed reader over these rows.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::land::{Lake, LandError};
use crate::score::store::quoted;

/// One stage output of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageOutput {
    /// The run.
    pub run_id: String,
    /// Its as-of time.
    pub as_of: DateTime<Utc>,
    /// What it is about: a dataset's id, or empty for the whole run.
    pub subject: String,
    /// The document (JSON), exactly as published.
    pub document: String,
}

fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new(
            "as_of",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("subject", DataType::Utf8, false),
        Field::new("document", DataType::Utf8, false),
    ]))
}

/// Records a run's outputs in `table` (once per run: a repeat writes
/// nothing).
pub async fn record(lake: &Lake, table: &str, outputs: &[StageOutput]) -> Result<(), LandError> {
    let Some(first) = outputs.first() else {
        return Ok(());
    };
    lake.append_records(
        table,
        &schema(),
        outputs,
        Some(&format!("{table}-{}", first.run_id)),
    )
    .await
    .map(|_| ())
}

/// For each subject, its output from the latest run up to `run_id`
/// (runs are ordered by id, which begins with their start time), by
/// subject.
pub async fn latest(lake: &Lake, table: &str, run_id: &str) -> Result<Vec<StageOutput>, LandError> {
    let upto = quoted(run_id);
    lake.read_records(
        table,
        Some(&format!(
            "run_id = (SELECT max(u.run_id) FROM t u WHERE u.subject = t.subject AND u.run_id <= {upto})"
        )),
        "subject",
    )
    .await
}

/// Parses a stored document.
pub fn parse<T: serde::de::DeserializeOwned>(table: &str, o: &StageOutput) -> Result<T, LandError> {
    serde_json::from_str(&o.document)
        .map_err(|e| LandError::lake(table, format!("run {} {}: {e}", o.run_id, o.subject)))
}

//! The score stage's tables, with their schemas, writers and typed readers:
//!
//! - `_pdq/rule_results`: every rule count of every run, the one input of
//!   scoring (landing, checking and one-source each contribute theirs, and
//!   the sweep records them once per run);
//! - `_pdq/scorecards`: every run's scorecards (the whole card as JSON,
//!   its key fields as columns).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{RuleCount, RunScores, Scorecard};
use crate::land::{Lake, LandError};

/// Rule counts per run: what every score is computed from.
pub const RULE_RESULTS: &str = crate::tables::RULE_RESULTS.path;
/// Scorecards per run.
pub const SCORECARDS: &str = crate::tables::SCORECARDS.path;

fn utc(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        true,
    )
}

/// The schema of [`RULE_RESULTS`].
pub fn rule_count_schema() -> SchemaRef {
    let t = |n: &str| Field::new(n, DataType::Utf8, true);
    let i = |n: &str| Field::new(n, DataType::Int64, true);
    Arc::new(Schema::new(vec![
        t("run_id"),
        utc("as_of"),
        t("dataset"),
        t("department"),
        t("rule"),
        t("dimension"),
        t("check"),
        i("evaluated"),
        i("failed"),
        t("status"),
        t("rules_version"),
        i("table_version"),
    ]))
}

/// A text (a run id, a dataset, a rule) as a quoted SQL literal: the one
/// place a lake filter escapes what it compares with.
pub(crate) fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Records a run's counts (once: a re-run of the same run writes nothing)
/// and returns the table version that holds them, which an evaluation pins.
pub async fn record_counts(
    lake: &Lake,
    run_id: &str,
    counts: &[RuleCount],
) -> Result<i64, LandError> {
    lake.append_records(
        RULE_RESULTS,
        &rule_count_schema(),
        counts,
        Some(&format!("results-{run_id}")),
    )
    .await
}

/// Every stored count, in run order.
pub async fn counts(lake: &Lake) -> Result<Vec<RuleCount>, LandError> {
    lake.read_records(RULE_RESULTS, None, "as_of, run_id, dataset, rule")
        .await
}

/// The counts of one run.
pub async fn counts_of_run(lake: &Lake, run_id: &str) -> Result<Vec<RuleCount>, LandError> {
    lake.read_records(
        RULE_RESULTS,
        Some(&format!("run_id = {}", quoted(run_id))),
        "dataset, rule",
    )
    .await
}

/// A scorecard as stored (the whole card as JSON, key fields as columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCard {
    /// The run.
    pub run_id: String,
    /// Its as-of time.
    pub as_of: DateTime<Utc>,
    /// `dataset` or `department`.
    pub scope: String,
    /// Its id.
    pub id: String,
    /// The department.
    pub department: String,
    /// Score.
    pub score: Option<f64>,
    /// Grade.
    pub grade: Option<String>,
    /// The whole scorecard (JSON).
    pub card: String,
}

impl StoredCard {
    fn schema() -> SchemaRef {
        let t = |n: &str| Field::new(n, DataType::Utf8, true);
        Arc::new(Schema::new(vec![
            t("run_id"),
            utc("as_of"),
            t("scope"),
            t("id"),
            t("department"),
            Field::new("score", DataType::Float64, true),
            t("grade"),
            t("card"),
        ]))
    }

    /// The row of a scorecard.
    pub fn of(c: &Scorecard) -> Result<StoredCard, serde_json::Error> {
        Ok(StoredCard {
            run_id: c.run_id.clone(),
            as_of: c.as_of,
            scope: c.scope.clone(),
            id: c.id.clone(),
            department: c.department.clone(),
            score: c.score,
            grade: c.grade.clone(),
            card: serde_json::to_string(c)?,
        })
    }

    /// The scorecard it holds.
    pub fn card(&self) -> Result<Scorecard, LandError> {
        serde_json::from_str(&self.card).map_err(|e| {
            LandError::lake(
                SCORECARDS,
                format!("run {} {} {}: {e}", self.run_id, self.scope, self.id),
            )
        })
    }
}

/// Records a run's scorecards (once).
pub async fn record_cards(lake: &Lake, scores: &RunScores) -> Result<(), LandError> {
    let rows = scores
        .datasets
        .iter()
        .chain(&scores.departments)
        .map(StoredCard::of)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LandError::lake(SCORECARDS, e.to_string()))?;
    lake.append_records(
        SCORECARDS,
        &StoredCard::schema(),
        &rows,
        Some(&format!("scorecards-{}", scores.run_id)),
    )
    .await
    .map(|_| ())
}

/// The scorecards run `run_id` stored, by (scope, id): what the sweep saw
/// of the things that change after it (objections, with an earlier `--at`
/// recorded later; usage-log imports), which publishing the run again
/// shows unchanged.
pub async fn stored_cards(
    lake: &Lake,
    run_id: &str,
) -> Result<std::collections::BTreeMap<(String, String), Scorecard>, LandError> {
    let rows: Vec<StoredCard> = lake
        .read_records(
            SCORECARDS,
            Some(&format!("run_id = {}", quoted(run_id))),
            "scope, id",
        )
        .await?;
    rows.iter()
        .map(|r| Ok(((r.scope.clone(), r.id.clone()), r.card()?)))
        .collect()
}

/// Every department's stored scorecards, in run order (the trend).
pub async fn department_history(lake: &Lake) -> Result<Vec<StoredCard>, LandError> {
    lake.read_records(
        SCORECARDS,
        Some("scope = 'department'"),
        "as_of, run_id, id",
    )
    .await
}

/// Whether run `run_id` stored scorecards.
pub async fn has_scorecards(lake: &Lake, run_id: &str) -> Result<bool, LandError> {
    #[derive(Deserialize)]
    struct Id {
        #[allow(dead_code)]
        id: String,
    }
    let rows: Vec<Id> = lake
        .read_records(
            SCORECARDS,
            Some(&format!(
                "run_id = {} AND scope = 'department'",
                quoted(run_id)
            )),
            "id",
        )
        .await?;
    Ok(!rows.is_empty())
}

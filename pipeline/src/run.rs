//! The run ledger, in the lake: every run (`_pdq/runs`, a `started` and a
//! `finished` event each) and every step of it (`_pdq/run_steps`: stage,
//! dataset, inputs, outputs, rows, timing, error).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::land::{Lake, LandError};
use crate::score::store::quoted;

/// Table of run events.
pub const RUNS: &str = crate::tables::RUNS.path;
/// Table of steps.
pub const STEPS: &str = crate::tables::RUN_STEPS.path;

fn ts(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        true,
    )
}
fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}
fn int(name: &str) -> Field {
    Field::new(name, DataType::Int64, true)
}

/// A run's start or end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunEvent {
    /// The run.
    pub run_id: String,
    /// `sweep`.
    pub kind: String,
    /// `manual`, `schedule` or `catch-up`.
    pub trigger: String,
    /// The schedule slot it stands for (scheduled and catch-up runs).
    pub scheduled_for: Option<DateTime<Utc>>,
    /// The as-of time its checks were judged at.
    pub as_of: DateTime<Utc>,
    /// `started` or `finished`.
    pub event: String,
    /// `running`, `completed` (even with failed datasets), `cancelled`,
    /// `failed`, or `interrupted` (its process ended without finishing —
    /// killed or crashed — as a later sweep found).
    pub status: String,
    /// When the event happened.
    pub at: DateTime<Utc>,
    /// Datasets whose every step succeeded.
    pub datasets_ok: i64,
    /// Datasets with a failed step.
    pub datasets_failed: i64,
    /// Why the run failed.
    pub error: Option<String>,
    /// The version of `_pdq/rule_results` that holds this run's counts
    /// (what an evaluation pins).
    #[serde(default)]
    pub results_version: Option<i64>,
}

impl RunEvent {
    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            text("run_id"),
            text("kind"),
            text("trigger"),
            ts("scheduled_for"),
            ts("as_of"),
            text("event"),
            text("status"),
            ts("at"),
            int("datasets_ok"),
            int("datasets_failed"),
            text("error"),
            int("results_version"),
        ]))
    }
}

/// One step of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The run.
    pub run_id: String,
    /// `land`, `check`, `publish`.
    pub stage: String,
    /// `department.dataset` (empty for run-wide steps).
    pub dataset: String,
    /// `ok`, `failed`, `locked` (another sweep had it), `cancelled`, `skipped`.
    pub status: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub seconds: f64,
    /// What it read (JSON: table versions, delivery hashes, rule versions).
    pub inputs: String,
    /// What it wrote (JSON: table versions, result files).
    pub outputs: String,
    /// Rows handled.
    pub rows: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
}

impl Step {
    /// A step of `run_id` that starts now: `ok` until told otherwise.
    /// `dataset` is empty for a run-wide step (harvest, score, publish).
    pub fn start(run_id: &str, stage: &str, dataset: &str) -> Step {
        Step {
            run_id: run_id.to_string(),
            stage: stage.into(),
            dataset: dataset.into(),
            status: "ok".into(),
            started_at: Utc::now(),
            seconds: 0.0,
            inputs: "{}".into(),
            outputs: "{}".into(),
            rows: None,
            error: None,
        }
    }

    /// Sets its status and the reason.
    pub fn set(&mut self, status: &str, error: impl Into<String>) {
        self.status = status.into();
        self.error = Some(error.into());
    }

    /// Marks it failed, with why.
    pub fn fail(&mut self, error: impl Into<String>) {
        self.set("failed", error);
    }

    /// Stops its clock (wall time since [`Step::start`]) and logs it.
    pub fn finish(mut self) -> Step {
        self.seconds = (Utc::now() - self.started_at)
            .to_std()
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        tracing::info!(stage = %self.stage, dataset = %self.dataset, status = %self.status,
            rows = ?self.rows, seconds = self.seconds, error = ?self.error, "step");
        self
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            text("run_id"),
            text("stage"),
            text("dataset"),
            text("status"),
            ts("started_at"),
            Field::new("seconds", DataType::Float64, true),
            text("inputs"),
            text("outputs"),
            int("rows"),
            text("error"),
        ]))
    }
}

/// A run id: the start time to the millisecond and a random-enough suffix.
/// Ids sort in start order (two sweeps started in the same second too: the
/// newer run's publication is the current one, and a run waits for the runs
/// started before it, both decided by this order).
pub fn new_id(now: DateTime<Utc>) -> String {
    use sha2::Digest;
    let salt = sha2::Sha256::digest(format!(
        "{}-{}",
        std::process::id(),
        now.timestamp_nanos_opt().unwrap_or(0)
    ));
    format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%S%3fZ"),
        &hex::encode(salt)[..6]
    )
}

/// Records a run event.
pub async fn record_event(lake: &Lake, e: &RunEvent) -> Result<(), LandError> {
    let once = format!("run-{}-{}", e.run_id, e.event);
    lake.append_records(
        RUNS,
        &RunEvent::schema(),
        std::slice::from_ref(e),
        Some(&once),
    )
    .await
    .map(|_| ())
}

/// Closes `run`, whose process ended without recording its end (kill -9,
/// a crash, a power cut), as `interrupted`: found by run `by` at `at`. What
/// it committed stands; what it did not is done again by later sweeps.
pub async fn record_interrupted(
    lake: &Lake,
    run: &Run,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), LandError> {
    let e = RunEvent {
        event: "finished".into(),
        status: "interrupted".into(),
        at,
        datasets_ok: 0,
        datasets_failed: 0,
        error: Some(format!(
            "its process ended without finishing (killed or crashed); found by run {by}"
        )),
        results_version: None,
        ..run.started.clone()
    };
    record_event(lake, &e).await
}

/// Records a run's steps (one commit).
pub async fn record_steps(lake: &Lake, run_id: &str, steps: &[Step]) -> Result<(), LandError> {
    let once = format!("steps-{run_id}");
    lake.append_records(STEPS, &Step::schema(), steps, Some(&once))
        .await
        .map(|_| ())
}

/// A run as the ledger knows it: its start and, if it ended, its end.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The start event.
    pub started: RunEvent,
    /// The end event, if any (none: still running, or the process died).
    pub finished: Option<RunEvent>,
}

/// Every run, oldest first.
pub async fn runs(lake: &Lake) -> Result<Vec<Run>, LandError> {
    let events: Vec<RunEvent> = lake.read_records(RUNS, None, "at, event DESC").await?;
    let mut out: Vec<Run> = vec![];
    for e in events {
        if e.event == "started" {
            out.push(Run {
                started: e,
                finished: None,
            });
        } else if let Some(r) = out.iter_mut().find(|r| r.started.run_id == e.run_id) {
            r.finished = Some(e);
        }
    }
    Ok(out)
}

/// The steps of one run.
pub async fn steps(lake: &Lake, run_id: &str) -> Result<Vec<Step>, LandError> {
    lake.read_records(
        STEPS,
        Some(&format!("run_id = {}", quoted(run_id))),
        "started_at, stage, dataset",
    )
    .await
}

/// The latest schedule slot a run was started for (scheduled or catch-up).
pub async fn last_scheduled(lake: &Lake) -> Result<Option<DateTime<Utc>>, LandError> {
    Ok(runs(lake)
        .await?
        .iter()
        .filter_map(|r| r.started.scheduled_for)
        .max())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_in_start_order_within_a_second() {
        let t = DateTime::parse_from_rfc3339("2026-12-06T02:23:09.004Z")
            .unwrap()
            .with_timezone(&Utc);
        let ids: Vec<String> = [0, 1, 995]
            .iter()
            .map(|ms| new_id(t + chrono::Duration::milliseconds(*ms)))
            .collect();
        assert!(ids[0] < ids[1] && ids[1] < ids[2], "{ids:?}");
        assert!(ids[0].starts_with("20261206T022309004Z-"), "{}", ids[0]);
        assert!(ids[2] < new_id(t + chrono::Duration::seconds(1)));
    }
}

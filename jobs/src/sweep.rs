//! The sweep: every dataset of the workspace through land → check, then
//! publish, with bounded parallelism across datasets. A failing source or
//! dataset is recorded (and becomes a finding for its department) and never
//! stops the others; the run, its steps and the rule counts are recorded in
//! the lake, and every read and publication in the audit log.
//!
//! Stages still to come plug in here: catalog harvest before landing,
//! one-source resolution and scoring after checking.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, FixedOffset, Utc};
use futures::StreamExt;
use pipeline::land::{DatasetDef, Lake, land_dataset};
use pipeline::score::{Rectification, RunScores, rectifications, score_run};
use pipeline::workspace::Workspace;
use pipeline::{CheckOptions, CheckReport};
use quality_rules::RuleFile;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tracing::Instrument;

use crate::audit::{AuditLog, actor};
use crate::lock::try_lock;
use crate::runs::{self, RunEvent, Step};

/// Table of rule counts per run: what scoring is computed from.
pub const RULE_RESULTS: &str = pipeline::tables::RULE_RESULTS.path;

/// A callback after every step (progress bars).
pub type OnStep = Arc<dyn Fn(&Step) + Send + Sync>;

/// How to run a sweep.
#[derive(Clone)]
pub struct SweepOptions {
    /// The as-of time checks are judged at.
    pub as_of: DateTime<FixedOffset>,
    /// `manual`, `schedule` or `catch-up`.
    pub trigger: String,
    /// The schedule slot (scheduled and catch-up runs).
    pub scheduled_for: Option<DateTime<Utc>>,
    /// Only these datasets (`department.name` or a department); empty: all.
    pub only: Vec<String>,
    /// Set to stop starting new datasets (SIGTERM); work in progress finishes.
    pub cancel: Arc<AtomicBool>,
    /// Who runs it, for the audit log.
    pub actor: String,
    /// Called after every step (progress bars).
    pub on_step: Option<OnStep>,
}

impl std::fmt::Debug for SweepOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SweepOptions")
            .field("as_of", &self.as_of)
            .field("trigger", &self.trigger)
            .field("scheduled_for", &self.scheduled_for)
            .field("only", &self.only)
            .field("actor", &self.actor)
            .finish_non_exhaustive()
    }
}

/// What a sweep did.
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    /// Its id.
    pub run_id: String,
    /// `completed` or `cancelled`.
    pub status: String,
    /// Every step.
    pub steps: Vec<Step>,
    /// The check reports, by dataset.
    #[serde(skip)]
    pub reports: Vec<(DatasetDef, CheckReport)>,
    /// Where the results were published.
    pub published: Option<PathBuf>,
    /// New `fail` results since the previous run: `dataset/rule`.
    pub new_failures: Vec<String>,
}

impl SweepReport {
    /// Datasets with a failed step.
    pub fn failed_datasets(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .steps
            .iter()
            .filter(|s| s.status == "failed" && !s.dataset.is_empty())
            .map(|s| s.dataset.clone())
            .collect();
        v.dedup();
        v
    }
}

/// Why a sweep could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// The lake or the ledger failed.
    #[error(transparent)]
    Lake(#[from] pipeline::land::LandError),
    /// The audit log failed.
    #[error(transparent)]
    Audit(#[from] crate::audit::AuditError),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

pub use pipeline::score::RuleCount;

/// The schema of [`RULE_RESULTS`].
pub fn rule_count_schema() -> SchemaRef {
    let t = |n: &str| Field::new(n, DataType::Utf8, true);
    let i = |n: &str| Field::new(n, DataType::Int64, true);
    Arc::new(Schema::new(vec![
        t("run_id"),
        Field::new(
            "as_of",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
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

/// A run id: the start time and a random-enough suffix.
fn new_run_id(now: DateTime<Utc>) -> String {
    use sha2::Digest;
    let salt = sha2::Sha256::digest(format!(
        "{}-{}",
        std::process::id(),
        now.timestamp_nanos_opt().unwrap_or(0)
    ));
    format!(
        "{}-{}",
        now.format("%Y%m%dT%H%M%SZ"),
        &hex::encode(salt)[..6]
    )
}

struct DatasetOutcome {
    steps: Vec<Step>,
    report: Option<(DatasetDef, CheckReport)>,
    counts: Vec<RuleCount>,
}

/// Runs one sweep over the workspace.
pub async fn run_sweep(ws: &Workspace, opts: &SweepOptions) -> Result<SweepReport, SweepError> {
    // An unknown selection fails before anything is recorded or published.
    let datasets: Vec<DatasetDef> = ws.select(&opts.only)?.into_iter().cloned().collect();
    let started = Utc::now();
    let run_id = new_run_id(started);
    let lake = Lake::open(&ws.config.lake, &ws.dir)?;
    let audit = AuditLog::new(&ws.dir.join("audit"));
    // An anchor file set up wrongly (inside the workspace) fails the sweep
    // before anything is recorded; so does a bad key, at the first append.
    audit.anchor_file()?;
    let as_of_utc = opts.as_of.with_timezone(&Utc);
    let mut event = RunEvent {
        run_id: run_id.clone(),
        kind: "sweep".into(),
        trigger: opts.trigger.clone(),
        scheduled_for: opts.scheduled_for,
        as_of: as_of_utc,
        event: "started".into(),
        status: "running".into(),
        at: started,
        datasets_ok: 0,
        datasets_failed: 0,
        error: None,
        results_version: None,
    };
    // The audit log first: a log that refuses appends (its head missing or
    // wrong, issue #18, 4) stops the sweep before a run is recorded.
    audit.append(
        &opts.actor,
        "sweep-start",
        &run_id,
        serde_json::json!({"trigger": opts.trigger, "as_of": opts.as_of.to_rfc3339()}),
    )?;
    runs::record_event(&lake, &event).await?;
    pipeline::land::prepare(&lake).await?;
    let parallelism = ws.config.sweep.parallelism.max(1);
    let lock_dir = ws.dir.join(".pdq/locks");
    // Harvest the catalogs first (a sweep limited to some datasets leaves
    // the catalog alone).
    let mut catalog_steps = vec![];
    let harvested = if opts.only.is_empty() {
        harvest_catalog(ws, &lake, &lock_dir, &run_id, as_of_utc, &mut catalog_steps).await
    } else {
        None
    };
    let outcomes: Vec<DatasetOutcome> = futures::stream::iter(datasets.into_iter().map(|d| {
        let lake = lake.clone();
        let lock_dir = lock_dir.clone();
        let run_id = run_id.clone();
        let span = tracing::info_span!("dataset", run = %run_id, dataset = %d.id());
        async move { sweep_dataset(ws, &lake, &lock_dir, &run_id, &d, opts).await }.instrument(span)
    }))
    .buffer_unordered(parallelism)
    .collect()
    .await;
    let mut steps: Vec<Step> = catalog_steps;
    // A dataset whose definition does not load fails on its own, with the
    // file, line and key (issue #23, 5); the others ran above.
    for bad in ws.invalid_selected(&opts.only) {
        steps.push(Step {
            run_id: run_id.clone(),
            stage: "land".into(),
            dataset: bad.id.clone(),
            status: "failed".into(),
            started_at: Utc::now(),
            seconds: 0.0,
            inputs: serde_json::json!({"definition": bad.path.strip_prefix(&ws.dir).unwrap_or(&bad.path)}).to_string(),
            outputs: "{}".into(),
            rows: None,
            error: Some(bad.error.clone()),
        });
    }
    let mut reports = vec![];
    let mut counts = vec![];
    for o in outcomes {
        steps.extend(o.steps);
        reports.extend(o.report);
        counts.extend(o.counts);
    }
    steps.sort_by(|a, b| (&a.dataset, &a.started_at).cmp(&(&b.dataset, &b.started_at)));
    reports.sort_by_key(|(d, _)| d.id());
    counts.sort_by(|a, b| (&a.dataset, &a.rule).cmp(&(&b.dataset, &b.rule)));
    for s in &steps {
        audit.append(
            &opts.actor,
            &s.stage,
            &s.dataset,
            serde_json::json!({"run": run_id, "status": s.status, "inputs": s.inputs, "outputs": s.outputs, "rows": s.rows}),
        )?;
    }
    // New failures: at `fail` now, not at `fail` in the previous run.
    let previous: Vec<RuleCount> = match runs::runs(&lake).await?.iter().rev().find(|r| {
        r.started.run_id != run_id && r.finished.as_ref().is_some_and(|f| f.status == "completed")
    }) {
        Some(prev) => {
            let id = prev.started.run_id.replace('\'', "''");
            lake.read_records(
                RULE_RESULTS,
                Some(&format!("run_id = '{id}'")),
                "dataset, rule",
            )
            .await?
        }
        None => vec![],
    };
    // One data, one source (issue #5): across every dataset that declares
    // `[onesource]`; conflicts count against the copying datasets as
    // consistency and accuracy failures.
    let onesource = if ws.datasets.iter().any(|d| d.onesource.is_some()) {
        // What departments declare in their catalogs (entries and data
        // items) shows duplicate collection before any data is compared.
        let declarations = harvested
            .as_ref()
            .map(|(_, state, _)| catalog_declarations(state))
            .unwrap_or_default();
        let (step, report) = run_onesource_step(ws, &lake, &run_id, opts, declarations).await;
        if let Some(r) = &report {
            let as_of = opts.as_of.with_timezone(&Utc);
            for (dataset, s) in &r.datasets {
                let Some(d) = ws.datasets.iter().find(|d| d.id() == *dataset) else {
                    continue;
                };
                if s.compared == 0 {
                    continue;
                }
                for (rule, dimension) in [
                    ("_onesource_consistency", "consistency"),
                    ("_onesource_accuracy", "accuracy"),
                ] {
                    counts.push(RuleCount {
                        run_id: run_id.clone(),
                        as_of,
                        dataset: dataset.clone(),
                        department: d.department.clone(),
                        rule: rule.into(),
                        dimension: dimension.into(),
                        check: "one_source".into(),
                        evaluated: s.compared as i64,
                        failed: s.conflicts as i64,
                        status: if s.conflicts > 0 { "fail" } else { "pass" }.into(),
                        rules_version: "onesource".into(),
                        table_version: None,
                    });
                }
            }
            counts.sort_by(|a, b| (&a.dataset, &a.rule).cmp(&(&b.dataset, &b.rule)));
        }
        steps.push(step);
        report
    } else {
        None
    };
    let new_failures: Vec<String> = counts
        .iter()
        .filter(|c| c.status == "fail")
        .filter(|c| {
            !previous
                .iter()
                .any(|p| p.dataset == c.dataset && p.rule == c.rule && p.status == "fail")
        })
        .map(|c| format!("{}/{}", c.dataset, c.rule))
        .collect();
    let results_version = lake
        .append_records(
            RULE_RESULTS,
            &rule_count_schema(),
            &counts,
            Some(&format!("results-{run_id}")),
        )
        .await?;
    // Score: from stored counts only (this run's and every earlier one's).
    let score_started = Utc::now();
    let clock = Instant::now();
    let scored = score(ws, &lake, &run_id).await;
    let mut score_step = Step {
        run_id: run_id.clone(),
        stage: "score".into(),
        dataset: String::new(),
        status: "ok".into(),
        started_at: score_started,
        seconds: 0.0,
        inputs: serde_json::json!({"rule_results": RULE_RESULTS, "config_version": ws.config.scoring.version()}).to_string(),
        outputs: "{}".into(),
        rows: None,
        error: None,
    };
    let scored = match scored {
        Ok(s) => {
            score_step.outputs = serde_json::json!({"departments": s.0.departments.len(), "datasets": s.0.datasets.len(), "rectifications": s.1.len()}).to_string();
            Some(s)
        }
        Err(e) => {
            score_step.status = "failed".into();
            score_step.error = Some(e);
            None
        }
    };
    score_step.seconds = clock.elapsed().as_secs_f64();
    steps.push(score_step);
    // Catalog: checked and reconciled with what landed tonight.
    let catalog = match harvested {
        Some((report, state, _lock)) => {
            assess_catalog(ws, &lake, &run_id, as_of_utc, report, state, &mut steps).await
        }
        None => None,
    };
    // Publish: this run's results, atomically, then `latest`.
    let publish_started = Utc::now();
    let clock = Instant::now();
    let published = publish(
        ws,
        &lake,
        &run_id,
        &reports,
        scored.as_ref(),
        catalog.as_ref(),
        as_of_utc,
    )
    .await;
    let published = match (published, &onesource) {
        (Ok(dir), Some(r)) => pipeline::onesource::stage::write_published(&dir, r)
            .map(|_| dir)
            .map_err(|e| e.to_string()),
        (p, _) => p,
    };
    let (status, outputs, error, published) = match published {
        Ok(dir) => (
            "ok",
            serde_json::json!({"dir": dir.display().to_string(), "datasets": reports.len()}),
            None,
            Some(dir),
        ),
        Err(e) => ("failed", serde_json::json!({}), Some(e), None),
    };
    steps.push(Step {
        run_id: run_id.clone(),
        stage: "publish".into(),
        dataset: String::new(),
        status: status.into(),
        started_at: publish_started,
        seconds: clock.elapsed().as_secs_f64(),
        inputs: serde_json::json!({"rule_results": counts.len()}).to_string(),
        outputs: outputs.to_string(),
        rows: None,
        error: error.clone(),
    });
    audit.append(
        &opts.actor,
        "publish",
        "published",
        serde_json::json!({"run": run_id, "status": status}),
    )?;
    runs::record_steps(&lake, &run_id, &steps).await?;
    let cancelled = opts.cancel.load(Ordering::SeqCst);
    let failed = {
        let mut f: Vec<&str> = steps
            .iter()
            .filter(|s| s.status == "failed" && !s.dataset.is_empty())
            .map(|s| s.dataset.as_str())
            .collect();
        f.sort();
        f.dedup();
        f.len()
    };
    let mut all: Vec<&str> = steps
        .iter()
        .filter(|s| !s.dataset.is_empty())
        .map(|s| s.dataset.as_str())
        .collect();
    all.sort();
    all.dedup();
    event.event = "finished".into();
    event.status = if cancelled { "cancelled" } else { "completed" }.into();
    event.at = Utc::now();
    event.datasets_failed = failed as i64;
    event.datasets_ok = (all.len() - failed) as i64;
    event.error = error;
    event.results_version = Some(results_version);
    runs::record_event(&lake, &event).await?;
    audit.append(
        &opts.actor,
        "sweep-end",
        &run_id,
        serde_json::json!({"status": event.status, "failed": failed}),
    )?;
    // The signed head goes outside the workspace after every sweep (issue
    // #18, 4). The sweep's work is done and recorded: a missing anchor is
    // logged, not a failed run.
    match audit.anchor() {
        Ok(Some(a)) => tracing::debug!(n = a.n, seq = a.seq, "audit head anchored"),
        Ok(None) => tracing::info!(
            "no audit key is configured: the audit log's head is unsigned and not anchored ({})",
            crate::audit::key::SET_UP
        ),
        Err(e) => tracing::warn!(error = %e, "the audit head could not be anchored"),
    }
    Ok(SweepReport {
        run_id,
        status: event.status,
        steps,
        reports,
        published,
        new_failures,
    })
}

/// The catalog's findings of each run: `lake/_pdq/catalog_findings`.
pub const CATALOG_FINDINGS: &str = pipeline::catalog::FINDINGS;

/// Per run and department, the catalog's size and findings:
/// `lake/_pdq/catalog_summary` (the evaluation's catalog component).
pub const CATALOG_SUMMARY: &str = pipeline::tables::CATALOG_SUMMARY.path;

fn catalog_summary_schema() -> SchemaRef {
    let i = |n: &str| Field::new(n, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        Field::new(
            "as_of",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("department", DataType::Utf8, false),
        i("entries"),
        i("entries_with_findings"),
        i("uncatalogued"),
        i("findings"),
    ]))
}

/// The catalog summary of one run, per department.
pub fn catalog_summaries(
    run_id: &str,
    as_of: DateTime<Utc>,
    outcome: &pipeline::catalog::CatalogOutcome,
) -> Vec<pipeline::evaluate::CatalogSummary> {
    use std::collections::BTreeSet;
    let mut by: BTreeMap<String, pipeline::evaluate::CatalogSummary> = BTreeMap::new();
    fn row<'a>(
        by: &'a mut BTreeMap<String, pipeline::evaluate::CatalogSummary>,
        run_id: &str,
        as_of: DateTime<Utc>,
        d: &str,
    ) -> &'a mut pipeline::evaluate::CatalogSummary {
        by.entry(d.to_string())
            .or_insert_with(|| pipeline::evaluate::CatalogSummary {
                run_id: run_id.to_string(),
                as_of,
                department: d.to_string(),
                entries: 0,
                entries_with_findings: 0,
                uncatalogued: 0,
                findings: 0,
            })
    }
    for e in outcome.state.current() {
        row(&mut by, run_id, as_of, &e.department).entries += 1;
    }
    let mut flagged: BTreeSet<&str> = BTreeSet::new();
    for f in &outcome.findings {
        let r = row(&mut by, run_id, as_of, &f.department);
        r.findings += 1;
        if f.check == "uncatalogued" {
            r.uncatalogued += 1;
        }
        if let Some(k) = &f.key
            && flagged.insert(k.as_str())
        {
            r.entries_with_findings += 1;
        }
    }
    by.into_values().collect()
}

/// One stored catalog finding of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredCatalogFinding {
    /// The run.
    pub run_id: String,
    /// Its as-of time.
    pub as_of: DateTime<Utc>,
    /// The catalog version checked.
    pub catalog_version: i64,
    /// The finding.
    #[serde(flatten)]
    pub finding: pipeline::catalog::CatalogFinding,
}

fn catalog_findings_schema() -> SchemaRef {
    let s = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    Arc::new(Schema::new(vec![
        s("run_id", false),
        Field::new(
            "as_of",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("catalog_version", DataType::Int64, false),
        s("check", false),
        s("department", false),
        s("key", true),
        s("code", true),
        s("name", true),
        s("field", true),
        s("location", false),
        s("message", false),
    ]))
}

type Harvested = (
    pipeline::catalog::HarvestReport,
    pipeline::catalog::CatalogState,
    crate::lock::DatasetLock,
);

/// The harvest stage: every catalog source, one new catalog version if
/// anything changed. Holds the catalog lock until the catalog is assessed.
async fn harvest_catalog(
    ws: &Workspace,
    lake: &Lake,
    lock_dir: &Path,
    run_id: &str,
    as_of: DateTime<Utc>,
    steps: &mut Vec<Step>,
) -> Option<Harvested> {
    let sources = pipeline::catalog::harvest::load_sources(&ws.dir);
    if matches!(&sources, Ok(s) if s.is_empty()) {
        return None;
    }
    let started = Utc::now();
    let clock = Instant::now();
    let mut step = Step {
        run_id: run_id.to_string(),
        stage: "harvest".into(),
        dataset: String::new(),
        status: "ok".into(),
        started_at: started,
        seconds: 0.0,
        inputs: serde_json::json!({"sources": sources.as_ref().map(|s| s.iter().map(|d| d.name.clone()).collect::<Vec<_>>()).unwrap_or_default()}).to_string(),
        outputs: "{}".into(),
        rows: None,
        error: None,
    };
    let mut out = None;
    match try_lock(lock_dir, "_catalog") {
        Ok(Some(lock)) => match pipeline::catalog::harvest::harvest(ws, lake, None, as_of).await {
            Ok((report, state)) => {
                let bad: Vec<String> = report
                    .sources
                    .iter()
                    .filter(|s| s.status != "ok")
                    .map(|s| {
                        format!(
                            "{} {}: {}",
                            s.source,
                            s.status,
                            s.error.as_deref().unwrap_or("")
                        )
                    })
                    .collect();
                if !bad.is_empty() {
                    step.status = "partial".into();
                    step.error = Some(bad.join("; "));
                }
                step.outputs = serde_json::json!({"version": report.version, "new_version": report.new_version, "changes": report.changes.len(), "sources": report.sources}).to_string();
                step.rows = Some(state.current().count() as i64);
                out = Some((report, state, lock));
            }
            Err(e) => {
                step.status = "failed".into();
                step.error = Some(e.to_string());
            }
        },
        Ok(None) => {
            step.status = "locked".into();
            step.error = Some("another harvest is working on the catalog".into());
        }
        Err(e) => {
            step.status = "failed".into();
            step.error = Some(format!("cannot take the catalog lock: {e}"));
        }
    }
    step.seconds = clock.elapsed().as_secs_f64();
    steps.push(step);
    out
}

/// The catalog stage after landing: checks and reconciliation, the
/// findings stored with the run.
async fn assess_catalog(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
    report: pipeline::catalog::HarvestReport,
    state: pipeline::catalog::CatalogState,
    steps: &mut Vec<Step>,
) -> Option<pipeline::catalog::CatalogOutcome> {
    let started = Utc::now();
    let clock = Instant::now();
    let mut step = Step {
        run_id: run_id.to_string(),
        stage: "catalog".into(),
        dataset: String::new(),
        status: "ok".into(),
        started_at: started,
        seconds: 0.0,
        inputs: serde_json::json!({"catalog_version": state.version}).to_string(),
        outputs: "{}".into(),
        rows: None,
        error: None,
    };
    let version = state.version;
    let result = async {
        let outcome = pipeline::catalog::assess(ws, lake, report, state, as_of)
            .await
            .map_err(|e| e.to_string())?;
        let rows: Vec<StoredCatalogFinding> = outcome
            .findings
            .iter()
            .map(|f| StoredCatalogFinding {
                run_id: run_id.to_string(),
                as_of,
                catalog_version: version,
                finding: f.clone(),
            })
            .collect();
        lake.append_records(
            CATALOG_FINDINGS,
            &catalog_findings_schema(),
            &rows,
            Some(&format!("catalog-findings-{run_id}")),
        )
        .await
        .map_err(|e| e.to_string())?;
        lake.append_records(
            CATALOG_SUMMARY,
            &catalog_summary_schema(),
            &catalog_summaries(run_id, as_of, &outcome),
            Some(&format!("catalog-summary-{run_id}")),
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(outcome)
    }
    .await;
    let out = match result {
        Ok(o) => {
            step.outputs = serde_json::json!({"entries": o.state.current().count(), "findings": o.findings.len()}).to_string();
            step.rows = Some(o.findings.len() as i64);
            Some(o)
        }
        Err(e) => {
            step.status = "failed".into();
            step.error = Some(e);
            None
        }
    };
    step.seconds = clock.elapsed().as_secs_f64();
    steps.push(step);
    out
}

async fn sweep_dataset(
    ws: &Workspace,
    lake: &Lake,
    lock_dir: &Path,
    run_id: &str,
    d: &DatasetDef,
    opts: &SweepOptions,
) -> DatasetOutcome {
    let id = d.id();
    let mut out = DatasetOutcome {
        steps: vec![],
        report: None,
        counts: vec![],
    };
    let step = |stage: &str, status: &str, started: DateTime<Utc>, secs: f64| Step {
        run_id: run_id.to_string(),
        stage: stage.into(),
        dataset: id.clone(),
        status: status.into(),
        started_at: started,
        seconds: secs,
        inputs: "{}".into(),
        outputs: "{}".into(),
        rows: None,
        error: None,
    };
    if opts.cancel.load(Ordering::SeqCst) {
        out.steps.push(step("land", "cancelled", Utc::now(), 0.0));
        return out;
    }
    let _lock = match try_lock(lock_dir, &id) {
        Ok(Some(l)) => l,
        Ok(None) => {
            let mut s = step("land", "locked", Utc::now(), 0.0);
            s.error = Some("another sweep is working on this dataset".into());
            out.steps.push(s);
            return out;
        }
        Err(e) => {
            let mut s = step("land", "failed", Utc::now(), 0.0);
            s.error = Some(format!("cannot take the dataset lock: {e}"));
            out.steps.push(s);
            return out;
        }
    };
    // Land — snapshot sources (databases without a watermark, APIs) only
    // when due at their declared update frequency; files and watermarked
    // tables are looked at every run, since a new delivery may be there.
    let t0 = Utc::now();
    let clock = Instant::now();
    let mut land = step("land", "ok", t0, 0.0);
    // The last delivery seen (a new one, or a snapshot found unchanged).
    // (A held-back snapshot is no delivery: the next run tries again.)
    let last_landed = pipeline::land::read_ledger(lake, Some(&id))
        .await
        .ok()
        .and_then(|l| {
            l.iter()
                .rev()
                .find(|r| r.status != pipeline::land::DeliveryStatus::Held)
                .map(|r| r.started_at)
        });
    let not_due = match (d.update_frequency, last_landed) {
        (Some(f), Some(last)) if d.source.is_snapshot() => {
            !f.is_due(last, opts.as_of.with_timezone(&Utc))
        }
        _ => false,
    };
    let landed = if not_due {
        Ok(vec![])
    } else {
        land_dataset(lake, d, &ws.land_options()).await
    };
    match landed {
        Ok(records) => {
            land.rows = Some(records.iter().map(|r| r.rows_read).sum());
            land.inputs = serde_json::json!(records
                .iter()
                .map(|r| serde_json::json!({"location": r.location, "sha256": r.sha256, "bytes": r.bytes}))
                .collect::<Vec<_>>())
            .to_string();
            land.outputs = serde_json::json!(records
                .iter()
                .map(|r| serde_json::json!({"delivery": r.delivery, "status": r.status, "landed": r.rows_landed, "quarantined": r.rows_quarantined, "table_version": r.table_version}))
                .collect::<Vec<_>>())
            .to_string();
            // A snapshot held back (empty, or far smaller than the last) is
            // reported like a refused catalog withdrawal.
            let held: Vec<String> = records
                .iter()
                .filter(|r| r.status == pipeline::land::DeliveryStatus::Held)
                .map(|r| r.note.clone().unwrap_or_default())
                .collect();
            if !held.is_empty() {
                land.status = "held".into();
                land.error = Some(held.join("; "));
            }
        }
        Err(e) => {
            land.status = "failed".into();
            land.error = Some(e.to_string());
        }
    }
    if not_due {
        land.status = "skipped".into();
        land.outputs = serde_json::json!({"not_due": format!("{:?}", d.update_frequency), "last_landed": last_landed}).to_string();
    }
    land.seconds = clock.elapsed().as_secs_f64();
    tracing::info!(stage = "land", status = %land.status, rows = ?land.rows, seconds = land.seconds, error = ?land.error, "step");
    if let Some(f) = &opts.on_step {
        f(&land);
    }
    // Landing feeds the scores too: a delivery that failed is a timeliness
    // failure of the department; rows quarantined at the last landing are
    // validity failures (they are not in the table the rules see).
    let as_of = opts.as_of.with_timezone(&Utc);
    let synthetic =
        |rule: &str, dimension: &str, check: &str, evaluated: i64, failed: i64| RuleCount {
            run_id: run_id.to_string(),
            as_of,
            dataset: id.clone(),
            department: d.department.clone(),
            rule: rule.into(),
            dimension: dimension.into(),
            check: check.into(),
            evaluated,
            failed,
            status: if failed > 0 { "fail" } else { "pass" }.into(),
            rules_version: "landing".into(),
            table_version: None,
        };
    let land_failed = land.status == "failed";
    let ledger = pipeline::land::read_ledger(lake, Some(&id))
        .await
        .unwrap_or_default();
    let last = ledger
        .iter()
        .rev()
        .find(|r| r.status == pipeline::land::DeliveryStatus::Landed);
    // Late: no delivery (new or an unchanged snapshot) within the declared
    // update frequency.
    let last_delivery = ledger
        .iter()
        .rev()
        .find(|r| r.status != pipeline::land::DeliveryStatus::Held);
    let late = match (d.update_frequency, last_delivery) {
        (Some(f), Some(l)) => f.is_late(l.started_at, as_of),
        (Some(_), None) => true,
        (None, _) => false,
    };
    if late && !land_failed {
        let late = format!(
            "late: no delivery within the declared update frequency (last landed {})",
            last_delivery
                .map(|l| l.started_at.to_rfc3339())
                .unwrap_or_else(|| "never".into())
        );
        land.error = Some(match land.error.take() {
            Some(held) => format!("{held}; {late}"),
            None => late,
        });
    }
    out.counts.push(synthetic(
        "_delivery",
        "timeliness",
        "delivery",
        1,
        (land_failed || late) as i64,
    ));
    if let Some(last) = last {
        out.counts.push(synthetic(
            "_quarantine",
            "validity",
            "landing",
            last.rows_read,
            last.rows_quarantined,
        ));
    }
    out.steps.push(land);
    // Check what is in the lake (the last landed version even if today's
    // delivery failed: the data officers see the state of their data).
    let Some(rules_path) = &d.rules else {
        return out;
    };
    let t1 = Utc::now();
    let clock = Instant::now();
    let mut check = step("check", "ok", t1, 0.0);
    match check_landed(ws, lake, d, &ws.dir.join(rules_path), opts).await {
        Ok((report, version)) => {
            check.rows = Some(report.rows as i64);
            check.inputs = serde_json::json!({"table_version": version, "rules_version": report.rules_version}).to_string();
            check.outputs = serde_json::json!({"rules": report.results.len(), "fail": report.count(quality_rules::Status::Fail)}).to_string();
            for r in &report.results {
                out.counts.push(RuleCount {
                    run_id: run_id.to_string(),
                    as_of: opts.as_of.with_timezone(&Utc),
                    dataset: id.clone(),
                    department: d.department.clone(),
                    rule: r.id.clone(),
                    dimension: serde_json::to_value(r.dimension)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    check: r.check.clone(),
                    evaluated: r.evaluated as i64,
                    failed: r.failed as i64,
                    status: serde_json::to_value(r.status)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    rules_version: report.rules_version.clone(),
                    table_version: version,
                });
            }
            out.report = Some((d.clone(), report));
        }
        Err(e) => {
            check.status = "failed".into();
            check.error = Some(e);
        }
    }
    check.seconds = clock.elapsed().as_secs_f64();
    tracing::info!(stage = "check", status = %check.status, rows = ?check.rows, seconds = check.seconds, error = ?check.error, "step");
    if let Some(f) = &opts.on_step {
        f(&check);
    }
    out.steps.push(check);
    out
}

async fn check_landed(
    ws: &Workspace,
    lake: &Lake,
    d: &DatasetDef,
    rules_path: &Path,
    opts: &SweepOptions,
) -> Result<(CheckReport, Option<i64>), String> {
    let rules = RuleFile::load(rules_path).map_err(|e| e.to_string())?;
    let table = lake
        .open_table(&d.data_path())
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("{}: nothing landed yet", d.id()))?;
    let version = table.version().map(|v| v as i64);
    let files = lake
        .local_files(&d.data_path())
        .await
        .map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err(format!("{}: the landed table is empty", d.id()));
    }
    let mut check = CheckOptions::new(opts.as_of);
    check.time_zone = ws.tz();
    // `[sweep] memory_limit` (checked when the workspace was loaded).
    if let Some(limit) = ws.config.sweep.memory_limit_bytes()? {
        check.memory_limit = limit;
    }
    let mut report = pipeline::check_paths(&files, &rules, &check)
        .await
        .map_err(|e| e.to_string())?;
    locate_samples(lake, d, &files, &mut report).await?;
    Ok((report, version))
}

/// The engine locates samples in the lake's data files; people need them
/// where the department delivered them. Every landed row carries its
/// delivery and line (`_pdq_delivery`, `_pdq_row`), and the ledger maps a
/// delivery to its location, so each sample is moved back to its
/// delivered file and line (and the report lists delivered files).
async fn locate_samples(
    lake: &Lake,
    d: &DatasetDef,
    files: &[PathBuf],
    report: &mut CheckReport,
) -> Result<(), String> {
    use arrow::array::{Array, AsArray};
    use parquet::arrow::ProjectionMask;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use pipeline::land::conform::{DELIVERY_COLUMN, ROW_COLUMN};
    let ledger = pipeline::land::read_ledger(lake, Some(&d.id()))
        .await
        .map_err(|e| e.to_string())?;
    let location = |delivery: &str| {
        ledger
            .iter()
            .find(|r| r.delivery == delivery)
            .map(|r| r.location.clone())
            .unwrap_or_else(|| format!("delivery {delivery}"))
    };
    let mut lineage: std::collections::HashMap<String, Vec<(String, u64)>> = Default::default();
    let wanted: std::collections::BTreeSet<String> = report
        .results
        .iter()
        .flat_map(|r| r.samples.iter().map(|s| s.file.clone()))
        .collect();
    for f in files {
        let shown = f.display().to_string();
        if !wanted.contains(&shown) {
            continue;
        }
        let file = std::fs::File::open(f).map_err(|e| format!("{shown}: {e}"))?;
        let builder =
            ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| format!("{shown}: {e}"))?;
        let schema = builder.schema().clone();
        let (Ok(di), Ok(ri)) = (
            schema.index_of(DELIVERY_COLUMN),
            schema.index_of(ROW_COLUMN),
        ) else {
            continue;
        };
        let mask = ProjectionMask::roots(builder.parquet_schema(), [di, ri]);
        let reader = builder
            .with_projection(mask)
            .build()
            .map_err(|e| format!("{shown}: {e}"))?;
        let mut rows = vec![];
        for b in reader {
            let b = b.map_err(|e| format!("{shown}: {e}"))?;
            let b = arrow::compute::cast(
                b.column_by_name(DELIVERY_COLUMN).ok_or("lineage")?,
                &arrow::datatypes::DataType::Utf8,
            )
            .map(|dcol| (dcol, b.column_by_name(ROW_COLUMN).cloned()))
            .map_err(|e| e.to_string())?;
            let (dcol, rcol) = b;
            let dcol = dcol.as_string::<i32>();
            let rcol = rcol.ok_or("lineage")?;
            let rcol = rcol.as_primitive::<arrow::datatypes::Int64Type>();
            for i in 0..dcol.len() {
                rows.push((location(dcol.value(i)), rcol.value(i).max(0) as u64));
            }
        }
        lineage.insert(shown, rows);
    }
    for r in &mut report.results {
        for s in &mut r.samples {
            if let Some((loc, line)) = lineage
                .get(&s.file)
                .and_then(|rows| rows.get(s.row as usize))
            {
                s.file = loc.clone();
                s.row = *line;
            }
        }
        r.samples.sort();
    }
    // The deliveries whose rows are in the table: all of an appended
    // dataset's, only the last of a fully replaced one.
    let mut landed = ledger
        .iter()
        .filter(|r| r.status == pipeline::land::DeliveryStatus::Landed);
    let mut delivered: Vec<String> = match d.mode {
        pipeline::land::LoadMode::Append => landed.map(|r| r.location.clone()).collect(),
        pipeline::land::LoadMode::Full => landed
            .next_back()
            .map(|r| r.location.clone())
            .into_iter()
            .collect(),
    };
    delivered.sort();
    delivered.dedup();
    report.files = delivered;
    Ok(())
}

/// Scorecards and the rectification list of `run_id`, stored in the lake.
async fn score(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
) -> Result<(RunScores, Vec<Rectification>), String> {
    let history: Vec<RuleCount> = lake
        .read_records(RULE_RESULTS, None, "as_of, run_id, dataset, rule")
        .await
        .map_err(|e| e.to_string())?;
    let scores = score_run(&history, run_id, &ws.config.scoring);
    let profile = ws.profile().map_err(|e| e.to_string())?;
    let cal = ws.calendar().map_err(|e| e.to_string())?;
    let tz: chrono_tz::Tz = ws.tz();
    let rects = rectifications(&history, run_id, profile.rectification, &cal, tz)
        .map_err(|e| e.to_string())?;
    let rows: Vec<StoredCard> = scores
        .datasets
        .iter()
        .chain(&scores.departments)
        .map(|c| StoredCard {
            run_id: c.run_id.clone(),
            as_of: c.as_of,
            scope: c.scope.clone(),
            id: c.id.clone(),
            department: c.department.clone(),
            score: c.score,
            grade: c.grade.clone(),
            card: serde_json::to_string(c).unwrap_or_default(),
        })
        .collect();
    lake.append_records(
        SCORECARDS,
        &StoredCard::schema(),
        &rows,
        Some(&format!("scorecards-{run_id}")),
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok((scores, rects))
}

/// Scorecard history table.
pub const SCORECARDS: &str = pipeline::tables::SCORECARDS.path;

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
            Field::new(
                "as_of",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
            t("scope"),
            t("id"),
            t("department"),
            Field::new("score", DataType::Float64, true),
            t("grade"),
            t("card"),
        ]))
    }
}

fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), String> {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
        }
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Writes `published/runs/<run>/` (results per dataset, `summary.json`,
/// `scorecards.json`, `rectifications.json`, the site under `site/`) via a
/// temporary directory renamed into place, then points `latest.json` at it
/// and replaces `published/site/`.
async fn publish(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    reports: &[(DatasetDef, CheckReport)],
    scored: Option<&(RunScores, Vec<Rectification>)>,
    catalog: Option<&pipeline::catalog::CatalogOutcome>,
    as_of: DateTime<Utc>,
) -> Result<PathBuf, String> {
    let dir = ws.dir.join("published");
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    let runs_dir = dir.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(|e| err(&runs_dir, e))?;
    let tmp = runs_dir.join(format!(".{run_id}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| err(&tmp, e))?;
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    let mut summary = vec![];
    let dataset_scores: BTreeMap<String, Option<f64>> = scored
        .map(|(s, _)| s.datasets.iter().map(|c| (c.id.clone(), c.score)).collect())
        .unwrap_or_default();
    let catalog_entries = catalog.map(|c| {
        pipeline::catalog::publish::enrich(&c.state, &c.landed, &c.findings, &dataset_scores)
    });
    // The findings as the site shows them (identifiers quoted in them masked).
    let site_findings = catalog
        .map(|c| pipeline::catalog::publish::published_findings(&c.findings))
        .unwrap_or_default();
    for (d, r) in reports {
        files.push((format!("{}.json", d.id()), r.to_json().into_bytes()));
        summary.push(serde_json::json!({
            "dataset": d.id(), "department": d.department, "title": d.title, "rows": r.rows,
            "rules": r.results.len(),
            "pass": r.count(quality_rules::Status::Pass),
            "warn": r.count(quality_rules::Status::Warn),
            "fail": r.count(quality_rules::Status::Fail),
        }));
    }
    files.push((
        "summary.json".into(),
        serde_json::to_vec_pretty(&serde_json::json!({"run": run_id, "datasets": summary}))
            .unwrap_or_default(),
    ));
    if let Some((scores, rects)) = scored {
        files.push((
            "scorecards.json".into(),
            serde_json::to_vec_pretty(scores).unwrap_or_default(),
        ));
        files.push((
            "rectifications.json".into(),
            serde_json::to_vec_pretty(rects).unwrap_or_default(),
        ));
        // Every table for officials: CSV and one workbook.
        let tables = pipeline::score::export::tables(scores, rects);
        for t in &tables {
            files.push((
                format!("exports/{}.csv", t.0),
                pipeline::score::export::csv(t),
            ));
        }
        files.push((
            "exports/scorecards.xlsx".into(),
            pipeline::score::export::xlsx(&tables, as_of).map_err(|e| e.to_string())?,
        ));
        // The site.
        let history: Vec<StoredCard> = lake
            .read_records(
                SCORECARDS,
                Some("scope = 'department'"),
                "as_of, run_id, id",
            )
            .await
            .map_err(|e| e.to_string())?;
        let tz: chrono_tz::Tz = ws.tz();
        let trend: Vec<(String, String, Option<f64>)> = history
            .iter()
            .map(|c| {
                (
                    c.as_of.with_timezone(&tz).format("%m-%d %H:%M").to_string(),
                    c.id.clone(),
                    c.score,
                )
            })
            .collect();
        let by_id: BTreeMap<String, CheckReport> =
            reports.iter().map(|(d, r)| (d.id(), r.clone())).collect();
        let catalog_list: BTreeMap<String, (String, String, String)> = ws
            .datasets
            .iter()
            .map(|d| {
                let kind = serde_json::to_value(&d.source)
                    .ok()
                    .and_then(|v| v["kind"].as_str().map(String::from))
                    .unwrap_or_default();
                let mode = serde_json::to_value(d.mode)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default();
                (d.id(), (d.title.clone().unwrap_or_default(), kind, mode))
            })
            .collect();
        let bureau = ws.config.bureau.clone().unwrap_or_else(|| "数据局".into());
        let input = pipeline::site::SiteInput {
            bureau: &bureau,
            departments: &ws.config.departments,
            scores,
            trend: &trend,
            rectifications: rects,
            reports: &by_id,
            catalog: &catalog_list,
            catalog_entries: catalog_entries.as_deref(),
            catalog_findings: &site_findings,
        };
        for (path, html) in pipeline::site::render(&input) {
            files.push((format!("site/{path}"), html.into_bytes()));
        }
    }
    if let (Some(c), Some(entries)) = (catalog, catalog_entries) {
        for (name, bytes) in pipeline::catalog::publish::files(
            ws.config.bureau.as_deref().unwrap_or("数据局"),
            c.state.version,
            as_of,
            entries,
            &c.findings,
            &c.report.changes,
        )? {
            files.push((format!("catalog/{name}"), bytes));
        }
    }
    write_dir(&tmp, &files)?;
    let final_dir = runs_dir.join(run_id);
    std::fs::rename(&tmp, &final_dir).map_err(|e| err(&final_dir, e))?;
    // `latest` is a small pointer file, replaced atomically.
    let latest = dir.join("latest.json");
    let tmp_latest = dir.join(".latest.json.tmp");
    std::fs::write(
        &tmp_latest,
        serde_json::json!({"run": run_id, "dir": format!("runs/{run_id}")}).to_string(),
    )
    .map_err(|e| err(&tmp_latest, e))?;
    std::fs::rename(&tmp_latest, &latest).map_err(|e| err(&latest, e))?;
    // `published/site/` is the current site and `published/catalog/` the
    // current catalog, each swapped in whole.
    for sub in ["site", "catalog"] {
        if final_dir.join(sub).is_dir() {
            let current = dir.join(sub);
            let staged = dir.join(format!(".{sub}.tmp"));
            let old = dir.join(format!(".{sub}.old"));
            let _ = std::fs::remove_dir_all(&staged);
            let _ = std::fs::remove_dir_all(&old);
            copy_dir(&final_dir.join(sub), &staged).map_err(|e| err(&staged, e))?;
            if current.exists() {
                std::fs::rename(&current, &old).map_err(|e| err(&current, e))?;
            }
            std::fs::rename(&staged, &current).map_err(|e| err(&current, e))?;
            let _ = std::fs::remove_dir_all(&old);
        }
    }
    Ok(final_dir)
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

/// The sweep's actor string for the audit log.
pub fn default_actor(trigger: &str) -> String {
    actor(if trigger == "manual" {
        "cli:sweep"
    } else {
        "daemon"
    })
}

/// Runs the one-source stage as one sweep step; a failure is a failed step,
/// not a failed sweep.
/// The catalog's declarations for duplicate-collection detection: each
/// entry's name and its data items' names, by department.
pub fn catalog_declarations(
    state: &pipeline::catalog::CatalogState,
) -> Vec<pipeline::onesource::duplicate::CatalogDeclaration> {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = vec![];
    for e in state.current() {
        let names = e
            .name
            .iter()
            .chain(e.items.iter().filter_map(|i| i.name.as_ref()));
        for n in names {
            if seen.insert((e.department.clone(), n.clone())) {
                out.push(pipeline::onesource::duplicate::CatalogDeclaration {
                    department: e.department.clone(),
                    item_name: n.clone(),
                });
            }
        }
    }
    out
}

async fn run_onesource_step(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    opts: &SweepOptions,
    declarations: Vec<pipeline::onesource::duplicate::CatalogDeclaration>,
) -> (Step, Option<pipeline::onesource::stage::OneSourceReport>) {
    use pipeline::onesource::registry::AuthorityRegistry;
    use pipeline::onesource::resolve::MatchConfig;
    use pipeline::onesource::stage::{OneSourceOptions, run_onesource};
    let started = Utc::now();
    let clock = Instant::now();
    let result = async {
        let profile = ws.profile().map_err(|e| e.to_string())?;
        let registry = AuthorityRegistry::load(&profile.id, &ws.dir).map_err(|e| e.to_string())?;
        let o = OneSourceOptions {
            as_of: opts.as_of.date_naive(),
            run: run_id.to_string(),
            declarations,
            matching: MatchConfig::persons(),
        };
        run_onesource(ws, lake, &registry, &o)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    let mut step = Step {
        run_id: run_id.to_string(),
        stage: "onesource".into(),
        dataset: String::new(),
        status: "ok".into(),
        started_at: started,
        seconds: 0.0,
        inputs: serde_json::json!({"datasets": ws.datasets.iter().filter(|d| d.onesource.is_some()).map(|d| d.id()).collect::<Vec<_>>()}).to_string(),
        outputs: "{}".into(),
        rows: None,
        error: None,
    };
    let report = match result {
        Ok(r) => {
            step.rows = Some(r.records as i64);
            step.outputs = serde_json::json!({"subjects": r.subjects, "golden_values": r.golden_values, "conflicts": r.conflicts, "duplicates": r.duplicates.len()}).to_string();
            Some(r)
        }
        Err(e) => {
            tracing::error!(stage = "onesource", error = %e, "step failed");
            step.status = "failed".into();
            step.error = Some(e);
            None
        }
    };
    step.seconds = clock.elapsed().as_secs_f64();
    (step, report)
}

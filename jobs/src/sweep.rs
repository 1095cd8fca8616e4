//! The sweep: the stages of `pipeline` in order, for every dataset of the
//! workspace (or those selected), with bounded parallelism across
//! datasets:
//!
//! harvest → (land → check per dataset) → one-source → score → catalog
//! assessment → publish.
//!
//! Each stage owns its logic and its tables (`pipeline::<stage>::step`);
//! this module only sequences them, takes the locks, records the run and
//! its steps and writes the audit log. A failing source, dataset or stage
//! is a failed step and never stops the others.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, FixedOffset, Utc};
use futures::StreamExt;
use pipeline::land::{DatasetDef, Lake};
use pipeline::run::{self, RunEvent, Step};
use pipeline::score::RuleCount;
use pipeline::workspace::Workspace;
use pipeline::{CheckReport, catalog, check, land, onesource, publish, score};
use serde::Serialize;
use tracing::Instrument;

use crate::audit::{AuditLog, actor};
use crate::lock::try_lock;

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
    /// Rules at `fail` in this run's results (CONTRACT.md: exit 3).
    pub rules_at_fail: usize,
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
    let run_id = run::new_id(started);
    let lake = Lake::open(&ws.config.lake, &ws.dir)?;
    let audit = AuditLog::new(&ws.dir.join("audit"));
    // The run's liveness: a lock held as long as this process runs it.
    // Another sweep that finds a run unfinished and its lock free knows its
    // process is gone (kill -9, a crash) and closes it as interrupted.
    let lock_dir = crate::lock::lock_dir(&ws.dir);
    let _alive = crate::lock::try_lock(&lock_dir, &crate::lock::run_lock(&run_id))
        .map_err(|e| SweepError::Other(format!("run lock in {}: {e}", lock_dir.display())))?;
    crate::lock::close_interrupted(&lake, &lock_dir, &run_id)
        .await
        .map_err(|e| SweepError::Other(e.to_string()))?;
    // An anchor file set up wrongly (inside the workspace) fails the sweep
    // before anything is recorded; so does a bad key, at the first append.
    audit.anchor_file()?;
    let as_of = opts.as_of.with_timezone(&Utc);
    let mut event = RunEvent {
        run_id: run_id.clone(),
        kind: "sweep".into(),
        trigger: opts.trigger.clone(),
        scheduled_for: opts.scheduled_for,
        as_of,
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
    run::record_event(&lake, &event).await?;
    // From here the run is in the ledger: it ends there too, `failed` with
    // why, if the sweep cannot go on (it is never left unfinished).
    let outcome = match sweep_recorded(ws, opts, &lake, &audit, datasets, &mut event).await {
        Ok(report) => Ok(report),
        Err(e) => {
            event.event = "finished".into();
            event.status = "failed".into();
            event.at = Utc::now();
            event.error = Some(e.to_string());
            if let Err(again) = run::record_event(&lake, &event).await {
                tracing::warn!(run = %event.run_id, error = %again, "the failed run could not be recorded as finished");
            }
            Err(e)
        }
    };
    // The run's end is recorded: its liveness lock goes.
    drop(_alive);
    let _ = std::fs::remove_file(lock_dir.join(format!("{}.lock", crate::lock::run_lock(&run_id))));
    outcome
}

/// The sweep once its run is recorded as started: the stages, the steps,
/// the publication and the run's end.
async fn sweep_recorded(
    ws: &Workspace,
    opts: &SweepOptions,
    lake: &Lake,
    audit: &AuditLog,
    datasets: Vec<DatasetDef>,
    event: &mut RunEvent,
) -> Result<SweepReport, SweepError> {
    let run_id = event.run_id.clone();
    let as_of = event.as_of;
    land::prepare(lake).await?;
    let lock_dir = crate::lock::lock_dir(&ws.dir);
    let mut steps: Vec<Step> = vec![];
    // Harvest the catalogs first (a sweep of some datasets leaves the
    // catalog alone); the catalog lock is held until it is assessed.
    let harvested = if opts.only.is_empty() && catalog::step::wanted(ws) {
        match locked(
            &lock_dir,
            "_catalog",
            &run_id,
            "harvest",
            "",
            "another harvest is working on the catalog",
        ) {
            Ok(lock) => {
                let (step, h) = catalog::step::harvest_step(ws, lake, &run_id, as_of).await;
                steps.push(step);
                h.map(|h| (h, lock))
            }
            Err(step) => {
                steps.push(*step);
                None
            }
        }
    } else {
        None
    };
    let outcomes: Vec<DatasetOutcome> = futures::stream::iter(datasets.into_iter().map(|d| {
        let (lake, lock_dir, run_id) = (lake.clone(), lock_dir.clone(), run_id.clone());
        let span = tracing::info_span!("dataset", run = %run_id, dataset = %d.id());
        async move { sweep_dataset(ws, &lake, &lock_dir, &run_id, &d, opts).await }.instrument(span)
    }))
    .buffer_unordered(ws.config.sweep.parallelism.max(1))
    .collect()
    .await;
    // A dataset whose definition does not load fails on its own, with the
    // file, line and key (issue #23, 5); the others ran above.
    for bad in ws.invalid_selected(&opts.only) {
        let mut step = Step::start(&run_id, "land", &bad.id);
        step.inputs =
            serde_json::json!({"definition": bad.path.strip_prefix(&ws.dir).unwrap_or(&bad.path)})
                .to_string();
        step.fail(bad.error.clone());
        steps.push(ended(step, opts));
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
    for s in &steps {
        audit.append(
            &opts.actor,
            &s.stage,
            &s.dataset,
            serde_json::json!({"run": run_id, "status": s.status, "inputs": s.inputs, "outputs": s.outputs, "rows": s.rows}),
        )?;
    }
    check::step::record_reports(lake, &run_id, as_of, &reports).await?;
    // One data, one source (issue #5): what departments declare in their
    // catalogs shows duplicate collection before any data is compared.
    if onesource::step::wanted(ws) {
        let declarations = harvested
            .as_ref()
            .map(|((_, state), _)| catalog::step::declarations(state))
            .unwrap_or_default();
        let (step, report) =
            onesource::step::onesource_step(ws, lake, &run_id, opts.as_of, declarations).await;
        steps.push(step);
        if let Some(r) = report {
            counts.extend(onesource::step::rule_counts(ws, &r, &run_id, as_of));
        }
    }
    counts.sort_by(|a, b| (&a.dataset, &a.rule).cmp(&(&b.dataset, &b.rule)));
    let new_failures = new_failures(lake, &run_id, &counts).await?;
    let rules_at_fail = counts.iter().filter(|c| c.status == "fail").count();
    let results_version = score::store::record_counts(lake, &run_id, &counts).await?;
    // Objections (issue #21): a correction is confirmed by what landed
    // tonight, or the objection re-opens; the scorecards then count them.
    if let Some(step) =
        pipeline::objection::stage::check_step(ws, &run_id, &opts.actor, as_of).await
    {
        steps.push(step);
    }
    // Sweeps started earlier and still going: their counts belong in this
    // (newer, so current) run's scorecards and publication.
    let patience = std::time::Duration::from_secs(ws.config.sweep.wait_for_earlier_minutes * 60);
    let earlier = crate::lock::wait_for_earlier_runs(lake, &lock_dir, &run_id, patience).await?;
    let (mut step, _) = score::step::score_step(ws, lake, &run_id, as_of).await;
    earlier.note_on(&mut step);
    steps.push(step);
    // The catalog: checked and reconciled with what landed tonight.
    if let Some(((report, state), _lock)) = harvested {
        let (step, _) = catalog::step::assess_step(ws, lake, &run_id, as_of, report, state).await;
        steps.push(step);
    }
    // Publish: under the publication lock (`pdq publish` takes it too).
    let (step, published) = match crate::lock::wait_lock(
        &lock_dir,
        crate::lock::PUBLISH_LOCK,
        std::time::Duration::from_secs(300),
    )
    .await
    {
        Ok(Some(_lock)) => publish::publish_step(ws, lake, &run_id, as_of).await,
        Ok(None) => {
            let mut step = Step::start(&run_id, "publish", "");
            step.fail("another publication held the lock for 5 minutes");
            (step.finish(), None)
        }
        Err(e) => {
            let mut step = Step::start(&run_id, "publish", "");
            step.fail(format!("cannot take the publication lock: {e}"));
            (step.finish(), None)
        }
    };
    let error = step.error.clone();
    audit.append(
        &opts.actor,
        "publish",
        "published",
        serde_json::json!({"run": run_id, "status": step.status}),
    )?;
    steps.push(step);
    // Upkeep, once everything of the run is committed: the lake keeps its
    // current data and `[retention] lake_days` of earlier versions.
    let step = land::vacuum::vacuum_step(ws, lake, &run_id).await;
    audit.append(
        &opts.actor,
        "vacuum",
        "lake",
        serde_json::json!({"run": run_id, "status": step.status, "outputs": step.outputs}),
    )?;
    steps.push(step);
    run::record_steps(lake, &run_id, &steps).await?;
    let mut all: Vec<&str> = steps
        .iter()
        .filter(|s| !s.dataset.is_empty())
        .map(|s| s.dataset.as_str())
        .collect();
    all.sort();
    all.dedup();
    let report = SweepReport {
        run_id: run_id.clone(),
        status: if opts.cancel.load(Ordering::SeqCst) {
            "cancelled"
        } else {
            "completed"
        }
        .into(),
        steps: steps.clone(),
        reports,
        published,
        new_failures,
        rules_at_fail,
    };
    let failed = report.failed_datasets().len();
    event.event = "finished".into();
    event.status = report.status.clone();
    event.at = Utc::now();
    event.datasets_failed = failed as i64;
    event.datasets_ok = (all.len() - failed) as i64;
    event.error = error;
    event.results_version = Some(results_version);
    run::record_event(lake, event).await?;
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
    Ok(report)
}

/// New failures: at `fail` now, not at `fail` in the previous completed run.
async fn new_failures(
    lake: &Lake,
    run_id: &str,
    counts: &[RuleCount],
) -> Result<Vec<String>, SweepError> {
    let previous = match run::runs(lake).await?.iter().rev().find(|r| {
        r.started.run_id != run_id && r.finished.as_ref().is_some_and(|f| f.status == "completed")
    }) {
        Some(prev) => score::store::counts_of_run(lake, &prev.started.run_id).await?,
        None => vec![],
    };
    Ok(counts
        .iter()
        .filter(|c| c.status == "fail")
        .filter(|c| {
            !previous
                .iter()
                .any(|p| p.dataset == c.dataset && p.rule == c.rule && p.status == "fail")
        })
        .map(|c| format!("{}/{}", c.dataset, c.rule))
        .collect())
}

/// Takes the lock `name`, or gives the step that says why not.
fn locked(
    lock_dir: &Path,
    name: &str,
    run_id: &str,
    stage: &str,
    dataset: &str,
    busy: &str,
) -> Result<crate::lock::DatasetLock, Box<Step>> {
    let mut step = Step::start(run_id, stage, dataset);
    match try_lock(lock_dir, name) {
        Ok(Some(lock)) => return Ok(lock),
        Ok(None) => step.set("locked", busy),
        Err(e) => step.fail(format!("cannot take the lock {name}: {e}")),
    }
    Err(Box::new(step.finish()))
}

/// A step ends: its clock stops and it is told to `on_step` (the progress
/// bar counts a dataset done at its last step), whatever its status.
fn ended(step: Step, opts: &SweepOptions) -> Step {
    let step = step.finish();
    if let Some(f) = &opts.on_step {
        f(&step);
    }
    step
}

/// One dataset through land and check, under its lock.
async fn sweep_dataset(
    ws: &Workspace,
    lake: &Lake,
    lock_dir: &Path,
    run_id: &str,
    d: &DatasetDef,
    opts: &SweepOptions,
) -> DatasetOutcome {
    let id = d.id();
    let notify = |s: &Step| {
        if let Some(f) = &opts.on_step {
            f(s);
        }
    };
    let mut out = DatasetOutcome {
        steps: vec![],
        report: None,
        counts: vec![],
    };
    if opts.cancel.load(Ordering::SeqCst) {
        let mut step = Step::start(run_id, "land", &id);
        step.set(
            "cancelled",
            "the sweep was stopped before this dataset started; the next sweep lands it",
        );
        out.steps.push(ended(step, opts));
        return out;
    }
    let _lock = match locked(
        lock_dir,
        &id,
        run_id,
        "land",
        &id,
        "another sweep is working on this dataset",
    ) {
        Ok(lock) => lock,
        Err(step) => {
            notify(&step);
            out.steps.push(*step);
            return out;
        }
    };
    let as_of = opts.as_of.with_timezone(&Utc);
    let (step, counts, ledger) = land::step::land_step(ws, lake, run_id, d, as_of).await;
    notify(&step);
    out.steps.push(step);
    out.counts = counts;
    // The check reads the same delivery records (its samples' locations):
    // the ledger is read once per dataset after landing.
    if let Some((step, checked)) =
        check::step::check_step(ws, lake, run_id, d, ledger.as_deref(), opts.as_of).await
    {
        notify(&step);
        out.steps.push(step);
        if let Some(c) = checked {
            out.counts.extend(c.counts);
            out.report = Some((d.clone(), c.report));
        }
    }
    out
}

/// The sweep's actor string for the audit log.
pub fn default_actor(trigger: &str) -> String {
    actor(if trigger == "manual" {
        "cli:sweep"
    } else {
        "daemon"
    })
}

//! The publish stage: every artefact of a run's publication, built from
//! the lake alone, so that `pdq publish` rebuilds what a sweep published
//! byte for byte.
//!
//! A publication shows the whole workspace at its latest state up to the
//! run: each dataset's latest check report, the run's scorecards (which
//! carry every dataset forward, see [`crate::score::step`]), the latest
//! catalog assessment and one-source report — whatever subset of datasets
//! the run itself touched (issue #23, 1). What each stage kept is read with
//! that stage's typed reader; this module owns no table.
//!
//! Layout under `published/`: `runs/<run>/` (results per dataset,
//! `summary.json`, `scorecards.json`, `rectifications.json`, `exports/`,
//! `site/`, `catalog/`, `onesource.json`), `latest.json` pointing at the
//! current run, and `site/` and `catalog/` as its copies; see [`write`].

mod write;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::CheckReport;
use crate::catalog::step::latest_assessment;
use crate::check::step::latest_reports;
use crate::land::{Lake, LandError};
use crate::onesource::step::latest_report;
use crate::run::Step;
use crate::score::step::scored_run;
use crate::score::store::department_history;
use crate::workspace::Workspace;

pub use write::{Published, newest, write};

/// Why a publication could not be built or written.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The lake could not be read.
    #[error(transparent)]
    Lake(#[from] LandError),
    /// A file or directory could not be written.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An artefact could not be rendered.
    #[error("{0}")]
    Render(String),
}

/// A run's publication: relative path → bytes, in a stable order.
pub type Artefacts = Vec<(String, Vec<u8>)>;

/// Builds run `run_id`'s publication (`as_of`: the run's as-of time) from
/// the lake.
pub async fn artefacts(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
) -> Result<Artefacts, PublishError> {
    let mut files: Artefacts = vec![];
    let reports = latest_reports(ws, lake, run_id).await?;
    let scored = scored_run(ws, lake, run_id, as_of).await?;
    let catalog = latest_assessment(lake, run_id).await?.map(|(_, _, c)| c);
    let mut summary = vec![];
    for (d, r) in &reports {
        files.push((format!("{}.json", d.id()), r.json.clone().into_bytes()));
        let report = &r.report;
        summary.push(serde_json::json!({
            "dataset": d.id(), "department": d.department, "title": d.title, "rows": report.rows,
            "rules": report.results.len(),
            "pass": report.count(quality_rules::Status::Pass),
            "warn": report.count(quality_rules::Status::Warn),
            "fail": report.count(quality_rules::Status::Fail),
            "checked_in": r.run_id,
        }));
    }
    files.push((
        "summary.json".into(),
        json(&serde_json::json!({"run": run_id, "datasets": summary}))?,
    ));
    let dataset_scores: BTreeMap<String, Option<f64>> = scored
        .as_ref()
        .map(|s| {
            s.scores
                .datasets
                .iter()
                .map(|c| (c.id.clone(), c.score))
                .collect()
        })
        .unwrap_or_default();
    let catalog_entries = match &catalog {
        Some(c) => Some(crate::catalog::publish::enrich(
            &c.state,
            &c.landed,
            &c.findings,
            &dataset_scores,
            &ws.profile()?.catalog,
        )),
        None => None,
    };
    if let Some(s) = &scored {
        files.push(("scorecards.json".into(), json(&s.scores)?));
        files.push(("rectifications.json".into(), json(&s.rectifications)?));
        // Every table for officials: CSV and one workbook.
        let tables = crate::score::export::tables(&s.scores, &s.rectifications);
        for t in &tables {
            files.push((format!("exports/{}.csv", t.0), crate::score::export::csv(t)));
        }
        files.push((
            "exports/scorecards.xlsx".into(),
            crate::score::export::xlsx(&tables, as_of)
                .map_err(|e| PublishError::Render(e.to_string()))?,
        ));
        let reports: BTreeMap<String, CheckReport> = reports
            .iter()
            .map(|(d, r)| (d.id(), r.report.clone()))
            .collect();
        let site_findings = catalog
            .as_ref()
            .map(|c| crate::catalog::publish::published_findings(&c.findings, &c.state))
            .unwrap_or_default();
        for (path, html) in site(
            ws,
            lake,
            run_id,
            s,
            &reports,
            catalog_entries.as_deref(),
            &site_findings,
        )
        .await?
        {
            files.push((format!("site/{path}"), html.into_bytes()));
        }
    }
    if let (Some(c), Some(entries)) = (&catalog, catalog_entries) {
        let catalog_files = crate::catalog::publish::files(
            ws.bureau(),
            c.state.version,
            as_of,
            entries,
            &c.findings,
            c.report.version_log(),
            &c.state,
        )
        .map_err(PublishError::Render)?;
        for (name, bytes) in catalog_files {
            files.push((format!("catalog/{name}"), bytes));
        }
    }
    if let Some(report) = latest_report(lake, run_id).await? {
        files.push(("onesource.json".into(), report.into_bytes()));
    }
    Ok(files)
}

fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, PublishError> {
    serde_json::to_vec_pretty(v).map_err(|e| PublishError::Render(e.to_string()))
}

/// The site's pages.
async fn site(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    scored: &crate::score::step::Scored,
    reports: &BTreeMap<String, CheckReport>,
    catalog_entries: Option<&[crate::catalog::publish::PublishedEntry]>,
    catalog_findings: &[crate::catalog::CatalogFinding],
) -> Result<Vec<(String, String)>, PublishError> {
    // The trend: department scores of every run up to this one.
    let tz = ws.tz();
    let trend: Vec<(String, String, Option<f64>)> = department_history(lake)
        .await?
        .iter()
        .filter(|c| c.run_id.as_str() <= run_id)
        .map(|c| {
            (
                c.as_of.with_timezone(&tz).format("%m-%d %H:%M").to_string(),
                c.id.clone(),
                c.score,
            )
        })
        .collect();
    let catalog_list: BTreeMap<String, (String, String, String)> = ws
        .datasets
        .iter()
        .map(|d| {
            let word = |v: serde_json::Result<serde_json::Value>, key: Option<&str>| {
                v.ok()
                    .and_then(|v| match key {
                        Some(k) => v[k].as_str().map(String::from),
                        None => v.as_str().map(String::from),
                    })
                    .unwrap_or_default()
            };
            let kind = word(serde_json::to_value(&d.source), Some("kind"));
            let mode = word(serde_json::to_value(d.mode), None);
            (d.id(), (d.title.clone().unwrap_or_default(), kind, mode))
        })
        .collect();
    let bureau = ws.bureau().to_string();
    let input = crate::site::SiteInput {
        bureau: &bureau,
        departments: &ws.config.departments,
        scores: &scored.scores,
        trend: &trend,
        rectifications: &scored.rectifications,
        reports,
        catalog: &catalog_list,
        catalog_entries,
        catalog_findings,
    };
    Ok(crate::site::render(&input))
}

/// Builds and writes run `run_id`'s publication; it becomes what
/// `latest.json`, `site/` and `catalog/` show when no newer run has been
/// published ([`newest`]). The caller holds the publication lock.
pub async fn publish(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
) -> Result<Published, PublishError> {
    let files = artefacts(ws, lake, run_id, as_of).await?;
    write(&ws.dir.join("published"), run_id, &files)
}

/// The publish stage as the last step of a sweep: the run's publication
/// becomes the current one unless a newer run (an overlapping sweep that
/// finished first) has published already.
pub async fn publish_step(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
) -> (Step, Option<PathBuf>) {
    let mut step = Step::start(run_id, "publish", "");
    match publish(ws, lake, run_id, as_of).await {
        Ok(p) => {
            step.outputs =
                serde_json::json!({"dir": p.dir.display().to_string(), "current": p.current})
                    .to_string();
            (step.finish(), Some(p.dir))
        }
        Err(e) => {
            step.fail(e.to_string());
            (step.finish(), None)
        }
    }
}

//! The one-source stage as a step of a sweep: resolution across every
//! dataset that declares `[onesource]`, its report kept in the lake
//! (`_pdq/onesource/reports`, as published), and its conflicts counted
//! against the copying datasets as consistency and accuracy failures.

use chrono::{DateTime, FixedOffset, Utc};

use super::duplicate::CatalogDeclaration;
use super::registry::AuthorityRegistry;
use super::resolve::MatchConfig;
use super::stage::{OneSourceOptions, OneSourceReport, run_onesource};
use crate::land::{Lake, LandError};
use crate::outputs::{self, StageOutput};
use crate::run::Step;
use crate::score::{RuleCount, stage_rules};
use crate::workspace::Workspace;

/// Each run's report.
pub const REPORTS: &str = crate::tables::ONESOURCE_REPORTS.path;

/// Whether any dataset of the workspace takes part.
pub fn wanted(ws: &Workspace) -> bool {
    ws.datasets.iter().any(|d| d.onesource.is_some())
}

/// Runs the stage for run `run_id` as one step (a failure is a failed
/// step, never a failed sweep) and keeps its report.
pub async fn onesource_step(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<FixedOffset>,
    declarations: Vec<CatalogDeclaration>,
) -> (Step, Option<OneSourceReport>) {
    let mut step = Step::start(run_id, "onesource", "");
    step.inputs = serde_json::json!({"datasets": ws.datasets.iter().filter(|d| d.onesource.is_some()).map(|d| d.id()).collect::<Vec<_>>()}).to_string();
    let result = async {
        let profile = ws.profile().map_err(|e| e.to_string())?;
        let registry = AuthorityRegistry::load(&profile.id, &ws.dir).map_err(|e| e.to_string())?;
        let o = OneSourceOptions {
            as_of: as_of.date_naive(),
            run: run_id.to_string(),
            declarations,
            matching: MatchConfig::persons(),
            keep_runs: ws.onesource_runs(),
        };
        let report = run_onesource(ws, lake, &registry, &o)
            .await
            .map_err(|e| e.to_string())?;
        record(lake, run_id, as_of.with_timezone(&Utc), &report)
            .await
            .map_err(|e| e.to_string())?;
        Ok::<_, String>(report)
    }
    .await;
    match result {
        Ok(r) => {
            step.rows = Some(r.records as i64);
            step.outputs = serde_json::json!({"subjects": r.subjects, "golden_values": r.golden_values, "conflicts": r.conflicts, "duplicates": r.duplicates.len()}).to_string();
            (step.finish(), Some(r))
        }
        Err(e) => {
            step.fail(e);
            (step.finish(), None)
        }
    }
}

async fn record(
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
    report: &OneSourceReport,
) -> Result<(), LandError> {
    let document = serde_json::to_string_pretty(report).map_err(|e| LandError::lake(REPORTS, e))?;
    outputs::record(
        lake,
        REPORTS,
        &[StageOutput {
            run_id: run_id.into(),
            as_of,
            subject: String::new(),
            document,
        }],
    )
    .await
}

/// The report of the latest run up to `run_id` that resolved, as stored
/// (the published `onesource.json`).
pub async fn latest_report(lake: &Lake, run_id: &str) -> Result<Option<String>, LandError> {
    Ok(outputs::latest(lake, REPORTS, run_id)
        .await?
        .into_iter()
        .next()
        .map(|o| o.document))
}

/// The report's conflicts as rule counts of the copying datasets:
/// `_onesource_consistency` and `_onesource_accuracy`, over the copies
/// compared.
pub fn rule_counts(
    ws: &Workspace,
    report: &OneSourceReport,
    run_id: &str,
    as_of: DateTime<Utc>,
) -> Vec<RuleCount> {
    let mut counts = vec![];
    for (dataset, s) in &report.datasets {
        let Some(d) = ws.datasets.iter().find(|d| d.id() == *dataset) else {
            continue;
        };
        if s.compared == 0 {
            continue;
        }
        for (rule, dimension) in [
            (stage_rules::ONESOURCE_CONSISTENCY, "consistency"),
            (stage_rules::ONESOURCE_ACCURACY, "accuracy"),
        ] {
            counts.push(RuleCount {
                run_id: run_id.to_string(),
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
    counts
}

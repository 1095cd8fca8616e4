//! The catalog stages as steps of a sweep: the harvest before landing, and
//! the assessment (checks and reconciliation with what landed) after it.
//! The assessment's findings (`_pdq/catalog_findings`), its summary per
//! department (`_pdq/catalog_summary`, the evaluation's catalog component)
//! and the whole assessment as published (`_pdq/catalog_assessments`) are
//! kept with the run.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::reconcile::LandedDataset;
use super::{CatalogFinding, CatalogOutcome, CatalogState, FINDINGS, HarvestReport};
use crate::evaluate::CatalogSummary;
use crate::land::{Lake, LandError};
use crate::onesource::duplicate::CatalogDeclaration;
use crate::outputs::{self, StageOutput};
use crate::run::Step;
use crate::workspace::Workspace;

/// Per run and department: the catalog's size and findings.
pub const SUMMARY: &str = crate::tables::CATALOG_SUMMARY.path;
/// Each run's assessment, as published.
pub const ASSESSMENTS: &str = crate::tables::CATALOG_ASSESSMENTS.path;

/// Whether the workspace harvests catalogs at all.
pub fn wanted(ws: &Workspace) -> bool {
    !matches!(super::harvest::load_sources(&ws.dir), Ok(s) if s.is_empty())
}

/// The harvest as a step: every catalog source, one new catalog version if
/// anything changed. (The caller holds the catalog lock until the catalog
/// is assessed.)
pub async fn harvest_step(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
) -> (Step, Option<(HarvestReport, CatalogState)>) {
    let mut step = Step::start(run_id, "harvest", "");
    let sources = super::harvest::load_sources(&ws.dir);
    step.inputs = serde_json::json!({"sources": sources.as_ref().map(|s| s.iter().map(|d| d.name.clone()).collect::<Vec<_>>()).unwrap_or_default()}).to_string();
    match super::harvest::harvest(ws, lake, None, as_of).await {
        Ok((report, state)) => {
            let bad = report.failed_sources();
            if !bad.is_empty() {
                step.set("partial", bad.join("; "));
            }
            step.outputs = serde_json::json!({"version": report.version, "new_version": report.new_version, "changes": report.changes.len(), "sources": report.sources}).to_string();
            step.rows = Some(state.current().count() as i64);
            (step.finish(), Some((report, state)))
        }
        Err(e) => {
            step.fail(e.to_string());
            (step.finish(), None)
        }
    }
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
    pub finding: CatalogFinding,
}

fn utc(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        false,
    )
}

fn findings_schema() -> SchemaRef {
    let s = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    Arc::new(Schema::new(vec![
        s("run_id", false),
        utc("as_of"),
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

fn summary_schema() -> SchemaRef {
    let i = |n: &str| Field::new(n, DataType::Int64, false);
    Arc::new(Schema::new(vec![
        Field::new("run_id", DataType::Utf8, false),
        utc("as_of"),
        Field::new("department", DataType::Utf8, false),
        i("entries"),
        i("entries_with_findings"),
        i("uncatalogued"),
        i("findings"),
    ]))
}

/// The catalog summary of one run, per department.
pub fn summaries(
    run_id: &str,
    as_of: DateTime<Utc>,
    outcome: &CatalogOutcome,
) -> Vec<CatalogSummary> {
    fn row<'a>(
        by: &'a mut BTreeMap<String, CatalogSummary>,
        run_id: &str,
        as_of: DateTime<Utc>,
        d: &str,
    ) -> &'a mut CatalogSummary {
        by.entry(d.to_string()).or_insert_with(|| CatalogSummary {
            run_id: run_id.to_string(),
            as_of,
            department: d.to_string(),
            entries: 0,
            entries_with_findings: 0,
            uncatalogued: 0,
            findings: 0,
        })
    }
    let mut by: BTreeMap<String, CatalogSummary> = BTreeMap::new();
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

/// Every run's catalog summaries, in run order (the evaluation reads them).
pub async fn read_summaries(lake: &Lake) -> Result<Vec<CatalogSummary>, LandError> {
    lake.read_records(SUMMARY, None, "as_of, department").await
}

/// An assessment as kept for publishing: the catalog version assessed
/// (its entries are read back from the catalog table), the harvest, the
/// lake's facts and the findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Assessment {
    catalog_version: i64,
    report: HarvestReport,
    landed: Vec<LandedDataset>,
    findings: Vec<CatalogFinding>,
}

/// The assessment as a step: checks and reconciliation, the findings,
/// summaries and the assessment stored with the run.
pub async fn assess_step(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
    report: HarvestReport,
    state: CatalogState,
) -> (Step, Option<CatalogOutcome>) {
    let mut step = Step::start(run_id, "catalog", "");
    step.inputs = serde_json::json!({"catalog_version": state.version}).to_string();
    let version = state.version;
    let result = async {
        let outcome = super::assess(ws, lake, report, state, as_of).await?;
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
            FINDINGS,
            &findings_schema(),
            &rows,
            Some(&format!("catalog-findings-{run_id}")),
        )
        .await?;
        lake.append_records(
            SUMMARY,
            &summary_schema(),
            &summaries(run_id, as_of, &outcome),
            Some(&format!("catalog-summary-{run_id}")),
        )
        .await?;
        let kept = Assessment {
            catalog_version: version,
            report: outcome.report.clone(),
            landed: outcome.landed.clone(),
            findings: outcome.findings.clone(),
        };
        let document = serde_json::to_string(&kept).map_err(|e| LandError::lake(ASSESSMENTS, e))?;
        outputs::record(
            lake,
            ASSESSMENTS,
            &[StageOutput {
                run_id: run_id.into(),
                as_of,
                subject: String::new(),
                document,
            }],
        )
        .await?;
        Ok::<_, LandError>(outcome)
    }
    .await;
    match result {
        Ok(o) => {
            step.outputs = serde_json::json!({"entries": o.state.current().count(), "findings": o.findings.len()}).to_string();
            step.rows = Some(o.findings.len() as i64);
            (step.finish(), Some(o))
        }
        Err(e) => {
            step.fail(e.to_string());
            (step.finish(), None)
        }
    }
}

/// The assessment of the latest run up to `run_id` that assessed the
/// catalog, with the catalog as it was at the version assessed.
pub async fn latest_assessment(
    lake: &Lake,
    run_id: &str,
) -> Result<Option<(String, DateTime<Utc>, CatalogOutcome)>, LandError> {
    let Some(o) = outputs::latest(lake, ASSESSMENTS, run_id)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let kept: Assessment = outputs::parse(ASSESSMENTS, &o)?;
    let (state, _) = super::store::load_at(lake, Some(kept.catalog_version)).await?;
    Ok(Some((
        o.run_id,
        o.as_of,
        CatalogOutcome {
            report: kept.report,
            state,
            findings: kept.findings,
            landed: kept.landed,
        },
    )))
}

/// The catalog's declarations for duplicate-collection detection: each
/// entry's name and its data items' names, by department.
pub fn declarations(state: &CatalogState) -> Vec<CatalogDeclaration> {
    let mut seen = BTreeSet::new();
    let mut out = vec![];
    // A classified entry is withheld from publication, and the one-source
    // report is published: its name must not reach it as evidence.
    for e in state.current().filter(|e| !e.is_classified()) {
        let names = e
            .name
            .iter()
            .chain(e.items.iter().filter_map(|i| i.name.as_ref()));
        for n in names {
            if seen.insert((e.department.clone(), n.clone())) {
                out.push(CatalogDeclaration {
                    department: e.department.clone(),
                    item_name: n.clone(),
                });
            }
        }
    }
    out
}

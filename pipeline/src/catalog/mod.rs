//! The catalog (公共数据目录): harvested from every department's catalog
//! source, versioned in the lake, checked against the jurisdiction
//! profile, reconciled with the landed data, and published refreshed.
//!
//! - [`model`]: [`CatalogEntry`] and its [`DataItem`]s, normalisation;
//! - [`harvest`]: catalog sources (`catalogs/*.toml`), curation, merging a
//!   harvest into a new version;
//! - [`store`]: the versioned store and change log (`lake/_pdq/catalog`);
//! - [`checks`]: the catalog checks, as [`CatalogFinding`]s;
//! - [`reconcile`]: entries against landed datasets and deliveries;
//! - [`publish`]: the refreshed catalog's files;
//! - [`events`]: changes of law or function, which start the
//!   catalog-update clock (`catalog-changes.toml`);
//! - [`approvals`]: approval records for lowering an attribute
//!   (`catalog-approvals.toml`, or the entry's 审核记录);
//! - [`withdrawals`]: withdrawn shared entries with consumers, their
//!   replacement and notification (`catalog-withdrawals.toml`);
//! - [`open_adjustment`]: the open catalog's yearly adjustment, where the
//!   text sets one;
//! - [`workfile`]: those files' one-line errors;
//! - [`vocab`]: the words portals use for the open and share attributes
//!   and the update frequency, and a source's own `[values]`.

pub mod approvals;
pub mod checks;
pub mod events;
pub mod harvest;
pub mod model;
pub mod open_adjustment;
pub mod projects;
pub mod publish;
pub mod reconcile;
pub mod reviews;
pub mod step;
pub mod store;
pub mod suggest;
pub mod vocab;
pub mod withdrawals;
pub mod workfile;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

pub use checks::CatalogFinding;
pub use harvest::{CatalogSourceDef, HarvestReport};
pub use model::{CatalogEntry, DataItem, Frequency, normalize_date};
pub use store::CatalogState;

use crate::land::{Lake, LandError};
use crate::workspace::Workspace;

/// Each run's catalog findings, as the sweep stores them.
pub const FINDINGS: &str = crate::tables::CATALOG_FINDINGS.path;

/// What a catalog stage produced.
#[derive(Debug, Clone)]
pub struct CatalogOutcome {
    /// The harvest.
    pub report: HarvestReport,
    /// The catalog in force after it.
    pub state: CatalogState,
    /// Checks and reconciliation findings.
    pub findings: Vec<CatalogFinding>,
    /// The lake's facts per dataset.
    pub landed: Vec<reconcile::LandedDataset>,
}

/// Harvests (all sources, or the one named), checks and reconciles.
pub async fn run(
    ws: &Workspace,
    lake: &Lake,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Result<CatalogOutcome, LandError> {
    let (report, state) = harvest::harvest(ws, lake, only, now).await?;
    assess(ws, lake, report, state, now).await
}

/// Checks and reconciles the catalog after a harvest (in a sweep: after
/// landing, so that reconciliation sees this night's deliveries).
pub async fn assess(
    ws: &Workspace,
    lake: &Lake,
    report: HarvestReport,
    state: CatalogState,
    now: DateTime<Utc>,
) -> Result<CatalogOutcome, LandError> {
    let profile = ws.profile()?;
    let cal = ws.calendar()?;
    let tz = ws.tz();
    let clock = std::time::Instant::now();
    let bad = |e: workfile::InputError| LandError::Config(e.to_string());
    let approvals = approvals::load(&ws.dir, &state).map_err(bad)?;
    let events = events::load(&ws.dir, &state).map_err(bad)?;
    let reviews = reviews::load(&ws.dir, &state).map_err(bad)?;
    let projects = projects::load(&ws.dir, &state).map_err(bad)?;
    let mut findings =
        checks::check_with_approvals(&state, &profile.catalog, &report.problems, tz, &approvals);
    tracing::info!(
        findings = findings.len(),
        seconds = clock.elapsed().as_secs_f64(),
        "catalog checked"
    );
    let clock = std::time::Instant::now();
    let landed = reconcile::landed_facts(ws, lake).await?;
    tracing::info!(
        datasets = landed.len(),
        seconds = clock.elapsed().as_secs_f64(),
        "landed facts read"
    );
    findings.extend(
        reconcile::reconcile(
            &state,
            &landed,
            profile.catalog.lateness_unit,
            &cal,
            tz,
            now,
        )
        .map_err(|e| LandError::Config(format!("catalog reconciliation: {e}")))?,
    );
    // The catalog-update clock starts at a recorded change of law or
    // function (第八条 and its peers), never at schema drift.
    let today = now.with_timezone(&tz).date_naive();
    let overdue = events::overdue(&events, &state, &profile, &cal, tz, today)
        .map_err(|e| LandError::Config(format!("catalog update deadline: {e}")))?;
    findings.extend(overdue);
    // The bureau's review (审定) and the departments' revisions, where the
    // text sets their deadlines.
    findings.extend(
        reviews::overdue(&reviews, &state, &profile, &cal, tz, today, ws.bureau())
            .map_err(|e| LandError::Config(format!("catalog review deadline: {e}")))?,
    );
    // IT projects' entries, due before their acceptance where the text says.
    findings.extend(projects::late(&projects, &state, &profile, tz, today));
    // Shared entries withdrawn while departments used them (新疆 第二十四条,
    // 西藏 第十七条): replacement first, consumers notified.
    if profile.catalog.withdrawal_notice {
        let withdrawals = withdrawals::load(&ws.dir, &state).map_err(bad)?;
        let any_withdrawn = state.entries.values().any(|s| s.withdrawn);
        let usage = if any_withdrawn {
            crate::usage::store::rows(lake).await.map_err(|e| match e {
                crate::usage::UsageError::Lake(l) => l,
                other => LandError::Config(other.to_string()),
            })?
        } else {
            vec![]
        };
        findings.extend(withdrawals::unresolved(
            &withdrawals,
            &state,
            &usage,
            &profile,
        ));
    }
    // The open catalog's yearly adjustment (吴忠 第三十条).
    if profile.catalog.open_adjustment_yearly {
        let (_, rows) = store::load(lake).await?;
        findings.extend(open_adjustment::missed_years(
            &rows,
            &profile,
            ws.bureau(),
            tz,
            today,
        ));
    }
    Ok(CatalogOutcome {
        report,
        state,
        findings,
        landed,
    })
}

/// The published catalog's files, enriched with quality scores by dataset id.
pub fn published_files(
    ws: &Workspace,
    outcome: &CatalogOutcome,
    scores: &BTreeMap<String, Option<f64>>,
    now: DateTime<Utc>,
) -> Result<Vec<(String, Vec<u8>)>, LandError> {
    let sink = publish::MemorySink::default();
    let order = publish_into(ws, outcome, scores, now, &sink)?;
    Ok(sink.into_files(&order))
}

/// Writes the published catalog's files into `sink` (see
/// [`publish::write_files`]); [`publish::DirSink`] writes each atomically.
/// Returns the files' names in their published order.
pub fn publish_into(
    ws: &Workspace,
    outcome: &CatalogOutcome,
    scores: &BTreeMap<String, Option<f64>>,
    now: DateTime<Utc>,
    sink: &dyn publish::FileSink,
) -> Result<Vec<String>, LandError> {
    let profile = ws.profile()?;
    let entries = publish::enrich(
        &outcome.state,
        &outcome.landed,
        &outcome.findings,
        scores,
        &profile.catalog,
    );
    publish::write_files(
        sink,
        ws.bureau(),
        outcome.state.version,
        now,
        entries,
        &outcome.findings,
        outcome.report.version_log(),
        &outcome.state,
    )
    .map_err(LandError::Config)
}

#[cfg(test)]
mod tests;

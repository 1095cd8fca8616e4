//! Every table in the lake, named once: its path, the stage that owns it
//! (ARCHITECTURE.md, "One stage, one owner") and what one row is.
//!
//! Each stage's module re-exports the paths it owns under the names its
//! code uses; nothing else in the workspace spells a `_pdq/…` path. A new
//! table is added here first, then to [`ALL`].
//!
//! Per-dataset tables are named by the dataset: `data/<department>/<name>`
//! (landed rows) and `quarantine/<department>/<name>` (rejected rows), see
//! [`crate::land::DatasetDef::data_path`] and
//! [`crate::land::DatasetDef::quarantine_path`].
//!
//! ```
//! use pipeline::tables::{ALL, RULE_RESULTS};
//! assert_eq!(RULE_RESULTS.path, "_pdq/rule_results");
//! // Every path is listed once.
//! let mut paths: Vec<&str> = ALL.iter().map(|t| t.path).collect();
//! paths.sort();
//! paths.dedup();
//! assert_eq!(paths.len(), ALL.len());
//! ```

/// A lake table and its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LakeTable {
    /// Its path under the lake's root.
    pub path: &'static str,
    /// The stage that writes it (`land`, `check`, `score`, …).
    pub owner: &'static str,
    /// What one row is.
    pub row: &'static str,
}

/// The delivery ledger: one row per delivery seen (landed, unchanged,
/// failed, held back), with its counts.
pub const DELIVERIES: LakeTable = LakeTable {
    path: "_pdq/deliveries",
    owner: "land",
    row: "a delivery: source location, fingerprint, rows read/landed/quarantined, status",
};
/// Rule counts per run and dataset: what scoring and the evaluation read
/// (landing, checking and one-source each count; scoring records them).
pub const RULE_RESULTS: LakeTable = LakeTable {
    path: "_pdq/rule_results",
    owner: "score",
    row: "a rule's evaluated and failed counts in one run",
};
/// Each run's check report per dataset, as published.
pub const CHECK_REPORTS: LakeTable = LakeTable {
    path: "_pdq/check_reports",
    owner: "check",
    row: "a dataset's check report in one run (samples masked, as published)",
};
/// Scorecards per run, dataset and department.
pub const SCORECARDS: LakeTable = LakeTable {
    path: "_pdq/scorecards",
    owner: "score",
    row: "a dataset's or department's scorecard in one run",
};
/// The versioned catalog.
pub const CATALOG: LakeTable = LakeTable {
    path: "_pdq/catalog",
    owner: "harvest",
    row: "a catalog entry (or data item) as harvested, with its version",
};
/// Each run's catalog findings.
pub const CATALOG_FINDINGS: LakeTable = LakeTable {
    path: "_pdq/catalog_findings",
    owner: "catalog",
    row: "a finding on a catalog entry in one run",
};
/// Per run and department: the catalog's size and findings.
pub const CATALOG_SUMMARY: LakeTable = LakeTable {
    path: "_pdq/catalog_summary",
    owner: "catalog",
    row: "a department's catalog entries and findings in one run",
};
/// Each run's catalog assessment, as published.
pub const CATALOG_ASSESSMENTS: LakeTable = LakeTable {
    path: "_pdq/catalog_assessments",
    owner: "catalog",
    row: "a run's catalog assessment: version, changes, landed facts and findings",
};
/// Measured facts per dataset and table version (for reconciliation).
pub const DATASET_FACTS: LakeTable = LakeTable {
    path: "_pdq/dataset_facts",
    owner: "catalog",
    row: "a landed table version's measured facts (rows, columns, newest value)",
};
/// Golden records.
pub const ONESOURCE_GOLDEN: LakeTable = LakeTable {
    path: "_pdq/onesource/golden",
    owner: "onesource",
    row: "a subject's golden record, each value with its source",
};
/// Record → subject lineage.
pub const ONESOURCE_LINKS: LakeTable = LakeTable {
    path: "_pdq/onesource/links",
    owner: "onesource",
    row: "a source record linked to a subject, with the evidence",
};
/// Conflicts with the authoritative source (unmasked: the lake is the bureau's).
pub const ONESOURCE_CONFLICTS: LakeTable = LakeTable {
    path: "_pdq/onesource/conflicts",
    owner: "onesource",
    row: "a copy's value that differs from the authoritative source's",
};
/// Duplicate-collection findings.
pub const ONESOURCE_DUPLICATES: LakeTable = LakeTable {
    path: "_pdq/onesource/duplicates",
    owner: "onesource",
    row: "a data item collected by a department that is not its source",
};
/// Each run's one-source report, as published.
pub const ONESOURCE_REPORTS: LakeTable = LakeTable {
    path: "_pdq/onesource/reports",
    owner: "onesource",
    row: "a run's one-source report (counts and masked samples, as published)",
};
/// Hand corrections of stored counts.
pub const CORRECTIONS: LakeTable = LakeTable {
    path: "_pdq/corrections",
    owner: "evaluate",
    row: "an audited correction of one stored rule count",
};
/// Objections (异议/校核) and everything done about them.
pub const OBJECTIONS: LakeTable = LakeTable {
    path: "_pdq/objections",
    owner: "objection",
    row: "one event of an objection: filed, forwarded, answered, corrected, confirmed, re-opened, closed",
};
/// The sharing platform's usage log (共享/使用日志), as imported.
pub const USAGE_LOG: LakeTable = LakeTable {
    path: "_pdq/usage_log",
    owner: "usage",
    row: "one use of a dataset or catalog entry: when, consumer, data, purpose, operator (masked in outputs) …",
};
/// Usage-log rows that could not be landed.
pub const USAGE_QUARANTINE: LakeTable = LakeTable {
    path: "_pdq/usage_quarantine",
    owner: "usage",
    row: "a usage-log row not landed: its file, line, column and reason",
};
/// Prunes of the usage log past the profile's retention (`pdq usage prune`).
pub const USAGE_PRUNES: LakeTable = LakeTable {
    path: "_pdq/usage_prunes",
    owner: "usage",
    row: "a prune of the usage log: its horizon, the article, the rows it removes and keeps",
};
/// Run events (started, finished).
pub const RUNS: LakeTable = LakeTable {
    path: "_pdq/runs",
    owner: "sweep",
    row: "a run's start or end, with its status and counts",
};
/// The steps of each run.
pub const RUN_STEPS: LakeTable = LakeTable {
    path: "_pdq/run_steps",
    owner: "sweep",
    row: "one stage of one dataset (or of the whole run) in a run",
};

/// Every lake table, in the order the stages run.
pub const ALL: &[LakeTable] = &[
    CATALOG,
    DELIVERIES,
    CHECK_REPORTS,
    ONESOURCE_GOLDEN,
    ONESOURCE_LINKS,
    ONESOURCE_CONFLICTS,
    ONESOURCE_DUPLICATES,
    ONESOURCE_REPORTS,
    RULE_RESULTS,
    SCORECARDS,
    CATALOG_FINDINGS,
    CATALOG_SUMMARY,
    CATALOG_ASSESSMENTS,
    DATASET_FACTS,
    CORRECTIONS,
    OBJECTIONS,
    USAGE_LOG,
    USAGE_QUARANTINE,
    USAGE_PRUNES,
    RUNS,
    RUN_STEPS,
];

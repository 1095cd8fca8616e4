//! Lake upkeep: the files no version within `[retention] lake_days` needs
//! are deleted, so that a workspace swept every night for years holds its
//! current data and a window of time travel, not every full delivery it
//! ever replaced (each replaced delivery stays on disk until vacuumed).
//!
//! Every table of [`crate::tables::ALL`] and every dataset's data and
//! quarantine tables are vacuumed, each on its own: one table that cannot
//! be vacuumed is named in the step's error and the others still are.

use serde::Serialize;

use super::{Lake, Vacuumed};
use crate::run::Step;
use crate::workspace::Workspace;

/// What one vacuum of the lake did (the JSON of `pdq vacuum --format json`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LakeVacuum {
    /// Whether nothing was deleted: the figures say what would be.
    pub dry_run: bool,
    /// Days of time travel kept.
    pub lake_days: i64,
    /// Tables vacuumed (those that exist).
    pub tables: u64,
    /// Files deleted, all tables.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The tables that lost files, and what each lost.
    pub deleted: Vec<TableVacuumed>,
    /// The tables that could not be vacuumed, and why.
    pub failed: Vec<TableFailed>,
}

/// A table that lost files to a vacuum.
#[derive(Debug, Clone, Serialize)]
pub struct TableVacuumed {
    /// Its path in the lake.
    pub table: String,
    /// Files deleted.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// A table that could not be vacuumed.
#[derive(Debug, Clone, Serialize)]
pub struct TableFailed {
    /// Its path in the lake.
    pub table: String,
    /// Why.
    pub error: String,
}

/// The lake's tables a workspace has: the stages' tables, then each
/// dataset's landed rows and quarantine.
pub fn lake_tables(ws: &Workspace) -> Vec<String> {
    let mut tables: Vec<String> = crate::tables::ALL
        .iter()
        .map(|t| t.path.to_string())
        .collect();
    for d in &ws.datasets {
        tables.push(d.data_path());
        tables.push(d.quarantine_path());
    }
    tables
}

/// Tables vacuumed at once (each is a few reads of its log and a listing:
/// on S3, round trips).
const AT_ONCE: usize = 4;

/// Vacuums every table of the workspace's lake, keeping `keep` of time
/// travel, a few tables at once; the figures list tables in the order of
/// [`lake_tables`]. With `dry_run`, nothing is deleted: the figures say
/// what would be.
pub async fn vacuum_lake(
    ws: &Workspace,
    lake: &Lake,
    keep: chrono::Duration,
    dry_run: bool,
) -> LakeVacuum {
    use futures::StreamExt;
    let mut out = LakeVacuum {
        dry_run,
        lake_days: keep.num_days(),
        ..Default::default()
    };
    let mut pending = futures::stream::FuturesOrdered::new();
    for table in lake_tables(ws) {
        pending.push_back(vacuum_one(lake, table, keep, dry_run));
        if pending.len() >= AT_ONCE
            && let Some((table, result)) = pending.next().await
        {
            out.add(table, result, dry_run);
        }
    }
    while let Some((table, result)) = pending.next().await {
        out.add(table, result, dry_run);
    }
    out
}

async fn vacuum_one(
    lake: &Lake,
    table: String,
    keep: chrono::Duration,
    dry_run: bool,
) -> (String, Result<Option<Vacuumed>, super::LandError>) {
    let result = lake.vacuum(&table, keep, dry_run).await;
    (table, result)
}

impl LakeVacuum {
    fn add(
        &mut self,
        table: String,
        result: Result<Option<Vacuumed>, super::LandError>,
        dry_run: bool,
    ) {
        match result {
            Ok(None) => {}
            Ok(Some(v)) => {
                self.tables += 1;
                self.files += v.files;
                self.bytes += v.bytes;
                if v.files > 0 {
                    tracing::info!(table = %table, files = v.files, bytes = v.bytes, dry_run, "vacuumed");
                    self.deleted.push(TableVacuumed {
                        table,
                        files: v.files,
                        bytes: v.bytes,
                    });
                }
            }
            Err(e) => {
                tracing::warn!(table = %table, error = %e, "cannot vacuum");
                self.failed.push(TableFailed {
                    table,
                    error: e.to_string(),
                });
            }
        }
    }
}

/// The vacuum as the last step of a sweep: failed, naming each table and
/// why, when a table could not be vacuumed (the others are); the sweep's
/// work is committed before it either way.
pub async fn vacuum_step(ws: &Workspace, lake: &Lake, run_id: &str) -> Step {
    let mut step = Step::start(run_id, "vacuum", "");
    let keep = ws.lake_retention();
    step.inputs = serde_json::json!({"lake_days": keep.num_days()}).to_string();
    let v = vacuum_lake(ws, lake, keep, false).await;
    step.outputs =
        serde_json::json!({"tables": v.tables, "files_deleted": v.files, "bytes_deleted": v.bytes})
            .to_string();
    if !v.failed.is_empty() {
        let why: Vec<String> = v
            .failed
            .iter()
            .map(|f| format!("{}: {}", f.table, f.error))
            .collect();
        step.fail(format!("cannot vacuum {}", why.join("; ")));
    }
    step.finish()
}

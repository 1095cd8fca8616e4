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

/// What one vacuum of the lake did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LakeVacuum {
    /// Days of time travel kept.
    pub days: i64,
    /// Tables vacuumed (those that exist).
    pub tables: u64,
    /// Files deleted, all tables.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Per table that lost files: its path and what it lost.
    pub deleted: Vec<(String, Vacuumed)>,
    /// Per table that could not be vacuumed: its path and why.
    pub failed: Vec<(String, String)>,
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

/// Vacuums every table of the workspace's lake, keeping `keep` of time
/// travel. With `dry_run`, nothing is deleted: the figures say what would be.
pub async fn vacuum_lake(
    ws: &Workspace,
    lake: &Lake,
    keep: chrono::Duration,
    dry_run: bool,
) -> LakeVacuum {
    let mut out = LakeVacuum {
        days: keep.num_days(),
        ..Default::default()
    };
    for table in lake_tables(ws) {
        match lake.vacuum(&table, keep, dry_run).await {
            Ok(None) => {}
            Ok(Some(v)) => {
                out.tables += 1;
                out.files += v.files;
                out.bytes += v.bytes;
                if v.files > 0 {
                    tracing::info!(table = %table, files = v.files, bytes = v.bytes, dry_run, "vacuumed");
                    out.deleted.push((table, v));
                }
            }
            Err(e) => {
                tracing::warn!(table = %table, error = %e, "cannot vacuum");
                out.failed.push((table, e.to_string()));
            }
        }
    }
    out
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
        let why: Vec<String> = v.failed.iter().map(|(t, e)| format!("{t}: {e}")).collect();
        step.fail(format!("cannot vacuum {}", why.join("; ")));
    }
    step.finish()
}

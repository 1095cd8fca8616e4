//! The lake's upkeep: what a table no longer needs goes ([`Lake::vacuum`],
//! [`Lake::keep_latest_runs`]), and what it does need stays readable
//! ([`Lake::keep_every_version`]).

use std::collections::HashMap;

use deltalake::TableProperty;
use object_store::path::Path as StorePath;
use serde::{Deserialize, Serialize};

use super::Lake;
use crate::land::error::LandError;

/// What a vacuum of one table deleted ([`Lake::vacuum`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vacuumed {
    /// Files deleted.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Commits the removal of `runs`' files (`removes`) from `table`.
async fn remove_runs(
    table: &mut deltalake::DeltaTable,
    path: &str,
    column: &str,
    runs: &[&String],
    removes: Vec<deltalake::kernel::Action>,
) -> Result<(), LandError> {
    use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
    use deltalake::protocol::DeltaOperation;
    let err = |e: &dyn std::fmt::Display| LandError::lake(path, e);
    let snapshot = table.snapshot().map_err(|e| err(&e))?;
    let quoted: Vec<String> = runs
        .iter()
        .map(|r| format!("'{}'", r.replace('\'', "''")))
        .collect();
    let operation = DeltaOperation::Delete {
        predicate: Some(format!("{column} IN ({})", quoted.join(", "))),
    };
    CommitBuilder::from(CommitProperties::default())
        .with_actions(removes)
        .build(Some(snapshot), table.log_store(), operation)
        .await
        .map_err(|e| err(&e))?;
    table.update_state().await.map_err(|e| err(&e))?;
    Ok(())
}

/// The one value a data file's Delta statistics give `column` (its minimum
/// equal to its maximum), if they do.
fn single_value(stats: &str, column: &str) -> Option<String> {
    let stats: serde_json::Value = serde_json::from_str(stats).ok()?;
    let min = stats.get("minValues")?.get(column)?.as_str()?;
    let max = stats.get("maxValues")?.get(column)?.as_str()?;
    (min == max).then(|| min.to_string())
}

impl Lake {
    /// Makes every version of table `path` stay readable: Delta deletes log
    /// files older than 30 days once a later checkpoint covers them, unless
    /// the table says not to (`delta.enableExpiredLogCleanup = false`, which
    /// every table pdq creates says). The annual evaluation reads
    /// `_pdq/rule_results` at the version of the year's last run, months
    /// later. For tables made before that rule: one commit setting the
    /// property, made once. Data files are not kept by this: only the log
    /// (a small file a commit); [`Lake::vacuum`] still deletes replaced
    /// files past its window. Returns whether it had to be set.
    pub async fn keep_every_version(&self, path: &str) -> Result<bool, LandError> {
        let Some(table) = self.open_table(path).await? else {
            return Ok(false);
        };
        let err = |e: &dyn std::fmt::Display| LandError::lake(path, e);
        let key = TableProperty::EnableExpiredLogCleanup.as_ref();
        let set = table
            .snapshot()
            .map_err(|e| err(&e))?
            .metadata()
            .configuration()
            .get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("false"));
        if set {
            return Ok(false);
        }
        table
            .set_tbl_properties()
            .with_properties(HashMap::from([(key.to_string(), "false".to_string())]))
            .await
            .map_err(|e| err(&e))?;
        Ok(true)
    }
    /// Deletes the files of table `path` that no version committed within
    /// `keep` needs: files a later version replaced or removed more than
    /// `keep` ago (a full delivery's predecessor, rows a prune removed),
    /// and files older than `keep` that no version ever committed (a write
    /// that died before its commit). The current version and every version
    /// committed within `keep` stay readable (time travel); a table only
    /// ever appended to loses nothing readable. No commit is made when
    /// there is nothing to delete. With `dry_run`, nothing is: the figures
    /// say what would be. `None`: no such table.
    pub async fn vacuum(
        &self,
        path: &str,
        keep: chrono::Duration,
        dry_run: bool,
    ) -> Result<Option<Vacuumed>, LandError> {
        use deltalake::operations::vacuum::VacuumMode;
        let Some(table) = self.open_table(path).await? else {
            return Ok(None);
        };
        let store = table.object_store();
        let plan = |dry_run: bool| {
            table
                .clone()
                .vacuum()
                .with_mode(VacuumMode::Full)
                .with_retention_period(keep)
                // The workspace's `[retention] lake_days` is the rule here,
                // not the table's own default of seven days.
                .with_enforce_retention_duration(false)
                .with_dry_run(dry_run)
        };
        let (_, planned) = plan(true).await.map_err(|e| LandError::lake(path, e))?;
        // The log remembers a removed file after it is deleted: only the
        // files still there count, and none left means no commit.
        let mut there = Vacuumed::default();
        for f in &planned.files_deleted {
            let at = StorePath::from(f.as_str());
            if let Ok(meta) = object_store::ObjectStoreExt::head(store.as_ref(), &at).await {
                there.files += 1;
                there.bytes += meta.size;
            }
        }
        if dry_run || there.files == 0 {
            return Ok(Some(there));
        }
        plan(false).await.map_err(|e| LandError::lake(path, e))?;
        Ok(Some(there))
    }

    /// Keeps the rows of the `keep` runs written last to table `path` and
    /// removes those of older runs, in one commit. A run is the value of
    /// the string column `column`; runs are ordered by when their files
    /// were written, not by name. The rows go by whole files, read from
    /// the table's log (nothing is read or rewritten): each file a run
    /// appends holds that run only, so its statistics give one value. A
    /// file whose statistics show several values, or none, is kept. The
    /// files stay on disk, readable by time travel, until
    /// [`Lake::vacuum`]. Returns the runs removed, oldest first.
    pub async fn keep_latest_runs(
        &self,
        path: &str,
        column: &str,
        keep: usize,
    ) -> Result<Vec<String>, LandError> {
        self.keep_latest_runs_of(&[path], column, keep).await
    }

    /// [`Lake::keep_latest_runs`] for the tables one stage writes each run:
    /// the stage's last `keep` runs are those written last to *any* of
    /// `paths`, and every table keeps those and no others. A run that
    /// wrote rows to one table only (conflicts, found in few runs) goes
    /// from it once the stage has made `keep` runs since, not once that
    /// table has `keep` newer runs. One commit per table that loses rows.
    /// Returns the runs removed, oldest first.
    pub async fn keep_latest_runs_of(
        &self,
        paths: &[&str],
        column: &str,
        keep: usize,
    ) -> Result<Vec<String>, LandError> {
        use deltalake::kernel::Action;
        // Per table: its state and run -> its files; across tables: run ->
        // the latest write time of its files.
        let mut tables = vec![];
        let mut latest: HashMap<String, i64> = HashMap::new();
        for &path in paths {
            let Some(table) = self.open_table(path).await? else {
                continue;
            };
            let snapshot = table.snapshot().map_err(|e| LandError::lake(path, e))?;
            let mut runs: HashMap<String, Vec<Action>> = HashMap::new();
            for f in snapshot.log_data().iter() {
                let Some(run) = f.stats().and_then(|s| single_value(&s, column)) else {
                    continue;
                };
                let t = latest.entry(run.clone()).or_insert(i64::MIN);
                *t = (*t).max(f.modification_time());
                runs.entry(run)
                    .or_default()
                    .push(Action::Remove(f.remove_action(true)));
            }
            tables.push((path, table, runs));
        }
        if latest.len() <= keep {
            return Ok(vec![]);
        }
        let mut order: Vec<(i64, String)> = latest.into_iter().map(|(r, t)| (t, r)).collect();
        order.sort();
        let gone: Vec<String> = order[..order.len() - keep]
            .iter()
            .map(|(_, r)| r.clone())
            .collect();
        for (path, mut table, mut runs) in tables {
            let mine: Vec<&String> = gone.iter().filter(|r| runs.contains_key(*r)).collect();
            if mine.is_empty() {
                continue;
            }
            let removes: Vec<Action> = mine
                .iter()
                .flat_map(|r| runs.remove(*r).unwrap_or_default())
                .collect();
            remove_runs(&mut table, path, column, &mine, removes).await?;
        }
        Ok(gone)
    }
}

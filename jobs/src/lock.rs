//! Per-dataset locks, so that two sweeps (a scheduled one and a manual one,
//! say) never work on the same dataset at once. OS advisory locks on files
//! in the workspace: released when the holder exits, however it exits.
//! Each run also holds one while it runs, so that a later sweep can tell a
//! run whose process is gone from one still going.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct DatasetLock {
    _file: File,
}

/// Takes the lock of dataset `id` under `dir` without waiting: `Ok(None)`
/// when another process holds it.
pub fn try_lock(dir: &Path, id: &str) -> std::io::Result<Option<DatasetLock>> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{id}.lock"));
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            writeln!(file, "pid {}", std::process::id())?;
            Ok(Some(DatasetLock { _file: file }))
        }
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Takes lock `id`, waiting up to `patience` for its holder to let go:
/// `Ok(None)` when it is still held then. The wait yields to the runtime
/// (a sweep waits here inside the daemon's runtime: a blocking sleep would
/// hold a worker thread for up to `patience`).
pub async fn wait_lock(
    dir: &Path,
    id: &str,
    patience: std::time::Duration,
) -> std::io::Result<Option<DatasetLock>> {
    let until = tokio::time::Instant::now() + patience;
    loop {
        if let Some(l) = try_lock(dir, id)? {
            return Ok(Some(l));
        }
        if tokio::time::Instant::now() >= until {
            return Ok(None);
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// The lock every publication is written under (a sweep's last step, and
/// `pdq publish`), so that two never swap `latest.json` and the site at once.
pub const PUBLISH_LOCK: &str = "_publish";

/// Where a workspace's locks are.
pub fn lock_dir(workspace: &Path) -> PathBuf {
    workspace.join(".pdq/locks")
}

/// The lock that says run `run_id` is alive.
pub fn run_lock(run_id: &str) -> String {
    format!("run-{run_id}")
}

/// Closes, as interrupted, every unfinished run whose liveness lock is free:
/// its process is gone. A run still going (another sweep, or the daemon's)
/// holds its lock and is left alone.
pub async fn close_interrupted(
    lake: &pipeline::land::Lake,
    lock_dir: &Path,
    by: &str,
) -> Result<(), pipeline::land::LandError> {
    for r in pipeline::run::runs(lake).await? {
        if r.finished.is_some() || r.started.run_id == by {
            continue;
        }
        let id = run_lock(&r.started.run_id);
        let free = try_lock(lock_dir, &id).map_err(|e| {
            pipeline::land::LandError::Config(format!("run lock in {}: {e}", lock_dir.display()))
        })?;
        if let Some(lock) = free {
            pipeline::run::record_interrupted(lake, &r, by, chrono::Utc::now()).await?;
            tracing::warn!(run = %r.started.run_id, "an unfinished run whose process is gone was closed as interrupted");
            drop(lock);
            let _ = std::fs::remove_file(lock_dir.join(format!("{id}.lock")));
        }
    }
    Ok(())
}

/// The runs started before `run_id` that were still going when it came to
/// score: those it waited for until they ended, and those still going when
/// `patience` ran out.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EarlierRuns {
    /// Ended while this run waited: their counts are in its scorecards.
    pub waited_for: Vec<String>,
    /// Still going: this run scores without what they will count.
    pub still_going: Vec<String>,
}

impl EarlierRuns {
    /// Names the runs on `step` (the score step), under `waited_for` and
    /// `still_going` in its inputs, and warns of those still going.
    pub fn note_on(&self, step: &mut pipeline::run::Step) {
        for id in &self.still_going {
            tracing::warn!(run = %step.run_id, earlier = %id, "a sweep started earlier is still going: this run's scorecards do not hold what it counts");
        }
        if *self != EarlierRuns::default()
            && let Ok(serde_json::Value::Object(mut inputs)) = serde_json::from_str(&step.inputs)
        {
            inputs.insert("waited_for".into(), self.waited_for.clone().into());
            inputs.insert("still_going".into(), self.still_going.clone().into());
            step.inputs = serde_json::Value::Object(inputs).to_string();
        }
    }
}

/// Waits until every run that started before `run_id` (ids sort in start
/// order, `pipeline::run::new_id`) and has not ended lets go of its liveness
/// lock, for at most `patience` in all. A newer run's publication becomes
/// the current one; waiting makes it hold what the older overlapping runs
/// counted (issue #23, 1). Older runs never wait for newer ones, so two
/// sweeps never wait for each other.
pub async fn wait_for_earlier_runs(
    lake: &pipeline::land::Lake,
    lock_dir: &Path,
    run_id: &str,
    patience: std::time::Duration,
) -> Result<EarlierRuns, pipeline::land::LandError> {
    let until = tokio::time::Instant::now() + patience;
    let mut out = EarlierRuns::default();
    let mut earlier: Vec<String> = pipeline::run::runs(lake)
        .await?
        .into_iter()
        .filter(|r| r.finished.is_none() && r.started.run_id.as_str() < run_id)
        .map(|r| r.started.run_id)
        .collect();
    earlier.sort();
    for id in earlier {
        let name = run_lock(&id);
        let config = |e: std::io::Error| {
            pipeline::land::LandError::Config(format!("run lock in {}: {e}", lock_dir.display()))
        };
        if try_lock(lock_dir, &name).map_err(config)?.is_some() {
            // Its process is gone (the lock was dropped as it was taken).
            let _ = std::fs::remove_file(lock_dir.join(format!("{name}.lock")));
            continue;
        }
        tracing::info!(run = %id, "waiting for a sweep that started earlier to end before scoring");
        let left = until.saturating_duration_since(tokio::time::Instant::now());
        match wait_lock(lock_dir, &name, left).await {
            Ok(Some(lock)) => {
                drop(lock);
                // The file was the other run's; it has ended.
                let _ = std::fs::remove_file(lock_dir.join(format!("{name}.lock")));
                out.waited_for.push(id);
            }
            Ok(None) => out.still_going.push(id),
            Err(e) => return Err(config(e)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_refused_until_released() {
        let dir = tempfile::tempdir().unwrap();
        let a = try_lock(dir.path(), "gongan.residents")
            .unwrap()
            .expect("free");
        // flock locks belong to the open file description: a second open
        // in the same process is refused as another process would be.
        assert!(try_lock(dir.path(), "gongan.residents").unwrap().is_none());
        assert!(
            try_lock(dir.path(), "minzheng.marriage").unwrap().is_some(),
            "other datasets are free"
        );
        drop(a);
        assert!(try_lock(dir.path(), "gongan.residents").unwrap().is_some());
    }

    /// On a one-thread runtime, the holder (another task) can let go while
    /// `wait_lock` waits: the wait does not block the thread.
    #[tokio::test(flavor = "current_thread")]
    async fn waiting_for_a_lock_lets_other_tasks_run() {
        let dir = tempfile::tempdir().unwrap();
        let held = try_lock(dir.path(), PUBLISH_LOCK).unwrap().expect("free");
        let holder = tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            drop(held);
        });
        let got = wait_lock(dir.path(), PUBLISH_LOCK, std::time::Duration::from_secs(2))
            .await
            .unwrap();
        assert!(got.is_some(), "taken once the holder let go");
        holder.await.unwrap();
        // Held (by `got`) for longer than the patience: `None`.
        assert!(
            wait_lock(
                dir.path(),
                PUBLISH_LOCK,
                std::time::Duration::from_millis(300)
            )
            .await
            .unwrap()
            .is_none()
        );
    }
}

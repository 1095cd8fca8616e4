//! Local copies of a remote lake's data files, for the engines that read
//! files from disk (the check reads Parquet with each row's file and row
//! number; a Ballista cluster is staged from those files).
//!
//! A Delta data file never changes once written (a new version writes new
//! files and removes old ones from the log), so a copy is fetched once,
//! kept under the cache directory by the lake's location, the table and
//! the file's own path, and used while its size is the size the log
//! records. A copy is written to a temporary name, synced and renamed: a
//! crash never leaves a partial file under a data file's name. Copies of
//! files that the table's current version no longer has are removed when
//! the table is next read, so the cache holds about one version of each
//! table that was checked.

use std::path::{Path, PathBuf};

use deltalake::DeltaTable;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use url::Url;

use super::error::LandError;

/// Suffix of a copy being fetched.
const PART: &str = ".part";

/// A temporary file older than this belongs to a fetch that died.
const STALE_PART: std::time::Duration = std::time::Duration::from_secs(3600);

/// The directory under `cache` that holds a table's copies: the lake's
/// host (bucket) and path, then the table's path, so two lakes never share
/// a copy.
pub(crate) fn table_dir(cache: &Path, table_url: &Url) -> PathBuf {
    let mut dir = cache.join(table_url.host_str().unwrap_or("_"));
    for part in table_url.path().split('/').filter(|p| !p.is_empty()) {
        // Path segments come from the lake's configuration and the table
        // names pdq chose; `..` never leaves the cache.
        if part != ".." && part != "." {
            dir.push(part);
        }
    }
    dir
}

/// Local copies of the data files of `table`'s loaded version, fetching
/// the ones missing (or of the wrong size), in the log's order.
pub(crate) async fn local_copies(
    table: &DeltaTable,
    table_path: &str,
    cache: &Path,
) -> Result<Vec<PathBuf>, LandError> {
    let err = |e: &dyn std::fmt::Display| LandError::lake(table_path, e);
    let dir = table_dir(cache, table.table_url());
    let snapshot = table.snapshot().map_err(|e| err(&e))?;
    let files: Vec<(object_store::path::Path, u64)> = snapshot
        .log_data()
        .iter()
        .map(|f| (f.object_store_path(), f.size().max(0) as u64))
        .collect();
    let store = table.object_store();
    let mut out = Vec::with_capacity(files.len());
    for (location, size) in &files {
        let local = dir.join(location.as_ref());
        if !local.starts_with(&dir) {
            return Err(err(&format!(
                "data file {location} lies outside the table's directory"
            )));
        }
        let have = tokio::fs::metadata(&local).await.ok().map(|m| m.len());
        if have != Some(*size) {
            fetch(store.as_ref(), location, *size, &local)
                .await
                .map_err(|e| err(&format!("copying {location} to {}: {e}", local.display())))?;
        }
        out.push(local);
    }
    prune(&dir, &out).await;
    // As a local lake's files are listed: by path.
    out.sort();
    Ok(out)
}

/// Fetches one file to `local` (temporary name, sync, rename).
async fn fetch(
    store: &dyn object_store::ObjectStore,
    location: &object_store::path::Path,
    size: u64,
    local: &Path,
) -> Result<(), String> {
    let parent = local.parent().ok_or("no parent directory")?;
    tokio::fs::create_dir_all(parent)
        .await
        .map_err(|e| e.to_string())?;
    let name = local
        .file_name()
        .ok_or("no file name")?
        .to_string_lossy()
        .into_owned();
    // Unique among processes (pid) and among this process's fetches.
    static FETCHES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = FETCHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let part = parent.join(format!("{name}.{}-{n}{PART}", std::process::id()));
    let result = async {
        let mut body = store
            .get_opts(location, object_store::GetOptions::default())
            .await
            .map_err(|e| e.to_string())?
            .into_stream();
        let mut file = tokio::fs::File::create(&part)
            .await
            .map_err(|e| e.to_string())?;
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| e.to_string())?;
            written += chunk.len() as u64;
            file.write_all(&chunk).await.map_err(|e| e.to_string())?;
        }
        if written != size {
            return Err(format!(
                "the store sent {written} bytes, the table's log says {size}"
            ));
        }
        file.sync_all().await.map_err(|e| e.to_string())?;
        drop(file);
        tokio::fs::rename(&part, local)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&part).await;
    }
    result
}

/// Removes the copies under `dir` that are not in `keep`, and temporary
/// files of fetches that died. Best effort: a copy that cannot be removed
/// only takes space.
async fn prune(dir: &Path, keep: &[PathBuf]) {
    let keep: std::collections::HashSet<&Path> = keep.iter().map(|p| p.as_path()).collect();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(mut entries) = tokio::fs::read_dir(&d).await else {
            continue;
        };
        while let Ok(Some(e)) = entries.next_entry().await {
            let path = e.path();
            let Ok(meta) = e.metadata().await else {
                continue;
            };
            if meta.is_dir() {
                dirs.push(path);
                continue;
            }
            let remove = if path.to_string_lossy().ends_with(PART) {
                // Another process may be fetching it right now.
                meta.modified()
                    .ok()
                    .and_then(|m| m.elapsed().ok())
                    .is_some_and(|age| age > STALE_PART)
            } else {
                !keep.contains(path.as_path())
            };
            if remove && let Err(e) = tokio::fs::remove_file(&path).await {
                tracing::warn!(path = %path.display(), "cannot remove a stale lake copy: {e}");
            }
        }
    }
}

//! Writing a publication atomically: `runs/<run>/` is built in a hidden
//! temporary directory and renamed into place (replacing an earlier
//! publication of the same run); `latest.json` is a small pointer file
//! replaced by rename; `site/` and `catalog/` are swapped in whole.

use std::path::{Path, PathBuf};

use super::PublishError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `files` as run `run_id`'s publication under `dir`
/// (`published/`); `current`: also point `latest.json` at it and replace
/// `site/` and `catalog/` with its copies.
pub fn write(
    dir: &Path,
    run_id: &str,
    files: &[(String, Vec<u8>)],
    current: bool,
) -> Result<PathBuf, PublishError> {
    let runs_dir = dir.join("runs");
    std::fs::create_dir_all(&runs_dir).map_err(io(&runs_dir))?;
    let tmp = runs_dir.join(format!(".{run_id}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    for (rel, bytes) in files {
        let path = tmp.join(rel);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(io(p))?;
        }
        std::fs::write(&path, bytes).map_err(io(&path))?;
        private(&path, 0o640)?;
    }
    private(&tmp, 0o750)?;
    let final_dir = runs_dir.join(run_id);
    let replaced = runs_dir.join(format!(".{run_id}.old"));
    let _ = std::fs::remove_dir_all(&replaced);
    if final_dir.exists() {
        std::fs::rename(&final_dir, &replaced).map_err(io(&final_dir))?;
    }
    std::fs::rename(&tmp, &final_dir).map_err(io(&final_dir))?;
    let _ = std::fs::remove_dir_all(&replaced);
    if !current {
        return Ok(final_dir);
    }
    let latest = dir.join("latest.json");
    let tmp_latest = dir.join(".latest.json.tmp");
    std::fs::write(
        &tmp_latest,
        serde_json::json!({"run": run_id, "dir": format!("runs/{run_id}")}).to_string(),
    )
    .map_err(io(&tmp_latest))?;
    std::fs::rename(&tmp_latest, &latest).map_err(io(&latest))?;
    for sub in ["site", "catalog"] {
        if final_dir.join(sub).is_dir() {
            let current = dir.join(sub);
            let staged = dir.join(format!(".{sub}.tmp"));
            let old = dir.join(format!(".{sub}.old"));
            let _ = std::fs::remove_dir_all(&staged);
            let _ = std::fs::remove_dir_all(&old);
            copy_dir(&final_dir.join(sub), &staged).map_err(io(&staged))?;
            private(&staged, 0o750)?;
            if current.exists() {
                std::fs::rename(&current, &old).map_err(io(&current))?;
            }
            std::fs::rename(&staged, &current).map_err(io(&current))?;
            let _ = std::fs::remove_dir_all(&old);
        }
    }
    Ok(final_dir)
}

/// Published results hold department data: readable by the service's
/// group at most, whatever the umask (issue #18, 8). Folders are made
/// `0750` from the top down by [`write`]'s walk.
fn private(path: &Path, mode: u32) -> Result<(), PublishError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io(path))?;
        if mode == 0o750 {
            for e in std::fs::read_dir(path).map_err(io(path))? {
                let e = e.map_err(io(path))?;
                if e.file_type().map_err(io(path))?.is_dir() {
                    private(&e.path(), 0o750)?;
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            std::fs::copy(e.path(), target)?;
        }
    }
    Ok(())
}

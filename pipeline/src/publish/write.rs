//! Writing a publication atomically: `runs/<run>/` is built in a hidden
//! temporary directory and renamed into place (replacing an earlier
//! publication of the same run); `latest.json` is a small pointer file
//! replaced by rename; `site/` and `catalog/` are swapped in whole — only
//! when the run is the newest one published ([`newest`]), so that an older
//! run finishing after a newer one never replaces its results.

use std::path::{Path, PathBuf};

use super::PublishError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PublishError + '_ {
    move |source| PublishError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where a publication was written, and whether it became the current one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// `runs/<run>/`.
    pub dir: PathBuf,
    /// `latest.json`, `site/` and `catalog/` now show it.
    pub current: bool,
}

/// Whether run `run_id` is the newest run with a publication under `dir`
/// (`published/`): no run published there (in `runs/`, or pointed at by
/// `latest.json`) is newer. Run ids begin with their start time
/// (`pipeline::run`), so the newer run is the greater id. To be decided
/// under the publication lock, with the write it decides.
pub fn newest(dir: &Path, run_id: &str) -> Result<bool, PublishError> {
    let runs_dir = dir.join("runs");
    let mut published: Vec<String> = vec![];
    match std::fs::read_dir(&runs_dir) {
        Ok(entries) => {
            for e in entries {
                let e = e.map_err(io(&runs_dir))?;
                let name = e.file_name().to_string_lossy().into_owned();
                // Hidden: a publication being written or replaced.
                if !name.starts_with('.') && e.file_type().map_err(io(&runs_dir))?.is_dir() {
                    published.push(name);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&runs_dir)(e)),
    }
    let latest = dir.join("latest.json");
    match std::fs::read(&latest) {
        Ok(bytes) => {
            let v: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|e| PublishError::Render(format!("{}: {e}", latest.display())))?;
            if let Some(run) = v["run"].as_str() {
                published.push(run.to_string());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&latest)(e)),
    }
    Ok(published.iter().all(|p| p.as_str() <= run_id))
}

/// Writes `files` as run `run_id`'s publication under `dir`
/// (`published/`); when it is the [`newest`] run published, also points
/// `latest.json` at it and replaces `site/` and `catalog/` with its copies.
/// The caller holds the publication lock.
pub fn write(
    dir: &Path,
    run_id: &str,
    files: &[(String, Vec<u8>)],
) -> Result<Published, PublishError> {
    let current = newest(dir, run_id)?;
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
        return Ok(Published {
            dir: final_dir,
            current,
        });
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
    Ok(Published {
        dir: final_dir,
        current,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn publication(run: &str) -> Vec<(String, Vec<u8>)> {
        vec![
            ("summary.json".into(), run.as_bytes().to_vec()),
            ("site/index.html".into(), run.as_bytes().to_vec()),
        ]
    }

    fn latest(dir: &Path) -> String {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("latest.json")).unwrap()).unwrap();
        v["run"].as_str().unwrap().to_string()
    }

    #[test]
    fn an_older_run_written_after_a_newer_one_is_not_current() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let (older, newer) = ("20261101T010000Z-aaaaaa", "20261101T020000Z-bbbbbb");
        assert!(write(dir, newer, &publication(newer)).unwrap().current);
        let p = write(dir, older, &publication(older)).unwrap();
        assert!(!p.current);
        assert_eq!(p.dir, dir.join("runs").join(older));
        assert_eq!(
            std::fs::read(p.dir.join("summary.json")).unwrap(),
            older.as_bytes(),
            "the older run's publication is kept"
        );
        assert_eq!(latest(dir), newer);
        assert_eq!(
            std::fs::read(dir.join("site/index.html")).unwrap(),
            newer.as_bytes()
        );
        // The newer run published again stays current; a newest one takes over.
        assert!(write(dir, newer, &publication(newer)).unwrap().current);
        let newest = "20261101T030000Z-cccccc";
        assert!(write(dir, newest, &publication(newest)).unwrap().current);
        assert_eq!(latest(dir), newest);
    }

    #[test]
    fn the_first_publication_is_current() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(newest(tmp.path(), "20261101T010000Z-aaaaaa").unwrap());
        // Hidden working directories are not publications.
        std::fs::create_dir_all(tmp.path().join("runs/.20261101T020000Z-bbbbbb.tmp")).unwrap();
        assert!(newest(tmp.path(), "20261101T010000Z-aaaaaa").unwrap());
    }
}

//! Writing one file atomically: into a hidden temporary file beside it,
//! synced, then renamed over it, so that a reader (or a crash, kill -9
//! included) sees the old file or the new one, never a part. The one
//! mechanism for every file pdq writes outside the lake.

use std::io::{self, BufWriter, Write};
use std::path::Path;

/// Writes `path` with what `fill` writes (buffered), atomically; the
/// directory is created when missing. Errors name the file and the step.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<std::fs::File>) -> io::Result<()>,
) -> io::Result<()> {
    let at = |what: &str, p: &Path, e: io::Error| {
        io::Error::new(e.kind(), format!("cannot {what} {}: {e}", p.display()))
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| at("create", dir, e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let f = std::fs::File::create(&tmp).map_err(|e| at("write", &tmp, e))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        fill(&mut w).map_err(|e| at("write", &tmp, e))?;
        w.flush().map_err(|e| at("write", &tmp, e))?;
        let f = w
            .into_inner()
            .map_err(|e| at("write", &tmp, e.into_error()))?;
        f.sync_all().map_err(|e| at("sync", &tmp, e))?;
        std::fs::rename(&tmp, path).map_err(|e| at("move into place", path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// [`write_with`] of `bytes`.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/a.json");
        super::write(&path, b"old").unwrap();
        let err = super::write_with(&path, |w| {
            std::io::Write::write_all(w, b"half")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("a.json.tmp-"), "{err}");
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let left: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(left.len(), 1, "only a.json");
    }
}

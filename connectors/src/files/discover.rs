//! Finding a dataset's files: paths expanded, directories walked in path
//! order, each directory and file taken once.

use std::path::{Path, PathBuf};

use super::{FileError, FileFormat, SourceFile};

pub(super) fn expand(paths: &[PathBuf]) -> Result<Vec<SourceFile>, FileError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FileError::NotFound { path: p.clone() },
            _ => FileError::Io {
                path: p.clone(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, p, &mut found, &mut Seen::default())?;
            if found.is_empty() {
                return Err(FileError::NoFiles { path: p.clone() });
            }
            found.sort_by(|a: &SourceFile, b| a.path.cmp(&b.path));
            out.extend(found);
        } else {
            let format =
                FileFormat::of(p).ok_or_else(|| FileError::Unsupported { path: p.clone() })?;
            out.push(SourceFile {
                path: p.clone(),
                display: p.display().to_string(),
                format,
                rows: None,
            });
        }
    }
    Ok(out)
}

/// The directories and files a walk has reached, by canonical path: a
/// symbolic link back up the tree (`data/loop -> ..`) is a loop that once
/// made `pdq check --data DIR` walk for ever, and a second path to the same
/// file would count its rows twice (issue #18, 8). Each is taken once.
#[derive(Default)]
struct Seen {
    dirs: std::collections::HashSet<PathBuf>,
    files: std::collections::HashSet<PathBuf>,
}

impl Seen {
    /// True the first time `path` (a directory or a file) is reached.
    fn first(set: &mut std::collections::HashSet<PathBuf>, path: &Path) -> bool {
        match std::fs::canonicalize(path) {
            Ok(real) => set.insert(real),
            // Unresolvable (a dangling link): reading it reports the error.
            Err(_) => true,
        }
    }
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<SourceFile>,
    seen: &mut Seen,
) -> Result<(), FileError> {
    if !Seen::first(&mut seen.dirs, dir) {
        tracing::warn!(dir = %dir.display(), "directory reached a second time (a symbolic link loop?); read once");
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| FileError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| FileError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out, seen)?;
        } else if let Some(format) = FileFormat::of(&path) {
            if !Seen::first(&mut seen.files, &path) {
                tracing::warn!(file = %path.display(), "file reached by a second path; read once");
                continue;
            }
            let display = root
                .join(path.strip_prefix(root).unwrap_or(&path))
                .display()
                .to_string();
            out.push(SourceFile {
                path,
                display,
                format,
                rows: None,
            });
        }
    }
    Ok(())
}

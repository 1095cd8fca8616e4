//! The demo's history: the departments' deliveries of the weeks before the
//! final night, so that `pdq demo` can sweep one night a week in date order
//! and the lake holds a real history (trends, rank changes, rectification
//! items opened and closed, the evaluation's monthly checkpoints).
//!
//! Each night's deliveries are kept under `history/<date>/departments/`, the
//! final night's too (the same bytes as `departments/`, which a fresh demo
//! holds). [`deliver`] puts one night's deliveries in place: a full-snapshot
//! dataset's file is replaced; an append dataset's drop folder holds the
//! files delivered up to that night (its second file arrives two weeks
//! before the final night), each the same bytes every night, so nothing
//! lands twice.
//!
//! What changes from week to week (the generator's `week` argument):
//! - 公安局 户籍人口: short deliveries (900 rows, below the 1000 the volume
//!   rule wants) four weeks and one week before the final night — the
//!   failure is rectified and recurs; stale deliveries (three days old)
//!   three and two weeks before — rectified a week later; more mistyped
//!   phone numbers up to two weeks before.
//! - 卫健委 出生医学证明: many weights written as 0 three and four weeks
//!   before (the rule fails; rectified, it only warns from then on).
//! - 住建局 住房公积金: its second file arrives two weeks before.
//! - The sharing platform's catalog (`catalogs/portal-export.json`, kept
//!   under `history/<date>/catalogs/`): it lists 民政局's 养老机构备案
//!   ([`super::catalogs::WITHDRAWN_CODE`], 无条件共享) every week before the
//!   final night and not on it, while the usage log, imported before that
//!   night's sweep, shows departments using it: a shared resource withdrawn
//!   with consumers, not notified and with no replacement named.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, FixedOffset};

use super::DemoError;

/// How many weeks of history come before the final night.
pub const WEEKS: u32 = 4;

/// The nights the demo sweeps, oldest first: one a week, the last at `as_of`.
pub fn nights(as_of: DateTime<FixedOffset>) -> Vec<DateTime<FixedOffset>> {
    (0..=WEEKS)
        .rev()
        .map(|w| as_of - Duration::weeks(i64::from(w)))
        .collect()
}

/// Where a night's deliveries are kept.
pub fn night_dir(root: &Path, night: &DateTime<FixedOffset>) -> PathBuf {
    root.join("history")
        .join(night.format("%Y-%m-%d").to_string())
}

/// The append dataset's drop folder and its files, in the order they arrive
/// (the weeks before the final night from which each is there).
const APPEND_DIR: &str = "departments/zhujian/housing_provident_fund";
const APPEND_FILES: [(&str, u32); 2] = [("part-1.csv", WEEKS), ("part-2.csv", 2)];

fn io(path: &Path) -> impl Fn(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes every night's deliveries under `root/history/` (the final night's
/// bureau is already in `root`).
pub(super) fn write(root: &Path, as_of: DateTime<FixedOffset>) -> Result<(), DemoError> {
    for (k, night) in nights(as_of).iter().enumerate() {
        let week = WEEKS - k as u32;
        let dir = night_dir(root, night);
        let (_, datasets, _) = super::data::build(&dir, *night, week)?;
        super::catalogs::portal_export(&dir, &datasets, week > 0)?;
        // Rules and the population base do not change: only deliveries are kept.
        for extra in ["rules", "base"] {
            let p = dir.join(extra);
            std::fs::remove_dir_all(&p).map_err(io(&p))?;
        }
        // The append dataset's files are the final night's bytes, each from
        // the night it arrives.
        let drop = dir.join(APPEND_DIR);
        std::fs::remove_dir_all(&drop).map_err(io(&drop))?;
        std::fs::create_dir_all(&drop).map_err(io(&drop))?;
        for (file, from) in APPEND_FILES {
            if week <= from {
                let (src, dst) = (root.join(APPEND_DIR).join(file), drop.join(file));
                std::fs::copy(&src, &dst).map_err(io(&dst))?;
            }
        }
    }
    Ok(())
}

/// Puts the deliveries of `night` (one of [`nights`]) in place in the demo
/// at `root`, as the departments would have left them that night: each
/// dataset's file, or its drop folder, is replaced; what else the
/// departments hold (the public security's catalog) stays. The portal's
/// catalog export is that night's.
pub fn deliver(root: &Path, night: &DateTime<FixedOffset>) -> Result<(), DemoError> {
    let export = night_dir(root, night).join(super::catalogs::PORTAL_EXPORT);
    if export.is_file() {
        let to = root.join(super::catalogs::PORTAL_EXPORT);
        std::fs::copy(&export, &to).map_err(io(&to))?;
    }
    let from = night_dir(root, night).join("departments");
    for dept in sorted(&from)? {
        for item in sorted(&dept)? {
            let rel = item.strip_prefix(&from).unwrap_or(&item);
            let to = root.join("departments").join(rel);
            if to.is_dir() {
                std::fs::remove_dir_all(&to).map_err(io(&to))?;
            }
            if item.is_dir() {
                copy_dir(&item, &to)?;
            } else {
                std::fs::copy(&item, &to).map_err(io(&to))?;
            }
        }
    }
    Ok(())
}

fn sorted(dir: &Path) -> Result<Vec<PathBuf>, DemoError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io(dir))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io(dir))?;
    entries.sort();
    Ok(entries)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), DemoError> {
    std::fs::create_dir_all(to).map_err(io(to))?;
    for src in sorted(from)? {
        let dst = to.join(src.file_name().unwrap_or_default());
        if src.is_dir() {
            copy_dir(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst).map_err(io(&dst))?;
        }
    }
    Ok(())
}

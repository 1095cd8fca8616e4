//! Pruning: whole years older than the retention period go, after the
//! log verifies; the signed head's base moves to the last pruned record
//! first (one atomic write), so an interrupted prune leaves a log that
//! still verifies and the rest of the chain checks from the base.

use std::path::PathBuf;

use chrono::{DateTime, Datelike, Utc};

use super::head::{self, HeadState};
use super::{AuditError, AuditLog, AuditRecord, chain, io};

impl AuditLog {
    /// Deletes the years whose every record is older than `keep_years`
    /// before `now`, after verifying the whole log; the head's base moves to
    /// the last deleted record (written before any file goes), so the rest
    /// still verifies. Returns the files deleted.
    pub fn prune(&self, keep_years: u32, now: DateTime<Utc>) -> Result<Vec<PathBuf>, AuditError> {
        self.verify()?;
        let key = self.key()?;
        let _lock = self.lock()?;
        let HeadState::Present(mut h) = head::load(&self.dir)? else {
            return Ok(vec![]);
        };
        let cutoff_year = now.year() - keep_years as i32; // years < cutoff end more than keep_years ago
        let mut old = vec![];
        for f in self.files()? {
            let year: Option<i32> = f.file_name().and_then(|n| n.to_str()).and_then(|n| {
                n.strip_prefix("audit-")?
                    .strip_suffix(".jsonl")?
                    .parse()
                    .ok()
            });
            if year.is_some_and(|y| y < cutoff_year) {
                old.push(f);
            }
        }
        let last = old.iter().rev().find_map(|f| {
            let line = chain::last_line(f).ok()??;
            serde_json::from_str::<AuditRecord>(&line).ok()
        });
        if let Some(r) = last
            && r.seq > h.base_seq
        {
            h.base_seq = r.seq;
            h.base_hash = r.hash;
            h.records = h.seq - h.base_seq;
            h.sign(key.as_ref());
            head::write_json(&self.dir, head::HEAD, &h)?;
        }
        for f in &old {
            std::fs::remove_file(f).map_err(io(f))?;
        }
        Ok(old)
    }
}

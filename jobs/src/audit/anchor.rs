//! Anchors: the signed head copied, one line at a time, to a file outside
//! the workspace (and to the journal through tracing), after every sweep
//! and on `pdq audit anchor`. Whoever rewrites the workspace cannot take
//! them back, so a log truncated or rewritten below an anchor, or a head
//! replayed from an older copy, shows.
//!
//! The file is `$PDQ_AUDIT_ANCHOR_FILE`, else `/var/lib/pdq/audit-anchors`
//! when `/var/lib/pdq` exists, else `$XDG_STATE_HOME/pdq/audit-anchors`
//! (`~/.local/state/pdq/audit-anchors`). It is only ever appended to (make
//! it append-only: `chattr +a`); several workspaces may share it, each
//! anchor naming its log. Anchors of one log are numbered from where the
//! file starts for it, without gaps, and the head counts them, so a
//! truncated anchor file shows too.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::chain::{Chain, lines};
use super::key::AuditKey;
use super::{AuditError, io};

/// Names the anchor file.
pub const ANCHOR_ENV: &str = "PDQ_AUDIT_ANCHOR_FILE";
/// The system-wide anchor file's directory.
pub const SYSTEM_DIR: &str = "/var/lib/pdq";

/// The anchor file by the order above; `None` without any home.
pub fn locate() -> Option<PathBuf> {
    let env = |n: &str| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(p) = env(ANCHOR_ENV) {
        return Some(p);
    }
    if Path::new(SYSTEM_DIR).is_dir() {
        return Some(Path::new(SYSTEM_DIR).join("audit-anchors"));
    }
    env("XDG_STATE_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| env("HOME").map(|h| h.join(".local/state")))
        .map(|d| d.join("pdq/audit-anchors"))
}

/// One anchor line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anchor {
    /// The log's id (from its head).
    pub log: String,
    /// The workspace, for people reading the file.
    pub workspace: String,
    /// This log's anchor number.
    pub n: u64,
    /// The head's record then.
    pub seq: u64,
    /// Its hash.
    pub hash: String,
    /// When.
    pub time: DateTime<Utc>,
    /// The signing key's id.
    pub key_id: String,
    /// HMAC-SHA256 of [`Anchor::signed_text`].
    pub mac: String,
}

impl Anchor {
    /// The text the MAC covers.
    pub fn signed_text(&self) -> String {
        format!(
            "pdq-audit-anchor/2\nlog {}\nworkspace {}\nn {}\nseq {}\nhash {}\ntime {}",
            self.log,
            self.workspace,
            self.n,
            self.seq,
            self.hash,
            self.time.to_rfc3339()
        )
    }
}

/// Every anchor line of `log` in `path` (none if the file is missing),
/// with its line number; a line that is not an anchor is an error unless
/// it is a cut-off last line.
fn read(path: &Path, log: &str) -> Result<Vec<(usize, Anchor)>, AuditError> {
    if !path.exists() {
        return Ok(vec![]);
    }
    let mut out = vec![];
    for line in lines(path)? {
        if !line.complete {
            continue;
        }
        let a: Anchor = serde_json::from_str(&line.text).map_err(|e| AuditError::Anchor {
            path: path.to_path_buf(),
            line: line.number,
            what: format!("a garbage line, not an anchor ({e}): the anchor file was edited"),
        })?;
        if a.log == log {
            out.push((line.number, a));
        }
    }
    Ok(out)
}

/// The number the next anchor of `log` gets: after both the head's count
/// and the file's last (a crash between the two leaves the file ahead).
pub(crate) fn next_number(path: &Path, log: &str, head_count: u64) -> Result<u64, AuditError> {
    let last = read(path, log)?.last().map_or(0, |(_, a)| a.n);
    Ok(last.max(head_count) + 1)
}

/// Appends `anchor` as one line (one write, synced), creating the file
/// and its directory if need be.
pub(crate) fn append(path: &Path, anchor: &Anchor) -> Result<(), AuditError> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o640);
    }
    let mut f = opts.open(path).map_err(io(path))?;
    let mut line = serde_json::to_string(anchor)
        .map_err(std::io::Error::other)
        .map_err(io(path))?;
    line.push('\n');
    // A line cut off by a crash cannot be removed from an append-only
    // file; start on a new line so that this one stays whole.
    let len = f.metadata().map_err(io(path))?.len();
    if len > 0 {
        let bytes = std::fs::read(path).map_err(io(path))?;
        if !bytes.ends_with(b"\n") {
            line.insert(0, '\n');
        }
    }
    f.write_all(line.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(io(path))?;
    tracing::info!(
        target: "pdq::audit::anchor",
        log = %anchor.log,
        workspace = %anchor.workspace,
        n = anchor.n,
        seq = anchor.seq,
        hash = %anchor.hash,
        time = %anchor.time.to_rfc3339(),
        key_id = %anchor.key_id,
        mac = %anchor.mac,
        file = %path.display(),
        "audit anchor"
    );
    Ok(())
}

/// What the anchors said.
#[derive(Debug, Clone, PartialEq)]
pub struct Anchored {
    /// The anchor file.
    pub file: PathBuf,
    /// Anchors of this log checked.
    pub checked: usize,
}

/// Checks every anchor of `log` in `path` against `chain`: its signature,
/// its number (no gap), and that its record is in the chain with its hash
/// (below the prune base it cannot be checked any more); and that the file
/// holds at least the `head_count` anchors the head says were written.
pub(crate) fn check(
    path: &Path,
    key: &AuditKey,
    log: &str,
    head_count: u64,
    chain: &Chain,
    base_seq: u64,
) -> Result<Anchored, AuditError> {
    let anchors = read(path, log)?;
    let mut last_n: Option<u64> = None;
    for (line, a) in &anchors {
        let bad = |what: String| AuditError::Anchor {
            path: path.to_path_buf(),
            line: *line,
            what: format!("anchor {} (record {}): {what}", a.n, a.seq),
        };
        if a.key_id != key.id() {
            return Err(bad(format!(
                "signed with another key (id {}, this key is {}): forged, or a wrong key",
                a.key_id,
                key.id()
            )));
        }
        if !key.check(&a.signed_text(), &a.mac) {
            return Err(bad(
                "its signature does not match its content (forged or edited)".into(),
            ));
        }
        if let Some(prev) = last_n
            && a.n != prev + 1
        {
            return Err(bad(format!(
                "anchor numbers jump from {prev} to {} (anchors removed, reordered or inserted)",
                a.n
            )));
        }
        last_n = Some(a.n);
        if a.seq <= base_seq {
            continue;
        }
        match chain.hashes.get(&a.seq) {
            Some(h) if *h == a.hash => {}
            Some(_) => {
                return Err(bad(format!(
                    "the log holds another record {} than was anchored (the log was rewritten)",
                    a.seq
                )));
            }
            None if a.seq > chain.end_seq => {
                return Err(bad(format!(
                    "the log ends at record {} (records removed from the end, or an older head put back)",
                    chain.end_seq
                )));
            }
            None => return Err(bad("its record is missing from the log".into())),
        }
    }
    let found = last_n.unwrap_or(0);
    if found < head_count {
        return Err(AuditError::Anchor {
            path: path.to_path_buf(),
            line: 0,
            what: format!(
                "the head says {head_count} anchor(s) were written for this log, the file holds {}: the anchor file was truncated, rewritten or replaced",
                if found == 0 {
                    "none".to_string()
                } else {
                    format!("up to number {found}")
                }
            ),
        });
    }
    Ok(Anchored {
        file: path.to_path_buf(),
        checked: anchors.len(),
    })
}

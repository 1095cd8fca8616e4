//! The audit log: every operation that reads or publishes data (who or
//! which job, what, when), append-only and tamper-evident.
//!
//! ```text
//!  append ──▶ audit/audit-YYYY.jsonl   one JSON record a line; each holds the
//!    │                                 previous record's SHA-256 (chain.rs)
//!    └─────▶ audit/head.json           last seq + hash + prune base, HMAC-signed
//!                 │                    with a key kept outside the workspace (key.rs, head.rs)
//!  after a sweep, `pdq audit anchor`
//!                 └──▶ anchor file      the signed head, one line per anchor,
//!                                      outside the workspace, and the journal (anchor.rs)
//!  verify: chain intact ∧ head signed and at the chain's end ∧ every anchor a point of the chain
//! ```
//!
//! Editing, removing or reordering a record breaks the chain; removing
//! records from the end and re-writing the head, or recomputing the whole
//! chain, needs the key; putting back an older head, or cutting the chain
//! below a point already anchored, contradicts the anchors (issue #18, 4).
//! Pruning deletes whole years older than the retention period and moves
//! the head's base to the last pruned record, from which the rest verifies.
//! Without a key, appends still work (heads unsigned) and verification
//! fails saying so; `pdq audit seal` signs a checked log's head.

pub mod anchor;
mod chain;
pub mod head;
pub mod key;
mod prune;
mod verify;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

pub use anchor::{Anchor, Anchored};
use chain::Base;
use head::{Head, HeadState};
pub use key::AuditKey;
pub use key::ensure_user_key;
pub use verify::{Sealed, Verified};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audited operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    /// Position in the log, from 1, without gaps.
    pub seq: u64,
    /// When.
    pub time: DateTime<Utc>,
    /// Who: a person (`user:name`) or a job (`job:sweep`, `daemon`).
    pub actor: String,
    /// What: `ingest`, `check`, `publish`, `read`, `prune`, …
    pub action: String,
    /// On what: a dataset id, a path, a run id.
    pub target: String,
    /// Particulars (versions, counts, hashes; never data values).
    #[serde(default)]
    pub detail: serde_json::Value,
    /// The previous record's hash.
    pub prev: String,
    /// SHA-256 over this record's other fields.
    pub hash: String,
}

/// Why the log cannot be written or does not verify. One line, naming the
/// file and line.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Reading or writing failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The chain is broken.
    #[error("{}:{line}: audit log broken at record {seq}: {what}", path.display())]
    Broken {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The record's (expected) sequence number.
        seq: u64,
        /// What is wrong.
        what: String,
    },
    /// The head is missing, garbled, wrongly signed or not at the chain's end.
    #[error("{}: {what}", path.display())]
    Head {
        /// The head file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// An anchor contradicts the log, or the anchor file was tampered with.
    #[error("{}{}: {what}", path.display(), if *line > 0 { format!(":{line}") } else { String::new() })]
    Anchor {
        /// The anchor file.
        path: PathBuf,
        /// 1-based line (0: the file as a whole).
        line: usize,
        /// What is wrong.
        what: String,
    },
    /// The head is not signed, or there is no key to check it with.
    #[error("{what}")]
    Unsigned {
        /// What, and how to set a key up.
        what: String,
    },
    /// The key or the anchor file is badly set up (not a verdict on the log).
    #[error("{}: {what}", path.display())]
    Config {
        /// The key or anchor file.
        path: PathBuf,
        /// What is wrong and what to do.
        what: String,
    },
}

impl AuditError {
    /// Whether this is a verdict on the log (tampered or unsigned), as
    /// opposed to a failure to read it or a bad set-up.
    pub fn is_verdict(&self) -> bool {
        !matches!(self, AuditError::Io { .. } | AuditError::Config { .. })
    }
}

pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An audit log in a directory (`<workspace>/audit`).
#[derive(Debug, Clone)]
pub struct AuditLog {
    dir: PathBuf,
    /// `Some`: this key (or none), instead of looking one up.
    given_key: Option<Option<AuditKey>>,
    /// `Some`: this anchor file (or none), instead of looking one up.
    given_anchors: Option<Option<PathBuf>>,
}

impl AuditLog {
    /// The log in `dir` (created on first append), with the key and anchor
    /// file found as [`key`] and [`anchor`] say.
    pub fn new(dir: &Path) -> Self {
        AuditLog {
            dir: dir.to_path_buf(),
            given_key: None,
            given_anchors: None,
        }
    }

    /// The log in `dir` with this key and anchor file (tests, tools).
    pub fn with_key(dir: &Path, key: Option<AuditKey>, anchors: Option<PathBuf>) -> Self {
        AuditLog {
            dir: dir.to_path_buf(),
            given_key: Some(key),
            given_anchors: Some(anchors),
        }
    }

    /// The workspace the log belongs to (the key and anchors stay outside it).
    pub fn workspace(&self) -> &Path {
        self.dir.parent().unwrap_or(&self.dir)
    }

    /// The audit key, if one is configured.
    pub fn key(&self) -> Result<Option<AuditKey>, AuditError> {
        match &self.given_key {
            Some(k) => Ok(k.clone()),
            None => AuditKey::find(self.workspace()),
        }
    }

    /// The anchor file, if there is one; refused inside the workspace.
    pub fn anchor_file(&self) -> Result<Option<PathBuf>, AuditError> {
        let path = match &self.given_anchors {
            Some(p) => p.clone(),
            None => anchor::locate(),
        };
        if let Some(p) = &path
            && key::inside(p, self.workspace())
        {
            return Err(AuditError::Config {
                path: p.clone(),
                what: format!(
                    "the audit anchor file is inside the workspace {}: set PDQ_AUDIT_ANCHOR_FILE to a file outside it (e.g. /var/lib/pdq/audit-anchors)",
                    self.workspace().display()
                ),
            });
        }
        Ok(path)
    }

    fn year_file(&self, year: i32) -> PathBuf {
        self.dir.join(format!("audit-{year}.jsonl"))
    }

    fn files(&self) -> Result<Vec<PathBuf>, AuditError> {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("audit-") && n.ends_with(".jsonl"))
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
            Err(e) => return Err(io(&self.dir)(e)),
        };
        files.sort();
        Ok(files)
    }

    /// Serialises writers (appends, seals, anchors, prunes) across processes.
    fn lock(&self) -> Result<File, AuditError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let lock_path = self.dir.join(".lock");
        let lock = File::create(&lock_path).map_err(io(&lock_path))?;
        lock.lock().map_err(io(&lock_path))?;
        Ok(lock)
    }

    /// Keeps writers out while the log is read (a record written but its
    /// head not yet moved is not an end past the head). Best effort: a
    /// reader who may not write the directory reads without it.
    fn read_lock(&self) -> Option<File> {
        let f = File::open(self.dir.join(".lock")).ok()?;
        f.lock_shared().ok()?;
        Some(f)
    }

    fn head_path(&self) -> PathBuf {
        self.dir.join(head::HEAD)
    }

    /// Where the chain starts: the head's base, or for a head from before
    /// signing (or none) the old `anchor.json` a prune left.
    fn base(&self, state: &HeadState) -> Result<Base, AuditError> {
        if let HeadState::Present(h) = state
            && h.v >= 2
        {
            return Ok(Base {
                seq: h.base_seq,
                hash: h.base_hash.clone(),
            });
        }
        let path = self.dir.join("anchor.json");
        match std::fs::read(&path) {
            Ok(b) => {
                let h: Head = serde_json::from_slice(&b).map_err(|e| AuditError::Head {
                    path: path.clone(),
                    what: format!("the prune base is garbled ({e})"),
                })?;
                Ok(Base {
                    seq: h.seq,
                    hash: h.hash,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Base {
                seq: 0,
                hash: GENESIS.into(),
            }),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// The last whole record after removing a cut-off last line (a crash).
    fn last_record(&self) -> Result<Option<AuditRecord>, AuditError> {
        let files = self.files()?;
        if let Some(last) = files.last() {
            let cut = chain::repair_tail(last)?;
            if cut > 0 {
                tracing::warn!(file = %last.display(), bytes = cut, "removed an incomplete final audit record left by a crash");
            }
        }
        for f in files.iter().rev() {
            if let Some(line) = chain::last_line(f)? {
                return serde_json::from_str(&line)
                    .map(Some)
                    .map_err(|e| AuditError::Broken {
                        path: f.clone(),
                        line: chain::lines(f).map(|l| l.len()).unwrap_or(0),
                        seq: 0,
                        what: format!("the last line is not a record ({e}): tampering; check with `pdq audit verify`"),
                    });
            }
        }
        Ok(None)
    }

    /// The head to append after, and whether the new head may be signed.
    /// Refuses (an error) rather than write over evidence: a missing or
    /// garbled head, a signature that does not verify, a head that is not
    /// at the end of the log. An unsigned head stays unsigned until `pdq
    /// audit seal`, so that appending never signs what nobody checked.
    fn head_to_extend(&self, key: Option<&AuditKey>) -> Result<(Head, bool), AuditError> {
        let path = self.head_path();
        let refuse = |what: String| AuditError::Head {
            path: path.clone(),
            what: format!(
                "{what}; nothing is appended until it is checked (`pdq audit verify`, then `pdq audit seal`)"
            ),
        };
        let state = head::load(&self.dir)?;
        let last = self.last_record()?;
        let (mut h, signable) = match state {
            HeadState::Missing if last.is_none() => {
                let log = hex::encode(key::random_bytes::<16>().map_err(io(&self.dir))?);
                return Ok((Head::new(log), true));
            }
            HeadState::Missing => {
                return Err(refuse(
                    "head.json is missing but the log holds records (removed?)".into(),
                ));
            }
            HeadState::Garbled(e) => return Err(refuse(format!("head.json is garbled ({e})"))),
            HeadState::Present(h) => {
                let signed = h.mac.is_some();
                if signed && let Some(problem) = h.signature_problem(key, &path) {
                    return Err(refuse(problem.to_string()));
                }
                if !signed && key.is_some() {
                    static SAID: std::sync::Once = std::sync::Once::new();
                    SAID.call_once(|| {
                        tracing::warn!("the audit head is unsigned: records are appended unsigned until a person checks the log and runs `pdq audit seal`");
                    });
                }
                (h, signed)
            }
        };
        let base = self.base(&HeadState::Present(h.clone()))?;
        let (end_seq, end_hash) = match &last {
            Some(r) => (r.seq, r.hash.clone()),
            None => (base.seq, base.hash.clone()),
        };
        if h.pending.is_some() {
            // The last append was interrupted (kill -9, power cut). Its
            // record, named in the signed head before it was written, is
            // there: the head moves to it. It is not: it was never
            // written. Anything else is refused below.
            if let Some(r) = last.as_ref().filter(|r| h.pending_is(r.seq, &r.hash)) {
                tracing::warn!(seq = r.seq, "completed an audit append a crash interrupted");
                h.seq = r.seq;
                h.hash = r.hash.clone();
                h.records = h.seq - h.base_seq;
                h.time = Some(r.time);
            }
            h.pending = None;
        }
        if (end_seq, end_hash.as_str()) != (h.seq, h.hash.as_str()) {
            return Err(refuse(format!(
                "the log ends at record {end_seq} but head.json says {}",
                h.seq
            )));
        }
        if h.v < 2 {
            // A head from before signing: carry its base over.
            h.base_seq = base.seq;
            h.base_hash = base.hash;
            h.log = hex::encode(key::random_bytes::<16>().map_err(io(&self.dir))?);
        }
        Ok((h, signable))
    }

    /// The record after `after`, hashed, not yet written.
    fn record_after(
        &self,
        after: &Head,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> AuditRecord {
        let mut r = AuditRecord {
            seq: after.seq + 1,
            time: Utc::now(),
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            detail,
            prev: after.hash.clone(),
            hash: String::new(),
        };
        r.hash = r.compute_hash();
        r
    }

    /// Writes record `r` (one write, synced).
    fn write_record(&self, r: &AuditRecord) -> Result<(), AuditError> {
        let path = self.year_file(r.time.year());
        let new_file = !path.exists();
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        let mut line = serde_json::to_string(&r).unwrap_or_default();
        line.push('\n');
        f.write_all(line.as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(io(&path))?;
        if new_file && let Ok(d) = File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// Writes record `r` after head `h` and moves the head to it. The head
    /// names the record (signed, `pending`) before the record is written,
    /// so that a crash between the two is recognised, and completed by the
    /// next append, rather than taken for a record added without the key.
    fn commit_record(
        &self,
        h: Head,
        r: &AuditRecord,
        key: Option<&AuditKey>,
    ) -> Result<(), AuditError> {
        let mut intent = h.clone();
        intent.pending = Some(r.hash.clone());
        intent.sign(key);
        head::write_json(&self.dir, head::HEAD, &intent)?;
        self.write_record(r)?;
        self.move_head(h, r, key)
    }

    /// Moves the head to `r` and writes it, signed when `key` is given.
    fn move_head(
        &self,
        mut h: Head,
        r: &AuditRecord,
        key: Option<&AuditKey>,
    ) -> Result<(), AuditError> {
        h.seq = r.seq;
        h.hash = r.hash.clone();
        h.records = h.seq - h.base_seq;
        h.time = Some(r.time);
        h.pending = None;
        h.sign(key);
        head::write_json(&self.dir, head::HEAD, &h)
    }

    /// Appends a record; returns it. Appends are serialised by a lock; the
    /// record is written in one call and synced before the head moves.
    pub fn append(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<AuditRecord, AuditError> {
        let key = self.key()?;
        let _lock = self.lock()?;
        let (h, signable) = self.head_to_extend(key.as_ref())?;
        let key = if signable { key.as_ref() } else { None };
        let r = self.record_after(&h, actor, action, target, detail);
        self.commit_record(h, &r, key)?;
        Ok(r)
    }

    /// Every record, oldest first (lines that are not records skipped:
    /// `verify` reports them).
    pub fn records(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let mut out = vec![];
        for f in self.files()? {
            for line in chain::lines(&f)? {
                if let Ok(r) = serde_json::from_str::<AuditRecord>(&line.text) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }
}

/// Who is acting: `PDQ_ACTOR`, else the OS user.
pub fn actor(job: &str) -> String {
    let who = std::env::var("PDQ_ACTOR")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    format!("{job} ({who})")
}

#[cfg(test)]
mod tests;

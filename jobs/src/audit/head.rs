//! The head: `audit/head.json`, the last record's position and hash, the
//! prune base the chain starts from, and an HMAC over all of it with the
//! audit key. Without the key a head cannot be written that verifies, so
//! records removed from the end, or a chain recomputed from scratch, show.
//!
//! The signed text is fixed (one field per line, a domain tag first), so
//! it does not depend on how JSON happens to be serialised.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::key::AuditKey;
use super::{AuditError, GENESIS, io};

/// The head file's name in the log's directory.
pub const HEAD: &str = "head.json";

fn genesis() -> String {
    GENESIS.into()
}

/// The head as stored. Heads written before signing (`{"seq","hash"}`)
/// read with the defaults and no signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Head {
    /// Format: 2 for signed-capable heads, 1 (absent) before.
    #[serde(default)]
    pub v: u32,
    /// The log's random id, which anchors carry.
    #[serde(default)]
    pub log: String,
    /// The last record's sequence number.
    pub seq: u64,
    /// The last record's hash.
    pub hash: String,
    /// Records the chain holds (from the base to the head).
    #[serde(default)]
    pub records: u64,
    /// The prune base: the chain starts after this record.
    #[serde(default)]
    pub base_seq: u64,
    /// The prune base's hash.
    #[serde(default = "genesis")]
    pub base_hash: String,
    /// Anchors written for this log so far.
    #[serde(default)]
    pub anchors: u64,
    /// When the head moved.
    #[serde(default)]
    pub time: Option<DateTime<Utc>>,
    /// The hash of the record being appended after this head (its
    /// sequence number is `seq + 1`), written, signed, before the record:
    /// a crash between the record and the head's move is then told from a
    /// record added without the key, and the next append completes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// The signing key's id; absent when unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
    /// HMAC-SHA256 of [`Head::signed_text`]; absent when unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

/// What is in the head file.
#[derive(Debug)]
pub enum HeadState {
    /// No file.
    Missing,
    /// A file that is not a head.
    Garbled(String),
    /// A head (signed or not).
    Present(Head),
}

impl Head {
    /// A new log's head (nothing recorded yet).
    pub fn new(log: String) -> Head {
        Head {
            v: 2,
            log,
            seq: 0,
            hash: GENESIS.into(),
            records: 0,
            base_seq: 0,
            base_hash: GENESIS.into(),
            anchors: 0,
            time: None,
            pending: None,
            key_id: None,
            mac: None,
        }
    }

    /// The text the MAC covers (a head without a pending record signs the
    /// text it always did).
    pub fn signed_text(&self) -> String {
        let mut text = format!(
            "pdq-audit-head/2\nlog {}\nseq {}\nhash {}\nrecords {}\nbase {} {}\nanchors {}\ntime {}",
            self.log,
            self.seq,
            self.hash,
            self.records,
            self.base_seq,
            self.base_hash,
            self.anchors,
            self.time.map(|t| t.to_rfc3339()).unwrap_or_default()
        );
        if let Some(p) = &self.pending {
            text.push_str("\npending ");
            text.push_str(p);
        }
        text
    }

    /// Whether the chain's end (`end_seq`, `end_hash`) is this head's
    /// pending record: an append whose head did not move (a crash).
    pub fn pending_is(&self, end_seq: u64, end_hash: &str) -> bool {
        end_seq == self.seq + 1 && self.pending.as_deref() == Some(end_hash)
    }

    /// Signs the head with `key` (or leaves it unsigned without one).
    pub fn sign(&mut self, key: Option<&AuditKey>) {
        self.v = 2;
        match key {
            Some(k) => {
                self.key_id = Some(k.id());
                self.mac = Some(k.sign(&self.signed_text()));
            }
            None => {
                self.key_id = None;
                self.mac = None;
            }
        }
    }

    /// What is wrong with the signature for `key`, if anything: unsigned
    /// (or no key to check with), or signed but not by this key's hand.
    pub fn signature_problem(&self, key: Option<&AuditKey>, path: &Path) -> Option<AuditError> {
        let unsigned = |what: String| Some(AuditError::Unsigned { what });
        let bad = |what: String| {
            Some(AuditError::Head {
                path: path.to_path_buf(),
                what,
            })
        };
        match (&self.mac, key) {
            (None, None) => unsigned(format!(
                "the head is not signed and no audit key is configured to check it with; {}, then sign the checked log with `pdq audit seal`",
                super::key::SET_UP
            )),
            (None, Some(_)) => unsigned(format!(
                "{}: the head is unsigned (written without the audit key, from before signed heads, or replaced): check the log, then sign it with `pdq audit seal`",
                path.display()
            )),
            (Some(_), None) => unsigned(format!(
                "{}: the head is signed (key id {}) but no audit key is configured here; {}",
                path.display(),
                self.key_id.as_deref().unwrap_or("?"),
                super::key::SET_UP
            )),
            (Some(mac), Some(k)) => {
                if self.key_id.as_deref() != Some(k.id().as_str()) {
                    bad(format!(
                        "the head is signed with another key (id {}; the key in {} is {}): a wrong key, or a forged head",
                        self.key_id.as_deref().unwrap_or("none"),
                        k.path.display(),
                        k.id()
                    ))
                } else if !k.check(&self.signed_text(), mac) {
                    bad("the head's signature does not match its content (edited, or written without the key)".into())
                } else {
                    None
                }
            }
        }
    }
}

/// Reads the head of the log in `dir`.
pub fn load(dir: &Path) -> Result<HeadState, AuditError> {
    let path = dir.join(HEAD);
    match std::fs::read(&path) {
        Ok(b) => Ok(match serde_json::from_slice::<Head>(&b) {
            Ok(h) => HeadState::Present(h),
            Err(e) => HeadState::Garbled(e.to_string()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HeadState::Missing),
        Err(e) => Err(io(&path)(e)),
    }
}

/// Writes `value` as `dir/name` atomically: a temporary file, synced,
/// renamed over, and the directory synced so the rename survives a crash.
pub fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), AuditError> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut f = File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(&serde_json::to_vec(value).unwrap_or_default())
        .and_then(|_| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

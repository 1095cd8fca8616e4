//! Checking the log (`pdq audit verify`), signing a checked log's head
//! (`pdq audit seal`) and anchoring the head outside the workspace (after
//! every sweep, `pdq audit anchor`).
//!
//! Verification, in order, the first problem being the error: the head is
//! there and is a head; the chain is intact from its base; the head is
//! signed with the key and names the chain's last record; every anchor of
//! this log is signed, numbered without gaps, at least as many as the head
//! counts, and names a record of the chain with its hash.

use std::path::PathBuf;

use chrono::Utc;

use super::anchor::{self, Anchor, Anchored};
use super::chain::{self, Chain};
use super::head::{self, Head, HeadState};
use super::key;
use super::{AuditError, AuditLog, AuditRecord, io};

/// What verification found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// Records checked.
    pub records: u64,
    /// First sequence number.
    pub first: Option<u64>,
    /// Last sequence number.
    pub last: Option<u64>,
    /// A cut-off last line (a crash in the middle of a write; not a record
    /// and not tampering; the next append removes it): `file:line`.
    pub incomplete: Option<String>,
    /// The id of the key the head is signed with.
    pub key_id: String,
    /// The anchors checked, if there is an anchor file.
    pub anchors: Option<Anchored>,
}

/// What `pdq audit seal` did.
#[derive(Debug, Clone, PartialEq)]
pub enum Sealed {
    /// The head was already signed and at the chain's end.
    Already(Verified),
    /// The seal record written (its detail says what the head was).
    Sealed(AuditRecord),
}

impl AuditLog {
    fn head_error(&self, what: String) -> AuditError {
        AuditError::Head {
            path: self.head_path(),
            what,
        }
    }

    /// The head's problems that come before the chain's: missing, garbled.
    fn present_head(&self, state: HeadState, records: bool) -> Result<Head, AuditError> {
        match state {
            HeadState::Present(h) => Ok(h),
            HeadState::Missing if records => Err(self.head_error(
                "the head is missing (removed, perhaps after records were cut from the end): the log cannot be shown complete".into(),
            )),
            HeadState::Missing => Err(self.head_error(
                "the head is missing and the log holds no records: nothing was logged yet, or the whole log was removed".into(),
            )),
            HeadState::Garbled(e) => Err(self.head_error(format!(
                "the head is garbled, not a head ({e}): tampering"
            ))),
        }
    }

    /// Whether the head names the chain's last record.
    fn at_end(h: &Head, c: &Chain) -> Result<(), String> {
        // An append interrupted between its record and the head's move:
        // the signed head named that very record; the next append moves it.
        if (h.seq, h.hash.as_str()) == (c.end_seq, c.end_hash.as_str())
            || h.pending_is(c.end_seq, &c.end_hash)
        {
            return Ok(());
        }
        Err(if h.seq > c.end_seq {
            format!(
                "the log ends at record {} but its head says {} (records removed from the end)",
                c.end_seq, h.seq
            )
        } else if h.seq < c.end_seq {
            format!(
                "the log goes on to record {} past its head at {} (records added without the key, or a crash between a record and its head)",
                c.end_seq, h.seq
            )
        } else {
            format!(
                "record {} is not the one its head names (the end of the log was rewritten)",
                h.seq
            )
        })
    }

    /// Checks the whole log (see the module docs). The first problem is the
    /// error; [`AuditError::is_verdict`] tells tampering and unsigned logs
    /// from a log that could not be read or a bad key set-up.
    pub fn verify(&self) -> Result<Verified, AuditError> {
        let key = self.key()?;
        let _lock = self.read_lock();
        let state = head::load(&self.dir)?;
        let base = self.base(&state)?;
        let files = self.files()?;
        let has_records = files
            .iter()
            .any(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > 0));
        let h = self.present_head(state, has_records)?;
        let chain = chain::walk(&files, &base)?;
        if let Some(problem) = h.signature_problem(key.as_ref(), &self.head_path()) {
            return Err(problem);
        }
        let Some(key) = key else {
            // signature_problem reports every keyless case.
            return Err(AuditError::Unsigned {
                what: key::SET_UP.into(),
            });
        };
        if let Err(what) = Self::at_end(&h, &chain) {
            let (path, line) = chain.last_place.clone().unwrap_or((self.head_path(), 0));
            return Err(AuditError::Broken {
                path,
                line,
                seq: h.seq,
                what,
            });
        }
        let anchors = match self.anchor_file()? {
            Some(p) => Some(anchor::check(
                &p, &key, &h.log, h.anchors, &chain, base.seq,
            )?),
            None if h.anchors > 0 => {
                return Err(AuditError::Anchor {
                    path: PathBuf::from("(no anchor file)"),
                    line: 0,
                    what: format!(
                        "the head says {} anchor(s) were written but no anchor file is configured (PDQ_AUDIT_ANCHOR_FILE)",
                        h.anchors
                    ),
                });
            }
            None => None,
        };
        Ok(Verified {
            records: chain.records,
            first: chain.first,
            last: chain.last,
            incomplete: chain
                .incomplete
                .map(|(f, line)| format!("{}:{line}", f.display())),
            key_id: key.id(),
            anchors,
        })
    }

    /// Signs the head of a log a person has checked: a log from before
    /// signed heads, one written without a key, or one whose head is
    /// missing or wrong. The chain must be intact and agree with every
    /// anchor of the log; the seal is itself a record, saying what the head
    /// was, so that sealing is never silent.
    ///
    /// `restart_anchors`: a person says the log was restored from a backup
    /// older than its last anchors; they are set aside (a new log id) and
    /// the contradiction is recorded in the seal.
    pub fn seal(&self, actor: &str, restart_anchors: bool) -> Result<Sealed, AuditError> {
        let key = self.key()?.ok_or_else(|| AuditError::Unsigned {
            what: format!("no audit key to seal the log with; {}", key::SET_UP),
        })?;
        if let Ok(v) = self.verify() {
            return Ok(Sealed::Already(v));
        }
        let _lock = self.lock()?;
        let state = head::load(&self.dir)?;
        let base = self.base(&state)?;
        let chain = chain::walk(&self.files()?, &base)?;
        let (log, previous, anchors) = match &state {
            HeadState::Missing => (None, "missing".to_string(), 0),
            HeadState::Garbled(e) => (None, format!("garbled ({e})"), 0),
            HeadState::Present(h) => {
                let mut what = match h.signature_problem(Some(&key), &self.head_path()) {
                    Some(p) => p.to_string(),
                    None => "signed".into(),
                };
                if let Err(end) = Self::at_end(h, &chain) {
                    what = format!("{what}; {end}");
                }
                let log = Some(h.log.clone()).filter(|l| !l.is_empty());
                (log, what, h.anchors)
            }
        };
        let log = match log {
            Some(l) => l,
            None => hex::encode(key::random_bytes::<16>().map_err(io(&self.dir))?),
        };
        // The anchors are the evidence from outside: a log cut or
        // rewritten below one of them is not sealed, unless a person says
        // it was restored from an older backup; then the log gets a new id
        // (the old anchors no longer bind it) and the seal says why. The
        // head's count of anchors becomes what the file holds (an anchor
        // file cut short is accepted here, and said in the record).
        let previous_anchors = anchors;
        let previous_log = log.clone();
        let mut anchor_problem = None;
        let (log, anchors) = match self.anchor_file()? {
            Some(p) => match anchor::check(&p, &key, &log, 0, &chain, base.seq) {
                Ok(_) => {
                    let n = anchor::next_number(&p, &log, 0)? - 1;
                    (log, n)
                }
                Err(e) if restart_anchors && e.is_verdict() => {
                    anchor_problem = Some(e.to_string());
                    let new = hex::encode(key::random_bytes::<16>().map_err(io(&self.dir))?);
                    (new, 0)
                }
                Err(e) => {
                    return Err(AuditError::Anchor {
                        path: p,
                        line: 0,
                        what: format!(
                            "not sealed: {e} (if the log was restored from an older backup, `pdq audit seal --restart-anchors` seals it under a new log id and records why)"
                        ),
                    });
                }
            },
            None => (log, anchors),
        };
        let mut h = Head::new(log);
        h.seq = chain.end_seq;
        h.hash = chain.end_hash.clone();
        h.base_seq = base.seq;
        h.base_hash = base.hash.clone();
        h.anchors = anchors;
        self.last_record()?; // removes a cut-off last line
        let r = self.record_after(
            &h,
            actor,
            "audit-seal",
            "audit",
            serde_json::json!({
                "sealed_seq": chain.end_seq,
                "sealed_hash": chain.end_hash,
                "records": chain.records,
                "previous_head": previous,
                "previous_anchors": previous_anchors,
                "anchors": anchors,
                "previous_log": previous_log,
                "log": h.log.clone(),
                "anchor_problem": anchor_problem,
                "key_id": key.id(),
            }),
        );
        self.commit_record(h, &r, Some(&key))?;
        Ok(Sealed::Sealed(r))
    }

    /// Copies the signed head to the anchor file (and the journal).
    /// `Ok(None)` when no key is configured: there is nothing signed to
    /// anchor.
    pub fn anchor(&self) -> Result<Option<Anchor>, AuditError> {
        let Some(key) = self.key()? else {
            return Ok(None);
        };
        let path = self.anchor_file()?.ok_or_else(|| AuditError::Config {
            path: PathBuf::from("PDQ_AUDIT_ANCHOR_FILE"),
            what:
                "no anchor file: set PDQ_AUDIT_ANCHOR_FILE (no /var/lib/pdq and no home directory)"
                    .into(),
        })?;
        let _lock = self.lock()?;
        let mut h = self.present_head(head::load(&self.dir)?, true)?;
        if let Some(problem) = h.signature_problem(Some(&key), &self.head_path()) {
            return Err(problem);
        }
        let workspace = self.workspace();
        let mut a = Anchor {
            log: h.log.clone(),
            workspace: workspace
                .canonicalize()
                .unwrap_or_else(|_| workspace.to_path_buf())
                .display()
                .to_string(),
            n: anchor::next_number(&path, &h.log, h.anchors)?,
            seq: h.seq,
            hash: h.hash.clone(),
            time: Utc::now(),
            key_id: key.id(),
            mac: String::new(),
        };
        a.mac = key.sign(&a.signed_text());
        anchor::append(&path, &a)?;
        h.anchors = a.n;
        h.sign(Some(&key));
        head::write_json(&self.dir, head::HEAD, &h)?;
        Ok(Some(a))
    }
}

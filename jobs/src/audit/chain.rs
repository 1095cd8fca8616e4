//! The hash chain: each record's hash, reading the year files line by
//! line, and walking the chain from its base to its last record.
//!
//! A record is a line that ends with a newline. A line in the middle that
//! is not a record is tampering (issue #18, 4); only the very last line of
//! the last file may be cut off — a crash in the middle of a write — and
//! that one is reported as an incomplete final record, not counted, and
//! removed by the next append ([`repair_tail`]).

use std::collections::HashMap;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{AuditError, AuditRecord, io};

#[derive(serde::Serialize)]
struct Hashed<'a> {
    seq: u64,
    time: &'a chrono::DateTime<chrono::Utc>,
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    detail: &'a serde_json::Value,
    prev: &'a str,
}

impl AuditRecord {
    /// SHA-256 over every field but the hash itself, hex.
    pub fn compute_hash(&self) -> String {
        let body = serde_json::to_vec(&Hashed {
            seq: self.seq,
            time: &self.time,
            actor: &self.actor,
            action: &self.action,
            target: &self.target,
            detail: &self.detail,
            prev: &self.prev,
        })
        .unwrap_or_default();
        hex::encode(Sha256::digest(body))
    }
}

/// One line of a year file.
pub(crate) struct Line {
    /// 1-based line number.
    pub number: usize,
    /// The text, without its newline.
    pub text: String,
    /// Whether it ended with a newline (a written record does).
    pub complete: bool,
}

/// The lines of `path`.
pub(crate) fn lines(path: &Path) -> Result<Vec<Line>, AuditError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let text = String::from_utf8_lossy(&bytes);
    let mut out = vec![];
    let mut rest: &str = &text;
    let mut number = 0;
    while !rest.is_empty() {
        number += 1;
        match rest.find('\n') {
            Some(i) => {
                out.push(Line {
                    number,
                    text: rest[..i].to_string(),
                    complete: true,
                });
                rest = &rest[i + 1..];
            }
            None => {
                out.push(Line {
                    number,
                    text: rest.to_string(),
                    complete: false,
                });
                rest = "";
            }
        }
    }
    Ok(out)
}

/// Where the chain starts: after record `seq` with hash `hash` (0 and the
/// genesis hash, or the last pruned record).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Base {
    pub seq: u64,
    pub hash: String,
}

/// What walking the chain found.
#[derive(Debug, Default)]
pub(crate) struct Chain {
    /// Records in the chain.
    pub records: u64,
    /// First and last sequence numbers.
    pub first: Option<u64>,
    pub last: Option<u64>,
    /// The last record's sequence number and hash (the base's when none).
    pub end_seq: u64,
    pub end_hash: String,
    /// Every record's hash by sequence number (for anchors).
    pub hashes: HashMap<u64, String>,
    /// The cut-off last line, if any: file and line.
    pub incomplete: Option<(PathBuf, usize)>,
    /// Where the last record is (for messages).
    pub last_place: Option<(PathBuf, usize)>,
}

/// Walks the chain in `files` (oldest first) from `base`: every line a
/// record (but a cut-off last line), every record's hash, every link, no
/// gap in the sequence. The first problem is the error. Records at or
/// below the base are those of a prune that was interrupted before it
/// deleted their file; they are skipped.
pub(crate) fn walk(files: &[PathBuf], base: &Base) -> Result<Chain, AuditError> {
    let mut chain = Chain {
        end_seq: base.seq,
        end_hash: base.hash.clone(),
        ..Chain::default()
    };
    for (k, f) in files.iter().enumerate() {
        let last_file = k + 1 == files.len();
        for line in lines(f)? {
            let broken = |seq: u64, what: String| AuditError::Broken {
                path: f.clone(),
                line: line.number,
                seq,
                what,
            };
            if !line.complete {
                if last_file {
                    chain.incomplete = Some((f.clone(), line.number));
                    continue;
                }
                return Err(broken(
                    chain.end_seq + 1,
                    "a cut-off line at the end of a file that later files follow (tampering, not a crash)".into(),
                ));
            }
            let r: AuditRecord = match serde_json::from_str(&line.text) {
                Ok(r) => r,
                Err(e) => {
                    return Err(broken(
                        chain.end_seq + 1,
                        format!("a garbage line, not a record ({e}): tampering"),
                    ));
                }
            };
            if chain.records == 0 && base.seq > 0 && r.seq <= base.seq {
                if r.compute_hash() != r.hash {
                    return Err(broken(
                        r.seq,
                        "its content does not match its hash (edited)".into(),
                    ));
                }
                continue;
            }
            let expect = chain.end_seq + 1;
            if r.seq != expect {
                return Err(broken(
                    expect,
                    format!(
                        "sequence jumps from {} to {} (records removed or reordered)",
                        expect - 1,
                        r.seq
                    ),
                ));
            }
            if r.prev != chain.end_hash {
                return Err(broken(
                    expect,
                    "does not link to the record before it (removed, reordered or edited)".into(),
                ));
            }
            if r.compute_hash() != r.hash {
                return Err(broken(
                    expect,
                    "its content does not match its hash (edited)".into(),
                ));
            }
            chain.first.get_or_insert(r.seq);
            chain.last = Some(r.seq);
            chain.records += 1;
            chain.end_seq = r.seq;
            chain.end_hash = r.hash.clone();
            chain.hashes.insert(r.seq, r.hash);
            chain.last_place = Some((f.clone(), line.number));
        }
    }
    Ok(chain)
}

/// Removes a cut-off last line from `path` (a crash mid-write), so that
/// the next record starts on a line of its own. Returns the bytes removed.
pub(crate) fn repair_tail(path: &Path) -> Result<u64, AuditError> {
    use std::io::Read;
    let mut f = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(path)(e)),
    };
    let len = f.metadata().map_err(io(path))?.len();
    if len == 0 {
        return Ok(0);
    }
    let mut last = [0u8; 1];
    f.seek(SeekFrom::Start(len - 1))
        .and_then(|_| f.read_exact(&mut last))
        .map_err(io(path))?;
    if last[0] == b'\n' {
        return Ok(0);
    }
    let keep = match last_newline(&mut f, len).map_err(io(path))? {
        Some(i) => i + 1,
        None => 0,
    };
    f.set_len(keep)
        .and_then(|_| f.sync_all())
        .map_err(io(path))?;
    Ok(len - keep)
}

/// The offset of the last newline in the first `len` bytes of `f`, read
/// backwards in growing windows (the log may be large; its tail is short).
fn last_newline(f: &mut std::fs::File, len: u64) -> std::io::Result<Option<u64>> {
    use std::io::Read;
    let mut window = 64 * 1024u64;
    loop {
        let start = len.saturating_sub(window);
        let mut buf = vec![0u8; (len - start) as usize];
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf)?;
        if let Some(i) = buf.iter().rposition(|b| *b == b'\n') {
            return Ok(Some(start + i as u64));
        }
        if start == 0 {
            return Ok(None);
        }
        window *= 4;
    }
}

/// The last whole line of `path` (which ends with a newline after
/// [`repair_tail`]), read from its end; `None` when the file is empty.
pub(crate) fn last_line(path: &Path) -> Result<Option<String>, AuditError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(io(path))?;
    let len = f.metadata().map_err(io(path))?.len();
    if len == 0 {
        return Ok(None);
    }
    // Skip the final newline: the line before it starts after the one before.
    let start = match last_newline(&mut f, len - 1).map_err(io(path))? {
        Some(i) => i + 1,
        None => 0,
    };
    let mut buf = vec![0u8; (len - 1 - start) as usize];
    f.seek(SeekFrom::Start(start))
        .and_then(|_| f.read_exact(&mut buf))
        .map_err(io(path))?;
    Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
}

//! The audit log: every operation that reads or publishes data (who or
//! which job, what, when), append-only and tamper-evident.
//!
//! Records are JSON lines in one file per year (`audit-2026.jsonl`). Each
//! carries the SHA-256 of the previous record, and its own hash covers all
//! its fields and that link, so editing, removing or reordering any record
//! breaks the chain at that point; `head.json` holds the last record's hash,
//! so removing records from the end is caught too. Pruning deletes whole
//! years older than the retention period and leaves an anchor (the last
//! pruned hash) from which the remaining chain is verified.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audited operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    time: &'a DateTime<Utc>,
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    detail: &'a serde_json::Value,
    prev: &'a str,
}

impl AuditRecord {
    fn compute_hash(&self) -> String {
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

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Head {
    seq: u64,
    hash: String,
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
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> AuditError + '_ {
    move |source| AuditError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What verification found.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// Records checked.
    pub records: u64,
    /// First and last sequence numbers.
    pub first: Option<u64>,
    /// Last sequence number.
    pub last: Option<u64>,
    /// Lines left by a crash in the middle of a write (not records).
    pub torn: Vec<String>,
}

/// An audit log in a directory.
#[derive(Debug, Clone)]
pub struct AuditLog {
    dir: PathBuf,
}

impl AuditLog {
    /// The log in `dir` (created on first append).
    pub fn new(dir: &Path) -> Self {
        AuditLog {
            dir: dir.to_path_buf(),
        }
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

    fn read_json<T: for<'a> Deserialize<'a>>(&self, name: &str) -> Result<Option<T>, AuditError> {
        let path = self.dir.join(name);
        match std::fs::read(&path) {
            Ok(b) => Ok(serde_json::from_slice(&b).ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<(), AuditError> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let mut f = File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&serde_json::to_vec(value).unwrap_or_default())
            .and_then(|_| f.sync_all())
            .map_err(io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(io(&path))
    }

    /// The last record's position and hash (the anchor's when all were pruned).
    fn head(&self) -> Result<Head, AuditError> {
        if let Some(h) = self.read_json::<Head>("head.json")? {
            return Ok(h);
        }
        // No head yet (a new log, or one from before heads): scan.
        let mut head = self.read_json::<Head>("anchor.json")?.unwrap_or(Head {
            seq: 0,
            hash: GENESIS.into(),
        });
        for f in self.files()? {
            let file = File::open(&f).map_err(io(&f))?;
            for line in BufReader::new(file).lines() {
                let line = line.map_err(io(&f))?;
                if let Ok(r) = serde_json::from_str::<AuditRecord>(&line) {
                    head = Head {
                        seq: r.seq,
                        hash: r.hash,
                    };
                }
            }
        }
        Ok(head)
    }

    /// Appends a record; returns it. Appends are serialised by a lock, and
    /// each is written in one call and synced before the head moves.
    pub fn append(
        &self,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<AuditRecord, AuditError> {
        std::fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let lock_path = self.dir.join(".lock");
        let lock = File::create(&lock_path).map_err(io(&lock_path))?;
        lock.lock().map_err(io(&lock_path))?;
        let head = self.head()?;
        let mut r = AuditRecord {
            seq: head.seq + 1,
            time: Utc::now(),
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            detail,
            prev: head.hash,
            hash: String::new(),
        };
        r.hash = r.compute_hash();
        let path = self.year_file(r.time.year());
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .open(&path)
            .map_err(io(&path))?;
        // A crash mid-write leaves a line without its newline: close it off,
        // so the torn fragment stays visible as such and the next record is whole.
        let len = f.metadata().map_err(io(&path))?.len();
        let mut line = serde_json::to_string(&r).unwrap_or_default();
        line.push('\n');
        if len > 0 {
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8; 1];
            let mut rf = File::open(&path).map_err(io(&path))?;
            rf.seek(SeekFrom::Start(len - 1))
                .and_then(|_| rf.read_exact(&mut last))
                .map_err(io(&path))?;
            if last[0] != b'\n' {
                line.insert(0, '\n');
            }
        }
        f.write_all(line.as_bytes())
            .and_then(|_| f.sync_data())
            .map_err(io(&path))?;
        self.write_json(
            "head.json",
            &Head {
                seq: r.seq,
                hash: r.hash.clone(),
            },
        )?;
        Ok(r)
    }

    /// Every record, oldest first (torn fragments skipped).
    pub fn records(&self) -> Result<Vec<AuditRecord>, AuditError> {
        let mut out = vec![];
        for f in self.files()? {
            let file = File::open(&f).map_err(io(&f))?;
            for line in BufReader::new(file).lines() {
                if let Ok(r) = serde_json::from_str::<AuditRecord>(&line.map_err(io(&f))?) {
                    out.push(r);
                }
            }
        }
        Ok(out)
    }

    /// Checks the whole chain: every record's hash, every link, no gap in
    /// the sequence, and the head. The first problem is the error.
    pub fn verify(&self) -> Result<Verified, AuditError> {
        let anchor = self.read_json::<Head>("anchor.json")?.unwrap_or(Head {
            seq: 0,
            hash: GENESIS.into(),
        });
        let mut expect_seq = anchor.seq + 1;
        let mut prev = anchor.hash.clone();
        let mut v = Verified {
            records: 0,
            first: None,
            last: None,
            torn: vec![],
        };
        let mut last_place = (self.dir.join("head.json"), 0usize);
        for f in self.files()? {
            let file = File::open(&f).map_err(io(&f))?;
            let lines: Vec<String> = BufReader::new(file)
                .lines()
                .collect::<Result<_, _>>()
                .map_err(io(&f))?;
            let n = lines.len();
            for (i, line) in lines.iter().enumerate() {
                let broken = |what: String| AuditError::Broken {
                    path: f.clone(),
                    line: i + 1,
                    seq: expect_seq,
                    what,
                };
                if line.is_empty() {
                    continue;
                }
                let r: AuditRecord = match serde_json::from_str(line) {
                    Ok(r) => r,
                    // Only a line followed by a whole record can be a torn
                    // write closed off by the next append.
                    Err(_) if !line.ends_with('}') && i + 1 < n => {
                        v.torn.push(format!("{}:{}", f.display(), i + 1));
                        continue;
                    }
                    Err(e) => return Err(broken(format!("not a record ({e})"))),
                };
                if r.seq != expect_seq {
                    return Err(broken(format!(
                        "sequence jumps from {} to {} (records removed or reordered)",
                        expect_seq - 1,
                        r.seq
                    )));
                }
                if r.prev != prev {
                    return Err(broken(
                        "does not link to the record before it (removed, reordered or edited)"
                            .into(),
                    ));
                }
                if r.compute_hash() != r.hash {
                    return Err(broken(
                        "its content does not match its hash (edited)".into(),
                    ));
                }
                prev = r.hash.clone();
                v.first.get_or_insert(r.seq);
                v.last = Some(r.seq);
                v.records += 1;
                expect_seq += 1;
                last_place = (f.clone(), i + 1);
            }
        }
        if let Some(head) = self.read_json::<Head>("head.json")?
            && (head.seq != expect_seq - 1 || head.hash != prev)
        {
            return Err(AuditError::Broken {
                path: last_place.0,
                line: last_place.1,
                seq: expect_seq,
                what: format!(
                    "the log ends at record {} but its head says {} (records removed from the end)",
                    expect_seq - 1,
                    head.seq
                ),
            });
        }
        Ok(v)
    }

    /// Deletes the years whose every record is older than `keep_years`
    /// before `now`, after verifying them; the anchor keeps the chain
    /// verifiable. Returns the files deleted.
    pub fn prune(&self, keep_years: u32, now: DateTime<Utc>) -> Result<Vec<PathBuf>, AuditError> {
        self.verify()?;
        let cutoff_year = now.year() - keep_years as i32; // years < cutoff end more than keep_years ago
        let mut deleted = vec![];
        for f in self.files()? {
            let year: Option<i32> = f.file_name().and_then(|n| n.to_str()).and_then(|n| {
                n.strip_prefix("audit-")?
                    .strip_suffix(".jsonl")?
                    .parse()
                    .ok()
            });
            let Some(year) = year else { continue };
            if year >= cutoff_year {
                continue;
            }
            let file = File::open(&f).map_err(io(&f))?;
            let mut last: Option<AuditRecord> = None;
            for line in BufReader::new(file).lines() {
                if let Ok(r) = serde_json::from_str::<AuditRecord>(&line.map_err(io(&f))?) {
                    last = Some(r);
                }
            }
            if let Some(r) = last {
                self.write_json(
                    "anchor.json",
                    &Head {
                        seq: r.seq,
                        hash: r.hash,
                    },
                )?;
            }
            std::fs::remove_file(&f).map_err(io(&f))?;
            deleted.push(f);
        }
        Ok(deleted)
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
mod tests {
    use super::*;

    fn log_with(n: usize) -> (tempfile::TempDir, AuditLog) {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        for i in 0..n {
            log.append(
                "job:sweep",
                "ingest",
                &format!("gongan.d{i}"),
                serde_json::json!({"rows": i}),
            )
            .unwrap();
        }
        (dir, log)
    }

    fn file(log: &AuditLog) -> PathBuf {
        log.files().unwrap().pop().unwrap()
    }

    #[test]
    fn an_intact_log_verifies() {
        let (_d, log) = log_with(5);
        let v = log.verify().unwrap();
        assert_eq!((v.records, v.first, v.last), (5, Some(1), Some(5)));
    }

    #[test]
    fn an_edited_record_is_detected() {
        let (_d, log) = log_with(5);
        let f = file(&log);
        let text = std::fs::read_to_string(&f)
            .unwrap()
            .replace("\"rows\":2", "\"rows\":200");
        std::fs::write(&f, text).unwrap();
        let e = log.verify().unwrap_err().to_string();
        assert!(
            e.contains(":3:") && e.contains("record 3") && e.contains("edited"),
            "{e}"
        );
    }

    #[test]
    fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
        let (_d, log) = log_with(5);
        let f = file(&log);
        let mut recs = log.records().unwrap();
        recs[1].target = "forged".into();
        recs[1].hash = recs[1].compute_hash();
        let text: String = recs
            .iter()
            .map(|r| serde_json::to_string(r).unwrap() + "\n")
            .collect();
        std::fs::write(&f, text).unwrap();
        let e = log.verify().unwrap_err().to_string();
        assert!(e.contains("record 3") && e.contains("does not link"), "{e}");
    }

    #[test]
    fn a_deleted_record_is_detected() {
        let (_d, log) = log_with(5);
        let f = file(&log);
        let lines: Vec<String> = std::fs::read_to_string(&f)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        let kept: Vec<&String> = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, l)| l)
            .collect();
        std::fs::write(
            &f,
            kept.iter().map(|l| format!("{l}\n")).collect::<String>(),
        )
        .unwrap();
        let e = log.verify().unwrap_err().to_string();
        assert!(
            e.contains("record 2") && e.contains("jumps from 1 to 3"),
            "{e}"
        );
        // Removing the last records is caught by the head.
        let (_d2, log2) = log_with(4);
        let f2 = file(&log2);
        let lines: Vec<String> = std::fs::read_to_string(&f2)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        std::fs::write(
            &f2,
            lines[..3]
                .iter()
                .map(|l| format!("{l}\n"))
                .collect::<String>(),
        )
        .unwrap();
        let e = log2.verify().unwrap_err().to_string();
        assert!(e.contains("removed from the end"), "{e}");
    }

    #[test]
    fn a_torn_write_is_reported_not_hidden_and_the_log_goes_on() {
        let (_d, log) = log_with(2);
        let f = file(&log);
        let mut fh = OpenOptions::new().append(true).open(&f).unwrap();
        fh.write_all(b"{\"seq\":3,\"time\":\"2026-").unwrap(); // crash mid-write
        log.append("job:sweep", "check", "gongan.d9", serde_json::json!({}))
            .unwrap();
        let v = log.verify().unwrap();
        assert_eq!(v.records, 3);
        assert_eq!(v.torn.len(), 1);
    }

    #[test]
    fn pruning_keeps_the_retention_period_and_the_chain() {
        let (_d, log) = log_with(3);
        // Move the records into an old year's file, as if written in 2021.
        let f = file(&log);
        std::fs::rename(&f, log.year_file(2021)).unwrap();
        log.append("job:sweep", "publish", "site", serde_json::json!({}))
            .unwrap();
        let now: DateTime<Utc> = "2026-11-22T00:00:00Z".parse().unwrap();
        // Three years' retention: 2021 ended almost five years ago.
        let gone = log.prune(3, now).unwrap();
        assert_eq!(gone, vec![log.year_file(2021)]);
        let v = log.verify().unwrap();
        assert_eq!(
            (v.records, v.first),
            (1, Some(4)),
            "the rest verifies from the anchor"
        );
        // Nothing within the period is pruned.
        assert!(log.prune(3, now).unwrap().is_empty());
    }
}

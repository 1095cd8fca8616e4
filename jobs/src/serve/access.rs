//! Who may see which path, and the read log.
//!
//! Every read of department data (a department's pages, its results and
//! samples, the rectification list, the full catalog and its findings) is
//! written to the workspace's audit log (`audit/`, action `read`): who
//! (role, department and the holder's name from `tokens.toml`, never the
//! token), what (the path) and when. The regulations require logs of the
//! data provided (XJ art.15, TB art.19, GZ art.19: 使用时间、人员). The
//! records are written by one thread off the request path: it appends
//! whatever queued up while it was writing as one record per reader and
//! path, with the number of reads and the first and last time, so a busy
//! server costs the disk one record per reader and path at a time rather
//! than one per request.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use pipeline::catalog::publish::{FULL_FILES, PUBLIC_DIR};
use pipeline::site::PUBLIC_CATALOG_PAGE;

use super::Principal;
use super::tokens::Identity;
use crate::audit::AuditLog;

/// Who may see a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    /// Everyone, signed in or not.
    Anyone,
    /// Any valid token: the full catalog.
    SignedIn,
    /// The department, and the bureau.
    Department(String),
    /// The bureau only.
    Bureau,
}

/// Who may see a site path.
pub(crate) fn required(path: &str) -> Need {
    if let Some(rest) = path.strip_prefix("dept/") {
        return Need::Department(rest.trim_end_matches(".html").to_string());
    }
    if let Some(rest) = path.strip_prefix("dataset/") {
        return Need::Department(rest.split('.').next().unwrap_or("").to_string());
    }
    if path == "rectification.html" {
        return Need::Bureau;
    }
    // The catalog page lists every entry, 不予开放 ones too.
    if path == "catalog.html" {
        return Need::SignedIn;
    }
    if let Some(name) = path.strip_prefix("catalog/") {
        if name.starts_with(&format!("{PUBLIC_DIR}/"))
            || matches!(name, "open-catalog.json" | "open-catalog.csv")
        {
            return Need::Anyone;
        }
        if FULL_FILES.contains(&name) {
            return Need::SignedIn;
        }
        // The findings, the change log, the officials' workbook, and any
        // catalog file added later: the bureau, until said otherwise.
        return Need::Bureau;
    }
    Need::Anyone
}

pub(crate) fn allowed(p: Option<&Principal>, need: &Need) -> Result<(), StatusCode> {
    match (need, p) {
        (Need::Anyone, _) => Ok(()),
        (_, None) => Err(StatusCode::UNAUTHORIZED),
        (_, Some(Principal::Bureau)) | (Need::SignedIn, Some(_)) => Ok(()),
        (Need::Department(d), Some(Principal::Department(mine))) if d == mine => Ok(()),
        (_, Some(Principal::Department(_))) => Err(StatusCode::FORBIDDEN),
    }
}

/// The open variant of a full-catalog path, which anonymous readers get.
fn public_variant(path: &str) -> Option<String> {
    if path == "catalog.html" {
        return Some(PUBLIC_CATALOG_PAGE.to_string());
    }
    let name = path.strip_prefix("catalog/")?;
    FULL_FILES
        .contains(&name)
        .then(|| format!("catalog/{PUBLIC_DIR}/{name}"))
}

/// The file a reader gets for a site path and whether the read is of
/// department data (and so logged), or why none: an anonymous reader of
/// the full catalog gets its open variant.
pub(crate) fn resolve(path: &str, p: Option<&Principal>) -> Result<(String, bool), StatusCode> {
    let need = required(path);
    match allowed(p, &need) {
        Ok(()) => Ok((path.to_string(), need != Need::Anyone)),
        Err(StatusCode::UNAUTHORIZED) if need == Need::SignedIn => public_variant(path)
            .map(|f| (f, false))
            .ok_or(StatusCode::UNAUTHORIZED),
        Err(code) => Err(code),
    }
}

struct Read {
    actor: String,
    path: String,
    via: &'static str,
    at: DateTime<Utc>,
}

/// The read log: a queue to the thread that writes the audit log.
pub(crate) struct ReadLog {
    tx: Sender<Read>,
    pending: Arc<AtomicUsize>,
}

impl ReadLog {
    /// Starts the writer for the audit log in `dir`.
    pub fn start(dir: &Path) -> std::io::Result<ReadLog> {
        let (tx, rx) = channel();
        let pending = Arc::new(AtomicUsize::new(0));
        let log = AuditLog::new(dir);
        let left = pending.clone();
        std::thread::Builder::new()
            .name("pdq-read-log".into())
            .spawn(move || write_reads(&log, &rx, &left))?;
        Ok(ReadLog { tx, pending })
    }

    /// Records that `who` read `path`.
    pub fn record(&self, who: &Identity, path: &str) {
        let actor = who.actor();
        tracing::info!(who = %actor, what = %path, via = who.via, "read");
        self.pending.fetch_add(1, Ordering::SeqCst);
        let read = Read {
            actor,
            path: path.to_string(),
            via: who.via,
            at: Utc::now(),
        };
        if self.tx.send(read).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            tracing::error!(what = %path, "the read log's writer has stopped: this read is not in the audit log");
        }
    }

    /// Waits until every read recorded so far is written (or `timeout`
    /// passes: false).
    pub fn flush(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        while self.pending.load(Ordering::SeqCst) > 0 {
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

fn write_reads(log: &AuditLog, rx: &Receiver<Read>, pending: &AtomicUsize) {
    while let Ok(first) = rx.recv() {
        let batch: Vec<Read> = std::iter::once(first).chain(rx.try_iter()).collect();
        type Span = (usize, DateTime<Utc>, DateTime<Utc>);
        let mut by: BTreeMap<(&str, &str, &str), Span> = BTreeMap::new();
        for r in &batch {
            let e = by
                .entry((r.actor.as_str(), r.path.as_str(), r.via))
                .or_insert((0, r.at, r.at));
            e.0 += 1;
            e.1 = e.1.min(r.at);
            e.2 = e.2.max(r.at);
        }
        for ((actor, path, via), (reads, first, last)) in by {
            let detail = serde_json::json!({
                "via": via, "reads": reads,
                "first": first.to_rfc3339(), "last": last.to_rfc3339(),
            });
            if let Err(error) = log.append(actor, "read", path, detail) {
                tracing::error!(%error, who = %actor, what = %path, reads, "cannot write reads to the audit log");
            }
        }
        pending.fetch_sub(batch.len(), Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_sees_what() {
        let dept = |d: &str| Principal::Department(d.into());
        assert!(allowed(None, &required("index.html")).is_ok());
        // The full catalog needs a token; anonymous readers get the open
        // entries only (issue #18, 5).
        assert_eq!(
            allowed(None, &required("catalog.html")),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            resolve("catalog.html", None),
            Ok(("public/catalog.html".into(), false))
        );
        assert_eq!(
            resolve("catalog.html", Some(&dept("gongan"))),
            Ok(("catalog.html".into(), true))
        );
        for f in [
            "catalog.json",
            "catalog.csv",
            "catalog-items.csv",
            "dcat.jsonld",
        ] {
            let full = format!("catalog/{f}");
            assert_eq!(
                resolve(&full, None),
                Ok((format!("catalog/public/{f}"), false))
            );
            assert_eq!(
                resolve(&full, Some(&dept("gongan"))),
                Ok((full.clone(), true))
            );
        }
        assert!(allowed(None, &required("catalog/open-catalog.json")).is_ok());
        assert!(allowed(None, &required("catalog/public/catalog.json")).is_ok());
        for closed in [
            "catalog/findings.json",
            "catalog/catalog.xlsx",
            "catalog/new-file.csv",
        ] {
            assert_eq!(
                resolve(closed, None),
                Err(StatusCode::UNAUTHORIZED),
                "{closed}"
            );
            assert_eq!(
                resolve(closed, Some(&dept("gongan"))),
                Err(StatusCode::FORBIDDEN),
                "{closed}"
            );
        }
        assert_eq!(
            allowed(None, &required("dept/gongan.html")),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert!(allowed(Some(&dept("gongan")), &required("dept/gongan.html")).is_ok());
        assert!(
            allowed(
                Some(&dept("gongan")),
                &required("dataset/gongan.residents.html")
            )
            .is_ok()
        );
        assert_eq!(
            allowed(Some(&dept("gongan")), &required("dept/minzheng.html")),
            Err(StatusCode::FORBIDDEN)
        );
        assert_eq!(
            allowed(Some(&dept("gongan")), &required("dataset/minzheng.x.html")),
            Err(StatusCode::FORBIDDEN)
        );
        assert_eq!(
            allowed(Some(&dept("gongan")), &required("rectification.html")),
            Err(StatusCode::FORBIDDEN)
        );
        assert!(allowed(Some(&Principal::Bureau), &required("dept/minzheng.html")).is_ok());
    }
}

//! Reading one delivery: its passes (boundary, main, NULL key, NULL
//! watermark), keyset pages with retries, and the notes for the ledger.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};

use super::accumulate::Accumulator;
use super::link::{connection_lost, db_message, fetch_text};
use super::sql::{literal, session_text};
use super::{DbState, Dialect, Pool};
use crate::source::{ColumnDef, RawItem, SourceError};

/// Which rows a pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PassKind {
    /// Rows at exactly the last landed watermark (some already landed).
    Boundary,
    /// The delivery's rows with a key (paged by keyset) or all of them
    /// (no key: one streamed query).
    Main,
    /// The delivery's rows whose key is NULL.
    NullKey,
    /// Rows whose watermark is NULL.
    NullWatermark,
}

/// One query of a delivery.
pub(super) struct Pass {
    pub(super) kind: PassKind,
    pub(super) conds: Vec<String>,
    pub(super) paged: bool,
}

/// Reads one delivery: its passes in order, into batches, with the content
/// hash, the notes for the ledger and the source's state after it.
pub(super) struct DbPager {
    pub(super) dialect: Dialect,
    pub(super) select: String,
    pub(super) base: String,
    pub(super) passes: Vec<Pass>,
    pub(super) order_q: Vec<String>,
    pub(super) width: usize,
    pub(super) page: usize,
    pub(super) retries: u32,
    pub(super) location: String,
    /// `host:port` and what is read (`table x`, `query`), for messages.
    pub(super) server: String,
    pub(super) what: String,
    /// The number of declared columns (the first values of a row).
    pub(super) declared: usize,
    /// Where the watermark's and the key's session text are in a row.
    pub(super) wm_index: Option<usize>,
    pub(super) key_index: Option<usize>,
    /// The watermark and key columns, for notes and reasons.
    pub(super) wm_name: Option<String>,
    pub(super) key_name: Option<String>,
    /// The delivery's watermark range, as recorded.
    pub(super) from: Option<String>,
    pub(super) to: Option<String>,
    /// The state recorded with the last landed delivery, if it is `from`'s.
    pub(super) known: Option<DbState>,
}

/// What the passes found, beyond the rows themselves.
#[derive(Default)]
struct Tally {
    /// Identities still expected among the rows at `from`, with counts.
    known_at: HashMap<String, usize>,
    /// Identities of rows without a watermark quarantined before.
    known_null: HashMap<String, usize>,
    /// Identities of the rows at `to`.
    at_to: Vec<String>,
    /// Identities of the rows without a watermark seen now.
    null_ids: Vec<String>,
    already_landed: u64,
    late: u64,
    null_keys: u64,
    null_watermarks_new: u64,
    null_watermarks_known: u64,
}

/// Takes one from a multiset; whether it was there.
pub(super) fn take_one(set: &mut HashMap<String, usize>, id: &str) -> bool {
    match set.get_mut(id) {
        Some(n) if *n > 0 => {
            *n -= 1;
            true
        }
        _ => false,
    }
}

impl DbPager {
    fn sql(&self, conds: &[String], tail: &str) -> String {
        let mut sql = format!("SELECT {} FROM ({}) q", self.select, self.base);
        if !conds.is_empty() {
            sql += &format!(" WHERE {}", conds.join(" AND "));
        }
        sql + tail
    }

    /// A row's identity: its key, or a hash of its content.
    fn identity(&self, r: &[Option<String>]) -> String {
        if let Some(k) = self.key_index.and_then(|i| r[i].as_deref()) {
            return format!("k:{k}");
        }
        let mut h = Sha256::new();
        for v in r {
            h.update(v.as_deref().unwrap_or("\u{0}NULL").as_bytes());
            h.update(b"\x1f");
        }
        format!("h:{}", hex::encode(&h.finalize()[..12]))
    }

    /// Whether the row is at the delivery's upper watermark.
    fn at_to(&self, r: &[Option<String>]) -> bool {
        match (self.wm_index, &self.to) {
            (Some(i), Some(to)) => r[i].as_deref() == Some(session_text(self.dialect, to)),
            _ => false,
        }
    }

    /// One row of a pass: landed, skipped as already landed, or quarantined.
    fn take(&self, kind: PassKind, r: &[Option<String>], acc: &mut Accumulator, t: &mut Tally) {
        let tracked = self.wm_index.is_some();
        match kind {
            PassKind::Boundary => {
                let id = self.identity(r);
                if self.at_to(r) {
                    t.at_to.push(id.clone());
                }
                // Without a record (a watermark landed by an earlier version,
                // which landed every row at it) the rows are taken as landed.
                if self.known.is_none() || take_one(&mut t.known_at, &id) {
                    t.already_landed += 1;
                } else {
                    t.late += 1;
                    acc.push(r);
                }
            }
            PassKind::Main | PassKind::NullKey => {
                if kind == PassKind::NullKey {
                    t.null_keys += 1;
                }
                if tracked && self.at_to(r) {
                    t.at_to.push(self.identity(r));
                }
                acc.push(r);
            }
            PassKind::NullWatermark => {
                let id = self.identity(r);
                t.null_ids.push(id.clone());
                if take_one(&mut t.known_null, &id) {
                    t.null_watermarks_known += 1;
                    return;
                }
                t.null_watermarks_new += 1;
                let wm = self.wm_name.as_deref().unwrap_or_default();
                let key = match (&self.key_name, self.key_index.and_then(|i| r[i].as_deref())) {
                    (Some(k), Some(v)) => format!(" (key {k} = {v})"),
                    (Some(k), None) => format!(" (key {k} is NULL too)"),
                    _ => String::new(),
                };
                acc.reject(
                    &r[..self.declared],
                    format!(
                        "watermark column {wm} is NULL{key}: an incremental load cannot place the row; quarantined once, it lands when it gets a watermark"
                    ),
                );
            }
        }
    }

    pub(super) async fn run(
        &self,
        pool: &Pool,
        columns: &[ColumnDef],
        batch_rows: usize,
        tx: &tokio::sync::mpsc::Sender<Result<RawItem, SourceError>>,
    ) -> Result<(), SourceError> {
        let mut acc = Accumulator::new(columns, batch_rows, self.key_index);
        let mut t = Tally::default();
        if let Some(k) = &self.known {
            for id in &k.at_watermark {
                *t.known_at.entry(id.clone()).or_default() += 1;
            }
            for id in &k.null_watermark {
                *t.known_null.entry(id.clone()).or_default() += 1;
            }
        }
        for pass in &self.passes {
            if pass.paged {
                self.paged(pool, pass, &mut acc, &mut t, tx).await?;
            } else {
                self.streamed(pool, pass, &mut acc, &mut t, tx).await?;
            }
        }
        acc.flush(tx).await?;
        let notes = self.notes(&t);
        for n in &notes {
            tracing::info!(location = %self.location, "{n}");
        }
        let state = self.wm_index.map(|_| {
            serde_json::to_string(&DbState {
                watermark: self.to.clone(),
                at_watermark: t.at_to,
                null_watermark: t.null_ids,
            })
            .unwrap_or_default()
        });
        acc.end(tx, state, notes).await
    }

    /// What the ledger's note says about this delivery's rows.
    fn notes(&self, t: &Tally) -> Vec<String> {
        let mut notes = vec![];
        let from = self.from.as_deref().unwrap_or_default();
        let wm = self.wm_name.as_deref().unwrap_or_default();
        if self.wm_index.is_some() && self.from.is_some() && self.known.is_none() {
            notes.push(format!(
                "no record of the rows at the last landed watermark {from} (landed by an earlier version of pdq): the rows at it are taken as landed and recorded"
            ));
        }
        if t.already_landed > 0 {
            notes.push(format!(
                "{} rows at the last landed watermark {from} were landed by an earlier delivery: not landed again",
                t.already_landed
            ));
        }
        if t.late > 0 {
            notes.push(format!(
                "{} rows arrived late at the last landed watermark {from}",
                t.late
            ));
        }
        if t.null_keys > 0 {
            notes.push(format!(
                "{} rows with a NULL key ({}) read in their own pass",
                t.null_keys,
                self.key_name.as_deref().unwrap_or_default()
            ));
        }
        if t.null_watermarks_new > 0 {
            notes.push(format!(
                "{} rows with a NULL watermark ({wm}) quarantined",
                t.null_watermarks_new
            ));
        }
        if t.null_watermarks_known > 0 {
            notes.push(format!(
                "{} rows with a NULL watermark ({wm}) quarantined by an earlier delivery: not quarantined again",
                t.null_watermarks_known
            ));
        }
        notes
    }

    /// A failure after `rows` rows were read. A lost connection says so
    /// (MariaDB's reads "expected to read 27 bytes" otherwise, issue #23, G).
    fn db_err(&self, e: sqlx::Error, rows: u64) -> SourceError {
        let message = if connection_lost(&e) {
            format!(
                "the connection to {} was lost while reading {} (after {rows} rows): {}",
                self.server,
                self.what,
                db_message(&e)
            )
        } else {
            db_message(&e)
        };
        SourceError::Database {
            location: self.location.clone(),
            message,
        }
    }

    /// One streamed query (rows that cannot be paged exactly: no key, a
    /// NULL key or watermark, equal watermarks); a cut is retried by the
    /// next run. Ordered by every column except the unkeyed main pass.
    async fn streamed(
        &self,
        pool: &Pool,
        pass: &Pass,
        acc: &mut Accumulator,
        t: &mut Tally,
        tx: &tokio::sync::mpsc::Sender<Result<RawItem, SourceError>>,
    ) -> Result<(), SourceError> {
        let tail = if pass.kind == PassKind::Main {
            String::new()
        } else {
            let all: Vec<String> = (1..=self.width).map(|i| i.to_string()).collect();
            format!(" ORDER BY {}", all.join(", "))
        };
        let sql = self.sql(&pass.conds, &tail);
        on_pool!(pool, p => {
            let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch(p);
            while let Some(r) = rows.next().await {
                let r = r.map_err(|e| self.db_err(e, acc.row_no))?;
                let vals = (0..self.width)
                    .map(|i| r.try_get::<Option<String>, _>(i))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| self.db_err(e, acc.row_no))?;
                self.take(pass.kind, &vals, acc, t);
                if acc.batcher.is_full() {
                    acc.flush(tx).await?;
                }
            }
        });
        Ok(())
    }

    /// Pages by keyset over the ordering columns (none of them NULL here);
    /// a failed page is retried from the last page read.
    async fn paged(
        &self,
        pool: &Pool,
        pass: &Pass,
        acc: &mut Accumulator,
        t: &mut Tally,
        tx: &tokio::sync::mpsc::Sender<Result<RawItem, SourceError>>,
    ) -> Result<(), SourceError> {
        let mut last: Option<Vec<String>> = None;
        loop {
            let mut conds = pass.conds.clone();
            if let Some(last) = &last {
                let lits: Vec<String> = last.iter().map(|v| literal(self.dialect, v)).collect();
                conds.push(if lits.len() == 1 {
                    format!("{} > {}", self.order_q[0], lits[0])
                } else {
                    format!("({}) > ({})", self.order_q.join(", "), lits.join(", "))
                });
            }
            let sql = self.sql(
                &conds,
                &format!(" ORDER BY {} LIMIT {}", self.order_q.join(", "), self.page),
            );
            let mut attempt = 0;
            let rows = loop {
                match fetch_text(pool, sql.clone(), self.width).await {
                    Ok(rows) => break rows,
                    Err(e) if attempt < self.retries => {
                        attempt += 1;
                        tracing::warn!(location = %self.location, attempt, error = %db_message(&e), "page failed; retrying from the last page read");
                        tokio::time::sleep(Duration::from_millis(200 * (1 << attempt.min(6))))
                            .await;
                    }
                    Err(e) => return Err(self.db_err(e, acc.row_no)),
                }
            };
            let n = rows.len();
            for r in &rows {
                self.take(pass.kind, r, acc, t);
            }
            if let Some(r) = rows.last() {
                last = Some(
                    r[self.declared..]
                        .iter()
                        .map(|v| v.clone().unwrap_or_default())
                        .collect(),
                );
            }
            if acc.batcher.is_full() {
                acc.flush(tx).await?;
            }
            if n < self.page {
                return Ok(());
            }
        }
    }
}

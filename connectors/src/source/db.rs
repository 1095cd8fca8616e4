//! Database sources: PostgreSQL and MySQL/MariaDB, a table or a query, in
//! full or incrementally by a watermark column.
//!
//! Rows are read in pages ordered by the watermark and the key (keyset
//! pagination), so memory stays bounded whatever the table's size, and a
//! connection cut mid-delivery is retried from the last page read rather
//! than from the start. Every value is read as text (`CAST(… AS TEXT/CHAR)`)
//! and typed by the landing stage like any other source's.
//!
//! The connection URL carries the credentials, so it comes from an
//! environment variable or a file ([`Secret`]), never from the command line,
//! and is shown without user and password.

use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow::array::StringArray;
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};

use super::secret::redact_url;
use super::{
    ColumnDef, Delivery, DeliveryEnd, Landed, RawItem, RawStream, ReadContext, Secret, Source,
    SourceError, TextBatcher,
};

/// SQL dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
}

fn three() -> u32 {
    3
}

/// A database source, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbSourceConfig {
    /// The connection URL, with its credentials (`postgres://user:pw@host/db`).
    pub url: Secret,
    /// A table (`schema.table` allowed)…
    #[serde(default)]
    pub table: Option<String>,
    /// …or a query.
    #[serde(default)]
    pub query: Option<String>,
    /// Incremental loads: a column that grows with every change
    /// (`updated_at`, an increasing id). Without it every run takes a full
    /// snapshot, which lands only if it differs from the last.
    #[serde(default)]
    pub watermark: Option<String>,
    /// The column identifying a row; orders pages among equal watermarks and
    /// is recorded with quarantined rows.
    #[serde(default)]
    pub key: Option<String>,
    /// Rows per page.
    #[serde(default)]
    pub page_rows: Option<usize>,
    /// Attempts per page after a failure (connection cut, timeout).
    #[serde(default = "three")]
    pub retries: u32,
}

/// A table or query in a database.
#[derive(Debug)]
pub struct DbSource {
    dialect: Dialect,
    config: DbSourceConfig,
    base_dir: PathBuf,
}

enum Pool {
    Pg(sqlx::PgPool),
    My(sqlx::MySqlPool),
}

impl DbSource {
    /// A database source; nothing is connected yet.
    pub fn new(
        dialect: Dialect,
        config: DbSourceConfig,
        base_dir: &Path,
    ) -> Result<Self, SourceError> {
        if config.table.is_some() == config.query.is_some() {
            return Err(SourceError::Config(
                "a database source needs exactly one of `table` and `query`".into(),
            ));
        }
        Ok(DbSource {
            dialect,
            config,
            base_dir: base_dir.to_path_buf(),
        })
    }

    fn quote_ident(&self, name: &str) -> String {
        name.split('.')
            .map(|part| match self.dialect {
                Dialect::Postgres => format!("\"{}\"", part.replace('"', "\"\"")),
                Dialect::Mysql => format!("`{}`", part.replace('`', "``")),
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    fn literal(&self, value: &str) -> String {
        let mut v = value.replace('\'', "''");
        if self.dialect == Dialect::Mysql {
            v = v.replace('\\', "\\\\");
        }
        format!("'{v}'")
    }

    fn text(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("CAST({expr} AS TEXT)"),
            Dialect::Mysql => format!("CAST({expr} AS CHAR)"),
        }
    }

    fn base(&self) -> String {
        match (&self.config.table, &self.config.query) {
            (Some(t), _) => format!("SELECT * FROM {}", self.quote_ident(t)),
            (None, Some(q)) => q.trim().trim_end_matches(';').to_string(),
            (None, None) => unreachable!("checked in new"),
        }
    }

    fn what(&self) -> String {
        match (&self.config.table, &self.config.query) {
            (Some(t), _) => format!("table {t}"),
            _ => "query".to_string(),
        }
    }

    async fn connect(&self) -> Result<(Pool, String), SourceError> {
        let url = self.config.url.resolve(&self.base_dir)?;
        let shown = redact_url(&url);
        let err = |e: sqlx::Error| SourceError::Database {
            location: shown.clone(),
            message: one_line(&e.to_string()),
        };
        let pool = match self.dialect {
            Dialect::Postgres => {
                let opts: sqlx::postgres::PgConnectOptions = url.parse().map_err(err)?;
                // Timestamps with a zone are read in UTC, unambiguously.
                let opts = opts
                    .options([("timezone", "UTC")])
                    .application_name("pdq-ingest");
                Pool::Pg(
                    sqlx::postgres::PgPoolOptions::new()
                        .max_connections(1)
                        .acquire_timeout(Duration::from_secs(15))
                        .connect_with(opts)
                        .await
                        .map_err(err)?,
                )
            }
            Dialect::Mysql => {
                let opts: sqlx::mysql::MySqlConnectOptions = url.parse().map_err(err)?;
                let opts = opts.timezone(Some("+00:00".to_string()));
                Pool::My(
                    sqlx::mysql::MySqlPoolOptions::new()
                        .max_connections(1)
                        .acquire_timeout(Duration::from_secs(15))
                        .connect_with(opts)
                        .await
                        .map_err(err)?,
                )
            }
        };
        Ok((pool, shown))
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Runs a query whose every column is text; returns the rows.
async fn fetch_text(
    pool: &Pool,
    sql: String,
    width: usize,
) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
    Ok(match pool {
        Pool::Pg(p) => sqlx::query(AssertSqlSafe(sql))
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| {
                (0..width)
                    .map(|i| r.try_get::<Option<String>, _>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?,
        Pool::My(p) => sqlx::query(AssertSqlSafe(sql))
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| {
                (0..width)
                    .map(|i| r.try_get::<Option<String>, _>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?,
    })
}

async fn close(pool: Pool) {
    match pool {
        Pool::Pg(p) => p.close().await,
        Pool::My(p) => p.close().await,
    }
}

#[async_trait]
impl Source for DbSource {
    async fn pending(&self, landed: &Landed) -> Result<Vec<Delivery>, SourceError> {
        let (pool, shown) = self.connect().await?;
        let what = self.what();
        let location = format!("{shown} {what}");
        let source_id = hex::encode(&Sha256::digest(format!("{shown}\n{}", self.base()))[..8]);
        let result = match &self.config.watermark {
            None => Ok(vec![Delivery {
                fingerprint: format!(
                    "db:{source_id}:snapshot:{}",
                    chrono::Utc::now().to_rfc3339()
                ),
                location,
                bytes: None,
                modified: None,
                watermark_from: None,
                watermark_to: None,
            }]),
            Some(wm) => {
                let wm_q = self.quote_ident(wm);
                let filter = match &landed.watermark {
                    Some(from) => format!(" WHERE q.{wm_q} > {}", self.literal(from)),
                    None => String::new(),
                };
                let sql = format!(
                    "SELECT {} FROM ({}) q{filter}",
                    self.text(&format!("MAX(q.{wm_q})")),
                    self.base()
                );
                match fetch_text(&pool, sql, 1).await {
                    Ok(rows) => Ok(
                        match rows.into_iter().next().and_then(|mut r| r.pop().flatten()) {
                            None => vec![],
                            Some(to) => vec![Delivery {
                                fingerprint: format!(
                                    "db:{source_id}:{}:{to}",
                                    landed.watermark.as_deref().unwrap_or("")
                                ),
                                location,
                                bytes: None,
                                modified: None,
                                watermark_from: landed.watermark.clone(),
                                watermark_to: Some(to),
                            }],
                        },
                    ),
                    Err(e) => Err(SourceError::Database {
                        location: format!("{shown} {what}"),
                        message: one_line(&e.to_string()),
                    }),
                }
            }
        };
        close(pool).await;
        result
    }

    async fn read(&self, delivery: &Delivery, cx: &ReadContext) -> Result<RawStream, SourceError> {
        let (pool, shown) = self.connect().await?;
        let columns: Vec<ColumnDef> = cx.columns.clone();
        let page = self.config.page_rows.unwrap_or(cx.batch_rows).max(1);
        let wm = self.config.watermark.clone();
        let key = self.config.key.clone();
        // The ordering columns: watermark then key, whichever are given.
        let order: Vec<String> = wm.iter().chain(key.iter()).cloned().collect();
        let mut select: Vec<String> = columns
            .iter()
            .map(|c| self.text(&format!("q.{}", self.quote_ident(c.source_name()))))
            .collect();
        for o in &order {
            select.push(self.text(&format!("q.{}", self.quote_ident(o))));
        }
        let mut fixed = vec![];
        if let (Some(w), Some(from)) = (&wm, &delivery.watermark_from) {
            fixed.push(format!(
                "q.{} > {}",
                self.quote_ident(w),
                self.literal(from)
            ));
        }
        if let (Some(w), Some(to)) = (&wm, &delivery.watermark_to) {
            fixed.push(format!("q.{} <= {}", self.quote_ident(w), self.literal(to)));
        }
        let order_q: Vec<String> = order
            .iter()
            .map(|o| format!("q.{}", self.quote_ident(o)))
            .collect();
        let base = self.base();
        let this = DbPager {
            dialect: self.dialect,
            select: select.join(", "),
            base,
            fixed,
            order_q,
            page,
            retries: self.config.retries,
            location: format!("{shown} {}", self.what()),
            key_index: key.as_ref().map(|_| columns.len() + order.len() - 1),
        };
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let batch_rows = cx.batch_rows;
        tokio::spawn(async move {
            let result = this.run(&pool, &columns, batch_rows, &tx).await;
            close(pool).await;
            if let Err(e) = result {
                let _ = tx.send(Err(e)).await;
            }
        });
        Ok(tokio_stream::wrappers::ReceiverStream::new(rx).boxed())
    }
}

struct DbPager {
    dialect: Dialect,
    select: String,
    base: String,
    fixed: Vec<String>,
    order_q: Vec<String>,
    page: usize,
    retries: u32,
    location: String,
    key_index: Option<usize>,
}

impl DbPager {
    fn literal(&self, value: &str) -> String {
        let mut v = value.replace('\'', "''");
        if self.dialect == Dialect::Mysql {
            v = v.replace('\\', "\\\\");
        }
        format!("'{v}'")
    }

    async fn run(
        &self,
        pool: &Pool,
        columns: &[ColumnDef],
        batch_rows: usize,
        tx: &tokio::sync::mpsc::Sender<Result<RawItem, SourceError>>,
    ) -> Result<(), SourceError> {
        let width = columns.len() + self.order_q.len();
        let mut acc = Accumulator::new(columns, batch_rows, self.key_index);
        let db_err = |e: sqlx::Error| SourceError::Database {
            location: self.location.clone(),
            message: one_line(&e.to_string()),
        };
        // Without a key, rows cannot be paged exactly (equal watermarks would
        // straddle pages): one streamed query, retried by the next run.
        if self.key_index.is_none() {
            let mut sql = format!("SELECT {} FROM ({}) q", self.select, self.base);
            if !self.fixed.is_empty() {
                sql += &format!(" WHERE {}", self.fixed.join(" AND "));
            }
            macro_rules! stream_rows {
                ($p:expr) => {{
                    let mut rows = sqlx::query(AssertSqlSafe(sql)).fetch($p);
                    while let Some(r) = rows.next().await {
                        let r = r.map_err(db_err)?;
                        let vals = (0..width)
                            .map(|i| r.try_get::<Option<String>, _>(i))
                            .collect::<Result<Vec<_>, _>>()
                            .map_err(db_err)?;
                        acc.push(&vals);
                        if acc.batcher.is_full() {
                            acc.flush(tx).await?;
                        }
                    }
                }};
            }
            match pool {
                Pool::Pg(p) => stream_rows!(p),
                Pool::My(p) => stream_rows!(p),
            }
            acc.flush(tx).await?;
            return acc.end(tx).await;
        }
        let mut last: Option<Vec<String>> = None;
        loop {
            let mut conds = self.fixed.clone();
            if let Some(last) = &last {
                let lits: Vec<String> = last.iter().map(|v| self.literal(v)).collect();
                conds.push(if lits.len() == 1 {
                    format!("{} > {}", self.order_q[0], lits[0])
                } else {
                    format!("({}) > ({})", self.order_q.join(", "), lits.join(", "))
                });
            }
            let mut sql = format!("SELECT {} FROM ({}) q", self.select, self.base);
            if !conds.is_empty() {
                sql += &format!(" WHERE {}", conds.join(" AND "));
            }
            sql += &format!(" ORDER BY {} LIMIT {}", self.order_q.join(", "), self.page);
            let mut attempt = 0;
            let rows = loop {
                match fetch_text(pool, sql.clone(), width).await {
                    Ok(rows) => break rows,
                    Err(e) if attempt < self.retries => {
                        attempt += 1;
                        tracing::warn!(location = %self.location, attempt, error = %one_line(&e.to_string()), "page failed; retrying from the last page read");
                        tokio::time::sleep(Duration::from_millis(200 * (1 << attempt.min(6))))
                            .await;
                    }
                    Err(e) => return Err(db_err(e)),
                }
            };
            let n = rows.len();
            for r in &rows {
                acc.push(r);
            }
            if let Some(r) = rows.last() {
                last = Some(
                    r[columns.len()..]
                        .iter()
                        .map(|v| v.clone().unwrap_or_default())
                        .collect(),
                );
            }
            if acc.batcher.is_full() || n < self.page {
                acc.flush(tx).await?;
            }
            if n < self.page {
                break;
            }
        }
        acc.end(tx).await
    }
}

/// Rows read so far: the batch being built and the running content hash.
struct Accumulator {
    batcher: TextBatcher,
    keys: Vec<Option<String>>,
    key_index: Option<usize>,
    hasher: Sha256,
    bytes: u64,
    row_no: u64,
}

impl Accumulator {
    fn new(columns: &[ColumnDef], batch_rows: usize, key_index: Option<usize>) -> Self {
        Accumulator {
            batcher: TextBatcher::new(columns, batch_rows),
            keys: vec![],
            key_index,
            hasher: Sha256::new(),
            bytes: 0,
            row_no: 0,
        }
    }

    fn push(&mut self, r: &[Option<String>]) {
        self.row_no += 1;
        for v in r {
            let s = v.as_deref().unwrap_or("\u{0}NULL");
            self.hasher.update(s.as_bytes());
            self.hasher.update(b"\x1f");
            self.bytes += s.len() as u64 + 1;
        }
        self.hasher.update(b"\x1e");
        self.batcher.push(self.row_no, |i| r[i].as_deref());
        if let Some(k) = self.key_index {
            self.keys.push(r[k].clone());
        }
    }

    async fn flush(
        &mut self,
        tx: &tokio::sync::mpsc::Sender<Result<RawItem, SourceError>>,
    ) -> Result<(), SourceError> {
        if self.batcher.is_empty() {
            return Ok(());
        }
        let mut batch = self.batcher.finish();
        if self.key_index.is_some() {
            batch.keys = Some(StringArray::from(std::mem::take(&mut self.keys)));
        }
        tx.send(Ok(RawItem::Batch(batch)))
            .await
            .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))
    }

    async fn end(
        self,
        tx: &tokio::sync::mpsc::Sender<Result<RawItem, SourceError>>,
    ) -> Result<(), SourceError> {
        tx.send(Ok(RawItem::End(DeliveryEnd {
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
        })))
        .await
        .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))
    }
}

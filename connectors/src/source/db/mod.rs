//! Database sources: PostgreSQL and MySQL/MariaDB, a table or a query, in
//! full or incrementally by a watermark column.
//!
//! Rows are read in pages ordered by the watermark and the key (keyset
//! pagination), so memory stays bounded whatever the table's size, and a
//! connection cut mid-delivery is retried from the last page read rather
//! than from the start. Every value is read as text (`CAST(… AS TEXT/CHAR)`)
//! and typed by the landing stage like any other source's: binary strings
//! (`bytea`, `BLOB`, `VARBINARY`, …) as lowercase hex (`deadbeef00`), a
//! MySQL `BIT(n)` as its unsigned integer value, `''` apart from NULL.
//!
//! The connection URL carries the credentials, so it comes from an
//! environment variable or a file ([`Secret`]), never from the command line,
//! and is shown without user and password.
//!
//! # Sessions
//!
//! Sessions run in UTC. PostgreSQL `timestamptz` text carries its offset
//! (`+00`); MySQL/MariaDB `TIMESTAMP` columns (found from the statement's
//! column types) are read as `… +00:00`, so the landing stage reads both as
//! instants, whatever the bureau's zone. Values without a zone (`timestamp`,
//! `DATETIME`) are read as local times in the bureau's zone. A `TIMESTAMP`
//! watermark is recorded with its `+00:00`; watermarks recorded without it
//! (by earlier versions) are the same UTC text and still compare right.
//!
//! pdq never changes how a user's `query` is understood: on MySQL/MariaDB
//! the session keeps the server's `sql_mode` (the client library would add
//! `PIPES_AS_CONCAT`, turning `a || b` from OR into concatenation).
//!
//! # What a delivery reads — no row is skipped silently
//!
//! * **Rows whose `key` is NULL** cannot be paged by key; they are read in
//!   their own pass (ordered by every column, so a snapshot's content hash
//!   is stable), land like any row (a NULL key is a finding for the rules,
//!   not a load failure), and are counted in the ledger's note.
//! * **The boundary rule** (incremental loads). A delivery covers
//!   `from ≤ watermark ≤ to`, where `from` is the highest watermark landed
//!   and `to` the highest at the source when the delivery is found. Rows at
//!   exactly `from` are read again: those an earlier delivery read (known by
//!   their key, or by a hash of their content when there is no key or the
//!   key is NULL) are not landed twice and are counted in the note as
//!   already landed; the others arrived late at an equal watermark and
//!   land. A delivery is found when there are rows above `from`, more rows
//!   at `from` than were read, or new rows without a watermark. The rows at
//!   `to` are recorded (the source's state, kept with the delivery's data
//!   commit) for the next delivery. Without such a record (a watermark
//!   landed by an earlier version of pdq, which landed every row at it) the
//!   rows at `from` are taken as landed and recorded, and the note says so.
//! * **Rows whose watermark is NULL** cannot be placed in an incremental
//!   load: each is quarantined once, with a reason naming the column (and
//!   its key), and is not quarantined again by later deliveries; once it
//!   has a watermark it lands like any row.
//!
//! The ledger's `rows_read` counts the rows a delivery hands to landing, so
//! read = landed + quarantined; rows recognised as already landed are not
//! in it and are counted in its note.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Column, Executor, SqlSafeStr, Statement, TypeInfo};

use super::secret::redact_url;
use super::{ColumnDef, Delivery, Landed, RawStream, ReadContext, Secret, Source, SourceError};
use link::{Link, close, db_message, fetch_text, server_of};
use pager::{DbPager, Pass, PassKind};
use sql::{Kind, UTC_OFFSET, mysql_kind};

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
    /// A table: `table`, `schema.table`, or a name containing dots in
    /// double quotes (`"a.b"`, `public."a.b"`)…
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
    /// What the configuration's `table` or `query` chose.
    relation: Relation,
    base_dir: PathBuf,
}

/// What a source reads: a table (as configured, quoted when used) or a query.
#[derive(Debug)]
enum Relation {
    Table(String),
    Query(String),
}

enum Pool {
    Pg(sqlx::PgPool),
    My(sqlx::MySqlPool),
}

/// `$body` once, for whichever server `$pool` is connected to: the
/// PostgreSQL and MySQL drivers have the same API but no common type, so
/// the code is written once and compiled for each (issue #20).
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Pg($p) => $body,
            Pool::My($p) => $body,
        }
    };
}

// After `on_pool!`, which they use.
mod accumulate;
mod link;
mod pager;
mod sql;

/// One direct connection first, so a refused or unreachable server is
/// reported at once as itself, not as a pool that timed out 15 s later
/// (issue #23, 8); then the pool (one connection: reads are sequential).
async fn open<DB: sqlx::Database>(
    opts: <DB::Connection as sqlx::Connection>::Options,
) -> Result<sqlx::Pool<DB>, sqlx::Error> {
    sqlx::Connection::close(sqlx::ConnectOptions::connect(&opts).await?).await?;
    sqlx::pool::PoolOptions::<DB>::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(15))
        .connect_with(opts)
        .await
}

/// What a database source records with each landed incremental delivery
/// (kept by the landing stage, handed back with the next delivery).
#[derive(Debug, Default, Serialize, Deserialize)]
struct DbState {
    /// The watermark the delivery reached (`to`), as recorded in the ledger.
    watermark: Option<String>,
    /// The identities of the rows read at exactly that watermark.
    at_watermark: Vec<String>,
    /// The identities of the rows without a watermark already quarantined.
    null_watermark: Vec<String>,
}

impl DbState {
    /// The state recorded with the last landed delivery, if it belongs to
    /// the watermark landed (anything else is no record at all).
    fn known(state: Option<&str>, watermark: Option<&str>) -> Option<DbState> {
        let s: DbState = serde_json::from_str(state?).ok()?;
        (s.watermark.as_deref() == watermark).then_some(s)
    }
}

impl DbSource {
    /// A database source; nothing is connected yet.
    pub fn new(
        dialect: Dialect,
        config: DbSourceConfig,
        base_dir: &Path,
    ) -> Result<Self, SourceError> {
        let relation = match (&config.table, &config.query) {
            (Some(t), None) => Relation::Table(t.clone()),
            (None, Some(q)) => Relation::Query(q.clone()),
            _ => {
                return Err(SourceError::Config(
                    "a database source needs exactly one of `table` and `query`".into(),
                ));
            }
        };
        Ok(DbSource {
            dialect,
            config,
            relation,
            base_dir: base_dir.to_path_buf(),
        })
    }

    fn base(&self) -> String {
        match &self.relation {
            Relation::Table(t) => format!("SELECT * FROM {}", self.quote_table(t)),
            Relation::Query(q) => q.trim().trim_end_matches(';').to_string(),
        }
    }

    fn what(&self) -> String {
        match &self.relation {
            Relation::Table(t) => format!("table {t}"),
            Relation::Query(_) => "query".to_string(),
        }
    }

    async fn connect(&self) -> Result<(Pool, String), SourceError> {
        let url = self.config.url.resolve(&self.base_dir)?;
        let shown = redact_url(&url);
        let err = |e: sqlx::Error| SourceError::Database {
            location: shown.clone(),
            message: db_message(&e),
        };
        let link = Link::of(&url, self.dialect).map_err(|message| SourceError::Database {
            location: shown.clone(),
            message,
        })?;
        let pool = match self.dialect {
            Dialect::Postgres => {
                let mut opts: sqlx::postgres::PgConnectOptions = url.parse().map_err(err)?;
                if link.require_tls {
                    opts = opts.ssl_mode(sqlx::postgres::PgSslMode::Require);
                }
                // Timestamps with a zone are read in UTC, unambiguously.
                let opts = opts
                    .options([("timezone", "UTC")])
                    .application_name("pdq-ingest");
                Pool::Pg(open(opts).await.map_err(err)?)
            }
            Dialect::Mysql => {
                let mut opts: sqlx::mysql::MySqlConnectOptions = url.parse().map_err(err)?;
                if link.require_tls {
                    opts = opts.ssl_mode(sqlx::mysql::MySqlSslMode::Required);
                }
                // UTC, so `TIMESTAMP` text is UTC; and the server's own
                // `sql_mode`: sqlx would add PIPES_AS_CONCAT (and
                // NO_ENGINE_SUBSTITUTION), changing what a user's query means.
                let opts = opts
                    .timezone(Some(UTC_OFFSET.to_string()))
                    .pipes_as_concat(false)
                    .no_engine_substitution(false);
                Pool::My(open(opts).await.map_err(err)?)
            }
        };
        Ok((pool, shown))
    }

    /// The columns of the table or query that are not read as plain text,
    /// by lower-cased name: MySQL/MariaDB `TIMESTAMP` (instants shown in the
    /// session's zone without an offset; PostgreSQL's `timestamptz` text has
    /// its offset), binary strings and `BIT` (issue #23, E).
    async fn column_kinds(&self, pool: &Pool) -> Result<HashMap<String, Kind>, sqlx::Error> {
        let sql = format!("SELECT * FROM ({}) q LIMIT 0", self.base());
        let pg = matches!(pool, Pool::Pg(_));
        let kinds: Vec<(String, Kind)> = on_pool!(pool, p => {
            let statement = p.prepare(AssertSqlSafe(sql).into_sql_str()).await?;
            statement
                .columns()
                .iter()
                .filter_map(|c| {
                    let ty = c.type_info().name();
                    let kind = if pg {
                        (ty == "BYTEA").then_some(Kind::Binary)
                    } else {
                        mysql_kind(ty)
                    };
                    Some((c.name().to_lowercase(), kind?))
                })
                .collect()
        });
        Ok(kinds.into_iter().collect())
    }

    /// The incremental delivery waiting, if any (see the module's boundary
    /// rule).
    async fn incremental(
        &self,
        pool: &Pool,
        wm: &str,
        landed: &Landed,
        source_id: &str,
        location: String,
    ) -> Result<Vec<Delivery>, sqlx::Error> {
        let kinds = self.column_kinds(pool).await?;
        let wm_q = format!("q.{}", self.quote_ident(wm));
        let from = landed.watermark.as_deref();
        let known = DbState::known(landed.state.as_deref(), from);
        let (above, at) = match from {
            Some(f) => {
                let l = self.watermark_literal(f);
                (format!("{wm_q} > {l}"), format!("{wm_q} = {l}"))
            }
            None => (format!("{wm_q} IS NOT NULL"), "1 = 0".to_string()),
        };
        let count = |cond: &str| self.text(&format!("COUNT(CASE WHEN {cond} THEN 1 END)"));
        let sql = format!(
            "SELECT {}, {}, {}, {} FROM ({}) q",
            self.text_as_read(
                &format!("MAX({wm_q})"),
                kinds
                    .get(&wm.to_lowercase())
                    .copied()
                    .filter(|k| *k == Kind::Instant)
            ),
            count(&above),
            count(&at),
            count(&format!("{wm_q} IS NULL")),
            self.base()
        );
        let row = fetch_text(pool, sql, 4).await?.into_iter().next();
        let Some([max, n_above, n_at, n_null]) = row.and_then(|r| <[_; 4]>::try_from(r).ok())
        else {
            return Ok(vec![]);
        };
        let n = |v: Option<String>| v.and_then(|s| s.trim().parse::<usize>().ok()).unwrap_or(0);
        let (n_above, n_at, n_null) = (n(n_above), n(n_at), n(n_null));
        let known_null = known.as_ref().map_or(0, |k| k.null_watermark.len());
        let late = known.as_ref().is_some_and(|k| n_at > k.at_watermark.len());
        let to = if n_above > 0 {
            max
        } else if late || n_null > known_null {
            landed.watermark.clone()
        } else {
            return Ok(vec![]);
        };
        Ok(vec![Delivery {
            fingerprint: format!(
                "db:{source_id}:{}:{}:{n_at}:{n_null}",
                from.unwrap_or(""),
                to.as_deref().unwrap_or("")
            ),
            location,
            bytes: None,
            modified: None,
            watermark_from: landed.watermark.clone(),
            watermark_to: to,
            state: landed.state.clone(),
        }])
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
                state: None,
            }]),
            Some(wm) => self
                .incremental(&pool, wm, landed, &source_id, location)
                .await
                .map_err(|e| SourceError::Database {
                    location: format!("{shown} {what}"),
                    message: db_message(&e),
                }),
        };
        close(pool).await;
        result
    }

    async fn read(&self, delivery: &Delivery, cx: &ReadContext) -> Result<RawStream, SourceError> {
        let (pool, shown) = self.connect().await?;
        let location = format!("{shown} {}", self.what());
        let kinds = match self.column_kinds(&pool).await {
            Ok(i) => i,
            Err(e) => {
                close(pool).await;
                return Err(SourceError::Database {
                    location,
                    message: db_message(&e),
                });
            }
        };
        let columns: Vec<ColumnDef> = cx.columns.clone();
        let page = self.config.page_rows.unwrap_or(cx.batch_rows).max(1);
        let wm = self.config.watermark.clone();
        let key = self.config.key.clone();
        // The ordering columns: watermark then key, whichever are given.
        let order: Vec<String> = wm.iter().chain(key.iter()).cloned().collect();
        let mut select: Vec<String> = columns
            .iter()
            .map(|c| {
                let name = c.source_name();
                self.text_as_read(
                    &format!("q.{}", self.quote_ident(name)),
                    kinds.get(&name.to_lowercase()).copied(),
                )
            })
            .collect();
        // As the session shows them: these are compared with literals.
        for o in &order {
            select.push(self.text(&format!("q.{}", self.quote_ident(o))));
        }
        let order_q: Vec<String> = order
            .iter()
            .map(|o| format!("q.{}", self.quote_ident(o)))
            .collect();
        let wm_q = wm.as_ref().map(|w| format!("q.{}", self.quote_ident(w)));
        let key_q = key.as_ref().map(|k| format!("q.{}", self.quote_ident(k)));
        let known = wm.as_ref().and_then(|_| {
            DbState::known(
                delivery.state.as_deref(),
                delivery.watermark_from.as_deref(),
            )
        });
        // The passes, in a fixed order (the content hash depends on it).
        let mut passes = vec![];
        let mut range = vec![];
        let mut read_range = true;
        if let Some(w) = &wm_q {
            if let Some(from) = &delivery.watermark_from {
                passes.push(Pass {
                    kind: PassKind::Boundary,
                    conds: vec![format!("{w} = {}", self.watermark_literal(from))],
                    paged: false,
                });
                range.push(format!("{w} > {}", self.watermark_literal(from)));
            }
            match &delivery.watermark_to {
                Some(to) => range.push(format!("{w} <= {}", self.watermark_literal(to))),
                // Only rows without a watermark are waiting.
                None => read_range = false,
            }
        }
        if read_range {
            match &key_q {
                Some(k) => {
                    let mut main = range.clone();
                    main.push(format!("{k} IS NOT NULL"));
                    passes.push(Pass {
                        kind: PassKind::Main,
                        conds: main,
                        paged: true,
                    });
                    let mut nulls = range.clone();
                    nulls.push(format!("{k} IS NULL"));
                    passes.push(Pass {
                        kind: PassKind::NullKey,
                        conds: nulls,
                        paged: false,
                    });
                }
                None => passes.push(Pass {
                    kind: PassKind::Main,
                    conds: range.clone(),
                    paged: false,
                }),
            }
        }
        if let Some(w) = &wm_q {
            passes.push(Pass {
                kind: PassKind::NullWatermark,
                conds: vec![format!("{w} IS NULL")],
                paged: false,
            });
        }
        let width = select.len();
        let this = DbPager {
            dialect: self.dialect,
            select: select.join(", "),
            base: self.base(),
            passes,
            order_q,
            width,
            page,
            retries: self.config.retries,
            location,
            server: server_of(&shown, self.dialect),
            what: self.what(),
            declared: columns.len(),
            wm_index: wm.as_ref().map(|_| columns.len()),
            key_index: key.as_ref().map(|_| columns.len() + order.len() - 1),
            wm_name: wm.clone(),
            key_name: key.clone(),
            from: delivery.watermark_from.clone(),
            to: delivery.watermark_to.clone(),
            known,
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

#[cfg(test)]
mod tests;

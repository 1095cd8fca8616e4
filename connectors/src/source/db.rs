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

use arrow::array::StringArray;
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Column, Executor, Row, SqlSafeStr, Statement, TypeInfo};

use super::secret::redact_url;
use super::{
    ColumnDef, Delivery, DeliveryEnd, Landed, RawItem, RawStream, ReadContext, Reject, Secret,
    Source, SourceError, TextBatcher,
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
    base_dir: PathBuf,
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

/// How a column that is not plain text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An instant shown in the session's zone without an offset (MySQL
    /// `TIMESTAMP`, stored in UTC).
    Instant,
    /// Bytes: PostgreSQL `bytea`, MySQL `BLOB`s, `BINARY`, `VARBINARY`.
    Binary,
    /// MySQL `BIT(n)`.
    Bit,
}

/// The kind of a MySQL/MariaDB column, by the driver's type name.
fn mysql_kind(type_name: &str) -> Option<Kind> {
    match type_name {
        "TIMESTAMP" => Some(Kind::Instant),
        "BIT" => Some(Kind::Bit),
        "BLOB" | "TINYBLOB" | "MEDIUMBLOB" | "LONGBLOB" | "BINARY" | "VARBINARY" => {
            Some(Kind::Binary)
        }
        _ => None,
    }
}

/// The offset pdq writes after a MySQL `TIMESTAMP` value read in the
/// session's UTC.
const UTC_OFFSET: &str = "+00:00";

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

    /// One identifier (a column), quoted whole: a `.` in it is part of the
    /// name (issue #23, G).
    fn quote_ident(&self, name: &str) -> String {
        quote_part(self.dialect, name)
    }

    /// The configured table, quoted: `schema.table` is split at its dots,
    /// except inside double quotes (`"a.b"`, `public."a.b"`), which keep a
    /// name with dots whole (`""` is a quote inside one).
    fn quote_table(&self, name: &str) -> String {
        table_parts(name)
            .iter()
            .map(|p| quote_part(self.dialect, p))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn literal(&self, value: &str) -> String {
        literal(self.dialect, value)
    }

    /// A recorded watermark as a literal to compare with the column: a
    /// MySQL `TIMESTAMP` watermark was recorded with the `+00:00` pdq adds,
    /// which the session (in UTC) does not need and MariaDB does not read.
    fn watermark_literal(&self, value: &str) -> String {
        self.literal(session_text(self.dialect, value))
    }

    fn text(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::Postgres => format!("CAST({expr} AS TEXT)"),
            Dialect::Mysql => format!("CAST({expr} AS CHAR)"),
        }
    }

    /// `expr` as text the landing stage reads right: a MySQL `TIMESTAMP`
    /// gets its offset, since the session shows it in UTC; binary strings
    /// are lowercase hex (`deadbeef00`), never bytes taken for characters;
    /// a MySQL `BIT(n)` is its unsigned integer value (`b'10100101'` is
    /// `165`).
    fn text_as_read(&self, expr: &str, kind: Option<Kind>) -> String {
        match (self.dialect, kind) {
            (Dialect::Mysql, Some(Kind::Instant)) => {
                format!("CONCAT({}, '{UTC_OFFSET}')", self.text(expr))
            }
            // The driver calls a string column with a `_bin` collation
            // binary too: only a value whose character set is `binary` is
            // bytes.
            (Dialect::Mysql, Some(Kind::Binary)) => format!(
                "IF(CHARSET({expr}) = 'binary', LOWER(HEX({expr})), {})",
                self.text(expr)
            ),
            (Dialect::Mysql, Some(Kind::Bit)) => self.text(&format!("CAST({expr} AS UNSIGNED)")),
            (Dialect::Postgres, Some(Kind::Binary)) => format!("encode({expr}, 'hex')"),
            _ => self.text(expr),
        }
    }

    fn base(&self) -> String {
        match (&self.config.table, &self.config.query) {
            (Some(t), _) => format!("SELECT * FROM {}", self.quote_table(t)),
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

fn quote_part(dialect: Dialect, part: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("\"{}\"", part.replace('"', "\"\"")),
        Dialect::Mysql => format!("`{}`", part.replace('`', "``")),
    }
}

/// The parts of a configured table name: split at `.` outside double
/// quotes; a quoted part is taken as written (`""` is one quote).
fn table_parts(name: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                parts.last_mut().expect("never empty").push('"');
            }
            '"' => quoted = !quoted,
            '.' if !quoted => parts.push(String::new()),
            c => parts.last_mut().expect("never empty").push(c),
        }
    }
    parts
}

fn literal(dialect: Dialect, value: &str) -> String {
    let mut v = value.replace('\'', "''");
    if dialect == Dialect::Mysql {
        v = v.replace('\\', "\\\\");
    }
    format!("'{v}'")
}

/// A recorded value as the session shows it: without the `+00:00` pdq adds
/// to MySQL `TIMESTAMP` text.
fn session_text(dialect: Dialect, value: &str) -> &str {
    match dialect {
        Dialect::Mysql => value.strip_suffix(UTC_OFFSET).unwrap_or(value),
        Dialect::Postgres => value,
    }
}

/// What the connection URL says about the link to the server.
#[derive(Debug, PartialEq, Eq)]
struct Link {
    /// TLS is required: the server is not on this machine and the URL does
    /// not choose a TLS mode itself (`sslmode=` / `ssl-mode=`, which is the
    /// explicit opt-out, e.g. `sslmode=disable`). sqlx's default,
    /// `prefer`, falls back to clear text when the server offers no TLS:
    /// credentials and department data then cross the network readable
    /// (issue #18, 8).
    require_tls: bool,
}

impl Link {
    /// Checks the URL's scheme against the source's kind (a `mysql://`
    /// URL was accepted for `kind = "postgres"`, issue #23, 8) and decides
    /// the TLS default.
    ///
    /// ```text
    /// postgres://u@db.example/x             → TLS required
    /// postgres://u@db.example/x?sslmode=disable → as the URL says
    /// postgres://u@127.0.0.1/x              → as sqlx defaults (this machine)
    /// ```
    fn of(url: &str, dialect: Dialect) -> Result<Link, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a connection URL: {e}"))?;
        let (accepted, kind): (&[&str], &str) = match dialect {
            Dialect::Postgres => (&["postgres", "postgresql"], "postgres"),
            Dialect::Mysql => (&["mysql", "mariadb"], "mysql"),
        };
        if !accepted.contains(&parsed.scheme()) {
            return Err(format!(
                "a `kind = \"{kind}\"` source needs a {}:// URL, found {}://",
                accepted[0],
                parsed.scheme()
            ));
        }
        let chosen = parsed
            .query_pairs()
            .any(|(k, _)| k.eq_ignore_ascii_case("sslmode") || k.eq_ignore_ascii_case("ssl-mode"));
        let local = match parsed.host() {
            None => true,
            // postgres:// and mysql:// are not "special" schemes, so an
            // address comes back as an opaque name: parse it here.
            Some(url::Host::Domain(d)) => {
                let d = d.trim_start_matches('[').trim_end_matches(']');
                d.eq_ignore_ascii_case("localhost")
                    || d.parse::<std::net::IpAddr>().is_ok_and(|a| a.is_loopback())
            }
            Some(url::Host::Ipv4(a)) => a.is_loopback(),
            Some(url::Host::Ipv6(a)) => a.is_loopback(),
        };
        Ok(Link {
            require_tls: !chosen && !local,
        })
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A driver error as one line. A server's error is its message alone:
/// sqlx ends a PostgreSQL error with " at line N", the line in the
/// server's own C source, which users took for a line of their query
/// (issue #23, G).
fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => {
            one_line(&format!("error returned from database: {}", d.message()))
        }
        e => one_line(&e.to_string()),
    }
}

/// Whether the error is the connection going away (a server killed or
/// restarted, a network cut) rather than the server refusing something.
fn connection_lost(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_) | sqlx::Error::Tls(_))
}

/// `host:port` of a connection URL (with the dialect's default port), for
/// messages.
fn server_of(url: &str, dialect: Dialect) -> String {
    let default = match dialect {
        Dialect::Postgres => 5432,
        Dialect::Mysql => 3306,
    };
    match url::Url::parse(url) {
        Ok(u) => format!(
            "{}:{}",
            u.host_str().unwrap_or("localhost"),
            u.port().unwrap_or(default)
        ),
        Err(_) => "the server".to_string(),
    }
}

/// Runs a query whose every column is text; returns the rows.
async fn fetch_text(
    pool: &Pool,
    sql: String,
    width: usize,
) -> Result<Vec<Vec<Option<String>>>, sqlx::Error> {
    Ok(on_pool!(pool, p => sqlx::query(AssertSqlSafe(sql))
        .fetch_all(p)
        .await?
        .iter()
        .map(|r| {
            (0..width)
                .map(|i| r.try_get::<Option<String>, _>(i))
                .collect::<Result<Vec<_>, _>>()
        })
        .collect::<Result<Vec<_>, _>>()?))
}

async fn close(pool: Pool) {
    on_pool!(pool, p => p.close().await)
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

/// Which rows a pass reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PassKind {
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
struct Pass {
    kind: PassKind,
    conds: Vec<String>,
    paged: bool,
}

/// Reads one delivery: its passes in order, into batches, with the content
/// hash, the notes for the ledger and the source's state after it.
struct DbPager {
    dialect: Dialect,
    select: String,
    base: String,
    passes: Vec<Pass>,
    order_q: Vec<String>,
    width: usize,
    page: usize,
    retries: u32,
    location: String,
    /// `host:port` and what is read (`table x`, `query`), for messages.
    server: String,
    what: String,
    /// The number of declared columns (the first values of a row).
    declared: usize,
    /// Where the watermark's and the key's session text are in a row.
    wm_index: Option<usize>,
    key_index: Option<usize>,
    /// The watermark and key columns, for notes and reasons.
    wm_name: Option<String>,
    key_name: Option<String>,
    /// The delivery's watermark range, as recorded.
    from: Option<String>,
    to: Option<String>,
    /// The state recorded with the last landed delivery, if it is `from`'s.
    known: Option<DbState>,
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
fn take_one(set: &mut HashMap<String, usize>, id: &str) -> bool {
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

    async fn run(
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

/// Rows read so far: the batch being built and the running content hash.
struct Accumulator {
    batcher: TextBatcher,
    keys: Vec<Option<String>>,
    key_index: Option<usize>,
    names: Vec<String>,
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
            names: columns.iter().map(|c| c.name.clone()).collect(),
            hasher: Sha256::new(),
            bytes: 0,
            row_no: 0,
        }
    }

    fn hash(&mut self, r: &[Option<String>]) {
        for v in r {
            let s = v.as_deref().unwrap_or("\u{0}NULL");
            self.hasher.update(s.as_bytes());
            self.hasher.update(b"\x1f");
            self.bytes += s.len() as u64 + 1;
        }
        self.hasher.update(b"\x1e");
    }

    fn push(&mut self, r: &[Option<String>]) {
        self.hash(r);
        self.batcher.push_exact(self.row_no, |i| r[i].as_deref());
        self.row_no += 1;
        if let Some(k) = self.key_index {
            self.keys.push(r[k].clone());
        }
    }

    /// A row that goes to quarantine whole: its declared columns as a JSON
    /// object, and why.
    fn reject(&mut self, declared: &[Option<String>], reason: String) {
        self.hash(declared);
        let record: serde_json::Map<String, serde_json::Value> = self
            .names
            .iter()
            .zip(declared)
            .map(|(n, v)| (n.clone(), v.clone().into()))
            .collect();
        self.batcher.reject(Reject {
            row: self.row_no,
            raw: serde_json::Value::Object(record).to_string(),
            reason,
        });
        self.row_no += 1;
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
        state: Option<String>,
        notes: Vec<String>,
    ) -> Result<(), SourceError> {
        tx.send(Ok(RawItem::End(DeliveryEnd {
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
            state,
            notes,
        })))
        .await
        .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue #18, 8 and #23, 8: TLS is required off this machine unless
    /// the URL chooses a mode; the scheme must match the source's kind.
    #[test]
    fn tls_by_default_off_this_machine_and_schemes_match_kinds() {
        let tls = |u: &str, d| super::Link::of(u, d).map(|l| l.require_tls);
        use super::Dialect::{Mysql, Postgres};
        assert_eq!(
            tls("postgres://u:p@db.bureau.example/x", Postgres),
            Ok(true)
        );
        assert_eq!(tls("postgresql://u:p@10.1.2.3:5432/x", Postgres), Ok(true));
        assert_eq!(tls("mysql://u:p@db.bureau.example/x", Mysql), Ok(true));
        // The explicit opt-out (or any explicit mode) is the URL's.
        assert_eq!(
            tls(
                "postgres://u:p@db.bureau.example/x?sslmode=disable",
                Postgres
            ),
            Ok(false)
        );
        assert_eq!(
            tls("mysql://u:p@db.bureau.example/x?ssl-mode=DISABLED", Mysql),
            Ok(false)
        );
        // This machine: loopback names and addresses.
        assert_eq!(tls("postgres://u:p@127.0.0.1:55432/x", Postgres), Ok(false));
        assert_eq!(tls("postgres://u:p@localhost/x", Postgres), Ok(false));
        assert_eq!(tls("mysql://u:p@[::1]:3306/x", Mysql), Ok(false));
        // The wrong scheme for the kind.
        let e = tls("mysql://u:p@127.0.0.1/x", Postgres).unwrap_err();
        assert!(e.contains("needs a postgres:// URL, found mysql://"), "{e}");
        assert!(tls("postgres://u:p@127.0.0.1/x", Mysql).is_err());
    }

    #[test]
    fn recorded_watermarks_compare_in_the_session_old_and_new() {
        // New: a MariaDB TIMESTAMP watermark carries the offset pdq added.
        assert_eq!(
            session_text(Dialect::Mysql, "2026-11-01 00:00:02+00:00"),
            "2026-11-01 00:00:02"
        );
        // Old ledgers: the same UTC text without it, unchanged.
        assert_eq!(
            session_text(Dialect::Mysql, "2026-11-01 00:00:02.000000"),
            "2026-11-01 00:00:02.000000"
        );
        // PostgreSQL reads its own offsets.
        assert_eq!(
            session_text(Dialect::Postgres, "2026-11-01 00:00:02+00"),
            "2026-11-01 00:00:02+00"
        );
        assert_eq!(
            literal(Dialect::Mysql, "O'Brien \\"),
            "'O''Brien \\\\'".to_string()
        );
    }

    /// Issue #23, G: a table is split at dots outside double quotes.
    #[test]
    fn table_names_split_at_dots_outside_quotes() {
        assert_eq!(table_parts("t"), vec!["t"]);
        assert_eq!(table_parts("public.t"), vec!["public", "t"]);
        assert_eq!(table_parts("\"a.b\""), vec!["a.b"]);
        assert_eq!(table_parts("s.\"a.b\""), vec!["s", "a.b"]);
        assert_eq!(table_parts("\"say \"\"hi\"\".x\""), vec!["say \"hi\".x"]);
        assert_eq!(quote_part(Dialect::Mysql, "a`b"), "`a``b`");
        assert_eq!(
            server_of("mysql://127.0.0.1:53306/pdq", Dialect::Mysql),
            "127.0.0.1:53306"
        );
        assert_eq!(
            server_of("postgres://db.example/x", Dialect::Postgres),
            "db.example:5432"
        );
    }

    #[test]
    fn a_state_counts_only_for_its_own_watermark() {
        let s = serde_json::to_string(&DbState {
            watermark: Some("w1".into()),
            at_watermark: vec!["k:1".into()],
            null_watermark: vec![],
        })
        .unwrap();
        assert!(DbState::known(Some(&s), Some("w1")).is_some());
        assert!(DbState::known(Some(&s), Some("w2")).is_none());
        assert!(DbState::known(Some("not json"), Some("w1")).is_none());
        assert!(DbState::known(None, Some("w1")).is_none());
    }

    #[test]
    fn equal_rows_are_recognised_as_often_as_they_were_read() {
        let mut seen = HashMap::from([("h:a".to_string(), 2)]);
        assert!(take_one(&mut seen, "h:a"));
        assert!(take_one(&mut seen, "h:a"));
        assert!(!take_one(&mut seen, "h:a"), "a third equal row is new");
        assert!(!take_one(&mut seen, "h:b"));
    }
}

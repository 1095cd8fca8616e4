//! The connection: what its URL says (scheme, TLS), driver errors as
//! messages, and running a text query on the pool.

use sqlx::{AssertSqlSafe, Row};

use super::{Dialect, Pool};

/// What the connection URL says about the link to the server.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Link {
    /// TLS is required: the server is not on this machine and the URL does
    /// not choose a TLS mode itself (`sslmode=` / `ssl-mode=`, which is the
    /// explicit opt-out, e.g. `sslmode=disable`). sqlx's default,
    /// `prefer`, falls back to clear text when the server offers no TLS:
    /// credentials and department data then cross the network readable
    /// (issue #18, 8).
    pub(super) require_tls: bool,
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
    pub(super) fn of(url: &str, dialect: Dialect) -> Result<Link, String> {
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
pub(super) fn db_message(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Database(d) => {
            one_line(&format!("error returned from database: {}", d.message()))
        }
        e => one_line(&e.to_string()),
    }
}

/// Whether the error is the connection going away (a server killed or
/// restarted, a network cut) rather than the server refusing something.
pub(super) fn connection_lost(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_) | sqlx::Error::Tls(_))
}

/// `host:port` of a connection URL (with the dialect's default port), for
/// messages.
pub(super) fn server_of(url: &str, dialect: Dialect) -> String {
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
pub(super) async fn fetch_text(
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

pub(super) async fn close(pool: Pool) {
    on_pool!(pool, p => p.close().await)
}

//! `pdq serve`: the published site and a JSON API of the same data.
//!
//! ```text
//! TCP ─▶ limits (header-read and idle timeouts, head and body sizes)
//!     ─▶ router ─▶ access (who may see the path; tokens.toml re-read when
//!                  it changes; sessions with idle and absolute expiry)
//!               ─▶ site files / JSON, from memory (reloaded when a sweep publishes)
//!               ─▶ read log: each read of department data → audit/ (who, what, when)
//! ```
//!
//! Who sees what:
//!
//! | path | who |
//! |---|---|
//! | `/`, `/index.html`, `/login`, `/api/ranking`, `/catalog/open-catalog.{json,csv}`, `/catalog/public/…`, `/public/…` | everyone |
//! | `/catalog.html`, `/catalog/{catalog.json,catalog.csv,catalog-items.csv,dcat.jsonld}` (the full catalog) | any valid token; anonymous readers get the open entries only (`public/…`) instead |
//! | `/dept/<d>.html`, `/dataset/<d>.<name>.html`, `/api/departments/<d>`, `/api/datasets/<d>.<name>` | department `d` and the bureau |
//! | `/rectification.html`, `/api/rectifications` | the bureau (departments get theirs on their own page / filtered) |
//! | `POST /api/objections` | any valid token: a department files an objection as a user of the data, the bureau as the bureau |
//! | any other `/catalog/…` (findings, change log, officials' workbook) | the bureau |
//!
//! Classified (涉密) catalog entries are in no published file at all
//! (`pipeline::catalog::publish`), so no reader gets them.
//!
//! Each department signs in with its own token; the bureau-managed token
//! file (`tokens.toml`) holds only SHA-256 hashes and is re-read when it
//! changes (and on SIGHUP), so a revoked token is refused at its next
//! request, and so are the sessions it opened. A token is accepted as
//! `Authorization: Bearer …` (the scheme in any case) or exchanged at
//! `POST /login` for a session cookie; it never appears in a URL or a log.
//!
//! - [`tokens`]: `tokens.toml`, re-read when it changes;
//! - [`auth`]: who a request is from: bearer tokens, sessions, cookies,
//!   sign-in and sign-out;
//! - [`access`]: who may see which path, and the read log;
//! - [`site`]: the published files, served from memory;
//! - [`api`]: the JSON API;
//! - [`limits`]: the connection loop with its timeouts and size limits.

mod access;
mod api;
mod auth;
mod limits;
mod objections;
mod site;
mod tokens;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pipeline::workspace::ServeConfig;

pub use limits::serve;
pub use tokens::{Principal, TokenEntry, TokenFile, hash_token, new_token};

/// Why `pdq serve` cannot start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `tokens.toml` is unreadable or invalid.
    #[error("{path}: {message}")]
    Tokens {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line where there is one.
        message: String,
    },
    /// The thread that writes reads to the audit log cannot start.
    #[error("cannot start the read log: {0}")]
    ReadLog(#[source] std::io::Error),
    /// A `[serve]` setting of `pdq.toml` is out of range.
    #[error("pdq.toml [serve] {key}: {message}")]
    Config {
        /// The key.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// `[serve]`, checked: what the server runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, used or not.
    pub session_max: Duration,
    /// Time a client has to send a request's line and headers.
    pub header_timeout: Duration,
    /// A connection that sends and receives nothing this long is closed.
    pub idle_timeout: Duration,
    /// The largest request body, in bytes.
    pub max_body: usize,
    /// The largest request line and headers, in bytes.
    pub max_header: usize,
    /// Believe `X-Forwarded-Proto` (a reverse proxy in front terminates TLS).
    pub trust_proxy: bool,
}

impl Settings {
    /// Checks the `[serve]` section.
    pub fn from_config(c: &ServeConfig) -> Result<Settings, ServeError> {
        let secs = |key: &'static str, v: u64| {
            if v == 0 {
                Err(ServeError::Config {
                    key,
                    message: "must be at least 1 second".into(),
                })
            } else {
                Ok(Duration::from_secs(v))
            }
        };
        let size = |key: &'static str, v: u64, min: u64| {
            usize::try_from(v)
                .ok()
                .filter(|_| v >= min)
                .ok_or_else(|| ServeError::Config {
                    key,
                    message: format!("{v} bytes; expected at least {min}"),
                })
        };
        let s = Settings {
            session_idle: secs("session_idle_seconds", c.session_idle_seconds)?,
            session_max: secs("session_max_seconds", c.session_max_seconds)?,
            header_timeout: secs("header_timeout_seconds", c.header_timeout_seconds)?,
            idle_timeout: secs("idle_timeout_seconds", c.idle_timeout_seconds)?,
            max_body: size("max_body", c.max_body, 1024)?,
            // A browser's request head with a session cookie is about 1 KiB.
            max_header: size("max_header", c.max_header, 4096)?,
            trust_proxy: c.trust_proxy,
        };
        if s.session_max < s.session_idle {
            return Err(ServeError::Config {
                key: "session_max_seconds",
                message: format!(
                    "{} is shorter than session_idle_seconds ({})",
                    c.session_max_seconds, c.session_idle_seconds
                ),
            });
        }
        Ok(s)
    }
}

/// The server's state.
pub struct ServeState {
    workspace: PathBuf,
    published: PathBuf,
    settings: Settings,
    tokens: tokens::Tokens,
    sessions: auth::Sessions,
    site: RwLock<site::Site>,
    reads: access::ReadLog,
}

impl ServeState {
    /// State for a workspace's `published/`, `tokens.toml` and `audit/`,
    /// with its `[serve]` settings.
    pub fn new(workspace: &Path, config: &ServeConfig) -> Result<Arc<ServeState>, ServeError> {
        let settings = Settings::from_config(config)?;
        let tokens = tokens::Tokens::open(&workspace.join("tokens.toml"))?;
        let published = workspace.join("published");
        let site = site::load_site(&published);
        Ok(Arc::new(ServeState {
            workspace: workspace.to_path_buf(),
            published,
            sessions: auth::Sessions::new(settings.session_idle, settings.session_max),
            settings,
            tokens,
            site: RwLock::new(site),
            reads: access::ReadLog::start(&workspace.join("audit")).map_err(ServeError::ReadLog)?,
        }))
    }

    /// The settings it runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Reloads the site if a newer run was published, and forgets expired
    /// sessions.
    pub fn refresh(&self) {
        let latest = site::latest_run(&self.published);
        let current = self.site.read().map(|s| s.run.clone()).unwrap_or_default();
        if latest != current {
            let site = site::load_site(&self.published);
            if let Ok(mut s) = self.site.write() {
                *s = site;
            }
            tracing::info!(run = %latest, "site reloaded");
        }
        self.sessions.purge();
    }

    /// Re-reads `tokens.toml` whether or not it looks changed, and the site
    /// (SIGHUP).
    pub fn reload(&self) {
        self.tokens.reload();
        self.refresh();
    }

    /// Waits (up to `timeout`) until every read so far is in the audit log;
    /// false if some are not.
    pub fn flush_read_log(&self, timeout: Duration) -> bool {
        self.reads.flush(timeout)
    }

    fn identify(&self, headers: &HeaderMap) -> Option<tokens::Identity> {
        auth::identify(&self.tokens, &self.sessions, headers)
    }
}

/// The router.
pub fn router(state: Arc<ServeState>) -> Router {
    let max_body = state.settings.max_body;
    Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/api/ranking", get(api::ranking))
        .route("/api/departments/{dept}", get(api::department))
        .route("/api/datasets/{id}", get(api::dataset))
        .route("/api/rectifications", get(api::rectifications))
        .route("/api/objections", post(objections::file))
        .fallback(get(site::page))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            max_body,
            limits::refuse_large_bodies,
        ))
        .with_state(state)
}

/// A short bilingual HTML page with a status.
fn status(code: StatusCode, zh: &str, en: &str) -> Response {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>{code}</title><p>{zh}</p><p>{en}</p><p><a href=\"/login\">登录 Sign in</a> · <a href=\"/\">首页 Home</a></p>",
        code = code.as_u16()
    );
    (
        code,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

//! Which engine runs a check (issue #22): in-process DataFusion, the
//! default, or an Apache Ballista cluster.
//!
//! ```text
//!  pdq.toml [engine] ─▶ EngineConfig (raw: serde, validated only)
//!  --engine/--scheduler ┘        │ resolve()
//!                                ▼
//!                   Engine::Embedded | Engine::Ballista { scheduler, staging }
//!                                │
//!                                ▼  CheckOptions::engine → check::check_dataset
//! ```
//!
//! Ballista is behind the `ballista` cargo feature; a pdq built without it
//! refuses `kind = "ballista"` with one line that says how to rebuild,
//! when the configuration is read, before any work starts.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The command that builds pdq with the distributed engine.
pub const BUILD_WITH_BALLISTA: &str = "cargo build --release --locked --features jobs/ballista";

/// `[engine]` in `pdq.toml`, as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    /// `embedded` (default: DataFusion in the pdq process) or `ballista`
    /// (an Apache Ballista cluster; needs a pdq built with the `ballista`
    /// feature).
    #[serde(default)]
    pub kind: EngineKind,
    /// The Ballista scheduler, `df://host:50050`; `standalone` starts an
    /// in-process scheduler and executor (for trying it out). Only with
    /// `kind = "ballista"`, where it is required.
    #[serde(default)]
    pub scheduler: Option<String>,
    /// Where a check stages its dataset as Parquet for the executors to
    /// read: a directory every executor sees at the same path (a shared
    /// mount); default: the system's temporary directory, which only
    /// executors on this machine see. Only with `kind = "ballista"`.
    #[serde(default)]
    pub staging: Option<PathBuf>,
    /// Seconds a cluster job may go without progress (no task of it
    /// started, finished or failed, no stage changed state, no result
    /// batch arrived) before the check cancels it and fails; default
    /// [`DEFAULT_STALL_TIMEOUT_SECS`]. Only with `kind = "ballista"`.
    #[serde(default)]
    pub stall_timeout_secs: Option<u64>,
}

/// `[engine] stall_timeout_secs` when it is not set: five minutes. A
/// task that runs longer than this without any other task of its job
/// starting or finishing is taken for a hang: raise it for clusters whose
/// single tasks take longer (one task reads one partition of the staged
/// dataset).
pub const DEFAULT_STALL_TIMEOUT_SECS: u64 = 300;

/// `[engine] kind`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// DataFusion in the pdq process.
    #[default]
    Embedded,
    /// An Apache Ballista cluster.
    Ballista,
}

impl EngineKind {
    /// Parses `--engine`: `embedded` or `ballista`.
    pub fn parse(text: &str) -> Result<EngineKind, EngineError> {
        match text {
            "embedded" => Ok(EngineKind::Embedded),
            "ballista" => Ok(EngineKind::Ballista),
            other => Err(EngineError::Invalid(format!(
                "unknown engine `{other}` (expected `embedded` or `ballista`)"
            ))),
        }
    }
}

/// Where the Ballista scheduler is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheduler {
    /// A running scheduler, `df://host:port`.
    Remote(String),
    /// A scheduler and one executor started in this process for the check.
    Standalone,
}

/// The engine a check runs on, resolved from [`EngineConfig`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Engine {
    /// DataFusion in the pdq process.
    #[default]
    Embedded,
    /// An Apache Ballista cluster.
    Ballista {
        /// The scheduler.
        scheduler: Scheduler,
        /// Where datasets are staged as Parquet for the executors (None:
        /// the system's temporary directory).
        staging: Option<PathBuf>,
        /// Seconds a job may make no progress before it is cancelled and
        /// the check fails (`[engine] stall_timeout_secs`).
        stall_timeout_secs: u64,
    },
}

/// A wrong `[engine]` or `--engine`: what is wrong and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EngineError {
    /// The configuration does not make sense.
    #[error("{0}")]
    Invalid(String),
    /// `ballista` was asked for, and this pdq was built without it.
    #[error(
        "this pdq was built without the `ballista` feature; rebuild with `{BUILD_WITH_BALLISTA}` to run checks on a Ballista cluster (或使用 kind = \"embedded\")"
    )]
    NotBuilt,
    /// A scheduler or executor could not start or stopped with an error.
    #[error("ballista {0}")]
    Cluster(String),
}

/// Whether this pdq was built with the `ballista` feature.
pub const fn ballista_built() -> bool {
    cfg!(feature = "ballista")
}

impl EngineConfig {
    /// This configuration with the command line's `--engine` and
    /// `--scheduler` over it (`--engine embedded` drops the Ballista keys).
    pub fn with_overrides(mut self, kind: Option<EngineKind>, scheduler: Option<String>) -> Self {
        if let Some(kind) = kind {
            self.kind = kind;
            if kind == EngineKind::Embedded {
                self.scheduler = None;
                self.staging = None;
                self.stall_timeout_secs = None;
            }
        }
        if self.kind == EngineKind::Ballista && scheduler.is_some() {
            self.scheduler = scheduler;
        }
        self
    }

    /// This configuration with `--stall-timeout-secs` over it (only with
    /// `kind = "ballista"`; the embedded engine has no jobs to watch).
    pub fn with_stall_timeout(mut self, secs: Option<u64>) -> Self {
        if self.kind == EngineKind::Ballista && secs.is_some() {
            self.stall_timeout_secs = secs;
        }
        self
    }

    /// Checks the values (no I/O) and gives the engine to run on.
    pub fn resolve(&self) -> Result<Engine, EngineError> {
        match self.kind {
            EngineKind::Embedded => {
                if self.scheduler.is_some()
                    || self.staging.is_some()
                    || self.stall_timeout_secs.is_some()
                {
                    return Err(EngineError::Invalid(
                        "`scheduler`, `staging` and `stall_timeout_secs` need kind = \"ballista\""
                            .into(),
                    ));
                }
                Ok(Engine::Embedded)
            }
            EngineKind::Ballista => {
                if !ballista_built() {
                    return Err(EngineError::NotBuilt);
                }
                let scheduler = match self.scheduler.as_deref().map(str::trim) {
                    None | Some("") => {
                        return Err(EngineError::Invalid(
                            "kind = \"ballista\" needs `scheduler` (`--scheduler`): `df://host:50050`, or `standalone`"
                                .into(),
                        ));
                    }
                    Some("standalone") => Scheduler::Standalone,
                    Some(url) => Scheduler::Remote(scheduler_url(url)?),
                };
                let stall_timeout_secs = match self.stall_timeout_secs {
                    None => DEFAULT_STALL_TIMEOUT_SECS,
                    Some(0) => {
                        return Err(EngineError::Invalid(
                            "`stall_timeout_secs` must be 1 or more (seconds a cluster job may make no progress)"
                                .into(),
                        ));
                    }
                    Some(secs) => secs,
                };
                Ok(Engine::Ballista {
                    scheduler,
                    staging: self.staging.clone(),
                    stall_timeout_secs,
                })
            }
        }
    }
}

/// Ballista's scheduler port.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// The host and port of a scheduler address `df://host[:port]`.
pub fn scheduler_host_port(text: &str) -> Result<(String, u16), EngineError> {
    let checked = scheduler_url(text)?;
    let url = url::Url::parse(&checked).map_err(|e| EngineError::Invalid(e.to_string()))?;
    let host = url.host_str().unwrap_or_default().to_string();
    Ok((host, url.port().unwrap_or(DEFAULT_SCHEDULER_PORT)))
}

/// Checks a scheduler address: `df://host[:port]` (the port defaults to
/// Ballista's 50050).
fn scheduler_url(text: &str) -> Result<String, EngineError> {
    let bad = |why: &str| {
        EngineError::Invalid(format!(
            "scheduler `{text}`: {why} (expected `df://host:50050`)"
        ))
    };
    let url = url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "df" {
        return Err(bad(&format!("scheme `{}`", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if !matches!(url.path(), "" | "/") || url.query().is_some() {
        return Err(bad("a path or query is not expected"));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> EngineConfig {
        toml::from_str(text).expect("parses")
    }

    #[test]
    fn embedded_is_the_default() {
        assert_eq!(config("").resolve(), Ok(Engine::Embedded));
        assert_eq!(
            config("kind = \"embedded\"").resolve(),
            Ok(Engine::Embedded)
        );
    }

    #[test]
    fn unknown_keys_and_kinds_are_refused() {
        assert!(toml::from_str::<EngineConfig>("kind = \"spark\"").is_err());
        assert!(toml::from_str::<EngineConfig>("schedular = \"df://a\"").is_err());
        assert!(EngineKind::parse("spark").is_err());
        assert_eq!(EngineKind::parse("ballista"), Ok(EngineKind::Ballista));
    }

    #[test]
    fn command_line_overrides_the_file() {
        let file = config("kind = \"ballista\"\nscheduler = \"df://a:1\"");
        let embedded = file
            .clone()
            .with_overrides(Some(EngineKind::Embedded), None);
        assert_eq!(embedded.resolve(), Ok(Engine::Embedded));
        let other = file.with_overrides(None, Some("df://b:2".into()));
        assert_eq!(other.scheduler.as_deref(), Some("df://b:2"));
        let limited = other.clone().with_stall_timeout(Some(45));
        assert_eq!(limited.stall_timeout_secs, Some(45));
        // `--engine embedded` drops the limit with the other Ballista keys.
        let embedded = limited.with_overrides(Some(EngineKind::Embedded), None);
        assert_eq!(embedded.stall_timeout_secs, None);
        assert_eq!(embedded.resolve(), Ok(Engine::Embedded));
        // Not a key of the embedded engine.
        assert_eq!(
            config("").with_stall_timeout(Some(45)).stall_timeout_secs,
            None
        );
        assert_eq!(
            scheduler_host_port("df://h"),
            Ok(("h".to_string(), DEFAULT_SCHEDULER_PORT))
        );
        assert_eq!(
            scheduler_host_port("df://10.0.0.1:6000"),
            Ok(("10.0.0.1".to_string(), 6000))
        );
        assert!(scheduler_host_port("http://h:1").is_err());
    }

    #[test]
    fn a_scheduler_without_ballista_is_refused() {
        let e = config("scheduler = \"df://h:50050\"")
            .resolve()
            .unwrap_err();
        assert!(e.to_string().contains("kind = \"ballista\""), "{e}");
        let e = config("stall_timeout_secs = 60").resolve().unwrap_err();
        assert!(e.to_string().contains("stall_timeout_secs"), "{e}");
    }

    /// Issue #22: the default build names the feature and the command.
    #[cfg(not(feature = "ballista"))]
    #[test]
    fn ballista_without_the_feature_says_how_to_rebuild() {
        let e = config("kind = \"ballista\"\nscheduler = \"df://h:50050\"")
            .resolve()
            .unwrap_err();
        assert_eq!(e, EngineError::NotBuilt);
        let text = e.to_string();
        assert!(text.contains("`ballista` feature"), "{text}");
        assert!(text.contains(BUILD_WITH_BALLISTA), "{text}");
        assert!(!text.contains('\n'));
    }

    #[cfg(feature = "ballista")]
    #[test]
    fn ballista_needs_a_df_scheduler() {
        assert_eq!(
            config("kind = \"ballista\"\nscheduler = \"df://h:50050\"").resolve(),
            Ok(Engine::Ballista {
                scheduler: Scheduler::Remote("df://h:50050".into()),
                staging: None,
                stall_timeout_secs: DEFAULT_STALL_TIMEOUT_SECS,
            })
        );
        assert_eq!(
            config("kind = \"ballista\"\nscheduler = \"standalone\"").resolve(),
            Ok(Engine::Ballista {
                scheduler: Scheduler::Standalone,
                staging: None,
                stall_timeout_secs: DEFAULT_STALL_TIMEOUT_SECS,
            })
        );
        assert_eq!(
            config("kind = \"ballista\"\nscheduler = \"standalone\"\nstall_timeout_secs = 60")
                .resolve(),
            Ok(Engine::Ballista {
                scheduler: Scheduler::Standalone,
                staging: None,
                stall_timeout_secs: 60,
            })
        );
        assert!(
            config("kind = \"ballista\"\nscheduler = \"standalone\"\nstall_timeout_secs = 0")
                .resolve()
                .is_err()
        );
        for bad in ["", "http://h:50050", "df://", "df://h:50050/x"] {
            let text = format!("kind = \"ballista\"\nscheduler = \"{bad}\"");
            assert!(config(&text).resolve().is_err(), "{bad}");
        }
        assert!(config("kind = \"ballista\"").resolve().is_err());
    }
}

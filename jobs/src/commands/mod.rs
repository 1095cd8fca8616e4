//! One function per subcommand; each calls library code.

mod audit;
mod calendar;
mod catalog;
mod catalog_review;
mod check;
#[cfg(feature = "ballista")]
mod cluster;
mod demo;
mod evaluate;
mod harvest;
mod ingest;
mod init;
mod objection;
mod onesource;
mod ops;
mod profile;
mod publish;
mod rules;
mod runs;
mod usage;
mod vacuum;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// What a command that ran reports back.
pub enum Outcome {
    /// Ran; no rule at `fail`.
    Clean,
    /// Ran; at least one rule at `fail`.
    RulesFailed,
    /// Ran; what it verified is not intact (`pdq audit verify`).
    Broken,
    /// Ran, but at least one step or dataset failed; the rest ran and was
    /// published (one stderr line per failure was written).
    PartialFailure,
}

impl Outcome {
    /// The contract's exit code.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::RulesFailed => ExitCode::from(3),
            Outcome::Broken => ExitCode::from(3),
            Outcome::PartialFailure => ExitCode::from(4),
        }
    }
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<Outcome> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Rules(args) => rules::run(args),
        Command::Harvest(args) => harvest::run(args),
        Command::Ingest(args) => ingest::run(args),
        Command::Init(args) => init::run(args),
        Command::Sweep(args) => ops::sweep(args),
        Command::Publish(args) => publish::run(args),
        Command::Vacuum(args) => vacuum::run(args),
        Command::Daemon(args) => ops::daemon(args),
        Command::Runs(args) => runs::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Calendar(args) => calendar::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Objection(args) => objection::run(args),
        Command::Catalog(args) => catalog::run(args),
        Command::Usage(args) => usage::run(args),
        Command::Serve(args) => ops::serve(args),
        Command::Token(args) => ops::token(args),
        Command::Evaluate(args) => evaluate::evaluate(args),
        Command::Correct(args) => evaluate::correct(args),
        Command::Onesource(args) => onesource::run(args),
        #[cfg(feature = "ballista")]
        Command::Scheduler(args) => cluster::scheduler(args),
        #[cfg(feature = "ballista")]
        Command::Executor(args) => cluster::executor(args),
    }
}

/// A multi-threaded runtime with `threads` workers (default: the cores).
pub(crate) fn runtime(threads: Option<usize>) -> Result<tokio::runtime::Runtime> {
    let mut b = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        b.worker_threads(n.max(1));
    }
    Ok(b.enable_all().build()?)
}

/// The catalog as its last version left it (`pdq catalog …`).
fn catalog_state(
    ws: &pipeline::workspace::Workspace,
) -> anyhow::Result<pipeline::catalog::store::CatalogState> {
    use anyhow::Context;
    let lake =
        pipeline::land::Lake::open(&ws.config.lake, &ws.dir).context("cannot open the lake")?;
    let rt = runtime(Some(1))?;
    Ok(rt.block_on(pipeline::catalog::store::load_state(&lake))?)
}

/// Writes a record the bureau made about its catalog (a change, a review:
/// each starts a deadline it answers for) to the workspace's audit log.
fn audit_catalog_record<T: serde::Serialize>(
    ws: &pipeline::workspace::Workspace,
    action: &str,
    target: &str,
    record: &T,
) -> anyhow::Result<()> {
    jobs::audit::AuditLog::new(&ws.dir.join("audit"))
        .append(
            &jobs::audit::actor("cli:catalog"),
            action,
            target,
            serde_json::to_value(record)?,
        )
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    Ok(())
}

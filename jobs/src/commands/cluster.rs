//! `pdq scheduler` and `pdq executor`: a Ballista cluster whose sessions
//! know pdq's functions (issue #22; the `ballista` feature). Both run until
//! stopped (SIGTERM, Ctrl-C).

use anyhow::{Context, Result};
use pipeline::check::distributed::{
    ExecutorProcess, SchedulerProcess, run_executor, run_scheduler,
};
use pipeline::check::engine::scheduler_host_port;

use super::Outcome;
use crate::cli::{ExecutorArgs, SchedulerArgs};

pub fn scheduler(args: SchedulerArgs) -> Result<Outcome> {
    if args.dead_executor_check_secs >= args.executor_timeout_secs {
        anyhow::bail!(
            "--dead-executor-check-secs ({}) must be less than --executor-timeout-secs ({})",
            args.dead_executor_check_secs,
            args.executor_timeout_secs
        );
    }
    let rt = super::runtime(None)?;
    rt.block_on(run_scheduler(SchedulerProcess {
        bind: args.bind,
        external_host: args.external_host,
        executor_timeout_secs: args.executor_timeout_secs,
        dead_executor_check_secs: args.dead_executor_check_secs,
    }))?;
    Ok(Outcome::Clean)
}

pub fn executor(args: ExecutorArgs) -> Result<Outcome> {
    let (scheduler_host, scheduler_port) =
        scheduler_host_port(&args.scheduler).context("--scheduler")?;
    let work_dir = match args.work_dir {
        Some(dir) => Some(
            dir.to_str()
                .with_context(|| format!("--work-dir {}: not UTF-8", dir.display()))?
                .to_string(),
        ),
        None => None,
    };
    let rt = super::runtime(None)?;
    rt.block_on(run_executor(ExecutorProcess {
        scheduler_host,
        scheduler_port,
        bind_host: args.bind_host,
        external_host: args.external_host,
        port: args.port,
        grpc_port: args.grpc_port,
        concurrent_tasks: args.concurrent_tasks,
        work_dir,
        heartbeat_secs: args.heartbeat_secs,
        memory_pool_bytes: args.memory_pool_size,
    }))?;
    Ok(Outcome::Clean)
}

//! Checks on an Apache Ballista cluster (issue #22; the `ballista` feature):
//! the client session, the staged dataset the executors read, and the
//! scheduler and executor processes with pdq's functions registered.
//!
//! ```text
//!  pdq check/sweep (client)                    scheduler            executors
//!  FileDataset ─stage─▶ Parquet (+__pdq_file,   (plans; pdq UDFs     (run stages; pdq
//!     (read in process)   __pdq_row) in staging  by name)             UDFs by name)
//!  plan: ListingTable(staging) ─ rules ─────────▶ stages ───────────▶ hash-partitioned
//!  ◀── outcome columns, duplicate keys (GROUP BY the key, exact) ────  aggregates, joins
//! ```
//!
//! Every pdq UDF is stateless (`quality_rules::udfs`), so it travels by
//! name: the client, the scheduler's session builder and the executors'
//! function registry all register the same list. The one stateful
//! function of the embedded engine (the candidate-hash filter of `unique`)
//! is not used here: duplicates are found by grouping on the real key.
//!
//! The dataset's source files (CSV, XLSX, JSON, Parquet) are read once by
//! the client, through the same reader as the embedded engine, and staged
//! as Parquet with their file and row columns; the executors read that
//! copy. So every format is supported and values are the same, and the
//! staging directory must be one every executor sees at the same path.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use connectors::files::FileDataset;
use datafusion::dataframe::DataFrameWriteOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionConfig, SessionContext};

use super::engine::{EngineError, Scheduler};

/// Adds pdq's functions to a session state (the scheduler's, the
/// executors', the client's).
pub fn with_pdq_functions(mut state: SessionState) -> Result<SessionState> {
    for udf in quality_rules::udfs::all() {
        state.register_udf(udf)?;
    }
    Ok(state)
}

/// A client session on a Ballista cluster, with pdq's settings (`config`,
/// `runtime`) and functions. `Scheduler::Standalone` starts a scheduler and
/// an executor in this process first, which share this session's functions.
pub(crate) async fn session(
    config: SessionConfig,
    runtime: Arc<RuntimeEnv>,
    scheduler: &Scheduler,
) -> Result<SessionContext> {
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(static_planner(without_dynamic_filters(config)))
        .with_runtime_env(runtime)
        .build();
    let state = with_pdq_functions(state)?;
    let ctx = match scheduler {
        Scheduler::Standalone => SessionContext::standalone_with_state(state).await?,
        Scheduler::Remote(url) => {
            reachable(url).await?;
            SessionContext::remote_with_state(url, state).await?
        }
    };
    // Ballista's upgrade of the state replaces the scalar functions with
    // DataFusion's defaults: pdq's are registered again for planning.
    quality_rules::udfs::register_all(&ctx);
    Ok(ctx)
}

/// Ballista 55's scheduler may swap a hash join's inputs when it plans a
/// stage again (join selection) after DataFusion built the join's dynamic
/// filter, and then fails the task with an internal error while the job
/// waits (seen on the demo bureau's sweep): dynamic filters
/// are off for plans that run on the cluster. They only prune; results do
/// not change.
fn without_dynamic_filters(config: SessionConfig) -> SessionConfig {
    config.set_bool("datafusion.optimizer.enable_dynamic_filter_pushdown", false)
}

/// Ballista 55's adaptive planner (`ballista_scheduler::state::aqe`) can
/// leave a job `Running` at 0 % with no task left when an executor that
/// held a finished stage's shuffle output is lost: it rolls the stages
/// back, then rejects the surviving executor's task status (`Can't find
/// active stage to update stage outputs`) and never plans again (issue
/// #22, 5; two kill runs in five hung so). The client's jobs ask for the
/// static planner, whose stage graph re-runs the lost map tasks (five
/// kill runs of five completed with it, three of them after losing a
/// finished stage's output: ops/BALLISTA.md). The
/// setting travels with each job (the scheduler reads it from the job's
/// session); Ballista's DataFusion defaults are applied first, as
/// `upgrade_for_ballista` would, since it skips them on a config that
/// already carries Ballista's settings.
fn static_planner(config: SessionConfig) -> SessionConfig {
    config
        .upgrade_for_ballista()
        .with_ballista_adaptive_query_planner(false)
}

/// Fails in one line when nothing answers at the scheduler's address
/// (Ballista itself would report a transport error on the first query).
async fn reachable(url: &str) -> Result<()> {
    let (host, port) = super::engine::scheduler_host_port(url)
        .map_err(|e| DataFusionError::External(Box::new(e)))?;
    let unreachable = |why: String| {
        DataFusionError::External(Box::new(EngineError::Cluster(format!(
            "scheduler {url} cannot be reached: {why}"
        ))))
    };
    match tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::net::TcpStream::connect((host.as_str(), port)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(unreachable(e.to_string())),
        Err(_) => Err(unreachable("no answer in 10 s".into())),
    }
}

/// Datasets staged as Parquet for the executors, each once per check; the
/// directory is removed when the check ends.
pub(crate) struct Staging {
    root: tempfile::TempDir,
    /// The in-process session that reads the source files.
    local: SessionContext,
    /// Staged datasets by their files.
    staged: tokio::sync::Mutex<HashMap<String, String>>,
}

impl Staging {
    /// A staging directory under `dir` (default: the system's temporary
    /// directory); `local` reads the source files.
    pub(crate) fn new(dir: Option<&Path>, local: SessionContext) -> Result<Staging> {
        let fail = |e: std::io::Error| {
            DataFusionError::Execution(format!(
                "cannot create the staging directory{}: {e}",
                dir.map(|d| format!(" in {}", d.display()))
                    .unwrap_or_default()
            ))
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix("pdq-stage-");
        let root = match dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(fail)?;
                builder.tempdir_in(d).map_err(fail)?
            }
            None => builder.tempdir().map_err(fail)?,
        };
        Ok(Staging {
            root,
            local,
            staged: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// The dataset as a table on `ctx`: its staged Parquet copy (staged on
    /// first use), with the dataset's own schema, file and row columns
    /// included.
    pub(crate) async fn read(
        &self,
        ctx: &SessionContext,
        dataset: &FileDataset,
    ) -> Result<DataFrame> {
        let key: Vec<&str> = dataset.files().iter().map(|f| f.display.as_str()).collect();
        let key = key.join("\n");
        let provider = dataset.table_provider();
        let schema = provider.schema();
        let url = {
            let mut staged = self.staged.lock().await;
            match staged.get(&key) {
                Some(url) => url.clone(),
                None => {
                    let dir = self.root.path().join(staged.len().to_string());
                    let url = format!("{}/", dir.display());
                    self.local
                        .read_table(provider)?
                        .write_parquet(&url, DataFrameWriteOptions::new(), None)
                        .await?;
                    staged.insert(key, url.clone());
                    url
                }
            }
        };
        ctx.read_parquet(url, ParquetReadOptions::default().schema(&schema))
            .await
    }
}

/// `pdq scheduler`: where it listens.
#[derive(Debug, Clone)]
pub struct SchedulerProcess {
    /// The address to listen on (host:port).
    pub bind: SocketAddr,
    /// The host name executors and clients reach it by.
    pub external_host: String,
    /// An executor whose last heartbeat is older than this many seconds is
    /// dead: it is removed, and the tasks and shuffle output it held are
    /// run again elsewhere (or the job fails). Must exceed the executors'
    /// heartbeat interval.
    pub executor_timeout_secs: u64,
    /// How often the scheduler looks for dead executors, in seconds.
    pub dead_executor_check_secs: u64,
}

/// Runs a Ballista scheduler whose sessions have pdq's functions, until
/// the process is stopped.
pub async fn run_scheduler(p: SchedulerProcess) -> Result<(), EngineError> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    let config = SchedulerConfig {
        bind_host: p.bind.ip().to_string(),
        bind_port: p.bind.port(),
        external_host: p.external_host.clone(),
        executor_timeout_seconds: p.executor_timeout_secs,
        expire_dead_executor_interval_seconds: p.dead_executor_check_secs,
        // Ballista's own default: after the last executor is lost, running
        // jobs wait as long as a dead executor takes to be noticed.
        no_executors_grace_period_seconds: p.executor_timeout_secs,
        ..SchedulerConfig::default()
    }
    .with_override_session_builder(Arc::new(|config: SessionConfig| {
        with_pdq_functions(ballista_core::utils::default_session_builder(
            without_dynamic_filters(config),
        )?)
    }));
    config
        .validate()
        .map_err(|e| EngineError::Cluster(format!("scheduler on {}: {e}", p.bind)))?;
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| EngineError::Cluster(format!("scheduler on {}: {e}", p.bind)))?;
    ballista_scheduler::scheduler_process::start_server(cluster, p.bind, Arc::new(config))
        .await
        .map_err(|e| EngineError::Cluster(format!("scheduler on {}: {e}", p.bind)))
}

/// `pdq executor`: its scheduler and where it listens.
#[derive(Debug, Clone)]
pub struct ExecutorProcess {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// The host to listen on.
    pub bind_host: String,
    /// The host name the scheduler and other executors reach it by
    /// (default: `bind_host`).
    pub external_host: Option<String>,
    /// The Arrow Flight port (shuffle data).
    pub port: u16,
    /// The gRPC port (tasks).
    pub grpc_port: u16,
    /// Tasks run at once (0: the number of cores).
    pub concurrent_tasks: usize,
    /// Where shuffle files go (default: a temporary directory).
    pub work_dir: Option<String>,
    /// Seconds between heartbeats to the scheduler (shorter than the
    /// scheduler's executor timeout).
    pub heartbeat_secs: u64,
    /// The executor's memory pool in bytes, split evenly across its
    /// concurrent tasks; a task that needs more spills or fails. `None`:
    /// Ballista's default, 70 % of the host's (or cgroup's) memory.
    pub memory_pool_bytes: Option<u64>,
}

/// Runs a Ballista executor whose function registry has pdq's functions,
/// until the process is stopped or its scheduler tells it to stop.
pub async fn run_executor(p: ExecutorProcess) -> Result<(), EngineError> {
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    let state = ballista_core::utils::default_session_builder(
        ballista_core::utils::default_config_producer(),
    )
    .and_then(with_pdq_functions)
    .map_err(|e| EngineError::Cluster(format!("executor: {e}")))?;
    let registry = ballista_core::registry::BallistaFunctionRegistry::from(&state);
    let mut config = ExecutorProcessConfig {
        bind_host: p.bind_host.clone(),
        external_host: p.external_host.clone(),
        port: p.port,
        grpc_port: p.grpc_port,
        scheduler_host: p.scheduler_host.clone(),
        scheduler_port: p.scheduler_port,
        work_dir: p.work_dir.clone(),
        override_function_registry: Some(Arc::new(registry)),
        executor_heartbeat_interval_seconds: p.heartbeat_secs,
        memory_pool_size: p.memory_pool_bytes,
        ..ExecutorProcessConfig::default()
    };
    if p.concurrent_tasks > 0 {
        config.vcores = p.concurrent_tasks;
    }
    start_executor_process(Arc::new(config)).await.map_err(|e| {
        EngineError::Cluster(format!(
            "executor on {}:{} (scheduler {}:{}): {e}",
            p.bind_host, p.port, p.scheduler_host, p.scheduler_port
        ))
    })
}

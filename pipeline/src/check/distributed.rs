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
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionConfig, SessionContext};
use futures::future::BoxFuture;

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
        .with_config(pull_job_status(static_planner(without_dynamic_filters(
            config,
        ))))
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

/// The client asks the scheduler for its job's status (every 50 ms)
/// instead of waiting for the scheduler to push it: the job's id is then
/// known as soon as the scheduler accepts the job, so the stall limit can
/// ask after it and cancel it. Pushed, the id only arrives with the first
/// status change, which a job that never starts (a scheduler without
/// executors) never sends. Needs Ballista's settings on the config
/// (`static_planner` puts them there).
fn pull_job_status(config: SessionConfig) -> SessionConfig {
    config.set_bool(ballista_core::config::BALLISTA_CLIENT_PULL, true)
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

/// The stall limit of a check's jobs: the scheduler they go to and
/// `[engine] stall_timeout_secs`.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    /// The scheduler, as configured (named in the error).
    pub scheduler: Scheduler,
    /// Seconds a job may make no progress before it is cancelled.
    pub stall_timeout_secs: u64,
}

/// The plan type of Ballista's client: a job sent to the scheduler, whose
/// id it keeps once the scheduler has accepted it.
type ClusterJob = ballista_core::execution_plans::DistributedQueryExec<
    datafusion_proto::protobuf::LogicalPlanNode,
>;

/// Runs `df` on the cluster as `DataFrame::execute_stream_partitioned`
/// (`one`: `execute_stream`) would, with the stall limit on its job: a job
/// that makes no progress for `watch.stall_timeout_secs` is cancelled and
/// its stream ends with [`super::stall::Stalled`]. A plan that is not a
/// cluster job (run in process by Ballista's planner) runs unwatched.
pub(crate) async fn execute_watched(
    df: DataFrame,
    watch: &Watch,
    one: bool,
) -> Result<Vec<SendableRecordBatchStream>> {
    use datafusion::physical_plan::{execute_stream, execute_stream_partitioned};
    let task_ctx = Arc::new(df.task_ctx());
    let plan = df.create_physical_plan().await?;
    let streams = if one {
        vec![execute_stream(Arc::clone(&plan), task_ctx)?]
    } else {
        execute_stream_partitioned(Arc::clone(&plan), task_ctx)?
    };
    if !plan.is::<ClusterJob>() {
        return Ok(streams);
    }
    let limit = super::stall::Limit::secs(watch.stall_timeout_secs);
    let mut watched: Vec<SendableRecordBatchStream> = Vec::with_capacity(streams.len());
    for stream in streams {
        let probe = BallistaJob::new(Arc::clone(&plan), &watch.scheduler)?;
        let schema = stream.schema();
        watched.push(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            super::stall::watch(stream, probe, limit),
        )));
    }
    Ok(watched)
}

/// One job of this client, as the stall limit asks after it: its progress
/// from the scheduler's REST API (`GET /api/job/{id}/stages`, served on
/// the scheduler's gRPC port), its cancellation through the scheduler's
/// gRPC `CancelJob`.
struct BallistaJob {
    /// The `ClusterJob` plan (its job id is set once the job is accepted).
    plan: Arc<dyn ExecutionPlan>,
    /// `http://host:port` of the scheduler.
    base: String,
    /// The scheduler as the error names it.
    shown: String,
    http: reqwest::Client,
}

/// How long one question to the scheduler may take.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl BallistaJob {
    fn new(plan: Arc<dyn ExecutionPlan>, scheduler: &Scheduler) -> Result<BallistaJob> {
        // The address the client sends its jobs to (`http://host:port`;
        // for `standalone`, the in-process scheduler's port): only shown
        // by the plan's display.
        let shown_plan = format!("{}", TreeRender(plan.as_ref()));
        let base = shown_plan
            .split_whitespace()
            .find_map(|w| w.strip_prefix("scheduler_url="))
            .map(|u| u.trim_end_matches('/').to_string())
            .ok_or_else(|| {
                DataFusionError::Internal(format!(
                    "no scheduler address in the cluster job's plan: {shown_plan}"
                ))
            })?;
        let shown = match scheduler {
            Scheduler::Remote(url) => url.clone(),
            Scheduler::Standalone => format!("standalone ({base})"),
        };
        let http = reqwest::Client::builder()
            .timeout(PROBE_TIMEOUT)
            .build()
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(BallistaJob {
            plan,
            base,
            shown,
            http,
        })
    }

    fn id(&self) -> Option<String> {
        self.plan
            .downcast_ref::<ClusterJob>()
            .and_then(ClusterJob::job_id)
            .map(|id| id.into_inner())
    }
}

/// A plan shown as `EXPLAIN FORMAT TREE` shows one node.
struct TreeRender<'a>(&'a dyn ExecutionPlan);

impl std::fmt::Display for TreeRender<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0
            .fmt_as(datafusion::physical_plan::DisplayFormatType::TreeRender, f)
    }
}

/// A job's progress as the scheduler reports it: per stage, its state and
/// how many of its tasks are running, finished and failed. Any change is
/// progress (a roll-back after a lost executor included: the job is
/// being worked on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StageProgress {
    stage: String,
    status: String,
    running: usize,
    successful: usize,
    failed: usize,
}

/// Reads `GET /api/job/{id}/stages` (ballista-api-types' `QueryStagesResponse`).
fn stages_progress(body: &serde_json::Value) -> Option<Vec<StageProgress>> {
    let stages = body.get("stages")?.as_array()?;
    let mut out = Vec::with_capacity(stages.len());
    for s in stages {
        let mut p = StageProgress {
            stage: s.get("stage_id")?.as_str()?.to_string(),
            status: s.get("stage_status")?.as_str()?.to_string(),
            running: 0,
            successful: 0,
            failed: 0,
        };
        for t in s
            .get("tasks")
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            match t.get("status") {
                Some(serde_json::Value::String(s)) if s == "Running" => p.running += 1,
                Some(serde_json::Value::String(s)) if s == "Successful" => p.successful += 1,
                Some(serde_json::Value::Object(o)) if o.contains_key("Failed") => p.failed += 1,
                _ => {}
            }
        }
        out.push(p);
    }
    Some(out)
}

impl super::stall::JobProbe for BallistaJob {
    type Progress = Vec<StageProgress>;

    fn job_id(&self) -> Option<String> {
        self.id()
    }

    fn scheduler(&self) -> String {
        self.shown.clone()
    }

    fn progress(&mut self) -> BoxFuture<'_, std::result::Result<Vec<StageProgress>, String>> {
        Box::pin(async move {
            let id = self
                .id()
                .ok_or_else(|| "the job is not accepted yet".to_string())?;
            let url = format!("{}/api/job/{id}/stages", self.base);
            let response = self
                .http
                .get(&url)
                .send()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            if !response.status().is_success() {
                return Err(format!("GET {url}: {}", response.status()));
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| format!("GET {url}: {e}"))?;
            let body: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| format!("GET {url}: {e}"))?;
            stages_progress(&body).ok_or_else(|| format!("GET {url}: not a list of stages"))
        })
    }

    fn cancel(&mut self, job_id: String) -> BoxFuture<'_, std::result::Result<(), String>> {
        use ballista_core::serde::protobuf::CancelJobParams;
        use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
        Box::pin(async move {
            let cancel = async {
                let mut client = SchedulerGrpcClient::connect(self.base.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                client
                    .cancel_job(CancelJobParams { job_id })
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            };
            match tokio::time::timeout(PROBE_TIMEOUT, cancel).await {
                Ok(done) => done,
                Err(_) => Err(format!(
                    "the scheduler did not answer in {} s",
                    PROBE_TIMEOUT.as_secs()
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stages of a job as `GET /api/job/{id}/stages` serves them
    /// (Ballista 55): task states counted per stage.
    #[test]
    fn stage_progress_is_read_from_the_rest_api() {
        let body = serde_json::json!({"stages": [
            {"stage_id": "1", "stage_status": "Successful", "input_rows": 10, "output_rows": 10,
             "elapsed_compute": null, "tasks": [
                {"id": 0, "status": "Successful", "partition_id": [0]},
                {"id": 1, "status": {"Failed": {"reason": "ExecutionError", "error": "x"}}, "partition_id": [1]},
                null]},
            {"stage_id": "2", "stage_status": "Running", "input_rows": 0, "output_rows": 0,
             "elapsed_compute": null, "tasks": [{"id": 2, "status": "Running", "partition_id": [0]}]},
            {"stage_id": "3", "stage_status": "UnResolved", "input_rows": 0, "output_rows": 0,
             "elapsed_compute": null, "tasks": []}
        ]});
        let p = stages_progress(&body).expect("stages");
        assert_eq!(
            p,
            vec![
                StageProgress {
                    stage: "1".into(),
                    status: "Successful".into(),
                    running: 0,
                    successful: 1,
                    failed: 1
                },
                StageProgress {
                    stage: "2".into(),
                    status: "Running".into(),
                    running: 1,
                    successful: 0,
                    failed: 0
                },
                StageProgress {
                    stage: "3".into(),
                    status: "UnResolved".into(),
                    running: 0,
                    successful: 0,
                    failed: 0
                },
            ]
        );
        assert!(stages_progress(&serde_json::json!({"error": "x"})).is_none());
    }
}

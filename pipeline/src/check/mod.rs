//! The check stage: one rule file over one dataset, in one scan.
//!
//! ```text
//!  files ─▶ FileDataset (TableProvider, + __pdq_file/__pdq_row)
//!             │  ⋈ distinct reference values (one join per `reference` rule, build side = reference)
//!             ▼
//!  projection: [file, row, outcome₁ … outcomeₙ, freshness columns, sample/key columns]
//!             │  one stream per partition, folded concurrently
//!             ▼
//!  Accumulator: evaluated = len − null_count, failed = true_count,
//!               first 10 failures by (file, row), every failure → failed-rows Parquet
//!
//!  `unique` rules: the same scan also yields each evaluated row's 64-bit
//!  key code, collected per partition within the memory limit (sorted runs
//!  spilled to disk beyond it); merging the runs gives the codes seen twice
//!  or more. Exact codes (short key shapes such as ID numbers) are
//!  duplicates already: only their first samples are read, in file order.
//!  Hashed codes are confirmed by reading those rows again, sorted by their
//!  real keys.
//! ```
//!
//! Every row-level rule is one expression in the same projection, so adding
//! a rule adds an expression, not a query (ARCHITECTURE.md, "One scan").

#[cfg(feature = "ballista")]
pub mod distributed;
pub mod engine;
mod failed_rows;
mod key_hashes;
mod sink;
// Used by the distributed engine only; compiled (and tested) in every build.
#[cfg_attr(not(feature = "ballista"), allow(dead_code))]
mod stall;
pub mod step;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;
use connectors::files::{FILE_COLUMN, FileDataset, Inference, ROW_COLUMN, ReadOptions};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, JoinType, ScalarValue};
use datafusion::error::DataFusionError;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::{Expr, cast, col, lit, when};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use futures::StreamExt;
use quality_rules::rules::{self, CompileContext, CompiledRule, Plan, Scope, pass_rate};
use quality_rules::{RuleError, RuleFile};

use crate::model::{CheckReport, RuleResult, Sample};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit};
pub use engine::{
    DEFAULT_STALL_TIMEOUT_SECS, Engine, EngineConfig, EngineError, EngineKind, Scheduler,
};
use failed_rows::FailedRowsWriter;
use key_hashes::{KeyHashes, Repeated};
use sink::{Accumulator, Layout, SlotKind};
pub use stall::Stalled;

/// How to run a check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The as-of time: birth dates may not be after it; freshness is measured from it.
    pub as_of: DateTime<FixedOffset>,
    /// The bureau's time zone: naive timestamps and dates are read in it.
    pub time_zone: Tz,
    /// File reading options (encoding, sheet, delimiter).
    pub read: ReadOptions,
    /// Write every failing row, unmasked, as Parquet into this directory.
    pub failed_rows_dir: Option<PathBuf>,
    /// Samples per rule (the contract says at most 10).
    pub sample_limit: usize,
    /// Memory the engine may use before spilling to disk (bytes).
    pub memory_limit: usize,
    /// Parallelism; defaults to the number of cores.
    pub target_partitions: Option<usize>,
    /// The engine that runs the check (default: in-process DataFusion).
    pub engine: Engine,
}

impl CheckOptions {
    /// Options with the defaults: Asia/Shanghai, 10 samples, 2 GiB of memory.
    pub fn new(as_of: DateTime<FixedOffset>) -> Self {
        CheckOptions {
            as_of,
            time_zone: chrono_tz::Asia::Shanghai,
            read: ReadOptions::default(),
            failed_rows_dir: None,
            sample_limit: 10,
            memory_limit: 2 << 30,
            target_partitions: None,
            engine: Engine::Embedded,
        }
    }
}

/// Why a check could not run. Bad data inside a dataset is a result, not an
/// error; these are the cases where there is no result to give.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// A data file is missing, unreadable or malformed.
    #[error(transparent)]
    Files(#[from] connectors::files::FileError),
    /// The rule file is wrong.
    #[error(transparent)]
    Rules(#[from] RuleError),
    /// A `reference` rule's data cannot be used.
    #[error("{}:{line}: rule `{rule}`: reference data {}: {message}", rules.display(), data.display())]
    Reference {
        /// The rule file.
        rules: PathBuf,
        /// The rule's line.
        line: u64,
        /// The rule id.
        rule: String,
        /// The reference data path.
        data: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The engine failed while running (I/O, a file that turned out corrupt).
    #[error("dataset `{dataset}`: {message}")]
    Engine {
        /// Dataset name.
        dataset: String,
        /// What failed.
        message: String,
    },
    /// Failed rows could not be written.
    #[error("cannot write failed rows to {}: {message}", path.display())]
    FailedRows {
        /// The target file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// One line from a DataFusion error: the root cause (our own file errors keep
/// their `file:line:` prefix), without backtraces or wrapper prefixes.
pub(crate) fn engine_message(e: &DataFusionError) -> String {
    let root = e.find_root();
    let text = match root {
        DataFusionError::External(inner) => inner.to_string(),
        other => other.strip_backtrace(),
    };
    text.lines().next().unwrap_or("").trim().to_string()
}

/// How many memory consumers a "Resources exhausted" error names (a
/// constant: `new(5)` is checked when compiling, never at run time).
const TOP_MEMORY_CONSUMERS: std::num::NonZeroUsize = std::num::NonZeroUsize::new(5).unwrap();

/// A DataFusion session with pdq's functions and settings: case-sensitive
/// identifiers (column names are used as written, Chinese included), a memory
/// limit with spilling, and joins that broadcast the small side.
pub fn session(opts: &CheckOptions) -> Result<SessionContext, DataFusionError> {
    let (config, runtime) = session_parts(opts)?;
    let ctx = SessionContext::new_with_config_rt(config, runtime);
    quality_rules::udfs::register_all(&ctx);
    Ok(ctx)
}

/// The settings and runtime (memory pool) of pdq's sessions, embedded or
/// distributed.
fn session_parts(
    opts: &CheckOptions,
) -> Result<
    (
        SessionConfig,
        Arc<datafusion::execution::runtime_env::RuntimeEnv>,
    ),
    DataFusionError,
> {
    let partitions = opts.target_partitions.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let config = SessionConfig::new()
        .with_target_partitions(partitions)
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false)
        // Reference values and duplicate keys are the small side of their
        // joins: build them once and stream the dataset past them, rather
        // than hash-repartitioning every column of the dataset.
        .set_bool("datafusion.optimizer.repartition_joins", false)
        // The one sort (of candidate duplicate rows) runs as one sorter
        // after the partitions are merged: one consumer with all the
        // memory spills less than one per partition plus a merge.
        .set_bool("datafusion.optimizer.repartition_sorts", false)
        // A sort keeps this much back for merging its spilled runs (10 MiB
        // by default): a share of a small limit, so that it can spill at all.
        .set_usize(
            "datafusion.execution.sort_spill_reservation_bytes",
            (opts.memory_limit / 8).clamp(64 << 10, 10 << 20),
        )
        // Under a small limit, smaller batches: a sort must hold a batch
        // (and its sorted copy) before it can spill it. 8,192 rows from
        // 16 MiB up.
        .with_batch_size((opts.memory_limit / 2048).clamp(256, 8192));
    // Fair shares for the operators that can spill (sorts, the `unique`
    // hash collectors of each partition), so that one partition cannot
    // take the memory another needs to make progress.
    let pool = datafusion::execution::memory_pool::TrackConsumersPool::new(
        datafusion::execution::memory_pool::FairSpillPool::new(opts.memory_limit),
        TOP_MEMORY_CONSUMERS,
    );
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .build_arc()?;
    Ok((config, runtime))
}

/// The session a check runs in, and how its plans read a dataset: the
/// dataset's own table in process, or, on Ballista, a staged Parquet copy
/// the executors read (`distributed`).
struct Runner {
    ctx: SessionContext,
    #[cfg(feature = "ballista")]
    staging: Option<distributed::Staging>,
    /// The stall limit on the cluster's jobs.
    #[cfg(feature = "ballista")]
    watch: Option<distributed::Watch>,
}

impl Runner {
    async fn new(opts: &CheckOptions) -> Result<Runner, DataFusionError> {
        match &opts.engine {
            Engine::Embedded => Ok(Runner {
                ctx: session(opts)?,
                #[cfg(feature = "ballista")]
                staging: None,
                #[cfg(feature = "ballista")]
                watch: None,
            }),
            #[cfg(feature = "ballista")]
            Engine::Ballista {
                scheduler,
                staging,
                stall_timeout_secs,
            } => {
                let (config, runtime) = session_parts(opts)?;
                let ctx = distributed::session(config, runtime, scheduler).await?;
                let staging = distributed::Staging::new(staging.as_deref(), session(opts)?)?;
                Ok(Runner {
                    ctx,
                    staging: Some(staging),
                    watch: Some(distributed::Watch {
                        scheduler: scheduler.clone(),
                        stall_timeout_secs: *stall_timeout_secs,
                    }),
                })
            }
            #[cfg(not(feature = "ballista"))]
            Engine::Ballista { .. } => {
                Err(DataFusionError::External(Box::new(EngineError::NotBuilt)))
            }
        }
    }

    /// Whether the plans run on a Ballista cluster.
    fn distributed(&self) -> bool {
        #[cfg(feature = "ballista")]
        {
            self.staging.is_some()
        }
        #[cfg(not(feature = "ballista"))]
        {
            false
        }
    }

    /// The dataset as a table of this session (data, file and row columns).
    async fn read(&self, dataset: &FileDataset) -> Result<DataFrame, DataFusionError> {
        #[cfg(feature = "ballista")]
        if let Some(staging) = &self.staging {
            return staging.read(&self.ctx, dataset).await;
        }
        self.ctx.read_table(dataset.table_provider())
    }

    /// `df`'s result, one stream per partition; on the cluster, with the
    /// stall limit on its job.
    async fn streams(
        &self,
        df: DataFrame,
    ) -> Result<Vec<SendableRecordBatchStream>, DataFusionError> {
        #[cfg(feature = "ballista")]
        if let Some(watch) = &self.watch {
            return distributed::execute_watched(df, watch, false).await;
        }
        df.execute_stream_partitioned().await
    }

    /// `df`'s result in one stream; on the cluster, with the stall limit
    /// on its job.
    #[cfg(feature = "ballista")]
    async fn stream(&self, df: DataFrame) -> Result<SendableRecordBatchStream, DataFusionError> {
        #[cfg(feature = "ballista")]
        if let Some(watch) = &self.watch {
            return distributed::execute_watched(df, watch, true)
                .await?
                .pop()
                .ok_or_else(|| DataFusionError::Internal("a plan without a stream".into()));
        }
        df.execute_stream().await
    }
}

/// Opens the files of a dataset and checks them against a rule file.
///
/// A large CSV is read once, typed from its first records
/// ([`Inference::SAMPLED`]); if a later value contradicts those types (or
/// the encoding found in them), the check is run again with types inferred
/// from every value, so the results never depend on the sample.
pub async fn check_paths(
    paths: &[PathBuf],
    rules: &RuleFile,
    opts: &CheckOptions,
) -> Result<CheckReport, CheckError> {
    let started = Instant::now();
    let read = ReadOptions {
        time_zone: opts.time_zone,
        inference: Inference::SAMPLED,
        ..opts.read.clone()
    };
    let dataset = open_dataset(paths, rules, read.clone()).await?;
    match check_dataset(&dataset, rules, opts, started).await {
        Err(e) => match dataset.contradiction() {
            Some(why) => {
                tracing::info!(
                    dataset = %rules.spec.dataset,
                    "{why}: reading the files again with types inferred from every value"
                );
                drop(dataset);
                let exact = ReadOptions {
                    inference: Inference::Exact,
                    ..read
                };
                let dataset = open_dataset(paths, rules, exact).await?;
                check_dataset(&dataset, rules, opts, started).await
            }
            None => Err(e),
        },
        ok => ok,
    }
}

/// Opens a dataset's files on the blocking pool.
async fn open_dataset(
    paths: &[PathBuf],
    rules: &RuleFile,
    read: ReadOptions,
) -> Result<FileDataset, CheckError> {
    let owned = paths.to_vec();
    Ok(
        tokio::task::spawn_blocking(move || FileDataset::open(&owned, &read))
            .await
            .map_err(|e| CheckError::Engine {
                dataset: rules.spec.dataset.clone(),
                message: format!("reading the files failed: {e}"),
            })??,
    )
}

/// Checks an opened dataset against a rule file.
pub async fn check_dataset(
    dataset: &FileDataset,
    rules: &RuleFile,
    opts: &CheckOptions,
    started: Instant,
) -> Result<CheckReport, CheckError> {
    let name = rules.spec.dataset.clone();
    let engine = |e: DataFusionError| CheckError::Engine {
        dataset: name.clone(),
        message: engine_message(&e),
    };
    let runner = Runner::new(opts).await.map_err(engine)?;
    let ctx = &runner.ctx;
    let schema = DFSchema::try_from(dataset.schema().as_ref().clone()).map_err(engine)?;
    let state = ctx.state();
    let base_dir = rules.base_dir();
    let cx = CompileContext {
        schema: &schema,
        state: &state,
        missing_values: &rules.spec.missing_values,
        as_of: opts.as_of,
        base_dir: &base_dir,
    };
    let compiled = rules::compile(rules, &cx)?;
    for k in &rules.spec.key {
        if !schema.fields().iter().any(|f| f.name() == k) {
            return Err(RuleError::Invalid {
                path: rules.path.clone(),
                line: 0,
                rule: None,
                message: format!("`key` names unknown column `{k}`"),
            }
            .into());
        }
    }
    let files: Vec<String> = dataset.files().iter().map(|f| f.display.clone()).collect();

    let writer = match &opts.failed_rows_dir {
        Some(dir) => Some(Arc::new(Mutex::new(FailedRowsWriter::create(dir, &name)?))),
        None => None,
    };

    // ---- the one scan -----------------------------------------------------
    let mut df = runner.read(dataset).await.map_err(engine)?;
    let mut projection: Vec<Expr> = vec![col(FILE_COLUMN), col(ROW_COLUMN)];
    let mut layout = Layout::new(opts.sample_limit, files.clone(), opts.time_zone);
    let mut hashes: Vec<Expr> = vec![];
    for (i, rule) in compiled.iter().enumerate() {
        match &rule.plan {
            Plan::Row {
                outcome,
                sample_columns,
            } => {
                layout.add_outcome(i, rule, SlotKind::Row, sample_columns.clone());
                projection.push(outcome.clone().alias(format!("__pdq_o{i}")));
            }
            Plan::Unique { evaluated, columns } => {
                let hash_name = layout.add_unique(i, rule);
                projection.push(evaluated.clone().alias(format!("__pdq_o{i}")));
                // On Ballista, duplicates are grouped by their real key on
                // the cluster (`duplicates_grouped`), not collected here.
                if !runner.distributed() {
                    hashes.push(key_hash(ctx, columns).map_err(engine)?.alias(hash_name));
                }
            }
            Plan::Reference {
                column,
                value,
                missing,
                data,
                reference_column,
            } => {
                let key = format!("__pdq_ref{i}");
                let reference =
                    reference_values(&runner, rules, rule, data, reference_column, &key, opts)
                        .await?;
                // Build side (left) = the reference's distinct values.
                df = reference
                    .join_on(
                        df,
                        JoinType::Right,
                        [cast(value.clone(), DataType::Utf8).eq(col(&key))],
                    )
                    .map_err(engine)?;
                let outcome = when(missing.clone(), lit(ScalarValue::Boolean(None)))
                    .otherwise(col(&key).is_null())
                    .map_err(engine)?;
                layout.add_outcome(i, rule, SlotKind::Row, vec![column.clone()]);
                projection.push(outcome.alias(format!("__pdq_o{i}")));
            }
            Plan::Freshness { column, .. } => {
                layout.add_freshness(i, column);
            }
            Plan::RowCount { .. } => {}
        }
    }
    let mut extra: Vec<String> = layout.value_columns();
    extra.extend(rules.spec.key.iter().cloned());
    extra.sort();
    extra.dedup();
    for c in &extra {
        projection.push(Expr::Column(datafusion::common::Column::new_unqualified(c)));
    }
    projection.extend(hashes);
    layout.bind(&extra, &rules.spec.key);
    let df = df.select(projection).map_err(engine)?;
    let streams = runner.streams(df).await.map_err(engine)?;
    let layout = Arc::new(layout);
    let runtime = ctx.runtime_env();
    let mut tasks = tokio::task::JoinSet::new();
    let collect_keys = !runner.distributed();
    for mut stream in streams {
        let layout = Arc::clone(&layout);
        let writer = writer.clone();
        let keys = layout
            .unique()
            .iter()
            .filter(|_| collect_keys)
            .map(|u| {
                KeyHashes::new(
                    compiled[u.rule].id(),
                    &runtime.memory_pool,
                    &runtime.disk_manager,
                )
            })
            .collect();
        tasks.spawn(async move {
            let mut acc = Accumulator::with_keys(&layout, keys);
            while let Some(batch) = stream.next().await {
                acc.add(&batch?, &layout, writer.as_deref())?;
            }
            acc.finish_keys();
            Ok::<_, DataFusionError>(acc)
        });
    }
    let mut total = Accumulator::new(&layout);
    while let Some(joined) = tasks.join_next().await {
        let acc = joined
            .map_err(|e| DataFusionError::Execution(format!("a scan task failed: {e}")))
            .and_then(|r| r)
            .map_err(engine)?;
        total.merge(acc, &layout);
    }

    // ---- unique: confirm the repeated key hashes ---------------------------
    for (j, u) in layout.unique().iter().enumerate() {
        let rule = &compiled[u.rule];
        let Plan::Unique { columns, evaluated } = &rule.plan else {
            continue;
        };
        #[cfg(feature = "ballista")]
        if runner.distributed() {
            let (failed, samples) = duplicates_grouped(
                &runner,
                dataset,
                rule,
                columns,
                evaluated,
                &layout,
                writer.as_deref(),
            )
            .await
            .map_err(engine)?;
            total.set_failures(u.rule, failed, samples);
            continue;
        }
        let runs = std::mem::take(&mut total.key_runs[j]);
        // The candidate hashes stay in memory while the rows are read again:
        // reserved, and at most a quarter of the limit (the sort that
        // confirms them needs the rest).
        let pool = &ctx.runtime_env().memory_pool;
        let reservation =
            MemoryConsumer::new(format!("pdq unique `{}` candidates", rule.id())).register(pool);
        let cap = match pool.memory_limit() {
            MemoryLimit::Finite(limit) => limit / 4,
            MemoryLimit::Infinite | MemoryLimit::Unknown => usize::MAX,
        };
        let mut candidates = key_hashes::repeated(&runs, cap).map_err(engine)?;
        tracing::debug!(
            rule = rule.id(),
            spilled_runs = runs.spilled(),
            candidates = ?match &candidates {
                Repeated::Hashes { hashes, .. } => Some(hashes.len()),
                Repeated::TooMany => None,
            },
            "unique: key hashes merged"
        );
        drop(runs);
        if let Repeated::Hashes { hashes, .. } = &candidates
            && reservation
                .try_grow(key_hashes::HashIn::memory_size(hashes.len()))
                .is_err()
        {
            candidates = Repeated::TooMany;
        }
        let (failed, samples) = duplicates(
            &runner,
            dataset,
            rule,
            columns,
            evaluated,
            candidates,
            &layout,
            writer.as_deref(),
        )
        .await
        .map_err(engine)?;
        drop(reservation); // the candidates are gone with the query
        total.set_failures(u.rule, failed, samples);
    }

    if let Some(w) = writer {
        let w = Arc::try_unwrap(w)
            .map_err(|_| CheckError::Engine {
                dataset: name.clone(),
                message: "failed-rows writer still in use".into(),
            })?
            .into_inner()
            .map_err(|_| CheckError::Engine {
                dataset: name.clone(),
                message: "failed-rows writer poisoned".into(),
            })?;
        w.finish()?;
    }

    let results = compiled
        .iter()
        .enumerate()
        .map(|(i, rule)| result_of(i, rule, &total, &layout, opts))
        .collect();
    Ok(CheckReport {
        dataset: name,
        rows: total.rows,
        as_of: opts.as_of,
        results,
        elapsed_ms: started.elapsed().as_millis() as u64,
        rules_version: rules.version.clone(),
        files,
    })
}

/// The distinct non-NULL values of a reference column, as text, in a column named `key`.
async fn reference_values(
    runner: &Runner,
    rules: &RuleFile,
    rule: &CompiledRule,
    data: &Path,
    reference_column: &str,
    key: &str,
    opts: &CheckOptions,
) -> Result<DataFrame, CheckError> {
    let err = |message: String| CheckError::Reference {
        rules: rules.path.clone(),
        line: rule.line,
        rule: rule.id().to_string(),
        data: data.to_path_buf(),
        message,
    };
    let read = ReadOptions {
        time_zone: opts.time_zone,
        ..ReadOptions::default()
    };
    let path = data.to_path_buf();
    let reference = tokio::task::spawn_blocking(move || FileDataset::open(&[path], &read))
        .await
        .map_err(|e| err(e.to_string()))?
        .map_err(|e| err(e.to_string()))?;
    if reference
        .schema()
        .field_with_name(reference_column)
        .is_err()
    {
        let names: Vec<String> = reference
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        return Err(err(format!(
            "has no column `{reference_column}`; its columns are: {}",
            names.join(", ")
        )));
    }
    let c = Expr::Column(datafusion::common::Column::new_unqualified(
        reference_column,
    ));
    runner
        .read(&reference)
        .await
        .and_then(|df| df.select(vec![cast(c, DataType::Utf8).alias(key)]))
        .and_then(|df| df.filter(col(key).is_not_null()))
        .and_then(|df| df.distinct())
        .map_err(|e| err(engine_message(&e)))
}

/// `pdq_key_hash(columns…)`: the 64-bit hash of a `unique` rule's key.
fn key_hash(ctx: &SessionContext, columns: &[String]) -> Result<Expr, DataFusionError> {
    use datafusion::execution::FunctionRegistry;
    let keys: Vec<Expr> = columns
        .iter()
        .map(|c| Expr::Column(datafusion::common::Column::new_unqualified(c)))
        .collect();
    Ok(ctx.udf("pdq_key_hash")?.call(keys))
}

/// Finds the rows of a `unique` rule whose key occurs two or more times:
/// returns their number (every copy counts), the first samples in file order,
/// and writes every such row to the failed-rows file (grouped by key).
///
/// `candidates` are the key codes the scan saw two or more times
/// (`key_hashes::repeated`).
///
/// - When every candidate is an exact code (`quality_rules::udfs::is_exact`)
///   and no failed rows are written, the count is already known (the rows
///   of those codes); only the first samples are needed, so the rows with
///   those codes are read in (file, row) order until there are enough.
/// - Otherwise the rows with those codes are read again, sorted by their
///   real keys (a sort that spills to disk under `--memory-limit`) and
///   walked in order, so a hash collision can never make a false duplicate
///   and memory does not grow with the number of duplicates. When the
///   candidate set itself does not fit the memory limit, every evaluated
///   row is sorted instead.
#[allow(clippy::too_many_arguments)]
async fn duplicates(
    runner: &Runner,
    dataset: &FileDataset,
    rule: &CompiledRule,
    columns: &[String],
    evaluated: &Expr,
    candidates: Repeated,
    layout: &Layout,
    writer: Option<&Mutex<FailedRowsWriter>>,
) -> Result<(u64, Vec<Sample>), DataFusionError> {
    use datafusion::arrow::row::{RowConverter, SortField};
    let ctx = &runner.ctx;
    let keys: Vec<Expr> = columns
        .iter()
        .map(|c| Expr::Column(datafusion::common::Column::new_unqualified(c)))
        .collect();
    let is_evaluated = evaluated.clone().is_not_null();
    let mut select = vec![col(FILE_COLUMN), col(ROW_COLUMN)];
    select.extend(keys.clone());
    let (keep, exact_rows) = match candidates {
        Repeated::Hashes { hashes, .. } if hashes.is_empty() => return Ok((0, vec![])),
        // The code test first: the evaluation (cleaning the key) then runs
        // only on the rows whose code is a candidate.
        Repeated::Hashes { hashes, exact_rows } => {
            let all_exact = hashes.iter().all(|h| quality_rules::udfs::is_exact(*h));
            let hash_in =
                datafusion::logical_expr::ScalarUDF::new_from_impl(key_hashes::HashIn::new(hashes));
            let keep = hash_in
                .call(vec![key_hash(ctx, columns)?])
                .and(is_evaluated);
            (keep, (all_exact && writer.is_none()).then_some(exact_rows))
        }
        Repeated::TooMany => {
            tracing::debug!(
                rule = rule.id(),
                "unique: candidate hashes exceed a quarter of the memory limit; sorting every evaluated row"
            );
            (is_evaluated, None)
        }
    };
    let rows = runner.read(dataset).await?.filter(keep)?;

    if let Some(failed) = exact_rows {
        // Every partition yields its rows in (file, row) order, so the
        // merge of their first rows stops after `sample_limit` of them.
        let mut stream = rows
            .select(select)?
            .sort(vec![
                col(FILE_COLUMN).sort(true, true),
                col(ROW_COLUMN).sort(true, true),
            ])?
            .limit(0, Some(layout.sample_limit))?
            .execute_stream()
            .await?;
        let mut samples = sink::UniqueSamples::default();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            for i in 0..batch.num_rows() {
                sink::unique_row(&batch, i, rule, columns, layout, &mut samples, None)?;
            }
        }
        return Ok((failed, samples.into_samples()));
    }

    let mut order: Vec<_> = keys.iter().map(|k| k.clone().sort(true, true)).collect();
    order.push(col(FILE_COLUMN).sort(true, true));
    order.push(col(ROW_COLUMN).sort(true, true));
    let mut stream = rows.select(select)?.sort(order)?.execute_stream().await?;

    // Walk the sorted rows: a row whose key equals the previous row's is a
    // duplicate, and so is that previous row (recorded once per group).
    let mut converter: Option<RowConverter> = None;
    let mut previous: Option<(
        datafusion::arrow::row::OwnedRow,
        datafusion::arrow::record_batch::RecordBatch,
        usize,
        bool,
    )> = None;
    let mut failed = 0u64;
    let mut samples = sink::UniqueSamples::default();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let key_columns: Vec<_> = (2..2 + columns.len())
            .map(|c| Arc::clone(batch.column(c)))
            .collect();
        let converter = match &mut converter {
            Some(c) => c,
            None => converter.insert(RowConverter::new(
                key_columns
                    .iter()
                    .map(|a| SortField::new(a.data_type().clone()))
                    .collect(),
            )?),
        };
        let converted = converter.convert_columns(&key_columns)?;
        for i in 0..batch.num_rows() {
            let key = converted.row(i);
            match &mut previous {
                Some((prev_key, prev_batch, prev_i, recorded)) if prev_key.row() == key => {
                    if !*recorded {
                        sink::unique_row(
                            prev_batch,
                            *prev_i,
                            rule,
                            columns,
                            layout,
                            &mut samples,
                            writer,
                        )?;
                        failed += 1;
                        *recorded = true;
                    }
                    sink::unique_row(&batch, i, rule, columns, layout, &mut samples, writer)?;
                    failed += 1;
                    *prev_batch = batch.clone();
                    *prev_i = i;
                }
                _ => previous = Some((key.owned(), batch.clone(), i, false)),
            }
        }
    }
    Ok((failed, samples.into_samples()))
}

/// `unique` on a Ballista cluster: the evaluated rows are grouped by their
/// real key (a hash-partitioned aggregate on the executors, exact: no key
/// codes); the keys seen two or more times are joined back to their rows.
/// Returns the same as [`duplicates`]: every copy counted, the first
/// samples in file order, every such row written to the failed-rows file
/// in key order.
#[cfg(feature = "ballista")]
async fn duplicates_grouped(
    runner: &Runner,
    dataset: &FileDataset,
    rule: &CompiledRule,
    columns: &[String],
    evaluated: &Expr,
    layout: &Layout,
    writer: Option<&Mutex<FailedRowsWriter>>,
) -> Result<(u64, Vec<Sample>), DataFusionError> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;
    use datafusion::functions_aggregate::expr_fn::{count, sum};
    const COPIES: &str = "__pdq_copies";
    let keys: Vec<Expr> = columns
        .iter()
        .map(|c| Expr::Column(datafusion::common::Column::new_unqualified(c)))
        .collect();
    let key_names: Vec<String> = (0..columns.len()).map(|k| format!("__pdq_k{k}")).collect();
    let rows = runner
        .read(dataset)
        .await?
        .filter(evaluated.clone().is_not_null())?;
    let mut renamed: Vec<Expr> = keys
        .iter()
        .zip(&key_names)
        .map(|(k, n)| k.clone().alias(n))
        .collect();
    renamed.push(col(COPIES));
    let repeated = rows
        .clone()
        .aggregate(keys.clone(), vec![count(lit(1i64)).alias(COPIES)])?
        .filter(col(COPIES).gt_eq(lit(2i64)))?
        .select(renamed)?;
    let mut failed = 0u64;
    let mut sums = runner
        .stream(
            repeated
                .clone()
                .aggregate(vec![], vec![sum(col(COPIES)).alias(COPIES)])?,
        )
        .await?;
    while let Some(batch) = sums.next().await {
        let batch = batch?;
        let copies = batch.column(0).as_primitive::<Int64Type>();
        for i in 0..copies.len() {
            if copies.is_valid(i) {
                failed += u64::try_from(copies.value(i)).unwrap_or(0);
            }
        }
    }
    if failed == 0 {
        return Ok((0, vec![]));
    }
    let mut select = vec![col(FILE_COLUMN), col(ROW_COLUMN)];
    select.extend(keys.clone());
    let left: Vec<&str> = columns.iter().map(String::as_str).collect();
    let right: Vec<&str> = key_names.iter().map(String::as_str).collect();
    let copies = rows.select(select)?.join(
        repeated.select(
            key_names
                .iter()
                .map(|n| col(n.as_str()))
                .collect::<Vec<_>>(),
        )?,
        JoinType::LeftSemi,
        &left,
        &right,
        None,
    )?;
    let by_location = vec![
        col(FILE_COLUMN).sort(true, true),
        col(ROW_COLUMN).sort(true, true),
    ];
    let ordered = match writer {
        // Only the first samples: the first rows in file order.
        None => copies
            .sort(by_location)?
            .limit(0, Some(layout.sample_limit))?,
        // Every copy, grouped by key as the embedded engine writes them.
        Some(_) => {
            let mut order: Vec<_> = keys.iter().map(|k| k.clone().sort(true, true)).collect();
            order.extend(by_location);
            copies.sort(order)?
        }
    };
    let mut stream = runner.stream(ordered).await?;
    let mut samples = sink::UniqueSamples::default();
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        for i in 0..batch.num_rows() {
            sink::unique_row(&batch, i, rule, columns, layout, &mut samples, writer)?;
        }
    }
    Ok((failed, samples.into_samples()))
}

fn result_of(
    i: usize,
    rule: &CompiledRule,
    total: &Accumulator,
    layout: &Layout,
    opts: &CheckOptions,
) -> RuleResult {
    let spec = &rule.spec;
    let (evaluated, failed, samples, detail) = match &rule.plan {
        Plan::Row { .. } | Plan::Unique { .. } | Plan::Reference { .. } => {
            let slot = total.slot(i);
            (slot.evaluated, slot.failed, layout.samples_of(slot), None)
        }
        Plan::RowCount { min, max } => {
            let rows = total.rows;
            let out = min.is_some_and(|m| rows < m) || max.is_some_and(|m| rows > m);
            let bounds = match (min, max) {
                (Some(a), Some(b)) => format!("{a}..={b}"),
                (Some(a), None) => format!(">= {a}"),
                (None, Some(b)) => format!("<= {b}"),
                (None, None) => String::new(),
            };
            (
                1,
                u64::from(out),
                vec![],
                Some(format!("{rows} rows (expected {bounds})")),
            )
        }
        Plan::Freshness {
            max_age,
            max_age_text,
            ..
        } => {
            let newest = total.newest(i);
            let (failed, detail) = match newest {
                None => (1, "the column has no usable value".to_string()),
                Some(t) => {
                    let age = opts.as_of.with_timezone(&chrono::Utc) - t;
                    let local = t.with_timezone(&opts.time_zone);
                    let stale = age > *max_age;
                    (
                        u64::from(stale),
                        format!(
                            "newest value {} is {} old (max {max_age_text})",
                            local.format("%Y-%m-%d %H:%M:%S %:z"),
                            human_age(age)
                        ),
                    )
                }
            };
            (1, failed, vec![], Some(detail))
        }
    };
    let rate = pass_rate(evaluated, failed);
    let scope = if matches!(rule.plan, Plan::RowCount { .. } | Plan::Freshness { .. }) {
        Scope::Dataset
    } else {
        rule.scope
    };
    let (column, columns) = match &rule.plan {
        Plan::Unique { columns, .. } => (None, Some(columns.clone())),
        _ => (spec.column.clone(), None),
    };
    RuleResult {
        id: spec.id.clone(),
        dimension: spec.dimension,
        check: rule.kind,
        column,
        columns,
        evaluated,
        failed,
        pass_rate: RuleResult::publish_rate(rate),
        status: rule.thresholds.status(rate, scope),
        samples,
        detail,
    }
}

fn human_age(d: chrono::Duration) -> String {
    let secs = d.num_seconds();
    if secs < 0 {
        return format!("-{}", human_age(-d));
    }
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (hours, rem) = (rem / 3600, rem % 3600);
    let minutes = rem / 60;
    match (days, hours, minutes) {
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h{m}m"),
        (d, h, _) => format!("{d}d{h}h"),
    }
}

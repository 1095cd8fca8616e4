//! Command-line arguments. Each flag is defined once here, its doc comment
//! is its help, and a parse test sits beside the definitions.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod catalog;
mod objection;
mod usage;
pub use catalog::{CatalogAction, CatalogArgs, ChangeAction, ReviewAction, WithdrawalAction};
pub use objection::{ObjectionAction, ObjectionArgs};
pub use usage::{UsageAction, UsageArgs};

/// pdq (public data quality): data-quality checks, catalog harvesting and
/// scorecards for a public-data bureau. 公共数据质量检查。
#[derive(Debug, Parser)]
#[command(name = "pdq", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// More log output on stderr from pdq itself (-v info, -vv debug; -vvv
    /// debug from the libraries too). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

// Parsed once per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one rule file over one dataset and print the results. 对一个数据集运行规则文件。
    Check(CheckArgs),
    /// Create the example bureau, check every dataset and write a summary. 生成示例数据局并检查。
    Demo(DemoArgs),
    /// List the rule types, or explain one. 规则类型说明。
    Rules(RulesArgs),
    /// Harvest the departments' catalogs, check and reconcile them, publish the refreshed catalog. 目录采集与核验。
    Harvest(HarvestArgs),
    /// Land every waiting delivery of the workspace's datasets into the lake. 数据汇聚入湖。
    Ingest(IngestArgs),
    /// Create a bureau workspace (pdq.toml and folders). 创建工作区。
    Init(InitArgs),
    /// Run every stage for every dataset due: land, check, publish. 运行一次全量作业。
    Sweep(SweepArgs),
    /// Rebuild the published results from the lake alone (the latest run, or one run). 从数据湖重新发布。
    Publish(PublishArgs),
    /// Delete the lake's files no version within `[retention] lake_days` needs (replaced deliveries, writes that died); every sweep ends with this. 清理数据湖旧文件。
    Vacuum(VacuumArgs),
    /// Run sweeps on the configured schedule until stopped. 按计划定时运行。
    Daemon(DaemonArgs),
    /// List runs, or show one run's steps. 运行记录。
    Runs(RunsArgs),
    /// Verify, show, prune, anchor or seal the audit log; create its key. 审计日志。
    Audit(AuditArgs),
    /// Serve the scorecard site and its JSON API, with sign-in. 记分卡网站服务。
    Serve(ServeArgs),
    /// Issue a sign-in token for a department or the bureau. 发放登录令牌。
    Token(TokenArgs),
    /// The annual evaluation for assessors, from stored counts. 年度评估。
    Evaluate(EvaluateArgs),
    /// Correct one stored count by hand (recorded and audited). 更正检查计数。
    Correct(CorrectArgs),
    /// Run a Ballista scheduler with pdq's functions (`--engine ballista`). 分布式调度器。
    #[cfg(feature = "ballista")]
    Scheduler(SchedulerArgs),
    /// Run a Ballista executor with pdq's functions, attached to a scheduler. 分布式执行器。
    #[cfg(feature = "ballista")]
    Executor(ExecutorArgs),
    /// One data, one source: resolve subjects across departments, golden records, conflicts, duplicate collection. 一数一源。
    Onesource(OneSourceArgs),
    /// The working-day calendar: show the years it covers, import a year's holiday notice. 节假日日历。
    Calendar(CalendarArgs),
    /// The jurisdiction profiles: list them with their status, or show one with every value and the article it comes from. 法规配置。
    Profile(ProfileArgs),
    /// Objections to data or catalog entries (异议/校核): file, forward, answer, correct, check, close, with their deadlines. 异议与校核。
    Objection(ObjectionArgs),
    /// The catalog's recorded changes of law or function (目录更新事由), which start its update deadline. 目录管理。
    Catalog(CatalogArgs),
    /// The sharing platform's usage log (共享/使用日志): import its exports, list them, check them against the profile. 使用日志。
    Usage(UsageArgs),
}

/// Arguments of `pdq profile`.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(subcommand)]
    pub action: ProfileAction,
}

/// What `pdq profile` does.
#[derive(Debug, Subcommand)]
pub enum ProfileAction {
    /// Every profile: id, jurisdiction and status (in force, trial until, lapsed since, draft). 列出。
    List {
        /// The date the status is for (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<String>,
        /// Output: table (default) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
    /// One profile: every value, requirement and deadline with its article and the text's words. 详情。
    Show {
        /// The profile id.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(pipeline::profile::ids()))]
        name: String,
        /// The date the status is for (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<String>,
        /// Output: table (default) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
        /// A workspace whose authority.toml applies: the effective 一数一源
        /// registry is shown, each item with its origin (the text or the file).
        #[arg(short = 'w', long = "workspace", value_name = "DIR")]
        workspace: Option<PathBuf>,
    },
}

/// Arguments of `pdq calendar`.
#[derive(Debug, Args)]
pub struct CalendarArgs {
    #[command(subcommand)]
    pub action: CalendarAction,
}

/// What `pdq calendar` does.
#[derive(Debug, Subcommand)]
pub enum CalendarAction {
    /// The years covered by official notices, and from when deadlines are provisional. 覆盖年度。
    Show {
        #[command(flatten)]
        workspace: WorkspaceArg,
    },
    /// Import a year's State Council holiday notice (CSV `date,kind,festival`; kind = holiday or workday) into the workspace; provisional deadlines in that year are recomputed by the next sweep. 导入放假安排。
    Import {
        /// The notice as CSV: one line per holiday or make-up working day.
        file: PathBuf,
        #[command(flatten)]
        workspace: WorkspaceArg,
    },
}

/// Arguments of `pdq onesource`.
#[derive(Debug, Args)]
pub struct OneSourceArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Identifiers are validated as of this date (default: today).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub as_of: Option<String>,
    /// Catalog declarations, CSV `department,item_name`, checked for duplicate collection.
    #[arg(long, value_name = "FILE")]
    pub declarations: Option<PathBuf>,
    /// Output: table (default on a terminal) or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
    pub format: Option<String>,
}

/// Arguments of `pdq evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// The year.
    #[arg(long, value_name = "YYYY")]
    pub year: i32,
    /// Only counts up to this time (default: the year's end).
    #[arg(long, value_name = "DATETIME")]
    pub as_of: Option<String>,
    /// Output: table (default on a terminal) or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
    pub format: Option<String>,
}

/// Arguments of `pdq correct`.
#[derive(Debug, Args)]
pub struct CorrectArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// The run whose count is corrected.
    #[arg(long, value_name = "RUN")]
    pub run: String,
    /// The dataset (`department.name`).
    #[arg(long, value_name = "NAME")]
    pub dataset: String,
    /// The rule id.
    #[arg(long, value_name = "ID")]
    pub rule: String,
    /// The corrected evaluated count.
    #[arg(long, value_name = "N")]
    pub evaluated: i64,
    /// The corrected failed count.
    #[arg(long, value_name = "N")]
    pub failed: i64,
    /// Why (kept with the correction and in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

/// Arguments of `pdq serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
}

/// Arguments of `pdq token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// The department the token signs in as.
    #[arg(
        long,
        value_name = "CODE",
        conflicts_with = "bureau",
        required_unless_present = "bureau"
    )]
    pub department: Option<String>,
    /// A token for the bureau's data team (sees everything).
    #[arg(long)]
    pub bureau: bool,
    /// Who holds it (for the bureau's records).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// Arguments of `pdq init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The directory to create (must be empty or absent).
    pub dir: PathBuf,
    /// The jurisdiction profile the bureau works under (`pdq profile list`); asked for on a terminal.
    #[arg(long, value_name = "ID", value_parser = clap::builder::PossibleValuesParser::new(pipeline::profile::ids()))]
    pub profile: Option<String>,
}

/// Arguments of `pdq sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Only these datasets (`department.name`, or a department); repeatable.
    #[arg(long, value_name = "NAME")]
    pub dataset: Vec<String>,
    /// The as-of time (RFC 3339, or `YYYY-MM-DD[ HH:MM:SS]` in the bureau's zone); default: now.
    #[arg(long, value_name = "DATETIME")]
    pub as_of: Option<String>,
    /// Output: table (default on a terminal) or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
    pub format: Option<String>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Which engine runs the checks (issue #22).
#[derive(Debug, Args, Clone, Default)]
pub struct EngineArgs {
    /// The engine that runs the checks: `embedded` (in this process) or
    /// `ballista` (a Ballista cluster; needs a pdq built with the `ballista`
    /// feature). Default: `[engine] kind` in pdq.toml, else embedded.
    #[arg(long, value_name = "ENGINE", value_parser = ["embedded", "ballista"])]
    pub engine: Option<String>,
    /// The Ballista scheduler, `df://host:50050` (`standalone`: one in this
    /// process). Default: `[engine] scheduler` in pdq.toml.
    #[arg(long, value_name = "URL", env = "PDQ_BALLISTA_SCHEDULER")]
    pub scheduler: Option<String>,
    /// With `--engine ballista`: seconds a cluster job may make no progress
    /// (no task started or finished, no stage changed, no result arrived)
    /// before it is cancelled and the run fails. Default: `[engine]
    /// stall_timeout_secs` in pdq.toml, else 300.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    pub stall_timeout_secs: Option<u64>,
}

/// Arguments of `pdq scheduler`.
#[cfg(feature = "ballista")]
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// The address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:50050")]
    pub bind: std::net::SocketAddr,
    /// The host name executors and clients reach this scheduler by.
    #[arg(long, value_name = "HOST", default_value = "localhost")]
    pub external_host: String,
    /// Seconds without a heartbeat after which an executor is dead: its
    /// tasks and shuffle output are run again on the others, or the job
    /// fails. Must exceed the executors' --heartbeat-secs (Ballista's own
    /// default is 180).
    #[arg(long, value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(2..))]
    pub executor_timeout_secs: u64,
    /// How often to look for dead executors, in seconds (less than
    /// --executor-timeout-secs).
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub dead_executor_check_secs: u64,
}

/// Arguments of `pdq executor`.
#[cfg(feature = "ballista")]
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler, `df://host:50050`.
    #[arg(long, value_name = "URL", env = "PDQ_BALLISTA_SCHEDULER")]
    pub scheduler: String,
    /// The host to listen on.
    #[arg(long, value_name = "HOST", default_value = "127.0.0.1")]
    pub bind_host: String,
    /// The host name the scheduler and the other executors reach this one by (default: --bind-host).
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
    /// The Arrow Flight port (shuffle data).
    #[arg(long, value_name = "PORT", default_value_t = 50051)]
    pub port: u16,
    /// The gRPC port (tasks).
    #[arg(long, value_name = "PORT", default_value_t = 50052)]
    pub grpc_port: u16,
    /// Tasks run at once; default: the number of cores.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub concurrent_tasks: usize,
    /// Where shuffle files go; default: a temporary directory.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
    /// Seconds between heartbeats to the scheduler; keep it well under the
    /// scheduler's --executor-timeout-secs (Ballista's own default is 60).
    #[arg(long, value_name = "SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub heartbeat_secs: u64,
    /// Memory this executor's tasks may use together before spilling
    /// (e.g. 4GiB, 512MiB), split evenly across --concurrent-tasks; default:
    /// 70% of the host's memory (Ballista's), which several executors on
    /// one host over-commit.
    #[arg(long, value_name = "SIZE", value_parser = parse_pool_size, env = "PDQ_EXECUTOR_MEMORY_POOL")]
    pub memory_pool_size: Option<u64>,
}

/// `--memory-pool-size`: a size as `--memory-limit` takes it, in bytes.
#[cfg(feature = "ballista")]
fn parse_pool_size(text: &str) -> Result<u64, String> {
    pipeline::workspace::parse_size(text).map(|n| n as u64)
}

/// Arguments of `pdq daemon`.
#[derive(Debug, Args)]
pub struct DaemonArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Stop after this many sweeps (for tests and soak runs); default: run until SIGTERM.
    #[arg(long, value_name = "N")]
    pub max_runs: Option<u64>,
}

/// Arguments of `pdq publish`.
#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// The run to publish (default: the latest finished run). A run other
    /// than the latest is written under published/runs/ only.
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,
}

/// Arguments of `pdq vacuum`.
#[derive(Debug, Args)]
pub struct VacuumArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Say what would be deleted, delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output: table (default on a terminal) or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
    pub format: Option<String>,
}

/// Arguments of `pdq runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// A run id: show its steps.
    pub run: Option<String>,
    /// Output: table (default on a terminal) or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
    pub format: Option<String>,
}

/// Arguments of `pdq audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// `verify` (the chain, the signed head, the anchors), `show`, `prune`,
    /// `anchor` (copy the signed head to the anchor file), `seal` (sign the
    /// head of a log you have checked) or `key-init` (create the signing key).
    #[arg(value_parser = ["verify", "show", "prune", "anchor", "seal", "key-init"])]
    pub action: String,
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// `show`: the last N records.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub last: usize,
    /// `key-init`: where to write the key (default: $PDQ_AUDIT_KEY_FILE, else
    /// /etc/pdq/audit.key). Never inside the workspace; never over a key.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// `seal`: the log was restored from a backup older than its last
    /// anchors; seal it under a new log id, recording the contradiction.
    #[arg(long)]
    pub restart_anchors: bool,
}

/// `-w DIR`: the bureau workspace, shared by every command that works on one.
#[derive(Debug, Args, Clone)]
pub struct WorkspaceArg {
    /// The bureau workspace (holds pdq.toml, datasets/, the lake).
    #[arg(
        short = 'w',
        long = "workspace",
        value_name = "DIR",
        default_value = ".",
        env = "PDQ_WORKSPACE"
    )]
    pub dir: PathBuf,
}

impl std::ops::Deref for WorkspaceArg {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.dir
    }
}

/// Arguments of `pdq harvest`.
#[derive(Debug, Args)]
pub struct HarvestArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Only this catalog source (`catalogs/<name>.toml`).
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Read this catalog source without changing the catalog and print a
    /// ready mapping for it, with how many records each key covers.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["source", "as_of"])]
    pub suggest_mapping: Option<String>,
    /// The as-of time for lateness (RFC 3339, or `YYYY-MM-DD[ HH:MM:SS]` in the bureau's zone); default: now.
    #[arg(long, value_name = "DATETIME")]
    pub as_of: Option<String>,
    /// Output: table (default on a terminal) or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
    pub format: Option<String>,
}

/// Arguments of `pdq ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// Only these datasets (`department.name`, or a department); repeatable.
    #[arg(long, value_name = "NAME")]
    pub dataset: Vec<String>,
    /// Read snapshot sources (databases without a watermark, APIs) even when
    /// not due at their update frequency.
    #[arg(long)]
    pub force: bool,
    /// Output: table (default on a terminal) or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
    pub format: Option<String>,
}

/// Arguments of `pdq check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Data files or directories forming ONE dataset (Parquet, CSV, JSON/NDJSON, XLSX).
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub data: Vec<PathBuf>,
    /// The rule file (YAML).
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// Output format; default: table on a terminal, json otherwise.
    #[arg(long, value_name = "FORMAT", value_parser = crate::reports::format_parser())]
    pub format: Option<String>,
    /// Write every failing row (unmasked) as Parquet into this directory.
    #[arg(long, value_name = "DIR")]
    pub failed_rows: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
    /// Text encoding of CSV files (utf-8, gbk, gb18030); default: detected.
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<String>,
    /// XLSX sheet to read; default: the first.
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// The most an XLSX workbook may unpack to, and the most cell text the
    /// rows read may hold (e.g. 512MiB, the default); a workbook past it is
    /// refused with an error that names it.
    #[arg(long, value_name = "SIZE")]
    pub xlsx_max_bytes: Option<String>,
    /// CSV field delimiter (one character); default: `,` (tab for .tsv).
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<char>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Options every run shares.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// The as-of time (RFC 3339, or `YYYY-MM-DD[ HH:MM:SS]` in --time-zone); default: now.
    #[arg(long, value_name = "DATETIME")]
    pub as_of: Option<String>,
    /// The bureau's time zone, for naive timestamps and --as-of.
    #[arg(
        long,
        value_name = "TZ",
        default_value = "Asia/Shanghai",
        env = "PDQ_TIME_ZONE"
    )]
    pub time_zone: String,
    /// Memory the engine may use before spilling to disk (e.g. 2GiB, 512MiB).
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "2GiB",
        env = "PDQ_MEMORY_LIMIT"
    )]
    pub memory_limit: String,
    /// Worker threads / partitions; default: the number of cores.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Arguments of `pdq demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the example bureau.
    #[arg(long, value_name = "DIR", default_value = "pdq-demo")]
    pub out: PathBuf,
}

/// Arguments of `pdq rules`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A rule type to explain; without it, all types are listed.
    pub check: Option<String>,
}

/// Parses the command line. Help and version go to stdout with exit code 0;
/// a usage error is bad input: one message, exit code 1 (CONTRACT.md).
pub fn parse() -> Result<Cli, ExitCode> {
    match Cli::try_parse() {
        Ok(cli) => Ok(cli),
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => 1,
            };
            // clap prints usage and a hint; that is the one message.
            let _ = e.print();
            Err(ExitCode::from(code))
        }
    }
}

#[cfg(test)]
mod tests;

//! `pdq usage …`: the sharing platform's usage log (共享/使用日志).

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::WorkspaceArg;

/// Arguments of `pdq usage`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    #[command(subcommand)]
    pub action: UsageAction,
}

/// What `pdq usage` does.
#[derive(Debug, Subcommand)]
pub enum UsageAction {
    /// Import the platform's export (CSV with a header row, or JSON lines): when, consumer department, dataset or catalog code, purpose, operator … in Chinese or English headers. Re-importing a file adds nothing. 导入使用日志。
    Import {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// The export file.
        file: PathBuf,
        /// Output: table (default on a terminal) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
    /// The log's rows, operators masked. 列出。
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// Only uses of this dataset (DEPT.NAME) or catalog entry (key or resource code).
        #[arg(long, value_name = "DATASET")]
        dataset: Option<String>,
        /// Only uses by this consumer department.
        #[arg(long, value_name = "CODE")]
        consumer: Option<String>,
        /// Only uses on or after this day.
        #[arg(long, value_name = "YYYY-MM-DD")]
        since: Option<String>,
        /// Output: table (default on a terminal) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
    /// Remove the log's rows older than the retention the active profile sets (as of --as-of), never a row inside it; refused where the text sets no retention. One commit of the lake; recorded in the audit log. 清理超过保存期限的日志。
    Prune {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// As of this day (default: today); the horizon is the profile's retention before it.
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<String>,
        /// Only show what would be removed; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Output: table (default on a terminal) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
    /// Check the log against the profile: rows lacking what its article requires, a log kept shorter than its retention. 核查。
    Check {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// As of this day (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<String>,
        /// Output: table (default on a terminal) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
}

//! `pdq catalog …`: what the bureau records about its catalog besides the
//! harvest: changes of law or function, which start the catalog-update
//! clock, and its reviews of department catalogs.

use clap::{Args, Subcommand};

use super::WorkspaceArg;

/// Arguments of `pdq catalog`.
#[derive(Debug, Args)]
pub struct CatalogArgs {
    #[command(subcommand)]
    pub action: CatalogAction,
}

/// What `pdq catalog` does.
#[derive(Debug, Subcommand)]
pub enum CatalogAction {
    /// Changes of law or function (法律法规规章修改 / 职能变更) that the catalog must follow within the profile's deadline. 目录更新事由。
    Change {
        #[command(subcommand)]
        action: ChangeAction,
    },
    /// The bureau's reviews (审定) of department catalogs, and the revisions their comments call for, where the profile's text sets deadlines (兵团 第十四条, 吴忠 第十二、十三条). 目录审定。
    Review {
        #[command(subcommand)]
        action: ReviewAction,
    },
    /// Withdrawn shared resources (资源下线, 新疆 第二十四条, 西藏 第十七条): the replacement and the consumers notified. 资源下线。
    Withdrawal {
        #[command(subcommand)]
        action: WithdrawalAction,
    },
}

/// What `pdq catalog withdrawal` does.
#[derive(Debug, Subcommand)]
pub enum WithdrawalAction {
    /// Record in catalog-withdrawals.toml the replacement of a withdrawn entry and/or the consumers told of it. 登记。
    Record {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// The withdrawn entry's key or resource code.
        entry: String,
        /// The entry that replaces it (key or resource code).
        #[arg(long, value_name = "CODE")]
        replacement: Option<String>,
        /// A consumer department told of the withdrawal (repeat for several).
        #[arg(long = "notified", value_name = "CODE")]
        notified: Vec<String>,
        /// The day of the record (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: Option<String>,
    },
}

/// What `pdq catalog review` does.
#[derive(Debug, Subcommand)]
pub enum ReviewAction {
    /// Record a review in catalog-reviews.toml: it covers every submission of the department's catalog up to its date. 登记。
    Record {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// The department whose catalog was reviewed.
        #[arg(long, value_name = "CODE")]
        department: String,
        /// The day of the review.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
        /// approved (审定通过) or comments (有修改意见: the department must revise).
        #[arg(long, value_name = "OUTCOME", value_parser = ["approved", "comments"])]
        outcome: String,
        /// The comments, with `--outcome comments`.
        #[arg(long, value_name = "TEXT")]
        comments: Option<String>,
    },
    /// Every recorded review, and the review and revision findings as of a day. 列出。
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// As of this day (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<String>,
        /// Output: table (default) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
}

/// What `pdq catalog change` does.
#[derive(Debug, Subcommand)]
pub enum ChangeAction {
    /// Record a change in catalog-changes.toml: the catalog-update clock of the entries it affects starts on its date. 登记。
    Record {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// The department whose catalog must follow.
        #[arg(long, value_name = "CODE")]
        department: String,
        /// The day the change took effect.
        #[arg(long, value_name = "YYYY-MM-DD")]
        date: String,
        /// law (法律、法规、规章修改) or function (管理服务职能变更).
        #[arg(long, value_name = "KIND", value_parser = ["law", "function"])]
        kind: String,
        /// What changed: the law amended, the function reassigned.
        #[arg(long, value_name = "TEXT")]
        basis: String,
        /// An affected catalog entry's key (repeat; none: every entry of the department).
        #[arg(long = "entry", value_name = "KEY")]
        entries: Vec<String>,
    },
    /// Every recorded change with its affected entries, due dates and whether the catalog followed. 列出。
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// As of this day (default: today).
        #[arg(long, value_name = "YYYY-MM-DD")]
        as_of: Option<String>,
        /// Output: table (default) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
}

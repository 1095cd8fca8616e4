//! `pdq objection …`: filing and handling objections (异议) to published
//! data or catalog entries.

use clap::{Args, Subcommand};

use super::WorkspaceArg;

/// Arguments of `pdq objection`.
#[derive(Debug, Args)]
pub struct ObjectionArgs {
    #[command(subcommand)]
    pub action: ObjectionAction,
}

/// When an action happened (default: now); for entering an objection
/// received earlier (on paper, by telephone).
#[derive(Debug, Args)]
pub struct ObjectionAt {
    #[command(flatten)]
    pub workspace: WorkspaceArg,
    /// When it happened (RFC 3339 or `YYYY-MM-DD HH:MM`, in the workspace's zone; default: now).
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Output: table (default on a terminal) or json.
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
    pub format: Option<String>,
}

/// What `pdq objection` does.
#[derive(Debug, Subcommand)]
pub enum ObjectionAction {
    /// File an objection to a dataset's row and field, or to a catalog entry. 受理异议。
    File {
        /// The dataset (`department.name`).
        #[arg(long, value_name = "DEPT.NAME", conflicts_with = "entry")]
        dataset: Option<String>,
        /// Or the catalog entry's key.
        #[arg(long, value_name = "KEY")]
        entry: Option<String>,
        /// The row: a column and the value that identifies it (`id_number=650102…`).
        #[arg(long, value_name = "COLUMN=VALUE")]
        row: Option<String>,
        /// The field (column or catalog field) that is wrong.
        #[arg(long, value_name = "FIELD")]
        field: Option<String>,
        /// What is wrong.
        #[arg(long, value_name = "TEXT")]
        what: String,
        /// Who reports: citizen, department or bureau.
        #[arg(long, value_name = "WHO", value_parser = ["citizen", "department", "bureau"])]
        reporter: String,
        /// The reporting department (when a department reports).
        #[arg(long, value_name = "CODE")]
        reporter_department: Option<String>,
        /// How to reach the reporter (kept in the lake; masked in every output).
        #[arg(long, value_name = "CONTACT")]
        contact: Option<String>,
        #[command(flatten)]
        at: ObjectionAt,
    },
    /// List objections with their state and next deadline. 列出。
    List {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// Only those of this responsible department.
        #[arg(long, value_name = "CODE")]
        department: Option<String>,
        /// Only those about this dataset.
        #[arg(long, value_name = "DEPT.NAME")]
        dataset: Option<String>,
        /// Only those in this state.
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Only those past a deadline.
        #[arg(long)]
        overdue: bool,
        /// As of this time (default: now): states and overdue steps then.
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// Output: table (default on a terminal) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
    /// One objection: what it is about, each step with its deadline and article, its history. 详情。
    Show {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// The objection id.
        id: String,
        /// As of this time (default: now).
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// Output: table (default on a terminal) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
    /// The bureau forwards an objection to the responsible department. 转交。
    Forward {
        /// The objection id.
        id: String,
        /// Another department, which becomes responsible.
        #[arg(long, value_name = "CODE")]
        to: Option<String>,
        #[command(flatten)]
        at: ObjectionAt,
    },
    /// The responsible department answers: upheld, or rejected with the reason. 校核答复。
    Answer {
        /// The objection id.
        id: String,
        /// The department answering (must be the responsible one).
        #[arg(long = "as", value_name = "CODE")]
        department: String,
        /// The objection is right.
        #[arg(
            long,
            conflicts_with = "rejected",
            required_unless_present = "rejected"
        )]
        upheld: bool,
        /// The objection is wrong (say why with --reason).
        #[arg(long)]
        rejected: bool,
        /// Why (required when rejected).
        #[arg(long, value_name = "TEXT", default_value = "")]
        reason: String,
        #[command(flatten)]
        at: ObjectionAt,
    },
    /// The responsible department corrected the data: name the delivery or catalog version. 更正。
    Correct {
        /// The objection id.
        id: String,
        /// The department (must be the responsible one).
        #[arg(long = "as", value_name = "CODE")]
        department: String,
        /// The delivery or catalog version that holds the correction.
        #[arg(long, value_name = "REF")]
        fixed_in: String,
        /// What was done.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[command(flatten)]
        at: ObjectionAt,
    },
    /// Check every corrected objection against the data now: confirmed, or re-opened when the value is still there. 复核。
    Check {
        #[command(flatten)]
        at: ObjectionAt,
    },
    /// The departments that received the wrong data of an upheld objection (from the usage log: its consumers between the delivery in force at filing and the correction), and who was notified. 受影响的使用单位。
    Consumers {
        #[command(flatten)]
        workspace: WorkspaceArg,
        /// The objection id.
        id: String,
        /// As of this time (default: now).
        #[arg(long, value_name = "TIME")]
        as_of: Option<String>,
        /// Output: table (default on a terminal) or json.
        #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"])]
        format: Option<String>,
    },
    /// Record that consumers of the wrong data were told of the correction (西藏 第十八条、第二十七条 require it before closing). 通知使用单位。
    Notify {
        /// The objection id.
        id: String,
        /// A consumer notified (repeat for several).
        #[arg(long = "consumer", value_name = "CODE", required = true)]
        consumers: Vec<String>,
        /// How, or what was sent.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[command(flatten)]
        at: ObjectionAt,
    },
    /// Close an answered objection (rejected, or corrected and confirmed). 办结。
    Close {
        /// The objection id.
        id: String,
        /// A note.
        #[arg(long, value_name = "TEXT")]
        note: Option<String>,
        #[command(flatten)]
        at: ObjectionAt,
    },
}

//! # quality_rules
//!
//! pdq's rule language and checks, knowing nothing of the bureau's domain:
//!
//! - [`spec`]: the YAML rule file as written (CONTRACT.md, "Rule files");
//! - [`rules`]: one file per rule type and the registry [`rules::all`]; each
//!   compiles a rule to a DataFusion expression whose three-valued outcome
//!   carries the contract's evaluated/failed semantics;
//! - [`ids`]: GB 11643 / GB 32100 / GB 11714 identifiers and other validators
//!   as pure functions;
//! - [`codes`]: code lists (GB/T 2260 divisions);
//! - [`udfs`]: the validators as DataFusion scalar UDFs, one registry list.

pub mod codes;
pub mod error;
pub mod ids;
pub mod rules;
pub mod spec;
pub mod udfs;

pub use error::{CompileError, RuleError};
pub use rules::{CompiledRule, Plan, RuleKind, Scope, Status, Thresholds};
pub use spec::{Dimension, RuleFile, RuleSpec};

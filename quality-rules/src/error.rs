//! Errors of the rule language. Every message is one line, lowercase, and
//! names the rule file, the line and the rule, so an operator can fix it
//! without reading code.

use std::path::PathBuf;

/// Why a rule file could not be read, parsed or compiled.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The file could not be read.
    #[error("cannot read rules file {}: {source}", path.display())]
    Read {
        /// The rule file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML is malformed or does not have the rule-file shape.
    #[error("{}:{line}:{column}: {message}", path.display())]
    Yaml {
        /// The rule file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: u64,
        /// 1-based column (0 when unknown).
        column: u64,
        /// What the parser expected.
        message: String,
    },
    /// A rule is well-formed YAML but wrong: unknown check type or column, a
    /// parameter missing or not applicable, a bad regex or expression.
    #[error("{}:{line}: {}{message}", path.display(), rule.as_ref().map(|r| format!("rule `{r}`: ")).unwrap_or_default())]
    Invalid {
        /// The rule file.
        path: PathBuf,
        /// 1-based line of the rule (0 for the whole file).
        line: u64,
        /// The rule id, when the problem is in one rule.
        rule: Option<String>,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// A problem in one rule found while compiling it; the caller adds the file,
/// line and rule id to make a [`RuleError::Invalid`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CompileError(pub String);

impl CompileError {
    /// A compile error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        CompileError(message.into())
    }
}

impl From<datafusion::error::DataFusionError> for CompileError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        // DataFusion messages can span lines (diagnostics, backtraces); keep
        // the first, which says what is wrong.
        let text = e.strip_backtrace();
        CompileError(text.lines().next().unwrap_or("").trim().to_string())
    }
}

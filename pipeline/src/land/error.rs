//! The error of the lake and of landing: one line, naming the table or the
//! source.

use connectors::source::SourceError;

/// Why landing failed. One line.
#[derive(Debug, thiserror::Error)]
pub enum LandError {
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
    /// The source failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The lake failed.
    #[error("lake table {table}: {message}")]
    Lake {
        /// Which table.
        table: String,
        /// What went wrong.
        message: String,
    },
}

impl LandError {
    pub(crate) fn lake(table: &str, e: impl std::fmt::Display) -> Self {
        LandError::Lake {
            table: table.to_string(),
            message: e
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

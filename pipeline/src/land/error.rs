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
        let message = e.to_string();
        // Deep in the writer's chain, a full disk reads "Failed to parse
        // parquet: External: Generic LocalFileSystem error: ...": say what
        // it is.
        let message = match disk_full(&message) {
            Some(code) => format!("{DISK_FULL} (no space left on device, {code})"),
            None => message.split_whitespace().collect::<Vec<_>>().join(" "),
        };
        LandError::Lake {
            table: table.to_string(),
            message,
        }
    }

    /// Whether the lake failed for want of space (its message then starts
    /// with [`DISK_FULL`]).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, LandError::Lake { message, .. } if message.starts_with(DISK_FULL))
    }
}

/// How a lake error caused by a full disk (or an exhausted quota) begins.
pub const DISK_FULL: &str = "the lake's disk is full";

/// The OS error of a full disk (ENOSPC) or an exhausted quota (EDQUOT) in an
/// error's text, as the standard library words them.
fn disk_full(message: &str) -> Option<&'static str> {
    if message.contains("(os error 28)") || message.contains("No space left on device") {
        Some("os error 28")
    } else if message.contains("(os error 122)") || message.contains("Disk quota exceeded") {
        Some("os error 122")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_deep_in_the_writer_says_so() {
        let e = LandError::lake(
            "data/a/b",
            "Failed to parse parquet: External: Generic LocalFileSystem error: Unable to copy data to file: No space left on device (os error 28)",
        );
        assert!(e.is_disk_full());
        assert_eq!(
            e.to_string(),
            "lake table data/a/b: the lake's disk is full (no space left on device, os error 28)"
        );
        let other = LandError::lake("data/a/b", "Permission denied (os error 13)");
        assert!(!other.is_disk_full());
        assert_eq!(
            other.to_string(),
            "lake table data/a/b: Permission denied (os error 13)"
        );
    }
}

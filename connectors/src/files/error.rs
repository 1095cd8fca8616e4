//! Why a file dataset cannot be read.

use std::path::PathBuf;

/// Why a dataset cannot be read. Messages are one line, naming the file and
/// the line, sheet or column.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// A path does not exist.
    #[error("{}: no such file or directory", path.display())]
    NotFound {
        /// The path.
        path: PathBuf,
    },
    /// The file's extension is not a supported format.
    #[error("{}: unsupported file type (expected .parquet, .csv, .tsv, .json, .ndjson, .jsonl, .xlsx or .xls)", path.display())]
    Unsupported {
        /// The path.
        path: PathBuf,
    },
    /// A directory holds no supported file.
    #[error("{}: no data files in this directory", path.display())]
    NoFiles {
        /// The directory.
        path: PathBuf,
    },
    /// A file has no header or records.
    #[error("{}: the file is empty", path.display())]
    Empty {
        /// The path.
        path: PathBuf,
    },
    /// Reading failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Bytes that are not valid in the file's encoding.
    #[error("{}:{line}: not valid {encoding} text (use --encoding to say which encoding the file is in)", path.display())]
    Encoding {
        /// The path.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The encoding tried.
        encoding: String,
    },
    /// Malformed CSV.
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        /// The path.
        path: PathBuf,
        /// 1-based physical line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// Malformed JSON.
    #[error("{}:{line}: {message}", path.display())]
    Json {
        /// The path.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A workbook that cannot be used.
    #[error("{} (sheet {sheet}): {message}", path.display())]
    Xlsx {
        /// The path.
        path: PathBuf,
        /// The sheet.
        sheet: String,
        /// What is wrong.
        message: String,
    },
    /// A workbook that cannot be opened (before any sheet is chosen): not
    /// a workbook, or past `xlsx_max_bytes`.
    #[error("{}: {message}", path.display())]
    Workbook {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A header with empty or repeated names.
    #[error("{}: {message}", path.display())]
    Header {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A value that does not fit the type its column was given from a
    /// sample of the file ([`super::Inference::Sampled`]).
    #[error("{}:{line}: column `{column}` has a value that is not {expected}, as the first {sample} records had it", path.display())]
    Contradiction {
        /// The path.
        path: PathBuf,
        /// 1-based physical line.
        line: u64,
        /// The column.
        column: String,
        /// What the sample made the column: "an integer", "a date", "blank" …
        expected: String,
        /// Records in the sample.
        sample: u64,
    },
    /// A file changed between opening the dataset and reading it.
    #[error("{}: the file changed while it was being checked; run again", path.display())]
    Changed {
        /// The path.
        path: PathBuf,
    },
    /// Not a readable Parquet file.
    #[error("{}: not a valid Parquet file: {message}", path.display())]
    Parquet {
        /// The path.
        path: PathBuf,
        /// What the reader said.
        message: String,
    },
}

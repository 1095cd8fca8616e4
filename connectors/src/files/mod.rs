//! File datasets: one or more files (or directories of files) in CSV,
//! JSON/NDJSON, XLSX or Parquet that together form ONE dataset, exposed to
//! DataFusion as a table with two extra columns locating every row in its
//! source: [`FILE_COLUMN`] (index into [`FileDataset::files`]) and
//! [`ROW_COLUMN`] (0-based record index in that file, in file order).
//!
//! ```text
//!  paths ─expand─▶ files ─┬─ CSV, Inference::Sampled: the first records (encoding, header, types) ──┐
//!                         ├─ CSV / JSON, Inference::Exact: stream once (inference over ALL values) ──┤
//!                         ├─ XLSX: the sheet read into cells ────────────────────────────────────────┴─▶ types
//!                         └─ Parquet: metadata only
//!  scan(projection) ─▶ ScanExec: partitions of row-group ranges / text files / shared byte ranges
//!                        ─▶ batches + __pdq_file + __pdq_row
//! ```
//!
//! Memory does not grow with the size of a Parquet, CSV or JSON file: they
//! are read a batch at a time when the dataset is scanned. How a CSV is
//! typed is the caller's choice ([`Inference`]):
//!
//! - `Exact` (the default): the file is read through once when the dataset
//!   is opened, to find its encoding and columns and to infer types over
//!   every value; if it changes between the two reads, the scan fails
//!   rather than read other data. That first read also notes a record
//!   boundary every `SEGMENT_ROWS` (128K) records of a UTF-8, GB18030 or
//!   GBK CSV, so that the scan can read one large file with every
//!   partition, each segment from its boundary.
//! - `Sampled` (`pdq check`): only the first records are read at open; the
//!   scan reads the file once, every partition taking byte ranges whose
//!   first records it guesses and checks (module `split`), and stops with
//!   [`FileDataset::contradiction`] set if a later value does not fit the
//!   sampled types (the caller then opens the files again, `Exact`).
//!
//! An XLSX sheet is held in memory (the format caps a sheet at 1,048,576 rows).

pub(crate) mod csv;
mod discover;
mod error;
mod exec;
pub mod infer;
pub(crate) mod json;
mod load;
pub mod sheet;
mod split;
pub(crate) mod text;
pub(crate) mod xlsx;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, SchemaRef};
use chrono_tz::Tz;
use datafusion::catalog::TableProvider;

use discover::expand;
use load::{Columns, dataset_schema, load, with_location_columns};

pub use error::FileError;

/// Index of the source file of a row (UInt32), into [`FileDataset::files`].
pub const FILE_COLUMN: &str = "__pdq_file";
/// 0-based record index of a row within its file, in file order (UInt64).
pub const ROW_COLUMN: &str = "__pdq_row";

/// A file format, chosen by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// `.csv`, `.tsv`, `.txt`
    Csv,
    /// `.json` (an array of objects, or NDJSON), `.ndjson`, `.jsonl`
    Json,
    /// `.xlsx`, `.xls`, `.xlsm`
    Xlsx,
    /// `.parquet`
    Parquet,
}

impl FileFormat {
    /// The format of a path, from its extension.
    pub fn of(path: &Path) -> Option<FileFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" | "tsv" | "txt" => FileFormat::Csv,
            "json" | "ndjson" | "jsonl" => FileFormat::Json,
            "xlsx" | "xls" | "xlsm" => FileFormat::Xlsx,
            "parquet" | "parq" => FileFormat::Parquet,
            _ => return None,
        })
    }
}

/// How to read files.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Text encoding of CSV files; `None` detects (BOM or valid UTF-8 → UTF-8, else GB18030).
    pub encoding: Option<&'static encoding_rs::Encoding>,
    /// CSV delimiter; `None` is `,` (tab for `.tsv`).
    pub delimiter: Option<u8>,
    /// Whether CSV files have a header row.
    pub has_header: bool,
    /// XLSX sheet; `None` is the first.
    pub sheet: Option<String>,
    /// Naive timestamps are read in this zone.
    pub time_zone: Tz,
    /// How much of an XLSX workbook is read (`--xlsx-max-bytes`).
    pub xlsx: sheet::XlsxLimits,
    /// How the types of a CSV file's columns are found.
    pub inference: Inference,
}

/// How the types of a CSV file's columns are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inference {
    /// From every value: the file is read once at open and again at scan.
    Exact,
    /// From the first `records` records, and the file is read once, by every
    /// partition at a time (module `split`). A later value that
    /// contradicts the sample stops the scan and is reported by
    /// [`FileDataset::contradiction`]: the caller then opens the files again
    /// with [`Inference::Exact`], so results never depend on the sample.
    /// A file of at most `records` records is read whole at open (exact).
    Sampled {
        /// Records in the sample.
        records: u64,
    },
}

impl Inference {
    /// The sample `pdq check` uses: 65,536 records.
    pub const SAMPLED: Inference = Inference::Sampled { records: 64 * 1024 };
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            encoding: None,
            delimiter: None,
            has_header: true,
            sheet: None,
            time_zone: chrono_tz::Asia::Shanghai,
            xlsx: sheet::XlsxLimits::default(),
            inference: Inference::Exact,
        }
    }
}

/// One file of a dataset.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Where it is.
    pub path: PathBuf,
    /// How it is named in results: as given, or given directory + relative path.
    pub display: String,
    /// Its format.
    pub format: FileFormat,
    /// Its number of records, when known without reading it all.
    pub rows: Option<u64>,
}

/// How a streamed text file is parsed.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TextSpec {
    Csv(csv::CsvSpec),
    Json,
}

/// Records per segment of a CSV file that several partitions read at once
/// (small in unit tests, to have many segments).
const SEGMENT_ROWS: u64 = if cfg!(test) { 1000 } else { 128 * 1024 };

/// A run of records of a CSV file that can be read on its own: it starts
/// at a record boundary found when the file was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Byte offset in the file.
    pub start: u64,
    /// Record index of its first record.
    pub first_row: u64,
    /// Its number of records.
    pub rows: u64,
}

/// A file's size and modification time, to notice a change between reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Stamp {
    len: u64,
    modified: Option<std::time::SystemTime>,
}

impl Stamp {
    pub(crate) fn of(path: &Path) -> Result<Stamp, FileError> {
        let m = std::fs::metadata(path).map_err(|e| FileError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        Ok(Stamp {
            len: m.len(),
            modified: m.modified().ok(),
        })
    }
}

/// Where the rows of one file come from at scan time.
#[derive(Debug)]
pub(crate) enum FilePart {
    /// An XLSX sheet, converted at open: columns in dataset order.
    Text {
        batch: RecordBatch,
        rows: Arc<arrow::array::UInt64Array>,
    },
    /// A CSV or JSON file, parsed again and converted batch by batch.
    Stream {
        spec: TextSpec,
        /// The file as it was when the dataset was opened.
        stamp: Stamp,
        /// For each dataset column, its index in the file (None = absent).
        columns: Vec<Option<usize>>,
        /// For each dataset column, the type its text is converted to
        /// (then conformed to the dataset's type).
        types: Vec<DataType>,
        /// Naive timestamps are in this zone.
        time_zone: Tz,
        /// The file's number of columns.
        width: usize,
        /// Segments to read in parallel (UTF-8 CSV of more than one
        /// segment); empty: the file is read whole, in order.
        segments: Vec<Segment>,
        /// A CSV typed from a sample: read once, in byte ranges shared by
        /// every partition (`segments` is then empty).
        split: Option<Arc<split::Split>>,
    },
    /// A Parquet file read lazily.
    Parquet {
        /// The Arrow schema to read with (strings as views).
        read_schema: SchemaRef,
        /// Rows per row group.
        row_groups: Vec<u64>,
        /// For each dataset column, its index in the file (None = absent).
        columns: Vec<Option<usize>>,
    },
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub schema: SchemaRef,
    pub full_schema: SchemaRef,
    pub files: Vec<SourceFile>,
    pub parts: Vec<FilePart>,
    /// Why a scan found the sampled types wrong (see [`Inference::Sampled`]).
    pub contradiction: std::sync::Mutex<Option<String>>,
}

/// One dataset made of files. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FileDataset {
    inner: Arc<Inner>,
}

impl FileDataset {
    /// Opens the files (directories are expanded recursively, in path order):
    /// reads Parquet metadata, reads CSV and JSON through once to learn their
    /// encoding, columns and types, and reads XLSX sheets.
    pub fn open(paths: &[PathBuf], opts: &ReadOptions) -> Result<FileDataset, FileError> {
        let mut files = expand(paths)?;
        let mut loaded = Vec::with_capacity(files.len());
        for f in &mut files {
            loaded.push(load(f, opts)?);
        }
        let tz = opts.time_zone;
        let (schema, inference) = dataset_schema(&loaded, tz);
        let full_schema = with_location_columns(&schema);
        let columns = Columns {
            schema: &schema,
            inference: &inference,
            tz,
        };
        let mut parts = Vec::with_capacity(loaded.len());
        for (l, f) in loaded.into_iter().zip(&files) {
            parts.push(columns.part(l, f)?);
        }
        Ok(FileDataset {
            inner: Arc::new(Inner {
                schema,
                full_schema,
                files,
                parts,
                contradiction: std::sync::Mutex::new(None),
            }),
        })
    }

    /// Why a scan of this dataset stopped because a value contradicted the
    /// types inferred from a sample (or the encoding found in it), if one
    /// did: open the files again with [`Inference::Exact`] and run again.
    pub fn contradiction(&self) -> Option<String> {
        self.inner
            .contradiction
            .lock()
            .map_or_else(|p| p.into_inner().clone(), |g| g.clone())
    }

    /// The data columns (without the location columns).
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.inner.schema)
    }

    /// The files, in `__pdq_file` order.
    pub fn files(&self) -> &[SourceFile] {
        &self.inner.files
    }

    /// A DataFusion table of the data columns plus [`FILE_COLUMN`] and [`ROW_COLUMN`].
    pub fn table_provider(&self) -> Arc<dyn TableProvider> {
        Arc::new(exec::FileTable {
            inner: Arc::clone(&self.inner),
        })
    }
}

#[cfg(test)]
mod tests;

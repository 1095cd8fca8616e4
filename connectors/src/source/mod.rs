//! Sources: where a department's extract comes from, and how it is read.
//!
//! A [`Source`] lists the [`Delivery`]s waiting for a dataset and reads one
//! as a stream of [`RawBatch`]es: the declared columns as text, each row
//! located in its delivery (line, sheet row, record number, key), plus the
//! records that could not be read at all ([`Reject`]). Typing the text into
//! the declared [`ColumnType`]s, quarantining what does not convert, and
//! writing the lake is the landing stage's job (`pipeline::land`), the same
//! for every source.
//!
//! The kinds of source are listed once, in [`SourceConfig`]:
//!
//! | kind       | reads                                                          |
//! |------------|----------------------------------------------------------------|
//! | `file`     | CSV / XLSX / JSON / NDJSON / Parquet from a directory, S3 or HTTP(S) |
//! | `postgres` | a table or query, full or incremental by a watermark column    |
//! | `mysql`    | the same on MySQL / MariaDB                                     |
//! | `http_api` | a paged JSON API (page/offset or cursor)                        |

mod columns;
mod csv_stream;
pub mod db;
mod digest;
pub mod file;
pub mod http_api;
mod parquet_text;
pub(crate) mod secret;
mod xlsx;

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use arrow::array::{RecordBatch, UInt64Array};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

pub use columns::{ColumnDef, ColumnType, arrow_schema};
pub use secret::Secret;

/// One delivery waiting at a source: a file, a watermark range of a table,
/// or a snapshot of a table or API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Where it is (a path or URL, never with credentials).
    pub location: String,
    /// What identifies it before reading: location with size and
    /// modification time, or the watermark range. Landing the same
    /// fingerprint twice adds nothing.
    pub fingerprint: String,
    /// Its size in bytes, when known.
    pub bytes: Option<u64>,
    /// When it was last modified at the source, when known.
    pub modified: Option<DateTime<Utc>>,
    /// Incremental loads: the highest watermark already landed (a database
    /// source reads rows at exactly it again and skips those already landed)…
    pub watermark_from: Option<String>,
    /// …and the highest watermark this delivery covers (inclusive).
    pub watermark_to: Option<String>,
    /// The source's own state as recorded with the last landed delivery
    /// ([`Landed::state`]), handed back to [`Source::read`].
    #[serde(default)]
    pub state: Option<String>,
}

/// What has already landed for a dataset, as the landing stage knows it.
#[derive(Debug, Clone, Default)]
pub struct Landed {
    /// Fingerprints of landed deliveries.
    pub fingerprints: HashSet<String>,
    /// The highest watermark landed (incremental loads).
    pub watermark: Option<String>,
    /// What the source recorded at the end of the last landed delivery
    /// ([`DeliveryEnd::state`]): opaque to the landing stage, which keeps it
    /// with the delivery's data commit. Database sources keep the rows at
    /// that watermark, so that late rows at an equal watermark are read
    /// and rows already landed are not landed twice.
    pub state: Option<String>,
}

/// A record that could not be read as a record (a ragged CSV row, bytes
/// not valid in the file's encoding, a line that is not JSON): it goes to
/// quarantine whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Reject {
    /// The record's 0-based index in the delivery, in file order (the
    /// header and blank lines are not records; a sheet's first row after
    /// its header is 0; a table's or API's first record is 0), the same
    /// numbering as `pdq check`'s samples.
    pub row: u64,
    /// The record as read (lossy for undecodable bytes).
    pub raw: String,
    /// Why it was rejected.
    pub reason: String,
}

/// Some rows of a delivery: the declared columns as text (`Utf8`, named by
/// the declared names, in declared order; a column the source lacks is all
/// null), where each row is, and the records that could not be read.
#[derive(Debug, Clone)]
pub struct RawBatch {
    /// The text.
    pub columns: RecordBatch,
    /// Each row's 0-based record index in the delivery (see [`Reject::row`]).
    pub rows: UInt64Array,
    /// Unreadable records met while reading these rows.
    pub rejects: Vec<Reject>,
    /// The source's key of each row (database and API sources with a `key`).
    pub keys: Option<arrow::array::StringArray>,
}

/// What is known once a delivery has been read to its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryEnd {
    /// SHA-256 of the bytes (files) or of the records read (tables, APIs).
    /// A database's rows and an API's records are hashed as a multiset of
    /// their values: the same rows in another order (or, for an API, in
    /// another envelope) have the same hash.
    pub sha256: String,
    /// The content hash as versions before 2026-12-08 computed it (database
    /// rows hashed in the order read, an API's response bytes), so that a
    /// snapshot landed by such a version is still recognised as unchanged
    /// after an upgrade. Only database and API sources set it.
    pub legacy_sha256: Option<String>,
    /// Bytes read.
    pub bytes: u64,
    /// The source's state after this delivery, kept by the landing stage
    /// and handed back as [`Landed::state`].
    pub state: Option<String>,
    /// What the source wants recorded with the delivery (rows read in a
    /// separate pass, rows recognised as already landed): the ledger's note.
    pub notes: Vec<String>,
}

/// An item of a delivery's stream.
// `End` comes once per delivery; boxing every batch would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum RawItem {
    /// Rows.
    Batch(RawBatch),
    /// The end, with the content hash.
    End(DeliveryEnd),
}

/// A delivery being read.
pub type RawStream = BoxStream<'static, Result<RawItem, SourceError>>;

/// How to read a delivery.
#[derive(Debug, Clone)]
pub struct ReadContext {
    /// The declared columns.
    pub columns: Vec<ColumnDef>,
    /// Rows per batch.
    pub batch_rows: usize,
    /// The workspace directory that relative paths are resolved against.
    pub base_dir: std::path::PathBuf,
    /// How much of a workbook is read (`xlsx_max_bytes`).
    pub xlsx: crate::files::sheet::XlsxLimits,
}

/// A place deliveries come from.
#[async_trait]
pub trait Source: Send + Sync + fmt::Debug {
    /// The deliveries waiting, oldest first, given what has landed.
    async fn pending(&self, landed: &Landed) -> Result<Vec<Delivery>, SourceError>;

    /// Reads one delivery.
    async fn read(&self, delivery: &Delivery, cx: &ReadContext) -> Result<RawStream, SourceError>;
}

/// The configuration of a dataset's source; `kind` picks the variant. This
/// enum is the registry of source kinds.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum SourceConfig {
    /// Files in a directory, on S3 or at HTTP(S) URLs.
    File(file::FileSourceConfig),
    /// A PostgreSQL table or query.
    Postgres(db::DbSourceConfig),
    /// A MySQL or MariaDB table or query.
    Mysql(db::DbSourceConfig),
    /// A paged JSON API.
    HttpApi(http_api::HttpApiConfig),
}

impl SourceConfig {
    /// The names of the source kinds, for help and error messages.
    pub const KINDS: &'static [&'static str] = &["file", "postgres", "mysql", "http_api"];

    /// Builds the source. `base_dir` resolves relative paths.
    pub fn build(&self, base_dir: &Path) -> Result<Box<dyn Source>, SourceError> {
        Ok(match self {
            SourceConfig::File(c) => Box::new(file::FileSource::new(c.clone(), base_dir)?),
            SourceConfig::Postgres(c) => Box::new(db::DbSource::new(
                db::Dialect::Postgres,
                c.clone(),
                base_dir,
            )?),
            SourceConfig::Mysql(c) => {
                Box::new(db::DbSource::new(db::Dialect::Mysql, c.clone(), base_dir)?)
            }
            SourceConfig::HttpApi(c) => {
                Box::new(http_api::HttpApiSource::new(c.clone(), base_dir)?)
            }
        })
    }

    /// Whether every read of this source is a new full snapshot (a table
    /// or query without a watermark, an API): such sources are pulled at
    /// the dataset's update frequency, not every night.
    pub fn is_snapshot(&self) -> bool {
        match self {
            SourceConfig::Postgres(c) | SourceConfig::Mysql(c) => c.watermark.is_none(),
            SourceConfig::HttpApi(_) => true,
            SourceConfig::File(_) => false,
        }
    }

    /// The column whose value identifies a row at the source, if declared
    /// (database and API sources); quarantine records it.
    pub fn key_column(&self) -> Option<&str> {
        match self {
            SourceConfig::Postgres(c) | SourceConfig::Mysql(c) => c.key.as_deref(),
            SourceConfig::HttpApi(c) => c.key.as_deref(),
            SourceConfig::File(_) => None,
        }
    }
}

/// Why a source cannot be listed or read. One line, naming the source and
/// what was expected; never a credential.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Bad configuration.
    #[error("{0}")]
    Config(String),
    /// A file could not be read.
    #[error(transparent)]
    File(#[from] crate::files::FileError),
    /// Object store failure (listing, download).
    #[error("{location}: {message}")]
    Store {
        /// What was being accessed.
        location: String,
        /// What went wrong.
        message: String,
    },
    /// Database failure.
    #[error("{location}: {message}")]
    Database {
        /// Which database (no credentials).
        location: String,
        /// What went wrong.
        message: String,
    },
    /// HTTP failure.
    #[error("{location}: {message}")]
    Http {
        /// Which URL (no credentials).
        location: String,
        /// What went wrong.
        message: String,
    },
}

/// Shared by sources that read text into batches: accumulates the declared
/// columns' text for up to `batch_rows` rows.
pub(crate) struct TextBatcher {
    names: Vec<String>,
    builders: Vec<arrow::array::StringBuilder>,
    rows: Vec<u64>,
    rejects: Vec<Reject>,
    batch_rows: usize,
}

impl TextBatcher {
    pub(crate) fn new(columns: &[ColumnDef], batch_rows: usize) -> Self {
        TextBatcher {
            names: columns.iter().map(|c| c.name.clone()).collect(),
            builders: columns
                .iter()
                .map(|_| arrow::array::StringBuilder::with_capacity(batch_rows, batch_rows * 16))
                .collect(),
            rows: Vec::with_capacity(batch_rows),
            rejects: vec![],
            batch_rows: batch_rows.max(1),
        }
    }

    /// Appends one row: `cell(i)` is the text of declared column `i`.
    pub(crate) fn push<'a>(&mut self, row: u64, mut cell: impl FnMut(usize) -> Option<&'a str>) {
        for (i, b) in self.builders.iter_mut().enumerate() {
            match cell(i) {
                Some(s) if !s.is_empty() => b.append_value(s),
                _ => b.append_null(),
            }
        }
        self.rows.push(row);
    }

    /// Appends one row keeping an empty text apart from a missing value:
    /// a database's `''` is not its NULL (issue #23, G). Files, where an
    /// empty cell is the only way to write "no value", use [`Self::push`].
    pub(crate) fn push_exact<'a>(
        &mut self,
        row: u64,
        mut cell: impl FnMut(usize) -> Option<&'a str>,
    ) {
        for (i, b) in self.builders.iter_mut().enumerate() {
            b.append_option(cell(i));
        }
        self.rows.push(row);
    }

    pub(crate) fn reject(&mut self, r: Reject) {
        self.rejects.push(r);
    }

    pub(crate) fn is_full(&self) -> bool {
        self.rows.len() >= self.batch_rows || self.rejects.len() >= self.batch_rows
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty() && self.rejects.is_empty()
    }

    /// The rows so far, as a batch; the batcher starts over.
    pub(crate) fn finish(&mut self) -> RawBatch {
        let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(
            self.names
                .iter()
                .map(|n| arrow::datatypes::Field::new(n, arrow::datatypes::DataType::Utf8, true))
                .collect::<Vec<_>>(),
        ));
        let arrays: Vec<arrow::array::ArrayRef> = self
            .builders
            .iter_mut()
            .map(|b| std::sync::Arc::new(b.finish()) as arrow::array::ArrayRef)
            .collect();
        let n = self.rows.len();
        let columns = RecordBatch::try_new_with_options(
            schema,
            arrays,
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(n)),
        )
        .expect("text columns of equal length");
        RawBatch {
            columns,
            rows: UInt64Array::from(std::mem::take(&mut self.rows)),
            rejects: std::mem::take(&mut self.rejects),
            keys: None,
        }
    }
}

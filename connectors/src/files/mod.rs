//! File datasets: one or more files (or directories of files) in CSV,
//! JSON/NDJSON, XLSX or Parquet that together form ONE dataset, exposed to
//! DataFusion as a table with two extra columns locating every row in its
//! source: [`FILE_COLUMN`] (index into [`FileDataset::files`]) and
//! [`ROW_COLUMN`] (0-based record index in that file, in file order).
//!
//! ```text
//!  paths ─expand─▶ files ─┬─ CSV / JSON: stream once (encoding, header, inference over ALL text files) ─┐
//!                         ├─ XLSX: the sheet read into cells ─────────────────────────────────────────┴─▶ types
//!                         └─ Parquet: metadata only
//!  scan(projection) ─▶ ScanExec: partitions of row-group ranges / text files ─▶ batches + __pdq_file + __pdq_row
//!                        (Parquet row groups and CSV/JSON records are read again, streamed, at scan time)
//! ```
//!
//! Memory does not grow with the size of a Parquet, CSV or JSON file: they
//! are read a batch at a time when the dataset is scanned. A CSV or JSON
//! file is read through once more when the dataset is opened, to find its
//! encoding and columns and to infer types over every value; if it changes
//! between the two reads, the scan fails rather than read other data. That
//! first read also notes a record boundary every `SEGMENT_ROWS` (128K) records of
//! a UTF-8, GB18030 or GBK CSV, so that the scan can read one large file
//! with every partition, each segment from its boundary. An XLSX sheet is held in
//! memory (the format caps a sheet at 1,048,576 rows).

pub(crate) mod csv;
mod exec;
pub mod infer;
pub(crate) mod json;
pub mod sheet;
pub(crate) mod text;
pub(crate) mod xlsx;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, new_null_array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono_tz::Tz;
use datafusion::catalog::TableProvider;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

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
}

/// One dataset made of files. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FileDataset {
    inner: Arc<Inner>,
}

fn expand(paths: &[PathBuf]) -> Result<Vec<SourceFile>, FileError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => FileError::NotFound { path: p.clone() },
            _ => FileError::Io {
                path: p.clone(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            let mut found = Vec::new();
            walk(p, p, &mut found, &mut Seen::default())?;
            if found.is_empty() {
                return Err(FileError::NoFiles { path: p.clone() });
            }
            found.sort_by(|a: &SourceFile, b| a.path.cmp(&b.path));
            out.extend(found);
        } else {
            let format =
                FileFormat::of(p).ok_or_else(|| FileError::Unsupported { path: p.clone() })?;
            out.push(SourceFile {
                path: p.clone(),
                display: p.display().to_string(),
                format,
                rows: None,
            });
        }
    }
    Ok(out)
}

/// The directories and files a walk has reached, by canonical path: a
/// symbolic link back up the tree (`data/loop -> ..`) is a loop that once
/// made `pdq check --data DIR` walk for ever, and a second path to the same
/// file would count its rows twice (issue #18, 8). Each is taken once.
#[derive(Default)]
struct Seen {
    dirs: std::collections::HashSet<PathBuf>,
    files: std::collections::HashSet<PathBuf>,
}

impl Seen {
    /// True the first time `path` (a directory or a file) is reached.
    fn first(set: &mut std::collections::HashSet<PathBuf>, path: &Path) -> bool {
        match std::fs::canonicalize(path) {
            Ok(real) => set.insert(real),
            // Unresolvable (a dangling link): reading it reports the error.
            Err(_) => true,
        }
    }
}

fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<SourceFile>,
    seen: &mut Seen,
) -> Result<(), FileError> {
    if !Seen::first(&mut seen.dirs, dir) {
        tracing::warn!(dir = %dir.display(), "directory reached a second time (a symbolic link loop?); read once");
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| FileError::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    for entry in entries {
        let entry = entry.map_err(|e| FileError::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(root, &path, out, seen)?;
        } else if let Some(format) = FileFormat::of(&path) {
            if !Seen::first(&mut seen.files, &path) {
                tracing::warn!(file = %path.display(), "file reached by a second path; read once");
                continue;
            }
            let display = root
                .join(path.strip_prefix(root).unwrap_or(&path))
                .display()
                .to_string();
            out.push(SourceFile {
                path,
                display,
                format,
                rows: None,
            });
        }
    }
    Ok(())
}

/// Each column name's first position, for lookups by name in one step.
fn positions(columns: &[String]) -> HashMap<&str, usize> {
    let mut at = HashMap::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        at.entry(c.as_str()).or_insert(i);
    }
    at
}

/// What the first read of a CSV or JSON file finds.
struct FirstRead {
    columns: Vec<String>,
    inference: Vec<infer::ColumnInference>,
    /// (byte offset in the decoded text, record index) of every
    /// `SEGMENT_ROWS`-th record of a UTF-8 CSV.
    starts: Vec<(u64, u64)>,
    records: u64,
}

/// Reads a CSV or JSON file through once: its columns, the inference over
/// every value, its record count and (UTF-8 CSV) its segment boundaries.
fn first_read(path: &Path, spec: TextSpec) -> Result<FirstRead, FileError> {
    let mut columns: Vec<String> = Vec::new();
    let mut inference: Vec<infer::ColumnInference> = Vec::new();
    // UTF-8 and GB18030 CSV can be split at record boundaries: note one
    // every SEGMENT_ROWS records (offsets in the file, after a UTF-8 BOM).
    let splittable = matches!(spec, TextSpec::Csv(c) if csv::splittable(c));
    let mut starts: Vec<(u64, u64)> = Vec::new();
    let observe = |row: u64, cells: text::Cells<'_>| {
        if splittable
            && row.is_multiple_of(SEGMENT_ROWS)
            && let Some(at) = cells.byte_offset()
        {
            starts.push((at, row));
        }
        if inference.len() < cells.len() {
            inference.resize(cells.len(), Default::default());
        }
        for (c, inf) in inference.iter_mut().enumerate().take(cells.len()) {
            inf.observe(cells.get(c));
        }
        Ok(true)
    };
    let input = open_file(path)?;
    let records = match spec {
        TextSpec::Csv(spec) => csv::read_csv(
            path,
            input,
            spec,
            |header| {
                columns = header.to_vec();
                Ok(())
            },
            observe,
        )?,
        TextSpec::Json => json::read_json(path, input, &mut columns, observe)?,
    };
    if columns.is_empty() {
        return Err(FileError::Empty {
            path: path.to_path_buf(),
        });
    }
    inference.resize(columns.len(), Default::default());
    Ok(FirstRead {
        columns,
        inference,
        starts,
        records,
    })
}

fn open_file(path: &Path) -> Result<std::fs::File, FileError> {
    std::fs::File::open(path).map_err(|e| FileError::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

/// Strings are read as views: cheaper to decode and to trim without copying.
fn view_type(dt: &DataType) -> DataType {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 => DataType::Utf8View,
        DataType::Binary | DataType::LargeBinary => DataType::BinaryView,
        other => other.clone(),
    }
}

/// One file as [`FileDataset::open`] found it: XLSX cells, streamed text's
/// columns and inference, or Parquet schema + row groups.
enum Loaded {
    Text(text::TextTable),
    Stream {
        spec: TextSpec,
        stamp: Stamp,
        columns: Vec<String>,
        inference: Vec<infer::ColumnInference>,
        segments: Vec<Segment>,
    },
    Parquet(SchemaRef, Vec<u64>),
}

/// Reads what opening needs of one file, and notes its number of rows.
fn load(f: &mut SourceFile, opts: &ReadOptions) -> Result<Loaded, FileError> {
    match f.format {
        FileFormat::Parquet => load_parquet(f),
        FileFormat::Xlsx => {
            let table = xlsx::read_xlsx(&f.path, opts.sheet.as_deref(), opts.xlsx)?;
            f.rows = Some(table.rows.len() as u64);
            Ok(Loaded::Text(table))
        }
        FileFormat::Csv | FileFormat::Json => load_stream(f, opts),
    }
}

/// A Parquet file's metadata: its read schema (strings as views) and the
/// rows of each row group.
fn load_parquet(f: &mut SourceFile) -> Result<Loaded, FileError> {
    let file = std::fs::File::open(&f.path).map_err(|e| FileError::Io {
        path: f.path.clone(),
        source: e,
    })?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| FileError::Parquet {
            path: f.path.clone(),
            message: e.to_string(),
        })?;
    let row_groups: Vec<u64> = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| rg.num_rows().max(0) as u64)
        .collect();
    f.rows = Some(row_groups.iter().sum());
    let schema = builder.schema();
    let read = Schema::new(
        schema
            .fields()
            .iter()
            // Keep nullability and metadata: the reader rejects a hint that
            // differs from the file in anything but the string layout
            // (DuckDB, for one, writes REQUIRED columns).
            .map(|fl| {
                fl.as_ref()
                    .clone()
                    .with_data_type(view_type(fl.data_type()))
            })
            .collect::<Vec<_>>(),
    );
    Ok(Loaded::Parquet(Arc::new(read), row_groups))
}

/// How a CSV or JSON file is parsed, before its encoding is detected.
fn text_spec(f: &SourceFile, opts: &ReadOptions) -> TextSpec {
    match f.format {
        FileFormat::Csv => {
            let tsv = f
                .path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
            TextSpec::Csv(csv::CsvSpec {
                encoding: opts.encoding.unwrap_or(encoding_rs::UTF_8),
                delimiter: opts.delimiter.unwrap_or(if tsv { b'\t' } else { b',' }),
                has_header: opts.has_header,
            })
        }
        _ => TextSpec::Json,
    }
}

/// A CSV or JSON file read through once: its encoding, columns, inference,
/// record count and segments.
fn load_stream(f: &mut SourceFile, opts: &ReadOptions) -> Result<Loaded, FileError> {
    let stamp = Stamp::of(&f.path)?;
    let (spec, first) = first_read_detecting_encoding(&f.path, text_spec(f, opts), opts)?;
    f.rows = Some(first.records);
    let segments = segments_of(&f.path, spec, &first)?;
    Ok(Loaded::Stream {
        spec,
        stamp,
        columns: first.columns,
        inference: first.inference,
        segments,
    })
}

/// The first read, with the CSV encoding detected: not forced and no BOM,
/// UTF-8 if every record is valid UTF-8 (they are validated as they are
/// read), else GB18030 (a superset of GBK and GB2312).
fn first_read_detecting_encoding(
    path: &Path,
    spec: TextSpec,
    opts: &ReadOptions,
) -> Result<(TextSpec, FirstRead), FileError> {
    match spec {
        TextSpec::Csv(spec_csv) if opts.encoding.is_none() && csv::bom_len(path)? == 0 => {
            match first_read(path, spec) {
                Err(FileError::Encoding { .. }) => {
                    let spec = TextSpec::Csv(csv::CsvSpec {
                        encoding: encoding_rs::GB18030,
                        ..spec_csv
                    });
                    Ok((spec, first_read(path, spec)?))
                }
                other => Ok((spec, other?)),
            }
        }
        _ => Ok((spec, first_read(path, spec)?)),
    }
}

/// The segments a CSV file is scanned in (empty: read whole, in order).
fn segments_of(path: &Path, spec: TextSpec, first: &FirstRead) -> Result<Vec<Segment>, FileError> {
    if first.starts.len() <= 1 {
        return Ok(Vec::new());
    }
    let utf8 = matches!(spec, TextSpec::Csv(c) if c.encoding == encoding_rs::UTF_8);
    let bom = if utf8 { csv::bom_len(path)? } else { 0 };
    let starts = &first.starts;
    Ok(starts
        .iter()
        .enumerate()
        .map(|(k, &(at, row))| Segment {
            start: bom + at,
            first_row: row,
            rows: starts.get(k + 1).map_or(first.records, |n| n.1) - row,
        })
        .collect())
}

/// The dataset's columns and, for text columns, the inference over every
/// text file. Column order: first seen; types: Parquet as stored, text
/// inferred jointly over every text file; disagreement falls back to text.
fn dataset_schema(
    loaded: &[Loaded],
    tz: Tz,
) -> (SchemaRef, BTreeMap<String, infer::ColumnInference>) {
    let mut order: Vec<String> = Vec::new();
    // Membership of `order`, so that a 100,000-column header is not
    // searched once per column (issue #18, 8: it took 51 s).
    let mut in_order: HashSet<String> = HashSet::new();
    let mut stored: BTreeMap<String, Vec<DataType>> = BTreeMap::new();
    let mut inference: BTreeMap<String, infer::ColumnInference> = BTreeMap::new();
    for l in loaded {
        match l {
            Loaded::Parquet(schema, _) => {
                for fl in schema.fields() {
                    if in_order.insert(fl.name().clone()) {
                        order.push(fl.name().clone());
                    }
                    stored
                        .entry(fl.name().clone())
                        .or_default()
                        .push(fl.data_type().clone());
                }
            }
            Loaded::Text(t) => {
                for (c, name) in t.columns.iter().enumerate() {
                    if in_order.insert(name.clone()) {
                        order.push(name.clone());
                    }
                    let inf = inference.entry(name.clone()).or_default();
                    t.cells[c].iter().for_each(|v| inf.observe(v.as_deref()));
                }
            }
            Loaded::Stream {
                columns,
                inference: file_inference,
                ..
            } => {
                for (name, inf) in columns.iter().zip(file_inference) {
                    if in_order.insert(name.clone()) {
                        order.push(name.clone());
                    }
                    inference.entry(name.clone()).or_default().merge(inf);
                }
            }
        }
    }
    let fields: Vec<Field> = order
        .iter()
        .map(|name| {
            let mut types: Vec<DataType> = stored.get(name).cloned().unwrap_or_default();
            if let Some(inf) = inference.get(name) {
                types.push(inf.data_type(tz));
            }
            types.dedup();
            let dt = if types.len() == 1 {
                types.remove(0)
            } else {
                DataType::Utf8View
            };
            Field::new(name, dt, true)
        })
        .collect();
    (Arc::new(Schema::new(fields)), inference)
}

/// The data columns plus [`FILE_COLUMN`] and [`ROW_COLUMN`].
fn with_location_columns(schema: &Schema) -> SchemaRef {
    let mut full = schema
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect::<Vec<_>>();
    full.push(Field::new(FILE_COLUMN, DataType::UInt32, false));
    full.push(Field::new(ROW_COLUMN, DataType::UInt64, false));
    Arc::new(Schema::new(full))
}

/// What the dataset's columns are built from: its schema, the joint text
/// inference and the zone of naive timestamps.
struct Columns<'a> {
    schema: &'a SchemaRef,
    inference: &'a BTreeMap<String, infer::ColumnInference>,
    tz: Tz,
}

impl Columns<'_> {
    /// The type a text column's values are converted to (then conformed).
    fn inferred(&self, name: &str) -> DataType {
        self.inference
            .get(name)
            .map(|i| i.data_type(self.tz))
            .unwrap_or(DataType::Utf8View)
    }

    /// Turns one loaded file into its scan-time part.
    fn part(&self, l: Loaded, f: &SourceFile) -> Result<FilePart, FileError> {
        Ok(match l {
            Loaded::Parquet(read_schema, row_groups) => {
                let at: HashMap<&str, usize> = read_schema
                    .fields()
                    .iter()
                    .enumerate()
                    .map(|(i, fl)| (fl.name().as_str(), i))
                    .collect();
                FilePart::Parquet {
                    columns: self.positions_in(&at),
                    read_schema,
                    row_groups,
                }
            }
            Loaded::Stream {
                spec,
                stamp,
                columns,
                segments,
                ..
            } => {
                let at = positions(&columns);
                FilePart::Stream {
                    spec,
                    stamp,
                    width: columns.len(),
                    segments,
                    columns: self.positions_in(&at),
                    types: self
                        .schema
                        .fields()
                        .iter()
                        .map(|fl| self.inferred(fl.name()))
                        .collect(),
                    time_zone: self.tz,
                }
            }
            Loaded::Text(t) => self.sheet_part(t, f)?,
        })
    }

    /// For each dataset column, its index in a file (None = absent).
    fn positions_in(&self, at: &HashMap<&str, usize>) -> Vec<Option<usize>> {
        self.schema
            .fields()
            .iter()
            .map(|fl| at.get(fl.name().as_str()).copied())
            .collect()
    }

    /// An XLSX sheet converted to one batch in dataset column order.
    fn sheet_part(&self, t: text::TextTable, f: &SourceFile) -> Result<FilePart, FileError> {
        let n = t.rows.len();
        let at = positions(&t.columns);
        let arrays: Vec<ArrayRef> = self
            .schema
            .fields()
            .iter()
            .map(|fl| match at.get(fl.name().as_str()).copied() {
                Some(c) => {
                    let inferred = self.inferred(fl.name());
                    let a =
                        infer::convert(t.cells[c].iter().map(|v| v.as_deref()), &inferred, self.tz);
                    exec::conform(a, fl.data_type()).map_err(|e| FileError::Header {
                        path: f.path.clone(),
                        message: format!("column `{}`: {e}", fl.name()),
                    })
                }
                None => Ok(new_null_array(fl.data_type(), n)),
            })
            .collect::<Result<_, _>>()?;
        let batch = RecordBatch::try_new_with_options(
            Arc::clone(self.schema),
            arrays,
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(n)),
        )
        .map_err(|e| FileError::Header {
            path: f.path.clone(),
            message: e.to_string(),
        })?;
        Ok(FilePart::Text {
            batch,
            rows: Arc::new(arrow::array::UInt64Array::from(t.rows)),
        })
    }
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
            }),
        })
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
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    /// Issue #18, 8: two symbolic links back up the tree made the walk
    /// branch for ever; a link to a file already read counted it twice.
    /// Each directory and file is now read once, in bounded time.
    #[test]
    fn symbolic_link_loops_are_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(data.join("a.csv"), "x\n1\n").unwrap();
        std::fs::write(data.join("sub/b.csv"), "x\n2\n").unwrap();
        std::os::unix::fs::symlink(&data, data.join("sub/up")).unwrap();
        std::os::unix::fs::symlink(&data, data.join("sub/up2")).unwrap();
        std::os::unix::fs::symlink(data.join("a.csv"), data.join("again.csv")).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let root = data.clone();
        std::thread::spawn(move || {
            let _ = tx.send(expand(&[root]));
        });
        let files = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the walk ends")
            .unwrap();
        let mut names: Vec<String> = files
            .iter()
            .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "each file once: {names:?}");
        assert!(names.contains(&"b.csv".to_string()), "{names:?}");
    }

    /// Regression: Parquet columns marked REQUIRED (not nullable), as DuckDB
    /// writes them, were refused by the reader's schema hint.
    #[test]
    fn reads_required_parquet_columns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("req.parquet");
        let schema = Arc::new(Schema::new(vec![
            Field::new("c", DataType::Utf8, false),
            Field::new("n", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            vec![
                Arc::new(StringArray::from(vec!["a", "b"])),
                Arc::new(Int64Array::from(vec![1, 2])),
            ],
        )
        .unwrap();
        let mut w = parquet::arrow::ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            schema,
            None,
        )
        .unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        let ds = FileDataset::open(&[path], &ReadOptions::default()).unwrap();
        let ctx = datafusion::prelude::SessionContext::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let rows = rt.block_on(async {
            let df = ctx.read_table(ds.table_provider()).unwrap();
            df.collect()
                .await
                .unwrap()
                .iter()
                .map(|b| b.num_rows())
                .sum::<usize>()
        });
        assert_eq!(rows, 2);
        assert_eq!(ds.schema().field(0).data_type(), &DataType::Utf8View);
    }

    fn scan(
        ds: &FileDataset,
        batch_size: usize,
        sql: &str,
    ) -> datafusion::common::Result<Vec<RecordBatch>> {
        let config = datafusion::prelude::SessionConfig::new()
            .with_batch_size(batch_size)
            .with_target_partitions(2);
        let ctx = datafusion::prelude::SessionContext::new_with_config(config);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            ctx.register_table("t", ds.table_provider())?;
            ctx.sql(sql).await?.collect().await
        })
    }

    /// CSV and JSON are streamed at scan time, batch by batch, with types
    /// inferred over every value at open (the value that makes `amount` a
    /// float is in the last row) and locations counted across batches.
    #[test]
    fn text_files_are_streamed_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        let mut text = "id,amount,when\n".to_string();
        for i in 0..9 {
            text.push_str(&format!("0{i},{i},2024-01-0{}\n", i + 1));
            if i == 4 {
                text.push('\n'); // blank lines are not records
            }
        }
        text.push_str("09,1.5,\n");
        std::fs::write(&csv, &text).unwrap();
        let json = dir.path().join("b.ndjson");
        std::fs::write(
            &json,
            "{\"id\":\"10\",\"amount\":2}\n{\"amount\":3,\"extra\":\"x\"}\n",
        )
        .unwrap();
        let ds = FileDataset::open(&[csv, json], &ReadOptions::default()).unwrap();
        assert_eq!(ds.files()[0].rows, Some(10));
        assert_eq!(ds.files()[1].rows, Some(2));
        let schema = ds.schema();
        assert_eq!(
            schema.field_with_name("id").unwrap().data_type(),
            &DataType::Utf8View
        );
        assert_eq!(
            schema.field_with_name("amount").unwrap().data_type(),
            &DataType::Float64
        );
        assert_eq!(
            schema.field_with_name("when").unwrap().data_type(),
            &DataType::Date32
        );
        // The bare scan comes in batches of at most 3 rows.
        let batches = scan(&ds, 3, "SELECT amount, __pdq_file, __pdq_row FROM t").unwrap();
        assert!(batches.len() >= 5, "{} batches", batches.len());
        assert!(batches.iter().all(|b| b.num_rows() <= 3));
        let batches = scan(
            &ds,
            3,
            "SELECT CAST(__pdq_file AS BIGINT) * 100 + CAST(__pdq_row AS BIGINT) AS at, id, amount, \
             CAST(\"when\" AS VARCHAR) AS w, extra FROM t ORDER BY at",
        )
        .unwrap();
        let table = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        let want = "\
+-----+----+--------+------------+-------+
| at  | id | amount | w          | extra |
+-----+----+--------+------------+-------+
| 0   | 00 | 0.0    | 2024-01-01 |       |
| 1   | 01 | 1.0    | 2024-01-02 |       |
| 2   | 02 | 2.0    | 2024-01-03 |       |
| 3   | 03 | 3.0    | 2024-01-04 |       |
| 4   | 04 | 4.0    | 2024-01-05 |       |
| 5   | 05 | 5.0    | 2024-01-06 |       |
| 6   | 06 | 6.0    | 2024-01-07 |       |
| 7   | 07 | 7.0    | 2024-01-08 |       |
| 8   | 08 | 8.0    | 2024-01-09 |       |
| 9   | 09 | 1.5    |            |       |
| 100 | 10 | 2.0    |            |       |
| 101 |    | 3.0    |            | x     |
+-----+----+--------+------------+-------+";
        assert_eq!(table, want);
    }

    /// A file rewritten between opening and scanning is not read as if it
    /// were the file whose types were inferred.
    #[test]
    fn a_text_file_that_changes_before_the_scan_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("a.csv");
        std::fs::write(&csv, "n\n1\n2\n").unwrap();
        let ds = FileDataset::open(std::slice::from_ref(&csv), &ReadOptions::default()).unwrap();
        std::fs::write(&csv, "n\n1\n2\nthree\n").unwrap();
        let err = scan(&ds, 8192, "SELECT n FROM t").unwrap_err();
        assert!(
            err.to_string()
                .contains("a.csv: the file changed while it was being checked"),
            "{err}"
        );
    }

    /// A UTF-8 CSV (with a BOM, quoted newlines and blank lines) of several
    /// segments, and the same in GB18030, is read by two partitions at
    /// once: every record exactly once, with its record index, its values
    /// intact.
    #[test]
    fn a_large_csv_is_split_at_record_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("big.csv");
        let mut text = "\u{feff}n,note\n".to_string();
        let rows = 5_500u64;
        for i in 0..rows {
            if i % 7 == 0 {
                text.push_str(&format!("{i},\"line one\nline {i}, two\"\n"));
            } else {
                text.push_str(&format!("{i},备注{i}\n"));
            }
            if i % 1000 == 999 {
                text.push_str("\n\n"); // blank lines at segment edges
            }
        }
        // The same records in UTF-8 (with a BOM) and in GB18030.
        let gb = dir.path().join("big-gb.csv");
        std::fs::write(&csv, &text).unwrap();
        std::fs::write(&gb, encoding_rs::GB18030.encode(&text[3..]).0).unwrap();
        for (path, encoding) in [(&csv, encoding_rs::UTF_8), (&gb, encoding_rs::GB18030)] {
            split_and_read(path, encoding, rows);
        }
    }

    fn split_and_read(csv: &Path, encoding: &'static encoding_rs::Encoding, rows: u64) {
        let ds = FileDataset::open(&[csv.to_path_buf()], &ReadOptions::default()).unwrap();
        let FilePart::Stream {
            segments,
            spec: TextSpec::Csv(spec),
            ..
        } = &ds.inner.parts[0]
        else {
            panic!("a CSV is streamed");
        };
        assert_eq!(spec.encoding, encoding);
        assert_eq!(segments.len(), 6);
        assert_eq!(segments.iter().map(|s| s.rows).sum::<u64>(), rows);
        let batches = scan(
            &ds,
            512,
            "SELECT count(*) AS records, count(DISTINCT __pdq_row) AS distinct_rows, \
             sum(CAST(__pdq_row AS BIGINT) - n) AS misplaced, \
             sum(CASE WHEN note = concat('line one', chr(10), 'line ', CAST(n AS VARCHAR), ', two') \
                      OR note = concat('备注', CAST(n AS VARCHAR)) THEN 0 ELSE 1 END) AS wrong_notes \
             FROM t",
        )
        .unwrap();
        let table = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert_eq!(
            table,
            "\
+---------+---------------+-----------+-------------+
| records | distinct_rows | misplaced | wrong_notes |
+---------+---------------+-----------+-------------+
| 5500    | 5500          | 0         | 0           |
+---------+---------------+-----------+-------------+"
        );
    }

    /// Without `--encoding` a CSV is UTF-8 only if all of it is: one
    /// GB18030 record after more than a megabyte of valid UTF-8 makes the
    /// whole file GB18030 (read again from the start).
    #[test]
    fn a_late_gb18030_record_makes_the_file_gb18030() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("late.csv");
        let mut text = "name,n\n".to_string();
        let mut rows = 0;
        while text.len() < (1 << 20) + 10 {
            text.push_str("ascii only,1\n");
            rows += 1;
        }
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&encoding_rs::GB18030.encode("张三,2\n").0);
        std::fs::write(&csv, &bytes).unwrap();
        let ds = FileDataset::open(std::slice::from_ref(&csv), &ReadOptions::default()).unwrap();
        let FilePart::Stream {
            spec: TextSpec::Csv(spec),
            ..
        } = &ds.inner.parts[0]
        else {
            panic!("a CSV is streamed");
        };
        assert_eq!(spec.encoding, encoding_rs::GB18030);
        let batches = scan(
            &ds,
            8192,
            &format!("SELECT name FROM t WHERE __pdq_row = {rows}"),
        )
        .unwrap();
        let table = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        assert!(table.contains("张三"), "{table}");
    }
}

//! Opening a dataset's files: what each file holds (Parquet metadata, text
//! read through once, XLSX cells), the dataset's joint schema, and each
//! file's scan-time part.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, new_null_array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono_tz::Tz;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::{
    FILE_COLUMN, FileError, FileFormat, FilePart, Inference, ROW_COLUMN, ReadOptions, SEGMENT_ROWS,
    Segment, SourceFile, Stamp, TextSpec,
};
use super::{csv, exec, infer, json, split, text, xlsx};

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

/// One file as [`super::FileDataset::open`] found it: XLSX cells, streamed
/// text's columns and inference, or Parquet schema + row groups.
pub(super) enum Loaded {
    Text(text::TextTable),
    Stream {
        spec: TextSpec,
        stamp: Stamp,
        columns: Vec<String>,
        inference: Vec<infer::ColumnInference>,
        segments: Vec<Segment>,
        /// Typed from a sample, read in ranges at scan time.
        sampled: Option<Sampled>,
    },
    Parquet(SchemaRef, Vec<u64>),
}

/// What a CSV typed from a sample needs at scan time.
pub(super) struct Sampled {
    /// Where the csv reader reports the first record after the header
    /// (after a BOM), and its line.
    data_start: u64,
    first_line: u64,
    records: u64,
    encoding_from_sample: bool,
}

/// Reads what opening needs of one file, and notes its number of rows.
pub(super) fn load(f: &mut SourceFile, opts: &ReadOptions) -> Result<Loaded, FileError> {
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
/// record count and segments. A large CSV with [`Inference::Sampled`] is
/// only sampled.
fn load_stream(f: &mut SourceFile, opts: &ReadOptions) -> Result<Loaded, FileError> {
    let stamp = Stamp::of(&f.path)?;
    if let (Inference::Sampled { records }, TextSpec::Csv(spec)) =
        (opts.inference, text_spec(f, opts))
        && let Some(loaded) = load_sampled(f, opts, spec, records, &stamp)?
    {
        return Ok(loaded);
    }
    let (spec, first) = first_read_detecting_encoding(&f.path, text_spec(f, opts), opts)?;
    f.rows = Some(first.records);
    let segments = segments_of(&f.path, spec, &first)?;
    Ok(Loaded::Stream {
        spec,
        stamp,
        columns: first.columns,
        inference: first.inference,
        segments,
        sampled: None,
    })
}

/// Reads the first `records` records of a CSV: its encoding (detected on
/// them), columns and the inference over them. The whole file when it has
/// no more (then exactly as [`first_read`]); `None` when its encoding
/// cannot be read in ranges.
fn load_sampled(
    f: &mut SourceFile,
    opts: &ReadOptions,
    spec: csv::CsvSpec,
    records: u64,
    stamp: &Stamp,
) -> Result<Option<Loaded>, FileError> {
    let bom = csv::bom_len(&f.path)?;
    let detect = opts.encoding.is_none() && bom == 0;
    let (spec, sample) = match sample_read(&f.path, spec, records) {
        Err(FileError::Encoding { .. }) if detect => {
            let gb = csv::CsvSpec {
                encoding: encoding_rs::GB18030,
                ..spec
            };
            (gb, sample_read(&f.path, gb, records)?)
        }
        other => (spec, other?),
    };
    if !csv::splittable(spec) {
        return Ok(None);
    }
    let (first, at) = sample;
    let sampled = if first.records < records {
        f.rows = Some(first.records);
        None
    } else {
        let (data_start, first_line) = at.unwrap_or((0, 1));
        Some(Sampled {
            data_start: bom + data_start,
            first_line,
            records,
            encoding_from_sample: detect && spec.encoding == encoding_rs::UTF_8,
        })
    };
    Ok(Some(Loaded::Stream {
        spec: TextSpec::Csv(spec),
        stamp: stamp.clone(),
        columns: first.columns,
        inference: first.inference,
        segments: Vec::new(),
        sampled,
    }))
}

/// The first `records` records of a CSV, and where its first record is
/// reported (byte after a BOM, line).
fn sample_read(
    path: &Path,
    spec: csv::CsvSpec,
    records: u64,
) -> Result<(FirstRead, Option<(u64, u64)>), FileError> {
    let mut columns: Vec<String> = Vec::new();
    let mut inference: Vec<infer::ColumnInference> = Vec::new();
    let mut at = None;
    let read = csv::read_csv(
        path,
        open_file(path)?,
        spec,
        |header| {
            columns = header.to_vec();
            Ok(())
        },
        |row, cells| {
            if row == 0 {
                at = cells.position();
            }
            if inference.len() < cells.len() {
                inference.resize(cells.len(), Default::default());
            }
            for (c, inf) in inference.iter_mut().enumerate().take(cells.len()) {
                inf.observe(cells.get(c));
            }
            Ok(row + 1 < records)
        },
    )?;
    inference.resize(columns.len(), Default::default());
    Ok((
        FirstRead {
            columns,
            inference,
            starts: Vec::new(),
            records: read,
        },
        at,
    ))
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
pub(super) fn dataset_schema(
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
pub(super) fn with_location_columns(schema: &Schema) -> SchemaRef {
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
pub(super) struct Columns<'a> {
    pub(super) schema: &'a SchemaRef,
    pub(super) inference: &'a BTreeMap<String, infer::ColumnInference>,
    pub(super) tz: Tz,
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
    pub(super) fn part(&self, l: Loaded, f: &SourceFile) -> Result<FilePart, FileError> {
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
                sampled,
                ..
            } => {
                let at = positions(&columns);
                let positions = self.positions_in(&at);
                let types: Vec<DataType> = self
                    .schema
                    .fields()
                    .iter()
                    .map(|fl| self.inferred(fl.name()))
                    .collect();
                let split = match (sampled, spec) {
                    (Some(s), TextSpec::Csv(csv_spec)) => Some(Arc::new(split::Split {
                        spec: csv_spec,
                        stamp: stamp.clone(),
                        data_start: s.data_start,
                        first_line: s.first_line,
                        len: stamp.len,
                        width: columns.len(),
                        guards: self.guards(&positions),
                        columns: positions.clone(),
                        types: types.clone(),
                        time_zone: self.tz,
                        encoding_from_sample: s.encoding_from_sample,
                        sample: s.records,
                    })),
                    _ => None,
                };
                FilePart::Stream {
                    spec,
                    stamp,
                    width: columns.len(),
                    segments,
                    columns: positions,
                    types,
                    time_zone: self.tz,
                    split,
                }
            }
            Loaded::Text(t) => self.sheet_part(t, f)?,
        })
    }

    /// What a scan of a sampled file checks of each dataset column.
    fn guards(&self, positions: &[Option<usize>]) -> Vec<split::Guard> {
        self.schema
            .fields()
            .iter()
            .zip(positions)
            .map(|(fl, at)| {
                let voted = self.inference.get(fl.name()).is_some_and(|i| i.voted());
                match (at, self.inferred(fl.name())) {
                    (None, _) => split::Guard::None,
                    (Some(_), DataType::Utf8View) if !voted => split::Guard::Unvoted,
                    (Some(_), DataType::Utf8View) => split::Guard::None,
                    (Some(_), _) => split::Guard::Typed,
                }
            })
            .collect()
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

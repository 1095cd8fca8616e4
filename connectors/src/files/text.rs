//! Text-format readers. CSV and JSON/NDJSON are streamed record by record
//! (read once at open to infer types, again at scan time to convert), so
//! memory does not grow with the file. XLSX is streamed row by row into a
//! column-major table of text cells of the named columns, charged against
//! `xlsx_max_bytes` (see `sheet`). Types come from inference over every file
//! of the dataset (`infer`).

use std::io::{BufRead, Read};
use std::path::Path;

use calamine::Data;
use encoding_rs::Encoding;

use super::FileError;
use super::sheet::{SheetError, SheetRow, Workbook, XlsxLimits};

/// The cells of one XLSX sheet, column-major.
#[derive(Debug, Default)]
pub(crate) struct TextTable {
    pub columns: Vec<String>,
    /// 0-based record index of each row in file order.
    pub rows: Vec<u64>,
    /// `cells[c][r]`.
    pub cells: Vec<Vec<Option<String>>>,
}

impl TextTable {
    fn with_columns(columns: Vec<String>) -> Self {
        let n = columns.len();
        TextTable {
            columns,
            rows: vec![],
            cells: vec![Vec::new(); n],
        }
    }

    fn push(&mut self, row: u64, cells: Vec<Option<String>>) {
        self.rows.push(row);
        for (col, cell) in self.cells.iter_mut().zip(cells) {
            col.push(cell);
        }
    }
}

fn clean_header(raw: &str) -> String {
    raw.trim_start_matches('\u{feff}').trim().to_string()
}

fn check_headers(
    path: &Path,
    columns: &[String],
    describe: impl Fn(usize) -> String,
) -> Result<(), FileError> {
    // First position of each name: one look-up per column, not a search
    // of the columns before it (a 100,000-column header took 51 s).
    let mut first: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(columns.len());
    for (i, c) in columns.iter().enumerate() {
        if c.is_empty() {
            return Err(FileError::Header {
                path: path.to_path_buf(),
                message: format!("{} has an empty name", describe(i)),
            });
        }
        if let Some(&j) = first.get(c.as_str()) {
            return Err(FileError::Header {
                path: path.to_path_buf(),
                message: format!("{} repeats the name `{c}` of {}", describe(i), describe(j)),
            });
        }
        first.insert(c.as_str(), i);
    }
    Ok(())
}

/// One record's cells, by the file's column index (`None`: NULL, or a
/// JSON record without that key).
pub(crate) enum Cells<'a> {
    Csv(&'a csv::StringRecord),
    Json(&'a [Option<String>]),
}

impl Cells<'_> {
    /// The cell of column `i`.
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        match self {
            Cells::Csv(r) => r.get(i),
            Cells::Json(c) => c.get(i).and_then(|c| c.as_deref()),
        }
    }

    /// Where a CSV record starts in the decoded text (bytes), to resume
    /// reading there ([`read_csv_range`]).
    pub(crate) fn byte_offset(&self) -> Option<u64> {
        match self {
            Cells::Csv(r) => r.position().map(|p| p.byte()),
            Cells::Json(_) => None,
        }
    }

    /// How many columns the record has cells for.
    pub(crate) fn len(&self) -> usize {
        match self {
            Cells::Csv(r) => r.len(),
            Cells::Json(c) => c.len(),
        }
    }
}

/// Whether a record callback wants more records.
pub(crate) type More = bool;

/// Bytes that cannot be decoded, at a 1-based line of the decoded text.
#[derive(Debug)]
struct Malformed {
    line: usize,
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "undecodable bytes at line {}", self.line)
    }
}

impl std::error::Error for Malformed {}

/// Decodes a byte stream in some encoding to UTF-8 as it is read. Strict:
/// the first undecodable bytes are an error naming their line (`pdq check`).
/// Lossy: they become U+FFFD, for the caller to reject the record holding
/// them (landing, which quarantines bad rows and goes on).
pub(crate) struct DecodeReader<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    strict: bool,
    input: Vec<u8>,
    in_start: usize,
    in_end: usize,
    eof: bool,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    lines: usize,
    /// The decoder has seen the end of the input (it must not be called again).
    finished: bool,
}

impl<R: Read> DecodeReader<R> {
    fn new(inner: R, encoding: &'static Encoding, strict: bool) -> Self {
        DecodeReader {
            inner,
            // The BOM, if any, is skipped by the caller.
            decoder: encoding.new_decoder_without_bom_handling(),
            strict,
            input: vec![0; 256 << 10],
            in_start: 0,
            in_end: 0,
            eof: false,
            output: vec![0; 1 << 20],
            out_start: 0,
            out_end: 0,
            lines: 1,
            finished: false,
        }
    }

    /// Fails at undecodable bytes.
    pub(crate) fn strict(inner: R, encoding: &'static Encoding) -> Self {
        Self::new(inner, encoding, true)
    }

    /// Replaces undecodable bytes with U+FFFD.
    pub(crate) fn lossy(inner: R, encoding: &'static Encoding) -> Self {
        Self::new(inner, encoding, false)
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for DecodeReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use encoding_rs::{CoderResult, DecoderResult};
        while self.out_start == self.out_end {
            if self.finished {
                return Ok(0);
            }
            if self.in_start == self.in_end && !self.eof {
                let n = self.inner.read(&mut self.input)?;
                self.in_start = 0;
                self.in_end = n;
                self.eof = n == 0;
            }
            let last = self.eof && self.in_start == self.in_end;
            let input = &self.input[self.in_start..self.in_end];
            let (done, read, written) = if self.strict {
                let (result, read, written) =
                    self.decoder
                        .decode_to_utf8_without_replacement(input, &mut self.output, last);
                if let DecoderResult::Malformed(..) = result {
                    let decoded = &self.output[..written];
                    let line = self.lines + decoded.iter().filter(|b| **b == b'\n').count();
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        Malformed { line },
                    ));
                }
                (result == DecoderResult::InputEmpty, read, written)
            } else {
                let (result, read, written, _) =
                    self.decoder.decode_to_utf8(input, &mut self.output, last);
                (result == CoderResult::InputEmpty, read, written)
            };
            self.in_start += read;
            if self.strict {
                self.lines += self.output[..written]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count();
            }
            self.out_start = 0;
            self.out_end = written;
            self.finished = last && done;
        }
        let n = buf.len().min(self.out_end - self.out_start);
        buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
    }
}

/// How a CSV file is read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CsvSpec {
    /// The file's encoding (given, or found by `FileDataset::open`).
    pub encoding: &'static Encoding,
    pub delimiter: u8,
    pub has_header: bool,
}

/// Streams a CSV file: `on_header` gets the column names (from the header,
/// or `column_1`… when there is none), then `on_record` every record with
/// its 0-based record index (blank lines are skipped and not counted) until
/// it returns `false`. Returns the number of records read. A record with
/// the wrong number of fields is an error naming its line.
pub(crate) fn read_csv(
    path: &Path,
    input: impl Read,
    spec: CsvSpec,
    on_header: impl FnOnce(&[String]) -> Result<(), FileError>,
    on_record: impl FnMut(u64, Cells<'_>) -> Result<More, FileError>,
) -> Result<u64, FileError> {
    let mut input = std::io::BufReader::new(input);
    // Skip a UTF-8 BOM.
    let head = input.fill_buf().map_err(|e| FileError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if spec.encoding == encoding_rs::UTF_8 && head.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    let mut reader = csv_reader(spec, Decoded::new(input, spec));
    let mut record = csv::StringRecord::new();
    if !next_record(
        path,
        spec,
        &mut reader,
        &mut csv::ByteRecord::new(),
        &mut record,
    )? {
        return Err(FileError::Empty {
            path: path.to_path_buf(),
        });
    }
    let (columns, first_is_data) = if spec.has_header {
        (record.iter().map(clean_header).collect::<Vec<_>>(), false)
    } else {
        (
            (1..=record.len()).map(|i| format!("column_{i}")).collect(),
            true,
        )
    };
    check_headers(path, &columns, |i| format!("header column {}", i + 1))?;
    on_header(&columns)?;
    let pending = first_is_data.then_some(record);
    csv_records(
        path,
        spec,
        &mut reader,
        pending,
        columns.len(),
        0,
        u64::MAX,
        on_record,
    )
}

/// The bytes a UTF-8 BOM takes at the start of a file (0 or 3).
pub(crate) fn bom_len(path: &Path) -> Result<u64, FileError> {
    let mut head = [0u8; 3];
    let mut file = std::fs::File::open(path).map_err(|e| FileError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut got = 0;
    while got < 3 {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => {
                return Err(FileError::Io {
                    path: path.to_path_buf(),
                    source: e,
                });
            }
        }
    }
    Ok(if head[..got] == *b"\xEF\xBB\xBF" {
        3
    } else {
        0
    })
}

/// Streams `count` records of a CSV file ([`splittable`]) of `width` columns from
/// byte `start` of the file, a record boundary that [`read_csv`] reported
/// (`Cells::byte_offset`, plus the BOM), numbering them from `first_row`.
/// This is how one file is read by several partitions at once. Returns the
/// number of records read.
#[allow(clippy::too_many_arguments)]
pub(crate) fn read_csv_range(
    path: &Path,
    mut file: std::fs::File,
    spec: CsvSpec,
    width: usize,
    start: u64,
    first_row: u64,
    count: u64,
    on_record: impl FnMut(u64, Cells<'_>) -> Result<More, FileError>,
) -> Result<u64, FileError> {
    use std::io::{Seek, SeekFrom};
    file.seek(SeekFrom::Start(start))
        .map_err(|e| FileError::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
    let mut reader = csv_reader(spec, Decoded::new(file, spec));
    csv_records(
        path,
        spec,
        &mut reader,
        None,
        width,
        first_row,
        count,
        on_record,
    )
}

fn csv_reader<R: Read>(spec: CsvSpec, input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(spec.delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_reader(input)
}

/// A CSV file's bytes for the csv reader: as they are for UTF-8 (the
/// records are validated as they are read) and for GB18030/GBK split as raw
/// bytes ([`splits_raw`]); else decoded strictly first.
enum Decoded<R> {
    Raw(R),
    Other(DecodeReader<R>),
}

impl<R: Read> Decoded<R> {
    fn new(input: R, spec: CsvSpec) -> Self {
        if spec.encoding == encoding_rs::UTF_8 || splits_raw(spec) {
            Decoded::Raw(input)
        } else {
            Decoded::Other(DecodeReader::strict(input, spec.encoding))
        }
    }
}

/// Whether a CSV in GB18030 or GBK is split into fields as raw bytes and
/// each field decoded on its own: its delimiter, quote and line ends are
/// bytes that never occur inside a character (the second byte of a
/// two-byte character is 0x40 or more; of a four-byte one, a digit). Its
/// byte offsets are then the file's, so it can be read in segments too.
pub(crate) fn splits_raw(spec: CsvSpec) -> bool {
    let safe = |b: u8| b < 0x30 || (0x3A..0x40).contains(&b);
    (spec.encoding == encoding_rs::GB18030 || spec.encoding == encoding_rs::GBK)
        && safe(spec.delimiter)
}

/// Whether a CSV can be read in segments from record boundaries found in
/// its first read (offsets in the file, less a UTF-8 BOM).
pub(crate) fn splittable(spec: CsvSpec) -> bool {
    spec.encoding == encoding_rs::UTF_8 || splits_raw(spec)
}

/// Reads the next record as text: UTF-8 is validated as it is; GB18030 or
/// GBK split as raw bytes ([`splits_raw`]) is decoded field by field; any
/// other encoding arrives decoded.
fn next_record<R: Read>(
    path: &Path,
    spec: CsvSpec,
    reader: &mut csv::Reader<R>,
    raw: &mut csv::ByteRecord,
    record: &mut csv::StringRecord,
) -> Result<bool, FileError> {
    if !splits_raw(spec) {
        return reader
            .read_record(record)
            .map_err(|e| csv_error(path, spec, e));
    }
    if !reader
        .read_byte_record(raw)
        .map_err(|e| csv_error(path, spec, e))?
    {
        return Ok(false);
    }
    record.clear();
    for field in raw.iter() {
        match spec
            .encoding
            .decode_without_bom_handling_and_without_replacement(field)
        {
            Some(text) => record.push_field(&text),
            None => {
                return Err(FileError::Encoding {
                    path: path.to_path_buf(),
                    line: raw.position().map_or(0, |p| p.line() as usize),
                    encoding: spec.encoding.name().to_string(),
                });
            }
        }
    }
    record.set_position(raw.position().cloned());
    Ok(true)
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Decoded::Raw(r) => r.read(buf),
            Decoded::Other(d) => d.read(buf),
        }
    }
}

fn csv_error(path: &Path, spec: CsvSpec, e: csv::Error) -> FileError {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    if let csv::ErrorKind::Utf8 { .. } = e.kind() {
        return FileError::Encoding {
            path: path.to_path_buf(),
            line: line as usize,
            encoding: spec.encoding.name().to_string(),
        };
    }
    if let csv::ErrorKind::Io(io) = e.kind()
        && let Some(m) = io.get_ref().and_then(|r| r.downcast_ref::<Malformed>())
    {
        return FileError::Encoding {
            path: path.to_path_buf(),
            line: m.line,
            encoding: spec.encoding.name().to_string(),
        };
    }
    FileError::Csv {
        path: path.to_path_buf(),
        line,
        message: e.to_string(),
    }
}

/// The record loop: blank lines skipped (not counted), every other record
/// must have `width` fields; at most `count` records, numbered from
/// `first_row`; `pending` is a record already read that comes first.
#[allow(clippy::too_many_arguments)]
fn csv_records<R: Read>(
    path: &Path,
    spec: CsvSpec,
    reader: &mut csv::Reader<R>,
    pending: Option<csv::StringRecord>,
    width: usize,
    first_row: u64,
    count: u64,
    mut on_record: impl FnMut(u64, Cells<'_>) -> Result<More, FileError>,
) -> Result<u64, FileError> {
    let mut read = 0u64;
    let mut use_pending = pending.is_some();
    let mut record = pending.unwrap_or_default();
    let mut raw = csv::ByteRecord::new();
    while read < count {
        if !use_pending && !next_record(path, spec, reader, &mut raw, &mut record)? {
            break;
        }
        use_pending = false;
        if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
            continue; // a blank line
        }
        if record.len() != width {
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            return Err(FileError::Csv {
                path: path.to_path_buf(),
                line,
                message: format!("expected {width} fields, found {}", record.len()),
            });
        }
        let more = on_record(first_row + read, Cells::Csv(&record))?;
        read += 1;
        if !more {
            break;
        }
    }
    Ok(read)
}

/// The text of a JSON value: strings as they are, numbers as written,
/// nested values as JSON.
pub(crate) fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

/// Streams a JSON file: an array of objects, or NDJSON (one object per
/// line; blank lines skipped). `columns` holds the column names known so
/// far and gains each new key (trimmed) in order of first appearance;
/// `on_record` gets each record's cells by column index with its 0-based
/// record index, until it returns `false`. Returns the number of records.
pub(crate) fn read_json(
    path: &Path,
    input: impl Read,
    columns: &mut Vec<String>,
    mut on_record: impl FnMut(u64, Cells<'_>) -> Result<More, FileError>,
) -> Result<u64, FileError> {
    let io_err = |e| FileError::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let mut input = std::io::BufReader::with_capacity(1 << 20, input);
    let head = input.fill_buf().map_err(io_err)?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        input.consume(3);
    }
    // Skip leading white space to see whether this is an array.
    let is_array = loop {
        let head = input.fill_buf().map_err(io_err)?;
        match head.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let array = head[i] == b'[';
                break array;
            }
            None if head.is_empty() => break false,
            None => {
                let n = head.len();
                input.consume(n);
            }
        }
    };
    let mut cells: Vec<Option<String>> = Vec::new();
    let mut row = 0u64;
    // Lays one value out as cells; Err(message) when it is not an object.
    let mut take = |value: serde_json::Value| -> Result<Option<More>, FileError> {
        let serde_json::Value::Object(map) = value else {
            return Ok(None);
        };
        cells.clear();
        cells.resize(columns.len(), None);
        for (k, v) in &map {
            let name = k.trim();
            let i = match columns.iter().position(|c| c == name) {
                Some(i) => i,
                None => {
                    columns.push(name.to_string());
                    cells.push(None);
                    columns.len() - 1
                }
            };
            cells[i] = json_text(v);
        }
        let more = on_record(row, Cells::Json(&cells))?;
        row += 1;
        Ok(Some(more))
    };
    const NOT_AN_OBJECT: &str = "expected a JSON object (one record)";
    if is_array {
        // Element by element, never the whole array in memory.
        let mut failure: Option<FileError> = None;
        let mut stopped = false;
        let mut de = serde_json::Deserializer::from_reader(input);
        let seed = JsonArray(|v: serde_json::Value| match take(v) {
            Ok(Some(more)) => {
                stopped = !more;
                Ok(more)
            }
            Ok(None) => Err(NOT_AN_OBJECT.to_string()),
            Err(e) => {
                let message = e.to_string();
                failure = Some(e);
                Err(message)
            }
        });
        let parsed = serde::de::DeserializeSeed::deserialize(seed, &mut de).and_then(|_| de.end());
        if let Some(e) = failure {
            return Err(e);
        }
        if stopped {
            return Ok(row);
        }
        if let Err(e) = parsed {
            return Err(FileError::Json {
                path: path.to_path_buf(),
                line: e.line(),
                message: e.to_string(),
            });
        }
    } else {
        let mut line = Vec::new();
        let mut n = 0usize;
        loop {
            line.clear();
            if input.read_until(b'\n', &mut line).map_err(io_err)? == 0 {
                break;
            }
            n += 1;
            let text = std::str::from_utf8(&line).map_err(|_| FileError::Encoding {
                path: path.to_path_buf(),
                line: n,
                encoding: "UTF-8".into(),
            })?;
            if text.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(text).map_err(|e| FileError::Json {
                path: path.to_path_buf(),
                line: n,
                message: format!("invalid JSON: {e}"),
            })?;
            match take(v)? {
                Some(true) => {}
                Some(false) => break,
                None => {
                    return Err(FileError::Json {
                        path: path.to_path_buf(),
                        line: n,
                        message: NOT_AN_OBJECT.into(),
                    });
                }
            }
        }
    }
    Ok(row)
}

/// A top-level JSON array whose elements are handed to a callback one at a
/// time (`Ok(false)` stops early, `Err` fails with a message that
/// serde_json places at the current line).
struct JsonArray<F>(F);

impl<'de, F> serde::de::DeserializeSeed<'de> for JsonArray<F>
where
    F: FnMut(serde_json::Value) -> Result<More, String>,
{
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, F> serde::de::Visitor<'de> for JsonArray<F>
where
    F: FnMut(serde_json::Value) -> Result<More, String>,
{
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of JSON objects")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<serde_json::Value>()? {
            if !(self.0)(v).map_err(serde::de::Error::custom)? {
                // Stopped early: leave the rest unread.
                return Ok(());
            }
        }
        Ok(())
    }
}

/// Column letters as Excel shows them (0 → A, 27 → AB).
pub(crate) fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// A cell's text as a person reads it: integers without `.0`, dates as
/// `YYYY-MM-DD` (with the time when it has one).
pub(crate) fn excel_text(d: &Data) -> Option<String> {
    match d {
        Data::Empty => None,
        Data::String(s) => Some(s.clone()),
        Data::Int(i) => Some(i.to_string()),
        Data::Float(f) => Some(if f.fract() == 0.0 && f.abs() < 1e15 {
            format!("{}", *f as i64)
        } else {
            f.to_string()
        }),
        Data::Bool(b) => Some(b.to_string()),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => Some(t.format("%Y-%m-%d").to_string()),
            Some(t) => Some(t.format("%Y-%m-%d %H:%M:%S").to_string()),
            None => Some(dt.as_f64().to_string()),
        },
        Data::DateTimeIso(s) | Data::DurationIso(s) => Some(s.clone()),
        Data::Error(e) => Some(e.to_string()),
    }
}

/// Reads a sheet for `pdq check`: the first non-blank row is the header,
/// columns without a header name are dropped (an error if they hold
/// values). The sheet is read row by row (see `files::sheet`); the table
/// kept is charged against `limits`, so memory follows what the file
/// holds, never its extent.
pub(crate) fn read_xlsx(
    path: &Path,
    sheet: Option<&str>,
    limits: XlsxLimits,
) -> Result<TextTable, FileError> {
    let fail = |sheet: &str, message: String| FileError::Xlsx {
        path: path.to_path_buf(),
        sheet: sheet.to_string(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| FileError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut book = Workbook::open(bytes, limits).map_err(|e| match sheet {
        Some(s) => fail(s, e.to_string()),
        None => FileError::Workbook {
            path: path.to_path_buf(),
            message: e.to_string(),
        },
    })?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) if names.iter().any(|n| n == s) => s.to_string(),
        Some(s) => {
            return Err(fail(
                s,
                format!("no sheet `{s}` (sheets: {})", names.join(", ")),
            ));
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| fail("", "the workbook has no sheets".into()))?,
    };
    let fail = |e: SheetError| fail(&name, e.to_string());
    let mut rows = book.rows(&name).map_err(fail)?;
    let blank = |r: &SheetRow| {
        r.cells
            .iter()
            .all(|(_, c)| excel_text(c).is_none_or(|s| s.trim().is_empty()))
    };
    let header = loop {
        match rows.next_row().map_err(fail)? {
            Some(r) if blank(&r) => continue,
            Some(r) => break r,
            None => {
                return Err(FileError::Empty {
                    path: path.to_path_buf(),
                });
            }
        }
    };
    // The named header cells, by column.
    let mut named: Vec<(u32, String)> = header
        .cells
        .iter()
        .filter_map(|(c, d)| {
            let n = excel_text(d).map(|s| clean_header(&s))?;
            (!n.is_empty()).then_some((*c, n))
        })
        .collect();
    named.sort_by_key(|(c, _)| *c);
    named.dedup_by_key(|(c, _)| *c);
    let (keep, columns): (Vec<u32>, Vec<String>) = named.into_iter().unzip();
    let mut table = TextTable::with_columns(columns);
    // The leftmost column that holds values under no header name.
    let mut unnamed: Option<u32> = None;
    let width = keep.len() as u64;
    while let Some(r) = rows.next_row().map_err(fail)? {
        if blank(&r) {
            continue; // skipped, but the numbering still advances: row + header + 2 = Excel row
        }
        let mut cells: Vec<Option<String>> = vec![None; keep.len()];
        let mut kept = width * std::mem::size_of::<Option<String>>() as u64;
        for (c, d) in &r.cells {
            let Some(t) = excel_text(d) else { continue };
            match keep.binary_search(c) {
                Ok(i) => {
                    kept += t.len() as u64;
                    cells[i] = Some(t);
                }
                Err(_) if !t.trim().is_empty() => {
                    unnamed = Some(unnamed.map_or(*c, |u| u.min(*c)));
                }
                Err(_) => {}
            }
        }
        rows.charge(kept, r.excel_row).map_err(fail)?;
        table.push(r.excel_row - header.excel_row - 1, cells);
    }
    if let Some(c) = unnamed {
        return Err(fail(SheetError::Workbook(format!(
            "column {} has values but no header in row {} (merged or blank header cell?)",
            column_letter(c as usize),
            header.excel_row
        ))));
    }
    check_headers(path, &table.columns, |i| {
        format!("sheet {name} column {}", column_letter(keep[i] as usize))
    })?;
    Ok(table)
}

#[cfg(test)]
mod tests {
    /// A header of 100,000 columns (issue #18, 8: quadratic, 51 s): every
    /// name is checked, and a repeat at the very end names both columns.
    #[test]
    fn a_very_wide_header_is_checked_whole() {
        let mut columns: Vec<String> = (0..100_000).map(|i| format!("c{i}")).collect();
        let path = std::path::Path::new("wide.csv");
        super::check_headers(path, &columns, |i| format!("header column {}", i + 1)).unwrap();
        columns.push("c0".into());
        let err = super::check_headers(path, &columns, |i| format!("header column {}", i + 1))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("header column 100001 repeats the name `c0` of header column 1"),
            "{err}"
        );
    }

    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    type CsvRows = (Vec<String>, Vec<(u64, Vec<String>)>);
    type JsonRows = (Vec<String>, Vec<Vec<Option<String>>>);

    /// Reads a whole CSV through the streaming reader, as rows of cells.
    fn csv_rows(bytes: &[u8], forced: Option<&'static Encoding>) -> Result<CsvRows, FileError> {
        let p = Path::new("x.csv");
        let encoding = forced.unwrap_or(encoding_rs::UTF_8);
        let spec = CsvSpec {
            encoding,
            delimiter: b',',
            has_header: true,
        };
        let mut columns = Vec::new();
        let mut rows = Vec::new();
        let n = read_csv(
            p,
            bytes,
            spec,
            |h| {
                columns = h.to_vec();
                Ok(())
            },
            |row, cells| {
                rows.push((
                    row,
                    (0..cells.len())
                        .map(|i| cells.get(i).unwrap_or("").to_string())
                        .collect(),
                ));
                Ok(true)
            },
        )?;
        assert_eq!(n as usize, rows.len());
        Ok((columns, rows))
    }

    fn json_rows(bytes: &[u8]) -> Result<JsonRows, FileError> {
        let mut columns = Vec::new();
        let mut rows = Vec::new();
        read_json(Path::new("x.ndjson"), bytes, &mut columns, |row, cells| {
            assert_eq!(row as usize, rows.len());
            rows.push(
                (0..cells.len())
                    .map(|i| cells.get(i).map(str::to_string))
                    .collect(),
            );
            Ok(true)
        })?;
        Ok((columns, rows))
    }

    #[test]
    fn gb18030_and_bom_are_read() {
        let (gb, _, _) = encoding_rs::GB18030.encode("姓名,身份证\n张三,1\n");
        let (columns, rows) = csv_rows(&gb, Some(encoding_rs::GB18030)).unwrap();
        assert_eq!(columns, vec!["姓名", "身份证"]);
        assert_eq!(rows, vec![(0, vec!["张三".to_string(), "1".to_string()])]);
        // Read as UTF-8, GB18030 bytes are an encoding error (which makes
        // `FileDataset::open` try GB18030).
        let err = csv_rows(&gb, None).unwrap_err();
        assert!(matches!(err, FileError::Encoding { line: 1, .. }), "{err}");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice("姓名\n王五\n".as_bytes());
        let (columns, _) = csv_rows(&bom, None).unwrap();
        assert_eq!(columns, vec!["姓名"]);
    }

    #[test]
    fn undecodable_bytes_name_their_line() {
        let mut bytes = "a,b\n1,2\n3,".as_bytes().to_vec();
        bytes.extend_from_slice(b"\xFF\xFE\n");
        let err = csv_rows(&bytes, Some(encoding_rs::UTF_8)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.csv:3: not valid UTF-8 text (use --encoding to say which encoding the file is in)"
        );
    }

    #[test]
    fn undecodable_gb18030_bytes_name_their_line() {
        let mut bytes = encoding_rs::GB18030
            .encode("姓名,n\n张三,1\n")
            .0
            .into_owned();
        bytes.extend_from_slice(b"\x81,2\n"); // a lead byte without its trail
        let err = csv_rows(&bytes, Some(encoding_rs::GB18030)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.csv:3: not valid gb18030 text (use --encoding to say which encoding the file is in)"
        );
    }

    #[test]
    fn csv_quotes_newlines_and_ragged_rows() {
        let (_, rows) = csv_rows(b"a,b\n\"1,5\",\"x\ny\"\n\n2,\"say \"\"hi\"\"\"\n", None).unwrap();
        assert_eq!(
            rows,
            vec![
                (0, vec!["1,5".to_string(), "x\ny".to_string()]),
                (1, vec!["2".to_string(), "say \"hi\"".to_string()]),
            ]
        );
        let err = csv_rows(b"a,b\n1,2\n3\n", None).unwrap_err();
        assert_eq!(err.to_string(), "x.csv:3: expected 2 fields, found 1");
    }

    #[test]
    fn ndjson_bad_line_is_named() {
        let (columns, rows) =
            json_rows(b"{\"a\":1,\"b\":\"x\"}\n\n{\"b\":null,\"c\":true}\n").unwrap();
        assert_eq!(columns, vec!["a", "b", "c"]);
        assert_eq!(rows[0], vec![Some("1".to_string()), Some("x".to_string())]);
        assert_eq!(rows[1], vec![None, None, Some("true".to_string())]);
        let err = json_rows(b"{\"a\":1}\n{\"a\":\n").unwrap_err();
        assert!(
            err.to_string().starts_with("x.ndjson:2: invalid JSON"),
            "{err}"
        );
    }

    #[test]
    fn json_arrays_are_streamed_element_by_element() {
        let (columns, rows) =
            json_rows(b"\xEF\xBB\xBF [ {\"a\": \"1\"},\n {\"b\": 2, \"a\": null} ]\n").unwrap();
        assert_eq!(columns, vec!["a", "b"]);
        assert_eq!(
            rows,
            vec![
                vec![Some("1".to_string())],
                vec![None, Some("2".to_string())]
            ]
        );
        let err = json_rows(b"[{\"a\": 1},\n 7]").unwrap_err();
        assert!(err.to_string().contains("expected a JSON object"), "{err}");
        assert!(err.to_string().starts_with("x.ndjson:2:"), "{err}");
        let err = json_rows(b"[{\"a\": 1},\n {\"a\": ").unwrap_err();
        assert!(err.to_string().starts_with("x.ndjson:2:"), "{err}");
        // Stopping early is not an error, even before a malformed tail.
        let mut seen = 0;
        let mut columns = Vec::new();
        let n = read_json(
            Path::new("x.json"),
            &b"[{\"a\":1},{\"a\":2},{\"a\":"[..],
            &mut columns,
            |_, _| {
                seen += 1;
                Ok(seen < 2)
            },
        )
        .unwrap();
        assert_eq!((n, seen), (2, 2));
    }

    #[test]
    fn decoding_is_strict_or_lossy_and_ends_cleanly() {
        let mut bytes = encoding_rs::GB18030.encode("姓名\n张三\n").0.into_owned();
        bytes.extend_from_slice(b"\x81\n"); // a lead byte without its trail, on line 3
        bytes.extend_from_slice(&encoding_rs::GB18030.encode("李四\n").0);
        let mut lossy = DecodeReader::lossy(&bytes[..], encoding_rs::GB18030);
        let mut text = String::new();
        lossy.read_to_string(&mut text).unwrap();
        assert_eq!(text, "姓名\n张三\n\u{FFFD}\n李四\n");
        // Read again after the end: still the end, not a used-up decoder.
        let mut buf = [0u8; 8];
        assert_eq!(lossy.read(&mut buf).unwrap(), 0);
        assert_eq!(lossy.read(&mut buf).unwrap(), 0);
        let mut strict = DecodeReader::strict(&bytes[..], encoding_rs::GB18030);
        let err = strict.read_to_string(&mut String::new()).unwrap_err();
        assert_eq!(err.to_string(), "undecodable bytes at line 3");
    }
}

//! What the text-format readers share: the XLSX cell table, header checks,
//! a record's cells and the decoding reader. CSV and JSON/NDJSON (`csv`,
//! `json`) are streamed record by record (read once at open to infer types,
//! again at scan time to convert), so memory does not grow with the file.
//! XLSX (`xlsx`) is streamed row by row into a column-major table of text
//! cells of the named columns, charged against `xlsx_max_bytes` (see
//! `sheet`). Types come from inference over every file of the dataset
//! (`infer`).

use std::io::Read;
use std::path::Path;

use encoding_rs::Encoding;

use super::FileError;

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
    pub(super) fn with_columns(columns: Vec<String>) -> Self {
        let n = columns.len();
        TextTable {
            columns,
            rows: vec![],
            cells: vec![Vec::new(); n],
        }
    }

    pub(super) fn push(&mut self, row: u64, cells: Vec<Option<String>>) {
        self.rows.push(row);
        for (col, cell) in self.cells.iter_mut().zip(cells) {
            col.push(cell);
        }
    }
}

pub(super) fn clean_header(raw: &str) -> String {
    raw.trim_start_matches('\u{feff}').trim().to_string()
}

pub(super) fn check_headers(
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
    /// A CSV record read as bytes and validated as UTF-8 once, whole:
    /// `text` is its fields' bytes as text, each field's ends character
    /// boundaries of it.
    Utf8 {
        record: &'a csv::ByteRecord,
        text: &'a str,
    },
}

impl Cells<'_> {
    /// The cell of column `i`.
    pub(crate) fn get(&self, i: usize) -> Option<&str> {
        match self {
            Cells::Csv(r) => r.get(i),
            Cells::Json(c) => c.get(i).and_then(|c| c.as_deref()),
            Cells::Utf8 { record, text } => record.range(i).and_then(|r| text.get(r)),
        }
    }

    /// Where a CSV record starts in the decoded text (bytes), to resume
    /// reading there ([`super::csv::read_csv_range`]).
    pub(crate) fn byte_offset(&self) -> Option<u64> {
        match self {
            Cells::Csv(r) => r.position().map(|p| p.byte()),
            Cells::Utf8 { record, .. } => record.position().map(|p| p.byte()),
            Cells::Json(_) => None,
        }
    }

    /// Where a CSV record is reported in the decoded text: (byte, 1-based line).
    pub(crate) fn position(&self) -> Option<(u64, u64)> {
        match self {
            Cells::Csv(r) => r.position().map(|p| (p.byte(), p.line())),
            Cells::Utf8 { record, .. } => record.position().map(|p| (p.byte(), p.line())),
            Cells::Json(_) => None,
        }
    }

    /// How many columns the record has cells for.
    pub(crate) fn len(&self) -> usize {
        match self {
            Cells::Csv(r) => r.len(),
            Cells::Utf8 { record, .. } => record.len(),
            Cells::Json(c) => c.len(),
        }
    }
}

/// Whether a record callback wants more records.
pub(crate) type More = bool;

/// Bytes that cannot be decoded, at a 1-based line of the decoded text.
#[derive(Debug)]
pub(super) struct Malformed {
    pub(super) line: usize,
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

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::DecodeReader;

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

//! CSV (and TSV): streamed record by record, whole or in segments from
//! record boundaries found in the first read.

use std::io::{BufRead, Read};
use std::path::Path;

use encoding_rs::Encoding;

use super::FileError;
use super::text::{Cells, DecodeReader, Malformed, More, check_headers, clean_header};

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

/// Where a span of records read by [`read_csv_span`] stopped. Positions
/// and lines are relative to where the span was read from (`line` 1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanStop {
    /// At the first record whose position is at or after `stop_from`: it
    /// was not taken; the csv reader reported it at `byte`, on `line`.
    At { byte: u64, line: u64 },
    /// The input ended after `byte` bytes.
    End { byte: u64 },
}

/// Streams the records of a CSV file ([`splittable`]) of `width` columns
/// from `input`, which must start at a record boundary, up to the first
/// record that the reader reports at or after byte `stop_from` of `input`
/// (a record is reported where the one before it ended, blank lines
/// included). `on_record` gets each record's 0-based index in the span and
/// its 1-based line in `input`. This is how a file is read in byte ranges
/// found at scan time ([`super::split`]). Returns where it stopped and the
/// number of records taken. Errors name lines of `input`.
pub(crate) fn read_csv_span(
    path: &Path,
    input: impl Read,
    spec: CsvSpec,
    width: usize,
    stop_from: u64,
    mut on_record: impl FnMut(u64, u64, Cells<'_>) -> Result<More, FileError>,
) -> Result<(SpanStop, u64), FileError> {
    let mut reader = csv_reader(spec, Decoded::new(input, spec));
    let mut record = csv::StringRecord::new();
    let mut raw = csv::ByteRecord::new();
    let mut taken = 0u64;
    let utf8 = spec.encoding == encoding_rs::UTF_8;
    loop {
        let more = if utf8 {
            reader
                .read_byte_record(&mut raw)
                .map_err(|e| csv_error(path, spec, e))?
        } else {
            next_record(path, spec, &mut reader, &mut raw, &mut record)?
        };
        if !more {
            return Ok((
                SpanStop::End {
                    byte: reader.position().byte(),
                },
                taken,
            ));
        }
        let position = if utf8 {
            raw.position()
        } else {
            record.position()
        };
        let (byte, line) = position.map_or((0, 1), |p| (p.byte(), p.line()));
        if byte >= stop_from {
            return Ok((SpanStop::At { byte, line }, taken));
        }
        let fields = if utf8 { raw.len() } else { record.len() };
        let blank = if utf8 {
            fields == 1 && raw.get(0).is_some_and(<[u8]>::is_empty)
        } else {
            fields == 1 && record.get(0).is_some_and(str::is_empty)
        };
        if blank {
            continue; // a blank line
        }
        if fields != width {
            return Err(FileError::Csv {
                path: path.to_path_buf(),
                line,
                message: format!("expected {width} fields, found {fields}"),
            });
        }
        let more = if utf8 {
            // The record's bytes are validated once, as one buffer, with
            // encoding_rs's SIMD validator (AVX2 or SSE 4.2 chosen at run
            // time) instead of `str::from_utf8` per record and a check of
            // every field; a field is then text when its ends are
            // character boundaries (a character cut by a delimiter makes
            // the whole valid but not its fields).
            let text = encoding_rs::UTF_8
                .decode_without_bom_handling_and_without_replacement(raw.as_slice());
            let text = text.as_deref().filter(|all| {
                (0..fields).all(|i| {
                    raw.range(i).is_some_and(|r| {
                        all.is_char_boundary(r.start) && all.is_char_boundary(r.end)
                    })
                })
            });
            let Some(text) = text else {
                return Err(FileError::Encoding {
                    path: path.to_path_buf(),
                    line: line as usize,
                    encoding: spec.encoding.name().to_string(),
                });
            };
            on_record(taken, line, Cells::Utf8 { record: &raw, text })?
        } else {
            on_record(taken, line, Cells::Csv(&record))?
        };
        taken += 1;
        if !more {
            return Ok((SpanStop::At { byte, line }, taken));
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    type CsvRows = (Vec<String>, Vec<(u64, Vec<String>)>);

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
}

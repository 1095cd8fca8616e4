//! Streaming text readers for landing: CSV (UTF-8, UTF-8 with BOM, or
//! GB18030/GBK, detected or forced) and NDJSON, read in one pass with
//! bounded memory while hashing the bytes. A record that cannot be read
//! (wrong number of fields, undecodable bytes, a line that is not a JSON
//! object) becomes a [`Reject`]; the rest of the file still lands.

use std::io::{self, Read};
use std::path::Path;

use encoding_rs::Encoding;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::Sender;

use super::{ColumnDef, DeliveryEnd, RawItem, Reject, SourceError, TextBatcher};
use crate::files::FileError;
use crate::files::json::json_text;
use crate::files::text::DecodeReader;

/// Counts and hashes every byte read through it.
pub(crate) struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> HashingReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
        }
    }

    /// Reads what is left (so the hash covers the whole input) and returns it.
    pub(crate) fn finish(mut self) -> io::Result<DeliveryEnd> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(DeliveryEnd {
            sha256: hex::encode(self.hasher.finalize()),
            legacy_sha256: None,
            bytes: self.bytes,
            state: None,
            notes: vec![],
        })
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// CSV reading options.
#[derive(Debug, Clone)]
pub(crate) struct CsvOptions {
    pub encoding: Option<&'static Encoding>,
    pub delimiter: u8,
    pub quote: u8,
    pub has_header: bool,
}

fn send(tx: &Sender<Result<RawItem, SourceError>>, item: RawItem) -> Result<(), SourceError> {
    tx.blocking_send(Ok(item))
        .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))
}

/// Detects the encoding from the first bytes: a UTF-8 BOM or valid UTF-8
/// (allowing a character cut at the end of the sample) is UTF-8; anything
/// else GB18030. Returns the encoding and how many BOM bytes to skip.
pub(crate) fn sniff(sample: &[u8]) -> (&'static Encoding, usize) {
    if sample.starts_with(b"\xEF\xBB\xBF") {
        return (encoding_rs::UTF_8, 3);
    }
    match std::str::from_utf8(sample) {
        Ok(_) => (encoding_rs::UTF_8, 0),
        Err(e) if e.error_len().is_none() => (encoding_rs::UTF_8, 0),
        Err(_) => (encoding_rs::GB18030, 0),
    }
}

fn header_positions(
    path: &Path,
    header: &[String],
    columns: &[ColumnDef],
) -> Result<Vec<usize>, SourceError> {
    columns
        .iter()
        .map(|c| {
            header
                .iter()
                .position(|h| h == c.source_name())
                .ok_or_else(|| {
                    SourceError::File(FileError::Header {
                        path: path.to_path_buf(),
                        message: format!(
                            "no column `{}` (declared as `{}`); the header has: {}",
                            c.source_name(),
                            c.name,
                            header.join(", ")
                        ),
                    })
                })
        })
        .collect()
}

/// Reads a CSV file, sending batches and finally the content hash.
pub(crate) fn read_csv(
    path: &Path,
    opts: &CsvOptions,
    columns: &[ColumnDef],
    batch_rows: usize,
    tx: &Sender<Result<RawItem, SourceError>>,
) -> Result<(), SourceError> {
    let io_err = |e: io::Error| {
        SourceError::File(FileError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    };
    let file = std::fs::File::open(path).map_err(|e| {
        if e.kind() == io::ErrorKind::NotFound {
            SourceError::File(FileError::NotFound {
                path: path.to_path_buf(),
            })
        } else {
            io_err(e)
        }
    })?;
    let mut hashing = HashingReader::new(file);
    let mut sample = vec![0u8; 64 * 1024];
    let mut got = 0;
    while got < sample.len() {
        let n = hashing.read(&mut sample[got..]).map_err(io_err)?;
        if n == 0 {
            break;
        }
        got += n;
    }
    sample.truncate(got);
    let (detected, bom) = sniff(&sample);
    let encoding = opts.encoding.unwrap_or(detected);
    let skip = if encoding == encoding_rs::UTF_8 {
        bom
    } else {
        0
    };
    let head = io::Cursor::new(sample).chain(hashing);
    let mut head = head;
    io::copy(&mut (&mut head).take(skip as u64), &mut io::sink()).map_err(io_err)?;
    let is_utf8 = encoding == encoding_rs::UTF_8;
    let end = if is_utf8 {
        let mut reader = csv_reader(opts, head);
        read_records(path, opts, columns, batch_rows, &mut reader, encoding, tx)?;
        let (_, hashing) = reader.into_inner().into_inner();
        hashing.finish().map_err(io_err)?
    } else {
        let mut reader = csv_reader(opts, DecodeReader::lossy(head, encoding));
        read_records(path, opts, columns, batch_rows, &mut reader, encoding, tx)?;
        let (_, hashing) = reader.into_inner().into_inner().into_inner();
        hashing.finish().map_err(io_err)?
    };
    send(tx, RawItem::End(end))
}

fn csv_reader<R: Read>(opts: &CsvOptions, r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .quote(opts.quote)
        .has_headers(false)
        .flexible(true)
        // Records end at `\n` only, so that line numbers are right for CRLF
        // files too (the csv crate counts a CRLF record's start on the line
        // before); a trailing `\r` is removed from the last field instead.
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 20)
        .from_reader(r)
}

fn record_text(record: &csv::ByteRecord, delimiter: u8) -> String {
    let parts: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let text = parts.join(&(delimiter as char).to_string());
    text.strip_suffix('\r').map(str::to_string).unwrap_or(text)
}

fn read_records<R: Read>(
    path: &Path,
    opts: &CsvOptions,
    columns: &[ColumnDef],
    batch_rows: usize,
    reader: &mut csv::Reader<R>,
    encoding: &'static Encoding,
    tx: &Sender<Result<RawItem, SourceError>>,
) -> Result<(), SourceError> {
    let csv_err = |e: csv::Error| {
        SourceError::File(FileError::Csv {
            path: path.to_path_buf(),
            line: e.position().map(|p| p.line()).unwrap_or(0),
            message: e.to_string(),
        })
    };
    let is_utf8 = encoding == encoding_rs::UTF_8;
    let mut record = csv::ByteRecord::new();
    let (positions, width) = if opts.has_header {
        if !reader.read_byte_record(&mut record).map_err(csv_err)? {
            return Err(SourceError::File(FileError::Empty {
                path: path.to_path_buf(),
            }));
        }
        let header: Vec<String> = record
            .iter()
            .map(|f| {
                String::from_utf8_lossy(f)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_string()
            })
            .collect();

        (header_positions(path, &header, columns)?, header.len())
    } else {
        ((0..columns.len()).collect(), columns.len())
    };
    let mut batcher = TextBatcher::new(columns, batch_rows);
    // Rows are 0-based record indices in file order: the header and blank
    // lines are not records (as `pdq check` counts, issue #23, 10).
    let mut next = 0u64;
    loop {
        if !reader.read_byte_record(&mut record).map_err(csv_err)? {
            break;
        }
        if record.len() == 1 && record.get(0).is_some_and(|f| f.is_empty() || f == b"\r") {
            continue; // a blank line
        }
        let line = next;
        next += 1;
        if record.len() != width {
            batcher.reject(Reject {
                row: line,
                raw: record_text(&record, opts.delimiter),
                reason: format!("expected {width} fields, found {}", record.len()),
            });
        } else {
            // Validate the record's bytes once, as one buffer, with
            // encoding_rs's SIMD validator (chosen at run time: AVX2 or
            // SSE 4.2, else its scalar code) rather than `str::from_utf8`
            // field by field, which was an eighth of a UTF-8 ingest's time.
            // A field is then text by itself when its ends are character
            // boundaries of that buffer (a character cut by a delimiter
            // makes the concatenation valid but not the fields).
            let text = encoding_rs::UTF_8
                .decode_without_bom_handling_and_without_replacement(record.as_slice());
            let text = text.as_deref().filter(|all| {
                (is_utf8 || !all.contains('\u{FFFD}'))
                    && (0..width).all(|i| {
                        record.range(i).is_some_and(|r| {
                            all.is_char_boundary(r.start) && all.is_char_boundary(r.end)
                        })
                    })
            });
            match text {
                Some(all) => {
                    let last = width - 1;
                    batcher.push(line, |i| {
                        let p = positions[i];
                        let v = record.range(p).and_then(|r| all.get(r));
                        if p == last {
                            v.map(|v| v.strip_suffix('\r').unwrap_or(v))
                        } else {
                            v
                        }
                    });
                }
                None => batcher.reject(Reject {
                    row: line,
                    raw: record_text(&record, opts.delimiter),
                    reason: format!("bytes that are not valid {} text", encoding.name()),
                }),
            }
        }
        if batcher.is_full() {
            send(tx, RawItem::Batch(batcher.finish()))?;
        }
    }
    if !batcher.is_empty() {
        send(tx, RawItem::Batch(batcher.finish()))?;
    }
    Ok(())
}

/// Reads NDJSON (one object per line) or a JSON array of objects. A line
/// that is not a JSON object is rejected with its line number.
pub(crate) fn read_json(
    path: &Path,
    columns: &[ColumnDef],
    batch_rows: usize,
    tx: &Sender<Result<RawItem, SourceError>>,
) -> Result<(), SourceError> {
    use io::BufRead;
    let io_err = |e: io::Error| {
        SourceError::File(FileError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut reader = io::BufReader::with_capacity(1 << 20, HashingReader::new(file));
    let first = reader.fill_buf().map_err(io_err)?;
    let first_char = first
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
    let mut batcher = TextBatcher::new(columns, batch_rows);
    let mut cells: Vec<Option<String>> = vec![None; columns.len()];
    let mut take = |row: u64, value: serde_json::Value, raw: &str, batcher: &mut TextBatcher| {
        let serde_json::Value::Object(map) = value else {
            batcher.reject(Reject {
                row,
                raw: raw.to_string(),
                reason: "expected a JSON object (one record)".into(),
            });
            return;
        };
        for (i, c) in columns.iter().enumerate() {
            cells[i] = map.get(c.source_name()).and_then(json_text);
        }
        batcher.push(row, |i| cells[i].as_deref());
    };
    if first_char == Some(b'[') {
        let mut text = String::new();
        reader.read_to_string(&mut text).map_err(io_err)?;
        let values: Vec<serde_json::Value> =
            serde_json::from_str(text.trim_start_matches('\u{feff}')).map_err(|e| {
                SourceError::File(FileError::Json {
                    path: path.to_path_buf(),
                    line: e.line(),
                    message: e.to_string(),
                })
            })?;
        for (i, v) in values.into_iter().enumerate() {
            let raw = v.to_string();
            take(i as u64, v, &raw, &mut batcher);
            if batcher.is_full() {
                send(tx, RawItem::Batch(batcher.finish()))?;
            }
        }
    } else {
        let mut line = Vec::new();
        let mut first = true;
        // Records are numbered from 0; blank lines are not records.
        let mut next = 0u64;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(io_err)? == 0 {
                break;
            }
            let bytes = if std::mem::take(&mut first) {
                line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line)
            } else {
                &line[..]
            };
            if bytes.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let n = next;
            next += 1;
            let Ok(text) = std::str::from_utf8(bytes) else {
                batcher.reject(Reject {
                    row: n,
                    raw: String::from_utf8_lossy(bytes).trim_end().to_string(),
                    reason: "bytes that are not valid UTF-8 text".into(),
                });
                continue;
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => take(n, v, text, &mut batcher),
                Err(e) => batcher.reject(Reject {
                    row: n,
                    raw: text.to_string(),
                    reason: format!("invalid JSON: {e}"),
                }),
            }
            if batcher.is_full() {
                send(tx, RawItem::Batch(batcher.finish()))?;
            }
        }
    }
    if !batcher.is_empty() {
        send(tx, RawItem::Batch(batcher.finish()))?;
    }
    let end = reader.into_inner().finish().map_err(io_err)?;
    send(tx, RawItem::End(end))
}

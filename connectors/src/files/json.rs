//! JSON: an array of objects or NDJSON, streamed record by record.

use std::io::{BufRead, Read};
use std::path::Path;

use super::FileError;
use super::text::{Cells, More};

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

#[cfg(test)]
mod tests {
    use super::*;

    type JsonRows = (Vec<String>, Vec<Vec<Option<String>>>);

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
}

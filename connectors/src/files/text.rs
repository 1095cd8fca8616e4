//! Text-format readers (CSV, JSON/NDJSON, XLSX) into a column-major table of
//! text cells with their record numbers; types come later, from inference
//! over every file of the dataset (`infer`).

use std::path::Path;

use calamine::{Data, Reader};

use super::FileError;

/// The cells of one text-format file, column-major.
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

    fn column_index(&mut self, name: &str) -> usize {
        if let Some(i) = self.columns.iter().position(|c| c == name) {
            return i;
        }
        self.columns.push(name.to_string());
        self.cells.push(vec![None; self.rows.len()]);
        self.columns.len() - 1
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
    for (i, c) in columns.iter().enumerate() {
        if c.is_empty() {
            return Err(FileError::Header {
                path: path.to_path_buf(),
                message: format!("{} has an empty name", describe(i)),
            });
        }
        if let Some(j) = columns[..i].iter().position(|d| d == c) {
            return Err(FileError::Header {
                path: path.to_path_buf(),
                message: format!("{} repeats the name `{c}` of {}", describe(i), describe(j)),
            });
        }
    }
    Ok(())
}

/// Decodes bytes: a UTF-8 BOM or valid UTF-8 is UTF-8; anything else is
/// GB18030 (a superset of GBK and GB2312); `forced` overrides.
pub(crate) fn decode(
    path: &Path,
    bytes: &[u8],
    forced: Option<&'static encoding_rs::Encoding>,
) -> Result<String, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let encoding = match forced {
        Some(e) => e,
        None if std::str::from_utf8(bytes).is_ok() => encoding_rs::UTF_8,
        None => encoding_rs::GB18030,
    };
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        // Find the first undecodable byte to name its line.
        let (prefix, _) = encoding.decode_without_bom_handling(bytes);
        let line = prefix
            .find('\u{FFFD}')
            .map(|i| prefix[..i].matches('\n').count() + 1)
            .unwrap_or(1);
        return Err(FileError::Encoding {
            path: path.to_path_buf(),
            line,
            encoding: encoding.name().to_string(),
        });
    }
    Ok(text.into_owned())
}

pub(crate) fn read_csv(
    path: &Path,
    bytes: &[u8],
    encoding: Option<&'static encoding_rs::Encoding>,
    delimiter: u8,
    has_header: bool,
) -> Result<TextTable, FileError> {
    let text = decode(path, bytes, encoding)?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        FileError::Csv {
            path: path.to_path_buf(),
            line,
            message: e.to_string(),
        }
    };
    let first = match records.next() {
        Some(r) => r.map_err(csv_err)?,
        None => {
            return Err(FileError::Empty {
                path: path.to_path_buf(),
            });
        }
    };
    let (columns, first_data) = if has_header {
        (first.iter().map(clean_header).collect::<Vec<_>>(), None)
    } else {
        (
            (1..=first.len()).map(|i| format!("column_{i}")).collect(),
            Some(first),
        )
    };
    check_headers(path, &columns, |i| format!("header column {}", i + 1))?;
    let mut table = TextTable::with_columns(columns);
    let width = table.columns.len();
    let mut row = 0u64;
    let mut take = |record: csv::StringRecord, table: &mut TextTable| -> Result<(), FileError> {
        if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
            return Ok(()); // a blank line
        }
        if record.len() != width {
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            return Err(FileError::Csv {
                path: path.to_path_buf(),
                line,
                message: format!("expected {width} fields, found {}", record.len()),
            });
        }
        table.push(row, record.iter().map(|s| Some(s.to_string())).collect());
        row += 1;
        Ok(())
    };
    if let Some(r) = first_data {
        take(r, &mut table)?;
    }
    for record in records {
        take(record.map_err(csv_err)?, &mut table)?;
    }
    Ok(table)
}

fn json_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

pub(crate) fn read_json(path: &Path, bytes: &[u8]) -> Result<TextTable, FileError> {
    let text = decode(path, bytes, Some(encoding_rs::UTF_8))?;
    let mut table = TextTable::default();
    let add =
        |line: usize, value: serde_json::Value, table: &mut TextTable| -> Result<(), FileError> {
            let serde_json::Value::Object(map) = value else {
                return Err(FileError::Json {
                    path: path.to_path_buf(),
                    line,
                    message: "expected a JSON object (one record)".into(),
                });
            };
            let row = table.rows.len() as u64;
            table.rows.push(row);
            for c in table.cells.iter_mut() {
                c.push(None);
            }
            for (k, v) in &map {
                let i = table.column_index(k.trim());
                if let Some(cell) = table.cells[i].last_mut() {
                    *cell = json_text(v);
                }
            }
            Ok(())
        };
    if text.trim_start().starts_with('[') {
        let values: Vec<serde_json::Value> =
            serde_json::from_str(&text).map_err(|e| FileError::Json {
                path: path.to_path_buf(),
                line: e.line(),
                message: e.to_string(),
            })?;
        for v in values {
            add(0, v, &mut table)?;
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(line).map_err(|e| FileError::Json {
                path: path.to_path_buf(),
                line: i + 1,
                message: format!("invalid JSON: {e}"),
            })?;
            add(i + 1, v, &mut table)?;
        }
    }
    if table.columns.is_empty() {
        return Err(FileError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(table)
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

pub(crate) fn read_xlsx(path: &Path, sheet: Option<&str>) -> Result<TextTable, FileError> {
    let fail = |message: String| FileError::Xlsx {
        path: path.to_path_buf(),
        sheet: sheet.unwrap_or("").to_string(),
        message,
    };
    let mut book = calamine::open_workbook_auto(path).map_err(|e| fail(e.to_string()))?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) if names.iter().any(|n| n == s) => s.to_string(),
        Some(s) => {
            return Err(fail(format!(
                "no sheet `{s}` (sheets: {})",
                names.join(", ")
            )));
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| fail("the workbook has no sheets".into()))?,
    };
    let fail = |message: String| FileError::Xlsx {
        path: path.to_path_buf(),
        sheet: name.clone(),
        message,
    };
    let range = book
        .worksheet_range(&name)
        .map_err(|e| fail(e.to_string()))?;
    let rows: Vec<&[Data]> = range.rows().collect();
    let blank = |r: &[Data]| {
        r.iter()
            .all(|c| excel_text(c).is_none_or(|s| s.trim().is_empty()))
    };
    let Some(header_at) = rows.iter().position(|r| !blank(r)) else {
        return Err(FileError::Empty {
            path: path.to_path_buf(),
        });
    };
    let width = range.width();
    let mut keep = Vec::new();
    let mut columns = Vec::new();
    for c in 0..width {
        let name_cell = rows[header_at]
            .get(c)
            .and_then(excel_text)
            .map(|s| clean_header(&s))
            .unwrap_or_default();
        let used = rows[header_at + 1..].iter().any(|r| {
            r.get(c)
                .and_then(excel_text)
                .is_some_and(|s| !s.trim().is_empty())
        });
        if name_cell.is_empty() {
            if used {
                let (r0, c0) = range.start().unwrap_or((0, 0));
                return Err(fail(format!(
                    "column {} has values but no header in row {} (merged or blank header cell?)",
                    column_letter(c0 as usize + c),
                    r0 as usize + header_at + 1
                )));
            }
            continue;
        }
        keep.push(c);
        columns.push(name_cell);
    }
    check_headers(path, &columns, |i| {
        format!("sheet {name} column {}", column_letter(keep[i]))
    })?;
    let mut table = TextTable::with_columns(columns);
    for (k, r) in rows[header_at + 1..].iter().enumerate() {
        if blank(r) {
            continue; // skipped, but the numbering still advances: row + header + 2 = Excel row
        }
        table.push(
            k as u64,
            keep.iter()
                .map(|c| r.get(*c).and_then(excel_text))
                .collect(),
        );
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn gb18030_and_bom_are_detected() {
        let p = Path::new("x.csv");
        let (gb, _, _) = encoding_rs::GB18030.encode("姓名,身份证\n张三,1\n");
        assert_eq!(decode(p, &gb, None).unwrap(), "姓名,身份证\n张三,1\n");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice("姓名\n".as_bytes());
        assert_eq!(decode(p, &bom, None).unwrap(), "姓名\n");
    }

    #[test]
    fn csv_quotes_newlines_and_ragged_rows() {
        let t = read_csv(
            Path::new("x.csv"),
            b"a,b\n\"1,5\",\"x\ny\"\n\n2,\"say \"\"hi\"\"\"\n",
            None,
            b',',
            true,
        )
        .unwrap();
        assert_eq!(t.rows, vec![0, 1]);
        assert_eq!(
            t.cells[0],
            vec![Some("1,5".to_string()), Some("2".to_string())]
        );
        assert_eq!(t.cells[1][0].as_deref(), Some("x\ny"));
        assert_eq!(t.cells[1][1].as_deref(), Some("say \"hi\""));
        let err = read_csv(Path::new("x.csv"), b"a,b\n1,2\n3\n", None, b',', true).unwrap_err();
        assert_eq!(err.to_string(), "x.csv:3: expected 2 fields, found 1");
    }

    #[test]
    fn ndjson_bad_line_is_named() {
        let t = read_json(
            Path::new("x.ndjson"),
            b"{\"a\":1,\"b\":\"x\"}\n\n{\"b\":null,\"c\":true}\n",
        )
        .unwrap();
        assert_eq!(t.columns, vec!["a", "b", "c"]);
        assert_eq!(t.cells[0], vec![Some("1".to_string()), None]);
        assert_eq!(t.cells[2], vec![None, Some("true".to_string())]);
        let err = read_json(Path::new("x.ndjson"), b"{\"a\":1}\n{\"a\":\n").unwrap_err();
        assert!(
            err.to_string().starts_with("x.ndjson:2: invalid JSON"),
            "{err}"
        );
    }
}

//! Shared helpers of the end-to-end tests (in `tests/`): building datasets in
//! every supported format from one table of text cells, and running checks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;

/// A small table of optional text cells (None = NULL / empty in CSV).
#[derive(Debug, Clone)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Option<String>>>,
}

impl Table {
    /// A table with these columns and no rows.
    pub fn new(columns: &[&str]) -> Self {
        Table {
            columns: columns.iter().map(|s| s.to_string()).collect(),
            rows: vec![],
        }
    }

    /// Appends a row; `None` cells are NULL.
    pub fn row(&mut self, cells: &[Option<&str>]) -> &mut Self {
        assert_eq!(cells.len(), self.columns.len(), "row width");
        self.rows
            .push(cells.iter().map(|c| c.map(str::to_string)).collect());
        self
    }

    /// CSV text (RFC 4180 quoting; NULL → empty field).
    pub fn to_csv(&self) -> String {
        let quote = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) || s != s.trim() {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let mut out = self.columns.join(",");
        out.push('\n');
        for r in &self.rows {
            let cells: Vec<String> = r
                .iter()
                .map(|c| c.as_deref().map(quote).unwrap_or_default())
                .collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }

    /// NDJSON text (NULL → JSON null).
    pub fn to_ndjson(&self) -> String {
        let mut out = String::new();
        for r in &self.rows {
            let mut obj = serde_json::Map::new();
            for (c, v) in self.columns.iter().zip(r) {
                obj.insert(
                    c.clone(),
                    v.as_ref()
                        .map(|s| serde_json::Value::String(s.clone()))
                        .unwrap_or(serde_json::Value::Null),
                );
            }
            out.push_str(&serde_json::Value::Object(obj).to_string());
            out.push('\n');
        }
        out
    }

    /// A record batch of Utf8 columns.
    pub fn to_batch(&self) -> RecordBatch {
        let schema = Schema::new(
            self.columns
                .iter()
                .map(|c| Field::new(c, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        );
        let arrays: Vec<ArrayRef> = (0..self.columns.len())
            .map(|i| {
                Arc::new(
                    self.rows
                        .iter()
                        .map(|r| r[i].clone())
                        .collect::<StringArray>(),
                ) as ArrayRef
            })
            .collect();
        RecordBatch::try_new(Arc::new(schema), arrays).expect("batch")
    }

    /// Writes an XLSX workbook with one sheet of text cells (NULL → blank cell).
    pub fn write_xlsx(&self, path: &Path) {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, name) in self.columns.iter().enumerate() {
            sheet.write_string(0, c as u16, name).expect("header");
        }
        for (r, row) in self.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                if let Some(v) = cell {
                    sheet.write_string(r as u32 + 1, c as u16, v).expect("cell");
                }
            }
        }
        book.save(path).expect("save xlsx");
    }

    /// Writes a Parquet file of Utf8 columns.
    pub fn write_parquet(&self, path: &Path) {
        write_parquet(path, &self.to_batch());
    }
}

/// Writes one batch as a Parquet file.
pub fn write_parquet(path: &Path, batch: &RecordBatch) {
    let file = std::fs::File::create(path).expect("create parquet");
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).expect("writer");
    w.write(batch).expect("write");
    w.close().expect("close");
}

/// Writes text in GB18030.
pub fn write_gb18030(path: &Path, text: &str) {
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
    assert!(!unmappable);
    std::fs::write(path, bytes).expect("write gb18030");
}

/// A valid GB 11643 number from its first 17 digits.
pub fn resident_id(first17: &str) -> String {
    let c = quality_rules::ids::resident_id::check_digit(first17.as_bytes()).expect("17 digits");
    format!("{first17}{}", c as char)
}

/// A USCC from its first 17 characters, with the right final check character.
pub fn uscc(first17: &str) -> String {
    let c = quality_rules::ids::uscc::check_char(first17.as_bytes()).expect("17 chars");
    format!("{first17}{}", c as char)
}

/// Writes a file and returns its path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&p, text).expect("write");
    p
}

/// Rows of record batches as text: cells joined by `|`, NULL as `∅` — for
/// asserting a whole table's contents in one comparison.
pub fn rows_as_text(batches: &[RecordBatch]) -> Vec<String> {
    use arrow::array::Array;
    use arrow::util::display::ArrayFormatter;
    let mut out = vec![];
    for b in batches {
        let fmts: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &Default::default()).expect("displayable"))
            .collect();
        for r in 0..b.num_rows() {
            let cells: Vec<String> = (0..b.num_columns())
                .map(|c| {
                    if b.column(c).is_null(r) {
                        "∅".to_string()
                    } else {
                        fmts[c].value(r).to_string()
                    }
                })
                .collect();
            out.push(cells.join("|"));
        }
    }
    out
}

/// A CSV (`编号,姓名`) of `rows` rows numbered from `first`, each ~100
/// bytes of incompressible text: its size on disk or on the wire is about
/// its size as text.
pub fn noisy_csv(first: u64, rows: u64) -> String {
    let mut s = String::from("编号,姓名\n");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15 ^ first;
    for i in first..first + rows {
        let mut name = String::with_capacity(96);
        for _ in 0..6 {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            name.push_str(&format!("{x:016x}"));
        }
        s.push_str(&format!("{i},{name}\n"));
    }
    s
}

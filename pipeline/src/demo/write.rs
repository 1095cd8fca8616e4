//! Writing a demo table in each delivery format. A table is text cells
//! (None = NULL); typed columns are declared per format where it has types.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Date32Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};

use super::DemoError;

/// Column types for typed formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text.
    Text,
    /// A date written `YYYY-MM-DD`.
    Date,
    /// A naive timestamp `YYYY-MM-DD HH:MM:SS` in Asia/Shanghai.
    Timestamp,
    /// A number.
    Number,
}

/// A generated table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<(&'static str, Kind)>,
    pub rows: Vec<Vec<Option<String>>>,
}

impl Table {
    pub fn new(columns: &[(&'static str, Kind)]) -> Self {
        Table {
            columns: columns.to_vec(),
            rows: vec![],
        }
    }
    pub fn push(&mut self, row: Vec<Option<String>>) {
        debug_assert_eq!(row.len(), self.columns.len());
        self.rows.push(row);
    }
    pub fn column(&self, name: &str) -> Vec<Option<&str>> {
        let i = self
            .columns
            .iter()
            .position(|(c, _)| *c == name)
            .unwrap_or(0);
        self.rows.iter().map(|r| r[i].as_deref()).collect()
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> DemoError + '_ {
    move |source| DemoError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn encode(path: &Path, e: impl std::fmt::Display) -> DemoError {
    DemoError::Encode {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

pub fn text(path: &Path, s: &str) -> Result<(), DemoError> {
    bytes(path, s.as_bytes())
}

pub fn bytes(path: &Path, b: &[u8]) -> Result<(), DemoError> {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(io(p))?;
    }
    std::fs::write(path, b).map_err(io(path))
}

pub fn csv_text(t: &Table) -> String {
    let quote = |s: &str| {
        if s.contains([',', '"', '\n', '\r']) || s != s.trim() {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    let mut out = t
        .columns
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for r in &t.rows {
        out.push_str(
            &r.iter()
                .map(|c| c.as_deref().map(quote).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

pub fn csv_gb18030(path: &Path, t: &Table) -> Result<(), DemoError> {
    let text = csv_text(t);
    let (b, _, unmappable) = encoding_rs::GB18030.encode(&text);
    if unmappable {
        return Err(encode(path, "text not representable in GB18030"));
    }
    bytes(path, &b)
}

pub fn csv_utf8_bom(path: &Path, t: &Table) -> Result<(), DemoError> {
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend_from_slice(csv_text(t).as_bytes());
    bytes(path, &b)
}

fn object(t: &Table, r: &[Option<String>]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for ((c, kind), v) in t.columns.iter().zip(r) {
        let value = match (v, kind) {
            (None, _) => serde_json::Value::Null,
            (Some(s), Kind::Number) => s
                .parse::<f64>()
                .ok()
                .and_then(|f| {
                    if f.fract() == 0.0 {
                        Some(serde_json::Value::from(f as i64))
                    } else {
                        serde_json::Number::from_f64(f).map(serde_json::Value::Number)
                    }
                })
                .unwrap_or_else(|| serde_json::Value::String(s.clone())),
            (Some(s), _) => serde_json::Value::String(s.clone()),
        };
        m.insert((*c).to_string(), value);
    }
    serde_json::Value::Object(m)
}

pub fn ndjson(path: &Path, t: &Table) -> Result<(), DemoError> {
    let mut out = String::new();
    for r in &t.rows {
        out.push_str(&object(t, r).to_string());
        out.push('\n');
    }
    text(path, &out)
}

pub fn json_array(path: &Path, t: &Table) -> Result<(), DemoError> {
    let items: Vec<serde_json::Value> = t.rows.iter().map(|r| object(t, r)).collect();
    text(
        path,
        &serde_json::to_string_pretty(&items).map_err(|e| encode(path, e))?,
    )
}

/// A workbook whose document properties carry a fixed creation time, so
/// that two generations of the demo write the same bytes (the default is
/// the current time, which differs once a second passes).
pub fn workbook() -> rust_xlsxwriter::Workbook {
    let mut book = rust_xlsxwriter::Workbook::new();
    if let Ok(created) = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 11, 20) {
        book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    }
    book
}

pub fn xlsx(path: &Path, t: &Table, sheet: &str) -> Result<(), DemoError> {
    use rust_xlsxwriter::{ExcelDateTime, Format};
    let mut book = workbook();
    let ws = book.add_worksheet();
    ws.set_name(sheet).map_err(|e| encode(path, e))?;
    let date_fmt = Format::new().set_num_format("yyyy-mm-dd");
    for (c, (name, _)) in t.columns.iter().enumerate() {
        ws.write_string(0, c as u16, *name)
            .map_err(|e| encode(path, e))?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let Some(v) = cell else { continue };
            let (r, col) = (r as u32 + 1, c as u16);
            let date = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
            match (t.columns[c].1, date, v.parse::<f64>()) {
                (Kind::Date, Some(d), _) => {
                    use chrono::Datelike;
                    let dt =
                        ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8)
                            .map_err(|e| encode(path, e))?;
                    ws.write_datetime_with_format(r, col, &dt, &date_fmt)
                        .map_err(|e| encode(path, e))?;
                }
                (Kind::Number, _, Ok(n)) => {
                    ws.write_number(r, col, n).map_err(|e| encode(path, e))?;
                }
                _ => {
                    ws.write_string(r, col, v).map_err(|e| encode(path, e))?;
                }
            }
        }
    }
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(io(p))?;
    }
    book.save(path).map_err(|e| encode(path, e))
}

pub fn parquet(path: &Path, t: &Table) -> Result<(), DemoError> {
    let tz = chrono_tz::Asia::Shanghai;
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut fields = Vec::new();
    let mut arrays: Vec<ArrayRef> = Vec::new();
    for (i, (name, kind)) in t.columns.iter().enumerate() {
        let cells = t.rows.iter().map(|r| r[i].as_deref());
        match kind {
            Kind::Date => {
                fields.push(Field::new(*name, DataType::Date32, true));
                arrays.push(Arc::new(
                    cells
                        .map(|c| {
                            c.and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                                .map(|d| (d - epoch).num_days() as i32)
                        })
                        .collect::<Date32Array>(),
                ));
            }
            Kind::Timestamp => {
                fields.push(Field::new(
                    *name,
                    DataType::Timestamp(TimeUnit::Microsecond, Some("Asia/Shanghai".into())),
                    true,
                ));
                let micros: TimestampMicrosecondArray = cells
                    .map(|c| {
                        c.and_then(|s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok())
                            .and_then(|n| tz.from_local_datetime(&n).earliest())
                            .map(|t| t.timestamp_micros())
                    })
                    .collect();
                arrays.push(Arc::new(micros.with_timezone("Asia/Shanghai")));
            }
            Kind::Text | Kind::Number => {
                fields.push(Field::new(*name, DataType::Utf8, true));
                arrays.push(Arc::new(cells.collect::<StringArray>()));
            }
        }
    }
    let batch =
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).map_err(|e| encode(path, e))?;
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).map_err(io(p))?;
    }
    let file = std::fs::File::create(path).map_err(io(path))?;
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None)
        .map_err(|e| encode(path, e))?;
    w.write(&batch).map_err(|e| encode(path, e))?;
    w.close().map_err(|e| encode(path, e))?;
    Ok(())
}

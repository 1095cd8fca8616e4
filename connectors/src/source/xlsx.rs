//! XLSX for landing: a chosen sheet, one or two header rows (merged top
//! cells carried across the columns under them), blank rows skipped, Excel
//! date serials in date columns read as dates. Rows are numbered as Excel
//! numbers them.

use std::path::Path;

use calamine::{Data, Reader};
use tokio::sync::mpsc::Sender;

use super::{ColumnDef, ColumnType, DeliveryEnd, RawItem, SourceError, TextBatcher};
use crate::files::FileError;

use crate::files::text::excel_text as text;

/// An Excel serial day number (1900 system) as a date-time.
fn serial(v: f64) -> Option<chrono::NaiveDateTime> {
    if !(1.0..2_958_466.0).contains(&v) {
        return None;
    }
    let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let millis = (v * 86_400_000.0).round() as i64;
    base.checked_add_signed(chrono::Duration::milliseconds(millis))
}

fn cell_text(d: &Data, ty: ColumnType) -> Option<String> {
    let number = match d {
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    };
    match (ty, number.and_then(serial)) {
        (ColumnType::Date, Some(t)) => Some(t.format("%Y-%m-%d").to_string()),
        (ColumnType::Timestamp, Some(t)) => Some(t.format("%Y-%m-%d %H:%M:%S").to_string()),
        _ => text(d),
    }
}

/// Where the header is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    /// Its first row as Excel numbers it; None: the first non-blank row.
    pub row: Option<usize>,
    /// How many rows it spans (1 or 2).
    pub rows: usize,
}

pub(crate) fn read_xlsx(
    path: &Path,
    sheet: Option<&str>,
    header: Header,
    columns: &[ColumnDef],
    batch_rows: usize,
    tx: &Sender<Result<RawItem, SourceError>>,
) -> Result<(), SourceError> {
    let fail = |sheet: &str, message: String| {
        SourceError::File(FileError::Xlsx {
            path: path.to_path_buf(),
            sheet: sheet.to_string(),
            message,
        })
    };
    let bytes = std::fs::read(path).map_err(|e| {
        SourceError::File(FileError::Io {
            path: path.to_path_buf(),
            source: e,
        })
    })?;
    use sha2::Digest;
    let end = DeliveryEnd {
        sha256: hex::encode(sha2::Sha256::digest(&bytes)),
        bytes: bytes.len() as u64,
        state: None,
        notes: vec![],
    };
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e| fail(sheet.unwrap_or(""), e.to_string()))?;
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
    let range = book
        .worksheet_range(&name)
        .map_err(|e| fail(&name, e.to_string()))?;
    let (r0, _) = range.start().unwrap_or((0, 0));
    let rows: Vec<&[Data]> = range.rows().collect();
    let blank = |r: &[Data]| {
        r.iter()
            .all(|c| text(c).is_none_or(|s| s.trim().is_empty()))
    };
    let header_rows = header.rows;
    let header_at = match header.row {
        Some(n) if n > r0 as usize => n - 1 - r0 as usize,
        Some(n) => {
            return Err(fail(
                &name,
                format!(
                    "header_row {n} is above the sheet's first used row {}",
                    r0 + 1
                ),
            ));
        }
        None => match rows.iter().position(|r| !blank(r)) {
            Some(i) => i,
            None => {
                return Err(SourceError::File(FileError::Empty {
                    path: path.to_path_buf(),
                }));
            }
        },
    };
    if header_at + header_rows > rows.len() {
        return Err(fail(&name, format!("expected {header_rows} header rows")));
    }
    let width = range.width();
    let clean = |s: String| s.trim_start_matches('\u{feff}').trim().to_string();
    let mut names: Vec<String> = Vec::with_capacity(width);
    let mut top_carry = String::new();
    for c in 0..width {
        let top = rows[header_at]
            .get(c)
            .and_then(text)
            .map(clean)
            .unwrap_or_default();
        if header_rows == 2 {
            // A merged top cell is written in its first column only.
            if !top.is_empty() {
                top_carry = top.clone();
            }
            let sub = rows[header_at + 1]
                .get(c)
                .and_then(text)
                .map(clean)
                .unwrap_or_default();
            names.push(match (top_carry.is_empty(), sub.is_empty()) {
                (_, true) => top_carry.clone(),
                (true, false) => sub,
                (false, false) if top.is_empty() || top == top_carry => {
                    // Under a merged cell, or a cell that is its own parent.
                    if sub == top_carry {
                        sub
                    } else {
                        format!("{top_carry}/{sub}")
                    }
                }
                (false, false) => format!("{top_carry}/{sub}"),
            });
        } else {
            names.push(top);
        }
    }
    let positions: Vec<usize> = columns
        .iter()
        .map(|c| {
            names.iter().position(|h| h == c.source_name()).ok_or_else(|| {
                let shown: Vec<&str> = names.iter().filter(|h| !h.is_empty()).map(String::as_str).collect();
                fail(
                    &name,
                    format!(
                        "no column `{}` (declared as `{}`) in header row {}; the header has: {}",
                        c.source_name(),
                        c.name,
                        r0 as usize + header_at + 1,
                        shown.join(", ")
                    ),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let mut batcher = TextBatcher::new(columns, batch_rows);
    let first_data = header_at + header_rows;
    let mut cells: Vec<Option<String>> = vec![None; columns.len()];
    for (k, r) in rows[first_data..].iter().enumerate() {
        if blank(r) {
            continue;
        }
        for (i, c) in columns.iter().enumerate() {
            cells[i] = r.get(positions[i]).and_then(|d| cell_text(d, c.ty));
        }
        let excel_row = r0 as u64 + (first_data + k) as u64 + 1;
        batcher.push(excel_row, |i| cells[i].as_deref());
        if batcher.is_full() {
            tx.blocking_send(Ok(RawItem::Batch(batcher.finish())))
                .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))?;
        }
    }
    if !batcher.is_empty() {
        tx.blocking_send(Ok(RawItem::Batch(batcher.finish())))
            .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))?;
    }
    tx.blocking_send(Ok(RawItem::End(end)))
        .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))
}

#[cfg(test)]
mod tests {
    use super::serial;

    #[test]
    fn excel_serials() {
        assert_eq!(serial(45_658.0).unwrap().date().to_string(), "2025-01-01");
        assert_eq!(serial(45_658.5).unwrap().to_string(), "2025-01-01 12:00:00");
        assert!(serial(0.5).is_none());
    }
}

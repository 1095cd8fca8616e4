//! XLSX for landing: a chosen sheet, one or two header rows (merged top
//! cells carried across the columns under them), blank rows skipped, Excel
//! date serials in date columns read as dates. Rows are numbered as Excel
//! numbers them. The sheet is read row by row (see `files::sheet`), so a
//! workbook's memory is bounded by `xlsx_max_bytes`, not by its extent.

use std::path::Path;

use calamine::Data;
use tokio::sync::mpsc::Sender;

use super::{ColumnDef, ColumnType, DeliveryEnd, RawItem, SourceError, TextBatcher};
use crate::files::FileError;
use crate::files::sheet::{SheetRow, XlsxLimits};

use crate::files::xlsx::{excel_text as text, open_sheet};

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

/// The name of each header column, by 0-based column: one header row as
/// it is; two rows as `top/sub`, a merged top cell (written in its first
/// column only) carried across the columns after it. A column absent from
/// both rows right after a present one still carries the top name.
fn header_names(top: &[(u32, Data)], sub: Option<&[(u32, Data)]>) -> Vec<(u32, String)> {
    let clean = |s: String| s.trim_start_matches('\u{feff}').trim().to_string();
    let at = |row: &[(u32, Data)], c: u32| {
        row.iter()
            .find(|(k, _)| *k == c)
            .and_then(|(_, d)| text(d))
            .map(clean)
            .unwrap_or_default()
    };
    let Some(sub) = sub else {
        let mut names: Vec<(u32, String)> = top
            .iter()
            .map(|(c, d)| (*c, text(d).map(clean).unwrap_or_default()))
            .collect();
        names.sort_by_key(|(c, _)| *c);
        return names;
    };
    let mut cols: Vec<u32> = top.iter().chain(sub).map(|(c, _)| *c).collect();
    cols.sort_unstable();
    cols.dedup();
    let mut names = Vec::with_capacity(cols.len() + 1);
    let mut top_carry = String::new();
    for (k, &c) in cols.iter().enumerate() {
        let top = at(top, c);
        if !top.is_empty() {
            top_carry = top.clone();
        }
        let sub = at(sub, c);
        names.push((
            c,
            match (top_carry.is_empty(), sub.is_empty()) {
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
            },
        ));
        let gap = c.checked_add(1).filter(|g| cols.get(k + 1) != Some(g));
        if let Some(g) = gap
            && !top_carry.is_empty()
        {
            names.push((g, top_carry.clone()));
        }
    }
    names
}

/// Reads a workbook as a stream of rows (never a whole-sheet grid) and
/// sends the declared columns in batches; the workbook and its rows are
/// held within `limits`.
pub(crate) fn read_xlsx(
    path: &Path,
    sheet: Option<&str>,
    header: Header,
    columns: &[ColumnDef],
    batch_rows: usize,
    limits: XlsxLimits,
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
        legacy_sha256: None,
        bytes: bytes.len() as u64,
        state: None,
        notes: vec![],
    };
    let (mut book, name) = open_sheet(path, bytes, sheet, limits).map_err(SourceError::File)?;
    let mut rows = book.rows(&name).map_err(|e| fail(&name, e.to_string()))?;
    let mut next = || rows.next_row().map_err(|e| fail(&name, e.to_string()));
    let blank = |r: &SheetRow| {
        r.cells
            .iter()
            .all(|(_, c)| text(c).is_none_or(|s| s.trim().is_empty()))
    };
    let header_rows = header.rows as u64;
    // The header's first row (Excel's number), and the first row after it
    // that was already read.
    let (first, mut ahead) = match header.row {
        Some(n) => {
            let first = next()?;
            let used = first.as_ref().map_or(1, |r| r.excel_row);
            if n == 0 || (first.is_some() && (n as u64) < used) {
                return Err(fail(
                    &name,
                    format!("header_row {n} is above the sheet's first used row {used}"),
                ));
            }
            (n as u64, first)
        }
        None => loop {
            match next()? {
                Some(r) if blank(&r) => continue,
                Some(r) => break (r.excel_row, Some(r)),
                None => {
                    return Err(SourceError::File(FileError::Empty {
                        path: path.to_path_buf(),
                    }));
                }
            }
        },
    };
    // The header rows (absent ones are empty); `ahead` ends as the first
    // row below them.
    let last_header = first + header_rows - 1;
    let mut top: Vec<(u32, Data)> = vec![];
    let mut sub: Vec<(u32, Data)> = vec![];
    let mut last_seen = 0;
    while let Some(r) = ahead.take() {
        last_seen = r.excel_row;
        if r.excel_row > last_header {
            ahead = Some(r);
            break;
        }
        if r.excel_row == first {
            top = r.cells;
        } else if r.excel_row == last_header {
            sub = r.cells;
        }
        ahead = next()?;
    }
    if ahead.is_none() && last_seen < last_header {
        return Err(fail(&name, format!("expected {header_rows} header rows")));
    }
    let names = header_names(&top, (header_rows == 2).then_some(&sub[..]));
    drop(top);
    drop(sub);
    let positions: Vec<u32> = columns
        .iter()
        .map(|c| {
            names
                .iter()
                .find(|(_, h)| h == c.source_name())
                .map(|(k, _)| *k)
                .ok_or_else(|| {
                    let shown: Vec<&str> = names
                        .iter()
                        .map(|(_, h)| h.as_str())
                        .filter(|h| !h.is_empty())
                        .collect();
                    fail(
                        &name,
                        format!(
                            "no column `{}` (declared as `{}`) in header row {}; the header has: {}",
                            c.source_name(),
                            c.name,
                            first,
                            shown.join(", ")
                        ),
                    )
                })
        })
        .collect::<Result<_, _>>()?;
    // (column, declared index), by column: a row's cells are matched in
    // O(cells · log columns), whatever the row's width.
    let mut by_column: Vec<(u32, usize)> = positions.iter().copied().zip(0..).collect();
    by_column.sort_unstable();
    let mut batcher = TextBatcher::new(columns, batch_rows);
    let mut cells: Vec<Option<String>> = vec![None; columns.len()];
    while let Some(r) = ahead.take() {
        if !blank(&r) {
            cells.iter_mut().for_each(|c| *c = None);
            for (k, d) in &r.cells {
                let from = by_column.partition_point(|(p, _)| p < k);
                for &(_, i) in by_column[from..].iter().take_while(|(p, _)| p == k) {
                    cells[i] = cell_text(d, columns[i].ty);
                }
            }
            // 0-based record index: the sheet row after the (last) header
            // row is 0, and blank rows keep their number, as `pdq check`
            // counts.
            batcher.push(r.excel_row - last_header - 1, |i| cells[i].as_deref());
            if batcher.is_full() {
                tx.blocking_send(Ok(RawItem::Batch(batcher.finish())))
                    .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))?;
            }
        }
        ahead = next()?;
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

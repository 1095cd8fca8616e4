//! XLSX for `pdq check`: one sheet read into a table of text cells.

use std::path::Path;

use calamine::Data;

use super::FileError;
use super::sheet::{SheetError, SheetRow, Workbook, XlsxLimits};
use super::text::{TextTable, check_headers, clean_header};

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

/// Opens a workbook read from `path` and picks its sheet: the one named,
/// else the first. Both readers of XLSX (`pdq check` and landing) start here.
pub(crate) fn open_sheet(
    path: &Path,
    bytes: Vec<u8>,
    sheet: Option<&str>,
    limits: XlsxLimits,
) -> Result<(Workbook, String), FileError> {
    let fail = |sheet: &str, message: String| FileError::Xlsx {
        path: path.to_path_buf(),
        sheet: sheet.to_string(),
        message,
    };
    let book = Workbook::open(bytes, limits).map_err(|e| match sheet {
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
    Ok((book, name))
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
    let (mut book, name) = open_sheet(path, bytes, sheet, limits)?;
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
    use super::*;

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}

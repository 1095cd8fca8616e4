//! Workbook sheets read as a stream of rows, within a memory limit.
//!
//! calamine's `worksheet_range` allocates one cell for every position
//! between a sheet's first and last used cell: a 1.5 KB workbook with values
//! at A1 and XFD1048576 asks for 17 billion cells and the process aborts.
//! Here a sheet is read cell by cell and handed out one row at a time
//! (only the cells the file holds), and a workbook is measured before
//! calamine opens it: calamine loads the shared strings whole, so a zip
//! whose parts unpack to more than the limit is refused before that.
//!
//! The one limit, `xlsx_max_bytes`, bounds three things: the unpacked size
//! of the workbook's XML parts, the text one row holds, and the text a
//! caller that keeps rows (`pdq check`, catalog harvest) charges for them.

use std::io::{Cursor, Read};

use calamine::{Cell, Data, DataRef, Dimensions, Reader, Sheets};

/// The default of `xlsx_max_bytes`: 512 MiB.
pub const DEFAULT_XLSX_MAX_BYTES: u64 = 512 << 20;

/// Bytes counted for a cell besides its text (its slot and position).
pub(crate) const CELL_OVERHEAD: u64 = 32;

/// How much of a workbook is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XlsxLimits {
    /// The most bytes the workbook's parts may unpack to, and the most text
    /// a row or a kept sheet may hold (`xlsx_max_bytes`).
    pub max_bytes: u64,
}

impl Default for XlsxLimits {
    fn default() -> Self {
        XlsxLimits {
            max_bytes: DEFAULT_XLSX_MAX_BYTES,
        }
    }
}

/// Why a sheet cannot be read. The caller adds the file and sheet.
#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    /// calamine or the zip reader refused the workbook.
    #[error("{0}")]
    Workbook(String),
    /// A part of the workbook unpacks to more than the limit.
    #[error(
        "the workbook unpacks to more than {limit} bytes (at part {part}); the limit is xlsx_max_bytes"
    )]
    TooLarge {
        /// The part being measured when the limit was passed.
        part: String,
        /// The limit.
        limit: u64,
    },
    /// One row, or the rows kept so far, hold more than the limit.
    #[error("{what} hold more than {limit} bytes at row {row}; the limit is xlsx_max_bytes")]
    RowsTooLarge {
        /// `the cells of this row` or `the rows read`.
        what: &'static str,
        /// The Excel row.
        row: u64,
        /// The limit.
        limit: u64,
    },
    /// Rows out of order (Excel always writes them in order).
    #[error("row {row} comes after row {after}; rows must be in ascending order")]
    OutOfOrder {
        /// The row found.
        row: u64,
        /// The row before it.
        after: u64,
    },
    /// A format that cannot be read without a whole-sheet grid.
    #[error("{0}")]
    Unsupported(String),
}

/// One row as the file holds it: its Excel number (1-based) and its
/// non-empty cells, by 0-based column, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetRow {
    /// Excel's row number.
    pub excel_row: u64,
    /// `(column, value)`, only the cells present.
    pub cells: Vec<(u32, Data)>,
}

/// An open workbook.
pub struct Workbook {
    book: Sheets<Cursor<Vec<u8>>>,
    limits: XlsxLimits,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

impl Workbook {
    /// Opens a workbook (XLSX, XLSM or XLSB) held in memory, after checking
    /// that its parts unpack to at most the limit.
    pub fn open(bytes: Vec<u8>, limits: XlsxLimits) -> Result<Workbook, SheetError> {
        if bytes.starts_with(CFB_MAGIC) {
            // Legacy .xls: calamine parses every sheet into a grid sized by
            // the sheet's extent as it opens the file, which a hostile file
            // sets freely; there is no streaming reader for it.
            return Err(SheetError::Unsupported(
                "legacy .xls workbooks are not read (their reader builds a whole-sheet grid); save the file as .xlsx".into(),
            ));
        }
        if !bytes.starts_with(ZIP_MAGIC) {
            return Err(SheetError::Workbook(
                "not an Excel workbook (expected an .xlsx zip package)".into(),
            ));
        }
        check_unpacked_size(&bytes, limits)?;
        let book = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| SheetError::Workbook(e.to_string()))?;
        if matches!(book, Sheets::Ods(_) | Sheets::Xls(_)) {
            return Err(SheetError::Unsupported(
                "OpenDocument spreadsheets are not read; save the file as .xlsx".into(),
            ));
        }
        Ok(Workbook { book, limits })
    }

    /// The sheet names, in workbook order.
    pub fn sheet_names(&self) -> Vec<String> {
        self.book.sheet_names()
    }

    /// The merged regions of a sheet (0-based, inclusive), XLSX only.
    pub fn merged_regions(&mut self, sheet: &str) -> Result<Vec<Dimensions>, SheetError> {
        match &mut self.book {
            Sheets::Xlsx(x) => x
                .merge_cells_by_sheet_name(sheet)
                .map_err(|e| SheetError::Workbook(e.to_string())),
            _ => Ok(vec![]),
        }
    }

    /// A reader of the sheet's rows.
    pub fn rows(&mut self, sheet: &str) -> Result<SheetRows<'_>, SheetError> {
        let next: NextCell<'_> = match &mut self.book {
            Sheets::Xlsx(x) => {
                let mut r = x
                    .worksheet_cells_reader(sheet)
                    .map_err(|e| SheetError::Workbook(e.to_string()))?;
                Box::new(move || r.next_cell().map_err(|e| e.to_string()))
            }
            Sheets::Xlsb(x) => {
                let mut r = x
                    .worksheet_cells_reader(sheet)
                    .map_err(|e| SheetError::Workbook(e.to_string()))?;
                Box::new(move || r.next_cell().map_err(|e| e.to_string()))
            }
            Sheets::Xls(_) | Sheets::Ods(_) => {
                return Err(SheetError::Unsupported(
                    "this workbook format has no streaming reader; save the file as .xlsx".into(),
                ));
            }
        };
        Ok(SheetRows {
            next,
            pending: None,
            last_row: None,
            finished: false,
            kept: 0,
            limit: self.limits.max_bytes,
        })
    }
}

type NextCell<'a> = Box<dyn FnMut() -> Result<Option<Cell<DataRef<'a>>>, String> + 'a>;

/// Whether calamine reads a part of the package (and so whether it counts).
fn counted(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".xml") || n.ends_with(".rels") || n.ends_with(".bin")
}

/// Unpacks every part calamine may read, counting bytes, and refuses the
/// workbook when they pass the limit. The sizes the zip directory declares
/// are checked first (cheap), then what the parts really unpack to (the
/// directory can lie); nothing unpacked is kept.
fn check_unpacked_size(bytes: &[u8], limits: XlsxLimits) -> Result<(), SheetError> {
    let limit = limits.max_bytes;
    let bad = |e: zip::result::ZipError| {
        SheetError::Workbook(format!("not a readable .xlsx zip package: {e}"))
    };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(bad)?;
    let mut declared = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index_raw(i).map_err(bad)?;
        let name = part.name().map_err(bad)?;
        if counted(&name) {
            declared = declared.saturating_add(part.size());
            if declared > limit {
                return Err(SheetError::TooLarge {
                    part: name.into_owned(),
                    limit,
                });
            }
        }
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let part = zip.by_index(i).map_err(bad)?;
        let name = part.name().map_err(bad)?.into_owned();
        if !counted(&name) {
            continue;
        }
        let room = limit - total;
        let n = std::io::copy(&mut part.take(room.saturating_add(1)), &mut std::io::sink())
            .map_err(|e| SheetError::Workbook(format!("part {name} cannot be unpacked: {e}")))?;
        if n > room {
            return Err(SheetError::TooLarge { part: name, limit });
        }
        total += n;
    }
    Ok(())
}

/// The text bytes a cell holds.
fn text_len(d: &DataRef<'_>) -> u64 {
    match d {
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.len() as u64,
        DataRef::SharedString(s) => s.len() as u64,
        _ => 0,
    }
}

/// A sheet's rows, one at a time, in order; empty cells are left out and
/// rows without a non-empty cell are not returned (their numbers are
/// skipped, as Excel skips them).
pub struct SheetRows<'a> {
    next: NextCell<'a>,
    /// The first cell of the next row, read while finishing this one.
    pending: Option<(u32, u32, Data)>,
    last_row: Option<u32>,
    finished: bool,
    kept: u64,
    limit: u64,
}

impl<'a> SheetRows<'a> {
    /// The next non-empty cell: (row, column, value).
    fn next_cell(&mut self) -> Result<Option<(u32, u32, DataRef<'a>)>, SheetError> {
        loop {
            if self.finished {
                // The reader is not to be asked again after the sheet's end.
                return Ok(None);
            }
            match (self.next)().map_err(SheetError::Workbook)? {
                None => {
                    self.finished = true;
                    return Ok(None);
                }
                Some(c) if matches!(c.get_value(), DataRef::Empty) => continue,
                Some(c) => {
                    let (r, col) = c.get_position();
                    return Ok(Some((r, col, c.get_value().clone())));
                }
            }
        }
    }

    /// The next row with at least one non-empty cell; the row's cells
    /// (text plus a fixed overhead each) may hold at most the limit.
    pub fn next_row(&mut self) -> Result<Option<SheetRow>, SheetError> {
        let limit = self.limit;
        let mut row = match self.pending.take() {
            Some((r, c, d)) => (r, vec![(c, d)]),
            None => match self.next_cell()? {
                None => return Ok(None),
                Some((r, c, d)) => {
                    let size = CELL_OVERHEAD + text_len(&d);
                    if size > limit {
                        return Err(SheetError::RowsTooLarge {
                            what: "the cells of this row",
                            row: r as u64 + 1,
                            limit,
                        });
                    }
                    (r, vec![(c, Data::from(d))])
                }
            },
        };
        if let Some(last) = self.last_row
            && row.0 <= last
        {
            return Err(SheetError::OutOfOrder {
                row: row.0 as u64 + 1,
                after: last as u64 + 1,
            });
        }
        let mut bytes: u64 = row.1.iter().map(|(_, d)| CELL_OVERHEAD + data_len(d)).sum();
        while let Some((r, c, d)) = self.next_cell()? {
            if r != row.0 {
                // Measured before it is copied: a shared string can be long.
                if CELL_OVERHEAD + text_len(&d) > limit {
                    return Err(SheetError::RowsTooLarge {
                        what: "the cells of this row",
                        row: r as u64 + 1,
                        limit,
                    });
                }
                self.pending = Some((r, c, Data::from(d)));
                break;
            }
            bytes += CELL_OVERHEAD + text_len(&d);
            if bytes > limit {
                return Err(SheetError::RowsTooLarge {
                    what: "the cells of this row",
                    row: r as u64 + 1,
                    limit,
                });
            }
            row.1.push((c, Data::from(d)));
        }
        self.last_row = Some(row.0);
        Ok(Some(SheetRow {
            excel_row: row.0 as u64 + 1,
            cells: row.1,
        }))
    }

    /// Counts bytes a caller keeps from the rows (at Excel row `row`);
    /// fails once all it keeps passes the limit.
    pub fn charge(&mut self, bytes: u64, row: u64) -> Result<(), SheetError> {
        self.kept = self.kept.saturating_add(bytes);
        if self.kept > self.limit {
            return Err(SheetError::RowsTooLarge {
                what: "the rows read",
                row,
                limit: self.limit,
            });
        }
        Ok(())
    }
}

/// The text bytes a cell holds.
pub(crate) fn data_len(d: &Data) -> u64 {
    match d {
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.len() as u64,
        _ => 0,
    }
}

/// `SheetRow`s of a whole sheet, for tests.
#[cfg(test)]
pub(crate) fn all_rows(bytes: Vec<u8>, sheet: &str) -> Result<Vec<SheetRow>, SheetError> {
    let mut book = Workbook::open(bytes, XlsxLimits::default())?;
    let mut rows = book.rows(sheet)?;
    let mut out = vec![];
    while let Some(r) = rows.next_row()? {
        out.push(r);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workbook(f: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> Vec<u8> {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let ws = wb.add_worksheet();
        f(ws);
        wb.save_to_buffer().unwrap()
    }

    #[test]
    fn far_apart_cells_are_two_short_rows() {
        let bytes = workbook(|ws| {
            ws.write_string(0, 0, "x").unwrap();
            ws.write_string(1_048_575, 16_383, "x").unwrap();
        });
        let rows = all_rows(bytes, "Sheet1").unwrap();
        assert_eq!(
            rows,
            vec![
                SheetRow {
                    excel_row: 1,
                    cells: vec![(0, Data::String("x".into()))]
                },
                SheetRow {
                    excel_row: 1_048_576,
                    cells: vec![(16_383, Data::String("x".into()))]
                },
            ]
        );
    }

    #[test]
    fn blank_rows_and_empty_cells_are_left_out() {
        let bytes = workbook(|ws| {
            ws.write_string(0, 0, "a").unwrap();
            ws.write_number(0, 2, 1.5).unwrap();
            ws.write_blank(1, 0, &rust_xlsxwriter::Format::new().set_bold())
                .unwrap();
            ws.write_string(3, 1, "b").unwrap();
        });
        let rows = all_rows(bytes, "Sheet1").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].excel_row, 1);
        assert_eq!(
            rows[0].cells,
            vec![(0, Data::String("a".into())), (2, Data::Float(1.5))]
        );
        assert_eq!(rows[1].excel_row, 4);
    }

    #[test]
    fn a_workbook_that_unpacks_past_the_limit_is_refused() {
        let bytes = workbook(|ws| {
            for r in 0..2000 {
                ws.write_string(r, 0, "the same long text, over and over")
                    .unwrap();
            }
        });
        let limits = XlsxLimits { max_bytes: 20_000 };
        let err = Workbook::open(bytes.clone(), limits).err().unwrap();
        assert!(matches!(err, SheetError::TooLarge { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("20000 bytes"), "{text}");
        assert!(text.contains("xlsx_max_bytes"), "{text}");
        assert!(Workbook::open(bytes, XlsxLimits::default()).is_ok());
    }

    #[test]
    fn a_row_or_the_rows_kept_past_the_limit_fail() {
        // One shared string of 100 bytes in 1000 cells: a small file whose
        // row holds 1000 copies.
        let long = "0123456789".repeat(10);
        let bytes = workbook(|ws| {
            ws.write_string(0, 0, "x").unwrap();
            for c in 0..1000 {
                ws.write_string(1, c, &long).unwrap();
            }
        });
        let limits = XlsxLimits { max_bytes: 60_000 };
        let mut book = Workbook::open(bytes, limits).unwrap();
        let mut rows = book.rows("Sheet1").unwrap();
        assert_eq!(rows.next_row().unwrap().unwrap().excel_row, 1);
        let err = rows.next_row().unwrap_err();
        assert_eq!(
            err.to_string(),
            "the cells of this row hold more than 60000 bytes at row 2; the limit is xlsx_max_bytes"
        );
        drop(rows);
        let mut rows = book.rows("Sheet1").unwrap();
        rows.charge(50_000, 1).unwrap();
        assert!(rows.charge(20_000, 2).is_err());
    }

    #[test]
    fn legacy_xls_is_refused_plainly() {
        let mut bytes = CFB_MAGIC.to_vec();
        bytes.resize(4096, 0);
        let err = Workbook::open(bytes, XlsxLimits::default()).err().unwrap();
        assert!(err.to_string().contains("save the file as .xlsx"), "{err}");
    }
}

//! The bureau's spreadsheet template, as departments really fill it: a title
//! row or two above the header, merged cells (a department or a resource
//! name merged down over the rows it applies to), blank rows, trailing and
//! full-width spaces, headers with `*` or `（必填）`, and columns the
//! template does not know. One sheet of resources, one of data items (信息项)
//! that name their resource by code or name.

use calamine::{Data, Dimensions};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use super::{
    FIELDS, Harvest, HarvestError, HarvestProblem, HarvestedItem, HarvestedRecord, ITEM_FIELDS,
    canonical, clean,
};
use crate::files::sheet::{SheetError, SheetRow, SheetRows, Workbook, XlsxLimits};
use crate::files::xlsx::{column_letter, excel_text};

/// `kind = "xlsx_template"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XlsxTemplateConfig {
    /// The workbook: a path (relative to the workspace) or an HTTP(S) URL.
    pub location: String,
    /// The resources sheet; default: the first sheet whose name has 资源 or
    /// 目录, else the first sheet.
    #[serde(default)]
    pub resource_sheet: Option<String>,
    /// The data-items sheet; default: the first sheet whose name has 信息项
    /// or 数据项 (none: entries without items).
    #[serde(default)]
    pub item_sheet: Option<String>,
}

/// Excel's error values.
const EXCEL_ERRORS: &[&str] = &[
    "#DIV/0!", "#REF!", "#VALUE!", "#N/A", "#NAME?", "#NUM!", "#NULL!",
];

/// A row of a sheet as text cells by 0-based column, merged regions filled
/// from their top-left cell; only the cells that hold text.
type Row = BTreeMap<u32, String>;

/// A sheet read row by row (never a whole-sheet grid), merged regions
/// filled in. Rows are numbered from 0 (Excel's row - 1); rows with neither
/// a cell nor a merged region are not returned. Cells holding an Excel error
/// value are left empty and listed in `errors`.
struct FilledRows<'a> {
    rows: SheetRows<'a>,
    /// Merged regions by first row; `tops[i]` is region i's value, read
    /// when its first row passes.
    merges: Vec<Dimensions>,
    tops: Vec<Option<String>>,
    /// Merged regions before it have started.
    started: usize,
    /// Regions that cover the current row.
    active: Vec<usize>,
    /// One past the sheet's last used column: merged values are not
    /// written beyond it.
    width: u32,
    /// The next row to consider.
    next: u32,
    pending: Option<SheetRow>,
    done: bool,
    limit: u64,
    errors: Vec<(usize, usize, String)>,
}

impl<'a> FilledRows<'a> {
    fn open(
        book: &'a mut Workbook,
        sheet: &str,
        limits: XlsxLimits,
    ) -> Result<FilledRows<'a>, SheetError> {
        // A first pass finds the last used column (what the merged values
        // may fill up to), holding one row at a time.
        let mut width = 0;
        {
            let mut rows = book.rows(sheet)?;
            while let Some(r) = rows.next_row()? {
                for (c, _) in &r.cells {
                    width = width.max(c.saturating_add(1));
                }
            }
        }
        let mut merges = book.merged_regions(sheet)?;
        merges.sort_by_key(|m| m.start);
        Ok(FilledRows {
            rows: book.rows(sheet)?,
            tops: vec![None; merges.len()],
            merges,
            started: 0,
            active: vec![],
            width,
            next: 0,
            pending: None,
            done: false,
            limit: limits.max_bytes,
            errors: vec![],
        })
    }

    /// Counts what the caller keeps from a row (see `SheetRows::charge`).
    fn charge(&mut self, bytes: u64, r: usize) -> Result<(), SheetError> {
        self.rows.charge(bytes, r as u64 + 1)
    }

    fn next_row(&mut self) -> Result<Option<(usize, Row)>, SheetError> {
        loop {
            if self.pending.is_none() && !self.done {
                self.pending = self.rows.next_row()?;
                self.done = self.pending.is_none();
            }
            // The sheet ends at its last used row, as a grid of it would.
            let Some(streamed) = self.pending.as_ref().map(|p| (p.excel_row - 1) as u32) else {
                return Ok(None);
            };
            let r = self.next;
            while self.started < self.merges.len() && self.merges[self.started].start.0 <= r {
                self.active.push(self.started);
                self.started += 1;
            }
            let merges = &self.merges;
            self.active.retain(|&m| merges[m].end.0 >= r);
            if streamed != r && self.active.is_empty() {
                // Nothing on the rows before the next streamed row or the
                // next merged region: skip them.
                let next_merge = self
                    .merges
                    .get(self.started)
                    .map_or(u32::MAX, |m| m.start.0);
                self.next = streamed.min(next_merge).max(r + 1);
                continue;
            }
            self.next = r + 1;
            let mut row = Row::new();
            let mut bytes = 0u64;
            if streamed == r
                && let Some(p) = self.pending.take()
            {
                let errors = self.errors.len();
                for (c, d) in p.cells {
                    match &d {
                        Data::Error(e) => self.errors.push((r as usize, c as usize, e.to_string())),
                        // A cached formula result that is an error value.
                        Data::String(t) if EXCEL_ERRORS.contains(&t.trim()) => {
                            self.errors
                                .push((r as usize, c as usize, t.trim().to_string()))
                        }
                        d => {
                            if let Some(t) = excel_text(d).and_then(|t| clean(&t)) {
                                bytes += CELL_BYTES + t.len() as u64;
                                row.insert(c, t);
                            }
                        }
                    }
                }
                // The listed error cells are kept to the end of the sheet.
                let listed = (self.errors.len() - errors) as u64;
                self.rows.charge(ERROR_BYTES * listed, r as u64 + 1)?;
            }
            for &m in &self.active {
                let d = self.merges[m];
                if d.start.0 == r {
                    self.tops[m] = row.get(&d.start.1).cloned();
                }
                let Some(v) = &self.tops[m] else { continue };
                let last = d.end.1.min(self.width.saturating_sub(1));
                if d.start.1 > last {
                    continue;
                }
                let n = (last - d.start.1 + 1) as u64;
                bytes = bytes.saturating_add(n.saturating_mul(CELL_BYTES + v.len() as u64));
                if bytes > self.limit {
                    return Err(SheetError::RowsTooLarge {
                        what: "the cells of this row (merged regions filled)",
                        row: r as u64 + 1,
                        limit: self.limit,
                    });
                }
                for c in d.start.1..=last {
                    row.entry(c).or_insert_with(|| v.clone());
                }
            }
            if !row.is_empty() {
                return Ok(Some((r as usize, row)));
            }
        }
    }
}

/// Bytes counted for a kept cell or field besides its text.
const CELL_BYTES: u64 = 48;
/// Bytes counted for a listed error cell.
const ERROR_BYTES: u64 = 64;

/// A header row: its index, column → field, and the headers not known.
type Header = (usize, BTreeMap<u32, &'static str>, Vec<(u32, String)>);

/// The header: the first of the top 10 rows where at least three cells name
/// template fields; rows arrive in order, so each is tried as it comes.
fn header(r: usize, row: &Row, table: &[(&'static str, &[&str])]) -> Option<Header> {
    if r >= 10 {
        return None;
    }
    let mut map = BTreeMap::new();
    let mut unknown = vec![];
    for (&c, text) in row {
        match canonical(table, text) {
            // A field named twice (merged header cells filled across)
            // keeps its first column.
            Some(f) if !map.values().any(|v| *v == f) => {
                map.insert(c, f);
            }
            Some(_) => {}
            None => unknown.push((c, text.clone())),
        }
    }
    (map.len() >= 3).then_some((r, map, unknown))
}

/// The bytes a record or item keeps, for the limit.
fn kept_bytes<'a>(fields: impl Iterator<Item = (&'a str, &'a String)>) -> u64 {
    fields
        .map(|(k, v)| CELL_BYTES + (k.len() + v.len()) as u64)
        .sum()
}

pub(crate) fn harvest(
    cfg: &XlsxTemplateConfig,
    bytes: Vec<u8>,
    limits: XlsxLimits,
) -> Result<Harvest, HarvestError> {
    let file = cfg
        .location
        .rsplit('/')
        .next()
        .unwrap_or(&cfg.location)
        .to_string();
    let mut book = Workbook::open(bytes, limits).map_err(|e| HarvestError::Format {
        location: file.clone(),
        message: match e {
            SheetError::Workbook(e) => format!("not an XLSX workbook: {e}"),
            e => e.to_string(),
        },
    })?;
    let names = book.sheet_names();
    let pick = |wanted: &Option<String>,
                hints: &[&str],
                first: bool|
     -> Result<Option<String>, HarvestError> {
        match wanted {
            Some(w) => names
                .iter()
                .find(|n| n.trim() == w.trim())
                .cloned()
                .map(Some)
                .ok_or_else(|| HarvestError::Format {
                    location: file.clone(),
                    message: format!("no sheet `{w}` (sheets: {})", names.join(", ")),
                }),
            None => Ok(names
                .iter()
                .find(|n| hints.iter().any(|h| n.contains(h)))
                .cloned()
                .or_else(|| first.then(|| names.first().cloned()).flatten())),
        }
    };
    let rsheet = pick(&cfg.resource_sheet, &["资源", "目录"], true)?.ok_or_else(|| {
        HarvestError::Format {
            location: file.clone(),
            message: "the workbook has no sheets".into(),
        }
    })?;
    let isheet = pick(&cfg.item_sheet, &["信息项", "数据项"], false)?.filter(|s| *s != rsheet);
    let sheet_fail = |sheet: &str| {
        let location = format!("{file}!{sheet}");
        move |e: SheetError| HarvestError::Format {
            location: location.clone(),
            message: e.to_string(),
        }
    };

    let mut out = Harvest::default();
    let at = |sheet: &str, r: usize| format!("{file}!{sheet} row {}", r + 1);
    let error_problems = |sheet: &str, errors: &[(usize, usize, String)]| {
        errors
            .iter()
            .map(|(r, c, e)| HarvestProblem {
                stage: "parse".into(),
                location: format!("{} column {}", at(sheet, *r), column_letter(*c)),
                field: None,
                message: format!("cell holds the spreadsheet error {e}; expected a value"),
            })
            .collect::<Vec<_>>()
    };
    let fail = sheet_fail(&rsheet);
    let mut g = FilledRows::open(&mut book, &rsheet, limits).map_err(&fail)?;
    let mut found: Option<(Header, Row)> = None;
    let mut later = vec![];
    while let Some((r, row)) = g.next_row().map_err(&fail)? {
        let Some(((_, map, unknown), head)) = &found else {
            if let Some(h) = header(r, &row, FIELDS) {
                if !h.1.values().any(|f| *f == "name") {
                    return Err(HarvestError::Format {
                        location: at(&rsheet, h.0),
                        message: "no 资源名称 column in the header".into(),
                    });
                }
                found = Some((h, row));
            } else if r >= 9 {
                break;
            }
            continue;
        };
        let mut rec = HarvestedRecord {
            location: at(&rsheet, r),
            ..Default::default()
        };
        for (&c, &f) in map {
            if let Some(v) = row.get(&c).cloned() {
                rec.fields.insert(f.into(), v);
                rec.origins.insert(
                    f.into(),
                    format!(
                        "column {} ({})",
                        column_letter(c as usize),
                        head.get(&c).cloned().unwrap_or_default()
                    ),
                );
            }
        }
        // Headers that name no template field, where this row has a value:
        // what a silent-zero failure names (issue #19, 2).
        rec.unmapped = unknown
            .iter()
            .filter(|(c, _)| row.contains_key(c))
            .map(|(_, text)| text.clone())
            .collect();
        // A row whose only values come from merged cells above (a group
        // label carried down) is not a resource.
        if !rec.fields.contains_key("name") && !rec.fields.contains_key("resource_code") {
            if rec.fields.len() > 1 {
                later.push(HarvestProblem {
                    stage: "parse".into(),
                    location: rec.location.clone(),
                    field: Some("name".into()),
                    message: "row has values but neither 资源名称 nor 资源代码; skipped".into(),
                });
            }
            continue;
        }
        g.charge(kept_bytes(rec.fields.iter().chain(rec.origins.iter())), r)
            .map_err(&fail)?;
        rec.source_id = rec.fields.get("resource_code").cloned();
        out.records.push(rec);
    }
    let Some(((hr, _, unknown), _)) = found else {
        return Err(HarvestError::Format {
            location: format!("{file}!{rsheet}"),
            message: "no header row in the first 10 rows (expected template headers such as 资源名称, 资源提供方, 更新频率, 共享属性)".into(),
        });
    };
    out.problems.extend(error_problems(&rsheet, &g.errors));
    drop(g);
    for (c, text) in unknown {
        out.problems.push(HarvestProblem {
            stage: "map".into(),
            location: format!("{} column {}", at(&rsheet, hr), column_letter(c as usize)),
            field: None,
            message: format!("header `{text}` is not a template field; its values are ignored"),
        });
    }
    out.problems.append(&mut later);

    if let Some(isheet) = isheet {
        let fail = sheet_fail(&isheet);
        let mut g = FilledRows::open(&mut book, &isheet, limits).map_err(&fail)?;
        let by_code: BTreeMap<String, usize> = out
            .records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.fields.get("resource_code").map(|c| (c.clone(), i)))
            .collect();
        let by_name: BTreeMap<String, usize> = out
            .records
            .iter()
            .enumerate()
            .rev()
            .filter_map(|(i, r)| r.fields.get("name").map(|c| (c.clone(), i)))
            .collect();
        let mut found: Option<(Header, Row)> = None;
        let mut searched = false;
        let mut later = vec![];
        while let Some((r, row)) = g.next_row().map_err(&fail)? {
            let Some(((_, map, _), _)) = &found else {
                if searched {
                    // No header: the rest is read only for its error cells.
                    continue;
                }
                if let Some(h) = header(r, &row, ITEM_FIELDS) {
                    // Where each data-item field comes from, once for the
                    // sheet.
                    for (&c, &f) in &h.1 {
                        out.item_origins.insert(
                            f.into(),
                            format!(
                                "column {} ({})",
                                column_letter(c as usize),
                                row.get(&c).cloned().unwrap_or_default()
                            ),
                        );
                    }
                    found = Some((h, row));
                } else if r >= 9 {
                    searched = true;
                }
                continue;
            };
            let mut item = HarvestedItem {
                location: at(&isheet, r),
                ..Default::default()
            };
            for (&c, &f) in map {
                if let Some(v) = row.get(&c).cloned() {
                    item.fields.insert(f.into(), v);
                }
            }
            if !item.fields.contains_key("name") && !item.fields.contains_key("column") {
                if item.fields.len() > 2 {
                    later.push(HarvestProblem {
                        stage: "parse".into(),
                        location: item.location.clone(),
                        field: Some("name".into()),
                        message: "data-item row without 信息项名称 or 字段名; skipped".into(),
                    });
                }
                continue;
            }
            g.charge(kept_bytes(item.fields.iter()), r).map_err(&fail)?;
            let owner = item
                .fields
                .get("resource_code")
                .and_then(|c| by_code.get(c))
                .or_else(|| {
                    item.fields
                        .get("resource_name")
                        .and_then(|n| by_name.get(n))
                })
                .copied();
            match owner {
                Some(i) => out.records[i].items.push(item),
                None => later.push(HarvestProblem {
                    stage: "map".into(),
                    location: item.location.clone(),
                    field: Some("resource_code".into()),
                    message: format!(
                        "data item refers to resource `{}` that is not in sheet {rsheet}",
                        item.fields
                            .get("resource_code")
                            .or_else(|| item.fields.get("resource_name"))
                            .map(String::as_str)
                            .unwrap_or("(blank)")
                    ),
                }),
            }
        }
        out.problems.extend(error_problems(&isheet, &g.errors));
        let Some(((hr, _, unknown), _)) = found else {
            out.problems.push(HarvestProblem {
                stage: "parse".into(),
                location: format!("{file}!{isheet}"),
                field: None,
                message: "no header row in the first 10 rows (expected 资源名称 or 资源代码, 信息项名称, 数据类型); data items not read".into(),
            });
            return Ok(out);
        };
        for (c, text) in unknown {
            out.problems.push(HarvestProblem {
                stage: "map".into(),
                location: format!("{} column {}", at(&isheet, hr), column_letter(c as usize)),
                field: None,
                message: format!(
                    "header `{text}` is not a data-item field; its values are ignored"
                ),
            });
        }
        out.problems.append(&mut later);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::CatalogSourceConfig;
    use super::XlsxTemplateConfig;

    /// A header no template field names is kept, per row that has a value
    /// under it, as the row's unmapped key (what a silent-zero failure and
    /// the mapping report name), besides the harvest problem it was.
    #[tokio::test]
    async fn unknown_headers_are_the_rows_unmapped_keys() {
        let dir = tempfile::tempdir().unwrap();
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (c, h) in [
            "资源代码",
            "资源名称",
            "资源提供方",
            "更新频率",
            "数源单位名",
        ]
        .iter()
        .enumerate()
        {
            sheet.write_string(0, c as u16, *h).unwrap();
        }
        for r in 1..=3u32 {
            sheet.write_string(r, 0, format!("A{r}")).unwrap();
            sheet.write_string(r, 1, format!("资源{r}")).unwrap();
            sheet.write_string(r, 2, "公安局").unwrap();
            sheet.write_string(r, 3, "每日").unwrap();
            if r != 2 {
                sheet.write_string(r, 4, "公安局").unwrap();
            }
        }
        book.save(dir.path().join("目录.xlsx")).unwrap();
        let src = CatalogSourceConfig::XlsxTemplate(XlsxTemplateConfig {
            location: "目录.xlsx".into(),
            resource_sheet: None,
            item_sheet: None,
        });
        let h = src.harvest(dir.path()).await.unwrap();
        assert_eq!(h.records.len(), 3, "{:?}", h.problems);
        let unmapped: Vec<&[String]> = h.records.iter().map(|r| r.unmapped.as_slice()).collect();
        assert_eq!(
            unmapped,
            [
                &["数源单位名".to_string()][..],
                &[][..],
                &["数源单位名".to_string()][..]
            ]
        );
        assert_eq!(h.mapping_report().unmapped.get("数源单位名"), Some(&2));
        assert!(
            h.problems.iter().any(|p| p
                .message
                .contains("header `数源单位名` is not a template field")),
            "{:?}",
            h.problems
        );
    }
}

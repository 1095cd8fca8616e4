//! The bureau's spreadsheet template, as departments really fill it: a title
//! row or two above the header, merged cells (a department or a resource
//! name merged down over the rows it applies to), blank rows, trailing and
//! full-width spaces, headers with `*` or `（必填）`, and columns the
//! template does not know. One sheet of resources, one of data items (信息项)
//! that name their resource by code or name.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use serde::{Deserialize, Serialize};

use super::{
    FIELDS, Harvest, HarvestError, HarvestProblem, HarvestedItem, HarvestedRecord, ITEM_FIELDS,
    canonical, clean,
};
use crate::files::text::{column_letter, excel_text};

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

/// A sheet as text cells, merged regions filled from their top-left cell.
struct Grid {
    rows: Vec<Vec<Option<String>>>,
    errors: Vec<(usize, usize, String)>,
}

fn grid(book: &mut Xlsx<Cursor<Vec<u8>>>, sheet: &str, file: &str) -> Result<Grid, HarvestError> {
    let range = book
        .worksheet_range(sheet)
        .map_err(|e| HarvestError::Format {
            location: format!("{file}!{sheet}"),
            message: e.to_string(),
        })?;
    let merges = book.merge_cells_by_sheet_name(sheet).unwrap_or_default();
    let (h, w) = match range.end() {
        Some((r, c)) => (r as usize + 1, c as usize + 1),
        None => (0, 0),
    };
    let mut rows = vec![vec![None; w]; h];
    let mut errors = vec![];
    for (r, row) in rows.iter_mut().enumerate() {
        for (c, cell) in row.iter_mut().enumerate() {
            match range.get_value((r as u32, c as u32)) {
                Some(Data::Error(e)) => errors.push((r, c, e.to_string())),
                // A cached formula result that is an error value.
                Some(Data::String(t)) if EXCEL_ERRORS.contains(&t.trim()) => {
                    errors.push((r, c, t.trim().to_string()))
                }
                Some(d) => *cell = excel_text(d).and_then(|t| clean(&t)),
                None => {}
            }
        }
    }
    for m in merges {
        let (r0, c0) = (m.start.0 as usize, m.start.1 as usize);
        let v = rows.get(r0).and_then(|r| r.get(c0)).cloned().flatten();
        let (r1, c1) = (m.end.0 as usize, m.end.1 as usize);
        for row in rows.iter_mut().take(r1 + 1).skip(r0) {
            for cell in row.iter_mut().take(c1 + 1).skip(c0) {
                if cell.is_none() {
                    *cell = v.clone();
                }
            }
        }
    }
    Ok(Grid { rows, errors })
}

/// A header row: its index, column → field, and the headers not known.
type Header = (usize, BTreeMap<usize, &'static str>, Vec<(usize, String)>);

/// The header: the first of the top 10 rows where at least three cells name
/// template fields.
fn header(g: &Grid, table: &[(&'static str, &[&str])]) -> Option<Header> {
    for (r, row) in g.rows.iter().enumerate().take(10) {
        let mut map = BTreeMap::new();
        let mut unknown = vec![];
        for (c, cell) in row.iter().enumerate() {
            let Some(text) = cell else { continue };
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
        if map.len() >= 3 {
            return Some((r, map, unknown));
        }
    }
    None
}

fn is_blank(row: &[Option<String>]) -> bool {
    row.iter().all(|c| c.is_none())
}

pub(crate) fn harvest(cfg: &XlsxTemplateConfig, bytes: Vec<u8>) -> Result<Harvest, HarvestError> {
    let file = cfg
        .location
        .rsplit('/')
        .next()
        .unwrap_or(&cfg.location)
        .to_string();
    let mut book = Xlsx::new(Cursor::new(bytes)).map_err(|e| HarvestError::Format {
        location: file.clone(),
        message: format!("not an XLSX workbook: {e}"),
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

    let mut out = Harvest::default();
    let g = grid(&mut book, &rsheet, &file)?;
    let at = |sheet: &str, r: usize| format!("{file}!{sheet} row {}", r + 1);
    for (r, c, e) in &g.errors {
        out.problems.push(HarvestProblem {
            stage: "parse".into(),
            location: format!("{} column {}", at(&rsheet, *r), column_letter(*c)),
            field: None,
            message: format!("cell holds the spreadsheet error {e}; expected a value"),
        });
    }
    let (hr, map, unknown) = header(&g, FIELDS).ok_or_else(|| HarvestError::Format {
        location: format!("{file}!{rsheet}"),
        message: "no header row in the first 10 rows (expected template headers such as 资源名称, 资源提供方, 更新频率, 共享属性)".into(),
    })?;
    if !map.values().any(|f| *f == "name") {
        return Err(HarvestError::Format {
            location: at(&rsheet, hr),
            message: "no 资源名称 column in the header".into(),
        });
    }
    for (c, text) in unknown {
        out.problems.push(HarvestProblem {
            stage: "map".into(),
            location: format!("{} column {}", at(&rsheet, hr), column_letter(c)),
            field: None,
            message: format!("header `{text}` is not a template field; its values are ignored"),
        });
    }
    for (r, row) in g.rows.iter().enumerate().skip(hr + 1) {
        if is_blank(row) {
            continue;
        }
        let mut rec = HarvestedRecord {
            location: at(&rsheet, r),
            ..Default::default()
        };
        for (&c, &f) in &map {
            if let Some(v) = row.get(c).cloned().flatten() {
                rec.fields.insert(f.into(), v);
                rec.origins.insert(
                    f.into(),
                    format!(
                        "column {} ({})",
                        column_letter(c),
                        g.rows[hr][c].clone().unwrap_or_default()
                    ),
                );
            }
        }
        // A row whose only values come from merged cells above (a group
        // label carried down) is not a resource.
        if !rec.fields.contains_key("name") && !rec.fields.contains_key("resource_code") {
            if rec.fields.len() > 1 {
                out.problems.push(HarvestProblem {
                    stage: "parse".into(),
                    location: rec.location.clone(),
                    field: Some("name".into()),
                    message: "row has values but neither 资源名称 nor 资源代码; skipped".into(),
                });
            }
            continue;
        }
        rec.source_id = rec.fields.get("resource_code").cloned();
        out.records.push(rec);
    }

    if let Some(isheet) = isheet {
        let g = grid(&mut book, &isheet, &file)?;
        for (r, c, e) in &g.errors {
            out.problems.push(HarvestProblem {
                stage: "parse".into(),
                location: format!("{} column {}", at(&isheet, *r), column_letter(*c)),
                field: None,
                message: format!("cell holds the spreadsheet error {e}; expected a value"),
            });
        }
        let Some((hr, map, unknown)) = header(&g, ITEM_FIELDS) else {
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
                location: format!("{} column {}", at(&isheet, hr), column_letter(c)),
                field: None,
                message: format!(
                    "header `{text}` is not a data-item field; its values are ignored"
                ),
            });
        }
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
        for (r, row) in g.rows.iter().enumerate().skip(hr + 1) {
            if is_blank(row) {
                continue;
            }
            let mut item = HarvestedItem {
                location: at(&isheet, r),
                ..Default::default()
            };
            for (&c, &f) in &map {
                if let Some(v) = row.get(c).cloned().flatten() {
                    item.fields.insert(f.into(), v);
                    item.origins.insert(
                        f.into(),
                        format!(
                            "column {} ({})",
                            column_letter(c),
                            g.rows[hr][c].clone().unwrap_or_default()
                        ),
                    );
                }
            }
            if !item.fields.contains_key("name") && !item.fields.contains_key("column") {
                if item.fields.len() > 2 {
                    out.problems.push(HarvestProblem {
                        stage: "parse".into(),
                        location: item.location.clone(),
                        field: Some("name".into()),
                        message: "data-item row without 信息项名称 or 字段名; skipped".into(),
                    });
                }
                continue;
            }
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
                None => out.problems.push(HarvestProblem {
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
    }
    Ok(out)
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

//! Every scorecard table as CSV (UTF-8 with BOM, so Excel opens Chinese
//! correctly) and as one XLSX workbook with a sheet per table, for officials.

use super::{Rectification, RunScores};

/// A table: name (file and sheet), headers, rows.
pub type Table = (&'static str, Vec<&'static str>, Vec<Vec<String>>);

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.2}"))
        .unwrap_or_else(|| "无法评估".into())
}

/// The tables of one run.
pub fn tables(scores: &RunScores, rects: &[Rectification]) -> Vec<Table> {
    let cards = || scores.departments.iter().chain(&scores.datasets);
    vec![
        (
            "departments",
            vec![
                "名次 rank",
                "部门 department",
                "得分 score",
                "等级 grade",
                "变化 change",
            ],
            scores
                .departments
                .iter()
                .map(|d| {
                    vec![
                        d.rank.map(|r| r.to_string()).unwrap_or_default(),
                        d.id.clone(),
                        opt(d.score),
                        d.grade.clone().unwrap_or_default(),
                        d.delta.map(|x| format!("{x:+.2}")).unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
        (
            "datasets",
            vec![
                "数据集 dataset",
                "部门 department",
                "得分 score",
                "等级 grade",
                "变化 change",
            ],
            scores
                .datasets
                .iter()
                .map(|d| {
                    vec![
                        d.id.clone(),
                        d.department.clone(),
                        opt(d.score),
                        d.grade.clone().unwrap_or_default(),
                        d.delta.map(|x| format!("{x:+.2}")).unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
        (
            "dimensions",
            vec![
                "范围 scope",
                "对象 id",
                "维度 dimension",
                "得分 score",
                "权重 weight",
                "规则数 rules",
            ],
            cards()
                .flat_map(|c| {
                    c.dimensions.iter().map(move |d| {
                        vec![
                            c.scope.clone(),
                            c.id.clone(),
                            d.name_zh.clone(),
                            opt(d.score),
                            d.weight.to_string(),
                            d.rules.to_string(),
                        ]
                    })
                })
                .collect(),
        ),
        (
            "indicators",
            vec![
                "范围 scope",
                "对象 id",
                "指标 indicator (GB/T 36344)",
                "A",
                "B",
                "X = A/B",
                "说明 note",
            ],
            cards()
                .flat_map(|c| {
                    c.indicators.iter().map(move |i| {
                        vec![
                            c.scope.clone(),
                            c.id.clone(),
                            i.name_zh.clone(),
                            i.a.to_string(),
                            i.b.to_string(),
                            i.x.map(|x| format!("{x:.4}"))
                                .unwrap_or_else(|| "无法评估".into()),
                            i.note.clone().unwrap_or_default(),
                        ]
                    })
                })
                .collect(),
        ),
        (
            "rules",
            vec![
                "数据集 dataset",
                "规则 rule",
                "维度 dimension",
                "评估 evaluated",
                "不通过 failed",
                "通过率 pass rate",
                "状态 status",
            ],
            scores
                .datasets
                .iter()
                .flat_map(|c| {
                    c.rules.iter().map(|r| {
                        vec![
                            r.dataset.clone(),
                            r.rule.clone(),
                            r.dimension.clone(),
                            r.evaluated.to_string(),
                            r.failed.to_string(),
                            r.pass_rate.map(|p| format!("{p:.6}")).unwrap_or_default(),
                            r.status.clone(),
                        ]
                    })
                })
                .collect(),
        ),
        (
            "rectifications",
            vec![
                "事项 item",
                "部门 department",
                "发现日期 found",
                "整改期限 due",
                "状态 status",
                "不通过 failed",
                "评估 evaluated",
                "完成日期 closed",
            ],
            rects
                .iter()
                .map(|r| {
                    vec![
                        r.id.clone(),
                        r.department.clone(),
                        r.opened_on.to_string(),
                        if r.provisional {
                            format!("{} 暂定 provisional", r.due)
                        } else {
                            r.due.to_string()
                        },
                        r.status.clone(),
                        r.failed.to_string(),
                        r.evaluated.to_string(),
                        r.closed_on.map(|d| d.to_string()).unwrap_or_default(),
                    ]
                })
                .collect(),
        ),
    ]
}

/// A text cell as a spreadsheet will show it, never as a formula: a value
/// that begins with `=`, `+`, `-`, `@`, a tab or a carriage return (and is
/// not a plain number such as `-12.5`) gets a leading `'`, which Excel, WPS
/// and LibreOffice read as "this is text" (OWASP, "CSV injection"; issue
/// #18, 7). Department data reaches the exports, so any cell may be hostile.
///
/// ```
/// use pipeline::score::export::neutralise;
/// assert_eq!(neutralise("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
/// assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
/// assert_eq!(neutralise("-12.5"), "-12.5");
/// assert_eq!(neutralise("公安局"), "公安局");
/// ```
pub fn neutralise(v: &str) -> std::borrow::Cow<'_, str> {
    let risky = v.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && as_number(v).is_none() {
        std::borrow::Cow::Owned(format!("'{v}"))
    } else {
        std::borrow::Cow::Borrowed(v)
    }
}

/// A table as CSV with a UTF-8 BOM; text that a spreadsheet would take for
/// a formula is [`neutralise`]d.
pub fn csv(t: &Table) -> Vec<u8> {
    let mut out = vec![];
    write_csv(&mut out, &t.1, t.2.iter().cloned()).unwrap_or_default();
    out
}

/// [`csv`] written to `w` as the rows are made: a table of a million
/// rows is never held as text.
pub fn write_csv<W: std::io::Write + ?Sized>(
    w: &mut W,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> std::io::Result<()> {
    fn line<W: std::io::Write + ?Sized>(w: &mut W, cells: &[&str]) -> std::io::Result<()> {
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            let c = neutralise(c);
            if c.contains([',', '"', '\n', '\r']) {
                write!(w, "\"{}\"", c.replace('"', "\"\""))?;
            } else {
                w.write_all(c.as_bytes())?;
            }
        }
        w.write_all(b"\n")
    }
    w.write_all("\u{feff}".as_bytes())?;
    line(w, headers)?;
    for r in rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        line(w, &cells)?;
    }
    Ok(())
}

/// A sheet whose rows are made as they are written ([`write_xlsx`]).
pub struct Sheet<'a> {
    /// The sheet's name.
    pub name: &'static str,
    /// Its header row.
    pub headers: Vec<&'static str>,
    /// How many rows it has.
    pub len: usize,
    /// The rows.
    pub rows: Box<dyn Iterator<Item = Vec<String>> + 'a>,
}

impl<'a> From<&'a Table> for Sheet<'a> {
    fn from(t: &'a Table) -> Self {
        Sheet {
            name: t.0,
            headers: t.1.clone(),
            len: t.2.len(),
            rows: Box::new(t.2.iter().cloned()),
        }
    }
}

/// A cell that is a plain decimal number (`-12`, `98.5`) as a number;
/// codes with leading zeros, long digit strings (IDs), `inf`, `NaN` and
/// exponents stay text, as they were written.
fn as_number(v: &str) -> Option<f64> {
    let digits = v.strip_prefix('-').unwrap_or(v);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(int.len() > 1 && int.starts_with('0'))
        && int.len() + frac.len() <= 15
        && !(digits.contains('.') && frac.is_empty());
    if plain { v.parse().ok() } else { None }
}

/// All tables as one workbook, stamped with `created` (the run's as-of
/// time, not the wall clock), so that the same inputs give the same bytes
/// (issue #20: `evaluation.xlsx` differed on every evaluation). Text cells
/// are [`neutralise`]d.
pub fn xlsx(
    tables: &[Table],
    created: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut out = vec![];
    write_xlsx(&mut out, tables.iter().map(Sheet::from).collect(), created)?;
    Ok(out)
}

/// [`xlsx`] written to `w`, each sheet's rows made as they are written.
pub fn write_xlsx<W: std::io::Write + Send>(
    w: W,
    sheets: Vec<Sheet<'_>>,
    created: chrono::DateTime<chrono::Utc>,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    // Excel's own deflate level: ~30% less time to save than the default 6
    // for files ~5% larger (rust_xlsxwriter's performance notes); a
    // catalog's workbook has a million data-item rows.
    book.set_zip_compression_level(3);
    let stamp = rust_xlsxwriter::ExcelDateTime::from_timestamp(created.timestamp())?;
    book.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&stamp));
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for Sheet {
        name,
        headers,
        len,
        rows,
    } in sheets
    {
        // A large table (a catalog's 200,000 data items) is streamed to a
        // temporary file row by row ("constant memory") with fixed column
        // widths; autofit, which measures every cell, is for small ones.
        let large = len > 5_000;
        let sheet = if large {
            let s = book.add_worksheet_with_constant_memory()?.set_name(name)?;
            s.set_column_range_width(0, headers.len().saturating_sub(1) as u16, 16)?;
            s
        } else {
            book.add_worksheet().set_name(name)?
        };
        for (c, h) in headers.iter().enumerate() {
            sheet.write_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, row) in rows.enumerate() {
            for (c, v) in row.iter().enumerate() {
                match as_number(v) {
                    Some(n) => sheet.write(r as u32 + 1, c as u16, n)?,
                    None => sheet.write(r as u32 + 1, c as u16, neutralise(v).as_ref())?,
                };
            }
        }
        if !large {
            sheet.autofit();
        }
    }
    book.save_to_writer(w)
}

#[cfg(test)]
mod number_tests {
    use super::as_number;

    #[test]
    fn only_plain_numbers_become_numbers() {
        assert_eq!(as_number("12"), Some(12.0));
        assert_eq!(as_number("-3.5"), Some(-3.5));
        assert_eq!(as_number("0"), Some(0.0));
        assert_eq!(as_number("0.25"), Some(0.25));
        for text in [
            "0012",
            "+1",
            "NaN",
            "inf",
            "1e5",
            "110105194912310021",
            "1.",
            ".5",
            "",
            "A01",
            "12 ",
        ] {
            assert_eq!(as_number(text), None, "{text}");
        }
    }
}

#[cfg(test)]
mod artefact_tests {
    use chrono::TimeZone;

    use super::{Table, csv, xlsx};

    fn hostile() -> Table {
        (
            "t",
            vec!["名称 name", "值 value"],
            vec![
                vec!["=HYPERLINK(\"http://evil\",\"x\")".into(), "-12.5".into()],
                vec!["+1+1".into(), "@SUM(A1:A2)".into()],
                vec!["-2+3".into(), "\tcmd".into()],
            ],
        )
    }

    /// Issue #18, 7: no cell of an export is read as a formula; plain
    /// numbers stay numbers.
    #[test]
    fn exports_neutralise_formulas() {
        let text = String::from_utf8(csv(&hostile())).unwrap();
        for line in text.lines().skip(1) {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(
                    !cell.starts_with(['=', '+', '@', '\t'])
                        && (!cell.starts_with('-') || cell == "-12.5"),
                    "a formula in the CSV: {line}"
                );
            }
        }
        assert!(text.contains("'=HYPERLINK") && text.contains("'@SUM") && text.contains(",-12.5"));
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 2, 30, 0)
            .unwrap();
        let book = xlsx(&[hostile()], t).unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(book)).unwrap();
        let mut strings = String::new();
        std::io::Read::read_to_string(
            &mut zip.by_name("xl/sharedStrings.xml").unwrap(),
            &mut strings,
        )
        .unwrap();
        assert!(
            strings.contains("&apos;=HYPERLINK") || strings.contains("'=HYPERLINK"),
            "{strings}"
        );
        assert!(!strings.contains(">=HYPERLINK"), "{strings}");
    }

    /// Issue #20: the same tables and as-of time give the same bytes, and
    /// the workbook says it was made at the as-of time.
    #[test]
    fn a_workbook_is_a_function_of_its_inputs() {
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 2, 30, 0)
            .unwrap();
        let a = xlsx(&[hostile()], t).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let b = xlsx(&[hostile()], t).unwrap();
        assert!(a == b, "two workbooks of the same inputs differ");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(a)).unwrap();
        let mut core = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("docProps/core.xml").unwrap(), &mut core)
            .unwrap();
        assert!(core.contains("2026-11-22T02:30:00Z"), "{core}");
    }
}

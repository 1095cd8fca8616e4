//! `--format table`: an aligned terminal table per dataset (zh-CN labels
//! first, English second), with the first masked sample of each failing rule.

use std::fmt::Write;

use pipeline::CheckReport;
use quality_rules::Status;

use super::Report;

/// The terminal table report.
pub struct Table;

fn status_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "通过 pass",
        Status::Warn => "预警 warn",
        Status::Fail => "不通过 fail",
    }
}

/// Display width: CJK characters take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    out.push_str(&" ".repeat(w.saturating_sub(width(s))));
    out
}

impl Report for Table {
    fn name(&self) -> &'static str {
        "table"
    }
    fn help(&self) -> &'static str {
        "a readable table for the terminal"
    }
    fn render(&self, reports: &[CheckReport]) -> String {
        let mut out = String::new();
        for r in reports {
            let _ = writeln!(
                out,
                "数据集 dataset: {}   行数 rows: {}   截至 as of: {}   用时 {} ms",
                r.dataset,
                r.rows,
                r.as_of.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                r.elapsed_ms
            );
            let header = [
                "规则 rule",
                "维度 dimension",
                "检查 check",
                "评估 evaluated",
                "失败 failed",
                "通过率 pass_rate",
                "状态 status",
                "示例 sample",
            ];
            let rows: Vec<[String; 8]> = r
                .results
                .iter()
                .map(|x| {
                    let sample = x
                        .samples
                        .first()
                        .map(|s| {
                            format!(
                                "{}:{} {}",
                                s.file,
                                s.row,
                                s.value.as_deref().unwrap_or("NULL")
                            )
                        })
                        .or_else(|| x.detail.clone())
                        .unwrap_or_default();
                    [
                        x.id.clone(),
                        format!("{} {}", x.dimension.name_zh(), x.dimension.as_str()),
                        x.check.to_string(),
                        x.evaluated.to_string(),
                        x.failed.to_string(),
                        format!("{:.4}%", x.pass_rate * 100.0),
                        status_label(x.status).to_string(),
                        sample,
                    ]
                })
                .collect();
            let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
            for row in &rows {
                for (w, cell) in widths.iter_mut().zip(row.iter()) {
                    *w = (*w).max(width(cell));
                }
            }
            let line = |cells: Vec<String>| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(c, w)| pad(c, *w))
                    .collect::<Vec<_>>()
                    .join("  ")
                    .trim_end()
                    .to_string()
            };
            let _ = writeln!(
                out,
                "{}",
                line(header.iter().map(|s| s.to_string()).collect())
            );
            let _ = writeln!(
                out,
                "{}",
                widths
                    .iter()
                    .map(|w| "-".repeat(*w))
                    .collect::<Vec<_>>()
                    .join("  ")
            );
            for row in rows {
                let _ = writeln!(out, "{}", line(row.to_vec()));
            }
            let fails = r.count(Status::Fail);
            let warns = r.count(Status::Warn);
            let _ = writeln!(
                out,
                "不通过 fail: {fails}   预警 warn: {warns}   规则 rules: {}\n",
                r.results.len()
            );
        }
        out
    }
}

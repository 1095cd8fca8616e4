//! `--format html`: one self-contained static page (inline CSS, no scripts,
//! no network: the bureau's networks are isolated). Chinese first, English
//! second. Samples are already masked by the engine.

use std::fmt::Write;

use pipeline::CheckReport;
use pipeline::html::esc;
use quality_rules::Status;

use super::Report;

/// The static HTML report.
pub struct Html;

fn badge(s: Status) -> &'static str {
    match s {
        Status::Pass => r#"<span class="b pass">通过 pass</span>"#,
        Status::Warn => r#"<span class="b warn">预警 warn</span>"#,
        Status::Fail => r#"<span class="b fail">不通过 fail</span>"#,
    }
}

const STYLE: &str = "body{font-family:'Noto Sans CJK SC','Microsoft YaHei','PingFang SC',sans-serif;margin:2rem;color:#222}\
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}\
th{background:#f2f4f7}td.n{text-align:right;font-variant-numeric:tabular-nums}.b{padding:.1rem .4rem;border-radius:.3rem;font-size:.85em;white-space:nowrap}\
.pass{background:#e3f5e1;color:#1d6b16}.warn{background:#fff4d6;color:#8a5a00}.fail{background:#fde2e1;color:#a11}\
code{font-family:monospace}small{color:#666}h2{margin-top:2rem;border-bottom:1px solid #ddd}";

impl Report for Html {
    fn name(&self) -> &'static str {
        "html"
    }
    fn help(&self) -> &'static str {
        "a self-contained static HTML page"
    }
    fn render(&self, reports: &[CheckReport]) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>数据质量检查结果 Data quality results</title><style>{STYLE}</style></head><body>\n"
        );
        let _ = writeln!(
            h,
            "<h1>数据质量检查结果 <small>Data quality results</small></h1>"
        );
        if let Some(first) = reports.first() {
            let _ = writeln!(
                h,
                "<p>截至 As of: <code>{}</code> · 数据集 datasets: {} · 样例已脱敏 samples are masked</p>",
                esc(&first
                    .as_of
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)),
                reports.len()
            );
        }
        let _ = writeln!(
            h,
            "<table><tr><th>数据集 Dataset</th><th>行数 Rows</th><th>规则 Rules</th><th>不通过 Fail</th><th>预警 Warn</th><th>状态 Status</th></tr>"
        );
        for r in reports {
            let fails = r.count(Status::Fail);
            let warns = r.count(Status::Warn);
            let worst = r
                .results
                .iter()
                .map(|x| x.status)
                .max()
                .unwrap_or(Status::Pass);
            let _ = writeln!(
                h,
                "<tr><td><a href=\"#{id}\">{name}</a></td><td class=n>{}</td><td class=n>{}</td><td class=n>{fails}</td><td class=n>{warns}</td><td>{}</td></tr>",
                r.rows,
                r.results.len(),
                badge(worst),
                id = esc(&r.dataset),
                name = esc(&r.dataset)
            );
        }
        let _ = writeln!(h, "</table>");
        for r in reports {
            let _ = writeln!(
                h,
                "<h2 id=\"{0}\">{0}</h2><p><small>文件 files: {1} · 规则版本 rules version: <code>{2}</code> · 用时 {3} ms</small></p>",
                esc(&r.dataset),
                esc(&r.files.join(", ")),
                esc(r.rules_version.get(..12).unwrap_or(&r.rules_version)),
                r.elapsed_ms
            );
            let _ = writeln!(
                h,
                "<table><tr><th>规则 Rule</th><th>维度 Dimension</th><th>检查 Check</th><th>列 Column</th><th>评估 Evaluated</th><th>失败 Failed</th><th>通过率 Pass rate</th><th>状态 Status</th><th>失败样例 Failing samples (masked)</th></tr>"
            );
            for x in &r.results {
                let column = x
                    .column
                    .clone()
                    .or_else(|| x.columns.as_ref().map(|c| c.join(", ")))
                    .unwrap_or_default();
                let mut samples: Vec<String> = x
                    .samples
                    .iter()
                    .map(|s| {
                        // The full path is in the dataset's header and the tooltip.
                        let short = std::path::Path::new(&s.file)
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_else(|| s.file.clone());
                        let value = match s.value.as_deref() {
                            None => "NULL".to_string(),
                            Some(v) if v.trim().is_empty() => {
                                format!("(空白 blank, {} chars)", v.chars().count())
                            }
                            Some(v) => v.to_string(),
                        };
                        format!(
                            "<code title=\"{}\">{}:{}</code> {}",
                            esc(&s.file),
                            esc(&short),
                            s.row,
                            esc(&value)
                        )
                    })
                    .collect();
                if let Some(d) = &x.detail {
                    samples.push(esc(d));
                }
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{} {}</td><td><code>{}</code></td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{:.4}%</td><td>{}</td><td>{}</td></tr>",
                    esc(&x.id),
                    x.dimension.name_zh(),
                    x.dimension.as_str(),
                    esc(x.check.name()),
                    esc(&column),
                    x.evaluated,
                    x.failed,
                    x.pass_rate * 100.0,
                    badge(x.status),
                    samples.join("<br>")
                );
            }
            let _ = writeln!(h, "</table>");
        }
        let _ = writeln!(
            h,
            "<p><small>pdq {} · 行号从 0 开始 rows are 0-based in file order</small></p></body></html>",
            env!("CARGO_PKG_VERSION")
        );
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

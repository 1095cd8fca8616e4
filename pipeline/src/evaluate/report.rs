//! The assessors' report: print-ready HTML in Chinese (a bureau summary,
//! then one page per department), and every table as CSV and XLSX.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::Evaluation;
use crate::html::esc;
use crate::score::dimension_zh;

const STYLE: &str = r#"
@page{size:A4;margin:18mm 16mm}
body{font-family:"Noto Serif CJK SC","Noto Sans CJK SC","SimSun",serif;color:#111;font-size:11pt;line-height:1.5}
h1{font-size:18pt;text-align:center;margin:0 0 .3em}h2{font-size:14pt;border-bottom:1px solid #333;margin-top:1.2em}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}th,td{border:1px solid #555;padding:3px 6px;font-size:10pt}
th{background:#eee}.num{text-align:right}.na{color:#666;font-style:italic}.fail{color:#a00;font-weight:bold}
.page{page-break-before:always}.meta{font-size:9pt;color:#333}
"#;

fn s(x: Option<f64>) -> String {
    x.map(|v| format!("{v:.2}"))
        .unwrap_or_else(|| "<span class=na>无法评估</span>".into())
}

/// The report's title (the HTML `<title>`, and so the PDF's title too).
pub fn title(year: i32, bureau: &str) -> String {
    format!("{year} 年度公共数据工作评估 · {bureau}")
}

/// The report as one HTML document.
pub fn html(e: &Evaluation, bureau: &str, departments: &BTreeMap<String, String>) -> String {
    let name = |d: &str| departments.get(d).cloned().unwrap_or_else(|| d.to_string());
    let mut b = String::new();
    let _ = write!(
        b,
        "<!doctype html><html lang=zh-CN><head><meta charset=utf-8><title>{title}</title><style>{STYLE}</style></head><body>",
        title = esc(&title(e.year, bureau))
    );
    let _ = write!(
        b,
        "<h1>{} {} 年度公共数据工作评估报告</h1>",
        esc(bureau),
        e.year
    );
    let _ = write!(
        b,
        "<p class=meta>评估编号 {} · 截至 {} · 管理办法 {} · 配置版本 {} · 计数表版本 {} · 运行次数 {} · 规则集版本 {} · 人工更正 {} 条</p>",
        esc(&e.id),
        e.as_of.to_rfc3339(),
        esc(&e.profile),
        &e.config_version[..12],
        e.table_version
            .map(|v| v.to_string())
            .unwrap_or_else(|| "—".into()),
        e.runs,
        e.rules_versions
            .iter()
            .map(|v| esc(&v[..v.len().min(8)]))
            .collect::<Vec<_>>()
            .join(", "),
        e.corrections.len()
    );
    b += "<h2>一、总体情况与排名</h2><table><tr><th>名次</th><th>部门</th><th>得分</th><th>等级</th><th>上年得分</th>";
    let comps: Vec<(String, String)> = e
        .departments
        .first()
        .map(|d| {
            d.components
                .iter()
                .map(|c| (c.name.clone(), c.name_zh.clone()))
                .collect()
        })
        .unwrap_or_default();
    for (_, zh) in &comps {
        let _ = write!(b, "<th>{}</th>", esc(zh));
    }
    b += "</tr>";
    for d in &e.departments {
        let _ = write!(
            b,
            "<tr><td class=num>{}</td><td>{}</td><td class=num>{}</td><td class=\"{}\">{}</td><td class=num>{}</td>",
            d.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
            esc(&name(&d.department)),
            s(d.score),
            if e.below_passing.contains(&d.department) {
                "fail"
            } else {
                ""
            },
            esc(d.grade.as_deref().unwrap_or("—")),
            s(d.previous_year)
        );
        for c in &d.components {
            let _ = write!(b, "<td class=num>{}</td>", s(c.score));
        }
        b += "</tr>";
    }
    b += "</table>";
    let _ = write!(
        b,
        "<p>未达到合格等级的部门：{}</p>",
        if e.below_passing.is_empty() {
            "无".to_string()
        } else {
            e.below_passing
                .iter()
                .map(|d| esc(&name(d)))
                .collect::<Vec<_>>()
                .join("、")
        }
    );
    b += "<h2>二、评估方法</h2><p>得分只由存储的检查计数、人工更正与评估配置计算，不重新读取数据；同一输入得到同一评估编号与结果。各组成部分：";
    for (k, zh) in &comps {
        let weight = e.config["evaluation"]["weights"][k].as_f64().unwrap_or(0.0);
        let _ = write!(b, "{}（权重 {weight}）；", esc(zh));
    }
    b += "无法评估的部分不计入，权重按可评估部分重新归一。数据质量为全年各次运行部门得分的平均；汇聚及时性为按时交付次数占应交付次数的比例；问题整改为年内发现的问题中按期整改的比例。</p>";
    if !e.corrections.is_empty() {
        b += "<h2>三、人工更正</h2><table><tr><th>运行</th><th>数据集</th><th>规则</th><th>更正为（评估/不通过）</th><th>原因</th><th>更正人</th><th>时间</th></tr>";
        for c in &e.corrections {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=num>{}/{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.run_id),
                esc(&c.dataset),
                esc(&c.rule),
                c.evaluated,
                c.failed,
                esc(&c.reason),
                esc(&c.by),
                c.at.to_rfc3339()
            );
        }
        b += "</table>";
    }
    for d in &e.departments {
        let _ = write!(
            b,
            "<section class=page><h1>{}</h1>",
            esc(&name(&d.department))
        );
        let _ = write!(
            b,
            "<p>得分 <b>{}</b> · 等级 <b>{}</b> · 名次 {} · 上年 {}</p>",
            s(d.score),
            esc(d.grade.as_deref().unwrap_or("—")),
            d.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
            s(d.previous_year)
        );
        b +=
            "<h2>组成部分</h2><table><tr><th>部分</th><th>得分</th><th>权重</th><th>依据</th></tr>";
        for c in &d.components {
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=num>{}</td><td class=num>{}</td><td>{}</td></tr>",
                esc(&c.name_zh),
                s(c.score),
                c.weight,
                esc(&c.basis)
            );
        }
        b += "</table><h2>数据质量（管理办法维度，全年平均）</h2><table><tr><th>维度</th><th>得分</th></tr>";
        for (dim, v) in &d.dimensions {
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=num>{}</td></tr>",
                dimension_zh(dim),
                s(*v)
            );
        }
        b += "</table><h2>GB/T 36344-2018 指标（全年）</h2><table><tr><th>指标</th><th>A</th><th>B</th><th>X = A/B</th></tr>";
        for i in &d.indicators {
            let x =
                i.x.map(|x| format!("{x:.4}"))
                    .unwrap_or_else(|| "<span class=na>无法评估</span>".into());
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{x}</td></tr>",
                esc(&i.name_zh),
                i.a,
                i.b
            );
        }
        b += "</table><h2>月度检查点</h2><table><tr><th>月份</th><th>运行</th><th>得分</th></tr>";
        for m in &d.monthly {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=num>{}</td></tr>",
                esc(&m.month),
                esc(&m.run_id),
                s(m.score)
            );
        }
        // The rules that failed most often; every rule is in rules.csv and
        // the workbook (a bureau has thousands, too many for a printed page).
        let mut worst: Vec<&super::RuleEvidence> =
            d.rules.iter().filter(|r| r.runs_failed > 0).collect();
        worst.sort_by(|a, b| {
            b.runs_failed
                .cmp(&a.runs_failed)
                .then_with(|| (&a.dataset, &a.rule).cmp(&(&b.dataset, &b.rule)))
        });
        worst.truncate(20);
        let _ = write!(
            b,
            "</table><h2>依据：各规则全年结果</h2><p class=meta>共 {} 条规则，其中 {} 条曾不通过；下表列出不通过次数最多的 {} 条，全部规则见 rules.csv 与 evaluation.xlsx。</p><table><tr><th>数据集</th><th>规则</th><th>维度</th><th>检查次数</th><th>不通过次数</th><th>不通过/评估（行）</th><th>最近一次</th></tr>",
            d.rules.len(),
            d.rules.iter().filter(|r| r.runs_failed > 0).count(),
            worst.len()
        );
        for r in worst {
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}/{}</td><td class=\"{}\">{} {}</td></tr>",
                esc(&r.dataset),
                esc(&r.rule),
                dimension_zh(crate::score::regulation_dimension(&r.dimension)),
                r.runs,
                r.runs_failed,
                r.failed,
                r.evaluated,
                if r.last_failed { "fail" } else { "" },
                esc(&r.last_run),
                if r.last_failed { "不通过" } else { "通过" }
            );
        }
        let [total, on_time, late, open, overdue] = d.rectification;
        let _ = write!(
            b,
            "</table><h2>问题整改</h2><p>年内发现 {total} 项：按期整改 {on_time} 项，逾期整改 {late} 项，未整改 {open} 项，年末逾期 {overdue} 项。</p>\
<p class=meta>依据的运行（{} 次）：{}</p></section>",
            d.runs.len(),
            d.runs.iter().map(|r| esc(r)).collect::<Vec<_>>().join(", ")
        );
    }
    b + "</body></html>"
}

/// The report's tables (for CSV and XLSX), in the shape of `score::export`.
pub fn tables(e: &Evaluation) -> Vec<crate::score::export::Table> {
    let opt = |x: Option<f64>| {
        x.map(|v| format!("{v:.2}"))
            .unwrap_or_else(|| "无法评估".into())
    };
    vec![
        (
            "evaluation",
            vec![
                "名次 rank",
                "部门 department",
                "得分 score",
                "等级 grade",
                "上年 previous year",
            ],
            e.departments
                .iter()
                .map(|d| {
                    vec![
                        d.rank.map(|r| r.to_string()).unwrap_or_default(),
                        d.department.clone(),
                        opt(d.score),
                        d.grade.clone().unwrap_or_default(),
                        opt(d.previous_year),
                    ]
                })
                .collect(),
        ),
        (
            "components",
            vec![
                "部门 department",
                "部分 component",
                "得分 score",
                "权重 weight",
                "依据 basis",
            ],
            e.departments
                .iter()
                .flat_map(|d| {
                    d.components.iter().map(|c| {
                        vec![
                            d.department.clone(),
                            c.name_zh.clone(),
                            opt(c.score),
                            c.weight.to_string(),
                            c.basis.clone(),
                        ]
                    })
                })
                .collect(),
        ),
        (
            "monthly",
            vec!["部门 department", "月份 month", "运行 run", "得分 score"],
            e.departments
                .iter()
                .flat_map(|d| {
                    d.monthly.iter().map(|m| {
                        vec![
                            d.department.clone(),
                            m.month.clone(),
                            m.run_id.clone(),
                            opt(m.score),
                        ]
                    })
                })
                .collect(),
        ),
        (
            "rules",
            vec![
                "部门 department",
                "数据集 dataset",
                "规则 rule",
                "维度 dimension",
                "检查次数 runs",
                "不通过次数 runs failed",
                "不通过行 failed",
                "评估行 evaluated",
                "最近运行 last run",
                "最近不通过 last failed",
            ],
            e.departments
                .iter()
                .flat_map(|d| {
                    d.rules.iter().map(|r| {
                        vec![
                            d.department.clone(),
                            r.dataset.clone(),
                            r.rule.clone(),
                            r.dimension.clone(),
                            r.runs.to_string(),
                            r.runs_failed.to_string(),
                            r.failed.to_string(),
                            r.evaluated.to_string(),
                            r.last_run.clone(),
                            r.last_failed.to_string(),
                        ]
                    })
                })
                .collect(),
        ),
        (
            "indicators",
            vec!["部门 department", "指标 indicator", "A", "B", "X = A/B"],
            e.departments
                .iter()
                .flat_map(|d| {
                    d.indicators.iter().map(|i| {
                        vec![
                            d.department.clone(),
                            i.name_zh.clone(),
                            i.a.to_string(),
                            i.b.to_string(),
                            i.x.map(|x| format!("{x:.4}"))
                                .unwrap_or_else(|| "无法评估".into()),
                        ]
                    })
                })
                .collect(),
        ),
    ]
}

//! The static scorecard site: Chinese first with an English switch, every
//! asset inline (CSS, a few lines of script, charts as SVG drawn here), so
//! it works opened from disk, behind `pdq serve`, and on a network with no
//! internet. Pages:
//!
//! - `index.html` — the bureau: department ranking, trends, the formula;
//! - `dept/<department>.html` — one department: dimensions, GB/T 36344
//!   indicators, its datasets, findings and rectification items;
//! - `dataset/<department.dataset>.html` — rule results and masked samples;
//! - `rectification.html` — the whole rectification list;
//! - `catalog.html` — the catalog's entries and the datasets the bureau
//!   aggregates (signed-in readers);
//! - `public/catalog.html` — what anonymous readers get instead: the open
//!   entries only (开放属性 无条件开放 or 有条件开放), linking the catalog's
//!   public files.
//!
//! Only masked values ever reach a page: samples come masked from the
//! check engine, and nothing else carries row values.

mod svg;

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::CheckReport;
use crate::score::{Rectification, RunScores, Scorecard, dimension_zh};

pub use crate::html::esc;

/// Chinese and English side by side; the switch shows one.
fn t(zh: &str, en: &str) -> String {
    format!(
        "<span class=zh>{}</span><span class=en>{}</span>",
        esc(zh),
        esc(en)
    )
}

const STYLE: &str = r#"
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",system-ui,sans-serif;margin:0;color:#1f2933;background:#f5f7fa}
header{background:#8b1a1a;color:#fff;padding:.8em 1.5em;display:flex;justify-content:space-between;align-items:center}
header a{color:#fff;margin-right:1em;text-decoration:none}
main{padding:1em 1.5em;max-width:1200px}
table{border-collapse:collapse;background:#fff;margin:.5em 0 1.5em;width:100%}
th,td{border:1px solid #d9e2ec;padding:.35em .6em;text-align:left;font-size:14px}
th{background:#eef2f7}
.num{text-align:right;font-variant-numeric:tabular-nums}
.g-优秀{color:#0b6e4f}.g-良好{color:#2a6f97}.g-合格{color:#9a6700}.g-不合格{color:#b42318;font-weight:bold}
.fail{color:#b42318}.warn{color:#9a6700}.pass{color:#0b6e4f}.overdue{color:#b42318;font-weight:bold}
.na{color:#7b8794;font-style:italic}
body:not(.en) .en{display:none} body.en .zh{display:none}
button{cursor:pointer}
.card{background:#fff;border:1px solid #d9e2ec;padding:1em;margin:.5em 0 1em}
"#;

const SCRIPT: &str = r#"
(function(){var k='pdq-lang';function set(l){document.body.classList.toggle('en',l==='en');try{localStorage.setItem(k,l)}catch(e){}}
var b=document.getElementById('lang');if(b){b.onclick=function(){set(document.body.classList.contains('en')?'zh':'en')}}
try{if(localStorage.getItem(k)==='en')set('en')}catch(e){}})();
"#;

fn page(title_zh: &str, title_en: &str, depth: usize, bureau: &str, body: &str) -> String {
    let up = "../".repeat(depth);
    format!(
        "<!doctype html><html lang=zh-CN><head><meta charset=utf-8><meta name=viewport content=\"width=device-width\">\
<title>{tz} · {b}</title><style>{STYLE}</style></head><body>\
<header><div><a href=\"{up}index.html\"><b>{b}</b> {tt}</a><a href=\"{up}rectification.html\">{r}</a><a href=\"{up}catalog.html\">{c}</a></div>\
<button id=lang type=button>English / 中文</button></header><main><h1>{h}</h1>{body}</main><script>{SCRIPT}</script></body></html>",
        tz = esc(title_zh),
        b = esc(bureau),
        tt = t("数据质量记分卡", "data quality scorecards"),
        r = t("整改清单", "Rectification list"),
        c = t("目录", "Catalog"),
        h = t(title_zh, title_en),
    )
}

fn score_cell(s: Option<f64>) -> String {
    match s {
        Some(x) => format!("<td class=num>{x:.2}</td>"),
        None => format!("<td class=na>{}</td>", t("无法评估", "not assessable")),
    }
}

fn grade_cell(c: &Scorecard) -> String {
    match (&c.grade, &c.grade_en) {
        (Some(g), Some(e)) => format!("<td class=\"g-{}\">{}</td>", esc(g), t(g, e)),
        _ => format!("<td class=na>{}</td>", t("无", "none")),
    }
}

fn delta_cell(d: Option<f64>) -> String {
    match d {
        Some(x) if x > 0.0 => format!("<td class=\"num pass\">+{x:.2}</td>"),
        Some(x) if x < 0.0 => format!("<td class=\"num fail\">{x:.2}</td>"),
        Some(_) => "<td class=num>0.00</td>".into(),
        None => "<td class=na>—</td>".into(),
    }
}

/// What the site is built from.
pub struct SiteInput<'a> {
    /// The bureau's name.
    pub bureau: &'a str,
    /// Department code → Chinese name.
    pub departments: &'a BTreeMap<String, String>,
    /// This run's scores.
    pub scores: &'a RunScores,
    /// Department scores of every run so far, oldest first: (run as-of date, department, score).
    pub trend: &'a [(String, String, Option<f64>)],
    /// The rectification list.
    pub rectifications: &'a [Rectification],
    /// This run's check reports, by dataset id (for samples).
    pub reports: &'a BTreeMap<String, CheckReport>,
    /// The catalog: dataset id → (title, source kind, mode).
    pub catalog: &'a BTreeMap<String, (String, String, String)>,
    /// The refreshed catalog's entries, when catalogs are harvested.
    pub catalog_entries: Option<&'a [crate::catalog::publish::PublishedEntry]>,
    /// The catalog's findings.
    pub catalog_findings: &'a [crate::catalog::CatalogFinding],
}

fn findings_table(findings: &[&crate::catalog::CatalogFinding]) -> String {
    let mut b = format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("问题", "Check"),
        t("资源", "Resource"),
        t("字段", "Field"),
        t("位置", "Location"),
        t("说明", "Message")
    );
    for f in findings {
        let (zh, en) = crate::catalog::checks::check_name(&f.check);
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            t(zh, en),
            esc(f.code.as_deref().unwrap_or("")),
            esc(f.name.as_deref().unwrap_or("")),
            esc(f.field.as_deref().unwrap_or("")),
            esc(&f.location),
            esc(&f.message)
        );
    }
    b + "</table>"
}

fn dept_name(input: &SiteInput, code: &str) -> String {
    input
        .departments
        .get(code)
        .cloned()
        .unwrap_or_else(|| code.to_string())
}

/// The site's pages: (relative path, HTML).
pub fn render(input: &SiteInput) -> Vec<(String, String)> {
    let mut pages = vec![];
    pages.push(("index.html".to_string(), index(input)));
    for d in &input.scores.departments {
        pages.push((format!("dept/{}.html", d.id), department(input, d)));
    }
    for d in &input.scores.datasets {
        pages.push((format!("dataset/{}.html", d.id), dataset(input, d)));
    }
    pages.push(("rectification.html".into(), rectification(input, None, 0)));
    pages.push(("catalog.html".into(), catalog(input, false)));
    pages.push((PUBLIC_CATALOG_PAGE.into(), catalog(input, true)));
    pages
}

/// The catalog page for anonymous readers: open entries only.
pub const PUBLIC_CATALOG_PAGE: &str = "public/catalog.html";

const FORMULA: &str = "<details class=card><summary><span class=zh>计分方法</span><span class=en>How scores are computed</span></summary>\
<p class=zh>规则得分 = 100 ×（评估数 − 不通过数）/ 评估数；维度得分为其规则得分的平均（唯一性计入准确性）；数据集得分为各可评估维度的加权平均；部门得分为其数据集得分按数据集权重的加权平均（基础数据集权重更高）。等级：优秀 ≥ 90，良好 ≥ 80，合格 ≥ 60，其余不合格。GB/T 36344-2018 指标 X = A/B；缺少输入的指标显示为“无法评估”，不按满分计。分数只由存储的计数与计分配置计算，可随时复算。</p>\
<p class=en>Rule score = 100 × (evaluated − failed) / evaluated; a dimension is the mean of its rules (uniqueness counts under accuracy); a dataset is the weighted mean of its assessable dimensions; a department is the mean of its datasets weighted by dataset weight (base datasets count more). Grades: excellent ≥ 90, good ≥ 80, pass ≥ 60, else fail. GB/T 36344-2018 indicators are X = A/B; one without input is shown as not assessable, never as perfect. Scores are computed only from stored counts and the scoring configuration, so they can be recomputed at any time.</p></details>";

fn index(input: &SiteInput) -> String {
    let mut b = String::new();
    let as_of = input
        .scores
        .datasets
        .first()
        .map(|d| d.as_of.to_rfc3339())
        .unwrap_or_default();
    let _ = write!(
        b,
        "<p>{} {} · {} {}</p>",
        t("运行", "Run"),
        esc(&input.scores.run_id),
        t("截至", "as of"),
        esc(&as_of)
    );
    // The regulation the scores are held to, and whether it is in force
    // that day (issue #17: a lapsed or draft text is said on every card).
    if let Some(p) = &input.scores.profile {
        let _ = write!(
            b,
            "<p class=\"{}\">{} {}（{}）· {}{}</p>",
            if p.applies && p.named {
                "profile"
            } else {
                "profile warn"
            },
            t("依据", "Held to"),
            esc(&p.title),
            esc(&p.id),
            esc(&p.status_words),
            if p.named {
                String::new()
            } else {
                format!(
                    " · {}",
                    t(
                        "工作区未指定，默认采用",
                        "not named by the workspace: assumed"
                    )
                )
            }
        );
        // The dimensions the text names that no rule measures.
        let unmeasured = p.unmeasured();
        if !unmeasured.is_empty() {
            let names: Vec<String> = unmeasured
                .iter()
                .map(|d| format!("{} {}", esc(&d.name_zh), esc(&d.dimension)))
                .collect();
            let _ = write!(
                b,
                "<p class=\"profile warn\">{}（{}）: {}</p>",
                t(
                    "条例所列质量维度中，本次无规则检查",
                    "Quality dimensions the text names that no rule checked"
                ),
                esc(&unmeasured[0].article),
                names.join("、")
            );
        }
    }
    let _ = write!(
        b,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("部门排名", "Department ranking"),
        t("名次", "Rank"),
        t("部门", "Department"),
        t("得分", "Score"),
        t("等级", "Grade"),
        t("变化", "Change"),
        t("待整改", "Open items")
    );
    for d in &input.scores.departments {
        let open = input
            .rectifications
            .iter()
            .filter(|r| r.department == d.id && r.closed_on.is_none())
            .count();
        let _ = write!(
            b,
            "<tr><td class=num>{}</td><td><a href=\"dept/{}.html\">{}</a></td>{}{}{}<td class=num>{open}</td></tr>",
            d.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
            esc(&d.id),
            esc(&dept_name(input, &d.id)),
            score_cell(d.score),
            grade_cell(d),
            delta_cell(d.delta)
        );
    }
    b += "</table>";
    let _ = write!(
        b,
        "<h2>{}</h2>{}",
        t("趋势", "Trend"),
        svg::trend(input.trend, input.departments)
    );
    b += FORMULA;
    page("数据质量总览", "Bureau overview", 0, input.bureau, &b)
}

fn dims_and_indicators(c: &Scorecard) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<div class=card>{}</div>",
        svg::dimensions(&c.dimensions)
    );
    let _ = write!(
        b,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("质量维度（管理办法）", "Quality dimensions (the measures)"),
        t("维度", "Dimension"),
        t("得分", "Score"),
        t("权重", "Weight"),
        t("规则数", "Rules")
    );
    for d in &c.dimensions {
        let _ = write!(
            b,
            "<tr><td>{}</td>{}<td class=num>{}</td><td class=num>{}</td></tr>",
            t(dimension_zh(&d.dimension), &d.dimension),
            score_cell(d.score),
            d.weight,
            d.rules
        );
    }
    b += "</table>";
    let _ = write!(
        b,
        "<h2>{}</h2><table><tr><th>{}</th><th>A</th><th>B</th><th>X = A/B</th><th>{}</th></tr>",
        t("GB/T 36344-2018 指标", "GB/T 36344-2018 indicators"),
        t("指标", "Indicator"),
        t("说明", "Note")
    );
    for i in &c.indicators {
        let x = match i.x {
            Some(x) => format!("<td class=num>{:.4}</td>", x),
            None => format!("<td class=na>{}</td>", t("无法评估", "not assessable")),
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=num>{}</td><td class=num>{}</td>{x}<td>{}</td></tr>",
            t(&i.name_zh, &i.name_en),
            i.a,
            i.b,
            esc(i.note.as_deref().unwrap_or(""))
        );
    }
    b += "</table>";
    b
}

fn rect_table(items: &[&Rectification], depth: usize) -> String {
    let up = "../".repeat(depth);
    let mut b = format!(
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("事项", "Item"),
        t("部门", "Department"),
        t("发现日期", "Found"),
        t("整改期限", "Due"),
        t("状态", "Status"),
        t("不通过/评估", "Failed/evaluated"),
        t("完成日期", "Closed")
    );
    for r in items {
        let (zh, en) = match r.status.as_str() {
            "open" => ("待整改", "open"),
            "overdue" => ("已逾期", "overdue"),
            "closed" => ("已整改", "closed"),
            _ => ("逾期整改", "closed late"),
        };
        let _ = write!(
            b,
            "<tr><td><a href=\"{up}dataset/{}.html\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td class=num>{}/{}</td><td>{}</td></tr>",
            esc(&r.dataset),
            esc(&r.id),
            esc(&r.department),
            r.opened_on,
            due_text(r),
            if r.status == "overdue" { "overdue" } else { "" },
            t(zh, en),
            r.failed,
            r.evaluated,
            r.closed_on.map(|d| d.to_string()).unwrap_or_default()
        );
    }
    b + "</table>"
}

/// A due date, marked when it was counted on a provisional calendar.
fn due_text(r: &Rectification) -> String {
    if r.provisional {
        format!(
            "{} <span class=provisional title=\"{}\">{}</span>",
            r.due,
            esc(
                "该年度放假安排尚未导入，按周末和固定日期节假日暂定 / no holiday notice for that year yet: weekends and fixed-date holidays only"
            ),
            t("暂定", "provisional")
        )
    } else {
        r.due.to_string()
    }
}

/// The objections (异议) to a scorecard's data, as counts: nothing of
/// what they say or who filed them is published.
fn objections_table(c: &Scorecard) -> String {
    let Some(o) = &c.objections else {
        return String::new();
    };
    format!(
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr><tr><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td></tr></table>",
        t("数据异议", "Objections"),
        t("受理", "Filed"),
        t("未办结", "Open"),
        t("逾期", "Overdue"),
        t("按期办理步骤", "Steps on time"),
        t("按期率", "On-time rate"),
        o.filed,
        o.open,
        o.overdue,
        o.steps_on_time,
        o.on_time_rate()
            .map(|r| format!("{r:.1}%"))
            .unwrap_or_else(|| "—".into()),
    )
}

/// The usage log's findings on a department's scorecard (`pdq usage
/// check`): which elements its rows lack, how many, where the first is,
/// and the article; the log names no operator here.
fn usage_table(c: &Scorecard) -> String {
    if c.usage_findings.is_empty() {
        return String::new();
    }
    let mut b = format!(
        "<h2>{} ({})</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("使用日志问题", "Usage-log findings"),
        c.usage_findings.len(),
        t("检查", "Check"),
        t("行数", "Rows"),
        t("位置", "Location"),
        t("说明", "Finding"),
    );
    for f in &c.usage_findings {
        let _ = write!(
            b,
            "<tr><td>{}</td><td class=num>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&f.check),
            f.rows,
            esc(&f.location),
            esc(&f.message)
        );
    }
    b += "</table>";
    b
}

/// The form a signed-in officer files an objection with (`pdq serve`
/// takes it at `POST /api/objections`; a static copy of the site cannot).
fn objection_form(dataset: &str) -> String {
    format!(
        "<h2>{}</h2><form method=post action=\"/api/objections\" class=objection>\
<input type=hidden name=dataset value=\"{}\">\
<p><label>{} <input name=key_column required></label> <label>{} <input name=key_value required></label></p>\
<p><label>{} <input name=field></label></p>\
<p><label>{} <textarea name=what required rows=3 cols=60></textarea></label></p>\
<p><label>{} <input name=contact></label></p>\
<p><button type=submit>{}</button></p></form>",
        t("提出数据异议", "Report wrong data"),
        esc(dataset),
        t("标识列", "Key column"),
        t("标识值", "Key value"),
        t("字段", "Field"),
        t("问题说明", "What is wrong"),
        t("联系方式", "Contact"),
        t("提交", "File objection"),
    )
}

fn department(input: &SiteInput, c: &Scorecard) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr><tr>{}{}<td class=num>{}</td>{}</tr></table>",
        t("得分", "Score"),
        t("等级", "Grade"),
        t("名次", "Rank"),
        t("变化", "Change"),
        score_cell(c.score),
        grade_cell(c),
        c.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
        delta_cell(c.delta)
    );
    b += &dims_and_indicators(c);
    let _ = write!(
        b,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("数据集", "Datasets"),
        t("数据集", "Dataset"),
        t("得分", "Score"),
        t("等级", "Grade"),
        t("变化", "Change")
    );
    for d in input
        .scores
        .datasets
        .iter()
        .filter(|d| d.department == c.id)
    {
        let title = input
            .catalog
            .get(&d.id)
            .map(|x| x.0.clone())
            .unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td><a href=\"../dataset/{}.html\">{}</a> {}</td>{}{}{}</tr>",
            esc(&d.id),
            esc(&d.id),
            esc(&title),
            score_cell(d.score),
            grade_cell(d),
            delta_cell(d.delta)
        );
    }
    b += "</table>";
    let items: Vec<&Rectification> = input
        .rectifications
        .iter()
        .filter(|r| r.department == c.id)
        .collect();
    let _ = write!(
        b,
        "<h2>{}</h2>{}",
        t("整改清单", "Rectification items"),
        rect_table(&items, 1)
    );
    b += &objections_table(c);
    b += &usage_table(c);
    let mine: Vec<&crate::catalog::CatalogFinding> = input
        .catalog_findings
        .iter()
        .filter(|f| f.department == c.id)
        .collect();
    if !mine.is_empty() {
        let _ = write!(
            b,
            "<h2>{} ({})</h2>{}",
            t("目录问题", "Catalog findings"),
            mine.len(),
            findings_table(&mine)
        );
    }
    let name = dept_name(input, &c.id);
    page(
        &format!("{name} 记分卡"),
        &format!("{} scorecard", c.id),
        1,
        input.bureau,
        &b,
    )
}

fn dataset(input: &SiteInput, c: &Scorecard) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<p>{} <a href=\"../dept/{}.html\">{}</a></p><table><tr><th>{}</th><th>{}</th><th>{}</th></tr><tr>{}{}{}</tr></table>",
        t("责任部门", "Responsible department"),
        esc(&c.department),
        esc(&dept_name(input, &c.department)),
        t("得分", "Score"),
        t("等级", "Grade"),
        t("变化", "Change"),
        score_cell(c.score),
        grade_cell(c),
        delta_cell(c.delta)
    );
    b += &dims_and_indicators(c);
    b += &objections_table(c);
    let report = input.reports.get(&c.id);
    let _ = write!(
        b,
        "<h2>{}</h2><table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("规则结果", "Rule results"),
        t("规则", "Rule"),
        t("维度", "Dimension"),
        t("评估", "Evaluated"),
        t("不通过", "Failed"),
        t("通过率", "Pass rate"),
        t("状态", "Status"),
        t("示例（已脱敏）", "Samples (masked)")
    );
    for r in &c.rules {
        let samples = report
            .and_then(|rep| rep.results.iter().find(|x| x.id == r.rule))
            .map(|x| {
                x.samples
                    .iter()
                    .take(3)
                    .map(|s| {
                        format!(
                            "{}:{} <code>{}</code>",
                            esc(s.file.rsplit('/').next().unwrap_or("")),
                            s.row,
                            esc(s.value.as_deref().unwrap_or("NULL"))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>")
            })
            .unwrap_or_default();
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td><td class=num>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>",
            esc(&r.rule),
            t(
                dimension_zh(crate::score::regulation_dimension(&r.dimension)),
                &r.dimension
            ),
            r.evaluated,
            r.failed,
            r.pass_rate
                .map(|p| format!("{:.4}", p))
                .unwrap_or_else(|| "—".into()),
            esc(&r.status),
            esc(&r.status),
            samples
        );
    }
    b += "</table>";
    let items: Vec<&Rectification> = input
        .rectifications
        .iter()
        .filter(|r| r.dataset == c.id)
        .collect();
    let _ = write!(
        b,
        "<h2>{}</h2>{}",
        t("整改事项", "Rectification items"),
        rect_table(&items, 1)
    );
    b += &objection_form(&c.id);
    let title = input
        .catalog
        .get(&c.id)
        .map(|x| x.0.clone())
        .unwrap_or_default();
    page(&format!("{} {title}", c.id), &c.id, 1, input.bureau, &b)
}

fn rectification(input: &SiteInput, only: Option<&str>, depth: usize) -> String {
    let items: Vec<&Rectification> = input
        .rectifications
        .iter()
        .filter(|r| only.is_none_or(|d| r.department == d))
        .collect();
    let overdue = items.iter().filter(|r| r.status == "overdue").count();
    let open = items.iter().filter(|r| r.closed_on.is_none()).count();
    let b = format!(
        "<p>{} {open} · {} <span class=overdue>{overdue}</span></p>{}",
        t("待整改", "Open"),
        t("已逾期", "Overdue"),
        rect_table(&items, depth)
    );
    page("整改清单", "Rectification list", depth, input.bureau, &b)
}

/// The catalog page; `public`: the open entries only, for anonymous
/// readers (`public/catalog.html`, one level down, linking the catalog's
/// public files).
fn catalog(input: &SiteInput, public: bool) -> String {
    let mut b = String::new();
    let (depth, files, open_catalog) = if public {
        (1, "../../catalog/public/", "../../catalog/open-catalog.csv")
    } else {
        (0, "../catalog/", "../catalog/open-catalog.csv")
    };
    if let Some(entries) = input.catalog_entries {
        let entries: Vec<&crate::catalog::publish::PublishedEntry> = entries
            .iter()
            .filter(|p| !public || crate::catalog::publish::is_open(&p.entry))
            .collect();
        let _ = write!(
            b,
            "<h2>{} ({})</h2><p><a href=\"{files}catalog.csv\">CSV</a> · <a href=\"{files}catalog.json\">JSON</a> · <a href=\"{files}dcat.jsonld\">DCAT-AP</a> · <a href=\"{open_catalog}\">{}</a></p>",
            if public {
                t("开放目录", "Open data catalog")
            } else {
                t("公共数据目录", "Public data catalog")
            },
            entries.len(),
            t("开放目录", "open catalog")
        );
        let _ = write!(
            b,
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            t("资源代码", "Code"),
            t("资源名称", "Name"),
            t("提供部门", "Provider"),
            t("共享属性", "Sharing"),
            t("开放属性", "Opening"),
            t("更新频率", "Frequency"),
            t("挂接数据集", "Dataset"),
            t("数据行数", "Rows"),
            t("质量得分", "Score"),
            t("问题", "Findings")
        );
        for p in &entries {
            let e = &p.entry;
            let _ = write!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=num>{}</td>{}<td class=num>{}</td></tr>",
                esc(e.resource_code.as_deref().unwrap_or("")),
                esc(e.name.as_deref().unwrap_or("")),
                esc(&dept_name(input, &e.department)),
                esc(e.share_attribute.as_deref().unwrap_or("")),
                esc(e.open_attribute.as_deref().unwrap_or("")),
                esc(e.update_frequency.as_deref().unwrap_or("")),
                esc(p.measured.dataset.as_deref().unwrap_or("")),
                p.measured.rows.map(|n| n.to_string()).unwrap_or_default(),
                score_cell(p.measured.quality_score),
                p.measured.findings
            );
        }
        b += "</table>";
        // Details are on each department's page (signed in); here the counts.
        let mut per: BTreeMap<&str, usize> = BTreeMap::new();
        for f in input.catalog_findings {
            *per.entry(f.department.as_str()).or_default() += 1;
        }
        let _ = write!(
            b,
            "<h2>{} ({})</h2><table><tr><th>{}</th><th>{}</th></tr>",
            t("目录问题", "Catalog findings"),
            input.catalog_findings.len(),
            t("部门", "Department"),
            t("问题数", "Findings")
        );
        for (d, n) in per {
            let _ = write!(
                b,
                "<tr><td>{}</td><td class=num>{n}</td></tr>",
                esc(&dept_name(input, d))
            );
        }
        b += "</table>";
    }
    if public {
        // The datasets the bureau aggregates are department data, not the
        // open catalog: signed-in readers only.
        return page("开放目录", "Open data catalog", depth, input.bureau, &b);
    }
    let _ = write!(b, "<h2>{}</h2>", t("汇聚数据集", "Aggregated datasets"));
    let _ = write!(
        b,
        "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
        t("数据集", "Dataset"),
        t("名称", "Title"),
        t("提供部门", "Provider"),
        t("来源方式", "Source"),
        t("汇聚方式", "Load mode")
    );
    for (id, (title, kind, mode)) in input.catalog {
        let dept = id.split('.').next().unwrap_or("");
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(id),
            esc(title),
            esc(&dept_name(input, dept)),
            esc(kind),
            esc(mode)
        );
    }
    b += "</table>";
    page("数据目录", "Catalog", depth, input.bureau, &b)
}

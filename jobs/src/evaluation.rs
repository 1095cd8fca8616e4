//! `pdq evaluate` and `pdq correct`: the annual evaluation from the lake's
//! stored counts, pinned to the table version that holds the year's last
//! run, written where it never overwrites a different result.

use std::path::PathBuf;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use pipeline::evaluate::{
    Correction, Counts, EvaluationConfig, EvaluationInput, compare_with, evaluate_counts, report,
};
use pipeline::land::Lake;
use pipeline::score::RuleCount;
use pipeline::workspace::Workspace;

use crate::audit::AuditLog;
use crate::runs;
use crate::sweep::RULE_RESULTS;

/// Hand corrections of stored counts.
pub const CORRECTIONS: &str = pipeline::tables::CORRECTIONS.path;

fn correction_schema() -> SchemaRef {
    let t = |n: &str| Field::new(n, DataType::Utf8, true);
    let i = |n: &str| Field::new(n, DataType::Int64, true);
    Arc::new(Schema::new(vec![
        t("run_id"),
        t("dataset"),
        t("rule"),
        i("evaluated"),
        i("failed"),
        t("reason"),
        t("by"),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ]))
}

/// Records a correction (and audits it). The stored count itself is never
/// rewritten: evaluations apply the latest correction and list it.
pub async fn correct(ws: &Workspace, c: &Correction) -> Result<(), String> {
    // A correction changes what assessors see; it must say why (issue #23, 9).
    if c.reason.trim().is_empty() {
        return Err(format!(
            "a correction of {}/{}/{} needs a reason (--reason): say why the stored count is wrong",
            c.run_id, c.dataset, c.rule
        ));
    }
    let lake = Lake::open(&ws.config.lake, &ws.dir).map_err(|e| e.to_string())?;
    let stored: Vec<RuleCount> = lake
        .read_records(
            RULE_RESULTS,
            Some(&format!(
                "run_id = '{}' AND dataset = '{}' AND rule = '{}'",
                c.run_id.replace('\'', "''"),
                c.dataset.replace('\'', "''"),
                c.rule.replace('\'', "''")
            )),
            "run_id",
        )
        .await
        .map_err(|e| e.to_string())?;
    let Some(original) = stored.first() else {
        return Err(format!(
            "no stored count for run {} dataset {} rule {} (see `pdq runs`)",
            c.run_id, c.dataset, c.rule
        ));
    };
    if c.failed < 0 || c.failed > c.evaluated {
        return Err(format!(
            "failed ({}) must be between 0 and evaluated ({})",
            c.failed, c.evaluated
        ));
    }
    lake.append_records(
        CORRECTIONS,
        &correction_schema(),
        std::slice::from_ref(c),
        None,
    )
    .await
    .map_err(|e| e.to_string())?;
    AuditLog::new(&ws.dir.join("audit"))
        .append(
            &c.by,
            "correct",
            &format!("{}/{}/{}", c.run_id, c.dataset, c.rule),
            serde_json::json!({"from": {"evaluated": original.evaluated, "failed": original.failed}, "to": {"evaluated": c.evaluated, "failed": c.failed}, "reason": c.reason}),
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The stored counts at a table version, read column by column into the
/// compact form (a year of a large bureau is millions of counts: no owned
/// row structs on this path).
pub async fn read_counts(lake: &Lake, version: i64) -> Result<Counts, String> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
    use futures::StreamExt;
    let mut counts = Counts::default();
    let Some(mut table) = lake
        .open_table(RULE_RESULTS)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(counts);
    };
    table
        .load_version(version.max(0) as u64)
        .await
        .map_err(|e| e.to_string())?;
    let ctx = datafusion::prelude::SessionContext::new();
    lake.register(&ctx, "t", &table)
        .await
        .map_err(|e| e.to_string())?;
    let mut stream = ctx
        .sql("SELECT run_id, as_of, dataset, department, rule, dimension, evaluated, failed, status, rules_version FROM t")
        .await
        .map_err(|e| e.to_string())?
        .execute_stream()
        .await
        .map_err(|e| e.to_string())?;
    while let Some(b) = stream.next().await {
        let b = b.map_err(|e| e.to_string())?;
        let text = |i: usize| {
            arrow::compute::cast(b.column(i), &DataType::Utf8).map_err(|e| e.to_string())
        };
        let cols: Vec<arrow::array::ArrayRef> = [0, 2, 3, 4, 5, 8, 9]
            .into_iter()
            .map(text)
            .collect::<Result<_, _>>()?;
        let s: Vec<&arrow::array::StringArray> =
            cols.iter().map(|c| c.as_string::<i32>()).collect();
        let as_of = arrow::compute::cast(
            b.column(1),
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        )
        .map_err(|e| e.to_string())?;
        let as_of = as_of.as_primitive::<TimestampMicrosecondType>();
        let evaluated = b.column(6).as_primitive::<Int64Type>();
        let failed = b.column(7).as_primitive::<Int64Type>();
        fn get(a: &arrow::array::StringArray, r: usize) -> &str {
            if a.is_null(r) { "" } else { a.value(r) }
        }
        for r in 0..b.num_rows() {
            counts.push(
                get(s[0], r),
                DateTime::from_timestamp_micros(as_of.value(r)).unwrap_or_default(),
                get(s[1], r),
                get(s[2], r),
                get(s[3], r),
                get(s[4], r),
                evaluated.value(r),
                failed.value(r),
                get(s[5], r),
                get(s[6], r),
            );
        }
    }
    Ok(counts)
}

/// What `evaluate_year` wrote.
#[derive(Debug)]
pub struct Written {
    /// The evaluation.
    pub evaluation: pipeline::evaluate::Evaluation,
    /// Its directory.
    pub dir: PathBuf,
    /// False when an identical result was already there.
    pub new: bool,
    /// The previous result of that year, when this one differs from it.
    pub replaces: Option<String>,
}

async fn compute(
    ws: &Workspace,
    lake: &Lake,
    year: i32,
    as_of: DateTime<Utc>,
) -> Result<Option<pipeline::evaluate::Evaluation>, String> {
    let tz: chrono_tz::Tz = ws.tz();
    let all_runs = runs::runs(lake).await.map_err(|e| e.to_string())?;
    let pin = all_runs
        .iter()
        .filter(|r| r.started.as_of.with_timezone(&tz).year() == year && r.started.as_of <= as_of)
        .filter_map(|r| r.finished.as_ref().and_then(|f| f.results_version))
        .max();
    let Some(pin) = pin else { return Ok(None) };
    let counts = read_counts(lake, pin).await?;
    let corrections: Vec<Correction> = lake
        .read_records(CORRECTIONS, None, "at")
        .await
        .map_err(|e| e.to_string())?;
    let profile = ws.profile().map_err(|e| e.to_string())?;
    let calendar = ws.calendar().map_err(|e| e.to_string())?;
    let catalog: Vec<pipeline::evaluate::CatalogSummary> = lake
        .read_records(crate::sweep::CATALOG_SUMMARY, None, "as_of, department")
        .await
        .map_err(|e| e.to_string())?;
    let e = evaluate_counts(
        counts,
        &EvaluationInput {
            history: &[],
            corrections: &corrections,
            year,
            as_of,
            tz,
            profile: &profile,
            calendar: &calendar,
            scoring: &ws.config.scoring,
            config: &ws.config.evaluation,
            table_version: Some(pin),
            catalog: &catalog,
        },
    )?;
    Ok(Some(e))
}

/// Evaluates `year` (counts up to `as_of`, default the year's end) and writes
/// `published/evaluation/<year>/<id>/`: evaluation.json, report.html (and
/// report.pdf when Chromium is installed), CSV and XLSX of every table.
pub async fn evaluate_year(
    ws: &Workspace,
    year: i32,
    as_of: Option<DateTime<Utc>>,
    actor: &str,
) -> Result<Written, String> {
    let tz: chrono_tz::Tz = ws.tz();
    let year_end = tz
        .with_ymd_and_hms(year, 12, 31, 23, 59, 59)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or("bad year")?;
    let as_of = as_of.unwrap_or(year_end).min(year_end);
    let lake = Lake::open(&ws.config.lake, &ws.dir).map_err(|e| e.to_string())?;
    let Some(mut e) = compute(ws, &lake, year, as_of).await? else {
        return Err(format!(
            "no runs recorded in {year} up to {} (see `pdq runs`)",
            as_of.to_rfc3339()
        ));
    };
    let prev_end = tz
        .with_ymd_and_hms(year - 1, 12, 31, 23, 59, 59)
        .single()
        .map(|t| t.with_timezone(&Utc));
    if let Some(pe) = prev_end
        && let Some(prev) = compute(ws, &lake, year - 1, pe).await?
    {
        compare_with(&mut e, &prev);
    }
    let root = ws.dir.join("published/evaluation").join(year.to_string());
    let dir = root.join(&e.id);
    let latest = root.join("latest.json");
    let before = std::fs::read(&latest)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["id"].as_str().map(String::from));
    let replaces = before.filter(|b| *b != e.id);
    let new = !dir.exists();
    if new {
        let bureau = ws.config.bureau.clone().unwrap_or_else(|| "数据局".into());
        let tmp = root.join(format!(".{}.tmp", e.id));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|err| format!("{}: {err}", tmp.display()))?;
        let w = |name: &str, bytes: &[u8]| {
            std::fs::write(tmp.join(name), bytes).map_err(|err| format!("{name}: {err}"))
        };
        w(
            "evaluation.json",
            &serde_json::to_vec_pretty(&e).unwrap_or_default(),
        )?;
        let html = report::html(&e, &bureau, &ws.config.departments);
        w("report.html", html.as_bytes())?;
        let tables = report::tables(&e);
        for t in &tables {
            w(&format!("{}.csv", t.0), &pipeline::score::export::csv(t))?;
        }
        w(
            "evaluation.xlsx",
            &pipeline::score::export::xlsx(&tables, e.as_of).map_err(|err| err.to_string())?,
        )?;
        print_pdf(
            &tmp.join("report.html"),
            &tmp.join("report.pdf"),
            &report::title(e.year, &bureau),
        )?;
        std::fs::rename(&tmp, &dir).map_err(|err| format!("{}: {err}", dir.display()))?;
    }
    let tmp_latest = root.join(".latest.json.tmp");
    std::fs::write(
        &tmp_latest,
        serde_json::json!({"id": e.id, "year": year}).to_string(),
    )
    .map_err(|err| err.to_string())?;
    std::fs::rename(&tmp_latest, &latest).map_err(|err| err.to_string())?;
    AuditLog::new(&ws.dir.join("audit"))
        .append(actor, "evaluate", &format!("{year}"), serde_json::json!({"id": e.id, "table_version": e.table_version, "corrections": e.corrections.len(), "replaces": replaces}))
        .map_err(|err| err.to_string())?;
    Ok(Written {
        evaluation: e,
        dir,
        new,
        replaces,
    })
}

/// report.pdf by headless Chromium (Debian's), when it is installed; without
/// Chromium the report is HTML only (said in the log).
///
/// Chromium is given an absolute `file://` URL (a relative workspace such as
/// `-w .` once gave it `file://./…`, and it printed its own error page), and
/// the PDF it writes is checked to be the report: a PDF whose metadata title
/// is the report's. Anything else is an error, so a broken report is never
/// published with exit code 0 (issue #23, 3).
fn print_pdf(html: &std::path::Path, pdf: &std::path::Path, title: &str) -> Result<(), String> {
    let Some(chromium) = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
    else {
        tracing::info!("no Chromium: the report is HTML (print it from a browser)");
        return Ok(());
    };
    let html = std::fs::canonicalize(html).map_err(|err| format!("{}: {err}", html.display()))?;
    let url = url::Url::from_file_path(&html)
        .map_err(|()| format!("{}: not an absolute path", html.display()))?;
    let profile = std::env::temp_dir().join(format!("pdq-pdf-{}", std::process::id()));
    let status = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(url.as_str())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    let _ = std::fs::remove_dir_all(&profile);
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => return Err(format!("{chromium} could not print {url} to PDF ({s})")),
        Err(err) => return Err(format!("{chromium}: {err}")),
    }
    let bytes = std::fs::read(pdf).map_err(|err| format!("{}: {err}", pdf.display()))?;
    if !pdf_has_title(&bytes, title) {
        return Err(format!(
            "{}: Chromium printed something other than the report (the PDF's title is not `{title}`)",
            pdf.display()
        ));
    }
    Ok(())
}

/// True when `pdf` is a PDF whose document information carries `title`, in
/// either form PDF writers use: a literal string, or UTF-16BE in hex with a
/// byte-order mark (Chromium's form for non-ASCII titles).
fn pdf_has_title(pdf: &[u8], title: &str) -> bool {
    if !pdf.starts_with(b"%PDF-") {
        return false;
    }
    let find = |needle: &[u8]| {
        pdf.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    let mut hex = String::from("FEFF");
    for unit in title.encode_utf16() {
        hex.push_str(&format!("{unit:04X}"));
    }
    find(format!("<{hex}>").as_bytes()) || find(format!("({title})").as_bytes())
}

/// The evaluation configuration is part of the workspace configuration.
pub fn config(ws: &Workspace) -> &EvaluationConfig {
    &ws.config.evaluation
}

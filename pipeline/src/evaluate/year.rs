//! The annual evaluation of a year, from the lake's stored counts pinned
//! to the table version that holds the year's last run, written to
//! `published/evaluation/<year>/<id>/` where it never overwrites a
//! different result.

use std::path::PathBuf;

use chrono::{DateTime, Datelike, TimeZone, Utc};

use super::store::{corrections, read_counts};
use super::{Evaluation, EvaluationInput, compare_with, evaluate_counts, report};
use crate::land::Lake;
use crate::run;
use crate::workspace::Workspace;

/// What `evaluate_year` wrote.
#[derive(Debug)]
pub struct Written {
    /// The evaluation.
    pub evaluation: Evaluation,
    /// Its directory.
    pub dir: PathBuf,
    /// False when an identical result was already there.
    pub new: bool,
    /// The previous result of that year, when this one differs from it.
    pub replaces: Option<String>,
}

/// What an evaluation reads besides the counts, read once for the evaluated
/// year and the year before it (which it is compared with).
struct Sources {
    tz: chrono_tz::Tz,
    runs: Vec<run::Run>,
    corrections: Vec<super::Correction>,
    profile: crate::profile::Profile,
    calendar: crate::calendar::WorkCalendar,
    catalog: Vec<super::CatalogSummary>,
    objection_events: Vec<crate::objection::ObjectionEvent>,
}

impl Sources {
    async fn read(ws: &Workspace, lake: &Lake) -> Result<Sources, String> {
        Ok(Sources {
            tz: ws.tz(),
            runs: run::runs(lake).await.map_err(|e| e.to_string())?,
            corrections: corrections(lake).await?,
            profile: ws.profile().map_err(|e| e.to_string())?,
            calendar: ws.calendar().map_err(|e| e.to_string())?,
            catalog: crate::catalog::step::read_summaries(lake)
                .await
                .map_err(|e| e.to_string())?,
            objection_events: crate::objection::store::events(lake)
                .await
                .map_err(|e| e.to_string())?,
        })
    }

    /// `year` up to `as_of`, from the counts pinned to the table version of
    /// its last finished run; `None` when no run of the year finished.
    async fn evaluate(
        &self,
        ws: &Workspace,
        lake: &Lake,
        year: i32,
        as_of: DateTime<Utc>,
    ) -> Result<Option<Evaluation>, String> {
        let tz = self.tz;
        let pin = self
            .runs
            .iter()
            .filter(|r| {
                r.started.as_of.with_timezone(&tz).year() == year && r.started.as_of <= as_of
            })
            .filter_map(|r| r.finished.as_ref().and_then(|f| f.results_version))
            .max();
        let Some(pin) = pin else { return Ok(None) };
        let counts = read_counts(lake, pin).await?;
        let objections = crate::objection::fold_all(
            &self.objection_events,
            as_of,
            &crate::objection::Deadlines::of(&self.profile),
            &self.calendar,
            tz,
        );
        let e = evaluate_counts(
            counts,
            &EvaluationInput {
                history: &[],
                corrections: &self.corrections,
                year,
                as_of,
                tz,
                profile: &self.profile,
                calendar: &self.calendar,
                scoring: &ws.config.scoring,
                config: &ws.config.evaluation,
                table_version: Some(pin),
                catalog: &self.catalog,
                objections: &objections,
            },
        )?;
        Ok(Some(e))
    }
}

/// Evaluates `year` (counts up to `as_of`, default the year's end) and writes
/// `published/evaluation/<year>/<id>/`: evaluation.json, report.html (and
/// report.pdf when Chromium is installed), CSV and XLSX of every table.
pub async fn evaluate_year(
    ws: &Workspace,
    year: i32,
    as_of: Option<DateTime<Utc>>,
) -> Result<Written, String> {
    let tz: chrono_tz::Tz = ws.tz();
    let year_end = tz
        .with_ymd_and_hms(year, 12, 31, 23, 59, 59)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or("bad year")?;
    let as_of = as_of.unwrap_or(year_end).min(year_end);
    let lake = Lake::open(&ws.config.lake, &ws.dir).map_err(|e| e.to_string())?;
    let sources = Sources::read(ws, &lake).await?;
    let Some(mut e) = sources.evaluate(ws, &lake, year, as_of).await? else {
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
        && let Some(prev) = sources.evaluate(ws, &lake, year - 1, pe).await?
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
        let bureau = ws.bureau().to_string();
        let tmp = root.join(format!(".{}.tmp", e.id));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|err| format!("{}: {err}", tmp.display()))?;
        let w = |name: &str, bytes: &[u8]| {
            std::fs::write(tmp.join(name), bytes).map_err(|err| format!("{name}: {err}"))
        };
        w(
            "evaluation.json",
            &serde_json::to_vec_pretty(&e).map_err(|err| format!("evaluation.json: {err}"))?,
        )?;
        let html = report::html(&e, &bureau, &ws.config.departments);
        w("report.html", html.as_bytes())?;
        let tables = report::tables(&e);
        for t in &tables {
            w(&format!("{}.csv", t.0), &crate::score::export::csv(t))?;
        }
        w(
            "evaluation.xlsx",
            &crate::score::export::xlsx(&tables, e.as_of).map_err(|err| err.to_string())?,
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

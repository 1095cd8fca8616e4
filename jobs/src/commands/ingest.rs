//! `pdq ingest`: lands every waiting delivery of the workspace's datasets,
//! under the same dataset locks and due rule as the sweep
//! (`pipeline::land::step::due`; `--force` reads a snapshot source that is
//! not due). A failing dataset is reported and does not stop the others;
//! the exit code is 1 if any failed, or if a snapshot was held back (no
//! rows, or far fewer than the last landed one: see `min_snapshot_share`).

use crate::util::outln;
use std::io::IsTerminal;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use jobs::lock::{lock_dir, try_lock};
use pipeline::land::step::{Due, due};
use pipeline::land::{DeliveryRecord, DeliveryStatus, Lake, land_dataset};
use pipeline::workspace::Workspace;

use super::Outcome;
use crate::cli::IngestArgs;

pub fn run(args: IngestArgs) -> Result<Outcome> {
    let ws = Workspace::load(&args.workspace)?;
    let selected = ws.select(&args.dataset)?;
    let lake = Lake::open(&ws.config.lake, &ws.dir).context("cannot open the lake")?;
    let opts = ws.land_options();
    let rt = super::runtime(None)?;
    let tty = std::io::stderr().is_terminal();
    let bar = if tty {
        let bar = ProgressBar::new(selected.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} 汇聚 landing [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let mut records: Vec<DeliveryRecord> = vec![];
    let mut failures: Vec<String> = vec![];
    let mut not_due: Vec<String> = vec![];
    for d in selected {
        bar.set_message(d.id());
        let span = tracing::info_span!("land", dataset = %d.id());
        let _g = span.enter();
        let _lock = match try_lock(&lock_dir(&ws.dir), &d.id()) {
            Ok(Some(l)) => l,
            Ok(None) => {
                failures.push(format!(
                    "{}: another sweep or ingest is working on this dataset",
                    d.id()
                ));
                bar.inc(1);
                continue;
            }
            Err(e) => {
                failures.push(format!("{}: cannot take the dataset lock: {e}", d.id()));
                bar.inc(1);
                continue;
            }
        };
        if !args.force {
            // An error deciding whether the dataset is due is a failure of
            // that dataset, as in the sweep's land step; never "due anyway".
            match rt.block_on(due(&lake, d, chrono::Utc::now())) {
                Ok(Due::NotYet { last }) => {
                    not_due.push(format!(
                        "{}: 未到更新周期 not due (last delivered {}; --force reads it now)",
                        d.id(),
                        last.to_rfc3339()
                    ));
                    bar.inc(1);
                    continue;
                }
                Ok(_) => {}
                Err(e) => {
                    failures.push(format!("{}: cannot tell whether it is due: {e}", d.id()));
                    bar.inc(1);
                    continue;
                }
            }
        }
        match rt.block_on(land_dataset(&lake, d, &opts)) {
            Ok(rs) => {
                for r in &rs {
                    tracing::info!(delivery = %r.delivery, location = %r.location, read = r.rows_read, landed = r.rows_landed, quarantined = r.rows_quarantined, status = ?r.status, "delivery");
                }
                records.extend(rs);
            }
            Err(e) => {
                tracing::error!(error = %e, "dataset failed");
                failures.push(format!("{}: {e}", d.id()));
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let json = match args.format.as_deref() {
        Some("json") => true,
        Some(_) => false,
        None => !std::io::stdout().is_terminal(),
    };
    if json {
        let out =
            serde_json::json!({ "deliveries": records, "failures": failures, "not_due": not_due });
        outln!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        outln!("{}", table(&records));
        for n in &not_due {
            eprintln!("pdq: {n}");
        }
        for f in &failures {
            eprintln!("pdq: 失败 failed: {f}");
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} dataset(s) could not be landed: {}",
            failures.len(),
            failures.join("; ")
        );
    }
    // A snapshot held back (empty, or far smaller than the last) needs an
    // operator's look, like a refused catalog harvest.
    let held: Vec<String> = records
        .iter()
        .filter(|r| r.status == DeliveryStatus::Held)
        .map(|r| format!("{}: {}", r.dataset, r.note.as_deref().unwrap_or_default()))
        .collect();
    if !held.is_empty() {
        bail!("{} snapshot(s) held back: {}", held.len(), held.join("; "));
    }
    Ok(Outcome::Clean)
}

/// The deliveries as a terminal table.
pub(super) fn table(records: &[DeliveryRecord]) -> String {
    if records.is_empty() {
        return "没有待汇聚的数据 Nothing new to land.".to_string();
    }
    let mut out = format!(
        "{:<34} {:<10} {:>10} {:>10} {:>8} {:>7} {:>8}  {}\n",
        "数据集 dataset",
        "状态 status",
        "读 read",
        "入湖 landed",
        "隔离 quar.",
        "版本 v",
        "MB/s",
        "来源 location"
    );
    for r in records {
        let mbps = if r.seconds > 0.0 {
            r.bytes as f64 / 1e6 / r.seconds
        } else {
            0.0
        };
        out += &format!(
            "{:<34} {:<10} {:>10} {:>10} {:>8} {:>7} {:>8.1}  {}\n",
            r.dataset,
            format!("{:?}", r.status).to_lowercase(),
            r.rows_read,
            r.rows_landed,
            r.rows_quarantined,
            r.table_version.map(|v| v.to_string()).unwrap_or_default(),
            mbps,
            r.location
        );
    }
    out
}

//! `pdq demo`: writes the example bureau, lands every department's extract
//! into its lake (as `pdq ingest` does), checks every dataset and writes
//! per-dataset results (JSON) and a summary (terminal table, static HTML).
//! Deterministic: the data, the as-of time and so the results never change.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use pipeline::{CheckOptions, check_paths};
use quality_rules::RuleFile;

use super::Outcome;
use crate::cli::DemoArgs;
use crate::util::write_atomic;

pub fn run(args: DemoArgs) -> Result<Outcome> {
    let bureau = pipeline::demo::generate(&args.out)
        .with_context(|| format!("cannot write the example bureau to {}", args.out.display()))?;
    let opts = CheckOptions::new(bureau.as_of);
    let rt = super::runtime(None)?;
    // Landing: the same path as `pdq ingest -w <out>`.
    let ws = pipeline::workspace::Workspace::load(&bureau.root)?;
    let lake = pipeline::land::Lake::open(&ws.config.lake, &ws.dir)?;
    let mut landed = vec![];
    for d in &ws.datasets {
        let records = rt
            .block_on(pipeline::land::land_dataset(&lake, d, &ws.land_options()))
            .with_context(|| format!("demo dataset `{}` could not be landed", d.id()))?;
        landed.extend(records);
    }
    println!("{}", super::ingest::table(&landed));
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(bureau.datasets.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} 检查 checking [{bar:30}] {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let results_dir = args.out.join("results");
    let mut reports = Vec::new();
    for ds in &bureau.datasets {
        bar.set_message(ds.name.clone());
        tracing::info!(dataset = %ds.name, department = %ds.department, "checking");
        let rules = RuleFile::load(&ds.rules)?;
        let report = rt
            .block_on(check_paths(&ds.data, &rules, &opts))
            .with_context(|| format!("demo dataset `{}` could not be checked", ds.name))?;
        write_atomic(
            &results_dir.join(format!("{}.json", ds.name)),
            report.to_json().as_bytes(),
        )?;
        reports.push(report);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let html = crate::reports::by_name("html")
        .map(|r| r.render(&reports))
        .unwrap_or_default();
    let summary = args.out.join("summary.html");
    write_atomic(&summary, html.as_bytes())?;
    if let Some(table) = crate::reports::by_name("table") {
        println!("{}", table.render(&reports));
    }
    let fails: usize = reports
        .iter()
        .map(|r| r.count(quality_rules::Status::Fail))
        .sum();
    println!(
        "示例数据局已生成并检查完毕 The example bureau was written and checked: {} 个数据集 datasets, {} 条规则不通过 rules at fail (deliberate defects).",
        reports.len(),
        fails
    );
    println!("结果 Results: {}", results_dir.display());
    println!("汇总页面 Summary page: {}", summary.display());
    // The demo ran as intended even though its data has planted defects.
    Ok(Outcome::Clean)
}

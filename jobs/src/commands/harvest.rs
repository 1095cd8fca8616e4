//! `pdq harvest`: harvests the workspace's catalog sources into a new
//! catalog version (when anything changed), checks and reconciles the
//! catalog, and publishes the refreshed catalog under
//! `published/catalog/`. Exit 4 when some sources could not be harvested
//! (or a withdrawal was refused) and the others were (one stderr line per
//! failed source), 1 when none could.

use crate::util::outln;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use pipeline::catalog::{self, CatalogOutcome, checks::check_name};
use pipeline::land::Lake;
use pipeline::workspace::Workspace;

use super::Outcome;
use crate::cli::HarvestArgs;

pub fn run(args: HarvestArgs) -> Result<Outcome> {
    let ws = Workspace::load(&args.workspace)?;
    if let Some(name) = &args.suggest_mapping {
        let rt = super::runtime(None)?;
        let s = rt.block_on(catalog::suggest::suggest_mapping(
            &ws.dir,
            name,
            ws.xlsx_limits(),
        ))?;
        // The mapping is for pasting: TOML unless JSON is asked for.
        if args.format.as_deref() == Some("json") {
            outln!("{}", serde_json::to_string_pretty(&s)?);
        } else {
            outln!("{}", s.toml.trim_end());
        }
        return Ok(Outcome::Clean);
    }
    let tz = ws.tz();
    let now = crate::util::parse_as_of(args.as_of.as_deref(), tz)?.with_timezone(&Utc);
    let lake = Lake::open(&ws.config.lake, &ws.dir).context("cannot open the lake")?;
    let Some(_lock) = jobs::lock::try_lock(&ws.dir.join(".pdq/locks"), "_catalog")
        .context("cannot take the catalog lock")?
    else {
        bail!("another harvest or sweep is working on the catalog (lock .pdq/locks/_catalog.lock)");
    };
    let rt = super::runtime(None)?;
    let outcome = rt.block_on(catalog::run(&ws, &lake, args.source.as_deref(), now))?;
    let clock = std::time::Instant::now();
    let dir = ws.dir.join("published/catalog");
    let sink = catalog::publish::DirSink::new(&dir);
    catalog::publish_into(&ws, &outcome, &Default::default(), now, &sink)?;
    tracing::info!(
        files = sink.written().len(),
        seconds = clock.elapsed().as_secs_f64(),
        "catalog published"
    );
    let json = crate::util::wants_json(args.format.as_deref());
    if json {
        let summary = serde_json::json!({
            "harvest": outcome.report.harvest,
            "version": outcome.report.version,
            "new_version": outcome.report.new_version,
            "sources": outcome.report.sources,
            "changes": outcome.report.changes.len(),
            "entries": outcome.state.current().count(),
            "findings": outcome.findings,
            "published": dir.display().to_string(),
        });
        outln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_table(&outcome, &dir);
    }
    // Some sources failed, the rest were harvested and published: a
    // partial failure (exit 4, one stderr line each); none harvested: 1.
    let failed = outcome.report.failed_sources();
    if !failed.is_empty() && failed.len() == outcome.report.sources.len() {
        bail!("catalog harvest failed: {}", failed.join("; "));
    }
    if !failed.is_empty() {
        for f in &failed {
            eprintln!("pdq harvest: {f}");
        }
        return Ok(Outcome::PartialFailure);
    }
    Ok(Outcome::Clean)
}

fn print_table(o: &CatalogOutcome, dir: &std::path::Path) {
    outln!(
        "目录版本 catalog version {}{}",
        o.report.version,
        if o.report.new_version {
            " (新 new)"
        } else {
            " (无变化 unchanged)"
        }
    );
    outln!(
        "{:<24} {:>8} {:>6} {:>6} {:>6} {:>6} {:>8}  状态 status",
        "来源 source",
        "records",
        "added",
        "chg",
        "wdrawn",
        "restor",
        "same"
    );
    for s in &o.report.sources {
        outln!(
            "{:<24} {:>8} {:>6} {:>6} {:>6} {:>6} {:>8}  {}{}",
            s.source,
            s.records,
            s.added,
            s.changed,
            s.withdrawn,
            s.restored,
            s.unchanged,
            s.status,
            s.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
        if s.mapping.records > 0 {
            outln!(
                "    映射 mapped: {}",
                catalog::harvest::mapping_line(&s.mapping)
            );
        }
    }
    let mut by_check: std::collections::BTreeMap<&str, usize> = Default::default();
    for f in &o.findings {
        *by_check.entry(f.check.as_str()).or_default() += 1;
    }
    outln!("目录问题 findings: {}", o.findings.len());
    for (c, n) in by_check {
        let (zh, en) = check_name(c);
        outln!("  {n:>6}  {zh} {en} ({c})");
    }
    outln!("已发布 published: {}", dir.display());
}

//! `pdq onesource`: one data, one source over the workspace's landed
//! datasets (issue #5). Thin: the work is `pipeline::onesource::stage`.

use crate::util::outln;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{NaiveDate, Utc};
use pipeline::land::Lake;
use pipeline::onesource::duplicate::{CatalogDeclaration, DuplicateEvidence};
use pipeline::onesource::registry::AuthorityRegistry;
use pipeline::onesource::resolve::MatchConfig;
use pipeline::onesource::stage::{OneSourceOptions, run_onesource, write_published};
use pipeline::workspace::Workspace;

use super::Outcome;
use crate::cli::OneSourceArgs;

/// `department,item_name` lines (a header line is allowed).
fn declarations(path: &Path) -> Result<Vec<CatalogDeclaration>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = vec![];
    for (i, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || (i == 0 && line.starts_with("department")) {
            continue;
        }
        let (d, n) = line.split_once(',').with_context(|| {
            format!(
                "{} line {}: expected `department,item_name`",
                path.display(),
                i + 1
            )
        })?;
        out.push(CatalogDeclaration {
            department: d.trim().to_string(),
            item_name: n.trim().to_string(),
        });
    }
    Ok(out)
}

pub fn run(args: OneSourceArgs) -> Result<Outcome> {
    let ws = Workspace::load(&args.workspace)?;
    let profile = ws.profile()?;
    let registry = AuthorityRegistry::load(&profile.id, &ws.dir)?;
    let lake = Lake::open(&ws.config.lake, &ws.dir).context("cannot open the lake")?;
    let as_of = match &args.as_of {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .with_context(|| format!("--as-of {d}: expected YYYY-MM-DD"))?,
        None => Utc::now().date_naive(),
    };
    let opts = OneSourceOptions {
        as_of,
        run: format!("onesource-{}", Utc::now().format("%Y%m%dT%H%M%SZ")),
        declarations: match &args.declarations {
            Some(p) => declarations(p)?,
            None => vec![],
        },
        matching: MatchConfig::persons(),
        keep_runs: ws.onesource_runs(),
    };
    let rt = super::runtime(None)?;
    let report = rt.block_on(run_onesource(&ws, &lake, &registry, &opts))?;
    let published = write_published(&ws.dir.join("published"), &report)?;
    let json = crate::util::wants_json(args.format.as_deref());
    if json {
        outln!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        outln!(
            "一数一源 one source — {} records, {} subjects, {} probabilistic links, {} golden values, {} conflicts, {} duplicate collections",
            report.records,
            report.subjects,
            report.probabilistic_links,
            report.golden_values,
            report.conflicts,
            report.duplicates.len()
        );
        outln!("数源部门清单 registry: {}", report.registry);
        outln!(
            "{:<36} {:>8} {:>8} {:>8} {:>8} {:>9}",
            "数据集 dataset",
            "rows",
            "valid",
            "repaired",
            "compared",
            "conflicts"
        );
        for (ds, s) in &report.datasets {
            outln!(
                "{:<36} {:>8} {:>8} {:>8} {:>8} {:>9}",
                ds,
                s.rows,
                s.valid_keys,
                s.repaired_keys,
                s.compared,
                s.conflicts
            );
        }
        for d in &report.duplicates {
            let how = match &d.evidence {
                DuplicateEvidence::Catalog { entry } => format!("catalog entry `{entry}`"),
                DuplicateEvidence::Data {
                    dataset,
                    column,
                    matched_by,
                    shared,
                    agreement,
                    ..
                } => format!(
                    "{dataset}.{column} (by {matched_by}; {shared} shared subjects, {:.1}% agree)",
                    agreement * 100.0
                ),
            };
            let origin = d
                .authority_origin
                .as_ref()
                .map_or_else(|| "origin unknown".to_string(), ToString::to_string);
            outln!(
                "重复收集 duplicate: {} collects {} `{}` ({}), source is {} ({origin}) — {how}",
                d.department,
                d.item_name,
                d.attribute.as_deref().unwrap_or("*"),
                d.item,
                d.authority
            );
        }
        for (ds, attrs) in &report.no_source {
            outln!(
                "无数源 no source: {ds} holds {} that no registry item owns; add the items to authority.toml",
                attrs.join(", ")
            );
        }
        outln!("published: {}", published.display());
    }
    Ok(Outcome::Clean)
}

//! `pdq usage import|list|prune|check`: the sharing platform's usage log
//! (`pipeline::usage`). Every import and every prune that removed rows is
//! written to the audit log; every output masks the operator's name.

use anyhow::{Result, anyhow};
use chrono::NaiveDate;
use pipeline::usage::stage::{self, Filter};

use super::Outcome;
use super::ops::load;
use crate::cli::{UsageAction, UsageArgs};
use crate::util::{outln, parse_as_of, wants_json};

fn day(text: &str, flag: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| anyhow!("{flag}: `{text}` is not a date; expected YYYY-MM-DD"))
}

pub fn run(args: UsageArgs) -> Result<Outcome> {
    let rt = super::runtime(Some(1))?;
    match args.action {
        UsageAction::Import {
            workspace,
            file,
            format,
        } => {
            let (ws, _) = load(&workspace.dir)?;
            let report = rt
                .block_on(stage::import(&ws, &file, chrono::Utc::now()))
                .map_err(|e| anyhow!(e))?;
            if !report.unchanged {
                jobs::audit::AuditLog::new(&ws.dir.join("audit"))
                    .append(
                        &jobs::audit::actor("cli:usage"),
                        "usage.import",
                        &report.import,
                        serde_json::json!({
                            "file": report.file,
                            "read": report.read,
                            "landed": report.landed,
                            "duplicates": report.duplicates,
                            "quarantined": report.quarantined.len(),
                        }),
                    )
                    .map_err(|e| anyhow!(e.to_string()))?;
            }
            if wants_json(format.as_deref()) {
                outln!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                outln!(
                    "使用日志 usage log {} ({}): read {}, landed {}, duplicates {}, quarantined {}{}",
                    report.file,
                    report.format,
                    report.read,
                    report.landed,
                    report.duplicates,
                    report.quarantined.len(),
                    if report.unchanged {
                        " — 已导入过 imported before: nothing added"
                    } else {
                        ""
                    }
                );
                for q in &report.quarantined {
                    outln!("  隔离 quarantined: {}", q.reason);
                }
                if report.incomplete > 0 {
                    outln!(
                        "  {} row(s) lack an element the profile requires ({}): see `pdq usage check`",
                        report.incomplete,
                        report.required.join(", ")
                    );
                }
                if !report.unmapped.is_empty() {
                    outln!(
                        "  未识别列 unmapped columns (ignored): {}",
                        report.unmapped.join(", ")
                    );
                }
            }
            Ok(Outcome::Clean)
        }
        UsageAction::List {
            workspace,
            dataset,
            consumer,
            since,
            format,
        } => {
            let (ws, tz) = load(&workspace.dir)?;
            let filter = Filter {
                dataset,
                consumer,
                since: since.as_deref().map(|s| day(s, "--since")).transpose()?,
            };
            let rows: Vec<_> = rt
                .block_on(stage::list(&ws, &filter))
                .map_err(|e| anyhow!(e))?
                .iter()
                .map(|r| r.masked())
                .collect();
            if wants_json(format.as_deref()) {
                outln!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                outln!("使用日志 usage log ({} rows):", rows.len());
                for r in &rows {
                    outln!(
                        "{} {:<14} {:<28} {:<20} {}",
                        r.at.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                        r.consumer,
                        r.resource,
                        r.purpose.as_deref().unwrap_or("—"),
                        r.operator.as_deref().unwrap_or("—")
                    );
                }
            }
            Ok(Outcome::Clean)
        }
        UsageAction::Prune {
            workspace,
            as_of,
            dry_run,
            format,
        } => {
            let (ws, tz) = load(&workspace.dir)?;
            let now = chrono::Utc::now();
            let today = parse_as_of(as_of.as_deref(), tz)?
                .with_timezone(&tz)
                .date_naive();
            let report = rt
                .block_on(pipeline::usage::prune::prune(&ws, today, dry_run, now))
                .map_err(|e| anyhow!(e))?;
            if !report.dry_run && report.pruned > 0 {
                jobs::audit::AuditLog::new(&ws.dir.join("audit"))
                    .append(
                        &jobs::audit::actor("cli:usage"),
                        "usage.prune",
                        &report.horizon.to_string(),
                        serde_json::json!({
                            "as_of": report.as_of,
                            "horizon": report.horizon,
                            "years": report.years,
                            "article": report.article,
                            "pruned": report.pruned,
                            "kept": report.kept,
                        }),
                    )
                    .map_err(|e| anyhow!(e.to_string()))?;
            }
            if wants_json(format.as_deref()) {
                outln!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                outln!(
                    "使用日志清理 usage-log prune{} as of {}: {} years, horizon {} ({})",
                    if report.dry_run {
                        " (试运行 dry run: nothing changed)"
                    } else {
                        ""
                    },
                    report.as_of,
                    report.years,
                    report.horizon,
                    report.cites
                );
                outln!(
                    "  {} {} row(s) used before {}; 保留 kept {}",
                    if report.dry_run {
                        "将清理 would prune"
                    } else {
                        "已清理 pruned"
                    },
                    report.pruned,
                    report.horizon,
                    report.kept
                );
                for (consumer, n) in &report.pruned_by_consumer {
                    outln!("  {consumer:<14} {n}");
                }
            }
            Ok(Outcome::Clean)
        }
        UsageAction::Check {
            workspace,
            as_of,
            format,
        } => {
            let (ws, tz) = load(&workspace.dir)?;
            let today = parse_as_of(as_of.as_deref(), tz)?
                .with_timezone(&tz)
                .date_naive();
            let findings = rt
                .block_on(stage::check(&ws, today))
                .map_err(|e| anyhow!(e))?;
            if wants_json(format.as_deref()) {
                outln!("{}", serde_json::to_string_pretty(&findings)?);
            } else {
                outln!(
                    "使用日志核查 usage-log findings as of {today}: {}",
                    findings.len()
                );
                for f in &findings {
                    outln!("{} {}", f.check, f.message);
                }
            }
            Ok(Outcome::Clean)
        }
    }
}

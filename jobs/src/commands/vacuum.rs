//! `pdq vacuum`: the lake's upkeep (`pipeline::land::vacuum`) by hand, as
//! every sweep does it at its end: files that no version within
//! `[retention] lake_days` needs are deleted.

use anyhow::{Context, Result};
use pipeline::land::Lake;
use pipeline::land::vacuum::vacuum_lake;
use pipeline::workspace::Workspace;

use super::Outcome;
use crate::cli::VacuumArgs;
use crate::util::outln;

pub fn run(args: VacuumArgs) -> Result<Outcome> {
    let ws = Workspace::load(&args.workspace.dir)?;
    let keep = ws.lake_retention();
    let lake = Lake::open(&ws.config.lake, &ws.dir).context("cannot open the lake")?;
    let rt = super::runtime(None)?;
    let v = rt.block_on(vacuum_lake(&ws, &lake, keep, args.dry_run));
    if !args.dry_run {
        jobs::audit::AuditLog::new(&ws.dir.join("audit")).append(
            &jobs::audit::actor("cli:vacuum"),
            "vacuum",
            "lake",
            serde_json::json!({"lake_days": v.lake_days, "tables": v.tables, "files_deleted": v.files, "bytes_deleted": v.bytes, "failed": v.failed.len()}),
        )?;
    }
    if crate::util::wants_json(args.format.as_deref()) {
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        let verb = if args.dry_run {
            "would delete 将删除"
        } else {
            "deleted 已删除"
        };
        outln!(
            "数据湖清理 vacuum (keeping {} days of time travel): {} tables, {verb} {} files, {:.1} MiB",
            v.lake_days,
            v.tables,
            v.files,
            v.bytes as f64 / (1024.0 * 1024.0)
        );
        for d in &v.deleted {
            outln!(
                "  {}: {} files, {:.1} MiB",
                d.table,
                d.files,
                d.bytes as f64 / (1024.0 * 1024.0)
            );
        }
    }
    for f in &v.failed {
        eprintln!("pdq vacuum: {}: {}", f.table, f.error);
    }
    Ok(if v.failed.is_empty() {
        Outcome::Clean
    } else {
        Outcome::PartialFailure
    })
}

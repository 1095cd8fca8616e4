//! `pdq demo`: writes the example bureau as a workspace (extracts in every
//! format, dataset definitions, rule files, four weeks of earlier
//! deliveries) and sweeps it one night a week in date order, as the nightly
//! job would: each night's deliveries are put in place and swept as of that
//! night (land, check, publish), so the lake holds a history. It also
//! writes the final night's per-dataset results (JSON) and a summary
//! (terminal table, static HTML). Deterministic: the data, the as-of times
//! and so the results never change.

use crate::util::outln;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, Result, bail};
use jobs::sweep::{SweepOptions, default_actor, run_sweep};
use pipeline::land::DeliveryStatus;

use super::Outcome;
use crate::cli::DemoArgs;
use crate::util::write_atomic;

pub fn run(args: DemoArgs) -> Result<Outcome> {
    let bureau = pipeline::demo::generate(&args.out)
        .with_context(|| format!("cannot write the example bureau to {}", args.out.display()))?;
    // The audit log's head is signed with a key outside the workspace
    // (issue #18, 4). On a machine with none, the demo makes the user's own
    // (~/.config/pdq/audit.key, 0600) so that `pdq audit verify` works on it
    // as on a bureau's server; without a home it runs unsigned and says so.
    let audit_key = jobs::audit::ensure_user_key().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "no audit key could be created: the demo's audit log is unsigned");
        None
    });
    let rt = super::runtime(None)?;
    let ws = pipeline::workspace::Workspace::load(&bureau.root)?;
    // One sweep a night, in date order, each on that night's deliveries and
    // as of that night: the lake holds weeks of history, the last sweep is
    // the final night's (the bureau as `generate` wrote it).
    let mut last = None;
    let mut usage = None;
    for night in &bureau.nights {
        pipeline::demo::history::deliver(&bureau.root, night)
            .with_context(|| format!("cannot deliver the night of {night}"))?;
        // The sharing platform's usage log (who received which data, up to
        // the week before) arrives before the final night: that sweep's
        // catalog sees the consumers of the entry it withdraws, and its
        // scorecards the log's incomplete rows.
        if Some(night) == bureau.nights.last() {
            usage = Some(import_usage(&rt, &ws, &bureau)?);
        }
        let sweep = sweep_night(&rt, &ws, *night)?;
        outln!(
            "夜间作业 Night {}: run {} — {} 条规则不通过 rules at fail",
            night.format("%Y-%m-%d"),
            sweep.run_id,
            sweep_fails(&sweep)
        );
        last = Some(sweep);
    }
    let sweep = last.context("the demo has no night to sweep")?;
    // What each file of each dataset last landed (or, never landed, its
    // latest delivery): the lake's content after the final night.
    let mut records = rt.block_on(pipeline::land::read_ledger(
        &pipeline::land::Lake::open(&ws.config.lake, &ws.dir)?,
        None,
    ))?;
    records.sort_by_key(|r| r.started_at);
    let mut latest: Vec<pipeline::land::DeliveryRecord> = vec![];
    for r in records {
        let landed = |r: &pipeline::land::DeliveryRecord| r.status == DeliveryStatus::Landed;
        match latest
            .iter()
            .position(|l| (&l.dataset, &l.location) == (&r.dataset, &r.location))
        {
            Some(i) if landed(&r) || !landed(&latest[i]) => latest[i] = r,
            Some(_) => {}
            None => latest.push(r),
        }
    }
    let records = latest;
    outln!("{}", super::ingest::table(&records));
    let results_dir = args.out.join("results");
    let mut reports = vec![];
    for (d, report) in &sweep.reports {
        write_atomic(
            &results_dir.join(format!("{}.json", d.name)),
            report.to_json().as_bytes(),
        )?;
        reports.push(report.clone());
    }
    let html = crate::reports::by_name("html")
        .map(|r| r.render(&reports))
        .unwrap_or_default();
    let summary = args.out.join("summary.html");
    write_atomic(&summary, html.as_bytes())?;
    if let Some(table) = crate::reports::by_name("table") {
        outln!("{}", table.render(&reports));
    }
    let fails: usize = reports
        .iter()
        .map(|r| r.count(quality_rules::Status::Fail))
        .sum();
    let quarantined: i64 = records.iter().map(|r| r.rows_quarantined).sum();
    outln!(
        "示例数据局已生成并完成 {} 次夜间作业 The example bureau was written and swept {} nights (last run {}): {} 个数据集 datasets landed and checked, {} 行隔离 rows quarantined, {} 条规则不通过 rules at fail (deliberate defects).",
        bureau.nights.len(),
        bureau.nights.len(),
        sweep.run_id,
        reports.len(),
        quarantined,
        fails
    );
    outln!(
        "工作区 Workspace: {} (pdq sweep -w {0} | pdq runs -w {0} | pdq audit verify -w {0})",
        args.out.display()
    );
    match &audit_key {
        Some((path, true)) => outln!(
            "审计密钥 Audit key: created {} (mode 0600, outside the workspace); it signs the audit log's head — keep it, `pdq audit verify` needs it",
            path.display()
        ),
        Some((path, false)) => outln!("审计密钥 Audit key: {}", path.display()),
        None => outln!(
            "审计日志未签名 Audit log unsigned: no audit key ({})",
            jobs::audit::key::SET_UP
        ),
    }
    outln!("结果 Results: {}", results_dir.display());
    outln!("汇总页面 Summary page: {}", summary.display());
    if let Some(step) = sweep.steps.iter().find(|s| s.stage == "catalog") {
        let out: serde_json::Value = serde_json::from_str(&step.outputs).unwrap_or_default();
        outln!(
            "目录 Catalog: {} 条目录 entries, {} 个问题 findings (planted) — {} (pdq harvest -w {})",
            out["entries"],
            out["findings"],
            ws.dir.join("published/catalog").display(),
            args.out.display()
        );
    }
    // A few objections (异议) in different states, against what landed.
    let objections = rt
        .block_on(pipeline::demo::objections::file(
            &ws,
            &bureau.persons,
            bureau.as_of.with_timezone(&chrono::Utc),
        ))
        .map_err(|e| anyhow::anyhow!(e))
        .context("the demo's objections could not be filed")?;
    let usage = usage.context("the demo has no final night")?;
    let log = jobs::audit::AuditLog::new(&ws.dir.join("audit"));
    outln!(
        "使用日志 Usage log: {} 条 rows landed, {} quarantined (pdq usage list -w {})",
        usage.landed,
        usage.quarantined.len(),
        args.out.display()
    );
    for o in &objections {
        log.append(
            &default_actor("manual"),
            "objection.file",
            &o.id,
            serde_json::json!({"state": o.state.as_str(), "responsible": o.responsible, "dataset": o.dataset, "via": "demo"}),
        )
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    }
    outln!(
        "异议 Objections: {} 件 filed — {} — (pdq objection list -w {})",
        objections.len(),
        objections
            .iter()
            .map(|o| format!(
                "{} {}{}",
                o.id,
                o.state_zh,
                if o.overdue { " 逾期 overdue" } else { "" }
            ))
            .collect::<Vec<_>>()
            .join(", "),
        args.out.display()
    );
    // The demo ran as intended even though its data has planted defects.
    Ok(Outcome::Clean)
}

/// Imports the demo's usage log (as of the final night) and writes the
/// import to the audit log.
fn import_usage(
    rt: &tokio::runtime::Runtime,
    ws: &pipeline::workspace::Workspace,
    bureau: &pipeline::demo::DemoBureau,
) -> Result<pipeline::usage::stage::ImportReport> {
    let usage = rt
        .block_on(pipeline::usage::stage::import(
            ws,
            &ws.dir.join(pipeline::demo::usage::FILE),
            bureau.as_of.with_timezone(&chrono::Utc),
        ))
        .map_err(|e| anyhow::anyhow!(e))
        .context("the demo's usage log could not be imported")?;
    jobs::audit::AuditLog::new(&ws.dir.join("audit"))
        .append(
            &default_actor("manual"),
            "usage.import",
            &usage.import,
            serde_json::json!({"file": pipeline::demo::usage::FILE, "read": usage.read, "landed": usage.landed, "quarantined": usage.quarantined.len(), "via": "demo"}),
        )
        .map_err(|e| anyhow::anyhow!(e.to_string()))?;
    Ok(usage)
}

/// One night's sweep of every dataset, as of `night`; a dataset that fails
/// (rather than its planted defects) fails the demo.
fn sweep_night(
    rt: &tokio::runtime::Runtime,
    ws: &pipeline::workspace::Workspace,
    night: chrono::DateTime<chrono::FixedOffset>,
) -> Result<jobs::sweep::SweepReport> {
    let opts = SweepOptions {
        as_of: night,
        trigger: "manual".into(),
        scheduled_for: None,
        only: vec![],
        cancel: Arc::new(AtomicBool::new(false)),
        actor: default_actor("manual"),
        on_step: None,
    };
    let sweep = rt
        .block_on(run_sweep(ws, &opts))
        .with_context(|| format!("the demo sweep of {night} could not run"))?;
    let failed = sweep.failed_datasets();
    if !failed.is_empty() {
        let why: Vec<String> = sweep
            .steps
            .iter()
            .filter_map(|s| {
                s.error
                    .as_ref()
                    .map(|e| format!("{} {}: {e}", s.dataset, s.stage))
            })
            .collect();
        bail!("demo datasets failed on {night}: {}", why.join("; "));
    }
    Ok(sweep)
}

/// Rules at fail in a sweep's reports.
fn sweep_fails(sweep: &jobs::sweep::SweepReport) -> usize {
    sweep
        .reports
        .iter()
        .map(|(_, r)| r.count(quality_rules::Status::Fail))
        .sum()
}

//! `pdq sweep`, `pdq daemon`, `pdq serve`, `pdq token`: thin wrappers over
//! the `jobs` library.

use crate::util::outln;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use chrono::Utc;
use jobs::audit::AuditLog;
use jobs::schedule::{Schedule, catch_up};
use jobs::sweep::{SweepOptions, SweepReport, default_actor, run_sweep};
use pipeline::land::Lake;
use pipeline::run as runs;
use pipeline::workspace::Workspace;

use super::Outcome;
use crate::cli::{DaemonArgs, SweepArgs};

pub(super) fn load(dir: &std::path::Path) -> Result<(Workspace, chrono_tz::Tz)> {
    let ws = Workspace::load(dir)?;
    let tz = ws.tz();
    // The whole configuration is checked before any work starts (issue
    // #23, 4): a misspelt profile, an unreadable calendar file or a cron
    // expression the daemon would refuse fails every command at once, not
    // one step of a sweep that then says "completed".
    ws.profile()?;
    ws.calendar()?;
    Schedule::parse(&ws.config.schedule.cron, tz)
        .map_err(|e| anyhow::anyhow!("{}: schedule.cron: {e}", dir.join("pdq.toml").display()))?;
    ws.audit_retention_years()?;
    Ok((ws, tz))
}

/// SIGTERM / Ctrl-C set the flag: no new dataset starts, work in progress
/// finishes (every write is atomic, so stopping between datasets loses nothing).
fn on_terminate(rt: &tokio::runtime::Runtime, flag: Arc<AtomicBool>) {
    rt.spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {},
                _ = tokio::signal::ctrl_c() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::warn!("stopping: no new dataset will start; work in progress finishes");
        flag.store(true, Ordering::SeqCst);
    });
}

fn print_report(r: &SweepReport, json: bool) {
    if json {
        outln!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return;
    }
    outln!("运行 run {} — {}", r.run_id, r.status);
    outln!(
        "{:<34} {:<8} {:<10} {:>10} {:>8}  说明 note",
        "数据集 dataset",
        "阶段",
        "状态 status",
        "行 rows",
        "秒 s"
    );
    for s in &r.steps {
        outln!(
            "{:<34} {:<8} {:<10} {:>10} {:>8.2}  {}",
            if s.dataset.is_empty() {
                "—"
            } else {
                &s.dataset
            },
            s.stage,
            s.status,
            s.rows.map(|n| n.to_string()).unwrap_or_default(),
            s.seconds,
            s.error.as_deref().unwrap_or("")
        );
    }
    if let Some(p) = &r.published {
        outln!("结果 Published: {}", p.display());
    }
}

async fn alert(ws: &Workspace, r: Option<&SweepReport>, error: Option<&str>) {
    let Some(url) = &ws.config.alerts.webhook else {
        return;
    };
    let failed = r.map(|r| r.failed_datasets()).unwrap_or_default();
    let new_failures = r.map(|r| r.new_failures.clone()).unwrap_or_default();
    if error.is_none() && failed.is_empty() && new_failures.is_empty() {
        return;
    }
    let msg = serde_json::json!({
        "bureau": ws.config.bureau,
        "run": r.map(|r| r.run_id.clone()),
        "status": r.map(|r| r.status.clone()).unwrap_or_else(|| "failed".into()),
        "error": error,
        "failed_datasets": failed,
        "new_failures": new_failures,
        "text": match error {
            Some(e) => format!("pdq 作业失败 sweep failed: {e}"),
            None => format!("pdq: {} 个数据集失败 datasets failed, {} 条新的不通过规则 new failing rules", failed.len(), new_failures.len()),
        },
    });
    if let Err(e) = jobs::alerts::post(url, &msg).await {
        tracing::error!(error = %e, "alert not delivered");
    }
}

pub fn sweep(args: SweepArgs) -> Result<Outcome> {
    let (mut ws, tz) = load(&args.workspace)?;
    ws.config.engine = super::check::engine_config(&args.engine, ws.config.engine.clone())?;
    let as_of = crate::util::parse_as_of(args.as_of.as_deref(), tz)?;
    // An as-of date the holiday notices do not cover yet (issue #23, 4;
    // #17, 11): say before any work that deadlines from it are provisional.
    // Not a refusal: on 1 January, before the new year's notice is
    // imported, the nightly sweep must still land, check and score.
    let cal = ws.calendar()?;
    let day = as_of.date_naive();
    if let Err(e) = cal.is_working_day(day) {
        eprintln!(
            "pdq sweep: warning: --as-of {day}: {e}; steps that count working days will fail"
        );
    } else if cal.is_provisional(day) {
        eprintln!(
            "pdq sweep: warning: --as-of {day}: no holiday notice for {} yet; working-day deadlines are provisional until `pdq calendar import FILE`",
            chrono::Datelike::year(&day)
        );
    }
    // An unknown selection is bad input: nothing runs, nothing is published.
    let selected = ws.select(&args.dataset)?.len();
    // A lapsed or draft text, or none chosen, is said before any work
    // (issue #17); the scorecards say it too.
    if let Some(w) = pipeline::score::step::profile_on(&ws, as_of.to_utc())?.warning() {
        eprintln!("pdq sweep: warning: {w}");
    }
    let rt = super::runtime(None)?;
    let cancel = Arc::new(AtomicBool::new(false));
    on_terminate(&rt, cancel.clone());
    let bar = if std::io::stderr().is_terminal() {
        let n = selected;
        let bar = indicatif::ProgressBar::new(n as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} 作业 sweep [{bar:30}] {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(bar)
    } else {
        None
    };
    let on_step: Option<jobs::sweep::OnStep> = bar.clone().map(|bar| {
        Arc::new(move |s: &pipeline::run::Step| {
            bar.set_message(format!("{} {} {}", s.dataset, s.stage, s.status));
            // A dataset is done after its last step (check, or land without rules / on failure).
            if s.stage == "check" || s.status != "ok" {
                bar.inc(1);
            }
        }) as jobs::sweep::OnStep
    });
    let opts = SweepOptions {
        as_of,
        trigger: "manual".into(),
        scheduled_for: None,
        only: args.dataset.clone(),
        cancel: cancel.clone(),
        actor: default_actor("manual"),
        on_step,
    };
    let result = rt.block_on(run_sweep(&ws, &opts));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    match result {
        Ok(r) => {
            rt.block_on(alert(&ws, Some(&r), None));
            let json = crate::util::wants_json(args.format.as_deref());
            print_report(&r, json);
            if r.status == "cancelled" {
                bail!(
                    "run {} stopped by a signal before every dataset was processed; run `pdq sweep` again to finish",
                    r.run_id
                );
            }
            // A dataset or step that failed does not stop the others; it is
            // reported here, one line each (a dataset by its first failed
            // step, the cause of any after it), and the exit code says so.
            let mut seen = std::collections::BTreeSet::new();
            let failed: Vec<String> = r
                .steps
                .iter()
                // A held-back snapshot left its dataset unrefreshed until
                // an operator accepts it: as much a failure to report.
                .filter(|s| matches!(s.status.as_str(), "failed" | "partial" | "held"))
                .filter(|s| s.dataset.is_empty() || seen.insert(s.dataset.clone()))
                .map(|s| {
                    let what = if s.dataset.is_empty() {
                        s.stage.clone()
                    } else {
                        format!("{} {}", s.dataset, s.stage)
                    };
                    let why = s.error.as_deref().unwrap_or("no reason recorded");
                    format!("{what} {}: {}", s.status, why.replace(['\n', '\r'], " "))
                })
                .collect();
            for line in &failed {
                eprintln!("pdq sweep: {line}");
            }
            // CONTRACT.md: 4 when a step or dataset failed, else 3 when a
            // rule of this run is at `fail`, else 0.
            Ok(if !failed.is_empty() {
                Outcome::PartialFailure
            } else if r.rules_at_fail > 0 {
                Outcome::RulesFailed
            } else {
                Outcome::Clean
            })
        }
        Err(e) => {
            rt.block_on(alert(&ws, None, Some(&e.to_string())));
            Err(e).context("the sweep could not run")
        }
    }
}

pub fn daemon(args: DaemonArgs) -> Result<Outcome> {
    let (ws, tz) = load(&args.workspace)?;
    let schedule = Schedule::parse(&ws.config.schedule.cron, tz).map_err(|e| {
        anyhow::anyhow!(
            "{}: schedule.cron: {e}",
            args.workspace.join("pdq.toml").display()
        )
    })?;
    let rt = super::runtime(None)?;
    let stop = Arc::new(AtomicBool::new(false));
    on_terminate(&rt, stop.clone());
    let lake = Lake::open(&ws.config.lake, &ws.dir)?;
    let audit = AuditLog::new(&ws.dir.join("audit"));
    audit.append(
        &jobs::audit::actor("daemon"),
        "daemon-start",
        &ws.dir.display().to_string(),
        serde_json::json!({"cron": schedule.expr()}),
    )?;
    tracing::info!(cron = schedule.expr(), "daemon started");
    let mut runs_done = 0u64;
    // Catch up, once, what was missed while the daemon was down.
    let mut pending: Option<(chrono::DateTime<Utc>, &str)> = rt
        .block_on(runs::last_scheduled(&lake))?
        .and_then(|last| {
            catch_up(
                &schedule,
                Some(last),
                Utc::now(),
                ws.config.schedule.max_catch_up,
            )
        })
        .map(|slot| (slot, "catch-up"));
    loop {
        if stop.load(Ordering::SeqCst) || args.max_runs.is_some_and(|m| runs_done >= m) {
            break;
        }
        let (slot, trigger) = match pending.take() {
            Some(p) => p,
            None => {
                let Some(next) = schedule.next_after(Utc::now()) else {
                    break;
                };
                tracing::info!(next = %next, "waiting for the next scheduled run");
                // Sleep in short steps so that SIGTERM is noticed promptly.
                while Utc::now() < next && !stop.load(Ordering::SeqCst) {
                    let left = (next - Utc::now()).to_std().unwrap_or_default();
                    std::thread::sleep(left.min(Duration::from_millis(500)));
                }
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                (next, "schedule")
            }
        };
        let as_of = slot.with_timezone(&tz).fixed_offset();
        let mut attempt = 0;
        loop {
            let opts = SweepOptions {
                as_of,
                trigger: trigger.into(),
                scheduled_for: Some(slot),
                only: vec![],
                cancel: stop.clone(),
                actor: default_actor(trigger),
                on_step: None,
            };
            // The workspace is re-read for every run: config edits apply
            // without a restart.
            let ws_now = Workspace::load(&args.workspace).unwrap_or_else(|_| ws.clone());
            match rt.block_on(run_sweep(&ws_now, &opts)) {
                Ok(r) => {
                    tracing::info!(run = %r.run_id, status = %r.status, failed = r.failed_datasets().len(), "sweep finished");
                    rt.block_on(alert(&ws_now, Some(&r), None));
                    break;
                }
                Err(e) if attempt < ws.config.schedule.retries && !stop.load(Ordering::SeqCst) => {
                    attempt += 1;
                    let wait = Duration::from_secs(5 * 2u64.pow(attempt));
                    tracing::error!(error = %e, attempt, wait_s = wait.as_secs(), "sweep could not run; retrying");
                    std::thread::sleep(wait);
                }
                Err(e) => {
                    tracing::error!(error = %e, "sweep could not run; giving up until the next slot");
                    rt.block_on(alert(&ws_now, None, Some(&e.to_string())));
                    break;
                }
            }
        }
        runs_done += 1;
    }
    audit.append(
        &jobs::audit::actor("daemon"),
        "daemon-stop",
        &ws.dir.display().to_string(),
        serde_json::json!({"runs": runs_done}),
    )?;
    tracing::info!(runs = runs_done, "daemon stopped");
    Ok(Outcome::Clean)
}

pub fn serve(args: crate::cli::ServeArgs) -> Result<Outcome> {
    let (ws, _) = load(&args.workspace)?;
    let state = jobs::serve::ServeState::new(&ws.dir, &ws.config.serve)?;
    let rt = super::runtime(None)?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let refresher = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(5)).await;
                refresher.refresh();
            }
        });
        // SIGHUP re-reads tokens.toml (and the site) now, as daemons do;
        // without a handler it would end the server.
        let reloader = state.clone();
        let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("cannot handle SIGHUP")?;
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading tokens.toml and the site");
                reloader.reload();
            }
        });
        outln!(
            "记分卡网站 Serving the scorecard site on http://{} (Ctrl-C to stop)",
            listener.local_addr()?
        );
        jobs::serve::serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(Outcome::Clean)
}

pub fn token(args: crate::cli::TokenArgs) -> Result<Outcome> {
    // A token belongs to a workspace and signs in as one of its
    // departments: a path that is no workspace, or a department it does not
    // know, is bad input (issue #23, 9), and nothing is written.
    let (ws, _) = load(&args.workspace)?;
    if let Some(department) = &args.department {
        let known: std::collections::BTreeSet<&str> = ws
            .config
            .departments
            .keys()
            .map(String::as_str)
            .chain(ws.datasets.iter().map(|d| d.department.as_str()))
            .collect();
        if !known.contains(department.as_str()) {
            bail!(
                "{}: no department `{department}` in this workspace (departments: {})",
                args.workspace.display(),
                known.into_iter().collect::<Vec<_>>().join(", ")
            );
        }
    }
    let path = args.workspace.join("tokens.toml");
    let mut file = jobs::serve::TokenFile::load(&path)?;
    let token = jobs::serve::new_token()?;
    file.token.push(jobs::serve::TokenEntry {
        role: if args.bureau { "bureau" } else { "department" }.into(),
        department: args.department.clone(),
        name: args.name.clone(),
        sha256: jobs::serve::hash_token(&token),
    });
    let text = format!(
        "# pdq 登录令牌（仅存哈希）/ sign-in tokens (hashes only). `pdq token` adds one.\n{}",
        toml::to_string(&file)?
    );
    crate::util::write_atomic(&path, text.as_bytes())?;
    // The token itself is shown once, here, and stored nowhere.
    outln!("{token}");
    eprintln!(
        "令牌已登记（只保存哈希） Token registered in {} (only its hash is kept); give it to its holder now.",
        path.display()
    );
    Ok(Outcome::Clean)
}

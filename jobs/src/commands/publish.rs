//! `pdq publish`: rebuilds a run's publication from the lake alone
//! (`pipeline::publish`), byte for byte what the sweep published when the
//! lake has not changed since. A publication becomes the current one
//! (`latest.json`, `site/`, `catalog/`) only when no newer run has been
//! published (`pipeline::publish::newest`).

use anyhow::{Context, Result, anyhow, bail};
use pipeline::land::Lake;
use pipeline::run;
use pipeline::workspace::Workspace;

use super::Outcome;
use crate::cli::PublishArgs;
use crate::util::outln;
use jobs::lock::{PUBLISH_LOCK, lock_dir, wait_lock};

pub fn run(args: PublishArgs) -> Result<Outcome> {
    let ws = Workspace::load(&args.workspace.dir)?;
    let lake = Lake::open(&ws.config.lake, &ws.dir).context("cannot open the lake")?;
    let rt = super::runtime(None)?;
    let runs = rt.block_on(run::runs(&lake))?;
    // A run that failed part-way (recorded `failed`) has no whole results.
    let finished: Vec<&run::Run> = runs
        .iter()
        .filter(|r| r.finished.as_ref().is_some_and(|f| f.status != "failed"))
        .collect();
    let Some(newest) = finished.iter().map(|r| r.started.run_id.as_str()).max() else {
        bail!(
            "{}: no finished run to publish: run `pdq sweep -w {}` first",
            ws.dir.display(),
            ws.dir.display()
        );
    };
    let id = args.run.as_deref().unwrap_or(newest);
    let Some(chosen) = finished.iter().find(|r| r.started.run_id == id) else {
        bail!(
            "no finished run {id} (see `pdq runs -w {}`)",
            ws.dir.display()
        );
    };
    let _lock = rt
        .block_on(wait_lock(
            &lock_dir(&ws.dir),
            PUBLISH_LOCK,
            std::time::Duration::from_secs(300),
        ))?
        .ok_or_else(|| {
            anyhow!("another publication is being written (lock {PUBLISH_LOCK}); try again")
        })?;
    let pipeline::publish::Published { dir, current } = rt
        .block_on(pipeline::publish::publish(
            &ws,
            &lake,
            id,
            chosen.started.as_of,
        ))
        .with_context(|| format!("cannot publish run {id}"))?;
    jobs::audit::AuditLog::new(&ws.dir.join("audit")).append(
        &jobs::audit::actor("cli:publish"),
        "publish",
        id,
        serde_json::json!({"run": id, "current": current, "dir": dir.display().to_string()}),
    )?;
    outln!(
        "已发布 Published run {id}: {}{}",
        dir.display(),
        if current { " (current)" } else { "" }
    );
    Ok(Outcome::Clean)
}

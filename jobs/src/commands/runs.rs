//! `pdq runs`: every run of the workspace, or one run's steps with what
//! each read and wrote.

use anyhow::{Result, bail};
use pipeline::land::Lake;
use pipeline::run as runs;

use super::Outcome;
use super::ops::load;
use crate::cli::RunsArgs;
use crate::util::outln;

pub fn run(args: RunsArgs) -> Result<Outcome> {
    let (ws, _) = load(&args.workspace)?;
    let rt = super::runtime(Some(1))?;
    let lake = Lake::open(&ws.config.lake, &ws.dir)?;
    let json = crate::util::wants_json(args.format.as_deref());
    match &args.run {
        Some(id) => {
            let steps = rt.block_on(runs::steps(&lake, id))?;
            if steps.is_empty() {
                bail!("no run `{id}` with recorded steps (see `pdq runs`)");
            }
            if json {
                outln!("{}", serde_json::to_string_pretty(&steps)?);
            } else {
                outln!(
                    "{:<34} {:<9} {:<10} {:>10} {:>8}  {}",
                    "数据集 dataset",
                    "阶段 stage",
                    "状态 status",
                    "行 rows",
                    "秒 s",
                    "原因 error"
                );
                for s in steps {
                    outln!(
                        "{:<34} {:<9} {:<10} {:>10} {:>8.2}  {}",
                        if s.dataset.is_empty() {
                            "(run)"
                        } else {
                            s.dataset.as_str()
                        },
                        s.stage,
                        s.status,
                        s.rows.map(|n| n.to_string()).unwrap_or_default(),
                        s.seconds,
                        s.error.as_deref().unwrap_or_default()
                    );
                    // What it read and wrote (table versions, deliveries,
                    // rule versions), when it says anything.
                    for (label, v) in [("输入 inputs", &s.inputs), ("输出 outputs", &s.outputs)]
                    {
                        if !matches!(v.as_str(), "" | "{}" | "[]") {
                            outln!("    {label}: {v}");
                        }
                    }
                }
            }
        }
        None => {
            let all = rt.block_on(runs::runs(&lake))?;
            if json {
                let v: Vec<serde_json::Value> = all
                    .iter()
                    .map(|r| serde_json::json!({"started": r.started, "finished": r.finished}))
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!(
                    "{:<24} {:<9} {:<26} {:<10} {:>4} {:>4}",
                    "运行 run",
                    "trigger",
                    "开始 started",
                    "状态 status",
                    "ok",
                    "fail"
                );
                for r in all {
                    let (status, ok, failed) = match &r.finished {
                        Some(f) => (f.status.clone(), f.datasets_ok, f.datasets_failed),
                        None => ("unfinished".into(), 0, 0),
                    };
                    outln!(
                        "{:<24} {:<9} {:<26} {:<10} {:>4} {:>4}",
                        r.started.run_id,
                        r.started.trigger,
                        r.started.at.to_rfc3339(),
                        status,
                        ok,
                        failed
                    );
                }
            }
        }
    }
    Ok(Outcome::Clean)
}

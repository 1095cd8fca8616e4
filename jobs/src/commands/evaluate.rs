//! `pdq evaluate` and `pdq correct`: the annual evaluation and hand
//! corrections of stored counts (`jobs::evaluation`).

use anyhow::Result;
use chrono::Utc;

use super::Outcome;
use super::ops::load;
use crate::util::outln;

pub fn evaluate(args: crate::cli::EvaluateArgs) -> Result<Outcome> {
    let (ws, tz) = load(&args.workspace)?;
    let as_of = match &args.as_of {
        Some(t) => Some(crate::util::parse_as_of(Some(t), tz)?.with_timezone(&Utc)),
        None => None,
    };
    let rt = super::runtime(None)?;
    let w = rt
        .block_on(jobs::evaluation::evaluate_year(
            &ws,
            args.year,
            as_of,
            &jobs::audit::actor("cli:evaluate"),
        ))
        .map_err(|e| anyhow::anyhow!(e))?;
    let json = crate::util::wants_json(args.format.as_deref());
    if json {
        outln!("{}", serde_json::to_string_pretty(&w.evaluation)?);
    } else {
        outln!(
            "{} 年度评估 evaluation {} ({} runs, table version {})",
            w.evaluation.year,
            w.evaluation.id,
            w.evaluation.runs,
            w.evaluation.table_version.unwrap_or(0)
        );
        for d in &w.evaluation.departments {
            outln!(
                "{:>3} {:<12} {:>7} {}",
                d.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
                d.department,
                d.score
                    .map(|s| format!("{s:.2}"))
                    .unwrap_or_else(|| "—".into()),
                d.grade.clone().unwrap_or_default()
            );
        }
    }
    eprintln!(
        "{} {}",
        if w.new {
            "报告 Report written:"
        } else {
            "与已有结果相同 Same inputs, same result:"
        },
        w.dir.display()
    );
    if let Some(old) = &w.replaces {
        eprintln!(
            "注意 Note: this result differs from the previous one for {} ({old}): its inputs (configuration, corrections or runs) changed; both are kept.",
            w.evaluation.year
        );
    }
    Ok(Outcome::Clean)
}

pub fn correct(args: crate::cli::CorrectArgs) -> Result<Outcome> {
    let (ws, _) = load(&args.workspace)?;
    let rt = super::runtime(Some(1))?;
    let c = pipeline::evaluate::Correction {
        run_id: args.run,
        dataset: args.dataset,
        rule: args.rule,
        evaluated: args.evaluated,
        failed: args.failed,
        reason: args.reason,
        by: jobs::audit::actor("cli:correct"),
        at: Utc::now(),
    };
    rt.block_on(jobs::evaluation::correct(&ws, &c))
        .map_err(|e| anyhow::anyhow!(e))?;
    outln!(
        "已记录更正 Correction recorded (and audited): {}/{}/{} → {}/{}",
        c.run_id,
        c.dataset,
        c.rule,
        c.evaluated,
        c.failed
    );
    Ok(Outcome::Clean)
}

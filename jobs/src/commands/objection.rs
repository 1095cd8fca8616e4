//! `pdq objection file|list|show|forward|answer|correct|check|close`:
//! objections to data and catalog entries (`pipeline::objection`), each
//! change recorded in the audit log. Every output is masked.

use anyhow::{Result, anyhow, bail};
use chrono::{DateTime, Utc};
use pipeline::objection::stage::{Desk, Filing};
use pipeline::objection::{Objection, Reporter, State};

use super::Outcome;
use super::ops::load;
use crate::cli::{ObjectionAction, ObjectionArgs};
use crate::util::{outln, parse_as_of, wants_json};
use jobs::audit::AuditLog;

/// `--at` / `--as-of`, or now (to the microsecond: what was just recorded
/// is seen).
fn time(text: Option<&str>, tz: chrono_tz::Tz) -> Result<DateTime<Utc>> {
    match text {
        None => Ok(Utc::now()),
        Some(_) => Ok(parse_as_of(text, tz)?.with_timezone(&Utc)),
    }
}

fn print_one(o: &Objection, format: Option<&str>, tz: chrono_tz::Tz) -> Result<()> {
    let o = o.masked();
    if wants_json(format) {
        outln!("{}", serde_json::to_string_pretty(&o)?);
        return Ok(());
    }
    outln!(
        "异议 objection {} — {} {} ({})",
        o.id,
        o.state_zh,
        o.state.as_str(),
        if o.overdue {
            "逾期 overdue"
        } else {
            "按期 on time"
        }
    );
    let subject = match (&o.dataset, &o.entry) {
        (Some(d), _) => format!("数据集 dataset {d}"),
        (_, Some(e)) => format!("目录条目 catalog entry {e}"),
        _ => String::new(),
    };
    outln!("  对象 about: {subject}");
    if let Some((c, v)) = &o.row {
        outln!("  行 row: {c} = {v}");
    }
    if let Some(f) = &o.field {
        outln!(
            "  字段 field: {f} = {}",
            o.value.as_deref().unwrap_or("(空 empty)")
        );
    }
    outln!("  问题 what: {}", o.what);
    outln!(
        "  提出 reporter: {} {}{}",
        o.reporter.zh(),
        o.reporter_department.as_deref().unwrap_or(""),
        o.contact
            .as_deref()
            .map(|c| format!(" ({c})"))
            .unwrap_or_default()
    );
    outln!("  责任部门 responsible: {}", o.responsible);
    if !o.notified.is_empty() {
        outln!(
            "  已通知使用单位 consumers notified: {}",
            o.notified.join(", ")
        );
    }
    for s in &o.steps {
        outln!(
            "  {} {}: from {} due {} done {} — {} [{}]",
            s.zh,
            s.step,
            s.from,
            s.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            s.done.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
            s.status,
            s.basis
        );
    }
    for e in &o.history {
        outln!(
            "  {} {:<9} {} {}{}",
            e.at.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S"),
            e.action.as_str(),
            e.actor,
            e.department.as_deref().unwrap_or(""),
            e.text
                .as_deref()
                .or(e.fixed_in.as_deref())
                .map(|t| format!(": {t}"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

fn audit(
    ws: &pipeline::workspace::Workspace,
    actor: &str,
    action: &str,
    o: &Objection,
) -> Result<()> {
    let last = o.history.last();
    AuditLog::new(&ws.dir.join("audit"))
        .append(
            actor,
            &format!("objection.{action}"),
            &o.id,
            serde_json::json!({
                "state": o.state.as_str(),
                "responsible": o.responsible,
                "dataset": o.dataset,
                "entry": o.entry,
                "seq": last.map(|e| e.seq),
                "at": last.map(|e| e.at),
            }),
        )
        .map(|_| ())
        .map_err(|e| anyhow!(e.to_string()))
}

pub fn run(args: ObjectionArgs) -> Result<Outcome> {
    let workspace = match &args.action {
        ObjectionAction::List { workspace, .. }
        | ObjectionAction::Show { workspace, .. }
        | ObjectionAction::Consumers { workspace, .. } => workspace,
        ObjectionAction::File { at, .. }
        | ObjectionAction::Forward { at, .. }
        | ObjectionAction::Answer { at, .. }
        | ObjectionAction::Correct { at, .. }
        | ObjectionAction::Check { at }
        | ObjectionAction::Notify { at, .. }
        | ObjectionAction::Close { at, .. } => &at.workspace,
    };
    let (ws, tz) = load(workspace)?;
    let desk = Desk::open(&ws).map_err(|e| anyhow!(e))?;
    let rt = super::runtime(Some(1))?;
    let actor = jobs::audit::actor("cli:objection");
    let fail = |e: pipeline::objection::ObjectionError| anyhow!(e);
    match args.action {
        ObjectionAction::File {
            dataset,
            entry,
            row,
            field,
            what,
            reporter,
            reporter_department,
            contact,
            at,
        } => {
            let row = match row {
                None => None,
                Some(r) => match r.split_once('=') {
                    Some((c, v)) if !c.trim().is_empty() => {
                        Some((c.trim().to_string(), v.trim().to_string()))
                    }
                    _ => bail!("--row `{r}`: expected COLUMN=VALUE"),
                },
            };
            let filing = Filing {
                dataset,
                entry,
                row,
                field,
                what,
                reporter: Some(Reporter::parse(&reporter).map_err(fail)?),
                reporter_department,
                contact,
            };
            let when = time(at.at.as_deref(), tz)?;
            let o = rt
                .block_on(desk.file(&filing, &actor, when))
                .map_err(fail)?;
            audit(&ws, &actor, "file", &o)?;
            eprintln!(
                "已受理 Objection filed: {} (responsible: {})",
                o.id, o.responsible
            );
            print_one(&o, at.format.as_deref(), tz)?;
        }
        ObjectionAction::List {
            department,
            dataset,
            state,
            overdue,
            as_of,
            format,
            ..
        } => {
            let as_of = time(as_of.as_deref(), tz)?;
            let state = state
                .as_deref()
                .map(State::parse)
                .transpose()
                .map_err(fail)?;
            let all = rt.block_on(desk.all(as_of)).map_err(fail)?;
            let shown: Vec<Objection> = all
                .into_iter()
                .filter(|o| department.as_ref().is_none_or(|d| &o.responsible == d))
                .filter(|o| {
                    dataset
                        .as_ref()
                        .is_none_or(|d| o.dataset.as_ref() == Some(d))
                })
                .filter(|o| state.is_none_or(|s| o.state == s))
                .filter(|o| !overdue || o.overdue)
                .map(|o| o.masked())
                .collect();
            if wants_json(format.as_deref()) {
                outln!("{}", serde_json::to_string_pretty(&shown)?);
            } else {
                outln!(
                    "异议 objections as of {} ({}):",
                    as_of.with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                    shown.len()
                );
                for o in &shown {
                    let next = o
                        .steps
                        .iter()
                        .find(|s| s.done.is_none())
                        .map(|s| {
                            format!(
                                "{} due {}{}",
                                s.step,
                                s.due.map(|d| d.to_string()).unwrap_or_else(|| "—".into()),
                                if s.is_overdue() {
                                    " 逾期 OVERDUE"
                                } else {
                                    ""
                                }
                            )
                        })
                        .unwrap_or_default();
                    outln!(
                        "{:<10} {:<10} {:<14} {:<28} {}",
                        o.id,
                        o.state.as_str(),
                        o.responsible,
                        o.dataset.as_deref().or(o.entry.as_deref()).unwrap_or(""),
                        next
                    );
                }
            }
        }
        ObjectionAction::Show {
            id, as_of, format, ..
        } => {
            let o = rt
                .block_on(desk.get(&id, time(as_of.as_deref(), tz)?))
                .map_err(fail)?;
            print_one(&o, format.as_deref(), tz)?;
        }
        ObjectionAction::Forward { id, to, at } => {
            let o = rt
                .block_on(desk.forward(&id, to.as_deref(), &actor, time(at.at.as_deref(), tz)?))
                .map_err(fail)?;
            audit(&ws, &actor, "forward", &o)?;
            print_one(&o, at.format.as_deref(), tz)?;
        }
        ObjectionAction::Answer {
            id,
            department,
            upheld,
            rejected,
            reason,
            at,
        } => {
            debug_assert!(upheld != rejected);
            let o = rt
                .block_on(desk.answer(
                    &id,
                    Some(&department),
                    upheld,
                    &reason,
                    &actor,
                    time(at.at.as_deref(), tz)?,
                ))
                .map_err(fail)?;
            audit(&ws, &actor, "answer", &o)?;
            print_one(&o, at.format.as_deref(), tz)?;
        }
        ObjectionAction::Correct {
            id,
            department,
            fixed_in,
            note,
            at,
        } => {
            let o = rt
                .block_on(desk.correct(
                    &id,
                    Some(&department),
                    &fixed_in,
                    note.as_deref(),
                    &actor,
                    time(at.at.as_deref(), tz)?,
                ))
                .map_err(fail)?;
            audit(&ws, &actor, "correct", &o)?;
            print_one(&o, at.format.as_deref(), tz)?;
        }
        ObjectionAction::Check { at } => {
            let when = time(at.at.as_deref(), tz)?;
            let done = rt.block_on(desk.check(&actor, when)).map_err(fail)?;
            for (id, action) in &done {
                let o = rt
                    .block_on(desk.get(id, Utc::now().max(when)))
                    .map_err(fail)?;
                audit(&ws, &actor, action.as_str(), &o)?;
            }
            if wants_json(at.format.as_deref()) {
                let v: Vec<serde_json::Value> = done
                    .iter()
                    .map(|(id, a)| serde_json::json!({"objection": id, "action": a}))
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!("复核 checked {} corrected objection(s)", done.len());
                for (id, a) in &done {
                    outln!("{id} {}", a.as_str());
                }
            }
        }
        ObjectionAction::Consumers {
            id, as_of, format, ..
        } => {
            let c = rt
                .block_on(desk.consumers(&id, time(as_of.as_deref(), tz)?))
                .map_err(fail)?;
            if wants_json(format.as_deref()) {
                outln!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                let day =
                    |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
                outln!(
                    "异议 objection {} — 收到错误数据的使用单位 consumers of the wrong data, {} ({}) to {} ({}):",
                    c.objection,
                    day(c.window.from),
                    c.window.from_what,
                    day(c.window.to),
                    c.window.to_what
                );
                for x in &c.consumers {
                    outln!(
                        "  {:<14} {} use(s), {} … {} — {}",
                        x.department,
                        x.uses,
                        day(x.first),
                        day(x.last),
                        if c.notified.contains(&x.department) {
                            "已通知 notified"
                        } else {
                            "未通知 not notified"
                        }
                    );
                }
                if c.consumers.is_empty() {
                    outln!("  (无 none in the usage log)");
                }
                outln!(
                    "  {}: {}",
                    if c.required {
                        "须通知 notification required"
                    } else {
                        "通知可选 notification optional"
                    },
                    c.basis
                );
            }
        }
        ObjectionAction::Notify {
            id,
            consumers,
            note,
            at,
        } => {
            let o = rt
                .block_on(desk.notify(
                    &id,
                    &consumers,
                    note.as_deref(),
                    &actor,
                    time(at.at.as_deref(), tz)?,
                ))
                .map_err(fail)?;
            audit(&ws, &actor, "notify", &o)?;
            print_one(&o, at.format.as_deref(), tz)?;
        }
        ObjectionAction::Close { id, note, at } => {
            let o = rt
                .block_on(desk.close(&id, note.as_deref(), &actor, time(at.at.as_deref(), tz)?))
                .map_err(fail)?;
            audit(&ws, &actor, "close", &o)?;
            print_one(&o, at.format.as_deref(), tz)?;
        }
    }
    Ok(Outcome::Clean)
}

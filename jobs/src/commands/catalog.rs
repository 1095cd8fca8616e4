//! `pdq catalog change record|list`: changes of law or function that start
//! the catalog-update clock (`pipeline::catalog::events`); each record is
//! also written to the audit log.

use anyhow::{Result, anyhow};
use chrono::NaiveDate;
use pipeline::catalog::events::{self, ChangeEvent, ClockState, EventKind};
use pipeline::catalog::store::CatalogState;
use pipeline::workspace::Workspace;

use super::Outcome;
use crate::cli::{CatalogAction, CatalogArgs, ChangeAction, WithdrawalAction};
use crate::util::{outln, parse_as_of, wants_json};

fn catalog(ws: &Workspace) -> Result<CatalogState> {
    super::catalog_state(ws)
}

pub fn run(args: CatalogArgs) -> Result<Outcome> {
    let action = match args.action {
        CatalogAction::Change { action } => action,
        CatalogAction::Review { action } => return super::catalog_review::run(action),
        CatalogAction::Withdrawal { action } => return withdrawal(action),
    };
    match action {
        ChangeAction::Record {
            workspace,
            department,
            date,
            kind,
            basis,
            entries,
        } => {
            let ws = Workspace::load(&workspace.dir)?;
            let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| anyhow!("--date: `{date}` is not a date; expected YYYY-MM-DD"))?;
            let kind = if kind == "law" {
                EventKind::Law
            } else {
                EventKind::Function
            };
            let event = ChangeEvent {
                department,
                date,
                kind,
                basis,
                entries,
            };
            let state = catalog(&ws)?;
            let path = events::record(&ws.dir, &event, &state)?;
            // The bureau's record starts deadlines: it is audited like an
            // objection's steps.
            super::audit_catalog_record(
                &ws,
                "catalog.change.record",
                &format!("{}@{}", event.department, event.date),
                &event,
            )?;
            let profile = ws.profile()?;
            let due = profile.catalog_update.due(date, &ws.calendar()?)?;
            outln!(
                "recorded {} {} of {} in {}: the catalog is due to follow by {due} ({})",
                event.kind.zh(),
                event.date,
                event.department,
                path.display(),
                events::citation(&profile)
            );
            Ok(Outcome::Clean)
        }
        ChangeAction::List {
            workspace,
            as_of,
            format,
        } => {
            let ws = Workspace::load(&workspace.dir)?;
            let tz = ws.tz();
            let today = parse_as_of(as_of.as_deref(), tz)?
                .with_timezone(&tz)
                .date_naive();
            let state = catalog(&ws)?;
            let list = events::load(&ws.dir, &state)?;
            let profile = ws.profile()?;
            let clocks = events::clocks(&list, &state, &profile, &ws.calendar()?, tz, today)?;
            if wants_json(format.as_deref()) {
                let out: Vec<serde_json::Value> = list
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        serde_json::json!({
                            "change": e,
                            "entries": clocks.iter().filter(|c| c.event == i).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(Outcome::Clean);
            }
            if list.is_empty() {
                outln!("no change recorded ({})", events::FILE);
            }
            for (i, e) in list.iter().enumerate() {
                outln!("{} {} {} — {}", e.date, e.department, e.kind.zh(), e.basis);
                for c in clocks.iter().filter(|c| c.event == i) {
                    let state = match c.state {
                        ClockState::Updated => "已更新 updated",
                        ClockState::UpdatedLate => "逾期更新 updated late",
                        ClockState::Pending => "待更新 pending",
                        ClockState::Overdue => "逾期 overdue",
                    };
                    outln!(
                        "  {} {} due {} updated {} — {state}",
                        c.key,
                        c.name.as_deref().unwrap_or(""),
                        c.due,
                        c.updated
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "—".into())
                    );
                }
            }
            Ok(Outcome::Clean)
        }
    }
}

/// `pdq catalog withdrawal record`: the bureau's record of a withdrawn
/// shared entry's replacement and the consumers told of it
/// (`pipeline::catalog::withdrawals`), audited like the other records.
fn withdrawal(action: WithdrawalAction) -> Result<Outcome> {
    let WithdrawalAction::Record {
        workspace,
        entry,
        replacement,
        notified,
        date,
    } = action;
    let ws = Workspace::load(&workspace.dir)?;
    let tz = ws.tz();
    let date = match date {
        Some(d) => NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
            .map_err(|_| anyhow!("--date: `{d}` is not a date; expected YYYY-MM-DD"))?,
        None => chrono::Utc::now().with_timezone(&tz).date_naive(),
    };
    let record = pipeline::catalog::withdrawals::Withdrawal {
        entry,
        date,
        replacement,
        notified,
    };
    let state = catalog(&ws)?;
    let path = pipeline::catalog::withdrawals::record(&ws.dir, &record, &state)?;
    super::audit_catalog_record(
        &ws,
        "catalog.withdrawal.record",
        &format!("{}@{}", record.entry, record.date),
        &record,
    )?;
    let profile = ws.profile()?;
    outln!(
        "recorded the withdrawal of {} in {} ({})",
        record.entry,
        path.display(),
        profile.quote("catalog.withdrawal")
    );
    Ok(Outcome::Clean)
}

//! `pdq catalog review record|list`: the bureau's reviews (审定) of
//! department catalogs (`pipeline::catalog::reviews`); each record is also
//! written to the audit log.

use anyhow::{Result, anyhow};
use chrono::NaiveDate;
use pipeline::catalog::reviews::{self, Outcome as ReviewOutcome, Review};
use pipeline::workspace::Workspace;

use super::Outcome;
use crate::cli::ReviewAction;
use crate::util::{outln, parse_as_of, wants_json};

pub fn run(action: ReviewAction) -> Result<Outcome> {
    match action {
        ReviewAction::Record {
            workspace,
            department,
            date,
            outcome,
            comments,
        } => {
            let ws = Workspace::load(&workspace.dir)?;
            let date = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d")
                .map_err(|_| anyhow!("--date: `{date}` is not a date; expected YYYY-MM-DD"))?;
            let review = Review {
                department,
                date,
                outcome: if outcome == "comments" {
                    ReviewOutcome::Comments
                } else {
                    ReviewOutcome::Approved
                },
                comments,
            };
            let state = super::catalog_state(&ws)?;
            let path = reviews::record(&ws.dir, &review, &state)?;
            super::audit_catalog_record(
                &ws,
                "catalog.review.record",
                &format!("{}@{}", review.department, review.date),
                &review,
            )?;
            outln!(
                "recorded the review of {}'s catalog on {} ({}) in {}",
                review.department,
                review.date,
                outcome,
                path.display()
            );
            Ok(Outcome::Clean)
        }
        ReviewAction::List {
            workspace,
            as_of,
            format,
        } => {
            let ws = Workspace::load(&workspace.dir)?;
            let tz = ws.tz();
            let today = parse_as_of(as_of.as_deref(), tz)?
                .with_timezone(&tz)
                .date_naive();
            let state = super::catalog_state(&ws)?;
            let list = reviews::load(&ws.dir, &state)?;
            let profile = ws.profile()?;
            let findings = reviews::overdue(
                &list,
                &state,
                &profile,
                &ws.calendar()?,
                tz,
                today,
                ws.bureau(),
            )?;
            if wants_json(format.as_deref()) {
                outln!(
                    "{}",
                    serde_json::to_string_pretty(
                        &serde_json::json!({"reviews": list, "findings": findings})
                    )?
                );
                return Ok(Outcome::Clean);
            }
            if profile.catalog_review.is_none() && profile.catalog_revision.is_none() {
                outln!(
                    "{} sets no review or revision deadline: nothing is checked",
                    profile.title
                );
            }
            if list.is_empty() {
                outln!("no review recorded ({})", reviews::FILE);
            }
            for r in &list {
                outln!(
                    "{} {} {:?}{}",
                    r.date,
                    r.department,
                    r.outcome,
                    r.comments
                        .as_deref()
                        .map(|c| format!(" — {c}"))
                        .unwrap_or_default()
                );
            }
            for f in &findings {
                outln!(
                    "逾期 overdue: {} ({}): {}",
                    f.check,
                    f.department,
                    f.message
                );
            }
            Ok(Outcome::Clean)
        }
    }
}

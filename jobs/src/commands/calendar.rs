//! `pdq calendar`: which years the holiday notices cover, and importing a
//! new year's notice (`pipeline::calendar::import`).

use anyhow::{Context, Result};
use pipeline::workspace::Workspace;

use super::Outcome;
use crate::cli::{CalendarAction, CalendarArgs};
use crate::util::outln;

pub fn run(args: CalendarArgs) -> Result<Outcome> {
    match args.action {
        CalendarAction::Show { workspace } => {
            let ws = Workspace::load(&workspace.dir)?;
            let cal = ws.calendar()?;
            match cal.last_official_year() {
                Some(last) => outln!(
                    "官方放假安排 official notices: up to {last}\n{}年起为暂定日历 provisional from {}: weekends and fixed-date holidays only (1 Jan, 1–2 May, 1–3 Oct)",
                    last + 1,
                    last + 1
                ),
                None => outln!("no holiday notice at all"),
            }
            Ok(Outcome::Clean)
        }
        CalendarAction::Import { file, workspace } => {
            let ws = Workspace::load(&workspace.dir)?;
            let cal = ws.calendar()?;
            let done = pipeline::calendar::import(&ws.dir, &file, &cal)
                .with_context(|| format!("cannot import {}", file.display()))?;
            // The new file must load with everything else the workspace has.
            ws.calendar()?;
            let years: Vec<String> = done.years.iter().map(|y| y.to_string()).collect();
            outln!(
                "imported {} ({}) as {}",
                file.display(),
                years.join(", "),
                done.path.display()
            );
            if !done.were_provisional.is_empty() {
                let years: Vec<String> = done
                    .were_provisional
                    .iter()
                    .map(|y| y.to_string())
                    .collect();
                outln!(
                    "deadlines in {} were provisional: the next `pdq sweep` recomputes them",
                    years.join(", ")
                );
            }
            Ok(Outcome::Clean)
        }
    }
}

//! `pdq profile list|show`: the jurisdiction profiles, their status on a
//! date, and every value with the article it comes from
//! (`pipeline::profile`).

use anyhow::{Result, bail};
use chrono::NaiveDate;
use pipeline::profile::{self, Source};

use super::Outcome;
use crate::cli::{ProfileAction, ProfileArgs};
use crate::util::outln;

fn day(as_of: Option<&str>) -> Result<NaiveDate> {
    match as_of {
        None => Ok(chrono::Local::now().date_naive()),
        Some(s) => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => Ok(d),
            Err(_) => bail!("--as-of `{s}`: expected a date, YYYY-MM-DD"),
        },
    }
}

pub fn run(args: ProfileArgs) -> Result<Outcome> {
    match args.action {
        ProfileAction::List { as_of, format } => {
            let day = day(as_of.as_deref())?;
            let mut rows = vec![];
            for id in profile::ids() {
                let p = profile::profile(id).map_err(anyhow::Error::msg)?;
                rows.push((p.id.clone(), p.name.clone(), p.title.clone(), p.status(day)));
            }
            if format.as_deref() == Some("json") {
                let v: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|(id, name, title, status)| {
                        serde_json::json!({"id": id, "jurisdiction": name, "title": title, "as_of": day, "status": status, "status_words": status.words()})
                    })
                    .collect();
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!("法规配置 profiles, status on {day}:");
                for (id, name, _, status) in &rows {
                    outln!("{id:<14} {name:<10} {}", status.words());
                }
            }
            Ok(Outcome::Clean)
        }
        ProfileAction::Show {
            name,
            as_of,
            format,
        } => {
            let p = profile::profile(&name).map_err(anyhow::Error::msg)?;
            let view = p.view(day(as_of.as_deref())?);
            if format.as_deref() == Some("json") {
                outln!("{}", serde_json::to_string_pretty(&view)?);
                return Ok(Outcome::Clean);
            }
            outln!("{} — {} ({})", view.id, view.title, view.jurisdiction);
            outln!("状态 status on {}: {}", view.as_of, view.status_words);
            outln!("条文 text: {}", view.text);
            for f in &view.fields {
                outln!("\n{} {} / {}: {}", f.field, f.zh, f.en, f.value);
                match &f.source {
                    Some(Source::Cited(c)) => {
                        for c in c {
                            outln!("  {}：“{}”", c.article, c.says);
                        }
                    }
                    Some(Source::NotInText { not_in_text }) => {
                        outln!("  条文未规定 not in the text: {not_in_text}");
                    }
                    None => outln!("  no source"),
                }
            }
            Ok(Outcome::Clean)
        }
    }
}

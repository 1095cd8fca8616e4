//! `pdq profile list|show`: the jurisdiction profiles, their status on a
//! date, and every value with the article it comes from
//! (`pipeline::profile`).

use anyhow::{Result, bail};
use chrono::NaiveDate;
use pipeline::onesource::registry::{AuthorityRegistry, Origin};
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
            workspace,
        } => {
            let p = profile::profile(&name).map_err(anyhow::Error::msg)?;
            let view = p.view(day(as_of.as_deref())?);
            // The 一数一源 list the text has (新疆, 兵团), item by item with
            // its article; none for the others (the bureau's is in its
            // workspace's authority.toml).
            let registry = match &workspace {
                Some(dir) => AuthorityRegistry::load(&p.id, dir)?,
                None => AuthorityRegistry::for_profile(&p.id)?,
            };
            if format.as_deref() == Some("json") {
                let mut v = serde_json::to_value(&view)?;
                if let Some(o) = v.as_object_mut() {
                    let items: Vec<serde_json::Value> = registry
                        .items
                        .iter()
                        .map(|i| {
                            let names: Vec<&str> = i
                                .authorities
                                .iter()
                                .map(|a| registry.department_name(a))
                                .collect();
                            serde_json::json!({"id": i.id, "name": i.name, "authorities": i.authorities,
                                "authority_names": names, "open_ended": i.open_ended, "basis": i.basis, "says": i.says, "origin": i.origin})
                        })
                        .collect();
                    o.insert(
                        "authority_registry".into(),
                        serde_json::json!({"provenance": registry.provenance(), "items": items}),
                    );
                }
                outln!("{}", serde_json::to_string_pretty(&v)?);
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
            outln!(
                "\n数源部门清单 authority registry (一数一源): {}",
                registry.provenance()
            );
            if registry.is_empty() {
                outln!(
                    "  条文未规定 not in the text: the bureau supplies its registry in the workspace's authority.toml (pdq profile show {} -w DIR)",
                    p.id
                );
            }
            for i in &registry.items {
                let names: Vec<&str> = i
                    .authorities
                    .iter()
                    .map(|a| registry.department_name(a))
                    .collect();
                let more = if i.open_ended { "等 (open list)" } else { "" };
                outln!("{} {} — {}{more}", i.basis, i.name, names.join("、"));
                match (&i.origin, i.article()) {
                    (Some(Origin::Text { .. }), Some(article)) => {
                        outln!("  {article}：“{}”", i.says)
                    }
                    (Some(o), _) => outln!("  {o}"),
                    (None, _) => outln!("  origin unknown"),
                }
            }
            Ok(Outcome::Clean)
        }
    }
}

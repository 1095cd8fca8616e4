//! `pdq rules [TYPE]`: the rule types from the registry, with their examples.

use crate::util::outln;
use anyhow::{Result, bail};
use quality_rules::rules;

use super::Outcome;
use crate::cli::RulesArgs;

pub fn run(args: RulesArgs) -> Result<Outcome> {
    match args.check {
        None => {
            for t in rules::all() {
                outln!("{:<18} {}", t.name(), t.summary());
            }
        }
        Some(name) => {
            let Some(t) = rules::lookup(&name) else {
                let names: Vec<&str> = rules::all().iter().map(|t| t.name()).collect();
                bail!(
                    "unknown rule type `{name}`; known types: {}",
                    names.join(", ")
                );
            };
            outln!(
                "{}\n\n{}\n\nparameters: {}\nexample:\n  - {}",
                t.name(),
                t.summary(),
                t.params().join(", "),
                t.example()
            );
        }
    }
    Ok(Outcome::Clean)
}

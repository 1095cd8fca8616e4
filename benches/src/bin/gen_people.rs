//! Generates the rule-engine benchmark dataset: N person rows with distinct
//! identifiers and about 2% planted defects, as one Parquet file
//! (`pdq_benches::people` describes the columns and the defects).
//!
//! ```text
//! gen_people --rows 10000000 --seed 2026 --out benches/data/people-10000000.parquet
//! ```
//!
//! Deterministic: the same arguments and code list give the same file.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Parser;
use pdq_benches::{divisions, people};

/// Generates the rule-engine benchmark's person dataset as one Parquet file.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Number of rows.
    #[arg(long, default_value_t = 10_000_000)]
    rows: u64,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Output Parquet file (written next to itself, then renamed into place).
    #[arg(long)]
    out: PathBuf,
    /// Rows per Parquet row group.
    #[arg(long, default_value_t = 1_000_000)]
    row_group_rows: usize,
    /// The GB/T 2260 code list (CSV: code,name,province,from_year,to_year).
    #[arg(long, default_value = "quality-rules/data/gbt2260-divisions.csv")]
    divisions: PathBuf,
    /// The as-of date the rules will run at (YYYY-MM-DD): later birth dates
    /// are planted defects, `updated_at` lies in the day before it.
    #[arg(long, default_value = "2026-11-22", value_parser = parse_date)]
    as_of: NaiveDate,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("expected a date YYYY-MM-DD, found `{s}` ({e})"))
}

fn run(args: &Args) -> Result<()> {
    let started = Instant::now();
    let codes = divisions::load(&args.divisions)?;
    let generator = people::People::new(
        people::Config {
            seed: args.seed,
            as_of: args.as_of,
        },
        &codes,
    );
    generator
        .write_parquet(args.rows, args.row_group_rows, &args.out)
        .with_context(|| format!("generating {} rows", args.rows))?;
    eprintln!(
        "wrote {} rows to {} in {:.1} s ({} current division codes)",
        args.rows,
        args.out.display(),
        started.elapsed().as_secs_f64(),
        codes.current.len()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_people: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arguments() {
        let a = Args::parse_from(["gen_people", "--rows", "5", "--out", "x.parquet"]);
        assert_eq!(a.rows, 5);
        assert_eq!(a.seed, 2026);
        assert_eq!(a.row_group_rows, 1_000_000);
        assert_eq!(a.as_of, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
        let a = Args::parse_from([
            "gen_people",
            "--out",
            "x.parquet",
            "--as-of",
            "2025-01-31",
            "--row-group-rows",
            "10",
            "--divisions",
            "d.csv",
        ]);
        assert_eq!(a.as_of, NaiveDate::from_ymd_opt(2025, 1, 31).unwrap());
        assert_eq!(a.divisions, PathBuf::from("d.csv"));
        assert!(
            Args::try_parse_from(["gen_people", "--out", "x", "--as-of", "31/01/2025"]).is_err()
        );
        assert!(Args::try_parse_from(["gen_people"]).is_err());
    }

    #[test]
    fn a_missing_code_list_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let a = Args::parse_from([
            "gen_people",
            "--rows",
            "10",
            "--out",
            dir.path().join("x.parquet").to_str().unwrap(),
            "--divisions",
            "/nonexistent/divisions.csv",
        ]);
        let err = format!("{:#}", run(&a).unwrap_err());
        assert!(err.contains("/nonexistent/divisions.csv"), "{err}");
    }
}

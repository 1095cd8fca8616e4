//! Normalisation throughput (issue #5 target: ≥ 500,000 records/s per core):
//! loads the `id_number`, `name` and `birth_date` columns of CSV files into
//! memory (not timed), then normalises every record on one thread: the
//! resident ID (trim, full width, lowercase x, 15→18, validation with its
//! reason), the name (traditional → simplified, separators) and the date.
//!
//! ```text
//! onesource_normalize --csv dept0.csv --csv dept1.csv [--repeat 3]
//! ```

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::Parser;
use pipeline::onesource::normalize::{normalize_date, normalize_name_into, normalize_resident_id};

/// Normalisation throughput on one core.
#[derive(Debug, Parser)]
struct Args {
    /// Input CSV files with id_number, name, birth_date columns.
    #[arg(long, required = true)]
    csv: Vec<PathBuf>,
    /// Timed passes over the records (the best is reported).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
}

fn run(args: Args) -> Result<()> {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for path in &args.csv {
        let mut rdr =
            csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
        let h = rdr.headers()?.clone();
        let col = |n: &str| {
            h.iter()
                .position(|x| x == n)
                .with_context(|| format!("{}: no column `{n}`", path.display()))
        };
        let (i, n, b) = (col("id_number")?, col("name")?, col("birth_date")?);
        for rec in rdr.records() {
            let rec = rec?;
            rows.push((
                rec.get(i).unwrap_or_default().to_string(),
                rec.get(n).unwrap_or_default().to_string(),
                rec.get(b).unwrap_or_default().to_string(),
            ));
        }
    }
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    let mut best = f64::INFINITY;
    let mut reasons: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut name = String::with_capacity(64);
    for pass in 0..args.repeat.max(1) {
        let t = Instant::now();
        let mut valid = 0u64;
        for (id, n, b) in &rows {
            match normalize_resident_id(id, as_of) {
                Ok(k) => {
                    valid += 1;
                    black_box(k.resident_key());
                }
                Err(e) if pass == 0 => *reasons.entry(e.as_str()).or_default() += 1,
                Err(_) => {}
            }
            name.clear();
            normalize_name_into(n, &mut name);
            black_box(&name);
            black_box(normalize_date(b));
        }
        best = best.min(t.elapsed().as_secs_f64());
        black_box(valid);
    }
    println!(
        "{}",
        serde_json::json!({
            "records": rows.len(),
            "best_s": best,
            "records_per_s_one_core": rows.len() as f64 / best,
            "set_aside": reasons,
        })
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onesource_normalize: {e:#}");
            ExitCode::from(1)
        }
    }
}

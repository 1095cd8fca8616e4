//! Runs pdq's entity resolution (`pipeline::onesource::resolve`) over CSV
//! files, for the accuracy benchmarks (FEBRL, the Chinese generator) and the
//! fuzzy-matching throughput run.
//!
//! ```text
//! onesource_match --config benches/onesource/febrl.toml --csv a.csv [--csv b.csv] \
//!     --id-column rec_id [--key-column id_number] [--truth-column entity] \
//!     [--clusters out.csv]
//! ```
//!
//! Each `--csv` is one source (for `link_only`). Field values are read from
//! the columns named like the configuration's fields. With `--key-column`,
//! values are normalised as resident IDs and valid ones become exact keys.
//! With `--truth-column`, blocking recall and the reduction ratio are
//! measured. Prints one JSON object; `--clusters` writes `id,cluster`.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Parser;
use pdq_benches::onesource_csv::{Columns, Loaded, Parallelism, load};
use pipeline::onesource::resolve::{MatchConfig, Records, candidate_pairs, resolve};

/// Entity resolution over CSV files.
#[derive(Debug, Parser)]
struct Args {
    /// Matching configuration (TOML, `MatchConfig`).
    #[arg(long)]
    config: PathBuf,
    /// Input CSV files (header row), one source each.
    #[arg(long, required = true)]
    csv: Vec<PathBuf>,
    /// The column that names each record in the output.
    #[arg(long)]
    id_column: String,
    /// A resident-ID column used as the exact key after normalisation.
    #[arg(long)]
    key_column: Option<String>,
    /// The true entity of each record (only for measuring blocking).
    #[arg(long)]
    truth_column: Option<String>,
    /// Where to write `id,cluster`.
    #[arg(long)]
    clusters: Option<PathBuf>,
    /// Read a field from a differently named column: `FIELD=COLUMN` (repeatable).
    #[arg(long, value_name = "FIELD=COLUMN")]
    column: Vec<String>,
    /// As-of date for resident-ID validation.
    #[arg(long, default_value = "2026-11-22")]
    as_of: NaiveDate,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("onesource_match: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(args: Args) -> Result<()> {
    // `persons`: pdq's built-in person matching, exactly as `pdq onesource` runs it.
    let config: MatchConfig = if args.config.as_os_str() == "persons" {
        MatchConfig::persons()
    } else {
        let text = std::fs::read_to_string(&args.config)
            .with_context(|| format!("reading {}", args.config.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing {}", args.config.display()))?
    };
    let renames: HashMap<String, String> = args
        .column
        .iter()
        .map(|kv| {
            kv.split_once('=')
                .map(|(f, c)| (f.to_string(), c.to_string()))
                .with_context(|| format!("--column {kv}: expected FIELD=COLUMN"))
        })
        .collect::<Result<_>>()?;
    let columns = Columns {
        renames,
        id: args.id_column.clone(),
        key: args.key_column.clone(),
        truth: args.truth_column.clone(),
        as_of: args.as_of,
    };
    let t0 = Instant::now();
    // Read on one thread, prepared on every core, in file and row order.
    let Loaded {
        records,
        ids,
        truth,
    } = load(&args.csv, &config, &columns, Parallelism::default())?;
    let load_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let res = resolve(&records, &config)?;
    let resolve_s = t1.elapsed().as_secs_f64();

    let mut out = serde_json::json!({
        "records": records.len(),
        "load_s": load_s,
        "resolve_s": resolve_s,
        "records_per_s": records.len() as f64 / (load_s + resolve_s),
        "stats": {
            "keyed": res.stats.keyed,
            "candidate_pairs": res.stats.candidate_pairs,
            "oversize_blocks": res.stats.oversize_blocks,
            "matched_pairs": res.stats.matched_pairs,
            "key_conflicts": res.stats.key_conflicts,
            "clusters": res.stats.clusters,
            "lambda": res.stats.lambda,
            "m_source": res.stats.m_source,
        },
        "example_evidence": res.evidence.first().map(|e| e.explain()),
    });
    if !truth.is_empty() {
        out["blocking"] = blocking_quality(&records, &config, &truth)?;
    }
    if let Some(path) = &args.clusters {
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        );
        writeln!(w, "id,cluster")?;
        for (id, c) in ids.iter().zip(&res.cluster) {
            writeln!(w, "{id},{c}")?;
        }
        w.flush()?;
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// Blocking recall (true pairs among the candidates / all true pairs) and
/// reduction ratio (1 − candidates / comparable pairs).
fn blocking_quality(
    records: &Records,
    config: &MatchConfig,
    truth: &[String],
) -> Result<serde_json::Value> {
    let pairs = candidate_pairs(records, config)?;
    let mut by_entity: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, t) in truth.iter().enumerate() {
        if t.is_empty() {
            bail!("record {i} has no truth value");
        }
        by_entity.entry(t).or_default().push(i);
    }
    // Pairs blocking must find: across sources when linking; and when keys
    // exist, only pairs with a record whose key is invalid or missing (two
    // valid keys are decided by the exact stage, never compared).
    let any_keys = records.key.iter().any(|&k| k != 0);
    let comparable = |a: usize, b: usize| {
        (!config.link_only || records.source[a] != records.source[b])
            && (!any_keys || records.key[a] == 0 || records.key[b] == 0)
    };
    let mut true_pairs = 0u64;
    for members in by_entity.values() {
        for (x, &a) in members.iter().enumerate() {
            for &b in &members[x + 1..] {
                if comparable(a, b) {
                    true_pairs += 1;
                }
            }
        }
    }
    let found = pairs
        .iter()
        .filter(|&&p| truth[(p >> 32) as usize] == truth[p as u32 as usize])
        .count() as u64;
    let n = records.len() as u64;
    let total = if config.link_only {
        let a = records.source.iter().filter(|&&s| s == 0).count() as u64;
        a * (n - a)
    } else {
        n * (n - 1) / 2
    };
    Ok(serde_json::json!({
        "candidate_pairs": pairs.len(),
        "true_pairs": true_pairs,
        "true_pairs_in_candidates": found,
        "recall": found as f64 / true_pairs.max(1) as f64,
        "reduction_ratio": 1.0 - pairs.len() as f64 / total.max(1) as f64,
    }))
}

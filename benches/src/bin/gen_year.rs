//! A year of nightly results for the evaluation benchmark: a workspace whose
//! lake holds `--days` runs × `--datasets` datasets × `--rules` rules of
//! stored counts (plus the two landing counts per dataset) for
//! `--departments` departments, and the run ledger that pins them, written
//! as `pdq sweep` writes them. Seeded: the same arguments, the same counts.
//!
//!     gen_year --out WS [--departments 60] [--datasets 2000] [--days 365] [--rules 5]

use std::path::PathBuf;

use anyhow::Result;
use chrono::{Duration, TimeZone, Utc};
use clap::Parser;
use pipeline::land::{Lake, LakeConfig};
use pipeline::run::RunEvent;
use pipeline::score::RuleCount;
use pipeline::score::store::RULE_RESULTS;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 60)]
    departments: usize,
    #[arg(long, default_value_t = 2000)]
    datasets: usize,
    #[arg(long, default_value_t = 365)]
    days: i64,
    #[arg(long, default_value_t = 5)]
    rules: usize,
    #[arg(long, default_value_t = 2026)]
    year: i32,
}

/// SplitMix64: a small seeded generator, enough for plausible counts.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn main() -> Result<()> {
    let a = Args::parse();
    std::fs::create_dir_all(&a.out)?;
    std::fs::write(
        a.out.join("pdq.toml"),
        "bureau = \"基准数据局\"\n[lake]\nlocation = \"lake\"\n",
    )?;
    let rt = tokio::runtime::Runtime::new()?;
    let lake = Lake::open(&LakeConfig::default(), &a.out)?;
    let dims = [
        "completeness",
        "validity",
        "consistency",
        "timeliness",
        "uniqueness",
    ];
    let mut rng = Rng(20261122);
    let start = Utc.with_ymd_and_hms(a.year, 1, 1, 18, 30, 0).unwrap() - Duration::days(1);
    let schema = pipeline::score::store::rule_count_schema();
    let mut events = vec![];
    let mut month: Vec<RuleCount> = vec![];
    let mut month_runs: Vec<RunEvent> = vec![];
    let mut rows = 0usize;
    for day in 0..a.days {
        let as_of = start + Duration::days(day);
        let run_id = format!("{}-bench", as_of.format("%Y%m%dT%H%M%SZ"));
        for ds in 0..a.datasets {
            let dept = format!("d{:02}", ds % a.departments);
            let dataset = format!("{dept}.ds{ds:04}");
            let mut push = |rule: String, dimension: &str, evaluated: i64, failed: i64| {
                month.push(RuleCount {
                    run_id: run_id.clone(),
                    as_of,
                    dataset: dataset.clone(),
                    department: dept.clone(),
                    rule,
                    dimension: dimension.into(),
                    check: "bench".into(),
                    evaluated,
                    failed,
                    status: if failed > 0 { "fail" } else { "pass" }.into(),
                    rules_version: "bench-v1".into(),
                    table_version: Some(day),
                });
            };
            for r in 0..a.rules {
                let evaluated = 10_000 + (rng.next() % 90_000) as i64;
                // Most rules pass most nights; some fail for a while.
                let failed = if rng.next().is_multiple_of(10) {
                    (rng.next() % 200) as i64
                } else {
                    0
                };
                push(format!("r{r}"), dims[r % dims.len()], evaluated, failed);
            }
            push(
                "_delivery".into(),
                "timeliness",
                1,
                rng.next().is_multiple_of(50) as i64,
            );
            push(
                "_quarantine".into(),
                "validity",
                50_000,
                (rng.next() % 20) as i64,
            );
        }
        let ev = |event: &str, status: &str| RunEvent {
            run_id: run_id.clone(),
            kind: "sweep".into(),
            trigger: "schedule".into(),
            scheduled_for: Some(as_of),
            as_of,
            event: event.into(),
            status: status.into(),
            at: as_of,
            datasets_ok: a.datasets as i64,
            datasets_failed: 0,
            error: None,
            results_version: None,
        };
        month_runs.push(ev("started", "running"));
        month_runs.push(ev("finished", "completed"));
        let next = start + Duration::days(day + 1);
        if next.format("%m").to_string() != as_of.format("%m").to_string() || day + 1 == a.days {
            rows += month.len();
            let v = rt.block_on(lake.append_records(RULE_RESULTS, &schema, &month, None))?;
            for e in &mut month_runs {
                if e.event == "finished" {
                    e.results_version = Some(v);
                }
            }
            events.append(&mut month_runs);
            month.clear();
            eprintln!("{}: {rows} counts", as_of.format("%Y-%m"));
        }
    }
    rt.block_on(async {
        for chunk in events.chunks(2) {
            for e in chunk {
                pipeline::run::record_event(&lake, e).await?;
            }
        }
        Ok::<_, pipeline::land::LandError>(())
    })?;
    println!(
        "{}",
        serde_json::json!({"runs": a.days, "counts": rows, "departments": a.departments, "datasets": a.datasets})
    );
    Ok(())
}

//! The sweep runs one data, one source (issue #5) after the checks: the
//! copying dataset's conflicts become `consistency` and `accuracy` counts,
//! and the masked report is published with the run.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use jobs::sweep::{SweepOptions, run_sweep};
use pipeline::score::RuleCount;
use quality_rules::ids::resident_id::check_digit;

fn dataset(
    ws: &std::path::Path,
    dept: &str,
    name: &str,
    header: &str,
    body: &str,
    onesource: &str,
) {
    std::fs::create_dir_all(ws.join("datasets").join(dept)).unwrap();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(
        ws.join(format!("in/{name}.csv")),
        format!("{header}\n{body}"),
    )
    .unwrap();
    let mut toml = format!(
        "mode = \"full\"\n[source]\nkind = \"file\"\npath = \"in/{name}.csv\"\n{onesource}\n"
    );
    for c in header.split(',') {
        write!(toml, "[[columns]]\nname = \"{c}\"\ntype = \"string\"\n").unwrap();
    }
    std::fs::write(
        ws.join("datasets").join(dept).join(format!("{name}.toml")),
        toml,
    )
    .unwrap();
}

#[test]
fn issue_5_sweep_counts_conflicts_against_the_copying_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let ws_dir = dir.path();
    std::fs::write(ws_dir.join("pdq.toml"), "profile = \"xinjiang-2023\"\n").unwrap();
    let (mut g, mut m, mut r) = (String::new(), String::new(), String::new());
    for p in 0..60u32 {
        let first17 = format!(
            "650102{}{:02}{:02}{:03}",
            1950 + p % 40,
            1 + p % 12,
            1 + p % 28,
            100 + p
        );
        let id = format!(
            "{first17}{}",
            check_digit(first17.as_bytes()).unwrap() as char
        );
        let status = if p % 3 == 0 { "10" } else { "20" };
        writeln!(g, "{id},人{p}").unwrap();
        writeln!(m, "{id},{status}").unwrap();
        if p % 2 == 0 {
            let copy = if p % 10 == 0 { "40" } else { status };
            writeln!(r, "{id},{copy}").unwrap();
        }
    }
    let os = "[onesource]\nkey = \"id_number\"";
    dataset(
        ws_dir,
        "gongan",
        "household",
        "id_number,name",
        &g,
        &format!("{os}\nname = \"name\""),
    );
    dataset(
        ws_dir,
        "minzheng",
        "marriage",
        "id_number,marital_status",
        &m,
        os,
    );
    dataset(ws_dir, "renshe", "insured", "id_number,hyzk", &r, os);
    let ws = pipeline::workspace::Workspace::load(ws_dir).unwrap();
    let opts = SweepOptions {
        as_of: chrono::DateTime::parse_from_rfc3339("2026-11-22T02:00:00+08:00").unwrap(),
        trigger: "manual".into(),
        scheduled_for: None,
        only: vec![],
        cancel: Arc::new(AtomicBool::new(false)),
        actor: "test".into(),
        on_step: None,
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let report = rt.block_on(run_sweep(&ws, &opts)).unwrap();
    let step = report
        .steps
        .iter()
        .find(|s| s.stage == "onesource")
        .expect("a onesource step");
    assert_eq!(step.status, "ok", "{step:?}");
    let lake = pipeline::land::Lake::open(&ws.config.lake, ws_dir).unwrap();
    let counts: Vec<RuleCount> = rt
        .block_on(lake.read_records(
            pipeline::score::store::RULE_RESULTS,
            Some("rule LIKE '_onesource%'"),
            "dataset, rule",
        ))
        .unwrap();
    let got: Vec<(String, String, i64, i64)> = counts
        .iter()
        .map(|c| {
            (
                c.dataset.clone(),
                c.dimension.clone(),
                c.evaluated,
                c.failed,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("renshe.insured".to_string(), "accuracy".to_string(), 30, 6),
            (
                "renshe.insured".to_string(),
                "consistency".to_string(),
                30,
                6
            ),
        ]
    );
    let published = report.published.expect("published");
    let text = std::fs::read_to_string(published.join("onesource.json")).unwrap();
    assert!(text.contains("\"conflicts\": 6"), "{text}");
    assert!(!text.contains("65010219"), "unmasked identifier in {text}");
    let leaks: Vec<String> = pipeline::leak::LeakScanner::new()
        .scan_text("onesource.json", &text)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(leaks.is_empty(), "identifiers in onesource.json: {leaks:?}");
}

//! The demo bureau end to end: every dataset, in every format, checked by the
//! engine must give exactly the counts the generator planted (its own
//! bookkeeping, an oracle independent of the engine), and nothing published
//! may contain a full identifier (in any written form) or a person's name.

use pipeline::leak::LeakScanner;
use pipeline::{CheckOptions, check_paths};
use quality_rules::RuleFile;

#[test]
fn demo_results_match_the_planted_defects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bureau = pipeline::demo::generate(dir.path()).expect("demo generates");
    assert!(bureau.departments.len() >= 5, "at least five departments");
    let opts = CheckOptions::new(bureau.as_of);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // Every person of the demo's population, by name and in any written form of their ID.
    let scanner = LeakScanner::with_names(bureau.persons.iter().map(|p| p.name.as_str()));
    let mut mismatches = Vec::new();
    let mut checks_seen = std::collections::BTreeSet::new();
    for ds in &bureau.datasets {
        let rules = RuleFile::load(&ds.rules).expect("demo rules parse");
        let report = rt
            .block_on(check_paths(&ds.data, &rules, &opts))
            .unwrap_or_else(|e| panic!("{}: {e}", ds.name));
        for r in &report.results {
            checks_seen.insert(r.check);
            match ds.expected.get(&r.id) {
                Some(want) if (want.evaluated, want.failed) == (r.evaluated, r.failed) => {}
                Some(want) => mismatches.push(format!(
                    "{}/{}: expected evaluated={} failed={}, engine evaluated={} failed={}",
                    ds.name, r.id, want.evaluated, want.failed, r.evaluated, r.failed
                )),
                None => mismatches.push(format!(
                    "{}/{}: no expected count from the generator",
                    ds.name, r.id
                )),
            }
        }
        let json = report.to_json();
        let leaks: Vec<String> = scanner
            .scan_text(&ds.name, &json)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            leaks.is_empty(),
            "a full identifier or a name in the published JSON: {leaks:?}"
        );
    }
    assert!(
        mismatches.is_empty(),
        "engine and generator disagree:\n{}",
        mismatches.join("\n")
    );
    for check in [
        "not_null",
        "cn_resident_id",
        "cn_uscc",
        "cn_division_code",
        "regex",
        "in_set",
        "range",
        "unique",
        "expression",
        "reference",
        "freshness",
        "row_count",
    ] {
        assert!(
            checks_seen.iter().any(|k| *k == check),
            "the demo never uses `{check}`"
        );
    }
}

/// The demo's extracts land through the ingest path: every record of every
/// file is read once and either landed or quarantined, and the typed lake
/// table holds exactly the landed rows.
#[test]
fn demo_extracts_land_with_every_row_accounted_for() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bureau = pipeline::demo::generate(&dir.path().join("demo")).expect("demo generates");
    let ws = pipeline::workspace::Workspace::load(&bureau.root).expect("demo workspace loads");
    assert_eq!(ws.datasets.len(), bureau.datasets.len());
    let lake = pipeline::land::Lake::open(&ws.config.lake, &ws.dir).expect("lake");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let opts = CheckOptions::new(bureau.as_of);
    let mut quarantined = 0;
    for d in &ws.datasets {
        let records = rt
            .block_on(pipeline::land::land_dataset(&lake, d, &ws.land_options()))
            .unwrap_or_else(|e| panic!("{}: {e}", d.id()));
        let demo = bureau
            .datasets
            .iter()
            .find(|b| b.name == d.name)
            .expect("same datasets");
        // Rows in the delivered files, as the check engine counts them.
        let rules = RuleFile::load(&demo.rules).expect("rules");
        let rows = rt
            .block_on(check_paths(&demo.data, &rules, &opts))
            .expect("check")
            .rows;
        let read: i64 = records.iter().map(|r| r.rows_read).sum();
        let landed: i64 = records.iter().map(|r| r.rows_landed).sum();
        let q: i64 = records.iter().map(|r| r.rows_quarantined).sum();
        assert_eq!(read as u64, rows, "{}: every record read", d.id());
        assert_eq!(read, landed + q, "{}: read = landed + quarantined", d.id());
        let in_lake = rt
            .block_on(lake.sql(&[("t", &d.data_path())], "SELECT count(*) FROM t"))
            .expect("lake reads");
        let n = in_lake[0]
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .expect("count")
            .value(0);
        assert_eq!(n, landed, "{}", d.id());
        quarantined += q;
    }
    // The birth certificates carry weights written as 不详 in a number column.
    assert!(quarantined > 0, "the demo shows quarantine at work");
}

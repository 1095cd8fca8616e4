//! Nothing the bureau publishes shows a person's identifier or name, in any
//! form (issue #18). The demo bureau plants identifiers written with spaces,
//! hyphens, dots, zero-width and ideographic spaces and full-width digits,
//! and persons' names under `单位联系人` and `企业法定代表人`; it runs through
//! the real binary — `pdq demo` (land, check, one data one source, score,
//! publish), `pdq evaluate`, `pdq check` in every format, `pdq runs` — and
//! every file published and everything printed (logs included) goes through
//! the leak scanner, looking for every person the generator made.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use pipeline::leak::{Leak, LeakKind, LeakScanner};
use pipeline::mask::IdKind;

fn pdq(args: &[&str]) -> Output {
    common::home_bin("leaks-home")
        .args(args)
        .output()
        .expect("pdq runs")
}

fn ran(what: &str, o: &Output, codes: &[i32]) {
    assert!(
        o.status.code().is_some_and(|c| codes.contains(&c)),
        "{what}: exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The leaks by source and kind, then the first few of each (all masked).
fn report(leaks: &[Leak]) -> String {
    let mut by: std::collections::BTreeMap<(String, String), Vec<&Leak>> = Default::default();
    for l in leaks {
        by.entry((l.source.clone(), l.kind.to_string()))
            .or_default()
            .push(l);
    }
    let mut out = format!("{} leaks (masked here):", leaks.len());
    for ((source, kind), list) in &by {
        out += &format!("\n{source}: {} × {kind}", list.len());
        for l in list.iter().take(3) {
            out += &format!("\n    {l}");
        }
    }
    out
}

#[test]
fn nothing_published_or_printed_shows_an_identifier_or_a_name() {
    let dir = tempfile::tempdir().unwrap();
    // The generator's own people: what must not appear. `pdq demo` writes
    // the same bureau (the generator is deterministic).
    let oracle = pipeline::demo::generate(&dir.path().join("oracle")).unwrap();
    let scanner = LeakScanner::with_names(oracle.persons.iter().map(|p| p.name.as_str()));

    // The planted values are there to leak: the market entities' extract
    // holds every kind, written with separators.
    let extract = oracle
        .root
        .join("departments/shichang/market_entities.json");
    let raw = scanner.scan_file(&extract).unwrap().unwrap();
    for kind in [
        LeakKind::Id(IdKind::ResidentId),
        LeakKind::Id(IdKind::Uscc),
        LeakKind::Id(IdKind::Mobile),
        LeakKind::Id(IdKind::BankCard),
        LeakKind::Name,
    ] {
        assert!(
            raw.iter().any(|l| l.kind == kind),
            "the demo plants a {kind}"
        );
    }
    let text = std::fs::read_to_string(&extract).unwrap();
    for written in [
        "\u{200B}",
        "\u{3000}",
        "\u{FF0E}",
        "１",
        "单位联系人",
        "企业法定代表人",
    ] {
        assert!(text.contains(written), "the demo plants {written:?}");
    }

    let root = dir.path().join("demo");
    let w = root.to_str().unwrap();
    let mut printed: Vec<(String, Output)> = Vec::new();
    let o = pdq(&["-v", "demo", "--out", w]);
    ran("pdq demo", &o, &[0]);
    printed.push(("pdq demo".into(), o));
    let o = pdq(&[
        "-v", "evaluate", "-w", w, "--year", "2026", "--format", "json",
    ]);
    ran("pdq evaluate", &o, &[0]);
    printed.push(("pdq evaluate".into(), o));
    for format in ["json", "table", "html"] {
        let o = pdq(&[
            "-v",
            "check",
            "--data",
            root.join("departments/shichang/market_entities.json")
                .to_str()
                .unwrap(),
            "--rules",
            root.join("rules/market_entities.yaml").to_str().unwrap(),
            "--as-of",
            "2026-11-20 08:00:00",
            "--format",
            format,
        ]);
        ran("pdq check", &o, &[0, 3]);
        printed.push((format!("pdq check --format {format}"), o));
    }
    for args in [
        vec!["runs", "-w", w],
        vec!["runs", "-w", w, "--format", "json"],
    ] {
        let o = pdq(&args);
        ran("pdq runs", &o, &[0]);
        printed.push((args.join(" "), o));
    }

    let mut leaks: Vec<Leak> = Vec::new();
    for (what, o) in &printed {
        leaks.extend(scanner.scan_text(
            &format!("{what} (stdout)"),
            &String::from_utf8_lossy(&o.stdout),
        ));
        leaks.extend(scanner.scan_text(
            &format!("{what} (stderr)"),
            &String::from_utf8_lossy(&o.stderr),
        ));
    }
    let mut scanned: Vec<PathBuf> = Vec::new();
    let mut unread: Vec<PathBuf> = Vec::new();
    for sub in ["published", "results"] {
        let scan = scanner.scan_dir(&root.join(sub)).unwrap();
        leaks.extend(scan.leaks);
        scanned.extend(scan.scanned);
        unread.extend(scan.unread);
    }
    let summary = root.join("summary.html");
    leaks.extend(scanner.scan_file(&summary).unwrap().unwrap());

    // Everything published was read: results with their samples, the site,
    // scorecard exports, the catalog in every format, one data one source,
    // the evaluation. Only a PDF printed from a scanned HTML report is not.
    let has = |end: &str| scanned.iter().any(|p| p.to_string_lossy().ends_with(end));
    for end in [
        "results/market_entities.json",
        "site/index.html",
        "site/dataset/shichang.market_entities.html",
        "exports/scorecards.xlsx",
        "exports/rules.csv",
        "catalog/catalog.xlsx",
        "catalog/dcat.jsonld",
        "catalog/catalog.csv",
        "onesource.json",
        "report.html",
        "evaluation.json",
    ] {
        assert!(has(end), "{end} was published and scanned");
    }
    assert!(
        unread
            .iter()
            .all(|p| p.extension().is_some_and(|e| e == "pdf")),
        "files the scanner cannot read: {unread:?}"
    );

    // The planted rows reached the published samples (masked).
    let results: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("results/market_entities.json")).unwrap(),
    )
    .unwrap();
    for rule in [
        "rep_name",
        "contact_name",
        "contact_phone",
        "rep_id",
        "code_valid",
    ] {
        let r = results["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == rule)
            .unwrap_or_else(|| panic!("{rule} in the results"));
        assert_eq!(r["samples"].as_array().map(Vec::len), Some(10), "{rule}");
    }

    assert!(leaks.is_empty(), "{}", report(&leaks));
}

/// The scanner over the demo's own extracts finds the persons it plants:
/// names of both kinds and IDs, by file and line, and shows them masked.
#[test]
fn the_scanner_finds_the_demo_persons_in_the_raw_extracts() {
    let dir = tempfile::tempdir().unwrap();
    let bureau = pipeline::demo::generate(&dir.path().join("demo")).unwrap();
    let scanner = LeakScanner::with_names(bureau.persons.iter().map(|p| p.name.as_str()));
    let csv = Path::new(&bureau.root).join("departments/zhujian/housing_provident_fund/part-1.csv");
    let leaks = scanner.scan_file(&csv).unwrap().unwrap();
    assert!(
        leaks
            .iter()
            .any(|l| l.kind == LeakKind::Name && l.line == 2)
    );
    assert!(
        leaks
            .iter()
            .any(|l| l.kind == LeakKind::Id(IdKind::ResidentId) && l.line == 2)
    );
    // Shown masked: no name or ID of the population in any message.
    let messages = report(&leaks);
    assert!(scanner.scan_text("messages", &messages).is_empty());
}

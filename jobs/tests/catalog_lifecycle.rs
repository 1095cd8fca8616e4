//! The catalog's life cycle through the real binary (issue #21, 5): a
//! withdrawn shared entry with consumers in the usage log (新疆 第二十四条)
//! and the yearly adjustment of the open catalog (吴忠 第三十条). Every bad
//! record is refused with one line and changes nothing; no operator's
//! name is ever shown.

use std::path::Path;
use std::process::Output;

use pipeline::leak::{LeakKind, LeakScanner};

mod common;

const OPERATORS: [&str; 3] = ["王建国", "李秀英", "赵志强"];

fn pdq(args: &[&str], ws: &Path) -> Output {
    common::keyed_bin("audit-catalog-lifecycle")
        .args(args)
        .arg("-w")
        .arg(ws)
        .output()
        .expect("pdq runs")
}

/// Runs and must succeed; stdout and stderr name no operator.
fn ok(args: &[&str], ws: &Path) -> Output {
    let o = pdq(args, ws);
    assert_eq!(
        o.status.code(),
        Some(0),
        "pdq {args:?}: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    let scanner = LeakScanner::with_names(OPERATORS);
    for (what, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        // Names only: the demo's harvest output carries its own (masked)
        // identifiers, which other tests scan.
        let leaks: Vec<_> = scanner
            .scan_text(what, &text)
            .into_iter()
            .filter(|l| l.kind == LeakKind::Name)
            .collect();
        assert!(
            leaks.is_empty(),
            "pdq {args:?} shows a name on {what}: {leaks:?}"
        );
    }
    o
}

/// Runs and must be refused (exit 1) with one line naming `words`.
fn refused(args: &[&str], ws: &Path, words: &[&str]) {
    let o = pdq(args, ws);
    let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
    assert_eq!(
        o.status.code(),
        Some(1),
        "pdq {args:?} must be refused: {err}"
    );
    assert_eq!(err.lines().count(), 1, "pdq {args:?}: one line\n{err}");
    assert!(
        words.iter().all(|w| err.contains(w)),
        "pdq {args:?}: expected a line naming {words:?}\n{err}"
    );
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

#[test]
fn issue_21_a_withdrawn_shared_entry_with_consumers_needs_its_replacement_and_notice() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    pipeline::demo::generate(&root).unwrap();
    let first = json(&ok(
        &["harvest", "--as-of", "2026-09-01", "--format", "json"],
        &root,
    ));
    assert_eq!(first["version"], 1);
    // 社会组织登记 (portal mz-0002, A0102-0002, 无条件共享) used by two departments.
    std::fs::write(
        root.join("usage.csv"),
        format!(
            "使用时间,使用部门,资源代码,操作人\n2026-09-10 09:00,gongan,A0102-0002,{}\n2026-09-11 09:00,renshe,A0102-0002,{}\n",
            OPERATORS[0], OPERATORS[1]
        ),
    )
    .unwrap();
    let r = json(&ok(
        &[
            "usage",
            "import",
            root.join("usage.csv").to_str().unwrap(),
            "--format",
            "json",
        ],
        &root,
    ));
    assert_eq!(r["landed"], 2, "{r}");
    // The portal stops publishing it (one of its four entries: more than
    // the default 20% a harvest may withdraw, so the bureau allows it).
    let portal = root.join("catalogs/portal.toml");
    let t = std::fs::read_to_string(&portal).unwrap();
    std::fs::write(&portal, format!("max_withdraw_share = 0.5\n{t}")).unwrap();
    let export = root.join("catalogs/portal-export.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    doc["data"]["list"]
        .as_array_mut()
        .unwrap()
        .retain(|e| e["id"] != "mz-0002");
    std::fs::write(&export, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let withdrawn = |day: &str| -> Vec<serde_json::Value> {
        let h = json(&ok(&["harvest", "--as-of", day, "--format", "json"], &root));
        h["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "withdrawn_with_consumers")
            .cloned()
            .collect()
    };
    let f = withdrawn("2026-10-01");
    assert_eq!(f.len(), 1, "{f:?}");
    let m = f[0]["message"].as_str().unwrap();
    assert!(
        m.contains("gongan, renshe")
            && m.contains("no replacement is named")
            && m.contains("第二十四条"),
        "{m}"
    );
    // Bad records are refused in one line and write nothing.
    refused(
        &[
            "catalog",
            "withdrawal",
            "record",
            "portal:NOPE",
            "--replacement",
            "A0102-0001",
        ],
        &root,
        &["catalog-withdrawals.toml", "`portal:NOPE`"],
    );
    refused(
        &[
            "catalog",
            "withdrawal",
            "record",
            "A0102-0002",
            "--replacement",
            "Z9999",
        ],
        &root,
        &["`Z9999`"],
    );
    assert!(!root.join("catalog-withdrawals.toml").exists());
    // The replacement (婚姻登记, 有条件共享, in force) and one consumer told.
    ok(
        &[
            "catalog",
            "withdrawal",
            "record",
            "A0102-0002",
            "--replacement",
            "A0102-0001",
            "--notified",
            "gongan",
            "--date",
            "2026-10-02",
        ],
        &root,
    );
    let f = withdrawn("2026-10-02");
    let m = f[0]["message"].as_str().unwrap();
    assert!(
        m.contains("consumers not notified: renshe") && !m.contains("no replacement"),
        "{m}"
    );
    refused(
        &[
            "catalog",
            "withdrawal",
            "record",
            "A0102-0002",
            "--notified",
            "gongan",
        ],
        &root,
        &["`gongan` was already recorded as notified"],
    );
    ok(
        &[
            "catalog",
            "withdrawal",
            "record",
            "A0102-0002",
            "--notified",
            "renshe",
            "--date",
            "2026-10-03",
        ],
        &root,
    );
    assert!(withdrawn("2026-10-03").is_empty());
}

#[test]
fn issue_21_a_year_without_an_open_catalog_version_is_a_finding_under_wuzhong() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    pipeline::demo::generate(&root).unwrap();
    let set_profile = |p: &str| {
        let path = root.join("pdq.toml");
        let t = std::fs::read_to_string(&path).unwrap();
        let t = ["xinjiang-2023", "wuzhong-2024"].iter().fold(t, |t, from| {
            t.replace(
                &format!("profile = \"{from}\""),
                &format!("profile = \"{p}\""),
            )
        });
        std::fs::write(&path, t).unwrap();
    };
    set_profile("wuzhong-2024");
    json(&ok(
        &["harvest", "--as-of", "2024-03-01", "--format", "json"],
        &root,
    ));
    let adjust = |day: &str| -> Vec<String> {
        let h = json(&ok(&["harvest", "--as-of", day, "--format", "json"], &root));
        h["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check"] == "open_catalog_not_adjusted")
            .map(|f| f["message"].as_str().unwrap().to_string())
            .collect()
    };
    // 2025 passed with no change to the open catalog.
    let f = adjust("2026-03-01");
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].contains("in 2025") && f[0].contains("第三十条") && f[0].contains("征求意见稿"),
        "{}",
        f[0]
    );
    // 新疆 sets no period: nothing.
    set_profile("xinjiang-2023");
    assert!(adjust("2026-03-02").is_empty());
}

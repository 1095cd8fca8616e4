//! `pdq catalog change record|list` on the demo bureau (新疆 profile:
//! 第十一条, 15 working days): a change of law starts the catalog-update
//! clock; an unknown entry is refused in one line.

use std::process::{Command, Output};

fn pdq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pdq"))
        .args(args)
        .env_remove("RUST_LOG")
        .env_remove("PDQ_WORKSPACE")
        .env_remove("PDQ_AUDIT_KEY_FILE")
        .env_remove("PDQ_AUDIT_ANCHOR_FILE")
        .output()
        .expect("pdq runs")
}

fn ok_json(o: &Output) -> serde_json::Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

#[test]
fn a_recorded_change_of_law_starts_the_catalog_update_clock() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    pipeline::demo::generate(&root).unwrap();
    let w = root.to_str().unwrap();
    let first = ok_json(&pdq(&[
        "harvest",
        "-w",
        w,
        "--as-of",
        "2026-09-01",
        "--format",
        "json",
    ]));
    assert_eq!(first["version"], 1);
    let record = |entry: &str| {
        pdq(&[
            "catalog",
            "change",
            "record",
            "-w",
            w,
            "--department",
            "gongan",
            "--date",
            "2026-09-24",
            "--kind",
            "law",
            "--basis",
            "《户口登记条例》修订",
            "--entry",
            entry,
        ])
    };
    let bad = record("gongan:NOPE");
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("catalog-changes.toml") && err.contains("`gongan:NOPE`"),
        "{err}"
    );
    assert!(!root.join("catalog-changes.toml").exists());
    let good = record("gongan:A0101-0001");
    assert_eq!(
        good.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let shown = pdq(&["audit", "show", "-w", w]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("catalog.change.record"),
        "{}",
        String::from_utf8_lossy(&shown.stdout)
    );
    let out = String::from_utf8_lossy(&good.stdout);
    // 15 working days over 中秋 and 国庆 2026, citing 新疆 第十一条.
    assert!(
        out.contains("due to follow by 2026-10-22") && out.contains("第十一条"),
        "{out}"
    );
    let list = ok_json(&pdq(&[
        "catalog",
        "change",
        "list",
        "-w",
        w,
        "--as-of",
        "2026-10-23",
        "--format",
        "json",
    ]));
    assert_eq!(list[0]["change"]["kind"], "law");
    assert_eq!(list[0]["entries"][0]["key"], "gongan:A0101-0001");
    assert_eq!(list[0]["entries"][0]["state"], "overdue");
    // The harvest of 23 October finds the entry unchanged: overdue.
    let later = ok_json(&pdq(&[
        "harvest",
        "-w",
        w,
        "--as-of",
        "2026-10-23",
        "--format",
        "json",
    ]));
    let overdue: Vec<&serde_json::Value> = later["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "catalog_update_overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["key"], "gongan:A0101-0001");
    assert!(overdue[0]["message"].as_str().unwrap().contains("第十一条"));
    // A bad date, and an approvals file naming no entry: one line each.
    let one_line = |o: &Output, words: &[&str]| {
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
        assert_eq!(err.lines().count(), 1, "{err}");
        for word in words {
            assert!(err.contains(word), "{word}: {err}");
        }
    };
    let bad_date = pdq(&[
        "catalog",
        "change",
        "record",
        "-w",
        w,
        "--department",
        "gongan",
        "--date",
        "2026-13-01",
        "--kind",
        "function",
        "--basis",
        "职能划转",
    ]);
    one_line(&bad_date, &["--date", "`2026-13-01`", "YYYY-MM-DD"]);
    std::fs::write(
        root.join("catalog-approvals.toml"),
        "[[approval]]\nentry = \"gongan:NOPE\"\nfield = \"共享属性\"\nfrom = \"无条件共享\"\nto = \"有条件共享\"\ndate = 2026-10-01\n",
    )
    .unwrap();
    let harvest = pdq(&["harvest", "-w", w, "--as-of", "2026-10-23"]);
    one_line(
        &harvest,
        &[
            "catalog-approvals.toml: line 1 ([[approval]] 1)",
            "`gongan:NOPE`",
        ],
    );
}

/// `pdq catalog review record|list` (issue #17, 5) on the demo bureau held
/// to the 吴忠 text (第十三条: review within 5 working days; 第十二条: revise
/// within 10 after comments): an unreviewed submission is the bureau's
/// finding, a review with comments not followed by a revision the
/// department's, and the harvest reports them; a bad record changes nothing.
#[test]
fn catalog_reviews_and_revisions_are_held_to_the_texts_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    pipeline::demo::generate(&root).unwrap();
    let toml_path = root.join("pdq.toml");
    let t = std::fs::read_to_string(&toml_path)
        .unwrap()
        .replace("profile = \"xinjiang-2023\"", "profile = \"wuzhong-2024\"");
    std::fs::write(&toml_path, t).unwrap();
    let w = root.to_str().unwrap();
    // Submitted on Tuesday 1 September 2026 (the first harvest).
    ok_json(&pdq(&[
        "harvest",
        "-w",
        w,
        "--as-of",
        "2026-09-01",
        "--format",
        "json",
    ]));
    let list = |day: &str| {
        ok_json(&pdq(&[
            "catalog", "review", "list", "-w", w, "--as-of", day, "--format", "json",
        ]))
    };
    let checks = |v: &serde_json::Value| -> Vec<(String, String)> {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["check"].as_str().unwrap().to_string(),
                    f["department"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert!(checks(&list("2026-09-08")).is_empty(), "not due yet");
    let late = checks(&list("2026-09-09"));
    assert!(!late.is_empty(), "every department's catalog awaits review");
    assert!(
        late.iter().all(|(c, _)| c == "catalog_review_overdue"),
        "{late:?}"
    );
    let bad = pdq(&[
        "catalog",
        "review",
        "record",
        "-w",
        w,
        "--department",
        "gongan",
        "--date",
        "2026-09-04",
        "--outcome",
        "comments",
    ]);
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr).trim().to_string();
    assert!(
        err.contains("catalog-reviews.toml") && err.contains("comments: blank"),
        "{err}"
    );
    assert!(
        !root.join("catalog-reviews.toml").exists(),
        "nothing written"
    );
    let good = pdq(&[
        "catalog",
        "review",
        "record",
        "-w",
        w,
        "--department",
        "gongan",
        "--date",
        "2026-09-04",
        "--outcome",
        "comments",
        "--comments",
        "补充共享条件",
    ]);
    assert_eq!(
        good.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let after = checks(&list("2026-09-21"));
    assert!(
        after.contains(&("catalog_revision_overdue".to_string(), "gongan".to_string())),
        "{after:?}"
    );
    assert!(
        !after
            .iter()
            .any(|(c, d)| c == "catalog_review_overdue" && d == "gongan"),
        "gongan's catalog was reviewed: {after:?}"
    );
    // The harvest reports them with the catalog's other findings.
    let h = ok_json(&pdq(&[
        "harvest",
        "-w",
        w,
        "--as-of",
        "2026-09-21",
        "--format",
        "json",
    ]));
    let found: Vec<&str> = h["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["check"].as_str())
        .collect();
    assert!(found.contains(&"catalog_revision_overdue"), "{found:?}");
    assert!(found.contains(&"catalog_review_overdue"), "{found:?}");
}

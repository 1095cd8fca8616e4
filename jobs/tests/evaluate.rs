//! The annual evaluation through the real binary: reproducible after new
//! runs, changed (and labelled) by an audited correction, and a report
//! that renders.

use std::path::Path;
use std::process::{Command, Output};

mod common;

fn bin() -> Command {
    common::keyed_bin("audit-evaluate")
}

fn pdq(args: &[&str], ws: &Path) -> Output {
    let o = bin()
        .args(args)
        .arg("-w")
        .arg(ws)
        .env_remove("RUST_LOG")
        .output()
        .expect("pdq runs");
    // Ran: 0, or 3 when rules of the run are at `fail` (the fixture's data
    // fails some on purpose); never 1 (could not run) or 4 (a step failed).
    assert!(
        matches!(o.status.code(), Some(0 | 3)),
        "pdq {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap()
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(ws.join("pdq.toml"), "bureau = \"测试数据局\"\n[lake]\nlocation = \"lake\"\n[departments]\ngongan = \"公安局\"\nminzheng = \"民政局\"\n").unwrap();
    std::fs::create_dir_all(ws.join("rules")).unwrap();
    std::fs::write(
        ws.join("rules/p.yaml"),
        "dataset: p\nrules:\n  - {id: id_present, dimension: completeness, check: not_null, column: id}\n  - {id: amount_range, dimension: validity, check: range, column: amount, min: 0}\n",
    )
    .unwrap();
    for (dept, rows) in [("gongan", "1,5\n2,6\n"), ("minzheng", "1,5\n2,-6\n")] {
        std::fs::create_dir_all(ws.join("datasets").join(dept)).unwrap();
        std::fs::create_dir_all(ws.join("in")).unwrap();
        std::fs::write(
            ws.join(format!("in/{dept}.csv")),
            format!("id,amount\n{rows}"),
        )
        .unwrap();
        std::fs::write(
            ws.join("datasets").join(dept).join("p.toml"),
            format!("rules = \"rules/p.yaml\"\n[source]\nkind = \"file\"\npath = \"in/{dept}.csv\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n[[columns]]\nname = \"amount\"\ntype = \"int64\"\n"),
        )
        .unwrap();
    }
    dir
}

#[test]
fn reproducible_corrected_and_rendered() {
    let dir = workspace();
    let ws = dir.path();
    // A year of (three) nightly runs.
    let r1 = json(&pdq(
        &[
            "sweep",
            "--format",
            "json",
            "--as-of",
            "2026-03-02 02:30:00",
        ],
        ws,
    ));
    std::fs::write(ws.join("in/gongan.csv"), "id,amount\n1,5\n2,-1\n").unwrap();
    let r2 = json(&pdq(
        &[
            "sweep",
            "--format",
            "json",
            "--as-of",
            "2026-06-01 02:30:00",
        ],
        ws,
    ));
    std::fs::write(ws.join("in/gongan.csv"), "id,amount\n1,5\n2,1\n3,4\n").unwrap();
    pdq(
        &[
            "sweep",
            "--format",
            "json",
            "--as-of",
            "2026-06-30 02:30:00",
        ],
        ws,
    );
    let first = pdq(&["evaluate", "--year", "2026", "--format", "json"], ws);
    let e1 = json(&first);
    assert_eq!(e1["runs"], 3);
    let id1 = e1["id"].as_str().unwrap().to_string();
    let out_dir = ws.join("published/evaluation/2026").join(&id1);
    let bytes1 = std::fs::read(out_dir.join("evaluation.json")).unwrap();
    // By hand. gongan: run scores 100, (100 + 75 + 100) / 3 = 91.67 (one of two
    // amounts negative in June: validity = mean(50, landing 100)), 100 → quality
    // 97.22; deliveries 3/3 → 100; its one item (1 June, due 15 June) closed on
    // 30 June, late → 0. Total (0.4 × 97.22 + 0.2 × 100 + 0.2 × 0) / 0.8 = 73.61.
    // minzheng: 91.67 every run; 100; its item (2 March) still open at year
    // end, overdue → 0. Total (0.4 × 91.67 + 0.2 × 100) / 0.8 = 70.83.
    let deps = e1["departments"].as_array().unwrap();
    assert_eq!(deps[0]["department"], "gongan");
    assert_eq!(deps[0]["score"], 73.61);
    assert_eq!(deps[1]["department"], "minzheng");
    assert_eq!(deps[1]["score"], 70.83);
    assert_eq!(deps[1]["rectification"], serde_json::json!([1, 0, 0, 0, 1]));
    assert!(
        e1["below_passing"].as_array().unwrap().is_empty(),
        "both at least 合格"
    );

    // Next year's runs do not change this year's evaluation.
    pdq(
        &[
            "sweep",
            "--format",
            "json",
            "--as-of",
            "2027-01-05 02:30:00",
        ],
        ws,
    );
    let again = pdq(&["evaluate", "--year", "2026", "--format", "json"], ws);
    assert_eq!(json(&again)["id"], id1.as_str());
    assert!(String::from_utf8_lossy(&again.stderr).contains("Same inputs"));
    assert_eq!(
        std::fs::read(out_dir.join("evaluation.json")).unwrap(),
        bytes1,
        "identical output"
    );

    // A hand correction of one stored count: a new result, labelled, the
    // old one kept, and the audit log shows the edit.
    let r2_id = r2["run_id"].as_str().unwrap();
    pdq(
        &[
            "correct",
            "--run",
            r2_id,
            "--dataset",
            "gongan.p",
            "--rule",
            "amount_range",
            "--evaluated",
            "2",
            "--failed",
            "0",
            "--reason",
            "源系统导出错误 export error at the source",
        ],
        ws,
    );
    let corrected = pdq(&["evaluate", "--year", "2026", "--format", "json"], ws);
    let e2 = json(&corrected);
    assert_ne!(e2["id"], id1.as_str());
    assert_eq!(e2["corrections"].as_array().unwrap().len(), 1);
    assert!(
        String::from_utf8_lossy(&corrected.stderr).contains(&id1),
        "labelled as replacing the earlier result"
    );
    assert!(out_dir.exists(), "the earlier result is kept");
    let g1 = deps.iter().find(|d| d["department"] == "gongan").unwrap()["score"]
        .as_f64()
        .unwrap();
    let g2 = e2["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["department"] == "gongan")
        .unwrap()["score"]
        .as_f64()
        .unwrap();
    // Corrected: June's run scores 100 and no item was ever opened (rectification
    // not assessable) → (0.4 × 100 + 0.2 × 100) / 0.6 = 100.
    assert_eq!((g1, g2), (73.61, 100.0));
    let audit =
        String::from_utf8_lossy(&pdq(&["audit", "show", "--last", "50"], ws).stdout).into_owned();
    assert!(
        audit.contains("correct") && audit.contains("amount_range") && audit.contains("\"from\""),
        "{audit}"
    );
    assert!(
        bin()
            .args(["audit", "verify", "-w"])
            .arg(ws)
            .status()
            .unwrap()
            .success()
    );
    // A correction of a count that was never stored is refused.
    let bad = bin()
        .args([
            "correct",
            "--run",
            "nope",
            "--dataset",
            "gongan.p",
            "--rule",
            "x",
            "--evaluated",
            "1",
            "--failed",
            "0",
            "--reason",
            "r",
            "-w",
        ])
        .arg(ws)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    // A correction without a reason is refused, and nothing is recorded.
    for reason in ["", "  "] {
        let o = bin()
            .args([
                "correct",
                "--run",
                r2_id,
                "--dataset",
                "gongan.p",
                "--rule",
                "amount_range",
                "--evaluated",
                "2",
                "--failed",
                "0",
                "--reason",
                reason,
                "-w",
            ])
            .arg(ws)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(err.contains("needs a reason"), "{err}");
    }
    let still = pdq(&["evaluate", "--year", "2026", "--format", "json"], ws);
    assert_eq!(json(&still)["corrections"].as_array().unwrap().len(), 1);

    // The report for assessors: every table as CSV and XLSX, and HTML that renders.
    let dir2 = ws
        .join("published/evaluation/2026")
        .join(e2["id"].as_str().unwrap());
    for f in [
        "report.html",
        "evaluation.xlsx",
        "evaluation.csv",
        "components.csv",
        "monthly.csv",
        "indicators.csv",
    ] {
        assert!(dir2.join(f).exists(), "{f}");
    }
    let html = std::fs::read_to_string(dir2.join("report.html")).unwrap();
    assert!(
        html.contains("年度公共数据工作评估报告")
            && html.contains("公安局")
            && html.contains("人工更正")
    );
    let chromium = Path::new("/usr/bin/chromium");
    if chromium.exists() {
        let png = ws.join("report.png");
        let profile = tempfile::tempdir().unwrap();
        let st = Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1000,1400",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", dir2.join("report.html").display()))
            .output()
            .unwrap();
        assert!(st.status.success());
        assert!(
            std::fs::metadata(&png).unwrap().len() > 10_000,
            "a rendered page"
        );
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        std::fs::copy(&png, shots.join("evaluation-report.png")).unwrap();
        assert!(
            std::fs::read(dir2.join("report.pdf"))
                .unwrap()
                .starts_with(b"%PDF"),
            "a PDF by Chromium"
        );
    } else {
        assert_eq!(
            std::env::var("PDQ_TEST_SERVICES").as_deref(),
            Ok("off"),
            "chromium missing: run ops/test.sh"
        );
    }
    let _ = r1;
}

/// `pdq evaluate` in the workspace itself (`-w .`, the default): report.pdf
/// is the report, not Chromium's error page for a `file://./…` URL
/// (issue #23, 3). The PDF's title is the report's.
#[test]
fn a_relative_workspace_gets_a_real_pdf() {
    let dir = workspace();
    let ws = dir.path();
    pdq(&["sweep", "--as-of", "2026-03-05 02:30:00"], ws);
    let o = bin()
        .args(["evaluate", "--year", "2026", "--format", "json", "-w", "."])
        .current_dir(ws)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let id = json(&o)["id"].as_str().unwrap().to_string();
    let pdf = ws
        .join("published/evaluation/2026")
        .join(id)
        .join("report.pdf");
    if !Path::new("/usr/bin/chromium").exists() {
        assert_eq!(
            std::env::var("PDQ_TEST_SERVICES").as_deref(),
            Ok("off"),
            "chromium missing: run ops/test.sh"
        );
        assert!(!pdf.exists(), "no PDF without Chromium");
        return;
    }
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"));
    // Chromium writes the document's <title> into the PDF's information
    // dictionary, as UTF-16BE hex for a Chinese title.
    let mut hex = String::from("<FEFF");
    for unit in "2026 年度公共数据工作评估 · 测试数据局".encode_utf16() {
        hex.push_str(&format!("{unit:04X}"));
    }
    hex.push('>');
    let text = String::from_utf8_lossy(&bytes).to_uppercase();
    assert!(text.contains(&hex), "the PDF is the report (title {hex})");
}

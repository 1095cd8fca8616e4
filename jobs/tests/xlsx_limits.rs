//! No single XLSX file may stop a sweep (issue #18, finding 1). A 1.5 KB
//! workbook with cells only at A1 and XFD1048576 used to make every reader
//! allocate the whole 17-billion-cell grid and abort `pdq check`,
//! `pdq harvest` and `pdq sweep`. These run the real binary under a 3 GB
//! address-space cap (so the old code fails by aborting, never by eating
//! the machine) and expect a bounded, quick, clear answer instead.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use rust_xlsxwriter::Workbook;

/// `pdq ARGS` under `ulimit -v` (KiB), with how long it took.
fn pdq_capped(args: &[&str], dir: &Path) -> (Output, Duration) {
    let started = Instant::now();
    let o = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 3000000 && exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_pdq"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("pdq runs");
    (o, started.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

/// The workbook: a header at A1 and XFD1, a row under it, and one
/// value at XFD1048576 (about 6 KB on disk).
fn far_corners(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "id").unwrap();
    ws.write_string(0, 16_383, "far").unwrap();
    ws.write_string(1, 0, "1").unwrap();
    ws.write_string(1_048_575, 16_383, "x").unwrap();
    wb.save(path).unwrap();
}

/// About 200 KB of cells scattered over the whole sheet, far apart.
fn scattered(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "id").unwrap();
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..20_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = 1 + (x % 1_048_575) as u32;
        let c = ((x >> 32) % 16_384) as u16;
        ws.write_string(r, c, format!("v{}", x % 1000)).unwrap();
    }
    wb.save(path).unwrap();
    assert!(std::fs::metadata(path).unwrap().len() > 150_000);
}

/// A plain sheet whose text unpacks to about 1.6 MB.
fn wordy(path: &Path) {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.write_string(0, 0, "id").unwrap();
    for r in 1..20_000u32 {
        ws.write_string(r, 0, format!("{r} the same long line of text, again"))
            .unwrap();
    }
    wb.save(path).unwrap();
}

const RULES: &str = "dataset: t\nrules:\n  - {id: id_present, dimension: completeness, check: not_null, column: id}\n";

#[test]
fn check_reads_a_far_cornered_workbook_by_its_cells_not_its_extent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("rules.yaml"), RULES).unwrap();
    far_corners(&d.join("far.xlsx"));
    let (o, took) = pdq_capped(
        &[
            "check",
            "--data",
            "far.xlsx",
            "--rules",
            "rules.yaml",
            "--format",
            "json",
        ],
        d,
    );
    // Two data rows (2 and 1048576): `id` is null on the second, so the
    // rule fails (exit 3) — the file was read, not refused.
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = report.to_string();
    assert!(text.contains("id_present"), "{text}");

    // Scattered cells: columns with values but no header name are an
    // error that names the column, after a bounded, quick read.
    scattered(&d.join("scattered.xlsx"));
    let (o, took) = pdq_capped(
        &["check", "--data", "scattered.xlsx", "--rules", "rules.yaml"],
        d,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("scattered.xlsx") && err.contains("has values but no header"),
        "{err}"
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
}

#[test]
fn check_refuses_a_workbook_past_xlsx_max_bytes_naming_file_sheet_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("rules.yaml"), RULES).unwrap();
    wordy(&d.join("wordy.xlsx"));
    let (o, _) = pdq_capped(
        &[
            "check",
            "--data",
            "wordy.xlsx",
            "--rules",
            "rules.yaml",
            "--xlsx-max-bytes",
            "1MiB",
        ],
        d,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("wordy.xlsx")
            && err.contains("1048576 bytes")
            && err.contains("xlsx_max_bytes"),
        "{err}"
    );
    // Within the default it is read.
    let (o, _) = pdq_capped(
        &[
            "check",
            "--data",
            "wordy.xlsx",
            "--rules",
            "rules.yaml",
            "--format",
            "json",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn harvest_fails_a_hostile_template_source_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(ws.join("pdq.toml"), "[lake]\nlocation = \"lake\"\n").unwrap();
    std::fs::create_dir_all(ws.join("catalogs")).unwrap();
    far_corners(&ws.join("catalogs/far.xlsx"));
    std::fs::write(
        ws.join("catalogs/far.toml"),
        "department = \"gongan\"\n[source]\nkind = \"xlsx_template\"\nlocation = \"catalogs/far.xlsx\"\n",
    )
    .unwrap();
    let (o, took) = pdq_capped(&["harvest", "-w", ".", "--format", "json"], ws);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("far") && last.contains("far.xlsx!Sheet1") && last.contains("no header row"),
        "{err}"
    );
}

#[test]
fn a_sweep_with_a_hostile_workbook_lands_the_rest_records_the_failure_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(
        ws.join("pdq.toml"),
        "[lake]\nlocation = \"lake\"\n[files]\nxlsx_max_bytes = 1000000\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("rules")).unwrap();
    std::fs::write(ws.join("rules/t.yaml"), RULES).unwrap();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::create_dir_all(ws.join("datasets/gongan")).unwrap();
    std::fs::write(ws.join("in/ok.csv"), "id\n1\n2\n3\n").unwrap();
    far_corners(&ws.join("in/far.xlsx"));
    wordy(&ws.join("in/wordy.xlsx"));
    for (name, file) in [
        ("ok", "ok.csv"),
        ("far", "far.xlsx"),
        ("wordy", "wordy.xlsx"),
    ] {
        std::fs::write(
            ws.join(format!("datasets/gongan/{name}.toml")),
            format!(
                "rules = \"rules/t.yaml\"\n[source]\nkind = \"file\"\npath = \"in/{file}\"\n[[columns]]\nname = \"id\"\ntype = \"string\"\n"
            ),
        )
        .unwrap();
    }
    let (o, took) = pdq_capped(
        &[
            "sweep",
            "-w",
            ".",
            "--format",
            "json",
            "--as-of",
            "2026-11-22",
        ],
        ws,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(took < Duration::from_secs(120), "took {took:?}");
    // One stderr line for the one failed dataset, naming it, the file, the
    // part of the workbook and the key to raise.
    let lines: Vec<&str> = err
        .lines()
        // One line per failure; warnings said before the work are not failures.
        .filter(|l| l.starts_with("pdq sweep:") && !l.starts_with("pdq sweep: warning:"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("gongan.wordy land failed")
            && lines[0].contains("in/wordy.xlsx: ")
            && lines[0].contains("xl/worksheets/sheet1.xml")
            && lines[0].contains("1000000 bytes")
            && lines[0].contains("xlsx_max_bytes"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let steps = r["steps"].as_array().unwrap();
    let step = |ds: &str, stage: &str| {
        steps
            .iter()
            .find(|s| s["dataset"] == ds && s["stage"] == stage)
            .unwrap_or_else(|| panic!("no {stage} step for {ds}"))
            .clone()
    };
    assert_eq!(step("gongan.wordy", "land")["status"], "failed");
    for ds in ["gongan.ok", "gongan.far"] {
        assert_eq!(step(ds, "land")["status"], "ok", "{ds}");
        assert_eq!(step(ds, "check")["status"], "ok", "{ds}");
    }
    // The far-cornered workbook landed its two rows (Excel rows 2 and
    // 1048576), read by its cells.
    let far = step("gongan.far", "land");
    assert_eq!(far["rows"], 2, "{far}");
    // The run ledger has the failure with its reason.
    let run = r["run_id"].as_str().unwrap();
    let shown = Command::new(env!("CARGO_BIN_EXE_pdq"))
        .args(["runs", run, "--format", "json", "-w"])
        .arg(ws)
        .output()
        .unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    let failed: Vec<&serde_json::Value> = shown
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .collect();
    assert!(!failed.is_empty(), "{shown}");
    assert!(
        failed.iter().all(|s| s["dataset"] == "gongan.wordy"),
        "{shown}"
    );
    assert_eq!(failed[0]["stage"], "land", "{shown}");
    assert!(
        failed[0]["error"]
            .as_str()
            .unwrap()
            .contains("xlsx_max_bytes"),
        "{shown}"
    );
}

#[test]
fn a_sweep_whose_catalog_template_is_hostile_harvests_the_rest_and_exits_4() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(ws.join("pdq.toml"), "[lake]\nlocation = \"lake\"\n").unwrap();
    std::fs::create_dir_all(ws.join("rules")).unwrap();
    std::fs::write(ws.join("rules/t.yaml"), RULES).unwrap();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::create_dir_all(ws.join("datasets/gongan")).unwrap();
    std::fs::write(ws.join("in/ok.csv"), "id\n1\n2\n3\n").unwrap();
    std::fs::write(
        ws.join("datasets/gongan/ok.toml"),
        "rules = \"rules/t.yaml\"\n[source]\nkind = \"file\"\npath = \"in/ok.csv\"\n[[columns]]\nname = \"id\"\ntype = \"string\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("catalogs")).unwrap();
    far_corners(&ws.join("catalogs/far.xlsx"));
    std::fs::write(
        ws.join("catalogs/far.toml"),
        "department = \"gongan\"\n[source]\nkind = \"xlsx_template\"\nlocation = \"catalogs/far.xlsx\"\n",
    )
    .unwrap();
    let (o, took) = pdq_capped(
        &[
            "sweep",
            "-w",
            ".",
            "--format",
            "json",
            "--as-of",
            "2026-11-22",
        ],
        ws,
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(took < Duration::from_secs(120), "took {took:?}");
    let lines: Vec<&str> = err
        .lines()
        // One line per failure; warnings said before the work are not failures.
        .filter(|l| l.starts_with("pdq sweep:") && !l.starts_with("pdq sweep: warning:"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].contains("harvest partial")
            && lines[0].contains("far.xlsx!Sheet1")
            && lines[0].contains("no header row"),
        "{err}"
    );
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ok = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["dataset"] == "gongan.ok" && s["stage"] == "check")
        .cloned()
        .unwrap_or_default();
    assert_eq!(ok["status"], "ok", "{r}");
}

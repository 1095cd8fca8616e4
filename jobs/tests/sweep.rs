//! The sweep end to end, through the real binary: failures contained and
//! recorded, concurrent sweeps, SIGTERM and re-run, audit verification,
//! alerts, the daemon.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod common;

fn bin() -> Command {
    common::keyed_bin("audit-sweep")
}

fn pdq(args: &[&str], ws: &Path) -> Output {
    bin()
        .args(args)
        .arg("-w")
        .arg(ws)
        .env_remove("RUST_LOG")
        .output()
        .expect("pdq runs")
}

/// Exit 3: the sweep ran, every step ok, and a rule of the run is at
/// `fail` (CONTRACT.md) — every workspace here with more than 7 rows has a
/// negative amount at row 7.
fn ran_with_failures(o: &Output) -> bool {
    o.status.code() == Some(3)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {} stderr {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// A published JSON file.
fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The sorted `field` of each object in `v[key]`.
fn ids(v: &serde_json::Value, key: &str, field: &str) -> Vec<String> {
    let mut ids: Vec<String> = v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .iter()
        .map(|x| x[field].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Waits until `ready` (the sweep `child` still going), stops the sweep
/// with SIGTERM and returns its output: exit 1, it says it was stopped.
#[cfg(unix)]
fn stop_when(child: std::process::Child, ready: impl Fn() -> bool) -> Output {
    let start = Instant::now();
    let mut child = child;
    while !ready() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the signal"
        );
        assert!(start.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a stopped sweep says so: {err}");
    assert!(err.contains("stopped by a signal"), "{err}");
    out
}

const RULES: &str = "dataset: people\nrules:\n  - {id: id_present, dimension: completeness, check: not_null, column: id}\n  - {id: amount_range, dimension: validity, check: range, column: amount, min: 0}\n";

/// A workspace of `n` healthy CSV datasets (`rows` rows each) in two departments.
fn workspace(n: usize, rows: usize, extra_toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(
        ws.join("pdq.toml"),
        format!("[lake]\nlocation = \"lake\"\n[sweep]\nparallelism = 2\n{extra_toml}"),
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("rules")).unwrap();
    std::fs::write(ws.join("rules/people.yaml"), RULES).unwrap();
    for i in 0..n {
        let dept = if i % 2 == 0 { "gongan" } else { "minzheng" };
        std::fs::create_dir_all(ws.join("datasets").join(dept)).unwrap();
        std::fs::create_dir_all(ws.join("in")).unwrap();
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(ws.join(format!("in/d{i}.csv"))).unwrap(),
        );
        writeln!(f, "id,amount").unwrap();
        for r in 0..rows {
            writeln!(f, "{r},{}", if r % 50 == 7 { -1 } else { r as i64 }).unwrap();
        }
        drop(f);
        std::fs::write(
            ws.join("datasets").join(dept).join(format!("d{i}.toml")),
            format!("rules = \"rules/people.yaml\"\n[source]\nkind = \"file\"\npath = \"in/d{i}.csv\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n[[columns]]\nname = \"amount\"\ntype = \"int64\"\n"),
        )
        .unwrap();
    }
    dir
}

/// `pdq sweep --dataset nosuchdept` is bad input (issue #23, 2): exit 1 with
/// one line naming the selector and the known datasets; no run is recorded
/// and nothing is published. The same for `pdq ingest`, and for one unknown
/// selector beside a known one.
#[test]
fn an_unknown_dataset_selection_is_an_error_and_publishes_nothing() {
    let dir = workspace(2, 3, "");
    let ws = dir.path();
    for args in [
        &["sweep", "--dataset", "nosuchdept"][..],
        &["sweep", "--dataset", "gongan", "--dataset", "nosuchdept"][..],
        &["ingest", "--dataset", "nosuchdept"][..],
    ] {
        let o = pdq(args, ws);
        let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
        assert!(err.contains("no dataset matches `nosuchdept`"), "{err}");
        assert!(err.contains("gongan.d0"), "names the known datasets: {err}");
    }
    assert!(!ws.join("published").exists(), "nothing published");
    assert!(!ws.join("lake").exists(), "no run recorded");
}

/// `[sweep] memory_limit` is read (it was accepted and ignored): a value
/// that is no size stops the sweep before any work, naming file and key.
#[test]
fn a_bad_sweep_memory_limit_is_named() {
    let dir = workspace(1, 3, "memory_limit = \"lots\"\n");
    let o = pdq(&["sweep"], dir.path());
    let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("pdq.toml: sweep.memory_limit: invalid size `lots`"),
        "{err}"
    );
    assert!(!dir.path().join("lake").exists(), "nothing ran");
    // A real size runs.
    let dir = workspace(1, 3, "memory_limit = \"64MiB\"\n");
    let o = pdq(&["sweep"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `-v` is pdq's own story: info lines from pdq's crates, the libraries'
/// chatter left at warn (issue #23, 13). Logs on a non-terminal are JSON
/// lines, each with its target.
#[test]
fn verbose_logs_are_pdqs_own() {
    let dir = workspace(2, 3, "");
    let o = pdq(&["-v", "sweep"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    let mut ours = 0;
    for line in stderr.lines().filter(|l| l.starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON log line");
        let target = v["target"].as_str().unwrap_or_default();
        let level = v["level"].as_str().unwrap_or_default();
        let own = ["pdq", "jobs", "pipeline", "connectors", "quality_rules"]
            .iter()
            .any(|c| target == *c || target.starts_with(&format!("{c}::")));
        assert!(
            own || level == "WARN" || level == "ERROR",
            "library noise at -v: {line}"
        );
        ours += usize::from(own);
    }
    assert!(ours > 0, "-v shows pdq's own info lines:\n{stderr}");
}

/// The configuration is checked whole before any work (issue #23, 4): a
/// misspelt profile, a missing calendar file and a 4-field cron each stop
/// `pdq sweep` at once with exit 1 and one line naming the key; they used to
/// fail one step and leave a run that said "completed".
#[test]
fn a_bad_configuration_stops_the_sweep_before_any_work() {
    for (toml, key) in [
        ("profile = \"xinjang-2023\"\n", "profile"),
        (
            "[calendar]\nfiles = [\"holidays-2027.txt\"]\n",
            "holidays-2027.txt",
        ),
        ("[schedule]\ncron = \"30 2 * *\"\n", "schedule.cron"),
    ] {
        let dir = workspace(1, 3, "");
        let ws = dir.path();
        let text = std::fs::read_to_string(ws.join("pdq.toml")).unwrap();
        std::fs::write(ws.join("pdq.toml"), format!("{toml}{text}")).unwrap();
        let o = pdq(&["sweep"], ws);
        let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
        assert_eq!(o.status.code(), Some(1), "{key}: {err}");
        assert_eq!(err.lines().count(), 1, "{key}: {err}");
        assert!(err.contains(key), "{key}: {err}");
        assert!(!ws.join("lake").exists(), "{key}: nothing ran");
    }
}

/// One dataset definition with a bad value fails that dataset only, naming
/// the file, the line and the accepted values; the other datasets land and
/// are checked, and the sweep exits with the partial-failure code 4
/// (issue #23, 5; CONTRACT.md "Exit codes"). It used to stop the whole
/// sweep with no line number.
#[test]
fn a_bad_dataset_definition_fails_that_dataset_only() {
    let dir = workspace(2, 3, "");
    let ws = dir.path();
    std::fs::write(
        ws.join("datasets/gongan/hourly.toml"),
        "rules = \"rules/people.yaml\"\nupdate_frequency = \"hourly\"\n[source]\nkind = \"file\"\npath = \"in/d0.csv\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n",
    )
    .unwrap();
    let o = pdq(&["sweep", "--format", "json", "--as-of", "2026-11-22"], ws);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    let r = json(&o);
    let steps = r["steps"].as_array().unwrap();
    let bad = steps
        .iter()
        .find(|s| s["dataset"] == "gongan.hourly")
        .expect("a step for the bad definition");
    assert_eq!(bad["status"], "failed");
    let e = bad["error"].as_str().unwrap();
    assert!(e.contains("hourly.toml: line 2:"), "file and line: {e}");
    assert!(
        e.contains("half_yearly") && e.contains("daily"),
        "accepted values: {e}"
    );
    for ds in ["gongan.d0", "minzheng.d1"] {
        let check = steps
            .iter()
            .find(|s| s["dataset"] == ds && s["stage"] == "check")
            .unwrap_or_else(|| panic!("{ds} was checked"));
        assert_eq!(check["status"], "ok", "{ds}");
    }
    // `pdq sweep --dataset gongan.hourly` names it, rather than "no dataset matches".
    let o = pdq(
        &["sweep", "--format", "json", "--dataset", "gongan.hourly"],
        ws,
    );
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every step a sweep starts ends, with its status and why, and is told to
/// the progress callback — a dataset whose definition does not load, and
/// datasets a stopped sweep never started, included.
#[test]
fn every_step_of_a_stopped_sweep_ends_with_a_reason() {
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Mutex};
    let dir = workspace(2, 3, "");
    let ws = dir.path();
    std::fs::write(
        ws.join("datasets/gongan/hourly.toml"),
        "rules = \"rules/people.yaml\"\nupdate_frequency = \"hourly\"\n[source]\nkind = \"file\"\npath = \"in/d0.csv\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n",
    )
    .unwrap();
    let workspace = pipeline::workspace::Workspace::load(ws).unwrap();
    let told: Arc<Mutex<Vec<(String, String, String)>>> = Default::default();
    let on_step: jobs::sweep::OnStep = {
        let told = told.clone();
        Arc::new(move |s: &pipeline::run::Step| {
            told.lock()
                .unwrap()
                .push((s.dataset.clone(), s.stage.clone(), s.status.clone()));
        })
    };
    let opts = jobs::sweep::SweepOptions {
        as_of: chrono::DateTime::parse_from_rfc3339("2026-11-22T02:00:00+08:00").unwrap(),
        trigger: "manual".into(),
        scheduled_for: None,
        only: vec![],
        // Stopped (SIGTERM) before any dataset started.
        cancel: Arc::new(AtomicBool::new(true)),
        actor: "test".into(),
        on_step: Some(on_step),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let report = rt
        .block_on(jobs::sweep::run_sweep(&workspace, &opts))
        .unwrap();
    assert_eq!(report.status, "cancelled");
    let lake = pipeline::land::Lake::open(&workspace.config.lake, ws).unwrap();
    let recorded = rt
        .block_on(pipeline::run::steps(&lake, &report.run_id))
        .unwrap();
    assert_eq!(recorded.len(), report.steps.len());
    let told = told.lock().unwrap().clone();
    let mut datasets = vec![];
    for s in recorded.iter().filter(|s| !s.dataset.is_empty()) {
        let expected = if s.dataset == "gongan.hourly" {
            "failed"
        } else {
            "cancelled"
        };
        assert_eq!(s.status, expected, "{s:?}");
        assert!(
            s.error.as_deref().is_some_and(|e| !e.is_empty()),
            "a {} step says why: {s:?}",
            s.status
        );
        assert!(
            told.contains(&(s.dataset.clone(), s.stage.clone(), s.status.clone())),
            "{s:?} was told to the progress callback: {told:?}"
        );
        datasets.push(s.dataset.as_str());
    }
    datasets.sort();
    assert_eq!(datasets, ["gongan.d0", "gongan.hourly", "minzheng.d1"]);
}

/// A sweep that cannot go on once its run is recorded (here: its audit log
/// goes away mid-sweep) ends the run `failed`, with why, instead of leaving
/// it unfinished in `pdq runs` for ever.
#[test]
fn a_sweep_that_cannot_go_on_ends_its_run_failed() {
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    let dir = workspace(1, 3, "");
    let ws = dir.path().to_path_buf();
    let workspace = pipeline::workspace::Workspace::load(&ws).unwrap();
    let audit = ws.join("audit");
    let on_step: jobs::sweep::OnStep = Arc::new(move |_: &pipeline::run::Step| {
        if audit.is_dir() {
            std::fs::remove_dir_all(&audit).unwrap();
            std::fs::write(&audit, "not a directory").unwrap();
        }
    });
    let opts = jobs::sweep::SweepOptions {
        as_of: chrono::DateTime::parse_from_rfc3339("2026-11-22T02:00:00+08:00").unwrap(),
        trigger: "manual".into(),
        scheduled_for: None,
        only: vec![],
        cancel: Arc::new(AtomicBool::new(false)),
        actor: "test".into(),
        on_step: Some(on_step),
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let err = rt
        .block_on(jobs::sweep::run_sweep(&workspace, &opts))
        .expect_err("the audit log refuses the steps");
    let lake = pipeline::land::Lake::open(&workspace.config.lake, &ws).unwrap();
    let runs = rt.block_on(pipeline::run::runs(&lake)).unwrap();
    assert_eq!(runs.len(), 1, "{runs:?}");
    let end = runs[0].finished.as_ref().expect("the run ended");
    assert_eq!(end.status, "failed");
    assert_eq!(end.error.as_deref(), Some(err.to_string().as_str()));
}

#[test]
fn a_failing_source_and_a_corrupt_file_do_not_stop_the_others() {
    let dir = workspace(3, 100, "");
    let ws = dir.path();
    // An unreachable database…
    std::fs::write(ws.join("db.url"), "postgres://pdq:pdq@127.0.0.1:1/pdq").unwrap();
    std::fs::write(
        ws.join("datasets/gongan/unreachable.toml"),
        "[source]\nkind = \"postgres\"\nurl = { file = \"db.url\" }\ntable = \"t\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n",
    )
    .unwrap();
    // …and a truncated Parquet file.
    std::fs::write(ws.join("in/corrupt.parquet"), b"PAR1\x00\x01garbage").unwrap();
    std::fs::write(
        ws.join("datasets/minzheng/corrupt.toml"),
        "[source]\nkind = \"file\"\npath = \"in/corrupt.parquet\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n",
    )
    .unwrap();
    let o = pdq(&["sweep", "--format", "json", "--as-of", "2026-11-22"], ws);
    // The sweep completed with two datasets failed: the contract's
    // partial-failure code, one stderr line per failed dataset.
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(4),
        "the sweep itself completed: {err}"
    );
    let lines: Vec<&str> = err
        .lines()
        // One line per failure; warnings said before the work are not failures.
        .filter(|l| l.starts_with("pdq sweep:") && !l.starts_with("pdq sweep: warning:"))
        .collect();
    assert_eq!(lines.len(), 2, "{err}");
    for ds in ["gongan.unreachable", "minzheng.corrupt"] {
        let said = format!("{ds} land failed");
        assert!(lines.iter().any(|l| l.contains(&said)), "{err}");
    }
    let r = json(&o);
    let steps = r["steps"].as_array().unwrap();
    let step = |ds: &str, stage: &str| {
        steps
            .iter()
            .find(|s| s["dataset"] == ds && s["stage"] == stage)
            .unwrap_or_else(|| panic!("no {stage} step for {ds}"))
            .clone()
    };
    let u = step("gongan.unreachable", "land");
    assert_eq!(u["status"], "failed");
    assert!(u["error"].as_str().unwrap().contains("127.0.0.1"), "{u}");
    let c = step("minzheng.corrupt", "land");
    assert_eq!(c["status"], "failed");
    assert!(
        c["error"].as_str().unwrap().contains("corrupt.parquet"),
        "{c}"
    );
    for i in 0..3 {
        let dept = if i % 2 == 0 { "gongan" } else { "minzheng" };
        assert_eq!(step(&format!("{dept}.d{i}"), "land")["status"], "ok");
        assert_eq!(step(&format!("{dept}.d{i}"), "check")["status"], "ok");
    }
    assert_eq!(
        steps.iter().find(|s| s["stage"] == "publish").unwrap()["status"],
        "ok"
    );
    // The ledger has the run with both failures; `pdq runs RUN` shows them.
    let run = r["run_id"].as_str().unwrap();
    let shown = pdq(&["runs", run, "--format", "json"], ws);
    let shown = json(&shown);
    let failed: Vec<&str> = shown
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "failed")
        .map(|s| s["dataset"].as_str().unwrap())
        .collect();
    assert_eq!(failed, vec!["gongan.unreachable", "minzheng.corrupt"]);
    let runs = json(&pdq(&["runs", "--format", "json"], ws));
    assert_eq!(runs[0]["finished"]["status"], "completed");
    assert_eq!(runs[0]["finished"]["datasets_failed"], 2);
    assert_eq!(runs[0]["finished"]["datasets_ok"], 3);
    // Published results for the healthy datasets.
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(ws.join("published/runs").join(run).join("summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["datasets"].as_array().unwrap().len(), 3);
    // Every operation is in the audit log, which verifies.
    let v = pdq(&["audit", "verify"], ws);
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
}

#[test]
fn audit_verify_detects_an_edited_or_deleted_record() {
    let dir = workspace(2, 10, "");
    let ws = dir.path();
    assert!(ran_with_failures(&pdq(&["sweep", "--format", "json"], ws)));
    assert_eq!(pdq(&["audit", "verify"], ws).status.code(), Some(0));
    let file = std::fs::read_dir(ws.join("audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .unwrap();
    let original = std::fs::read_to_string(&file).unwrap();
    // Edited: one record's target changed.
    std::fs::write(&file, original.replacen("gongan.d0", "gongan.dX", 1)).unwrap();
    let o = pdq(&["audit", "verify"], ws);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("edited"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // Deleted: the third record removed.
    let lines: Vec<&str> = original.lines().collect();
    let without: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(&file, without).unwrap();
    let o = pdq(&["audit", "verify"], ws);
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("record 3"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn two_concurrent_sweeps_do_not_both_process_a_dataset() {
    let dir = workspace(6, 200_000, "");
    let ws = dir.path();
    let spawn = || {
        bin()
            .args(["sweep", "--format", "json", "-w"])
            .arg(ws)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let a = spawn();
    let b = spawn();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert!(
        ran_with_failures(&a) && ran_with_failures(&b),
        "{} {}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    let (ra, rb) = (json(&a), json(&b));
    // Each dataset was landed by exactly one of them: the other found it
    // locked, or (if it came later) found nothing left to land.
    let landed_by = |r: &serde_json::Value, ds: &str| {
        r["steps"].as_array().unwrap().iter().any(|s| {
            s["dataset"] == ds
                && s["stage"] == "land"
                && s["status"] == "ok"
                && s["outputs"].as_str().unwrap() != "[]"
        })
    };
    let mut locked = 0;
    for i in 0..6 {
        let ds = format!("{}.d{i}", if i % 2 == 0 { "gongan" } else { "minzheng" });
        assert!(
            landed_by(&ra, &ds) ^ landed_by(&rb, &ds),
            "{ds} landed by exactly one sweep"
        );
        locked += [&ra, &rb]
            .iter()
            .flat_map(|r| r["steps"].as_array().unwrap().iter())
            .filter(|s| s["dataset"] == ds.as_str() && s["status"] == "locked")
            .count();
    }
    let l = common::landed(ws);
    assert_eq!(l.len(), 6);
    for (ds, (rows, deliveries)) in l {
        assert_eq!((rows, deliveries), (200_000, 1), "{ds}: landed once");
    }
    eprintln!("{locked} dataset(s) were found locked by the other sweep");
    // Whichever finished last, the current publication shows the whole
    // lake: every dataset of both sweeps, both departments (issue #23, 1).
    let published = ws.join("published");
    let current = read_json(&published.join("latest.json"))["run"]
        .as_str()
        .unwrap()
        .to_string();
    let newer = std::cmp::max(
        ra["run_id"].as_str().unwrap().to_string(),
        rb["run_id"].as_str().unwrap().to_string(),
    );
    assert_eq!(current, newer, "the newer run is the current publication");
    let run_dir = published.join("runs").join(&current);
    let all: Vec<String> = (0..6)
        .map(|i| format!("{}.d{i}", if i % 2 == 0 { "gongan" } else { "minzheng" }))
        .collect();
    let mut all_sorted = all.clone();
    all_sorted.sort();
    let cards = read_json(&run_dir.join("scorecards.json"));
    assert_eq!(ids(&cards, "datasets", "id"), all_sorted, "scorecards");
    assert_eq!(
        ids(&cards, "departments", "id"),
        vec!["gongan".to_string(), "minzheng".to_string()]
    );
    let summary = read_json(&run_dir.join("summary.json"));
    assert_eq!(ids(&summary, "datasets", "dataset"), all_sorted, "summary");
    let index = std::fs::read_to_string(published.join("site/index.html")).unwrap();
    for d in ["gongan", "minzheng"] {
        assert!(index.contains(d), "department {d} on the current site");
    }
}

/// Two first-night sweeps overlap: the older one (started first) works on
/// big datasets, the newer one on small ones and would finish first. The
/// current publication (the newer run's) must still show the older run's
/// datasets: a run scores only once every run started before it has ended
/// (issue #23, 1).
#[test]
fn an_older_sweep_still_going_is_in_the_newer_runs_publication() {
    let dir = workspace(4, 20_000, "");
    let ws = dir.path();
    // gongan's two datasets are big: the sweep of gongan is still checking
    // them when the sweep of minzheng starts and is done with its own.
    for i in [0, 2] {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(ws.join(format!("in/d{i}.csv"))).unwrap(),
        );
        writeln!(f, "id,amount").unwrap();
        for r in 0..1_500_000 {
            writeln!(f, "{r},{}", if r % 50 == 7 { -1 } else { r }).unwrap();
        }
    }
    let older = bin()
        .args(["sweep", "--format", "json", "--dataset", "gongan", "-w"])
        .arg(ws)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The older run is recorded (its liveness lock is there) before the
    // newer one starts.
    let locks = ws.join(".pdq/locks");
    let start = Instant::now();
    while !std::fs::read_dir(&locks)
        .is_ok_and(|mut d| d.any(|e| e.unwrap().file_name().to_string_lossy().starts_with("run-")))
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the older run started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let newer = pdq(&["sweep", "--format", "json", "--dataset", "minzheng"], ws);
    let older = older.wait_with_output().unwrap();
    assert!(
        ran_with_failures(&older) && ran_with_failures(&newer),
        "{} {}",
        String::from_utf8_lossy(&older.stderr),
        String::from_utf8_lossy(&newer.stderr)
    );
    let (ro, rn) = (json(&older), json(&newer));
    let (ro, rn) = (
        ro["run_id"].as_str().unwrap(),
        rn["run_id"].as_str().unwrap(),
    );
    assert!(ro < rn, "{ro} started before {rn}");
    let published = ws.join("published");
    assert_eq!(read_json(&published.join("latest.json"))["run"], rn);
    let cards = read_json(&published.join("runs").join(rn).join("scorecards.json"));
    assert_eq!(
        ids(&cards, "datasets", "id"),
        ["gongan.d0", "gongan.d2", "minzheng.d1", "minzheng.d3"],
        "the newer run's scorecards hold the older run's datasets"
    );
    let summary = read_json(&published.join("runs").join(rn).join("summary.json"));
    assert_eq!(
        summary["datasets"].as_array().unwrap().len(),
        4,
        "{summary}"
    );
    // The newer run says what it waited for.
    let waited = newer_steps_waited(&json(&newer));
    assert!(waited.contains(ro), "{waited}");
}

/// The inputs of a run's score step (where it names the runs it waited for).
fn newer_steps_waited(report: &serde_json::Value) -> String {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "score")
        .map(|s| s["inputs"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// A sweep cancelled by SIGTERM after a full night publishes the whole
/// lake: the dataset it re-checked from this run, every other one from the
/// run that last checked it, both departments (issue #23, 1).
#[cfg(unix)]
#[test]
fn a_cancelled_sweep_publishes_every_department_and_dataset() {
    let dir = workspace(5, 200_000, "");
    let ws = dir.path();
    let t = std::fs::read_to_string(ws.join("pdq.toml"))
        .unwrap()
        .replace("parallelism = 2", "parallelism = 1");
    std::fs::write(ws.join("pdq.toml"), t).unwrap();
    let first = pdq(&["sweep", "--format", "json"], ws);
    assert!(ran_with_failures(&first));
    let first = json(&first)["run_id"].as_str().unwrap().to_string();
    // Tonight every department sends a new delivery (append mode is not
    // set: the file replaces the last one); the sweep is stopped after the
    // first has landed.
    for i in 0..5 {
        let p = ws.join(format!("in/d{i}.csv"));
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        writeln!(f, "999999,1").unwrap();
    }
    let child = bin()
        .args(["sweep", "--format", "json", "-w"])
        .arg(ws)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = ws.join("lake/data/gongan/d0/_delta_log");
    let versions = || std::fs::read_dir(&log).unwrap().count();
    let before = versions();
    stop_when(child, || versions() > before);
    let runs = json(&pdq(&["runs", "--format", "json"], ws));
    let last = runs.as_array().unwrap().last().unwrap();
    assert_eq!(last["finished"]["status"], "cancelled", "{runs}");
    let cancelled = last["started"]["run_id"].as_str().unwrap().to_string();
    let published = ws.join("published");
    assert_eq!(
        read_json(&published.join("latest.json"))["run"],
        cancelled.as_str()
    );
    let run_dir = published.join("runs").join(&cancelled);
    let cards = read_json(&run_dir.join("scorecards.json"));
    assert_eq!(
        ids(&cards, "datasets", "id"),
        [
            "gongan.d0",
            "gongan.d2",
            "gongan.d4",
            "minzheng.d1",
            "minzheng.d3"
        ]
    );
    assert_eq!(ids(&cards, "departments", "id"), ["gongan", "minzheng"]);
    let summary = read_json(&run_dir.join("summary.json"));
    let checked_in: Vec<(String, String)> = summary["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["dataset"].as_str().unwrap().to_string(),
                d["checked_in"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(checked_in.len(), 5, "{summary}");
    assert!(
        checked_in.contains(&("gongan.d0".into(), cancelled.clone())),
        "{checked_in:?}"
    );
    assert!(
        checked_in.iter().any(|(_, run)| *run == first),
        "the datasets the cancelled run did not reach come from the first run: {checked_in:?}"
    );
    let index = std::fs::read_to_string(published.join("site/index.html")).unwrap();
    for d in ["gongan", "minzheng"] {
        assert!(index.contains(d), "department {d} on the current site");
    }
}

#[cfg(unix)]
#[test]
fn sigterm_mid_sweep_then_rerun_matches_an_uninterrupted_sweep() {
    // Parallelism 1 so that the sweep is mid-way when the signal arrives.
    let interrupted = workspace(5, 400_000, "");
    let straight = workspace(5, 400_000, "");
    for ws in [interrupted.path(), straight.path()] {
        let t = std::fs::read_to_string(ws.join("pdq.toml"))
            .unwrap()
            .replace("parallelism = 2", "parallelism = 1");
        std::fs::write(ws.join("pdq.toml"), t).unwrap();
    }
    let ws = interrupted.path();
    let child = bin()
        .args(["sweep", "--format", "json", "-w"])
        .arg(ws)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first dataset has landed.
    let first = ws.join("lake/data/gongan/d0/_delta_log/00000000000000000001.json");
    stop_when(child, || first.exists());
    let partial = common::landed(ws);
    assert!(partial.len() < 5, "stopped before the end: {partial:?}");
    // Re-run; compare with a sweep that was never interrupted.
    assert!(ran_with_failures(&pdq(&["sweep", "--format", "json"], ws)));
    assert!(ran_with_failures(&pdq(
        &["sweep", "--format", "json"],
        straight.path()
    )));
    assert_eq!(
        common::landed(ws),
        common::landed(straight.path()),
        "the same lake state"
    );
    let runs = json(&pdq(&["runs", "--format", "json"], ws));
    assert_eq!(runs[0]["finished"]["status"], "cancelled");
    assert_eq!(runs[1]["finished"]["status"], "completed");
    assert_eq!(pdq(&["audit", "verify"], ws).status.code(), Some(0));
}

#[test]
fn alerts_go_to_the_webhook_on_failures() {
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async {
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(v): axum::Json<serde_json::Value>| {
                let tx = tx.clone();
                async move {
                    tx.send(v).unwrap();
                    "ok"
                }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    });
    let dir = workspace(
        1,
        100,
        &format!("[alerts]\nwebhook = \"http://{addr}/hook\"\n"),
    );
    let ws = dir.path();
    // The first run: the range rule fails (new failure) → an alert.
    assert!(ran_with_failures(&pdq(&["sweep", "--format", "json"], ws)));
    let msg = rx.recv_timeout(Duration::from_secs(10)).expect("an alert");
    assert_eq!(
        msg["new_failures"],
        serde_json::json!(["gongan.d0/amount_range"])
    );
    // The same failure the next night is not new: no alert.
    std::fs::write(ws.join("in/d0.csv"), "id,amount\n1,-5\n2,3\n").unwrap();
    assert!(ran_with_failures(&pdq(&["sweep", "--format", "json"], ws)));
    assert!(
        rx.recv_timeout(Duration::from_secs(2)).is_err(),
        "no alert for a known failure"
    );
}

#[test]
fn the_daemon_runs_on_schedule_and_stops() {
    let dir = workspace(1, 10, "[schedule]\ncron = \"* * * * * *\"\n");
    let ws = dir.path();
    let o = bin()
        .args(["daemon", "--max-runs", "2", "-w"])
        .arg(ws)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let runs = json(&pdq(&["runs", "--format", "json"], ws));
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        assert_eq!(r["started"]["trigger"], "schedule");
        assert_eq!(r["finished"]["status"], "completed");
    }
    // Restarted after missing slots: one catch-up run, then the schedule.
    std::thread::sleep(Duration::from_millis(2500));
    let o = bin()
        .args(["daemon", "--max-runs", "1", "-w"])
        .arg(ws)
        .output()
        .unwrap();
    assert!(o.status.success());
    let runs = json(&pdq(&["runs", "--format", "json"], ws));
    let last = runs.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["started"]["trigger"], "catch-up", "{last}");
    // A bad cron expression is a one-line error naming the key.
    std::fs::write(ws.join("pdq.toml"), "[schedule]\ncron = \"30 2 * *\"\n").unwrap();
    let o = bin().args(["daemon", "-w"]).arg(ws).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("schedule.cron") && err.contains("expected 5"),
        "{err}"
    );
}

#[test]
fn init_creates_a_workspace_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("bureau");
    // No silent default profile (issue #17): without a terminal to ask on,
    // `--profile` is required, and the error lists every profile with its
    // status; nothing is created.
    let o = bin()
        .arg("init")
        .arg(&ws)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--profile") && err.contains("xpcc-2025") && err.contains("wuzhong-2024"),
        "{err}"
    );
    assert!(!ws.exists(), "nothing created");
    let o = bin()
        .args(["init", "--profile", "tibet-2025"])
        .arg(&ws)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("tibet-2025"));
    for sub in ["datasets", "rules", "catalogs", "published", "audit"] {
        assert!(ws.join(sub).is_dir(), "{sub}");
    }
    let w = pipeline::workspace::Workspace::load(&ws).unwrap();
    assert_eq!(w.config.profile.as_deref(), Some("tibet-2025"));
    assert_eq!(w.config.schedule.cron, "30 2 * * *");
    assert_eq!(w.config.retention.audit_years, 3);
    // Not over an existing workspace.
    let o = bin()
        .args(["init", "--profile", "tibet-2025"])
        .arg(&ws)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    // A sweep over no datasets completes.
    assert!(pdq(&["sweep", "--format", "json"], &ws).status.success());
    // The example workspace shipped in ops/ loads.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/example-workspace");
    let w = pipeline::workspace::Workspace::load(&example).unwrap();
    assert_eq!(w.datasets.len(), 2);
    for d in &w.datasets {
        let rules = example.join(d.rules.as_ref().unwrap());
        quality_rules::RuleFile::load(&rules).unwrap();
    }
}

#[test]
fn a_delivery_older_than_the_declared_frequency_is_late() {
    let dir = workspace(1, 10, "");
    let ws = dir.path();
    let def = ws.join("datasets/gongan/d0.toml");
    let t = std::fs::read_to_string(&def).unwrap();
    std::fs::write(&def, format!("update_frequency = \"daily\"\n{t}")).unwrap();
    // Lands now: on time.
    let r = json(&pdq(&["sweep", "--format", "json"], ws));
    let land = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "land")
        .unwrap()
        .clone();
    assert!(land["error"].is_null(), "{land}");
    // Three days later with nothing new: late, a timeliness failure of the department.
    let later = (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339();
    let r = json(&pdq(&["sweep", "--format", "json", "--as-of", &later], ws));
    let land = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "land")
        .unwrap()
        .clone();
    assert!(land["error"].as_str().unwrap().contains("late"), "{land}");
    assert_eq!(
        r["new_failures"],
        serde_json::json!(["gongan.d0/_delivery"])
    );
    let scorecards: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            ws.join("published/runs")
                .join(r["run_id"].as_str().unwrap())
                .join("scorecards.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let d = &scorecards["datasets"][0];
    let timeliness = d["dimensions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["dimension"] == "timeliness")
        .unwrap();
    assert_eq!(timeliness["score"], 0.0);
}

#[test]
fn snapshot_sources_are_pulled_at_their_declared_frequency() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let h = hits.clone();
    let addr = rt.block_on(async move {
        let app = axum::Router::new().route(
            "/api",
            axum::routing::get(move || {
                let h = h.clone();
                async move {
                    h.fetch_add(1, Ordering::SeqCst);
                    axum::Json(serde_json::json!({"rows": [{"id": 1, "amount": 2}]}))
                }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    });
    let dir = workspace(0, 0, "");
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("datasets/renshe")).unwrap();
    std::fs::write(
        ws.join("datasets/renshe/weekly.toml"),
        format!("update_frequency = \"weekly\"\n[source]\nkind = \"http_api\"\nurl = \"http://{addr}/api\"\nrecords = \"rows\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n[[columns]]\nname = \"amount\"\ntype = \"int64\"\n"),
    )
    .unwrap();
    let at = |days: i64| (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339();
    let land_status = |r: &serde_json::Value| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == "land")
            .unwrap()["status"]
            .clone()
    };
    let r = json(&pdq(&["sweep", "--format", "json", "--as-of", &at(0)], ws));
    assert_eq!(
        (land_status(&r), hits.load(Ordering::SeqCst)),
        (serde_json::json!("ok"), 1)
    );
    // Three days later: a weekly snapshot is not due; the API is not called.
    let r = json(&pdq(&["sweep", "--format", "json", "--as-of", &at(3)], ws));
    assert_eq!(
        (land_status(&r), hits.load(Ordering::SeqCst)),
        (serde_json::json!("skipped"), 1)
    );
    // Eight days later it is; the same content again is an unchanged,
    // on-time delivery, not a late one.
    let r = json(&pdq(&["sweep", "--format", "json", "--as-of", &at(8)], ws));
    assert_eq!(
        (land_status(&r), hits.load(Ordering::SeqCst)),
        (serde_json::json!("ok"), 2)
    );
    assert_eq!(r["new_failures"], serde_json::json!([]), "{r}");
}

/// Issue #23 D: a snapshot that suddenly has no rows is held back, and the
/// sweep's land step says so (the table keeps its rows).
#[test]
fn an_emptied_snapshot_is_held_back_and_reported() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let rows = std::sync::Arc::new(AtomicUsize::new(10));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let n = rows.clone();
    let addr = rt.block_on(async move {
        let app = axum::Router::new().route(
            "/api",
            axum::routing::get(move || {
                let n = n.load(Ordering::SeqCst);
                async move {
                    let list: Vec<_> = (1..=n)
                        .map(|i| serde_json::json!({"id": i, "amount": 2}))
                        .collect();
                    axum::Json(serde_json::json!({ "rows": list }))
                }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    });
    let dir = workspace(0, 0, "");
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("datasets/renshe")).unwrap();
    std::fs::write(
        ws.join("datasets/renshe/snap.toml"),
        format!("[source]\nkind = \"http_api\"\nurl = \"http://{addr}/api\"\nrecords = \"rows\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n[[columns]]\nname = \"amount\"\ntype = \"int64\"\n"),
    )
    .unwrap();
    let land_step = |r: &serde_json::Value| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["stage"] == "land")
            .unwrap()
            .clone()
    };
    let r = json(&pdq(&["sweep", "--format", "json"], ws));
    assert_eq!(land_step(&r)["status"], "ok", "{r}");
    rows.store(0, Ordering::SeqCst);
    let o = pdq(&["sweep", "--format", "json"], ws);
    // Held back is a failure to report: exit 4 and one stderr line.
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("pdq sweep: renshe.snap land held:"), "{err}");
    let r = json(&o);
    let step = land_step(&r);
    assert_eq!(step["status"], "held", "{step}");
    assert!(
        step["error"]
            .as_str()
            .is_some_and(|e| e.contains("held back: the snapshot has 0 rows")),
        "{step}"
    );
    // `pdq ingest` says so too, and fails.
    let o = pdq(&["ingest", "--format", "json"], ws);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("1 snapshot(s) held back"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        common::landed(ws)["renshe.snap"].0,
        10,
        "the table keeps its rows"
    );
}

/// A sample's row means one thing everywhere (issue #23, 10): the record's
/// 0-based index in the delivered file, header and blank lines not counted,
/// in `pdq check` and in the sweep's published results alike.
#[test]
fn sample_rows_are_the_same_record_index_in_check_and_sweep() {
    let dir = workspace(1, 3, "");
    let ws = dir.path();
    // Records 0..=9; a blank line after record 2; only record 7 fails.
    let mut csv = String::from("id,amount\n");
    for r in 0..10 {
        csv += &format!("{r},{}\n", if r == 7 { -1 } else { r });
        if r == 2 {
            csv += "\n";
        }
    }
    std::fs::write(ws.join("in/d0.csv"), csv).unwrap();
    let o = pdq(&["sweep"], ws);
    assert!(
        matches!(o.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.join("published/latest.json")).unwrap()).unwrap();
    let run = ws.join("published").join(latest["dir"].as_str().unwrap());
    let swept: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("gongan.d0.json")).unwrap()).unwrap();
    let checked = Command::new(env!("CARGO_BIN_EXE_pdq"))
        .args(["check", "--format", "json", "--data"])
        .arg(ws.join("in/d0.csv"))
        .arg("--rules")
        .arg(ws.join("rules/people.yaml"))
        .output()
        .unwrap();
    let checked = json(&checked);
    let row = |report: &serde_json::Value| {
        let r = report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "amount_range")
            .unwrap()
            .clone();
        assert_eq!(r["failed"], 1, "{r}");
        r["samples"][0]["row"].as_u64().unwrap()
    };
    assert_eq!(row(&checked), 7, "pdq check");
    assert_eq!(row(&swept), 7, "the sweep's results");
}

/// An as-of date past the last holiday notice is said before any work,
/// naming the year and how to import it (issue #23, 4: it used to pass in
/// silence); the sweep still lands, checks and scores (issue #17, 11).
#[test]
fn an_as_of_date_beyond_the_calendar_is_said_up_front() {
    let dir = workspace(1, 3, "");
    let ws = dir.path();
    let o = pdq(&["sweep", "--as-of", "2031-06-01"], ws);
    let err = String::from_utf8_lossy(&o.stderr).trim().to_string();
    let first = err.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("pdq sweep: warning: --as-of 2031-06-01")
            && first.contains("no holiday notice for 2031")
            && first.contains("provisional")
            && first.contains("pdq calendar import"),
        "{err}"
    );
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(ws.join("published/latest.json").exists(), "the sweep ran");
}

/// A sweep in late December whose checks fail has rectification deadlines
/// in a year no holiday notice covers yet: it succeeds, and every such
/// deadline is marked provisional in the JSON, the exports and the site
/// (issue #17, 11); `pdq calendar import` of the year's notice makes the
/// next run's deadlines final, counted with the notice's holidays.
#[test]
fn a_late_december_sweep_marks_next_years_deadlines_provisional() {
    let dir = workspace(1, 10, "");
    let ws = dir.path();
    let o = pdq(&["sweep", "--as-of", "2026-12-28T10:00:00+08:00"], ws);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "rules fail, no step fails: {err}");
    let latest = |ws: &Path| {
        let p: serde_json::Value =
            serde_json::from_slice(&std::fs::read(ws.join("published/latest.json")).unwrap())
                .unwrap();
        ws.join("published").join(p["dir"].as_str().unwrap())
    };
    let rects = |ws: &Path| -> Vec<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(latest(ws).join("rectifications.json")).unwrap())
            .unwrap()
    };
    let r = rects(ws);
    assert!(!r.is_empty(), "a failing rule opens an item");
    for item in &r {
        // Ten working days from Monday 28 December 2026: 29–31 December,
        // then 2027 provisionally (1 January and the weekend off): 4–8,
        // 11 and 12 January.
        assert_eq!(item["opened_on"], "2026-12-28", "{item}");
        assert_eq!(item["due"], "2027-01-12", "{item}");
        assert_eq!(item["provisional"], true, "{item}");
    }
    let site = std::fs::read_to_string(latest(ws).join("site/rectification.html")).unwrap();
    let exports: String = std::fs::read_dir(latest(ws).join("exports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    assert!(
        exports.contains("2027-01-12 暂定 provisional"),
        "the export marks it"
    );
    assert!(
        site.contains("2027-01-12 <span class=provisional"),
        "the site marks it"
    );

    // The 2027 notice: 4 January is made a holiday (a made-up notice, to
    // see it count). The next sweep's items are due a day later, final.
    let notice = ws.join("notice-2027.csv");
    std::fs::write(
        &notice,
        "date,kind,festival\n2027-01-01,holiday,元旦\n2027-01-04,holiday,test\n",
    )
    .unwrap();
    let o = pdq(&["calendar", "import"], ws);
    assert_eq!(o.status.code(), Some(1), "a file is required");
    assert!(String::from_utf8_lossy(&o.stderr).contains("<FILE>"));
    let o = pdq(&["calendar", "import", notice.to_str().unwrap()], ws);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("2027") && out.contains("provisional"), "{out}");
    assert!(ws.join("calendar/2027.csv").exists());
    let o = pdq(&["sweep", "--as-of", "2026-12-29T10:00:00+08:00"], ws);
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for item in rects(ws) {
        assert_eq!(item["due"], "2027-01-13", "{item}");
        assert_eq!(item["provisional"], false, "{item}");
    }

    // A bad notice names its file and line, and changes nothing.
    std::fs::write(&notice, "date,kind,festival\n2028-02-30,holiday,x\n").unwrap();
    let o = pdq(&["calendar", "import", notice.to_str().unwrap()], ws);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("notice-2027.csv:2") && err.contains("2028-02-30"),
        "{err}"
    );
    assert!(!ws.join("calendar/2028.csv").exists());
}

/// Published results name a source as a department recognises it, never
/// with the credentials or query tokens of its URL, nor the server's own
/// directory layout (issue #18, 8).
#[test]
fn published_results_carry_no_credential_or_server_path() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = rt.block_on(async move {
        let app = axum::Router::new().route(
            "/rows",
            axum::routing::get(|| async {
                axum::Json(
                    serde_json::json!({"rows": [{"id": 1, "amount": -1}, {"id": 2, "amount": 2}]}),
                )
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    });
    let dir = workspace(0, 0, "");
    let ws = dir.path();
    // A file delivered from a directory outside the workspace.
    let outside = tempfile::tempdir().unwrap();
    let export = outside.path().join("server-exports-7f3a");
    std::fs::create_dir_all(&export).unwrap();
    std::fs::write(export.join("people.csv"), "id,amount\n1,-5\n").unwrap();
    std::fs::create_dir_all(ws.join("datasets/renshe")).unwrap();
    let cols = "[[columns]]\nname = \"id\"\ntype = \"int64\"\n[[columns]]\nname = \"amount\"\ntype = \"int64\"\n";
    std::fs::write(
        ws.join("datasets/renshe/api.toml"),
        format!("rules = \"rules/people.yaml\"\n[source]\nkind = \"http_api\"\nurl = \"http://bob:pw-4d2e@{addr}/rows?access_token=TOKEN-9c81\"\nrecords = \"rows\"\n{cols}"),
    )
    .unwrap();
    std::fs::write(
        ws.join("datasets/renshe/file.toml"),
        format!(
            "rules = \"rules/people.yaml\"\n[source]\nkind = \"file\"\npath = \"{}\"\n{cols}",
            export.join("people.csv").display()
        ),
    )
    .unwrap();
    let o = pdq(&["sweep"], ws);
    assert!(
        matches!(o.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut files = vec![];
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    walk(&ws.join("published"), &mut files);
    assert!(files.len() > 3, "{files:?}");
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).to_string();
        for secret in ["pw-4d2e", "TOKEN-9c81", outside.path().to_str().unwrap()] {
            assert!(!text.contains(secret), "{} shows {secret}", f.display());
        }
    }
    let latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.join("published/latest.json")).unwrap()).unwrap();
    let run = ws.join("published").join(latest["dir"].as_str().unwrap());
    let report = |id: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(run.join(format!("{id}.json"))).unwrap()).unwrap()
    };
    let api = report("renshe.api");
    assert_eq!(
        api["files"],
        serde_json::json!([format!("http://{addr}/rows")])
    );
    let file = report("renshe.file");
    assert_eq!(
        file["files"],
        serde_json::json!(["…/server-exports-7f3a/people.csv"])
    );
}

/// Issue #18, faults: the lake's disk fills up during a sweep (a real 8 MiB
/// tmpfs; root, as in CI, or else `unshare`). The dataset that does not fit
/// fails in one stderr line saying the lake's disk is full, the others
/// land, the sweep exits 4 (partial failure) without a panic; once space is
/// freed the next sweep lands it, once.
#[test]
fn a_full_lake_disk_fails_the_dataset_that_does_not_fit_and_a_rerun_lands_it() {
    const ME: &str = "a_full_lake_disk_fails_the_dataset_that_does_not_fit_and_a_rerun_lands_it";
    let dir = workspace(2, 100, "");
    let ws = dir.path();
    let lake = ws.join("lake");
    std::fs::create_dir_all(&lake).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=8m", "tmpfs"])
        .arg(&lake)
        .output()
        .map(|o| o.status.success());
    if mounted.as_ref().ok() != Some(&true) {
        if std::env::var_os("PDQ_TEST_IN_UNSHARE").is_some() {
            eprintln!("skipped: cannot mount a small disk even in a namespace: {mounted:?}");
            return;
        }
        // Not root: the same test in a namespace where it may mount.
        match Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount"])
            .arg(std::env::current_exe().unwrap())
            .args(["--exact", ME, "--nocapture"])
            .env("PDQ_TEST_IN_UNSHARE", "1")
            .status()
        {
            Ok(s) => assert!(s.success(), "the test failed inside unshare: {s}"),
            Err(e) => {
                eprintln!("skipped: cannot mount a small disk ({mounted:?}) nor run unshare ({e})")
            }
        }
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(self.0).status();
        }
    }
    let _unmount = Unmount(&lake);
    // A 2 MB dataset of incompressible text.
    let mut big = String::from("id,amount,note\n");
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for r in 0..20_000 {
        let mut note = String::new();
        for _ in 0..6 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            note.push_str(&format!("{x:016x}"));
        }
        big.push_str(&format!("{r},{r},{note}\n"));
    }
    std::fs::write(ws.join("in/big.csv"), big).unwrap();
    std::fs::write(
        ws.join("datasets/gongan/big.toml"),
        "rules = \"rules/people.yaml\"\n[source]\nkind = \"file\"\npath = \"in/big.csv\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n[[columns]]\nname = \"amount\"\ntype = \"int64\"\n[[columns]]\nname = \"note\"\ntype = \"string\"\n",
    )
    .unwrap();
    // All of the disk taken but 1 MiB.
    let df = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(&lake)
        .output()
        .unwrap();
    let free: u64 = String::from_utf8_lossy(&df.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let filler = lake.join("filler");
    std::fs::write(&filler, vec![7u8; (free - (1 << 20)) as usize]).unwrap();

    let o = pdq(&["sweep", "--format", "json", "--as-of", "2026-11-22"], ws);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("pdq sweep:") && !l.starts_with("pdq sweep: warning:"))
        .collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("gongan.big land failed"), "{err}");
    assert!(lines[0].contains("the lake's disk is full"), "{err}");
    assert!(
        lines[0].contains(&lake.canonicalize().unwrap().display().to_string()),
        "{err}"
    );
    let r = json(&o);
    let landed = |r: &serde_json::Value, ds: &str| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["dataset"] == ds && s["stage"] == "land")
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(landed(&r, "gongan.big"), "failed");
    assert_eq!(landed(&r, "gongan.d0"), "ok");
    assert_eq!(landed(&r, "minzheng.d1"), "ok");

    // Space freed: the next sweep lands it, once.
    std::fs::remove_file(&filler).unwrap();
    let o = pdq(&["sweep", "--format", "json", "--as-of", "2026-11-23"], ws);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(ran_with_failures(&o), "{err}");
    let r = json(&o);
    let step = |r: &serde_json::Value, ds: &str| {
        r["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["dataset"] == ds && s["stage"] == "land")
            .unwrap()
            .clone()
    };
    let big = step(&r, "gongan.big");
    assert_eq!(big["status"], "ok", "{err}");
    assert_eq!(big["rows"], 20_000, "{big}");
    assert!(
        big["outputs"]
            .as_str()
            .unwrap()
            .contains("\"landed\":20000"),
        "{big}"
    );
    // And only once: the next sweep finds nothing new.
    let o = pdq(&["sweep", "--format", "json", "--as-of", "2026-11-24"], ws);
    let big = step(&json(&o), "gongan.big");
    assert_eq!(
        (&big["status"], &big["rows"]),
        (&"ok".into(), &0.into()),
        "{big}"
    );
}

/// Every sweep ends with the lake's upkeep, a `vacuum` step over every
/// table; `pdq vacuum` does the same by hand. Within `[retention]
/// lake_days` a replaced full delivery's files stay (the earlier version
/// is readable); a window of 0 days is refused at load, naming the key.
/// (Deletion past the window: `land::lake::tests::vacuum_deletes_…`.)
#[test]
fn a_sweep_ends_with_the_vacuum_and_the_window_is_kept() {
    let dir = workspace(1, 20, "");
    let ws = dir.path();
    let vacuum_step = |o: &Output| -> serde_json::Value {
        let r = json(o);
        let steps = r["steps"].as_array().unwrap();
        let s = steps
            .iter()
            .find(|s| s["stage"] == "vacuum")
            .unwrap_or_else(|| panic!("no vacuum step in {steps:?}"))
            .clone();
        assert_eq!(steps.last().unwrap()["stage"], "vacuum", "the last step");
        s
    };
    let o = pdq(&["sweep", "--format", "json"], ws);
    assert!(
        ran_with_failures(&o),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let step = vacuum_step(&o);
    assert_eq!(step["status"], "ok", "{step}");
    let out: serde_json::Value = serde_json::from_str(step["outputs"].as_str().unwrap()).unwrap();
    assert!(out["tables"].as_u64().unwrap() >= 5, "{out}");
    assert_eq!(out["files_deleted"], 0, "{out}");
    // A new full delivery replaces the first.
    let csv = ws.join("in/d0.csv");
    let mut text = std::fs::read_to_string(&csv).unwrap();
    text.push_str("20,20\n");
    std::fs::write(&csv, text).unwrap();
    let o = pdq(&["sweep", "--format", "json"], ws);
    assert!(
        ran_with_failures(&o),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(vacuum_step(&o)["status"], "ok");
    let parquet = || {
        std::fs::read_dir(ws.join("lake/data/gongan/d0"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .path()
                    .extension()
                    .is_some_and(|x| x == "parquet")
            })
            .count()
    };
    let files = parquet();
    assert!(files >= 2, "the replaced delivery is still there: {files}");
    let o = pdq(&["vacuum", "--dry-run", "--format", "json"], ws);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_eq!(
        (v["dry_run"].as_bool(), v["files"].as_u64()),
        (Some(true), Some(0)),
        "{v}"
    );
    assert_eq!(v["lake_days"], 7);
    let o = pdq(&["vacuum"], ws);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_eq!(
        (v["dry_run"].as_bool(), v["files"].as_u64()),
        (Some(false), Some(0)),
        "{v}"
    );
    assert!(v["tables"].as_u64().unwrap() >= 5, "{v}");
    assert_eq!(parquet(), files, "nothing within the window goes");
    // The audit log has the sweeps' vacuums and the one by hand.
    let o = pdq(&["audit", "verify"], ws);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = pdq(&["audit", "show", "--last", "100"], ws);
    let log = String::from_utf8_lossy(&o.stdout);
    let vacuums: Vec<&str> = log.lines().filter(|l| l.contains(" vacuum ")).collect();
    assert_eq!(vacuums.len(), 3, "{log}");
    assert!(vacuums[2].contains("cli:vacuum"), "{log}");
    // A table whose log is damaged fails its own vacuum, named; the
    // others are vacuumed, and the sweep says so with exit 4.
    let log = ws.join("lake/_pdq/usage_prunes/_delta_log");
    std::fs::create_dir_all(&log).unwrap();
    std::fs::write(log.join("00000000000000000000.json"), "not a delta log\n").unwrap();
    let o = pdq(&["vacuum", "--format", "json"], ws);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("_pdq/usage_prunes"), "{err}");
    let v = json(&o);
    assert_eq!(v["failed"].as_array().unwrap().len(), 1, "{v}");
    assert!(
        v["tables"].as_u64().unwrap() >= 5,
        "the others are vacuumed: {v}"
    );
    let o = pdq(&["sweep"], ws);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("pdq sweep: vacuum failed") && l.contains("_pdq/usage_prunes")),
        "{err}"
    );
    std::fs::remove_dir_all(ws.join("lake/_pdq/usage_prunes")).unwrap();
    let toml = std::fs::read_to_string(ws.join("pdq.toml")).unwrap();
    std::fs::write(
        ws.join("pdq.toml"),
        format!("{toml}[retention]\nlake_days = 0\n"),
    )
    .unwrap();
    for verb in [&["vacuum"][..], &["sweep"][..]] {
        let o = pdq(verb, ws);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{verb:?}: {err}");
        assert!(
            err.contains("pdq.toml")
                && err.contains("retention.lake_days = 0")
                && err.trim().lines().count() == 1,
            "{verb:?}: {err}"
        );
    }
    std::fs::write(
        ws.join("pdq.toml"),
        format!("{toml}[retention]\nonesource_runs = 0\n"),
    )
    .unwrap();
    let o = pdq(&["onesource"], ws);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("retention.onesource_runs = 0") && err.trim().lines().count() == 1,
        "{err}"
    );
}

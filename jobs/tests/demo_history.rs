//! The demo holds weeks of nightly runs (issue #23, 14), through the real
//! binary: `pdq demo` sweeps one night a week for four weeks, so scores have
//! a trend, the ranking moves, rectification items are opened, closed and recur, the year's
//! evaluation has more than one monthly checkpoint and the site's trend
//! chart more than one point. Two demos publish the same files, apart from
//! what names the real time or the place of the workspace (the run ids, the
//! landing times, the checks' durations, the workspace's path).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Output;

fn pdq(args: &[&str]) -> Output {
    common::home_bin("demo-history-home")
        .args(args)
        .output()
        .expect("pdq runs")
}

fn ran(what: &str, o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// The published text files, with the run ids written as RUN<k> (k: the
/// run's place in time), real-time stamps as TIME, durations as 0 and the
/// workspace's path as WS.
/// The published runs' directories, oldest first (a run id starts with its
/// start time, and the demo sweeps its nights in date order).
fn runs_dir_names(ws: &Path) -> Vec<String> {
    let mut r: Vec<String> = std::fs::read_dir(ws.join("published/runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    r.sort();
    r
}

fn published(ws: &Path) -> BTreeMap<String, String> {
    let run = regex::Regex::new(r"\d{8}T\d{9}Z-[0-9a-f]{6}").unwrap();
    let stamp =
        regex::Regex::new(r"(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
            .unwrap();
    let elapsed = regex::Regex::new(r#""(elapsed|duration)[a-z_]*"\s*:\s*[0-9.]+"#).unwrap();
    let runs = runs_dir_names(ws);
    // Real time: a stamp with fractions of a second, or on a day a run
    // started (the demo's as-of times are whole seconds, weeks earlier).
    let run_days: BTreeSet<String> = runs
        .iter()
        .map(|r| format!("{}-{}-{}", &r[..4], &r[4..6], &r[6..8]))
        .collect();
    let real_time = |t: &str| {
        stamp
            .replace_all(t, |c: &regex::Captures| {
                if c.get(2).is_some() || run_days.contains(&c[1]) {
                    "TIME".to_string()
                } else {
                    c[0].to_string()
                }
            })
            .into_owned()
    };
    let name_runs = |t: &str| {
        run.replace_all(t, |c: &regex::Captures| {
            let id = &c[0];
            format!(
                "RUN{}",
                runs.iter()
                    .position(|r| r == id)
                    .map_or("?".into(), |k| k.to_string())
            )
        })
        .into_owned()
    };
    let mut out = BTreeMap::new();
    let mut stack = vec![ws.join("published")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
            if !matches!(ext, "json" | "csv" | "jsonld" | "html" | "svg") {
                continue;
            }
            let text = std::fs::read_to_string(&p).unwrap();
            let text = text.replace(&ws.display().to_string(), "WS");
            let text = real_time(&text);
            let text = elapsed.replace_all(&text, "\"elapsed\": 0");
            let rel = p.strip_prefix(ws).unwrap().display().to_string();
            out.insert(name_runs(&rel), name_runs(&text));
        }
    }
    out
}

#[test]
fn the_demo_holds_weeks_of_nightly_runs_and_publishes_the_same_files_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a/demo"), dir.path().join("b/demo"));
    let out = ran("pdq demo", &pdq(&["demo", "--out", a.to_str().unwrap()]));
    assert_eq!(out.matches("夜间作业 Night").count(), 5, "{out}");

    // A second demo publishes the same files (before anything else
    // publishes into the first, as `pdq evaluate` does).
    ran("pdq demo", &pdq(&["demo", "--out", b.to_str().unwrap()]));
    let (pa, pb) = (published(&a), published(&b));
    let (ka, kb): (BTreeSet<&String>, BTreeSet<&String>) =
        (pa.keys().collect(), pb.keys().collect());
    let only: Vec<_> = ka.symmetric_difference(&kb).collect();
    assert!(only.is_empty(), "published by one demo only: {only:?}");
    assert!(pa.len() > 50, "{} published files", pa.len());
    for (path, text) in &pa {
        assert!(pb[path] == *text, "{path} differs between two demos");
    }

    // At least four weeks of completed runs, one a night, in date order.
    let runs = ran(
        "pdq runs",
        &pdq(&["runs", "-w", a.to_str().unwrap(), "--format", "json"]),
    );
    let runs: serde_json::Value = serde_json::from_str(&runs).unwrap();
    let mut nights: Vec<chrono::DateTime<chrono::Utc>> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["finished"]["status"] == "completed")
        .map(|r| r["finished"]["as_of"].as_str().unwrap().parse().unwrap())
        .collect();
    nights.sort();
    assert!(nights.len() >= 5, "{} completed runs", nights.len());
    let span = *nights.last().unwrap() - nights[0];
    assert!(span >= chrono::Duration::weeks(4), "runs span {span}");

    // The latest publication: the final night's.
    let latest = read_json(&a.join("published/latest.json"));
    let run_dir = a.join("published").join(latest["dir"].as_str().unwrap());
    let scorecards = read_json(&run_dir.join("scorecards.json"));
    assert_eq!(
        scorecards["departments"][0]["as_of"], "2026-11-20T00:00:00Z",
        "the last publication is the final night's"
    );

    // Issue #21, 5: the portal stops publishing 民政局's shared 养老机构备案
    // on the final night while the usage log (imported before that night)
    // shows 人社 and 卫健 using it: a withdrawal with consumers, in the
    // night's published catalog findings and on 民政局's page; the log's
    // incomplete rows are on the consumers' scorecards, operators masked.
    let findings = read_json(&run_dir.join("catalog/findings.json"));
    let withdrawn: Vec<&serde_json::Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "withdrawn_with_consumers")
        .collect();
    assert_eq!(withdrawn.len(), 1, "{withdrawn:?}");
    assert_eq!(withdrawn[0]["department"], "minzheng");
    assert_eq!(withdrawn[0]["code"], "A0102-0003");
    let message = withdrawn[0]["message"].as_str().unwrap();
    assert!(
        message.contains("renshe, weijian") && message.contains("第二十四条"),
        "{message}"
    );
    let minzheng_page = std::fs::read_to_string(run_dir.join("site/dept/minzheng.html")).unwrap();
    assert!(
        minzheng_page.contains("共享资源下线"),
        "民政局's page shows the withdrawal"
    );
    let renshe = scorecards["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "renshe")
        .unwrap();
    let usage: Vec<&str> = renshe["usage_findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["check"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(usage, ["usage_log_incomplete"], "{renshe}");

    // The ranking moves: public security, held back by its short and stale
    // deliveries, ranks first only once it has rectified them.
    let mut ranks = vec![];
    for r in runs_dir_names(&a) {
        let cards = read_json(&a.join("published/runs").join(r).join("scorecards.json"));
        let gongan = cards["departments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == "gongan")
            .expect("public security is scored")
            .clone();
        ranks.push(gongan["rank"].as_u64().unwrap());
    }
    assert_eq!(ranks.len(), 5);
    assert_eq!(ranks.last(), Some(&1), "{ranks:?}");
    assert!(ranks[..4].iter().all(|r| *r > 1), "{ranks:?}");

    // Rectification: public security's short delivery is fixed and recurs;
    // its stale delivery and the births' zero weights are fixed.
    let items = read_json(&run_dir.join("rectifications.json"));
    let items = items.as_array().unwrap();
    let of =
        |id: &str| -> Vec<&serde_json::Value> { items.iter().filter(|i| i["id"] == id).collect() };
    let volume = of("gongan.household_registration/volume");
    assert_eq!(volume.len(), 2, "opened, closed, opened again: {volume:?}");
    assert!(
        volume.iter().all(|i| i["closed_on"].is_string()),
        "{volume:?}"
    );
    assert!(volume[0]["closed_on"].as_str() <= volume[1]["opened_on"].as_str());
    for id in [
        "gongan.household_registration/fresh",
        "weijian.birth_certificates/weight",
    ] {
        let i = of(id);
        assert_eq!(i.len(), 1, "{id}: {i:?}");
        assert!(
            i[0]["opened_on"].as_str() < i[0]["closed_on"].as_str(),
            "{id} opened, then closed: {i:?}"
        );
    }

    // The year's evaluation: a monthly checkpoint for October and November,
    // and public security's score moves over the months.
    let eval = ran(
        "pdq evaluate",
        &pdq(&[
            "evaluate",
            "-w",
            a.to_str().unwrap(),
            "--year",
            "2026",
            "--format",
            "json",
        ]),
    );
    let eval: serde_json::Value = serde_json::from_str(&eval).unwrap();
    let gongan = eval["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["department"] == "gongan")
        .expect("public security is evaluated");
    let months: Vec<&str> = gongan["monthly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["month"].as_str().unwrap())
        .collect();
    assert_eq!(months, ["2026-10", "2026-11"]);
    let scores: BTreeSet<String> = gongan["monthly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["score"].to_string())
        .collect();
    assert_eq!(scores.len(), 2, "the score changes: {gongan}");

    // The site's trend chart: one point a night for every department.
    let index = std::fs::read_to_string(a.join("published/site/index.html")).unwrap();
    let lines: Vec<&str> = index
        .split("<polyline")
        .skip(1)
        .map(|l| {
            l.split("points=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(lines.len(), 6, "a line per department");
    for l in &lines {
        assert_eq!(l.split(' ').count(), 5, "a point a night: {l}");
    }
    let moving = lines
        .iter()
        .filter(|l| {
            let ys: BTreeSet<&str> = l.split(' ').filter_map(|p| p.split(',').nth(1)).collect();
            ys.len() > 1
        })
        .count();
    assert!(moving >= 2, "scores move on the chart: {lines:?}");
}

//! The publish stage, through the real binary: `pdq publish` rebuilds what
//! the sweep published from the lake alone, byte for byte (issue #20, 3),
//! and a sweep of one dataset still publishes every department and dataset
//! at its latest state (issue #23, 1).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

fn pdq(args: &[&str]) -> Output {
    common::home_bin("publish-home")
        .args(args)
        .output()
        .expect("pdq runs")
}

fn ran(what: &str, o: &Output) {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file under `dir`, by path relative to it (hidden working files
/// excluded: they are never part of a publication).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn read_json(p: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn ids(v: &serde_json::Value, key: &str, field: &str) -> Vec<String> {
    let mut ids: Vec<String> = v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .iter()
        .map(|c| c[field].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[test]
fn publish_rebuilds_the_sweeps_publication_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    let w = ws.to_str().unwrap();
    ran("pdq demo", &pdq(&["demo", "--out", w]));
    let published = ws.join("published");
    let before = files(&published);
    let run = read_json(&published.join("latest.json"))["run"]
        .as_str()
        .unwrap()
        .to_string();
    // Every kind of artefact is there to compare.
    for f in [
        "latest.json".to_string(),
        format!("runs/{run}/summary.json"),
        format!("runs/{run}/scorecards.json"),
        format!("runs/{run}/rectifications.json"),
        format!("runs/{run}/exports/scorecards.xlsx"),
        format!("runs/{run}/site/index.html"),
        format!("runs/{run}/catalog/catalog.json"),
        format!("runs/{run}/onesource.json"),
        "site/index.html".to_string(),
        "catalog/catalog.json".to_string(),
    ] {
        assert!(
            before.contains_key(&f),
            "the sweep published {f}: {:?}",
            before.keys().take(20).collect::<Vec<_>>()
        );
    }
    // Everything but the evaluation (written by `pdq evaluate`, not by a
    // sweep) is rebuilt from the lake.
    std::fs::remove_dir_all(&published).unwrap();
    // The demo sweeps several nights: each earlier night's run published
    // its own directory, which `pdq publish --run` rebuilds; the last
    // publication is the latest run's.
    let earlier: std::collections::BTreeSet<String> = before
        .keys()
        .filter_map(|k| k.strip_prefix("runs/")?.split('/').next())
        .filter(|r| *r != run)
        .map(str::to_string)
        .collect();
    assert!(earlier.len() >= 4, "the demo's earlier nights: {earlier:?}");
    for r in &earlier {
        ran("pdq publish --run", &pdq(&["publish", "-w", w, "--run", r]));
    }
    ran("pdq publish", &pdq(&["publish", "-w", w]));
    let after = files(&published);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (path, bytes) in &before {
        assert!(after[path] == *bytes, "{path} differs after `pdq publish`");
    }
    // Published results hold department data: nothing is world-readable,
    // whatever the umask (issue #18, 8).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fn modes(dir: &Path, out: &mut Vec<(String, u32)>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let mode = std::fs::metadata(&p).unwrap().permissions().mode();
                out.push((p.display().to_string(), mode));
                if p.is_dir() {
                    modes(&p, out);
                }
            }
        }
        let mut all = vec![];
        modes(&published.join("runs"), &mut all);
        modes(&published.join("site"), &mut all);
        assert!(all.len() > 10);
        for (p, mode) in all {
            assert_eq!(mode & 0o007, 0, "{p} is world-accessible ({mode:o})");
        }
    }
    // A second publication of the same run replaces it with the same bytes.
    ran(
        "pdq publish again",
        &pdq(&["publish", "-w", w, "--run", &run]),
    );
    assert_eq!(files(&published), before);
    // An unknown run is an error that names it.
    let o = pdq(&["publish", "-w", w, "--run", "nosuchrun"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nosuchrun"));
}

#[test]
fn a_sweep_of_one_dataset_publishes_every_department() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    let w = ws.to_str().unwrap();
    ran("pdq demo", &pdq(&["demo", "--out", w]));
    let published = ws.join("published");
    let first = read_json(&published.join("latest.json"))["run"]
        .as_str()
        .unwrap()
        .to_string();
    let run_dir = |run: &str| published.join("runs").join(run);
    let full = read_json(&run_dir(&first).join("scorecards.json"));
    let departments = ids(&full, "departments", "id");
    let datasets = ids(&full, "datasets", "id");
    assert!(departments.len() >= 3, "{departments:?}");
    let summary = read_json(&run_dir(&first).join("summary.json"));
    let checked = ids(&summary, "datasets", "dataset");
    let one = &checked[0];

    let o = pdq(&["sweep", "-w", w, "--dataset", one]);
    assert!(
        matches!(o.status.code(), Some(0 | 3 | 4)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let second = read_json(&published.join("latest.json"))["run"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(first, second, "the one-dataset sweep published");
    let partial = read_json(&run_dir(&second).join("scorecards.json"));
    assert_eq!(ids(&partial, "departments", "id"), departments);
    assert_eq!(ids(&partial, "datasets", "id"), datasets);
    // Each dataset's results are there, from the run that last checked it.
    let summary = read_json(&run_dir(&second).join("summary.json"));
    assert_eq!(ids(&summary, "datasets", "dataset"), checked);
    for d in summary["datasets"].as_array().unwrap() {
        let id = d["dataset"].as_str().unwrap();
        let expected = if id == one { &second } else { &first };
        assert_eq!(d["checked_in"].as_str(), Some(expected.as_str()), "{id}");
        assert!(
            run_dir(&second).join(format!("{id}.json")).is_file(),
            "{id}"
        );
    }
    // The site and the catalog are whole too.
    let index = std::fs::read_to_string(run_dir(&second).join("site/index.html")).unwrap();
    let full_index = std::fs::read_to_string(run_dir(&first).join("site/index.html")).unwrap();
    for d in &departments {
        assert_eq!(
            index.matches(d.as_str()).count() > 0,
            full_index.matches(d.as_str()).count() > 0,
            "department {d} on the site"
        );
    }
    // The catalog of the last assessment (the one-dataset sweep harvested
    // nothing) is published again, whole.
    let catalog =
        |run: &str| std::fs::read_to_string(run_dir(run).join("catalog/catalog.csv")).unwrap();
    assert_eq!(
        catalog(&second).lines().count(),
        catalog(&first).lines().count()
    );
    assert_eq!(
        std::fs::read(published.join("catalog/catalog.csv")).unwrap(),
        catalog(&second).into_bytes(),
        "the current catalog is the partial run's"
    );
}

/// Sweeps overlap: a run that started first can finish last. Its
/// publication is kept under `runs/`, but `latest.json`, `site/` and
/// `catalog/` keep showing the newer run that published before it.
#[test]
fn an_older_run_publishing_last_does_not_replace_the_current_publication() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    let w = ws.to_str().unwrap();
    ran("pdq demo", &pdq(&["demo", "--out", w]));
    let published = ws.join("published");
    let latest = || {
        read_json(&published.join("latest.json"))["run"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let older = latest();
    let summary = read_json(&published.join("runs").join(&older).join("summary.json"));
    let one = ids(&summary, "datasets", "dataset")[0].clone();
    let o = pdq(&["sweep", "-w", w, "--dataset", &one]);
    assert!(
        matches!(o.status.code(), Some(0 | 3 | 4)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let newer = latest();
    assert!(newer > older, "{newer} after {older}");
    let current = files(&published.join("site"));
    // The older run's last step, as its sweep runs it, after the newer one.
    let workspace = pipeline::workspace::Workspace::load(&ws).unwrap();
    let lake = pipeline::land::Lake::open(&workspace.config.lake, &workspace.dir).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let as_of = rt
        .block_on(pipeline::run::runs(&lake))
        .unwrap()
        .into_iter()
        .find(|r| r.started.run_id == older)
        .unwrap()
        .started
        .as_of;
    let (step, dir_written) = rt.block_on(pipeline::publish::publish_step(
        &workspace, &lake, &older, as_of,
    ));
    assert_eq!(step.status, "ok", "{:?}", step.error);
    assert_eq!(dir_written, Some(published.join("runs").join(&older)));
    assert_eq!(latest(), newer, "latest.json still points at the newer run");
    assert_eq!(
        files(&published.join("site")),
        current,
        "the site is still the newer run's"
    );
    assert_eq!(
        files(&published.join("site")),
        files(&published.join("runs").join(&newer).join("site"))
    );
    // `pdq publish --run` of the older run leaves it alone too; of the
    // newer run, it is current.
    let o = pdq(&["publish", "-w", w, "--run", &older]);
    ran("pdq publish --run older", &o);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("(current)"));
    assert_eq!(latest(), newer);
    let o = pdq(&["publish", "-w", w]);
    ran("pdq publish", &o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("(current)"));
    assert_eq!(latest(), newer);
}

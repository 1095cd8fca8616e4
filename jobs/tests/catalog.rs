//! `pdq harvest` on the demo bureau: versions, unchanged re-runs, a
//! refused harvest and bad configuration, through the real binary.

use std::path::Path;
use std::process::{Command, Output};

fn pdq(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pdq"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("pdq runs")
}

fn json(o: &Output) -> serde_json::Value {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

#[test]
fn harvest_versions_refusal_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    pipeline::demo::generate(&root).unwrap();
    let w = root.to_str().unwrap();
    // Land the extracts first: reconciliation compares with the lake.
    let ingest = pdq(&["ingest", "-w", w, "--format", "json"]);
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    let first = json(&pdq(&["harvest", "-w", w, "--format", "json"]));
    assert_eq!(first["version"], 1);
    assert_eq!(first["new_version"], true);
    assert_eq!(first["entries"], 10);
    let checks: Vec<&str> = first["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["check"].as_str())
        .collect();
    for c in [
        "required_field",
        "enumeration",
        "conditional_share_conditions",
        "no_share_basis",
        "personal_data_open",
        "classified_marking",
        "duplicate_code",
        "harvest_problem",
        "not_mounted",
        "uncatalogued",
        "schema_missing",
        "schema_type",
        "schema_length",
    ] {
        assert!(checks.contains(&c), "the demo plants `{c}`");
    }
    for f in [
        "catalog.json",
        "catalog.csv",
        "catalog.xlsx",
        "dcat.jsonld",
        "open-catalog.csv",
        "findings.json",
    ] {
        assert!(root.join("published/catalog").join(f).is_file(), "{f}");
    }
    // Unchanged sources: no new version.
    let again = json(&pdq(&["harvest", "-w", w, "--format", "json"]));
    assert_eq!(again["version"], 1);
    assert_eq!(again["new_version"], false);
    assert_eq!(again["changes"], 0);
    // The portal export comes back truncated to one of its four entries:
    // that source's harvest is refused and the catalog stands; the other
    // sources were harvested, so it is a partial failure: exit 4, one line.
    let export = root.join("catalogs/portal-export.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    doc["data"]["list"].as_array_mut().unwrap().truncate(1);
    std::fs::write(&export, serde_json::to_vec(&doc).unwrap()).unwrap();
    let refused = pdq(&["harvest", "-w", w, "--format", "json"]);
    assert_eq!(refused.status.code(), Some(4));
    let err = stderr(&refused);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("portal refused") && err.contains("would withdraw 3 of 4"),
        "{err}"
    );
    let after: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(after["entries"], 10);
    assert_eq!(after["version"], 1);
    // A catalog source that does not parse: one line naming file and line.
    std::fs::write(
        root.join("catalogs/zz-bad.toml"),
        "[source]\nkind = \"ftp\"\n",
    )
    .unwrap();
    let bad = pdq(&["harvest", "-w", w]);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("zz-bad.toml") && err.contains("line 2") && err.contains("ftp"),
        "{err}"
    );
    // An unknown source name lists the known ones.
    std::fs::remove_file(root.join("catalogs/zz-bad.toml")).unwrap();
    let unknown = pdq(&["harvest", "-w", w, "--source", "nope"]);
    assert!(
        stderr(&unknown).contains("gongan, open-data, portal, transport-dcat"),
        "{}",
        stderr(&unknown)
    );
    assert!(Path::new(&root.join("lake/_pdq/catalog")).is_dir());
}

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

/// A portal that caps the page size at 20 whatever is asked and states a
/// total of 57; `/broken` loses its last page (issue #19, 6).
fn capped_portal(rt: &tokio::runtime::Runtime) -> std::net::SocketAddr {
    use axum::extract::Query;
    use std::collections::BTreeMap;
    async fn page(broken: bool, q: BTreeMap<String, String>) -> axum::Json<serde_json::Value> {
        let n: usize = q.get("pageNo").and_then(|v| v.parse().ok()).unwrap_or(1);
        let asked: usize = q.get("pageSize").and_then(|v| v.parse().ok()).unwrap_or(10);
        let size = asked.min(20);
        let rows: Vec<serde_json::Value> = (1..=57)
            .skip((n - 1) * size)
            .take(if broken && n >= 3 { 0 } else { size })
            .map(|i| serde_json::json!({"id": i, "资源名称": format!("资源{i}"), "资源提供方": "公安局"}))
            .collect();
        axum::Json(serde_json::json!({"code": 0, "data": {"total": 57, "rows": rows}}))
    }
    rt.block_on(async {
        let app = axum::Router::new()
            .route(
                "/api",
                axum::routing::get(|Query(q): Query<BTreeMap<String, String>>| page(false, q)),
            )
            .route(
                "/broken",
                axum::routing::get(|Query(q): Query<BTreeMap<String, String>>| page(true, q)),
            );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    })
}

#[test]
fn issue_19_capped_pages_are_followed_to_the_stated_total_and_a_shortfall_fails() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = capped_portal(&rt);
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(
        ws.join("pdq.toml"),
        "bureau = \"测试数据局\"\nprofile = \"xinjiang-2023\"\n[departments]\ngongan = \"公安局\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("catalogs")).unwrap();
    let source = |path: &str| {
        format!(
            "[source]\nkind = \"json_api\"\nurl = \"http://{addr}/{path}\"\nrecords = \"data.rows\"\nid = \"id\"\npaging = {{ style = \"page\", param = \"pageNo\", size_param = \"pageSize\", size = 100 }}\n"
        )
    };
    std::fs::write(ws.join("catalogs/capped.toml"), source("api")).unwrap();
    let w = ws.to_str().unwrap();
    // Asked 100 a page, sent 20: all 57 harvested over 3 pages, exit 0.
    let ok = json(&pdq(&["harvest", "-w", w, "--format", "json"]));
    assert_eq!(ok["sources"][0]["status"], "ok");
    assert_eq!(ok["sources"][0]["records"], 57);
    assert_eq!(ok["entries"], 57);
    // The last page lost: the source fails naming 40 of 57, the other
    // source still merges, exit 4 (a partial failure).
    std::fs::write(ws.join("catalogs/broken.toml"), source("broken")).unwrap();
    let out = pdq(&["harvest", "-w", w, "--format", "json"]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("broken failed")
            && err.contains(&format!("{addr}/broken"))
            && err.contains("received 40 of 57 records"),
        "{err}"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let status: Vec<(&str, &str)> = report["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["source"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(status, [("broken", "failed"), ("capped", "ok")]);
    assert_eq!(
        report["entries"], 57,
        "nothing of the truncated source merged"
    );
    // Alone, the truncated source fails the whole harvest: exit 1.
    std::fs::remove_file(ws.join("catalogs/capped.toml")).unwrap();
    let alone = pdq(&["harvest", "-w", w, "--source", "broken"]);
    assert_eq!(alone.status.code(), Some(1));
    assert!(
        stderr(&alone).contains("received 40 of 57"),
        "{}",
        stderr(&alone)
    );
}

/// Issue #19, 2: a portal export read without the right mapping is never
/// "ok with 0 entries": the harvest fails (exit 1, the only source), in one
/// line naming the field, how many records lack it and the keys to map.
/// A portal export of six records (`record(i)`), `catalogs/zz-export.json`,
/// read as a JSON source with no mapping; returns its `.toml`.
fn zz_export(root: &Path, record: impl Fn(usize) -> serde_json::Value) -> std::path::PathBuf {
    let records: Vec<serde_json::Value> = (0..6).map(record).collect();
    std::fs::write(
        root.join("catalogs/zz-export.json"),
        serde_json::to_vec(&serde_json::json!({"list": records})).unwrap(),
    )
    .unwrap();
    let toml_path = root.join("catalogs/zz-export.toml");
    std::fs::write(
        &toml_path,
        "[source]\nkind = \"json_api\"\nurl = \"catalogs/zz-export.json\"\nrecords = \"list\"\n",
    )
    .unwrap();
    toml_path
}

#[test]
fn issue_19_an_unmapped_portal_export_fails_naming_the_keys_to_map() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    pipeline::demo::generate(&root).unwrap();
    let w = root.to_str().unwrap();
    zz_export(
        &root,
        |i| serde_json::json!({"title_cn": format!("资源{i}"), "dept": "公安局", "rate": "每日"}),
    );
    let out = pdq(&[
        "harvest",
        "-w",
        w,
        "--source",
        "zz-export",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("zz-export failed")
            && err.contains("`name` missing in 6 of 6 records")
            && err.contains("title_cn (6)")
            && err.contains("dept (6)"),
        "{err}"
    );
    // Mapped, the same export is harvested.
    std::fs::write(
        root.join("catalogs/zz-export.toml"),
        "[source]\nkind = \"json_api\"\nurl = \"catalogs/zz-export.json\"\nrecords = \"list\"\nmapping = { name = \"title_cn\", provider = \"dept\", update_frequency = \"rate\" }\n",
    )
    .unwrap();
    let ok = pdq(&[
        "harvest",
        "-w",
        w,
        "--source",
        "zz-export",
        "--format",
        "json",
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
}

/// `pdq harvest --suggest-mapping` (issue #19, 1): the export that fails
/// unmapped gets a ready mapping, each line with its coverage; appended to
/// the source file as printed, the harvest succeeds. Suggesting changes
/// nothing: the first real harvest is still version 1.
#[test]
fn issue_19_suggest_mapping_prints_a_mapping_that_harvests() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    pipeline::demo::generate(&root).unwrap();
    let w = root.to_str().unwrap();
    let toml_path = zz_export(
        &root,
        |i| serde_json::json!({"title_cn": format!("资源{i}"), "dept": "公安局", "rate": "每日", "openType": "完全开放", "clicks": i}),
    );
    let source = std::fs::read_to_string(&toml_path).unwrap();
    let out = pdq(&["harvest", "-w", w, "--suggest-mapping", "zz-export"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "[source.mapping]",
        "name = \"title_cn\"",
        "provider = \"dept\"",
        "update_frequency = \"rate\"",
        "open_attribute = \"openType\"",
        "6/6 records, recognised",
        "6/6 records, resembles `title`",
        "\"clicks\" (6)",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    let json_out = json(&pdq(&[
        "harvest",
        "-w",
        w,
        "--suggest-mapping",
        "zz-export",
        "--format",
        "json",
    ]));
    assert_eq!(json_out["report"]["records"], 6);
    assert_eq!(json_out["report"]["unmapped"]["title_cn"], 6);
    // An unknown source is named with those there are.
    let bad = pdq(&["harvest", "-w", w, "--suggest-mapping", "nosuch"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("no catalog source `nosuch`") && stderr(&bad).contains("zz-export"),
        "{}",
        stderr(&bad)
    );
    // Appended as printed, the mapping harvests every record.
    std::fs::write(&toml_path, format!("{source}{text}")).unwrap();
    let ok = json(&pdq(&[
        "harvest",
        "-w",
        w,
        "--source",
        "zz-export",
        "--format",
        "json",
    ]));
    assert_eq!(ok["version"], 1, "suggesting wrote no version");
    let src = &ok["sources"][0];
    assert_eq!(src["status"], "ok", "{src}");
    assert_eq!(src["records"], 6);
    assert_eq!(src["mapping"]["fields"]["name"]["title_cn"], 6, "{src}");
}

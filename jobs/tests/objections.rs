//! Objections (异议/校核, issue #21) through the real binary: filed,
//! forwarded, answered, corrected, re-opened when the fix did not arrive,
//! confirmed by the next delivery and closed; overdue as of a later day;
//! on the scorecard and in the evaluation; every bad input refused with a
//! clear line and nothing changed; no identifier, name or contact shown.

use std::path::Path;
use std::process::Output;

mod common;

const ID: &str = "65010219900101123X";
const OTHER_ID: &str = "650102198505051238";
const NAME: &str = "张三丰";
const PHONE: &str = "13800138000";

fn pdq(args: &[&str], ws: &Path) -> Output {
    common::keyed_bin("audit-objections")
        .args(args)
        .arg("-w")
        .arg(ws)
        .output()
        .expect("pdq runs")
}

/// Runs and must succeed (0, or 3 when rules are at fail).
fn ok(args: &[&str], ws: &Path) -> Output {
    let o = pdq(args, ws);
    assert!(
        matches!(o.status.code(), Some(0 | 3)),
        "pdq {args:?}: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    for secret in [ID, OTHER_ID, NAME, PHONE] {
        for (what, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            assert!(
                !String::from_utf8_lossy(bytes).contains(secret),
                "pdq {args:?} shows {secret} on {what}"
            );
        }
    }
    o
}

/// Runs and must be refused (exit 1) with one line naming `words`.
fn refused(args: &[&str], ws: &Path, words: &[&str]) {
    let o = pdq(args, ws);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(1),
        "pdq {args:?} must be refused: {err}"
    );
    assert!(
        err.lines().any(|l| words.iter().all(|w| l.contains(w))),
        "pdq {args:?}: expected a line naming {words:?}\n{err}"
    );
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)))
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    // 吴忠's text counts the objection steps in working days (第二十一条).
    std::fs::write(
        ws.join("pdq.toml"),
        "profile = \"wuzhong-2024\"\nbureau = \"测试数据局\"\n[lake]\nlocation = \"lake\"\n[departments]\nminzheng = \"民政局\"\ngongan = \"公安局\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("rules")).unwrap();
    std::fs::write(
        ws.join("rules/people.yaml"),
        "dataset: people\nrules:\n  - {id: name_present, dimension: completeness, check: not_null, column: name}\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("datasets/minzheng")).unwrap();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(
        ws.join("in/people.csv"),
        format!("id_number,name,amount\n{ID},{NAME},5\n{OTHER_ID},李四,6\n"),
    )
    .unwrap();
    std::fs::write(
        ws.join("datasets/minzheng/people.toml"),
        "rules = \"rules/people.yaml\"\nmode = \"full\"\n[source]\nkind = \"file\"\npath = \"in/people.csv\"\n[[columns]]\nname = \"id_number\"\ntype = \"string\"\n[[columns]]\nname = \"name\"\ntype = \"string\"\n[[columns]]\nname = \"amount\"\ntype = \"int64\"\n",
    )
    .unwrap();
    dir
}

fn row() -> String {
    format!("id_number={ID}")
}

#[test]
fn objections_from_filing_to_closing_on_scorecards_and_in_the_evaluation() {
    let dir = workspace();
    let ws = dir.path();
    ok(
        &[
            "sweep",
            "--format",
            "json",
            "--as-of",
            "2026-11-02 02:30:00",
        ],
        ws,
    );

    // A citizen's objection to a name, and a department's to the same row.
    let a = json(&ok(
        &[
            "objection",
            "file",
            "--dataset",
            "minzheng.people",
            "--row",
            &row(),
            "--field",
            "name",
            "--what",
            &format!("姓名应为张三峰 (身份证 {ID})"),
            "--reporter",
            "citizen",
            "--contact",
            PHONE,
            "--at",
            "2026-11-02 10:00",
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(a["id"], "2026-0001");
    assert_eq!(a["state"], "filed");
    assert_eq!(a["responsible"], "minzheng");
    assert_eq!(a["contact"], "138****8000");
    assert_eq!(
        a["value"], "张**",
        "the value objected to, from the data, masked"
    );
    let steps = a["steps"].as_array().unwrap();
    // 2 and 5 working days from Monday 2 November (吴忠 第二十一条).
    assert_eq!(steps[0]["step"], "forward");
    assert_eq!(steps[0]["due"], "2026-11-04");
    assert!(steps[0]["basis"].as_str().unwrap().contains("第二十一条"));
    assert_eq!(steps[1]["step"], "verify");
    assert_eq!(steps[1]["due"], "2026-11-09");
    let b = json(&ok(
        &[
            "objection",
            "file",
            "--dataset",
            "minzheng.people",
            "--row",
            &format!("id_number={OTHER_ID}"),
            "--field",
            "amount",
            "--what",
            "金额有误",
            "--reporter",
            "department",
            "--reporter-department",
            "gongan",
            "--at",
            "2026-11-02 11:00",
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(b["id"], "2026-0002");

    // Bad input is refused with one line, and changes nothing.
    let before = json(&ok(&["objection", "list", "--format", "json"], ws));
    refused(
        &[
            "objection",
            "file",
            "--dataset",
            "minzheng.nope",
            "--what",
            "x",
            "--reporter",
            "citizen",
        ],
        ws,
        &["unknown dataset", "minzheng.nope"],
    );
    refused(
        &[
            "objection",
            "file",
            "--dataset",
            "minzheng.people",
            "--row",
            "id_number=650102200001011234",
            "--field",
            "name",
            "--what",
            "x",
            "--reporter",
            "citizen",
        ],
        ws,
        &["row key not found"],
    );
    refused(
        &[
            "objection",
            "file",
            "--dataset",
            "minzheng.people",
            "--row",
            &row(),
            "--field",
            "nickname",
            "--what",
            "x",
            "--reporter",
            "citizen",
        ],
        ws,
        &["no column `nickname`"],
    );
    refused(
        &["objection", "show", "2026-0099"],
        ws,
        &["no objection `2026-0099`"],
    );
    // Another department cannot answer minzheng's objection.
    refused(
        &[
            "objection",
            "answer",
            "2026-0001",
            "--as",
            "gongan",
            "--upheld",
        ],
        ws,
        &["`minzheng`", "not `gongan`"],
    );
    // Nothing to close yet.
    refused(&["objection", "close", "2026-0001"], ws, &["cannot close"]);
    assert_eq!(
        json(&ok(&["objection", "list", "--format", "json"], ws)),
        before
    );

    // Forwarded on time, upheld, "corrected" — but the next delivery still
    // holds the name: closing re-opens it instead.
    ok(
        &[
            "objection",
            "forward",
            "2026-0001",
            "--at",
            "2026-11-03 09:00",
        ],
        ws,
    );
    ok(
        &[
            "objection",
            "answer",
            "2026-0001",
            "--as",
            "minzheng",
            "--upheld",
            "--at",
            "2026-11-04 09:00",
        ],
        ws,
    );
    ok(
        &[
            "objection",
            "correct",
            "2026-0001",
            "--as",
            "minzheng",
            "--fixed-in",
            "delivery of 2026-11-05",
            "--at",
            "2026-11-05 09:00",
        ],
        ws,
    );
    ok(
        &[
            "sweep",
            "--format",
            "json",
            "--as-of",
            "2026-11-05 02:30:00",
        ],
        ws,
    );
    // The sweep checked the correction against what it landed, found the
    // name still there and re-opened it: it cannot be closed.
    refused(
        &[
            "objection",
            "close",
            "2026-0001",
            "--at",
            "2026-11-05 12:00",
        ],
        ws,
        &["re-opened"],
    );
    let a = json(&ok(
        &["objection", "show", "2026-0001", "--format", "json"],
        ws,
    ));
    assert_eq!(a["state"], "upheld");
    assert_eq!(a["reopened"], 1);

    // The fix arrives; the check confirms it; it closes; not twice.
    std::fs::write(
        ws.join("in/people.csv"),
        format!("id_number,name,amount\n{ID},张三峰,5\n{OTHER_ID},李四,6\n"),
    )
    .unwrap();
    ok(
        &[
            "sweep",
            "--format",
            "json",
            "--as-of",
            "2026-11-06 02:30:00",
        ],
        ws,
    );
    ok(
        &[
            "objection",
            "correct",
            "2026-0001",
            "--as",
            "minzheng",
            "--fixed-in",
            "delivery of 2026-11-06",
            "--at",
            "2026-11-06 09:00",
        ],
        ws,
    );
    // The next sweep checks the correction against what it landed.
    let run = json(&ok(
        &[
            "sweep",
            "--format",
            "json",
            "--as-of",
            "2026-11-07 02:30:00",
        ],
        ws,
    ));
    assert!(
        run.to_string().contains("objections"),
        "the sweep has an objections step: {run}"
    );
    let a = json(&ok(
        &["objection", "show", "2026-0001", "--format", "json"],
        ws,
    ));
    assert_eq!(a["state"], "confirmed");
    // Nothing is left for a manual check.
    let checked = json(&ok(
        &[
            "objection",
            "check",
            "--at",
            "2026-11-07 10:00",
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(checked, serde_json::json!([]));
    let a = json(&ok(
        &[
            "objection",
            "close",
            "2026-0001",
            "--at",
            "2026-11-07 11:00",
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(a["state"], "closed");
    refused(
        &["objection", "close", "2026-0001"],
        ws,
        &["already closed"],
    );
    // A rejection needs a reason.
    refused(
        &[
            "objection",
            "answer",
            "2026-0002",
            "--as",
            "minzheng",
            "--rejected",
        ],
        ws,
        &["must say why"],
    );

    // 2026-0002 was never forwarded: overdue as of 20 November.
    let overdue = json(&ok(
        &[
            "objection",
            "list",
            "--overdue",
            "--as-of",
            "2026-11-20 12:00",
            "--format",
            "json",
        ],
        ws,
    ));
    let ids: Vec<&str> = overdue
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["2026-0002"]);
    // As of 3 November nothing was overdue yet.
    let early = json(&ok(
        &[
            "objection",
            "list",
            "--overdue",
            "--as-of",
            "2026-11-03 12:00",
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(early, serde_json::json!([]));

    // A department officer files one over HTTP (signed in); without a
    // token, or for an unknown dataset, nothing is filed.
    let http = http_filing(ws);
    assert_eq!(http["unsigned"], 401);
    assert_eq!(http["unknown"], 400);
    assert!(
        http["unknown_body"]
            .as_str()
            .unwrap()
            .contains("unknown dataset")
    );
    assert_eq!(http["filed"], 201, "{http}");
    // Filed now: numbered in this year's sequence (2026-0003 and 0004 while
    // it is 2026).
    let third_id = http["receipt"]["id"].as_str().unwrap().to_string();
    let fourth_id = {
        let (year, n) = third_id.split_once('-').unwrap();
        format!("{year}-{:04}", n.parse::<u32>().unwrap() + 1)
    };
    if third_id.starts_with("2026-") {
        assert_eq!(third_id, "2026-0003");
    }
    assert_eq!(http["receipt"]["responsible"], "minzheng");
    assert_eq!(http["form"], 201, "{http}");
    assert!(
        http["form_page"]
            .as_str()
            .unwrap()
            .contains(&format!("已受理 Objection filed: {fourth_id}"))
    );
    let third = json(&ok(
        &["objection", "show", &third_id, "--format", "json"],
        ws,
    ));
    assert_eq!(third["reporter"], "department");
    assert_eq!(third["reporter_department"], "gongan");
    assert_eq!(third["contact"], "w***@gongan.example");
    assert!(
        audit_text(ws).contains("serve:gongan"),
        "the HTTP filing is audited"
    );
    // It was filed today (after the sweeps' as-of times): it is in no count
    // below, which are as of November.
    ok(
        &[
            "objection",
            "answer",
            &third_id,
            "--as",
            "minzheng",
            "--rejected",
            "--reason",
            "金额无误",
        ],
        ws,
    );
    ok(&["objection", "close", &third_id], ws);
    ok(
        &[
            "objection",
            "answer",
            &fourth_id,
            "--as",
            "minzheng",
            "--rejected",
            "--reason",
            "姓名无误",
        ],
        ws,
    );
    ok(&["objection", "close", &fourth_id], ws);

    // The scorecards of a later run count them; the published files name
    // neither the reporter nor the row.
    ok(
        &[
            "sweep",
            "--format",
            "json",
            "--as-of",
            "2026-11-20 02:30:00",
        ],
        ws,
    );
    let cards: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest_file(ws, "scorecards.json")).unwrap())
            .unwrap();
    let dept = cards["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["department"] == "minzheng")
        .unwrap();
    assert_eq!(dept["objections"]["filed"], 2);
    assert_eq!(dept["objections"]["open"], 1);
    assert_eq!(dept["objections"]["overdue"], 1);
    let data = cards["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "minzheng.people")
        .unwrap();
    assert_eq!(data["objections"]["filed"], 2);
    let site = std::fs::read_to_string(latest_file(ws, "site/dept/minzheng.html")).unwrap();
    assert!(
        site.contains("数据异议"),
        "the department page shows objections"
    );
    for f in walk(&ws.join("published")) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).to_string();
        for secret in [ID, NAME, PHONE, "张三峰"] {
            assert!(!text.contains(secret), "{} shows {secret}", f.display());
        }
    }

    // An objection entered later with an earlier date does not rewrite the
    // published run: `pdq publish` reproduces what the sweep published.
    let published = std::fs::read(latest_file(ws, "scorecards.json")).unwrap();
    let late = json(&ok(
        &[
            "objection",
            "file",
            "--dataset",
            "minzheng.people",
            "--row",
            &row(),
            "--field",
            "amount",
            "--what",
            "纸质来件补录",
            "--reporter",
            "citizen",
            "--at",
            "2026-11-10 09:00",
            "--format",
            "json",
        ],
        ws,
    ));
    ok(&["publish"], ws);
    assert_eq!(
        std::fs::read(latest_file(ws, "scorecards.json")).unwrap(),
        published
    );
    ok(
        &[
            "objection",
            "answer",
            late["id"].as_str().unwrap(),
            "--as",
            "minzheng",
            "--rejected",
            "--reason",
            "金额无误",
            "--at",
            "2026-11-21 09:00",
        ],
        ws,
    );
    ok(
        &[
            "objection",
            "close",
            late["id"].as_str().unwrap(),
            "--at",
            "2026-11-21 10:00",
        ],
        ws,
    );

    // The evaluation as of 30 November counts the steps of what was filed
    // by then (not the filings over HTTP, made today): 0001 forward, verify
    // and correct on time; 0002 forward (due 4 Nov) and verify (due 9 Nov)
    // overdue; the one entered late (filed Tuesday 10 November, forward due
    // the 12th, verify the 17th, answered the 21st) late twice: 3 of 7.
    let e = json(&ok(
        &[
            "evaluate",
            "--year",
            "2026",
            "--as-of",
            "2026-11-30 23:00",
            "--format",
            "json",
        ],
        ws,
    ));
    let m = e["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["department"] == "minzheng")
        .unwrap();
    let c = m["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "objections")
        .unwrap();
    assert_eq!(c["score"], 42.86, "{c}");
    assert_eq!(m["objections"]["filed"], 3);
    assert_eq!(m["objections"]["steps_late"], 2);

    // Every change is in the audit log, and the log verifies.
    let audit = audit_text(ws);
    for action in [
        "objection.file",
        "objection.forward",
        "objection.answer",
        "objection.correct",
        "objection.close",
    ] {
        assert!(audit.contains(action), "audit log lacks {action}");
    }
    ok(&["audit", "verify"], ws);
}

/// A file of the current publication (`published/runs/<run>/…`).
fn latest_file(ws: &Path, name: &str) -> std::path::PathBuf {
    let latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.join("published/latest.json")).unwrap()).unwrap();
    let run = latest["run"].as_str().expect("latest.json names the run");
    ws.join("published/runs").join(run).join(name)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Every audit log file's text.
fn audit_text(ws: &Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(ws.join("audit")).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "jsonl") {
            text += &std::fs::read_to_string(e.path()).unwrap();
        }
    }
    text
}

/// `pdq serve` (the binary) on the workspace, and three filings: unsigned,
/// for an unknown dataset, and a good one by 公安局's officer.
fn http_filing(ws: &Path) -> serde_json::Value {
    use jobs::serve::{TokenEntry, TokenFile, hash_token};
    let file = TokenFile {
        token: vec![TokenEntry {
            role: "department".into(),
            department: Some("gongan".into()),
            name: Some("王科长".into()),
            sha256: hash_token("gongan-secret"),
        }],
    };
    std::fs::write(ws.join("tokens.toml"), toml::to_string(&file).unwrap()).unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let addr = format!("127.0.0.1:{port}");
    let mut server = common::keyed_bin("audit-objections")
        .args(["serve", "--listen", &addr, "-w"])
        .arg(ws)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = rt.block_on(async {
        let c = reqwest::Client::new();
        for _ in 0..200 {
            if c.get(format!("http://{addr}/")).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let url = format!("http://{addr}/api/objections");
        let c = reqwest::Client::new();
        let body = |dataset: &str| {
            serde_json::json!({"dataset": dataset, "key_column": "id_number", "key_value": OTHER_ID, "field": "amount", "what": "金额与我局记录不一致", "contact": "wang@gongan.example"})
        };
        let unsigned = c.post(&url).header("content-type", "application/json").body(body("minzheng.people").to_string()).send().await.unwrap();
        let unknown = c
            .post(&url)
            .bearer_auth("gongan-secret")
            .header("content-type", "application/json").body(body("minzheng.nope").to_string())
            .send()
            .await
            .unwrap();
        let unknown_code = unknown.status().as_u16();
        let unknown_body = unknown.text().await.unwrap();
        let filed = c
            .post(&url)
            .bearer_auth("gongan-secret")
            .header("content-type", "application/json").body(body("minzheng.people").to_string())
            .send()
            .await
            .unwrap();
        // The form on a dataset's page posts the same, urlencoded.
        let form = c
            .post(&url)
            .bearer_auth("gongan-secret")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("dataset=minzheng.people&key_column=id_number&key_value=650102198505051238&field=name&what=%E5%A7%93%E5%90%8D%E6%9C%89%E8%AF%AF&contact=")
            .send()
            .await
            .unwrap();
        let form_code = form.status().as_u16();
        let form_page = form.text().await.unwrap();
        let filed_code = filed.status().as_u16();
        let receipt: serde_json::Value =
            serde_json::from_str(&filed.text().await.unwrap()).unwrap();
        serde_json::json!({
            "unsigned": unsigned.status().as_u16(),
            "unknown": unknown_code,
            "unknown_body": unknown_body,
            "filed": filed_code,
            "receipt": receipt,
            "form": form_code,
            "form_page": form_page,
        })
    });
    let _ = server.kill();
    let _ = server.wait();
    result
}

/// Issue #21: an objection to a catalog entry (the demo's 婚姻登记 from the
/// portal export): the entry's department is responsible and alone may
/// answer; the correction is confirmed by the next harvest that changed
/// the field, not before; the value objected to is the entry's.
#[test]
fn an_objection_to_a_catalog_entry_is_confirmed_by_the_harvest_that_corrects_it() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo");
    pipeline::demo::generate(&ws).unwrap();
    ok(&["harvest", "--format", "json"], &ws);
    let a = json(&ok(
        &[
            "objection",
            "file",
            "--entry",
            "portal:mz-0001",
            "--field",
            "summary",
            "--what",
            "摘要漏了补领登记",
            "--reporter",
            "citizen",
            "--contact",
            PHONE,
            "--format",
            "json",
        ],
        &ws,
    ));
    let id = a["id"].as_str().unwrap().to_string();
    assert_eq!(a["state"], "filed");
    assert_eq!(a["responsible"], "minzheng");
    assert_eq!(a["value"], "结婚、离婚登记信息");
    refused(
        &[
            "objection",
            "file",
            "--entry",
            "portal:nope",
            "--field",
            "summary",
            "--what",
            "x",
            "--reporter",
            "citizen",
        ],
        &ws,
        &["portal:nope"],
    );
    ok(&["objection", "forward", &id], &ws);
    refused(
        &["objection", "answer", &id, "--as", "gongan", "--upheld"],
        &ws,
        &["minzheng"],
    );
    ok(
        &["objection", "answer", &id, "--as", "minzheng", "--upheld"],
        &ws,
    );
    // The department reports its correction, then the data is checked.
    let correct_and_check = || {
        ok(
            &[
                "objection",
                "correct",
                &id,
                "--as",
                "minzheng",
                "--fixed-in",
                "catalog version 2",
            ],
            &ws,
        );
        ok(&["objection", "check"], &ws);
        json(&ok(&["objection", "show", &id, "--format", "json"], &ws))
    };
    // Checked before the catalog changed: re-opened.
    let a = correct_and_check();
    assert_eq!(a["state"], "upheld");
    assert_eq!(a["reopened"], 1);
    // The portal corrects the summary; the next harvest brings it in.
    let export = ws.join("catalogs/portal-export.json");
    let mut doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    doc["data"]["list"][0]["摘要"] = serde_json::json!("结婚、离婚、补领登记信息");
    std::fs::write(&export, serde_json::to_vec(&doc).unwrap()).unwrap();
    ok(&["harvest", "--format", "json"], &ws);
    let a = correct_and_check();
    assert_eq!(a["state"], "confirmed", "{a}");
    ok(&["objection", "close", &id], &ws);
    let a = json(&ok(&["objection", "show", &id, "--format", "json"], &ws));
    assert_eq!(a["state"], "closed");
}

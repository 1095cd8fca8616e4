//! The sharing platform's usage log and what hangs on it (issue #21, 3),
//! through the real binary: `pdq usage import|list|check`, and the
//! consumers of an objection's wrong data and their notification (西藏
//! 第十八条、第二十七条; optional where the text is silent).
//! Every bad input is refused with one line and changes nothing; no
//! operator's name is ever shown.

use std::path::Path;
use std::process::Output;

use pipeline::leak::{LeakKind, LeakScanner};

mod common;

const OPERATORS: [&str; 3] = ["王建国", "李秀英", "赵志强"];

fn pdq(args: &[&str], ws: &Path) -> Output {
    common::keyed_bin("audit-usage")
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

fn workspace(profile: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(
        ws.join("pdq.toml"),
        format!("profile = \"{profile}\"\nbureau = \"测试数据局\"\n[lake]\nlocation = \"lake\"\n[departments]\nminzheng = \"民政局\"\ngongan = \"公安局\"\nrenshe = \"人社局\"\njiaoyu = \"教育局\"\n"),
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("rules")).unwrap();
    std::fs::write(
        ws.join("rules/people.yaml"),
        "dataset: people\nrules:\n  - {id: name_present, dimension: completeness, check: not_null, column: name}\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("datasets/minzheng")).unwrap();
    for name in ["people", "marriage"] {
        std::fs::write(
            ws.join(format!("datasets/minzheng/{name}.toml")),
            "rules = \"rules/people.yaml\"\nmode = \"full\"\n[source]\nkind = \"file\"\npath = \"in/people.csv\"\n[[columns]]\nname = \"name\"\ntype = \"string\"\n",
        )
        .unwrap();
    }
    dir
}

fn log_rows(ws: &Path) -> usize {
    json(&ok(&["usage", "list", "--format", "json"], ws))
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn issue_21_usage_log_import_is_idempotent_row_by_row_and_masked() {
    let dir = workspace("tibet-2025");
    let ws = dir.path();
    // The platform's export, Chinese headers; one row's time is no time,
    // one names data the workspace does not have.
    std::fs::write(
        ws.join("export.csv"),
        format!(
            "使用时间,使用单位,数据资源,使用目的,操作人,存储情况,备注\n\
             2026-11-03 09:00,gongan,minzheng.people,户籍核验,{},本地加密,\n\
             2026-11-04 10:00,renshe,minzheng.people,\"社保, 核验\",{},本地加密,\n\
             2026-13-01 10:00,renshe,minzheng.people,x,{},,\n\
             2026-11-05 10:00,jiaoyu,minzheng.nope,x,{},,\n",
            OPERATORS[0], OPERATORS[1], OPERATORS[1], OPERATORS[2]
        ),
    )
    .unwrap();
    let export = ws.join("export.csv");
    let r = json(&ok(
        &[
            "usage",
            "import",
            export.to_str().unwrap(),
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(r["read"], 4);
    assert_eq!(r["landed"], 2);
    assert_eq!(r["duplicates"], 0);
    let q = r["quarantined"].as_array().unwrap();
    assert_eq!(q.len(), 2, "{r}");
    assert!(
        q[0]["reason"]
            .as_str()
            .unwrap()
            .contains("line 4, column 使用时间")
    );
    assert!(
        q[1]["reason"]
            .as_str()
            .unwrap()
            .contains("line 5, column 数据资源: `minzheng.nope`")
    );
    assert_eq!(r["unmapped"], serde_json::json!(["备注"]));
    // 西藏 第十九条 asks for 应用场景 … 删除情况: both rows lack some.
    assert_eq!(r["incomplete"], 2);
    assert_eq!(log_rows(ws), 2);

    // The same file again adds nothing.
    let again = json(&ok(
        &[
            "usage",
            "import",
            export.to_str().unwrap(),
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(again["unchanged"], true);
    assert_eq!(again["landed"], 0);
    assert_eq!(log_rows(ws), 2);
    // A later export in JSON lines repeats one use and adds one.
    std::fs::write(
        ws.join("export.jsonl"),
        format!(
            "{{\"when\":\"2026-11-03 09:00\",\"consumer\":\"gongan\",\"dataset\":\"minzheng.people\",\"purpose\":\"户籍核验\",\"operator\":\"{}\",\"storage\":\"本地加密\"}}\n\
             {{\"when\":\"2026-11-20 09:00\",\"consumer\":\"jiaoyu\",\"dataset\":\"minzheng.marriage\",\"operator\":\"{}\"}}\n",
            OPERATORS[0], OPERATORS[2]
        ),
    )
    .unwrap();
    let later = json(&ok(
        &[
            "usage",
            "import",
            ws.join("export.jsonl").to_str().unwrap(),
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(
        (
            later["read"].as_i64(),
            later["landed"].as_i64(),
            later["duplicates"].as_i64()
        ),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(log_rows(ws), 3);

    // A malformed line refuses the whole file, naming it and the line.
    std::fs::write(
        ws.join("broken.jsonl"),
        "{\"when\":\"2026-11-21 09:00\",\"consumer\":\"gongan\",\"dataset\":\"minzheng.people\"}\n{\"when\": oops\n",
    )
    .unwrap();
    refused(
        &["usage", "import", ws.join("broken.jsonl").to_str().unwrap()],
        ws,
        &["broken.jsonl line 2", "not a JSON object"],
    );
    assert_eq!(log_rows(ws), 3);
    refused(
        &["usage", "list", "--dataset", "minzheng.nope"],
        ws,
        &["unknown dataset or catalog entry `minzheng.nope`"],
    );

    // Filters; the operator is masked, the rest is as logged.
    let people = json(&ok(
        &[
            "usage",
            "list",
            "--dataset",
            "minzheng.people",
            "--since",
            "2026-11-04",
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(people.as_array().unwrap().len(), 1);
    assert_eq!(people[0]["consumer"], "renshe");
    assert_eq!(people[0]["operator"], "李**");
    assert_eq!(people[0]["purpose"], "社保, 核验");
    let table = String::from_utf8_lossy(&ok(&["usage", "list", "--format", "table"], ws).stdout)
        .to_string();
    assert!(
        table.contains("王**") && table.contains("gongan"),
        "{table}"
    );

    // The check: rows lacking what 第十九条 requires, per consumer.
    let findings = json(&ok(
        &[
            "usage",
            "check",
            "--as-of",
            "2026-12-01",
            "--format",
            "json",
        ],
        ws,
    ));
    let incomplete: Vec<&serde_json::Value> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "usage_log_incomplete")
        .collect();
    assert_eq!(incomplete.len(), 3, "{findings}");
    assert!(
        incomplete
            .iter()
            .all(|f| f["message"].as_str().unwrap().contains("第十九条"))
    );
    // The audit log has the imports, not the names.
    let audit = String::from_utf8_lossy(&ok(&["audit", "show"], ws).stdout).to_string();
    assert!(audit.contains("usage.import"), "{audit}");
}

#[test]
fn issue_21_a_correction_reaches_every_consumer_where_the_text_requires_it() {
    let dir = workspace("tibet-2025");
    let ws = dir.path();
    std::fs::write(
        ws.join("export.csv"),
        format!(
            "when,consumer,dataset,operator\n\
             2026-11-03 09:00,gongan,minzheng.people,{}\n\
             2026-11-03 10:00,jiaoyu,minzheng.marriage,{}\n\
             2026-11-20 10:00,renshe,minzheng.people,{}\n",
            OPERATORS[0], OPERATORS[1], OPERATORS[2]
        ),
    )
    .unwrap();
    ok(
        &["usage", "import", ws.join("export.csv").to_str().unwrap()],
        ws,
    );
    let file = |at: &str| {
        json(&ok(
            &[
                "objection",
                "file",
                "--dataset",
                "minzheng.people",
                "--what",
                "人口数据有误",
                "--reporter",
                "department",
                "--reporter-department",
                "gongan",
                "--at",
                at,
                "--format",
                "json",
            ],
            ws,
        ))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let id = file("2026-11-02 10:00");
    // Not upheld yet: no wrong data reached anyone.
    refused(
        &["objection", "consumers", &id],
        ws,
        &["only an upheld objection"],
    );
    ok(
        &[
            "objection",
            "answer",
            &id,
            "--as",
            "minzheng",
            "--upheld",
            "--at",
            "2026-11-04 09:00",
        ],
        ws,
    );
    refused(
        &[
            "objection",
            "notify",
            &id,
            "--consumer",
            "gongan",
            "--at",
            "2026-11-04 10:00",
        ],
        ws,
        &["cannot notify consumers of", "upheld and corrected first"],
    );
    ok(
        &[
            "objection",
            "correct",
            &id,
            "--as",
            "minzheng",
            "--fixed-in",
            "delivery of 2026-11-05",
            "--at",
            "2026-11-05 09:00",
        ],
        ws,
    );
    // Between the filing and the correction only 公安 used the data (人社
    // came after the fix; 教育 used another dataset).
    let c = json(&ok(
        &["objection", "consumers", &id, "--format", "json"],
        ws,
    ));
    let who: Vec<&str> = c["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["department"].as_str().unwrap())
        .collect();
    assert_eq!(who, ["gongan"]);
    assert_eq!(c["required"], true);
    assert!(c["basis"].as_str().unwrap().contains("第二十七条"));
    // Closing with 公安 not notified is refused, naming it and the article.
    refused(
        &["objection", "close", &id, "--at", "2026-11-06 09:00"],
        ws,
        &["not yet notified", "gongan", "第二十七条"],
    );
    let before = json(&ok(&["objection", "show", &id, "--format", "json"], ws));
    refused(
        &[
            "objection",
            "notify",
            &id,
            "--consumer",
            "renshe",
            "--at",
            "2026-11-06 09:00",
        ],
        ws,
        &["`renshe` did not receive the wrong data", "gongan"],
    );
    refused(
        &[
            "objection",
            "notify",
            &id,
            "--consumer",
            "gongan",
            "--consumer",
            "weijian",
            "--at",
            "2026-11-06 09:00",
        ],
        ws,
        &["`weijian` did not receive"],
    );
    assert_eq!(
        json(&ok(&["objection", "show", &id, "--format", "json"], ws)),
        before,
        "nothing recorded"
    );
    let o = json(&ok(
        &[
            "objection",
            "notify",
            &id,
            "--consumer",
            "gongan",
            "--note",
            "平台推送",
            "--at",
            "2026-11-06 10:00",
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(o["notified"], serde_json::json!(["gongan"]));
    assert_eq!(
        o["history"].as_array().unwrap().last().unwrap()["action"],
        "notified"
    );
    refused(
        &[
            "objection",
            "notify",
            &id,
            "--consumer",
            "gongan",
            "--at",
            "2026-11-06 11:00",
        ],
        ws,
        &["`gongan` was already notified"],
    );
    let o = json(&ok(
        &[
            "objection",
            "close",
            &id,
            "--at",
            "2026-11-06 12:00",
            "--format",
            "json",
        ],
        ws,
    ));
    assert_eq!(o["state"], "closed");
    let audit = String::from_utf8_lossy(&ok(&["audit", "show"], ws).stdout).to_string();
    assert!(audit.contains("objection.notify"), "{audit}");

    // Under 新疆 no text requires it: notification is optional, closing is not held.
    let toml = std::fs::read_to_string(ws.join("pdq.toml")).unwrap();
    std::fs::write(
        ws.join("pdq.toml"),
        toml.replace("tibet-2025", "xinjiang-2023"),
    )
    .unwrap();
    let id = file("2026-11-02 11:00");
    ok(
        &[
            "objection",
            "answer",
            &id,
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
            &id,
            "--as",
            "minzheng",
            "--fixed-in",
            "delivery of 2026-11-05",
            "--at",
            "2026-11-05 09:00",
        ],
        ws,
    );
    let c = json(&ok(
        &["objection", "consumers", &id, "--format", "json"],
        ws,
    ));
    assert_eq!(c["required"], false);
    assert!(c["basis"].as_str().unwrap().contains("not in the text"));
    ok(&["objection", "close", &id, "--at", "2026-11-06 12:00"], ws);
    let shown =
        String::from_utf8_lossy(&ok(&["profile", "show", "xinjiang-2023"], ws).stdout).to_string();
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("objections.notify_consumers")),
        "{shown}"
    );
}

/// The demo's usage export: after its catalog is harvested, three rows
/// land and the one without a consumer is quarantined; the operators are
/// demo persons, and no output names one (维吾尔 names with `·` too).
#[test]
fn issue_21_the_demos_usage_log_lands_and_its_operators_stay_masked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    let bureau = pipeline::demo::generate(&root).unwrap();
    // The catalog as the demo's nights harvest it: the portal's 养老机构备案
    // is listed the first night and withdrawn on the final one; the log's
    // uses of it still land (a withdrawn entry is known).
    for night in [bureau.nights[0], bureau.as_of] {
        pipeline::demo::history::deliver(&root, &night).unwrap();
        ok(
            &[
                "harvest",
                "--as-of",
                &night.format("%Y-%m-%d").to_string(),
                "--format",
                "json",
            ],
            &root,
        );
    }
    let file = root.join(pipeline::demo::usage::FILE);
    let r = pdq(
        &[
            "usage",
            "import",
            file.to_str().unwrap(),
            "--format",
            "json",
        ],
        &root,
    );
    let list = pdq(&["usage", "list", "--format", "table"], &root);
    let scanner = LeakScanner::with_names(bureau.persons.iter().map(|p| p.name.as_str()));
    for o in [&r, &list] {
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        for bytes in [&o.stdout, &o.stderr] {
            let leaks = scanner.scan_text("out", &String::from_utf8_lossy(bytes));
            assert!(leaks.is_empty(), "{leaks:?}");
        }
    }
    let r = json(&r);
    assert_eq!(
        (
            r["landed"].as_i64(),
            r["quarantined"].as_array().map(Vec::len)
        ),
        (Some(5), Some(1)),
        "{r}"
    );
    assert!(
        r["quarantined"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("column 使用部门: blank")
    );
}

#[test]
fn issue_21_usage_prune_drops_rows_past_the_retention_once_and_refuses_a_silent_text() {
    let dir = workspace("xinjiang-2023");
    let ws = dir.path();
    std::fs::write(
        ws.join("export.csv"),
        format!(
            "when,consumer,dataset,operator\n\
             2022-03-01 09:00,gongan,minzheng.people,{}\n\
             2023-11-20 00:00,renshe,minzheng.people,{}\n\
             2026-11-03 09:00,jiaoyu,minzheng.people,{}\n",
            OPERATORS[0], OPERATORS[1], OPERATORS[2]
        ),
    )
    .unwrap();
    ok(
        &["usage", "import", ws.join("export.csv").to_str().unwrap()],
        ws,
    );
    let prune = |extra: &[&str]| {
        let mut args = vec![
            "usage",
            "prune",
            "--as-of",
            "2026-11-20",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        json(&ok(&args, ws))
    };
    // 新疆 第十五条: three years, back to 2023-11-20 (kept: used that day).
    let dry = prune(&["--dry-run"]);
    assert_eq!(
        (
            &dry["pruned"],
            &dry["kept"],
            &dry["horizon"],
            &dry["dry_run"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(2),
            &serde_json::json!("2023-11-20"),
            &serde_json::json!(true)
        ),
        "{dry}"
    );
    assert!(
        dry["article"].as_str().unwrap().contains("第十五条"),
        "{dry}"
    );
    assert_eq!(log_rows(ws), 3, "a dry run changes nothing");
    let done = prune(&[]);
    assert_eq!((&done["pruned"], &done["kept"]), (&1.into(), &2.into()));
    assert_eq!(log_rows(ws), 2);
    let again = prune(&[]);
    assert_eq!((&again["pruned"], &again["kept"]), (&0.into(), &2.into()));
    let table = String::from_utf8_lossy(
        &ok(
            &["usage", "prune", "--as-of", "2026-11-20", "--dry-run"],
            ws,
        )
        .stdout,
    )
    .to_string();
    assert!(
        table.contains("2023-11-20") && table.contains("第十五条"),
        "{table}"
    );
    // The prune is in the audit log, once.
    let audit = String::from_utf8_lossy(&ok(&["audit", "show"], ws).stdout).to_string();
    assert_eq!(audit.matches("usage.prune").count(), 1, "{audit}");

    // 兵团 sets no retention: refused, in one line, nothing pruned.
    let silent = workspace("xpcc-2025");
    let ws = silent.path();
    std::fs::write(
        ws.join("export.csv"),
        format!(
            "when,consumer,dataset,operator\n2010-03-01 09:00,gongan,minzheng.people,{}\n",
            OPERATORS[0]
        ),
    )
    .unwrap();
    ok(
        &["usage", "import", ws.join("export.csv").to_str().unwrap()],
        ws,
    );
    refused(
        &["usage", "prune", "--as-of", "2026-11-20"],
        ws,
        &["条文未规定", "nothing pruned"],
    );
    assert_eq!(log_rows(ws), 1);
}

fn latest_file(ws: &Path, name: &str) -> std::path::PathBuf {
    let latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.join("published/latest.json")).unwrap()).unwrap();
    let run = latest["run"].as_str().expect("latest.json names the run");
    ws.join("published/runs").join(run).join(name)
}

fn department_card(ws: &Path, department: &str) -> serde_json::Value {
    let cards: serde_json::Value =
        serde_json::from_slice(&std::fs::read(latest_file(ws, "scorecards.json")).unwrap())
            .unwrap();
    cards["departments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["department"] == department)
        .unwrap_or_else(|| panic!("no scorecard of {department}: {cards}"))
        .clone()
}

#[test]
fn issue_21_usage_log_findings_are_on_the_departments_scorecards_of_a_sweep() {
    let dir = workspace("tibet-2025");
    let ws = dir.path();
    // Data for 民政 and 公安 (a department has a scorecard once it delivers).
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(ws.join("in/people.csv"), "name\n张三\n李四\n").unwrap();
    std::fs::create_dir_all(ws.join("datasets/gongan")).unwrap();
    std::fs::write(
        ws.join("datasets/gongan/residents.toml"),
        "rules = \"rules/people.yaml\"\nmode = \"full\"\n[source]\nkind = \"file\"\npath = \"in/people.csv\"\n[[columns]]\nname = \"name\"\ntype = \"string\"\n",
    )
    .unwrap();
    // 公安's use lacks what 西藏 第十九条 requires (应用场景 …); the operator
    // is a person.
    std::fs::write(
        ws.join("export.csv"),
        format!(
            "when,consumer,dataset,operator\n2026-11-03 09:00,gongan,minzheng.people,{}\n",
            OPERATORS[0]
        ),
    )
    .unwrap();
    ok(
        &["usage", "import", ws.join("export.csv").to_str().unwrap()],
        ws,
    );
    ok(&["sweep", "--as-of", "2026-11-20 02:30:00"], ws);
    let gongan = department_card(ws, "gongan");
    let findings = gongan["usage_findings"]
        .as_array()
        .unwrap_or_else(|| panic!("公安's scorecard has no usage-log finding: {gongan}"));
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0]["check"], "usage_log_incomplete");
    assert_eq!(findings[0]["rows"], 1);
    assert!(
        findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("第十九条"),
        "{findings:?}"
    );
    // 民政's own card has none: the finding is the consumer's.
    assert!(department_card(ws, "minzheng")["usage_findings"].is_null());
    let site = std::fs::read_to_string(latest_file(ws, "site/dept/gongan.html")).unwrap();
    assert!(
        site.contains("使用日志问题") && site.contains("usage_log_incomplete"),
        "the department page shows the finding"
    );
    // Nothing published names the operator.
    let leaks = LeakScanner::with_names(OPERATORS)
        .scan_dir(&ws.join("published"))
        .unwrap();
    let names: Vec<_> = leaks
        .leaks
        .iter()
        .filter(|l| l.kind == LeakKind::Name)
        .collect();
    assert!(names.is_empty(), "published names an operator: {names:?}");
    assert!(!leaks.scanned.is_empty());

    // A later import does not rewrite the published run: `pdq publish`
    // reproduces what the sweep stored.
    let published = std::fs::read(latest_file(ws, "scorecards.json")).unwrap();
    std::fs::write(
        ws.join("export2.csv"),
        format!(
            "when,consumer,dataset,operator\n2026-11-04 09:00,gongan,minzheng.people,{}\n",
            OPERATORS[1]
        ),
    )
    .unwrap();
    ok(
        &["usage", "import", ws.join("export2.csv").to_str().unwrap()],
        ws,
    );
    ok(&["publish"], ws);
    assert!(std::fs::read(latest_file(ws, "scorecards.json")).unwrap() == published);
}

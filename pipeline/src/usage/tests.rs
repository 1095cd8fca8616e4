use std::collections::{BTreeMap, BTreeSet};

use chrono::TimeZone;

use super::parse::{Format, classify, read};
use super::stage::consumers_in;
use super::*;
use super::{prune, stage, store};
use crate::profile::profile;

fn tz() -> chrono_tz::Tz {
    "Asia/Shanghai".parse().unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
}

fn known(name: &str) -> bool {
    ["minzheng.people", "A0101"].contains(&name)
}

fn rows_of(text: &str) -> (Vec<UsageRow>, Vec<Quarantined>) {
    let export = read(text.as_bytes(), "log.csv").unwrap();
    let mut rows = vec![];
    let mut q = vec![];
    for r in &export.records {
        match classify(r, "imp", "log.csv", now(), tz(), &known) {
            Ok(row) => rows.push(row),
            Err(x) => q.push(*x),
        }
    }
    (rows, q)
}

#[test]
fn chinese_and_english_headers_quoted_fields_and_lines() {
    let csv = "\u{feff}使用时间,使用单位,数据资源,使用目的,操作人,备注\n\
               2026-03-01 09:30,gongan,minzheng.people,\"户籍核验, 比对\",王伟,x\n\
               2026/03/02 10:00:00,renshe,A0101,\"多行\n用途\",李娜,\n";
    let export = read(csv.as_bytes(), "log.csv").unwrap();
    assert_eq!(export.format, Format::Csv);
    assert_eq!(export.unmapped, ["备注"]);
    assert_eq!(export.records.len(), 2);
    assert_eq!(export.records[0].line, 2);
    assert_eq!(export.records[1].line, 3);
    let (rows, q) = rows_of(csv);
    assert!(q.is_empty(), "{q:?}");
    assert_eq!(rows[0].purpose.as_deref(), Some("户籍核验, 比对"));
    assert_eq!(rows[0].at.to_rfc3339(), "2026-03-01T01:30:00+00:00");
    assert_eq!(rows[1].purpose.as_deref(), Some("多行\n用途"));
    assert_eq!(rows[1].consumer, "renshe");

    let jsonl = "{\"when\":\"2026-03-01T09:30:00+08:00\",\"Consumer Department\":\"gongan\",\"dataset\":\"minzheng.people\",\"operator\":\"王伟\",\"extra\":1}\n\n{\"time\":\"2026-03-02\",\"consumer\":\"renshe\",\"resource_code\":\"A0101\",\"purpose\":null}\n";
    let export = read(jsonl.as_bytes(), "log.jsonl").unwrap();
    assert_eq!(export.format, Format::JsonLines);
    assert_eq!(export.unmapped, ["extra"]);
    assert_eq!(
        export.records.iter().map(|r| r.line).collect::<Vec<_>>(),
        [1, 3]
    );
    // The same use, whichever format carried it, is one content hash.
    let a = classify(&export.records[0], "x", "log.jsonl", now(), tz(), &known).unwrap();
    let (csv_rows, _) =
        rows_of("when,consumer,dataset,operator\n2026-03-01 09:30,gongan,minzheng.people,王伟\n");
    assert_eq!(a.hash, csv_rows[0].hash);
    assert_ne!(a.hash, rows[0].hash, "a different purpose is another row");
}

#[test]
fn a_malformed_line_refuses_the_file_naming_it() {
    let e = read(b"when,consumer,dataset\n2026-03-01,gongan\n", "log.csv")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("log.csv line 2") && e.contains("2 fields, the header has 3"),
        "{e}"
    );
    let e = read(b"{\"when\":\"2026-03-01\"}\n{not json\n", "log.jsonl")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("log.jsonl line 2") && e.contains("not a JSON object"),
        "{e}"
    );
    let e = read(b"when,purpose\n2026-03-01,x\n", "log.csv")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("log.csv line 1") && e.contains("no column for consumer"),
        "{e}"
    );
    let e = read(b"when,consumer,dataset\n\"2026-03-01,gongan,x\n", "log.csv")
        .unwrap_err()
        .to_string();
    assert!(e.contains("line 2") && e.contains("not closed"), "{e}");
}

#[test]
fn rows_without_when_consumer_or_known_data_are_quarantined_with_line_and_column() {
    let (rows, q) = rows_of(
        "使用时间,使用单位,数据资源\n\
         ,gongan,minzheng.people\n\
         2026-13-01,gongan,minzheng.people\n\
         2026-03-01,,minzheng.people\n\
         2026-03-01,gongan,minzheng.nope\n\
         2026-03-01,gongan,minzheng.people\n",
    );
    assert_eq!(rows.len(), 1);
    let reasons: Vec<&str> = q.iter().map(|q| q.reason.as_str()).collect();
    assert_eq!(q.len(), 4, "{reasons:?}");
    assert!(reasons[0].starts_with("log.csv line 2, column 使用时间: blank"));
    assert!(reasons[1].contains("line 3, column 使用时间: `2026-13-01` is not a time"));
    assert!(reasons[2].contains("line 4, column 使用单位: blank"));
    assert!(reasons[3].contains("line 5, column 数据资源: `minzheng.nope` is not a dataset"));
    assert_eq!(q[3].line, 5);
}

fn row(consumer: &str, resource: &str, at: DateTime<Utc>) -> UsageRow {
    let mut r = UsageRow {
        hash: String::new(),
        import: "imp".into(),
        file: "log.csv".into(),
        line: 2,
        at,
        consumer: consumer.into(),
        resource: resource.into(),
        purpose: Some("核验".into()),
        operator: Some("王伟".into()),
        scenario: None,
        outcome: None,
        process: None,
        quantity: None,
        interface: None,
        storage: Some("本地".into()),
        disposal: None,
        imported_at: now(),
    };
    r.hash = r.content_hash();
    r
}

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    tz().with_ymd_and_hms(y, m, d, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn rows_lacking_what_the_article_requires_are_findings_citing_it() {
    let rows = vec![
        row("gongan", "minzheng.people", day(2026, 3, 1)),
        row("gongan", "minzheng.people", day(2026, 3, 2)),
        row("renshe", "minzheng.people", day(2026, 3, 2)),
    ];
    // 甘孜 第十九条: 使用时间、人员、目的 — all present.
    let gz = profile("ganzi-2025").unwrap();
    let req: Vec<Element> = gz
        .usage_log
        .required
        .iter()
        .map(|k| Element::parse(k).unwrap())
        .collect();
    assert_eq!(req, [Element::When, Element::Operator, Element::Purpose]);
    assert!(incomplete(&rows, &req, &gz.quote("usage_log.required")).is_empty());
    // 西藏 第十九条: 应用场景 … 删除情况; the rows hold only 存储情况.
    let tb = profile("tibet-2025").unwrap();
    let req: Vec<Element> = tb
        .usage_log
        .required
        .iter()
        .map(|k| Element::parse(k).unwrap())
        .collect();
    let f = incomplete(&rows, &req, &tb.quote("usage_log.required"));
    assert_eq!(f.len(), 2, "one per consumer: {f:?}");
    assert_eq!(f[0].department.as_deref(), Some("gongan"));
    assert_eq!(f[0].rows, 2);
    assert!(!f[0].missing.contains(&"storage".to_string()));
    assert!(f[0].missing.contains(&"disposal".to_string()));
    assert!(f[0].message.contains("第十九条"), "{}", f[0].message);
    assert!(f[0].message.contains("删除情况"));
    // 兵团, 吴忠: no log article, nothing required.
    for id in ["xpcc-2025", "wuzhong-2024"] {
        assert!(profile(id).unwrap().usage_log.required.is_empty(), "{id}");
    }
}

#[test]
fn a_log_shorter_than_the_retention_of_an_older_workspace_is_a_finding() {
    let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let cites = "第十五条";
    // The workspace has run since 2022: the log must reach back to 2023-12-01.
    let since = Some(day(2022, 6, 1));
    let f = retention(Some(day(2025, 1, 1)), since, Some(3), cites, today, tz()).unwrap();
    assert_eq!(f.check, "usage_log_retention");
    assert!(
        f.message.contains("2025-01-01") && f.message.contains("2023-12-01"),
        "{}",
        f.message
    );
    assert!(retention(None, since, Some(3), cites, today, tz()).is_some());
    // Long enough.
    assert!(retention(Some(day(2023, 11, 30)), since, Some(3), cites, today, tz()).is_none());
    // A younger workspace cannot hold older rows; a text without a period
    // sets nothing.
    assert!(
        retention(
            Some(day(2025, 1, 1)),
            Some(day(2024, 1, 1)),
            Some(3),
            cites,
            today,
            tz()
        )
        .is_none()
    );
    assert!(retention(Some(day(2025, 1, 1)), since, None, cites, today, tz()).is_none());
}

#[test]
fn consumers_are_those_who_used_any_name_of_the_data_in_the_period() {
    let rows = vec![
        row("gongan", "minzheng.people", day(2026, 3, 1)),
        row("gongan", "A0101", day(2026, 3, 5)),
        row("renshe", "minzheng.people", day(2026, 2, 1)),
        row("weijian", "minzheng.other", day(2026, 3, 2)),
        row("jiaoyu", "A0101", day(2026, 4, 2)),
    ];
    let names: BTreeSet<String> = ["minzheng.people".to_string(), "A0101".to_string()].into();
    let c = consumers_in(&rows, &names, day(2026, 3, 1), day(2026, 4, 1));
    let who: Vec<&str> = c.iter().map(|c| c.department.as_str()).collect();
    assert_eq!(who, ["gongan"]);
    assert_eq!(c[0].uses, 2);
    assert_eq!(c[0].last, day(2026, 3, 5));
}

#[test]
fn the_operator_is_masked_in_what_leaves_the_lake() {
    let r = row("gongan", "minzheng.people", day(2026, 3, 1)).masked();
    assert_eq!(r.operator.as_deref(), Some("王*"));
    let text = serde_json::to_string(&r).unwrap();
    assert!(
        !crate::leak::LeakScanner::with_names(["王伟"])
            .scan_text("out.json", &text)
            .iter()
            .any(|l| l.kind == crate::leak::LeakKind::Name),
        "{text}"
    );
    assert!(!text.contains("王伟"));
}

/// A workspace under `profile` with one dataset (`minzheng.people`) and a
/// usage log of `lines` imported (`when,consumer,dataset,operator`).
async fn imported(
    profile: &str,
    lines: &[&str],
) -> (tempfile::TempDir, crate::workspace::Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::write(
        ws.join("pdq.toml"),
        format!("profile = \"{profile}\"\ntime_zone = \"Asia/Shanghai\"\n[lake]\nlocation = \"lake\"\n[departments]\nminzheng = \"民政局\"\n"),
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("rules")).unwrap();
    std::fs::write(
        ws.join("rules/people.yaml"),
        "dataset: people\nrules:\n  - {id: name_present, dimension: completeness, check: not_null, column: name}\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("datasets/minzheng")).unwrap();
    std::fs::write(
        ws.join("datasets/minzheng/people.toml"),
        "rules = \"rules/people.yaml\"\nmode = \"full\"\n[source]\nkind = \"file\"\npath = \"in/people.csv\"\n[[columns]]\nname = \"name\"\ntype = \"string\"\n",
    )
    .unwrap();
    std::fs::write(
        ws.join("log.csv"),
        format!("when,consumer,dataset,operator\n{}\n", lines.join("\n")),
    )
    .unwrap();
    let w = crate::workspace::Workspace::load(ws).unwrap();
    let r = stage::import(&w, &ws.join("log.csv"), now()).await.unwrap();
    assert_eq!(r.landed, lines.len(), "{r:?}");
    (dir, w)
}

async fn stored(w: &crate::workspace::Workspace) -> Vec<String> {
    let lake = crate::land::Lake::open(&w.config.lake, &w.dir).unwrap();
    store::rows(&lake)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            r.at.with_timezone(&tz())
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .collect()
}

fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn issue_21_prune_removes_rows_before_the_retention_horizon_and_never_inside_it() {
    // 新疆 第十五条: three years. As of 2026-11-20 the horizon is
    // 2023-11-20 (Beijing time): a use a minute before its midnight goes,
    // one at its midnight stays.
    let (_dir, w) = imported(
        "xinjiang-2023",
        &[
            "2020-05-01 10:00,gongan,minzheng.people,王伟",
            "2023-11-19 23:59,renshe,minzheng.people,李娜",
            "2023-11-20 00:00,gongan,minzheng.people,王伟",
            "2026-01-01 09:00,renshe,minzheng.people,李娜",
        ],
    )
    .await;
    let all = stored(&w).await;
    assert_eq!(all.len(), 4);
    let as_of = ymd(2026, 11, 20);

    // Dry: what would go, and nothing changes.
    let dry = prune::prune(&w, as_of, true, now()).await.unwrap();
    assert_eq!((dry.pruned, dry.kept, dry.dry_run), (2, 2, true));
    assert_eq!(dry.horizon, ymd(2023, 11, 20));
    assert_eq!(dry.years, 3);
    assert!(dry.article.contains("第十五条"), "{}", dry.article);
    assert!(dry.cites.contains("第十五条"), "{}", dry.cites);
    assert_eq!(stored(&w).await, all);

    let done = prune::prune(&w, as_of, false, now()).await.unwrap();
    assert_eq!((done.pruned, done.kept), (2, 2));
    assert_eq!(
        done.pruned_by_consumer,
        BTreeMap::from([("gongan".to_string(), 1), ("renshe".to_string(), 1)])
    );
    assert_eq!(stored(&w).await, ["2023-11-20 00:00", "2026-01-01 09:00"]);

    // Again: nothing more is past the horizon, nothing more goes, and the
    // prune is recorded once.
    let again = prune::prune(&w, as_of, false, now()).await.unwrap();
    assert_eq!((again.pruned, again.kept), (0, 2));
    assert_eq!(stored(&w).await, ["2023-11-20 00:00", "2026-01-01 09:00"]);
    let lake = crate::land::Lake::open(&w.config.lake, &w.dir).unwrap();
    let records = store::prunes(&lake).await.unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!((records[0].pruned, records[0].kept), (2, 2));

    // Importing the old export again adds nothing; an export repeating
    // the pruned rows does not bring them back.
    let r = stage::import(&w, &w.dir.join("log.csv"), now())
        .await
        .unwrap();
    assert!(r.unchanged && r.landed == 0, "{r:?}");
    std::fs::write(
        w.dir.join("log2.csv"),
        "when,consumer,dataset\n2020-05-01 10:00,gongan,minzheng.people\n2023-11-19 23:59,renshe,minzheng.people\n2026-02-01 09:00,renshe,minzheng.people\n",
    )
    .unwrap();
    let r = stage::import(&w, &w.dir.join("log2.csv"), now())
        .await
        .unwrap();
    assert_eq!((r.landed, r.expired, r.duplicates), (1, 2, 0), "{r:?}");
    assert_eq!(stored(&w).await.len(), 3);

    // The log reached back to the horizon: pruning is no retention
    // shortfall (the log of a workspace running since 2020).
    let earliest = store::rows(&lake).await.unwrap()[0].at;
    let pruned = prune::pruned_before(&lake).await.unwrap();
    assert!(pruned.is_some_and(|p| p <= earliest));
    let since = Some(day(2020, 1, 1));
    assert!(
        retention(
            Some(earliest).into_iter().chain(pruned).min(),
            since,
            Some(3),
            "x",
            as_of,
            tz()
        )
        .is_none()
    );
}

#[tokio::test]
async fn issue_21_a_prune_interrupted_after_its_record_finishes_when_run_again() {
    let (_dir, w) = imported(
        "tibet-2025",
        &[
            "2021-03-01 10:00,gongan,minzheng.people,王伟",
            "2026-03-01 10:00,gongan,minzheng.people,王伟",
        ],
    )
    .await;
    let lake = crate::land::Lake::open(&w.config.lake, &w.dir).unwrap();
    let as_of = ymd(2026, 11, 20);
    let horizon = prune::horizon(as_of, 3).unwrap();
    // The record was written, the process died before the delete.
    store::record_prune(
        &lake,
        &prune::PruneRecord {
            horizon,
            cutoff: tz()
                .from_local_datetime(&horizon.and_hms_opt(0, 0, 0).unwrap())
                .unwrap()
                .with_timezone(&Utc),
            as_of,
            years: 3,
            cites: "西藏 第十九条".into(),
            pruned: 1,
            kept: 1,
            recorded_at: now(),
        },
    )
    .await
    .unwrap();
    assert_eq!(stored(&w).await.len(), 2, "the old table is still whole");
    let r = prune::prune(&w, as_of, false, now()).await.unwrap();
    assert_eq!((r.pruned, r.kept), (1, 1));
    assert_eq!(stored(&w).await, ["2026-03-01 10:00"]);
    assert_eq!(store::prunes(&lake).await.unwrap().len(), 1);
}

#[tokio::test]
async fn issue_21_prune_is_refused_where_the_text_sets_no_retention() {
    // 兵团 sets no retention for usage logs: nothing is past it.
    let (_dir, w) = imported(
        "xpcc-2025",
        &["2010-01-01 10:00,gongan,minzheng.people,王伟"],
    )
    .await;
    for dry in [true, false] {
        let e = prune::prune(&w, ymd(2026, 11, 20), dry, now())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("条文未规定") && e.contains("nothing pruned") && !e.contains('\n'),
            "{e}"
        );
    }
    assert_eq!(stored(&w).await, ["2010-01-01 10:00"]);
    let lake = crate::land::Lake::open(&w.config.lake, &w.dir).unwrap();
    assert!(store::prunes(&lake).await.unwrap().is_empty());
}

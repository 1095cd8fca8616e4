use std::collections::BTreeSet;

use chrono::TimeZone;

use super::parse::{Format, classify, read};
use super::stage::consumers_in;
use super::*;
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

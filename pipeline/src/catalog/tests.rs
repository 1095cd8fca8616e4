//! Catalog checks, merging and versioning, reconciliation and working-day
//! lateness, on entries built in memory.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{NaiveDate, TimeZone, Utc};
use connectors::catalog::{
    CatalogSourceConfig, DcatConfig, Harvest, HarvestedItem, HarvestedRecord,
};

use super::checks::{CatalogFinding, check};
use super::harvest::{CatalogSourceDef, CuratedEntry, Curation, merge};
use super::model::CatalogEntry;
use super::reconcile::{
    Kind, LandedColumn, LandedDataset, days_late, due_after, lateness, reconcile,
};
use super::store::{CatalogState, ChangeKind};
use crate::calendar::WorkCalendar;
use crate::land::UpdateFrequency::*;
use crate::profile::{DayUnit, profile};

const TZ: chrono_tz::Tz = chrono_tz::Asia::Shanghai;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn def(name: &str, department: Option<&str>) -> CatalogSourceDef {
    CatalogSourceDef {
        name: name.into(),
        department: department.map(String::from),
        source: CatalogSourceConfig::Dcat(DcatConfig {
            url: "unused".into(),
            max_pages: 1,
            format: None,
        }),
        max_withdraw_share: 0.2,
        max_missing_share: 0.05,
        allow_empty: false,
        defaults: BTreeMap::new(),
        values: Default::default(),
    }
}

fn rec(code: &str, fields: &[(&str, &str)]) -> HarvestedRecord {
    let mut r = HarvestedRecord {
        source_id: Some(code.into()),
        location: format!("目录.xlsx!资源目录 row {}", code.len()),
        ..Default::default()
    };
    r.fields.insert("resource_code".into(), code.into());
    for (k, v) in fields {
        r.fields.insert((*k).into(), (*v).into());
    }
    r
}

/// A complete, valid entry under the Xinjiang profile.
fn good(code: &str, name: &str) -> HarvestedRecord {
    rec(
        code,
        &[
            ("name", name),
            ("provider", "公安局"),
            ("classification", "基础"),
            ("format", "csv"),
            ("share_attribute", "无条件共享"),
            ("share_scope", "全市政务部门"),
            ("open_attribute", "不予开放"),
            ("update_frequency", "每日"),
            ("usage_requirements", "按需使用"),
        ],
    )
}

fn harvest(records: Vec<HarvestedRecord>) -> Result<Harvest, String> {
    Ok(Harvest {
        records,
        ..Default::default()
    })
}

fn depts() -> BTreeMap<String, String> {
    [("gongan", "公安局"), ("minzheng", "民政局")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn run(
    state: &mut CatalogState,
    source: &CatalogSourceDef,
    records: Vec<HarvestedRecord>,
    curation: &Curation,
    n: u32,
) -> Vec<super::store::CatalogRow> {
    let now = Utc.with_ymd_and_hms(2026, 11, n, 2, 30, 0).unwrap();
    let (rows, outcomes, _) = merge(
        state,
        &[(source.clone(), harvest(records))],
        curation,
        TZ,
        &depts(),
        &format!("h{n}"),
        now,
    );
    assert_eq!(outcomes.len(), 1);
    rows
}

fn checks_of(state: &CatalogState, profile_id: &str) -> Vec<CatalogFinding> {
    check(state, &profile(profile_id).unwrap().catalog, &[], TZ)
}

fn has(f: &[CatalogFinding], check: &str, name: &str) -> bool {
    f.iter()
        .any(|x| x.check == check && x.name.as_deref() == Some(name))
}

#[test]
fn a_valid_entry_has_no_findings_and_department_comes_from_the_provider() {
    let mut st = CatalogState::default();
    run(
        &mut st,
        &def("portal", None),
        vec![good("A1", "户籍人口")],
        &Curation::default(),
        1,
    );
    let e = st.current().next().unwrap();
    assert_eq!(
        e.department, "gongan",
        "provider 公安局 is workspace department gongan"
    );
    assert_eq!(e.key, "portal:A1");
    assert_eq!(checks_of(&st, "xinjiang-2023"), vec![]);
}

#[test]
fn every_catalog_check_finds_its_problem() {
    let mut st = CatalogState::default();
    let mut missing = good("A2", "缺字段");
    missing.fields.remove("update_frequency");
    let mut cond = good("A3", "有条件无条件");
    cond.fields
        .insert("share_attribute".into(), " 有条件 共享 ".into());
    let mut none = good("A4", "不予无依据");
    none.fields
        .insert("share_attribute".into(), "不予共享".into());
    let mut bad_enum = good("A5", "取值错误");
    bad_enum
        .fields
        .insert("share_attribute".into(), "部分共享".into());
    bad_enum
        .fields
        .insert("update_frequency".into(), "偶尔".into());
    bad_enum
        .fields
        .insert("classification".into(), "其他".into());
    bad_enum.fields.insert("data_updated".into(), "去年".into());
    let mut open_personal = good("A6", "公开个人");
    open_personal
        .fields
        .insert("open_attribute".into(), "无条件开放".into());
    open_personal
        .fields
        .insert("open_scope".into(), "社会公众".into());
    open_personal
        .fields
        .insert("open_content".into(), "全部".into());
    open_personal
        .fields
        .insert("data_form".into(), "数据库表".into());
    open_personal.items.push(HarvestedItem {
        location: "目录.xlsx!信息项 row 3".into(),
        fields: [
            ("name", "公民身份号码"),
            ("column", "id_number"),
            ("type", "字符型"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect(),
        origins: BTreeMap::new(),
    });
    open_personal.items.push(HarvestedItem {
        location: "目录.xlsx!信息项 row 4".into(),
        fields: [("name", "站点编号"), ("type", "字符型"), ("personal", "否")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        origins: BTreeMap::new(),
    });
    let mut cond_open = good("A7", "有条件开放无条件");
    cond_open
        .fields
        .insert("open_attribute".into(), "有条件开放".into());
    let mut secret = good("A8", "涉密资源");
    secret
        .fields
        .insert("security_marking".into(), "机密".into());
    let mut not_secret = good("A9", "非涉密资源");
    not_secret
        .fields
        .insert("security_marking".into(), "非涉密".into());
    let dup1 = good("B1", "重复代码甲");
    let mut dup2 = good("B1", "重复代码乙");
    dup2.source_id = Some("B1-second".into());
    let dup_name = good("B3", "户籍人口");
    let dup_name2 = good("B4", "户籍人口");
    let mut item_incomplete = good("B5", "信息项不全");
    item_incomplete.items.push(HarvestedItem {
        location: "目录.xlsx!信息项 row 9".into(),
        fields: [("name", "姓名")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        origins: BTreeMap::new(),
    });
    run(
        &mut st,
        &def("tpl", Some("gongan")),
        vec![
            missing,
            cond,
            none,
            bad_enum,
            open_personal,
            cond_open,
            secret,
            not_secret,
            dup1,
            dup2,
            dup_name,
            dup_name2,
            item_incomplete,
        ],
        &Curation::default(),
        1,
    );
    let f = checks_of(&st, "xinjiang-2023");
    assert!(has(&f, "required_field", "缺字段"));
    let req = f.iter().find(|x| x.check == "required_field").unwrap();
    assert_eq!(req.field.as_deref(), Some("update_frequency"));
    assert!(
        has(&f, "conditional_share_conditions", "有条件无条件"),
        "spaces in 有条件 共享 are normalised away"
    );
    assert!(has(&f, "no_share_basis", "不予无依据"));
    let enums: Vec<&str> = f
        .iter()
        .filter(|x| x.check == "enumeration" && x.name.as_deref() == Some("取值错误"))
        .filter_map(|x| x.field.as_deref())
        .collect();
    assert_eq!(
        enums,
        ["share_attribute", "update_frequency", "data_updated"],
        "分类 `其他` is no finding: no text lists the values of 分类 (issue #17, 1)"
    );
    let personal: Vec<&CatalogFinding> = f
        .iter()
        .filter(|x| x.check == "personal_data_open")
        .collect();
    assert_eq!(
        personal.len(),
        1,
        "only the ID column, not 站点编号: {personal:?}"
    );
    assert_eq!(personal[0].location, "目录.xlsx!信息项 row 3");
    assert!(has(&f, "conditional_open_conditions", "有条件开放无条件"));
    assert!(has(&f, "classified_marking", "涉密资源"));
    assert!(!has(&f, "classified_marking", "非涉密资源"));
    assert!(has(&f, "duplicate_code", "重复代码甲") && has(&f, "duplicate_code", "重复代码乙"));
    assert_eq!(f.iter().filter(|x| x.check == "duplicate_name").count(), 2);
    assert!(has(&f, "item_incomplete", "信息项不全"));
    // No finding for a complete entry's fields: every finding is explained.
    for x in &f {
        assert_eq!(x.department, "gongan");
        assert!(!x.message.is_empty());
    }
    // Profiles differ: Tibet requires 规模 (data_volume), Xinjiang does not.
    let tibet = checks_of(&st, "tibet-2025");
    assert!(
        tibet
            .iter()
            .any(|x| x.check == "required_field" && x.field.as_deref() == Some("data_volume"))
    );
    assert!(!f.iter().any(|x| x.field.as_deref() == Some("data_volume")));
}

#[test]
fn a_downgrade_needs_an_approval_record_where_the_profile_says_so() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    run(
        &mut st,
        &src,
        vec![good("A1", "户籍人口"), good("A2", "婚姻")],
        &Curation::default(),
        1,
    );
    let mut down = good("A1", "户籍人口");
    down.fields
        .insert("share_attribute".into(), "有条件共享".into());
    down.fields
        .insert("share_conditions".into(), "仅用于核验".into());
    let mut down_ok = good("A2", "婚姻");
    down_ok
        .fields
        .insert("share_attribute".into(), "有条件共享".into());
    down_ok
        .fields
        .insert("share_conditions".into(), "仅用于核验".into());
    down_ok
        .fields
        .insert("approval_record".into(), "数据局审〔2026〕12号".into());
    run(&mut st, &src, vec![down, down_ok], &Curation::default(), 2);
    let ganzi = checks_of(&st, "ganzi-2025");
    let d: Vec<&CatalogFinding> = ganzi
        .iter()
        .filter(|x| x.check == "attribute_downgrade")
        .collect();
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].name.as_deref(), Some("户籍人口"));
    assert!(
        d[0].message.contains("无条件共享 to 有条件共享"),
        "{}",
        d[0].message
    );
    // Xinjiang's measures have no such rule.
    assert!(
        !checks_of(&st, "xinjiang-2023")
            .iter()
            .any(|x| x.check == "attribute_downgrade")
    );
    // An upgrade is never a finding.
    let mut up = good("A1", "户籍人口");
    up.fields
        .insert("share_attribute".into(), "无条件共享".into());
    run(
        &mut st,
        &src,
        vec![up, good("A2", "婚姻")],
        &Curation::default(),
        3,
    );
    assert!(
        !checks_of(&st, "ganzi-2025")
            .iter()
            .any(|x| x.check == "attribute_downgrade" && x.name.as_deref() == Some("户籍人口"))
    );
}

#[test]
fn versions_record_field_changes_and_unchanged_input_writes_nothing() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    let rows = run(
        &mut st,
        &src,
        vec![good("A1", "户籍人口"), good("A2", "婚姻")],
        &Curation::default(),
        1,
    );
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter()
            .all(|r| r.kind == ChangeKind::Added && r.version == 1)
    );
    // Same content, new locations: nothing written, no new version.
    let mut moved = good("A1", "户籍人口");
    moved.location = "目录.xlsx!资源目录 row 30".into();
    let rows = run(
        &mut st,
        &src,
        vec![moved, good("A2", "婚姻")],
        &Curation::default(),
        2,
    );
    assert!(rows.is_empty());
    assert_eq!(st.version, 1);
    assert_eq!(
        st.entries["tpl:A1"].entry.location,
        "目录.xlsx!资源目录 row 30"
    );
    // One field changed: one change record naming it, old and new.
    let mut changed = good("A1", "户籍人口");
    changed
        .fields
        .insert("update_frequency".into(), "每周".into());
    let rows = run(
        &mut st,
        &src,
        vec![changed, good("A2", "婚姻")],
        &Curation::default(),
        3,
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].version, 2);
    assert_eq!(rows[0].kind, ChangeKind::Changed);
    let changes: Vec<super::store::FieldChange> = serde_json::from_str(&rows[0].changes).unwrap();
    assert_eq!(
        changes,
        vec![super::store::FieldChange {
            field: "update_frequency".into(),
            old: Some("每日".into()),
            new: Some("每周".into()),
        }]
    );
    // The entry's timestamps: catalog entry updated now, first harvested kept.
    let e = &st.entries["tpl:A1"].entry;
    assert_eq!(
        e.first_harvested,
        Some(Utc.with_ymd_and_hms(2026, 11, 1, 2, 30, 0).unwrap())
    );
    assert_eq!(
        e.entry_updated,
        Some(Utc.with_ymd_and_hms(2026, 11, 3, 2, 30, 0).unwrap())
    );
}

#[test]
fn withdrawal_by_set_difference_is_refused_beyond_the_configured_share() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    let ten: Vec<HarvestedRecord> = (0..10)
        .map(|i| good(&format!("A{i}"), &format!("资源{i}")))
        .collect();
    run(&mut st, &src, ten.clone(), &Curation::default(), 1);
    // A truncated source (3 of 10): refused, nothing changes.
    let now = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap();
    let (rows, outcomes, problems) = merge(
        &mut st,
        &[(src.clone(), harvest(ten[..3].to_vec()))],
        &Curation::default(),
        TZ,
        &depts(),
        "h2",
        now,
    );
    assert!(rows.is_empty());
    assert_eq!(outcomes[0].status, "refused");
    assert!(
        problems[0]
            .problem
            .message
            .contains("would withdraw 7 of 10"),
        "{:?}",
        problems[0]
    );
    assert_eq!(st.current().count(), 10);
    // One of ten withdrawn (10% ≤ 20%): withdrawn, then restored.
    let rows = run(&mut st, &src, ten[1..].to_vec(), &Curation::default(), 3);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, ChangeKind::Withdrawn);
    assert_eq!(st.current().count(), 9);
    let rows = run(&mut st, &src, ten.clone(), &Curation::default(), 4);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, ChangeKind::Restored);
    // A source that fails to be read withdraws nothing.
    let (rows, outcomes, _) = merge(
        &mut st,
        &[(src.clone(), Err("HTTP 503".into()))],
        &Curation::default(),
        TZ,
        &depts(),
        "h5",
        now,
    );
    assert!(rows.is_empty());
    assert_eq!(outcomes[0].status, "failed");
    assert_eq!(st.current().count(), 10);
}

#[test]
fn curated_fields_are_never_overwritten_by_a_harvest() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    let curation = Curation {
        entry: vec![CuratedEntry {
            key: None,
            code: Some("A1".into()),
            fields: [("share_scope".to_string(), "全市政务部门及街道".to_string())].into(),
        }],
    };
    run(&mut st, &src, vec![good("A1", "户籍人口")], &curation, 1);
    let e = &st.entries["tpl:A1"].entry;
    assert_eq!(e.share_scope.as_deref(), Some("全市政务部门及街道"));
    assert_eq!(e.curated, ["share_scope"]);
    // The department changes its scope: the curated value stands, no new version.
    let mut again = good("A1", "户籍人口");
    again.fields.insert("share_scope".into(), "公安系统".into());
    let rows = run(&mut st, &src, vec![again], &curation, 2);
    assert!(rows.is_empty());
    assert_eq!(
        st.entries["tpl:A1"].entry.share_scope.as_deref(),
        Some("全市政务部门及街道")
    );
}

fn landed(
    id: &str,
    catalog: Option<&str>,
    cols: &[(&str, Kind, Option<i64>)],
    last: Option<chrono::DateTime<Utc>>,
) -> LandedDataset {
    let (dept, name) = id.split_once('.').unwrap();
    LandedDataset {
        id: id.into(),
        department: dept.into(),
        name: name.into(),
        title: Some(format!("{name}标题")),
        catalog: catalog.map(String::from),
        columns: cols
            .iter()
            .map(|(n, k, l)| LandedColumn {
                name: n.to_string(),
                kind: Some(*k),
                max_length: *l,
            })
            .collect(),
        rows: Some(10),
        last_delivery: last,
    }
}

fn item(name: &str, column: &str, ty: &str, len: Option<&str>) -> HarvestedItem {
    let mut fields: BTreeMap<String, String> = [("name", name), ("column", column), ("type", ty)]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    if let Some(l) = len {
        fields.insert("length".into(), l.into());
    }
    HarvestedItem {
        location: format!("目录.xlsx!信息项 {column}"),
        fields,
        origins: BTreeMap::new(),
    }
}

#[test]
fn reconciliation_finds_unmounted_uncatalogued_drift_and_lateness() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    let mut hh = good("A1", "户籍人口");
    hh.items = vec![
        item("公民身份号码", "id_number", "VARCHAR2(18)", None),
        item("姓名", "name", "字符型", Some("4")),
        item("行政区划代码", "region_code", "数值型", None),
        item("曾用名", "former_name", "字符型", None),
    ];
    let mut by_title = good("A2", "people标题");
    by_title
        .fields
        .insert("update_frequency".into(), "每月".into());
    let unmounted = good("A3", "流动人口");
    let mut empty = good("A4", "无数据");
    empty.fields.insert("dataset".into(), "gongan.empty".into());
    run(
        &mut st,
        &src,
        vec![hh, by_title, unmounted, empty],
        &Curation::default(),
        1,
    );
    let friday = Utc.with_ymd_and_hms(2025, 1, 24, 10, 0, 0).unwrap();
    let datasets = vec![
        landed(
            "gongan.household",
            Some("A1"),
            &[
                ("id_number", Kind::Text, Some(18)),
                ("name", Kind::Text, Some(6)),
                ("region_code", Kind::Text, Some(6)),
                ("phone", Kind::Text, Some(11)),
            ],
            Some(friday),
        ),
        landed(
            "gongan.people",
            None,
            &[("x", Kind::Number, None)],
            Some(friday),
        ),
        landed("gongan.empty", None, &[], None),
        landed(
            "gongan.orphan",
            None,
            &[("x", Kind::Text, None)],
            Some(friday),
        ),
    ];
    let cal = WorkCalendar::embedded();
    // Monday 27 January 2025, 09:00 in Shanghai.
    let now = Utc.with_ymd_and_hms(2025, 1, 27, 1, 0, 0).unwrap();
    let f = reconcile(&st, &datasets, DayUnit::Working, &cal, TZ, now).unwrap();
    let got = |check: &str| -> Vec<String> {
        f.iter()
            .filter(|x| x.check == check)
            .map(|x| {
                format!(
                    "{}|{}",
                    x.name.clone().unwrap_or_default(),
                    x.field.clone().unwrap_or_default()
                )
            })
            .collect()
    };
    assert_eq!(got("not_mounted"), ["流动人口|", "无数据|"]);
    assert_eq!(got("uncatalogued"), ["gongan.orphan|"]);
    assert_eq!(got("schema_missing"), ["户籍人口|former_name"]);
    assert_eq!(got("schema_extra"), ["户籍人口|phone"]);
    assert_eq!(got("schema_type"), ["户籍人口|region_code"]);
    assert_eq!(
        got("schema_length"),
        ["户籍人口|name"],
        "VARCHAR2(18) holds 18; 姓名 (4) holds 6"
    );
    // Daily, delivered Friday 24 Jan 2025: due Sunday 26 (a make-up
    // workday), so 1 working day late on Monday 27. Monthly: not late.
    assert_eq!(got("late_delivery"), ["户籍人口|update_frequency"]);
    let late = f.iter().find(|x| x.check == "late_delivery").unwrap();
    assert!(
        late.message
            .contains("next was due 2025-01-26: 1 working days late"),
        "{}",
        late.message
    );
    // Counted in calendar days (XPCC), Saturday 25 was the due date: 2 days.
    let f = reconcile(&st, &datasets, DayUnit::Calendar, &cal, TZ, now).unwrap();
    let late = f.iter().find(|x| x.check == "late_delivery").unwrap();
    assert!(
        late.message
            .contains("next was due 2025-01-25: 2 days late"),
        "{}",
        late.message
    );
}

#[test]
fn working_day_lateness_across_spring_festival_and_national_day() {
    let cal = WorkCalendar::embedded();
    let w = DayUnit::Working;
    // 2025 Spring Festival (off 28 Jan – 4 Feb): daily from Monday 27 Jan is
    // due Wednesday 5 Feb; on Friday 7 Feb it is 2 working days late.
    assert_eq!(
        due_after(d(2025, 1, 27), Daily, w, &cal).unwrap(),
        d(2025, 2, 5)
    );
    assert_eq!(days_late(d(2025, 2, 5), d(2025, 2, 7), w, &cal).unwrap(), 2);
    assert_eq!(days_late(d(2025, 2, 5), d(2025, 2, 5), w, &cal).unwrap(), 0);
    // Saturday 8 Feb 2025 is a make-up workday.
    assert_eq!(
        days_late(d(2025, 2, 7), d(2025, 2, 10), w, &cal).unwrap(),
        2
    );
    // 2025 National Day (off 1–8 Oct; Sunday 28 Sep and Saturday 11 Oct worked):
    // weekly (5 working days) from Friday 26 Sep is due Friday 10 Oct.
    assert_eq!(
        due_after(d(2025, 9, 26), Weekly, w, &cal).unwrap(),
        d(2025, 10, 10)
    );
    assert_eq!(
        days_late(d(2025, 10, 10), d(2025, 10, 13), w, &cal).unwrap(),
        2
    );
    assert_eq!(
        due_after(d(2025, 9, 26), Weekly, DayUnit::Calendar, &cal).unwrap(),
        d(2025, 10, 3)
    );
    // 2026 Spring Festival (off 15–23 Feb; Saturdays 14 and 28 Feb worked):
    // monthly from 16 Jan falls due on 16 Feb, a holiday, so Tuesday 24 Feb.
    assert_eq!(
        due_after(d(2026, 1, 16), Monthly, w, &cal).unwrap(),
        d(2026, 2, 24)
    );
    assert_eq!(
        due_after(d(2026, 1, 16), Monthly, DayUnit::Calendar, &cal).unwrap(),
        d(2026, 2, 16)
    );
    assert_eq!(
        days_late(d(2026, 2, 16), d(2026, 2, 24), DayUnit::Calendar, &cal).unwrap(),
        8
    );
    // (24 Feb, 2 Mar]: 25, 26, 27, Saturday 28 (worked) and Monday 2 Mar.
    assert_eq!(
        days_late(d(2026, 2, 24), d(2026, 3, 2), w, &cal).unwrap(),
        5
    );
}

#[test]
fn national_day_2026_and_the_end_of_the_calendar() {
    let cal = WorkCalendar::embedded();
    let w = DayUnit::Working;
    // Daily from Wednesday 30 Sep 2026: off 1–7 Oct, due Thursday 8 Oct;
    // by Monday 12 Oct it is 3 working days late: Friday 9, Saturday 10
    // (worked) and Monday 12.
    assert_eq!(
        due_after(d(2026, 9, 30), Daily, w, &cal).unwrap(),
        d(2026, 10, 8)
    );
    assert_eq!(
        days_late(d(2026, 10, 8), d(2026, 10, 12), w, &cal).unwrap(),
        3
    );
    // Past the last holiday notice: provisional (issue #17, 11). Saturday
    // 30 January 2027 moves to Monday 1 February, and the note says so.
    let due = due_after(d(2026, 12, 30), Monthly, w, &cal).unwrap();
    assert_eq!(due, d(2027, 2, 1));
    assert!(cal.is_provisional(due));
    let note = super::reconcile::provisional_note(due, &cal);
    assert!(
        note.contains("provisional") && note.contains("2027"),
        "{note}"
    );
    assert_eq!(
        super::reconcile::provisional_note(d(2026, 12, 30), &cal),
        ""
    );
    // Before the first year: an error naming the year, not a guess.
    let e = due_after(d(2019, 5, 30), Monthly, w, &cal).unwrap_err();
    assert!(e.to_string().contains("2019"), "{e}");
    // But a quarterly delivery of November 2026 is simply not late in
    // November: that needs no 2027 calendar.
    assert_eq!(
        lateness(d(2026, 11, 20), Quarterly, w, &cal, d(2026, 11, 22)).unwrap(),
        None
    );
    assert_eq!(
        lateness(d(2026, 11, 2), Weekly, w, &cal, d(2026, 11, 16)).unwrap(),
        Some((d(2026, 11, 9), 5))
    );
    // Judged in 2027 with no 2027 notice: counted provisionally (1 January
    // off): 15 working days in November after the 9th, 23 in December, 4
    // and 5 January.
    assert_eq!(
        lateness(d(2026, 11, 2), Weekly, w, &cal, d(2027, 1, 5)).unwrap(),
        Some((d(2026, 11, 9), 40))
    );
}

#[test]
fn drift_not_followed_by_the_catalog_within_the_deadline() {
    use super::reconcile::overdue_updates;
    let cal = WorkCalendar::embedded();
    let drift = CatalogFinding {
        check: "schema_missing".into(),
        department: "gongan".into(),
        key: Some("tpl:A1".into()),
        code: Some("A1".into()),
        name: Some("户籍人口".into()),
        field: Some("former_name".into()),
        location: "目录.xlsx!信息项 row 9".into(),
        message: "…".into(),
    };
    let other = CatalogFinding {
        check: "required_field".into(),
        ..drift.clone()
    };
    let seen: BTreeMap<(String, String, String), NaiveDate> = [(
        (
            "tpl:A1".to_string(),
            "schema_missing".to_string(),
            "former_name".to_string(),
        ),
        d(2026, 1, 20),
    )]
    .into();
    let xinjiang = profile("xinjiang-2023").unwrap().catalog_update;
    // 15 working days from Tuesday 20 January 2026: Tuesday 10 February.
    let on_due = overdue_updates(
        &[drift.clone(), other.clone()],
        &seen,
        xinjiang,
        &cal,
        d(2026, 2, 10),
    )
    .unwrap();
    assert!(on_due.is_empty());
    let after = overdue_updates(
        &[drift.clone(), other],
        &seen,
        xinjiang,
        &cal,
        d(2026, 2, 11),
    )
    .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].check, "catalog_update_overdue");
    assert!(
        after[0].message.contains("since 2026-01-20") && after[0].message.contains("by 2026-02-10"),
        "{}",
        after[0].message
    );
    // XPCC counts 15 calendar days: due 4 February.
    let xpcc = profile("xpcc-2025").unwrap().catalog_update;
    assert_eq!(
        overdue_updates(
            std::slice::from_ref(&drift),
            &seen,
            xpcc,
            &cal,
            d(2026, 2, 5)
        )
        .unwrap()
        .len(),
        1
    );
    // Drift seen for the first time today is not overdue.
    assert!(
        overdue_updates(&[drift], &BTreeMap::new(), xinjiang, &cal, d(2026, 2, 11))
            .unwrap()
            .is_empty()
    );
}

/// Issue #19, 8: 涉密 is read from the classification fields and their
/// values, and the finding names the field as the source wrote it; free
/// text that merely contains a level word (商业秘密, a ★ in a title) marks
/// nothing and the entry is published.
#[test]
fn classified_only_from_the_classification_fields() {
    let mut st = CatalogState::default();
    let with = |code: &str, name: &str, extra: &[(&str, &str)]| {
        let mut r = good(code, name);
        for (k, v) in extra {
            r.fields.insert((*k).into(), (*v).into());
        }
        r
    };
    let mut marked = with("C1", "机密资源", &[("security_marking", "秘密★5年")]);
    marked
        .origins
        .insert("security_marking".into(), "密级".into());
    let mut yes = with("C2", "是否涉密为是", &[("security_marking", "是")]);
    yes.origins
        .insert("security_marking".into(), "是否涉密".into());
    let graded = with("C3", "分级涉密", &[("grading", "涉密（机密）")]);
    let core = with("C4", "核心数据资源", &[("grading", "核心数据")]);
    let summary = with(
        "C5",
        "企业登记信息",
        &[("summary", "涉及商业秘密的字段已脱敏，非涉密")],
    );
    let star = with("C6", "★重点企业名录", &[("security_marking", "否")]);
    let level_in_name = with("C7", "秘密级文件目录", &[]);
    run(
        &mut st,
        &def("tpl", Some("gongan")),
        vec![marked, yes, graded, core, summary, star, level_in_name],
        &Curation::default(),
        1,
    );
    let f = checks_of(&st, "xinjiang-2023");
    let marked: Vec<(&str, &str, &str)> = f
        .iter()
        .filter(|x| x.check == "classified_marking")
        .map(|x| {
            (
                x.name.as_deref().unwrap_or(""),
                x.field.as_deref().unwrap_or(""),
                x.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        marked.iter().map(|m| (m.0, m.1)).collect::<Vec<_>>(),
        [
            ("机密资源", "security_marking"),
            ("是否涉密为是", "security_marking"),
            ("分级涉密", "grading"),
        ]
    );
    assert!(
        marked[0].2.starts_with("密级 `秘密★5年`"),
        "{}",
        marked[0].2
    );
    assert!(marked[1].2.starts_with("是否涉密 `是`"), "{}", marked[1].2);
    let classified: Vec<&str> = st
        .current()
        .filter(|e| e.is_classified())
        .filter_map(|e| e.name.as_deref())
        .collect();
    assert_eq!(classified, ["机密资源", "是否涉密为是", "分级涉密"]);
}

/// The DCAT-AP export of `entries`, as published (no measured facts).
fn dcat_export<'a>(entries: impl Iterator<Item = &'a CatalogEntry>) -> serde_json::Value {
    let published: Vec<super::publish::PublishedEntry> = entries
        .map(|e| super::publish::PublishedEntry {
            entry: e.clone(),
            measured: Default::default(),
        })
        .collect();
    super::publish::dcat(
        "数据局",
        "https://data.example.gov.cn/",
        &published,
        "2026-11-01",
    )
}

/// A record without identifier or resource code, as many portals send.
fn anonymous(name: &str, summary: &str) -> HarvestedRecord {
    let mut r = good("X", name);
    r.source_id = None;
    r.fields.remove("resource_code");
    r.fields.insert("summary".into(), summary.into());
    r
}

/// Issue #19, 5: thousands of Chinese titles without identifiers keep
/// thousands of identities, in the catalog and in the DCAT export; the same
/// title for other years or districts is another resource, and only the
/// same content twice is a duplicate.
#[test]
fn identities_never_collide_and_duplicates_need_the_same_content() {
    const CHARS: &[char] = &[
        '人', '口', '户', '籍', '法', '企', '业', '交', '通', '医', '疗', '教', '育', '环', '境',
        '社', '保', '就', '税', '住', '房', '公', '积', '金', '婚', '姻', '登', '记',
    ];
    assert_eq!(CHARS.iter().collect::<BTreeSet<_>>().len(), CHARS.len());
    let title = |mut i: usize| {
        let mut t = String::new();
        for _ in 0..3 {
            t.push(CHARS[i % CHARS.len()]);
            i /= CHARS.len();
        }
        t + "信息"
    };
    let mut records: Vec<HarvestedRecord> = (0..3000)
        .map(|i| anonymous(&title(i), "全市汇总"))
        .collect();
    // One title, two years and two districts: three resources.
    records.push(anonymous("人口统计", "2023年 城区"));
    records.push(anonymous("人口统计", "2024年 城区"));
    records.push(anonymous("人口统计", "2023年 郊区"));
    // One resource catalogued twice, word for word.
    records.push(anonymous("车辆登记", "全市机动车登记"));
    records.push(anonymous("车辆登记", "全市机动车登记"));
    let n = records.len();
    let mut st = CatalogState::default();
    run(
        &mut st,
        &def("portal", None),
        records,
        &Curation::default(),
        1,
    );
    let keys: Vec<&String> = st.entries.keys().collect();
    assert_eq!(keys.len(), n, "every record is an entry");
    let suffixed: Vec<&&String> = keys.iter().filter(|k| k.contains('#')).collect();
    assert_eq!(
        suffixed.len(),
        1,
        "only the word-for-word copy shares an identity: {suffixed:?}"
    );
    let f = checks_of(&st, "xinjiang-2023");
    let dup: Vec<&str> = f
        .iter()
        .filter(|x| x.check == "duplicate_name")
        .filter_map(|x| x.name.as_deref())
        .collect();
    assert_eq!(dup, ["车辆登记", "车辆登记"], "人口统计 is three resources");
    // Every dataset of the DCAT export has its own IRI, Chinese kept
    // (percent-encoded), not flattened to `_`.
    let doc = dcat_export(st.current());
    let ids: BTreeSet<String> = doc["dcat:dataset"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["@id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), n, "one IRI per dataset");
    assert!(
        ids.iter()
            .any(|i| i.contains("%E4%BA%BA%E5%8F%A3%E7%BB%9F%E8%AE%A1")),
        "人口统计 percent-encoded: {:?}",
        ids.iter().next()
    );
}

/// Issue #19, 5: an entry without identifier whose summary is corrected
/// is the same entry changed, not one withdrawn and another added; so is
/// one stored under a key from before digests (`provider/name`).
#[test]
fn an_anonymous_entry_keeps_its_identity_when_its_summary_changes() {
    let src = def("portal", None);
    let mut st = CatalogState::default();
    run(
        &mut st,
        &src,
        vec![anonymous("人口统计", "2023年 城区")],
        &Curation::default(),
        1,
    );
    let key = st.entries.keys().next().unwrap().clone();
    assert!(key.starts_with("portal:公安局/人口统计~"), "{key}");
    let rows = run(
        &mut st,
        &src,
        vec![anonymous("人口统计", "2023年 城区（修订）")],
        &Curation::default(),
        2,
    );
    assert_eq!(
        rows.iter()
            .map(|r| (r.key.as_str(), r.kind))
            .collect::<Vec<_>>(),
        [(key.as_str(), ChangeKind::Changed)]
    );
    assert_eq!(st.entries.len(), 1);
    // A catalog written before digests: the old key is carried over.
    let mut stored = st.entries.remove(&key).unwrap();
    stored.entry.key = "portal:公安局/人口统计".into();
    st.entries.insert(stored.entry.key.clone(), stored);
    let rows = run(
        &mut st,
        &src,
        vec![anonymous("人口统计", "2023年 城区（再修订）")],
        &Curation::default(),
        3,
    );
    assert_eq!(
        rows.iter()
            .map(|r| (r.key.as_str(), r.kind))
            .collect::<Vec<_>>(),
        [("portal:公安局/人口统计", ChangeKind::Changed)]
    );
    // Two resources of one name arriving where one stood: nothing is
    // guessed, the old one is withdrawn and both are added.
    let all = CatalogSourceDef {
        max_withdraw_share: 1.0,
        ..src.clone()
    };
    let rows = run(
        &mut st,
        &all,
        vec![
            anonymous("人口统计", "2025年 城区"),
            anonymous("人口统计", "2025年 郊区"),
        ],
        &Curation::default(),
        4,
    );
    let mut kinds: Vec<ChangeKind> = rows.iter().map(|r| r.kind).collect();
    kinds.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(
        kinds,
        [ChangeKind::Added, ChangeKind::Added, ChangeKind::Withdrawn]
    );
}

/// Issue #19, 5 and 7: in a DCAT document, a blank node's label is neither
/// an identity nor a value; without Chinese, English is preferred over
/// other languages; the contact point is not the provider.
#[test]
fn dcat_blank_nodes_languages_and_contact_points() {
    let dir = tempfile::tempdir().unwrap();
    let doc = serde_json::json!({
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
        "@graph": [
            {
                "@id": "_:b0",
                "@type": "dcat:Dataset",
                "dct:title": [
                    {"@language": "ca", "@value": "Trànsit"},
                    {"@language": "en", "@value": "Traffic"}
                ],
                "dct:publisher": {"@id": "_:b7"},
                "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": "数据管理科"}
            },
            {
                "@id": "_:b1",
                "@type": "dcat:Dataset",
                "dct:identifier": "JT-0002",
                "dct:title": [{"@language": "zh-CN", "@value": "路况"}, {"@language": "en", "@value": "Roads"}],
                "dct:publisher": {"@id": "_:b2"}
            },
            {"@id": "_:b2", "@type": "foaf:Agent", "foaf:name": "交通运输局"}
        ]
    });
    std::fs::write(dir.path().join("dcat.jsonld"), doc.to_string()).unwrap();
    let src = CatalogSourceConfig::Dcat(DcatConfig {
        url: "dcat.jsonld".into(),
        max_pages: 1,
        format: None,
    });
    let h = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(src.harvest(dir.path()))
        .unwrap();
    assert_eq!(h.records.len(), 2);
    let (a, b) = (&h.records[0], &h.records[1]);
    assert_eq!(a.source_id, None, "a blank node is no identity");
    assert_eq!(a.fields.get("name").map(String::as_str), Some("Traffic"));
    assert_eq!(
        a.fields.get("provider"),
        None,
        "an unresolved blank node is no provider, nor is the contact point"
    );
    assert_eq!(b.source_id.as_deref(), Some("JT-0002"));
    assert_eq!(b.fields.get("name").map(String::as_str), Some("路况"));
    assert_eq!(
        b.fields.get("provider").map(String::as_str),
        Some("交通运输局")
    );
    assert_eq!(
        b.origins.get("provider").map(String::as_str),
        Some("publisher")
    );
}

fn harvest_dcat(dir: &std::path::Path, file: &str) -> Harvest {
    let src = CatalogSourceConfig::Dcat(DcatConfig {
        url: file.into(),
        max_pages: 1,
        format: None,
    });
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(src.harvest(dir))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn field<'a>(r: &'a HarvestedRecord, f: &str) -> Option<&'a str> {
    r.fields.get(f).map(String::as_str)
}

/// Issue #19, 7 and 9: ckanext-dcat's own examples (RDF/XML, Turtle,
/// JSON-LD with `@graph`), read as published.
#[test]
fn real_dcat_documents_in_rdf_xml_turtle_and_json_ld() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/dcat");
    let rdf = harvest_dcat(&fixtures, "ckanext-dcat-dataset.rdf");
    assert_eq!(rdf.records.len(), 1, "{:?}", rdf.problems);
    let r = &rdf.records[0];
    assert_eq!(
        r.source_id.as_deref(),
        Some("https://data.some.org/catalog/datasets/9df8df51-63db-37a8-e044-0003ba9b0d98")
    );
    assert_eq!(
        field(r, "name"),
        Some("Zimbabwe Regional Geochemical Survey.")
    );
    assert_eq!(
        field(r, "provider"),
        Some("Publishing Organization for dataset 1")
    );
    assert_eq!(
        field(r, "resource_code"),
        Some("9df8df51-63db-37a8-e044-0003ba9b0d98")
    );
    assert_eq!(field(r, "online_date"), Some("2012-05-10"));
    assert_eq!(field(r, "open_attribute"), Some("public"));
    assert_eq!(field(r, "format"), Some("html"));
    let e = super::harvest::entry_of(&def("eu", None), r, TZ, &depts());
    assert_eq!(
        e.update_frequency.as_deref(),
        Some("每日"),
        "Dublin Core daily"
    );
    assert_eq!(e.open_attribute.as_deref(), Some("无条件开放"));

    let ttl = harvest_dcat(&fixtures, "ckanext-dcat-dataset_multilingual.ttl");
    assert_eq!(ttl.records.len(), 1, "{:?}", ttl.problems);
    let r = &ttl.records[0];
    assert_eq!(
        field(r, "name"),
        Some("Test DCAT dataset"),
        "English before Catalan"
    );
    assert_eq!(field(r, "summary"), Some("Some description"));
    assert_eq!(
        field(r, "resource_code"),
        Some("0112cf32-bce0-4071-9504-923375f9f2ad")
    );
    assert_eq!(field(r, "online_date"), Some("2024-05-01"));
    assert_eq!(
        field(r, "provider"),
        None,
        "two contact points, no publisher"
    );

    let jsonld = harvest_dcat(&fixtures, "ckanext-dcat-catalog_with_at_graph.jsonld");
    assert_eq!(jsonld.records.len(), 1, "{:?}", jsonld.problems);
    let r = &jsonld.records[0];
    assert_eq!(field(r, "name"), Some("Title dataset"));
    assert!(
        r.fields.values().all(|v| !v.starts_with("_:")),
        "no blank node as text: {:?}",
        r.fields
    );
}

/// Issue #19, 7: pdq's own DCAT-AP export, harvested back by pdq, gives
/// back every field DCAT carries — Chinese and English names, every open
/// attribute (and none where none was stated), frequencies, dates, codes
/// and formats.
#[test]
fn the_dcat_export_round_trips_through_the_harvester() {
    let mut st = CatalogState::default();
    let mut records = vec![];
    for (i, (name, open, freq, fmt)) in [
        ("户籍人口", "无条件开放", "每日", "csv/xlsx"),
        ("Bus lines", "有条件开放", "每月", "json"),
        ("企业登记", "不予开放", "每年", "电子表格"),
        ("空气质量", "", "不定期", ""),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = good(&format!("RT{i}"), name);
        r.fields.insert("summary".into(), format!("{name} 的摘要"));
        r.fields.insert("online_date".into(), "2024-05-01".into());
        r.fields.insert("data_updated".into(), "2026-11-02".into());
        r.fields.insert("update_frequency".into(), freq.into());
        if open.is_empty() {
            r.fields.remove("open_attribute");
        } else {
            r.fields.insert("open_attribute".into(), open.into());
        }
        if fmt.is_empty() {
            r.fields.remove("format");
        } else {
            r.fields.insert("format".into(), fmt.into());
        }
        records.push(r);
    }
    // And one without a resource code: its IRI is its identity.
    records.push(anonymous("人口统计", "2024年 城区"));
    run(
        &mut st,
        &def("tpl", Some("gongan")),
        records,
        &Curation::default(),
        1,
    );
    let before: Vec<CatalogEntry> = st.current().cloned().collect();
    let doc = dcat_export(before.iter());
    let text = doc.to_string();
    assert!(!text.contains("\"zh\""), "Chinese is tagged zh-CN");
    assert!(
        text.contains("{\"@language\":\"zh-CN\",\"@value\":\"户籍人口\"}")
            && text.contains("\"dct:title\":\"Bus lines\""),
        "an English name is not tagged Chinese"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dcat.jsonld"), &text).unwrap();
    let back = harvest_dcat(dir.path(), "dcat.jsonld");
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    let mut again = CatalogState::default();
    run(
        &mut again,
        &def("tpl", Some("gongan")),
        back.records,
        &Curation::default(),
        1,
    );
    let after: Vec<CatalogEntry> = again.current().cloned().collect();
    assert_eq!(after.len(), before.len());
    let by_name = |es: &[CatalogEntry], n: &str| -> CatalogEntry {
        es.iter()
            .find(|e| e.name.as_deref() == Some(n))
            .cloned()
            .unwrap()
    };
    let formats = |e: &CatalogEntry| -> BTreeSet<String> {
        e.format
            .as_deref()
            .unwrap_or("")
            .split(['、', '/'])
            .filter(|f| !f.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    for b in &before {
        let name = b.name.as_deref().unwrap();
        let a = by_name(&after, name);
        for f in [
            "resource_code",
            "name",
            "summary",
            "provider",
            "update_frequency",
            "open_attribute",
            "online_date",
            "data_updated",
            "classification",
        ] {
            assert_eq!(a.get(f), b.get(f), "{name}: {f}");
        }
        assert_eq!(formats(&a), formats(b), "{name}: format");
    }
}

// Portal vocabularies and dates (issue #19, 3 and 4).

/// One record per value, under `field`, merged from source `src` into a
/// fresh catalog.
fn harvested_values(
    src: &CatalogSourceDef,
    field: &str,
    values: &[&str],
) -> (CatalogState, Vec<CatalogFinding>) {
    let mut st = CatalogState::default();
    let records = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut r = good(&format!("V{i}"), &format!("资源{i}"));
            r.fields.insert(field.into(), (*v).into());
            r.origins.insert(field.into(), "K 开放属性".into());
            r
        })
        .collect();
    run(&mut st, src, records, &Curation::default(), 1);
    let f = checks_of(&st, "xinjiang-2023");
    (st, f)
}

fn value_of<'a>(st: &'a CatalogState, code: &str, field: &str) -> Option<&'a str> {
    st.entries[&format!("portal:{code}")].entry.get(field)
}

#[test]
fn portal_words_for_each_kind_map_to_canonical_values_without_findings() {
    let src = def("portal", Some("gongan"));
    let cases: [(&str, &[(&str, &str)]); 3] = [
        (
            "open_attribute",
            &[
                ("完全开放", "无条件开放"),
                ("无条件开放", "无条件开放"),
                ("开放", "无条件开放"),
                ("依申请开放", "有条件开放"),
                ("有条件开放", "有条件开放"),
                ("登录开放", "有条件开放"),
                ("受限开放", "有条件开放"),
                ("不开放", "不予开放"),
                ("非开放", "不予开放"),
                ("不予开放", "不予开放"),
            ],
        ),
        (
            "share_attribute",
            &[
                ("无条件共享", "无条件共享"),
                ("完全共享", "无条件共享"),
                ("依申请共享", "有条件共享"),
                ("有条件共享", "有条件共享"),
                ("不予共享", "不予共享"),
                ("不共享", "不予共享"),
            ],
        ),
        (
            "update_frequency",
            &[
                ("实时", "实时"),
                ("即时", "实时"),
                ("每小时", "实时"),
                ("每日", "每日"),
                ("每周", "每周"),
                ("每月", "每月"),
                ("每季度", "每季度"),
                ("每半年", "每半年"),
                ("每年", "每年"),
                ("不定期", "不定期"),
                ("不定时", "不定期"),
                ("静态数据", "不更新"),
                ("不更新", "不更新"),
                ("never", "不更新"),
            ],
        ),
    ];
    for (field, pairs) in cases {
        let written: Vec<&str> = pairs.iter().map(|(w, _)| *w).collect();
        let (st, f) = harvested_values(&src, field, &written);
        for (i, (w, want)) in pairs.iter().enumerate() {
            assert_eq!(
                value_of(&st, &format!("V{i}"), field),
                Some(*want),
                "{field} `{w}`"
            );
        }
        // No finding says the value is wrong (conditions owed by the
        // conditional values are other checks).
        let wrong: Vec<&CatalogFinding> = f
            .iter()
            .filter(|x| x.check == "enumeration" || x.check == "required_field")
            .filter(|x| x.field.as_deref() == Some(field))
            .collect();
        assert_eq!(wrong, Vec::<&CatalogFinding>::new(), "{field}");
    }
}

#[test]
fn an_unmapped_value_is_a_finding_naming_it_and_the_record_and_leaves_the_field_unset() {
    let mut src = def("portal", Some("gongan"));
    // A default must not cover what the source wrote.
    src.defaults
        .insert("update_frequency".into(), "每年".into());
    src.defaults
        .insert("open_attribute".into(), "无条件开放".into());
    let mut st = CatalogState::default();
    let mut other = good("U1", "其他频率");
    other
        .fields
        .insert("update_frequency".into(), "其他".into());
    other
        .origins
        .insert("update_frequency".into(), "column J (更新频率)".into());
    let mut unknown = good("U2", "未知开放");
    unknown
        .fields
        .insert("open_attribute".into(), "看情况开放".into());
    let mut blank = good("U3", "未填频率");
    blank.fields.remove("update_frequency");
    run(
        &mut st,
        &src,
        vec![other, unknown, blank],
        &Curation::default(),
        1,
    );
    let e = &st.entries["portal:U1"].entry;
    assert_eq!(
        e.update_frequency, None,
        "其他 is not silently 不定期 or 每年"
    );
    assert_eq!(
        e.unmapped.get("update_frequency").map(String::as_str),
        Some("其他")
    );
    assert_eq!(st.entries["portal:U2"].entry.open_attribute, None);
    assert_eq!(
        st.entries["portal:U3"].entry.update_frequency.as_deref(),
        Some("每年"),
        "a blank field still takes the default"
    );
    let f = checks_of(&st, "xinjiang-2023");
    let about = |name: &str, field: &str| -> Vec<&CatalogFinding> {
        f.iter()
            .filter(|x| x.name.as_deref() == Some(name) && x.field.as_deref() == Some(field))
            .collect()
    };
    let freq = about("其他频率", "update_frequency");
    assert_eq!(freq.len(), 1, "one finding, not also `required`: {freq:#?}");
    assert_eq!(freq[0].check, "enumeration");
    assert_eq!(freq[0].key.as_deref(), Some("portal:U1"));
    assert_eq!(
        freq[0].location,
        "目录.xlsx!资源目录 row 2 column J (更新频率)"
    );
    assert!(
        freq[0].message.starts_with(
            "`其他` in update_frequency (更新频率) of record portal:U1 is not a value pdq knows, so update_frequency is left unset"
        ),
        "{}",
        freq[0].message
    );
    assert!(freq[0].message.contains("[values.frequency]"));
    let open = about("未知开放", "open_attribute");
    assert_eq!(open.len(), 1, "{open:#?}");
    assert!(
        open[0].message.contains("`看情况开放`")
            && open[0].message.contains("portal:U2")
            && open[0].message.contains("无条件开放, 有条件开放, 非开放"),
        "the profile's words: {}",
        open[0].message
    );
    // The bureau's curation settles it: no finding left.
    let curation = Curation {
        entry: vec![CuratedEntry {
            key: Some("portal:U1".into()),
            code: None,
            fields: [("update_frequency".to_string(), "不定期".to_string())].into(),
        }],
    };
    let mut st2 = CatalogState::default();
    let mut other = good("U1", "其他频率");
    other
        .fields
        .insert("update_frequency".into(), "其他".into());
    run(&mut st2, &src, vec![other], &curation, 1);
    let e = &st2.entries["portal:U1"].entry;
    assert_eq!(e.update_frequency.as_deref(), Some("不定期"));
    assert!(e.unmapped.is_empty());
    assert!(
        !checks_of(&st2, "xinjiang-2023")
            .iter()
            .any(|x| x.field.as_deref() == Some("update_frequency"))
    );
}

#[test]
fn a_sources_values_table_overrides_and_extends_the_builtins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("catalogs")).unwrap();
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "department = \"gongan\"\n[source]\nkind = \"dcat\"\nurl = \"unused\"\n\
         [values.open]\n\"公开\" = \"无条件开放\"\n\"开放\" = \"依申请开放\"\n\
         [values.share]\n\"共享\" = \"无条件共享\"\n\
         [values.frequency]\n\"其他\" = \"不定期\"\n\"每两天\" = \"每日\"\n",
    )
    .unwrap();
    let defs = super::harvest::load_sources(dir.path()).unwrap();
    let src = &defs[0];
    assert_eq!(src.values.open.len(), 2);
    let (st, f) = harvested_values(src, "open_attribute", &["公开", "开放", "完全开放"]);
    assert_eq!(
        value_of(&st, "V0", "open_attribute"),
        Some("无条件开放"),
        "extends"
    );
    assert_eq!(
        value_of(&st, "V1", "open_attribute"),
        Some("有条件开放"),
        "overrides the built-in 开放 = 无条件开放 for this source"
    );
    assert_eq!(
        value_of(&st, "V2", "open_attribute"),
        Some("无条件开放"),
        "built-in"
    );
    assert!(!f.iter().any(|x| x.check == "enumeration"), "{f:#?}");
    let (st, _) = harvested_values(src, "update_frequency", &["其他", "每两天"]);
    assert_eq!(value_of(&st, "V0", "update_frequency"), Some("不定期"));
    assert_eq!(value_of(&st, "V1", "update_frequency"), Some("每日"));
    let (st, _) = harvested_values(src, "share_attribute", &["共享"]);
    assert_eq!(value_of(&st, "V0", "share_attribute"), Some("无条件共享"));
    // Without the table, the same words are findings.
    let (st, f) = harvested_values(&def("portal", Some("gongan")), "open_attribute", &["公开"]);
    assert_eq!(value_of(&st, "V0", "open_attribute"), None);
    assert!(
        f.iter()
            .any(|x| x.check == "enumeration" && x.message.contains("`公开`"))
    );
    // A mapping to a value pdq does not know is refused, naming file and key.
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "[source]\nkind = \"dcat\"\nurl = \"unused\"\n[values.frequency]\n\"其他\" = \"偶尔\"\n",
    )
    .unwrap();
    let e = super::harvest::load_sources(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("portal.toml: values.frequency: `其他` = `偶尔`"),
        "{e}"
    );
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "[source]\nkind = \"dcat\"\nurl = \"unused\"\n[values.opne]\n\"公开\" = \"无条件开放\"\n",
    )
    .unwrap();
    let e = super::harvest::load_sources(dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("portal.toml") && e.contains("opne"), "{e}");
    // A default is read through the same tables: one the source maps is
    // fine, one nothing maps is refused when the source is loaded.
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "[source]\nkind = \"dcat\"\nurl = \"unused\"\n[defaults]\nopen_attribute = \"公开\"\n[values.open]\n\"公开\" = \"无条件开放\"\n",
    )
    .unwrap();
    assert!(super::harvest::load_sources(dir.path()).is_ok());
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "[source]\nkind = \"dcat\"\nurl = \"unused\"\n[defaults]\nupdate_frequency = \"其他\"\n",
    )
    .unwrap();
    let e = super::harvest::load_sources(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("portal.toml: defaults: update_frequency = `其他` is not a value pdq knows"),
        "{e}"
    );
}

fn published(st: &CatalogState, profile_id: &str) -> Vec<super::publish::PublishedEntry> {
    super::publish::enrich(
        st,
        &[],
        &[],
        &BTreeMap::new(),
        &profile(profile_id).unwrap().catalog,
    )
}

fn dcat_of(entries: &[super::publish::PublishedEntry]) -> serde_json::Value {
    super::publish::dcat("数据局", "urn:pdq:", entries, "2026-11-01T00:00:00+00:00")
}

fn dcat_dataset<'a>(d: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    d["dcat:dataset"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["dct:identifier"] == code)
        .unwrap()
}

#[test]
fn dcat_labels_open_data_public_conditional_restricted_not_open_non_public() {
    let src = def("portal", Some("gongan"));
    let (st, _) = harvested_values(
        &src,
        "open_attribute",
        &["完全开放", "依申请开放", "登录开放", "非开放", "看情况"],
    );
    // 新疆 words 不予开放 as 非开放: the label must not depend on the word.
    for profile_id in ["xinjiang-2023", "tibet-2025"] {
        let d = dcat_of(&published(&st, profile_id));
        let access = |code: &str| {
            dcat_dataset(&d, code)["dct:accessRights"]["@id"]
                .as_str()
                .map(|i| i.rsplit('/').next().unwrap_or_default().to_string())
                .unwrap_or_else(|| "(none)".into())
        };
        assert_eq!(access("V0"), "PUBLIC", "{profile_id}");
        assert_eq!(access("V1"), "RESTRICTED", "{profile_id}");
        assert_eq!(access("V2"), "RESTRICTED", "{profile_id}");
        assert_eq!(access("V3"), "NON_PUBLIC", "{profile_id}");
        // An attribute nothing maps is not stated as anything: written as
        // NON_PUBLIC it would come back from pdq's own harvester as 不予开放
        // (the round trip, issue #19, 7); it is in no public file anyway.
        assert_eq!(
            access("V4"),
            "(none)",
            "{profile_id}: unknown is not claimed"
        );
    }
}

#[test]
fn the_published_catalog_words_attributes_as_the_profile_does() {
    let src = def("portal", Some("gongan"));
    let (st, _) = harvested_values(&src, "open_attribute", &["不开放", "完全开放"]);
    let xj = published(&st, "xinjiang-2023");
    let tb = published(&st, "tibet-2025");
    let word = |p: &[super::publish::PublishedEntry], code: &str| {
        p.iter()
            .find(|x| x.entry.resource_code.as_deref() == Some(code))
            .and_then(|x| x.entry.open_attribute.clone())
    };
    assert_eq!(
        word(&xj, "V0").as_deref(),
        Some("非开放"),
        "新疆 第二十六条"
    );
    assert_eq!(word(&tb, "V0").as_deref(), Some("不予开放"));
    assert_eq!(word(&xj, "V1").as_deref(), Some("无条件开放"));
    // The open catalog is the open entries, whatever the words.
    let files = super::publish::files("数据局", 1, Utc::now(), xj, &[], &[], &st).unwrap();
    let get = |n: &str| &files.iter().find(|(f, _)| f == n).unwrap().1;
    let open: serde_json::Value = serde_json::from_slice(get("open-catalog.json")).unwrap();
    let names: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["资源1"]);
    let catalog: serde_json::Value = serde_json::from_slice(get("catalog.json")).unwrap();
    let opens: Vec<&str> = catalog["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["open_attribute"].as_str())
        .collect();
    assert_eq!(opens, ["非开放", "无条件开放"]);
}

#[tokio::test]
async fn real_time_round_trips_as_real_time_through_the_published_catalog_and_dcat() {
    let src = def("portal", Some("gongan"));
    let (st, f) = harvested_values(&src, "update_frequency", &["实时", "即时"]);
    assert!(!f.iter().any(|x| x.check == "enumeration"), "{f:#?}");
    assert_eq!(value_of(&st, "V0", "update_frequency"), Some("实时"));
    assert_eq!(
        value_of(&st, "V1", "update_frequency"),
        Some("实时"),
        "not 每日"
    );
    let entries = published(&st, "xinjiang-2023");
    let files =
        super::publish::files("数据局", 1, Utc::now(), entries.clone(), &[], &[], &st).unwrap();
    let get = |n: &str| &files.iter().find(|(f, _)| f == n).unwrap().1;
    let catalog: serde_json::Value = serde_json::from_slice(get("catalog.json")).unwrap();
    assert_eq!(catalog["entries"][0]["update_frequency"], "实时");
    assert!(String::from_utf8_lossy(get("catalog.csv")).contains(",实时,"));
    let d: serde_json::Value = serde_json::from_slice(get("dcat.jsonld")).unwrap();
    assert_eq!(
        dcat_dataset(&d, "V0")["dct:accrualPeriodicity"]["@id"],
        "http://publications.europa.eu/resource/authority/frequency/UPDATE_CONT"
    );
    // pdq's own DCAT, harvested back, is still 实时.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dcat.jsonld"), get("dcat.jsonld")).unwrap();
    let h = CatalogSourceConfig::Dcat(DcatConfig {
        url: "dcat.jsonld".into(),
        max_pages: 1,
        format: None,
    })
    .harvest(dir.path())
    .await
    .unwrap();
    assert_eq!(h.records.len(), 2);
    let mut back = CatalogState::default();
    run(
        &mut back,
        &def("again", Some("gongan")),
        h.records,
        &Curation::default(),
        2,
    );
    for e in back.current() {
        assert_eq!(e.update_frequency.as_deref(), Some("实时"), "{}", e.key);
    }
}

#[test]
fn never_updated_data_is_valid_and_never_late_and_real_time_is_checked_daily() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    let freq = |code: &str, name: &str, v: &str| {
        let mut r = good(code, name);
        r.fields.insert("update_frequency".into(), v.into());
        r
    };
    run(
        &mut st,
        &src,
        vec![
            freq("S1", "历史档案", "不更新"),
            freq("S2", "静态名录", "静态数据"),
            freq("S3", "实时监测", "实时"),
            freq("S4", "不定期公告", "不定时"),
        ],
        &Curation::default(),
        1,
    );
    assert_eq!(
        st.entries["tpl:S2"].entry.update_frequency.as_deref(),
        Some("不更新")
    );
    let f = checks_of(&st, "xinjiang-2023");
    assert!(
        !f.iter()
            .any(|x| x.field.as_deref() == Some("update_frequency")),
        "不更新, 静态数据, 实时 and 不定时 are accepted: {f:#?}"
    );
    let long_ago = Utc.with_ymd_and_hms(2023, 1, 10, 10, 0, 0).unwrap();
    let datasets: Vec<LandedDataset> = ["S1", "S2", "S3", "S4"]
        .iter()
        .map(|c| {
            landed(
                &format!("gongan.{c}"),
                Some(c),
                &[("x", Kind::Text, None)],
                Some(long_ago),
            )
        })
        .collect();
    let now = Utc.with_ymd_and_hms(2025, 1, 27, 1, 0, 0).unwrap();
    let cal = WorkCalendar::embedded();
    let f = reconcile(&st, &datasets, DayUnit::Calendar, &cal, TZ, now).unwrap();
    let late: Vec<&str> = f
        .iter()
        .filter(|x| x.check == "late_delivery")
        .filter_map(|x| x.name.as_deref())
        .collect();
    assert_eq!(late, ["实时监测"], "only real time, checked as daily");
    let msg = &f
        .iter()
        .find(|x| x.check == "late_delivery")
        .unwrap()
        .message;
    assert!(
        msg.starts_with("declared 实时; last delivery 2023-01-10, next was due 2023-01-11"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_ckan_package_with_fractional_seconds_and_no_zone_has_no_date_finding() {
    let dir = tempfile::tempdir().unwrap();
    let package = serde_json::json!({
        "success": true,
        "result": {"count": 1, "results": [{
            "id": "3f0c", "name": "air-quality", "title": "空气质量",
            "notes": "逐时空气质量监测数据",
            "organization": {"name": "gongan", "title": "公安局"},
            "metadata_created": "2023-12-31T16:00:00.000001",
            "metadata_modified": "2024-03-05T08:15:30.123456",
            "extras": [
                {"key": "更新频率", "value": "实时"},
                {"key": "开放属性", "value": "完全开放"},
                {"key": "共享属性", "value": "无条件共享"}
            ],
            "resources": [{"format": "CSV"}]
        }]}
    });
    std::fs::write(dir.path().join("ckan.json"), package.to_string()).unwrap();
    let h = CatalogSourceConfig::Ckan(connectors::catalog::CkanConfig {
        url: "ckan.json".into(),
        rows: 100,
        fq: None,
        extras: BTreeMap::new(),
    })
    .harvest(dir.path())
    .await
    .unwrap();
    let mut st = CatalogState::default();
    run(
        &mut st,
        &def("ckan", None),
        h.records,
        &Curation::default(),
        1,
    );
    let e = st.current().next().unwrap();
    assert_eq!(
        e.data_updated.as_deref(),
        Some("2024-03-05T00:15:30.123456+00:00"),
        "no zone: the bureau's time"
    );
    assert_eq!(
        e.online_date.as_deref(),
        Some("2023-12-31T08:00:00.000001+00:00")
    );
    assert_eq!(e.update_frequency.as_deref(), Some("实时"));
    assert_eq!(e.open_attribute.as_deref(), Some("无条件开放"));
    let f = checks_of(&st, "xinjiang-2023");
    let dates: Vec<&CatalogFinding> = f
        .iter()
        .filter(|x| matches!(x.field.as_deref(), Some("data_updated" | "online_date")))
        .collect();
    assert_eq!(dates, Vec::<&CatalogFinding>::new());
    let enums: Vec<&CatalogFinding> = f.iter().filter(|x| x.check == "enumeration").collect();
    assert_eq!(enums, Vec::<&CatalogFinding>::new());
}

/// Issue #17, 3: personal information in open data, per the text. A
/// resource with a personal item (身份证号) and one with a sensitive item
/// (病历, marked 敏感), each marked 有条件开放 and 无条件开放.
#[test]
fn personal_information_is_kept_out_of_the_open_attributes_the_text_names() {
    let item = |name: &str, sensitive: bool| HarvestedItem {
        location: format!("目录.xlsx!信息项 {name}"),
        fields: [
            ("name", name),
            ("type", "字符型"),
            ("sensitive", if sensitive { "是" } else { "否" }),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect(),
        origins: BTreeMap::new(),
    };
    let mut records = vec![];
    for (code, open, sensitive) in [
        ("P1", "有条件开放", false),
        ("P2", "无条件开放", false),
        ("P3", "有条件开放", true),
        ("P4", "无条件开放", true),
        ("P5", "不予开放", true),
    ] {
        let mut r = good(code, &format!("资源{code}"));
        r.fields.insert("open_attribute".into(), open.into());
        r.fields
            .insert("open_conditions".into(), "签订开放利用协议".into());
        r.items.push(if sensitive {
            item("病历", true)
        } else {
            item("身份证号", false)
        });
        records.push(r);
    }
    let mut st = CatalogState::default();
    run(
        &mut st,
        &def("tpl", Some("gongan")),
        records,
        &Curation::default(),
        1,
    );
    let flagged = |profile_id: &str| -> Vec<String> {
        checks_of(&st, profile_id)
            .into_iter()
            .filter(|f| f.check == "personal_data_open")
            .filter_map(|f| f.name)
            .collect()
    };
    // 西藏 第二十九条, 吴忠 第二十九条: 个人信息 → 不予开放, 有条件开放 too.
    for p in ["tibet-2025", "wuzhong-2024"] {
        assert_eq!(flagged(p), ["资源P1", "资源P2", "资源P3", "资源P4"], "{p}");
    }
    // 兵团 第二十八条: only 敏感个人信息.
    assert_eq!(flagged("xpcc-2025"), ["资源P3", "资源P4"]);
    // 新疆, 甘孜 name no rule: pdq's default, not 无条件开放.
    for p in ["xinjiang-2023", "ganzi-2025"] {
        assert_eq!(flagged(p), ["资源P2", "资源P4"], "{p}");
    }
    let msg = checks_of(&st, "tibet-2025")
        .into_iter()
        .find(|f| f.check == "personal_data_open" && f.name.as_deref() == Some("资源P3"))
        .unwrap()
        .message;
    assert!(
        msg.contains("sensitive personal")
            && msg.contains("有条件开放")
            && msg.contains("不予开放"),
        "{msg}"
    );
}

/// A source's harvest of `names` (None: a record without a resource name),
/// each record also carrying the source keys `unmapped` that no mapping used.
fn with_names(names: &[Option<&str>], unmapped: &[&str]) -> Harvest {
    let mut h = Harvest::default();
    for (i, n) in names.iter().enumerate() {
        let mut r = good(&format!("M{i}"), n.unwrap_or(""));
        r.unmapped = unmapped.iter().map(|k| k.to_string()).collect();
        match n {
            Some(_) => h.records.push(r),
            None => {
                r.fields.remove("name");
                h.skipped.push(r);
            }
        }
    }
    h
}

fn merge_one(
    state: &mut CatalogState,
    source: &CatalogSourceDef,
    h: Harvest,
) -> super::harvest::SourceOutcome {
    let now = Utc.with_ymd_and_hms(2026, 11, 3, 2, 30, 0).unwrap();
    let (_, mut outcomes, _) = merge(
        state,
        &[(source.clone(), Ok(h))],
        &Curation::default(),
        TZ,
        &depts(),
        "h",
        now,
    );
    outcomes.remove(0)
}

/// Issue #19, 2: never a silent zero. A source whose records mostly lack
/// the resource name — a portal export read without the right mapping —
/// fails, naming the field, the count and the keys it did not map; an
/// empty delivery is never ok; within `max_missing_share` the named
/// records are merged.
#[test]
fn a_harvest_missing_required_fields_or_empty_is_never_ok() {
    let src = def("portal", Some("gongan"));
    let mut st = CatalogState::default();
    // 3 of 10 records without a name, keys 资源标题 and 单位 unmapped.
    let mut names: Vec<Option<&str>> = vec![
        Some("甲"),
        Some("乙"),
        Some("丙"),
        Some("丁"),
        Some("戊"),
        Some("己"),
        Some("庚"),
    ];
    names.extend([None, None, None]);
    let o = merge_one(&mut st, &src, with_names(&names, &["资源标题", "单位"]));
    assert_eq!(o.status, "failed");
    let why = o.error.unwrap();
    assert!(
        why.contains("`name` missing in 3 of 10 records (30%)")
            && why.contains("资源标题 (10)")
            && why.contains("单位 (10)")
            && why.contains("max_missing_share 5%"),
        "{why}"
    );
    assert!(st.entries.is_empty(), "nothing from the source was applied");
    // Allowed a larger share, the seven named records are merged.
    let tolerant = CatalogSourceDef {
        max_missing_share: 0.5,
        ..src.clone()
    };
    let o = merge_one(&mut st, &tolerant, with_names(&names, &[]));
    assert_eq!((o.status.as_str(), o.added), ("ok", 7));
    // Nothing delivered by a source with entries: failed, they stand.
    let o = merge_one(&mut st, &src, Harvest::default());
    assert_eq!(o.status, "failed");
    assert!(o.error.unwrap().contains("its 7 entries stand"));
    assert_eq!(st.current().count(), 7);
    // Nothing from a new source: `empty`, not ok.
    let fresh = def("new-portal", Some("gongan"));
    assert_eq!(
        merge_one(&mut st, &fresh, Harvest::default()).status,
        "empty"
    );
    // A source that may be empty says so.
    let may = CatalogSourceDef {
        allow_empty: true,
        ..fresh
    };
    assert_eq!(merge_one(&mut st, &may, Harvest::default()).status, "ok");
    // Without a department, the provider is required too.
    let mut anon = with_names(&[Some("甲"), Some("乙")], &["机构"]);
    for r in &mut anon.records {
        r.fields.remove("provider");
    }
    let o = merge_one(&mut CatalogState::default(), &def("portal", None), anon);
    assert_eq!(o.status, "failed");
    let why = o.error.unwrap();
    assert!(
        why.contains("`provider` missing in 2 of 2 records") && why.contains("机构 (2)"),
        "{why}"
    );
}

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
        vec![(source.clone(), harvest(records))],
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
    });
    open_personal.items.push(HarvestedItem {
        location: "目录.xlsx!信息项 row 4".into(),
        fields: [("name", "站点编号"), ("type", "字符型"), ("personal", "否")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
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
    down_ok.fields.insert(
        "approval_record".into(),
        "2026-11-01 数据局审〔2026〕12号 同意 共享属性 无条件共享→有条件共享".into(),
    );
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
        vec![(src.clone(), harvest(ten[..3].to_vec()))],
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
        vec![(src.clone(), Err("HTTP 503".into()))],
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

/// The DCAT-AP export of `entries`, as published (no measured facts).
fn dcat_export<'a>(entries: impl Iterator<Item = &'a CatalogEntry>) -> serde_json::Value {
    let published: Vec<crate::catalog::publish::PublishedEntry> = entries
        .map(|e| crate::catalog::publish::PublishedEntry {
            entry: e.clone(),
            measured: Default::default(),
        })
        .collect();
    crate::catalog::publish::dcat(
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

mod accompany;
mod automap;
mod clock;
mod dcat;
mod harvest_rules;
mod identity;
mod lifecycle;
mod reconcile;
mod streaming;
mod vocab;

/// An entry as the store holds one: fields, curation, unmapped values,
/// origins, data items, and where and when it was read.
fn stored_entry() -> CatalogEntry {
    use super::model::DataItem;
    let mut e = CatalogEntry {
        key: "portal:B1".into(),
        source: "portal".into(),
        department: "gongan".into(),
        location: "catalogs/portal.json page 1 item 1".into(),
        name: Some("户籍人口".into()),
        resource_code: Some("B1".into()),
        open_attribute: Some("不予开放".into()),
        first_harvested: Some(Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap()),
        entry_updated: Some(Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 6).unwrap()),
        curated: vec!["name".into()],
        items: (0..3)
            .map(|i| DataItem {
                name: Some(format!("项{i}")),
                column: Some(format!("c{i}")),
                data_type: Some("字符型".into()),
                personal: Some(i == 0),
                location: format!("catalogs/portal.json page 1 item 1 信息项[{i}]"),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    e.origins.insert("name".into(), "资源名称".into());
    e.unmapped
        .insert("update_frequency".into(), "看情况".into());
    e
}

/// The harvest hashes entries in place; the hash must be the one stored
/// by every earlier version (else each stored entry would look changed),
/// and the entry must come back as it was.
#[test]
fn an_entry_hashed_in_place_has_its_stored_hash_and_is_left_as_it_was() {
    use super::store::{content_hash, content_hash_of};
    let mut e = stored_entry();
    let before = e.clone();
    let want = content_hash(&e);
    assert_eq!(content_hash_of(&mut e), want);
    assert_eq!(e, before);
    // And it still tells a changed entry from an unchanged one, and
    // ignores where and when it was read.
    let mut moved = e.clone();
    moved.location = "elsewhere".into();
    moved.items[1].location = "elsewhere".into();
    moved.entry_updated = None;
    assert_eq!(content_hash_of(&mut moved), want);
    let mut changed = e.clone();
    changed.items[2].data_type = Some("数值型".into());
    assert_ne!(content_hash_of(&mut changed), want);
}

/// Entries compared directly agree with their content hashes: where and
/// when each was read is left out, any field of the entry or of a data
/// item counts, and both entries are left as they were.
#[test]
fn entries_compared_directly_agree_with_their_content_hashes() {
    use super::store::{content_hash, same_content};
    let e = stored_entry();
    type Change = Box<dyn Fn(&mut CatalogEntry)>;
    let variants: Vec<(&str, Change)> = vec![
        (
            "read elsewhere",
            Box::new(|x| x.location = "elsewhere".into()),
        ),
        (
            "item read elsewhere",
            Box::new(|x| x.items[1].location = "x".into()),
        ),
        ("other origins", Box::new(|x| x.origins.clear())),
        (
            "harvested later",
            Box::new(|x| x.entry_updated = Some(Utc::now())),
        ),
        ("first seen later", Box::new(|x| x.first_harvested = None)),
        ("renamed", Box::new(|x| x.name = Some("户籍".into()))),
        (
            "opened",
            Box::new(|x| x.open_attribute = Some("无条件开放".into())),
        ),
        (
            "other department",
            Box::new(|x| x.department = "minzheng".into()),
        ),
        ("not curated", Box::new(|x| x.curated.clear())),
        (
            "unmapped value",
            Box::new(|x| {
                x.unmapped.insert("share_attribute".into(), "看情况".into());
            }),
        ),
        (
            "item retyped",
            Box::new(|x| x.items[2].data_type = Some("数值型".into())),
        ),
        (
            "item not personal",
            Box::new(|x| x.items[0].personal = None),
        ),
        (
            "item removed",
            Box::new(|x| {
                x.items.pop();
            }),
        ),
        ("items reordered", Box::new(|x| x.items.swap(0, 1))),
    ];
    for (what, change) in &variants {
        let mut a = e.clone();
        let mut b = e.clone();
        change(&mut b);
        let (a0, b0) = (a.clone(), b.clone());
        let by_hash = content_hash(&a) == content_hash(&b);
        assert_eq!(same_content(&mut a, &mut b), by_hash, "{what}");
        assert_eq!((a, b), (a0, b0), "{what}: left as they were");
    }
    // Both kinds occur above.
    let same = |f: &dyn Fn(&mut CatalogEntry)| {
        let mut b = e.clone();
        f(&mut b);
        same_content(&mut e.clone(), &mut b)
    };
    assert!(same(&*variants[0].1));
    assert!(!same(&*variants[5].1));
}

/// An entry stored under a hash that an earlier version computed another
/// way (a field added to the entry changes its serialisation) is not
/// "changed" on the next harvest when its content is the same: the
/// stored entry itself is compared, not the hash. A changed one still is.
#[test]
fn an_entry_hashed_by_an_earlier_version_is_unchanged_when_its_content_is() {
    let src = def("portal", Some("gongan"));
    let records = || vec![good("S1", "户籍人口"), good("S2", "婚姻登记")];
    let mut st = CatalogState::default();
    assert_eq!(
        run(&mut st, &src, records(), &Curation::default(), 1).len(),
        2
    );
    for s in st.entries.values_mut() {
        s.hash = "sha256 by an earlier formula".into();
    }
    let rows = run(&mut st, &src, records(), &Curation::default(), 2);
    assert!(rows.is_empty(), "{rows:?}");
    let mut changed = records();
    changed[1].fields.insert("name".into(), "离婚登记".into());
    let rows = run(&mut st, &src, changed, &Curation::default(), 3);
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].key.as_str(), rows[0].kind),
        ("portal:S2", ChangeKind::Changed)
    );
}

/// A large catalog is published on every core: the same entries, in the
/// same order, as one thread makes them (profile wording and masking
/// included).
#[test]
fn a_large_catalog_is_enriched_in_order_and_as_one_thread_would() {
    use super::publish::{enrich, published_entry};
    use super::store::Stored;
    let mut st = CatalogState::default();
    for i in 0..12_345 {
        let e = CatalogEntry {
            key: format!("portal:{i:05}"),
            source: "portal".into(),
            department: "gongan".into(),
            name: Some(format!("资源{i}")),
            summary: Some(format!("联系 13800138{:03}", i % 1000)),
            open_attribute: Some(
                if i % 3 == 0 {
                    "无条件开放"
                } else {
                    "不予开放"
                }
                .into(),
            ),
            security_marking: (i % 1000 == 7).then(|| "机密".to_string()),
            ..Default::default()
        };
        st.entries.insert(
            e.key.clone(),
            Stored {
                entry: e,
                hash: String::new(),
                version: 1,
                withdrawn: i % 500 == 1,
                attribute_changes: vec![],
                updated: vec![],
            },
        );
    }
    let prof = profile("xinjiang-2023").unwrap();
    let got = enrich(&st, &[], &[], &BTreeMap::new(), &prof.catalog);
    let want: Vec<CatalogEntry> =
        st.current()
            .filter(|e| !e.is_classified())
            .map(|e| {
                let mut p = published_entry(e);
                for f in ["share_attribute", "open_attribute"] {
                    if let Some(v) = p.get(f).map(|v| {
                        crate::catalog::vocab::profile_word(&prof.catalog, f, v).to_string()
                    }) {
                        p.set(f, Some(v));
                    }
                }
                p
            })
            .collect();
    assert!(want.len() > 12_000, "{}", want.len());
    assert_eq!(got.len(), want.len());
    assert!(got.iter().zip(&want).all(|(g, w)| g.entry == *w));
    // The masking and wording really happened on the threads' part too.
    let last = &got.last().unwrap().entry;
    assert!(
        last.summary.as_deref().unwrap().contains("****"),
        "{last:?}"
    );
    assert_eq!(got[0].entry.open_attribute.as_deref(), Some("无条件开放"));
    assert!(
        got.iter()
            .any(|p| p.entry.open_attribute.as_deref() == Some("非开放"))
    );
}

//! Withdrawing a shared resource with consumers (新疆 第二十四条, 西藏
//! 第十七条) and the yearly adjustment of the open catalog (吴忠 第三十条),
//! issue #21, 5.

use super::*;
use crate::catalog::open_adjustment::missed_years;
use crate::catalog::withdrawals::{self, Withdrawal};
use crate::usage::UsageRow;

fn used(consumer: &str, resource: &str) -> UsageRow {
    let at = Utc.with_ymd_and_hms(2026, 10, 1, 2, 0, 0).unwrap();
    UsageRow {
        hash: format!("{consumer}{resource}"),
        import: "imp".into(),
        file: "log.csv".into(),
        line: 2,
        at,
        consumer: consumer.into(),
        resource: resource.into(),
        purpose: None,
        operator: None,
        scenario: None,
        outcome: None,
        process: None,
        quantity: None,
        interface: None,
        storage: None,
        disposal: None,
        imported_at: at,
    }
}

/// tpl:A1 withdrawn on the 2nd harvest, tpl:A2 (its replacement) in force.
fn withdrawn() -> CatalogState {
    let mut st = CatalogState::default();
    let src = CatalogSourceDef {
        max_withdraw_share: 1.0,
        ..def("tpl", Some("gongan"))
    };
    run(
        &mut st,
        &src,
        vec![good("A1", "户籍人口"), good("A2", "户籍人口新版")],
        &Curation::default(),
        1,
    );
    run(
        &mut st,
        &src,
        vec![good("A2", "户籍人口新版")],
        &Curation::default(),
        2,
    );
    assert!(st.entries["tpl:A1"].withdrawn);
    st
}

fn record(replacement: Option<&str>, notified: &[&str]) -> Withdrawal {
    Withdrawal {
        entry: "tpl:A1".into(),
        date: d(2026, 11, 2),
        replacement: replacement.map(String::from),
        notified: notified.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn a_withdrawn_shared_entry_with_consumers_needs_a_replacement_and_notice() {
    let st = withdrawn();
    // Used by its resource code and by its key.
    let usage = [
        used("minzheng", "A1"),
        used("renshe", "tpl:A1"),
        used("jiaoyu", "A2"),
    ];
    let xj = profile("xinjiang-2023").unwrap();
    let f = withdrawals::unresolved(&[], &st, &usage, &xj);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].check, "withdrawn_with_consumers");
    assert_eq!(f[0].key.as_deref(), Some("tpl:A1"));
    let m = &f[0].message;
    assert!(m.contains("2 consumer(s) (minzheng, renshe)"), "{m}");
    assert!(
        m.contains("no replacement is named")
            && m.contains("consumers not notified: minzheng, renshe"),
        "{m}"
    );
    assert!(
        m.contains("第二十四条") && m.contains("the text sets no period"),
        "{m}"
    );
    // A replacement that is in force and shareable, one consumer notified.
    let f = withdrawals::unresolved(&[record(Some("A2"), &["minzheng"])], &st, &usage, &xj);
    assert_eq!(f.len(), 1);
    assert!(
        !f[0].message.contains("no replacement is named"),
        "{}",
        f[0].message
    );
    assert!(f[0].message.contains("consumers not notified: renshe"));
    // Records add up: both notified, nothing to say.
    let both = [record(Some("A2"), &["minzheng"]), record(None, &["renshe"])];
    assert!(withdrawals::unresolved(&both, &st, &usage, &xj).is_empty());
    // 西藏 第十七条 likewise; 兵团, 甘孜, 吴忠: not in the text, nothing checked.
    let tb = withdrawals::unresolved(&[], &st, &usage, &profile("tibet-2025").unwrap());
    assert!(tb[0].message.contains("第十七条"));
    for id in ["xpcc-2025", "ganzi-2025", "wuzhong-2024"] {
        assert!(
            withdrawals::unresolved(&[], &st, &usage, &profile(id).unwrap()).is_empty(),
            "{id}"
        );
    }
    // Nobody used it: nothing to say.
    assert!(withdrawals::unresolved(&[], &st, &[used("jiaoyu", "A2")], &xj).is_empty());
}

#[test]
fn a_replacement_must_be_in_the_current_catalog_and_shareable() {
    let mut st = CatalogState::default();
    let src = CatalogSourceDef {
        max_withdraw_share: 1.0,
        ..def("tpl", Some("gongan"))
    };
    let mut closed = good("A3", "不共享");
    closed
        .fields
        .insert("share_attribute".into(), "不予共享".into());
    run(
        &mut st,
        &src,
        vec![good("A1", "户籍人口"), good("A2", "新版"), closed.clone()],
        &Curation::default(),
        1,
    );
    run(&mut st, &src, vec![closed], &Curation::default(), 2);
    let usage = [used("minzheng", "A1")];
    let xj = profile("xinjiang-2023").unwrap();
    let f = withdrawals::unresolved(&[record(Some("A2"), &["minzheng"])], &st, &usage, &xj);
    assert!(
        f[0].message.contains("`A2` is not in the current catalog"),
        "{}",
        f[0].message
    );
    let f = withdrawals::unresolved(&[record(Some("tpl:A3"), &["minzheng"])], &st, &usage, &xj);
    assert!(
        f[0].message
            .contains("is not shareable (共享属性 不予共享)"),
        "{}",
        f[0].message
    );
}

#[test]
fn a_withdrawal_record_naming_an_unknown_entry_or_notifying_twice_is_refused() {
    let st = withdrawn();
    let dir = tempfile::tempdir().unwrap();
    let mut bad = record(Some("A2"), &[]);
    bad.entry = "tpl:NOPE".into();
    let e = withdrawals::record(dir.path(), &bad, &st)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("catalog-withdrawals.toml") && e.contains("`tpl:NOPE`"),
        "{e}"
    );
    assert!(!dir.path().join(withdrawals::FILE).exists());
    withdrawals::record(dir.path(), &record(Some("A2"), &["minzheng"]), &st).unwrap();
    let e = withdrawals::record(dir.path(), &record(None, &["minzheng"]), &st)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`minzheng` was already recorded as notified"),
        "{e}"
    );
    let back = withdrawals::load(dir.path(), &st).unwrap();
    assert_eq!(back, [record(Some("A2"), &["minzheng"])]);
}

fn in_year(
    rows: &[super::super::store::CatalogRow],
    y: i32,
) -> Vec<super::super::store::CatalogRow> {
    rows.iter()
        .cloned()
        .map(|mut r| {
            r.harvested_at = r.harvested_at.replacen("2026", &y.to_string(), 1);
            r
        })
        .collect()
}

#[test]
fn a_year_without_a_version_of_the_open_catalog_is_a_finding_under_wuzhong_only() {
    let mut st = CatalogState::default();
    let src = CatalogSourceDef {
        max_withdraw_share: 1.0,
        ..def("tpl", Some("gongan"))
    };
    let mut open = good("A1", "公开名录");
    open.fields
        .insert("open_attribute".into(), "无条件开放".into());
    // 2023: the open entry is catalogued; 2024: only another field changes.
    let first = run(&mut st, &src, vec![open.clone()], &Curation::default(), 1);
    open.fields.insert("format".into(), "xlsx".into());
    let mut rows = in_year(&first, 2023);
    rows.extend(in_year(
        &run(&mut st, &src, vec![open.clone()], &Curation::default(), 2),
        2024,
    ));
    // 2025: its open attribute changes.
    open.fields
        .insert("open_attribute".into(), "有条件开放".into());
    rows.extend(in_year(
        &run(&mut st, &src, vec![open], &Curation::default(), 3),
        2025,
    ));
    let wz = profile("wuzhong-2024").unwrap();
    let f = missed_years(&rows, &wz, "测试数据局", TZ, d(2026, 12, 1));
    let years: Vec<&str> = f.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(f.len(), 1, "{years:#?}");
    assert_eq!(f[0].check, "open_catalog_not_adjusted");
    assert_eq!(f[0].department, "测试数据局");
    let m = &f[0].message;
    assert!(
        m.contains("in 2024") && m.contains("due by 2024-12-31"),
        "{m}"
    );
    assert!(m.contains("第三十条") && m.contains("征求意见稿"), "{m}");
    // 2026 has not passed yet; in 2027 it has (no change in 2026).
    assert_eq!(missed_years(&rows, &wz, "b", TZ, d(2027, 1, 1)).len(), 2);
    for id in ["xinjiang-2023", "xpcc-2025", "tibet-2025", "ganzi-2025"] {
        assert!(
            missed_years(&rows, &profile(id).unwrap(), "b", TZ, d(2027, 1, 1)).is_empty(),
            "{id}"
        );
    }
}

#[test]
fn an_entry_its_source_marks_offline_counts_as_withdrawn() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    run(
        &mut st,
        &src,
        vec![good("A1", "户籍人口"), good("A2", "新版")],
        &Curation::default(),
        1,
    );
    let mut off = good("A1", "户籍人口");
    off.fields.insert("share_attribute".into(), "已下线".into());
    run(
        &mut st,
        &src,
        vec![off, good("A2", "新版")],
        &Curation::default(),
        2,
    );
    assert!(!st.entries["tpl:A1"].withdrawn, "still listed");
    let usage = [used("minzheng", "A1")];
    let xj = profile("xinjiang-2023").unwrap();
    let f = withdrawals::unresolved(&[], &st, &usage, &xj);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(
        f[0].message
            .contains("marked offline by its source (share_attribute `已下线`)"),
        "{}",
        f[0].message
    );
    assert!(
        withdrawals::unresolved(&[record(Some("A2"), &["minzheng"])], &st, &usage, &xj).is_empty()
    );
}

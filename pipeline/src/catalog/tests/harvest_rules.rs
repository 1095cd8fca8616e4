//! What the texts keep out of open data, and harvests that are never a silent zero (issues #17, 3 and #19, 2).

use super::*;

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
) -> crate::catalog::harvest::SourceOutcome {
    let now = Utc.with_ymd_and_hms(2026, 11, 3, 2, 30, 0).unwrap();
    let (_, mut outcomes, _) = merge(
        state,
        vec![(source.clone(), Ok(h))],
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

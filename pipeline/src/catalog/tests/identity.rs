//! Catalog identities and 涉密 markings (issue #19, 5 and 8).

use super::*;

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

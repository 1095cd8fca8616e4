//! What must accompany 有条件共享, 不予共享, 有条件开放 and 不予开放 (issue
//! #17, 2): per profile, the conditions, reason or legal basis its text
//! names, each missing one a finding citing that text's article; nothing
//! where the text names nothing.

use super::*;
use crate::catalog::checks::check_name;
use crate::profile::ACCOMPANY;

/// One requirement: (rule, field, article).
type Requirement = (&'static str, &'static str, &'static str);

/// Per profile, what the text requires.
const REQUIRED: &[(&str, &[Requirement])] = &[
    (
        // 第十九条: 有条件共享和不予共享 须提供法律法规依据或国家有关规定;
        // 有条件共享 应明确共享条件. 第二十七条: the open catalog 明确…开放条件.
        "xinjiang-2023",
        &[
            ("conditional_share", "share_conditions", "第十九条"),
            ("conditional_share", "share_basis", "第十九条"),
            ("no_share", "share_basis", "第十九条"),
            ("conditional_open", "open_conditions", "第二十七条"),
        ],
    ),
    (
        // 第二十三条: 有条件共享 说明理由并明确共享条件; 不予共享 提供…依据.
        "xpcc-2025",
        &[
            ("conditional_share", "share_conditions", "第二十三条"),
            ("conditional_share", "share_reason", "第二十三条"),
            ("no_share", "share_basis", "第二十三条"),
        ],
    ),
    (
        // 第二十三条 as 新疆 第十九条; 第三十条: the open list 明确…开放条件.
        "tibet-2025",
        &[
            ("conditional_share", "share_conditions", "第二十三条"),
            ("conditional_share", "share_basis", "第二十三条"),
            ("no_share", "share_basis", "第二十三条"),
            ("conditional_open", "open_conditions", "第三十条"),
        ],
    ),
    (
        // 第十五条: 说明理由并明确共享条件; 提供明确的法律、法规、规章或有关规定.
        "ganzi-2025",
        &[
            ("conditional_share", "share_conditions", "第十五条"),
            ("conditional_share", "share_reason", "第十五条"),
            ("no_share", "share_basis", "第十五条"),
        ],
    ),
    (
        // 第二十五条: 说明理由并明确共享条件; 提供法律、行政法规或…政策依据.
        "wuzhong-2024",
        &[
            ("conditional_share", "share_conditions", "第二十五条"),
            ("conditional_share", "share_reason", "第二十五条"),
            ("no_share", "share_basis", "第二十五条"),
        ],
    ),
];

/// The rule a check name belongs to, if it is an accompanying-field check.
fn rule_of(check: &str) -> Option<&'static str> {
    ACCOMPANY
        .iter()
        .map(|r| r.key)
        .find(|k| check.starts_with(&format!("{k}_")))
}

/// One entry per restrictive value with nothing accompanying it (each
/// otherwise 无条件, and every entry 不予开放, as [`good`] makes it), and
/// one that carries every accompanying field.
fn entries() -> CatalogState {
    let mut conditional_share = good("C1", "有条件共享无附");
    conditional_share
        .fields
        .insert("share_attribute".into(), "有条件共享".into());
    let mut no_share = good("C2", "不予共享无附");
    no_share
        .fields
        .insert("share_attribute".into(), "不予共享".into());
    let mut conditional_open = good("C3", "有条件开放无附");
    conditional_open
        .fields
        .insert("open_attribute".into(), "有条件开放".into());
    let mut complete = good("C4", "齐全");
    for (f, v) in [
        ("share_attribute", "有条件共享"),
        ("share_conditions", "仅用于身份核验"),
        ("share_reason", "涉及个人信息,仅向核验业务提供"),
        ("share_basis", "《中华人民共和国居民身份证法》第十三条"),
        ("open_attribute", "有条件开放"),
        ("open_conditions", "签订开放利用协议"),
    ] {
        complete.fields.insert(f.into(), v.into());
    }
    let mut no_share_complete = good("C5", "不予共享有依据");
    no_share_complete
        .fields
        .insert("share_attribute".into(), "不予共享".into());
    no_share_complete.fields.insert(
        "share_basis".into(),
        "《中华人民共和国个人信息保护法》第二十八条".into(),
    );
    let mut st = CatalogState::default();
    run(
        &mut st,
        &def("tpl", Some("gongan")),
        vec![
            conditional_share,
            no_share,
            conditional_open,
            complete,
            no_share_complete,
        ],
        &Curation::default(),
        1,
    );
    st
}

#[test]
fn a_missing_accompanying_field_is_a_finding_citing_the_profiles_article() {
    let st = entries();
    for (id, required) in REQUIRED {
        let p = profile(id).unwrap();
        let all = checks_of(&st, id);
        let found: Vec<&CatalogFinding> =
            all.iter().filter(|f| rule_of(&f.check).is_some()).collect();
        let mut got: Vec<(String, String, String)> = found
            .iter()
            .map(|f| {
                (
                    f.check.clone(),
                    f.field.clone().unwrap_or_default(),
                    f.name.clone().unwrap_or_default(),
                )
            })
            .collect();
        got.sort();
        let entry_of = |rule: &str| match rule {
            "conditional_share" => "有条件共享无附",
            "no_share" => "不予共享无附",
            "conditional_open" => "有条件开放无附",
            other => panic!("no entry for {other}"),
        };
        let mut want: Vec<(String, String, String)> = required
            .iter()
            .map(|(rule, field, _)| {
                let what = field.rsplit('_').next().unwrap();
                (
                    format!("{rule}_{what}"),
                    field.to_string(),
                    entry_of(rule).to_string(),
                )
            })
            .collect();
        want.sort();
        assert_eq!(
            got, want,
            "{id}: exactly what the text requires, on the entries lacking it; nothing on the complete ones, nothing for 不予开放"
        );
        for (rule, field, article) in *required {
            let what = field.rsplit('_').next().unwrap();
            let f = found
                .iter()
                .find(|f| f.check == format!("{rule}_{what}") && f.field.as_deref() == Some(field))
                .unwrap();
            assert!(
                f.message.contains(article) && f.message.contains(&p.name),
                "{id}: {} cites {article} of {}: {}",
                f.check,
                p.name,
                f.message
            );
            // The quoted words are the article's, and name the field.
            assert!(
                f.message
                    .contains(&p.catalog.accompany.citation(rule, field)),
                "{id}: {}",
                f.message
            );
            assert!(
                f.message.contains(checks_field_zh(field)),
                "{id}: names the missing field: {}",
                f.message
            );
            assert_eq!(f.department, "gongan");
            assert!(f.key.is_some());
            // Labelled, Chinese first.
            assert_ne!(check_name(&f.check).0, "其他", "{}", f.check);
        }
    }
}

fn checks_field_zh(f: &str) -> &'static str {
    crate::catalog::checks::field_zh(f)
}

#[test]
fn a_finding_quotes_the_sentence_that_names_the_field() {
    let st = entries();
    let xj = checks_of(&st, "xinjiang-2023");
    let open = xj
        .iter()
        .find(|f| f.check == "conditional_open_conditions")
        .unwrap();
    assert!(open.message.starts_with("有条件开放 must state its conditions (开放条件, open_conditions): 新疆维吾尔自治区 第二十七条 “"), "{}", open.message);
    let basis = xj.iter().find(|f| f.check == "no_share_basis").unwrap();
    assert!(
        basis.message.contains("must cite")
            && basis.message.contains("须提供法律法规依据或国家有关规定"),
        "{}",
        basis.message
    );
    // Where two sentences of one article are cited, each field cites the
    // one naming it.
    let cond = xj
        .iter()
        .find(|f| f.check == "conditional_share_conditions")
        .unwrap();
    assert!(
        cond.message.contains("应明确共享条件") && !cond.message.contains("依据"),
        "{}",
        cond.message
    );
}

#[test]
fn a_text_that_requires_nothing_gets_no_finding() {
    let st = entries();
    for id in ["xpcc-2025", "ganzi-2025", "wuzhong-2024"] {
        let p = profile(id).unwrap();
        assert!(p.catalog.accompany.conditional_open.is_empty(), "{id}");
        assert!(
            !checks_of(&st, id)
                .iter()
                .any(|f| f.check.starts_with("conditional_open_")),
            "{id}: the text asks nothing to accompany 有条件开放"
        );
    }
    for id in crate::profile::ids() {
        let p = profile(id).unwrap();
        assert!(p.catalog.accompany.no_open.is_empty(), "{id}");
        assert!(
            !checks_of(&st, id)
                .iter()
                .any(|f| f.check.starts_with("no_open_")),
            "{id}: no text asks anything to accompany 不予开放"
        );
        // 新疆 and 西藏 require no reason for 有条件共享.
        if matches!(id, "xinjiang-2023" | "tibet-2025") {
            assert!(
                !checks_of(&st, id)
                    .iter()
                    .any(|f| f.check == "conditional_share_reason"),
                "{id}"
            );
        }
    }
}

#[test]
fn a_finding_is_one_per_missing_field_not_two() {
    // 新疆 第二十七条 lists 开放条件 among the open-catalog fields too: a
    // 有条件开放 entry without them is one finding, the cited one.
    let st = entries();
    let xj = checks_of(&st, "xinjiang-2023");
    let on_conditions: Vec<&CatalogFinding> = xj
        .iter()
        .filter(|f| f.name.as_deref() == Some("有条件开放无附"))
        .filter(|f| f.field.as_deref() == Some("open_conditions"))
        .collect();
    assert_eq!(on_conditions.len(), 1, "{on_conditions:?}");
    assert_eq!(on_conditions[0].check, "conditional_open_conditions");
}

#[test]
fn every_accompanying_field_is_a_catalog_field_the_harvest_maps() {
    for rule in ACCOMPANY {
        for f in rule.fields {
            assert!(
                crate::catalog::model::ENTRY_FIELDS.contains(f),
                "{}: `{f}` is not in the model",
                rule.key
            );
            assert_ne!(checks_field_zh(f), "", "`{f}` has no Chinese header");
        }
    }
    for id in crate::profile::ids() {
        let p = profile(id).unwrap();
        for rule in ACCOMPANY {
            for f in p.catalog.accompany.fields(rule.key) {
                assert!(
                    rule.fields.contains(&f.as_str()),
                    "{id}: `{f}` cannot accompany {}",
                    rule.key
                );
                let what = f.rsplit('_').next().unwrap();
                let check = format!("{}_{what}", rule.key);
                assert_ne!(check_name(&check).0, "其他", "{id}: {check} unlabelled");
            }
        }
    }
    // The headers departments write, and the keys portals use.
    use connectors::catalog::{FIELDS, canonical};
    assert_eq!(canonical(FIELDS, "共享理由"), Some("share_reason"));
    assert_eq!(
        canonical(FIELDS, "有条件共享理由（必填）"),
        Some("share_reason")
    );
    assert_eq!(canonical(FIELDS, "不予共享理由及依据"), Some("share_basis"));
}

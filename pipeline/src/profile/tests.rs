//! Every profile against its text (issue #17): each value cites an article
//! whose words are in the text, and the value is what those words say.

use super::text::{RegulationText, numeral};
use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn cited<'a>(p: &'a Profile, field: &str) -> Option<&'a [Citation]> {
    match p.source(field) {
        Some(Source::Cited(c)) => Some(c),
        _ => None,
    }
}

/// All the quoted words of a field, joined.
fn quoted(p: &Profile, field: &str) -> String {
    cited(p, field)
        .map(|c| {
            c.iter()
                .map(|c| c.says.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

#[test]
fn every_value_has_a_source_and_every_quotation_is_in_its_article() {
    for id in ids() {
        let p = profile(id).unwrap();
        assert_eq!(p.id, id);
        let text = RegulationText::embedded(&p.text)
            .unwrap_or_else(|| panic!("{id}: no embedded text {}", p.text));
        for (field, _, _) in FIELDS {
            let source = p
                .source(field)
                .unwrap_or_else(|| panic!("{id}: no source for `{field}`"));
            match source {
                Source::Cited(c) => {
                    assert!(!c.is_empty(), "{id}: `{field}` cites nothing");
                    for c in c {
                        assert!(
                            text.says(&c.article, &c.says),
                            "{id}: `{field}`: {} does not say “{}”",
                            c.article,
                            c.says
                        );
                    }
                }
                Source::NotInText { not_in_text } => {
                    assert!(!not_in_text.trim().is_empty(), "{id}: `{field}`")
                }
            }
        }
        for key in p.sources.keys() {
            assert!(
                FIELDS.iter().any(|(f, _, _)| f == key),
                "{id}: source for unknown field `{key}`"
            );
        }
    }
}

#[test]
fn deadlines_are_the_days_and_the_unit_the_text_says() {
    for id in ids() {
        let p = profile(id).unwrap();
        let deadlines = [
            ("catalog_update", Some(p.catalog_update)),
            ("catalog_review", p.catalog_review),
            ("catalog_revision", p.catalog_revision),
            ("rectification", Some(p.rectification)),
            ("objections.forward", p.objections.forward),
            ("objections.verify", p.objections.verify),
        ];
        for (field, deadline) in deadlines {
            match (deadline, cited(&p, field)) {
                (Some(dl), Some(_)) => {
                    let words = quoted(&p, field);
                    let working = words.contains(&format!("{}个工作日", dl.days));
                    let calendar = words.contains(&format!("{}日", dl.days))
                        && !words.contains(&format!("{}个工作日", dl.days));
                    match dl.unit {
                        DayUnit::Working => assert!(working, "{id}: `{field}`: {words}"),
                        DayUnit::Calendar => assert!(calendar, "{id}: `{field}`: {words}"),
                    }
                }
                // The rectification deadline is the bureau's where no text
                // sets one: a value, but no citation.
                (Some(_), None) => assert_eq!(field, "rectification", "{id}: `{field}` uncited"),
                (None, Some(_)) => panic!("{id}: `{field}` cited but has no value"),
                (None, None) => {}
            }
        }
    }
    // Field by field, as the regulations digest tabulates them.
    let p = |id: &str| profile(id).unwrap();
    let w = |days| Deadline {
        days,
        unit: DayUnit::Working,
    };
    assert_eq!(p("xinjiang-2023").catalog_update, w(15));
    assert_eq!(
        p("xpcc-2025").catalog_update,
        Deadline {
            days: 15,
            unit: DayUnit::Calendar
        }
    );
    assert_eq!(p("xpcc-2025").catalog_review, Some(w(5)));
    assert_eq!(p("tibet-2025").catalog_update, w(20));
    assert_eq!(p("ganzi-2025").catalog_update, w(15));
    assert_eq!(p("wuzhong-2024").catalog_update, w(15));
    assert_eq!(p("wuzhong-2024").catalog_review, Some(w(5)));
    assert_eq!(p("wuzhong-2024").catalog_revision, Some(w(10)));
    for id in ["xinjiang-2023", "tibet-2025", "ganzi-2025"] {
        assert_eq!(p(id).catalog_review, None, "{id}");
    }
    // Objections (异议/校核): only 吴忠 第二十一条 and 西藏 第二十七条 count days.
    assert_eq!(p("wuzhong-2024").objections.forward, Some(w(2)));
    assert_eq!(p("wuzhong-2024").objections.verify, Some(w(5)));
    assert_eq!(p("tibet-2025").objections.verify, Some(w(5)));
    assert_eq!(p("tibet-2025").objections.forward, None);
    for id in ["xinjiang-2023", "xpcc-2025", "ganzi-2025"] {
        assert_eq!(p(id).objections, ObjectionProfile::default(), "{id}");
    }
    for id in ids() {
        // No text sets a deadline for correcting problem data.
        assert!(cited(&p(id), "rectification").is_none(), "{id}");
        // Lateness is counted in the unit of the text's catalog deadline.
        assert_eq!(
            p(id).catalog.lateness_unit,
            p(id).catalog_update.unit,
            "{id}"
        );
    }
}

#[test]
fn log_retention_only_where_the_text_sets_it() {
    for id in ids() {
        let p = profile(id).unwrap();
        match (p.log_retention_years, cited(&p, "log_retention_years")) {
            (Some(n), Some(_)) => {
                let words = quoted(&p, "log_retention_years");
                assert!(
                    words.contains(&format!("{}年", numeral(n))),
                    "{id}: {words}"
                );
            }
            (None, None) => {}
            other => panic!("{id}: retention and its source disagree: {other:?}"),
        }
    }
    let years = |id: &str| profile(id).unwrap().log_retention_years;
    assert_eq!(years("xinjiang-2023"), Some(3)); // 第十五条
    assert_eq!(years("tibet-2025"), Some(3)); // 第十九条
    assert_eq!(years("xpcc-2025"), None);
    assert_eq!(years("ganzi-2025"), None);
    assert_eq!(years("wuzhong-2024"), None);
}

/// The words a text uses for each dimension.
fn dimension_words(d: &str) -> &'static [&'static str] {
    match d {
        "completeness" => &["完整性"],
        "validity" => &["有效性"],
        "timeliness" => &["及时性", "时效性"],
        "consistency" => &["一致性"],
        "accuracy" => &["准确性"],
        "compliance" => &["合规性"],
        "authenticity" => &["真实性"],
        "usability" => &["可用性"],
        other => panic!("unknown dimension {other}"),
    }
}

#[test]
fn dimensions_are_exactly_those_the_text_lists() {
    let all = crate::score::REGULATION_DIMENSIONS;
    for id in ids() {
        let p = profile(id).unwrap();
        let words = quoted(&p, "dimensions");
        assert_eq!(p.dimensions.is_empty(), words.is_empty(), "{id}");
        for d in all {
            let named = dimension_words(d).iter().any(|w| words.contains(w));
            assert_eq!(
                p.dimensions.iter().any(|x| x == d),
                named,
                "{id}: `{d}` vs “{words}”"
            );
        }
    }
    assert!(profile("tibet-2025").unwrap().dimensions.is_empty());
    assert_eq!(profile("ganzi-2025").unwrap().dimensions.len(), 6);
    assert_eq!(profile("wuzhong-2024").unwrap().dimensions.len(), 3);
}

/// The words a text may use for a catalog field: the harvest's Chinese
/// names of it, and the text's own shorter ones.
fn field_words(f: &str) -> Vec<&'static str> {
    let mut w: Vec<&str> = connectors::catalog::FIELDS
        .iter()
        .find(|(n, _)| *n == f)
        .map(|(_, names)| names.to_vec())
        .unwrap_or_else(|| panic!("`{f}` is not a catalog field"));
    w.extend(match f {
        // 新疆 第七条 names 属性 for both attributes.
        "share_attribute" | "open_attribute" => &["属性"][..],
        "summary" => &["共享内容"],
        "collector" => &["收集"],
        "approver" => &["核准"],
        _ => &[],
    });
    w
}

#[test]
fn required_catalog_fields_are_those_the_text_lists() {
    for id in ids() {
        let p = profile(id).unwrap();
        for (field, list) in [
            ("catalog.required", &p.catalog.required),
            ("catalog.open_required", &p.catalog.open_required),
        ] {
            let words = quoted(&p, field);
            assert_eq!(list.is_empty(), words.is_empty(), "{id}: `{field}`");
            for f in list {
                assert!(
                    field_words(f).iter().any(|w| words.contains(w)),
                    "{id}: `{field}`: `{f}` is not in “{words}”"
                );
            }
        }
        assert_eq!(
            p.catalog.no_classified,
            quoted(&p, "catalog.no_classified").contains("涉密"),
            "{id}"
        );
        assert_eq!(
            p.catalog.downgrade_review,
            quoted(&p, "catalog.downgrade_review").contains("审核"),
            "{id}"
        );
    }
    // 西藏 第九条: 来源 is the source system and 共享开放方式 the sharing
    // scope (issue #17, 7), not the provider and the attributes.
    let tb = profile("tibet-2025").unwrap().catalog.required;
    assert!(tb.contains(&"source_system".to_string()) && tb.contains(&"share_scope".to_string()));
    assert!(!tb.contains(&"share_attribute".to_string()));
    // 甘孜 lists no fields: only what every entry needs.
    assert!(profile("ganzi-2025").unwrap().catalog.required.is_empty());
}

#[test]
fn status_is_computed_from_the_dates_in_the_text() {
    let on = d(2026, 12, 4);
    let status = |id: &str| profile(id).unwrap().status(on);
    // 自印发之日起施行,有效期2年 (2023-02-17).
    assert_eq!(
        status("xinjiang-2023"),
        Status::Lapsed {
            since: d(2025, 2, 17)
        }
    );
    assert_eq!(status("xpcc-2025"), Status::InForce { until: None });
    assert_eq!(
        status("tibet-2025"),
        Status::Trial {
            until: d(2026, 12, 31)
        }
    );
    assert_eq!(
        profile("tibet-2025").unwrap().status(d(2027, 1, 1)),
        Status::Lapsed {
            since: d(2027, 1, 1)
        }
    );
    // 自印发之日起30日后施行 (印发 2025-04-16), 有效期2年.
    let gz = profile("ganzi-2025").unwrap();
    assert_eq!(
        gz.validity.effective_from,
        Some(d(2025, 4, 16) + chrono::Duration::days(30))
    );
    assert_eq!(
        status("ganzi-2025"),
        Status::InForce {
            until: Some(d(2027, 5, 15))
        }
    );
    assert_eq!(status("wuzhong-2024"), Status::Draft);
    for id in ids() {
        let p = profile(id).unwrap();
        let words = quoted(&p, "validity");
        assert_eq!(p.validity.draft, words.contains("征求意见稿"), "{id}");
        assert_eq!(p.validity.trial, words.contains("试行期"), "{id}");
        if let Some(n) = p.validity.years {
            assert!(
                words.contains(&format!("有效期{n}年")) || words.contains(&format!("试行期{n}年")),
                "{id}: {words}"
            );
        }
    }
}

#[test]
fn an_unknown_profile_names_the_known_ones() {
    assert!(profile("beijing").unwrap_err().contains("xinjiang-2023"));
}

#[test]
fn attribute_values_are_worded_as_the_text_words_them() {
    use crate::catalog::model::{OPEN_VALUES, SHARE_VALUES, open_value, share_value};
    for id in ids() {
        let p = profile(id).unwrap();
        for (field, values, canonical, map) in [
            (
                "catalog.share_values",
                &p.catalog.share_values,
                &SHARE_VALUES,
                share_value as fn(&str) -> Option<&'static str>,
            ),
            (
                "catalog.open_values",
                &p.catalog.open_values,
                &OPEN_VALUES,
                open_value,
            ),
        ] {
            let words = quoted(&p, field);
            assert_eq!(values.len(), 3, "{id}: `{field}`");
            for (i, v) in values.iter().enumerate() {
                assert!(words.contains(v.as_str()), "{id}: `{v}` not in “{words}”");
                // The harvest maps the text's word to the same rank, so an
                // entry written as the text words it has no finding.
                assert_eq!(map(v), Some(canonical[i]), "{id}: `{v}`");
            }
        }
    }
    assert_eq!(
        profile("xinjiang-2023").unwrap().catalog.open_values[2],
        "非开放"
    );
    assert_eq!(
        profile("tibet-2025").unwrap().catalog.open_values[2],
        "不予开放"
    );
}

/// Issue #17, 3: the personal-information rule is the one the text words:
/// 个人信息 (西藏, 吴忠), only 敏感个人信息 (兵团), or none (新疆, 甘孜: pdq's
/// default, cited to nothing).
#[test]
fn the_personal_information_rule_is_the_texts() {
    use super::PersonalData::*;
    for id in ids() {
        let p = profile(id).unwrap();
        let words = quoted(&p, "catalog.personal_data");
        let want = if words.contains("敏感个人信息") {
            SensitiveNotOpen
        } else if words.contains("个人信息") {
            NotOpen
        } else {
            NotUnconditional
        };
        assert_eq!(p.catalog.personal_data, want, "{id}: “{words}”");
        assert_eq!(
            words.contains("不予开放"),
            want != NotUnconditional,
            "{id}: the text puts it in 不予开放"
        );
    }
    assert_eq!(
        profile("tibet-2025").unwrap().catalog.personal_data,
        NotOpen
    );
    assert_eq!(
        profile("xpcc-2025").unwrap().catalog.personal_data,
        SensitiveNotOpen
    );
    assert_eq!(
        profile("xinjiang-2023").unwrap().catalog.personal_data,
        NotUnconditional
    );
}

/// Issue #17, 2: what must accompany 有条件共享, 不予共享, 有条件开放 and
/// 不予开放 is exactly what the quoted words name (共享条件 / 开放条件,
/// 理由, 依据 or 有关规定), each quotation in its article (checked with
/// every source above); where the text names nothing the list is empty,
/// and `pdq profile show` says that pdq checks nothing for it.
#[test]
fn what_accompanies_a_restrictive_value_is_what_the_text_names() {
    for id in ids() {
        let p = profile(id).unwrap();
        let text = RegulationText::embedded(&p.text).unwrap();
        for rule in ACCOMPANY {
            let field = format!("catalog.accompany.{}", rule.key);
            let list = p.catalog.accompany.fields(rule.key);
            let words = quoted(&p, &field);
            match p.source(&field) {
                Some(Source::Cited(c)) => {
                    assert!(!list.is_empty(), "{id}: `{field}` cited, but empty");
                    for c in c {
                        assert!(text.says(&c.article, &c.says), "{id}: {}", c.says);
                    }
                }
                Some(Source::NotInText { not_in_text }) => {
                    assert!(list.is_empty(), "{id}: `{field}` uncited: {list:?}");
                    assert!(
                        not_in_text.contains("pdq checks nothing"),
                        "{id}: `{field}` says pdq checks nothing: {not_in_text}"
                    );
                }
                None => panic!("{id}: no source for `{field}`"),
            }
            for f in rule.fields {
                let named = accompany_words(f).iter().any(|w| words.contains(w));
                assert_eq!(
                    list.iter().any(|x| x == f),
                    named,
                    "{id}: `{field}`: `{f}` vs “{words}”"
                );
            }
            for f in list {
                assert!(rule.fields.contains(&f.as_str()), "{id}: `{field}`: `{f}`");
            }
            // The share sentences are about the value they accompany.
            let value = match rule.key {
                "conditional_share" => Some("有条件共享"),
                "no_share" => Some("不予共享"),
                _ => None,
            };
            if let (Some(v), false) = (value, list.is_empty()) {
                assert!(words.contains(v), "{id}: `{field}`: “{words}”");
            }
        }
    }
    let fields = |id: &str, key: &str| profile(id).unwrap().catalog.accompany.fields(key).to_vec();
    let cited_articles = |id: &str, key: &str| -> Vec<String> {
        cited(&profile(id).unwrap(), &format!("catalog.accompany.{key}"))
            .unwrap_or(&[])
            .iter()
            .map(|c| c.article.clone())
            .collect()
    };
    // Field by field, as the texts say.
    assert_eq!(
        fields("xinjiang-2023", "conditional_share"),
        ["share_conditions", "share_basis"]
    );
    assert_eq!(cited_articles("xinjiang-2023", "no_share"), ["第十九条"]);
    assert_eq!(
        fields("xinjiang-2023", "conditional_open"),
        ["open_conditions"]
    );
    assert_eq!(
        cited_articles("xinjiang-2023", "conditional_open"),
        ["第二十七条"]
    );
    assert_eq!(
        fields("tibet-2025", "conditional_open"),
        ["open_conditions"]
    );
    assert_eq!(
        cited_articles("tibet-2025", "conditional_open"),
        ["第三十条"]
    );
    for (id, article) in [
        ("xpcc-2025", "第二十三条"),
        ("ganzi-2025", "第十五条"),
        ("wuzhong-2024", "第二十五条"),
    ] {
        assert_eq!(
            fields(id, "conditional_share"),
            ["share_conditions", "share_reason"],
            "{id}"
        );
        assert_eq!(cited_articles(id, "conditional_share"), [article], "{id}");
        assert!(fields(id, "conditional_open").is_empty(), "{id}");
    }
    for id in ids() {
        assert_eq!(fields(id, "no_share"), ["share_basis"], "{id}");
        assert!(fields(id, "no_open").is_empty(), "{id}");
        // A finding's citation is the profile's.
        let p = profile(id).unwrap();
        let c = p.catalog.accompany.citation("no_share", "share_basis");
        assert!(c.starts_with(&p.name), "{id}: {c}");
    }
}

/// Issue #21, 5: an IT project's catalog lead time is the text's: 兵团
/// 第十五条 至少提前20日; the texts that say only 竣工验收前 / 竣工前 / 作为验收要求
/// give 0 (by the acceptance); 西藏 sets none.
#[test]
fn project_lead_days_are_the_texts() {
    for (id, days, article) in [
        ("xpcc-2025", Some(20), Some("第十五条")),
        ("wuzhong-2024", Some(0), Some("第十四条")),
        ("ganzi-2025", Some(0), Some("第四十条")),
        ("xinjiang-2023", Some(0), Some("第三十九条")),
        ("tibet-2025", None, None),
    ] {
        let p = profile(id).unwrap();
        assert_eq!(p.catalog.project_lead_days, days, "{id}");
        match (p.source("catalog.project_lead_days"), article) {
            (Some(Source::Cited(c)), Some(a)) => {
                assert_eq!(c[0].article, a, "{id}");
                if let Some(d) = days.filter(|d| *d > 0) {
                    assert!(c[0].says.contains(&format!("{d}日")), "{id}: {}", c[0].says);
                }
            }
            (Some(Source::NotInText { .. }), None) => {}
            other => panic!("{id}: {other:?}"),
        }
    }
}

/// Issue #21, 3 and 5: the usage log's elements, the consumers' notice of
/// a correction, withdrawals and the open catalog's yearly adjustment are
/// set only where the text sets them, each in the words of its article.
#[test]
fn lifecycle_duties_are_the_texts() {
    let words = |e: &str| -> &'static [&'static str] {
        match e {
            "when" => &["使用时间"],
            "operator" => &["人员"],
            "purpose" => &["目的"],
            "scenario" => &["应用场景"],
            "outcome" => &["应用成效"],
            "process" => &["使用过程"],
            "quantity" => &["使用数量"],
            "interface" => &["共享接口"],
            "storage" => &["存储情况"],
            "disposal" => &["销毁情况", "删除情况"],
            _ => &[],
        }
    };
    for id in ids() {
        let p = profile(id).unwrap();
        let q = quoted(&p, "usage_log.required");
        for e in &p.usage_log.required {
            assert!(
                words(e).iter().any(|w| q.contains(w)),
                "{id}: `{e}` is not in the quoted words {q}"
            );
        }
        assert_eq!(
            p.usage_log.required.is_empty(),
            cited(&p, "usage_log.required").is_none(),
            "{id}"
        );
        assert_eq!(
            p.objections.notify_consumers,
            cited(&p, "objections.notify_consumers").is_some(),
            "{id}"
        );
        assert_eq!(
            p.catalog.withdrawal_notice,
            cited(&p, "catalog.withdrawal").is_some(),
            "{id}"
        );
        assert_eq!(
            p.catalog.open_adjustment_yearly,
            cited(&p, "catalog.open_adjustment").is_some(),
            "{id}"
        );
    }
    let p = |id: &str| profile(id).unwrap();
    assert_eq!(
        p("xinjiang-2023").usage_log.required,
        ["scenario", "outcome", "process", "storage", "disposal"]
    );
    assert_eq!(
        p("tibet-2025").usage_log.required,
        [
            "scenario",
            "outcome",
            "quantity",
            "interface",
            "storage",
            "disposal"
        ]
    );
    assert_eq!(
        p("ganzi-2025").usage_log.required,
        ["when", "operator", "purpose"]
    );
    let only = |f: fn(&Profile) -> bool| -> Vec<&'static str> {
        ids().into_iter().filter(|id| f(&p(id))).collect()
    };
    assert_eq!(only(|p| p.objections.notify_consumers), ["tibet-2025"]);
    assert_eq!(
        only(|p| p.catalog.withdrawal_notice),
        ["xinjiang-2023", "tibet-2025"]
    );
    assert_eq!(only(|p| p.catalog.open_adjustment_yearly), ["wuzhong-2024"]);
    assert!(quoted(&p("wuzhong-2024"), "catalog.open_adjustment").contains("年度动态调整"));
    assert!(
        quoted(&p("tibet-2025"), "objections.notify_consumers")
            .contains("所有共享使用该数据的相关单位")
    );
}

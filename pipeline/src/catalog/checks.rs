//! Catalog checks: what the regulations require of every entry, each
//! finding naming the responsible department, the entry and where in the
//! source it was read (sheet, row and column; page, item and key).
//!
//! | check | finding |
//! |---|---|
//! | `required_field` | a field the profile requires is blank |
//! | `enumeration` | a share/open attribute, update frequency or date that is not one of the allowed values; for a value no vocabulary maps (the field left unset), the value, field and record |
//! | `conditional_share_conditions`, `conditional_share_reason`, `conditional_share_basis` | 有条件共享 without the conditions, reason or legal basis the profile's text requires with it (`[catalog.accompany]`), citing the article |
//! | `no_share_basis` | 不予共享 without the legal basis the text requires, citing the article |
//! | `conditional_open_conditions` | 有条件开放 without the conditions the text requires (新疆 第二十七条, 西藏 第三十条; the others require nothing), citing the article |
//! | `attribute_downgrade` | share/open attribute lowered (无条件→有条件/不予, 有条件→不予) or blanked with no approval record naming this entry, this change and a date on or before it (profiles with `downgrade_review`: 甘孜 第十六条, 第二十四条; [`super::approvals`]) |
//! | `personal_data_open` | a data item carrying personal information in a resource whose open attribute the profile's text forbids for it (`[catalog] personal_data`: 西藏, 吴忠 个人信息 → 不予开放; 兵团 敏感个人信息 → 不予开放; elsewhere pdq's default, not in 无条件开放) |
//! | `classified_marking` | a classified (涉密) marking in the catalog (profiles with `no_classified`) |
//! | `duplicate_code` | one resource code on several entries |
//! | `duplicate_name` | one department cataloguing one resource twice: one name, and the same summary, source system and date online |
//! | `item_incomplete` | a data item without name or type |
//! | `harvest_problem` | a record or cell the harvest could not read |
//!
//! Reconciliation ([`super::reconcile`]) adds `not_mounted`, `uncatalogued`,
//! `schema_missing`, `schema_extra`, `schema_type`, `schema_length`,
//! `late_delivery` (the `schema_*` checks are schema drift: findings of
//! their own, citing no article). [`super::events`] adds
//! `catalog_update_overdue`: an entry a recorded change of law or function
//! affects, not updated within the profile's catalog-update deadline;
//! [`super::reviews`] adds `catalog_review_overdue` (the bureau's review,
//! 审定) and `catalog_revision_overdue` (a department's revision after
//! review comments), where the text sets those deadlines;
//! [`super::projects`] adds `project_catalog_late` (an IT project's entries
//! not catalogued by the day its text sets before acceptance).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::harvest::SourceProblem;
use super::model::{CatalogEntry, Frequency, OPEN_VALUES, SHARE_VALUES, normalize_date};
use super::store::CatalogState;
use super::vocab::Kind;
use crate::profile::{ACCOMPANY, CatalogProfile};

/// One thing wrong with the catalog or its reconciliation with the lake.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CatalogFinding {
    /// The check (`required_field`, `not_mounted`, …).
    pub check: String,
    /// The responsible department.
    pub department: String,
    /// The entry's key, when about an entry.
    #[serde(default)]
    pub key: Option<String>,
    /// Its resource code.
    #[serde(default)]
    pub code: Option<String>,
    /// Its name (or the dataset's id).
    #[serde(default)]
    pub name: Option<String>,
    /// The field or column concerned.
    #[serde(default)]
    pub field: Option<String>,
    /// Where: source location and column/key, or the lake table.
    pub location: String,
    /// What is wrong and what is expected.
    pub message: String,
}

/// Names of the checks, Chinese first.
pub fn check_name(check: &str) -> (&'static str, &'static str) {
    match check {
        "required_field" => ("必填项缺失", "required field missing"),
        "enumeration" => ("取值不规范", "value not allowed"),
        "conditional_share_conditions" => (
            "有条件共享未说明条件",
            "conditional sharing without conditions",
        ),
        "conditional_share_reason" => (
            "有条件共享未说明理由",
            "conditional sharing without a reason",
        ),
        "conditional_share_basis" => (
            "有条件共享无依据",
            "conditional sharing without legal basis",
        ),
        "no_share_basis" => ("不予共享无依据", "not shared without legal basis"),
        "conditional_open_conditions" => (
            "有条件开放未说明条件",
            "conditional opening without conditions",
        ),
        "attribute_downgrade" => ("属性降级未经审核", "attribute lowered without review"),
        "personal_data_open" => ("个人信息无条件开放", "personal data openly published"),
        "classified_marking" => ("目录含涉密标识", "classified marking in catalog"),
        "duplicate_code" => ("资源代码重复", "duplicate resource code"),
        "duplicate_name" => ("资源名称重复", "duplicate resource name"),
        "item_incomplete" => ("信息项不完整", "data item incomplete"),
        "harvest_problem" => ("采集问题", "harvest problem"),
        "not_mounted" => ("未挂接数据", "no data mounted"),
        "uncatalogued" => ("数据未编目", "dataset not catalogued"),
        "schema_missing" => ("信息项缺失于数据", "catalogued column missing"),
        "schema_extra" => ("数据字段未编目", "column not catalogued"),
        "schema_type" => ("字段类型不一致", "column type differs"),
        "schema_length" => ("字段长度超出", "values longer than declared"),
        "late_delivery" => ("未按频率更新", "delivery late for its frequency"),
        "catalog_update_overdue" => ("目录未及时更新", "catalog not updated in time"),
        "catalog_review_overdue" => ("目录未按期审定", "catalog not reviewed in time"),
        "catalog_revision_overdue" => ("目录未按期修改", "catalog not revised in time"),
        "project_catalog_late" => (
            "信息化项目目录未按期编制",
            "IT project not catalogued in time",
        ),
        "withdrawn_with_consumers" => (
            "共享资源下线未先替代或未通知使用单位",
            "shared resource withdrawn without replacement or notice",
        ),
        "open_catalog_not_adjusted" => {
            ("开放目录未年度调整", "open catalog not adjusted this year")
        }
        _ => ("其他", "other"),
    }
}

fn at(e: &CatalogEntry, field: &str) -> String {
    match e.origins.get(field) {
        Some(o) => format!("{} {o}", e.location),
        None => e.location.clone(),
    }
}

fn finding(e: &CatalogEntry, check: &str, field: Option<&str>, message: String) -> CatalogFinding {
    CatalogFinding {
        check: check.into(),
        department: e.department.clone(),
        key: Some(e.key.clone()),
        code: e.resource_code.clone(),
        name: e.name.clone(),
        field: field.map(str::to_string),
        location: field
            .map(|f| at(e, f))
            .unwrap_or_else(|| e.location.clone()),
        message,
    }
}

/// Words that mark personal information in a data item's name.
const PERSONAL_WORDS: &[&str] = &[
    "身份证",
    "公民身份号码",
    "身份号码",
    "证件号码",
    "姓名",
    "手机",
    "联系电话",
    "电话号码",
    "住址",
    "家庭地址",
    "户籍地址",
    "出生日期",
    "银行账号",
    "社保卡号",
    "护照",
];

/// What every entry must fill whatever the regulation: without a name and
/// a provider an entry can be neither identified nor assigned to anyone
/// (pdq's model, not a regulation's list: the profile's `required` adds
/// what its text lists).
pub const EVERY_ENTRY: [&str; 2] = ["name", "provider"];

/// Runs every catalog check over the entries in force, with no approval
/// records but the entries' own (see [`check_with_approvals`]).
pub fn check(
    state: &CatalogState,
    profile: &CatalogProfile,
    problems: &[SourceProblem],
    tz: chrono_tz::Tz,
) -> Vec<CatalogFinding> {
    check_with_approvals(state, profile, problems, tz, &[])
}

/// Runs every catalog check over the entries in force; a lowered
/// attribute is approved by a record of `approvals` (the workspace's
/// `catalog-approvals.toml`) or by the entry's own approval record.
pub fn check_with_approvals(
    state: &CatalogState,
    profile: &CatalogProfile,
    problems: &[SourceProblem],
    tz: chrono_tz::Tz,
    approvals: &[super::approvals::Approval],
) -> Vec<CatalogFinding> {
    let mut out = vec![];
    let entries: Vec<&CatalogEntry> = state.current().collect();
    for e in &entries {
        let required = EVERY_ENTRY.iter().copied().chain(
            profile
                .required
                .iter()
                .map(String::as_str)
                .filter(|f| !EVERY_ENTRY.contains(f)),
        );
        for f in required {
            // A value no vocabulary maps is reported below, as what it is.
            if e.get(f).is_none() && !e.unmapped.contains_key(f) {
                out.push(finding(
                    e,
                    "required_field",
                    Some(f),
                    format!("required field `{f}` ({}) is blank", field_zh(f)),
                ));
            }
        }
        let open = e.open_attribute.as_deref() == Some(OPEN_VALUES[0])
            || e.open_attribute.as_deref() == Some(OPEN_VALUES[1]);
        if open {
            let conditional = e.open_attribute.as_deref() == Some(OPEN_VALUES[1]);
            for f in &profile.open_required {
                // Conditions are owed by conditional opening only, and
                // reported below when the text requires them with it.
                if f == "open_conditions"
                    && (!conditional || profile.accompany.conditional_open.contains(f))
                {
                    continue;
                }
                if e.get(f).is_none()
                    && !profile.required.contains(f)
                    && !EVERY_ENTRY.contains(&f.as_str())
                {
                    out.push(finding(
                        e,
                        "required_field",
                        Some(f),
                        format!("open-catalog field `{f}` ({}) is blank", field_zh(f)),
                    ));
                }
            }
        }
        // What the source wrote that no vocabulary maps: the field was left
        // unset, and this says what it said (issue #19, 3).
        for kind in Kind::ALL {
            let f = kind.field();
            if let Some(v) = e.unmapped.get(f) {
                let expected = match kind {
                    Kind::Share => profile.share_values.join(", "),
                    Kind::Open => profile.open_values.join(", "),
                    Kind::Frequency => kind.canonical_values().join(", "),
                };
                out.push(finding(
                    e,
                    "enumeration",
                    Some(f),
                    format!(
                        "`{v}` in {f} ({}) of record {} is not a value pdq knows, so {f} is left unset; expected one of {expected} (or map it in the source's [values.{}])",
                        field_zh(f),
                        e.key,
                        kind.table()
                    ),
                ));
            }
        }
        // The attributes as the profile's text words them (the harvest
        // maps portals' synonyms to them); 分类 has no list in any text.
        let enums: [(&str, &[&str], &[String]); 2] = [
            ("share_attribute", &SHARE_VALUES, &profile.share_values),
            ("open_attribute", &OPEN_VALUES, &profile.open_values),
        ];
        for (f, canonical, words) in enums {
            if let Some(v) = e.get(f)
                && !canonical.contains(&v)
            {
                out.push(finding(
                    e,
                    "enumeration",
                    Some(f),
                    format!("`{v}` is not a {f}; expected one of {}", words.join(", ")),
                ));
            }
        }
        if let Some(v) = &e.update_frequency
            && Frequency::parse(v).is_none()
        {
            out.push(finding(
                e,
                "enumeration",
                Some("update_frequency"),
                format!(
                    "`{v}` is not an update frequency; expected one of {}",
                    Kind::Frequency.canonical_values().join(", ")
                ),
            ));
        }
        for f in ["online_date", "data_updated"] {
            if let Some(v) = e.get(f)
                && normalize_date(v, tz).is_none()
            {
                out.push(finding(
                    e,
                    "enumeration",
                    Some(f),
                    format!("`{v}` is not a date; expected e.g. 2024-03-05, 2024-03-05T08:15:30, 2024年3月5日, 2024年3月 or epoch milliseconds"),
                ));
            }
        }
        out.extend(accompany_findings(e, profile));
        if profile.downgrade_review
            && let Some(s) = state.entries.get(&e.key)
        {
            for u in super::approvals::unapproved(s, approvals, tz) {
                let c = &u.change;
                let what = match (&c.old, &c.new) {
                    (Some(o), Some(n)) => format!("lowered from {o} to {n}"),
                    (o, _) => format!("blanked (was {})", o.as_deref().unwrap_or("")),
                };
                out.push(finding(
                    e,
                    "attribute_downgrade",
                    Some(&c.field),
                    format!(
                        "{} {what} in catalog version {} (harvested {}): {}",
                        c.field,
                        c.version,
                        c.at.with_timezone(&tz).date_naive(),
                        u.reason
                    ),
                ));
            }
        }
        if let Some(open) = e
            .open_attribute
            .as_deref()
            .and_then(|a| OPEN_VALUES.iter().position(|v| *v == a))
        {
            for it in &e.items {
                let name = it.name.as_deref().unwrap_or("");
                let personal =
                    it.personal == Some(true) || PERSONAL_WORDS.iter().any(|w| name.contains(w));
                let sensitive = it.sensitive == Some(true);
                if profile.personal_data.forbids(personal, sensitive, open) {
                    out.push(CatalogFinding {
                        location: it.location.clone(),
                        ..finding(
                            e,
                            "personal_data_open",
                            Some("open_attribute"),
                            format!(
                                "data item `{}` carries {} information in a resource marked {}: {}",
                                it.column_name().unwrap_or(name),
                                if sensitive {
                                    "sensitive personal"
                                } else {
                                    "personal"
                                },
                                OPEN_VALUES[open],
                                profile.personal_data.says()
                            ),
                        )
                    });
                }
            }
        }
        if profile.no_classified {
            for (f, v) in e.classified_markings() {
                out.push(finding(
                    e,
                    "classified_marking",
                    Some(f),
                    format!(
                        "{} `{v}`: classified (涉密) data may not be catalogued",
                        e.origins.get(f).map_or(f, String::as_str)
                    ),
                ));
            }
        }
        for it in &e.items {
            if it.name.is_none() || it.data_type.is_none() {
                out.push(CatalogFinding {
                    location: it.location.clone(),
                    ..finding(
                        e,
                        "item_incomplete",
                        Some("items"),
                        format!(
                            "data item `{}` lacks {}",
                            it.column_name().unwrap_or("(blank)"),
                            if it.name.is_none() {
                                "信息项名称"
                            } else {
                                "数据类型"
                            }
                        ),
                    )
                });
            }
        }
    }
    // Duplicates.
    let mut by_code: BTreeMap<&str, Vec<&CatalogEntry>> = BTreeMap::new();
    // One name twice is a duplicate only when the content says so: the same
    // department, name, summary, source system and date online (the same
    // title for two years or districts is two resources; issue #19, 5).
    let mut by_name: BTreeMap<(&str, &str, String), Vec<&CatalogEntry>> = BTreeMap::new();
    for e in &entries {
        if let Some(c) = &e.resource_code {
            by_code.entry(c).or_default().push(e);
        }
        if let Some(n) = &e.name {
            by_name
                .entry((e.department.as_str(), n.as_str(), e.identity_digest()))
                .or_default()
                .push(e);
        }
    }
    for (code, es) in by_code {
        if es.len() > 1 {
            for e in &es {
                out.push(finding(
                    e,
                    "duplicate_code",
                    Some("resource_code"),
                    format!(
                        "resource code {code} is used by {} entries: {}",
                        es.len(),
                        es.iter()
                            .map(|x| x.location.as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                ));
            }
        }
    }
    for ((_, name, _), es) in by_name {
        if es.len() > 1 {
            for e in &es {
                out.push(finding(
                    e,
                    "duplicate_name",
                    Some("name"),
                    format!(
                        "`{name}` is catalogued {} times by this department",
                        es.len()
                    ),
                ));
            }
        }
    }
    for p in problems {
        out.push(CatalogFinding {
            check: "harvest_problem".into(),
            department: p.department.clone().unwrap_or_else(|| "(未知)".into()),
            key: None,
            code: None,
            name: None,
            field: p.problem.field.clone(),
            location: p.problem.location.clone(),
            message: format!("[{}] {}", p.problem.stage, p.problem.message),
        });
    }
    out
}

/// What the profile's text requires with a restrictive attribute value
/// (`[catalog.accompany]`: conditions, a reason, a legal basis) and the
/// entry lacks: one finding per missing field, `<rule>_<conditions|reason|
/// basis>`, naming the value as the text words it and citing the article.
/// A value the text requires nothing with is never a finding.
fn accompany_findings(e: &CatalogEntry, profile: &CatalogProfile) -> Vec<CatalogFinding> {
    let mut out = vec![];
    for rule in ACCOMPANY {
        let (canonical, words): (&[&str], &[String]) = match rule.attribute {
            "share_attribute" => (&SHARE_VALUES, &profile.share_values),
            _ => (&OPEN_VALUES, &profile.open_values),
        };
        if e.get(rule.attribute) != Some(canonical[rule.rank]) {
            continue;
        }
        let value = words
            .get(rule.rank)
            .map_or(canonical[rule.rank], String::as_str);
        for f in profile.accompany.fields(rule.key) {
            if e.get(f).is_some() {
                continue;
            }
            let what = f.rsplit('_').next().unwrap_or(f);
            let owed = match what {
                "conditions" => "must state its conditions",
                "reason" => "must state its reason",
                _ => "must cite its legal basis",
            };
            out.push(finding(
                e,
                &format!("{}_{what}", rule.key),
                Some(f),
                format!(
                    "{value} {owed} ({}, {f}): {}",
                    field_zh(f),
                    profile.accompany.citation(rule.key, f)
                ),
            ));
        }
    }
    out
}

/// The Chinese name of a canonical field.
pub fn field_zh(f: &str) -> &'static str {
    connectors::catalog::FIELDS
        .iter()
        .find(|(n, _)| *n == f)
        .and_then(|(_, a)| a.first().copied())
        .unwrap_or("")
}

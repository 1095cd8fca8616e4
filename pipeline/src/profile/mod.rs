//! Jurisdiction profiles: what each regulation sets as data (dimensions,
//! deadlines, log retention, catalog fields), one file per regulation in
//! `data/profiles/`, each value citing the article it comes from with the
//! text's own words (`[sources]`), or saying that the text is silent. The
//! texts are embedded (`data/regulations/`, [`text`]) and every citation is
//! checked against them. This list is the registry of profiles.

pub mod status;
pub mod text;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, WorkCalendar};
pub use status::{Status, Validity};

/// Working or calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayUnit {
    /// Working days per the holiday calendar.
    Working,
    /// Calendar days.
    Calendar,
}

impl DayUnit {
    /// In a message: `working days` or `days`.
    pub fn words(self) -> &'static str {
        match self {
            DayUnit::Working => "working days",
            DayUnit::Calendar => "days",
        }
    }
}

/// A deadline: so many working or calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// How many.
    pub days: u32,
    /// Of which kind.
    pub unit: DayUnit,
}

impl Deadline {
    /// The due date for something that starts on `from`: `days` working
    /// days later, or `days` calendar days later moved to the next working
    /// day when that is a rest day (民法典 第二百零三条: a period whose last
    /// day is a statutory rest day ends on the day after it).
    pub fn due(&self, from: NaiveDate, cal: &WorkCalendar) -> Result<NaiveDate, CalendarError> {
        match self.unit {
            DayUnit::Working => cal.add_working_days(from, self.days),
            DayUnit::Calendar => {
                cal.working_day_on_or_after(from + chrono::Duration::days(self.days as i64))
            }
        }
    }
}

/// One regulation's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `xinjiang-2023`, …
    pub id: String,
    /// The jurisdiction, in Chinese.
    pub name: String,
    /// The measures' title, as the text gives it.
    pub title: String,
    /// The text's file in `data/regulations/`.
    pub text: String,
    /// The dates in the text: status is computed from them.
    pub validity: Validity,
    /// The quality dimensions the text names (empty: it names none).
    pub dimensions: Vec<String>,
    /// Years logs are kept at least; none: the text sets no period.
    #[serde(default)]
    pub log_retention_years: Option<u32>,
    /// Catalog update after a change of law or function.
    pub catalog_update: Deadline,
    /// Bureau review of a catalog.
    #[serde(default)]
    pub catalog_review: Option<Deadline>,
    /// Revisions after review comments.
    #[serde(default)]
    pub catalog_revision: Option<Deadline>,
    /// Fixing a quality finding (rectification item due date).
    pub rectification: Deadline,
    /// What the catalog must hold.
    pub catalog: CatalogProfile,
    /// The objection (异议/校核) workflow's deadlines, where the text sets
    /// them.
    #[serde(default)]
    pub objections: ObjectionProfile,
    /// What the usage (sharing) log must hold, where the text says
    /// (`pipeline::usage`).
    #[serde(default)]
    pub usage_log: UsageLogProfile,
    /// Where each value comes from, by field ([`FIELDS`]).
    pub sources: BTreeMap<String, Source>,
}

/// One quotation: the article (第N条, or 文首 for the text before the first
/// article) and words of it, verbatim (whitespace aside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// 第N条, or 文首.
    pub article: String,
    /// The text's words.
    pub says: String,
}

/// Where a profile value comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    /// The articles that set it.
    Cited(Vec<Citation>),
    /// The text says nothing of it: what pdq does instead, citing nothing.
    NotInText {
        /// What the text lacks, and the value pdq uses meanwhile.
        not_in_text: String,
    },
}

/// Every field of a profile that holds a value from the text, with its
/// name in Chinese and English: each profile has a source for each.
pub const FIELDS: &[(&str, &str, &str)] = &[
    ("validity", "施行与有效期", "in force and validity"),
    ("dimensions", "数据质量维度", "quality dimensions"),
    (
        "log_retention_years",
        "日志保存年限",
        "log retention (years)",
    ),
    ("catalog_update", "目录更新期限", "catalog update deadline"),
    ("catalog_review", "目录审定期限", "catalog review deadline"),
    (
        "catalog_revision",
        "目录修改期限",
        "catalog revision deadline",
    ),
    ("rectification", "整改期限", "rectification deadline"),
    ("catalog.required", "目录必填项", "catalog required fields"),
    (
        "catalog.open_required",
        "开放目录必填项",
        "open catalog required fields",
    ),
    (
        "catalog.no_classified",
        "涉密数据不得编入目录",
        "no classified data in the catalog",
    ),
    (
        "catalog.downgrade_review",
        "属性降级须审核",
        "lowering attributes needs review",
    ),
    (
        "catalog.lateness_unit",
        "迟报计算单位",
        "lateness counted in",
    ),
    (
        "catalog.share_values",
        "共享属性取值",
        "share attribute values",
    ),
    (
        "catalog.open_values",
        "开放属性取值",
        "open attribute values",
    ),
    (
        "catalog.personal_data",
        "个人信息不予开放",
        "personal information kept out of open data",
    ),
    (
        "catalog.project_lead_days",
        "信息化项目目录提前天数",
        "IT project catalog due, days before acceptance",
    ),
    (
        "catalog.accompany.conditional_share",
        "有条件共享须附",
        "what conditional sharing must carry",
    ),
    (
        "catalog.accompany.no_share",
        "不予共享须附",
        "what no sharing must carry",
    ),
    (
        "catalog.accompany.conditional_open",
        "有条件开放须附",
        "what conditional opening must carry",
    ),
    (
        "catalog.accompany.no_open",
        "不予开放（非开放）须附",
        "what no opening must carry",
    ),
    (
        "objections.forward",
        "异议转交期限",
        "forwarding an objection",
    ),
    (
        "objections.verify",
        "异议校核期限",
        "verifying an objection",
    ),
    (
        "objections.notify_consumers",
        "更正须通知使用单位",
        "a correction reaches every consumer",
    ),
    (
        "usage_log.required",
        "使用日志须记录",
        "what a usage log must hold",
    ),
    (
        "catalog.withdrawal",
        "资源下线须先有可共享的新资源并通知使用单位",
        "withdrawing a shared resource: replacement first, consumers notified",
    ),
    (
        "catalog.open_adjustment",
        "开放目录年度调整",
        "yearly adjustment of the open catalog",
    ),
];

impl Profile {
    /// The status on `day`, from the dates in the text.
    pub fn status(&self, day: NaiveDate) -> Status {
        self.validity.status(day)
    }

    /// Where `field` comes from.
    pub fn source(&self, field: &str) -> Option<&Source> {
        self.sources.get(field)
    }

    /// `field`'s source as a finding quotes it: `第N条 “the words”; …`, or
    /// what the text lacks.
    pub fn quote(&self, field: &str) -> String {
        match self.source(field) {
            Some(Source::Cited(c)) => c
                .iter()
                .map(|c| format!("{} “{}”", c.article, c.says))
                .collect::<Vec<_>>()
                .join("; "),
            Some(Source::NotInText { not_in_text }) => format!("not in the text: {not_in_text}"),
            None => "no source".into(),
        }
    }

    /// A field's value as JSON (`null`: the text sets none).
    pub fn value(&self, field: &str) -> serde_json::Value {
        use serde_json::json;
        let deadline = |d: &Option<Deadline>| match d {
            Some(d) => json!({"days": d.days, "unit": d.unit}),
            None => serde_json::Value::Null,
        };
        if let Some(rule) = field.strip_prefix("catalog.accompany.") {
            return json!(self.catalog.accompany.fields(rule));
        }
        match field {
            "validity" => json!(self.validity),
            "dimensions" => json!(self.dimensions),
            "log_retention_years" => json!(self.log_retention_years),
            "catalog_update" => deadline(&Some(self.catalog_update)),
            "catalog_review" => deadline(&self.catalog_review),
            "catalog_revision" => deadline(&self.catalog_revision),
            "rectification" => deadline(&Some(self.rectification)),
            "catalog.required" => json!(self.catalog.required),
            "catalog.open_required" => json!(self.catalog.open_required),
            "catalog.no_classified" => json!(self.catalog.no_classified),
            "catalog.downgrade_review" => json!(self.catalog.downgrade_review),
            "catalog.lateness_unit" => json!(self.catalog.lateness_unit),
            "catalog.share_values" => json!(self.catalog.share_values),
            "catalog.open_values" => json!(self.catalog.open_values),
            "catalog.personal_data" => json!(self.catalog.personal_data),
            "catalog.project_lead_days" => json!(self.catalog.project_lead_days),
            "objections.forward" => deadline(&self.objections.forward),
            "objections.verify" => deadline(&self.objections.verify),
            "objections.notify_consumers" => json!(self.objections.notify_consumers),
            "usage_log.required" => json!(self.usage_log.required),
            "catalog.withdrawal" => json!(self.catalog.withdrawal_notice),
            "catalog.open_adjustment" => json!(if self.catalog.open_adjustment_yearly {
                Some("yearly")
            } else {
                None
            }),
            _ => serde_json::Value::Null,
        }
    }

    /// What `pdq profile show` prints: every field with its value and
    /// source, and the status on `day`.
    pub fn view(&self, day: NaiveDate) -> ProfileView {
        let status = self.status(day);
        ProfileView {
            id: self.id.clone(),
            jurisdiction: self.name.clone(),
            title: self.title.clone(),
            text: format!("pipeline/data/regulations/{}", self.text),
            as_of: day,
            status,
            status_words: status.words(),
            fields: FIELDS
                .iter()
                .map(|(f, zh, en)| FieldView {
                    field: f.to_string(),
                    zh: zh.to_string(),
                    en: en.to_string(),
                    value: self.value(f),
                    source: self.source(f).cloned(),
                })
                .collect(),
        }
    }
}

/// A profile as `pdq profile show --format json` gives it (the README
/// documents it; fields are only ever added).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileView {
    /// `xpcc-2025`, …
    pub id: String,
    /// The jurisdiction.
    pub jurisdiction: String,
    /// The measures' title.
    pub title: String,
    /// The embedded text it cites.
    pub text: String,
    /// The date the status is for.
    pub as_of: NaiveDate,
    /// The status that day.
    pub status: Status,
    /// The status in words, Chinese first.
    pub status_words: String,
    /// Every field, in [`FIELDS`] order.
    pub fields: Vec<FieldView>,
}

/// One field of a [`ProfileView`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldView {
    /// The field (`catalog_update`, `catalog.required`, …).
    pub field: String,
    /// Its name in Chinese.
    pub zh: String,
    /// Its name in English.
    pub en: String,
    /// Its value (`null`: the text sets none).
    pub value: serde_json::Value,
    /// Where it comes from.
    pub source: Option<Source>,
}

/// `[catalog]`: the catalog fields and rules a regulation sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogProfile {
    /// Canonical fields every catalog entry must fill
    /// (`connectors::catalog::FIELDS`).
    pub required: Vec<String>,
    /// Fields every open-catalog (开放目录) entry must fill.
    pub open_required: Vec<String>,
    /// Classified (涉密) data may not be catalogued.
    pub no_classified: bool,
    /// Share and open attributes may not be lowered without the bureau's
    /// review (an approval record).
    pub downgrade_review: bool,
    /// How delivery lateness against the declared update frequency is
    /// counted.
    pub lateness_unit: DayUnit,
    /// The share attribute's values as the text words them, most open
    /// first (无条件共享, 有条件共享, 不予共享).
    pub share_values: Vec<String>,
    /// The open attribute's values as the text words them, most open
    /// first (新疆 says 非开放 where the others say 不予开放).
    pub open_values: Vec<String>,
    /// What personal information the text keeps out of open data.
    pub personal_data: PersonalData,
    /// What must accompany each restrictive attribute value (conditions,
    /// a reason, a legal basis), as the text says (issue #17, 2).
    pub accompany: Accompany,
    /// Days before an IT project's acceptance (竣工验收) by which its
    /// catalog entries are due (0: by the acceptance); none: the text sets
    /// no such duty (issue #21, 5).
    #[serde(default)]
    pub project_lead_days: Option<u32>,
    /// A shared resource may go offline only once its replacement is
    /// shareable, and its users are notified (新疆 第二十四条, 西藏 第十七条);
    /// false: the text says nothing of it and nothing is checked.
    #[serde(default)]
    pub withdrawal_notice: bool,
    /// The open catalog is adjusted every year (吴忠 第三十条 年度动态调整);
    /// false: the text sets no period (动态调整 only) and nothing is checked.
    #[serde(default)]
    pub open_adjustment_yearly: bool,
}

/// One restrictive attribute value and what may accompany it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccompanyRule {
    /// The key in `[catalog.accompany]` (and the findings' check names:
    /// `<key>_<conditions|reason|basis>`).
    pub key: &'static str,
    /// The attribute it is a value of.
    pub attribute: &'static str,
    /// Its rank among the attribute's values (1 有条件, 2 不予/非开放).
    pub rank: usize,
    /// The catalog fields a text may require with it (what the catalog
    /// model has: a text that asks for more needs the model to grow).
    pub fields: &'static [&'static str],
}

/// The four restrictive attribute values, in `[catalog.accompany]` order.
pub const ACCOMPANY: &[AccompanyRule] = &[
    AccompanyRule {
        key: "conditional_share",
        attribute: "share_attribute",
        rank: 1,
        fields: &["share_conditions", "share_reason", "share_basis"],
    },
    AccompanyRule {
        key: "no_share",
        attribute: "share_attribute",
        rank: 2,
        fields: &["share_conditions", "share_reason", "share_basis"],
    },
    AccompanyRule {
        key: "conditional_open",
        attribute: "open_attribute",
        rank: 1,
        fields: &["open_conditions"],
    },
    AccompanyRule {
        key: "no_open",
        attribute: "open_attribute",
        rank: 2,
        fields: &["open_conditions"],
    },
];

/// The words a text uses for an accompanying field: 共享条件 / 开放条件,
/// 理由, 依据 (or 有关规定, 甘孜 第十五条). Conditions are named with their
/// attribute, since 有条件共享 itself contains 条件.
pub fn accompany_words(field: &str) -> &'static [&'static str] {
    match field {
        "share_conditions" => &["共享条件"],
        "open_conditions" => &["开放条件"],
        "share_reason" => &["理由"],
        "share_basis" => &["依据", "规定"],
        _ => &[],
    }
}

/// `[catalog.accompany]`: per restrictive attribute value, the catalog
/// fields that must accompany it; empty where the text asks for nothing
/// (then pdq checks nothing for it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accompany {
    /// With 有条件共享.
    pub conditional_share: Vec<String>,
    /// With 不予共享.
    pub no_share: Vec<String>,
    /// With 有条件开放.
    pub conditional_open: Vec<String>,
    /// With 不予开放 (新疆: 非开放).
    pub no_open: Vec<String>,
    /// Each rule's citations, from the profile's `[sources]`
    /// (`catalog.accompany.<key>`), filled when the profile is loaded, so
    /// that a finding cites the article.
    #[serde(skip)]
    pub cited: BTreeMap<String, Vec<Citation>>,
    /// The jurisdiction, for the findings' citations.
    #[serde(skip)]
    pub jurisdiction: String,
}

impl Accompany {
    /// The fields required with the value `key` (`conditional_share` …);
    /// none for an unknown key.
    pub fn fields(&self, key: &str) -> &[String] {
        match key {
            "conditional_share" => &self.conditional_share,
            "no_share" => &self.no_share,
            "conditional_open" => &self.conditional_open,
            "no_open" => &self.no_open,
            _ => &[],
        }
    }

    /// The citation for `field` required with `key`: the article(s) whose
    /// quoted words name the field, else all the rule's, as
    /// `<jurisdiction> 第N条 “…”`.
    pub fn citation(&self, key: &str, field: &str) -> String {
        let all = self.cited.get(key).map(Vec::as_slice).unwrap_or(&[]);
        let words = accompany_words(field);
        let naming: Vec<&Citation> = all
            .iter()
            .filter(|c| words.iter().any(|w| c.says.contains(w)))
            .collect();
        let chosen: Vec<&Citation> = if naming.is_empty() {
            all.iter().collect()
        } else {
            naming
        };
        let quotes: Vec<String> = chosen
            .iter()
            .map(|c| format!("{} “{}”", c.article, c.says))
            .collect();
        format!("{} {}", self.jurisdiction, quotes.join("; "))
            .trim()
            .to_string()
    }
}

/// `[catalog] personal_data`: which data items the text keeps out of open
/// data (列入不予开放), and so which open attributes they may not carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalData {
    /// 个人隐私、个人信息 are 不予开放 (西藏 第二十九条, 吴忠 第二十九条):
    /// a personal or sensitive data item in a resource marked 无条件开放 or
    /// 有条件开放 is a finding.
    NotOpen,
    /// Only 敏感个人信息 is 不予开放 (兵团 第二十八条): a sensitive data item
    /// in a resource marked 无条件开放 or 有条件开放 is a finding.
    SensitiveNotOpen,
    /// The text names no rule (新疆, 甘孜): pdq's default, a personal or
    /// sensitive data item in a resource marked 无条件开放 is a finding.
    NotUnconditional,
}

impl PersonalData {
    /// What the rule says, for findings.
    pub fn says(self) -> &'static str {
        match self {
            PersonalData::NotOpen => "personal information is 不予开放 (个人隐私、个人信息)",
            PersonalData::SensitiveNotOpen => {
                "sensitive personal information is 不予开放 (敏感个人信息)"
            }
            PersonalData::NotUnconditional => {
                "personal information is not opened unconditionally (pdq's default: the text names no rule)"
            }
        }
    }

    /// Whether a data item (personal? sensitive?) may not be in a resource
    /// of open-attribute rank `open_rank` (0 无条件, 1 有条件, 2 不予).
    ///
    /// ```
    /// use pipeline::profile::PersonalData::*;
    /// assert!(NotOpen.forbids(true, false, 1));
    /// assert!(!SensitiveNotOpen.forbids(true, false, 0));
    /// assert!(SensitiveNotOpen.forbids(false, true, 1));
    /// assert!(!NotUnconditional.forbids(true, true, 1));
    /// assert!(NotUnconditional.forbids(true, false, 0));
    /// assert!(!NotOpen.forbids(true, true, 2));
    /// ```
    pub fn forbids(self, personal: bool, sensitive: bool, open_rank: usize) -> bool {
        match self {
            PersonalData::NotOpen => (personal || sensitive) && open_rank < 2,
            PersonalData::SensitiveNotOpen => sensitive && open_rank < 2,
            PersonalData::NotUnconditional => (personal || sensitive) && open_rank == 0,
        }
    }
}

/// `[objections]`: the deadlines of the objection workflow (异议/校核).
/// Where the text sets no period (新疆 第二十三条 "协商", 兵团 第三十一条
/// "核实") or no workflow at all (甘孜), the deadline is `None` and the
/// objection's step carries no due date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectionProfile {
    /// The bureau forwards an objection to the responsible department
    /// (吴忠 第二十一条: 2 working days from receipt).
    #[serde(default)]
    pub forward: Option<Deadline>,
    /// The responsible department verifies it and answers (西藏 第二十七条,
    /// 吴忠 第二十一条: 5 working days; the start is not stated, pdq counts
    /// from forwarding, or from filing when not forwarded).
    #[serde(default)]
    pub verify: Option<Deadline>,
    /// A correction must reach every unit that received the wrong data
    /// (西藏 第十八条 对数据使用单位及时更新, 第二十七条 推送至所有共享使用该数据的相关单位):
    /// an upheld objection is closed only once every consumer the usage log
    /// shows is recorded as notified. False: the text does not require it
    /// and notifying is optional.
    #[serde(default)]
    pub notify_consumers: bool,
}

/// `[usage_log]`: what each row of a usage (sharing) log must hold, as the
/// text names it (`pipeline::usage::Element` keys); empty where the text
/// names nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageLogProfile {
    /// The elements (`when`, `operator`, `purpose`, `scenario`, …).
    #[serde(default)]
    pub required: Vec<String>,
}

const PROFILES: &[(&str, &str)] = &[
    (
        "xinjiang-2023",
        include_str!("../../data/profiles/xinjiang-2023.toml"),
    ),
    (
        "xpcc-2025",
        include_str!("../../data/profiles/xpcc-2025.toml"),
    ),
    (
        "tibet-2025",
        include_str!("../../data/profiles/tibet-2025.toml"),
    ),
    (
        "ganzi-2025",
        include_str!("../../data/profiles/ganzi-2025.toml"),
    ),
    (
        "wuzhong-2024",
        include_str!("../../data/profiles/wuzhong-2024.toml"),
    ),
];

/// The profile ids.
pub fn ids() -> Vec<&'static str> {
    PROFILES.iter().map(|(id, _)| *id).collect()
}

/// A profile by id; the error lists the known ones.
pub fn profile(id: &str) -> Result<Profile, String> {
    let (_, text) = PROFILES
        .iter()
        .find(|(p, _)| *p == id)
        .ok_or_else(|| format!("unknown profile `{id}` (profiles: {})", ids().join(", ")))?;
    let mut p: Profile =
        toml::from_str(text).map_err(|e| format!("profile {id}: {}", e.message()))?;
    // The accompanying-field findings cite the rule's article.
    for rule in ACCOMPANY {
        if let Some(Source::Cited(c)) = p.sources.get(&format!("catalog.accompany.{}", rule.key)) {
            p.catalog.accompany.cited.insert(rule.key.into(), c.clone());
        }
    }
    p.catalog.accompany.jurisdiction = p.name.clone();
    Ok(p)
}

/// The profile a workspace uses when its `pdq.toml` names none (a workspace
/// made before profiles were required); every run says so (`pdq init`
/// always writes one).
pub const DEFAULT_PROFILE: &str = "xinjiang-2023";

#[cfg(test)]
mod tests;

//! The catalog entry (目录条目) and its data items (信息项), following the
//! 政务信息资源目录编制指南 element set and the regulations' catalog fields,
//! with the normalisation harvested text gets before it is stored and
//! compared: codes and enumerations without spaces or full-width forms,
//! dates and update frequencies read from the vocabularies portals use.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

use super::vocab::Kind;
use crate::land::UpdateFrequency;

macro_rules! entry_fields {
    ($( $(#[$doc:meta])* $f:ident ),* $(,)?) => {
        /// One resource of the catalog. Text fields hold what the source
        /// said, normalised ([`normalize_field`]); which are required, and
        /// the allowed values, come from the jurisdiction profile and the
        /// catalog checks.
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct CatalogEntry {
            /// Stable identity: `<source>:<id at the source>`.
            pub key: String,
            /// The catalog source it was harvested from.
            pub source: String,
            /// The responsible department (a workspace department code where
            /// the provider is known, else the provider as written).
            pub department: String,
            /// Where it was last read (file, sheet and row; page and item; URL).
            pub location: String,
            $( $(#[$doc])* #[serde(default, skip_serializing_if = "Option::is_none")] pub $f: Option<String>, )*
            /// Its data items.
            #[serde(default)]
            pub items: Vec<DataItem>,
            /// Field → the column or key it came from (for findings),
            /// one map shared by the entries that came the same way.
            #[serde(default)]
            pub origins: Origins,
            /// Enumerated field → the value the source wrote that no
            /// vocabulary maps ([`super::vocab`]): the field itself is left
            /// unset and the checks report the value (issue #19, 3).
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub unmapped: BTreeMap<String, String>,
            /// Fields set by the bureau's curation, which a harvest never overwrites.
            #[serde(default)]
            pub curated: Vec<String>,
            /// When pdq first harvested it.
            #[serde(default)]
            pub first_harvested: Option<DateTime<chrono::Utc>>,
            /// When its catalog entry last changed (a harvest brought a change).
            #[serde(default)]
            pub entry_updated: Option<DateTime<chrono::Utc>>,
        }

        /// The canonical text fields of an entry, in element-set order.
        pub const ENTRY_FIELDS: &[&str] = &[$(stringify!($f)),*];

        impl CatalogEntry {
            /// A text field by canonical name.
            pub fn get(&self, field: &str) -> Option<&str> {
                match field {
                    $( stringify!($f) => self.$f.as_deref(), )*
                    _ => None,
                }
            }

            /// A copy without its data items (every field named, so a new
            /// field cannot be left out unnoticed).
            pub fn clone_without_items(&self) -> CatalogEntry {
                CatalogEntry {
                    key: self.key.clone(),
                    source: self.source.clone(),
                    department: self.department.clone(),
                    location: self.location.clone(),
                    $( $f: self.$f.clone(), )*
                    items: Vec::new(),
                    origins: self.origins.clone(),
                    unmapped: self.unmapped.clone(),
                    curated: self.curated.clone(),
                    first_harvested: self.first_harvested,
                    entry_updated: self.entry_updated,
                }
            }

            /// Sets a text field by canonical name; false for an unknown name.
            pub fn set(&mut self, field: &str, value: Option<String>) -> bool {
                match field {
                    $( stringify!($f) => { self.$f = value; true } )*
                    _ => false,
                }
            }
        }
    };
}

entry_fields! {
    /// 资源代码: classification code + sequence code.
    resource_code,
    /// 资源分类: 基础 / 主题 / 部门.
    classification,
    /// 资源名称.
    name,
    /// 资源提供方 (提供部门).
    provider,
    /// Provider's code, where the source gives one.
    provider_code,
    /// 收集部门.
    collector,
    /// 核准部门.
    approver,
    /// 资源摘要 (共享内容).
    summary,
    /// 数据形式 (数据库表, 电子表格, 接口 …).
    data_form,
    /// 资源格式 (xlsx, csv …).
    format,
    /// 分类分级.
    grading,
    /// 更新频率, normalised to its Chinese name (每日, 每月 …) when recognised.
    update_frequency,
    /// 共享属性: 无条件共享 / 有条件共享 / 不予共享.
    share_attribute,
    /// 共享条件.
    share_conditions,
    /// 共享理由: why the data is shared only on conditions (兵团 第二十三条,
    /// 甘孜 第十五条, 吴忠 第二十五条: 说明理由).
    share_reason,
    /// 不予共享 (or 有条件共享) 的依据.
    share_basis,
    /// 共享范围 / 共享方式.
    share_scope,
    /// 开放属性: 无条件开放 / 有条件开放 / 不予开放.
    open_attribute,
    /// 开放条件.
    open_conditions,
    /// 开放范围.
    open_scope,
    /// 开放内容.
    open_content,
    /// 授权运营属性.
    operation_attribute,
    /// 来源系统.
    source_system,
    /// 使用要求.
    usage_requirements,
    /// 数据量 / 规模.
    data_volume,
    /// 上线日期 (`YYYY-MM-DD`).
    online_date,
    /// 数据更新日期 as the source states it (RFC 3339 or `YYYY-MM-DD`):
    /// when the *data* changed, distinct from [`CatalogEntry::entry_updated`].
    data_updated,
    /// 审核记录: the bureau's approval of a change.
    approval_record,
    /// 密级 / 涉密标识.
    security_marking,
    /// The mounted dataset (挂接), `department.dataset`.
    dataset,
    /// 访问地址: where the resource is described or served (a portal page,
    /// a landing page).
    landing_page,
}

/// The three levels of 国家秘密 (绝密、机密、秘密) and the marking 涉密
/// itself.
const LEVELS: &[&str] = &["绝密", "机密", "秘密", "涉密"];

/// The classification fields a classified (涉密) marking is read from: the
/// security marking (密级 / 涉密标识 / 是否涉密) and 分类分级. Free text (the
/// name, the summary) is never read for it: 商业秘密 in a summary or a ★ in a
/// title marks nothing (issue #19, 8).
pub const MARKING_FIELDS: &[&str] = &["security_marking", "grading"];

/// Whether a classification value marks something classified (涉密): one
/// of the 国家秘密 levels, with or without 级 and the ★ period mark
/// (`秘密★5年`), or 涉密 (`涉密（机密）`); never a negation (非涉密, 不涉密,
/// 无密级), a data grade (核心数据, 重要数据, 第三级) or free text that merely
/// contains the word.
///
/// ```
/// use pipeline::catalog::model::is_classified;
/// assert!(is_classified("机密"));
/// assert!(is_classified("秘密★5年"));
/// assert!(is_classified("绝密级"));
/// assert!(is_classified("涉密（秘密）"));
/// assert!(!is_classified("非涉密"));
/// assert!(!is_classified("公开"));
/// assert!(!is_classified("核心数据"));
/// assert!(!is_classified("涉及商业秘密的字段已脱敏"));
/// ```
pub fn is_classified(v: &str) -> bool {
    let v = no_spaces(&half_width(v));
    // The ★ separates the level from its period (秘密★10年); brackets add a
    // level to 涉密 (涉密(机密)).
    let head = v.split(['★', '☆', '(', '[']).next().unwrap_or("");
    let head = head.strip_suffix('级').unwrap_or(head);
    let head = head.strip_prefix("国家").unwrap_or(head);
    LEVELS.contains(&head) || head == "涉密信息" || head == "涉密数据"
}

/// Whether `field`'s value `v` marks the entry classified: a level word in
/// either classification field, or a yes (是, Y, √ …) in the security
/// marking, which sources also write as a 是否涉密 column.
pub fn marks_classified(field: &str, v: &str) -> bool {
    is_classified(v) || (field == "security_marking" && yes_no(v) == Some(true))
}

impl CatalogEntry {
    /// The fields that mark this entry classified, with their values.
    pub fn classified_markings(&self) -> impl Iterator<Item = (&'static str, &str)> {
        MARKING_FIELDS.iter().filter_map(|f| {
            self.get(f)
                .filter(|v| marks_classified(f, v))
                .map(|v| (*f, v))
        })
    }

    /// A classified (涉密) entry: the regulations allow no 涉密 data in the
    /// catalog (XJ art.12, TB art.13), so such an entry is a finding for its
    /// department and is withheld from every published artefact, whoever
    /// reads it.
    pub fn is_classified(&self) -> bool {
        self.classified_markings().next().is_some()
    }
}

/// The fields that tell two resources of one provider apart when the
/// source gives them no identifier: the same 资源名称 for different years or
/// districts differs in its summary, its source system or its date online.
/// Distribution details (format, data form) and attributes are not among
/// them: they describe one resource, not which one.
pub const IDENTITY_FIELDS: &[&str] = &[
    "provider",
    "name",
    "summary",
    "source_system",
    "online_date",
];

impl CatalogEntry {
    /// A short, stable digest of [`IDENTITY_FIELDS`]: the identity of an
    /// entry whose source gives no identifier, and what two entries of one
    /// name must share to be the same resource catalogued twice.
    ///
    /// ```
    /// use pipeline::catalog::CatalogEntry;
    /// let mut a = CatalogEntry { name: Some("户籍人口".into()), ..Default::default() };
    /// let mut b = a.clone();
    /// b.summary = Some("2024年 城区".into());
    /// assert_ne!(a.identity_digest(), b.identity_digest());
    /// a.format = Some("csv".into());
    /// assert_eq!(a.identity_digest(), CatalogEntry { name: Some("户籍人口".into()), ..Default::default() }.identity_digest());
    /// assert_eq!(a.identity_digest().len(), 16);
    /// ```
    pub fn identity_digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for f in IDENTITY_FIELDS {
            h.update(self.get(f).unwrap_or("").as_bytes());
            // A separator no text holds, so that ("ab", "c") ≠ ("a", "bc").
            h.update([0x1f]);
        }
        hex::encode(&h.finalize()[..8])
    }
}

/// Where an entry's fields came from: field → the column or key it was read
/// from. Every entry of a source that came the same way has the same map,
/// so entries share one copy ([`OriginsInterner`]): a catalog of 100,000
/// entries held a B-tree and two dozen strings for each (issue #19).
///
/// ```
/// use pipeline::catalog::model::{Origins, OriginsInterner};
/// let mut a = Origins::default();
/// a.insert("name".into(), "资源名称".into());
/// let mut b = a.clone();
/// b.insert("provider".into(), "提供方".into()); // copy on write
/// assert_eq!(a.get("provider"), None);
/// let mut c = Origins::default();
/// c.insert("name".into(), "资源名称".into());
/// let mut interner = OriginsInterner::default();
/// interner.intern(&mut a);
/// interner.intern(&mut c);
/// assert!(a.shares_with(&c));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Origins(Arc<BTreeMap<String, String>>);

impl Origins {
    /// Sets where `field` came from (copying the map if it is shared).
    pub fn insert(&mut self, field: String, origin: String) -> Option<String> {
        Arc::make_mut(&mut self.0).insert(field, origin)
    }

    /// Sets where `field` came from unless it is known already.
    pub fn insert_if_absent(&mut self, field: &str, origin: &str) {
        if !self.0.contains_key(field) {
            Arc::make_mut(&mut self.0).insert(field.to_string(), origin.to_string());
        }
    }

    /// Forgets every origin.
    pub fn clear(&mut self) {
        if !self.0.is_empty() {
            self.0 = Arc::default();
        }
    }

    /// Whether both are the same shared map.
    pub fn shares_with(&self, other: &Origins) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for Origins {
    type Target = BTreeMap<String, String>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<BTreeMap<String, String>> for Origins {
    fn from(m: BTreeMap<String, String>) -> Self {
        Origins(Arc::new(m))
    }
}

impl Serialize for Origins {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Origins {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        BTreeMap::deserialize(d).map(Origins::from)
    }
}

/// Hands out one shared copy of each distinct [`Origins`] map.
#[derive(Debug, Clone, Default)]
pub struct OriginsInterner(HashSet<Arc<BTreeMap<String, String>>>);

impl OriginsInterner {
    /// Replaces `o` by the shared copy of an equal map, or makes it the
    /// shared copy.
    pub fn intern(&mut self, o: &mut Origins) {
        match self.0.get(&*o.0) {
            Some(shared) => o.0 = shared.clone(),
            None => {
                self.0.insert(o.0.clone());
            }
        }
    }
}

/// One data item (信息项) of an entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataItem {
    /// 信息项名称.
    pub name: Option<String>,
    /// The column it is delivered in (字段名); default: the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// 数据类型 as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
    /// 数据长度.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<String>,
    /// 描述.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// 是否涉及个人信息: Some(true/false), None when blank or unreadable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personal: Option<bool>,
    /// 是否敏感.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sensitive: Option<bool>,
    /// Where it was read.
    #[serde(default)]
    pub location: String,
}

impl DataItem {
    /// The column name the landed data should have.
    pub fn column_name(&self) -> Option<&str> {
        self.column.as_deref().or(self.name.as_deref())
    }
}

/// Removes every space (ASCII, full-width, no-break).
fn no_spaces(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect()
}

/// Collapses runs of whitespace into one space (text fields).
pub(crate) fn collapse(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{3000}')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub use super::vocab::{OPEN_VALUES, SHARE_VALUES, half_width, open_value, share_value};

/// A declared update frequency read from the vocabularies in use
/// ([`super::vocab::FREQUENCY_SYNONYMS`]): Chinese (每日, 日, 实时, 每季度 …),
/// English words, ISO 8601 repeating durations (`R/P1D`), and the EU and
/// Dublin Core frequency IRIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// 实时 / 即时 / hourly: published as 实时, checked for lateness as
    /// daily (the nightly sweep cannot tell finer).
    RealTime,
    /// A regular period.
    Every(UpdateFrequency),
    /// 不定期 / 不定时 / 按需 / irregular: no lateness applies.
    Irregular,
    /// 不更新 / 静态数据 / 一次性 / never: valid, and never late.
    Never,
}

impl Frequency {
    /// The canonical text of a frequency value already mapped: the name
    /// [`Frequency::zh`] gives.
    pub(crate) fn of_canonical(c: &str) -> Option<Frequency> {
        use crate::land::UpdateFrequency::*;
        Some(match c {
            "实时" => Frequency::RealTime,
            "每日" => Frequency::Every(Daily),
            "每周" => Frequency::Every(Weekly),
            "每月" => Frequency::Every(Monthly),
            "每季度" => Frequency::Every(Quarterly),
            "每半年" => Frequency::Every(HalfYearly),
            "每年" => Frequency::Every(Yearly),
            "不定期" => Frequency::Irregular,
            "不更新" => Frequency::Never,
            _ => return None,
        })
    }

    /// Parses a written frequency; None when unrecognised.
    ///
    /// ```
    /// use pipeline::catalog::Frequency;
    /// use pipeline::land::UpdateFrequency::*;
    /// assert_eq!(Frequency::parse("每日"), Some(Frequency::Every(Daily)));
    /// assert_eq!(Frequency::parse("实时"), Some(Frequency::RealTime));
    /// assert_eq!(Frequency::parse("R/P3M"), Some(Frequency::Every(Quarterly)));
    /// assert_eq!(Frequency::parse("http://publications.europa.eu/resource/authority/frequency/ANNUAL"), Some(Frequency::Every(Yearly)));
    /// assert_eq!(Frequency::parse("不定期"), Some(Frequency::Irregular));
    /// assert_eq!(Frequency::parse("不更新"), Some(Frequency::Never));
    /// assert_eq!(Frequency::parse("偶尔"), None);
    /// assert_eq!(Frequency::parse("其他"), None);
    /// ```
    pub fn parse(v: &str) -> Option<Frequency> {
        super::vocab::Kind::Frequency
            .builtin(v)
            .and_then(Frequency::of_canonical)
    }

    /// The period deliveries are checked against for lateness: real time
    /// as daily; None for irregular and never-updated data, which are
    /// never late.
    pub fn late_period(&self) -> Option<UpdateFrequency> {
        match self {
            Frequency::RealTime => Some(UpdateFrequency::Daily),
            Frequency::Every(f) => Some(*f),
            Frequency::Irregular | Frequency::Never => None,
        }
    }

    /// The Chinese name pdq publishes.
    pub fn zh(&self) -> &'static str {
        match self {
            Frequency::RealTime => "实时",
            Frequency::Every(UpdateFrequency::Daily) => "每日",
            Frequency::Every(UpdateFrequency::Weekly) => "每周",
            Frequency::Every(UpdateFrequency::Monthly) => "每月",
            Frequency::Every(UpdateFrequency::Quarterly) => "每季度",
            Frequency::Every(UpdateFrequency::HalfYearly) => "每半年",
            Frequency::Every(UpdateFrequency::Yearly) => "每年",
            Frequency::Irregular => "不定期",
            Frequency::Never => "不更新",
        }
    }

    /// The EU frequency authority IRI (DCAT-AP); real time is
    /// `UPDATE_CONT` (continuously updated), never-updated `NEVER`, and
    /// both read back as themselves.
    pub fn eu_iri(&self) -> &'static str {
        match self {
            Frequency::RealTime => {
                "http://publications.europa.eu/resource/authority/frequency/UPDATE_CONT"
            }
            Frequency::Every(UpdateFrequency::Daily) => {
                "http://publications.europa.eu/resource/authority/frequency/DAILY"
            }
            Frequency::Every(UpdateFrequency::Weekly) => {
                "http://publications.europa.eu/resource/authority/frequency/WEEKLY"
            }
            Frequency::Every(UpdateFrequency::Monthly) => {
                "http://publications.europa.eu/resource/authority/frequency/MONTHLY"
            }
            Frequency::Every(UpdateFrequency::Quarterly) => {
                "http://publications.europa.eu/resource/authority/frequency/QUARTERLY"
            }
            Frequency::Every(UpdateFrequency::HalfYearly) => {
                "http://publications.europa.eu/resource/authority/frequency/ANNUAL_2"
            }
            Frequency::Every(UpdateFrequency::Yearly) => {
                "http://publications.europa.eu/resource/authority/frequency/ANNUAL"
            }
            Frequency::Irregular => {
                "http://publications.europa.eu/resource/authority/frequency/IRREG"
            }
            Frequency::Never => "http://publications.europa.eu/resource/authority/frequency/NEVER",
        }
    }
}

/// Reads a date or time as portals write it, the one place harvested
/// dates are parsed (issue #19, 4):
///
/// - RFC 3339 and ISO 8601, with or without a zone (`Z`, `+08:00`,
///   `+0800`) and fractional seconds; no zone means the bureau's `tz`
///   (CKAN's `metadata_modified`, `2024-03-05T08:15:30.123456`);
/// - typed literals as text: `"2024-01-02"^^xsd:date`,
///   `"…"^^<http://www.w3.org/2001/XMLSchema#dateTime>` (JSON-LD's
///   `{"@value": …, "@type": "xsd:dateTime"}` reaches here as its value);
/// - `2024-03-05`, `2024/3/5`, `2024.03.05`, `20240305`, `2024年3月5日`,
///   each with or without a time (`8时15分`, `08:15`);
/// - a month alone (`2024年1月`, `2024-01`, `2024/1`), kept as a month:
///   `YYYY-MM`, no day invented;
/// - epoch seconds and milliseconds (10 and 13 digits).
///
/// Returns `YYYY-MM-DD` for a date, `YYYY-MM` for a month, RFC 3339 (UTC)
/// for a time; None if unreadable.
///
/// ```
/// use pipeline::catalog::normalize_date;
/// let tz = chrono_tz::Asia::Shanghai;
/// assert_eq!(normalize_date("2024年3月5日", tz).as_deref(), Some("2024-03-05"));
/// assert_eq!(normalize_date("2024年1月", tz).as_deref(), Some("2024-01"));
/// assert_eq!(normalize_date("1709568000000", tz).as_deref(), Some("2024-03-04T16:00:00+00:00"));
/// assert_eq!(normalize_date("2024-03-05 08:00:00", tz).as_deref(), Some("2024-03-05T00:00:00+00:00"));
/// assert_eq!(normalize_date("2024-03-05T08:15:30.5", tz).as_deref(), Some("2024-03-05T00:15:30.500+00:00"));
/// assert_eq!(normalize_date("\"2024-01-02\"^^xsd:date", tz).as_deref(), Some("2024-01-02"));
/// assert_eq!(normalize_date("2024-02-30", tz), None);
/// ```
pub fn normalize_date(v: &str, tz: chrono_tz::Tz) -> Option<String> {
    let s = collapse(&half_width(v));
    let s = untyped(&s);
    if s.is_empty() {
        return None;
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        let n: i64 = s.parse().ok()?;
        return match s.len() {
            13 => DateTime::from_timestamp_millis(n).map(|t| t.to_rfc3339()),
            10 => DateTime::from_timestamp(n, 0).map(|t| t.to_rfc3339()),
            8 => NaiveDate::parse_from_str(s, "%Y%m%d")
                .ok()
                .map(|d| d.format("%Y-%m-%d").to_string()),
            _ => None,
        };
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc).to_rfc3339());
    }
    // The date before a `T`, a space or 日; the time, if any, after it.
    let s = s.replace('日', " ");
    let s = s.trim();
    let (date, time) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let date = date.replace(['年', '月', '/', '.'], "-");
    let date = date.trim_end_matches('-');
    let Some(time) = time.filter(|t| !t.is_empty()) else {
        return day_or_month(date);
    };
    let time = time
        .replace(['时', '点', '分'], ":")
        .replace('秒', "")
        .trim_end_matches(':')
        .to_string();
    // A zone after the time: `Z`, `+08:00`, `+0800`.
    let zoned = match time.strip_suffix(['Z', 'z']) {
        Some(t) => format!("{date} {t}+00:00"),
        None => format!("{date} {time}"),
    };
    for f in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M%:z",
        "%Y-%m-%d %H:%M%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(&zoned, f) {
            return Some(t.with_timezone(&chrono::Utc).to_rfc3339());
        }
    }
    let local = format!("{date} {time}");
    for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d %H"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&local, f) {
            return tz
                .from_local_datetime(&t)
                .earliest()
                .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339());
        }
    }
    None
}

/// The lexical form of a typed literal written as text
/// (`"2024-01-02"^^xsd:date`); other text as it is.
fn untyped(s: &str) -> &str {
    let s = s.trim();
    match s.split_once("^^") {
        Some((lexical, _)) => lexical.trim().trim_matches(['"', '\'']),
        None => s,
    }
}

/// A date (`YYYY-MM-DD`, also with a zone, which a date alone does not
/// need) or a month (`YYYY-MM`); None otherwise.
fn day_or_month(s: &str) -> Option<String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.format("%Y-%m-%d").to_string());
    }
    // xsd:date allows a zone: 2024-01-02Z, 2024-01-02+08:00.
    let offset = |z: &[u8]| {
        z.len() == 6
            && matches!(z[0], b'+' | b'-')
            && z[1].is_ascii_digit()
            && z[2].is_ascii_digit()
            && z[3] == b':'
            && z[4].is_ascii_digit()
            && z[5].is_ascii_digit()
    };
    if let Some((d, zone)) = s.get(..10).zip(s.get(10..))
        && (zone.eq_ignore_ascii_case("z") || offset(zone.as_bytes()))
    {
        return day_or_month(d).filter(|d| d.len() == 10);
    }
    let (y, m) = s.split_once('-')?;
    let (y, m): (i32, u32) = (
        y.parse().ok().filter(|_| y.len() == 4)?,
        m.parse().ok().filter(|_| (1..=2).contains(&m.len()))?,
    );
    (1..=12).contains(&m).then(|| format!("{y:04}-{m:02}"))
}

/// The date part of a normalised date or time, in `tz`.
pub fn date_of(v: &str, tz: chrono_tz::Tz) -> Option<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Some(d);
    }
    DateTime::parse_from_rfc3339(v)
        .ok()
        .map(|t| t.with_timezone(&tz).date_naive())
}

/// 是/否 and the other ways a yes/no is written.
pub fn yes_no(v: &str) -> Option<bool> {
    match no_spaces(&half_width(v)).to_lowercase().as_str() {
        "是" | "y" | "yes" | "true" | "1" | "√" | "✓" | "有" | "涉及" => Some(true),
        "否" | "n" | "no" | "false" | "0" | "×" | "无" | "不涉及" => Some(false),
        _ => None,
    }
}

/// Normalises a harvested field's text. Codes lose spaces and full-width
/// forms; enumerations are mapped to their canonical values when
/// recognised (unrecognised ones stay as written, for the checks to
/// report); dates become ISO; free text has its spaces collapsed.
pub fn normalize_field(field: &str, v: &str, tz: chrono_tz::Tz) -> String {
    match field {
        "resource_code" | "provider_code" => no_spaces(&half_width(v)),
        // No text fixes the values of 分类 (基础/主题/专题 are tiers that
        // decide who compiles a catalog): kept as written (issue #17, 1).
        "share_attribute" | "open_attribute" | "update_frequency" => Kind::of_field(field)
            .and_then(|k| k.builtin(v))
            .map(str::to_string)
            .unwrap_or_else(|| collapse(v)),
        "format" => collapse(&half_width(v)).to_lowercase(),
        "online_date" | "data_updated" => normalize_date(v, tz).unwrap_or_else(|| collapse(v)),
        _ => collapse(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enumerations_as_departments_write_them() {
        assert_eq!(share_value(" 有条件 共享 "), Some("有条件共享"));
        assert_eq!(share_value("无条件共享。"), Some("无条件共享"));
        assert_eq!(share_value("部分共享"), None);
        assert_eq!(open_value("不开放"), Some("不予开放"));
        assert_eq!(open_value("非开放"), Some("不予开放"));
        // 分类 is kept as the department writes it: no text lists its values.
        assert_eq!(
            normalize_field("classification", "专题 信息资源", chrono_tz::UTC),
            "专题 信息资源"
        );
        assert_eq!(half_width("ＸＬＳＸ（１）"), "XLSX(1)");
        assert_eq!(
            normalize_field("format", "电子表格/ＸＬＳＸ", chrono_tz::UTC),
            "电子表格/xlsx"
        );
        assert_eq!(
            normalize_field("resource_code", " 3301 0001 ", chrono_tz::UTC),
            "33010001"
        );
        assert_eq!(
            normalize_field("update_frequency", "每季", chrono_tz::UTC),
            "每季度"
        );
        assert_eq!(
            normalize_field("name", "户籍  人口\u{3000}信息", chrono_tz::UTC),
            "户籍 人口 信息"
        );
        assert_eq!(yes_no("是"), Some(true));
        assert_eq!(yes_no("否"), Some(false));
        assert_eq!(yes_no("可能"), None);
    }

    #[test]
    fn dates_in_every_portal_shape() {
        let tz = chrono_tz::Asia::Shanghai;
        assert_eq!(
            normalize_date("2024/3/5", tz).as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(
            normalize_date("2024.03.05", tz).as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(
            normalize_date("20240305", tz).as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(
            normalize_date("1709568000", tz).as_deref(),
            Some("2024-03-04T16:00:00+00:00")
        );
        assert_eq!(
            normalize_date("2024-03-05T10:00:00+08:00", tz).as_deref(),
            Some("2024-03-05T02:00:00+00:00")
        );
        assert_eq!(
            normalize_date("２０２４年３月５日", tz).as_deref(),
            Some("2024-03-05")
        );
        assert_eq!(normalize_date("去年", tz), None);
        assert_eq!(
            date_of("2024-03-04T16:00:00+00:00", tz),
            NaiveDate::from_ymd_opt(2024, 3, 5)
        );
    }

    /// Every form of issue #19, 4, each with the value it must give.
    #[test]
    fn iso_typed_chinese_epoch_and_month_dates() {
        let tz = chrono_tz::Asia::Shanghai;
        let n = |v: &str| normalize_date(v, tz);
        let cases: &[(&str, Option<&str>)] = &[
            // RFC 3339 / ISO 8601 with a zone, with and without fractions.
            ("2024-03-05T08:15:30Z", Some("2024-03-05T08:15:30+00:00")),
            (
                "2024-03-05T08:15:30.250+08:00",
                Some("2024-03-05T00:15:30.250+00:00"),
            ),
            (
                "2024-03-05T08:15:30+0800",
                Some("2024-03-05T00:15:30+00:00"),
            ),
            ("2024-03-05T08:15+08:00", Some("2024-03-05T00:15:00+00:00")),
            ("2024-03-05T08:15Z", Some("2024-03-05T08:15:00+00:00")),
            // Without a zone: the bureau's time (CKAN's metadata_modified).
            (
                "2024-03-05T08:15:30.123456",
                Some("2024-03-05T00:15:30.123456+00:00"),
            ),
            ("2024-03-05T08:15:30", Some("2024-03-05T00:15:30+00:00")),
            ("2024-03-05T08:15", Some("2024-03-05T00:15:00+00:00")),
            (
                "2024-03-05 08:15:30.5",
                Some("2024-03-05T00:15:30.500+00:00"),
            ),
            // Typed literals as text.
            ("\"2024-01-02\"^^xsd:date", Some("2024-01-02")),
            (
                "\"2024-01-02T10:00:00\"^^xsd:dateTime",
                Some("2024-01-02T02:00:00+00:00"),
            ),
            (
                "\"2024-01-02T10:00:00Z\"^^<http://www.w3.org/2001/XMLSchema#dateTime>",
                Some("2024-01-02T10:00:00+00:00"),
            ),
            ("2024-01-02Z", Some("2024-01-02")),
            ("2024-01-02+08:00", Some("2024-01-02")),
            // Chinese dates, with a time, and months kept as months.
            ("2024年1月2日", Some("2024-01-02")),
            ("2024年1月2日 8时15分", Some("2024-01-02T00:15:00+00:00")),
            ("2024年1月", Some("2024-01")),
            ("2024年12月", Some("2024-12")),
            ("2024-01", Some("2024-01")),
            ("2024/1", Some("2024-01")),
            ("２０２４年１月", Some("2024-01")),
            // Epoch seconds and milliseconds, as digit strings.
            ("1704153600", Some("2024-01-02T00:00:00+00:00")),
            ("1704153600000", Some("2024-01-02T00:00:00+00:00")),
            ("1704153600123", Some("2024-01-02T00:00:00.123+00:00")),
            // Unreadable: no guess.
            ("2024年13月", None),
            ("2024-1-", Some("2024-01")),
            ("24-01", None),
            ("2024", None),
            ("170415360", None),
            ("2024-01-02T25:00:00", None),
            ("\"去年\"^^xsd:date", None),
            ("", None),
        ];
        for (v, want) in cases {
            assert_eq!(n(v).as_deref(), *want, "{v}");
        }
        // What the harvest stored reads back as itself (the checks
        // re-read stored values).
        for (_, want) in cases {
            if let Some(w) = want {
                assert_eq!(n(w).as_deref(), Some(*w), "{w}");
            }
        }
    }

    #[test]
    fn frequencies_publish_and_late_check_as_the_issue_says() {
        use UpdateFrequency::*;
        let p = |v: &str| Frequency::parse(v);
        assert_eq!(p("实时"), Some(Frequency::RealTime));
        assert_eq!(p("即时").map(|f| f.zh()), Some("实时"), "not 每日");
        assert_eq!(p("实时").and_then(|f| f.late_period()), Some(Daily));
        assert_eq!(p("不更新"), Some(Frequency::Never));
        assert_eq!(p("静态数据").and_then(|f| f.late_period()), None);
        assert_eq!(p("不定时").and_then(|f| f.late_period()), None);
        assert_eq!(p("每季度").and_then(|f| f.late_period()), Some(Quarterly));
        assert_eq!(p("其他"), None);
        // The DCAT IRI reads back as the same frequency.
        for f in [
            Frequency::RealTime,
            Frequency::Every(Daily),
            Frequency::Every(HalfYearly),
            Frequency::Irregular,
            Frequency::Never,
        ] {
            assert_eq!(p(f.eu_iri()), Some(f), "{}", f.eu_iri());
        }
    }

    #[test]
    fn every_canonical_frequency_is_a_frequency_named_the_same() {
        for c in super::super::vocab::Kind::Frequency.canonical_values() {
            assert_eq!(Frequency::of_canonical(c).map(|f| f.zh()), Some(*c));
        }
    }

    #[test]
    fn entry_fields_by_name() {
        let mut e = CatalogEntry::default();
        assert!(e.set("share_attribute", Some("无条件共享".into())));
        assert_eq!(e.get("share_attribute"), Some("无条件共享"));
        assert!(!e.set("no_such_field", None));
        // Every harvested canonical field has a place in the entry.
        for (f, _) in connectors::catalog::FIELDS {
            assert!(ENTRY_FIELDS.contains(f), "{f}");
        }
    }
}

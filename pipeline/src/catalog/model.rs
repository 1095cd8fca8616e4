//! The catalog entry (目录条目) and its data items (信息项), following the
//! 政务信息资源目录编制指南 element set and the regulations' catalog fields,
//! with the normalisation harvested text gets before it is stored and
//! compared: codes and enumerations without spaces or full-width forms,
//! dates and update frequencies read from the vocabularies portals use.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};

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
            /// Field → the column or key it came from (for findings).
            #[serde(default)]
            pub origins: BTreeMap<String, String>,
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

/// Full-width ASCII (`ＸＬＳＸ`, `１２`, `（`) to half-width, and the
/// ideographic space to a space.
pub fn half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// Removes every space (ASCII, full-width, no-break).
fn no_spaces(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{3000}')
        .collect()
}

/// Collapses runs of whitespace into one space (text fields).
fn collapse(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{3000}')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Share attributes, most open first.
pub const SHARE_VALUES: [&str; 3] = ["无条件共享", "有条件共享", "不予共享"];
/// Open attributes, most open first.
pub const OPEN_VALUES: [&str; 3] = ["无条件开放", "有条件开放", "不予开放"];

/// The canonical share attribute of a written value, if it is one.
pub fn share_value(v: &str) -> Option<&'static str> {
    let k = no_spaces(&half_width(v))
        .trim_end_matches(['。', '.'])
        .to_lowercase();
    Some(match k.as_str() {
        "无条件共享" | "无条件" | "unconditional" | "1" => SHARE_VALUES[0],
        "有条件共享" | "有条件" | "conditional" | "2" => SHARE_VALUES[1],
        "不予共享" | "不共享" | "不予" | "none" | "3" => SHARE_VALUES[2],
        _ => return None,
    })
}

/// The canonical open attribute of a written value, if it is one.
pub fn open_value(v: &str) -> Option<&'static str> {
    let k = no_spaces(&half_width(v))
        .trim_end_matches(['。', '.'])
        .to_lowercase();
    Some(match k.as_str() {
        "无条件开放" | "无条件" | "unconditional" | "public" | "1" => OPEN_VALUES[0],
        "有条件开放" | "有条件" | "conditional" | "restricted" | "2" => OPEN_VALUES[1],
        // 非开放: 新疆 第二十六条's word for it.
        "不予开放" | "非开放" | "不开放" | "不予" | "non-public" | "non_public" | "3" => {
            OPEN_VALUES[2]
        }
        _ => return None,
    })
}

/// A declared update frequency read from the vocabularies in use: Chinese
/// (每日, 日, 实时, 每季度 …), English words, ISO 8601 repeating durations
/// (`R/P1D`), and the EU and Dublin Core frequency IRIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    /// A regular period.
    Every(UpdateFrequency),
    /// 不定期 / 按需 / irregular / never / one-off: no lateness applies.
    Irregular,
}

impl Frequency {
    /// Parses a written frequency; None when unrecognised.
    ///
    /// ```
    /// use pipeline::catalog::Frequency;
    /// use pipeline::land::UpdateFrequency::*;
    /// assert_eq!(Frequency::parse("每日"), Some(Frequency::Every(Daily)));
    /// assert_eq!(Frequency::parse("R/P3M"), Some(Frequency::Every(Quarterly)));
    /// assert_eq!(Frequency::parse("http://publications.europa.eu/resource/authority/frequency/ANNUAL"), Some(Frequency::Every(Yearly)));
    /// assert_eq!(Frequency::parse("不定期"), Some(Frequency::Irregular));
    /// assert_eq!(Frequency::parse("偶尔"), None);
    /// ```
    pub fn parse(v: &str) -> Option<Frequency> {
        use UpdateFrequency::*;
        let k = no_spaces(&half_width(v)).to_lowercase();
        let k = k
            .rsplit(['/', '#'])
            .next()
            .filter(|_| k.starts_with("http"))
            .unwrap_or(&k);
        let k = k.trim_end_matches("更新").trim_end_matches("一次");
        Some(Frequency::Every(match k {
            "实时" | "每日" | "每天" | "日" | "天" | "日更" | "daily" | "r/p1d" | "p1d"
            | "continuous" | "realtime" | "real-time" | "cont" | "updated_cont" | "hourly"
            | "每小时" => Daily,
            "每周" | "周" | "每星期" | "weekly" | "r/p1w" | "p1w" | "week" => Weekly,
            "每月" | "月" | "月度" | "monthly" | "r/p1m" | "p1m" | "month" => Monthly,
            "每季度" | "每季" | "季度" | "季" | "quarterly" | "r/p3m" | "p3m" | "quarter" => {
                Quarterly
            }
            "每半年" | "半年" | "biannual" | "semiannual" | "r/p6m" | "p6m" | "annual_2" => {
                HalfYearly
            }
            "每年" | "年" | "年度" | "annual" | "annually" | "yearly" | "r/p1y" | "p1y"
            | "year" => Yearly,
            "不定期" | "按需" | "不更新" | "一次性" | "irregular" | "irreg" | "never" | "other"
            | "unknown" | "as_needed" | "asneeded" | "notplanned" | "not_planned" | "op_datpro" => {
                return Some(Frequency::Irregular);
            }
            _ => return None,
        }))
    }

    /// The Chinese name pdq publishes.
    pub fn zh(&self) -> &'static str {
        match self {
            Frequency::Every(UpdateFrequency::Daily) => "每日",
            Frequency::Every(UpdateFrequency::Weekly) => "每周",
            Frequency::Every(UpdateFrequency::Monthly) => "每月",
            Frequency::Every(UpdateFrequency::Quarterly) => "每季度",
            Frequency::Every(UpdateFrequency::HalfYearly) => "每半年",
            Frequency::Every(UpdateFrequency::Yearly) => "每年",
            Frequency::Irregular => "不定期",
        }
    }

    /// The EU frequency authority IRI (DCAT-AP).
    pub fn eu_iri(&self) -> &'static str {
        let code = match self {
            Frequency::Every(UpdateFrequency::Daily) => "DAILY",
            Frequency::Every(UpdateFrequency::Weekly) => "WEEKLY",
            Frequency::Every(UpdateFrequency::Monthly) => "MONTHLY",
            Frequency::Every(UpdateFrequency::Quarterly) => "QUARTERLY",
            Frequency::Every(UpdateFrequency::HalfYearly) => "ANNUAL_2",
            Frequency::Every(UpdateFrequency::Yearly) => "ANNUAL",
            Frequency::Irregular => "IRREG",
        };
        match code {
            "DAILY" => "http://publications.europa.eu/resource/authority/frequency/DAILY",
            "WEEKLY" => "http://publications.europa.eu/resource/authority/frequency/WEEKLY",
            "MONTHLY" => "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
            "QUARTERLY" => "http://publications.europa.eu/resource/authority/frequency/QUARTERLY",
            "ANNUAL_2" => "http://publications.europa.eu/resource/authority/frequency/ANNUAL_2",
            "ANNUAL" => "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
            _ => "http://publications.europa.eu/resource/authority/frequency/IRREG",
        }
    }
}

/// Reads a date or time as portals write it: epoch milliseconds or seconds,
/// `2024-03-05`, `2024/3/5`, `2024.03.05`, `20240305`, `2024年3月5日`,
/// with or without a time, RFC 3339. Naive times are in `tz`. Returns
/// `YYYY-MM-DD` for a date, RFC 3339 (UTC) for a time; None if unreadable.
///
/// ```
/// use pipeline::catalog::normalize_date;
/// let tz = chrono_tz::Asia::Shanghai;
/// assert_eq!(normalize_date("2024年3月5日", tz).as_deref(), Some("2024-03-05"));
/// assert_eq!(normalize_date("1709568000000", tz).as_deref(), Some("2024-03-04T16:00:00+00:00"));
/// assert_eq!(normalize_date("2024-03-05 08:00:00", tz).as_deref(), Some("2024-03-05T00:00:00+00:00"));
/// assert_eq!(normalize_date("2024-02-30", tz), None);
/// ```
pub fn normalize_date(v: &str, tz: chrono_tz::Tz) -> Option<String> {
    let s = no_spaces_keep_one(&half_width(v));
    let s = s.trim();
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
    let s = s
        .replace(['年', '月', '/', '.'], "-")
        .replace(['日', 'T'], " ");
    let s = s.trim();
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return tz
                .from_local_datetime(&t)
                .earliest()
                .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

fn no_spaces_keep_one(s: &str) -> String {
    collapse(s)
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
        "share_attribute" => share_value(v)
            .map(str::to_string)
            .unwrap_or_else(|| collapse(v)),
        "open_attribute" => open_value(v)
            .map(str::to_string)
            .unwrap_or_else(|| collapse(v)),
        // No text fixes the values of 分类 (基础/主题/专题 are tiers that
        // decide who compiles a catalog): kept as written (issue #17, 1).
        "update_frequency" => Frequency::parse(v)
            .map(|f| f.zh().to_string())
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

//! Portal vocabularies (issue #19, 3): the words portals and departments
//! write for the enumerated catalog fields, each mapped to the canonical
//! value pdq stores and checks.
//!
//! ```text
//! source's word ─▶ the source's [values] table ─▶ built-in table ─▶ canonical value
//!   (完全开放)          (`"公开" = "无条件开放"`)        (OPEN_SYNONYMS)      (无条件开放)
//!                                   │ no entry anywhere
//!                                   ▼
//!                  entry field left unset, value kept in `unmapped`,
//!                  an `enumeration` finding names value, field and record
//! ```
//!
//! Entries store the canonical values ([`OPEN_VALUES`], [`SHARE_VALUES`],
//! `Frequency::zh`); the published catalog words the attributes as the
//! jurisdiction profile's text does ([`profile_word`]: 新疆 says 非开放
//! where 西藏 says 不予开放). Synonyms live here, never in the profiles,
//! which hold only what their regulation's text says.
//!
//! Keys are compared after [`vocab_key`]: full-width forms folded, spaces
//! and a trailing `。`/`.` dropped, ASCII lower-cased.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::profile::CatalogProfile;

/// The open attribute (开放属性): synonym → canonical value.
///
/// | canonical | synonyms |
/// |---|---|
/// | 无条件开放 | 完全开放, 开放, 无条件, 普遍开放, public, unconditional, 1 |
/// | 有条件开放 | 依申请开放, 申请开放, 登录开放, 受限开放, 有限开放, 有条件, conditional, restricted, 2 |
/// | 不予开放 | 非开放, 不开放, 不予开放, 暂不开放, 不予, non-public, 3 |
pub const OPEN_SYNONYMS: &[(&str, &str)] = &[
    ("无条件开放", "无条件开放"),
    ("完全开放", "无条件开放"),
    ("开放", "无条件开放"),
    ("普遍开放", "无条件开放"),
    ("无条件", "无条件开放"),
    ("public", "无条件开放"),
    ("unconditional", "无条件开放"),
    ("1", "无条件开放"),
    ("有条件开放", "有条件开放"),
    ("依申请开放", "有条件开放"),
    ("申请开放", "有条件开放"),
    ("登录开放", "有条件开放"),
    ("受限开放", "有条件开放"),
    ("有限开放", "有条件开放"),
    ("有条件", "有条件开放"),
    ("conditional", "有条件开放"),
    ("restricted", "有条件开放"),
    ("2", "有条件开放"),
    ("不予开放", "不予开放"),
    // 新疆 第二十六条's word for it.
    ("非开放", "不予开放"),
    ("不开放", "不予开放"),
    ("暂不开放", "不予开放"),
    ("不予", "不予开放"),
    ("non-public", "不予开放"),
    ("non_public", "不予开放"),
    ("3", "不予开放"),
];

/// The share attribute (共享属性): synonym → canonical value.
///
/// | canonical | synonyms |
/// |---|---|
/// | 无条件共享 | 完全共享, 无条件, unconditional, 1 |
/// | 有条件共享 | 依申请共享, 申请共享, 受限共享, 有条件, conditional, 2 |
/// | 不予共享 | 不共享, 非共享, 不予, none, 3 |
pub const SHARE_SYNONYMS: &[(&str, &str)] = &[
    ("无条件共享", "无条件共享"),
    ("完全共享", "无条件共享"),
    ("无条件", "无条件共享"),
    ("unconditional", "无条件共享"),
    ("1", "无条件共享"),
    ("有条件共享", "有条件共享"),
    ("依申请共享", "有条件共享"),
    ("申请共享", "有条件共享"),
    ("受限共享", "有条件共享"),
    ("有条件", "有条件共享"),
    ("conditional", "有条件共享"),
    ("2", "有条件共享"),
    ("不予共享", "不予共享"),
    ("不共享", "不予共享"),
    ("非共享", "不予共享"),
    ("不予", "不予共享"),
    ("none", "不予共享"),
    ("3", "不予共享"),
];

/// The update frequency (更新频率): synonym → canonical Chinese name.
/// Besides these, a trailing 更新 or 一次 is dropped (每月更新一次 is 每月),
/// and an IRI is read by its last segment (the EU and Dublin Core
/// frequency vocabularies: `…/frequency/ANNUAL`, `…/freq/annual`).
///
/// | canonical | synonyms | lateness |
/// |---|---|---|
/// | 实时 | 即时, 实时更新, 每小时, 每时, hourly, continuous, realtime, real-time, cont, update_cont, updated_cont | checked as daily |
/// | 每日 | 每天, 日, 天, 日更, 按日, daily, R/P1D, P1D | daily |
/// | 每周 | 周, 每星期, 按周, weekly, week, R/P1W, P1W | weekly |
/// | 每月 | 月, 月度, 按月, monthly, month, R/P1M, P1M | monthly |
/// | 每季度 | 每季, 季度, 季, 按季度, 按季, quarterly, quarter, R/P3M, P3M | quarterly |
/// | 每半年 | 半年, 按半年, biannual, semiannual, annual_2, R/P6M, P6M | half-yearly |
/// | 每年 | 年, 年度, 按年, annual, annually, yearly, year, R/P1Y, P1Y | yearly |
/// | 不定期 | 不定时, 按需, irregular, irreg, as_needed, asneeded | never late |
/// | 不更新 | 静态数据, 静态, 一次性, 历史数据, never, notplanned, not_planned, op_datpro | never late |
///
/// 其他, other and unknown are deliberately absent: they say nothing about
/// when data changes, so they are findings, not a silent 不定期.
pub const FREQUENCY_SYNONYMS: &[(&str, &str)] = &[
    ("实时", "实时"),
    ("即时", "实时"),
    ("每小时", "实时"),
    ("每时", "实时"),
    ("hourly", "实时"),
    ("continuous", "实时"),
    ("realtime", "实时"),
    ("real-time", "实时"),
    ("cont", "实时"),
    ("update_cont", "实时"),
    ("updated_cont", "实时"),
    ("每日", "每日"),
    ("每天", "每日"),
    ("日", "每日"),
    ("天", "每日"),
    ("日更", "每日"),
    ("按日", "每日"),
    ("daily", "每日"),
    ("r/p1d", "每日"),
    ("p1d", "每日"),
    ("每周", "每周"),
    ("周", "每周"),
    ("每星期", "每周"),
    ("按周", "每周"),
    ("weekly", "每周"),
    ("week", "每周"),
    ("r/p1w", "每周"),
    ("p1w", "每周"),
    ("每月", "每月"),
    ("月", "每月"),
    ("月度", "每月"),
    ("按月", "每月"),
    ("monthly", "每月"),
    ("month", "每月"),
    ("r/p1m", "每月"),
    ("p1m", "每月"),
    ("每季度", "每季度"),
    ("每季", "每季度"),
    ("季度", "每季度"),
    ("季", "每季度"),
    ("按季度", "每季度"),
    ("按季", "每季度"),
    ("quarterly", "每季度"),
    ("quarter", "每季度"),
    ("r/p3m", "每季度"),
    ("p3m", "每季度"),
    ("每半年", "每半年"),
    ("半年", "每半年"),
    ("按半年", "每半年"),
    ("biannual", "每半年"),
    ("semiannual", "每半年"),
    ("annual_2", "每半年"),
    ("r/p6m", "每半年"),
    ("p6m", "每半年"),
    ("每年", "每年"),
    ("年", "每年"),
    ("年度", "每年"),
    ("按年", "每年"),
    ("annual", "每年"),
    ("annually", "每年"),
    ("yearly", "每年"),
    ("year", "每年"),
    ("r/p1y", "每年"),
    ("p1y", "每年"),
    ("不定期", "不定期"),
    ("不定时", "不定期"),
    ("按需", "不定期"),
    ("irregular", "不定期"),
    ("irreg", "不定期"),
    ("as_needed", "不定期"),
    ("asneeded", "不定期"),
    ("不更新", "不更新"),
    ("静态数据", "不更新"),
    ("静态", "不更新"),
    ("一次性", "不更新"),
    ("历史数据", "不更新"),
    ("never", "不更新"),
    ("notplanned", "不更新"),
    ("not_planned", "不更新"),
    ("op_datpro", "不更新"),
];

/// Share attributes, most open first.
pub const SHARE_VALUES: [&str; 3] = ["无条件共享", "有条件共享", "不予共享"];
/// Open attributes, most open first.
pub const OPEN_VALUES: [&str; 3] = ["无条件开放", "有条件开放", "不予开放"];

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

/// The key a written value is looked up by: full-width forms folded,
/// spaces and a trailing `。`/`.` dropped, ASCII lower-cased.
///
/// ```
/// use pipeline::catalog::vocab::vocab_key;
/// assert_eq!(vocab_key(" 有条件 共享。"), "有条件共享");
/// assert_eq!(vocab_key("ＰＵＢＬＩＣ"), "public");
/// ```
pub fn vocab_key(v: &str) -> String {
    half_width(v)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .trim_end_matches(['。', '.'])
        .to_lowercase()
}

/// An enumerated catalog field with a vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// 共享属性 (`share_attribute`).
    Share,
    /// 开放属性 (`open_attribute`).
    Open,
    /// 更新频率 (`update_frequency`).
    Frequency,
}

impl Kind {
    /// Every kind, in the order findings report them.
    pub const ALL: [Kind; 3] = [Kind::Share, Kind::Open, Kind::Frequency];

    /// The kind of a canonical field, if it has a vocabulary.
    pub fn of_field(field: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.field() == field)
    }

    /// Its canonical field.
    pub fn field(self) -> &'static str {
        match self {
            Kind::Share => "share_attribute",
            Kind::Open => "open_attribute",
            Kind::Frequency => "update_frequency",
        }
    }

    /// Its key in a source's `[values]` table.
    pub fn table(self) -> &'static str {
        match self {
            Kind::Share => "share",
            Kind::Open => "open",
            Kind::Frequency => "frequency",
        }
    }

    /// Its built-in synonym table.
    pub fn synonyms(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Kind::Share => SHARE_SYNONYMS,
            Kind::Open => OPEN_SYNONYMS,
            Kind::Frequency => FREQUENCY_SYNONYMS,
        }
    }

    /// Its canonical values, for messages.
    pub fn canonical_values(self) -> &'static [&'static str] {
        match self {
            Kind::Share => &SHARE_VALUES,
            Kind::Open => &OPEN_VALUES,
            Kind::Frequency => &[
                "实时",
                "每日",
                "每周",
                "每月",
                "每季度",
                "每半年",
                "每年",
                "不定期",
                "不更新",
            ],
        }
    }

    /// The canonical value of a written value by the built-in table only;
    /// None when it has no entry.
    ///
    /// ```
    /// use pipeline::catalog::vocab::Kind;
    /// assert_eq!(Kind::Open.builtin("完全开放"), Some("无条件开放"));
    /// assert_eq!(Kind::Open.builtin("登录开放"), Some("有条件开放"));
    /// assert_eq!(Kind::Frequency.builtin("即时"), Some("实时"));
    /// assert_eq!(Kind::Frequency.builtin("静态数据"), Some("不更新"));
    /// assert_eq!(Kind::Frequency.builtin("其他"), None);
    /// ```
    pub fn builtin(self, v: &str) -> Option<&'static str> {
        let k = vocab_key(v);
        let look = |k: &str| {
            self.synonyms()
                .iter()
                .find(|(s, _)| *s == k)
                .map(|(_, c)| *c)
        };
        if self != Kind::Frequency {
            return look(&k);
        }
        // An IRI by its last segment (`…/frequency/ANNUAL`, `…/freq/annual`).
        let k = if k.starts_with("http") {
            k.rsplit(['/', '#']).next().unwrap_or(&k).to_string()
        } else {
            k
        };
        look(&k).or_else(|| {
            // 每月更新一次, 每日更新, 按季度更新: the period without the verb.
            let stem = k.strip_suffix("一次").unwrap_or(&k);
            let stem = stem.strip_suffix("更新").unwrap_or(stem);
            (stem != k && !stem.is_empty())
                .then(|| look(stem))
                .flatten()
        })
    }
}

/// The canonical open attribute of a written value, if the built-in table
/// knows it.
pub fn open_value(v: &str) -> Option<&'static str> {
    Kind::Open.builtin(v)
}

/// The canonical share attribute of a written value, if the built-in
/// table knows it.
pub fn share_value(v: &str) -> Option<&'static str> {
    Kind::Share.builtin(v)
}

/// The rank of an open or share attribute (0 most open), whether written
/// canonically, as a profile words it or as a synonym.
pub fn rank(kind: Kind, v: &str) -> Option<usize> {
    let c = kind.builtin(v)?;
    kind.canonical_values().iter().position(|x| *x == c)
}

/// An attribute as the profile's text words it: the profile's value of the
/// same rank (新疆: 不予开放 → 非开放); other fields and unknown values as
/// they are.
///
/// ```
/// use pipeline::catalog::vocab::profile_word;
/// let xj = pipeline::profile::profile("xinjiang-2023").unwrap().catalog;
/// assert_eq!(profile_word(&xj, "open_attribute", "不予开放"), "非开放");
/// assert_eq!(profile_word(&xj, "open_attribute", "无条件开放"), "无条件开放");
/// assert_eq!(profile_word(&xj, "update_frequency", "实时"), "实时");
/// ```
pub fn profile_word<'a>(profile: &'a CatalogProfile, field: &str, v: &'a str) -> &'a str {
    let (kind, words) = match Kind::of_field(field) {
        Some(Kind::Open) => (Kind::Open, &profile.open_values),
        Some(Kind::Share) => (Kind::Share, &profile.share_values),
        _ => return v,
    };
    rank(kind, v)
        .and_then(|r| words.get(r))
        .map_or(v, String::as_str)
}

/// `[values]` of a catalog source (`catalogs/<name>.toml`): the source's
/// own words for the enumerated fields, each mapped to a value the
/// built-in tables know (a canonical value, a profile's word or a
/// synonym). Consulted before the built-in tables, so it can also
/// override them for this source.
///
/// ```toml
/// [values.open]
/// "公开" = "无条件开放"
/// "需授权" = "有条件开放"
/// [values.share]
/// "共享" = "无条件共享"
/// [values.frequency]
/// "每两天" = "每日"
/// "其他" = "不定期"
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceValues {
    /// 开放属性: the source's word → an open attribute.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub open: BTreeMap<String, String>,
    /// 共享属性: the source's word → a share attribute.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub share: BTreeMap<String, String>,
    /// 更新频率: the source's word → an update frequency.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub frequency: BTreeMap<String, String>,
}

impl SourceValues {
    fn table(&self, kind: Kind) -> &BTreeMap<String, String> {
        match kind {
            Kind::Share => &self.share,
            Kind::Open => &self.open,
            Kind::Frequency => &self.frequency,
        }
    }

    /// Checks that every mapping leads to a value the built-in tables
    /// know; the error names the table, the key and what was expected.
    ///
    /// ```
    /// use pipeline::catalog::vocab::SourceValues;
    /// let v: SourceValues = toml::from_str("[open]\n\"公开\" = \"全开\"\n").unwrap();
    /// assert!(v.validate().unwrap_err().contains("values.open: `公开` = `全开`"));
    /// ```
    pub fn validate(&self) -> Result<(), String> {
        for kind in Kind::ALL {
            for (from, to) in self.table(kind) {
                if kind.builtin(to).is_none() {
                    return Err(format!(
                        "values.{}: `{from}` = `{to}`: `{to}` is not a value pdq knows for {}; expected one of {}",
                        kind.table(),
                        kind.field(),
                        kind.canonical_values().join(", ")
                    ));
                }
            }
        }
        Ok(())
    }

    /// The canonical value of `v` for `kind`: this source's table first,
    /// then the built-in one; None when neither knows it.
    ///
    /// ```
    /// use pipeline::catalog::vocab::{Kind, SourceValues};
    /// let v: SourceValues = toml::from_str("[open]\n\"公开\" = \"无条件开放\"\n").unwrap();
    /// assert_eq!(v.canonical(Kind::Open, " 公开 "), Some("无条件开放"));
    /// assert_eq!(v.canonical(Kind::Open, "依申请开放"), Some("有条件开放"));
    /// assert_eq!(SourceValues::default().canonical(Kind::Open, "公开"), None);
    /// ```
    pub fn canonical(&self, kind: Kind, v: &str) -> Option<&'static str> {
        let k = vocab_key(v);
        self.table(kind)
            .iter()
            .find(|(from, _)| vocab_key(from) == k)
            .and_then(|(_, to)| kind.builtin(to))
            .or_else(|| kind.builtin(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_maps_normalised_keys_to_canonical_values() {
        for kind in Kind::ALL {
            let mut seen = std::collections::BTreeSet::new();
            for (from, to) in kind.synonyms() {
                assert_eq!(vocab_key(from), *from, "{kind:?}: `{from}` is not a key");
                assert!(seen.insert(*from), "{kind:?}: `{from}` twice");
                assert!(
                    kind.canonical_values().contains(to),
                    "{kind:?}: `{from}` → `{to}`"
                );
            }
            // Every canonical value maps to itself.
            for c in kind.canonical_values() {
                assert_eq!(kind.builtin(c), Some(*c), "{kind:?}");
            }
        }
    }

    #[test]
    fn open_synonyms_portals_write() {
        for v in ["完全开放", "无条件开放", "开放", " 完全 开放 "] {
            assert_eq!(open_value(v), Some("无条件开放"), "{v}");
        }
        for v in ["依申请开放", "有条件开放", "登录开放", "受限开放"] {
            assert_eq!(open_value(v), Some("有条件开放"), "{v}");
        }
        for v in ["不开放", "非开放", "不予开放"] {
            assert_eq!(open_value(v), Some("不予开放"), "{v}");
        }
        assert_eq!(open_value("公开"), None, "a source maps 公开 in [values]");
        assert_eq!(open_value("其他"), None);
    }

    #[test]
    fn share_synonyms_portals_write() {
        assert_eq!(share_value("无条件共享"), Some("无条件共享"));
        assert_eq!(share_value("完全共享"), Some("无条件共享"));
        assert_eq!(share_value("依申请共享"), Some("有条件共享"));
        assert_eq!(share_value("受限共享"), Some("有条件共享"));
        assert_eq!(share_value("不共享"), Some("不予共享"));
        assert_eq!(share_value("非共享"), Some("不予共享"));
        assert_eq!(share_value("部分共享"), None);
    }

    #[test]
    fn frequency_synonyms_portals_write() {
        let f = |v: &str| Kind::Frequency.builtin(v);
        assert_eq!(f("实时"), Some("实时"));
        assert_eq!(f("即时"), Some("实时"));
        assert_eq!(f("每小时"), Some("实时"), "hourly is real time");
        assert_eq!(f("hourly"), Some("实时"));
        assert_eq!(f("每日"), Some("每日"));
        assert_eq!(f("每周"), Some("每周"));
        assert_eq!(f("每月"), Some("每月"));
        assert_eq!(f("每月更新一次"), Some("每月"));
        assert_eq!(f("每季度"), Some("每季度"));
        assert_eq!(f("每半年"), Some("每半年"));
        assert_eq!(f("每年"), Some("每年"));
        assert_eq!(f("每年更新一次"), Some("每年"));
        assert_eq!(f("不定期"), Some("不定期"));
        assert_eq!(f("不定时"), Some("不定期"));
        assert_eq!(f("不更新"), Some("不更新"), "not 不 after 更新 is dropped");
        assert_eq!(f("静态数据"), Some("不更新"));
        assert_eq!(f("一次性"), Some("不更新"));
        assert_eq!(f("never"), Some("不更新"));
        assert_eq!(
            f("http://publications.europa.eu/resource/authority/frequency/UPDATE_CONT"),
            Some("实时")
        );
        assert_eq!(f("http://purl.org/cld/freq/annual"), Some("每年"));
        assert_eq!(f("其他"), None, "其他 is a finding, not 不定期");
        assert_eq!(f("other"), None);
        assert_eq!(f("更新"), None);
    }

    #[test]
    fn a_source_table_overrides_and_extends_the_builtins() {
        let v: SourceValues = toml::from_str(
            "[open]\n\"公开\" = \"无条件开放\"\n\"开放\" = \"依申请开放\"\n[frequency]\n\"其他\" = \"不定期\"\n[share]\n\"共享\" = \"非共享\"\n",
        )
        .unwrap();
        v.validate().unwrap();
        assert_eq!(v.canonical(Kind::Open, "公开"), Some("无条件开放"));
        assert_eq!(
            v.canonical(Kind::Open, "开放"),
            Some("有条件开放"),
            "this source's 开放 means on application"
        );
        assert_eq!(v.canonical(Kind::Frequency, "其他"), Some("不定期"));
        assert_eq!(v.canonical(Kind::Share, "共享"), Some("不予共享"));
        assert_eq!(v.canonical(Kind::Share, "共享 "), Some("不予共享"));
        assert_eq!(v.canonical(Kind::Open, "完全开放"), Some("无条件开放"));
        let bad: SourceValues = toml::from_str("[frequency]\n\"其他\" = \"偶尔\"\n").unwrap();
        assert_eq!(
            bad.validate().unwrap_err(),
            "values.frequency: `其他` = `偶尔`: `偶尔` is not a value pdq knows for update_frequency; expected one of 实时, 每日, 每周, 每月, 每季度, 每半年, 每年, 不定期, 不更新"
        );
        assert!(toml::from_str::<SourceValues>("[opne]\n").is_err());
    }

    #[test]
    fn attributes_are_published_in_the_profiles_words() {
        let xj = crate::profile::profile("xinjiang-2023").unwrap().catalog;
        let tb = crate::profile::profile("tibet-2025").unwrap().catalog;
        assert_eq!(profile_word(&xj, "open_attribute", "不予开放"), "非开放");
        assert_eq!(profile_word(&tb, "open_attribute", "不予开放"), "不予开放");
        assert_eq!(profile_word(&tb, "open_attribute", "非开放"), "不予开放");
        assert_eq!(
            profile_word(&xj, "share_attribute", "有条件共享"),
            "有条件共享"
        );
        assert_eq!(profile_word(&xj, "name", "不予开放"), "不予开放");
    }
}

//! The sharing platform's usage log (共享/使用日志): who received which
//! data, when, for what, and through whom, as the platform exports it.
//!
//! ```text
//! platform export (CSV or JSON lines) ─parse─▶ records (line, element → text)
//!        ─classify─▶ UsageRow (landed)  or  Quarantined (line, column, reason)
//!        ─store─▶ _pdq/usage_log, _pdq/usage_quarantine   (append-only, keyed by content hash;
//!                 rows past the retention removed only by `pdq usage prune`)
//! ```
//!
//! - [`parse`]: the export's rows, each with its line, headers in Chinese
//!   or English mapped to an [`Element`]; a line that cannot be read at
//!   all (bad JSON, a CSV row with the wrong number of fields) refuses the
//!   whole file with a one-line error, so nothing is half-imported;
//! - [`store`]: the lake tables. A row is keyed by the hash of its content,
//!   an import by the hash of the file: importing the same file (or a later
//!   export that repeats rows) adds nothing twice;
//! - [`stage`]: `pdq usage import|list|check`, the consumers of a dataset
//!   or catalog entry in a period (objections, withdrawals);
//! - [`prune`]: `pdq usage prune`, rows past the profile's retention go
//!   (one commit), recorded in `_pdq/usage_prunes`.
//!
//! A row is *quarantined* (kept, with its line, column and reason) when it
//! lacks what makes it a log row at all: when (a readable time), which
//! consumer, which data (a dataset or catalog entry of the workspace).
//! A row that has those but lacks an element the active profile's log
//! article requires (新疆 第十五条, 西藏 第十九条, 甘孜 第十九条) is *landed*
//! and counted in a finding ([`incomplete`]): it still proves that a
//! department received the data, which a correction or a withdrawal must
//! reach (issue #21, 3 and 5), and the duty to record the missing element
//! is the department's, so the finding names the department and the
//! article rather than losing the row.

pub mod parse;
pub mod prune;
pub mod stage;
pub mod store;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::land::LandError;

/// What can go wrong with the usage log.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// Bad input: nothing was changed.
    #[error("{0}")]
    Invalid(String),
    /// The lake failed.
    #[error(transparent)]
    Lake(#[from] LandError),
}

/// One element a usage-log row can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Element {
    /// 使用时间.
    When,
    /// 使用部门/单位.
    Consumer,
    /// The dataset or catalog entry (数据资源).
    Resource,
    /// 目的/用途.
    Purpose,
    /// 人员/操作人: a person's name, masked in every output.
    Operator,
    /// 应用场景.
    Scenario,
    /// 应用成效.
    Outcome,
    /// 使用过程.
    Process,
    /// 使用数量.
    Quantity,
    /// 共享接口.
    Interface,
    /// 存储情况.
    Storage,
    /// 销毁情况 / 删除情况.
    Disposal,
}

impl Element {
    /// Every element, in column order.
    pub const ALL: [Element; 12] = [
        Element::When,
        Element::Consumer,
        Element::Resource,
        Element::Purpose,
        Element::Operator,
        Element::Scenario,
        Element::Outcome,
        Element::Process,
        Element::Quantity,
        Element::Interface,
        Element::Storage,
        Element::Disposal,
    ];

    /// Its key (profiles' `[usage_log] required`, the stored column).
    pub fn key(self) -> &'static str {
        match self {
            Element::When => "when",
            Element::Consumer => "consumer",
            Element::Resource => "resource",
            Element::Purpose => "purpose",
            Element::Operator => "operator",
            Element::Scenario => "scenario",
            Element::Outcome => "outcome",
            Element::Process => "process",
            Element::Quantity => "quantity",
            Element::Interface => "interface",
            Element::Storage => "storage",
            Element::Disposal => "disposal",
        }
    }

    /// In Chinese, as the texts word it.
    pub fn zh(self) -> &'static str {
        match self {
            Element::When => "使用时间",
            Element::Consumer => "使用部门",
            Element::Resource => "数据资源",
            Element::Purpose => "目的",
            Element::Operator => "人员",
            Element::Scenario => "应用场景",
            Element::Outcome => "应用成效",
            Element::Process => "使用过程",
            Element::Quantity => "使用数量",
            Element::Interface => "共享接口",
            Element::Storage => "存储情况",
            Element::Disposal => "销毁/删除情况",
        }
    }

    /// The headers (or JSON keys) an export may use for it, normalised
    /// (lower case, `_` for spaces and hyphens).
    pub fn headers(self) -> &'static [&'static str] {
        match self {
            Element::When => &[
                "when",
                "time",
                "timestamp",
                "datetime",
                "date",
                "used_at",
                "use_time",
                "access_time",
                "使用时间",
                "时间",
                "调用时间",
                "访问时间",
                "共享时间",
                "日期",
            ],
            Element::Consumer => &[
                "consumer",
                "consumer_department",
                "user_department",
                "department",
                "使用部门",
                "使用单位",
                "调用部门",
                "申请部门",
                "需求部门",
            ],
            Element::Resource => &[
                "dataset",
                "resource",
                "resource_code",
                "catalog_code",
                "catalog_entry",
                "entry",
                "数据集",
                "数据资源",
                "资源代码",
                "资源编码",
                "目录代码",
                "目录编码",
            ],
            Element::Purpose => &[
                "purpose",
                "目的",
                "用途",
                "使用目的",
                "使用用途",
                "共享用途",
            ],
            Element::Operator => &[
                "operator",
                "who",
                "user",
                "person",
                "操作人",
                "使用人",
                "人员",
                "使用人员",
                "经办人",
                "操作员",
            ],
            Element::Scenario => &["scenario", "application_scenario", "应用场景"],
            Element::Outcome => &["outcome", "effect", "应用成效"],
            Element::Process => &["process", "使用过程"],
            Element::Quantity => &["quantity", "count", "使用数量", "数量", "调用次数"],
            Element::Interface => &["interface", "api", "共享接口", "接口"],
            Element::Storage => &["storage", "存储情况"],
            Element::Disposal => &["disposal", "deletion", "销毁情况", "删除情况"],
        }
    }

    /// The element a header names (`使用单位`, `Consumer Department` …).
    ///
    /// ```
    /// use pipeline::usage::Element;
    /// assert_eq!(Element::of_header("使用单位"), Some(Element::Consumer));
    /// assert_eq!(Element::of_header(" Used-At "), Some(Element::When));
    /// assert_eq!(Element::of_header("备注"), None);
    /// ```
    pub fn of_header(header: &str) -> Option<Element> {
        let h: String = header
            .trim()
            .trim_start_matches('\u{feff}')
            .to_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect();
        Element::ALL
            .into_iter()
            .find(|e| e.key() == h || e.headers().contains(&h.as_str()))
    }

    /// The element of a key; the error lists the keys.
    pub fn parse(key: &str) -> Result<Element, String> {
        Element::ALL
            .into_iter()
            .find(|e| e.key() == key)
            .ok_or_else(|| {
                let keys: Vec<&str> = Element::ALL.iter().map(|e| e.key()).collect();
                format!(
                    "unknown usage-log element `{key}` (elements: {})",
                    keys.join(", ")
                )
            })
    }
}

/// One landed row of the usage log (`_pdq/usage_log`). Unmasked: the lake
/// is the bureau's; [`UsageRow::masked`] is what leaves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRow {
    /// The hash of its content (every element): its identity.
    pub hash: String,
    /// The hash of the file it came from.
    pub import: String,
    /// That file, as named on import.
    pub file: String,
    /// Its line in the file (1-based; a CSV row's first line).
    pub line: i64,
    /// When the data was used.
    pub at: DateTime<Utc>,
    /// The consuming department.
    pub consumer: String,
    /// The dataset (`department.name`) or catalog entry (key or resource
    /// code) as the platform names it.
    pub resource: String,
    /// 目的.
    pub purpose: Option<String>,
    /// 人员: a person's name.
    pub operator: Option<String>,
    /// 应用场景.
    pub scenario: Option<String>,
    /// 应用成效.
    pub outcome: Option<String>,
    /// 使用过程.
    pub process: Option<String>,
    /// 使用数量.
    pub quantity: Option<String>,
    /// 共享接口.
    pub interface: Option<String>,
    /// 存储情况.
    pub storage: Option<String>,
    /// 销毁/删除情况.
    pub disposal: Option<String>,
    /// When it was imported.
    pub imported_at: DateTime<Utc>,
}

impl UsageRow {
    /// An element's text (`when` as RFC 3339).
    pub fn get(&self, e: Element) -> Option<String> {
        let t = |v: &Option<String>| v.clone().filter(|s| !s.trim().is_empty());
        match e {
            Element::When => Some(self.at.to_rfc3339()),
            Element::Consumer => Some(self.consumer.clone()),
            Element::Resource => Some(self.resource.clone()),
            Element::Purpose => t(&self.purpose),
            Element::Operator => t(&self.operator),
            Element::Scenario => t(&self.scenario),
            Element::Outcome => t(&self.outcome),
            Element::Process => t(&self.process),
            Element::Quantity => t(&self.quantity),
            Element::Interface => t(&self.interface),
            Element::Storage => t(&self.storage),
            Element::Disposal => t(&self.disposal),
        }
    }

    /// The content hash of a row's elements (file and line aside: the same
    /// use exported twice is one row).
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        for e in Element::ALL {
            h.update(e.key().as_bytes());
            h.update([0x1f]);
            h.update(self.get(e).unwrap_or_default().as_bytes());
            h.update([0x1e]);
        }
        hex::encode(h.finalize())
    }

    /// The required elements it lacks.
    pub fn missing(&self, required: &[Element]) -> Vec<Element> {
        required
            .iter()
            .copied()
            .filter(|e| self.get(*e).is_none())
            .collect()
    }

    /// What may be shown outside the lake: the operator's name keeps its
    /// first character, identifiers in free text are masked.
    ///
    /// ```
    /// # use pipeline::usage::UsageRow;
    /// # let at = chrono::Utc::now();
    /// let row = UsageRow { hash: String::new(), import: String::new(), file: "log.csv".into(), line: 2, at,
    ///     consumer: "gongan".into(), resource: "minzheng.people".into(),
    ///     purpose: Some("核验 65010219900101123X".into()), operator: Some("王伟".into()),
    ///     scenario: None, outcome: None, process: None, quantity: None, interface: None,
    ///     storage: None, disposal: None, imported_at: at };
    /// let m = row.masked();
    /// assert_eq!(m.operator.as_deref(), Some("王*"));
    /// assert_eq!(m.purpose.as_deref(), Some("核验 6501**********123X"));
    /// ```
    pub fn masked(&self) -> UsageRow {
        let text = |v: &Option<String>| v.as_deref().map(crate::mask::mask_identifiers);
        UsageRow {
            operator: self
                .operator
                .as_deref()
                .map(|o| crate::mask::mask("name", o)),
            purpose: text(&self.purpose),
            scenario: text(&self.scenario),
            outcome: text(&self.outcome),
            process: text(&self.process),
            quantity: text(&self.quantity),
            interface: text(&self.interface),
            storage: text(&self.storage),
            disposal: text(&self.disposal),
            ..self.clone()
        }
    }
}

/// A row that could not be landed (`_pdq/usage_quarantine`), with where it
/// was and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quarantined {
    /// The hash of the file.
    pub import: String,
    /// The file.
    pub file: String,
    /// The line.
    pub line: i64,
    /// The column (header as the file wrote it, or the element's key).
    pub column: String,
    /// What was wrong and what was expected.
    pub reason: String,
    /// The record as read (unmasked: the lake is the bureau's).
    pub raw: String,
    /// When it was imported.
    pub imported_at: DateTime<Utc>,
}

/// A finding on the usage log: rows lacking what the text requires, or a
/// log kept shorter than the text's retention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageFinding {
    /// `usage_log_incomplete` or `usage_log_retention`.
    pub check: String,
    /// The consuming department whose rows lack elements (none: the log as
    /// a whole).
    pub department: Option<String>,
    /// The elements missing.
    pub missing: Vec<String>,
    /// How many rows.
    pub rows: usize,
    /// The first such row: file and line.
    pub location: String,
    /// What is wrong, citing the article.
    pub message: String,
}

/// The rows that lack an element `required` names, one finding per
/// consumer and set of missing elements; `cites` is the article quoted.
pub fn incomplete(rows: &[UsageRow], required: &[Element], cites: &str) -> Vec<UsageFinding> {
    if required.is_empty() {
        return vec![];
    }
    let mut by: BTreeMap<(String, Vec<Element>), (usize, String)> = BTreeMap::new();
    for r in rows {
        let missing = r.missing(required);
        if missing.is_empty() {
            continue;
        }
        let e = by
            .entry((r.consumer.clone(), missing))
            .or_insert_with(|| (0, format!("{} line {}", r.file, r.line)));
        e.0 += 1;
    }
    by.into_iter()
        .map(|((consumer, missing), (n, location))| {
            let zh: Vec<&str> = missing.iter().map(|e| e.zh()).collect();
            UsageFinding {
                check: "usage_log_incomplete".into(),
                department: Some(consumer.clone()),
                missing: missing.iter().map(|e| e.key().to_string()).collect(),
                rows: n,
                location: location.clone(),
                message: format!(
                    "使用日志缺少 {} — {n} usage-log row(s) of {consumer} lack {} (first: {location}); the log must hold them ({cites})",
                    zh.join("、"),
                    missing
                        .iter()
                        .map(|e| e.key())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            }
        })
        .collect()
}

/// The retention check: the texts keep logs at least so many years
/// (新疆 第十五条, 西藏 第十九条: 不得少于三年); pdq deletes a log row only
/// once it is past that ([`prune`], which records how far the log reached
/// back: `earliest` is then the earlier of the first stored row and the
/// prune's cutoff), so a log shorter than that means rows were never
/// imported or were lost outside pdq. When the workspace has operated (its
/// first run) for longer than the retention but the log reaches back less
/// far than the retention's horizon, the log does not reach back as far as
/// it must: a finding. A younger workspace cannot be expected to hold older rows, and
/// nothing is said; a text without a period sets nothing to check.
pub fn retention(
    earliest: Option<DateTime<Utc>>,
    operating_since: Option<DateTime<Utc>>,
    years: Option<u32>,
    cites: &str,
    today: NaiveDate,
    tz: chrono_tz::Tz,
) -> Option<UsageFinding> {
    let years = years?;
    let since = operating_since?.with_timezone(&tz).date_naive();
    let horizon = prune::horizon(today, years)?;
    if since > horizon {
        return None;
    }
    let (location, what) = match earliest {
        None => (
            "_pdq/usage_log".to_string(),
            "holds no row at all".to_string(),
        ),
        Some(e) => {
            let day = e.with_timezone(&tz).date_naive();
            if day <= horizon {
                return None;
            }
            (
                "_pdq/usage_log".to_string(),
                format!("reaches back only to {day}"),
            )
        }
    };
    Some(UsageFinding {
        check: "usage_log_retention".into(),
        department: None,
        missing: vec![],
        rows: 0,
        location,
        message: format!(
            "使用日志保存不足 — the usage log {what}, but the workspace has run since {since} and logs are kept at least {years} years, back to {horizon} ({cites}): import the platform's older exports"
        ),
    })
}

#[cfg(test)]
mod tests;

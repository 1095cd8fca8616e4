//! Catalog harvesters: every way a department's data catalog (数据资源目录)
//! comes into pdq. One registry, [`CatalogSourceConfig`]:
//!
//! | kind | what it reads |
//! |---|---|
//! | `xlsx_template` | the bureau's spreadsheet template: a sheet of resources and a sheet of data items (信息项), Chinese headers, as departments fill them |
//! | `json_api` | a portal's JSON API with a configurable field mapping and paging |
//! | `ckan` | a CKAN `package_search` endpoint (open-data portals) |
//! | `dcat` | a DCAT / DCAT-AP document in JSON-LD, Turtle or RDF/XML |
//!
//! Every harvester yields [`HarvestedRecord`]s keyed by the canonical field
//! names of [`FIELDS`] and knows nothing of what the fields mean to the
//! bureau: validation, versioning and checks are the pipeline's. A record or
//! cell that cannot be read becomes a [`HarvestProblem`] naming the stage and
//! the original location (sheet/row/column, page/item, URL), never a silent
//! loss.

mod ckan;
mod dcat;
mod fetch;
mod fields;
mod json_api;
pub mod mapping;
mod rdf;
mod xlsx_template;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use ckan::CkanConfig;
pub use dcat::DcatConfig;
pub use fields::FieldMap;
pub use json_api::JsonApiConfig;
pub use rdf::RdfFormat;
pub use xlsx_template::XlsxTemplateConfig;

use crate::files::sheet::XlsxLimits;
use crate::source::Secret;

/// One catalog entry as a source published it: canonical field → text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HarvestedRecord {
    /// The source's own identity of the record (its id, resource code or
    /// URI), when it has one.
    pub source_id: Option<String>,
    /// Where it was read: `目录.xlsx!资源目录 row 7`, `page 3 item 12`, a URL.
    pub location: String,
    /// Canonical field (see [`FIELDS`]) → trimmed text.
    pub fields: FieldMap,
    /// Canonical field → where in the record it came from: the column
    /// (`K 共享属性`) or the source's key (`shareType`).
    #[serde(default)]
    pub origins: FieldMap,
    /// Its data items (信息项).
    pub items: Vec<HarvestedItem>,
    /// The source's keys in this record that no mapping used (top-level
    /// keys of a JSON record, `extras.K` of a CKAN package), in the
    /// record's order: what to map when a required field is missing.
    #[serde(default)]
    pub unmapped: Vec<String>,
}

/// One data item (信息项) of a record.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HarvestedItem {
    /// Where it was read.
    pub location: String,
    /// Canonical item field (see [`ITEM_FIELDS`]) → trimmed text. Where
    /// each field came from is said once per source, in
    /// [`Harvest::item_origins`]: a template's data-item columns are the
    /// same for every row, and a million data items need not each carry
    /// a copy (issue #24, 3).
    pub fields: FieldMap,
}

/// Something in a source that could not be harvested as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HarvestProblem {
    /// `fetch`, `parse`, `map` or `validate`.
    pub stage: String,
    /// The original location: file and sheet/row/column, page and item, URL.
    pub location: String,
    /// The canonical field concerned, if one.
    #[serde(default)]
    pub field: Option<String>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl std::fmt::Display for HarvestProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)?;
        if let Some(field) = &self.field {
            write!(f, " (field {field})")?;
        }
        Ok(())
    }
}

/// What one harvest of one source produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Harvest {
    /// The records read.
    pub records: Vec<HarvestedRecord>,
    /// What could not be read.
    pub problems: Vec<HarvestProblem>,
    /// Records read but not kept, for want of a resource name (each also a
    /// problem): counted with [`Harvest::records`] when the pipeline asks
    /// how many records lack a required field and which keys went unmapped.
    #[serde(default)]
    pub skipped: Vec<HarvestedRecord>,
    /// Canonical data-item field → the column (`column C (信息项名称)`) or
    /// the keys (`itemName / name`) the data items' values came from.
    #[serde(default)]
    pub item_origins: BTreeMap<String, String>,
}

/// Why a source could not be harvested at all. One line.
#[derive(Debug, thiserror::Error)]
pub enum HarvestError {
    /// The source could not be fetched.
    #[error("{location}: {message}")]
    Fetch {
        /// URL or path.
        location: String,
        /// Why.
        message: String,
    },
    /// The source is not what its kind expects (not a workbook, not JSON,
    /// no such sheet, a required header missing).
    #[error("{location}: {message}")]
    Format {
        /// File, sheet, URL.
        location: String,
        /// What was expected.
        message: String,
    },
    /// The configuration is wrong.
    #[error("{0}")]
    Config(String),
}

/// A catalog source: one per kind. `kind = "xlsx_template" | "json_api" |
/// "ckan" | "dcat"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CatalogSourceConfig {
    /// The bureau's spreadsheet template.
    XlsxTemplate(XlsxTemplateConfig),
    /// A JSON API with a field mapping (boxed: its paging and mappings
    /// make it several times the size of the others).
    JsonApi(Box<JsonApiConfig>),
    /// CKAN `package_search`.
    Ckan(CkanConfig),
    /// A DCAT JSON-LD document.
    Dcat(DcatConfig),
}

impl CatalogSourceConfig {
    /// Harvests the source; relative paths are read from `base_dir`.
    /// Workbooks are read within the default `xlsx_max_bytes`.
    pub async fn harvest(&self, base_dir: &Path) -> Result<Harvest, HarvestError> {
        self.harvest_with(base_dir, XlsxLimits::default()).await
    }

    /// Harvests the source, reading workbooks within `xlsx`.
    pub async fn harvest_with(
        &self,
        base_dir: &Path,
        xlsx: XlsxLimits,
    ) -> Result<Harvest, HarvestError> {
        match self {
            CatalogSourceConfig::XlsxTemplate(c) => {
                let c = c.clone();
                let dir = base_dir.to_path_buf();
                let bytes = fetch::fetch(&c.location, &dir, None).await?;
                tokio::task::spawn_blocking(move || xlsx_template::harvest(&c, bytes, xlsx))
                    .await
                    .map_err(|e| HarvestError::Config(format!("harvest task failed: {e}")))?
            }
            CatalogSourceConfig::JsonApi(c) => json_api::harvest(c, base_dir).await,
            CatalogSourceConfig::Ckan(c) => ckan::harvest(c, base_dir).await,
            CatalogSourceConfig::Dcat(c) => dcat::harvest(c, base_dir).await,
        }
    }

    /// Where it reads from, credentials removed.
    pub fn location(&self) -> String {
        let l = match self {
            CatalogSourceConfig::XlsxTemplate(c) => &c.location,
            CatalogSourceConfig::JsonApi(c) => &c.url,
            CatalogSourceConfig::Ckan(c) => &c.url,
            CatalogSourceConfig::Dcat(c) => &c.url,
        };
        fetch::shown(l)
    }
}

/// A bearer token, from an environment variable or a file.
pub type Token = Secret;

/// The canonical fields of a catalog entry, each with the headers and keys
/// departments and portals use for it (compared without spaces, full-width
/// brackets or a trailing `*`). Field names follow the 政务信息资源目录编制指南
/// element set and the regulations' catalog fields.
pub const FIELDS: &[(&str, &[&str])] = &[
    (
        "resource_code",
        &[
            "资源代码",
            "信息资源代码",
            "目录代码",
            "资源编码",
            "目录编码",
            "编码",
        ],
    ),
    (
        "classification",
        &[
            "资源分类",
            "目录分类",
            "资源类型",
            "信息资源分类",
            "分类",
            "主题分类",
            "所属领域",
            "领域",
            "主题",
            "行业分类",
        ],
    ),
    (
        "name",
        &["资源名称", "信息资源名称", "数据名称", "目录名称", "名称"],
    ),
    (
        "provider",
        &[
            "资源提供方",
            "提供部门",
            "提供单位",
            "资源提供部门",
            "信息资源提供方",
            "提供方",
            "来源部门",
            "开放主体",
            "数源部门",
        ],
    ),
    ("provider_code", &["提供部门代码", "部门代码", "提供方代码"]),
    (
        "collector",
        &["收集部门", "采集部门", "收集单位", "采集单位"],
    ),
    ("approver", &["核准部门", "核准单位", "审核部门"]),
    (
        "summary",
        &["资源摘要", "摘要", "信息资源摘要", "描述", "简介"],
    ),
    (
        "data_form",
        &["数据形式", "资源形态", "数据类型", "资源形式"],
    ),
    (
        "format",
        &["资源格式", "数据格式", "格式", "文件格式", "信息资源格式"],
    ),
    (
        "grading",
        &["分类分级", "数据分级", "安全级别", "数据级别", "分级"],
    ),
    ("update_frequency", &["更新频率", "更新周期", "更新频次"]),
    ("share_attribute", &["共享属性", "共享类型"]),
    ("share_conditions", &["共享条件", "共享要求"]),
    (
        "share_reason",
        &["共享理由", "有条件共享理由", "不予共享理由"],
    ),
    (
        "share_basis",
        &[
            "共享依据",
            "不予共享依据",
            "法律依据",
            "不予共享理由及依据",
            "政策依据",
        ],
    ),
    ("share_scope", &["共享范围", "共享方式", "共享开放方式"]),
    (
        "open_attribute",
        &["开放属性", "开放类型", "是否向社会开放", "开放方式"],
    ),
    ("open_conditions", &["开放条件", "开放要求"]),
    ("open_scope", &["开放范围"]),
    ("open_content", &["开放内容"]),
    ("operation_attribute", &["授权运营属性", "授权运营"]),
    (
        "source_system",
        &[
            "来源系统",
            "所属系统",
            "信息系统名称",
            "来源信息系统",
            "来源",
        ],
    ),
    ("usage_requirements", &["使用要求", "使用条件"]),
    ("data_volume", &["数据量", "数据规模", "规模", "数据条数"]),
    (
        "online_date",
        &["上线日期", "发布日期", "发布时间", "上线时间", "创建日期"],
    ),
    (
        "data_updated",
        &[
            "更新日期",
            "数据更新日期",
            "更新时间",
            "最后更新",
            "数据更新时间",
        ],
    ),
    (
        "approval_record",
        &["审核记录", "审批记录", "变更审批", "审批文号"],
    ),
    ("security_marking", &["密级", "涉密标识", "是否涉密"]),
    ("dataset", &["挂接资源", "挂接数据集", "数据集", "挂接表"]),
    (
        "landing_page",
        &[
            "访问地址",
            "资源地址",
            "链接地址",
            "访问链接",
            "网址",
            "链接",
        ],
    ),
];

/// The canonical fields of a data item (信息项).
pub const ITEM_FIELDS: &[(&str, &[&str])] = &[
    (
        "resource_code",
        &["资源代码", "信息资源代码", "目录代码", "所属资源代码"],
    ),
    (
        "resource_name",
        &["资源名称", "信息资源名称", "所属资源", "所属资源名称"],
    ),
    (
        "name",
        &[
            "信息项名称",
            "数据项名称",
            "字段中文名",
            "中文名称",
            "信息项",
        ],
    ),
    (
        "column",
        &["字段名", "字段名称", "英文名称", "字段英文名", "列名"],
    ),
    ("type", &["数据类型", "字段类型", "类型"]),
    ("length", &["数据长度", "字段长度", "长度"]),
    ("description", &["描述", "说明", "信息项描述", "备注"]),
    (
        "personal",
        &[
            "是否涉及个人信息",
            "个人信息",
            "涉及个人信息",
            "是否个人信息",
        ],
    ),
    (
        "sensitive",
        &["是否敏感", "敏感信息", "是否涉及敏感信息", "敏感"],
    ),
    ("share_attribute", &["共享属性"]),
    ("open_attribute", &["开放属性"]),
];

/// Normalises a header or key for matching: trims, drops spaces (ASCII,
/// full-width, no-break), `*` and `＊` markers, and text in brackets
/// (`更新频率（必填）` → `更新频率`).
pub fn header_key(h: &str) -> String {
    let mut out = String::with_capacity(h.len());
    let mut depth = 0u32;
    for c in h.chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            ' ' | '\u{3000}' | '\u{a0}' | '\t' | '\r' | '\n' | '*' | '＊' => {}
            c => out.push(c),
        }
    }
    out
}

/// The canonical field a header or key names, in `table` ([`FIELDS`] or
/// [`ITEM_FIELDS`]); canonical names themselves match too.
pub fn canonical(table: &[(&'static str, &[&str])], header: &str) -> Option<&'static str> {
    canonical_ranked(table, header, false).map(|(f, _)| f)
}

/// The field a record's key names, with the key's rank among the field's
/// names: the table's own aliases first (by position), then, with
/// `machine`, the machine keys of portals, CKAN and DCAT
/// ([`mapping::KEYS`]: `title`, `orgName`, `accrualPeriodicity` …; for
/// [`FIELDS`] only), then the field's own name (CKAN's `name` is a URL
/// slug; its `title` is the name). Of two keys of one record naming one
/// field, the lower rank wins.
pub(crate) fn canonical_ranked(
    table: &[(&'static str, &[&str])],
    key: &str,
    machine: bool,
) -> Option<(&'static str, usize)> {
    let k = header_key(key);
    if k.is_empty() {
        return None;
    }
    table
        .iter()
        .find_map(|(name, aliases)| {
            if let Some(i) = aliases.iter().position(|a| *a == k) {
                Some((*name, i))
            } else {
                k.eq_ignore_ascii_case(name).then_some((*name, 1000))
            }
        })
        .or_else(|| {
            machine
                .then(|| mapping::machine_field(&k))
                .flatten()
                .map(|(f, i)| (f, 200 + i))
        })
}

/// Trims a cell: ASCII and full-width spaces, no-break spaces, line breaks
/// at the ends; an empty result is `None`.
pub fn clean(s: &str) -> Option<String> {
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}' || c == '\u{feff}');
    (!t.is_empty()).then(|| t.to_string())
}

/// Text of a JSON value as a catalog field: strings trimmed, numbers and
/// booleans written out, arrays of scalars joined with `、`, a JSON-LD
/// value object (a typed literal such as `{"@value": "2024-01-02T10:00:00",
/// "@type": "xsd:dateTime"}`) by its value; other objects and nulls are
/// absent.
pub fn json_field(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Object(o) => o.get("@value").and_then(json_field),
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => clean(s),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Array(a) => {
            let parts: Vec<String> = a.iter().filter_map(json_field).collect();
            (!parts.is_empty()).then(|| parts.join("、"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_as_departments_write_them() {
        assert_eq!(canonical(FIELDS, " 资源名称 "), Some("name"));
        assert_eq!(
            canonical(FIELDS, "*更新频率（必填）"),
            Some("update_frequency")
        );
        assert_eq!(canonical(FIELDS, "共享 属性"), Some("share_attribute"));
        assert_eq!(
            canonical(FIELDS, "share_attribute"),
            Some("share_attribute")
        );
        assert_eq!(canonical(FIELDS, "备注栏"), None);
        assert_eq!(canonical(ITEM_FIELDS, "信息项名称"), Some("name"));
        assert_eq!(canonical(ITEM_FIELDS, "是否涉及个人信息"), Some("personal"));
    }

    /// Issue #17, 2: 兵团, 甘孜 and 吴忠 require a reason (说明理由) with
    /// 有条件共享; templates write it as a column, portals as a key.
    #[test]
    fn a_share_reason_is_read_from_its_header_and_its_portal_key() {
        assert_eq!(canonical(FIELDS, "共享理由"), Some("share_reason"));
        assert_eq!(canonical(FIELDS, "*有条件共享理由"), Some("share_reason"));
        assert_eq!(canonical(FIELDS, "不予共享理由及依据"), Some("share_basis"));
        for key in ["shareReason", "share_reason", "gxly"] {
            assert_eq!(
                canonical_ranked(FIELDS, key, true).map(|(f, _)| f),
                Some("share_reason"),
                "{key}"
            );
        }
    }

    #[test]
    fn cells_are_trimmed_of_every_kind_of_space() {
        assert_eq!(clean("\u{3000}户籍 \u{a0}\n").as_deref(), Some("户籍"));
        assert_eq!(clean(" \u{3000} "), None);
        assert_eq!(
            json_field(&serde_json::json!(["xlsx", "csv"])).as_deref(),
            Some("xlsx、csv")
        );
        assert_eq!(json_field(&serde_json::json!(12)).as_deref(), Some("12"));
        // A typed literal, as portals that speak JSON-LD write dates
        // (issue #19, 4); other objects carry no text of their own.
        assert_eq!(
            json_field(
                &serde_json::json!({"@value": "2024-01-02T10:00:00", "@type": "xsd:dateTime"})
            )
            .as_deref(),
            Some("2024-01-02T10:00:00")
        );
        assert_eq!(json_field(&serde_json::json!({"name": "公安局"})), None);
        assert_eq!(json_field(&serde_json::Value::Null), None);
    }
}

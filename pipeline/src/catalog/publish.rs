//! The refreshed catalog, as published on each sweep: JSON, CSV and XLSX
//! for officials, DCAT-AP JSON-LD for interoperability, the open-data
//! catalog (开放目录) with its own fields, and the findings. Every entry is
//! enriched with what the lake measured: mounted dataset, rows, last
//! delivery, landed columns and quality score.
//!
//! Who may read what (issue #18, 5):
//!
//! - a classified (涉密) entry ([`CatalogEntry::is_classified`]) is in no
//!   file at all: not in the entries, not in the change log, and the
//!   findings about it carry neither its key, code nor name;
//! - [`FULL_FILES`] hold every other entry, 不予共享 and 不予开放 ones too,
//!   for signed-in readers;
//! - `public/<the same name>` ([`PUBLIC_DIR`]) holds the same files with the
//!   open entries only (开放属性 无条件开放 or 有条件开放), which is all an
//!   anonymous reader gets; `open-catalog.json|csv` are the 开放目录 fields
//!   of those entries.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::checks::{CatalogFinding, check_name};
use super::model::{CatalogEntry, DataItem, ENTRY_FIELDS, Frequency};
use super::reconcile::{LandedDataset, links};
use super::store::{CatalogRow, CatalogState};
use super::vocab::{Kind, profile_word, rank};
use crate::mask::mask_identifiers;
use crate::profile::CatalogProfile;
use crate::score::export::{Sheet, Table, write_csv, write_xlsx};

/// Facts the lake measured for a mounted entry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// The mounted dataset (`department.dataset`).
    pub dataset: Option<String>,
    /// Rows in its current version.
    pub rows: Option<i64>,
    /// Its last delivery (RFC 3339).
    pub last_delivery: Option<String>,
    /// Landed columns.
    pub columns: Vec<String>,
    /// Its latest quality score (0–100).
    pub quality_score: Option<f64>,
    /// Findings about the entry.
    pub findings: usize,
}

/// A published entry: the entry and what was measured.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PublishedEntry {
    /// The entry.
    #[serde(flatten)]
    pub entry: CatalogEntry,
    /// Measured facts.
    pub measured: Measured,
}

/// The published catalog (`catalog.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishedCatalog {
    /// The bureau.
    pub bureau: String,
    /// Catalog version.
    pub version: i64,
    /// When published.
    pub generated_at: String,
    /// Entries in force, by key.
    pub entries: Vec<PublishedEntry>,
}

/// The catalog files that list every published entry (open or not):
/// signed-in readers only.
pub const FULL_FILES: &[&str] = &[
    "catalog.json",
    "catalog.csv",
    "catalog-items.csv",
    "dcat.jsonld",
];

/// The directory (within the published catalog) of the files anonymous
/// readers get: [`FULL_FILES`] with the open entries only.
pub const PUBLIC_DIR: &str = "public";

/// The keys of the classified entries, withdrawn ones included: nothing
/// about them is published.
pub fn withheld_keys(state: &CatalogState) -> BTreeSet<String> {
    state
        .entries
        .iter()
        .filter(|(_, s)| s.entry.is_classified())
        .map(|(k, _)| k.clone())
        .collect()
}

/// Builds the published entries; classified entries are left out, and
/// the open and share attributes are worded as `profile`'s text words them
/// (新疆: 非开放, 西藏: 不予开放).
pub fn enrich(
    state: &CatalogState,
    datasets: &[LandedDataset],
    findings: &[CatalogFinding],
    scores: &BTreeMap<String, Option<f64>>,
    profile: &CatalogProfile,
) -> Vec<PublishedEntry> {
    let entries: Vec<&CatalogEntry> = state.current().collect();
    let (link, _) = links(&entries, datasets);
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    for f in findings {
        if let Some(k) = &f.key {
            *per.entry(k.as_str()).or_default() += 1;
        }
    }
    let make = |e: &CatalogEntry| {
        let ds = link.get(&e.key).map(|&i| &datasets[i]);
        let mut entry = published_entry(e);
        for f in ["share_attribute", "open_attribute"] {
            if let Some(v) = entry
                .get(f)
                .map(|v| profile_word(profile, f, v).to_string())
            {
                entry.set(f, Some(v));
            }
        }
        PublishedEntry {
            measured: Measured {
                dataset: ds.map(|d| d.id.clone()),
                rows: ds.and_then(|d| d.rows),
                last_delivery: ds.and_then(|d| d.last_delivery).map(|t| t.to_rfc3339()),
                columns: ds
                    .map(|d| d.columns.iter().map(|c| c.name.clone()).collect())
                    .unwrap_or_default(),
                quality_score: ds.and_then(|d| scores.get(&d.id).copied().flatten()),
                findings: per.get(e.key.as_str()).copied().unwrap_or(0),
            },
            entry,
        }
    };
    let entries: Vec<&CatalogEntry> = entries.into_iter().filter(|e| !e.is_classified()).collect();
    // A large catalog's entries are copied and masked on every core, each
    // thread filling its own part of the one result (no second copy).
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || entries.len() < PARALLEL_FROM {
        return entries.into_iter().map(make).collect();
    }
    let mut out: Vec<PublishedEntry> = vec![PublishedEntry::default(); entries.len()];
    let chunk = entries.len().div_ceil(threads);
    std::thread::scope(|s| {
        for (from, to) in entries.chunks(chunk).zip(out.chunks_mut(chunk)) {
            let make = &make;
            s.spawn(move || {
                for (e, p) in from.iter().zip(to) {
                    *p = make(e);
                }
            });
        }
    });
    out
}

/// The number of entries from which [`enrich`] works on every core.
const PARALLEL_FROM: usize = 10_000;

/// An entry as published: where each field came from serves the findings,
/// not readers, and an identifier a department wrote into its text (a
/// contact's mobile number in the summary, say) is masked like every other
/// published value.
pub fn published_entry(e: &CatalogEntry) -> CatalogEntry {
    // Built field by field rather than cloned and cleared: a clone would
    // copy every data item's location (a million strings in a catalog of
    // 100,000 entries) only to empty it, and `clear` keeps the memory.
    let mut entry = e.clone_without_items();
    // Where each field came from serves the findings; what the source
    // wrote unmapped is in the findings, quoted.
    entry.origins.clear();
    entry.unmapped.clear();
    entry.items = e
        .items
        .iter()
        .map(|it| DataItem {
            name: it.name.as_deref().map(mask_identifiers),
            column: it.column.clone(),
            data_type: it.data_type.clone(),
            length: it.length.clone(),
            description: it.description.as_deref().map(mask_identifiers),
            personal: it.personal,
            sensitive: it.sensitive,
            location: String::new(),
        })
        .collect();
    for field in ENTRY_FIELDS {
        entry.set(field, e.get(field).map(mask_identifiers));
    }
    entry
}

/// Findings as published: their messages quote what the source said, so
/// identifiers in them are masked. A finding about a classified entry
/// keeps its check, department, field and source location (so the
/// department can find and withdraw it) but loses the entry's key, code
/// and name, and its message, which may quote the entry, unless it only
/// quotes the marking itself.
pub fn published_findings(
    findings: &[CatalogFinding],
    state: &CatalogState,
) -> Vec<CatalogFinding> {
    let withheld = withheld_keys(state);
    findings
        .iter()
        .map(|f| {
            if f.key.as_ref().is_some_and(|k| withheld.contains(k)) {
                let marking_only = f.check == "classified_marking"
                    && matches!(f.field.as_deref(), Some("security_marking" | "grading"));
                CatalogFinding {
                    key: None,
                    code: None,
                    name: None,
                    location: crate::mask::location::published(&f.location, None),
                    message: if marking_only {
                        mask_identifiers(&f.message)
                    } else {
                        "涉密条目，详情不予发布 / a classified (涉密) entry: details withheld"
                            .into()
                    },
                    ..f.clone()
                }
            } else {
                CatalogFinding {
                    name: f.name.as_deref().map(mask_identifiers),
                    message: mask_identifiers(&f.message),
                    location: crate::mask::location::published(&f.location, None),
                    ..f.clone()
                }
            }
        })
        .collect()
}

/// Whether a change-log row is about a classified entry (now, or in the
/// state it records). A row of a version read back from the lake carries
/// no entry ([`super::store::load_latest`]): the state's entry is the
/// row's, and its key decides.
fn withheld_row(row: &CatalogRow, withheld: &BTreeSet<String>) -> bool {
    withheld.contains(&row.key)
        || serde_json::from_str::<CatalogEntry>(&row.entry).is_ok_and(|e| e.is_classified())
}

const COLUMNS: &[(&str, &str)] = &[
    ("resource_code", "资源代码"),
    ("classification", "资源分类"),
    ("name", "资源名称"),
    ("provider", "资源提供方"),
    ("collector", "收集部门"),
    ("approver", "核准部门"),
    ("summary", "资源摘要"),
    ("data_form", "数据形式"),
    ("format", "资源格式"),
    ("grading", "分类分级"),
    ("update_frequency", "更新频率"),
    ("share_attribute", "共享属性"),
    ("share_conditions", "共享条件"),
    ("share_reason", "共享理由"),
    ("share_basis", "共享依据"),
    ("share_scope", "共享范围"),
    ("open_attribute", "开放属性"),
    ("open_conditions", "开放条件"),
    ("operation_attribute", "授权运营属性"),
    ("source_system", "来源系统"),
    ("usage_requirements", "使用要求"),
    ("online_date", "上线日期"),
    ("data_updated", "数据更新日期"),
    ("landing_page", "访问地址"),
];

fn fmt_score(s: Option<f64>) -> String {
    s.map(|x| format!("{x:.1}")).unwrap_or_default()
}

const ENTRY_EXTRA: [&str; 6] = [
    "目录更新时间",
    "挂接数据集",
    "数据行数",
    "最近交付",
    "质量得分",
    "问题数",
];

fn entry_headers() -> Vec<&'static str> {
    let mut headers: Vec<&'static str> = vec!["部门 department"];
    headers.extend(COLUMNS.iter().map(|(_, zh)| *zh));
    headers.extend(ENTRY_EXTRA);
    headers
}

fn entry_row(p: &PublishedEntry) -> Vec<String> {
    let mut r = vec![p.entry.department.clone()];
    r.extend(
        COLUMNS
            .iter()
            .map(|(f, _)| p.entry.get(f).unwrap_or("").to_string()),
    );
    r.push(
        p.entry
            .entry_updated
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
    );
    r.push(p.measured.dataset.clone().unwrap_or_default());
    r.push(p.measured.rows.map(|n| n.to_string()).unwrap_or_default());
    r.push(p.measured.last_delivery.clone().unwrap_or_default());
    r.push(fmt_score(p.measured.quality_score));
    r.push(p.measured.findings.to_string());
    r
}

/// The entries sheet (资源目录), its rows made as they are written.
fn entries_sheet<'a>(entries: &'a [&'a PublishedEntry]) -> Sheet<'a> {
    Sheet {
        name: "资源目录",
        headers: entry_headers(),
        len: entries.len(),
        rows: Box::new(entries.iter().map(|p| entry_row(p))),
    }
}

const ITEM_HEADERS: [&str; 9] = [
    "资源代码",
    "资源名称",
    "信息项名称",
    "字段名",
    "数据类型",
    "数据长度",
    "是否涉及个人信息",
    "是否敏感",
    "描述",
];

/// The data items sheet (信息项), one row per item of every entry.
fn items_sheet<'a>(entries: &'a [&'a PublishedEntry]) -> Sheet<'a> {
    let yn = |b: Option<bool>| match b {
        Some(true) => "是".to_string(),
        Some(false) => "否".to_string(),
        None => String::new(),
    };
    Sheet {
        name: "信息项",
        headers: ITEM_HEADERS.to_vec(),
        len: entries.iter().map(|p| p.entry.items.len()).sum(),
        rows: Box::new(entries.iter().flat_map(move |p| {
            p.entry.items.iter().map(move |i| {
                vec![
                    p.entry.resource_code.clone().unwrap_or_default(),
                    p.entry.name.clone().unwrap_or_default(),
                    i.name.clone().unwrap_or_default(),
                    i.column.clone().unwrap_or_default(),
                    i.data_type.clone().unwrap_or_default(),
                    i.length.clone().unwrap_or_default(),
                    yn(i.personal),
                    yn(i.sensitive),
                    i.description.clone().unwrap_or_default(),
                ]
            })
        })),
    }
}

/// The findings as a table.
pub fn findings_table(findings: &[CatalogFinding]) -> Table {
    let rows = findings
        .iter()
        .map(|f| {
            let (zh, en) = check_name(&f.check);
            vec![
                f.department.clone(),
                format!("{zh} {en}"),
                f.code.clone().unwrap_or_default(),
                f.name.clone().unwrap_or_default(),
                f.field.clone().unwrap_or_default(),
                f.location.clone(),
                f.message.clone(),
            ]
        })
        .collect();
    (
        "目录问题",
        vec![
            "部门 department",
            "问题 check",
            "资源代码",
            "资源名称",
            "字段 field",
            "位置 location",
            "说明 message",
        ],
        rows,
    )
}

/// Open to the public: 开放属性 无条件开放 or 有条件开放 (the entries of the
/// open catalog, 开放目录), however the profile words them. A blank or
/// unrecognised attribute is not open.
pub fn is_open(e: &CatalogEntry) -> bool {
    matches!(open_rank(e), Some(0 | 1))
}

/// The rank of the entry's open attribute: 0 无条件开放, 1 有条件开放,
/// 2 不予开放; None when blank or unrecognised.
fn open_rank(e: &CatalogEntry) -> Option<usize> {
    e.open_attribute
        .as_deref()
        .and_then(|a| rank(Kind::Open, a))
}

/// An open-catalog entry (开放目录): the fields the regulations name for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenEntry {
    /// 数据名称.
    pub name: Option<String>,
    /// 开放主体.
    pub publisher: Option<String>,
    /// 开放属性.
    pub open_attribute: Option<String>,
    /// 开放条件.
    pub open_conditions: Option<String>,
    /// 开放范围.
    pub open_scope: Option<String>,
    /// 开放内容 (default: the summary).
    pub open_content: Option<String>,
    /// 数据格式.
    pub format: Option<String>,
    /// 数据类型 (数据形式).
    pub data_form: Option<String>,
    /// 更新频率.
    pub update_frequency: Option<String>,
    /// 资源代码.
    pub resource_code: Option<String>,
    /// 数据更新日期.
    pub data_updated: Option<String>,
}

fn open_entries(entries: &[&PublishedEntry]) -> Vec<OpenEntry> {
    entries
        .iter()
        .filter(|p| is_open(&p.entry))
        .map(|p| {
            let e = &p.entry;
            OpenEntry {
                name: e.name.clone(),
                publisher: e.provider.clone(),
                open_attribute: e.open_attribute.clone(),
                open_conditions: e.open_conditions.clone(),
                open_scope: e.open_scope.clone(),
                open_content: e.open_content.clone().or(e.summary.clone()),
                format: e.format.clone(),
                data_form: e.data_form.clone(),
                update_frequency: e.update_frequency.clone(),
                resource_code: e.resource_code.clone(),
                data_updated: e.data_updated.clone(),
            }
        })
        .collect()
}

/// The open catalog (开放目录) as a table.
fn open_table(open: &[OpenEntry]) -> Table {
    let rows = open
        .iter()
        .map(|o| {
            [
                &o.name,
                &o.publisher,
                &o.open_attribute,
                &o.open_conditions,
                &o.open_scope,
                &o.open_content,
                &o.format,
                &o.data_form,
                &o.update_frequency,
                &o.resource_code,
            ]
            .iter()
            .map(|v| (*v).clone().unwrap_or_default())
            .collect()
        })
        .collect();
    (
        "开放目录",
        vec![
            "数据名称",
            "开放主体",
            "开放属性",
            "开放条件",
            "开放范围",
            "开放内容",
            "数据格式",
            "数据类型",
            "更新频率",
            "资源代码",
        ],
        rows,
    )
}

/// DCAT-AP JSON-LD of the catalog.
pub fn dcat(
    bureau: &str,
    base_iri: &str,
    entries: &[PublishedEntry],
    generated_at: &str,
) -> serde_json::Value {
    let entries: Vec<&PublishedEntry> = entries.iter().collect();
    let codes = code_counts(&entries);
    let mut doc = dcat_catalog(bureau, base_iri, generated_at);
    doc["dcat:dataset"] = serde_json::Value::Array(
        entries
            .iter()
            .map(|p| dcat_dataset(p, base_iri, &codes))
            .collect(),
    );
    doc
}

/// [`dcat`] written to `w` a dataset at a time; the same document.
fn write_dcat(
    w: &mut Writer,
    bureau: &str,
    base_iri: &str,
    entries: &[&PublishedEntry],
    generated_at: &str,
) -> io::Result<()> {
    let codes = code_counts(entries);
    let mut doc = dcat_catalog(bureau, base_iri, generated_at);
    doc["dcat:dataset"] = serde_json::json!([]);
    let head = serde_json::to_string(&doc).map_err(io::Error::other)?;
    // The datasets go between the brackets of `"dcat:dataset":[]`.
    let (before, after) = head
        .split_once("\"dcat:dataset\":[]")
        .ok_or_else(|| io::Error::other("dcat.jsonld: unexpected head"))?;
    w.write_all(before.as_bytes())?;
    w.write_all(b"\"dcat:dataset\":[")?;
    for (i, p) in entries.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, &dcat_dataset(p, base_iri, &codes))
            .map_err(io::Error::other)?;
    }
    w.write_all(b"]")?;
    w.write_all(after.as_bytes())
}

/// How many entries have each resource code. An entry's IRI is made from
/// its resource code where no other entry has that code, else from its
/// key, which is unique: two datasets never share an `@id` (issue #19, 5).
fn code_counts<'a>(entries: &[&'a PublishedEntry]) -> BTreeMap<&'a str, usize> {
    let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
    for p in entries {
        if let Some(c) = p.entry.resource_code.as_deref() {
            *codes.entry(c).or_default() += 1;
        }
    }
    codes
}

/// The catalog's own node, without its datasets.
fn dcat_catalog(bureau: &str, base_iri: &str, generated_at: &str) -> serde_json::Value {
    serde_json::json!({
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
        },
        "@id": format!("{base_iri}catalog"),
        "@type": "dcat:Catalog",
        "dct:title": tagged(&format!("{bureau}公共数据目录")),
        "dct:modified": generated_at,
    })
}

/// One entry as a `dcat:Dataset`.
fn dcat_dataset(
    p: &PublishedEntry,
    base_iri: &str,
    codes: &BTreeMap<&str, usize>,
) -> serde_json::Value {
    let e = &p.entry;
    let local = e
        .resource_code
        .as_deref()
        .filter(|c| codes.get(c) == Some(&1))
        .unwrap_or(&e.key);
    let id = format!("{base_iri}dataset/{}", urlish(local));
    let mut o = serde_json::Map::new();
    o.insert("@id".into(), serde_json::json!(id));
    o.insert("@type".into(), serde_json::json!("dcat:Dataset"));
    // The resource code is the identifier; an entry without one is
    // identified by its IRI alone (its key is no code).
    if let Some(c) = &e.resource_code {
        o.insert("dct:identifier".into(), serde_json::json!(c));
    }
    o.insert(
        "dct:title".into(),
        tagged(e.name.as_deref().unwrap_or_default()),
    );
    o.insert(
        "dct:publisher".into(),
        serde_json::json!({"@type": "foaf:Agent", "foaf:name": tagged(e.provider.as_deref().unwrap_or(&e.department))}),
    );
    if let Some(s) = &e.summary {
        o.insert("dct:description".into(), tagged(s));
    }
    if let Some(f) = e.update_frequency.as_deref().and_then(Frequency::parse) {
        o.insert(
            "dct:accrualPeriodicity".into(),
            serde_json::json!({"@id": f.eu_iri()}),
        );
    }
    if let Some(m) = p.measured.last_delivery.clone().or(e.data_updated.clone()) {
        o.insert("dct:modified".into(), serde_json::json!(m));
    }
    if let Some(i) = &e.online_date {
        o.insert("dct:issued".into(), serde_json::json!(i));
    }
    if let Some(c) = &e.classification {
        o.insert("dcat:theme".into(), tagged(c));
    }
    if let Some(u) = &e.landing_page {
        o.insert("dcat:landingPage".into(), serde_json::json!({"@id": u}));
    }
    // An attribute the entry does not state is not written as
    // NON_PUBLIC: harvested back, it would become 不予开放.
    let access = match open_rank(e) {
        Some(0) => Some("PUBLIC"),
        Some(1) => Some("RESTRICTED"),
        Some(_) => Some("NON_PUBLIC"),
        None => None,
    };
    if let Some(access) = access {
        o.insert(
            "dct:accessRights".into(),
            serde_json::json!({"@id": format!("http://publications.europa.eu/resource/authority/access-right/{access}")}),
        );
    }
    let formats: Vec<serde_json::Value> = e
        .format
        .as_deref()
        .unwrap_or("")
        .split(['、', ',', '，', '/', ';'])
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(|f| serde_json::json!({"@type": "dcat:Distribution", "dct:format": f.to_uppercase()}))
        .collect();
    if !formats.is_empty() {
        o.insert("dcat:distribution".into(), serde_json::json!(formats));
    }
    serde_json::Value::Object(o)
}

/// A text as a JSON-LD value: tagged `zh-CN` when it is written in Chinese
/// (it holds Han characters), untagged otherwise — a code or an English
/// name tagged Chinese misleads every reader that picks by language.
fn tagged(s: &str) -> serde_json::Value {
    let han = s.chars().any(|c| {
        matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}' | '\u{20000}'..='\u{2ffff}')
    });
    if han {
        serde_json::json!({"@value": s, "@language": "zh-CN"})
    } else {
        serde_json::json!(s)
    }
}

/// An identifier as one IRI path segment: UTF-8 percent-encoded (RFC 3986),
/// so that Chinese codes and titles stay distinct (`_` for every
/// non-ASCII character made different resources share an `@id`; issue #19,
/// 5).
fn urlish(s: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// Where the published catalog's files go. Files are put from two threads
/// at once (the workbook beside the rest), each file from one.
pub trait FileSink: Sync {
    /// Writes the file `name` (a path relative to the catalog's directory)
    /// with what `fill` writes.
    fn put(
        &self,
        name: &str,
        fill: &mut dyn FnMut(&mut Writer) -> io::Result<()>,
    ) -> io::Result<()>;
}

/// What a [`FileSink`] hands its files' writers: buffered, and `Send`
/// (the XLSX writer asks for it).
pub type Writer<'a> = dyn Write + Send + 'a;

/// Files in memory: (relative path, bytes), in the order they were finished.
#[derive(Debug, Default)]
pub struct MemorySink(Mutex<Vec<(String, Vec<u8>)>>);

impl MemorySink {
    /// The files, in the order of `names` (what [`write_files`] returns).
    pub fn into_files(self, names: &[String]) -> Vec<(String, Vec<u8>)> {
        let mut files = self.0.into_inner().unwrap_or_else(|e| e.into_inner());
        files.sort_by_key(|(name, _)| names.iter().position(|n| n == name));
        files
    }
}

impl FileSink for MemorySink {
    fn put(
        &self,
        name: &str,
        fill: &mut dyn FnMut(&mut Writer) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut bytes = vec![];
        fill(&mut bytes)?;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((name.to_string(), bytes));
        Ok(())
    }
}

/// Files in a directory, each written to a temporary file beside it,
/// synced and renamed into place: a reader (or a crash) sees the old file
/// or the new one, never a part.
#[derive(Debug)]
pub struct DirSink {
    /// The directory.
    pub dir: PathBuf,
    written: Mutex<Vec<PathBuf>>,
}

impl DirSink {
    /// A sink into `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirSink {
            dir: dir.into(),
            written: Mutex::default(),
        }
    }

    /// The files written, in the order they were finished.
    pub fn written(&self) -> Vec<PathBuf> {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl FileSink for DirSink {
    fn put(
        &self,
        name: &str,
        fill: &mut dyn FnMut(&mut Writer) -> io::Result<()>,
    ) -> io::Result<()> {
        let path = self.dir.join(name);
        crate::atomic::write_with(&path, |w| fill(w))?;
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path);
        Ok(())
    }
}

/// The files of the published catalog: (relative path, bytes). `state` is
/// the catalog the entries came from: what it holds as classified is
/// withheld from every file. See [`write_files`], which writes them one
/// at a time.
pub fn files(
    bureau: &str,
    version: i64,
    generated_at: DateTime<Utc>,
    entries: Vec<PublishedEntry>,
    findings: &[CatalogFinding],
    changes: &[CatalogRow],
    state: &CatalogState,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let sink = MemorySink::default();
    let order = write_files(
        &sink,
        bureau,
        version,
        generated_at,
        entries,
        findings,
        changes,
        state,
    )?;
    Ok(sink.into_files(&order))
}

/// Writes the published catalog's files into `sink`, each as its rows are
/// made: memory holds the published entries, not their files (a catalog of
/// 100,000 entries has a million data-item rows; issue #19). The workbook,
/// the slowest file, is written on a thread of its own beside the others.
/// Returns the files' names in [`files`]' order.
#[allow(clippy::too_many_arguments)]
pub fn write_files(
    sink: &dyn FileSink,
    bureau: &str,
    version: i64,
    generated_at: DateTime<Utc>,
    mut entries: Vec<PublishedEntry>,
    findings: &[CatalogFinding],
    changes: &[CatalogRow],
    state: &CatalogState,
) -> Result<Vec<String>, String> {
    let created = generated_at;
    let generated_at = &generated_at.to_rfc3339();
    let withheld = withheld_keys(state);
    entries.retain(|p| !p.entry.is_classified() && !withheld.contains(&p.entry.key));
    let findings = &published_findings(findings, state);
    let all: Vec<&PublishedEntry> = entries.iter().collect();
    let open: Vec<&PublishedEntry> = entries.iter().filter(|p| is_open(&p.entry)).collect();
    let open_catalog = open_entries(&open);
    let ft = findings_table(findings);
    let ot = open_table(&open_catalog);
    // The jobs below borrow these (`move` copies the references).
    let (all, open, open_catalog, ft, ot, withheld) =
        (&all, &open, &open_catalog, &ft, &ot, &withheld);
    let mut jobs: Vec<FileJob> = vec![];
    jobs.push((
        "catalog.csv".into(),
        Box::new(move |w: &mut Writer| {
            let s = entries_sheet(all);
            write_csv(w, &s.headers, s.rows)
        }),
    ));
    jobs.push((
        "catalog-items.csv".into(),
        Box::new(move |w: &mut Writer| {
            let s = items_sheet(all);
            write_csv(w, &s.headers, s.rows)
        }),
    ));
    jobs.push((
        "open-catalog.csv".into(),
        Box::new(move |w: &mut Writer| write_csv(w, &ot.1, ot.2.iter().cloned())),
    ));
    jobs.push((
        "findings.csv".into(),
        Box::new(move |w: &mut Writer| write_csv(w, &ft.1, ft.2.iter().cloned())),
    ));
    jobs.push((
        "catalog.xlsx".into(),
        Box::new(move |w: &mut Writer| {
            let sheets = vec![
                entries_sheet(all),
                items_sheet(all),
                Sheet::from(ot),
                Sheet::from(ft),
            ];
            write_xlsx(w, sheets, created).map_err(io::Error::other)
        }),
    ));
    jobs.push((
        "open-catalog.json".into(),
        Box::new(move |w: &mut Writer| {
            serde_json::to_writer_pretty(w, &open_catalog).map_err(io::Error::other)
        }),
    ));
    jobs.push((
        "dcat.jsonld".into(),
        Box::new(move |w: &mut Writer| write_dcat(w, bureau, "urn:pdq:", all, generated_at)),
    ));
    jobs.push((
        "findings.json".into(),
        Box::new(move |w: &mut Writer| {
            serde_json::to_writer_pretty(w, findings).map_err(io::Error::other)
        }),
    ));
    // The change log: what changed, field by field (the full entries are
    // in catalog.json and in the lake's history).
    jobs.push(("changes.json".into(), Box::new(move |w: &mut Writer| {
        w.write_all(b"[")?;
        let mut first = true;
        for r in changes.iter().filter(|r| !withheld_row(r, withheld)) {
            if !first {
                w.write_all(b",")?;
            }
            first = false;
            let row = serde_json::json!({
                "version": r.version, "harvested_at": r.harvested_at, "source": r.source, "key": r.key,
                "department": r.department, "code": r.code, "name": r.name, "kind": r.kind,
                "changes": serde_json::from_str::<serde_json::Value>(&r.changes).unwrap_or_default(),
            });
            serde_json::to_writer(&mut *w, &row).map_err(io::Error::other)?;
        }
        w.write_all(b"]")
    })));
    // What anonymous readers get: the same files, open entries only.
    let public = |name: &str| format!("{PUBLIC_DIR}/{name}");
    jobs.push((
        public("catalog.csv"),
        Box::new(move |w: &mut Writer| {
            let s = entries_sheet(open);
            write_csv(w, &s.headers, s.rows)
        }),
    ));
    jobs.push((
        public("catalog-items.csv"),
        Box::new(move |w: &mut Writer| {
            let s = items_sheet(open);
            write_csv(w, &s.headers, s.rows)
        }),
    ));
    jobs.push((
        public("dcat.jsonld"),
        Box::new(move |w: &mut Writer| write_dcat(w, bureau, "urn:pdq:", open, generated_at)),
    ));
    for (name, entries) in [(public("catalog.json"), open), ("catalog.json".into(), all)] {
        jobs.push((
            name,
            Box::new(move |w: &mut Writer| {
                write_catalog(w, bureau, version, generated_at, entries)
            }),
        ));
    }
    run_jobs(sink, jobs)
}

/// One published file: its name and what writes it.
type FileJob<'a> = (
    String,
    Box<dyn Fn(&mut Writer) -> io::Result<()> + Send + Sync + 'a>,
);

/// Puts the files into `sink`: the workbook (the slowest, a million item
/// rows deflated) on a thread of its own, the others in order on this one.
/// Returns the names in the jobs' order.
fn run_jobs(sink: &dyn FileSink, jobs: Vec<FileJob>) -> Result<Vec<String>, String> {
    let order: Vec<String> = jobs.iter().map(|(n, _)| n.clone()).collect();
    let run = |jobs: Vec<FileJob>| -> Result<(), String> {
        for (name, job) in jobs {
            let clock = std::time::Instant::now();
            sink.put(&name, &mut |w| job(w))
                .map_err(|e| format!("{name}: {e}"))?;
            tracing::debug!(file = %name, seconds = clock.elapsed().as_secs_f64(), "catalog file written");
        }
        Ok(())
    };
    let (book, rest): (Vec<FileJob>, Vec<FileJob>) =
        jobs.into_iter().partition(|(n, _)| n.ends_with(".xlsx"));
    std::thread::scope(|s| {
        let book = s.spawn(|| run(book));
        let rest = run(rest);
        let book = book
            .join()
            .unwrap_or_else(|_| Err("the thread writing the workbook panicked".into()));
        rest.and(book)
    })?;
    Ok(order)
}

/// `catalog.json` ([`PublishedCatalog`]), an entry at a time.
fn write_catalog(
    w: &mut Writer,
    bureau: &str,
    version: i64,
    generated_at: &str,
    entries: &[&PublishedEntry],
) -> io::Result<()> {
    let head = serde_json::to_string(&PublishedCatalog {
        bureau: bureau.to_string(),
        version,
        generated_at: generated_at.to_string(),
        entries: vec![],
    })
    .map_err(io::Error::other)?;
    // `{"bureau":…,"entries":[]}`: the entries go between the brackets.
    let open = head
        .strip_suffix("]}")
        .ok_or_else(|| io::Error::other("catalog.json: unexpected head"))?;
    w.write_all(open.as_bytes())?;
    for (i, p) in entries.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        serde_json::to_writer(&mut *w, p).map_err(io::Error::other)?;
    }
    w.write_all(b"]}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_in_harvested_text_are_masked_when_published() {
        let e = CatalogEntry {
            key: "portal:1".into(),
            resource_code: Some("A0101-0001".into()),
            summary: Some("咨询 王老师 138 0013 8000，约 1234567 条".into()),
            provider_code: Some("11650100MB1C43112L".into()),
            ..CatalogEntry::default()
        };
        let p = published_entry(&e);
        assert_eq!(p.resource_code.as_deref(), Some("A0101-0001"));
        assert_eq!(
            p.summary.as_deref(),
            Some("咨询 王老师 138 **** 8000，约 1234567 条")
        );
        assert_eq!(p.provider_code.as_deref(), Some("1165**********112L"));
        let f = CatalogFinding {
            check: "required_field".into(),
            department: "gongan".into(),
            key: None,
            code: None,
            name: None,
            field: None,
            location: "x".into(),
            message: "联系电话 13800138000 不是座机".into(),
        };
        assert_eq!(
            published_findings(&[f], &CatalogState::default())[0].message,
            "联系电话 138****8000 不是座机"
        );
    }
}

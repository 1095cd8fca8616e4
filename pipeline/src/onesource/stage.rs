//! The one-source stage over a workspace: reads every landed dataset that
//! declares `[onesource]`, resolves subjects across departments, and writes
//! golden records, links, conflicts and duplicate-collection findings.
//!
//! ```text
//! datasets/<dept>/<name>.toml [onesource] ─▶ lake data/<dept>/<name> (landed)
//!     ─▶ keys normalised (invalid ones set aside with their reason)
//!     ─▶ resolve (persons and organisations separately)
//!     ─▶ lake _pdq/onesource/{golden,links,conflicts,duplicates} (one commit each, tagged with the run)
//!     ─▶ OneSourceReport (masked) for published/onesource.json
//! ```
//!
//! A dataset declares its subject columns:
//!
//! ```toml
//! [onesource]
//! subject = "person"            # or "organisation"
//! key = "id_number"             # 公民身份号码 (or another document) / 统一社会信用代码
//! document_type = "zjlx"        # persons: 居民身份证, 外国人永久居留身份证, 护照 … (optional)
//! nationality = "gj"            # persons: 3 letters, part of a passport's key (optional)
//! name = "name"
//! birth_date = "birth_date"
//! sex = "sex_code"
//! address = "address"
//! updated_at = "updated_at"     # orders copies by recency
//! attributes = { marital_status = "hyzk" }   # beyond the registry's column names
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::OneSourceError;
use super::conflict::{Conflict, conflicts, counts_by_dataset};
use super::def::OneSourceDef;
use super::duplicate::{
    CatalogDeclaration, DataThresholds, DatasetColumns, DuplicateFinding, from_catalogs, from_data,
};
use super::golden::{GoldenValue, Observations, SourceDataset, golden_records};
use super::normalize::{IdIssue, PersonKey, normalize_person_key, normalize_uscc};
use super::registry::{AuthorityRegistry, SubjectKind};
use super::resolve::{MatchConfig, Records, resolve};
use crate::dataset::DatasetDef;
use crate::land::Lake;
use crate::mask::mask;
use crate::workspace::Workspace;

/// What the stage needs besides the workspace.
#[derive(Debug, Clone)]
pub struct OneSourceOptions {
    /// Identifiers are validated as of this date.
    pub as_of: NaiveDate,
    /// The run id stored with every row written.
    pub run: String,
    /// Catalog declarations (from the catalog harvest or a file).
    pub declarations: Vec<CatalogDeclaration>,
    /// Person matching (default [`MatchConfig::persons`]).
    pub matching: MatchConfig,
}

/// Identifiers set aside in one dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SetAside {
    /// Count per reason.
    pub reasons: BTreeMap<String, u64>,
    /// Up to 10 masked examples (`row`, `value`, `reason`).
    pub samples: Vec<(u64, String, String)>,
}

/// Per dataset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetSummary {
    /// Rows read.
    pub rows: u64,
    /// Rows whose key was valid after normalisation.
    pub valid_keys: u64,
    /// Of those, keys that needed repair (trim, full width, lowercase x, 15→18).
    pub repaired_keys: u64,
    /// Keys set aside.
    pub set_aside: SetAside,
    /// Copies of authority attributes compared with the authority.
    pub compared: u64,
    /// Of those, copies in conflict.
    pub conflicts: u64,
}

/// The stage's result (everything in it is safe to publish: masked).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OneSourceReport {
    /// The run.
    pub run: String,
    /// The registry's profile.
    pub profile: String,
    /// Where the registry's items come from (the profile's text, the
    /// workspace's authority.toml); each duplicate finding names its own.
    #[serde(default)]
    pub registry: String,
    /// Per dataset (`department.name`).
    pub datasets: BTreeMap<String, DatasetSummary>,
    /// Records resolved.
    pub records: u64,
    /// Subjects (clusters).
    pub subjects: u64,
    /// Links made by probabilistic matching.
    pub probabilistic_links: u64,
    /// Golden attribute values written.
    pub golden_values: u64,
    /// Conflicts found.
    pub conflicts: u64,
    /// Up to 100 conflicts, masked.
    pub conflict_samples: Vec<Conflict>,
    /// Duplicate collection.
    pub duplicates: Vec<DuplicateFinding>,
    /// Per dataset, the attributes it holds (found by column name) that no
    /// item of the registry owns: compared by recency only, with no source
    /// to be held to, until authority.toml names one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub no_source: BTreeMap<String, Vec<String>>,
}

/// Golden values as stored.
#[derive(Debug, Serialize)]
struct GoldenRow<'a> {
    run: &'a str,
    subject_kind: &'a str,
    #[serde(flatten)]
    value: &'a GoldenValue,
}

/// Lineage of every record: which subject it resolved to, and how.
#[derive(Debug, Serialize)]
struct LinkRow<'a> {
    run: &'a str,
    dataset: String,
    row: u64,
    subject_kind: &'static str,
    subject: u32,
    subject_key: Option<String>,
    /// `key` (valid key), `match` (probabilistic; evidence given), `single`.
    method: &'static str,
    probability: Option<f64>,
    evidence: Option<String>,
}

#[derive(Debug, Serialize)]
struct ConflictRow<'a> {
    run: &'a str,
    #[serde(flatten)]
    c: &'a Conflict,
}

#[derive(Debug, Serialize)]
struct DuplicateRow<'a> {
    run: &'a str,
    item: &'a str,
    attribute: Option<&'a str>,
    authority: &'a str,
    department: &'a str,
    evidence: String,
}

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

fn golden_schema() -> SchemaRef {
    schema(vec![
        utf8("run"),
        utf8("subject_kind"),
        Field::new("subject", DataType::Int64, false),
        utf8("subject_key"),
        utf8("attribute"),
        utf8("value"),
        utf8("department"),
        utf8("dataset"),
        Field::new("row", DataType::Int64, false),
        utf8("rule"),
        Field::new("copies", DataType::Int64, false),
        Field::new("agreeing", DataType::Int64, false),
    ])
}

fn link_schema() -> SchemaRef {
    schema(vec![
        utf8("run"),
        utf8("dataset"),
        Field::new("row", DataType::Int64, false),
        utf8("subject_kind"),
        Field::new("subject", DataType::Int64, false),
        utf8("subject_key"),
        utf8("method"),
        Field::new("probability", DataType::Float64, true),
        utf8("evidence"),
    ])
}

fn conflict_schema() -> SchemaRef {
    schema(vec![
        utf8("run"),
        utf8("subject_key"),
        utf8("attribute"),
        utf8("authority_department"),
        utf8("authority_dataset"),
        utf8("authority_value"),
        utf8("department"),
        utf8("dataset"),
        Field::new("row", DataType::Int64, false),
        utf8("value"),
    ])
}

fn duplicate_schema() -> SchemaRef {
    schema(vec![
        utf8("run"),
        utf8("item"),
        utf8("attribute"),
        utf8("authority"),
        utf8("department"),
        utf8("evidence"),
    ])
}

/// Lake paths of the stage's tables.
pub const GOLDEN_TABLE: &str = crate::tables::ONESOURCE_GOLDEN.path;
/// Record → subject lineage.
pub const LINKS_TABLE: &str = crate::tables::ONESOURCE_LINKS.path;
/// Conflicts (unmasked: the lake is the bureau's).
pub const CONFLICTS_TABLE: &str = crate::tables::ONESOURCE_CONFLICTS.path;
/// Duplicate-collection findings.
pub const DUPLICATES_TABLE: &str = crate::tables::ONESOURCE_DUPLICATES.path;

/// One dataset read from the lake: per row its raw key, matching values,
/// attribute values, recency and lineage row.
struct Loaded {
    def: DatasetDef,
    os: OneSourceDef,
    keys: Vec<Option<String>>,
    matching: [Vec<Option<String>>; 4],
    /// (attribute id, column, values)
    attributes: Vec<(String, String, Vec<Option<String>>)>,
    /// Persons: each row's document type and nationality, when declared.
    document_types: Vec<Option<String>>,
    nationalities: Vec<Option<String>>,
    recency: Vec<i64>,
    rows: Vec<u64>,
}

fn strings(batch: &RecordBatch, i: usize, out: &mut Vec<Option<String>>) -> Result<(), String> {
    let col = arrow::compute::cast(batch.column(i), &DataType::Utf8).map_err(|e| e.to_string())?;
    let s = col.as_string::<i32>();
    out.extend((0..s.len()).map(|r| {
        (!s.is_null(r))
            .then(|| s.value(r).trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }));
    Ok(())
}

async fn load(
    lake: &Lake,
    def: &DatasetDef,
    os: &OneSourceDef,
    registry: &AuthorityRegistry,
) -> Result<Option<Loaded>, OneSourceError> {
    let data_err = |m: String| OneSourceError::Data {
        dataset: def.id(),
        message: m,
    };
    let declared: Vec<&str> = def.columns.iter().map(|c| c.name.as_str()).collect();
    let check = |c: &str, what: &str| -> Result<(), OneSourceError> {
        if declared.contains(&c) {
            Ok(())
        } else {
            Err(data_err(format!(
                "[onesource] {what} = `{c}` is not a declared column (columns: {})",
                declared.join(", ")
            )))
        }
    };
    check(&os.key, "key")?;
    let matching_cols = [&os.name, &os.birth_date, &os.sex, &os.address];
    for (c, what) in matching_cols
        .iter()
        .zip(["name", "birth_date", "sex", "address"])
    {
        if let Some(c) = c {
            check(c, what)?;
        }
    }
    if let Some(c) = &os.updated_at {
        check(c, "updated_at")?;
    }
    if let Some(c) = &os.document_type {
        check(c, "document_type")?;
    }
    if let Some(c) = &os.nationality {
        check(c, "nationality")?;
    }
    // attributes: explicit, then by registry column name
    let mut attrs: Vec<(String, String)> = Vec::new();
    for (a, c) in &os.attributes {
        if !registry.attributes.contains_key(a) {
            return Err(data_err(format!(
                "[onesource] attributes: `{a}` is not an attribute of the authority registry"
            )));
        }
        check(c, &format!("attributes.{a}"))?;
        attrs.push((a.clone(), c.clone()));
    }
    for c in &declared {
        let document_cols = [&os.document_type, &os.nationality];
        if *c == os.key
            || document_cols.iter().any(|d| d.as_deref() == Some(*c))
            || attrs.iter().any(|(_, x)| x == c)
        {
            continue;
        }
        if let Some(a) = registry.attribute_for_column(c)
            && !attrs.iter().any(|(x, _)| *x == a.id)
        {
            attrs.push((a.id.clone(), c.to_string()));
        }
    }
    // Never silence: an attribute no item of the registry owns has no
    // source to be held to (a profile whose text has no list, and no
    // authority.toml, owns none).
    let orphans: Vec<&str> = attrs
        .iter()
        .filter(|(a, _)| registry.owner_of(a).is_none())
        .map(|(a, _)| a.as_str())
        .collect();
    if registry.is_empty() {
        let what = if orphans.is_empty() {
            "its subjects".to_string()
        } else {
            orphans.join(", ")
        };
        return Err(data_err(format!(
            "[onesource] no item of the authority registry is the source of {what}: {}; {}",
            registry.provenance(),
            super::registry::ADD_TO_WORKSPACE
        )));
    }
    if let Some((a, _)) = os
        .attributes
        .iter()
        .find(|(a, _)| registry.owner_of(a).is_none())
    {
        return Err(data_err(format!(
            "[onesource] attributes: no item of the authority registry owns `{a}` ({}); {}",
            registry.provenance(),
            super::registry::ADD_TO_WORKSPACE
        )));
    }
    let Some(table) = lake.open_table(&def.data_path()).await? else {
        return Ok(None);
    };
    drop(table);
    let quote = |c: &str| format!("\"{}\"", c.replace('"', "\"\""));
    let mut select: Vec<String> = vec![quote(&os.key)];
    for c in matching_cols {
        select.push(c.as_deref().map_or("NULL".into(), quote));
    }
    select.push(os.updated_at.as_deref().map_or("NULL".into(), quote));
    select.push(quote(crate::land::conform::ROW_COLUMN));
    for c in [&os.document_type, &os.nationality] {
        select.push(c.as_deref().map_or("NULL".into(), quote));
    }
    for (_, c) in &attrs {
        select.push(quote(c));
    }
    let select: Vec<String> = select
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            if e == "NULL" {
                format!("CAST(NULL AS VARCHAR) AS c{i}")
            } else {
                format!("{e} AS c{i}")
            }
        })
        .collect();
    let sql = format!("SELECT {} FROM t", select.join(", "));
    let batches = lake.sql(&[("t", &def.data_path())], &sql).await?;
    let mut l = Loaded {
        def: def.clone(),
        os: os.clone(),
        keys: vec![],
        matching: Default::default(),
        attributes: attrs.into_iter().map(|(a, c)| (a, c, Vec::new())).collect(),
        recency: vec![],
        rows: vec![],
        document_types: vec![],
        nationalities: vec![],
    };
    let mut tmp = Vec::new();
    for b in &batches {
        strings(b, 0, &mut l.keys).map_err(data_err)?;
        for (k, m) in l.matching.iter_mut().enumerate() {
            strings(b, 1 + k, m).map_err(data_err)?;
        }
        tmp.clear();
        strings(b, 5, &mut tmp).map_err(data_err)?;
        l.recency.extend(tmp.iter().map(|v| {
            v.as_deref()
                .and_then(super::normalize::normalize_date)
                .map_or(0, i64::from)
        }));
        tmp.clear();
        strings(b, 6, &mut tmp).map_err(data_err)?;
        let start = l.rows.len() as u64;
        l.rows.extend(tmp.iter().enumerate().map(|(i, v)| {
            v.as_deref()
                .and_then(|v| v.parse().ok())
                .unwrap_or(start + i as u64)
        }));
        strings(b, 7, &mut l.document_types).map_err(data_err)?;
        strings(b, 8, &mut l.nationalities).map_err(data_err)?;
        for (k, (_, _, vals)) in l.attributes.iter_mut().enumerate() {
            strings(b, 9 + k, vals).map_err(data_err)?;
        }
    }
    Ok(Some(l))
}

const ORGS: &str = r#"
threshold = 0.99
fields = [
  { name = "name", prepare = "text", comparison = { type = "jaro_winkler", thresholds = [0.95, 0.88] } },
  { name = "birth_date", prepare = "date", comparison = { type = "date" } },
  { name = "sex", prepare = "sex", comparison = { type = "exact" } },
  { name = "address", prepare = "text", comparison = { type = "jaro_winkler", thresholds = [0.9, 0.75] } },
  { name = "id", prepare = "trim", comparison = { type = "distance", max = 2 }, m = [0.05, 0.8, 0.1, 0.05] },
]
blocking = [[{ field = "name" }], [{ field = "id", prefix = 8 }]]
"#;

/// Runs the stage: reads, resolves, writes the lake tables, and returns the
/// masked report.
pub async fn run_onesource(
    ws: &Workspace,
    lake: &Lake,
    registry: &AuthorityRegistry,
    opts: &OneSourceOptions,
) -> Result<OneSourceReport, OneSourceError> {
    let mut loaded = Vec::new();
    for def in &ws.datasets {
        if let Some(os) = &def.onesource
            && let Some(l) = load(lake, def, os, registry).await?
        {
            loaded.push(l);
        }
    }
    let mut report = OneSourceReport {
        run: opts.run.clone(),
        profile: registry.profile.clone(),
        registry: registry.provenance(),
        ..Default::default()
    };
    for l in &loaded {
        let orphans: Vec<String> = l
            .attributes
            .iter()
            .filter(|(a, _, _)| registry.owner_of(a).is_none())
            .map(|(a, _, _)| a.clone())
            .collect();
        if !orphans.is_empty() {
            report.no_source.insert(l.def.id(), orphans);
        }
    }
    let orgs: MatchConfig = toml::from_str(ORGS)
        .map_err(|e| OneSourceError::Config(format!("embedded organisation matching: {e}")))?;
    let mut golden_all: Vec<(SubjectKind, GoldenValue)> = Vec::new();
    let mut conflicts_all: Vec<Conflict> = Vec::new();
    let run = opts.run.as_str();
    let kind_name = |k: SubjectKind| match k {
        SubjectKind::Person => "person",
        SubjectKind::Organisation => "organisation",
    };
    let mut links: Vec<LinkRow> = Vec::new();
    let mut columns_for_dup: Vec<DatasetColumns> = Vec::new();
    for kind in [SubjectKind::Person, SubjectKind::Organisation] {
        let config = match kind {
            SubjectKind::Person => &opts.matching,
            SubjectKind::Organisation => &orgs,
        };
        let part: Vec<&Loaded> = loaded.iter().filter(|l| l.os.subject == kind).collect();
        if part.is_empty() {
            continue;
        }
        let mut records = Records::new(config);
        let mut obs = Observations {
            datasets: part
                .iter()
                .map(|l| SourceDataset {
                    id: l.def.id(),
                    department: l.def.department.clone(),
                })
                .collect(),
            ..Default::default()
        };
        let mut key_text: Vec<Option<String>> = Vec::new();
        // Keys of documents other than the 公民身份号码, numbered as met:
        // equal `type:number` texts get one key, different ones never do.
        let mut documents: HashMap<String, u128> = HashMap::new();
        for (d, l) in part.iter().enumerate() {
            let summary = report.datasets.entry(l.def.id()).or_default();
            let attr_idx: Vec<usize> = l
                .attributes
                .iter()
                .map(|(a, _, _)| obs.attribute_index(a))
                .collect();
            let mut ds_keys = Vec::with_capacity(l.keys.len());
            for i in 0..l.keys.len() {
                summary.rows += 1;
                let raw = l.keys[i].as_deref().unwrap_or("");
                // (key text, repairs, packed key)
                let norm = match kind {
                    SubjectKind::Person => normalize_person_key(
                        raw,
                        l.document_types.get(i).and_then(Option::as_deref),
                        l.nationalities.get(i).and_then(Option::as_deref),
                        opts.as_of,
                    )
                    .map(|k| {
                        let packed = match &k {
                            PersonKey::Resident(n) => pack(&n.id),
                            PersonKey::Document { key, .. } => {
                                let next = DOCUMENT_KEYS | (documents.len() as u128 + 1);
                                *documents.entry(key.clone()).or_insert(next)
                            }
                        };
                        (k.as_str().to_string(), k.fixes(), packed)
                    }),
                    SubjectKind::Organisation => {
                        normalize_uscc(raw).map(|n| (n.as_str().to_string(), n.fixes, pack(&n.id)))
                    }
                };
                let key = match norm {
                    Ok((text, fixes, packed)) => {
                        summary.valid_keys += 1;
                        if fixes.0 != 0 {
                            summary.repaired_keys += 1;
                        }
                        key_text.push(Some(text));
                        packed
                    }
                    Err(reason) => {
                        set_aside(&mut summary.set_aside, l.rows[i], raw, reason);
                        key_text.push(None);
                        0
                    }
                };
                ds_keys.push(key);
                let m = &l.matching;
                records.push(
                    d as u32,
                    key,
                    &[
                        m[0][i].as_deref(),
                        m[1][i].as_deref(),
                        m[2][i].as_deref(),
                        m[3][i].as_deref(),
                        Some(raw),
                    ],
                )?;
                let r = obs.push_record(d as u32, l.rows[i], l.recency[i]);
                for ((_, _, vals), &a) in l.attributes.iter().zip(&attr_idx) {
                    obs.values[a][r] = vals[i].as_deref().map(Box::from);
                }
            }
            columns_for_dup.push(DatasetColumns {
                dataset: l.def.id(),
                department: l.def.department.clone(),
                keys: ds_keys,
                columns: l
                    .attributes
                    .iter()
                    .map(|(_, c, v)| {
                        (
                            c.clone(),
                            v.iter().map(|x| x.as_deref().map(Box::from)).collect(),
                        )
                    })
                    .collect(),
            });
        }
        let res = resolve(&records, config)?;
        report.records += records.len() as u64;
        report.subjects += res.stats.clusters as u64;
        report.probabilistic_links += res.evidence.len() as u64;
        let mut subject_keys: Vec<Option<String>> = vec![None; res.stats.clusters];
        for (r, k) in key_text.iter().enumerate() {
            if let Some(k) = k {
                subject_keys[res.cluster[r] as usize].get_or_insert_with(|| k.clone());
            }
        }
        let mut evidence_of: BTreeMap<u32, (f64, String)> = BTreeMap::new();
        for e in &res.evidence {
            let unkeyed = if records.key[e.b as usize] == 0 {
                e.b
            } else {
                e.a
            };
            evidence_of
                .entry(unkeyed)
                .or_insert((e.probability, e.explain()));
        }
        for r in 0..records.len() {
            let c = res.cluster[r];
            let (method, p, ev) = if records.key[r] != 0 {
                ("key", None, None)
            } else if let Some((p, e)) = evidence_of.get(&(r as u32)) {
                ("match", Some(*p), Some(e.clone()))
            } else {
                ("single", None, None)
            };
            links.push(LinkRow {
                run,
                dataset: obs.datasets[obs.dataset[r] as usize].id.clone(),
                row: obs.row[r],
                subject_kind: kind_name(kind),
                subject: c,
                subject_key: subject_keys[c as usize].clone(),
                method,
                probability: p,
                evidence: ev,
            });
        }
        let golden = golden_records(&res.cluster, &subject_keys, &obs, registry);
        let found = conflicts(&res.cluster, &golden, &obs, registry);
        for (ds, (compared, conflicted)) in
            counts_by_dataset(&res.cluster, &golden, &obs, registry, &found)
        {
            let s = report.datasets.entry(ds).or_default();
            s.compared += compared;
            s.conflicts += conflicted;
        }
        golden_all.extend(golden.into_iter().map(|g| (kind, g)));
        conflicts_all.extend(found);
    }
    let mut dups = from_catalogs(&opts.declarations, registry);
    dups.extend(from_data(
        &columns_for_dup,
        registry,
        DataThresholds::default(),
    ));

    // Lake writes: one commit per table, once per run.
    let once = format!("onesource-{run}");
    let rows: Vec<GoldenRow> = golden_all
        .iter()
        .map(|(k, g)| GoldenRow {
            run,
            subject_kind: kind_name(*k),
            value: g,
        })
        .collect();
    lake.append_records(GOLDEN_TABLE, &golden_schema(), &rows, Some(&once))
        .await?;
    lake.append_records(LINKS_TABLE, &link_schema(), &links, Some(&once))
        .await?;
    let rows: Vec<ConflictRow> = conflicts_all
        .iter()
        .map(|c| ConflictRow { run, c })
        .collect();
    lake.append_records(CONFLICTS_TABLE, &conflict_schema(), &rows, Some(&once))
        .await?;
    let rows: Vec<DuplicateRow> = dups
        .iter()
        .map(|d| DuplicateRow {
            run,
            item: &d.item,
            attribute: d.attribute.as_deref(),
            authority: &d.authority,
            department: &d.department,
            evidence: serde_json::to_string(&d.evidence).unwrap_or_default(),
        })
        .collect();
    lake.append_records(DUPLICATES_TABLE, &duplicate_schema(), &rows, Some(&once))
        .await?;

    report.golden_values = golden_all.len() as u64;
    report.conflicts = conflicts_all.len() as u64;
    report.conflict_samples = conflicts_all
        .iter()
        .take(100)
        .map(|c| c.masked(registry))
        .collect();
    report.duplicates = dups;
    Ok(report)
}

/// The top bit marks the keys of other identity documents; [`pack`] never
/// sets it (1 + 18 × 7 bits = 127).
const DOCUMENT_KEYS: u128 = 1 << 127;

/// A normalised identifier packed into a non-zero key.
fn pack(id: &[u8; 18]) -> u128 {
    id.iter()
        .fold(1u128, |acc, &b| acc << 7 | u128::from(b & 0x7f))
}

fn set_aside(s: &mut SetAside, row: u64, raw: &str, reason: IdIssue) {
    *s.reasons.entry(reason.as_str().to_string()).or_default() += 1;
    if s.samples.len() < 10 {
        s.samples
            .push((row, mask("id_number", raw), reason.as_str().to_string()));
    }
}

/// Writes the masked report to `dir/onesource.json`.
pub fn write_published(
    dir: &std::path::Path,
    report: &OneSourceReport,
) -> Result<std::path::PathBuf, OneSourceError> {
    let path = dir.join("onesource.json");
    let io = |e: std::io::Error| OneSourceError::Config(format!("{}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let text = serde_json::to_vec_pretty(report)
        .map_err(|e| OneSourceError::Config(format!("{}: {e}", path.display())))?;
    std::fs::write(&path, text).map_err(io)?;
    Ok(path)
}

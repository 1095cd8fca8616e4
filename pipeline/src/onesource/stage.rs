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

use std::ops::Range;

use arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
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
use super::text::TextColumn;
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

/// Rows written per batch (golden values, lineage).
const ROWS_PER_BATCH: usize = 65_536;

/// Each subject's key, kept packed until it is written.
#[derive(Debug, Default)]
struct SubjectKeys {
    /// Per subject: the key of its first record with a valid one (0: none).
    packed: Vec<u128>,
    /// The texts of other documents' keys, by their number - 1.
    documents: Vec<String>,
}

/// A subject's key as text, without allocating.
enum KeyText<'a> {
    Id([u8; 18]),
    Document(&'a str),
}

impl KeyText<'_> {
    fn as_str(&self) -> &str {
        match self {
            // Only ASCII bytes are ever packed.
            KeyText::Id(id) => std::str::from_utf8(id).unwrap_or_default(),
            KeyText::Document(k) => k,
        }
    }
}

impl SubjectKeys {
    /// Subject `s`'s key, if any record of it had a valid one.
    fn get(&self, s: u32) -> Option<KeyText<'_>> {
        match self.packed.get(s as usize).copied()? {
            0 => None,
            k if k & DOCUMENT_KEYS != 0 => {
                let number = (k & !DOCUMENT_KEYS) as usize;
                self.documents
                    .get(number.wrapping_sub(1))
                    .map(|t| KeyText::Document(t))
            }
            k => Some(KeyText::Id(unpack(k))),
        }
    }

    fn text(&self, s: u32) -> Option<String> {
        self.get(s).map(|k| k.as_str().to_string())
    }
}

/// One subject kind's outcome, kept compact until it is written: the
/// records' observations (their landed columns, shared), the subjects and
/// the golden values as numbers.
struct Resolved {
    kind: &'static str,
    obs: Observations,
    /// Per record: whether its key is valid, and its subject.
    keyed: Vec<bool>,
    cluster: Vec<u32>,
    subject_keys: SubjectKeys,
    /// Per record joined by probability: the strongest pair's probability
    /// and explanation.
    evidence_of: BTreeMap<u32, (f64, String)>,
    golden: Vec<GoldenValue>,
}

/// A column of one value.
fn constant(value: &str, rows: usize) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
        value, rows,
    )))
}

/// Golden values `range` of `p`, as stored.
fn golden_batch(
    p: &Resolved,
    run: &str,
    schema: &SchemaRef,
    range: Range<usize>,
) -> Result<RecordBatch, ArrowError> {
    let golden = &p.golden[range];
    let n = golden.len();
    let text = || StringBuilder::with_capacity(n, n * 8);
    let (mut key, mut attribute, mut value) = (text(), text(), text());
    let (mut department, mut dataset, mut rule) = (text(), text(), text());
    let (mut subject, mut row) = (
        Int64Builder::with_capacity(n),
        Int64Builder::with_capacity(n),
    );
    let (mut copies, mut agreeing) = (
        Int64Builder::with_capacity(n),
        Int64Builder::with_capacity(n),
    );
    for g in golden {
        let r = g.record as usize;
        let ds = p.obs.source(r);
        subject.append_value(i64::from(g.subject));
        key.append_option(p.subject_keys.get(g.subject).as_ref().map(KeyText::as_str));
        attribute.append_value(g.attribute(&p.obs));
        value.append_value(g.value(&p.obs));
        department.append_value(&ds.department);
        dataset.append_value(&ds.id);
        row.append_value(p.obs.row[r] as i64);
        rule.append_value(g.rule.as_str());
        copies.append_value(i64::from(g.copies));
        agreeing.append_value(i64::from(g.agreeing));
    }
    RecordBatch::try_new(
        schema.clone(),
        vec![
            constant(run, n),
            constant(p.kind, n),
            Arc::new(subject.finish()),
            Arc::new(key.finish()),
            Arc::new(attribute.finish()),
            Arc::new(value.finish()),
            Arc::new(department.finish()),
            Arc::new(dataset.finish()),
            Arc::new(row.finish()),
            Arc::new(rule.finish()),
            Arc::new(copies.finish()),
            Arc::new(agreeing.finish()),
        ],
    )
}

/// Lineage rows of records `range` of `p`: which subject each record
/// resolved to, and how (`key`: a valid key; `match`: by probability, with
/// its evidence; `single`).
fn link_batch(
    p: &Resolved,
    run: &str,
    schema: &SchemaRef,
    range: Range<usize>,
) -> Result<RecordBatch, ArrowError> {
    let n = range.len();
    let text = || StringBuilder::with_capacity(n, n * 8);
    let (mut dataset, mut key, mut method, mut evidence) = (text(), text(), text(), text());
    let (mut row, mut subject) = (
        Int64Builder::with_capacity(n),
        Int64Builder::with_capacity(n),
    );
    let mut probability = Float64Builder::with_capacity(n);
    for r in range {
        let c = p.cluster[r];
        dataset.append_value(&p.obs.source(r).id);
        row.append_value(p.obs.row[r] as i64);
        subject.append_value(i64::from(c));
        key.append_option(p.subject_keys.get(c).as_ref().map(KeyText::as_str));
        if p.keyed[r] {
            method.append_value("key");
            probability.append_null();
            evidence.append_null();
        } else if let Some((pr, e)) = p.evidence_of.get(&(r as u32)) {
            method.append_value("match");
            probability.append_value(*pr);
            evidence.append_value(e);
        } else {
            method.append_value("single");
            probability.append_null();
            evidence.append_null();
        }
    }
    RecordBatch::try_new(
        schema.clone(),
        vec![
            constant(run, n),
            Arc::new(dataset.finish()),
            Arc::new(row.finish()),
            constant(p.kind, n),
            Arc::new(subject.finish()),
            Arc::new(key.finish()),
            Arc::new(method.finish()),
            Arc::new(probability.finish()),
            Arc::new(evidence.finish()),
        ],
    )
}

/// How many rows one kind's outcome has in a table.
type RowsOf = fn(&Resolved) -> usize;
/// Those rows `range` as a batch of the table.
type BatchOf = fn(&Resolved, &str, &SchemaRef, Range<usize>) -> Result<RecordBatch, ArrowError>;

/// Rows of every subject kind's outcome, [`ROWS_PER_BATCH`] at a time, made
/// as they are written (a row per record would otherwise be held whole).
struct KindBatches<'a> {
    table: &'static str,
    run: &'a str,
    schema: SchemaRef,
    resolved: &'a [Resolved],
    rows: RowsOf,
    batch: BatchOf,
    /// Next kind and row.
    kind: usize,
    start: usize,
}

impl Iterator for KindBatches<'_> {
    type Item = Result<RecordBatch, crate::land::LandError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let p = self.resolved.get(self.kind)?;
            let rows = (self.rows)(p);
            if self.start >= rows {
                self.kind += 1;
                self.start = 0;
                continue;
            }
            let end = (self.start + ROWS_PER_BATCH).min(rows);
            let batch = (self.batch)(p, self.run, &self.schema, self.start..end)
                .map_err(|e| crate::land::LandError::lake(self.table, e));
            self.start = end;
            return Some(batch);
        }
    }
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
/// attribute values, recency and lineage row. Text columns stay Arrow
/// arrays (no string per cell); a column named twice (a matching field that
/// is also an attribute) is held once.
struct Loaded {
    def: DatasetDef,
    os: OneSourceDef,
    keys: TextColumn,
    matching: [TextColumn; 4],
    /// (attribute id, column, values)
    attributes: Vec<(String, String, TextColumn)>,
    /// Persons: each row's document type and nationality, when declared.
    document_types: TextColumn,
    nationalities: TextColumn,
    recency: Vec<i64>,
    rows: Vec<u64>,
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
    // Every column read once, whatever roles it has.
    let mut columns: Vec<String> = Vec::new();
    let mut slot = |c: &str| -> usize {
        if let Some(i) = columns.iter().position(|x| x == c) {
            return i;
        }
        columns.push(c.to_string());
        columns.len() - 1
    };
    let key_at = slot(&os.key);
    let matching_at: Vec<Option<usize>> = matching_cols
        .iter()
        .map(|c| c.as_deref().map(&mut slot))
        .collect();
    let updated_at = os.updated_at.as_deref().map(&mut slot);
    let row_at = slot(crate::land::conform::ROW_COLUMN);
    let delivery_at = slot(crate::land::conform::DELIVERY_COLUMN);
    let document_at = os.document_type.as_deref().map(&mut slot);
    let nationality_at = os.nationality.as_deref().map(&mut slot);
    let attribute_at: Vec<usize> = attrs.iter().map(|(_, c)| slot(c)).collect();
    let select: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} AS c{i}", quote(c)))
        .collect();
    let sql = format!("SELECT {} FROM t", select.join(", "));
    let batches = lake.sql(&[("t", &def.data_path())], &sql).await?;
    // A scan on several cores returns a table's batches in whichever order
    // they finish: records are put in table order (delivery, then row), so
    // that a run over the same data resolves the same records in the same
    // order and numbers its subjects alike.
    let (batches, order) = table_order(batches, delivery_at, row_at).map_err(data_err)?;
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let rows = row_numbers(&batches, row_at, order.as_ref()).map_err(data_err)?;
    let mut text = Vec::with_capacity(columns.len());
    for i in 0..columns.len() {
        if i == row_at || i == delivery_at {
            text.push(TextColumn::missing(0));
            continue;
        }
        let column = TextColumn::read(&batches, i, n).map_err(data_err)?;
        text.push(match &order {
            Some(order) => column.take(order).map_err(data_err)?,
            None => column,
        });
    }
    drop(batches);
    let column = |at: Option<usize>| at.map_or_else(|| TextColumn::missing(n), |i| text[i].clone());
    let recency = column(updated_at);
    let recency = (0..n)
        .map(|i| {
            recency
                .get(i)
                .and_then(super::normalize::normalize_date)
                .map_or(0, i64::from)
        })
        .collect();
    Ok(Some(Loaded {
        def: def.clone(),
        os: os.clone(),
        keys: text[key_at].clone(),
        matching: std::array::from_fn(|k| column(matching_at[k])),
        attributes: attrs
            .into_iter()
            .zip(&attribute_at)
            .map(|((a, c), &at)| (a, c, text[at].clone()))
            .collect(),
        document_types: column(document_at),
        nationalities: column(nationality_at),
        recency,
        rows,
    }))
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
    let mut conflicts_all: Vec<Conflict> = Vec::new();
    let run = opts.run.as_str();
    let kind_name = |k: SubjectKind| match k {
        SubjectKind::Person => "person",
        SubjectKind::Organisation => "organisation",
    };
    let mut resolved: Vec<Resolved> = Vec::new();
    let mut columns_for_dup: Vec<DatasetColumns> = Vec::new();
    for kind in [SubjectKind::Person, SubjectKind::Organisation] {
        let config = match kind {
            SubjectKind::Person => &opts.matching,
            SubjectKind::Organisation => &orgs,
        };
        let mut part: Vec<&mut Loaded> =
            loaded.iter_mut().filter(|l| l.os.subject == kind).collect();
        if part.is_empty() {
            continue;
        }
        let mut records = Records::new(config);
        let sizes: Vec<usize> = part.iter().map(|l| l.keys.len()).collect();
        records.reserve(sizes.iter().sum());
        let mut obs = Observations::default();
        // Keys of documents other than the 公民身份号码, numbered as met:
        // equal `type:number` texts get one key, different ones never do.
        let mut documents: HashMap<String, u128> = HashMap::new();
        let mut document_texts: Vec<String> = Vec::new();
        // Each dataset's records, to give duplicate collection their keys.
        let mut dup_records: Vec<(usize, Range<usize>)> = Vec::new();
        for (d, l) in part.iter_mut().enumerate() {
            let summary = report.datasets.entry(l.def.id()).or_default();
            let attr_idx: Vec<usize> = l
                .attributes
                .iter()
                .map(|(a, _, _)| obs.attribute_index(a))
                .collect();
            // Keys and matching values are prepared on every core, a chunk
            // of rows each; what depends on record order (numbering other
            // documents, counts, lineage) follows here, in row order.
            let chunks = prepare_dataset(l, d as u32, kind, opts.as_of, config)?;
            let incoming: Vec<&Records> = chunks.iter().map(|c| &c.records).collect();
            records.reserve_for(&incoming, sizes[d + 1..].iter().sum());
            let first = records.len();
            let mut i = 0;
            for chunk in chunks {
                let base = records.len();
                records.append(&chunk.records)?;
                for (j, norm) in chunk.keys.into_iter().enumerate() {
                    summary.rows += 1;
                    let key = match norm {
                        Ok(k) => {
                            summary.valid_keys += 1;
                            if k.repaired {
                                summary.repaired_keys += 1;
                            }
                            match k.number {
                                KeyNumber::Packed(p) => p,
                                KeyNumber::Document(text) => {
                                    let next = DOCUMENT_KEYS | (documents.len() as u128 + 1);
                                    *documents.entry(text).or_insert_with_key(|text| {
                                        document_texts.push(text.clone());
                                        next
                                    })
                                }
                            }
                        }
                        Err(reason) => {
                            let raw = l.keys.get(i).unwrap_or("");
                            set_aside(&mut summary.set_aside, l.rows[i], raw, reason);
                            0
                        }
                    };
                    records.key[base + j] = key;
                    i += 1;
                }
            }
            // Prepared: what only matching needed is let go (the raw keys,
            // a matching column that is no attribute); rows and recency
            // move to the observations.
            l.keys = TextColumn::missing(0);
            l.matching = std::array::from_fn(|_| TextColumn::missing(0));
            l.document_types = TextColumn::missing(0);
            l.nationalities = TextColumn::missing(0);
            obs.push_dataset(
                SourceDataset {
                    id: l.def.id(),
                    department: l.def.department.clone(),
                },
                std::mem::take(&mut l.rows),
                std::mem::take(&mut l.recency),
                attr_idx
                    .iter()
                    .zip(&l.attributes)
                    .map(|(&a, (_, _, values))| (a, values.clone())),
            );
            dup_records.push((columns_for_dup.len(), first..records.len()));
            columns_for_dup.push(DatasetColumns {
                dataset: l.def.id(),
                department: l.def.department.clone(),
                keys: Vec::new(),
                columns: l
                    .attributes
                    .iter()
                    .map(|(_, c, v)| (c.clone(), v.clone()))
                    .collect(),
            });
        }
        let res = resolve(&records, config)?;
        for (at, range) in dup_records {
            columns_for_dup[at].keys = records.key[range].to_vec();
        }
        report.records += records.len() as u64;
        report.subjects += res.stats.clusters as u64;
        report.probabilistic_links += res.evidence.len() as u64;
        let mut subject_keys = SubjectKeys {
            packed: vec![0; res.stats.clusters],
            documents: document_texts,
        };
        for (&k, &c) in records.key.iter().zip(&res.cluster) {
            if let Some(first) = subject_keys.packed.get_mut(c as usize)
                && *first == 0
            {
                *first = k;
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
        let golden = golden_records(&res.cluster, &obs, registry);
        let found = conflicts(&res.cluster, &golden, &obs, registry, |s| {
            subject_keys.text(s)
        });
        for (ds, (compared, conflicted)) in
            counts_by_dataset(&res.cluster, &golden, &obs, registry, &found)
        {
            let s = report.datasets.entry(ds).or_default();
            s.compared += compared;
            s.conflicts += conflicted;
        }
        resolved.push(Resolved {
            kind: kind_name(kind),
            obs,
            keyed: records.key.iter().map(|&k| k != 0).collect(),
            cluster: res.cluster,
            subject_keys,
            evidence_of,
            golden,
        });
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
    // Golden values and lineage rows are made a batch at a time as they are
    // written.
    let per_kind: [(&'static str, SchemaRef, RowsOf, BatchOf); 2] = [
        (
            GOLDEN_TABLE,
            golden_schema(),
            |p| p.golden.len(),
            golden_batch,
        ),
        (LINKS_TABLE, link_schema(), |p| p.cluster.len(), link_batch),
    ];
    for (table, schema, rows, batch) in per_kind {
        let batches = KindBatches {
            table,
            run,
            schema: schema.clone(),
            resolved: &resolved,
            rows,
            batch,
            kind: 0,
            start: 0,
        };
        lake.append_batches(table, &schema, batches, Some(&once))
            .await?;
    }
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

    report.golden_values = resolved.iter().map(|p| p.golden.len() as u64).sum();
    report.conflicts = conflicts_all.len() as u64;
    report.conflict_samples = conflicts_all
        .iter()
        .take(100)
        .map(|c| c.masked(registry))
        .collect();
    report.duplicates = dups;
    Ok(report)
}

/// A batch's delivery and row columns, the key of table order.
struct OrderKeys {
    delivery: arrow::array::LargeStringArray,
    row: arrow::array::Int64Array,
}

impl OrderKeys {
    fn of(batch: &RecordBatch, delivery: usize, row: usize) -> Result<OrderKeys, String> {
        use arrow::array::AsArray;
        let cast = |i: usize, to: &DataType| {
            arrow::compute::cast(batch.column(i), to).map_err(|e| e.to_string())
        };
        Ok(OrderKeys {
            delivery: cast(delivery, &DataType::LargeUtf8)?
                .as_string::<i64>()
                .clone(),
            row: cast(row, &DataType::Int64)?
                .as_primitive::<arrow::datatypes::Int64Type>()
                .clone(),
        })
    }

    fn len(&self) -> usize {
        self.row.len()
    }

    /// Row `i`'s key (a missing delivery or row sorts first).
    fn key(&self, i: usize) -> (Option<&str>, Option<i64>) {
        use arrow::array::Array;
        (
            self.delivery.is_valid(i).then(|| self.delivery.value(i)),
            self.row.is_valid(i).then(|| self.row.value(i)),
        )
    }

    fn in_order(&self) -> bool {
        (1..self.len()).all(|i| self.key(i - 1) <= self.key(i))
    }
}

/// Puts a scan's batches in table order, by delivery and then row in the
/// delivery. A scan returns each file's rows in order, so as a rule putting
/// the batches in order is enough (nothing is copied); when it is not (a
/// batch out of order within itself, or two that overlap) the batches are
/// left as they came and the order of every row of their concatenation is
/// returned too.
fn table_order(
    batches: Vec<RecordBatch>,
    delivery: usize,
    row: usize,
) -> Result<(Vec<RecordBatch>, Option<arrow::array::UInt64Array>), String> {
    let batches: Vec<RecordBatch> = batches.into_iter().filter(|b| b.num_rows() > 0).collect();
    let keys = batches
        .iter()
        .map(|b| OrderKeys::of(b, delivery, row))
        .collect::<Result<Vec<_>, _>>()?;
    let mut by_first: Vec<usize> = (0..batches.len()).collect();
    by_first.sort_by(|&a, &b| keys[a].key(0).cmp(&keys[b].key(0)));
    let batches_suffice = keys.iter().all(OrderKeys::in_order)
        && by_first.windows(2).all(|w| {
            let before = &keys[w[0]];
            before.key(before.len() - 1) <= keys[w[1]].key(0)
        });
    if batches_suffice {
        let mut slots: Vec<Option<RecordBatch>> = batches.into_iter().map(Some).collect();
        let ordered = by_first.iter().filter_map(|&b| slots[b].take()).collect();
        return Ok((ordered, None));
    }
    let all: Vec<(Option<&str>, Option<i64>)> = keys
        .iter()
        .flat_map(|k| (0..k.len()).map(|i| k.key(i)))
        .collect();
    let mut order: Vec<u64> = (0..all.len() as u64).collect();
    order.sort_by(|&a, &b| all[a as usize].cmp(&all[b as usize]));
    drop(all);
    drop(keys);
    Ok((batches, Some(order.into())))
}

/// Each row's number in its delivery (its position as read when it has
/// none), in the order `order` gives, if any.
fn row_numbers(
    batches: &[RecordBatch],
    row: usize,
    order: Option<&arrow::array::UInt64Array>,
) -> Result<Vec<u64>, String> {
    use arrow::array::{Array, AsArray};
    let mut rows: Vec<u64> = Vec::with_capacity(batches.iter().map(RecordBatch::num_rows).sum());
    for b in batches {
        let column =
            arrow::compute::cast(b.column(row), &DataType::Int64).map_err(|e| e.to_string())?;
        let column = column.as_primitive::<arrow::datatypes::Int64Type>();
        for i in 0..column.len() {
            let at = rows.len() as u64;
            rows.push(if column.is_valid(i) {
                u64::try_from(column.value(i)).unwrap_or(at)
            } else {
                at
            });
        }
    }
    Ok(match order {
        Some(order) => order.values().iter().map(|&i| rows[i as usize]).collect(),
        None => rows,
    })
}

/// A valid key as a worker normalised it.
struct PreparedKey {
    /// Whether anything was repaired to get it.
    repaired: bool,
    number: KeyNumber,
}

/// How a key becomes the number records are resolved by.
enum KeyNumber {
    /// A resident ID or credit code, packed (never 0; its text is
    /// [`unpack`]ed when written, not held).
    Packed(u128),
    /// Another identity document's `type:number` text: numbered in record
    /// order, so equal texts share a number (done after the workers, in row
    /// order).
    Document(String),
}

/// A chunk of one dataset's rows, prepared: matching values as [`Records`]
/// (keys still 0, numbered afterwards) and each row's normalised key or why it has none.
struct PreparedChunk {
    records: Records,
    keys: Vec<Result<PreparedKey, IdIssue>>,
}

/// Normalises the keys and prepares the matching values of `l`'s rows on
/// every core (`threads` of the [`MatchConfig`]), a contiguous chunk each; the
/// chunks come back in row order.
fn prepare_dataset(
    l: &Loaded,
    source: u32,
    kind: SubjectKind,
    as_of: NaiveDate,
    config: &MatchConfig,
) -> Result<Vec<PreparedChunk>, OneSourceError> {
    let n = l.keys.len();
    // Below this many rows a second thread costs more than it saves.
    const MIN_CHUNK: usize = 16_384;
    let threads = crate::onesource::resolve::threads(config)
        .min(n.div_ceil(MIN_CHUNK))
        .max(1);
    let chunk = n.div_ceil(threads).max(1);
    let prepare = |range: std::ops::Range<usize>| -> Result<PreparedChunk, OneSourceError> {
        let mut records = Records::new(config);
        let mut keys = Vec::with_capacity(range.len());
        for i in range {
            let raw = l.keys.get(i).unwrap_or("");
            keys.push(match kind {
                SubjectKind::Person => normalize_person_key(
                    raw,
                    l.document_types.get(i),
                    l.nationalities.get(i),
                    as_of,
                )
                .map(|k| PreparedKey {
                    repaired: k.fixes().0 != 0,
                    number: match k {
                        PersonKey::Resident(n) => KeyNumber::Packed(pack(&n.id)),
                        PersonKey::Document { key, .. } => KeyNumber::Document(key),
                    },
                }),
                SubjectKind::Organisation => normalize_uscc(raw).map(|n| PreparedKey {
                    repaired: n.fixes.0 != 0,
                    number: KeyNumber::Packed(pack(&n.id)),
                }),
            });
            let m = &l.matching;
            records.push(
                source,
                0,
                &[
                    m[0].get(i),
                    m[1].get(i),
                    m[2].get(i),
                    m[3].get(i),
                    Some(raw),
                ],
            )?;
        }
        Ok(PreparedChunk { records, keys })
    };
    if threads == 1 {
        return Ok(vec![prepare(0..n)?]);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .step_by(chunk)
            .map(|start| {
                let prepare = &prepare;
                s.spawn(move || prepare(start..(start + chunk).min(n)))
            })
            .collect();
        handles
            .into_iter()
            .map(crate::onesource::resolve::joined)
            .collect()
    })
}

/// The top bit marks the keys of other identity documents; [`pack`] never
/// sets it (1 + 18 × 7 bits = 127).
const DOCUMENT_KEYS: u128 = 1 << 127;

/// A normalised identifier packed into a non-zero key.
fn pack(id: &[u8; 18]) -> u128 {
    id.iter()
        .fold(1u128, |acc, &b| acc << 7 | u128::from(b & 0x7f))
}

/// The identifier [`pack`] packed.
fn unpack(mut key: u128) -> [u8; 18] {
    let mut id = [0u8; 18];
    for b in id.iter_mut().rev() {
        *b = (key & 0x7f) as u8;
        key >>= 7;
    }
    id
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

#[cfg(test)]
mod tests {
    use super::*;

    fn loaded(rows: usize) -> Loaded {
        let def: DatasetDef = toml::from_str(
            r#"
name = "people"
department = "gongan"
[source]
kind = "file"
path = "in/people.csv"
[[columns]]
name = "id_number"
type = "string"
"#,
        )
        .unwrap();
        let os: OneSourceDef = toml::from_str("key = \"id_number\"").unwrap();
        let mut keys = Vec::new();
        let mut document_types = Vec::new();
        let mut matching: [Vec<Option<String>>; 4] = Default::default();
        for i in 0..rows {
            let body = format!(
                "1101051980{:02}{:02}{:03}",
                1 + i % 12,
                1 + i % 28,
                i % 1000
            );
            let check = quality_rules::ids::resident_id::check_digit(body.as_bytes()).unwrap();
            // Every seventh row a passport (numbered later, in row order),
            // every eleventh a damaged number, every thirteenth none.
            let (key, doc) = match i % 143 {
                x if x % 13 == 0 => (None, None),
                x if x % 11 == 0 => (Some(format!("{body}?")), None),
                x if x % 7 == 0 => (Some(format!("E{:08}", i % 5000)), Some("护照")),
                _ => (Some(format!(" {body}{} ", check as char)), None),
            };
            keys.push(key);
            document_types.push(doc.map(str::to_string));
            matching[0].push(Some(format!("王{}", i % 97)));
            matching[1].push(Some(format!("1980-{:02}-{:02}", 1 + i % 12, 1 + i % 28)));
            matching[2].push((i % 5 != 0).then(|| (1 + i % 2).to_string()));
            matching[3].push(Some(format!("解放路{}号", i % 301)));
        }
        let text = |v: &[Option<String>]| TextColumn::from_values(v.iter().map(Option::as_deref));
        Loaded {
            def,
            os,
            keys: text(&keys),
            matching: std::array::from_fn(|k| text(&matching[k])),
            attributes: vec![],
            document_types: text(&document_types),
            nationalities: TextColumn::missing(rows),
            recency: vec![0; rows],
            rows: (0..rows as u64).collect(),
        }
    }

    fn flat(chunks: Vec<PreparedChunk>, config: &MatchConfig) -> (Records, Vec<String>) {
        let mut records = Records::new(config);
        let mut keys = Vec::new();
        for c in chunks {
            records.append(&c.records).unwrap();
            keys.extend(c.keys.into_iter().map(|k| match k {
                Ok(k) => match k.number {
                    KeyNumber::Packed(p) => {
                        let text = String::from_utf8(unpack(p).to_vec()).unwrap();
                        format!("{text} {} {p}", k.repaired)
                    }
                    KeyNumber::Document(text) => format!("{text} {} document", k.repaired),
                },
                Err(reason) => reason.as_str().to_string(),
            }));
        }
        (records, keys)
    }

    #[test]
    fn subject_keys_are_held_packed_and_read_back_as_text() {
        let id = |t: &str| -> [u8; 18] { t.as_bytes().try_into().unwrap() };
        let resident = pack(&id("11010519900102001X"));
        let uscc = pack(&id("91350100M000100Y43"));
        assert_eq!(&unpack(resident), b"11010519900102001X");
        assert_eq!(&unpack(uscc), b"91350100M000100Y43");
        let keys = SubjectKeys {
            packed: vec![resident, 0, DOCUMENT_KEYS | 2, uscc, DOCUMENT_KEYS | 9],
            documents: vec!["passport:CHN:E1".into(), "hk_macao:H2".into()],
        };
        let text: Vec<Option<String>> = (0..6).map(|s| keys.text(s)).collect();
        assert_eq!(
            text,
            vec![
                Some("11010519900102001X".into()),
                None,
                Some("hk_macao:H2".into()),
                Some("91350100M000100Y43".into()),
                None, // a document number never given
                None, // past the subjects
            ]
        );
    }

    /// Batches of (delivery, row, value) as a scan returns them.
    fn scanned(batches: &[&[(&str, i64)]]) -> Vec<RecordBatch> {
        use arrow::array::{Int64Array, StringArray};
        let schema = schema(vec![
            utf8("_pdq_delivery"),
            Field::new("_pdq_row", DataType::Int64, true),
            utf8("value"),
        ]);
        batches
            .iter()
            .map(|rows| {
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.1))),
                        Arc::new(StringArray::from_iter_values(
                            rows.iter().map(|r| format!("{}:{}", r.0, r.1)),
                        )),
                    ],
                )
                .unwrap()
            })
            .collect()
    }

    /// The values in table order, as `load` reads them.
    fn in_table_order(batches: Vec<RecordBatch>) -> (bool, Vec<u64>, Vec<String>) {
        let (batches, order) = table_order(batches, 0, 1).unwrap();
        let n = batches.iter().map(RecordBatch::num_rows).sum();
        let rows = row_numbers(&batches, 1, order.as_ref()).unwrap();
        let mut values = TextColumn::read(&batches, 2, n).unwrap();
        if let Some(order) = &order {
            values = values.take(order).unwrap();
        }
        let values = values.values().map(|v| v.unwrap().to_string()).collect();
        (order.is_some(), rows, values)
    }

    #[test]
    fn rows_read_in_any_order_are_put_in_table_order() {
        let expected: Vec<String> = ["d1:1", "d1:2", "d1:3", "d2:0", "d2:1"]
            .map(String::from)
            .to_vec();
        // Each batch in order, the batches not: reordered whole, no row sorted.
        let (sorted_rows, rows, values) = in_table_order(scanned(&[
            &[("d2", 0), ("d2", 1)],
            &[],
            &[("d1", 3)],
            &[("d1", 1), ("d1", 2)],
        ]));
        assert!(!sorted_rows, "putting the batches in order was enough");
        assert_eq!((rows, values), (vec![1, 2, 3, 0, 1], expected.clone()));
        // Rows of two batches interleaved, and one batch out of order within.
        for batches in [
            scanned(&[&[("d1", 1), ("d1", 3)], &[("d1", 2), ("d2", 0), ("d2", 1)]]),
            scanned(&[&[("d2", 1), ("d1", 3), ("d1", 1)], &[("d1", 2), ("d2", 0)]]),
        ] {
            let (sorted_rows, rows, values) = in_table_order(batches);
            assert!(sorted_rows, "every row had to be sorted");
            assert_eq!((rows, values), (vec![1, 2, 3, 0, 1], expected.clone()));
        }
        // In order already: nothing to do.
        let (sorted_rows, rows, _) = in_table_order(scanned(&[&[("d1", 1), ("d1", 2)]]));
        assert!(!sorted_rows);
        assert_eq!(rows, vec![1, 2]);
    }

    #[test]
    fn rows_prepared_on_several_workers_equal_rows_prepared_on_one() {
        let rows = 3 * 16_384 + 77;
        let l = loaded(rows);
        let as_of = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let mut one = MatchConfig::persons();
        one.threads = 1;
        let mut four = MatchConfig::persons();
        four.threads = 4;
        let chunks = prepare_dataset(&l, 3, SubjectKind::Person, as_of, &four).unwrap();
        assert_eq!(chunks.len(), 4, "the rows are split among the workers");
        let (records, keys) = flat(chunks, &four);
        let single = prepare_dataset(&l, 3, SubjectKind::Person, as_of, &one).unwrap();
        assert_eq!(single.len(), 1);
        let (records_one, keys_one) = flat(single, &one);
        assert_eq!(records.len(), rows);
        assert!(records == records_one, "same records, same order");
        assert_eq!(keys, keys_one);
        assert!(records.source.iter().all(|&s| s == 3));
        assert!(
            records.key.iter().all(|&k| k == 0),
            "keys are numbered afterwards"
        );
        // Each kind of key where the rows put it, across chunk boundaries.
        for i in [0, 7, 11, 14, 16_383, 16_384, 16_385, rows - 1] {
            let expected = match i % 143 {
                x if x % 13 == 0 => "missing".to_string(),
                x if x % 11 == 0 => keys[i].clone(),
                x if x % 7 == 0 => format!("passport:CHN:E{:08} false document", i % 5000),
                _ => l.keys.get(i).unwrap().to_string(),
            };
            assert!(
                keys[i].starts_with(&expected),
                "row {i}: {} is not {expected}",
                keys[i]
            );
            assert_eq!(records.fields[0].get(i), format!("王{}", i % 97));
        }
        assert!(
            keys[11].len() < 20 && !keys[11].contains(' '),
            "a damaged key has a reason: {}",
            keys[11]
        );
    }
}

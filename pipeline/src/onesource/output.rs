//! What the one-source stage writes to the lake: its four tables' schemas,
//! and the golden values and lineage of each subject kind made into Arrow
//! batches as they are written, from outcomes kept compact (numbers, shared
//! landed columns, keys packed) until then.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Float64Builder, Int64Builder, RecordBatch, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::error::ArrowError;
use serde::Serialize;

use super::conflict::Conflict;
use super::golden::{GoldenValue, Observations};

/// The top bit marks the keys of other identity documents; [`pack`] never
/// sets it (1 + 18 × 7 bits = 127).
pub(super) const DOCUMENT_KEYS: u128 = 1 << 127;

/// A normalised identifier packed into a non-zero key.
pub(super) fn pack(id: &[u8; 18]) -> u128 {
    id.iter()
        .fold(1u128, |acc, &b| acc << 7 | u128::from(b & 0x7f))
}

/// The identifier [`pack`] packed.
pub(super) fn unpack(mut key: u128) -> [u8; 18] {
    let mut id = [0u8; 18];
    for b in id.iter_mut().rev() {
        *b = (key & 0x7f) as u8;
        key >>= 7;
    }
    id
}

/// Rows written per batch (golden values, lineage).
pub(super) const ROWS_PER_BATCH: usize = 65_536;

/// Each subject's key, kept packed until it is written.
#[derive(Debug, Default)]
pub(super) struct SubjectKeys {
    /// Per subject: the key of its first record with a valid one (0: none).
    pub(super) packed: Vec<u128>,
    /// The texts of other documents' keys, by their number - 1.
    pub(super) documents: Vec<String>,
}

/// A subject's key as text, without allocating.
pub(super) enum KeyText<'a> {
    Id([u8; 18]),
    Document(&'a str),
}

impl KeyText<'_> {
    pub(super) fn as_str(&self) -> &str {
        match self {
            // Only ASCII bytes are ever packed.
            KeyText::Id(id) => std::str::from_utf8(id).unwrap_or_default(),
            KeyText::Document(k) => k,
        }
    }
}

impl SubjectKeys {
    /// Subject `s`'s key, if any record of it had a valid one.
    pub(super) fn get(&self, s: u32) -> Option<KeyText<'_>> {
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

    pub(super) fn text(&self, s: u32) -> Option<String> {
        self.get(s).map(|k| k.as_str().to_string())
    }
}

/// One subject kind's outcome, kept compact until it is written: the
/// records' observations (their landed columns, shared), the subjects and
/// the golden values as numbers.
pub(super) struct Resolved {
    pub(super) kind: &'static str,
    pub(super) obs: Observations,
    /// Per record: whether its key is valid, and its subject.
    pub(super) keyed: Vec<bool>,
    pub(super) cluster: Vec<u32>,
    pub(super) subject_keys: SubjectKeys,
    /// Per record joined by probability: the strongest pair's probability
    /// and explanation.
    pub(super) evidence_of: BTreeMap<u32, (f64, String)>,
    pub(super) golden: Vec<GoldenValue>,
}

/// A column of one value.
pub(super) fn constant(value: &str, rows: usize) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(std::iter::repeat_n(
        value, rows,
    )))
}

/// Golden values `range` of `p`, as stored.
pub(super) fn golden_batch(
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
pub(super) fn link_batch(
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
pub(super) type RowsOf = fn(&Resolved) -> usize;
/// Those rows `range` as a batch of the table.
pub(super) type BatchOf =
    fn(&Resolved, &str, &SchemaRef, Range<usize>) -> Result<RecordBatch, ArrowError>;

/// Rows of every subject kind's outcome, [`ROWS_PER_BATCH`] at a time, made
/// as they are written (a row per record would otherwise be held whole).
pub(super) struct KindBatches<'a> {
    pub(super) table: &'static str,
    pub(super) run: &'a str,
    pub(super) schema: SchemaRef,
    pub(super) resolved: &'a [Resolved],
    pub(super) rows: RowsOf,
    pub(super) batch: BatchOf,
    /// Next kind and row.
    pub(super) kind: usize,
    pub(super) start: usize,
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
pub(super) struct ConflictRow<'a> {
    pub(super) run: &'a str,
    #[serde(flatten)]
    pub(super) c: &'a Conflict,
}

#[derive(Debug, Serialize)]
pub(super) struct DuplicateRow<'a> {
    pub(super) run: &'a str,
    pub(super) item: &'a str,
    pub(super) attribute: Option<&'a str>,
    pub(super) authority: &'a str,
    pub(super) department: &'a str,
    pub(super) evidence: String,
}

pub(super) fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}

pub(super) fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

pub(super) fn golden_schema() -> SchemaRef {
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

pub(super) fn link_schema() -> SchemaRef {
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

pub(super) fn conflict_schema() -> SchemaRef {
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

pub(super) fn duplicate_schema() -> SchemaRef {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

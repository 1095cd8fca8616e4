//! Folding the scan's batches into counts, samples and failed rows.
//!
//! Each outcome column is a three-valued boolean (see `quality_rules::rules`):
//! `evaluated += len − null_count`, `failed += true_count`, both computed on
//! bitmaps without touching values. Only failing rows are looked at one by
//! one: to keep the first `sample_limit` by (file, row) — deterministic
//! whatever the partitioning — and, with `--failed-rows`, to write them.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, UInt32Array, UInt64Array};
use datafusion::arrow::compute::{cast, max};
use datafusion::arrow::datatypes::{DataType, Date32Type, Int64Type, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use quality_rules::CompiledRule;

use super::failed_rows::{FailedRow, FailedRowsWriter};
use super::key_hashes::{KeyHashes, SortedRuns};
use crate::mask::mask;
use crate::model::Sample;

/// What the scan computes for a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SlotKind {
    /// Outcome gives evaluated and failed; failures are sampled here.
    Row,
    /// Outcome gives evaluated only (`unique`: failures come from an aggregation).
    EvaluatedOnly,
}

#[derive(Debug)]
pub(crate) struct OutcomeSlot {
    rule_id: String,
    check: quality_rules::RuleKind,
    kind: SlotKind,
    sample_columns: Vec<String>,
    sample_idx: Vec<usize>,
}

/// Where things are in the scan's batches: `[file, row, outcome…, extra…]`.
#[derive(Debug)]
pub(crate) struct Layout {
    pub sample_limit: usize,
    files: Vec<String>,
    time_zone: Tz,
    slots: Vec<OutcomeSlot>,
    slot_of_rule: HashMap<usize, usize>,
    freshness: Vec<(usize, String, usize)>,
    key_idx: Vec<usize>,
    key_names: Vec<String>,
    unique: Vec<UniqueSlot>,
}

/// A `unique` rule's place in the scan: its outcome (evaluated or not) and
/// the hash of its key, collected per partition (`key_hashes`).
#[derive(Debug)]
pub(crate) struct UniqueSlot {
    /// Index of the rule in the rule file.
    pub rule: usize,
    slot: usize,
    hash_idx: usize,
}

impl Layout {
    pub(crate) fn new(sample_limit: usize, files: Vec<String>, time_zone: Tz) -> Self {
        Layout {
            sample_limit,
            files,
            time_zone,
            slots: vec![],
            slot_of_rule: HashMap::new(),
            freshness: vec![],
            key_idx: vec![],
            key_names: vec![],
            unique: vec![],
        }
    }

    /// Adds a `unique` rule: its outcome gives `evaluated`; its key hash
    /// column (named by the return value, placed after the extra columns)
    /// feeds the duplicate search.
    pub(crate) fn add_unique(&mut self, rule: usize, compiled: &CompiledRule) -> String {
        let slot = self.slots.len();
        self.add_outcome(rule, compiled, SlotKind::EvaluatedOnly, vec![]);
        self.unique.push(UniqueSlot {
            rule,
            slot,
            hash_idx: 0,
        });
        format!("__pdq_h{rule}")
    }

    /// The `unique` rules, in the order of the accumulators' key collectors.
    pub(crate) fn unique(&self) -> &[UniqueSlot] {
        &self.unique
    }

    pub(crate) fn add_outcome(
        &mut self,
        rule: usize,
        compiled: &CompiledRule,
        kind: SlotKind,
        sample_columns: Vec<String>,
    ) {
        self.slot_of_rule.insert(rule, self.slots.len());
        self.slots.push(OutcomeSlot {
            rule_id: compiled.id().to_string(),
            check: compiled.kind,
            kind,
            sample_columns,
            sample_idx: vec![],
        });
    }

    pub(crate) fn add_freshness(&mut self, rule: usize, column: &str) {
        self.freshness.push((rule, column.to_string(), 0));
    }

    /// Data columns the scan must carry besides the outcomes.
    pub(crate) fn value_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .slots
            .iter()
            .flat_map(|s| s.sample_columns.iter().cloned())
            .collect();
        out.extend(self.freshness.iter().map(|(_, c, _)| c.clone()));
        out
    }

    /// Resolves column names to batch positions once the projection is fixed.
    pub(crate) fn bind(&mut self, extra: &[String], key: &[String]) {
        let base = 2 + self.slots.len();
        let pos = |name: &str| extra.iter().position(|e| e == name).map(|p| base + p);
        for s in &mut self.slots {
            s.sample_idx = s.sample_columns.iter().filter_map(|c| pos(c)).collect();
        }
        for f in &mut self.freshness {
            f.2 = pos(&f.1).unwrap_or(0);
        }
        self.key_idx = key.iter().filter_map(|k| pos(k)).collect();
        self.key_names = key.to_vec();
        let hashes = base + extra.len();
        for (j, u) in self.unique.iter_mut().enumerate() {
            u.hash_idx = hashes + j;
        }
    }

    fn file_name(&self, idx: u32) -> &str {
        self.files
            .get(idx as usize)
            .map(String::as_str)
            .unwrap_or("?")
    }

    pub(crate) fn samples_of(&self, acc: &SlotAcc) -> Vec<Sample> {
        if let Some(located) = &acc.located {
            return located.clone();
        }
        acc.samples
            .iter()
            .map(|s| Sample {
                file: self.file_name(s.file).to_string(),
                row: s.row,
                value: s.value.clone(),
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct RawSample {
    file: u32,
    row: u64,
    value: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct SlotAcc {
    pub evaluated: u64,
    pub failed: u64,
    samples: Vec<RawSample>,
    /// Samples found outside the scan (`unique`), already located.
    located: Option<Vec<Sample>>,
}

impl SlotAcc {
    fn would_keep(&self, limit: usize, file: u32, row: u64) -> bool {
        self.samples.len() < limit
            || self
                .samples
                .last()
                .is_some_and(|l| (file, row) < (l.file, l.row))
    }

    fn keep(&mut self, limit: usize, s: RawSample) {
        let at = self
            .samples
            .partition_point(|x| (x.file, x.row) < (s.file, s.row));
        self.samples.insert(at, s);
        self.samples.truncate(limit);
    }
}

/// Counts, samples and newest values of one partition (or, merged, of all).
#[derive(Debug)]
pub(crate) struct Accumulator {
    pub rows: u64,
    slots: Vec<SlotAcc>,
    slot_of_rule: HashMap<usize, usize>,
    newest: Vec<Option<DateTime<Utc>>>,
    freshness_rules: Vec<usize>,
    /// Per `unique` rule: this partition's key hashes while scanning.
    keys: Vec<KeyHashes>,
    /// Per `unique` rule: sorted runs of key hashes once scanned (merged).
    pub key_runs: Vec<SortedRuns>,
}

fn value_text(array: &ArrayRef, i: usize) -> Result<Option<String>, DataFusionError> {
    if array.is_null(i) {
        return Ok(None);
    }
    let f = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default())?;
    Ok(Some(f.value(i).to_string()))
}

/// The published (masked) value of failing row `i`: one column's value, or
/// `col=value, …` for several.
fn sample_value(
    batch: &RecordBatch,
    names: &[String],
    idx: &[usize],
    i: usize,
) -> Result<Option<String>, DataFusionError> {
    if let ([name], [c]) = (names, idx) {
        return Ok(value_text(batch.column(*c), i)?.map(|v| mask(name, &v)));
    }
    let mut parts = Vec::with_capacity(idx.len());
    for (name, c) in names.iter().zip(idx) {
        let v = value_text(batch.column(*c), i)?
            .map(|v| mask(name, &v))
            .unwrap_or_else(|| "NULL".into());
        parts.push(format!("{name}={v}"));
    }
    Ok(Some(parts.join(", ")))
}

/// The unmasked value for the failed-rows file.
fn raw_value(
    batch: &RecordBatch,
    names: &[String],
    idx: &[usize],
    i: usize,
) -> Result<Option<String>, DataFusionError> {
    if let [c] = idx {
        return value_text(batch.column(*c), i);
    }
    let mut parts = Vec::with_capacity(idx.len());
    for (name, c) in names.iter().zip(idx) {
        parts.push(format!(
            "{name}={}",
            value_text(batch.column(*c), i)?.unwrap_or_else(|| "NULL".into())
        ));
    }
    Ok(Some(parts.join(", ")))
}

fn key_value(
    batch: &RecordBatch,
    idx: &[usize],
    i: usize,
) -> Result<Option<String>, DataFusionError> {
    if idx.is_empty() {
        return Ok(None);
    }
    let mut parts = Vec::with_capacity(idx.len());
    for c in idx {
        parts.push(value_text(batch.column(*c), i)?.unwrap_or_default());
    }
    Ok(Some(parts.join("|")))
}

fn locations(batch: &RecordBatch) -> Result<(&UInt32Array, &UInt64Array), DataFusionError> {
    let file = batch
        .column(0)
        .as_any()
        .downcast_ref::<UInt32Array>()
        .ok_or_else(|| DataFusionError::Internal("file column is not UInt32".into()))?;
    let row = batch
        .column(1)
        .as_any()
        .downcast_ref::<UInt64Array>()
        .ok_or_else(|| DataFusionError::Internal("row column is not UInt64".into()))?;
    Ok((file, row))
}

impl Accumulator {
    pub(crate) fn new(layout: &Layout) -> Self {
        Accumulator {
            rows: 0,
            slots: layout.slots.iter().map(|_| SlotAcc::default()).collect(),
            slot_of_rule: layout.slot_of_rule.clone(),
            newest: vec![None; layout.freshness.len()],
            freshness_rules: layout.freshness.iter().map(|f| f.0).collect(),
            keys: vec![],
            key_runs: layout
                .unique
                .iter()
                .map(|_| SortedRuns::default())
                .collect(),
        }
    }

    /// A partition's accumulator, with one key collector per `unique` rule.
    pub(crate) fn with_keys(layout: &Layout, keys: Vec<KeyHashes>) -> Self {
        Accumulator {
            keys,
            ..Accumulator::new(layout)
        }
    }

    /// Ends a partition's scan: its key hashes become sorted runs.
    pub(crate) fn finish_keys(&mut self) {
        for (runs, keys) in self.key_runs.iter_mut().zip(self.keys.drain(..)) {
            runs.append(keys.finish());
        }
    }

    /// The counts of a row-level rule (by its index in the rule file).
    pub(crate) fn slot(&self, rule: usize) -> &SlotAcc {
        static EMPTY: SlotAcc = SlotAcc {
            evaluated: 0,
            failed: 0,
            samples: Vec::new(),
            located: None,
        };
        // Every row-level rule has a slot (the planner adds one per rule).
        match self.slot_of_rule.get(&rule) {
            Some(&i) => &self.slots[i],
            None => &EMPTY,
        }
    }

    /// The newest instant of a freshness rule's column.
    pub(crate) fn newest(&self, rule: usize) -> Option<DateTime<Utc>> {
        self.freshness_rules
            .iter()
            .position(|r| *r == rule)
            .and_then(|i| self.newest[i])
    }

    /// Sets the failures of a `unique` rule found by its aggregation.
    pub(crate) fn set_failures(&mut self, rule: usize, failed: u64, samples: Vec<Sample>) {
        if let Some(&i) = self.slot_of_rule.get(&rule) {
            self.slots[i].failed = failed;
            self.slots[i].located = Some(samples);
        }
    }

    pub(crate) fn merge(&mut self, other: Accumulator, layout: &Layout) {
        self.rows += other.rows;
        for (mine, theirs) in self.key_runs.iter_mut().zip(other.key_runs) {
            mine.append(theirs);
        }
        for (mine, theirs) in self.slots.iter_mut().zip(other.slots) {
            mine.evaluated += theirs.evaluated;
            mine.failed += theirs.failed;
            for s in theirs.samples {
                if mine.would_keep(layout.sample_limit, s.file, s.row) {
                    mine.keep(layout.sample_limit, s);
                }
            }
        }
        for (mine, theirs) in self.newest.iter_mut().zip(other.newest) {
            *mine = match (*mine, theirs) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
    }

    pub(crate) fn add(
        &mut self,
        batch: &RecordBatch,
        layout: &Layout,
        writer: Option<&Mutex<FailedRowsWriter>>,
    ) -> Result<(), DataFusionError> {
        let len = batch.num_rows();
        self.rows += len as u64;
        if len == 0 {
            return Ok(());
        }
        let (files, rows) = locations(batch)?;
        for (k, slot) in layout.slots.iter().enumerate() {
            let outcome: &BooleanArray =
                batch.column(2 + k).as_any().downcast_ref().ok_or_else(|| {
                    DataFusionError::Internal(format!(
                        "outcome of rule `{}` is not boolean",
                        slot.rule_id
                    ))
                })?;
            let acc = &mut self.slots[k];
            acc.evaluated += (len - outcome.null_count()) as u64;
            if slot.kind == SlotKind::EvaluatedOnly {
                continue;
            }
            let failed = outcome.true_count();
            acc.failed += failed as u64;
            if failed == 0 {
                continue;
            }
            // Failing positions: value bit AND validity bit.
            let bits = match outcome.nulls() {
                Some(n) => outcome.values() & n.inner(),
                None => outcome.values().clone(),
            };
            let mut guard = match writer {
                Some(w) => Some(w.lock().map_err(|_| {
                    DataFusionError::Internal("failed-rows writer poisoned".into())
                })?),
                None => None,
            };
            for i in bits.set_indices() {
                let (file, row) = (files.value(i), rows.value(i));
                if acc.would_keep(layout.sample_limit, file, row) {
                    let value = sample_value(batch, &slot.sample_columns, &slot.sample_idx, i)?;
                    acc.keep(layout.sample_limit, RawSample { file, row, value });
                }
                if let Some(w) = guard.as_deref_mut() {
                    let value = raw_value(batch, &slot.sample_columns, &slot.sample_idx, i)?;
                    let key = key_value(batch, &layout.key_idx, i)?;
                    let column = slot.sample_columns.join(",");
                    w.push(FailedRow {
                        rule_id: &slot.rule_id,
                        check: slot.check,
                        file: layout.file_name(file),
                        row,
                        key: key.as_deref(),
                        column: Some(column.as_str()),
                        value: value.as_deref(),
                    })?;
                }
            }
        }
        for (u, keys) in layout.unique.iter().zip(self.keys.iter_mut()) {
            let outcome: &BooleanArray = batch
                .column(2 + u.slot)
                .as_any()
                .downcast_ref()
                .ok_or_else(|| {
                    DataFusionError::Internal("outcome of a unique rule is not boolean".into())
                })?;
            let hashes: &UInt64Array = batch
                .column(u.hash_idx)
                .as_any()
                .downcast_ref()
                .ok_or_else(|| {
                    DataFusionError::Internal("key hash of a unique rule is not UInt64".into())
                })?;
            keys.add(hashes, outcome)?;
        }
        for (k, (_, _, idx)) in layout.freshness.iter().enumerate() {
            let newest = newest_instant(batch.column(*idx), layout.time_zone)?;
            self.newest[k] = match (self.newest[k], newest) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        Ok(())
    }
}

fn local_to_utc(tz: Tz, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
    // Ambiguous or skipped local times (DST elsewhere) take the earliest mapping.
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// The newest instant in a timestamp, date or text column; naive values are
/// in the bureau's time zone; dates mean their first moment.
fn newest_instant(array: &ArrayRef, tz: Tz) -> Result<Option<DateTime<Utc>>, DataFusionError> {
    match array.data_type() {
        DataType::Timestamp(_, zone) => {
            let micros = cast(
                array,
                &DataType::Timestamp(TimeUnit::Microsecond, zone.clone()),
            )?;
            let as_int = cast(&micros, &DataType::Int64)?;
            let Some(m) = max(as_int.as_primitive::<Int64Type>()) else {
                return Ok(None);
            };
            Ok(if zone.is_some() {
                DateTime::<Utc>::from_timestamp_micros(m)
            } else {
                DateTime::<Utc>::from_timestamp_micros(m)
                    .and_then(|t| local_to_utc(tz, t.naive_utc()))
            })
        }
        DataType::Date32 | DataType::Date64 => {
            let days = cast(array, &DataType::Date32)?;
            let Some(d) = max(days.as_primitive::<Date32Type>()) else {
                return Ok(None);
            };
            let date = NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::Duration::days(i64::from(d))));
            Ok(date
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|n| local_to_utc(tz, n)))
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let text = cast(array, &DataType::Utf8)?;
            let text = text.as_string::<i32>();
            let mut best: Option<DateTime<Utc>> = None;
            for v in text.iter().flatten() {
                if let Some(t) = parse_instant(v.trim(), tz) {
                    best = Some(best.map_or(t, |b| b.max(t)));
                }
            }
            Ok(best)
        }
        other => Err(DataFusionError::Plan(format!(
            "freshness needs a timestamp, date or text column, found {other}"
        ))),
    }
}

/// Parses the timestamp and date spellings departments use.
pub(crate) fn parse_instant(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(s, f) {
            return local_to_utc(tz, n);
        }
    }
    for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return d.and_hms_opt(0, 0, 0).and_then(|n| local_to_utc(tz, n));
        }
    }
    None
}

/// The first `limit` samples of a `unique` rule by (file, row), whatever
/// order its duplicate rows are found in.
#[derive(Debug, Default)]
pub(crate) struct UniqueSamples {
    /// By (file index, row), at most `sample_limit`.
    kept: Vec<((u32, u64), Sample)>,
}

impl UniqueSamples {
    pub(crate) fn into_samples(self) -> Vec<Sample> {
        self.kept.into_iter().map(|(_, s)| s).collect()
    }
}

/// Records one duplicate row of a `unique` rule (`batch` holds the file and
/// row columns, then the key columns): a sample if it is among the first
/// `sample_limit` by (file, row), and a failed row when they are written.
pub(crate) fn unique_row(
    batch: &RecordBatch,
    i: usize,
    rule: &CompiledRule,
    columns: &[String],
    layout: &Layout,
    samples: &mut UniqueSamples,
    writer: Option<&Mutex<FailedRowsWriter>>,
) -> Result<(), DataFusionError> {
    let (files, rows) = locations(batch)?;
    let idx: Vec<usize> = (2..2 + columns.len()).collect();
    let (file, row) = (files.value(i), rows.value(i));
    let name = layout.file_name(file);
    let kept = &mut samples.kept;
    let at = kept.partition_point(|(at, _)| *at < (file, row));
    if at < layout.sample_limit {
        let sample = Sample {
            file: name.to_string(),
            row,
            value: sample_value(batch, columns, &idx, i)?,
        };
        kept.insert(at, ((file, row), sample));
        kept.truncate(layout.sample_limit);
    }
    if let Some(w) = writer {
        let mut w = w
            .lock()
            .map_err(|_| DataFusionError::Internal("failed-rows writer poisoned".into()))?;
        let value = raw_value(batch, columns, &idx, i)?;
        let column = columns.join(",");
        w.push(FailedRow {
            rule_id: rule.id(),
            check: rule.kind,
            file: name,
            row,
            key: None,
            column: Some(column.as_str()),
            value: value.as_deref(),
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_the_bureau_zone() {
        let tz = chrono_tz::Asia::Shanghai;
        let t = parse_instant("2026-11-21 08:00:00", tz).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-21T00:00:00+00:00");
        let d = parse_instant("2026-11-21", tz).unwrap();
        assert_eq!(d.to_rfc3339(), "2026-11-20T16:00:00+00:00");
        assert_eq!(
            parse_instant("2026-11-21T00:00:00Z", tz)
                .unwrap()
                .to_rfc3339(),
            "2026-11-21T00:00:00+00:00"
        );
        assert!(parse_instant("yesterday", tz).is_none());
    }
}

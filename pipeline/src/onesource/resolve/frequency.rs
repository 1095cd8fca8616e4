//! Term frequencies: how many of the records being resolved hold each
//! prepared value of a term-frequency field (see
//! [`TermFrequency`](super::config::TermFrequency) for why).
//!
//! One pass per field over the prepared column, one count per distinct
//! value (keyed by a 64-bit hash of the value: at ten million distinct
//! addresses a collision has odds of about 1 in 10⁶ and would only merge two
//! counts), then one pass writing each record's count; the map is dropped
//! before matching. Fields are counted in parallel.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::blocking::{fnv, joined};
use super::config::MatchConfig;
use super::records::{Records, StrColumn};

/// The keys are already FNV hashes: hash them again for nothing.
#[derive(Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = fnv(self.0, bytes);
    }
    fn write_u64(&mut self, v: u64) {
        // spread the high bits FNV leaves weak into the low ones the table uses
        self.0 = v ^ (v >> 29);
    }
}

/// Per term-frequency field, each record's value count.
struct FieldCounts {
    /// Records holding the same prepared value as record `i` (0 when missing).
    count: Vec<u32>,
    /// Records with a value at all.
    present: u64,
    /// Floor of the frequency.
    min_u: f64,
}

/// Term frequencies of every field that asks for them.
pub(super) struct TermFrequencies {
    fields: Vec<Option<FieldCounts>>,
}

impl TermFrequencies {
    /// Counts the values of every term-frequency field of `config`.
    pub(super) fn count(records: &Records, config: &MatchConfig) -> TermFrequencies {
        let n = records.len();
        let fields = std::thread::scope(|s| {
            let handles: Vec<_> = config
                .fields
                .iter()
                .zip(&records.fields)
                .map(|(spec, column)| {
                    spec.term_frequency.map(|tf| {
                        s.spawn(move || {
                            let (count, present) = count_column(column, n);
                            FieldCounts {
                                count,
                                present,
                                min_u: tf.min_u,
                            }
                        })
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.map(joined)).collect()
        });
        TermFrequencies { fields }
    }

    /// Whether field `f` is adjusted.
    pub(super) fn adjusts(&self, f: usize) -> bool {
        self.fields.get(f).is_some_and(Option::is_some)
    }

    /// The frequency of record `i`'s value of field `f` (its u when two
    /// records agree exactly on it), floored at the field's `min_u`; `None`
    /// when the field is not adjusted or the value is missing.
    pub(super) fn frequency(&self, f: usize, i: usize) -> Option<f64> {
        let c = self.fields.get(f)?.as_ref()?;
        let k = *c.count.get(i)?;
        (k > 0 && c.present > 0).then(|| (f64::from(k) / c.present as f64).max(c.min_u))
    }
}

fn value_hash(v: &str) -> u64 {
    fnv(0xcbf2_9ce4_8422_2325, v.as_bytes())
}

fn count_column(column: &StrColumn, n: usize) -> (Vec<u32>, u64) {
    let mut counts: HashMap<u64, u32, BuildHasherDefault<AlreadyHashed>> = HashMap::default();
    let mut present = 0u64;
    for i in 0..n {
        let v = column.get(i);
        if !v.is_empty() {
            present += 1;
            *counts.entry(value_hash(v)).or_default() += 1;
        }
    }
    let per_record = (0..n)
        .map(|i| {
            let v = column.get(i);
            if v.is_empty() {
                0
            } else {
                counts.get(&value_hash(v)).copied().unwrap_or(0)
            }
        })
        .collect();
    (per_record, present)
}

//! The records to resolve, columnar, with each field prepared on the way in.

use super::config::{MatchConfig, Prepare};
use crate::onesource::OneSourceError;
use crate::onesource::normalize::{
    fold_resident_id, normalize_date, normalize_name_into, normalize_sex, normalize_text,
};

/// Prepared values of one field for every record (an Arrow-like string
/// column; the empty string means missing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StrColumn {
    data: String,
    offsets: Vec<u32>,
}

impl StrColumn {
    fn new() -> StrColumn {
        StrColumn {
            data: String::new(),
            offsets: vec![0],
        }
    }

    /// Value `i` (empty = missing).
    #[inline]
    pub fn get(&self, i: usize) -> &str {
        &self.data[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// Bytes of all values.
    pub fn data_len(&self) -> usize {
        self.data.len()
    }

    /// Bytes the values may take before the column grows.
    pub fn data_capacity(&self) -> usize {
        self.data.capacity()
    }

    /// The first byte of value `i` (0 when missing or out of range): reading
    /// it brings the value into the cache ahead of its comparison.
    #[inline]
    pub(super) fn first_byte(&self, i: usize) -> u8 {
        self.offsets
            .get(i)
            .and_then(|&o| self.data.as_bytes().get(o as usize))
            .copied()
            .unwrap_or(0)
    }

    fn end(&mut self) -> Result<(), OneSourceError> {
        let end = u32::try_from(self.data.len()).map_err(|_| too_large())?;
        self.offsets.push(end);
        Ok(())
    }

    /// Appends `other`'s values after these. The caller has checked that
    /// both together stay under 4 GiB ([`Records::append`]).
    fn append(&mut self, other: &StrColumn) {
        let base = self.data.len() as u32;
        self.data.push_str(&other.data);
        self.offsets
            .extend(other.offsets.iter().skip(1).map(|&o| base + o));
    }
}

fn too_large() -> OneSourceError {
    OneSourceError::Config("more than 4 GiB of one matching field".into())
}

/// The records to resolve, columnar.
#[derive(Debug, Clone)]
pub struct Records {
    /// Which source (dataset) each record came from.
    pub source: Vec<u32>,
    /// The normalised subject key (0 = missing or invalid).
    pub key: Vec<u128>,
    /// Prepared field values, in [`MatchConfig::fields`] order.
    pub fields: Vec<StrColumn>,
    prepare: Vec<Prepare>,
    scratch: String,
}

impl Records {
    /// Empty records for `config`'s fields.
    pub fn new(config: &MatchConfig) -> Records {
        Records {
            source: Vec::new(),
            key: Vec::new(),
            fields: config.fields.iter().map(|_| StrColumn::new()).collect(),
            prepare: config.fields.iter().map(|f| f.prepare).collect(),
            scratch: String::new(),
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// Adds a record: its source, key (0 = none) and raw field values in the
    /// configuration's order (`None` = missing).
    pub fn push(
        &mut self,
        source: u32,
        key: u128,
        values: &[Option<&str>],
    ) -> Result<(), OneSourceError> {
        if values.len() != self.fields.len() {
            return Err(OneSourceError::Config(format!(
                "a record has {} matching values for {} fields",
                values.len(),
                self.fields.len()
            )));
        }
        for ((col, prep), v) in self.fields.iter_mut().zip(&self.prepare).zip(values) {
            if let Some(v) = v {
                prepare_into(*prep, v, &mut col.data, &mut self.scratch);
            }
            col.end()?;
        }
        self.source.push(source);
        self.key.push(key);
        Ok(())
    }

    /// Makes room for `additional` more records' sources, keys and value
    /// offsets at once, so that appending them never holds a column twice
    /// while it grows.
    pub fn reserve(&mut self, additional: usize) {
        self.source.reserve_exact(additional);
        self.key.reserve_exact(additional);
        for f in &mut self.fields {
            f.offsets.reserve_exact(additional);
        }
    }

    /// Before appending `incoming`: makes room for their values and, at the
    /// bytes per record seen so far, for `more` records after them, so
    /// that a value column is not grown by doubling (which leaves up to
    /// half of it unused and holds it twice while it is copied).
    pub fn reserve_for(&mut self, incoming: &[&Records], more: usize) {
        let rows = self.len() + incoming.iter().map(|r| r.len()).sum::<usize>();
        for (k, f) in self.fields.iter_mut().enumerate() {
            let bytes: usize = incoming
                .iter()
                .filter_map(|r| r.fields.get(k))
                .map(|c| c.data.len())
                .sum();
            let needed = f.data.len() + bytes;
            if f.data.capacity() >= needed || rows == 0 {
                continue;
            }
            let expected = needed + (needed as f64 / rows as f64 * more as f64) as usize;
            f.data.reserve_exact(expected - f.data.len());
        }
    }

    /// Appends `other`'s records after these, in order, as if each had been
    /// [pushed](Records::push) here: a loader can prepare chunks of records
    /// on several threads and join them in their input order. `other` must
    /// have been made for the same configuration (same fields, prepared
    /// alike).
    pub fn append(&mut self, other: &Records) -> Result<(), OneSourceError> {
        if other.prepare != self.prepare {
            return Err(OneSourceError::Config(format!(
                "appending records prepared as {:?} to records prepared as {:?}",
                other.prepare, self.prepare
            )));
        }
        // Check every column before changing any, so that an error leaves
        // these records as they were.
        for (col, o) in self.fields.iter().zip(&other.fields) {
            u32::try_from(col.data.len() + o.data.len()).map_err(|_| too_large())?;
        }
        for (col, o) in self.fields.iter_mut().zip(&other.fields) {
            col.append(o);
        }
        self.source.extend_from_slice(&other.source);
        self.key.extend_from_slice(&other.key);
        Ok(())
    }
}

/// Equal when they hold the same records, prepared alike (the reusable
/// scratch buffer is not compared).
impl PartialEq for Records {
    fn eq(&self, other: &Records) -> bool {
        self.source == other.source
            && self.key == other.key
            && self.fields == other.fields
            && self.prepare == other.prepare
    }
}

fn prepare_into(p: Prepare, v: &str, out: &mut String, scratch: &mut String) {
    match p {
        Prepare::Trim => out.push_str(v.trim()),
        Prepare::Text => out.push_str(&normalize_text(v)),
        Prepare::Name => {
            scratch.clear();
            normalize_name_into(v, scratch);
            out.push_str(scratch);
        }
        Prepare::Date => {
            if let Some(d) = normalize_date(v) {
                use std::fmt::Write;
                let _ = write!(out, "{d:08}");
            }
        }
        Prepare::Sex => {
            if let Some(s) = normalize_sex(v) {
                out.push(char::from(b'0' + s));
            }
        }
        Prepare::ResidentId => {
            if let Some(s) = fold_resident_id(v) {
                out.push_str(&s);
            }
        }
    }
}

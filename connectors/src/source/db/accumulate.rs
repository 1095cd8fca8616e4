//! The rows of a delivery read so far: batches for landing, rejects, and the
//! running content hash.
//!
//! A query's rows are a multiset: a server may return the same rows in
//! another order from one run to the next (PostgreSQL after `ANALYZE` picks
//! an index scan instead of a sequential one; an `UPDATE` that changes
//! nothing moves rows to the end of the heap). The content hash is therefore
//! the SHA-256 of the rows' own hashes *added* modulo 2^256 (an additive
//! multiset hash), so an unchanged snapshot is recognised whatever order its
//! rows come in, while a row more, less or changed still changes it.

use arrow::array::StringArray;
use sha2::{Digest, Sha256};

use crate::source::digest::{MultisetDigest, row_hash};
use crate::source::{ColumnDef, DeliveryEnd, RawItem, Reject, SourceError, TextBatcher};

/// Rows read so far: the batch being built and the running content hash.
pub(super) struct Accumulator {
    pub(super) batcher: TextBatcher,
    keys: Vec<Option<String>>,
    key_index: Option<usize>,
    names: Vec<String>,
    digest: MultisetDigest,
    /// The hash in read order, as versions before the multiset hash had it.
    legacy: Sha256,
    bytes: u64,
    pub(super) row_no: u64,
}

impl Accumulator {
    pub(super) fn new(columns: &[ColumnDef], batch_rows: usize, key_index: Option<usize>) -> Self {
        Accumulator {
            batcher: TextBatcher::new(columns, batch_rows),
            keys: vec![],
            key_index,
            names: columns.iter().map(|c| c.name.clone()).collect(),
            digest: MultisetDigest::default(),
            legacy: Sha256::new(),
            bytes: 0,
            row_no: 0,
        }
    }

    fn hash(&mut self, r: &[Option<String>]) {
        for v in r {
            let s = v.as_deref().unwrap_or("\u{0}NULL");
            self.legacy.update(s.as_bytes());
            self.legacy.update(b"\x1f");
            self.bytes += s.len() as u64 + 1;
        }
        self.legacy.update(b"\x1e");
        self.digest.add(&row_hash(r.iter().map(|v| v.as_deref())));
    }

    pub(super) fn push(&mut self, r: &[Option<String>]) {
        self.hash(r);
        self.batcher.push_exact(self.row_no, |i| r[i].as_deref());
        self.row_no += 1;
        if let Some(k) = self.key_index {
            self.keys.push(r[k].clone());
        }
    }

    /// A row that goes to quarantine whole: its declared columns as a JSON
    /// object, and why.
    pub(super) fn reject(&mut self, declared: &[Option<String>], reason: String) {
        self.hash(declared);
        let record: serde_json::Map<String, serde_json::Value> = self
            .names
            .iter()
            .zip(declared)
            .map(|(n, v)| (n.clone(), v.clone().into()))
            .collect();
        self.batcher.reject(Reject {
            row: self.row_no,
            raw: serde_json::Value::Object(record).to_string(),
            reason,
        });
        self.row_no += 1;
    }

    pub(super) async fn flush(
        &mut self,
        tx: &tokio::sync::mpsc::Sender<Result<RawItem, SourceError>>,
    ) -> Result<(), SourceError> {
        if self.batcher.is_empty() {
            return Ok(());
        }
        let mut batch = self.batcher.finish();
        if self.key_index.is_some() {
            batch.keys = Some(StringArray::from(std::mem::take(&mut self.keys)));
        }
        tx.send(Ok(RawItem::Batch(batch)))
            .await
            .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))
    }

    pub(super) async fn end(
        self,
        tx: &tokio::sync::mpsc::Sender<Result<RawItem, SourceError>>,
        state: Option<String>,
        notes: Vec<String>,
    ) -> Result<(), SourceError> {
        tx.send(Ok(RawItem::End(DeliveryEnd {
            sha256: self.digest.finish(),
            legacy_sha256: Some(hex::encode(self.legacy.finalize())),
            bytes: self.bytes,
            state,
            notes,
        })))
        .await
        .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(rows: &[&[Option<&str>]]) -> String {
        let columns: Vec<ColumnDef> = (0..rows[0].len())
            .map(|i| ColumnDef {
                name: format!("c{i}"),
                ty: crate::source::ColumnType::String,
                nullable: true,
                source: None,
            })
            .collect();
        let mut acc = Accumulator::new(&columns, 1024, None);
        for r in rows {
            let owned: Vec<Option<String>> = r.iter().map(|v| v.map(str::to_string)).collect();
            acc.push(&owned);
        }
        acc.digest.finish()
    }

    #[test]
    fn the_same_rows_in_another_order_have_the_same_content_hash() {
        let a: &[Option<&str>] = &[Some("1"), Some("张三"), None];
        let b: &[Option<&str>] = &[Some("2"), Some("李四"), Some("x")];
        let c: &[Option<&str>] = &[Some("3"), Some(""), Some("y")];
        assert_eq!(digest(&[a, b, c]), digest(&[c, a, b]));
        assert_eq!(digest(&[a, b, c]), digest(&[b, c, a]));
    }

    #[test]
    fn a_row_more_less_or_changed_changes_the_content_hash() {
        let a: &[Option<&str>] = &[Some("1"), Some("a")];
        let b: &[Option<&str>] = &[Some("2"), Some("b")];
        let b2: &[Option<&str>] = &[Some("2"), Some("B")];
        let base = digest(&[a, b]);
        assert_ne!(base, digest(&[a]), "a row less");
        assert_ne!(base, digest(&[a, b, b]), "a row more (a duplicate)");
        assert_ne!(base, digest(&[a, b2]), "a changed value");
        // A multiset, not a set: a duplicate is not the same as another row.
        assert_ne!(digest(&[a, a, b]), digest(&[a, b, b]));
        // NULL is not the empty string, and values do not run together.
        let null: &[Option<&str>] = &[Some("1"), None];
        let empty: &[Option<&str>] = &[Some("1"), Some("")];
        assert_ne!(digest(&[null]), digest(&[empty]));
        let joined: &[Option<&str>] = &[Some("1a"), Some("")];
        assert_ne!(digest(&[&[Some("1"), Some("a")]]), digest(&[joined]));
    }

    /// What versions before the multiset hash recorded, so that their
    /// ledgers' snapshots are still recognised after an upgrade.
    #[tokio::test]
    async fn the_end_also_carries_the_hash_in_read_order_of_earlier_versions() {
        let columns: Vec<ColumnDef> = ["id", "name"]
            .iter()
            .map(|n| ColumnDef {
                name: n.to_string(),
                ty: crate::source::ColumnType::String,
                nullable: true,
                source: None,
            })
            .collect();
        let rows = [[Some("1"), Some("张三")], [Some("2"), None]];
        let mut acc = Accumulator::new(&columns, 1024, None);
        for r in &rows {
            acc.push(&r.map(|v| v.map(str::to_string)));
        }
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        acc.end(&tx, None, vec![]).await.unwrap();
        let Some(Ok(RawItem::End(end))) = rx.recv().await else {
            panic!("no end")
        };
        // The earlier formula, written out: values joined by 0x1F, rows
        // ended by 0x1E, NULL as "\0NULL", one SHA-256 over it all.
        let old = Sha256::digest("1\x1f张三\x1f\x1e2\x1f\u{0}NULL\x1f\x1e".as_bytes());
        assert_eq!(end.legacy_sha256, Some(hex::encode(old)));
        assert_ne!(end.sha256, hex::encode(old));
        assert_eq!(end.bytes, "1\x1f张三\x1f2\x1f\u{0}NULL\x1f".len() as u64);
    }
}

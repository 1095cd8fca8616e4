//! The rows of a delivery read so far: batches for landing, rejects, and the
//! running content hash.

use arrow::array::StringArray;
use sha2::{Digest, Sha256};

use crate::source::{ColumnDef, DeliveryEnd, RawItem, Reject, SourceError, TextBatcher};

/// Rows read so far: the batch being built and the running content hash.
pub(super) struct Accumulator {
    pub(super) batcher: TextBatcher,
    keys: Vec<Option<String>>,
    key_index: Option<usize>,
    names: Vec<String>,
    hasher: Sha256,
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
            hasher: Sha256::new(),
            bytes: 0,
            row_no: 0,
        }
    }

    fn hash(&mut self, r: &[Option<String>]) {
        for v in r {
            let s = v.as_deref().unwrap_or("\u{0}NULL");
            self.hasher.update(s.as_bytes());
            self.hasher.update(b"\x1f");
            self.bytes += s.len() as u64 + 1;
        }
        self.hasher.update(b"\x1e");
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
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
            state,
            notes,
        })))
        .await
        .map_err(|_| SourceError::Config("the landing stage stopped reading".into()))
    }
}

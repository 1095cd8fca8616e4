//! The delivery ledger: one record per delivery seen, with its counts.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::{DateTime, Utc};
use deltalake::DeltaTable;
use deltalake::kernel::Transaction;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::{DatasetDef, Lake, LandError, app_id, has_txn};

/// The ledger table's path in the lake.
pub const LEDGER: &str = crate::tables::DELIVERIES.path;

/// What became of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Its rows are in the lake.
    Landed,
    /// Its content had landed before; nothing was added.
    Unchanged,
    /// A snapshot with no rows, or far fewer than the last landed one: not
    /// landed (the table keeps its contents) until an operator accepts it;
    /// the note says why and how.
    Held,
}

impl DeliveryStatus {
    fn as_str(&self) -> &'static str {
        match self {
            DeliveryStatus::Landed => "landed",
            DeliveryStatus::Unchanged => "unchanged",
            DeliveryStatus::Held => "held",
        }
    }
}

/// One delivery, as the ledger records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// Its id (from the dataset and the delivery's fingerprint).
    pub delivery: String,
    /// `department.dataset`.
    pub dataset: String,
    /// Where it came from.
    pub location: String,
    /// What identified it before reading.
    pub fingerprint: String,
    /// What became of it.
    pub status: DeliveryStatus,
    /// SHA-256 of its bytes or records.
    pub sha256: String,
    /// Bytes read.
    pub bytes: i64,
    /// Incremental: the highest watermark landed before it (rows at exactly
    /// it are read again; see the database source's boundary rule).
    pub watermark_from: Option<String>,
    /// Incremental: the highest watermark it covers.
    pub watermark_to: Option<String>,
    /// Records read.
    pub rows_read: i64,
    /// Rows landed.
    pub rows_landed: i64,
    /// Rows quarantined.
    pub rows_quarantined: i64,
    /// The data table's version that holds it.
    pub table_version: Option<i64>,
    /// When landing began.
    pub started_at: DateTime<Utc>,
    /// How long it took.
    pub seconds: f64,
    /// Anything else worth knowing.
    pub note: Option<String>,
}

/// The ledger table's schema.
pub fn schema() -> SchemaRef {
    let s = |n: &str| Field::new(n, DataType::Utf8, true);
    let i = |n: &str| Field::new(n, DataType::Int64, true);
    Arc::new(Schema::new(vec![
        s("delivery"),
        s("dataset"),
        s("location"),
        s("fingerprint"),
        s("status"),
        s("sha256"),
        i("bytes"),
        s("watermark_from"),
        s("watermark_to"),
        i("rows_read"),
        i("rows_landed"),
        i("rows_quarantined"),
        i("table_version"),
        Field::new(
            "started_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        Field::new("seconds", DataType::Float64, true),
        s("note"),
    ]))
}

fn to_batch(r: &DeliveryRecord) -> RecordBatch {
    let s = |v: &str| Arc::new(StringArray::from(vec![v])) as ArrayRef;
    let o = |v: &Option<String>| Arc::new(StringArray::from(vec![v.as_deref()])) as ArrayRef;
    let i = |v: Option<i64>| Arc::new(Int64Array::from(vec![v])) as ArrayRef;
    RecordBatch::try_new(
        schema(),
        vec![
            s(&r.delivery),
            s(&r.dataset),
            s(&r.location),
            s(&r.fingerprint),
            s(r.status.as_str()),
            s(&r.sha256),
            i(Some(r.bytes)),
            o(&r.watermark_from),
            o(&r.watermark_to),
            i(Some(r.rows_read)),
            i(Some(r.rows_landed)),
            i(Some(r.rows_quarantined)),
            i(r.table_version),
            Arc::new(
                TimestampMicrosecondArray::from(vec![r.started_at.timestamp_micros()])
                    .with_timezone("UTC"),
            ),
            Arc::new(Float64Array::from(vec![r.seconds])),
            o(&r.note),
        ],
    )
    .expect("ledger columns of equal length")
}

pub(crate) async fn open(lake: &Lake) -> Result<DeltaTable, LandError> {
    lake.table(LEDGER, &schema()).await
}

/// Appends a record, once: a record already there (by delivery id) is not
/// written again.
pub(crate) async fn append(ledger: &mut DeltaTable, r: &DeliveryRecord) -> Result<(), LandError> {
    let key = format!("ledger-{}", r.delivery);
    if has_txn(ledger, &key).await? {
        return Ok(());
    }
    let mut w = RecordBatchWriter::for_table(ledger)
        .map_err(|e| LandError::lake(LEDGER, e))?
        .with_commit_properties(
            deltalake::kernel::transaction::CommitProperties::default()
                .with_application_transaction(Transaction::new(app_id(&key), 1)),
        );
    w.write(to_batch(r))
        .await
        .map_err(|e| LandError::lake(LEDGER, e))?;
    if let Err(e) = w.flush_and_commit(ledger).await
        && !super::lake::made_after_all(ledger, &app_id(&key)).await
    {
        return Err(LandError::lake(LEDGER, e));
    }
    Ok(())
}

/// Records the data table's last delivery if the ledger missed it (a crash
/// after the data commit).
pub(crate) async fn recover(
    ledger: &mut DeltaTable,
    data: &DeltaTable,
    dataset: &DatasetDef,
) -> Result<(), LandError> {
    let mut history = data.history(Some(1));
    let Some(Ok(info)) = history.next().await else {
        return Ok(());
    };
    let Some(value) = info.info.get("pdq.delivery") else {
        return Ok(());
    };
    let Ok(mut record) = serde_json::from_value::<DeliveryRecord>(value.clone()) else {
        return Ok(());
    };
    if record.dataset != dataset.id() {
        return Ok(());
    }
    record.table_version = data.version().map(|v| v as i64);
    record.note = Some("recorded after an interrupted run".into());
    drop(history);
    append(ledger, &record).await
}

/// The ledger's records, oldest first; of one dataset if given.
pub async fn read_ledger(
    lake: &Lake,
    dataset: Option<&str>,
) -> Result<Vec<DeliveryRecord>, LandError> {
    let Some(table) = lake.open_table(LEDGER).await? else {
        return Ok(vec![]);
    };
    let ctx = datafusion::prelude::SessionContext::new();
    lake.register(&ctx, "deliveries", &table).await?;
    let mut df = ctx
        .table("deliveries")
        .await
        .map_err(|e| LandError::lake(LEDGER, e))?;
    if let Some(d) = dataset {
        df = df
            .filter(datafusion::prelude::col("dataset").eq(datafusion::prelude::lit(d)))
            .map_err(|e| LandError::lake(LEDGER, e))?;
    }
    let batches = df
        .sort(vec![
            datafusion::prelude::col("started_at").sort(true, true),
        ])
        .map_err(|e| LandError::lake(LEDGER, e))?
        .collect()
        .await
        .map_err(|e| LandError::lake(LEDGER, e))?;
    let mut out = vec![];
    for b in batches {
        let b = cast_strings(&b).map_err(|e| LandError::lake(LEDGER, e))?;
        // `cast_strings` made the batch exactly the ledger's schema.
        let col = |n: &str| {
            b.column_by_name(n)
                .ok_or_else(|| LandError::lake(LEDGER, format!("the ledger has no column `{n}`")))
        };
        let s = |n: &str| col(n).map(|c| c.as_string::<i32>().clone());
        let i = |n: &str| col(n).map(|c| c.as_primitive::<arrow::datatypes::Int64Type>().clone());
        let (delivery, dataset, location, fingerprint, status, sha256) = (
            s("delivery")?,
            s("dataset")?,
            s("location")?,
            s("fingerprint")?,
            s("status")?,
            s("sha256")?,
        );
        let (wf, wt, note) = (s("watermark_from")?, s("watermark_to")?, s("note")?);
        let (bytes, read, landed, quarantined, version) = (
            i("bytes")?,
            i("rows_read")?,
            i("rows_landed")?,
            i("rows_quarantined")?,
            i("table_version")?,
        );
        let started = col("started_at")?
            .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
            .clone();
        let seconds = col("seconds")?
            .as_primitive::<arrow::datatypes::Float64Type>()
            .clone();
        let opt = |a: &StringArray, r: usize| (!a.is_null(r)).then(|| a.value(r).to_string());
        for r in 0..b.num_rows() {
            out.push(DeliveryRecord {
                delivery: delivery.value(r).into(),
                dataset: dataset.value(r).into(),
                location: location.value(r).into(),
                fingerprint: fingerprint.value(r).into(),
                status: match status.value(r) {
                    "unchanged" => DeliveryStatus::Unchanged,
                    "held" => DeliveryStatus::Held,
                    _ => DeliveryStatus::Landed,
                },
                sha256: sha256.value(r).into(),
                bytes: bytes.value(r),
                watermark_from: opt(&wf, r),
                watermark_to: opt(&wt, r),
                rows_read: read.value(r),
                rows_landed: landed.value(r),
                rows_quarantined: quarantined.value(r),
                table_version: (!version.is_null(r)).then(|| version.value(r)),
                started_at: DateTime::from_timestamp_micros(started.value(r)).unwrap_or_default(),
                seconds: seconds.value(r),
                note: opt(&note, r),
            });
        }
    }
    Ok(out)
}

/// Delta reads strings back as views; the ledger reads plain strings.
fn cast_strings(b: &RecordBatch) -> Result<RecordBatch, arrow::error::ArrowError> {
    let target = schema();
    let cols = target
        .fields()
        .iter()
        .map(|f| {
            let c = b.column_by_name(f.name()).ok_or_else(|| {
                arrow::error::ArrowError::SchemaError(format!("ledger lacks column {}", f.name()))
            })?;
            arrow::compute::cast(c, f.data_type())
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(target, cols)
}

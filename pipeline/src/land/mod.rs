//! Landing: every delivery of a dataset into the lake, losing no row.
//!
//! For each delivery a source has waiting:
//!
//! 1. its rows are read as text and typed into the dataset's declared
//!    columns ([`conform`]); a row that does not convert goes to quarantine
//!    with its raw record and reason;
//! 2. once every file of the delivery is written, the quarantined rows are
//!    committed to the dataset's quarantine table, then the typed rows to
//!    its data table, each as one Delta commit that
//!    carries the delivery's id as an application transaction; a `full`
//!    delivery replaces the table's contents in that same commit;
//! 3. the delivery is recorded in the ledger (`_pdq/deliveries`) with its
//!    counts: read = landed + quarantined.
//!
//! A crash at any point leaves every table at its last commit (files
//! written before a commit are not part of any version). The next run sees
//! which commits of the delivery exist (by its transaction id) and makes
//! only the missing ones, so a delivery lands exactly once.

pub mod conform;
pub mod error;
mod evolve;
mod file_cache;
pub mod lake;
mod ledger;
pub mod step;
pub mod vacuum;

use std::path::PathBuf;
use std::time::Instant;

use chrono::Utc;
use chrono_tz::Tz;
use connectors::source::{Delivery, Landed, RawItem, ReadContext, SourceConfig, SourceError};
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::kernel::{Action, Transaction};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::{DeltaTable, DeltaTableError};
use futures::StreamExt;
use sha2::{Digest, Sha256};

pub use crate::dataset::{
    DEFAULT_MIN_SNAPSHOT_SHARE, DatasetDef, LoadMode, UpdateFrequency, load_dataset,
};
pub use error::LandError;
pub use lake::{Lake, LakeConfig, Vacuumed, records_batch};
use lake::{app_id, has_txn};
pub use ledger::{DeliveryRecord, DeliveryStatus, LEDGER, read_ledger, schema as ledger_schema};

/// The data commit's metadata key holding the source's state after the
/// delivery ([`connectors::source::DeliveryEnd::state`]).
const SOURCE_STATE: &str = "pdq.source_state";

/// How many of the data table's latest commits are searched for the last
/// landed delivery's source state.
const STATE_LOOKBACK: usize = 50;

/// Landing settings.
#[derive(Debug, Clone)]
pub struct LandOptions {
    /// Naive timestamps are in this zone.
    pub time_zone: Tz,
    /// Rows per batch.
    pub batch_rows: usize,
    /// Data files roll at this size.
    pub target_file_bytes: u64,
    /// Rows per Parquet row group (the writer buffers one).
    pub row_group_rows: usize,
    /// Relative paths in sources are resolved against this directory.
    pub base_dir: PathBuf,
    /// How much of a workbook is read (`[files] xlsx_max_bytes`).
    pub xlsx: connectors::files::sheet::XlsxLimits,
}

impl Default for LandOptions {
    fn default() -> Self {
        LandOptions {
            time_zone: chrono_tz::Asia::Shanghai,
            batch_rows: 65_536,
            target_file_bytes: 32 << 20,
            row_group_rows: 128 * 1024,
            base_dir: PathBuf::from("."),
            xlsx: Default::default(),
        }
    }
}

fn delivery_id(dataset: &DatasetDef, d: &Delivery) -> String {
    let h = Sha256::digest(format!("{}\n{}", dataset.id(), d.fingerprint));
    hex::encode(&h[..16])
}

/// Creates the lake's shared tables (the delivery ledger) if they do not
/// exist, and makes every version of the stages' tables stay readable
/// ([`Lake::keep_every_version`]). Call once before landing datasets in
/// parallel: concurrent creations of one Delta table can both commit.
pub async fn prepare(lake: &Lake) -> Result<(), LandError> {
    ledger::open(lake).await?;
    // Tables made before every version was kept readable are told so here,
    // once, before any parallel write (a property change is a commit).
    for t in crate::tables::ALL {
        match lake.keep_every_version(t.path).await {
            Ok(true) => tracing::info!(
                table = t.path,
                "every version of the table is kept readable from now on"
            ),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(table = t.path, error = %e, "cannot keep every version readable; tried again next run")
            }
        }
    }
    Ok(())
}

/// Lands every waiting delivery of one dataset, oldest first; returns what
/// happened to each. A failing delivery stops this dataset (later
/// deliveries may depend on it) and is returned as the error.
pub async fn land_dataset(
    lake: &Lake,
    dataset: &DatasetDef,
    opts: &LandOptions,
) -> Result<Vec<DeliveryRecord>, LandError> {
    if dataset.columns.is_empty() {
        return Err(LandError::Config(format!(
            "dataset {}: no columns declared",
            dataset.id()
        )));
    }
    if let Some(share) = dataset.min_snapshot_share
        && !(0.0..=1.0).contains(&share)
    {
        return Err(LandError::Config(format!(
            "dataset {}: min_snapshot_share: expected a share between 0 and 1, got {share}",
            dataset.id()
        )));
    }
    let source = dataset.source.build(&opts.base_dir)?;
    let schema = conform::landed_schema(&dataset.columns);
    let mut data = lake.table(&dataset.data_path(), &schema).await?;
    // A newly declared column is added to the table (issue #23, 7).
    let added = evolve::evolve(&mut data, &schema, dataset).await?;
    let mut ledger = ledger::open(lake).await?;
    // A crash between the data commit and the ledger record leaves the
    // delivery in the data table's log only: record it now.
    ledger::recover(&mut ledger, &data, dataset).await?;
    let history = read_ledger(lake, Some(&dataset.id())).await?;
    let landed = Landed {
        fingerprints: history.iter().map(|r| r.fingerprint.clone()).collect(),
        watermark: history
            .iter()
            .filter(|r| r.status == DeliveryStatus::Landed)
            .filter_map(|r| r.watermark_to.clone())
            .next_back(),
        // Only incremental database sources keep a state (the rows at the
        // watermark): others need not read the data table's history.
        state: match history
            .iter()
            .rev()
            .find(|r| r.status == DeliveryStatus::Landed)
        {
            Some(r) if keeps_state(&dataset.source) => source_state(&data, &r.delivery).await?,
            _ => None,
        },
    };
    let pending = source.pending(&landed).await?;
    let mut out = vec![];
    for d in pending {
        let record = land_delivery(
            lake,
            dataset,
            source.as_ref(),
            &d,
            &history,
            &mut data,
            opts,
        )
        .await
        .map_err(|e| lake.explain(e, &d.location))?;
        let mut record = record;
        if out.is_empty() && !added.is_empty() {
            let note = format!("columns added to the table: {}", added.join(", "));
            record.note = Some(match record.note.take() {
                Some(n) => format!("{note}; {n}"),
                None => note,
            });
        }
        ledger::append(&mut ledger, &record)
            .await
            .map_err(|e| lake.explain(e, &d.location))?;
        out.push(record);
    }
    Ok(out)
}

async fn land_delivery(
    lake: &Lake,
    dataset: &DatasetDef,
    source: &dyn connectors::source::Source,
    d: &Delivery,
    history: &[DeliveryRecord],
    data: &mut DeltaTable,
    opts: &LandOptions,
) -> Result<DeliveryRecord, LandError> {
    let started = Utc::now();
    let clock = Instant::now();
    let id = delivery_id(dataset, d);
    let schema = conform::landed_schema(&dataset.columns);
    let mut record = DeliveryRecord {
        delivery: id.clone(),
        dataset: dataset.id(),
        location: d.location.clone(),
        fingerprint: d.fingerprint.clone(),
        status: DeliveryStatus::Landed,
        sha256: String::new(),
        bytes: d.bytes.unwrap_or(0) as i64,
        watermark_from: d.watermark_from.clone(),
        watermark_to: d.watermark_to.clone(),
        rows_read: 0,
        rows_landed: 0,
        rows_quarantined: 0,
        table_version: None,
        started_at: started,
        seconds: 0.0,
        note: None,
    };
    let cx = ReadContext {
        columns: dataset.columns.clone(),
        batch_rows: opts.batch_rows,
        base_dir: opts.base_dir.clone(),
        xlsx: opts.xlsx,
    };
    let data_done = has_txn(data, &id).await?;
    let q_schema = conform::quarantine_schema();
    let mut quarantine = lake.table(&dataset.quarantine_path(), &q_schema).await?;
    let q_done = has_txn(&quarantine, &id).await?;
    let mut writer = RecordBatchWriter::for_table(data)
        .map_err(|e| LandError::lake(&dataset.data_path(), e))?
        .with_target_file_size(opts.target_file_bytes)
        .with_writer_properties(writer_properties(opts));
    let mut q_writer = RecordBatchWriter::for_table(&quarantine)
        .map_err(|e| LandError::lake(&dataset.quarantine_path(), e))?;
    let stream = source.read(d, &cx).await?;
    // Typing a batch runs on the blocking pool, one batch ahead of the
    // Parquet encoding below: the source's reader, the typing and the
    // encoding then overlap instead of the encoding thread also typing
    // (which made it the slowest of the stages).
    let typing = Typing {
        columns: dataset.columns.clone().into(),
        schema: schema.clone(),
        delivery: id.clone(),
        tz: opts.time_zone,
        table: dataset.data_path(),
    };
    let mut stream = stream
        .map(move |item| typing.clone().conform(item))
        .buffered(CONFORM_AHEAD);
    let mut end = None;
    let result: Result<(), LandError> = async {
        while let Some(item) = stream.next().await {
            match item? {
                Typed::Batch { read, conformed: c } => {
                    record.rows_read += read as i64;
                    record.rows_landed += c.rows() as i64;
                    record.rows_quarantined += c.quarantined.len() as i64;
                    if !data_done {
                        for rows in c.runs {
                            let rows = evolve::align(rows, &writer.arrow_schema())?;
                            writer
                                .write(rows)
                                .await
                                .map_err(|e| LandError::lake(&dataset.data_path(), e))?;
                        }
                    }
                    if !q_done && !c.quarantined.is_empty() {
                        q_writer
                            .write(conform::quarantine_batch(&c.quarantined, &id, &d.location))
                            .await
                            .map_err(|e| LandError::lake(&dataset.quarantine_path(), e))?;
                    }
                }
                Typed::End(e) => end = Some(e),
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        // Nothing was committed; the files written so far belong to no version.
        writer.reset();
        q_writer.reset();
        return Err(e);
    }
    let Some(end) = end else {
        writer.reset();
        q_writer.reset();
        return Err(LandError::Source(SourceError::Config(format!(
            "{}: the source stopped before the end of the delivery",
            d.location
        ))));
    };
    record.sha256 = end.sha256.clone();
    record.bytes = end.bytes as i64;
    let mut notes = end.notes.clone();
    let same = landed_before(dataset.mode, history, &end);
    let unchanged = same.is_some() && (dataset.mode == LoadMode::Full || d.watermark_to.is_none());
    if unchanged && !data_done {
        writer.reset();
        q_writer.reset();
        record.status = DeliveryStatus::Unchanged;
        notes.extend(same.map(|r| format!("same content as delivery {}", r.delivery)));
        record.note = joined(notes);
        record.rows_landed = 0;
        record.rows_quarantined = 0;
        record.seconds = clock.elapsed().as_secs_f64();
        return Ok(record);
    }
    if !data_done && let Some(reason) = held_back(dataset, history, &record) {
        writer.reset();
        q_writer.reset();
        tracing::warn!(dataset = %dataset.id(), location = %d.location, "{reason}");
        record.status = DeliveryStatus::Held;
        notes.insert(0, reason);
        record.note = joined(notes);
        // Nothing of it is in the lake: read = landed + quarantined = 0.
        record.rows_read = 0;
        record.rows_landed = 0;
        record.rows_quarantined = 0;
        record.seconds = clock.elapsed().as_secs_f64();
        return Ok(record);
    }
    record.note = joined(notes.clone());
    let txn = || Transaction::new(app_id(&id), 1);
    // Every file of the delivery is written before any commit: a write that
    // fails (a full disk, a cut connection) leaves both tables as they were,
    // not the quarantine committed without its data.
    let q_adds: Vec<Action> = if q_done {
        vec![]
    } else {
        q_writer
            .flush()
            .await
            .map_err(|e| LandError::lake(&dataset.quarantine_path(), e))?
            .into_iter()
            .map(Action::Add)
            .collect()
    };
    let data_adds: Vec<Action> = if data_done {
        vec![]
    } else {
        writer
            .flush()
            .await
            .map_err(|e| LandError::lake(&dataset.data_path(), e))?
            .into_iter()
            .map(Action::Add)
            .collect()
    };
    if !q_done {
        commit(
            &mut quarantine,
            q_adds,
            vec![],
            txn(),
            &record,
            None,
            SaveMode::Append,
        )
        .await
        .map_err(|e| LandError::lake(&dataset.quarantine_path(), e))?;
    }
    if !data_done {
        let removes: Vec<Action> = if dataset.mode == LoadMode::Full {
            data.snapshot()
                .map(|s| {
                    s.log_data()
                        .iter()
                        .map(|f| Action::Remove(f.remove_action(true)))
                        .collect()
                })
                .unwrap_or_default()
        } else {
            vec![]
        };
        let mode = if dataset.mode == LoadMode::Full {
            SaveMode::Overwrite
        } else {
            SaveMode::Append
        };
        let v = commit(
            data,
            data_adds,
            removes,
            txn(),
            &record,
            end.state.as_deref(),
            mode,
        )
        .await
        .map_err(|e| LandError::lake(&dataset.data_path(), e))?;
        record.table_version = Some(v as i64);
    } else {
        record.table_version = data.version().map(|v| v as i64);
        notes.push("data committed by an earlier, interrupted run".into());
        record.note = joined(notes);
    }
    record.seconds = clock.elapsed().as_secs_f64();
    let _ = lake;
    Ok(record)
}

/// Raw batches typed ahead of the writer: enough to keep the encoding
/// busy, few enough that memory stays a handful of batches.
const CONFORM_AHEAD: usize = 2;

/// What typing a delivery's batches needs, cheap to clone into each task.
#[derive(Clone)]
struct Typing {
    columns: std::sync::Arc<[connectors::source::ColumnDef]>,
    schema: arrow::datatypes::SchemaRef,
    delivery: String,
    tz: Tz,
    table: String,
}

/// A source item once typed.
enum Typed {
    /// A batch: how many records were read, and what they became.
    Batch {
        read: usize,
        conformed: conform::Conformed,
    },
    /// The end of the delivery.
    End(connectors::source::DeliveryEnd),
}

impl Typing {
    async fn conform(self, item: Result<RawItem, SourceError>) -> Result<Typed, LandError> {
        match item? {
            RawItem::Batch(raw) => {
                let table = self.table.clone();
                tokio::task::spawn_blocking(move || {
                    let read = raw.columns.num_rows() + raw.rejects.len();
                    conform::conform(&raw, &self.columns, &self.schema, &self.delivery, self.tz)
                        .map(|conformed| Typed::Batch { read, conformed })
                        .map_err(|e| LandError::lake(&self.table, e))
                })
                .await
                .map_err(|e| LandError::lake(&table, format!("typing a batch failed: {e}")))?
            }
            RawItem::End(e) => Ok(Typed::End(e)),
        }
    }
}

fn joined(notes: Vec<String>) -> Option<String> {
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// The delivery that brought a delivery's content into the lake, if it is
/// there already: for `full`, the last landed snapshot's content; for
/// `append`, any landed delivery's. An `unchanged` record counts as the
/// content it matched, under the hash it was read with: after an upgrade
/// changed how a source's content is hashed, the first unchanged run
/// records the new hash, and a later run that can no longer match the old
/// one (a query's rows in another order) still matches that.
fn landed_before<'h>(
    mode: LoadMode,
    history: &'h [DeliveryRecord],
    end: &connectors::source::DeliveryEnd,
) -> Option<&'h DeliveryRecord> {
    // By this version or, for a database or an API, by one that hashed
    // the content another way (`legacy_sha256`).
    let same_content = |r: &DeliveryRecord| {
        r.sha256 == end.sha256 || end.legacy_sha256.as_ref() == Some(&r.sha256)
    };
    // The landed delivery itself where it matches (the ledger's note names
    // it), else an unchanged one that matched it.
    let find = |records: &'h [DeliveryRecord]| {
        let matching = |status: DeliveryStatus| {
            records
                .iter()
                .rev()
                .find(move |r| r.status == status && same_content(r))
        };
        matching(DeliveryStatus::Landed).or_else(|| matching(DeliveryStatus::Unchanged))
    };
    match mode {
        // The last landed snapshot and the unchanged ones after it
        // (held-back snapshots are not the table's content).
        LoadMode::Full => history
            .iter()
            .rposition(|r| r.status == DeliveryStatus::Landed)
            .and_then(|last| find(&history[last..])),
        LoadMode::Append => find(history),
    }
}

/// Why a snapshot is held back, if it is: a `full` dataset from a snapshot
/// source whose new snapshot has no rows, or fewer than
/// `min_snapshot_share` of the last landed one's — an emptied or broken
/// table or query, a wrong filter — and no operator accepted this content.
fn held_back(
    dataset: &DatasetDef,
    history: &[DeliveryRecord],
    record: &DeliveryRecord,
) -> Option<String> {
    if dataset.mode != LoadMode::Full || !dataset.source.is_snapshot() {
        return None;
    }
    let share = dataset
        .min_snapshot_share
        .unwrap_or(DEFAULT_MIN_SNAPSHOT_SHARE);
    let last = history
        .iter()
        .rev()
        .find(|r| r.status == DeliveryStatus::Landed)?;
    let rows = record.rows_read;
    if share <= 0.0
        || last.rows_read <= 0
        || (rows > 0 && rows as f64 >= share * last.rows_read as f64)
    {
        return None;
    }
    let accepted = dataset.accept_snapshot.as_deref().is_some_and(|a| {
        let a = a.trim().to_ascii_lowercase();
        a.len() >= 12 && record.sha256.starts_with(&a)
    });
    if accepted {
        return None;
    }
    Some(format!(
        "held back: the snapshot has {rows} rows, the last landed one (delivery {}) had {}, below min_snapshot_share {}%; the table keeps its contents. To land this snapshot, set accept_snapshot = \"{}\" in the dataset's definition",
        last.delivery,
        last.rows_read,
        share * 100.0,
        record.sha256
    ))
}

/// Whether the source records a state with its deliveries.
fn keeps_state(source: &SourceConfig) -> bool {
    matches!(source, SourceConfig::Postgres(c) | SourceConfig::Mysql(c) if c.watermark.is_some())
}

/// The source's state recorded with a delivery's data commit.
async fn source_state(data: &DeltaTable, delivery: &str) -> Result<Option<String>, LandError> {
    if data.version().is_none_or(|v| v < 1) {
        return Ok(None);
    }
    let mut history = data.history(Some(STATE_LOOKBACK));
    while let Some(info) = history.next().await {
        let info = info.map_err(|e| LandError::lake("history", e))?;
        let ours = info
            .info
            .get("pdq.delivery")
            .and_then(|d| d.get("delivery"))
            .and_then(|v| v.as_str())
            == Some(delivery);
        if ours {
            return Ok(info
                .info
                .get(SOURCE_STATE)
                .and_then(|v| v.as_str())
                .map(str::to_string));
        }
    }
    Ok(None)
}

/// Row groups are bounded in rows and bytes: the writer holds one row group
/// in memory, so this bounds landing's memory whatever the delivery's size.
fn writer_properties(opts: &LandOptions) -> parquet::file::properties::WriterProperties {
    parquet::file::properties::WriterProperties::builder()
        .set_created_by(format!("pdq {}", env!("CARGO_PKG_VERSION")))
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(opts.row_group_rows))
        .set_max_row_group_bytes(Some(64 << 20))
        // High-cardinality text (IDs, names, addresses) gives up on a
        // dictionary after 128 KiB instead of interning 1 MiB of values per
        // row group; low-cardinality codes still get one.
        .set_dictionary_page_size_limit(128 * 1024)
        .build()
}

/// Commits a delivery's files with its ledger record (and the source's
/// state after it, for the next delivery) in the commit's metadata.
async fn commit(
    table: &mut DeltaTable,
    adds: Vec<Action>,
    removes: Vec<Action>,
    txn: Transaction,
    record: &DeliveryRecord,
    source_state: Option<&str>,
    mode: SaveMode,
) -> Result<u64, DeltaTableError> {
    let app = txn.app_id.clone();
    let snapshot = table.snapshot()?;
    let mut metadata = vec![(
        "pdq.delivery".to_string(),
        serde_json::to_value(record).unwrap_or_default(),
    )];
    if let Some(state) = source_state {
        metadata.push((SOURCE_STATE.to_string(), state.into()));
    }
    let props = CommitProperties::default()
        .with_application_transaction(txn)
        .with_metadata(metadata);
    let finalized = CommitBuilder::from(props)
        .with_actions(adds.into_iter().chain(removes).collect())
        .build(
            Some(snapshot),
            table.log_store(),
            DeltaOperation::Write {
                mode,
                partition_by: None,
                predicate: None,
            },
        )
        .await;
    let version = match finalized {
        Ok(f) => f.version(),
        Err(e) => {
            if !lake::made_after_all(table, &app).await {
                return Err(e);
            }
            tracing::warn!(table = %table.table_url(), "the commit was made though its answer was lost: {e}");
            return Ok(table.version().unwrap_or(0));
        }
    };
    table.update_state().await?;
    Ok(version as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, status: DeliveryStatus, sha: &str) -> DeliveryRecord {
        DeliveryRecord {
            delivery: id.into(),
            dataset: "renshe.t".into(),
            location: "db".into(),
            fingerprint: id.into(),
            status,
            sha256: sha.into(),
            bytes: 0,
            watermark_from: None,
            watermark_to: None,
            rows_read: 1,
            rows_landed: 1,
            rows_quarantined: 0,
            table_version: None,
            started_at: Utc::now(),
            seconds: 0.0,
            note: None,
        }
    }

    fn end(sha: &str, legacy: Option<&str>) -> connectors::source::DeliveryEnd {
        connectors::source::DeliveryEnd {
            sha256: sha.into(),
            legacy_sha256: legacy.map(str::to_string),
            ..Default::default()
        }
    }

    /// After an upgrade that changed how a source's content is hashed: the
    /// last landed snapshot carries the old hash, the first run after the
    /// upgrade matched it by the legacy hash and recorded the new one. A
    /// later run whose rows come in another order (its legacy hash no
    /// longer matches) is still the same snapshot.
    #[test]
    fn an_unchanged_record_vouches_for_its_new_hash_after_an_upgrade() {
        use DeliveryStatus::*;
        let history = [record("d1", Landed, "OLD"), record("d2", Unchanged, "NEW")];
        for mode in [LoadMode::Full, LoadMode::Append] {
            let by = landed_before(mode, &history, &end("NEW", Some("REORDERED")));
            assert!(by.is_some(), "{mode:?}");
            assert_eq!(by.map(|r| r.delivery.as_str()), Some("d2"));
            // The landed delivery is named where it matches itself.
            let by = landed_before(mode, &history, &end("NEW", Some("OLD")));
            assert!(by.is_some());
            assert_eq!(by.map(|r| r.delivery.as_str()), Some("d1"));
            // Other content is other content.
            assert!(landed_before(mode, &history, &end("OTHER", Some("X"))).is_none());
        }
    }

    /// `full` compares with the table's content only: the last landed
    /// snapshot and the unchanged runs after it, never an older snapshot
    /// or a held-back one.
    #[test]
    fn a_full_snapshot_is_unchanged_only_against_the_tables_content() {
        use DeliveryStatus::*;
        let history = [
            record("d1", Landed, "A"),
            record("d2", Unchanged, "A"),
            record("d3", Landed, "B"),
            record("d4", Held, "C"),
        ];
        assert!(landed_before(LoadMode::Full, &history, &end("A", None)).is_none());
        assert!(landed_before(LoadMode::Full, &history, &end("B", None)).is_some());
        assert!(landed_before(LoadMode::Full, &history, &end("C", None)).is_none());
        // `append` recognises any content that landed.
        assert!(landed_before(LoadMode::Append, &history, &end("A", None)).is_some());
        assert!(landed_before(LoadMode::Append, &history, &end("C", None)).is_none());
        assert!(landed_before(LoadMode::Full, &[], &end("A", None)).is_none());
    }
}

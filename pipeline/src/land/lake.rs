//! The lake: Delta Lake tables on a local directory (the default) or an
//! S3-compatible store.
//!
//! Layout under the lake's root:
//!
//! ```text
//! data/<department>/<dataset>/         the landed rows, a version per delivery
//! quarantine/<department>/<dataset>/   rows that could not be typed, with reasons
//! _pdq/deliveries/                     the delivery ledger (read = landed + quarantined)
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Once};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::{StructField, StructType};
use deltalake::logstore::{
    LogStore, LogStoreFactory, ObjectStoreFactory, ObjectStoreRef, StorageConfig, default_logstore,
    logstore_factories, object_store_factories,
};
use deltalake::{DeltaResult, DeltaTable, DeltaTableError, TableProperty};
use object_store::path::Path as StorePath;
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::LandError;

/// Where the lake is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LakeConfig {
    /// A directory (relative to the workspace) or `s3://bucket/prefix`.
    #[serde(default = "default_location")]
    pub location: String,
    /// S3 settings (endpoint, region, keys) when `location` is on S3.
    #[serde(default)]
    pub s3: connectors::source::file::S3Options,
    /// For a lake on S3: the local directory (relative to the workspace)
    /// where checks keep copies of the data files they read, one version
    /// per table (default `.cache/lake`). Unused for a local lake.
    #[serde(default)]
    pub cache: Option<String>,
}

/// What a vacuum of one table deleted ([`Lake::vacuum`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vacuumed {
    /// Files deleted.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// The one value a data file's Delta statistics give `column` (its minimum
/// equal to its maximum), if they do.
fn single_value(stats: &str, column: &str) -> Option<String> {
    let stats: serde_json::Value = serde_json::from_str(stats).ok()?;
    let min = stats.get("minValues")?.get(column)?.as_str()?;
    let max = stats.get("maxValues")?.get(column)?.as_str()?;
    (min == max).then(|| min.to_string())
}

/// Where a lake on S3 keeps its local copies unless `[lake] cache` says.
pub const DEFAULT_CACHE: &str = ".cache/lake";

fn default_location() -> String {
    "lake".into()
}

impl Default for LakeConfig {
    fn default() -> Self {
        LakeConfig {
            location: default_location(),
            s3: Default::default(),
            cache: None,
        }
    }
}

/// An open lake.
#[derive(Debug, Clone)]
pub struct Lake {
    root: Url,
    options: HashMap<String, String>,
    /// For a remote lake: where local copies of its data files go.
    cache: Option<std::path::PathBuf>,
}

#[derive(Debug, Default)]
struct S3Factory;

impl ObjectStoreFactory for S3Factory {
    fn parse_url_opts(
        &self,
        url: &Url,
        config: &StorageConfig,
    ) -> DeltaResult<(ObjectStoreRef, StorePath)> {
        let bucket = url.host_str().unwrap_or_default();
        let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        for (k, v) in &config.raw {
            if let Ok(key) = k
                .to_ascii_lowercase()
                .parse::<object_store::aws::AmazonS3ConfigKey>()
            {
                b = b.with_config(key, v);
            }
        }
        let store = b
            .build()
            .map_err(|e| DeltaTableError::Generic(e.to_string()))?;
        let path = StorePath::from_url_path(url.path())
            .map_err(|e| DeltaTableError::Generic(e.to_string()))?;
        Ok((Arc::new(store), path))
    }
}

#[derive(Debug, Default)]
struct S3LogStoreFactory;

impl LogStoreFactory for S3LogStoreFactory {
    fn with_options(
        &self,
        prefixed_store: ObjectStoreRef,
        root_store: ObjectStoreRef,
        location: &Url,
        options: &StorageConfig,
    ) -> DeltaResult<Arc<dyn LogStore>> {
        // Commits are made with S3's conditional put (If-None-Match), which
        // AWS S3 and the usual S3-compatible servers honour: two writers
        // cannot both create the same log version.
        Ok(default_logstore(
            prefixed_store,
            root_store,
            location,
            options,
        ))
    }
}

fn register_s3() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let url = Url::parse("s3://").expect("scheme URL");
        object_store_factories().insert(url.clone(), Arc::new(S3Factory));
        logstore_factories().insert(url, Arc::new(S3LogStoreFactory));
    });
}

/// Rows serialised into one Arrow batch by [`Lake::append_records`].
const RECORDS_PER_BATCH: usize = 65_536;

/// Serde records as batches of [`RECORDS_PER_BATCH`] rows, each made when
/// it is asked for. (A named iterator, not a closure: a closure held across
/// an `await` makes the future's lifetimes too specific for callers that
/// need it `Send`.)
struct RecordBatches<'a, T> {
    path: &'a str,
    schema: &'a SchemaRef,
    chunks: std::slice::Chunks<'a, T>,
}

impl<T: serde::Serialize> Iterator for RecordBatches<'_, T> {
    type Item = Result<RecordBatch, LandError>;

    fn next(&mut self) -> Option<Self::Item> {
        let chunk = self.chunks.next()?;
        Some(records_batch(self.path, self.schema, chunk))
    }
}

/// Serde records as one batch of `schema` (`path` names the table in an
/// error).
pub fn records_batch<T: serde::Serialize>(
    path: &str,
    schema: &SchemaRef,
    rows: &[T],
) -> Result<RecordBatch, LandError> {
    let mut decoder = arrow::json::ReaderBuilder::new(schema.clone())
        .build_decoder()
        .map_err(|e| LandError::lake(path, e))?;
    decoder
        .serialize(rows)
        .map_err(|e| LandError::lake(path, e))?;
    decoder
        .flush()
        .map_err(|e| LandError::lake(path, e))?
        .ok_or_else(|| LandError::lake(path, "no rows decoded"))
}

impl Lake {
    /// Opens (creating the directory of) a lake; relative locations are
    /// resolved against `base_dir`.
    pub fn open(config: &LakeConfig, base_dir: &Path) -> Result<Lake, LandError> {
        if config.location.starts_with("s3://") {
            register_s3();
            let mut options = HashMap::new();
            let endpoint = config
                .s3
                .endpoint
                .clone()
                .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok());
            if let Some(e) = endpoint {
                options.insert(
                    "aws_allow_http".into(),
                    e.starts_with("http://").to_string(),
                );
                options.insert("aws_endpoint".into(), e);
            }
            let region = config
                .s3
                .region
                .clone()
                .or_else(|| std::env::var("AWS_REGION").ok());
            options.insert(
                "aws_region".into(),
                region.unwrap_or_else(|| "us-east-1".into()),
            );
            if let Some(k) = &config.s3.access_key {
                options.insert(
                    "aws_access_key_id".into(),
                    k.resolve(base_dir).map_err(LandError::Source)?,
                );
            }
            if let Some(k) = &config.s3.secret_key {
                options.insert(
                    "aws_secret_access_key".into(),
                    k.resolve(base_dir).map_err(LandError::Source)?,
                );
            }
            options.insert("aws_conditional_put".into(), "etag".into());
            let root = Url::parse(&format!("{}/", config.location.trim_end_matches('/'))).map_err(
                |e| LandError::Config(format!("lake location {}: {e}", config.location)),
            )?;
            let cache = base_dir.join(config.cache.as_deref().unwrap_or(DEFAULT_CACHE));
            return Ok(Lake {
                root,
                options,
                cache: Some(cache),
            });
        }
        let dir = base_dir.join(&config.location);
        std::fs::create_dir_all(&dir).map_err(|e| {
            LandError::Config(format!(
                "{}: cannot create the lake directory: {e}",
                dir.display()
            ))
        })?;
        let dir = dir
            .canonicalize()
            .map_err(|e| LandError::Config(format!("{}: {e}", dir.display())))?;
        let root = Url::from_directory_path(&dir).map_err(|_| {
            LandError::Config(format!("{}: not an absolute directory", dir.display()))
        })?;
        Ok(Lake {
            root,
            options: HashMap::new(),
            cache: None,
        })
    }

    /// The lake's root URL.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// Where the lake is, for messages: its directory, or its URL.
    pub fn location(&self) -> String {
        match self.root.to_file_path() {
            Ok(p) if self.root.scheme() == "file" => {
                p.display().to_string().trim_end_matches('/').to_string()
            }
            _ => self.root.to_string(),
        }
    }

    /// A failure landing `delivery`, told in full when the lake's disk is
    /// full: where the lake is, that the delivery is not recorded as landed
    /// (the ledger record is written last), and what to do.
    pub(crate) fn explain(&self, e: LandError, delivery: &str) -> LandError {
        if !e.is_disk_full() {
            return e;
        }
        match e {
            LandError::Lake { table, message } => LandError::Lake {
                table,
                message: format!(
                    "{message} under {}; {delivery} is not recorded as landed: free space there, then run again",
                    self.location()
                ),
            },
            e => e,
        }
    }

    /// The URL of a table, by its path under the root.
    pub fn table_url(&self, path: &str) -> Result<Url, LandError> {
        let url = self
            .root
            .join(&format!("{}/", path.trim_matches('/')))
            .map_err(|e| LandError::Config(format!("table {path}: {e}")))?;
        if url.scheme() == "file" {
            let p = url
                .to_file_path()
                .map_err(|_| LandError::Config(format!("table {path}: bad path")))?;
            std::fs::create_dir_all(&p)
                .map_err(|e| LandError::Config(format!("{}: {e}", p.display())))?;
        }
        Ok(url)
    }

    /// Opens a table, `None` if it does not exist yet.
    pub async fn open_table(&self, path: &str) -> Result<Option<DeltaTable>, LandError> {
        let url = self.table_url(path)?;
        let table = DeltaTable::try_from_url_with_storage_options(url, self.options.clone())
            .await
            .map_err(|e| LandError::lake(path, e))?;
        Ok(table.version().map(|_| table))
    }

    /// Opens a table, creating it with `schema` if it does not exist.
    pub async fn table(&self, path: &str, schema: &SchemaRef) -> Result<DeltaTable, LandError> {
        let url = self.table_url(path)?;
        let table = DeltaTable::try_from_url_with_storage_options(url, self.options.clone())
            .await
            .map_err(|e| LandError::lake(path, e))?;
        if table.version().is_some() {
            return Ok(table);
        }
        let kernel: StructType = schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| LandError::lake(path, DeltaTableError::Generic(e.to_string())))?;
        let fields: Vec<StructField> = kernel.fields().cloned().collect();
        // Version 0 is written with put-if-absent and no retry: when two
        // processes create the same table at once, one wins and the other
        // opens the winner's table (a retried create would commit a second
        // schema as version 1 and break the first writer's commit).
        let created = table
            .create()
            .with_columns(fields)
            // Every version stays readable (see `Lake::keep_every_version`).
            .with_configuration_property(TableProperty::EnableExpiredLogCleanup, Some("false"))
            .with_commit_properties(
                deltalake::kernel::transaction::CommitProperties::default().with_max_retries(0),
            )
            .await;
        match created {
            Ok(t) => Ok(t),
            Err(e) => match self.open_table(path).await? {
                Some(t) => Ok(t),
                None => Err(LandError::lake(path, e)),
            },
        }
    }

    /// Makes every version of table `path` stay readable: Delta deletes log
    /// files older than 30 days once a later checkpoint covers them, unless
    /// the table says not to (`delta.enableExpiredLogCleanup = false`, which
    /// every table pdq creates says). The annual evaluation reads
    /// `_pdq/rule_results` at the version of the year's last run, months
    /// later. For tables made before that rule: one commit setting the
    /// property, made once. Data files are not kept by this: only the log
    /// (a small file a commit); [`Lake::vacuum`] still deletes replaced
    /// files past its window. Returns whether it had to be set.
    pub async fn keep_every_version(&self, path: &str) -> Result<bool, LandError> {
        let Some(table) = self.open_table(path).await? else {
            return Ok(false);
        };
        let err = |e: &dyn std::fmt::Display| LandError::lake(path, e);
        let key = TableProperty::EnableExpiredLogCleanup.as_ref();
        let set = table
            .snapshot()
            .map_err(|e| err(&e))?
            .metadata()
            .configuration()
            .get(key)
            .is_some_and(|v| v.eq_ignore_ascii_case("false"));
        if set {
            return Ok(false);
        }
        table
            .set_tbl_properties()
            .with_properties(HashMap::from([(key.to_string(), "false".to_string())]))
            .await
            .map_err(|e| err(&e))?;
        Ok(true)
    }

    /// A DataFusion context that can read this lake's tables.
    pub async fn register(
        &self,
        ctx: &datafusion::prelude::SessionContext,
        name: &str,
        table: &DeltaTable,
    ) -> Result<(), LandError> {
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| LandError::lake(name, e))?;
        let provider = table
            .table_provider()
            .await
            .map_err(|e| LandError::lake(name, DeltaTableError::Generic(e.to_string())))?;
        ctx.register_table(name, provider)
            .map_err(|e| LandError::lake(name, DeltaTableError::Generic(e.to_string())))?;
        Ok(())
    }

    /// Runs SQL over tables of the lake, each registered under a name:
    /// `lake.sql(&[("d", "data/gongan/residents")], "SELECT count(*) FROM d")`.
    /// A table that does not exist yet is an error naming it.
    pub async fn sql(
        &self,
        tables: &[(&str, &str)],
        sql: &str,
    ) -> Result<Vec<arrow::array::RecordBatch>, LandError> {
        let ctx = datafusion::prelude::SessionContext::new();
        for (name, path) in tables {
            let t = self
                .open_table(path)
                .await?
                .ok_or_else(|| LandError::lake(path, "no such table in the lake"))?;
            self.register(&ctx, name, &t).await?;
        }
        let df = ctx.sql(sql).await.map_err(|e| LandError::lake("sql", e))?;
        df.collect().await.map_err(|e| LandError::lake("sql", e))
    }

    /// Appends serde records to a table (created with `schema` if new), as
    /// one commit; with `once`, a commit carrying that id is made only once.
    /// Returns the table version.
    pub async fn append_records<T: serde::Serialize>(
        &self,
        path: &str,
        schema: &SchemaRef,
        rows: &[T],
        once: Option<&str>,
    ) -> Result<i64, LandError> {
        // A chunk of rows at a time: the decoder's tape holds every row it
        // is given, which for millions of rows is several times their size.
        let batches = RecordBatches {
            path,
            schema,
            chunks: rows.chunks(RECORDS_PER_BATCH),
        };
        self.append_batches(path, schema, batches, once).await
    }

    /// Appends batches to a table (created with `schema` if new), as one
    /// commit, taking each batch from `batches` only when the previous one
    /// is written (so a caller can make them as they are needed); with
    /// `once`, a commit carrying that id is made only once. No batches: no
    /// commit. Returns the table version.
    pub async fn append_batches(
        &self,
        path: &str,
        schema: &SchemaRef,
        batches: impl IntoIterator<Item = Result<RecordBatch, LandError>>,
        once: Option<&str>,
    ) -> Result<i64, LandError> {
        let mut table = self.table(path, schema).await?;
        if let Some(id) = once
            && has_txn(&table, id).await?
        {
            return Ok(table.version().map(|v| v as i64).unwrap_or(0));
        }
        let mut batches = batches.into_iter().peekable();
        if batches.peek().is_none() {
            return Ok(table.version().map(|v| v as i64).unwrap_or(0));
        }
        let mut props = deltalake::kernel::transaction::CommitProperties::default();
        if let Some(id) = once {
            props = props
                .with_application_transaction(deltalake::kernel::Transaction::new(app_id(id), 1));
        }
        let mut w = deltalake::writer::RecordBatchWriter::for_table(&table)
            .map_err(|e| LandError::lake(path, e))?
            .with_commit_properties(props);
        use deltalake::writer::DeltaWriter;
        for batch in batches {
            w.write(batch?)
                .await
                .map_err(|e| LandError::lake(path, e))?;
        }
        let v = w
            .flush_and_commit(&mut table)
            .await
            .map_err(|e| LandError::lake(path, e))?;
        Ok(v as i64)
    }

    /// Deletes the rows of a table matching `predicate`, as one commit of
    /// the table (the files holding such rows are rewritten without them
    /// and swapped in by that commit): a crash before it leaves the table
    /// as it was, readable, and running again deletes them then. Returns
    /// the table's version after it (`None`: no such table). Callers count
    /// the rows themselves: Delta does not always report them (a file
    /// removed whole).
    pub async fn delete_where(
        &self,
        path: &str,
        predicate: datafusion::prelude::Expr,
    ) -> Result<Option<i64>, LandError> {
        let Some(table) = self.open_table(path).await? else {
            return Ok(None);
        };
        let (table, _) = table
            .delete()
            .with_predicate(predicate)
            .await
            .map_err(|e| LandError::lake(path, e))?;
        Ok(table.version().map(|v| v as i64))
    }

    /// Deletes the files of table `path` that no version committed within
    /// `keep` needs: files a later version replaced or removed more than
    /// `keep` ago (a full delivery's predecessor, rows a prune removed),
    /// and files older than `keep` that no version ever committed (a write
    /// that died before its commit). The current version and every version
    /// committed within `keep` stay readable (time travel); a table only
    /// ever appended to loses nothing readable. No commit is made when
    /// there is nothing to delete. With `dry_run`, nothing is: the figures
    /// say what would be. `None`: no such table.
    pub async fn vacuum(
        &self,
        path: &str,
        keep: chrono::Duration,
        dry_run: bool,
    ) -> Result<Option<Vacuumed>, LandError> {
        use deltalake::operations::vacuum::VacuumMode;
        let Some(table) = self.open_table(path).await? else {
            return Ok(None);
        };
        let store = table.object_store();
        let plan = |dry_run: bool| {
            table
                .clone()
                .vacuum()
                .with_mode(VacuumMode::Full)
                .with_retention_period(keep)
                // The workspace's `[retention] lake_days` is the rule here,
                // not the table's own default of seven days.
                .with_enforce_retention_duration(false)
                .with_dry_run(dry_run)
        };
        let (_, planned) = plan(true).await.map_err(|e| LandError::lake(path, e))?;
        // The log remembers a removed file after it is deleted: only the
        // files still there count, and none left means no commit.
        let mut there = Vacuumed::default();
        for f in &planned.files_deleted {
            let at = StorePath::from(f.as_str());
            if let Ok(meta) = object_store::ObjectStoreExt::head(store.as_ref(), &at).await {
                there.files += 1;
                there.bytes += meta.size;
            }
        }
        if dry_run || there.files == 0 {
            return Ok(Some(there));
        }
        plan(false).await.map_err(|e| LandError::lake(path, e))?;
        Ok(Some(there))
    }

    /// Keeps the rows of the `keep` runs written last to table `path` and
    /// removes those of older runs, in one commit. A run is the value of
    /// the string column `column`; runs are ordered by when their files
    /// were written, not by name. The rows go by whole files, read from
    /// the table's log (nothing is read or rewritten): each file a run
    /// appends holds that run only, so its statistics give one value. A
    /// file whose statistics show several values, or none, is kept. The
    /// files stay on disk, readable by time travel, until
    /// [`Lake::vacuum`]. Returns the runs removed, oldest first.
    pub async fn keep_latest_runs(
        &self,
        path: &str,
        column: &str,
        keep: usize,
    ) -> Result<Vec<String>, LandError> {
        use deltalake::kernel::Action;
        use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
        use deltalake::protocol::DeltaOperation;
        let Some(mut table) = self.open_table(path).await? else {
            return Ok(vec![]);
        };
        let err = |e: &dyn std::fmt::Display| LandError::lake(path, e);
        let snapshot = table.snapshot().map_err(|e| err(&e))?;
        // run -> (its files' latest write time, its files)
        let mut runs: HashMap<String, (i64, Vec<Action>)> = HashMap::new();
        for f in snapshot.log_data().iter() {
            let Some(run) = f.stats().and_then(|s| single_value(&s, column)) else {
                continue;
            };
            let entry = runs.entry(run).or_insert((i64::MIN, Vec::new()));
            entry.0 = entry.0.max(f.modification_time());
            entry.1.push(Action::Remove(f.remove_action(true)));
        }
        if runs.len() <= keep {
            return Ok(vec![]);
        }
        let mut order: Vec<(i64, String)> =
            runs.iter().map(|(r, (t, _))| (*t, r.clone())).collect();
        order.sort();
        let gone: Vec<String> = order[..order.len() - keep]
            .iter()
            .map(|(_, r)| r.clone())
            .collect();
        let removes: Vec<Action> = gone
            .iter()
            .flat_map(|r| runs.remove(r).map(|(_, a)| a).unwrap_or_default())
            .collect();
        let quoted: Vec<String> = gone
            .iter()
            .map(|r| format!("'{}'", r.replace('\'', "''")))
            .collect();
        let operation = DeltaOperation::Delete {
            predicate: Some(format!("{column} IN ({})", quoted.join(", "))),
        };
        CommitBuilder::from(CommitProperties::default())
            .with_actions(removes)
            .build(Some(snapshot), table.log_store(), operation)
            .await
            .map_err(|e| err(&e))?;
        table.update_state().await.map_err(|e| err(&e))?;
        Ok(gone)
    }

    /// Reads a table's records (all, or those matching a SQL `WHERE`
    /// condition), in the order of `order_by`; an absent table reads empty.
    pub async fn read_records<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        condition: Option<&str>,
        order_by: &str,
    ) -> Result<Vec<T>, LandError> {
        self.read_records_at(path, None, condition, order_by).await
    }

    /// [`Lake::read_records`] at a given table version (Delta time travel),
    /// or the latest.
    pub async fn read_records_at<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        version: Option<i64>,
        condition: Option<&str>,
        order_by: &str,
    ) -> Result<Vec<T>, LandError> {
        let Some(mut table) = self.open_table(path).await? else {
            return Ok(vec![]);
        };
        if let Some(v) = version {
            table
                .load_version(v.max(0) as u64)
                .await
                .map_err(|e| LandError::lake(path, e))?;
        }
        let sql = format!(
            "SELECT * FROM t{} ORDER BY {order_by}",
            condition.map(|c| format!(" WHERE {c}")).unwrap_or_default()
        );
        let ctx = datafusion::prelude::SessionContext::new();
        self.register(&ctx, "t", &table).await?;
        let batches = ctx
            .sql(&sql)
            .await
            .map_err(|e| LandError::lake(path, e))?
            .collect()
            .await
            .map_err(|e| LandError::lake(path, e))?;
        let mut out = vec![];
        for b in batches {
            out.extend(records_of::<T>(path, &b)?);
        }
        Ok(out)
    }

    /// Hands a table's records (at `version`, or the latest; all, or those
    /// matching a SQL `WHERE` condition) to `each`, one batch at a time and
    /// in no particular order: memory holds one batch of records, not the
    /// table (a catalog's history of 100,000 entries, say). An absent
    /// table has none.
    pub async fn for_each_record<T, F>(
        &self,
        path: &str,
        version: Option<i64>,
        condition: Option<&str>,
        mut each: F,
    ) -> Result<(), LandError>
    where
        T: serde::de::DeserializeOwned,
        F: FnMut(T) -> Result<(), LandError>,
    {
        use futures::StreamExt;
        let Some(mut table) = self.open_table(path).await? else {
            return Ok(());
        };
        if let Some(v) = version {
            table
                .load_version(v.max(0) as u64)
                .await
                .map_err(|e| LandError::lake(path, e))?;
        }
        let sql = format!(
            "SELECT * FROM t{}",
            condition.map(|c| format!(" WHERE {c}")).unwrap_or_default()
        );
        let ctx = datafusion::prelude::SessionContext::new();
        self.register(&ctx, "t", &table).await?;
        let mut stream = ctx
            .sql(&sql)
            .await
            .map_err(|e| LandError::lake(path, e))?
            .execute_stream()
            .await
            .map_err(|e| LandError::lake(path, e))?;
        while let Some(b) = stream.next().await {
            let b = b.map_err(|e| LandError::lake(path, e))?;
            for r in records_of::<T>(path, &b)? {
                each(r)?;
            }
        }
        Ok(())
    }

    /// The data files of a table's current version, as local paths (for
    /// engines that read files): the files themselves in a local lake; for
    /// a lake on S3, local copies kept in the lake's cache directory
    /// (fetched once per file: Delta data files never change).
    pub async fn local_files(&self, path: &str) -> Result<Vec<std::path::PathBuf>, LandError> {
        let table = self
            .open_table(path)
            .await?
            .ok_or_else(|| LandError::lake(path, "no such table in the lake"))?;
        if let Some(cache) = &self.cache {
            return super::file_cache::local_copies(&table, path, cache).await;
        }
        let mut files = vec![];
        let base = table.table_url().clone();
        for uri in table
            .get_file_uris()
            .map_err(|e| LandError::lake(path, e))?
        {
            let url = match Url::parse(&uri) {
                Ok(u) => u,
                // Paths relative to the table's root.
                Err(_) => base.join(&uri).map_err(|e| LandError::lake(path, e))?,
            };
            let p = url
                .to_file_path()
                .map_err(|_| LandError::lake(path, format!("{uri} is not a local file")))?;
            files.push(p);
        }
        files.sort();
        Ok(files)
    }
}

pub(crate) fn app_id(id: &str) -> String {
    format!("pdq-delivery-{id}")
}

/// Whether a commit that failed was made after all: its answer lost (a
/// connection cut once the store had it), the writer's retry finds its own
/// version taken and reports a concurrent transaction. Reloads `table` and
/// looks for the commit's application transaction `app`.
pub(crate) async fn made_after_all(table: &mut DeltaTable, app: &str) -> bool {
    if table.update_state().await.is_err() {
        return false;
    }
    let Ok(state) = table.snapshot() else {
        return false;
    };
    matches!(
        state
            .transaction_version(table.log_store().as_ref(), app.to_string())
            .await,
        Ok(Some(_))
    )
}

pub(crate) async fn has_txn(table: &DeltaTable, id: &str) -> Result<bool, LandError> {
    let Ok(state) = table.snapshot() else {
        return Ok(false);
    };
    Ok(state
        .transaction_version(table.log_store().as_ref(), app_id(id))
        .await
        .map_err(|e| LandError::lake("txn", e))?
        .is_some())
}

/// One batch's rows as records (through JSON: Delta reads text back as
/// views, which JSON wants as plain strings).
fn records_of<T: serde::de::DeserializeOwned>(
    path: &str,
    b: &arrow::array::RecordBatch,
) -> Result<Vec<T>, LandError> {
    let fields: Vec<arrow::datatypes::Field> = b
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            arrow::datatypes::DataType::Utf8View | arrow::datatypes::DataType::LargeUtf8 => {
                arrow::datatypes::Field::new(f.name(), arrow::datatypes::DataType::Utf8, true)
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    let cols = b
        .columns()
        .iter()
        .zip(&fields)
        .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LandError::lake(path, e))?;
    let b = arrow::array::RecordBatch::try_new(
        std::sync::Arc::new(arrow::datatypes::Schema::new(fields)),
        cols,
    )
    .map_err(|e| LandError::lake(path, e))?;
    let mut buf = Vec::new();
    {
        let mut w = arrow::json::ArrayWriter::new(&mut buf);
        w.write(&b).map_err(|e| LandError::lake(path, e))?;
        w.finish().map_err(|e| LandError::lake(path, e))?;
    }
    if buf.is_empty() {
        return Ok(vec![]);
    }
    serde_json::from_slice(&buf).map_err(|e| LandError::lake(path, e))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    #[derive(serde::Serialize)]
    struct Row {
        n: i64,
    }

    /// An empty lake in a temporary directory, the schema of [`Row`], a runtime.
    fn lake_of_numbers() -> (tempfile::TempDir, Lake, SchemaRef, tokio::runtime::Runtime) {
        let dir = tempfile::tempdir().unwrap();
        let lake = Lake::open(&LakeConfig::default(), dir.path()).unwrap();
        let schema: SchemaRef =
            Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        (dir, lake, schema, tokio::runtime::Runtime::new().unwrap())
    }

    #[test]
    fn records_beyond_one_batch_land_in_one_commit_once() {
        let (_dir, lake, schema, rt) = lake_of_numbers();
        let rows: Vec<Row> = (0..2 * RECORDS_PER_BATCH as i64 + 7)
            .map(|n| Row { n })
            .collect();
        let first = rt
            .block_on(lake.append_records("t", &schema, &rows, Some("run-1")))
            .unwrap();
        let again = rt
            .block_on(lake.append_records("t", &schema, &rows, Some("run-1")))
            .unwrap();
        assert_eq!(again, first, "a commit with the same id is made once");
        let none = rt
            .block_on(lake.append_batches("t", &schema, std::iter::empty(), None))
            .unwrap();
        assert_eq!(none, first, "no batches, no commit");
        let counted = rt
            .block_on(lake.sql(
                &[("t", "t")],
                "SELECT count(*), count(DISTINCT n), sum(n) FROM t",
            ))
            .unwrap();
        let n = rows.len() as i64;
        assert_eq!(
            arrow::util::pretty::pretty_format_batches(&counted)
                .unwrap()
                .to_string()
                .lines()
                .nth(3)
                .unwrap()
                .split('|')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>(),
            vec![n.to_string(), n.to_string(), (n * (n - 1) / 2).to_string()]
        );
    }

    #[test]
    fn a_bad_batch_fails_the_append_and_commits_nothing() {
        let (_dir, lake, schema, rt) = lake_of_numbers();
        let v0 = rt
            .block_on(lake.append_records("t", &schema, &[Row { n: 1 }], None))
            .unwrap();
        let batches = [
            records_batch("t", &schema, &[Row { n: 2 }]),
            Err(LandError::lake("t", "made up")),
        ];
        let e = rt
            .block_on(lake.append_batches("t", &schema, batches, None))
            .unwrap_err();
        assert!(e.to_string().contains("made up"), "{e}");
        let t = rt.block_on(lake.open_table("t")).unwrap().unwrap();
        assert_eq!(t.version().map(|v| v as i64), Some(v0));
    }

    /// The data files under a local table's directory (its log aside).
    fn data_files(dir: &Path, table: &str) -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(dir.join("lake").join(table))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect();
        files.sort();
        files
    }

    fn numbers(lake: &Lake, rt: &tokio::runtime::Runtime, version: Option<i64>) -> Vec<i64> {
        #[derive(serde::Deserialize)]
        struct N {
            n: i64,
        }
        rt.block_on(lake.read_records_at::<N>("t", version, None, "n"))
            .unwrap()
            .into_iter()
            .map(|r| r.n)
            .collect()
    }

    #[test]
    fn vacuum_deletes_removed_and_uncommitted_files_past_the_window_only() {
        let (dir, lake, schema, rt) = lake_of_numbers();
        let rows = |ns: &[i64]| ns.iter().map(|&n| Row { n }).collect::<Vec<_>>();
        let v1 = rt
            .block_on(lake.append_records("t", &schema, &rows(&[1, 2]), None))
            .unwrap();
        rt.block_on(lake.append_records("t", &schema, &rows(&[3]), None))
            .unwrap();
        // A prune removes the first file's rows: its file stays for time travel.
        rt.block_on(lake.delete_where(
            "t",
            datafusion::prelude::col("n").lt(datafusion::prelude::lit(3i64)),
        ))
        .unwrap();
        // A write that died before its commit left a file behind.
        let dead = dir.path().join("lake/t/part-00000-dead.snappy.parquet");
        std::fs::write(&dead, b"PAR1 never committed").unwrap();
        let before = data_files(dir.path(), "t");
        assert_eq!(before.len(), 3, "{before:?}");
        let live = numbers(&lake, &rt, None);
        assert_eq!(live, vec![3]);

        // Within the window: nothing goes, the earlier version reads.
        let day = chrono::Duration::days(1);
        let kept = rt.block_on(lake.vacuum("t", day, false)).unwrap().unwrap();
        assert_eq!(kept, Vacuumed::default());
        assert_eq!(data_files(dir.path(), "t"), before);
        assert_eq!(numbers(&lake, &rt, Some(v1)), vec![1, 2]);

        // A dry run past the window says what would go and deletes nothing.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let zero = chrono::Duration::zero();
        let would = rt.block_on(lake.vacuum("t", zero, true)).unwrap().unwrap();
        let removed_size = std::fs::metadata(&before[0]).unwrap().len()
            + std::fs::metadata(&before[1]).unwrap().len()
            + std::fs::metadata(&before[2]).unwrap().len()
            - live_file_size(&lake, &rt);
        assert_eq!(would.files, 2, "{would:?}");
        assert_eq!(would.bytes, removed_size);
        assert_eq!(data_files(dir.path(), "t"), before);

        // Past the window: the removed file and the dead one go, the
        // current version is untouched.
        let done = rt.block_on(lake.vacuum("t", zero, false)).unwrap().unwrap();
        assert_eq!(done, would);
        let after = data_files(dir.path(), "t");
        assert_eq!(after.len(), 1, "{after:?}");
        assert!(!dead.exists());
        assert_eq!(numbers(&lake, &rt, None), vec![3]);
        // Nothing more to do: no commit is made.
        let version = rt
            .block_on(lake.open_table("t"))
            .unwrap()
            .unwrap()
            .version();
        let again = rt.block_on(lake.vacuum("t", zero, false)).unwrap().unwrap();
        assert_eq!(again, Vacuumed::default());
        let same = rt
            .block_on(lake.open_table("t"))
            .unwrap()
            .unwrap()
            .version();
        assert_eq!(same, version);
        assert_eq!(
            rt.block_on(lake.vacuum("absent", zero, false)).unwrap(),
            None
        );
    }

    /// The size of the one file the table's current version holds.
    fn live_file_size(lake: &Lake, rt: &tokio::runtime::Runtime) -> u64 {
        let t = rt.block_on(lake.open_table("t")).unwrap().unwrap();
        let sizes: Vec<i64> = t
            .snapshot()
            .unwrap()
            .log_data()
            .iter()
            .map(|f| f.size())
            .collect();
        assert_eq!(sizes.len(), 1);
        sizes[0] as u64
    }

    #[derive(serde::Serialize, serde::Deserialize)]
    struct RunRow {
        run: String,
        n: i64,
    }

    #[test]
    fn the_latest_runs_are_kept_by_when_they_were_written_not_by_name() {
        let (_dir, lake, _, rt) = lake_of_numbers();
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("run", DataType::Utf8, false),
            Field::new("n", DataType::Int64, false),
        ]));
        let append = |rows: Vec<RunRow>| {
            rt.block_on(lake.append_records("r", &schema, &rows, None))
                .unwrap();
            // Write times are in milliseconds.
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        let run = |r: &str, ns: std::ops::Range<i64>| -> Vec<RunRow> {
            ns.map(|n| RunRow { run: r.into(), n }).collect()
        };
        // Written in this order; their names sort the other way.
        append(run("z-first", 0..3));
        append(run("m-second", 3..5));
        append(run("a-third", 5..9));
        let left = |lake: &Lake| -> Vec<String> {
            let rows: Vec<RunRow> = rt.block_on(lake.read_records("r", None, "n")).unwrap();
            let mut runs: Vec<String> = rows.into_iter().map(|r| r.run).collect();
            runs.dedup();
            runs
        };
        assert_eq!(
            rt.block_on(lake.keep_latest_runs("r", "run", 3)).unwrap(),
            Vec::<String>::new()
        );
        let gone = rt.block_on(lake.keep_latest_runs("r", "run", 2)).unwrap();
        assert_eq!(gone, vec!["z-first".to_string()]);
        assert_eq!(left(&lake), vec!["m-second", "a-third"]);
        let rows: Vec<RunRow> = rt.block_on(lake.read_records("r", None, "n")).unwrap();
        assert_eq!(
            rows.iter().map(|r| r.n).collect::<Vec<_>>(),
            (3..9).collect::<Vec<_>>()
        );
        // A file holding two runs is not split: it is kept.
        let mut mixed = run("b-fourth", 9..10);
        mixed.extend(run("c-fourth", 10..11));
        append(mixed);
        let gone = rt.block_on(lake.keep_latest_runs("r", "run", 1)).unwrap();
        assert_eq!(gone, vec!["m-second".to_string()]);
        assert_eq!(left(&lake), vec!["a-third", "b-fourth", "c-fourth"]);
        assert_eq!(
            rt.block_on(lake.keep_latest_runs("absent", "run", 1))
                .unwrap(),
            Vec::<String>::new()
        );
    }

    /// A hundred and six nights of one commit each to table `t` (a
    /// checkpoint at version 100), the log then two months old but the last
    /// night; returns the first night's version.
    fn months_of_nights(
        dir: &Path,
        lake: &Lake,
        schema: &SchemaRef,
        rt: &tokio::runtime::Runtime,
    ) -> i64 {
        let first = rt
            .block_on(lake.append_records("t", schema, &[Row { n: 0 }], None))
            .unwrap();
        for n in 1..105 {
            rt.block_on(lake.append_records("t", schema, &[Row { n }], None))
                .unwrap();
        }
        let log = dir.join("lake/t/_delta_log");
        let checkpoint = |e: &std::io::Result<std::fs::DirEntry>| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".checkpoint")
        };
        assert!(
            std::fs::read_dir(&log).unwrap().any(|e| checkpoint(&e)),
            "a checkpoint was written"
        );
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60 * 86_400);
        for e in std::fs::read_dir(&log).unwrap() {
            let f = std::fs::File::options()
                .write(true)
                .open(e.unwrap().path())
                .unwrap();
            f.set_modified(old).unwrap();
        }
        rt.block_on(lake.append_records("t", schema, &[Row { n: 105 }], None))
            .unwrap();
        first
    }

    /// Delta deletes log files older than 30 days once a later checkpoint
    /// covers them, unless the table says not to; the annual evaluation
    /// reads `_pdq/rule_results` at the version of the year's last run,
    /// months later. Without the property the first version is gone ("No
    /// files in log segment"); every table pdq makes has it.
    #[test]
    fn an_old_version_stays_readable_after_checkpoints_and_months() {
        let (dir, lake, schema, rt) = lake_of_numbers();
        let first = months_of_nights(dir.path(), &lake, &schema, &rt);
        assert_eq!(numbers(&lake, &rt, Some(first)), vec![0]);
        assert!(
            !rt.block_on(lake.keep_every_version("t")).unwrap(),
            "already set"
        );
    }

    /// A table made before that rule is told once (`land::prepare` does it
    /// for the stages' tables), and keeps its versions from then on.
    #[test]
    fn a_table_made_before_keeps_every_version_once_told() {
        let (dir, lake, schema, rt) = lake_of_numbers();
        let kernel: StructType = schema.as_ref().try_into_kernel().unwrap();
        let url = lake.table_url("t").unwrap();
        rt.block_on(async {
            DeltaTable::try_from_url_with_storage_options(url, HashMap::new())
                .await
                .unwrap()
                .create()
                .with_columns(kernel.fields().cloned())
                .await
                .unwrap()
        });
        assert!(
            rt.block_on(lake.keep_every_version("t")).unwrap(),
            "set once"
        );
        assert!(
            !rt.block_on(lake.keep_every_version("t")).unwrap(),
            "then kept"
        );
        assert!(!rt.block_on(lake.keep_every_version("absent")).unwrap());
        let first = months_of_nights(dir.path(), &lake, &schema, &rt);
        assert_eq!(numbers(&lake, &rt, Some(first)), vec![0]);
    }
}

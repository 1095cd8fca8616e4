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

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::{StructField, StructType};
use deltalake::{DeltaTable, DeltaTableError, TableProperty};
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::LandError;

mod records;
mod s3;
#[cfg(test)]
mod tests;
mod upkeep;

pub use upkeep::Vacuumed;

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
            s3::register_s3();
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
        let Some(rows) = self
            .select_at(path, version, condition, Some(order_by))
            .await?
        else {
            return Ok(vec![]);
        };
        let batches = rows.collect().await.map_err(|e| LandError::lake(path, e))?;
        let mut out = vec![];
        for b in batches {
            out.extend(records_of::<T>(path, &b)?);
        }
        Ok(out)
    }

    /// `SELECT *` of table `path` at `version` (or the latest), with an
    /// optional `WHERE` condition and `ORDER BY`, not yet run; None when
    /// the table does not exist.
    async fn select_at(
        &self,
        path: &str,
        version: Option<i64>,
        condition: Option<&str>,
        order_by: Option<&str>,
    ) -> Result<Option<datafusion::prelude::DataFrame>, LandError> {
        let Some(mut table) = self.open_table(path).await? else {
            return Ok(None);
        };
        if let Some(v) = version {
            table
                .load_version(v.max(0) as u64)
                .await
                .map_err(|e| LandError::lake(path, e))?;
        }
        let sql = format!(
            "SELECT * FROM t{}{}",
            condition.map(|c| format!(" WHERE {c}")).unwrap_or_default(),
            order_by
                .map(|o| format!(" ORDER BY {o}"))
                .unwrap_or_default()
        );
        let ctx = datafusion::prelude::SessionContext::new();
        self.register(&ctx, "t", &table).await?;
        let rows = ctx.sql(&sql).await.map_err(|e| LandError::lake(path, e))?;
        Ok(Some(rows))
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
        let Some(rows) = self.select_at(path, version, condition, None).await? else {
            return Ok(());
        };
        let mut stream = rows
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

/// One batch's rows as records ([`records`]).
fn records_of<T: serde::de::DeserializeOwned>(
    path: &str,
    b: &arrow::array::RecordBatch,
) -> Result<Vec<T>, LandError> {
    records::records(b).map_err(|e| LandError::lake(path, e))
}

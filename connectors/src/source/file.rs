//! File sources: a local path, an S3-compatible object store or an HTTP(S)
//! URL, in any supported format. The last path segment may be a glob
//! (`*`, `?`); `select = "newest"` takes only the newest matching file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt, path::Path as StorePath};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use super::csv_stream::{self, CsvOptions};
use super::{Delivery, Landed, RawStream, ReadContext, Secret, Source, SourceError};
use crate::files::{FileError, FileFormat};

/// Which of the matching files to take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Select {
    /// Every file not landed yet, oldest first.
    #[default]
    All,
    /// Only the newest file (by modification time), if not landed yet.
    Newest,
}

/// Connection settings for an S3-compatible store. Keys come from
/// `access_key` / `secret_key` secrets, or else the standard `AWS_*`
/// environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Options {
    /// Endpoint URL (e.g. `http://127.0.0.1:9000`); default AWS.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Region; default `AWS_REGION` or `us-east-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// Access key id.
    #[serde(default)]
    pub access_key: Option<Secret>,
    /// Secret access key.
    #[serde(default)]
    pub secret_key: Option<Secret>,
}

impl S3Options {
    /// Builds a store for `bucket`.
    pub fn build(
        &self,
        bucket: &str,
        base_dir: &Path,
    ) -> Result<Arc<dyn ObjectStore>, SourceError> {
        let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(e) = self
            .endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        {
            b = b.with_allow_http(e.starts_with("http://")).with_endpoint(e);
        }
        let region = self
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok())
            .unwrap_or_else(|| "us-east-1".into());
        b = b.with_region(region);
        if let Some(k) = &self.access_key {
            b = b.with_access_key_id(k.resolve(base_dir)?);
        }
        if let Some(k) = &self.secret_key {
            b = b.with_secret_access_key(k.resolve(base_dir)?);
        }
        let store = b.build().map_err(|e| SourceError::Store {
            location: format!("s3://{bucket}"),
            message: e.to_string(),
        })?;
        Ok(Arc::new(store))
    }
}

fn yes() -> bool {
    true
}

fn one() -> usize {
    1
}

/// A file source, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSourceConfig {
    /// A path (relative to the workspace), `s3://bucket/key` or an HTTP(S)
    /// URL; the last segment may be a glob.
    pub path: String,
    /// Which matching files to take.
    #[serde(default)]
    pub select: Select,
    /// `csv`, `json`, `xlsx` or `parquet`; default from the extension.
    #[serde(default)]
    pub format: Option<String>,
    /// CSV text encoding (`utf-8`, `gbk`, `gb18030`); default detected.
    #[serde(default)]
    pub encoding: Option<String>,
    /// CSV delimiter (one character); default `,` (tab for `.tsv`).
    #[serde(default)]
    pub delimiter: Option<char>,
    /// CSV quote character; default `"`.
    #[serde(default)]
    pub quote: Option<char>,
    /// Whether CSV files have a header row.
    #[serde(default = "yes")]
    pub header: bool,
    /// XLSX sheet; default the first.
    #[serde(default)]
    pub sheet: Option<String>,
    /// XLSX: the row (as Excel numbers it) holding the header; default the
    /// first non-blank row. Use it when a title sits above the table.
    #[serde(default)]
    pub header_row: Option<usize>,
    /// XLSX header rows (1 or 2). With 2, a merged top cell names the
    /// columns under it: `联系方式/电话`.
    #[serde(default = "one")]
    pub header_rows: usize,
    /// S3 settings for `s3://` paths.
    #[serde(default)]
    pub s3: S3Options,
}

enum Root {
    Local(PathBuf),
    Remote {
        store: Arc<dyn ObjectStore>,
        scheme_host: String,
        prefix: String,
    },
}

/// Files matching a path or pattern.
#[derive(Debug)]
pub struct FileSource {
    config: FileSourceConfig,
    base_dir: PathBuf,
}

impl std::fmt::Debug for Root {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Root::Local(p) => write!(f, "{}", p.display()),
            Root::Remote {
                scheme_host,
                prefix,
                ..
            } => write!(f, "{scheme_host}/{prefix}"),
        }
    }
}

/// `*` and `?` in one path segment.
pub(crate) fn glob_match(pattern: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

impl FileSource {
    /// A file source; nothing is accessed yet.
    pub fn new(config: FileSourceConfig, base_dir: &Path) -> Result<Self, SourceError> {
        if config.header_rows == 0 || config.header_rows > 2 {
            return Err(SourceError::Config(format!(
                "{}: header_rows must be 1 or 2",
                config.path
            )));
        }
        Ok(FileSource {
            config,
            base_dir: base_dir.to_path_buf(),
        })
    }

    fn root(&self) -> Result<(Root, Option<String>), SourceError> {
        let p = &self.config.path;
        let (dir, pattern) = match p.rsplit_once('/') {
            Some((d, last)) if is_glob(last) => (d.to_string(), Some(last.to_string())),
            _ => (p.clone(), None),
        };
        if let Some(rest) = dir.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let store = self.config.s3.build(bucket, &self.base_dir)?;
            return Ok((
                Root::Remote {
                    store,
                    scheme_host: format!("s3://{bucket}"),
                    prefix: prefix.trim_matches('/').to_string(),
                },
                pattern,
            ));
        }
        if dir.starts_with("http://") || dir.starts_with("https://") {
            if pattern.is_some() {
                return Err(SourceError::Config(format!(
                    "{p}: an HTTP(S) source names one file; globs need a listing (use S3 or a directory)"
                )));
            }
            let url = url::Url::parse(&dir)
                .map_err(|e| SourceError::Config(format!("{p}: not a valid URL: {e}")))?;
            let origin = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""))
                + &url.port().map(|p| format!(":{p}")).unwrap_or_default();
            let store = object_store::http::HttpBuilder::new()
                .with_url(origin.clone())
                .with_client_options(
                    object_store::ClientOptions::new().with_allow_http(url.scheme() == "http"),
                )
                .build()
                .map_err(|e| SourceError::Store {
                    location: dir.clone(),
                    message: e.to_string(),
                })?;
            return Ok((
                Root::Remote {
                    store: Arc::new(store),
                    scheme_host: origin,
                    prefix: url.path().trim_start_matches('/').to_string(),
                },
                None,
            ));
        }
        Ok((Root::Local(self.base_dir.join(dir)), pattern))
    }

    fn format_of(&self, name: &str) -> Result<FileFormat, SourceError> {
        if let Some(f) = &self.config.format {
            return Ok(match f.to_ascii_lowercase().as_str() {
                "csv" | "tsv" => FileFormat::Csv,
                "json" | "ndjson" | "jsonl" => FileFormat::Json,
                "xlsx" | "xls" => FileFormat::Xlsx,
                "parquet" => FileFormat::Parquet,
                other => {
                    return Err(SourceError::Config(format!(
                        "{}: unknown format `{other}` (expected csv, json, xlsx or parquet)",
                        self.config.path
                    )));
                }
            });
        }
        FileFormat::of(Path::new(name)).ok_or_else(|| {
            SourceError::File(FileError::Unsupported {
                path: PathBuf::from(name),
            })
        })
    }

    fn csv_options(&self, location: &str) -> Result<CsvOptions, SourceError> {
        let encoding = match &self.config.encoding {
            None => None,
            Some(name) => Some(
                encoding_rs::Encoding::for_label(name.as_bytes()).ok_or_else(|| {
                    SourceError::Config(format!(
                        "{}: unknown encoding `{name}` (expected utf-8, gbk or gb18030)",
                        self.config.path
                    ))
                })?,
            ),
        };
        let byte = |c: Option<char>, default: u8, what: &str| -> Result<u8, SourceError> {
            match c {
                None => Ok(default),
                Some(c) if c.is_ascii() => Ok(c as u8),
                Some(c) => Err(SourceError::Config(format!(
                    "{}: the CSV {what} must be one ASCII character, not `{c}`",
                    self.config.path
                ))),
            }
        };
        let default_delim = if location.to_ascii_lowercase().ends_with(".tsv") {
            b'\t'
        } else {
            b','
        };
        Ok(CsvOptions {
            encoding,
            delimiter: byte(self.config.delimiter, default_delim, "delimiter")?,
            quote: byte(self.config.quote, b'"', "quote")?,
            has_header: self.config.header,
        })
    }
}

fn fingerprint(location: &str, size: u64, stamp: &str) -> String {
    format!("file:{location}:{size}:{stamp}")
}

fn local_files(
    dir: &Path,
    pattern: Option<&str>,
    out: &mut Vec<PathBuf>,
) -> Result<(), SourceError> {
    let meta = std::fs::metadata(dir).map_err(|_| {
        SourceError::File(FileError::NotFound {
            path: dir.to_path_buf(),
        })
    })?;
    if meta.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| {
        SourceError::File(FileError::Io {
            path: dir.to_path_buf(),
            source: e,
        })
    })?;
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.starts_with('_') {
            continue; // hidden files and files still being written (_tmp)
        }
        let is_file = e.file_type().map(|t| t.is_file()).unwrap_or(false);
        match pattern {
            Some(p) if is_file && glob_match(p, &name) => out.push(path),
            None if is_file && FileFormat::of(&path).is_some() => out.push(path),
            _ => {}
        }
    }
    Ok(())
}

#[async_trait]
impl Source for FileSource {
    async fn pending(&self, landed: &Landed) -> Result<Vec<Delivery>, SourceError> {
        let (root, pattern) = self.root()?;
        let mut found: Vec<Delivery> = vec![];
        match &root {
            Root::Local(dir) => {
                let mut files = vec![];
                local_files(dir, pattern.as_deref(), &mut files)?;
                if files.is_empty() && pattern.is_some() {
                    return Ok(vec![]);
                }
                for f in files {
                    let meta = std::fs::metadata(&f).map_err(|e| {
                        SourceError::File(FileError::Io {
                            path: f.clone(),
                            source: e,
                        })
                    })?;
                    let modified = meta
                        .modified()
                        .ok()
                        .map(chrono::DateTime::<chrono::Utc>::from);
                    let location = f.display().to_string();
                    let stamp = modified
                        .map(|m| m.timestamp_nanos_opt().unwrap_or(0).to_string())
                        .unwrap_or_default();
                    found.push(Delivery {
                        fingerprint: fingerprint(&location, meta.len(), &stamp),
                        location,
                        bytes: Some(meta.len()),
                        modified,
                        watermark_from: None,
                        watermark_to: None,
                        state: None,
                    });
                }
            }
            Root::Remote {
                store,
                scheme_host,
                prefix,
            } => {
                let metas: Vec<object_store::ObjectMeta> =
                    if pattern.is_none() && scheme_host.starts_with("http") {
                        let path = StorePath::parse(prefix)
                            .map_err(|e| SourceError::Config(e.to_string()))?;
                        vec![store.head(&path).await.map_err(|e| SourceError::Store {
                            location: format!("{scheme_host}/{prefix}"),
                            message: e.to_string(),
                        })?]
                    } else {
                        let list_prefix = if prefix.is_empty() {
                            None
                        } else {
                            Some(StorePath::from(prefix.as_str()))
                        };
                        let mut metas = vec![];
                        let mut listing = store.list(list_prefix.as_ref());
                        while let Some(m) = listing.next().await {
                            let m = m.map_err(|e| SourceError::Store {
                                location: format!("{scheme_host}/{prefix}"),
                                message: e.to_string(),
                            })?;
                            let name = m.location.filename().unwrap_or("").to_string();
                            let ok = match &pattern {
                                Some(p) => glob_match(p, &name),
                                None => FileFormat::of(Path::new(&name)).is_some(),
                            };
                            if ok {
                                metas.push(m);
                            }
                        }
                        metas
                    };
                for m in metas {
                    let location = format!("{scheme_host}/{}", m.location);
                    let stamp = m.e_tag.clone().unwrap_or_else(|| {
                        m.last_modified
                            .timestamp_nanos_opt()
                            .unwrap_or(0)
                            .to_string()
                    });
                    found.push(Delivery {
                        fingerprint: fingerprint(&location, m.size, &stamp),
                        location,
                        bytes: Some(m.size),
                        modified: Some(m.last_modified),
                        watermark_from: None,
                        watermark_to: None,
                        state: None,
                    });
                }
            }
        }
        found.sort_by(|a, b| {
            a.modified
                .cmp(&b.modified)
                .then_with(|| a.location.cmp(&b.location))
        });
        if self.config.select == Select::Newest {
            found = found.pop().into_iter().collect();
        }
        found.retain(|d| !landed.fingerprints.contains(&d.fingerprint));
        Ok(found)
    }

    async fn read(&self, delivery: &Delivery, cx: &ReadContext) -> Result<RawStream, SourceError> {
        let format = self.format_of(&delivery.location)?;
        let csv = self.csv_options(&delivery.location)?;
        // Remote files are downloaded first (streamed to a temporary file,
        // never held in memory), then read like local ones.
        let (path, temp) =
            if delivery.location.starts_with("s3://") || delivery.location.starts_with("http") {
                let (root, _) = self.root()?;
                let Root::Remote {
                    store, scheme_host, ..
                } = root
                else {
                    return Err(SourceError::Config(format!(
                        "{}: not a remote location",
                        delivery.location
                    )));
                };
                let key = delivery
                    .location
                    .strip_prefix(&format!("{scheme_host}/"))
                    .unwrap_or(&delivery.location);
                let temp = download(store.as_ref(), key, &delivery.location).await?;
                (temp.path().to_path_buf(), Some(temp))
            } else {
                (PathBuf::from(&delivery.location), None)
            };
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        let columns = cx.columns.clone();
        let batch_rows = cx.batch_rows;
        let xlsx = cx.xlsx;
        let sheet = self.config.sheet.clone();
        let header = super::xlsx::Header {
            row: self.config.header_row,
            rows: self.config.header_rows,
        };
        tokio::task::spawn_blocking(move || {
            let _keep = temp;
            let result = match format {
                FileFormat::Csv => csv_stream::read_csv(&path, &csv, &columns, batch_rows, &tx),
                FileFormat::Json => csv_stream::read_json(&path, &columns, batch_rows, &tx),
                FileFormat::Xlsx => super::xlsx::read_xlsx(
                    &path,
                    sheet.as_deref(),
                    header,
                    &columns,
                    batch_rows,
                    xlsx,
                    &tx,
                ),
                FileFormat::Parquet => {
                    super::parquet_text::read_parquet(&path, &columns, batch_rows, &tx)
                }
            };
            if let Err(e) = result {
                let _ = tx.blocking_send(Err(e));
            }
        });
        Ok(tokio_stream::wrappers::ReceiverStream::new(rx).boxed())
    }
}

async fn download(
    store: &dyn ObjectStore,
    key: &str,
    location: &str,
) -> Result<tempfile::NamedTempFile, SourceError> {
    let err = |m: String| SourceError::Store {
        location: location.to_string(),
        message: m,
    };
    let path = StorePath::parse(key).map_err(|e| err(e.to_string()))?;
    let temp = tempfile::Builder::new()
        .prefix("pdq-download-")
        .tempfile()
        .map_err(|e| err(format!("cannot create a temporary file: {e}")))?;
    let mut out = tokio::fs::File::create(temp.path())
        .await
        .map_err(|e| err(e.to_string()))?;
    let mut stream = store
        .get(&path)
        .await
        .map_err(|e| err(e.to_string()))?
        .into_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| err(e.to_string()))?;
        out.write_all(&chunk)
            .await
            .map_err(|e| err(e.to_string()))?;
    }
    out.flush().await.map_err(|e| err(e.to_string()))?;
    Ok(temp)
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("*.csv", "户籍_2026.csv"));
        assert!(glob_match("res-????.csv", "res-2026.csv"));
        assert!(!glob_match("*.csv", "a.csv.tmp"));
        assert!(glob_match("*", ""));
    }
}

//! A paged JSON API (the sharing platform's interfaces): every page is
//! fetched in order, its records found at a configured path, and each run
//! takes a full snapshot that lands only if it differs from the last.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use arrow::array::StringArray;
use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::digest::{MultisetDigest, row_hash};

use super::{
    Delivery, DeliveryEnd, Landed, RawItem, RawStream, ReadContext, Reject, Secret, Source,
    SourceError, TextBatcher,
};
use crate::files::json::json_text;
pub use crate::paging::Paging;
use crate::paging::{PageRequest, Pager, at_path};

fn three() -> u32 {
    3
}
fn max_pages() -> u64 {
    100_000
}

/// An HTTP JSON API source, as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpApiConfig {
    /// The endpoint.
    pub url: String,
    /// Dotted path of the records array in a response (`data.list`); empty:
    /// the response is the array.
    #[serde(default)]
    pub records: String,
    /// Paging.
    #[serde(default)]
    pub paging: Paging,
    /// A bearer token.
    #[serde(default)]
    pub token: Option<Secret>,
    /// Other request headers (not secrets).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The field identifying a record (recorded with quarantined rows).
    #[serde(default)]
    pub key: Option<String>,
    /// Attempts per page after a failure.
    #[serde(default = "three")]
    pub retries: u32,
    /// A guard against APIs that never stop paging.
    #[serde(default = "max_pages")]
    pub max_pages: u64,
}

/// A paged JSON API.
#[derive(Debug)]
pub struct HttpApiSource {
    config: HttpApiConfig,
    base_dir: PathBuf,
}

impl HttpApiSource {
    /// An API source; nothing is fetched yet.
    pub fn new(config: HttpApiConfig, base_dir: &Path) -> Result<Self, SourceError> {
        url::Url::parse(&config.url)
            .map_err(|e| SourceError::Config(format!("{}: not a valid URL: {e}", config.url)))?;
        Ok(HttpApiSource {
            config,
            base_dir: base_dir.to_path_buf(),
        })
    }
}

#[async_trait]
impl Source for HttpApiSource {
    async fn pending(&self, _landed: &Landed) -> Result<Vec<Delivery>, SourceError> {
        Ok(vec![Delivery {
            location: self.config.url.clone(),
            fingerprint: format!(
                "api:{}:snapshot:{}",
                self.config.url,
                chrono::Utc::now().to_rfc3339()
            ),
            bytes: None,
            modified: None,
            watermark_from: None,
            watermark_to: None,
            state: None,
        }])
    }

    async fn read(&self, _delivery: &Delivery, cx: &ReadContext) -> Result<RawStream, SourceError> {
        let token = match &self.config.token {
            Some(t) => Some(t.resolve(&self.base_dir)?),
            None => None,
        };
        let credentials = token.is_some() || !self.config.headers.is_empty();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .redirect(crate::http::redirects(credentials))
            .build()
            .map_err(|e| SourceError::Http {
                location: self.config.url.clone(),
                message: e.to_string(),
            })?;
        let config = self.config.clone();
        let columns = cx.columns.clone();
        let batch_rows = cx.batch_rows;
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        tokio::spawn(async move {
            if let Err(e) = fetch_all(
                &client,
                &config,
                token.as_deref(),
                &columns,
                batch_rows,
                &tx,
            )
            .await
            {
                let _ = tx.send(Err(e)).await;
            }
        });
        Ok(tokio_stream::wrappers::ReceiverStream::new(rx).boxed())
    }
}

async fn fetch_page(
    client: &reqwest::Client,
    config: &HttpApiConfig,
    token: Option<&str>,
    page: &PageRequest,
) -> Result<Vec<u8>, String> {
    let mut req = client.get(&page.url).query(&page.query);
    for (k, v) in &config.headers {
        req = req.header(k, v);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.map_err(|e| e.without_url().to_string())?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("HTTP {status}"));
    }
    crate::http::body(resp, crate::http::MAX_BODY_BYTES).await
}

async fn fetch_all(
    client: &reqwest::Client,
    config: &HttpApiConfig,
    token: Option<&str>,
    columns: &[super::ColumnDef],
    batch_rows: usize,
    tx: &tokio::sync::mpsc::Sender<Result<RawItem, SourceError>>,
) -> Result<(), SourceError> {
    let err = |page: u64, message: String| SourceError::Http {
        location: format!("{} (page {page})", config.url),
        message,
    };
    let closed = || SourceError::Config("the landing stage stopped reading".into());
    // The content hash is taken over the records, not the bytes: an API's
    // envelope may change on every call (a server time, a request id) and
    // its records come in the order the server picks, while an unchanged
    // snapshot must be recognised as such (timeliness counts when data
    // changed). The bytes' hash is kept as the legacy hash, which earlier
    // versions recorded.
    let mut digest = MultisetDigest::default();
    let mut legacy = Sha256::new();
    let mut bytes = 0u64;
    let mut record_no = 0u64;
    let mut pager = Pager::new(&config.paging, &config.url, config.max_pages);
    let mut batcher = TextBatcher::new(columns, batch_rows);
    let mut keys: Vec<Option<String>> = vec![];
    let mut cells: Vec<Option<String>> = vec![None; columns.len()];
    while let Some(page) = pager.next_page() {
        let page_no = page.page_no;
        let mut attempt = 0;
        let body = loop {
            match fetch_page(client, config, token, &page).await {
                Ok(b) => break b,
                Err(m) if attempt < config.retries => {
                    attempt += 1;
                    tracing::warn!(url = %config.url, page = page_no + 1, attempt, error = %m, "page failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 * (1 << attempt.min(6)))).await;
                }
                Err(m) => return Err(err(page_no + 1, m)),
            }
        };
        legacy.update(&body);
        bytes += body.len() as u64;
        let value: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| err(page_no + 1, format!("the response is not JSON: {e}")))?;
        let records = at_path(&value, &config.records)
            .and_then(|v| v.as_array())
            .ok_or_else(|| {
                err(
                    page_no + 1,
                    format!("no array at `{}` in the response", config.records),
                )
            })?;
        for r in records {
            let index = record_no;
            record_no += 1;
            let Some(obj) = r.as_object() else {
                let raw = r.to_string();
                digest.add(&row_hash([Some("\u{0}REJECT"), Some(raw.as_str())]));
                batcher.reject(Reject {
                    row: index,
                    raw,
                    reason: "expected a JSON object (one record)".into(),
                });
                continue;
            };
            for (i, c) in columns.iter().enumerate() {
                cells[i] = obj.get(c.source_name()).and_then(json_text);
            }
            let key = config
                .key
                .as_ref()
                .and_then(|k| obj.get(k))
                .and_then(json_text);
            digest.add(&row_hash(
                cells.iter().map(|c| c.as_deref()).chain([key.as_deref()]),
            ));
            batcher.push(index, |i| cells[i].as_deref());
            keys.push(key);
            if batcher.is_full() {
                let mut b = batcher.finish();
                b.keys = config
                    .key
                    .as_ref()
                    .map(|_| StringArray::from(std::mem::take(&mut keys)));
                keys.clear();
                tx.send(Ok(RawItem::Batch(b))).await.map_err(|_| closed())?;
            }
        }
        let more = pager.advance(&value, records.len(), |c| {
            json_text(c).filter(|c| !c.is_empty())
        });
        if !more {
            // Fewer records than the API states: the delivery fails rather
            // than land a truncated snapshot as whole (issue #19, 6).
            if let Some((received, total)) = pager.shortfall() {
                return Err(err(
                    page_no + 1,
                    format!(
                        "received {received} of {total} records the API states; paging ended here (check `paging`, its `size` and `total`)"
                    ),
                ));
            }
            if !batcher.is_empty() {
                let mut b = batcher.finish();
                b.keys = config
                    .key
                    .as_ref()
                    .map(|_| StringArray::from(std::mem::take(&mut keys)));
                tx.send(Ok(RawItem::Batch(b))).await.map_err(|_| closed())?;
            }
            return tx
                .send(Ok(RawItem::End(DeliveryEnd {
                    sha256: digest.finish(),
                    legacy_sha256: Some(hex::encode(legacy.finalize())),
                    bytes,
                    state: None,
                    notes: vec![],
                })))
                .await
                .map_err(|_| closed());
        }
    }
    Err(err(
        config.max_pages,
        format!(
            "more than {} pages; raise `max_pages` if this is expected",
            config.max_pages
        ),
    ))
}

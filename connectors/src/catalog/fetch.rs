//! Fetching a catalog document: a local path (relative to the workspace),
//! `file://` or `http(s)://`, with retries and backoff for HTTP.

use std::path::Path;
use std::time::Duration;

use super::HarvestError;
use crate::source::secret::redact_url;

/// Attempts for one HTTP request.
const ATTEMPTS: u32 = 3;

/// A client for harvesting: bounded timeouts, no proxy surprises, and no
/// credential sent on to another host by a redirect.
pub(crate) fn client(credentials: bool) -> Result<reqwest::Client, HarvestError> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .redirect(crate::http::redirects(credentials))
        .build()
        .map_err(|e| HarvestError::Config(format!("HTTP client: {e}")))
}

/// The bytes at `location`.
pub(crate) async fn fetch(
    location: &str,
    base_dir: &Path,
    token: Option<&str>,
) -> Result<Vec<u8>, HarvestError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        let client = client(token.is_some())?;
        return get(&client, location, &[], token).await;
    }
    let path = location.strip_prefix("file://").unwrap_or(location);
    let path = base_dir.join(path);
    tokio::fs::read(&path)
        .await
        .map_err(|e| HarvestError::Fetch {
            location: path.display().to_string(),
            message: e.to_string(),
        })
}

/// GET `url` with `query`, retrying failures (connection errors, 5xx, 429)
/// with backoff; a 4xx other than 429 fails at once.
pub(crate) async fn get(
    client: &reqwest::Client,
    url: &str,
    query: &[(String, String)],
    token: Option<&str>,
) -> Result<Vec<u8>, HarvestError> {
    let shown = redact_url(url);
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 * (1 << attempt))).await;
        }
        let mut req = client.get(url).query(query);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match req.send().await {
            Ok(r) if r.status().is_success() => {
                match crate::http::body(r, crate::http::MAX_BODY_BYTES).await {
                    Ok(b) => return Ok(b),
                    Err(e) => last = format!("reading the response: {e}"),
                }
            }
            Ok(r) => {
                let status = r.status();
                last = format!("HTTP {status}");
                if status.is_client_error() && status.as_u16() != 429 {
                    break;
                }
            }
            Err(e) => last = e.to_string(),
        }
        tracing::warn!(url = %shown, attempt = attempt + 1, error = %last, "catalog fetch failed");
    }
    let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Err(HarvestError::Fetch {
        location: if q.is_empty() {
            shown
        } else {
            format!("{shown}?{}", q.join("&"))
        },
        message: last,
    })
}

/// Parses JSON, naming the location and the line and column of an error.
pub(crate) fn parse_json(bytes: &[u8], location: &str) -> Result<serde_json::Value, HarvestError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    serde_json::from_slice(bytes).map_err(|e| HarvestError::Format {
        location: location.to_string(),
        message: format!(
            "not valid JSON at line {} column {}: {e}",
            e.line(),
            e.column()
        ),
    })
}

/// A location for messages: URLs without credentials, paths as they are.
pub(crate) fn shown(location: &str) -> String {
    if location.contains("://") && !location.starts_with("file://") {
        redact_url(location)
    } else {
        location.to_string()
    }
}

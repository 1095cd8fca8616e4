//! Alerts: an HTTP POST of a JSON message to the bureau's webhook when a
//! sweep fails or finds new `fail` results.

use std::time::Duration;

pub use pipeline::workspace::AlertConfig;

/// Posts `message` to the webhook, retrying twice; the error is one line.
pub async fn post(webhook: &str, message: &serde_json::Value) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    let body = serde_json::to_vec(message).map_err(|e| e.to_string())?;
    let mut last = String::new();
    for attempt in 0..3u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt))).await;
        }
        match client
            .post(webhook)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) => last = format!("HTTP {}", r.status()),
            Err(e) => last = e.without_url().to_string(),
        }
    }
    Err(format!("alert webhook: {last}"))
}

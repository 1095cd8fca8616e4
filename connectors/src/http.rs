//! What every HTTP read of pdq shares (catalog documents and API sources):
//! a bound on the response body, and redirects that never carry a
//! credential to another host (issue #18, 8).

use reqwest::redirect::{Attempt, Policy};

/// The most bytes one response body may hold (256 MiB): a page of an API
/// or a catalog document larger than this is refused, not read into
/// memory without end.
pub const MAX_BODY_BYTES: u64 = 256 << 20;

/// At most this many redirects are followed.
const MAX_REDIRECTS: usize = 10;

/// The body of `resp`, refused past `limit` bytes (by its declared length
/// before reading, and by what arrives while reading).
pub(crate) async fn body(mut resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, String> {
    if let Some(n) = resp.content_length()
        && n > limit
    {
        return Err(format!(
            "the response declares {n} bytes, more than the {limit} a response may hold"
        ));
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| e.without_url().to_string())?
    {
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Err(format!(
                "the response is larger than the {limit} bytes a response may hold"
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Redirects: followed within the same host (`http` to `https` included); to another host
/// only when the request carries no credential (a token or configured
/// headers), since those would go along — otherwise the request fails,
/// naming the host it was sent to.
pub(crate) fn redirects(credentials: bool) -> Policy {
    Policy::custom(move |attempt: Attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        let from = attempt
            .previous()
            .first()
            .and_then(|u| u.host_str().map(str::to_owned));
        let to = attempt.url().host_str().map(str::to_owned);
        if credentials && from != to {
            let host = to.unwrap_or_default();
            return attempt.error(format!(
                "redirected to another host ({host}): credentials are not sent there; configure the final address"
            ));
        }
        attempt.follow()
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A server on 127.0.0.1 with `/big` (100 bytes), `/hop` (a redirect
    /// to the same server named `localhost`: another host) and `/catch`
    /// (counts the requests that reach it with an `x-api-key` header).
    async fn server(caught: Arc<AtomicUsize>) -> std::net::SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/big", axum::routing::get(|| async { "x".repeat(100) }))
            .route(
                "/hop",
                axum::routing::get(move || async move {
                    axum::response::Redirect::temporary(&format!(
                        "http://localhost:{}/catch",
                        addr.port()
                    ))
                }),
            )
            .route(
                "/catch",
                axum::routing::get(move |h: axum::http::HeaderMap| async move {
                    if h.contains_key("x-api-key") {
                        caught.fetch_add(1, Ordering::SeqCst);
                    }
                    "caught"
                }),
            );
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        addr
    }

    #[tokio::test]
    async fn bodies_are_bounded_and_credentials_stay_on_their_host() {
        let caught = Arc::new(AtomicUsize::new(0));
        let addr = server(caught.clone()).await;
        let plain = reqwest::Client::builder()
            .redirect(redirects(false))
            .build()
            .unwrap();
        let big = format!("http://{addr}/big");
        let r = plain.get(&big).send().await.unwrap();
        let err = body(r, 10).await.unwrap_err();
        assert!(err.contains("more than the 10"), "{err}");
        let r = plain.get(&big).send().await.unwrap();
        assert_eq!(body(r, 1000).await.unwrap().len(), 100);
        // With a credential, a redirect to another host is refused and the
        // header never reaches it.
        let careful = reqwest::Client::builder()
            .redirect(redirects(true))
            .build()
            .unwrap();
        let hop = format!("http://{addr}/hop");
        let err = careful
            .get(&hop)
            .header("x-api-key", "K")
            .send()
            .await
            .unwrap_err();
        assert!(
            format!("{err:?}").contains("redirected to another host (localhost)"),
            "{err:?}"
        );
        assert_eq!(caught.load(Ordering::SeqCst), 0);
        // Without one, the redirect is followed.
        let r = plain.get(&hop).send().await.unwrap();
        assert_eq!(r.text().await.unwrap(), "caught");
    }
}

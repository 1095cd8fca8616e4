//! The connection loop of `pdq serve`, with limits so that a slow or
//! hostile client cannot hold connections or memory (issue #18, 6):
//!
//! - a client has `header_timeout_seconds` to send a request's line and
//!   headers, counted from the moment the server waits for them: on a new
//!   connection, and on a kept-alive one after the previous response (so
//!   it is also how long an idle kept-alive connection stays open);
//! - a connection that neither sends nor receives a byte for
//!   `idle_timeout_seconds` (a stalled body, a client that stops reading
//!   the response) is closed;
//! - a request line and headers over `max_header` get 431, a body over
//!   `max_body` gets 413 (by its `Content-Length` before it is read, or
//!   when reading passes the limit).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};

use super::{ServeState, router, status};

/// Serves the site on `listener` until `shutdown` completes, then lets
/// open requests finish (for at most the idle timeout) and writes the
/// read log out.
pub async fn serve<F>(listener: TcpListener, state: Arc<ServeState>, shutdown: F) -> io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let settings = state.settings.clone();
    let app = router(state.clone());
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(error) => {
                    // Out of file descriptors, say: wait rather than spin.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = tcp.set_nodelay(true);
        let io = TokioIo::new(IdleTimeout::new(tcp, settings.idle_timeout));
        let service = TowerToHyperService::new(app.clone());
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(settings.header_timeout)
            .max_header_size(settings.max_header);
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let conn = http.serve_connection(io, service);
            let mut conn = std::pin::pin!(conn);
            let ended = tokio::select! {
                ended = conn.as_mut() => ended,
                _ = stopping.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(error) = ended {
                tracing::debug!(%peer, %error, "connection closed");
            }
        });
    }
    drop(listener);
    drop(stopping);
    let _ = stop.send(true);
    let grace = settings.idle_timeout + settings.header_timeout;
    if tokio::time::timeout(grace, stop.closed()).await.is_err() {
        tracing::warn!("connections still open at shutdown were dropped");
    }
    let flushed =
        tokio::task::spawn_blocking(move || state.flush_read_log(Duration::from_secs(10)))
            .await
            .unwrap_or(false);
    if !flushed {
        tracing::error!("reads not yet in the audit log at shutdown were lost");
    }
    Ok(())
}

/// 413 for a request whose `Content-Length` is over the limit, before its
/// body is read (a body without one is cut off at the limit by
/// [`axum::extract::DefaultBodyLimit`] when a handler reads it).
pub(crate) async fn refuse_large_bodies(
    State(max): State<usize>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        tracing::info!(path = %req.uri().path(), bytes = declared, "request body too large");
        return status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "请求内容过大。",
            "The request body is too large.",
        );
    }
    next.run(req).await
}

/// An I/O stream that fails with `TimedOut` when it has neither read nor
/// written a byte for `idle` while someone waits on it.
struct IdleTimeout<T> {
    io: T,
    idle: Duration,
    last: Instant,
    timer: Pin<Box<Sleep>>,
}

impl<T> IdleTimeout<T> {
    fn new(io: T, idle: Duration) -> Self {
        let last = Instant::now();
        IdleTimeout {
            io,
            idle,
            last,
            timer: Box::pin(tokio::time::sleep_until(last + idle)),
        }
    }

    /// Whether the stream has been idle too long; if not, the timer is set
    /// (and `cx` woken) for when it would be. Activity only moves `last`:
    /// the timer is reset when it fires early, not on every byte.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
            let deadline = self.last + self.idle;
            if deadline <= Instant::now() {
                return true;
            }
            self.timer.as_mut().reset(deadline);
        }
    }

    fn timed_out() -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, "connection idle for too long")
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for IdleTimeout<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(r) => {
                if buf.filled().len() > before {
                    this.last = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(Self::timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> IdleTimeout<T> {
    /// A write's outcome: progress restarts the idle clock; no progress past
    /// the idle time is a timeout.
    fn written(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<io::Result<usize>>,
    ) -> Poll<io::Result<usize>> {
        match r {
            Poll::Ready(r) => {
                if matches!(r, Ok(n) if n > 0) {
                    self.last = Instant::now();
                }
                Poll::Ready(r)
            }
            Poll::Pending if self.expired(cx) => Poll::Ready(Err(Self::timed_out())),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for IdleTimeout<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write(cx, buf);
        this.written(cx, r)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.written(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.io).poll_flush(cx) {
            Poll::Pending if this.expired(cx) => Poll::Ready(Err(Self::timed_out())),
            other => other,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

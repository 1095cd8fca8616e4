//! Who a request is from: a bearer token ([`super::tokens`]) or a
//! session; sessions, cookies, sign-in and sign-out.
//!
//! - A session remembers its token's hash: when the token is revoked, the
//!   session ends at its next request.
//! - A session ends after `session_idle_seconds` unused and
//!   `session_max_seconds` after sign-in, whichever comes first.
//! - The session cookie is `HttpOnly; SameSite=Strict`, and `Secure` when
//!   the request came over HTTPS: `pdq serve` speaks plain HTTP, so that is
//!   when `[serve] trust_proxy` is on and the proxy says
//!   `X-Forwarded-Proto: https`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::tokens::{Identity, Principal, Tokens, new_token};
use super::{ServeState, status};

struct Session {
    identity: Identity,
    created: Instant,
    last_used: Instant,
}

/// Signed-in sessions, by id; each ends when unused for `idle` or `max`
/// after sign-in.
pub(crate) struct Sessions {
    idle: Duration,
    max: Duration,
    map: RwLock<HashMap<String, Session>>,
}

impl Sessions {
    pub fn new(idle: Duration, max: Duration) -> Sessions {
        Sessions {
            idle,
            max,
            map: RwLock::new(HashMap::new()),
        }
    }

    fn live(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_used) < self.idle && now.duration_since(s.created) < self.max
    }

    /// A new session; returns its id.
    fn open(&self, identity: Identity) -> std::io::Result<String> {
        let sid = new_token()?;
        let now = Instant::now();
        if let Ok(mut m) = self.map.write() {
            m.retain(|_, s| self.live(s, now));
            m.insert(
                sid.clone(),
                Session {
                    identity: Identity {
                        via: "session",
                        ..identity
                    },
                    created: now,
                    last_used: now,
                },
            );
        }
        Ok(sid)
    }

    /// The session's identity, if it is live (and then it counts as used).
    fn use_session(&self, sid: &str) -> Option<Identity> {
        let now = Instant::now();
        let mut m = self.map.write().ok()?;
        let s = m.get_mut(sid)?;
        if !self.live(s, now) {
            m.remove(sid);
            return None;
        }
        s.last_used = now;
        Some(s.identity.clone())
    }

    fn close(&self, sid: &str) {
        if let Ok(mut m) = self.map.write() {
            m.remove(sid);
        }
    }

    /// Forgets expired sessions.
    pub fn purge(&self) {
        let now = Instant::now();
        if let Ok(mut m) = self.map.write() {
            m.retain(|_, s| self.live(s, now));
        }
    }
}

/// The session id a request's cookies carry.
fn session_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|c| c.split(';'))
        .find_map(|c| c.trim().strip_prefix("pdq_session=").map(String::from))
}

/// The token of an `Authorization` header of the Bearer scheme, which is
/// case-insensitive (RFC 9110, 11.1): `Bearer`, `bearer`, `BEARER`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once([' ', '\t'])?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Who a request is from: its bearer token, else its session, checked
/// against the token file as it is now.
pub(crate) fn identify(
    tokens: &Tokens,
    sessions: &Sessions,
    headers: &HeaderMap,
) -> Option<Identity> {
    let file = tokens.current();
    if let Some(token) = bearer(headers) {
        return file.identify(token);
    }
    let sid = session_id(headers)?;
    let identity = sessions.use_session(&sid)?;
    if !file.still(&identity.token_sha256, &identity.principal) {
        // The token it was opened with was revoked (or changed role).
        sessions.close(&sid);
        return None;
    }
    Some(identity)
}

/// Whether the request reached us over HTTPS: only a trusted proxy can say.
fn over_https(headers: &HeaderMap, trust_proxy: bool) -> bool {
    trust_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// The session cookie's `Set-Cookie` value (`max_age` 0: delete it).
fn cookie(value: &str, max_age: Duration, secure: bool) -> String {
    format!(
        "pdq_session={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{}",
        max_age.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

pub(crate) async fn login_page() -> Response {
    let body = "<!doctype html><html lang=zh-CN><meta charset=utf-8><title>登录 Sign in</title>\
<body style=\"font-family:sans-serif;max-width:420px;margin:4em auto\"><h1>登录 Sign in</h1>\
<form method=post action=/login><label>令牌 Token <input id=token name=token type=password autocomplete=off></label> \
<button id=signin type=submit>登录 Sign in</button></form></body></html>";
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    token: String,
}

pub(crate) async fn login(
    State(st): State<Arc<ServeState>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let Some(identity) = st.tokens.current().identify(&f.token) else {
        tracing::info!("sign-in refused");
        return status(StatusCode::UNAUTHORIZED, "令牌无效。", "Invalid token.");
    };
    let target = match &identity.principal {
        Principal::Bureau => "/index.html".to_string(),
        Principal::Department(d) => format!("/dept/{d}.html"),
    };
    tracing::info!(who = %identity.actor(), "signed in");
    let Ok(sid) = st.sessions.open(identity) else {
        return status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "无法创建会话。",
            "Cannot create a session.",
        );
    };
    let mut r = StatusCode::SEE_OTHER.into_response();
    let secure = over_https(&headers, st.settings.trust_proxy);
    if let Ok(v) = HeaderValue::from_str(&cookie(&sid, st.settings.session_max, secure)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&target) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub(crate) async fn logout(State(st): State<Arc<ServeState>>, headers: HeaderMap) -> Response {
    if let Some(sid) = session_id(&headers) {
        st.sessions.close(&sid);
    }
    let mut r = status(StatusCode::OK, "已退出。", "Signed out.");
    let secure = over_https(&headers, st.settings.trust_proxy);
    if let Ok(v) = HeaderValue::from_str(&cookie("", Duration::ZERO, secure)) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive() {
        for v in [
            "Bearer abc",
            "bearer abc",
            "BEARER abc",
            "BeArEr  abc ",
            "Bearer\tabc",
        ] {
            assert_eq!(
                bearer(&headers(&[("authorization", v)])),
                Some("abc"),
                "{v}"
            );
        }
        for v in ["Basic abc", "Bearerabc", "Bearer"] {
            assert_eq!(bearer(&headers(&[("authorization", v)])), None, "{v}");
        }
    }

    #[test]
    fn secure_only_when_a_trusted_proxy_says_https() {
        let https = headers(&[("x-forwarded-proto", "HTTPS, http")]);
        assert!(over_https(&https, true));
        assert!(!over_https(&https, false), "anyone can send the header");
        assert!(!over_https(
            &headers(&[("x-forwarded-proto", "http")]),
            true
        ));
        assert!(!over_https(&HeaderMap::new(), true));
        assert_eq!(
            cookie("x", Duration::from_secs(60), true),
            "pdq_session=x; HttpOnly; SameSite=Strict; Path=/; Max-Age=60; Secure"
        );
    }

    #[test]
    fn sessions_end_when_idle_and_at_their_age_limit() {
        let id = Identity {
            principal: Principal::Bureau,
            holder: None,
            token_sha256: "h".into(),
            via: "bearer",
        };
        let s = Sessions::new(Duration::from_millis(200), Duration::from_millis(500));
        let a = s.open(id.clone()).unwrap();
        assert_eq!(s.use_session(&a).map(|i| i.via), Some("session"));
        std::thread::sleep(Duration::from_millis(300));
        assert!(s.use_session(&a).is_none(), "idle past 200 ms");
        let b = s.open(id).unwrap();
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(100));
            assert!(s.use_session(&b).is_some(), "used every 100 ms");
        }
        std::thread::sleep(Duration::from_millis(150));
        assert!(s.use_session(&b).is_none(), "past 500 ms since sign-in");
    }
}

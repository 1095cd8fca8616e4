//! The published site and catalog files, held in memory: the run
//! `published/latest.json` points at, reloaded when a sweep publishes a
//! newer one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{ServeState, access, status};

#[derive(Default)]
pub(crate) struct Site {
    pub run: String,
    pub files: HashMap<String, Arc<Vec<u8>>>,
    /// The run's scorecards (`scorecards.json`, the score stage's type).
    pub scores: Option<pipeline::score::RunScores>,
    /// The rectification list (`rectifications.json`).
    pub rectifications: Vec<pipeline::score::Rectification>,
    /// Check reports by dataset id, as published (samples masked).
    pub reports: HashMap<String, serde_json::Value>,
}

/// The run `published/latest.json` points at ("" when none).
pub(crate) fn latest_run(published: &Path) -> String {
    std::fs::read(published.join("latest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["run"].as_str().map(String::from))
        .unwrap_or_default()
}

pub(crate) fn load_site(published: &Path) -> Site {
    let run = latest_run(published);
    let mut site = Site {
        run: run.clone(),
        ..Default::default()
    };
    let root = published.join("runs").join(&run);
    fn walk(base: &Path, dir: &Path, out: &mut HashMap<String, Arc<Vec<u8>>>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else if let (Ok(rel), Ok(bytes)) = (p.strip_prefix(base), std::fs::read(&p)) {
                out.insert(rel.to_string_lossy().replace('\\', "/"), Arc::new(bytes));
            }
        }
    }
    walk(&root.join("site"), &root.join("site"), &mut site.files);
    // The refreshed catalog's files, at `/catalog/…` beside the site.
    walk(&root, &root.join("catalog"), &mut site.files);
    site.scores = std::fs::read(root.join("scorecards.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    site.rectifications = std::fs::read(root.join("rectifications.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    // Check reports, for the dataset API (samples are masked already).
    if let Ok(rd) = std::fs::read_dir(&root) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json")
                && !matches!(
                    name.as_str(),
                    "scorecards.json" | "rectifications.json" | "summary.json"
                )
                && let Some(v) = std::fs::read(e.path())
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
            {
                site.reports
                    .insert(name.trim_end_matches(".json").to_string(), v);
            }
        }
    }
    site
}

/// A request path as a site file, or None for anything that could escape
/// the site (`..`, `.`, empty or hidden segments, backslashes, encoded separators).
pub(crate) fn site_path(raw: &str) -> Option<String> {
    let path = raw.trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    if path.contains('\\') || path.contains('%') || path.contains('\0') {
        return None;
    }
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." || seg.starts_with('.') {
            return None;
        }
    }
    Some(path.to_string())
}

fn deny(code: StatusCode) -> Response {
    if code == StatusCode::UNAUTHORIZED {
        status(code, "请先登录。", "Please sign in.")
    } else {
        status(
            code,
            "无权查看此页面：只能查看本部门的详情。",
            "Not yours: a department sees only its own detail pages.",
        )
    }
}

pub(crate) async fn page(State(st): State<Arc<ServeState>>, req: Request) -> Response {
    let Some(path) = site_path(req.uri().path()) else {
        return status(StatusCode::BAD_REQUEST, "无效路径。", "Bad path.");
    };
    let who = st.identify(req.headers());
    let (file_path, logged) = match access::resolve(&path, who.as_ref().map(|w| &w.principal)) {
        Ok(f) => f,
        Err(code) => {
            tracing::info!(path = %path, status = code.as_u16(), "refused");
            return deny(code);
        }
    };
    let (file, nothing_published) = st
        .site
        .read()
        .map(|s| (s.files.get(&file_path).cloned(), s.files.is_empty()))
        .unwrap_or((None, false));
    match file {
        Some(bytes) => {
            if logged && let Some(who) = &who {
                st.reads.record(who, req.uri().path());
            }
            let ct = if path.ends_with(".html") {
                "text/html; charset=utf-8"
            } else if path.ends_with(".json") || path.ends_with(".jsonld") {
                "application/json; charset=utf-8"
            } else if path.ends_with(".csv") {
                "text/csv; charset=utf-8"
            } else {
                "application/octet-stream"
            };
            let mut r = Response::new(Body::from(bytes.as_ref().clone()));
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r.headers_mut().insert(
                "x-content-type-options",
                HeaderValue::from_static("nosniff"),
            );
            r
        }
        // A workspace never swept has no site yet: say what to do.
        None if nothing_published => status(
            StatusCode::NOT_FOUND,
            "尚未发布任何结果：请先运行 pdq sweep（或 pdq publish）。",
            "Nothing is published yet: run `pdq sweep` (or `pdq publish`) on this workspace first.",
        ),
        None => status(StatusCode::NOT_FOUND, "没有这个页面。", "No such page."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_escape_are_refused() {
        for bad in [
            "/../pdq.toml",
            "/dept/../../pdq.toml",
            "/%2e%2e/pdq.toml",
            "/dept/..%2fx",
            "/.hidden",
            "/a//b",
            "/a\\b",
            "/./index.html",
        ] {
            assert_eq!(site_path(bad), None, "{bad}");
        }
        assert_eq!(site_path("/").as_deref(), Some("index.html"));
        assert_eq!(
            site_path("/dept/gongan.html").as_deref(),
            Some("dept/gongan.html")
        );
    }
}

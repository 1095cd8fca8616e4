//! `pdq serve`: the published site and a JSON API of the same data.
//!
//! Who sees what:
//!
//! | path | who |
//! |---|---|
//! | `/`, `/index.html`, `/login`, `/api/ranking`, `/catalog/open-catalog.{json,csv}`, `/catalog/public/…`, `/public/…` | everyone |
//! | `/catalog.html`, `/catalog/{catalog.json,catalog.csv,catalog-items.csv,dcat.jsonld}` (the full catalog) | any valid token; anonymous readers get the open entries only (`public/…`) instead |
//! | `/dept/<d>.html`, `/dataset/<d>.<name>.html`, `/api/departments/<d>`, `/api/datasets/<d>.<name>` | department `d` and the bureau |
//! | `/rectification.html`, `/api/rectifications` | the bureau (departments get theirs on their own page / filtered) |
//! | any other `/catalog/…` (findings, change log, officials' workbook) | the bureau |
//!
//! Classified (涉密) catalog entries are in no published file at all
//! (`pipeline::catalog::publish`), so no reader gets them.
//!
//! Each department signs in with its own token; the bureau-managed token
//! file (`tokens.toml`) holds only SHA-256 hashes. A token is accepted as
//! `Authorization: Bearer …` or exchanged at `POST /login` for a session
//! cookie (HttpOnly, SameSite=Strict); it never appears in a URL or a log.
//! Pages are served from memory, reloaded when a sweep publishes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pipeline::catalog::publish::{FULL_FILES, PUBLIC_DIR};
use pipeline::site::PUBLIC_CATALOG_PAGE;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A signed-in party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// The bureau's data team: everything.
    Bureau,
    /// A department's data officer: its own pages.
    Department(String),
}

/// One entry of `tokens.toml`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// `bureau` or `department`.
    pub role: String,
    /// The department (role `department`).
    #[serde(default)]
    pub department: Option<String>,
    /// Who holds it.
    #[serde(default)]
    pub name: Option<String>,
    /// SHA-256 of the token, hex.
    pub sha256: String,
}

/// `tokens.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenFile {
    /// The tokens.
    #[serde(default)]
    pub token: Vec<TokenEntry>,
}

/// SHA-256 of a token, hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// A new random token (32 bytes from the OS, hex).
pub fn new_token() -> std::io::Result<String> {
    use std::io::Read;
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut b)?;
    Ok(hex::encode(b))
}

impl TokenFile {
    /// Loads the file (absent: no tokens); errors name the file and line.
    pub fn load(path: &Path) -> Result<TokenFile, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TokenFile::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let f: TokenFile =
            toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))?;
        for t in &f.token {
            match (t.role.as_str(), &t.department) {
                ("bureau", _) | ("department", Some(_)) => {}
                _ => {
                    return Err(format!(
                        "{}: a token has role `{}`; expected bureau, or department with `department`",
                        path.display(),
                        t.role
                    ));
                }
            }
        }
        Ok(f)
    }

    fn principal(&self, token: &str) -> Option<Principal> {
        let h = hash_token(token);
        self.token
            .iter()
            .find(|t| constant_eq(&t.sha256, &h))
            .map(|t| match t.department.as_ref() {
                Some(d) if t.role == "department" => Principal::Department(d.clone()),
                _ => Principal::Bureau,
            })
    }
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The server's state.
pub struct ServeState {
    published: PathBuf,
    tokens: TokenFile,
    sessions: RwLock<HashMap<String, Principal>>,
    site: RwLock<Site>,
}

#[derive(Default)]
struct Site {
    run: String,
    files: HashMap<String, Arc<Vec<u8>>>,
    json: HashMap<String, serde_json::Value>,
}

fn load_site(published: &Path) -> Site {
    let run = std::fs::read(published.join("latest.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["run"].as_str().map(String::from))
        .unwrap_or_default();
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
    for name in ["scorecards.json", "rectifications.json"] {
        if let Some(v) = std::fs::read(root.join(name))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            site.json.insert(name.into(), v);
        }
    }
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
                site.json
                    .insert(format!("report:{}", name.trim_end_matches(".json")), v);
            }
        }
    }
    site
}

impl ServeState {
    /// State for a workspace's `published/` and `tokens.toml`.
    pub fn new(workspace: &Path) -> Result<Arc<ServeState>, String> {
        let tokens = TokenFile::load(&workspace.join("tokens.toml"))?;
        let published = workspace.join("published");
        let site = load_site(&published);
        Ok(Arc::new(ServeState {
            published,
            tokens,
            sessions: RwLock::new(HashMap::new()),
            site: RwLock::new(site),
        }))
    }

    /// Reloads the site if a newer run was published.
    pub fn refresh(&self) {
        let latest = std::fs::read(self.published.join("latest.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .and_then(|v| v["run"].as_str().map(String::from))
            .unwrap_or_default();
        let current = self.site.read().map(|s| s.run.clone()).unwrap_or_default();
        if latest != current {
            let site = load_site(&self.published);
            if let Ok(mut s) = self.site.write() {
                *s = site;
            }
            tracing::info!(run = %latest, "site reloaded");
        }
    }

    fn principal(&self, headers: &HeaderMap) -> Option<Principal> {
        if let Some(v) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            && let Some(token) = v.strip_prefix("Bearer ")
        {
            return self.tokens.principal(token);
        }
        let cookies = headers.get(header::COOKIE).and_then(|v| v.to_str().ok())?;
        let sid = cookies
            .split(';')
            .filter_map(|c| c.trim().strip_prefix("pdq_session="))
            .next()?;
        self.sessions.read().ok()?.get(sid).cloned()
    }
}

/// The router.
pub fn router(state: Arc<ServeState>) -> Router {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/api/ranking", get(api_ranking))
        .route("/api/departments/{dept}", get(api_department))
        .route("/api/datasets/{id}", get(api_dataset))
        .route("/api/rectifications", get(api_rectifications))
        .fallback(get(page))
        .with_state(state)
}

fn status(code: StatusCode, zh: &str, en: &str) -> Response {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>{code}</title><p>{zh}</p><p>{en}</p><p><a href=\"/login\">登录 Sign in</a> · <a href=\"/\">首页 Home</a></p>",
        code = code.as_u16()
    );
    (
        code,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Who may see a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    /// Everyone, signed in or not.
    Anyone,
    /// Any valid token: the full catalog.
    SignedIn,
    /// The department, and the bureau.
    Department(String),
    /// The bureau only.
    Bureau,
}

/// Who may see a site path.
fn required(path: &str) -> Need {
    if let Some(rest) = path.strip_prefix("dept/") {
        return Need::Department(rest.trim_end_matches(".html").to_string());
    }
    if let Some(rest) = path.strip_prefix("dataset/") {
        return Need::Department(rest.split('.').next().unwrap_or("").to_string());
    }
    if path == "rectification.html" {
        return Need::Bureau;
    }
    // The catalog page lists every entry, 不予开放 ones too.
    if path == "catalog.html" {
        return Need::SignedIn;
    }
    if let Some(name) = path.strip_prefix("catalog/") {
        if name.starts_with(&format!("{PUBLIC_DIR}/"))
            || matches!(name, "open-catalog.json" | "open-catalog.csv")
        {
            return Need::Anyone;
        }
        if FULL_FILES.contains(&name) {
            return Need::SignedIn;
        }
        // The findings, the change log, the officials' workbook, and any
        // catalog file added later: the bureau, until said otherwise.
        return Need::Bureau;
    }
    Need::Anyone
}

fn allowed(p: Option<&Principal>, need: &Need) -> Result<(), StatusCode> {
    match (need, p) {
        (Need::Anyone, _) => Ok(()),
        (_, None) => Err(StatusCode::UNAUTHORIZED),
        (_, Some(Principal::Bureau)) | (Need::SignedIn, Some(_)) => Ok(()),
        (Need::Department(d), Some(Principal::Department(mine))) if d == mine => Ok(()),
        (_, Some(Principal::Department(_))) => Err(StatusCode::FORBIDDEN),
    }
}

/// The open variant of a full-catalog path, which anonymous readers get.
fn public_variant(path: &str) -> Option<String> {
    if path == "catalog.html" {
        return Some(PUBLIC_CATALOG_PAGE.to_string());
    }
    let name = path.strip_prefix("catalog/")?;
    FULL_FILES
        .contains(&name)
        .then(|| format!("catalog/{PUBLIC_DIR}/{name}"))
}

/// The file a reader gets for a site path, or why none: an anonymous
/// reader of the full catalog gets its open variant.
fn resolve(path: &str, p: Option<&Principal>) -> Result<String, StatusCode> {
    let need = required(path);
    match allowed(p, &need) {
        Ok(()) => Ok(path.to_string()),
        Err(StatusCode::UNAUTHORIZED) if need == Need::SignedIn => {
            public_variant(path).ok_or(StatusCode::UNAUTHORIZED)
        }
        Err(code) => Err(code),
    }
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

/// A request path as a site file, or None for anything that could escape
/// the site (`..`, `.`, empty or hidden segments, backslashes, encoded separators).
fn site_path(raw: &str) -> Option<String> {
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

async fn page(State(st): State<Arc<ServeState>>, req: Request) -> Response {
    let Some(path) = site_path(req.uri().path()) else {
        return status(StatusCode::BAD_REQUEST, "无效路径。", "Bad path.");
    };
    let principal = st.principal(req.headers());
    let file_path = match resolve(&path, principal.as_ref()) {
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

async fn login_page() -> Response {
    let body = "<!doctype html><html lang=zh-CN><meta charset=utf-8><title>登录 Sign in</title>\
<body style=\"font-family:sans-serif;max-width:420px;margin:4em auto\"><h1>登录 Sign in</h1>\
<form method=post action=/login><label>令牌 Token <input id=token name=token type=password autocomplete=off></label> \
<button id=signin type=submit>登录 Sign in</button></form></body></html>";
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(State(st): State<Arc<ServeState>>, Form(f): Form<LoginForm>) -> Response {
    let Some(p) = st.tokens.principal(&f.token) else {
        tracing::info!("sign-in refused");
        return status(StatusCode::UNAUTHORIZED, "令牌无效。", "Invalid token.");
    };
    let Ok(sid) = new_token() else {
        return status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "无法创建会话。",
            "Cannot create a session.",
        );
    };
    let target = match &p {
        Principal::Bureau => "/index.html".to_string(),
        Principal::Department(d) => format!("/dept/{d}.html"),
    };
    tracing::info!(role = ?p, "signed in");
    if let Ok(mut s) = st.sessions.write() {
        s.insert(sid.clone(), p);
    }
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "pdq_session={sid}; HttpOnly; SameSite=Strict; Path=/"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&target) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

async fn logout(State(st): State<Arc<ServeState>>, headers: HeaderMap) -> Response {
    if let Some(sid) = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| {
            c.split(';')
                .find_map(|x| x.trim().strip_prefix("pdq_session=").map(String::from))
        })
        && let Ok(mut s) = st.sessions.write()
    {
        s.remove(&sid);
    }
    status(StatusCode::OK, "已退出。", "Signed out.")
}

fn json(v: serde_json::Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        v.to_string(),
    )
        .into_response()
}

async fn api_ranking(State(st): State<Arc<ServeState>>) -> Response {
    let Ok(site) = st.site.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(cards) = site.json.get("scorecards.json") else {
        return json(serde_json::json!({"run": site.run, "departments": []}));
    };
    // Public: the ranking only, no findings or rules.
    let ranking: Vec<serde_json::Value> = cards["departments"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| serde_json::json!({"department": d["id"], "score": d["score"], "grade": d["grade"], "grade_en": d["grade_en"], "rank": d["rank"], "delta": d["delta"]}))
                .collect()
        })
        .unwrap_or_default();
    json(serde_json::json!({"run": site.run, "departments": ranking}))
}

async fn api_department(
    State(st): State<Arc<ServeState>>,
    axum::extract::Path(dept): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(code) = allowed(
        st.principal(&headers).as_ref(),
        &Need::Department(dept.clone()),
    ) {
        return code.into_response();
    }
    let Ok(site) = st.site.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let cards = site.json.get("scorecards.json");
    let find = |key: &str| -> Vec<serde_json::Value> {
        cards
            .and_then(|c| c[key].as_array())
            .map(|a| {
                a.iter()
                    .filter(|c| c["department"] == dept.as_str())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    let department = find("departments").into_iter().next();
    let Some(department) = department else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let rects: Vec<serde_json::Value> = site
        .json
        .get("rectifications.json")
        .and_then(|r| r.as_array())
        .map(|a| {
            a.iter()
                .filter(|r| r["department"] == dept.as_str())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    json(
        serde_json::json!({"run": site.run, "department": department, "datasets": find("datasets"), "rectifications": rects}),
    )
}

async fn api_dataset(
    State(st): State<Arc<ServeState>>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let dept = id.split('.').next().unwrap_or("").to_string();
    if let Err(code) = allowed(st.principal(&headers).as_ref(), &Need::Department(dept)) {
        return code.into_response();
    }
    let Ok(site) = st.site.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let card = site
        .json
        .get("scorecards.json")
        .and_then(|c| c["datasets"].as_array())
        .and_then(|a| a.iter().find(|c| c["id"] == id.as_str()).cloned());
    let Some(card) = card else {
        return StatusCode::NOT_FOUND.into_response();
    };
    json(
        serde_json::json!({"run": site.run, "scorecard": card, "report": site.json.get(&format!("report:{id}"))}),
    )
}

async fn api_rectifications(State(st): State<Arc<ServeState>>, headers: HeaderMap) -> Response {
    let p = st.principal(&headers);
    let Some(p) = p else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let Ok(site) = st.site.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let all = site
        .json
        .get("rectifications.json")
        .and_then(|r| r.as_array())
        .cloned()
        .unwrap_or_default();
    let items: Vec<serde_json::Value> = match &p {
        Principal::Bureau => all,
        Principal::Department(d) => all
            .into_iter()
            .filter(|r| r["department"] == d.as_str())
            .collect(),
    };
    json(serde_json::json!({"run": site.run, "items": items}))
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

    #[test]
    fn who_sees_what() {
        let dept = |d: &str| Principal::Department(d.into());
        assert!(allowed(None, &required("index.html")).is_ok());
        // The full catalog needs a token; anonymous readers get the open
        // entries only (issue #18, 5).
        assert_eq!(
            allowed(None, &required("catalog.html")),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert_eq!(
            resolve("catalog.html", None).as_deref(),
            Ok("public/catalog.html")
        );
        assert_eq!(
            resolve("catalog.html", Some(&dept("gongan"))).as_deref(),
            Ok("catalog.html")
        );
        for f in [
            "catalog.json",
            "catalog.csv",
            "catalog-items.csv",
            "dcat.jsonld",
        ] {
            let full = format!("catalog/{f}");
            assert_eq!(resolve(&full, None), Ok(format!("catalog/public/{f}")));
            assert_eq!(resolve(&full, Some(&dept("gongan"))), Ok(full.clone()));
        }
        assert!(allowed(None, &required("catalog/open-catalog.json")).is_ok());
        assert!(allowed(None, &required("catalog/public/catalog.json")).is_ok());
        for closed in [
            "catalog/findings.json",
            "catalog/catalog.xlsx",
            "catalog/new-file.csv",
        ] {
            assert_eq!(
                resolve(closed, None),
                Err(StatusCode::UNAUTHORIZED),
                "{closed}"
            );
            assert_eq!(
                resolve(closed, Some(&dept("gongan"))),
                Err(StatusCode::FORBIDDEN),
                "{closed}"
            );
        }
        assert_eq!(
            allowed(None, &required("dept/gongan.html")),
            Err(StatusCode::UNAUTHORIZED)
        );
        assert!(allowed(Some(&dept("gongan")), &required("dept/gongan.html")).is_ok());
        assert!(
            allowed(
                Some(&dept("gongan")),
                &required("dataset/gongan.residents.html")
            )
            .is_ok()
        );
        assert_eq!(
            allowed(Some(&dept("gongan")), &required("dept/minzheng.html")),
            Err(StatusCode::FORBIDDEN)
        );
        assert_eq!(
            allowed(Some(&dept("gongan")), &required("dataset/minzheng.x.html")),
            Err(StatusCode::FORBIDDEN)
        );
        assert_eq!(
            allowed(Some(&dept("gongan")), &required("rectification.html")),
            Err(StatusCode::FORBIDDEN)
        );
        assert!(allowed(Some(&Principal::Bureau), &required("dept/minzheng.html")).is_ok());
    }
}

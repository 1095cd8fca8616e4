//! The JSON API: the public ranking, and a department's scorecard, a
//! dataset's results (samples masked) and the rectification list for
//! those allowed to see them. Every read of department data is logged
//! ([`super::access`]).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ServeState;
use super::access::{Need, allowed};
use super::tokens::Principal;

fn json(v: serde_json::Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        v.to_string(),
    )
        .into_response()
}

pub(crate) async fn ranking(State(st): State<Arc<ServeState>>) -> Response {
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

pub(crate) async fn department(
    State(st): State<Arc<ServeState>>,
    Path(dept): Path<String>,
    headers: HeaderMap,
) -> Response {
    let who = st.identify(&headers);
    if let Err(code) = allowed(
        who.as_ref().map(|w| &w.principal),
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
    if let Some(who) = &who {
        st.reads.record(who, &format!("/api/departments/{dept}"));
    }
    json(
        serde_json::json!({"run": site.run, "department": department, "datasets": find("datasets"), "rectifications": rects}),
    )
}

pub(crate) async fn dataset(
    State(st): State<Arc<ServeState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let dept = id.split('.').next().unwrap_or("").to_string();
    let who = st.identify(&headers);
    if let Err(code) = allowed(who.as_ref().map(|w| &w.principal), &Need::Department(dept)) {
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
    if let Some(who) = &who {
        st.reads.record(who, &format!("/api/datasets/{id}"));
    }
    json(
        serde_json::json!({"run": site.run, "scorecard": card, "report": site.json.get(&format!("report:{id}"))}),
    )
}

pub(crate) async fn rectifications(
    State(st): State<Arc<ServeState>>,
    headers: HeaderMap,
) -> Response {
    let Some(who) = st.identify(&headers) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let p = &who.principal;
    let Ok(site) = st.site.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let all = site
        .json
        .get("rectifications.json")
        .and_then(|r| r.as_array())
        .cloned()
        .unwrap_or_default();
    let items: Vec<serde_json::Value> = match p {
        Principal::Bureau => all,
        Principal::Department(d) => all
            .into_iter()
            .filter(|r| r["department"] == d.as_str())
            .collect(),
    };
    st.reads.record(&who, "/api/rectifications");
    json(serde_json::json!({"run": site.run, "items": items}))
}

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
    let Some(cards) = &site.scores else {
        return json(serde_json::json!({"run": site.run, "departments": []}));
    };
    // Public: the ranking only, no findings or rules.
    let ranking: Vec<serde_json::Value> = cards
        .departments
        .iter()
        .map(|d| serde_json::json!({"department": d.id, "score": d.score, "grade": d.grade, "grade_en": d.grade_en, "rank": d.rank, "delta": d.delta}))
        .collect();
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
    let of_dept = |cards: &[pipeline::score::Scorecard]| -> Vec<pipeline::score::Scorecard> {
        cards
            .iter()
            .filter(|c| c.department == dept)
            .cloned()
            .collect()
    };
    let (departments, datasets) = site
        .scores
        .as_ref()
        .map(|s| (of_dept(&s.departments), of_dept(&s.datasets)))
        .unwrap_or_default();
    let Some(department) = departments.into_iter().next() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let rects: Vec<&pipeline::score::Rectification> = site
        .rectifications
        .iter()
        .filter(|r| r.department == dept)
        .collect();
    if let Some(who) = &who {
        st.reads.record(who, &format!("/api/departments/{dept}"));
    }
    json(
        serde_json::json!({"run": site.run, "department": department, "datasets": datasets, "rectifications": rects}),
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
        .scores
        .as_ref()
        .and_then(|s| s.datasets.iter().find(|c| c.id == id).cloned());
    let Some(card) = card else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Some(who) = &who {
        st.reads.record(who, &format!("/api/datasets/{id}"));
    }
    json(serde_json::json!({"run": site.run, "scorecard": card, "report": site.reports.get(&id)}))
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
    let items: Vec<&pipeline::score::Rectification> = site
        .rectifications
        .iter()
        .filter(|r| match p {
            Principal::Bureau => true,
            Principal::Department(d) => r.department == *d,
        })
        .collect();
    st.reads.record(&who, "/api/rectifications");
    json(serde_json::json!({"run": site.run, "items": items}))
}

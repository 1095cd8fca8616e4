//! `POST /api/objections`: a signed-in department officer (or the bureau)
//! files an objection to a dataset's row and field, as JSON or from the
//! form on a dataset's page (`pipeline::objection`). The filing is
//! checked like `pdq objection file` and audited; the answer is a receipt
//! (id, state, responsible department, deadlines), never the data.

use std::sync::Arc;

use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use pipeline::objection::stage::{Desk, Filing};
use pipeline::objection::{ObjectionError, Reporter};
use serde::Deserialize;

use super::ServeState;
use super::tokens::Principal;

/// What the form or JSON body holds.
#[derive(Debug, Deserialize)]
pub(crate) struct ObjectionForm {
    /// `department.name`.
    dataset: String,
    /// The column that identifies the row.
    #[serde(default)]
    key_column: Option<String>,
    /// Its value.
    #[serde(default)]
    key_value: Option<String>,
    /// The field objected to.
    #[serde(default)]
    field: Option<String>,
    /// What is wrong.
    what: String,
    /// How to reach the officer.
    #[serde(default)]
    contact: Option<String>,
}

fn blank(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn answer(json: bool, code: StatusCode, body: serde_json::Value) -> Response {
    if json {
        return (
            code,
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            body.to_string(),
        )
            .into_response();
    }
    let esc = pipeline::html::esc;
    let text = match body.get("error") {
        Some(e) => format!("<p>未受理 Not filed: {}</p>", esc(e.as_str().unwrap_or(""))),
        None => format!(
            "<p>已受理 Objection filed: {} — 责任部门 responsible: {}</p>",
            esc(body["id"].as_str().unwrap_or("")),
            esc(body["responsible"].as_str().unwrap_or(""))
        ),
    };
    (
        code,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!("<!doctype html><meta charset=utf-8><title>异议 Objection</title>{text}<p><a href=\"javascript:history.back()\">返回 Back</a></p>"),
    )
        .into_response()
}

pub(crate) async fn file(State(st): State<Arc<ServeState>>, req: Request) -> Response {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Some(who) = st.identify(req.headers()) else {
        return answer(
            json,
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"error": "sign in to file an objection"}),
        );
    };
    let form = if json {
        Json::<ObjectionForm>::from_request(req, &())
            .await
            .map(|Json(f)| f)
            .map_err(|e| e.body_text())
    } else {
        Form::<ObjectionForm>::from_request(req, &())
            .await
            .map(|Form(f)| f)
            .map_err(|e| e.body_text())
    };
    let form = match form {
        Ok(f) => f,
        Err(e) => {
            return answer(
                json,
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": format!("expected dataset, what and optionally key_column, key_value, field, contact: {e}")}),
            );
        }
    };
    let (reporter, reporter_department) = match &who.principal {
        Principal::Bureau => (Reporter::Bureau, None),
        Principal::Department(d) => (Reporter::Department, Some(d.clone())),
    };
    let row = match (blank(form.key_column), blank(form.key_value)) {
        (Some(c), Some(v)) => Some((c, v)),
        (None, None) => None,
        _ => {
            return answer(
                json,
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": "name the row by both key_column and key_value"}),
            );
        }
    };
    let filing = Filing {
        dataset: Some(form.dataset),
        entry: None,
        row,
        field: blank(form.field),
        what: form.what,
        reporter: Some(reporter),
        reporter_department,
        contact: blank(form.contact),
    };
    let actor = format!(
        "serve:{} ({})",
        match &who.principal {
            Principal::Bureau => "bureau".to_string(),
            Principal::Department(d) => d.clone(),
        },
        who.holder.as_deref().unwrap_or("token")
    );
    let ws = match pipeline::workspace::Workspace::load(&st.workspace) {
        Ok(ws) => ws,
        Err(e) => {
            tracing::error!("objection: workspace: {e}");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let filed = async {
        let desk = Desk::open(&ws)?;
        desk.file(&filing, &actor, chrono::Utc::now()).await
    }
    .await;
    match filed {
        Ok(o) => {
            let audited = crate::audit::AuditLog::new(&st.workspace.join("audit")).append(
                &actor,
                "objection.file",
                &o.id,
                serde_json::json!({"state": o.state.as_str(), "responsible": o.responsible, "dataset": o.dataset, "via": "serve"}),
            );
            let mut receipt = serde_json::json!({"id": o.id, "state": o.state, "state_zh": o.state_zh, "responsible": o.responsible, "steps": o.steps});
            if let Err(e) = audited {
                // Filed (it is in the lake), but the bureau must know the
                // audit log missed it.
                tracing::error!("objection {}: filed, but not in the audit log: {e}", o.id);
                receipt["warning"] = "filed, but the audit log could not record it".into();
            }
            answer(json, StatusCode::CREATED, receipt)
        }
        Err(ObjectionError::Invalid(e)) => answer(
            json,
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": e}),
        ),
        Err(e) => {
            tracing::error!("objection: {e}");
            answer(
                json,
                StatusCode::INTERNAL_SERVER_ERROR,
                serde_json::json!({"error": "the objection could not be recorded; try again later"}),
            )
        }
    }
}

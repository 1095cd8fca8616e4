//! `pdq evaluate` and `pdq correct`: the evaluate stage of `pipeline`
//! (`pipeline::evaluate::year`, `pipeline::evaluate::store`), each action
//! recorded in the audit log.

use pipeline::evaluate::Correction;
use pipeline::evaluate::year::Written;
use pipeline::land::Lake;
use pipeline::workspace::Workspace;

use crate::audit::AuditLog;

/// Records a correction and audits it (who, what, from, to, why).
pub async fn correct(ws: &Workspace, c: &Correction) -> Result<(), String> {
    let lake = Lake::open(&ws.config.lake, &ws.dir).map_err(|e| e.to_string())?;
    let original = pipeline::evaluate::store::correct(&lake, c).await?;
    AuditLog::new(&ws.dir.join("audit"))
        .append(
            &c.by,
            "correct",
            &format!("{}/{}/{}", c.run_id, c.dataset, c.rule),
            serde_json::json!({"from": {"evaluated": original.evaluated, "failed": original.failed}, "to": {"evaluated": c.evaluated, "failed": c.failed}, "reason": c.reason}),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Evaluates `year` (see `pipeline::evaluate::year::evaluate_year`) and
/// audits it.
pub async fn evaluate_year(
    ws: &Workspace,
    year: i32,
    as_of: Option<chrono::DateTime<chrono::Utc>>,
    actor: &str,
) -> Result<Written, String> {
    let w = pipeline::evaluate::year::evaluate_year(ws, year, as_of).await?;
    let e = &w.evaluation;
    AuditLog::new(&ws.dir.join("audit"))
        .append(actor, "evaluate", &format!("{year}"), serde_json::json!({"id": e.id, "table_version": e.table_version, "corrections": e.corrections.len(), "replaces": w.replaces}))
        .map_err(|err| err.to_string())?;
    Ok(w)
}

//! The land stage of a sweep for one dataset: the due rule, the landing,
//! and what landing tells scoring (a failed or late delivery is a
//! timeliness failure of the department; rows quarantined at the last
//! landing are validity failures, since the rules never see them).

use chrono::{DateTime, Utc};

use super::{
    DatasetDef, DeliveryRecord, DeliveryStatus, Lake, LandError, land_dataset, read_ledger,
};
use crate::run::Step;
use crate::score::{RuleCount, stage_rules};
use crate::workspace::Workspace;

/// Whether a dataset's source should be read now.
#[derive(Debug, Clone, PartialEq)]
pub enum Due {
    /// Read it: files and watermarked tables every run (a new delivery may
    /// be there), snapshot sources when their update frequency says so.
    Yes,
    /// A snapshot source read recently enough for its declared frequency.
    NotYet {
        /// When it was last delivered.
        last: DateTime<Utc>,
    },
}

/// The due rule the sweep and `pdq ingest` share: snapshot sources
/// (databases without a watermark, APIs) are read only when due at their
/// declared update frequency; everything else on every run. (A held-back
/// snapshot is no delivery: the next run tries again.)
pub async fn due(lake: &Lake, d: &DatasetDef, now: DateTime<Utc>) -> Result<Due, LandError> {
    let (Some(f), true) = (d.update_frequency, d.source.is_snapshot()) else {
        return Ok(Due::Yes);
    };
    let ledger = read_ledger(lake, Some(&d.id())).await?;
    match ledger
        .iter()
        .rev()
        .find(|r| r.status != DeliveryStatus::Held)
    {
        Some(r) if !f.is_due(r.started_at, now) => Ok(Due::NotYet { last: r.started_at }),
        _ => Ok(Due::Yes),
    }
}

/// Lands dataset `d` as a step of run `run_id` and gives the counts scoring
/// reads from landing: `_delivery` (timeliness) and `_quarantine`
/// (validity), and the dataset's delivery records after landing (`None`
/// when they could not be read), which the check step reads too.
pub async fn land_step(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    d: &DatasetDef,
    as_of: DateTime<Utc>,
) -> (Step, Vec<RuleCount>, Option<Vec<DeliveryRecord>>) {
    let mut step = Step::start(run_id, "land", &d.id());
    let landed = match due(lake, d, as_of).await {
        Ok(Due::NotYet { last }) => {
            step.status = "skipped".into();
            step.outputs = serde_json::json!({"not_due": format!("{:?}", d.update_frequency), "last_landed": last}).to_string();
            Ok(vec![])
        }
        Ok(Due::Yes) => land_dataset(lake, d, &ws.land_options()).await,
        Err(e) => Err(e),
    };
    match landed {
        Ok(records) if step.status == "ok" => describe(&mut step, &records),
        Ok(_) => {}
        Err(e) => step.fail(e.to_string()),
    }
    let (counts, ledger) = delivery_counts(lake, d, run_id, as_of, &mut step).await;
    (step.finish(), counts, ledger)
}

/// The step's inputs and outputs from its delivery records; a snapshot held
/// back (empty, or far smaller than the last) is reported like a refused
/// catalog withdrawal.
fn describe(step: &mut Step, records: &[DeliveryRecord]) {
    step.rows = Some(records.iter().map(|r| r.rows_read).sum());
    step.inputs = serde_json::json!(records
        .iter()
        .map(|r| serde_json::json!({"location": r.location, "sha256": r.sha256, "bytes": r.bytes}))
        .collect::<Vec<_>>())
    .to_string();
    step.outputs = serde_json::json!(records
        .iter()
        .map(|r| serde_json::json!({"delivery": r.delivery, "status": r.status, "landed": r.rows_landed, "quarantined": r.rows_quarantined, "table_version": r.table_version, "note": r.note}))
        .collect::<Vec<_>>())
    .to_string();
    let held: Vec<String> = records
        .iter()
        .filter(|r| r.status == DeliveryStatus::Held)
        .map(|r| r.note.clone().unwrap_or_default())
        .collect();
    if !held.is_empty() {
        step.set("held", held.join("; "));
    }
}

/// Timeliness and quarantine counts after landing, and the ledger they
/// were read from; a late dataset (no delivery, new or an unchanged
/// snapshot, within its declared update frequency) says so on its step.
async fn delivery_counts(
    lake: &Lake,
    d: &DatasetDef,
    run_id: &str,
    as_of: DateTime<Utc>,
    step: &mut Step,
) -> (Vec<RuleCount>, Option<Vec<DeliveryRecord>>) {
    let synthetic =
        |rule: &str, dimension: &str, check: &str, evaluated: i64, failed: i64| RuleCount {
            run_id: run_id.to_string(),
            as_of,
            dataset: d.id(),
            department: d.department.clone(),
            rule: rule.into(),
            dimension: dimension.into(),
            check: check.into(),
            evaluated,
            failed,
            status: if failed > 0 { "fail" } else { "pass" }.into(),
            rules_version: "landing".into(),
            table_version: None,
        };
    let failed = step.status == "failed";
    // A ledger that cannot be read says so on the step; it must not pass
    // for "never delivered" and count the dataset late.
    let ledger = match read_ledger(lake, Some(&d.id())).await {
        Ok(l) => l,
        Err(e) => {
            step.fail(format!("the delivery ledger cannot be read: {e}"));
            return (vec![], None);
        }
    };
    let last_delivery = ledger
        .iter()
        .rev()
        .find(|r| r.status != DeliveryStatus::Held);
    let late = match (d.update_frequency, last_delivery) {
        (Some(f), Some(l)) => f.is_late(l.started_at, as_of),
        (Some(_), None) => true,
        (None, _) => false,
    };
    if late && !failed {
        let late = format!(
            "late: no delivery within the declared update frequency (last landed {})",
            last_delivery
                .map(|l| l.started_at.to_rfc3339())
                .unwrap_or_else(|| "never".into())
        );
        step.error = Some(match step.error.take() {
            Some(held) => format!("{held}; {late}"),
            None => late,
        });
    }
    let mut counts = vec![synthetic(
        stage_rules::DELIVERY,
        "timeliness",
        "delivery",
        1,
        (failed || late) as i64,
    )];
    if let Some(last) = ledger
        .iter()
        .rev()
        .find(|r| r.status == DeliveryStatus::Landed)
    {
        counts.push(synthetic(
            stage_rules::QUARANTINE,
            "validity",
            "landing",
            last.rows_read,
            last.rows_quarantined,
        ));
    }
    (counts, Some(ledger))
}

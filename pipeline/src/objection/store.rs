//! `_pdq/objections`: every objection event, append-only. An event is
//! committed with the transaction id `objection:<id>:<seq>`, so two
//! people acting on the same objection at once cannot both write its next
//! event: the second finds its event missing and is told to look again.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

use super::{ObjectionError, ObjectionEvent};
use crate::land::Lake;

/// The table.
pub const OBJECTIONS: &str = crate::tables::OBJECTIONS.path;

fn schema() -> SchemaRef {
    let t = |n: &str| Field::new(n, DataType::Utf8, true);
    Arc::new(Schema::new(vec![
        t("objection"),
        Field::new("seq", DataType::Int64, true),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        t("action"),
        t("actor"),
        t("department"),
        t("dataset"),
        t("entry"),
        t("key_column"),
        t("key_value"),
        t("field"),
        t("value"),
        t("text"),
        t("reporter"),
        t("reporter_department"),
        t("contact"),
        t("fixed_in"),
    ]))
}

/// A SQL string literal.
pub(crate) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Every event, by objection and sequence.
pub async fn events(lake: &Lake) -> Result<Vec<ObjectionEvent>, ObjectionError> {
    Ok(lake
        .read_records(OBJECTIONS, None, "objection, seq")
        .await?)
}

/// Appends one event; an error when another writer committed that
/// objection's event `seq` first.
pub async fn append(lake: &Lake, e: &ObjectionEvent) -> Result<(), ObjectionError> {
    // The table keeps microseconds: compare what it will hold.
    let mut e = e.clone();
    e.at = chrono::DateTime::from_timestamp_micros(e.at.timestamp_micros()).unwrap_or(e.at);
    let e = &e;
    let txn = format!("objection:{}:{}", e.objection, e.seq);
    lake.append_records(OBJECTIONS, &schema(), std::slice::from_ref(e), Some(&txn))
        .await?;
    let stored: Vec<ObjectionEvent> = lake
        .read_records(
            OBJECTIONS,
            Some(&format!(
                "objection = {} AND seq = {}",
                literal(&e.objection),
                e.seq
            )),
            "at",
        )
        .await?;
    match stored.as_slice() {
        [only] if only == e => Ok(()),
        _ => Err(ObjectionError::Invalid(format!(
            "objection {} changed while this was being recorded (someone else acted on it): look at it again (`pdq objection show {}`)",
            e.objection, e.objection
        ))),
    }
}

//! The evaluation's own table and reads: hand corrections of stored counts
//! (`_pdq/corrections`, never a rewrite of the count itself) and the
//! year's stored counts at a pinned table version, read column by column.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use chrono::DateTime;

use super::{Correction, Counts};
use crate::land::Lake;
use crate::score::RuleCount;
use crate::score::store::{RULE_RESULTS, quoted};

/// Hand corrections of stored counts.
pub const CORRECTIONS: &str = crate::tables::CORRECTIONS.path;

fn correction_schema() -> SchemaRef {
    let t = |n: &str| Field::new(n, DataType::Utf8, true);
    let i = |n: &str| Field::new(n, DataType::Int64, true);
    Arc::new(Schema::new(vec![
        t("run_id"),
        t("dataset"),
        t("rule"),
        i("evaluated"),
        i("failed"),
        t("reason"),
        t("by"),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ]))
}

/// Records a correction and gives the stored count it corrects. The stored
/// count itself is never rewritten: evaluations apply the latest correction
/// and list it.
pub async fn correct(lake: &Lake, c: &Correction) -> Result<RuleCount, String> {
    // A correction changes what assessors see; it must say why (issue #23, 9).
    if c.reason.trim().is_empty() {
        return Err(format!(
            "a correction of {}/{}/{} needs a reason (--reason): say why the stored count is wrong",
            c.run_id, c.dataset, c.rule
        ));
    }
    let stored: Vec<RuleCount> = lake
        .read_records(
            RULE_RESULTS,
            Some(&format!(
                "run_id = {} AND dataset = {} AND rule = {}",
                quoted(&c.run_id),
                quoted(&c.dataset),
                quoted(&c.rule)
            )),
            "run_id",
        )
        .await
        .map_err(|e| e.to_string())?;
    let Some(original) = stored.first() else {
        return Err(format!(
            "no stored count for run {} dataset {} rule {} (see `pdq runs`)",
            c.run_id, c.dataset, c.rule
        ));
    };
    if c.failed < 0 || c.failed > c.evaluated {
        return Err(format!(
            "failed ({}) must be between 0 and evaluated ({})",
            c.failed, c.evaluated
        ));
    }
    lake.append_records(
        CORRECTIONS,
        &correction_schema(),
        std::slice::from_ref(c),
        None,
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(original.clone())
}

/// The stored counts at a table version, read column by column into the
/// compact form (a year of a large bureau is millions of counts: no owned
/// row structs on this path).
pub async fn read_counts(lake: &Lake, version: i64) -> Result<Counts, String> {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Int64Type, TimestampMicrosecondType};
    use futures::StreamExt;
    let mut counts = Counts::default();
    let Some(mut table) = lake
        .open_table(RULE_RESULTS)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(counts);
    };
    table.load_version(version.max(0) as u64).await.map_err(|e| {
        format!(
            "{RULE_RESULTS} version {version} (the counts this evaluation is pinned to) cannot be read: {e}; \
             a lake made before pdq kept every version may have had that part of its log cleaned up \
             (Delta's 30-day log retention): restore the lake's backup from then to evaluate that year"
        )
    })?;
    let ctx = datafusion::prelude::SessionContext::new();
    lake.register(&ctx, "t", &table)
        .await
        .map_err(|e| e.to_string())?;
    let mut stream = ctx
        .sql("SELECT run_id, as_of, dataset, department, rule, dimension, evaluated, failed, status, rules_version FROM t")
        .await
        .map_err(|e| e.to_string())?
        .execute_stream()
        .await
        .map_err(|e| e.to_string())?;
    while let Some(b) = stream.next().await {
        let b = b.map_err(|e| e.to_string())?;
        let text = |i: usize| {
            arrow::compute::cast(b.column(i), &DataType::Utf8).map_err(|e| e.to_string())
        };
        let cols: Vec<arrow::array::ArrayRef> = [0, 2, 3, 4, 5, 8, 9]
            .into_iter()
            .map(text)
            .collect::<Result<_, _>>()?;
        let s: Vec<&arrow::array::StringArray> =
            cols.iter().map(|c| c.as_string::<i32>()).collect();
        let as_of = arrow::compute::cast(
            b.column(1),
            &DataType::Timestamp(TimeUnit::Microsecond, None),
        )
        .map_err(|e| e.to_string())?;
        let as_of = as_of.as_primitive::<TimestampMicrosecondType>();
        let evaluated = b.column(6).as_primitive::<Int64Type>();
        let failed = b.column(7).as_primitive::<Int64Type>();
        fn get(a: &arrow::array::StringArray, r: usize) -> &str {
            if a.is_null(r) { "" } else { a.value(r) }
        }
        for r in 0..b.num_rows() {
            counts.push(
                get(s[0], r),
                DateTime::from_timestamp_micros(as_of.value(r)).unwrap_or_default(),
                get(s[1], r),
                get(s[2], r),
                get(s[3], r),
                get(s[4], r),
                evaluated.value(r),
                failed.value(r),
                get(s[5], r),
                get(s[6], r),
            );
        }
    }
    Ok(counts)
}

/// Every correction, oldest first.
pub async fn corrections(lake: &Lake) -> Result<Vec<Correction>, String> {
    lake.read_records(CORRECTIONS, None, "at")
        .await
        .map_err(|e| e.to_string())
}

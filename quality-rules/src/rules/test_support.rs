//! Test helpers: compile one rule against a small in-memory batch and count
//! its outcome the way the engine does (evaluated = non-NULL, failed = TRUE).

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Float64Array, Int64Array, StringArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::DFSchema;
use datafusion::datasource::MemTable;
use datafusion::prelude::{DataFrame, SessionContext};

use super::{CompileContext, Plan, compile};
use crate::spec::RuleFile;

fn batch(fields: Vec<(&str, DataType, ArrayRef)>) -> RecordBatch {
    let schema = Schema::new(
        fields
            .iter()
            .map(|(n, t, _)| Field::new(*n, t.clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(
        Arc::new(schema),
        fields.into_iter().map(|(_, _, a)| a).collect(),
    )
    .expect("test batch")
}

pub fn text_column(name: &str, values: &[Option<&str>]) -> RecordBatch {
    batch(vec![(
        name,
        DataType::Utf8,
        Arc::new(StringArray::from(values.to_vec())),
    )])
}

pub fn int_column(name: &str, values: &[Option<i64>]) -> RecordBatch {
    batch(vec![(
        name,
        DataType::Int64,
        Arc::new(Int64Array::from(values.to_vec())),
    )])
}

pub fn float_column(name: &str, values: &[Option<f64>]) -> RecordBatch {
    batch(vec![(
        name,
        DataType::Float64,
        Arc::new(Float64Array::from(values.to_vec())),
    )])
}

fn days(s: &str) -> i32 {
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date");
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

pub fn date_pair(a: &str, b: &str, rows: &[(Option<&str>, Option<&str>)]) -> RecordBatch {
    let left: Date32Array = rows.iter().map(|(x, _)| x.map(days)).collect();
    let right: Date32Array = rows.iter().map(|(_, y)| y.map(days)).collect();
    batch(vec![
        (a, DataType::Date32, Arc::new(left)),
        (b, DataType::Date32, Arc::new(right)),
    ])
}

fn context() -> SessionContext {
    let config = datafusion::prelude::SessionConfig::new()
        .set_bool("datafusion.sql_parser.enable_ident_normalization", false);
    let ctx = SessionContext::new_with_config(config);
    crate::udfs::register_all(&ctx);
    ctx
}

fn rule_file(rule: &str, missing: &[&str]) -> RuleFile {
    let markers: Vec<String> = missing.iter().map(|m| format!("'{m}'")).collect();
    let text = format!(
        "dataset: t\nmissing_values: [{}]\nrules:\n  - {rule}\n",
        markers.join(", ")
    );
    RuleFile::parse(Path::new("test.yaml"), &text).expect("test rule parses")
}

fn compile_against(
    rule: &str,
    missing: &[&str],
    data: &RecordBatch,
    ctx: &SessionContext,
) -> Result<Plan, String> {
    let file = rule_file(rule, missing);
    let schema = DFSchema::try_from(data.schema().as_ref().clone()).map_err(|e| e.to_string())?;
    let state = ctx.state();
    let cx = CompileContext {
        schema: &schema,
        state: &state,
        missing_values: &file.spec.missing_values,
        as_of: DateTime::parse_from_rfc3339("2026-11-22T00:00:00+08:00").expect("as-of"),
        base_dir: Path::new("."),
    };
    compile(&file, &cx)
        .map(|mut rules| rules.remove(0).plan)
        .map_err(|e| e.to_string())
}

/// Runs `f` on a one-thread runtime.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A query of a row-level rule's outcome (column `outcome`) over `data`.
fn outcome_frame(rule: &str, missing: &[&str], data: RecordBatch) -> DataFrame {
    let ctx = context();
    let expr = match compile_against(rule, missing, &data, &ctx).expect("rule compiles") {
        Plan::Row { outcome, .. } => outcome,
        Plan::Unique { evaluated, .. } => evaluated,
        other => panic!("not a row-level plan: {other:?}"),
    };
    let table = MemTable::try_new(data.schema(), vec![vec![data]]).expect("mem table");
    ctx.read_table(Arc::new(table))
        .expect("read")
        .select(vec![expr.alias("outcome")])
        .expect("select")
}

/// (evaluated, failed) of a row-level rule over `data`.
pub fn outcome_counts(rule: &str, missing: &[&str], data: RecordBatch) -> (u64, u64) {
    let batches = block_on(outcome_frame(rule, missing, data).collect()).expect("runs");
    let mut evaluated = 0;
    let mut failed = 0;
    for b in batches {
        let outcome = b
            .column(0)
            .as_any()
            .downcast_ref::<BooleanArray>()
            .expect("boolean outcome");
        evaluated += (outcome.len() - outcome.null_count()) as u64;
        failed += outcome.true_count() as u64;
    }
    (evaluated, failed)
}

/// The one-line compile error of a rule that must not compile.
pub fn compile_error(rule: &str, data: RecordBatch) -> String {
    let ctx = context();
    match compile_against(rule, &[], &data, &ctx) {
        Ok(plan) => panic!("expected a compile error, got {plan:?}"),
        Err(e) => e,
    }
}

/// The physical plan that evaluates a row-level rule's outcome over `data`,
/// as `EXPLAIN` indents it: to see how often an expression is computed.
pub fn outcome_plan(rule: &str, missing: &[&str], data: RecordBatch) -> String {
    let plan = block_on(outcome_frame(rule, missing, data).create_physical_plan()).expect("plans");
    datafusion::physical_plan::displayable(plan.as_ref())
        .indent(true)
        .to_string()
}

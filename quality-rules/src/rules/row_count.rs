//! `row_count`: dataset-level; the number of rows lies within `min` and `max`
//! (inclusive). evaluated = 1; failed = 1 when out of bounds.

use super::{CompileContext, Plan, RuleType, Scope};
use crate::error::CompileError;
use crate::spec::{RuleSpec, Scalar};

/// The `row_count` rule type.
pub struct RowCount;

fn count(name: &str, s: &Option<Scalar>) -> Result<Option<u64>, CompileError> {
    match s {
        None => Ok(None),
        Some(Scalar::Int(i)) if *i >= 0 => Ok(Some(*i as u64)),
        Some(other) => Err(CompileError::new(format!(
            "`{name}` must be a whole number of rows, found `{}`",
            other.to_text()
        ))),
    }
}

impl RuleType for RowCount {
    fn name(&self) -> &'static str {
        "row_count"
    }
    fn scope(&self) -> Scope {
        Scope::Dataset
    }
    fn params(&self) -> &'static [&'static str] {
        &["min", "max"]
    }
    fn summary(&self) -> &'static str {
        "dataset-level: min <= rows <= max; evaluated = 1, failed = 1 when out of bounds"
    }
    fn example(&self) -> &'static str {
        "{id: volume, dimension: completeness, check: row_count, min: 1000}"
    }
    fn compile(&self, rule: &RuleSpec, _cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let min = count("min", &rule.min)?;
        let max = count("max", &rule.max)?;
        match (min, max) {
            (None, None) => Err(CompileError::new(
                "check `row_count` needs `min:`, `max:` or both",
            )),
            (Some(a), Some(b)) if a > b => Err(CompileError::new(format!(
                "`min` ({a}) is greater than `max` ({b})"
            ))),
            _ => Ok(Plan::RowCount { min, max }),
        }
    }
}

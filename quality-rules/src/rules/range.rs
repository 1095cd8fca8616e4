//! `range`: the value lies within `min` and `max` (inclusive; either may be
//! omitted). Numbers compare numerically — text columns are parsed, and text
//! that is not a number fails. Date bounds (`2000-01-01`) compare dates.

use chrono::NaiveDate;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, TryCast, cast, lit};

use super::{
    CompileContext, Plan, RuleType, Scope, call_udf, cleaned, column, column_expr, is_text,
    required_column,
};
use crate::error::CompileError;
use crate::spec::{RuleSpec, Scalar};

/// The `range` rule type.
pub struct Range;

enum Bound {
    Number(f64),
    Date(NaiveDate),
}

fn bound(name: &str, s: &Scalar) -> Result<Bound, CompileError> {
    if let Some(n) = match s {
        Scalar::Int(i) => Some(*i as f64),
        Scalar::Float(f) => Some(*f),
        _ => None,
    } {
        return Ok(Bound::Number(n));
    }
    let text = s.to_text();
    if let Ok(d) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(Bound::Date(d));
    }
    if let Some(n) = s.as_f64() {
        return Ok(Bound::Number(n));
    }
    Err(CompileError::new(format!(
        "`{name}` must be a number or a date (YYYY-MM-DD), found `{text}`"
    )))
}

fn date_lit(d: NaiveDate) -> Expr {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(d);
    lit(ScalarValue::Date32(Some((d - epoch).num_days() as i32)))
}

impl RuleType for Range {
    fn name(&self) -> &'static str {
        "range"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column", "min", "max"]
    }
    fn summary(&self) -> &'static str {
        "min <= value <= max (numbers or dates): evaluated = non-missing rows, failed = out of range or not a number/date"
    }
    fn example(&self) -> &'static str {
        "{id: amount, dimension: validity, check: range, column: amount, min: 0, max: 10000000}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let name = required_column(rule)?;
        let field = column(cx, name)?;
        let min = rule.min.as_ref().map(|s| bound("min", s)).transpose()?;
        let max = rule.max.as_ref().map(|s| bound("max", s)).transpose()?;
        if min.is_none() && max.is_none() {
            return Err(CompileError::new(
                "check `range` needs `min:`, `max:` or both",
            ));
        }
        let dates = match (&min, &max) {
            (Some(Bound::Date(_)) | None, Some(Bound::Date(_)) | None) => true,
            (Some(Bound::Number(_)) | None, Some(Bound::Number(_)) | None) => false,
            _ => {
                return Err(CompileError::new(
                    "`min` and `max` must both be numbers or both dates",
                ));
            }
        };
        if let (Some(Bound::Number(a)), Some(Bound::Number(b))) = (&min, &max)
            && a > b
        {
            return Err(CompileError::new(format!(
                "`min` ({a}) is greater than `max` ({b})"
            )));
        }
        if let (Some(Bound::Date(a)), Some(Bound::Date(b))) = (&min, &max)
            && a > b
        {
            return Err(CompileError::new(format!(
                "`min` ({a}) is after `max` ({b})"
            )));
        }
        let to_lit = |b: Option<&Bound>| match b {
            Some(Bound::Number(n)) => lit(*n),
            Some(Bound::Date(d)) => date_lit(*d),
            None if dates => lit(ScalarValue::Date32(None)),
            None => lit(ScalarValue::Float64(None)),
        };
        let dt = field.data_type();
        // `value`: the column as it is, NULL when missing; `parsed`: the
        // column as a comparable number or date, NULL when it is not one.
        let (value, parsed) = if is_text(dt) {
            let clean = cleaned(cx, name)?;
            let parsed = if dates {
                Expr::TryCast(TryCast::new(Box::new(clean.clone()), DataType::Date32))
            } else {
                call_udf(cx, "pdq_to_number", vec![clean.clone()])?
            };
            (clean, parsed)
        } else if dates {
            let c = column_expr(name);
            match dt {
                DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => {
                    (c.clone(), cast(c, DataType::Date32))
                }
                other => {
                    return Err(CompileError::new(format!(
                        "date bounds need a date or text column; `{name}` is {other}"
                    )));
                }
            }
        } else if dt.is_numeric() {
            let c = column_expr(name);
            (c.clone(), cast(c, DataType::Float64))
        } else {
            return Err(CompileError::new(format!(
                "numeric bounds need a number or text column; `{name}` is {dt}"
            )));
        };
        // One function gives the verdict, so the text is parsed once per row
        // (udfs/range_failed.rs says why plain SQL parsed it four times).
        let outcome = call_udf(
            cx,
            "pdq_range_failed",
            vec![value, parsed, to_lit(min.as_ref()), to_lit(max.as_ref())],
        )?;
        Ok(Plan::Row {
            outcome,
            sample_columns: vec![name.to_string()],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn numbers_inclusive_bounds() {
        let data = float_column("a", &[Some(0.0), Some(10.0), Some(-0.01), Some(10.5), None]);
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: range, column: a, min: 0, max: 10}",
            &[],
            data,
        );
        assert_eq!((evaluated, failed), (4, 2));
    }

    #[test]
    fn text_numbers_are_parsed_and_junk_fails() {
        let data = text_column(
            "a",
            &[Some(" 5 "), Some("abc"), Some("11"), Some(""), Some("无")],
        );
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: range, column: a, min: 0, max: 10}",
            &["无"],
            data,
        );
        assert_eq!((evaluated, failed), (3, 2));
    }

    #[test]
    fn date_bounds() {
        let data = text_column(
            "d",
            &[
                Some("2000-01-01"),
                Some("1999-12-31"),
                Some("2024-02-30"),
                None,
            ],
        );
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: range, column: d, min: '2000-01-01', max: '2026-12-31'}",
            &[],
            data,
        );
        assert_eq!((evaluated, failed), (3, 2));
    }

    #[test]
    fn text_is_parsed_once_per_row() {
        let plan = outcome_plan(
            "{id: r, dimension: validity, check: range, column: a, min: 0, max: 10}",
            &["无"],
            text_column("a", &[Some("5")]),
        );
        assert_eq!(plan.matches("pdq_to_number(").count(), 1, "{plan}");
        assert_eq!(plan.matches("pdq_clean(").count(), 1, "{plan}");
        let plan = outcome_plan(
            "{id: r, dimension: validity, check: range, column: d, min: '2000-01-01', max: '2026-12-31'}",
            &[],
            text_column("d", &[Some("2001-01-01")]),
        );
        assert_eq!(plan.matches("TRY_CAST(").count(), 1, "{plan}");
    }

    #[test]
    fn integer_columns_and_one_sided_bounds() {
        let data = int_column("n", &[Some(-1), Some(0), Some(i64::MAX), None]);
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: range, column: n, min: 0}",
            &[],
            data,
        );
        assert_eq!((evaluated, failed), (3, 1));
    }

    #[test]
    fn min_above_max_is_an_error() {
        let err = compile_error(
            "{id: r, dimension: validity, check: range, column: a, min: 5, max: 1}",
            float_column("a", &[Some(1.0)]),
        );
        assert!(err.contains("greater than"), "{err}");
    }
}

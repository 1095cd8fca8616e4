//! `expression`: a SQL boolean expression over the row (DataFusion SQL, with
//! pdq's functions such as `cn_id_birth_date(id_number)`). evaluated = rows
//! where it is TRUE or FALSE; failed = FALSE; NULL is not evaluated.

use datafusion::arrow::datatypes::DataType;
use datafusion::logical_expr::{Expr, ExprSchemable};

use super::{CompileContext, Plan, RuleType, Scope};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `expression` rule type.
pub struct Expression;

impl RuleType for Expression {
    fn name(&self) -> &'static str {
        "expression"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["expr"]
    }
    fn summary(&self) -> &'static str {
        "SQL boolean over the row: evaluated = rows where it is TRUE or FALSE, failed = FALSE, NULL not evaluated"
    }
    fn example(&self) -> &'static str {
        "{id: death_after_birth, dimension: consistency, check: expression, expr: \"death_date IS NULL OR death_date >= birth_date\"}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let sql = rule
            .expr
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| CompileError::new("check `expression` needs `expr:`"))?;
        let parsed = cx.state.create_logical_expr(sql, cx.schema).map_err(|e| {
            CompileError::new(format!(
                "cannot use expression `{sql}`: {}",
                CompileError::from(e).0
            ))
        })?;
        let data_type = parsed.get_type(cx.schema).map_err(|e| {
            CompileError::new(format!(
                "cannot use expression `{sql}`: {}",
                CompileError::from(e).0
            ))
        })?;
        if !matches!(data_type, DataType::Boolean | DataType::Null) {
            return Err(CompileError::new(format!(
                "expression `{sql}` is {data_type}, not boolean (write a condition such as `a >= b`)"
            )));
        }
        let mut sample_columns: Vec<String> = parsed
            .column_refs()
            .iter()
            .map(|c| c.name.clone())
            .collect();
        sample_columns.sort();
        sample_columns.dedup();
        Ok(Plan::Row {
            outcome: Expr::Not(Box::new(parsed)),
            sample_columns,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn null_is_not_evaluated() {
        let data = date_pair(
            "birth_date",
            "death_date",
            &[
                (Some("1950-01-01"), None),               // TRUE (IS NULL)
                (Some("1950-01-01"), Some("1940-01-01")), // FALSE
                (Some("1950-01-01"), Some("1960-01-01")), // TRUE
                (None, Some("1960-01-01")),               // NULL: not evaluated
            ],
        );
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: consistency, check: expression, expr: \"death_date IS NULL OR death_date >= birth_date\"}",
            &[],
            data,
        );
        assert_eq!((evaluated, failed), (3, 1));
    }

    #[test]
    fn non_boolean_and_unparseable_are_errors() {
        let data = || date_pair("birth_date", "death_date", &[(None, None)]);
        let err = compile_error(
            "{id: r, dimension: consistency, check: expression, expr: \"birth_date\"}",
            data(),
        );
        assert!(err.contains("not boolean"), "{err}");
        let err = compile_error(
            "{id: r, dimension: consistency, check: expression, expr: \"birth_date >= \"}",
            data(),
        );
        assert!(err.contains("cannot use expression"), "{err}");
        let err = compile_error(
            "{id: r, dimension: consistency, check: expression, expr: \"nosuch > 1\"}",
            data(),
        );
        assert!(err.contains("nosuch"), "{err}");
    }
}

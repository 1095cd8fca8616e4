//! `in_set`: the trimmed value is one of `values` (compared as text).

use datafusion::logical_expr::lit;

use super::{
    CompileContext, Plan, RuleType, Scope, call_udf, cleaned, invalid_when_not, required_column,
};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `in_set` rule type.
pub struct InSet;

impl RuleType for InSet {
    fn name(&self) -> &'static str {
        "in_set"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column", "values"]
    }
    fn summary(&self) -> &'static str {
        "trimmed value is one of `values`: evaluated = non-missing rows, failed = other values"
    }
    fn example(&self) -> &'static str {
        "{id: sex, dimension: validity, check: in_set, column: sex_code, values: ['0','1','2','9']}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let name = required_column(rule)?;
        let values = rule
            .values
            .as_ref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| CompileError::new("check `in_set` needs a non-empty `values:` list"))?;
        let mut args = vec![cleaned(cx, name)?];
        args.extend(values.iter().map(|v| lit(v.to_text())));
        Ok(Plan::Row {
            outcome: invalid_when_not(call_udf(cx, "pdq_in_set", args)?),
            sample_columns: vec![name.to_string()],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn trimmed_text_comparison() {
        let data = text_column(
            "s",
            &[
                Some("1"),
                Some(" 2 "),
                Some("3"),
                None,
                Some("\u{3000}"),
                Some("01"),
            ],
        );
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: in_set, column: s, values: ['0','1','2','9']}",
            &[],
            data,
        );
        assert_eq!((evaluated, failed), (4, 2));
    }

    #[test]
    fn numeric_columns_compare_as_text() {
        let data = int_column("n", &[Some(1), Some(2), Some(5), None]);
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: in_set, column: n, values: [1, 2]}",
            &[],
            data,
        );
        assert_eq!((evaluated, failed), (3, 1));
    }
}

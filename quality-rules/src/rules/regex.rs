//! `regex`: the trimmed value matches a pattern (Rust `regex` syntax; the
//! pattern is searched, so anchor it with `^…$` to match whole values).

use datafusion::logical_expr::lit;

use super::{
    CompileContext, Plan, RuleType, Scope, call_udf, cleaned, invalid_when_not, required_column,
};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `regex` rule type.
pub struct Regex;

impl RuleType for Regex {
    fn name(&self) -> &'static str {
        "regex"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column", "pattern"]
    }
    fn summary(&self) -> &'static str {
        "trimmed value matches `pattern`: evaluated = non-missing rows, failed = values that do not match"
    }
    fn example(&self) -> &'static str {
        r"{id: phone, dimension: validity, check: regex, column: phone, pattern: '^1[3-9]\d{9}$'}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let name = required_column(rule)?;
        let pattern = rule
            .pattern
            .as_deref()
            .ok_or_else(|| CompileError::new("check `regex` needs `pattern:`"))?;
        // Compile here so a bad pattern is a clear error naming the rule, not
        // a failure in the middle of the scan.
        ::regex::Regex::new(pattern).map_err(|e| {
            CompileError::new(format!(
                "invalid regex `{pattern}`: {}",
                first_line(&e.to_string())
            ))
        })?;
        let value = cleaned(cx, name)?;
        let matches = call_udf(cx, "pdq_regex_match", vec![value, lit(pattern)])?;
        Ok(Plan::Row {
            outcome: invalid_when_not(matches),
            sample_columns: vec![name.to_string()],
        })
    }
}

fn first_line(s: &str) -> String {
    // regex errors draw a caret diagram over several lines; the last line says what is wrong.
    s.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or(s)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn trimmed_values_are_matched_missing_not_evaluated() {
        let data = text_column(
            "p",
            &[
                Some("13800138000"),
                Some(" 13800138000\u{3000}"),
                Some("1380013800"),
                None,
                Some(""),
                Some("12800138000"),
            ],
        );
        let (evaluated, failed) = outcome_counts(
            r"{id: r, dimension: validity, check: regex, column: p, pattern: '^1[3-9]\d{9}$'}",
            &[],
            data,
        );
        assert_eq!((evaluated, failed), (4, 2));
    }

    #[test]
    fn bad_pattern_is_a_compile_error() {
        let err = compile_error(
            "{id: r, dimension: validity, check: regex, column: p, pattern: '([a-'}",
            text_column("p", &[Some("x")]),
        );
        assert!(err.contains("invalid regex"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }
}

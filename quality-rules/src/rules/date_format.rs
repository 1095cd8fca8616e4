//! `date_format`: the trimmed text is a real calendar date in the given
//! format (`YYYY-MM-DD`, `YYYYMMDD`, `YYYY/MM/DD`, `YYYY年MM月DD日`,
//! `YYYY-MM-DD HH:MM:SS`).

use datafusion::logical_expr::lit;

use super::{CompileContext, Plan, RuleType, Scope, validator_plan};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `date_format` rule type.
pub struct DateFormat;

impl RuleType for DateFormat {
    fn name(&self) -> &'static str {
        "date_format"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column", "format"]
    }
    fn summary(&self) -> &'static str {
        "a real date in `format`: evaluated = non-missing rows, failed = other text or impossible dates"
    }
    fn example(&self) -> &'static str {
        "{id: birth_fmt, dimension: validity, check: date_format, column: birth_date, format: YYYY-MM-DD}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let format = rule.format.as_deref().ok_or_else(|| {
            CompileError::new("check `date_format` needs `format:` (e.g. YYYY-MM-DD)")
        })?;
        crate::ids::date_format::DateFormat::parse(format).map_err(CompileError::new)?;
        validator_plan(cx, rule, "date_format_valid", vec![lit(format)])
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn real_dates_only() {
        let dates = [
            Some("2024-02-29"),
            Some("2023-02-29"),
            Some("2024-02-30"),
            Some("2024/01/01"),
            None,
        ];
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: date_format, column: d, format: YYYY-MM-DD}",
            &[],
            text_column("d", &dates),
        );
        assert_eq!((evaluated, failed), (4, 3));
    }

    #[test]
    fn unknown_format_is_an_error() {
        let err = compile_error(
            "{id: r, dimension: validity, check: date_format, column: d, format: 'QQ-YYYY'}",
            text_column("d", &[Some("x")]),
        );
        assert!(err.contains("QQ-YYYY"), "{err}");
    }
}

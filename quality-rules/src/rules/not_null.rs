//! `not_null`: the value is present. evaluated = all rows; failed = missing
//! (NULL, empty, white space only incl. U+3000, or a missing marker).

use super::{CompileContext, Plan, RuleType, Scope, missing, required_column};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `not_null` rule type.
pub struct NotNull;

impl RuleType for NotNull {
    fn name(&self) -> &'static str {
        "not_null"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column"]
    }
    fn summary(&self) -> &'static str {
        "value present: evaluated = all rows, failed = missing values (NULL, blank, U+3000 blank, missing markers)"
    }
    fn example(&self) -> &'static str {
        "{id: id_present, dimension: completeness, check: not_null, column: id_number}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let name = required_column(rule)?;
        Ok(Plan::Row {
            outcome: missing(cx, name)?,
            sample_columns: vec![name.to_string()],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn blank_markers_and_nulls_are_missing() {
        let data = text_column(
            "v",
            &[
                Some("a"),
                None,
                Some(""),
                Some("  "),
                Some("\u{3000}"),
                Some(" 无 "),
                Some("NULL"),
                Some("null"),
                Some(" b "),
            ],
        );
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: completeness, check: not_null, column: v}",
            &["无", "NULL"],
            data,
        );
        assert_eq!((evaluated, failed), (9, 6));
    }

    #[test]
    fn typed_columns_only_null_is_missing() {
        let data = int_column("n", &[Some(1), None, Some(0)]);
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: completeness, check: not_null, column: n}",
            &[],
            data,
        );
        assert_eq!((evaluated, failed), (3, 1));
    }
}

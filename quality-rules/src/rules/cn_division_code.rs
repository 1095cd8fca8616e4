//! `cn_division_code`: a six-digit GB/T 2260 administrative division code.
//! By default any code listed in GB/T 2260, current or historical (records
//! keep the code that was valid when they were made); `current_only: true`
//! requires a code in use in the as-of year.

use chrono::Datelike;
use datafusion::logical_expr::lit;

use super::{CompileContext, Plan, RuleType, Scope, validator_plan};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `cn_division_code` rule type.
pub struct CnDivisionCode;

impl RuleType for CnDivisionCode {
    fn name(&self) -> &'static str {
        "cn_division_code"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column", "current_only"]
    }
    fn summary(&self) -> &'static str {
        "GB/T 2260 division code (listed; or in use in the as-of year with current_only): evaluated = non-missing rows, failed = unknown codes"
    }
    fn example(&self) -> &'static str {
        "{id: region, dimension: validity, check: cn_division_code, column: region_code}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let extra = if rule.current_only.unwrap_or(false) {
            vec![lit(i64::from(cx.as_of.year()))]
        } else {
            vec![]
        };
        validator_plan(cx, rule, "cn_division_code_valid", extra)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn listed_and_historical_codes() {
        // 110101 东城区 (current), 110223 通县 (abolished 1997), 999999 never listed.
        let codes = [
            Some("110101"),
            Some("110223"),
            Some("999999"),
            Some("11010"),
            None,
        ];
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: cn_division_code, column: c}",
            &[],
            text_column("c", &codes),
        );
        assert_eq!((evaluated, failed), (4, 2));
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: cn_division_code, column: c, current_only: true}",
            &[],
            text_column("c", &codes),
        );
        assert_eq!((evaluated, failed), (4, 3));
    }
}

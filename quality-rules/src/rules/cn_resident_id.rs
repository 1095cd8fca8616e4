//! `cn_resident_id`: a valid GB 11643 citizen identity number (公民身份号码):
//! 18 characters, 17 digits then a digit or `X` (lowercase only with
//! `allow_lowercase_x: true`), a real birth date between 1900-01-01 and the
//! as-of date, a GB/T 2260 division code in use in the birth year or later,
//! and the MOD 11-2 check character. 15-digit numbers are invalid here.

use datafusion::logical_expr::lit;

use super::{CompileContext, Plan, RuleType, Scope, as_of_date, validator_plan};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `cn_resident_id` rule type.
pub struct CnResidentId;

impl RuleType for CnResidentId {
    fn name(&self) -> &'static str {
        "cn_resident_id"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column", "allow_lowercase_x"]
    }
    fn summary(&self) -> &'static str {
        "GB 11643 resident ID (format, birth date, division code, MOD 11-2): evaluated = non-missing rows, failed = invalid"
    }
    fn example(&self) -> &'static str {
        "{id: id_valid, dimension: validity, check: cn_resident_id, column: id_number}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let lower = rule.allow_lowercase_x.unwrap_or(false);
        validator_plan(
            cx,
            rule,
            "cn_resident_id_valid",
            vec![as_of_date(cx), lit(lower)],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn contract_cases() {
        let ids = [
            Some("11010519491231002X"),   // valid (GB 11643 example)
            Some(" 11010519491231002X "), // valid after trimming
            Some("11010519491231002x"),   // lowercase x: invalid by default
            Some("110105194912310021"),   // wrong check digit
            Some("110105491231002"),      // 15 digits
            Some("110105202602300011"),   // 30 February
            None,
            Some("\u{3000}"),
        ];
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: cn_resident_id, column: id}",
            &[],
            text_column("id", &ids),
        );
        assert_eq!((evaluated, failed), (6, 4));
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: cn_resident_id, column: id, allow_lowercase_x: true}",
            &[],
            text_column("id", &ids),
        );
        assert_eq!((evaluated, failed), (6, 3));
    }
}

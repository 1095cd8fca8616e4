//! `cn_postal_code`: a six-digit mainland postal code (邮政编码).

use super::{CompileContext, Plan, RuleType, Scope, validator_plan};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `cn_postal_code` rule type.
pub struct CnPostalCode;

impl RuleType for CnPostalCode {
    fn name(&self) -> &'static str {
        "cn_postal_code"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column"]
    }
    fn summary(&self) -> &'static str {
        "six-digit postal code: evaluated = non-missing rows, failed = invalid codes"
    }
    fn example(&self) -> &'static str {
        "{id: postcode, dimension: validity, check: cn_postal_code, column: postal_code}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        validator_plan(cx, rule, "cn_postal_code_valid", vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn postal_codes() {
        let codes = [
            Some("830000"),
            Some("83000"),
            Some("8300001"),
            Some("000000"),
            Some(""),
        ];
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: cn_postal_code, column: p}",
            &[],
            text_column("p", &codes),
        );
        assert_eq!((evaluated, failed), (4, 3));
    }
}

//! `cn_mobile`: a mainland China mobile number (11 digits `1[3-9]…`,
//! optionally with a `+86` prefix).

use super::{CompileContext, Plan, RuleType, Scope, validator_plan};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `cn_mobile` rule type.
pub struct CnMobile;

impl RuleType for CnMobile {
    fn name(&self) -> &'static str {
        "cn_mobile"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column"]
    }
    fn summary(&self) -> &'static str {
        "mainland mobile phone number: evaluated = non-missing rows, failed = invalid numbers"
    }
    fn example(&self) -> &'static str {
        "{id: mobile, dimension: validity, check: cn_mobile, column: phone}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        validator_plan(cx, rule, "cn_mobile_valid", vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn mobile_numbers() {
        let phones = [
            Some("13800138000"),
            Some("12800138000"),
            Some("1380013800"),
            None,
        ];
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: cn_mobile, column: p}",
            &[],
            text_column("p", &phones),
        );
        assert_eq!((evaluated, failed), (3, 2));
    }
}

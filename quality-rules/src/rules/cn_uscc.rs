//! `cn_uscc`: a valid GB 32100 unified social credit code (统一社会信用代码):
//! 18 characters of `0-9A-HJ-NP-RTUWXY`, characters 3–8 a GB/T 2260 code,
//! character 18 the MOD 31 check character, and characters 9–17 an
//! organisation code whose own GB 11714 check character is right.

use super::{CompileContext, Plan, RuleType, Scope, validator_plan};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `cn_uscc` rule type.
pub struct CnUscc;

impl RuleType for CnUscc {
    fn name(&self) -> &'static str {
        "cn_uscc"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column"]
    }
    fn summary(&self) -> &'static str {
        "GB 32100 unified social credit code (alphabet, division, MOD 31, GB 11714 org code): evaluated = non-missing rows, failed = invalid"
    }
    fn example(&self) -> &'static str {
        "{id: org_valid, dimension: validity, check: cn_uscc, column: credit_code}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        validator_plan(cx, rule, "cn_uscc_valid", vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;

    #[test]
    fn published_example_and_defects() {
        let codes = [
            Some("91350100M000100Y43"), // GB 32100 example
            Some("91350100M000100Y44"), // wrong check character
            Some("91350100M000100Y4"),  // too short
            Some("91350100M0001O0Y43"), // letter O is not in the alphabet
            Some(""),
        ];
        let (evaluated, failed) = outcome_counts(
            "{id: r, dimension: validity, check: cn_uscc, column: c}",
            &[],
            text_column("c", &codes),
        );
        assert_eq!((evaluated, failed), (4, 3));
    }
}

//! `unique`: the key (one or more columns, compared as stored) occurs once.
//! evaluated = rows where no key column is missing; failed = those rows whose
//! key occurs two or more times — every copy counts, across all files of the
//! dataset. The engine collects every evaluated row's key hash in its one
//! scan and confirms repeated hashes by comparing the real keys.

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, lit, when};

use super::{CompileContext, Plan, RuleType, Scope, column, missing};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `unique` rule type.
pub struct Unique;

impl RuleType for Unique {
    fn name(&self) -> &'static str {
        "unique"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column", "columns"]
    }
    fn summary(&self) -> &'static str {
        "key occurs once: evaluated = rows with no key column missing, failed = every copy of a repeated key"
    }
    fn example(&self) -> &'static str {
        "{id: id_unique, dimension: uniqueness, check: unique, columns: [id_number]}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let columns: Vec<String> = match (&rule.column, &rule.columns) {
            (Some(c), None) => vec![c.clone()],
            (None, Some(cs)) if !cs.is_empty() => cs.clone(),
            (Some(_), Some(_)) => {
                return Err(CompileError::new("give `column:` or `columns:`, not both"));
            }
            _ => {
                return Err(CompileError::new(
                    "check `unique` needs `columns:` (or `column:`)",
                ));
            }
        };
        let mut any_missing: Option<Expr> = None;
        for c in &columns {
            column(cx, c)?;
            let m = missing(cx, c)?;
            any_missing = Some(match any_missing {
                Some(acc) => acc.or(m),
                None => m,
            });
        }
        let any_missing = any_missing
            .ok_or_else(|| CompileError::new("check `unique` needs at least one column"))?;
        let evaluated = when(any_missing, lit(ScalarValue::Boolean(None)))
            .otherwise(lit(false))
            .map_err(CompileError::from)?;
        Ok(Plan::Unique { columns, evaluated })
    }
}

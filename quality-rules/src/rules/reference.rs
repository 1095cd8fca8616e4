//! `reference`: the value occurs in a column of another dataset (e.g. the
//! population base). evaluated = non-missing rows; failed = values absent
//! from the reference column. Values compare as stored, as text. The engine
//! joins the dataset once with the reference's distinct values.

use super::{CompileContext, Plan, RuleType, Scope, as_text, missing, required_column};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `reference` rule type.
pub struct Reference;

impl RuleType for Reference {
    fn name(&self) -> &'static str {
        "reference"
    }
    fn scope(&self) -> Scope {
        Scope::Row
    }
    fn params(&self) -> &'static [&'static str] {
        &["column", "reference"]
    }
    fn summary(&self) -> &'static str {
        "value occurs in a reference dataset's column: evaluated = non-missing rows, failed = absent values"
    }
    fn example(&self) -> &'static str {
        "{id: in_base, dimension: consistency, check: reference, column: id_number, reference: {data: ../base/population.parquet, column: id_number}}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let name = required_column(rule)?;
        let reference = rule.reference.as_ref().ok_or_else(|| {
            CompileError::new("check `reference` needs `reference: {data: PATH, column: NAME}`")
        })?;
        let data = cx.base_dir.join(&reference.data);
        if !data.exists() {
            return Err(CompileError::new(format!(
                "reference data {} does not exist (paths are relative to the rule file)",
                data.display()
            )));
        }
        Ok(Plan::Reference {
            column: name.to_string(),
            value: as_text(cx, name)?,
            missing: missing(cx, name)?,
            data,
            reference_column: reference.column.clone(),
        })
    }
}

//! Rule types: one file per `check:` value, one registry list ([`all`]).
//!
//! A rule type turns a [`RuleSpec`] into a [`Plan`]: for row-level checks a
//! single DataFusion boolean expression, the rule's *outcome*, with a
//! three-valued meaning that carries the contract's semantics exactly:
//!
//! | outcome | meaning |
//! |---|---|
//! | `NULL` | row not evaluated (e.g. the value is missing for a validity check) |
//! | `TRUE` | row evaluated and failed |
//! | `FALSE` | row evaluated and passed |
//!
//! so that, for a batch, `evaluated = len − null_count` and
//! `failed = true_count`. All outcomes of a dataset go into one projection,
//! executed in one scan (`pipeline::check`). Dataset-level checks
//! (`freshness`, `row_count`) and the cross-row checks (`unique`,
//! `reference`) get their own [`Plan`] variants, planned once per dataset.
//!
//! To add a rule type: write `rules/<name>.rs` with a unit struct
//! implementing [`RuleType`], and add one line to [`all`].

mod cn_division_code;
mod cn_mobile;
mod cn_postal_code;
mod cn_resident_id;
mod cn_uscc;
mod date_format;
mod expression;
mod freshness;
mod in_set;
mod not_null;
mod range;
mod reference;
mod regex;
mod row_count;
mod unique;

pub use freshness::parse_age;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::{Expr, cast, lit};
use serde_saphyr::Spanned;

use crate::error::{CompileError, RuleError};
use crate::spec::{Dimension, RuleFile, RuleSpec};

/// Whether a check judges rows or the dataset as a whole. Decides the default
/// threshold (CONTRACT.md, "status").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One outcome per row.
    Row,
    /// One outcome for the dataset: evaluated = 1.
    Dataset,
}

/// A rule type, e.g. `not_null`. Implementations are unit structs listed in [`all`].
pub trait RuleType: Send + Sync + 'static {
    /// The `check:` value; also the registry key, docs and metric label.
    fn name(&self) -> &'static str;
    /// Row-level or dataset-level.
    fn scope(&self) -> Scope;
    /// The check-specific YAML keys this type accepts (besides the common ones).
    fn params(&self) -> &'static [&'static str];
    /// One line saying what the check does and how it counts.
    fn summary(&self) -> &'static str;
    /// A complete YAML rule using this check (documentation and tests).
    fn example(&self) -> &'static str;
    /// Compiles a rule of this type against the dataset's schema.
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError>;
}

/// Every rule type, once. The YAML `check:` tag is resolved here and nowhere else.
pub fn all() -> Vec<Arc<dyn RuleType>> {
    vec![
        Arc::new(not_null::NotNull),
        Arc::new(regex::Regex),
        Arc::new(in_set::InSet),
        Arc::new(range::Range),
        Arc::new(cn_resident_id::CnResidentId),
        Arc::new(cn_uscc::CnUscc),
        Arc::new(cn_division_code::CnDivisionCode),
        Arc::new(cn_mobile::CnMobile),
        Arc::new(cn_postal_code::CnPostalCode),
        Arc::new(date_format::DateFormat),
        Arc::new(unique::Unique),
        Arc::new(expression::Expression),
        Arc::new(reference::Reference),
        Arc::new(freshness::Freshness),
        Arc::new(row_count::RowCount),
    ]
}

/// The rule type registered under `name`.
pub fn lookup(name: &str) -> Option<Arc<dyn RuleType>> {
    all().into_iter().find(|t| t.name() == name)
}

/// A rule type's name as a value (the `check` of a rule result): made only
/// from the registry ([`all`]), so a result never names a check that no rule
/// type implements. Serialised as the `check:` word (CONTRACT.md).
///
/// ```
/// use quality_rules::rules::RuleKind;
/// let k = RuleKind::of("cn_uscc").unwrap();
/// assert_eq!(k.name(), "cn_uscc");
/// assert_eq!(k.to_string(), "cn_uscc");
/// assert!(RuleKind::of("no_such_check").is_none());
/// assert_eq!(RuleKind::all().len(), quality_rules::rules::all().len());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleKind(&'static str);

impl RuleKind {
    /// The kind registered under `name`.
    pub fn of(name: &str) -> Option<RuleKind> {
        all()
            .iter()
            .map(|t| t.name())
            .find(|n| *n == name)
            .map(RuleKind)
    }

    /// Every registered kind, in registry order.
    pub fn all() -> Vec<RuleKind> {
        all().iter().map(|t| RuleKind(t.name())).collect()
    }

    /// The `check:` word.
    pub fn name(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl PartialEq<&str> for RuleKind {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl serde::Serialize for RuleKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RuleKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        RuleKind::of(&name).ok_or_else(|| {
            let known: Vec<&str> = all().iter().map(|t| t.name()).collect();
            serde::de::Error::custom(format!(
                "unknown check type `{name}`; known types: {}",
                known.join(", ")
            ))
        })
    }
}

/// What compiling a rule needs to know about the dataset and the run.
pub struct CompileContext<'a> {
    /// Schema of the dataset's data columns.
    pub schema: &'a DFSchema,
    /// The session: its function registry holds pdq's UDFs
    /// (`quality_rules::udfs::register_all`) and it parses `expression` SQL.
    pub state: &'a SessionState,
    /// Missing-value markers of the rule file (besides NULL and blank).
    pub missing_values: &'a [String],
    /// The as-of time of the run (birth dates may not be after it; freshness).
    pub as_of: DateTime<FixedOffset>,
    /// Directory of the rule file, for relative paths.
    pub base_dir: &'a Path,
}

/// The compiled form of one rule, ready for the engine.
#[derive(Debug, Clone)]
pub enum Plan {
    /// A row-level check: one three-valued outcome per row (module docs).
    Row {
        /// NULL = not evaluated, TRUE = failed, FALSE = passed.
        outcome: Expr,
        /// Columns whose values illustrate a failure in samples.
        sample_columns: Vec<String>,
    },
    /// `unique`: evaluated in the scan; failures are the rows whose key occurs
    /// two or more times, found from the key hashes collected in the scan.
    Unique {
        /// The key columns, compared as stored.
        columns: Vec<String>,
        /// NULL when any key column is missing, else FALSE.
        evaluated: Expr,
    },
    /// `reference`: values must occur in a column of another dataset.
    Reference {
        /// The checked column.
        column: String,
        /// The checked value as text, compared as stored.
        value: Expr,
        /// TRUE when the value is missing (not evaluated).
        missing: Expr,
        /// The reference dataset (file or directory), resolved.
        data: PathBuf,
        /// Its column holding the allowed values.
        reference_column: String,
    },
    /// `freshness`: the newest value of `column` must be at most `max_age`
    /// older than the as-of time.
    Freshness {
        /// The timestamp or date column.
        column: String,
        /// The allowed age.
        max_age: chrono::Duration,
        /// The age as written (`1d`).
        max_age_text: String,
    },
    /// `row_count`: the dataset's row count within bounds.
    RowCount {
        /// Inclusive minimum.
        min: Option<u64>,
        /// Inclusive maximum.
        max: Option<u64>,
    },
}

/// A compiled rule: its spec, its type and its plan.
#[derive(Clone)]
pub struct CompiledRule {
    /// The rule as written.
    pub spec: RuleSpec,
    /// Its rule type (`spec.check`, resolved in the registry).
    pub kind: RuleKind,
    /// Its line in the rule file.
    pub line: u64,
    /// Row or dataset scope.
    pub scope: Scope,
    /// Its thresholds.
    pub thresholds: Thresholds,
    /// What the engine runs.
    pub plan: Plan,
}

impl std::fmt::Debug for CompiledRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledRule")
            .field("id", &self.spec.id)
            .field("check", &self.spec.check)
            .field("plan", &self.plan)
            .finish()
    }
}

impl CompiledRule {
    /// The rule id.
    pub fn id(&self) -> &str {
        &self.spec.id
    }
    /// The rule's dimension.
    pub fn dimension(&self) -> Dimension {
        self.spec.dimension
    }
}

/// Compiles every rule of a file against a dataset. Errors name the file,
/// line and rule.
pub fn compile(file: &RuleFile, cx: &CompileContext<'_>) -> Result<Vec<CompiledRule>, RuleError> {
    file.spec
        .rules
        .iter()
        .map(|rule| compile_one(file, rule, cx))
        .collect()
}

fn compile_one(
    file: &RuleFile,
    rule: &Spanned<RuleSpec>,
    cx: &CompileContext<'_>,
) -> Result<CompiledRule, RuleError> {
    let spec = &rule.value;
    let line = rule.referenced.line();
    let invalid = |message: String| RuleError::Invalid {
        path: file.path.clone(),
        line,
        rule: Some(spec.id.clone()),
        message,
    };
    let Some(rule_type) = lookup(&spec.check) else {
        let names: Vec<&str> = all().iter().map(|t| t.name()).collect();
        let hint = closest(&spec.check, &names)
            .map(|n| format!(" (did you mean `{n}`?)"))
            .unwrap_or_default();
        return Err(invalid(format!(
            "unknown check type `{}`{hint}; known types: {}",
            spec.check,
            names.join(", ")
        )));
    };
    for param in spec.present_params() {
        if !rule_type.params().contains(&param) {
            return Err(invalid(format!(
                "`{param}` does not apply to check `{}` (it takes: {})",
                rule_type.name(),
                rule_type.params().join(", ")
            )));
        }
    }
    let plan = rule_type.compile(spec, cx).map_err(|e| invalid(e.0))?;
    Ok(CompiledRule {
        spec: spec.clone(),
        kind: RuleKind(rule_type.name()),
        line,
        scope: rule_type.scope(),
        thresholds: Thresholds {
            warn_below: spec.warn_below,
            fail_below: spec.fail_below,
        },
        plan,
    })
}

/// The closest known name within edit distance 2, for "did you mean".
fn closest<'n>(name: &str, names: &[&'n str]) -> Option<&'n str> {
    names
        .iter()
        .map(|n| (edit_distance(name, n), *n))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Status of a rule result.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// At or above every threshold.
    Pass,
    /// Below `warn_below`.
    Warn,
    /// Below `fail_below`.
    Fail,
}

impl Status {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// A rule's thresholds on pass_rate.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Thresholds {
    /// `warn_below`.
    pub warn_below: Option<f64>,
    /// `fail_below`.
    pub fail_below: Option<f64>,
}

impl Thresholds {
    /// The status for a pass rate (CONTRACT.md): `fail` if below `fail_below`,
    /// else `warn` if below `warn_below`, else `pass`. Without `fail_below`,
    /// dataset-level checks fail below 1.0; row-level checks with no
    /// threshold at all fail on any failure; a row-level rule that sets only
    /// `warn_below` asked to be warned, not failed, and never fails.
    ///
    /// ```
    /// use quality_rules::rules::{Scope, Status, Thresholds};
    /// let none = Thresholds::default();
    /// assert_eq!(none.status(0.999, Scope::Row), Status::Fail);
    /// assert_eq!(none.status(1.0, Scope::Row), Status::Pass);
    /// let t = Thresholds { warn_below: Some(0.99), fail_below: Some(0.95) };
    /// assert_eq!(t.status(0.97, Scope::Row), Status::Warn);
    /// ```
    pub fn status(&self, pass_rate: f64, scope: Scope) -> Status {
        let fail_below = match (self.fail_below, self.warn_below, scope) {
            (Some(f), _, _) => Some(f),
            (None, _, Scope::Dataset) => Some(1.0),
            (None, None, Scope::Row) => Some(1.0),
            (None, Some(_), Scope::Row) => None,
        };
        if fail_below.is_some_and(|f| pass_rate < f) {
            Status::Fail
        } else if self.warn_below.is_some_and(|w| pass_rate < w) {
            Status::Warn
        } else {
            Status::Pass
        }
    }
}

/// `pass_rate = (evaluated − failed) / evaluated`, 1.0 when nothing was evaluated.
pub fn pass_rate(evaluated: u64, failed: u64) -> f64 {
    if evaluated == 0 {
        1.0
    } else {
        (evaluated - failed.min(evaluated)) as f64 / evaluated as f64
    }
}

// ---- helpers shared by the rule types -------------------------------------

/// The column named `name`, or an error listing the dataset's columns.
pub(crate) fn column<'a>(
    cx: &'a CompileContext<'_>,
    name: &str,
) -> Result<&'a datafusion::arrow::datatypes::Field, CompileError> {
    cx.schema
        .fields()
        .iter()
        .find(|f| f.name() == name)
        .map(|f| f.as_ref())
        .ok_or_else(|| {
            let names: Vec<&str> = cx
                .schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .filter(|n| !n.starts_with("__pdq_"))
                .collect();
            let hint = closest(name, &names)
                .map(|n| format!(" (did you mean `{n}`?)"))
                .unwrap_or_default();
            CompileError::new(format!(
                "unknown column `{name}`{hint}; the dataset's columns are: {}",
                names.join(", ")
            ))
        })
}

/// The rule's `column:`, required.
pub(crate) fn required_column(rule: &RuleSpec) -> Result<&str, CompileError> {
    rule.column
        .as_deref()
        .ok_or_else(|| CompileError::new(format!("check `{}` needs `column:`", rule.check)))
}

pub(crate) fn is_text(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// A column reference that survives mixed-case and non-ASCII names.
pub(crate) fn column_expr(name: &str) -> Expr {
    Expr::Column(datafusion::common::Column::new_unqualified(name))
}

/// Calls a pdq UDF from the session's registry by name.
pub(crate) fn call_udf(
    cx: &CompileContext<'_>,
    name: &str,
    args: Vec<Expr>,
) -> Result<Expr, CompileError> {
    use datafusion::execution::FunctionRegistry;
    let udf = cx.state.udf(name).map_err(|_| {
        CompileError::new(format!(
            "function `{name}` is not registered (quality_rules::udfs::register_all was not called)"
        ))
    })?;
    Ok(udf.call(args))
}

/// The column's value cleaned for checking: trimmed text, or NULL when
/// missing (CONTRACT.md "missing"). Non-text columns are cast to text; for
/// them only NULL is missing.
pub(crate) fn cleaned(cx: &CompileContext<'_>, name: &str) -> Result<Expr, CompileError> {
    let field = column(cx, name)?;
    let c = column_expr(name);
    if is_text(field.data_type()) {
        let mut args = vec![c];
        args.extend(cx.missing_values.iter().map(|m| lit(m.as_str())));
        call_udf(cx, "pdq_clean", args)
    } else {
        Ok(cast(c, DataType::Utf8View))
    }
}

/// TRUE when the column's value is missing (never NULL).
pub(crate) fn missing(cx: &CompileContext<'_>, name: &str) -> Result<Expr, CompileError> {
    let field = column(cx, name)?;
    if is_text(field.data_type()) {
        Ok(cleaned(cx, name)?.is_null())
    } else {
        Ok(column_expr(name).is_null())
    }
}

/// The column as text, compared as stored (no trimming).
pub(crate) fn as_text(cx: &CompileContext<'_>, name: &str) -> Result<Expr, CompileError> {
    let field = column(cx, name)?;
    let c = column_expr(name);
    Ok(if is_text(field.data_type()) {
        c
    } else {
        cast(c, DataType::Utf8)
    })
}

/// The as-of date as a DATE literal.
pub(crate) fn as_of_date(cx: &CompileContext<'_>) -> Expr {
    let date = cx.as_of.date_naive();
    let days = (date - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(date)).num_days();
    lit(ScalarValue::Date32(Some(days as i32)))
}

/// A validity outcome: the validator's verdict on the cleaned value, NULL
/// (not evaluated) when the value is missing. `valid` must propagate NULL.
pub(crate) fn invalid_when_not(valid: Expr) -> Expr {
    Expr::Not(Box::new(valid))
}

/// The plan of a validity check done by one validator UDF over the cleaned
/// value: `NOT udf(cleaned, extra...)`, NULL when the value is missing.
pub(crate) fn validator_plan(
    cx: &CompileContext<'_>,
    rule: &RuleSpec,
    udf: &str,
    extra: Vec<Expr>,
) -> Result<Plan, CompileError> {
    let name = required_column(rule)?;
    let mut args = vec![cleaned(cx, name)?];
    args.extend(extra);
    Ok(Plan::Row {
        outcome: invalid_when_not(call_udf(cx, udf, args)?),
        sample_columns: vec![name.to_string()],
    })
}

/// Lists in one place the example of each type; used by docs and tests.
pub fn examples() -> Vec<(&'static str, &'static str)> {
    all().iter().map(|t| (t.name(), t.example())).collect()
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let names: Vec<&str> = all().iter().map(|t| t.name()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(
            sorted.len(),
            names.len(),
            "duplicate rule type names: {names:?}"
        );
        for n in names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
        }
    }

    #[test]
    fn status_follows_the_contract() {
        let none = Thresholds::default();
        assert_eq!(none.status(1.0, Scope::Row), Status::Pass);
        assert_eq!(none.status(0.999_999, Scope::Row), Status::Fail);
        assert_eq!(none.status(0.0, Scope::Dataset), Status::Fail);
        assert_eq!(none.status(1.0, Scope::Dataset), Status::Pass);
        let t = Thresholds {
            warn_below: Some(0.99),
            fail_below: Some(0.95),
        };
        assert_eq!(t.status(0.99, Scope::Row), Status::Pass);
        assert_eq!(t.status(0.989, Scope::Row), Status::Warn);
        assert_eq!(t.status(0.95, Scope::Row), Status::Warn);
        assert_eq!(t.status(0.949, Scope::Row), Status::Fail);
        let warn_only = Thresholds {
            warn_below: Some(0.9),
            fail_below: None,
        };
        assert_eq!(warn_only.status(0.5, Scope::Row), Status::Warn);
        assert_eq!(warn_only.status(0.0, Scope::Dataset), Status::Fail);
        let fail_only = Thresholds {
            warn_below: None,
            fail_below: Some(0.5),
        };
        assert_eq!(fail_only.status(0.6, Scope::Row), Status::Pass);
        assert_eq!(fail_only.status(0.4, Scope::Row), Status::Fail);
    }

    #[test]
    fn pass_rate_is_one_when_nothing_evaluated() {
        assert_eq!(pass_rate(0, 0), 1.0);
        assert_eq!(pass_rate(4, 1), 0.75);
    }

    #[test]
    fn suggestions() {
        assert_eq!(closest("uniqe", &["unique", "regex"]), Some("unique"));
        assert_eq!(closest("zzzzzz", &["unique", "regex"]), None);
    }
}

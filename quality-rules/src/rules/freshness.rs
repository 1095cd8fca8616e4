//! `freshness`: dataset-level; the newest value of a timestamp or date column
//! is at most `max_age` older than the as-of time. evaluated = 1; failed = 1
//! when it is older, or when the column is entirely missing.

use super::{CompileContext, Plan, RuleType, Scope, column, required_column};
use crate::error::CompileError;
use crate::spec::RuleSpec;

/// The `freshness` rule type.
pub struct Freshness;

/// Parses an age such as `1d`, `36h`, `1d12h`, `90m`, `2w`, `30s`.
///
/// ```
/// use quality_rules::rules::parse_age;
/// assert_eq!(parse_age("1d12h").unwrap(), chrono::Duration::hours(36));
/// assert!(parse_age("soon").is_err());
/// ```
pub fn parse_age(text: &str) -> Result<chrono::Duration, CompileError> {
    let bad = || {
        CompileError::new(format!(
            "`max_age` must be a duration such as 1d, 36h, 1d12h, 90m, 2w, 30s; found `{text}`"
        ))
    };
    let s = text.trim();
    if s.is_empty() {
        return Err(bad());
    }
    let mut total = chrono::Duration::zero();
    let mut digits = String::new();
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        let n: i64 = digits.parse().map_err(|_| bad())?;
        digits.clear();
        let part = match ch {
            'w' => chrono::Duration::try_weeks(n),
            'd' => chrono::Duration::try_days(n),
            'h' => chrono::Duration::try_hours(n),
            'm' => chrono::Duration::try_minutes(n),
            's' => chrono::Duration::try_seconds(n),
            _ => None,
        }
        .ok_or_else(bad)?;
        total = total.checked_add(&part).ok_or_else(bad)?;
    }
    if !digits.is_empty() || total <= chrono::Duration::zero() {
        return Err(bad());
    }
    Ok(total)
}

impl RuleType for Freshness {
    fn name(&self) -> &'static str {
        "freshness"
    }
    fn scope(&self) -> Scope {
        Scope::Dataset
    }
    fn params(&self) -> &'static [&'static str] {
        &["column", "max_age"]
    }
    fn summary(&self) -> &'static str {
        "dataset-level: newest value of the column no older than max_age before as-of; evaluated = 1, failed = 1 when stale or all missing"
    }
    fn example(&self) -> &'static str {
        "{id: fresh, dimension: timeliness, check: freshness, column: updated_at, max_age: 1d}"
    }
    fn compile(&self, rule: &RuleSpec, cx: &CompileContext<'_>) -> Result<Plan, CompileError> {
        let name = required_column(rule)?;
        let field = column(cx, name)?;
        use datafusion::arrow::datatypes::DataType;
        if !matches!(
            field.data_type(),
            DataType::Timestamp(_, _)
                | DataType::Date32
                | DataType::Date64
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
        ) {
            return Err(CompileError::new(format!(
                "freshness needs a timestamp, date or text column; `{name}` is {}",
                field.data_type()
            )));
        }
        let text = rule
            .max_age
            .as_deref()
            .ok_or_else(|| CompileError::new("check `freshness` needs `max_age:` (e.g. 1d)"))?;
        Ok(Plan::Freshness {
            column: name.to_string(),
            max_age: parse_age(text)?,
            max_age_text: text.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("1d").unwrap(), chrono::Duration::days(1));
        assert_eq!(parse_age("2w").unwrap(), chrono::Duration::days(14));
        assert_eq!(parse_age("90m").unwrap(), chrono::Duration::minutes(90));
        assert_eq!(parse_age("1d12h").unwrap(), chrono::Duration::hours(36));
        for bad in ["", "d", "1", "1y", "-1d", "0d", "1.5d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
    }
}

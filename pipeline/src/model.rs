//! The bureau's vocabulary for check results, as stored and published
//! (CONTRACT.md, "`pdq check --format json`").

use chrono::{DateTime, FixedOffset};
use quality_rules::{Dimension, Status};
use serde::{Deserialize, Serialize};

/// One masked example of a failing row, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Sample {
    /// Source file, as the user named it (or relative to the named directory).
    pub file: String,
    /// 0-based record index in that file, in file order.
    pub row: u64,
    /// The failing value, masked; `null` when the value is NULL.
    pub value: Option<String>,
}

/// The result of one rule over one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    /// Rule id from the rule file.
    pub id: String,
    /// Quality dimension.
    pub dimension: Dimension,
    /// Rule type (`check:`), one of the registry's.
    pub check: quality_rules::RuleKind,
    /// The checked column, for single-column checks.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub column: Option<String>,
    /// The checked columns, for multi-column checks (`unique`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub columns: Option<Vec<String>>,
    /// Rows (or 1 for dataset-level checks) the rule judged.
    pub evaluated: u64,
    /// Of those, how many failed.
    pub failed: u64,
    /// (evaluated − failed) / evaluated, 1.0 when nothing was evaluated;
    /// rounded down to 6 decimals so a failure never shows as 1.0.
    pub pass_rate: f64,
    /// pass / warn / fail against the rule's thresholds.
    pub status: Status,
    /// At most 10 masked failing rows, first in file order.
    pub samples: Vec<Sample>,
    /// For dataset-level checks: what was measured (e.g. the newest value).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub detail: Option<String>,
}

impl RuleResult {
    /// Rounds a pass rate down to 6 decimals for publication.
    pub fn publish_rate(rate: f64) -> f64 {
        (rate * 1e6).floor() / 1e6
    }
}

/// The results of one rule file over one dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Dataset name from the rule file.
    pub dataset: String,
    /// Rows read.
    pub rows: u64,
    /// The as-of time the rules were judged at (RFC 3339, seconds, with offset).
    #[serde(serialize_with = "as_of_seconds")]
    pub as_of: DateTime<FixedOffset>,
    /// One result per rule, in rule-file order.
    pub results: Vec<RuleResult>,
    /// Wall time of the check.
    pub elapsed_ms: u64,
    /// Version (SHA-256) of the rule file used.
    pub rules_version: String,
    /// The source files read, in `row` numbering order.
    pub files: Vec<String>,
}

impl CheckReport {
    /// How many rules ended at `status`.
    pub fn count(&self, status: Status) -> usize {
        self.results.iter().filter(|r| r.status == status).count()
    }

    /// True when at least one rule is at `fail` (exit code 3).
    pub fn has_failures(&self) -> bool {
        self.results.iter().any(|r| r.status == Status::Fail)
    }

    /// The contract's JSON, pretty-printed.
    pub fn to_json(&self) -> String {
        // Serializing plain structs of strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

fn as_of_seconds<S: serde::Serializer>(t: &DateTime<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result's `check` is one of the registry's rule types: it is written
    /// as the contract's word, and a stored result naming no rule type is
    /// refused when read back, with the known types (issue #20).
    #[test]
    fn a_results_check_is_a_registered_rule_type() {
        let json = r#"{"id":"r","dimension":"validity","check":"cn_uscc","evaluated":2,"failed":1,"pass_rate":0.5,"status":"fail","samples":[]}"#;
        let r: RuleResult = serde_json::from_str(json).unwrap();
        assert_eq!(r.check, quality_rules::RuleKind::of("cn_uscc").unwrap());
        assert_eq!(serde_json::to_string(&r).unwrap(), json);
        let bad = json.replace("cn_uscc", "cn_usc");
        let e = serde_json::from_str::<RuleResult>(&bad)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown check type `cn_usc`") && e.contains("cn_uscc"),
            "{e}"
        );
    }
}

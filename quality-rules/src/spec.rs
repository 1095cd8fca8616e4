//! The raw form of a rule file: the YAML shape users write (CONTRACT.md,
//! "Rule files"), parsed and only validated, never executed.
//!
//! ```text
//! rules.yaml ──serde-saphyr──▶ RuleFileSpec ──rules::compile──▶ CompiledRule (DataFusion Expr)
//! ```
//!
//! Parsing does no I/O beyond reading the file and keeps the line of every
//! rule, so later errors (unknown column, bad regex) can point at it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::error::RuleError;

/// A rule file as written: one dataset, its missing-value markers and its rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFileSpec {
    /// Free name of the dataset the rules describe; reported in every result.
    pub dataset: String,
    /// Optional human description of the dataset.
    #[serde(default)]
    pub description: Option<String>,
    /// Extra markers that mean "missing", added to the defaults (NULL, empty,
    /// white space only). Compared after trimming, e.g. `["无", "NULL"]`.
    #[serde(default)]
    pub missing_values: Vec<String>,
    /// Columns that identify a record (extension). Written with every failed
    /// row so operators can find the record in the source system.
    #[serde(default)]
    pub key: Vec<String>,
    /// The rules, evaluated together in one scan of the dataset.
    pub rules: Vec<Spanned<RuleSpec>>,
}

/// One rule as written. Check-specific keys are optional here; each rule type
/// says which ones it needs and rejects the others (`rules::RuleType::params`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Unique within the file; names the rule in results.
    pub id: String,
    /// The quality dimension the rule measures.
    pub dimension: Dimension,
    /// The rule type, e.g. `not_null`, `cn_resident_id` (see `pdq rules list`).
    pub check: String,
    /// Optional human description.
    #[serde(default)]
    pub description: Option<String>,
    /// Warn when pass_rate is below this (0..=1).
    #[serde(default)]
    pub warn_below: Option<f64>,
    /// Fail when pass_rate is below this (0..=1).
    #[serde(default)]
    pub fail_below: Option<f64>,
    /// The column a single-column check looks at.
    #[serde(default)]
    pub column: Option<String>,
    /// The columns of a multi-column check (`unique`).
    #[serde(default)]
    pub columns: Option<Vec<String>>,
    /// `regex`: the pattern a value must match (Rust `regex` syntax, searched;
    /// anchor it with `^…$` to match whole values).
    #[serde(default)]
    pub pattern: Option<String>,
    /// `in_set`: the allowed values (compared as text).
    #[serde(default)]
    pub values: Option<Vec<Scalar>>,
    /// `range` / `row_count`: inclusive lower bound.
    #[serde(default)]
    pub min: Option<Scalar>,
    /// `range` / `row_count`: inclusive upper bound.
    #[serde(default)]
    pub max: Option<Scalar>,
    /// `expression`: a SQL boolean expression over the row.
    #[serde(default)]
    pub expr: Option<String>,
    /// `reference`: where the allowed values live.
    #[serde(default)]
    pub reference: Option<ReferenceSpec>,
    /// `freshness`: the oldest acceptable newest value, e.g. `1d`, `36h`, `1d12h`.
    #[serde(default)]
    pub max_age: Option<String>,
    /// `cn_resident_id`: accept a lowercase `x` check character.
    #[serde(default)]
    pub allow_lowercase_x: Option<bool>,
    /// `date_format`: the expected format, e.g. `YYYY-MM-DD`.
    #[serde(default)]
    pub format: Option<String>,
    /// `cn_division_code`: require a code in use in the as-of year (default:
    /// any code ever listed in GB/T 2260).
    #[serde(default)]
    pub current_only: Option<bool>,
}

impl RuleSpec {
    /// Names of the check-specific keys present in this rule, in YAML spelling.
    pub fn present_params(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut add = |present: bool, name: &'static str| {
            if present {
                out.push(name);
            }
        };
        add(self.column.is_some(), "column");
        add(self.columns.is_some(), "columns");
        add(self.pattern.is_some(), "pattern");
        add(self.values.is_some(), "values");
        add(self.min.is_some(), "min");
        add(self.max.is_some(), "max");
        add(self.expr.is_some(), "expr");
        add(self.reference.is_some(), "reference");
        add(self.max_age.is_some(), "max_age");
        add(self.allow_lowercase_x.is_some(), "allow_lowercase_x");
        add(self.format.is_some(), "format");
        add(self.current_only.is_some(), "current_only");
        out
    }
}

/// `reference:` of a `reference` rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceSpec {
    /// File or directory of the reference dataset, relative to the rule file.
    pub data: PathBuf,
    /// The column holding the allowed values.
    pub column: String,
}

/// The quality dimensions of the regulations (完整性, 有效性, 一致性, 及时性,
/// 准确性) plus uniqueness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dimension {
    /// 完整性
    Completeness,
    /// 有效性 (规范性)
    Validity,
    /// 一致性
    Consistency,
    /// 及时性 (时效性)
    Timeliness,
    /// 准确性
    Accuracy,
    /// 唯一性
    Uniqueness,
}

impl Dimension {
    /// Every dimension, in the order reports show them.
    pub const ALL: [Dimension; 6] = [
        Dimension::Completeness,
        Dimension::Validity,
        Dimension::Consistency,
        Dimension::Timeliness,
        Dimension::Accuracy,
        Dimension::Uniqueness,
    ];

    /// The YAML / JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::Completeness => "completeness",
            Dimension::Validity => "validity",
            Dimension::Consistency => "consistency",
            Dimension::Timeliness => "timeliness",
            Dimension::Accuracy => "accuracy",
            Dimension::Uniqueness => "uniqueness",
        }
    }

    /// The name used in the regulations and in reports (zh-CN).
    pub fn name_zh(self) -> &'static str {
        match self {
            Dimension::Completeness => "完整性",
            Dimension::Validity => "有效性",
            Dimension::Consistency => "一致性",
            Dimension::Timeliness => "及时性",
            Dimension::Accuracy => "准确性",
            Dimension::Uniqueness => "唯一性",
        }
    }
}

/// A scalar written in YAML: text, a number or a boolean.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// An integer.
    Int(i64),
    /// A non-integer number.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Text (also dates such as `2020-01-01`).
    Text(String),
}

impl Scalar {
    /// The value as text, as it is compared with column values.
    pub fn to_text(&self) -> String {
        match self {
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
            Scalar::Text(s) => s.clone(),
        }
    }

    /// The value as a number, if it is one (or text that parses as one).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Scalar::Int(i) => Some(*i as f64),
            Scalar::Float(f) => Some(*f),
            Scalar::Bool(_) => None,
            Scalar::Text(s) => s.trim().parse().ok(),
        }
    }
}

/// A rule file read from disk: its path, its text's hash (the rule-set
/// version that results record) and its parsed form.
#[derive(Debug, Clone)]
pub struct RuleFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, hex: identifies the rule-set version.
    pub version: String,
    /// The parsed rules.
    pub spec: RuleFileSpec,
}

impl RuleFile {
    /// Reads and parses a rule file. Errors name the file, line and column.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("rules.yaml");
    /// std::fs::write(&path, "dataset: people\nrules:\n  - {id: a, dimension: completeness, check: not_null, column: x}\n").unwrap();
    /// let file = quality_rules::spec::RuleFile::load(&path).unwrap();
    /// assert_eq!(file.spec.dataset, "people");
    /// assert_eq!(file.spec.rules[0].referenced.line(), 3);
    /// ```
    pub fn load(path: &Path) -> Result<RuleFile, RuleError> {
        let bytes = std::fs::read(path).map_err(|source| RuleError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| RuleError::Yaml {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        Self::parse(path, &text)
    }

    /// Parses rule-file text; `path` is used for messages and for resolving
    /// relative paths inside the rules.
    pub fn parse(path: &Path, text: &str) -> Result<RuleFile, RuleError> {
        let spec: RuleFileSpec = serde_saphyr::from_str(text).map_err(|e| yaml_error(path, &e))?;
        let file = RuleFile {
            path: path.to_path_buf(),
            version: sha256_hex(text.as_bytes()),
            spec,
        };
        file.validate()?;
        Ok(file)
    }

    /// The directory relative paths in the file are resolved against.
    pub fn base_dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    fn validate(&self) -> Result<(), RuleError> {
        let mut seen = std::collections::HashMap::new();
        if self.spec.rules.is_empty() {
            return Err(RuleError::Invalid {
                path: self.path.clone(),
                line: 0,
                rule: None,
                message: "the file has no rules (expected a non-empty `rules:` list)".into(),
            });
        }
        for rule in &self.spec.rules {
            let line = rule.referenced.line();
            let r = &rule.value;
            if let Some(first) = seen.insert(r.id.clone(), line) {
                return Err(RuleError::Invalid {
                    path: self.path.clone(),
                    line,
                    rule: Some(r.id.clone()),
                    message: format!("duplicate rule id (first used on line {first})"),
                });
            }
            for (name, value) in [("warn_below", r.warn_below), ("fail_below", r.fail_below)] {
                if let Some(v) = value
                    && !(0.0..=1.0).contains(&v)
                {
                    return Err(RuleError::Invalid {
                        path: self.path.clone(),
                        line,
                        rule: Some(r.id.clone()),
                        message: format!("`{name}` must be between 0 and 1, found {v}"),
                    });
                }
            }
        }
        Ok(())
    }
}

/// One line: `file:line:column: message` from a serde-saphyr error, whose
/// Display renders a multi-line snippet we do not want on a terminal.
fn yaml_error(path: &Path, e: &serde_saphyr::Error) -> RuleError {
    let (line, column) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((0, 0));
    let rendered = e.to_string();
    let message = rendered
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("-->") && !l.starts_with('|'))
        .unwrap_or("invalid YAML")
        .trim_start_matches("error: ")
        .to_string();
    RuleError::Yaml {
        path: path.to_path_buf(),
        line,
        column,
        message,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RuleFile, RuleError> {
        RuleFile::parse(Path::new("rules.yaml"), text)
    }

    #[test]
    fn parses_the_contract_example() {
        let text = include_str!("../tests/data/contract_example.yaml");
        let file = parse(text).unwrap();
        assert_eq!(file.spec.dataset, "household_registration");
        assert_eq!(file.spec.missing_values, vec!["无", "NULL"]);
        assert_eq!(file.spec.rules.len(), 12);
        let unique = &file.spec.rules[7].value;
        assert_eq!(
            unique.columns.as_deref(),
            Some(&["id_number".to_string()][..])
        );
        assert_eq!(file.spec.rules[0].value.fail_below, Some(0.95));
        assert_eq!(file.spec.rules[0].referenced.line(), 4);
    }

    #[test]
    fn malformed_yaml_names_the_line() {
        let err = parse("dataset: x\nrules:\n  - {id: a, check: [not closed\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("rules.yaml:"), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
        match err {
            RuleError::Yaml { line, .. } => assert!(line >= 3, "line {line}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn unknown_key_and_dimension_are_errors_with_lines() {
        let err = parse("dataset: x\nrules:\n  - id: a\n    dimension: validity\n    check: regex\n    colum: x\n")
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("colum"), "{msg}");
        assert!(msg.starts_with("rules.yaml:6"), "{msg}");
        let err = parse(
            "dataset: x\nrules:\n  - {id: a, dimension: beauty, check: not_null, column: x}\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("beauty"), "{err}");
    }

    #[test]
    fn duplicate_ids_and_bad_thresholds_are_rejected() {
        let err = parse(
            "dataset: x\nrules:\n  - {id: a, dimension: completeness, check: not_null, column: x}\n  - {id: a, dimension: completeness, check: not_null, column: y}\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "rules.yaml:4: rule `a`: duplicate rule id (first used on line 3)"
        );
        let err = parse(
            "dataset: x\nrules:\n  - {id: a, dimension: completeness, check: not_null, column: x, fail_below: 95}\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("between 0 and 1"), "{err}");
    }

    #[test]
    fn scalars_keep_text() {
        let file = parse(
            "dataset: x\nrules:\n  - {id: a, dimension: validity, check: in_set, column: x, values: ['01', 2, 2.5, true]}\n",
        )
        .unwrap();
        let values: Vec<String> = file.spec.rules[0]
            .value
            .values
            .as_ref()
            .unwrap()
            .iter()
            .map(Scalar::to_text)
            .collect();
        assert_eq!(values, ["01", "2", "2.5", "true"]);
    }
}

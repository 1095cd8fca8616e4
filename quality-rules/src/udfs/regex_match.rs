//! `pdq_regex_match(value, pattern)`: whether the pattern matches somewhere
//! in the value (Rust `regex` syntax), NULL for NULL.
//!
//! Unlike DataFusion's `regexp_like`, which compiles its pattern again for
//! every batch, the compiled pattern is kept in the function instance (one
//! per session, so nothing global) and reused for every batch of the scan.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::RwLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};
use regex::Regex;

use super::{first_array, map_bool, scalar_arg, string_then};

/// Compiled patterns kept at most; beyond, they are compiled per batch.
const CACHED_PATTERNS: usize = 256;

/// `pdq_regex_match`.
#[derive(Debug)]
pub struct RegexMatchFunc {
    signature: Signature,
    compiled: RwLock<HashMap<String, Regex>>,
}

impl PartialEq for RegexMatchFunc {
    fn eq(&self, other: &Self) -> bool {
        self.signature == other.signature
    }
}
impl Eq for RegexMatchFunc {}
impl Hash for RegexMatchFunc {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.signature.hash(state);
    }
}

impl RegexMatchFunc {
    pub fn new() -> Self {
        RegexMatchFunc {
            signature: string_then(&[&[DataType::Utf8]]),
            compiled: RwLock::new(HashMap::new()),
        }
    }

    fn regex(&self, pattern: &str) -> Result<Regex> {
        if let Ok(cache) = self.compiled.read()
            && let Some(r) = cache.get(pattern)
        {
            return Ok(r.clone());
        }
        let regex = Regex::new(pattern).map_err(|e| {
            datafusion::error::DataFusionError::Execution(format!(
                "pdq_regex_match: invalid pattern `{pattern}`: {e}"
            ))
        })?;
        if let Ok(mut cache) = self.compiled.write()
            && cache.len() < CACHED_PATTERNS
        {
            cache.insert(pattern.to_string(), regex.clone());
        }
        Ok(regex)
    }
}

impl ScalarUDFImpl for RegexMatchFunc {
    fn name(&self) -> &str {
        "pdq_regex_match"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let regex = match scalar_arg(&args.args, 1, "pdq_regex_match: pattern")? {
            Some(ScalarValue::Utf8(Some(p)) | ScalarValue::Utf8View(Some(p))) => self.regex(&p)?,
            _ => return exec_err!("pdq_regex_match needs a constant pattern"),
        };
        let array = first_array(&args.args, args.number_rows)?;
        Ok(ColumnarValue::Array(map_bool(&array, |s| {
            regex.is_match(s)
        })?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::{bools, invoke};

    #[test]
    fn matches_searches_and_keeps_nulls() {
        let f = RegexMatchFunc::new();
        let phone = ScalarValue::Utf8(Some(r"^1[3-9]\d{9}$".into()));
        let out = invoke(
            &f,
            &[
                Some("13800138000"),
                Some("12800138000"),
                Some("138001380001"),
                None,
            ],
            &[phone],
        )
        .unwrap();
        assert_eq!(
            bools(&out),
            vec![Some(true), Some(false), Some(false), None]
        );
        // Unanchored patterns search; the compiled pattern is reused.
        let out = invoke(
            &f,
            &[Some("ab12"), Some("abc")],
            &[ScalarValue::Utf8(Some(r"\d".into()))],
        )
        .unwrap();
        assert_eq!(bools(&out), vec![Some(true), Some(false)]);
        assert_eq!(f.compiled.read().unwrap().len(), 2);
    }

    #[test]
    fn a_bad_pattern_is_an_error() {
        let err = invoke(
            &RegexMatchFunc::new(),
            &[Some("x")],
            &[ScalarValue::Utf8(Some("([a-".into()))],
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("invalid pattern"), "{err}");
    }
}

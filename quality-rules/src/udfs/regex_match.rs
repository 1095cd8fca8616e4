//! `pdq_regex_match(value, pattern)`: whether the pattern matches somewhere
//! in the value (Rust `regex` syntax), NULL for NULL.
//!
//! Unlike DataFusion's `regexp_like`, which compiles its pattern again for
//! every batch, the compiled pattern is kept in the function instance (one
//! per session, so nothing global) and reused for every batch of the scan.
//!
//! Most patterns in the bureau's rule files describe a whole code of fixed
//! width (`^1[3-9]\d{9}$`, `^\d{6}$`, `^[0-9A-HJ-NPQRTUWXY]{18}$`). Such a
//! pattern is also compiled to a [`FixedWidth`] table, which decides every
//! ASCII value with one lookup per byte; values with other characters still
//! go to the regex, so the result is the regex's in every case.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::RwLock;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};
use regex::Regex;
use regex_syntax::hir::{Class, Hir, HirKind, Look};

use super::{first_array, map_bool, scalar_arg, string_then};

/// Compiled patterns kept at most; beyond, they are compiled per batch.
const CACHED_PATTERNS: usize = 256;

/// `pdq_regex_match`.
#[derive(Debug)]
pub struct RegexMatchFunc {
    signature: Signature,
    compiled: RwLock<HashMap<String, Compiled>>,
}

/// A pattern compiled once: the regex, and its table when it has one.
#[derive(Debug, Clone)]
struct Compiled {
    regex: Regex,
    fixed: Option<FixedWidth>,
}

impl Compiled {
    #[inline]
    fn is_match(&self, s: &str) -> bool {
        match self.fixed.as_ref().and_then(|f| f.decide(s.as_bytes())) {
            Some(verdict) => verdict,
            None => self.regex.is_match(s),
        }
    }
}

/// Widest pattern compiled to a table (positions).
const FIXED_WIDTH_MAX: usize = 256;

/// An anchored pattern (`^…$`) of single characters only (literals,
/// classes, exact repetitions, groups), as a table of the bytes allowed at
/// each position.
///
/// For a value of ASCII characters only, one character is one byte, and a
/// class matches such a character exactly when its ASCII part holds it; so
/// the table's verdict is the regex's. Values with other characters are not
/// decided here.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FixedWidth {
    /// 256 entries per position, for each byte: [`ALLOWED`], [`NOT_ASCII`] or 0.
    table: Vec<u8>,
}

/// The byte may be the character at this position.
const ALLOWED: u8 = 1;
/// The byte is not ASCII: the value is left to the regex.
const NOT_ASCII: u8 = 2;

impl FixedWidth {
    /// The table of `pattern`, or None when it is not of that shape (or
    /// does not parse: the regex reports that).
    fn of(pattern: &str) -> Option<FixedWidth> {
        let hir = regex_syntax::parse(pattern).ok()?;
        let HirKind::Concat(items) = hir.kind() else {
            return None;
        };
        let (first, rest) = items.split_first()?;
        let (last, middle) = rest.split_last()?;
        if first.kind() != &HirKind::Look(Look::Start) || last.kind() != &HirKind::Look(Look::End) {
            return None;
        }
        let mut positions: Vec<u128> = Vec::new();
        for h in middle {
            push_positions(h, &mut positions)?;
        }
        let mut table = vec![0u8; positions.len() * 256];
        for (p, allowed) in positions.iter().enumerate() {
            for b in 0..256usize {
                table[p * 256 + b] = if b >= 0x80 {
                    NOT_ASCII
                } else if (allowed >> b) & 1 == 1 {
                    ALLOWED
                } else {
                    0
                };
            }
        }
        Some(FixedWidth { table })
    }

    /// Number of characters a match has.
    fn width(&self) -> usize {
        self.table.len() / 256
    }

    /// The verdict for an ASCII value; None when `value` has other bytes.
    #[inline]
    fn decide(&self, value: &[u8]) -> Option<bool> {
        if value.len() != self.width() {
            return if value.is_ascii() { Some(false) } else { None };
        }
        // No branch per byte: every position is looked up.
        let (mut all, mut any) = (ALLOWED, 0u8);
        for (row, &b) in self.table.chunks_exact(256).zip(value) {
            let t = row[usize::from(b)];
            all &= t;
            any |= t;
        }
        if any & NOT_ASCII != 0 {
            None
        } else {
            Some(all & ALLOWED != 0)
        }
    }
}

/// Appends the positions of `hir`, or None when it is not a fixed sequence
/// of single characters.
fn push_positions(hir: &Hir, out: &mut Vec<u128>) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Literal(lit) => {
            for &b in lit.0.iter() {
                if b >= 0x80 {
                    return None;
                }
                out.push(1u128 << b);
            }
        }
        HirKind::Class(class) => out.push(ascii_part(class)),
        HirKind::Capture(c) => push_positions(&c.sub, out)?,
        HirKind::Concat(items) => {
            for h in items {
                push_positions(h, out)?;
            }
        }
        HirKind::Repetition(r) if Some(r.min) == r.max => {
            let mut one = Vec::new();
            push_positions(&r.sub, &mut one)?;
            let times = usize::try_from(r.min).ok()?;
            if one.len().checked_mul(times)? + out.len() > FIXED_WIDTH_MAX {
                return None;
            }
            for _ in 0..times {
                out.extend_from_slice(&one);
            }
        }
        HirKind::Repetition(_) | HirKind::Look(_) | HirKind::Alternation(_) => return None,
    }
    (out.len() <= FIXED_WIDTH_MAX).then_some(())
}

/// The ASCII characters of a class, as a bit set.
fn ascii_part(class: &Class) -> u128 {
    let ranges: Vec<(u32, u32)> = match class {
        Class::Unicode(c) => c
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
        Class::Bytes(c) => c
            .ranges()
            .iter()
            .map(|r| (r.start() as u32, r.end() as u32))
            .collect(),
    };
    let mut bits = 0u128;
    for (start, end) in ranges {
        for b in start..=end.min(0x7F) {
            bits |= 1u128 << b;
        }
    }
    bits
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

    fn regex(&self, pattern: &str) -> Result<Compiled> {
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
        let compiled = Compiled {
            regex,
            fixed: FixedWidth::of(pattern),
        };
        if let Ok(mut cache) = self.compiled.write()
            && cache.len() < CACHED_PATTERNS
        {
            cache.insert(pattern.to_string(), compiled.clone());
        }
        Ok(compiled)
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
        let compiled = match scalar_arg(&args.args, 1, "pdq_regex_match: pattern")? {
            Some(ScalarValue::Utf8(Some(p)) | ScalarValue::Utf8View(Some(p))) => self.regex(&p)?,
            _ => return exec_err!("pdq_regex_match needs a constant pattern"),
        };
        let array = first_array(&args.args, args.number_rows)?;
        Ok(ColumnarValue::Array(map_bool(&array, |s| {
            compiled.is_match(s)
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
    fn fixed_width_patterns_get_a_table() {
        let phone = FixedWidth::of(r"^1[3-9]\d{9}$").unwrap();
        assert_eq!(phone.width(), 11);
        assert_eq!(phone.decide(b"13800138000"), Some(true));
        assert_eq!(phone.decide(b"12800138000"), Some(false));
        assert_eq!(phone.decide(b"1380013800"), Some(false));
        // `\d` is Unicode: full-width digits are left to the regex.
        assert_eq!(phone.decide("1３800138000".as_bytes()), None);
        assert_eq!(phone.decide("138001380０".as_bytes()), None);
        for shape in [
            r"^\d{6}$",
            r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$",
            r"^(\d{4})-(\d{2})-(\d{2})$",
            r"^(?i)ab[c-e]$",
            r"^$",
            r"\A\d{2}\z",
        ] {
            assert!(FixedWidth::of(shape).is_some(), "{shape}");
        }
        for other in [
            r"1[3-9]\d{9}",  // not anchored: a search
            r"^1[3-9]\d{9}", // open end
            r"^\d{6,8}$",    // variable width
            r"^(a|bc)$",     // alternation
            r"(?m)^\d$",     // line anchors
            r"^\d+$",
            r"^张\d$", // a non-ASCII literal
            r"^\b\d$",
            r"([a-",
        ] {
            assert!(FixedWidth::of(other).is_none(), "{other}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_table_agrees_with_the_regex(
            pattern in proptest::sample::select(vec![
                r"^1[3-9]\d{9}$",
                r"^\d{6}$",
                r"^(?i)[a-f0-9]{4}-[^x]{2}$",
                r"^[0-9A-HJ-NPQRTUWXY]{3}\.\w\s$",
                r"^(ab){2}[[:upper:]]$",
            ]),
            value in r"[0-9a-zA-Z\-\. _xX\t１٣é]{0,12}",
        ) {
            let fixed = FixedWidth::of(pattern).unwrap();
            let regex = Regex::new(pattern).unwrap();
            let expected = regex.is_match(&value);
            match fixed.decide(value.as_bytes()) {
                Some(verdict) => proptest::prop_assert_eq!(verdict, expected, "{} on {:?}", pattern, value),
                None => proptest::prop_assert!(!value.is_ascii(), "{} on {:?}", pattern, value),
            }
            let compiled = Compiled { regex, fixed: Some(fixed) };
            proptest::prop_assert_eq!(compiled.is_match(&value), expected);
        }
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

//! pdq's SQL functions as DataFusion scalar UDFs, one file each, listed once
//! in [`all`]. They work on Utf8, LargeUtf8 and Utf8View arrays without
//! allocating per row, hold no global state (so the same list can be
//! registered on Ballista executors), and return NULL for NULL input.
//!
//! | function | returns |
//! |---|---|
//! | `pdq_clean(value, marker…)` | trimmed text (Utf8View), NULL when missing |
//! | `pdq_to_number(value)` | Float64, NULL when not a number |
//! | `pdq_range_failed(value, parsed, min, max)` | Boolean verdict of a `range` check: NULL when `value` is missing |
//! | `cn_resident_id_valid(value, as_of DATE [, allow_lowercase_x])` | Boolean |
//! | `cn_uscc_valid(value)` | Boolean |
//! | `cn_division_code_valid(value [, year])` | Boolean |
//! | `cn_mobile_valid(value)`, `cn_postal_code_valid(value)` | Boolean |
//! | `date_format_valid(value, format)` | Boolean |
//! | `pdq_in_set(value, v1, v2, …)` | Boolean: the text is one of the constants |
//! | `pdq_regex_match(value, pattern)` | Boolean: the pattern matches (compiled once per session) |
//! | `pdq_key_hash(a, b, …)` | UInt64 code of a record key (for `unique`): exact for short shapes, else a hash |
//! | `cn_id_birth_date(id)`, `cn_id_sex(id)`, `cn_id_division(id)`, `cn_id_upgrade(id)` | Date32 / Utf8 |

mod clean;
mod code_checks;
mod date_format;
mod division_code;
mod id_parts;
mod in_set;
mod key_hash;
mod range_failed;
mod regex_match;
mod resident_id;
mod to_number;

pub use key_hash::{HASHED, exact_code, is_exact};

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Signature, TypeSignature, Volatility};
use datafusion::prelude::SessionContext;

/// Every pdq UDF, once.
pub fn all() -> Vec<Arc<ScalarUDF>> {
    vec![
        Arc::new(ScalarUDF::new_from_impl(clean::CleanFunc::new())),
        Arc::new(ScalarUDF::new_from_impl(to_number::ToNumberFunc::new())),
        Arc::new(ScalarUDF::new_from_impl(
            range_failed::RangeFailedFunc::new(),
        )),
        Arc::new(ScalarUDF::new_from_impl(
            resident_id::ResidentIdValidFunc::new(),
        )),
        Arc::new(ScalarUDF::new_from_impl(code_checks::CodeCheckFunc::uscc())),
        Arc::new(ScalarUDF::new_from_impl(
            division_code::DivisionCodeValidFunc::new(),
        )),
        Arc::new(ScalarUDF::new_from_impl(
            code_checks::CodeCheckFunc::mobile(),
        )),
        Arc::new(ScalarUDF::new_from_impl(
            code_checks::CodeCheckFunc::postal_code(),
        )),
        Arc::new(ScalarUDF::new_from_impl(
            date_format::DateFormatValidFunc::new(),
        )),
        Arc::new(ScalarUDF::new_from_impl(id_parts::IdPartFunc::birth_date())),
        Arc::new(ScalarUDF::new_from_impl(id_parts::IdPartFunc::sex())),
        Arc::new(ScalarUDF::new_from_impl(id_parts::IdPartFunc::division())),
        Arc::new(ScalarUDF::new_from_impl(id_parts::IdPartFunc::upgrade())),
        Arc::new(ScalarUDF::new_from_impl(key_hash::KeyHashFunc::new())),
        Arc::new(ScalarUDF::new_from_impl(regex_match::RegexMatchFunc::new())),
        Arc::new(ScalarUDF::new_from_impl(in_set::InSetFunc::new())),
    ]
}

/// Registers every pdq UDF on a session.
pub fn register_all(ctx: &SessionContext) {
    for udf in all() {
        ctx.register_udf(udf.as_ref().clone());
    }
}

const STRINGS: [DataType; 3] = [DataType::Utf8View, DataType::Utf8, DataType::LargeUtf8];

/// A signature: one string argument of any string type, followed by `rest`
/// (each alternative list is a separate accepted form).
pub(crate) fn string_then(rest: &[&[DataType]]) -> Signature {
    let mut forms = Vec::new();
    for s in STRINGS {
        for r in rest {
            let mut args = vec![s.clone()];
            args.extend(r.iter().cloned());
            forms.push(TypeSignature::Exact(args));
        }
    }
    Signature::one_of(forms, Volatility::Immutable)
}

/// Trims Unicode white space (U+3000 and NBSP included). Fast paths: ASCII
/// ends are checked by byte; other ends by decoding only the first and last
/// character (Chinese text rarely needs the general `str::trim`).
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) if f.is_ascii_graphic() && l.is_ascii_graphic() => s,
        (None, _) | (_, None) => s,
        _ => {
            let first = s.chars().next().is_some_and(char::is_whitespace);
            let last = s.chars().next_back().is_some_and(char::is_whitespace);
            if first || last { s.trim() } else { s }
        }
    }
}

/// The first argument as an array of `n` rows.
pub(crate) fn first_array(args: &[ColumnarValue], n: usize) -> Result<ArrayRef> {
    match args.first() {
        Some(v) => v.to_array(n),
        None => exec_err!("missing argument"),
    }
}

/// Applies `f` to every non-NULL string of a string array; NULL stays NULL.
pub(crate) fn map_bool(array: &ArrayRef, f: impl Fn(&str) -> bool) -> Result<ArrayRef> {
    let n = array.len();
    let values = match array.data_type() {
        DataType::Utf8View => {
            let a = array.as_string_view();
            BooleanBuffer::collect_bool(n, |i| !a.is_null(i) && f(a.value(i)))
        }
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            BooleanBuffer::collect_bool(n, |i| !a.is_null(i) && f(a.value(i)))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            BooleanBuffer::collect_bool(n, |i| !a.is_null(i) && f(a.value(i)))
        }
        DataType::Null => return Ok(Arc::new(BooleanArray::new_null(n))),
        other => return exec_err!("expected a string argument, found {other}"),
    };
    Ok(Arc::new(BooleanArray::new(values, array.nulls().cloned())))
}

/// Calls `f` on every string (None for NULL), in order.
pub(crate) fn for_each_str<'a>(
    array: &'a ArrayRef,
    mut f: impl FnMut(Option<&'a str>),
) -> Result<()> {
    match array.data_type() {
        DataType::Utf8View => array.as_string_view().iter().for_each(&mut f),
        DataType::Utf8 => array.as_string::<i32>().iter().for_each(&mut f),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().for_each(&mut f),
        DataType::Null => (0..array.len()).for_each(|_| f(None)),
        other => return exec_err!("expected a string argument, found {other}"),
    }
    Ok(())
}

/// A scalar argument (literal), by position.
pub(crate) fn scalar_arg(
    args: &[ColumnarValue],
    i: usize,
    what: &str,
) -> Result<Option<ScalarValue>> {
    match args.get(i) {
        None => Ok(None),
        Some(ColumnarValue::Scalar(s)) => Ok(Some(s.clone())),
        Some(ColumnarValue::Array(_)) => exec_err!("{what} must be a constant"),
    }
}

#[cfg(test)]
pub(crate) mod test_util;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_duplicate_names() {
        let mut names: Vec<String> = all().iter().map(|u| u.name().to_string()).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n, "{names:?}");
        for name in names {
            assert!(
                name.starts_with("pdq_") || name.starts_with("cn_") || name == "date_format_valid",
                "{name}"
            );
        }
    }

    #[test]
    fn trim_handles_unicode_space() {
        assert_eq!(trim(" a\u{3000}"), "a");
        assert_eq!(trim("\u{a0}b\t"), "b");
        assert_eq!(trim("ab"), "ab");
        assert_eq!(trim("\u{3000}"), "");
        // Non-ASCII ends: only white space is cut.
        assert_eq!(trim("张三\u{3000}"), "张三");
        assert_eq!(trim("\u{a0}张三"), "张三");
        assert_eq!(trim("张三"), "张三");
        assert_eq!(trim("é"), "é");
        assert_eq!(trim("\u{2003}a b\u{2003}"), "a b");
        assert_eq!(trim(""), "");
    }
}

//! `pdq_in_set(value, v1, v2, …)`: whether the text is one of the listed
//! constants, compared byte for byte; NULL for NULL.
//!
//! The `in_set` rule ran on DataFusion's `IN (list)`, which for Utf8View
//! hashes every value and compares it through the generic comparison
//! kernels: a third of the time of a rule set of `not_null`, `range` and
//! `in_set`. Code lists are short values, and a Utf8View value of at most
//! 12 bytes lies whole in its 16-byte view, so here such a value is compared
//! as one 128-bit number; longer values are compared as bytes.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BooleanArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::{first_array, map_bool};

/// Longest value held whole in a view.
const INLINE_MAX: usize = 12;

/// `pdq_in_set`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct InSetFunc {
    signature: Signature,
}

impl InSetFunc {
    pub fn new() -> Self {
        InSetFunc {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

/// The view of a value of at most [`INLINE_MAX`] bytes: its length in the
/// low 32 bits, then its bytes, then zeros.
fn inline_view(b: &[u8]) -> u128 {
    let mut v = [0u8; 16];
    v[..4].copy_from_slice(&(b.len() as u32).to_le_bytes());
    v[4..4 + b.len()].copy_from_slice(b);
    u128::from_le_bytes(v)
}

/// The bits of a view that hold a value of `len` (at most [`INLINE_MAX`])
/// bytes: the padding after the value is not compared.
#[inline]
fn inline_mask(len: usize) -> u128 {
    if len >= INLINE_MAX {
        u128::MAX
    } else {
        (1u128 << (32 + 8 * len)) - 1
    }
}

/// The listed constants.
#[derive(Debug, Default)]
struct Set {
    /// Views of the values of at most 12 bytes, sorted.
    short: Vec<u128>,
    /// The longer values, sorted.
    long: Vec<Vec<u8>>,
}

impl Set {
    fn new(values: Vec<String>) -> Set {
        let mut set = Set::default();
        for v in values {
            if v.len() <= INLINE_MAX {
                set.short.push(inline_view(v.as_bytes()));
            } else {
                set.long.push(v.into_bytes());
            }
        }
        set.short.sort_unstable();
        set.short.dedup();
        set.long.sort_unstable();
        set.long.dedup();
        set
    }

    #[inline]
    fn contains_view(&self, view: u128) -> bool {
        // A short list is scanned (no branch per entry); a long one searched.
        if self.short.len() <= 8 {
            self.short
                .iter()
                .fold(false, |found, &s| found | (s == view))
        } else {
            self.short.binary_search(&view).is_ok()
        }
    }

    #[inline]
    fn contains_long(&self, b: &[u8]) -> bool {
        !self.long.is_empty() && self.long.binary_search_by(|v| v.as_slice().cmp(b)).is_ok()
    }

    fn contains(&self, b: &[u8]) -> bool {
        if b.len() <= INLINE_MAX {
            self.contains_view(inline_view(b))
        } else {
            self.contains_long(b)
        }
    }
}

/// The list arguments: text constants, not NULL.
fn list_values(args: &[ColumnarValue]) -> Result<Vec<String>> {
    args.iter()
        .enumerate()
        .map(|(i, a)| match a {
            ColumnarValue::Scalar(
                ScalarValue::Utf8(Some(v))
                | ScalarValue::Utf8View(Some(v))
                | ScalarValue::LargeUtf8(Some(v)),
            ) => Ok(v.clone()),
            other => exec_err!(
                "pdq_in_set: list value {} must be a text constant, found {}",
                i + 1,
                other.data_type()
            ),
        })
        .collect()
}

impl ScalarUDFImpl for InSetFunc {
    fn name(&self) -> &str {
        "pdq_in_set"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(DataType::Utf8View | DataType::Utf8 | DataType::LargeUtf8 | DataType::Null) => {
                Ok(DataType::Boolean)
            }
            Some(other) => exec_err!("pdq_in_set: expected text, found {other}"),
            None => exec_err!("pdq_in_set: no value"),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let set = Set::new(list_values(args.args.get(1..).unwrap_or_default())?);
        let array = first_array(&args.args, args.number_rows)?;
        if array.data_type() != &DataType::Utf8View {
            return Ok(ColumnarValue::Array(map_bool(&array, |s| {
                set.contains(s.as_bytes())
            })?));
        }
        let a = array.as_string_view();
        let views = a.views();
        let found = BooleanBuffer::collect_bool(a.len(), |i| {
            let view = views[i];
            let len = view as u32 as usize;
            if len <= INLINE_MAX {
                set.contains_view(view & inline_mask(len))
            } else {
                // NULL rows are masked by the output's validity; their view
                // may be anything, so their bytes are not read.
                a.is_valid(i) && set.contains_long(a.value(i).as_bytes())
            }
        });
        Ok(ColumnarValue::Array(Arc::new(BooleanArray::new(
            found,
            a.nulls().cloned(),
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::{bools, invoke};

    fn list(values: &[&str]) -> Vec<ScalarValue> {
        values
            .iter()
            .map(|v| ScalarValue::Utf8(Some(v.to_string())))
            .collect()
    }

    #[test]
    fn short_and_long_values_nulls_and_lookalikes() {
        let f = InSetFunc::new();
        let long = "an organisation name longer than twelve bytes";
        let out = invoke(
            &f,
            &[
                Some("1"),
                Some("2"),
                Some("12"),
                Some(""),
                None,
                Some(long),
                Some("an organisation name longer than twelve bytez"),
                Some("男"),
                Some("123456789012"),
                Some("1234567890123"),
            ],
            &list(&["1", "9", "", long, "男", "123456789012", "1234567890123"]),
        )
        .unwrap();
        assert_eq!(
            bools(&out),
            vec![
                Some(true),
                Some(false),
                Some(false),
                Some(true),
                None,
                Some(true),
                Some(false),
                Some(true),
                Some(true),
                Some(true),
            ]
        );
    }

    #[test]
    fn padding_after_a_short_value_is_not_compared() {
        // A view whose padding bytes are not zero (as a trimmed view may
        // leave them) still equals the listed value.
        let mut v = [0xAAu8; 16];
        v[..4].copy_from_slice(&1u32.to_le_bytes());
        v[4] = b'A';
        let view = u128::from_le_bytes(v);
        let set = Set::new(vec!["A".into(), "B".into()]);
        assert!(set.contains_view(view & inline_mask(1)));
        assert!(!set.contains_view(view));
    }

    #[test]
    fn long_lists_are_searched() {
        // More than 8 short values: a binary search, not a scan.
        let codes: Vec<String> = (0..200).map(|i| format!("{:03}", i * 5)).collect();
        let refs: Vec<&str> = codes.iter().map(String::as_str).collect();
        let values: Vec<String> = (0..1000).map(|i| format!("{i:03}")).collect();
        let values: Vec<Option<&str>> = values.iter().map(|v| Some(v.as_str())).collect();
        let out = invoke(&InSetFunc::new(), &values, &list(&refs)).unwrap();
        let expected: Vec<Option<bool>> = (0..1000).map(|i| Some(i % 5 == 0)).collect();
        assert_eq!(bools(&out), expected);
    }

    #[test]
    fn list_values_must_be_text_constants() {
        let err = invoke(&InSetFunc::new(), &[Some("a")], &[ScalarValue::Utf8(None)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("list value 1 must be a text constant"),
            "{err}"
        );
    }
}

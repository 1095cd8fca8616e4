//! `pdq_clean(value, marker…)`: the engine's definition of "missing"
//! (CONTRACT.md): NULL, empty or white space only (U+3000 included), or equal
//! to a missing marker after trimming → NULL; anything else → the trimmed
//! value. Zero-copy: the result is a Utf8View whose long values point into
//! the input's buffers.
//!
//! For a Utf8View column in which no kept value has surrounding white space
//! (the usual case), the result is the input itself with the missing rows
//! added to its null mask (`nullif`): one pass that reads each value once
//! and writes one bit, no views or values copied. Only a batch that has
//! values to trim gets new views, pointing into the same buffers.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, ByteView, StringViewArray, StringViewBuilder, make_view,
};
use datafusion::arrow::buffer::{BooleanBuffer, ScalarBuffer};
use datafusion::arrow::compute::nullif;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};

use super::trim;

/// `pdq_clean`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CleanFunc {
    signature: Signature,
}

impl CleanFunc {
    pub fn new() -> Self {
        CleanFunc {
            signature: Signature::new(
                TypeSignature::Variadic(vec![
                    DataType::Utf8View,
                    DataType::Utf8,
                    DataType::LargeUtf8,
                ]),
                Volatility::Immutable,
            ),
        }
    }
}

fn markers(args: &[ColumnarValue]) -> Result<Vec<String>> {
    args.iter()
        .skip(1)
        .map(|a| match a {
            ColumnarValue::Scalar(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)),
            ) => Ok(trim(s).to_string()),
            _ => exec_err!("pdq_clean: missing markers must be text constants"),
        })
        .collect()
}

/// The trimmed value, or None when it counts as missing.
#[inline]
fn keep<'a>(value: &'a str, markers: &[String]) -> Option<&'a str> {
    let t = trim(value);
    if t.is_empty() || markers.iter().any(|m| m == t) {
        None
    } else {
        Some(t)
    }
}

/// `clean` of a Utf8View array. One of the workspace's two `unsafe` blocks
/// (the other is a `prctl` in the `pdq` binary's `main`):
/// re-validating every string of every batch would double the cost of the
/// most common function of the scan (see the SAFETY note).
#[allow(unsafe_code)]
fn clean_view(a: &StringViewArray, markers: &[String]) -> Result<ArrayRef> {
    // One pass: which rows are missing, and the new view of each kept value
    // that needs trimming (few, if any).
    let mut retrimmed: Vec<(usize, u128)> = Vec::new();
    // Lengths (in bytes) of the markers, as a bit set, to rule most values
    // out without comparing them.
    let marker_lengths = markers
        .iter()
        .fold(0u64, |set, m| set | 1u64 << m.len().min(63));
    let views = a.views();
    let buffers = a.data_buffers();
    let missing = BooleanBuffer::collect_bool(a.len(), |i| {
        if a.is_null(i) {
            return false; // already NULL
        }
        // Fast path from the view alone (and one byte of the buffer for long
        // values): a non-empty value with printable ASCII at both ends and a
        // length no marker has is kept as it is.
        let raw = views[i];
        let len = raw as u32 as usize;
        if len == 0 {
            return true;
        }
        let first = (raw >> 32) as u8;
        let last = if len <= 12 {
            (raw >> (24 + 8 * len)) as u8
        } else {
            let view = ByteView::from(raw);
            buffers
                .get(view.buffer_index as usize)
                .and_then(|b| b.get(view.offset as usize + len - 1))
                .copied()
                .unwrap_or(0)
        };
        if first.is_ascii_graphic()
            && last.is_ascii_graphic()
            && marker_lengths & (1u64 << len.min(63)) == 0
        {
            return false;
        }
        let value = a.value(i);
        match keep(value, markers) {
            None => true,
            Some(t) => {
                if t.len() != value.len() {
                    let start = (t.as_ptr() as usize - value.as_ptr() as usize) as u32;
                    let view = ByteView::from(a.views()[i]);
                    retrimmed.push((
                        i,
                        make_view(t.as_bytes(), view.buffer_index, view.offset + start),
                    ));
                }
                false
            }
        }
    });
    if retrimmed.is_empty() {
        return Ok(nullif(a, &BooleanArray::new(missing, None))?);
    }
    // Some values need trimming: the same views with those rows replaced,
    // pointing into the same buffers.
    let mut views = a.views().to_vec();
    for (i, view) in retrimmed {
        views[i] = view;
    }
    let views = ScalarBuffer::from(views);
    let buffers = a.data_buffers().to_vec();
    // Checking every string again (`try_new`) would cost as much as the
    // cleaning; in debug builds (the tests) it is done anyway.
    #[cfg(debug_assertions)]
    StringViewArray::try_new(views.clone(), buffers.clone(), a.nulls().cloned())?;
    // SAFETY: every view is either copied unchanged from `a`, which is a
    // valid StringViewArray, or made by `make_view` from `trim(value)`: a
    // sub-slice of one of `a`'s valid UTF-8 values, cut at char boundaries
    // (`str::trim` returns a `&str`), inline when at most 12 bytes, else
    // pointing into the same buffer as the value at the offset where the
    // sub-slice starts. `buffers` are `a`'s buffers in the same order and
    // the null buffer is `a`'s, of the same length.
    let trimmed = unsafe { StringViewArray::new_unchecked(views, buffers, a.nulls().cloned()) };
    Ok(nullif(&trimmed, &BooleanArray::new(missing, None))?)
}

fn clean(array: &ArrayRef, markers: &[String]) -> Result<ArrayRef> {
    if let Some(a) = array.as_string_view_opt() {
        return clean_view(a, markers);
    }
    let n = array.len();
    let mut out = StringViewBuilder::with_capacity(n);
    match array.data_type() {
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            let block = out.append_block(a.values().clone());
            let base = a.values().as_ptr() as usize;
            for v in a.iter() {
                match v.and_then(|v| keep(v, markers)) {
                    None => out.append_null(),
                    Some(t) if t.len() <= 12 => out.append_value(t),
                    Some(t) => out.try_append_view(
                        block,
                        (t.as_ptr() as usize - base) as u32,
                        t.len() as u32,
                    )?,
                }
            }
        }
        DataType::LargeUtf8 => {
            // Offsets may exceed what a view can address: copy.
            for v in array.as_string::<i64>().iter() {
                out.append_option(v.and_then(|v| keep(v, markers)));
            }
        }
        DataType::Null => (0..n).for_each(|_| out.append_null()),
        other => return exec_err!("pdq_clean expects text, found {other}"),
    }
    Ok(Arc::new(out.finish()))
}

impl ScalarUDFImpl for CleanFunc {
    fn name(&self) -> &str {
        "pdq_clean"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8View)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let markers = markers(&args.args)?;
        let array = super::first_array(&args.args, args.number_rows)?;
        Ok(ColumnarValue::Array(clean(&array, &markers)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::invoke;

    #[test]
    fn missing_values_become_null_and_others_are_trimmed() {
        let values = [
            Some("a"),
            None,
            Some(""),
            Some("   "),
            Some("\u{3000}"),
            Some(" 无 "),
            Some("NULL"),
            Some("null"),
            Some("  a long value beyond twelve bytes\u{3000}"),
            Some("\u{3000}身份证号码一二三四五六"),
        ];
        let out = invoke(
            &CleanFunc::new(),
            &values,
            &[
                ScalarValue::Utf8(Some("无".into())),
                ScalarValue::Utf8(Some(" NULL ".into())),
            ],
        )
        .unwrap();
        let got: Vec<Option<&str>> = out.as_string_view().iter().collect();
        assert_eq!(
            got,
            vec![
                Some("a"),
                None,
                None,
                None,
                None,
                None,
                None,
                Some("null"),
                Some("a long value beyond twelve bytes"),
                Some("身份证号码一二三四五六"),
            ]
        );
    }

    #[test]
    fn without_values_to_trim_the_input_is_reused_with_more_nulls() {
        // No kept value needs trimming: the fast path (nullif) for views.
        let values = [
            Some("110105194912310021"),
            Some("无"),
            None,
            Some(" "),
            Some("a value longer than twelve bytes"),
            Some("x"),
        ];
        let out = invoke(
            &CleanFunc::new(),
            &values,
            &[ScalarValue::Utf8(Some("无".into()))],
        )
        .unwrap();
        let got: Vec<Option<&str>> = out.as_string_view().iter().collect();
        assert_eq!(
            got,
            vec![
                Some("110105194912310021"),
                None,
                None,
                None,
                Some("a value longer than twelve bytes"),
                Some("x"),
            ]
        );
        let input = StringViewArray::from(values.to_vec());
        let out = clean(&(Arc::new(input.clone()) as ArrayRef), &["无".to_string()]).unwrap();
        assert_eq!(
            out.as_string_view().views(),
            input.views(),
            "views are reused, not rebuilt"
        );
    }

    proptest::proptest! {
        /// The view fast paths agree with the plain definition (`keep` on
        /// every value) on values made of white space, marker and ordinary
        /// characters, short (inline) and long.
        #[test]
        fn views_agree_with_the_definition(
            parts in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![" ", "\u{3000}", "\t", "a", "无", "NULL", "张", "7", "\u{a0}"]),
                    0..12,
                ),
                1..40,
            ),
            nulls in proptest::collection::vec(proptest::bool::weighted(0.1), 40),
        ) {
            let values: Vec<Option<String>> = parts
                .iter()
                .enumerate()
                .map(|(i, p)| (!nulls[i]).then(|| p.concat()))
                .collect();
            let markers = vec!["无".to_string(), "NULL".to_string()];
            let input = StringViewArray::from(values.iter().map(|v| v.as_deref()).collect::<Vec<_>>());
            let out = clean(&(Arc::new(input) as ArrayRef), &markers).unwrap();
            let got: Vec<Option<&str>> = out.as_string_view().iter().collect();
            let want: Vec<Option<&str>> = values
                .iter()
                .map(|v| v.as_deref().and_then(|v| keep(v, &markers)))
                .collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}

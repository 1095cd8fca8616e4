//! `pdq_clean(value, marker…)`: the engine's definition of "missing"
//! (CONTRACT.md): NULL, empty or white space only (U+3000 included), or equal
//! to a missing marker after trimming → NULL; anything else → the trimmed
//! value. Zero-copy: the result is a Utf8View whose long values point into
//! the input's buffers.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ByteView, StringViewBuilder};
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

fn clean(array: &ArrayRef, markers: &[String]) -> Result<ArrayRef> {
    let n = array.len();
    let mut out = StringViewBuilder::with_capacity(n);
    match array.data_type() {
        DataType::Utf8View => {
            let a = array.as_string_view();
            let blocks: Vec<u32> = a
                .data_buffers()
                .iter()
                .map(|b| out.append_block(b.clone()))
                .collect();
            for (i, raw) in a.views().iter().enumerate() {
                if a.is_null(i) {
                    out.append_null();
                    continue;
                }
                let value = a.value(i);
                match keep(value, markers) {
                    None => out.append_null(),
                    Some(t) if t.len() <= 12 => out.append_value(t),
                    Some(t) => {
                        let view = ByteView::from(*raw);
                        let start = t.as_ptr() as usize - value.as_ptr() as usize;
                        out.try_append_view(
                            blocks[view.buffer_index as usize],
                            view.offset + start as u32,
                            t.len() as u32,
                        )?;
                    }
                }
            }
        }
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
}

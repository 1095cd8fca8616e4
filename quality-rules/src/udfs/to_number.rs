//! `pdq_to_number(value)`: the trimmed text as a number (Float64), NULL when
//! it is not one. Accepts `12`, `-3.5`, `1e3`, `+7`; thousands separators and
//! units are not numbers.

use std::sync::Arc;

use datafusion::arrow::array::Float64Builder;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, for_each_str, string_then, trim};

/// `pdq_to_number`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ToNumberFunc {
    signature: Signature,
}

impl ToNumberFunc {
    pub fn new() -> Self {
        ToNumberFunc {
            signature: string_then(&[&[]]),
        }
    }
}

/// Parses a plain decimal number; Rust's parser also takes `inf`/`nan`, which are not numbers here.
fn number(s: &str) -> Option<f64> {
    let t = trim(s);
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

impl ScalarUDFImpl for ToNumberFunc {
    fn name(&self) -> &str {
        "pdq_to_number"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = first_array(&args.args, args.number_rows)?;
        let mut out = Float64Builder::with_capacity(array.len());
        for_each_str(&array, |v| out.append_option(v.and_then(number)))?;
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::invoke;
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Float64Type;

    #[test]
    fn numbers() {
        let out = invoke(
            &ToNumberFunc::new(),
            &[
                Some(" 5 "),
                Some("-1.5"),
                Some("1e3"),
                Some("abc"),
                Some("inf"),
                Some("1,000"),
                None,
            ],
            &[],
        )
        .unwrap();
        let got: Vec<Option<f64>> = out.as_primitive::<Float64Type>().iter().collect();
        assert_eq!(
            got,
            vec![Some(5.0), Some(-1.5), Some(1000.0), None, None, None, None]
        );
    }
}

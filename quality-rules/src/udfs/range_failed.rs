//! `pdq_range_failed(value, parsed, min, max)`: the verdict of a `range`
//! check on one row, computed in one pass so that the parse of a text value
//! (`parsed`, e.g. `pdq_to_number(value)`) runs once per row.
//!
//! Returns NULL where `value` is NULL (missing: not evaluated), TRUE where
//! `parsed` is NULL (not a number or date) or lies outside `[min, max]`, and
//! FALSE otherwise. `parsed` is Float64 or Date32; `min` and `max` are
//! constants of the same type, NULL when that side is open. NaN is never
//! within bounds; `-0` equals `0`.
//!
//! Written as plain SQL, the same verdict names `parsed` two to four times
//! once DataFusion's simplifier has rewritten it, and the common-subexpression
//! pass leaves those copies alone because they sit in conditional branches:
//! a text amount was parsed four times per row.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, PrimitiveArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::{ArrowPrimitiveType, DataType, Date32Type, Float64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::scalar_arg;

/// `pdq_range_failed`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RangeFailedFunc {
    signature: Signature,
}

impl RangeFailedFunc {
    pub fn new() -> Self {
        RangeFailedFunc {
            signature: Signature::any(4, Volatility::Immutable),
        }
    }
}

/// TRUE where `parsed` is NULL or outside `[lo, hi]`; `within` decides a value.
fn failed<T: ArrowPrimitiveType>(
    parsed: &PrimitiveArray<T>,
    within: impl Fn(T::Native) -> bool,
) -> BooleanBuffer {
    let values = parsed.values();
    match parsed.nulls() {
        None => BooleanBuffer::collect_bool(parsed.len(), |i| !within(values[i])),
        Some(nulls) => {
            BooleanBuffer::collect_bool(parsed.len(), |i| nulls.is_null(i) || !within(values[i]))
        }
    }
}

impl ScalarUDFImpl for RangeFailedFunc {
    fn name(&self) -> &str {
        "pdq_range_failed"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.get(1) {
            Some(DataType::Float64 | DataType::Date32 | DataType::Null) => Ok(DataType::Boolean),
            Some(other) => exec_err!(
                "pdq_range_failed: the parsed value must be Float64 or Date32, found {other}"
            ),
            None => exec_err!("pdq_range_failed needs (value, parsed, min, max)"),
        }
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let [value, parsed, ..] = args.args.as_slice() else {
            return exec_err!("pdq_range_failed needs (value, parsed, min, max)");
        };
        let value = value.to_array(n)?;
        let parsed = parsed.to_array(n)?;
        let lo = scalar_arg(&args.args, 2, "pdq_range_failed: min")?;
        let hi = scalar_arg(&args.args, 3, "pdq_range_failed: max")?;
        let verdict = match parsed.data_type() {
            DataType::Float64 => {
                let bound = |s: &Option<ScalarValue>| match s {
                    Some(ScalarValue::Float64(v)) => Ok(*v),
                    None | Some(ScalarValue::Null) => Ok(None),
                    Some(other) => exec_err!("pdq_range_failed: a number bound, found {other:?}"),
                };
                let (lo, hi) = (bound(&lo)?, bound(&hi)?);
                failed(parsed.as_primitive::<Float64Type>(), |v| {
                    !v.is_nan() && lo.is_none_or(|l| v >= l) && hi.is_none_or(|h| v <= h)
                })
            }
            DataType::Date32 => {
                let bound = |s: &Option<ScalarValue>| match s {
                    Some(ScalarValue::Date32(v)) => Ok(*v),
                    None | Some(ScalarValue::Null) => Ok(None),
                    Some(other) => exec_err!("pdq_range_failed: a date bound, found {other:?}"),
                };
                let (lo, hi) = (bound(&lo)?, bound(&hi)?);
                failed(parsed.as_primitive::<Date32Type>(), |v| {
                    lo.is_none_or(|l| v >= l) && hi.is_none_or(|h| v <= h)
                })
            }
            DataType::Null => BooleanBuffer::new_set(n),
            other => {
                return exec_err!(
                    "pdq_range_failed: the parsed value must be Float64 or Date32, found {other}"
                );
            }
        };
        let out: ArrayRef = Arc::new(BooleanArray::new(verdict, value.logical_nulls()));
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Date32Array, Float64Array, StringArray};
    use datafusion::arrow::datatypes::Field;
    use datafusion::config::ConfigOptions;

    fn call(
        value: ArrayRef,
        parsed: ArrayRef,
        lo: ScalarValue,
        hi: ScalarValue,
    ) -> Result<ArrayRef> {
        let n = value.len();
        let args = vec![
            ColumnarValue::Array(value),
            ColumnarValue::Array(parsed),
            ColumnarValue::Scalar(lo),
            ColumnarValue::Scalar(hi),
        ];
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
            .collect();
        RangeFailedFunc::new()
            .invoke_with_args(ScalarFunctionArgs {
                args,
                arg_fields,
                number_rows: n,
                return_field: Arc::new(Field::new("f", DataType::Boolean, true)),
                config_options: Arc::new(ConfigOptions::default()),
            })?
            .to_array(n)
    }

    fn run(
        value: ArrayRef,
        parsed: ArrayRef,
        lo: ScalarValue,
        hi: ScalarValue,
    ) -> Vec<Option<bool>> {
        call(value, parsed, lo, hi)
            .expect("runs")
            .as_boolean()
            .iter()
            .collect()
    }

    #[test]
    fn numbers_missing_unparseable_and_bounds() {
        let value: ArrayRef = Arc::new(StringArray::from(vec![
            Some("0"),
            Some("10"),
            Some("-0"),
            Some("10.5"),
            Some("abc"),
            None,
            Some("NaN"),
        ]));
        let parsed: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(0.0),
            Some(10.0),
            Some(-0.0),
            Some(10.5),
            None,
            None,
            Some(f64::NAN),
        ]));
        assert_eq!(
            run(
                value,
                parsed,
                ScalarValue::Float64(Some(0.0)),
                ScalarValue::Float64(Some(10.0))
            ),
            vec![
                Some(false),
                Some(false),
                Some(false),
                Some(true),
                Some(true),
                None,
                Some(true)
            ]
        );
    }

    #[test]
    fn an_open_side_bounds_nothing() {
        let value: ArrayRef = Arc::new(Float64Array::from(vec![Some(-1e300), Some(5.0)]));
        let parsed = Arc::clone(&value);
        assert_eq!(
            run(
                value,
                parsed,
                ScalarValue::Float64(None),
                ScalarValue::Float64(Some(1.0))
            ),
            vec![Some(false), Some(true)]
        );
    }

    #[test]
    fn dates() {
        let value: ArrayRef = Arc::new(Date32Array::from(vec![Some(9), Some(10), Some(20), None]));
        let parsed = Arc::clone(&value);
        assert_eq!(
            run(
                value,
                parsed,
                ScalarValue::Date32(Some(10)),
                ScalarValue::Date32(None)
            ),
            vec![Some(true), Some(false), Some(false), None]
        );
    }

    #[test]
    fn a_bound_of_the_wrong_type_is_an_error() {
        let value: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0)]));
        let err = call(
            Arc::clone(&value),
            value,
            ScalarValue::Utf8(Some("x".into())),
            ScalarValue::Float64(None),
        )
        .expect_err("a text bound is refused");
        assert!(err.to_string().contains("a number bound"), "{err}");
    }
}

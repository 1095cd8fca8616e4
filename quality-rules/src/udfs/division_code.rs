//! `cn_division_code_valid(value [, year BIGINT])`: a GB/T 2260 code (listed
//! at any time; with `year`, in use in that year or later).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, map_bool, scalar_arg, string_then, trim};
use crate::ids::division_code::validate;

/// `cn_division_code_valid`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DivisionCodeValidFunc {
    signature: Signature,
}

impl DivisionCodeValidFunc {
    pub fn new() -> Self {
        DivisionCodeValidFunc {
            signature: string_then(&[&[], &[DataType::Int64]]),
        }
    }
}

impl ScalarUDFImpl for DivisionCodeValidFunc {
    fn name(&self) -> &str {
        "cn_division_code_valid"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let year = match scalar_arg(&args.args, 1, "cn_division_code_valid: year")? {
            Some(ScalarValue::Int64(Some(y))) => Some(y as i32),
            _ => None,
        };
        let array = first_array(&args.args, args.number_rows)?;
        Ok(ColumnarValue::Array(map_bool(&array, |s| {
            validate(trim(s).as_bytes(), year).is_ok()
        })?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::{bools, invoke};

    #[test]
    fn historical_codes() {
        let v = [Some("110101"), Some("110223"), Some("999999"), None];
        assert_eq!(
            bools(&invoke(&DivisionCodeValidFunc::new(), &v, &[]).unwrap()),
            vec![Some(true), Some(true), Some(false), None]
        );
        let out = invoke(
            &DivisionCodeValidFunc::new(),
            &v,
            &[ScalarValue::Int64(Some(2026))],
        )
        .unwrap();
        assert_eq!(
            bools(&out),
            vec![Some(true), Some(false), Some(false), None]
        );
    }
}

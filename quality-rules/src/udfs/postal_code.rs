//! `cn_postal_code_valid(value)`: see `crate::ids::postal_code::validate`.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, map_bool, string_then, trim};

/// `cn_postal_code_valid`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PostalCodeValidFunc {
    signature: Signature,
}

impl PostalCodeValidFunc {
    pub fn new() -> Self {
        PostalCodeValidFunc {
            signature: string_then(&[&[]]),
        }
    }
}

impl ScalarUDFImpl for PostalCodeValidFunc {
    fn name(&self) -> &str {
        "cn_postal_code_valid"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = first_array(&args.args, args.number_rows)?;
        Ok(ColumnarValue::Array(map_bool(&array, |s| {
            crate::ids::postal_code::validate(trim(s).as_bytes()).is_ok()
        })?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::{bools, invoke};

    #[test]
    fn valid_invalid_null() {
        let out = invoke(
            &PostalCodeValidFunc::new(),
            &[Some(" 830000 "), Some("000000"), None],
            &[],
        )
        .unwrap();
        assert_eq!(bools(&out), vec![Some(true), Some(false), None]);
    }
}

//! `cn_mobile_valid(value)`: see `crate::ids::phone::validate_mobile`.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, map_bool, string_then, trim};

/// `cn_mobile_valid`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MobileValidFunc {
    signature: Signature,
}

impl MobileValidFunc {
    pub fn new() -> Self {
        MobileValidFunc {
            signature: string_then(&[&[]]),
        }
    }
}

impl ScalarUDFImpl for MobileValidFunc {
    fn name(&self) -> &str {
        "cn_mobile_valid"
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
            crate::ids::phone::validate_mobile(trim(s).as_bytes()).is_ok()
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
            &MobileValidFunc::new(),
            &[Some(" 13800138000 "), Some("1380013800"), None],
            &[],
        )
        .unwrap();
        assert_eq!(bools(&out), vec![Some(true), Some(false), None]);
    }
}

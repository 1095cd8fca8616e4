//! `cn_uscc_valid(value)`: GB 32100 validity of the trimmed value.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, map_bool, string_then, trim};
use crate::ids::uscc::validate;

/// `cn_uscc_valid`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct UsccValidFunc {
    signature: Signature,
}

impl UsccValidFunc {
    pub fn new() -> Self {
        UsccValidFunc {
            signature: string_then(&[&[]]),
        }
    }
}

impl ScalarUDFImpl for UsccValidFunc {
    fn name(&self) -> &str {
        "cn_uscc_valid"
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
            validate(trim(s).as_bytes()).is_ok()
        })?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::{bools, invoke};

    #[test]
    fn published_example() {
        let out = invoke(
            &UsccValidFunc::new(),
            &[
                Some(" 91350100M000100Y43 "),
                Some("91350100M000100Y44"),
                None,
            ],
            &[],
        )
        .unwrap();
        assert_eq!(bools(&out), vec![Some(true), Some(false), None]);
    }
}

//! `date_format_valid(value, format)`: a real date in the given format (see
//! `ids::date_format`).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, map_bool, scalar_arg, string_then, trim};
use crate::ids::date_format::{DateFormat, validate};

/// `date_format_valid`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DateFormatValidFunc {
    signature: Signature,
}

impl DateFormatValidFunc {
    pub fn new() -> Self {
        DateFormatValidFunc {
            signature: string_then(&[&[DataType::Utf8]]),
        }
    }
}

impl ScalarUDFImpl for DateFormatValidFunc {
    fn name(&self) -> &str {
        "date_format_valid"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let format = match scalar_arg(&args.args, 1, "date_format_valid: format")? {
            Some(ScalarValue::Utf8(Some(f))) => {
                DateFormat::parse(&f).map_err(datafusion::error::DataFusionError::Execution)?
            }
            _ => return exec_err!("date_format_valid needs a format such as 'YYYY-MM-DD'"),
        };
        let array = first_array(&args.args, args.number_rows)?;
        Ok(ColumnarValue::Array(map_bool(&array, |s| {
            validate(trim(s).as_bytes(), format).is_ok()
        })?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::{bools, invoke};

    #[test]
    fn dates() {
        let out = invoke(
            &DateFormatValidFunc::new(),
            &[Some("2024-02-29"), Some("2024-02-30"), None],
            &[ScalarValue::Utf8(Some("YYYY-MM-DD".into()))],
        )
        .unwrap();
        assert_eq!(bools(&out), vec![Some(true), Some(false), None]);
    }
}

//! `cn_resident_id_valid(value, as_of DATE [, allow_lowercase_x BOOLEAN])`:
//! GB 11643 validity of the trimmed value (see `ids::resident_id::validate`).

use chrono::NaiveDate;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, map_bool, scalar_arg, string_then, trim};
use crate::ids::resident_id::{birth_limit, validate_until};

/// `cn_resident_id_valid`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ResidentIdValidFunc {
    signature: Signature,
}

impl ResidentIdValidFunc {
    pub fn new() -> Self {
        ResidentIdValidFunc {
            signature: string_then(&[&[DataType::Date32], &[DataType::Date32, DataType::Boolean]]),
        }
    }
}

impl ScalarUDFImpl for ResidentIdValidFunc {
    fn name(&self) -> &str {
        "cn_resident_id_valid"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let as_of = match scalar_arg(&args.args, 1, "cn_resident_id_valid: as_of")? {
            Some(ScalarValue::Date32(Some(days))) => NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::Duration::days(i64::from(days)))),
            _ => None,
        };
        let Some(as_of) = as_of else {
            return exec_err!("cn_resident_id_valid needs an as-of DATE as its second argument");
        };
        let lower = matches!(
            scalar_arg(&args.args, 2, "cn_resident_id_valid: allow_lowercase_x")?,
            Some(ScalarValue::Boolean(Some(true)))
        );
        let limit = birth_limit(as_of);
        let array = first_array(&args.args, args.number_rows)?;
        Ok(ColumnarValue::Array(map_bool(&array, |s| {
            validate_until(trim(s).as_bytes(), limit, lower).is_ok()
        })?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::{bools, invoke};

    fn date(y: i32, m: u32, d: u32) -> ScalarValue {
        let days = (NaiveDate::from_ymd_opt(y, m, d).unwrap()
            - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days();
        ScalarValue::Date32(Some(days as i32))
    }

    #[test]
    fn validity_with_nulls_and_trimming() {
        let values = [
            Some("11010519491231002X"),
            Some(" 11010519491231002X\u{3000}"),
            Some("11010519491231002x"),
            None,
        ];
        let out = invoke(&ResidentIdValidFunc::new(), &values, &[date(2026, 11, 22)]).unwrap();
        assert_eq!(bools(&out), vec![Some(true), Some(true), Some(false), None]);
        let out = invoke(
            &ResidentIdValidFunc::new(),
            &values,
            &[date(2026, 11, 22), ScalarValue::Boolean(Some(true))],
        )
        .unwrap();
        assert_eq!(bools(&out), vec![Some(true), Some(true), Some(true), None]);
        // Born after the as-of date.
        let out = invoke(&ResidentIdValidFunc::new(), &values, &[date(1949, 12, 30)]).unwrap();
        assert_eq!(bools(&out)[0], Some(false));
    }
}

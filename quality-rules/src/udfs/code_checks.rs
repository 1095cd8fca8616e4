//! The single-argument code checks as SQL functions, each NULL for NULL and
//! judging the trimmed value:
//!
//! | function | validator |
//! |---|---|
//! | `cn_uscc_valid(value)` | `ids::uscc::validate` (GB 32100) |
//! | `cn_mobile_valid(value)` | `ids::phone::validate_mobile` |
//! | `cn_postal_code_valid(value)` | `ids::postal_code::validate` |
//!
//! One struct serves them all: they differ only in the validator they call.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, map_bool, string_then, trim};
use crate::ids::{Invalid, phone, postal_code, uscc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Uscc,
    Mobile,
    PostalCode,
}

impl Kind {
    fn validate(self, s: &[u8]) -> Result<(), Invalid> {
        match self {
            Kind::Uscc => uscc::validate(s),
            Kind::Mobile => phone::validate_mobile(s),
            Kind::PostalCode => postal_code::validate(s),
        }
    }
}

/// One of the `cn_*_valid(value)` code checks.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CodeCheckFunc {
    code: Kind,
    signature: Signature,
}

impl CodeCheckFunc {
    fn new(code: Kind) -> Self {
        CodeCheckFunc {
            code,
            signature: string_then(&[&[]]),
        }
    }
    /// `cn_uscc_valid`.
    pub fn uscc() -> Self {
        Self::new(Kind::Uscc)
    }
    /// `cn_mobile_valid`.
    pub fn mobile() -> Self {
        Self::new(Kind::Mobile)
    }
    /// `cn_postal_code_valid`.
    pub fn postal_code() -> Self {
        Self::new(Kind::PostalCode)
    }
}

impl ScalarUDFImpl for CodeCheckFunc {
    fn name(&self) -> &str {
        match self.code {
            Kind::Uscc => "cn_uscc_valid",
            Kind::Mobile => "cn_mobile_valid",
            Kind::PostalCode => "cn_postal_code_valid",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = first_array(&args.args, args.number_rows)?;
        let code = self.code;
        Ok(ColumnarValue::Array(map_bool(&array, |s| {
            code.validate(trim(s).as_bytes()).is_ok()
        })?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::{bools, invoke};

    #[test]
    fn valid_invalid_null() {
        for (f, good, bad) in [
            (
                CodeCheckFunc::uscc(),
                " 91350100M000100Y43 ",
                "91350100M000100Y44",
            ),
            (CodeCheckFunc::mobile(), " 13800138000 ", "1380013800"),
            (CodeCheckFunc::postal_code(), " 830000 ", "000000"),
        ] {
            let out = invoke(&f, &[Some(good), Some(bad), None], &[]).unwrap();
            assert_eq!(
                bools(&out),
                vec![Some(true), Some(false), None],
                "{}",
                f.name()
            );
        }
    }
}

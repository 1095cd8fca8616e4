//! Parts derived from a resident ID, for `expression` rules:
//! `cn_id_birth_date(id) -> DATE`, `cn_id_sex(id) -> '1' | '2'` (GB/T 2261.1),
//! `cn_id_division(id) -> 6 digits`, `cn_id_upgrade(id15) -> 18 digits`.
//! 15- and 18-digit numbers are accepted; anything else gives NULL.

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, Date32Builder, StringBuilder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, for_each_str, string_then, trim};
use crate::ids::resident_id::{Sex, birth_date, sex, upgrade_15_to_18};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Part {
    BirthDate,
    Sex,
    Division,
    Upgrade,
}

/// One of the `cn_id_*` functions.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IdPartFunc {
    part: Part,
    signature: Signature,
}

impl IdPartFunc {
    fn new(part: Part) -> Self {
        IdPartFunc {
            part,
            signature: string_then(&[&[]]),
        }
    }
    pub fn birth_date() -> Self {
        Self::new(Part::BirthDate)
    }
    pub fn sex() -> Self {
        Self::new(Part::Sex)
    }
    pub fn division() -> Self {
        Self::new(Part::Division)
    }
    pub fn upgrade() -> Self {
        Self::new(Part::Upgrade)
    }
}

impl ScalarUDFImpl for IdPartFunc {
    fn name(&self) -> &str {
        match self.part {
            Part::BirthDate => "cn_id_birth_date",
            Part::Sex => "cn_id_sex",
            Part::Division => "cn_id_division",
            Part::Upgrade => "cn_id_upgrade",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.part == Part::BirthDate {
            DataType::Date32
        } else {
            DataType::Utf8
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = first_array(&args.args, args.number_rows)?;
        let out: ArrayRef = if self.part == Part::BirthDate {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1);
            let mut b = Date32Builder::with_capacity(array.len());
            for_each_str(&array, |v| {
                let d = v.and_then(|v| birth_date(trim(v).as_bytes()));
                b.append_option(d.zip(epoch).map(|(d, e)| (d - e).num_days() as i32));
            })?;
            Arc::new(b.finish())
        } else {
            let mut b = StringBuilder::with_capacity(array.len(), array.len() * 18);
            for_each_str(&array, |v| {
                let id = v.map(|v| trim(v).as_bytes());
                let full = id.and_then(upgrade_15_to_18);
                match (self.part, full) {
                    (Part::Sex, Some(f)) => {
                        b.append_option(sex(&f).map(|s| if s == Sex::Male { "1" } else { "2" }))
                    }
                    (Part::Division, Some(f)) => b.append_value(String::from_utf8_lossy(&f[..6])),
                    (Part::Upgrade, Some(f)) => b.append_value(String::from_utf8_lossy(&f)),
                    _ => b.append_null(),
                }
            })?;
            Arc::new(b.finish())
        };
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::invoke;
    use datafusion::arrow::array::AsArray;

    #[test]
    fn parts() {
        let v = [
            Some("11010519491231002X"),
            Some("110105491231002"),
            Some("junk"),
            None,
        ];
        let sexes = invoke(&IdPartFunc::sex(), &v, &[]).unwrap();
        let got: Vec<Option<&str>> = sexes.as_string::<i32>().iter().collect();
        assert_eq!(got, vec![Some("2"), Some("2"), None, None]);
        let up = invoke(&IdPartFunc::upgrade(), &v, &[]).unwrap();
        assert_eq!(up.as_string::<i32>().value(1), "11010519491231002X");
        let div = invoke(&IdPartFunc::division(), &v, &[]).unwrap();
        assert_eq!(div.as_string::<i32>().value(0), "110105");
        let born = invoke(&IdPartFunc::birth_date(), &v, &[]).unwrap();
        assert_eq!(born.null_count(), 2);
    }
}

//! Calls a UDF the way the engine does, over every string type, with NULLs.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, LargeStringArray, StringArray, StringViewArray};
use datafusion::arrow::datatypes::Field;
use datafusion::common::{Result, ScalarValue};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl};

/// The input as Utf8, LargeUtf8 and Utf8View arrays.
pub fn string_arrays(values: &[Option<&str>]) -> Vec<ArrayRef> {
    vec![
        Arc::new(StringArray::from(values.to_vec())),
        Arc::new(LargeStringArray::from(values.to_vec())),
        Arc::new(StringViewArray::from(values.to_vec())),
    ]
}

/// Invokes `udf` with `first` followed by scalar `rest`; asserts all three
/// string types give the same result and returns it.
pub fn invoke(
    udf: &dyn ScalarUDFImpl,
    values: &[Option<&str>],
    rest: &[ScalarValue],
) -> Result<ArrayRef> {
    let mut results: Vec<ArrayRef> = Vec::new();
    for array in string_arrays(values) {
        let mut args = vec![ColumnarValue::Array(Arc::clone(&array))];
        args.extend(rest.iter().cloned().map(ColumnarValue::Scalar));
        let arg_fields = args
            .iter()
            .map(|a| Arc::new(Field::new("a", a.data_type(), true)))
            .collect::<Vec<_>>();
        let types: Vec<_> = args.iter().map(|a| a.data_type()).collect();
        let return_type = udf.return_type(&types)?;
        let out = udf.invoke_with_args(ScalarFunctionArgs {
            args,
            arg_fields,
            number_rows: values.len(),
            return_field: Arc::new(Field::new("r", return_type, true)),
            config_options: Arc::new(ConfigOptions::default()),
        })?;
        results.push(out.to_array(values.len())?);
    }
    for r in &results[1..] {
        // Logical equality (buffers may be laid out differently).
        assert_eq!(r.to_data(), results[0].to_data(), "string types disagree");
    }
    Ok(Arc::clone(&results[0]))
}

/// A boolean result as options.
pub fn bools(a: &ArrayRef) -> Vec<Option<bool>> {
    use datafusion::arrow::array::AsArray;
    a.as_boolean().iter().collect()
}

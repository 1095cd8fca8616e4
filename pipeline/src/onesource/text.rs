//! A landed column as text, held as one Arrow array: the stage reads each
//! column once and every part (matching, golden records, duplicate
//! collection) reads the same buffers, without a string per cell.

use arrow::array::{Array, AsArray, LargeStringArray, RecordBatch, UInt64Array};
use arrow::datatypes::DataType;

/// Every row's value of one column, as the lake holds it cast to text; read
/// trimmed, and a NULL or blank value is missing.
///
/// ```
/// use pipeline::onesource::text::TextColumn;
///
/// let c = TextColumn::from_values([Some(" 王伟 "), Some("  "), None]);
/// assert_eq!(c.get(0), Some("王伟"));
/// assert_eq!((c.get(1), c.get(2), c.get(3)), (None, None, None));
/// assert_eq!(c.len(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct TextColumn(LargeStringArray);

impl TextColumn {
    /// Column `i` of `batches` (`rows` in all), concatenated; 64-bit
    /// offsets, so one column may hold more than 2 GiB of text.
    pub fn read(batches: &[RecordBatch], i: usize, rows: usize) -> Result<TextColumn, String> {
        let parts = batches
            .iter()
            .map(|b| arrow::compute::cast(b.column(i), &DataType::LargeUtf8))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let all = match parts.as_slice() {
            [] => return Ok(TextColumn::missing(rows)),
            [one] => one.clone(),
            _ => {
                let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
                arrow::compute::concat(&refs).map_err(|e| e.to_string())?
            }
        };
        Ok(TextColumn(all.as_string::<i64>().clone()))
    }

    /// `rows` missing values (a column the dataset does not declare).
    pub fn missing(rows: usize) -> TextColumn {
        TextColumn(LargeStringArray::new_null(rows))
    }

    /// A column of these values (`None` = NULL).
    pub fn from_values<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> TextColumn {
        TextColumn(values.into_iter().collect())
    }

    /// Row `i`'s value, trimmed; `None` when NULL, blank or past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        if i >= self.0.len() || self.0.is_null(i) {
            return None;
        }
        Some(self.0.value(i).trim()).filter(|v| !v.is_empty())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &UInt64Array) -> Result<TextColumn, String> {
        let taken = arrow::compute::take(&self.0, indices, None).map_err(|e| e.to_string())?;
        Ok(TextColumn(taken.as_string::<i64>().clone()))
    }

    /// Every row's value, in order.
    pub fn values(&self) -> impl Iterator<Item = Option<&str>> {
        (0..self.len()).map(|i| self.get(i))
    }
}

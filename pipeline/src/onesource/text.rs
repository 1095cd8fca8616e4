//! A landed column as text, held as one Arrow array: the stage reads each
//! column once and every part (matching, golden records, duplicate
//! collection) reads the same buffers, without a string per cell.

use arrow::array::{
    Array, AsArray, DictionaryArray, LargeStringArray, RecordBatch, StringArray,
    StringDictionaryBuilder, UInt64Array,
};
use arrow::datatypes::DataType;
use arrow::datatypes::UInt32Type;

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
pub struct TextColumn(Text);

/// The array behind a [`TextColumn`]: 32-bit offsets when its text fits
/// (as nearly every column does: 4 bytes a row less, 160 MB of the
/// one-source stage's peak at 10 million records and four attribute
/// columns), 64-bit offsets beyond 2 GiB of text.
#[derive(Debug, Clone)]
enum Text {
    Small(StringArray),
    Large(LargeStringArray),
    /// Each distinct value once, rows by number: a column whose values
    /// repeat (sex, birth dates, names, addresses held by several
    /// departments) — at 10 million records the four attribute columns
    /// take 300 MB so instead of 680 MB.
    Dict(DictionaryArray<UInt32Type>),
}

/// Rows looked at to decide whether a column's values repeat enough to be
/// held once each.
const SAMPLE: usize = 65_536;

/// Held once each when the sample's distinct values are at most this
/// share of its rows,
const REPEATING: f64 = 0.5;

/// and its values are at least this long on average (bytes): a row's key
/// takes as much room as its offset did, so only the text is saved, and a
/// column of one-byte codes (sex) is not worth hashing.
const LONG_ENOUGH: usize = 4;

impl TextColumn {
    /// Column `i` of `batches` (`rows` in all), concatenated; a column of
    /// more than 2 GiB of text is held with 64-bit offsets.
    pub fn read(batches: &[RecordBatch], i: usize, rows: usize) -> Result<TextColumn, String> {
        Self::read_within(batches, i, rows, i32::MAX as usize)
    }

    /// [`TextColumn::read`], with 32-bit offsets up to `small` bytes of text.
    fn read_within(
        batches: &[RecordBatch],
        i: usize,
        rows: usize,
        small: usize,
    ) -> Result<TextColumn, String> {
        let parts = batches
            .iter()
            .map(|b| arrow::compute::cast(b.column(i), &DataType::Utf8))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let bytes: usize = parts
            .iter()
            .map(|a| {
                let offsets = a.as_string::<i32>().value_offsets();
                (offsets[offsets.len() - 1] - offsets[0]) as usize
            })
            .sum();
        let large = bytes > small;
        // (Its distinct values then fit 32-bit offsets too.)
        if !large && !parts.is_empty() && repeats(&parts) {
            return dictionary(&parts).map(|d| TextColumn(Text::Dict(d)));
        }
        let parts = if large {
            parts
                .iter()
                .map(|a| arrow::compute::cast(a, &DataType::LargeUtf8))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?
        } else {
            parts
        };
        let all = match parts.as_slice() {
            [] => return Ok(TextColumn::missing(rows)),
            [one] => one.clone(),
            _ => {
                let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
                arrow::compute::concat(&refs).map_err(|e| e.to_string())?
            }
        };
        Ok(TextColumn(if large {
            Text::Large(all.as_string::<i64>().clone())
        } else {
            Text::Small(all.as_string::<i32>().clone())
        }))
    }

    /// `rows` missing values (a column the dataset does not declare).
    pub fn missing(rows: usize) -> TextColumn {
        TextColumn(Text::Small(StringArray::new_null(rows)))
    }

    /// A column of these values (`None` = NULL).
    pub fn from_values<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> TextColumn {
        TextColumn(Text::Small(values.into_iter().collect()))
    }

    /// Row `i`'s value, trimmed; `None` when NULL, blank or past the end.
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let v = match &self.0 {
            Text::Small(a) => (i < a.len() && !a.is_null(i)).then(|| a.value(i)),
            Text::Large(a) => (i < a.len() && !a.is_null(i)).then(|| a.value(i)),
            Text::Dict(a) => {
                let keys = a.keys();
                (i < keys.len() && !keys.is_null(i)).then(|| {
                    let values = a.values().as_string::<i32>();
                    values.value(keys.value(i) as usize)
                })
            }
        }?;
        Some(v.trim()).filter(|v| !v.is_empty())
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        match &self.0 {
            Text::Small(a) => a.len(),
            Text::Large(a) => a.len(),
            Text::Dict(a) => a.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows at `indices`, in that order.
    pub fn take(&self, indices: &UInt64Array) -> Result<TextColumn, String> {
        Ok(TextColumn(match &self.0 {
            Text::Small(a) => Text::Small(
                arrow::compute::take(a, indices, None)
                    .map_err(|e| e.to_string())?
                    .as_string::<i32>()
                    .clone(),
            ),
            Text::Large(a) => Text::Large(
                arrow::compute::take(a, indices, None)
                    .map_err(|e| e.to_string())?
                    .as_string::<i64>()
                    .clone(),
            ),
            Text::Dict(a) => Text::Dict(
                arrow::compute::take(a, indices, None)
                    .map_err(|e| e.to_string())?
                    .as_dictionary::<UInt32Type>()
                    .clone(),
            ),
        }))
    }

    /// Every row's value, in order.
    pub fn values(&self) -> impl Iterator<Item = Option<&str>> {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// Whether the first [`SAMPLE`] rows of `parts` (text arrays with 32-bit
/// offsets) hold few enough distinct values for [`Text::Dict`].
fn repeats(parts: &[arrow::array::ArrayRef]) -> bool {
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let (mut rows, mut bytes) = (0usize, 0usize);
    'parts: for p in parts {
        for v in p.as_string::<i32>().iter() {
            if rows == SAMPLE {
                break 'parts;
            }
            rows += 1;
            let v = v.unwrap_or("");
            bytes += v.len();
            seen.insert(v);
        }
    }
    rows > 0 && bytes >= LONG_ENOUGH * rows && (seen.len() as f64) <= REPEATING * rows as f64
}

/// `parts` as one dictionary column, built as they are read (no
/// concatenated copy first).
fn dictionary(parts: &[arrow::array::ArrayRef]) -> Result<DictionaryArray<UInt32Type>, String> {
    let rows = parts.iter().map(|p| p.len()).sum();
    let mut builder = StringDictionaryBuilder::<UInt32Type>::with_capacity(rows, 1024, 16 * 1024);
    for p in parts {
        for v in p.as_string::<i32>().iter() {
            match v {
                Some(v) => {
                    builder.append(v).map_err(|e| e.to_string())?;
                }
                None => builder.append_null(),
            }
        }
    }
    Ok(builder.finish())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{LargeStringArray, RecordBatch, StringViewArray, UInt64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(values: &[Option<&str>], large: bool) -> RecordBatch {
        let (t, array): (DataType, arrow::array::ArrayRef) = if large {
            (
                DataType::LargeUtf8,
                Arc::new(LargeStringArray::from(values.to_vec())),
            )
        } else {
            (
                DataType::Utf8View,
                Arc::new(StringViewArray::from(values.to_vec())),
            )
        };
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("v", t, true)])),
            vec![array],
        )
        .unwrap()
    }

    /// Columns beyond 2 GiB of text keep 64-bit offsets (here past a
    /// smaller mark): the same values either way, in every operation.
    #[test]
    fn text_past_the_mark_reads_the_same_with_64_bit_offsets() {
        let batches = [
            batch(&[Some(" 王伟 "), None, Some("  ")], false),
            batch(&[Some("李娜"), Some("x")], true),
        ];
        let small = TextColumn::read(&batches, 0, 5).unwrap();
        let large = TextColumn::read_within(&batches, 0, 5, 4).unwrap();
        assert!(matches!(small.0, Text::Small(_)));
        assert!(matches!(large.0, Text::Large(_)));
        let expected = vec![Some("王伟"), None, None, Some("李娜"), Some("x")];
        assert_eq!(small.values().collect::<Vec<_>>(), expected);
        assert_eq!(large.values().collect::<Vec<_>>(), expected);
        let order = UInt64Array::from(vec![4, 3, 0, 1, 2]);
        for c in [&small, &large] {
            let taken = c.take(&order).unwrap();
            assert_eq!(
                taken.values().collect::<Vec<_>>(),
                vec![Some("x"), Some("李娜"), Some("王伟"), None, None]
            );
            assert_eq!((c.len(), c.get(5)), (5, None));
        }
        assert_eq!(TextColumn::read(&[], 0, 2).unwrap().len(), 2);
    }

    /// A column whose values repeat holds each once: the same values,
    /// NULLs and blanks included, in every operation.
    #[test]
    fn repeating_values_are_held_once_and_read_the_same() {
        let batches = [
            batch(
                &[
                    Some("1980-01-01"),
                    Some("1990-02-02"),
                    Some(" 1980-01-01 "),
                    None,
                ],
                false,
            ),
            batch(
                &[
                    Some("1980-01-01"),
                    Some("  "),
                    Some("1990-02-02"),
                    Some("1990-02-02"),
                ],
                true,
            ),
            batch(
                &[
                    Some("1990-02-02"),
                    Some("1980-01-01"),
                    Some("1990-02-02"),
                    Some("1980-01-01"),
                ],
                false,
            ),
        ];
        let c = TextColumn::read(&batches, 0, 12).unwrap();
        let Text::Dict(d) = &c.0 else {
            panic!("not held once each: {c:?}")
        };
        assert_eq!(d.values().len(), 4, "1, 2, ` 1 `, blank: each once");
        let expected = vec![
            Some("1980-01-01"),
            Some("1990-02-02"),
            Some("1980-01-01"),
            None,
            Some("1980-01-01"),
            None,
            Some("1990-02-02"),
            Some("1990-02-02"),
            Some("1990-02-02"),
            Some("1980-01-01"),
            Some("1990-02-02"),
            Some("1980-01-01"),
        ];
        assert_eq!(c.values().collect::<Vec<_>>(), expected);
        let taken = c.take(&UInt64Array::from(vec![7, 3, 0])).unwrap();
        assert!(matches!(taken.0, Text::Dict(_)));
        assert_eq!(
            taken.values().collect::<Vec<_>>(),
            vec![Some("1990-02-02"), None, Some("1980-01-01")]
        );
        assert_eq!((c.len(), c.get(12)), (12, None));
        // One-byte codes repeat as much, but a key is as long as an offset:
        // they stay as they are.
        let codes = [batch(
            &[Some("1"), Some("2"), Some("1"), Some("1"), Some("2"), None],
            false,
        )];
        let c = TextColumn::read(&codes, 0, 6).unwrap();
        assert!(matches!(c.0, Text::Small(_)), "{c:?}");
        assert_eq!(
            c.values().collect::<Vec<_>>(),
            vec![Some("1"), Some("2"), Some("1"), Some("1"), Some("2"), None]
        );
    }
}

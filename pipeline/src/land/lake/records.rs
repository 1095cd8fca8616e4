//! A lake table's rows as typed records (`serde`), read straight from
//! the Arrow arrays.
//!
//! Records used to go through JSON: the batch written as a JSON array,
//! then parsed. For the catalog's history, whose `entry` column is itself
//! JSON, that escaped and unescaped every entry once more than reading it
//! (issue #19: most of loading a catalog of 100,000 entries). Here each
//! row is handed to `serde` as a map of column name to cell, with the
//! JSON path's meaning: a null cell is an absent key (`Option` fields are
//! `None`, `#[serde(default)]` fields their default), text is text,
//! integers, floats and booleans are themselves. A batch with a column of
//! any other type (timestamps, decimals, lists …) still goes through JSON,
//! whose formats those records were written for.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};

/// One batch's rows as records; `Err` carries the reason in one line.
pub(super) fn records<T: DeserializeOwned>(b: &RecordBatch) -> Result<Vec<T>, String> {
    if !b.columns().iter().all(|c| direct(c.data_type())) {
        return through_json(b);
    }
    let names: Vec<&str> = b
        .schema_ref()
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    (0..b.num_rows())
        .map(|row| {
            T::deserialize(RowDeserializer {
                names: &names,
                columns: b.columns(),
                row,
            })
            .map_err(|e: de::value::Error| format!("row {}: {e}", row + 1))
        })
        .collect()
}

/// Whether a column's cells are read directly (else the batch goes
/// through JSON).
fn direct(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Null
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
            | DataType::Float64
            | DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
    )
}

/// The former path, for the column types read otherwise: the batch as a
/// JSON array (text views as plain strings), parsed.
fn through_json<T: DeserializeOwned>(b: &RecordBatch) -> Result<Vec<T>, String> {
    let fields: Vec<arrow::datatypes::Field> = b
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Utf8View | DataType::LargeUtf8 => {
                arrow::datatypes::Field::new(f.name(), DataType::Utf8, true)
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    let cols = b
        .columns()
        .iter()
        .zip(&fields)
        .map(|(c, f)| arrow::compute::cast(c, f.data_type()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let b = RecordBatch::try_new(
        std::sync::Arc::new(arrow::datatypes::Schema::new(fields)),
        cols,
    )
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    {
        let mut w = arrow::json::ArrayWriter::new(&mut buf);
        w.write(&b).map_err(|e| e.to_string())?;
        w.finish().map_err(|e| e.to_string())?;
    }
    if buf.is_empty() {
        return Ok(vec![]);
    }
    serde_json::from_slice(&buf).map_err(|e| e.to_string())
}

/// One row: a map of its non-null cells.
struct RowDeserializer<'a> {
    names: &'a [&'a str],
    columns: &'a [arrow::array::ArrayRef],
    row: usize,
}

impl<'de> de::Deserializer<'de> for RowDeserializer<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let row = self.row;
        let cells = self
            .names
            .iter()
            .zip(self.columns)
            .filter(move |(_, c)| c.is_valid(row))
            .map(move |(name, c)| (*name, Cell { array: c, row }));
        visitor.visit_map(de::value::MapDeserializer::new(cells))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// One non-null cell of a directly read column.
struct Cell<'a> {
    array: &'a arrow::array::ArrayRef,
    row: usize,
}

impl<'de> IntoDeserializer<'de, de::value::Error> for Cell<'_> {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl Cell<'_> {
    fn text(&self) -> Option<&str> {
        let (a, i) = (self.array, self.row);
        match a.data_type() {
            DataType::Utf8 => Some(a.as_string::<i32>().value(i)),
            DataType::LargeUtf8 => Some(a.as_string::<i64>().value(i)),
            DataType::Utf8View => Some(a.as_string_view().value(i)),
            _ => None,
        }
    }
}

impl<'de> de::Deserializer<'de> for Cell<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let (a, i) = (self.array, self.row);
        if let Some(s) = self.text() {
            return visitor.visit_str(s);
        }
        match a.data_type() {
            DataType::Boolean => visitor.visit_bool(a.as_boolean().value(i)),
            DataType::Int8 => visitor.visit_i64(a.as_primitive::<Int8Type>().value(i).into()),
            DataType::Int16 => visitor.visit_i64(a.as_primitive::<Int16Type>().value(i).into()),
            DataType::Int32 => visitor.visit_i64(a.as_primitive::<Int32Type>().value(i).into()),
            DataType::Int64 => visitor.visit_i64(a.as_primitive::<Int64Type>().value(i)),
            DataType::UInt8 => visitor.visit_u64(a.as_primitive::<UInt8Type>().value(i).into()),
            DataType::UInt16 => visitor.visit_u64(a.as_primitive::<UInt16Type>().value(i).into()),
            DataType::UInt32 => visitor.visit_u64(a.as_primitive::<UInt32Type>().value(i).into()),
            DataType::UInt64 => visitor.visit_u64(a.as_primitive::<UInt64Type>().value(i)),
            DataType::Float64 => visitor.visit_f64(a.as_primitive::<Float64Type>().value(i)),
            // Null columns have no valid cell; the rest go through JSON.
            other => Err(de::Error::custom(format!(
                "column type {other} is not read directly"
            ))),
        }
    }

    /// A cell here is never null (null cells are absent keys).
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }

    /// A unit variant by its name, as JSON has it.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.text() {
            Some(s) => visitor.visit_enum(s.into_deserializer()),
            None => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Float64Array, Int32Array, Int64Array, LargeStringArray,
        StringArray, StringViewArray, TimestampMicrosecondArray, UInt16Array,
    };
    use chrono::{DateTime, Utc};
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Added,
        Withdrawn,
    }

    #[derive(Debug, PartialEq, Deserialize)]
    struct Record {
        version: i64,
        small: i32,
        port: u16,
        key: String,
        note: Option<String>,
        #[serde(default)]
        tag: String,
        view: String,
        large: Option<String>,
        kind: Kind,
        at: DateTime<Utc>,
        ok: bool,
        share: Option<f64>,
        #[serde(default)]
        missing: Option<String>,
    }

    fn batch(text: &[Option<&str>]) -> RecordBatch {
        let n = text.len();
        let col = |a: ArrayRef| a;
        let ints: Vec<Option<i64>> = (0..n as i64).map(|i| Some(i - 2)).collect();
        RecordBatch::try_from_iter(vec![
            ("version", col(Arc::new(Int64Array::from(ints)))),
            (
                "small",
                col(Arc::new(Int32Array::from_iter_values(
                    (0..n as i32).map(|i| -i),
                ))),
            ),
            (
                "port",
                col(Arc::new(UInt16Array::from_iter_values(
                    (0..n as u16).map(|i| 65535 - i),
                ))),
            ),
            (
                "key",
                col(Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("k\"{i}\\ 键")),
                ))),
            ),
            ("note", col(Arc::new(StringArray::from(text.to_vec())))),
            ("tag", col(Arc::new(StringArray::from(text.to_vec())))),
            (
                "view",
                col(Arc::new(StringViewArray::from_iter_values((0..n).map(
                    |i| format!("{{\"entry\": [{i}, \"a long enough text to be out of line\"]}}"),
                )))),
            ),
            (
                "large",
                col(Arc::new(LargeStringArray::from(text.to_vec()))),
            ),
            (
                "kind",
                col(Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| if i % 2 == 0 { "added" } else { "withdrawn" }),
                ))),
            ),
            (
                "at",
                col(Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("2026-12-08T0{}:00:00+08:00", i % 10)),
                ))),
            ),
            (
                "ok",
                col(Arc::new(BooleanArray::from_iter(
                    (0..n).map(|i| Some(i % 3 == 0)),
                ))),
            ),
            (
                "share",
                col(Arc::new(Float64Array::from_iter(
                    (0..n).map(|i| (i % 2 == 0).then_some(i as f64 / 3.0)),
                ))),
            ),
            ("extra", col(Arc::new(StringArray::from(text.to_vec())))),
        ])
        .unwrap()
    }

    /// Read directly, every record is what the JSON path gives: nulls
    /// absent, text with quotes, backslashes and Chinese as it is, the
    /// integers, floats, booleans and enums themselves.
    #[test]
    fn rows_read_directly_are_the_rows_read_through_json() {
        let text = [
            Some("注 \"x\""),
            None,
            Some(""),
            None,
            Some("\\n"),
            Some("b"),
        ];
        let b = batch(&text);
        let direct: Vec<Record> = records(&b).unwrap();
        let json: Vec<Record> = through_json(&b).unwrap();
        assert_eq!(direct.len(), text.len());
        assert_eq!(direct, json);
        assert_eq!(direct[1].note, None);
        assert_eq!(direct[1].tag, "");
        assert_eq!(direct[0].note.as_deref(), Some("注 \"x\""));
        assert_eq!(direct[3].kind, Kind::Withdrawn);
        assert_eq!(direct[0].version, -2);
        assert_eq!(direct[5].port, 65530);
        assert_eq!(direct[2].share, Some(2.0 / 3.0));
    }

    /// What a record cannot hold is an error naming the row, as through
    /// JSON: a text where a number is expected, an unknown variant.
    #[test]
    fn a_cell_of_the_wrong_kind_is_an_error_naming_the_row() {
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Wrong {
            key: i64,
        }
        let e = records::<Wrong>(&batch(&[Some("a")])).unwrap_err();
        assert!(e.starts_with("row 1: invalid type: string"), "{e}");
        let mut b = batch(&[Some("a"), Some("b")]);
        let i = b.schema().index_of("kind").unwrap();
        let mut cols = b.columns().to_vec();
        cols[i] = Arc::new(StringArray::from(vec!["added", "renamed"]));
        b = RecordBatch::try_new(b.schema(), cols).unwrap();
        let e = records::<Record>(&b).unwrap_err();
        assert!(e.starts_with("row 2: unknown variant `renamed`"), "{e}");
    }

    /// A column of another type (a timestamp here) sends the batch
    /// through JSON, as before.
    #[test]
    fn other_column_types_go_through_json() {
        #[derive(Debug, Deserialize)]
        struct Stamped {
            at: String,
        }
        let b = RecordBatch::try_from_iter(vec![(
            "at",
            Arc::new(TimestampMicrosecondArray::from(vec![0i64])) as ArrayRef,
        )])
        .unwrap();
        let r: Vec<Stamped> = records(&b).unwrap();
        assert_eq!(r[0].at, "1970-01-01T00:00:00");
    }
}

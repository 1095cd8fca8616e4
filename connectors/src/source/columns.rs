//! The target schema of a dataset: its columns and their types, as the
//! dataset definition (later its catalog entry) declares them.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};

/// A column type a dataset can declare.
///
/// Written in configuration as `string`, `int64`, `float64`,
/// `decimal(P,S)`, `date`, `timestamp` or `boolean`.
///
/// ```
/// use connectors::source::ColumnType;
/// let t: ColumnType = "decimal(18,2)".parse().unwrap();
/// assert_eq!(t, ColumnType::Decimal { precision: 18, scale: 2 });
/// assert_eq!(t.to_string(), "decimal(18,2)");
/// assert!("decimal(40,2)".parse::<ColumnType>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum ColumnType {
    /// Text, kept exactly as delivered.
    String,
    /// A 64-bit integer.
    Int64,
    /// A double-precision number.
    Float64,
    /// An exact decimal number.
    Decimal {
        /// Total digits (1–38).
        precision: u8,
        /// Digits after the point (0–precision).
        scale: i8,
    },
    /// A calendar date.
    Date,
    /// An instant, stored in UTC; naive values are read in the bureau's zone.
    Timestamp,
    /// true/false (also 是/否, 1/0, Y/N).
    Boolean,
}

impl ColumnType {
    /// The Arrow type the column lands as.
    pub fn arrow(&self) -> DataType {
        match self {
            ColumnType::String => DataType::Utf8,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Decimal { precision, scale } => DataType::Decimal128(*precision, *scale),
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ColumnType::Boolean => DataType::Boolean,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::String => f.write_str("string"),
            ColumnType::Int64 => f.write_str("int64"),
            ColumnType::Float64 => f.write_str("float64"),
            ColumnType::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::Boolean => f.write_str("boolean"),
        }
    }
}

impl std::str::FromStr for ColumnType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "string" | "text" | "varchar" => ColumnType::String,
            "int64" | "bigint" | "integer" | "int" => ColumnType::Int64,
            "float64" | "double" | "float" => ColumnType::Float64,
            "date" => ColumnType::Date,
            "timestamp" | "datetime" => ColumnType::Timestamp,
            "boolean" | "bool" => ColumnType::Boolean,
            _ => {
                let inner = t
                    .strip_prefix("decimal(")
                    .and_then(|r| r.strip_suffix(')'))
                    .ok_or_else(|| {
                        format!(
                            "unknown column type `{s}` (expected string, int64, float64, decimal(P,S), date, timestamp or boolean)"
                        )
                    })?;
                let (p, sc) = inner
                    .split_once(',')
                    .ok_or_else(|| format!("`{s}`: expected decimal(P,S)"))?;
                let precision: u8 = p
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{s}`: precision is not a number"))?;
                let scale: i8 = sc
                    .trim()
                    .parse()
                    .map_err(|_| format!("`{s}`: scale is not a number"))?;
                if !(1..=38).contains(&precision) || scale < 0 || scale as u8 > precision {
                    return Err(format!(
                        "`{s}`: precision must be 1–38 and scale 0–precision"
                    ));
                }
                ColumnType::Decimal { precision, scale }
            }
        })
    }
}

impl TryFrom<String> for ColumnType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<ColumnType> for String {
    fn from(t: ColumnType) -> String {
        t.to_string()
    }
}

fn yes() -> bool {
    true
}

/// One declared column of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    /// Its name in the lake.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Whether it may be empty; an empty value in a non-nullable column
    /// quarantines the row.
    #[serde(default = "yes")]
    pub nullable: bool,
    /// Its name at the source (a Chinese header, a database column), when
    /// different from `name`.
    #[serde(default)]
    pub source: Option<String>,
}

impl ColumnDef {
    /// The name to look for at the source.
    pub fn source_name(&self) -> &str {
        self.source.as_deref().unwrap_or(&self.name)
    }
}

/// The Arrow schema of the declared columns, all nullable at the Arrow level
/// (non-nullable columns are enforced by quarantine, not by the writer).
pub fn arrow_schema(columns: &[ColumnDef]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, c.ty.arrow(), true))
            .collect::<Vec<_>>(),
    ))
}

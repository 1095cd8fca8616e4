//! Typing: a [`RawBatch`] of text becomes a batch of the declared types; a
//! row with any value that does not convert (or a required value missing)
//! goes to quarantine whole, with the raw record and every reason.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Array,
    Int64Builder, RecordBatch, StringArray, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::{LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use connectors::source::{ColumnDef, ColumnType, RawBatch};

/// Lineage columns added to every landed row.
pub const DELIVERY_COLUMN: &str = "_pdq_delivery";
/// The row's line, sheet row or record number in its delivery.
pub const ROW_COLUMN: &str = "_pdq_row";

/// The schema rows land with: the declared columns, then lineage.
pub fn landed_schema(columns: &[ColumnDef]) -> SchemaRef {
    let mut fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(&c.name, c.ty.arrow(), true))
        .collect();
    fields.push(Field::new(DELIVERY_COLUMN, DataType::Utf8, true));
    fields.push(Field::new(ROW_COLUMN, DataType::Int64, true));
    Arc::new(Schema::new(fields))
}

/// The quarantine table's schema.
pub fn quarantine_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("delivery", DataType::Utf8, true),
        Field::new("location", DataType::Utf8, true),
        Field::new("row", DataType::Int64, true),
        Field::new("key", DataType::Utf8, true),
        Field::new("column", DataType::Utf8, true),
        Field::new("raw_value", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, true),
        Field::new("record", DataType::Utf8, true),
    ]))
}

/// One quarantined row.
#[derive(Debug, Clone, PartialEq)]
pub struct Quarantined {
    /// Line / row / record number.
    pub row: u64,
    /// The source's key, when it has one.
    pub key: Option<String>,
    /// The first column that failed (empty for unreadable records).
    pub column: String,
    /// Its raw value.
    pub raw_value: Option<String>,
    /// Every reason, `; `-separated.
    pub reason: String,
    /// The whole raw record (JSON object of the declared columns, or the
    /// record's text when it could not be read).
    pub record: String,
}

fn trimmed(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}')
}

fn parse_i64(s: &str) -> Option<i64> {
    s.parse().ok()
}

fn parse_f64(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// An exact decimal: no more integer digits than `precision - scale`, no
/// non-zero digits beyond `scale` (rounding would change the value).
pub fn parse_decimal(s: &str, precision: u8, scale: i8) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    let int = int.trim_start_matches('0');
    let scale = scale as usize;
    if frac.len() > scale || int.len() > precision as usize - scale {
        return None;
    }
    let mut v: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        v = v * 10 + (b - b'0') as i128;
    }
    for _ in frac.len()..scale {
        v *= 10;
    }
    Some(if neg { -v } else { v })
}

const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d"];

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32)
    })
}

/// `YYYY-MM-DD` (or with `/` or `.`), the common case, without chrono's
/// format interpreter.
fn fast_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || !matches!(b[4], b'-' | b'/' | b'.') || b[7] != b[4] {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&b[..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// `YYYY-MM-DD HH:MM:SS` (or with `T`), without a fraction or offset.
fn fast_datetime(b: &[u8]) -> Option<NaiveDateTime> {
    if b.len() != 19 || !matches!(b[10], b' ' | b'T') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    fast_date(&b[..10])?.and_hms_opt(
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    )
}

/// A calendar date in the usual Chinese administrative spellings; a
/// date-time at midnight also counts.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    if s.len() == 10 && s.as_bytes()[4].is_ascii_punctuation() {
        // A date of this shape is either right here or wrong everywhere.
        return fast_date(s.as_bytes());
    }
    for f in DATE_FORMATS {
        if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return Some(d);
        }
    }
    let (d, rest) = s.split_at_checked(10)?;
    let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()?;
    let rest = rest.trim_start_matches(['T', ' ']);
    matches!(
        rest,
        "00:00:00" | "00:00:00Z" | "00:00:00+00:00" | "00:00:00.000"
    )
    .then_some(d)
}

/// An instant in microseconds since the epoch: with an offset (`Z`,
/// `+08:00`, `+08`) as written, without one in `tz`; a bare date is its
/// midnight in `tz`. A local time the zone's clocks passed twice (the hour
/// after daylight saving ends) is the earlier of the two instants; one they
/// skipped (a daylight-saving gap) is none (see [`nonexistent_local`]).
pub fn parse_timestamp(s: &str, tz: Tz) -> Option<i64> {
    if let Some(naive) = fast_datetime(s.as_bytes()) {
        return tz
            .from_local_datetime(&naive)
            .earliest()
            .map(|t| t.timestamp_micros());
    }
    let s = s.replace('/', "-");
    let s = s.as_str();
    for f in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(s, f) {
            return Some(t.timestamp_micros());
        }
    }
    if let Some(body) = s.strip_suffix('Z') {
        for f in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(body, f) {
                return Some(t.and_utc().timestamp_micros());
            }
        }
    }
    tz.from_local_datetime(&naive_local(s)?)
        .earliest()
        .map(|t| t.timestamp_micros())
}

/// A date-time written without an offset (`/` already made `-`).
fn naive_local(s: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y年%m月%d日 %H:%M:%S",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| parse_date(s).and_then(|d| d.and_hms_opt(0, 0, 0)))
}

/// Whether `s` is a well-formed local time that never existed in `tz`:
/// the clocks skipped it (China's daylight saving, 1986–1991, skipped
/// 02:00–02:59 each spring), so it names no instant (issue #23, F).
pub fn nonexistent_local(s: &str, tz: Tz) -> bool {
    let naive = fast_datetime(s.as_bytes()).or_else(|| naive_local(&s.replace('/', "-")));
    naive.is_some_and(|n| matches!(tz.from_local_datetime(&n), LocalResult::None))
}

/// Whether `s` is an integer too large or too small for 64 bits (a MySQL
/// `BIGINT UNSIGNED` above 2^63 - 1).
fn integer_out_of_range(s: &str) -> bool {
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && s.parse::<i64>().is_err()
}

/// Why `v` did not convert to column `c`'s type: the general "is not …",
/// or what is really wrong when the form is right.
fn why_not(c: &ColumnDef, v: &str, tz: Tz) -> String {
    match c.ty {
        ColumnType::Timestamp if nonexistent_local(v, tz) => format!(
            "`{}`: `{v}` does not exist in {} (a daylight-saving gap: the clocks skipped it)",
            c.name,
            tz.name()
        ),
        ColumnType::Int64 if integer_out_of_range(v) => format!(
            "`{}`: `{v}` is out of range for int64 (declare the column decimal(20,0) or string)",
            c.name
        ),
        ty => format!("`{}`: `{v}` is not {}", c.name, expected(ty)),
    }
}

/// true/false and the usual Chinese and one-letter spellings.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "y" | "yes" | "是" => Some(true),
        "false" | "f" | "0" | "n" | "no" | "否" => Some(false),
        _ => None,
    }
}

fn expected(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::String => "text",
        ColumnType::Int64 => "an integer",
        ColumnType::Float64 => "a number",
        ColumnType::Decimal { .. } => "a decimal number within the declared precision and scale",
        ColumnType::Date => "a date (YYYY-MM-DD)",
        ColumnType::Timestamp => "a date-time (YYYY-MM-DD HH:MM:SS)",
        ColumnType::Boolean => "true/false (是/否)",
    }
}

/// The typed rows of a batch and its quarantined rows.
pub struct Conformed {
    /// Rows that land (declared columns + lineage), as zero-copy slices of
    /// the typed batch: the runs of rows between quarantined ones (the
    /// whole batch when none is). Slicing rather than filtering spares a
    /// copy of every landed byte whenever a batch has one bad row.
    pub runs: Vec<RecordBatch>,
    /// Rows that did not.
    pub quarantined: Vec<Quarantined>,
}

/// Types one raw batch.
pub fn conform(
    raw: &RawBatch,
    columns: &[ColumnDef],
    schema: &SchemaRef,
    delivery: &str,
    tz: Tz,
) -> Result<Conformed, arrow::error::ArrowError> {
    let n = raw.columns.num_rows();
    let mut problems: Vec<Vec<(usize, String)>> = vec![];
    let mut bad = vec![false; n];
    let mut note =
        |row: usize, col: usize, reason: String, problems: &mut Vec<Vec<(usize, String)>>| {
            if problems.is_empty() {
                problems.resize(n, vec![]);
            }
            bad[row] = true;
            problems[row].push((col, reason));
        };
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len() + 2);
    // A raw batch holds each declared column as text, in declared order.
    if raw.columns.num_columns() < columns.len() {
        return Err(arrow::error::ArrowError::SchemaError(format!(
            "a raw batch has {} columns; {} are declared",
            raw.columns.num_columns(),
            columns.len()
        )));
    }
    let texts: Vec<&StringArray> = columns
        .iter()
        .enumerate()
        .map(|(ci, c)| {
            raw.columns
                .column(ci)
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(|| {
                    arrow::error::ArrowError::SchemaError(format!(
                        "raw column `{}` is not text",
                        c.name
                    ))
                })
        })
        .collect::<Result<_, _>>()?;
    for (ci, c) in columns.iter().enumerate() {
        let text = texts[ci];
        let value = |r: usize| -> Option<&str> {
            if text.is_null(r) {
                return None;
            }
            let v = text.value(r);
            if c.ty == ColumnType::String {
                return (!trimmed(v).is_empty()).then_some(v);
            }
            Some(trimmed(v)).filter(|v| !v.is_empty())
        };
        macro_rules! typed {
            ($builder:expr, $parse:expr) => {{
                let mut b = $builder;
                for r in 0..n {
                    match value(r) {
                        None => {
                            if !c.nullable {
                                note(
                                    r,
                                    ci,
                                    format!("`{}` is required but empty", c.name),
                                    &mut problems,
                                );
                            }
                            b.append_null();
                        }
                        Some(v) => match $parse(v) {
                            Some(x) => b.append_value(x),
                            None => {
                                note(r, ci, why_not(c, v, tz), &mut problems);
                                b.append_null();
                            }
                        },
                    }
                }
                Arc::new(b.finish()) as ArrayRef
            }};
        }
        let array: ArrayRef = match c.ty {
            ColumnType::String => {
                if !c.nullable {
                    for r in 0..n {
                        if value(r).is_none() {
                            note(
                                r,
                                ci,
                                format!("`{}` is required but empty", c.name),
                                &mut problems,
                            );
                        }
                    }
                }
                Arc::new(text.clone())
            }
            ColumnType::Int64 => typed!(Int64Builder::with_capacity(n), parse_i64),
            ColumnType::Float64 => typed!(Float64Builder::with_capacity(n), parse_f64),
            ColumnType::Decimal { precision, scale } => {
                typed!(
                    Decimal128Builder::with_capacity(n)
                        .with_precision_and_scale(precision, scale)?,
                    |v| parse_decimal(v, precision, scale)
                )
            }
            ColumnType::Date => typed!(Date32Builder::with_capacity(n), |v| parse_date(v).map(
                |d: NaiveDate| (d - NaiveDate::default()).num_days() // the default is 1970-01-01
                    as i32
            )),
            ColumnType::Timestamp => {
                let a = typed!(TimestampMicrosecondBuilder::with_capacity(n), |v| {
                    parse_timestamp(v, tz)
                });
                arrow::compute::cast(&a, &c.ty.arrow())?
            }
            ColumnType::Boolean => typed!(BooleanBuilder::with_capacity(n), parse_bool),
        };
        arrays.push(array);
    }
    arrays.push(Arc::new(StringArray::from(vec![delivery; n])));
    arrays.push(Arc::new(Int64Array::from_iter_values(
        raw.rows.values().iter().map(|r| *r as i64),
    )));
    let all = RecordBatch::try_new(schema.clone(), arrays)?;
    let mut quarantined = vec![];
    if !problems.is_empty() {
        for r in 0..n {
            if !bad[r] {
                continue;
            }
            let p = &problems[r];
            let (first_col, _) = p[0];
            let record: serde_json::Map<String, serde_json::Value> = columns
                .iter()
                .enumerate()
                .map(|(ci, c)| {
                    let t = texts[ci];
                    let v = if t.is_null(r) {
                        serde_json::Value::Null
                    } else {
                        t.value(r).into()
                    };
                    (c.name.clone(), v)
                })
                .collect();
            let raw_col = texts[first_col];
            quarantined.push(Quarantined {
                row: raw.rows.value(r),
                key: raw
                    .keys
                    .as_ref()
                    .and_then(|k| (!k.is_null(r)).then(|| k.value(r).to_string())),
                column: columns[first_col].name.clone(),
                raw_value: (!raw_col.is_null(r)).then(|| raw_col.value(r).to_string()),
                reason: p
                    .iter()
                    .map(|(_, m)| m.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
                record: serde_json::Value::Object(record).to_string(),
            });
        }
    }
    for j in &raw.rejects {
        quarantined.push(Quarantined {
            row: j.row,
            key: None,
            column: String::new(),
            raw_value: Some(j.raw.clone()),
            reason: j.reason.clone(),
            record: j.raw.clone(),
        });
    }
    let mut runs = vec![];
    let mut start = None;
    for (r, b) in bad.iter().enumerate() {
        match (*b, start) {
            (false, None) => start = Some(r),
            (true, Some(s)) => {
                runs.push(all.slice(s, r - s));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push(if s == 0 { all } else { all.slice(s, n - s) });
    }
    Ok(Conformed { runs, quarantined })
}

impl Conformed {
    /// How many rows land.
    pub fn rows(&self) -> usize {
        self.runs.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Quarantined rows as a batch of the quarantine table.
pub fn quarantine_batch(q: &[Quarantined], delivery: &str, location: &str) -> RecordBatch {
    let n = q.len();
    RecordBatch::try_new(
        quarantine_schema(),
        vec![
            Arc::new(StringArray::from(vec![delivery; n])),
            Arc::new(StringArray::from(vec![location; n])),
            Arc::new(Int64Array::from_iter_values(q.iter().map(|x| x.row as i64))),
            Arc::new(StringArray::from_iter(q.iter().map(|x| x.key.as_deref()))),
            Arc::new(StringArray::from_iter_values(
                q.iter().map(|x| x.column.as_str()),
            )),
            Arc::new(StringArray::from_iter(
                q.iter().map(|x| x.raw_value.as_deref()),
            )),
            Arc::new(StringArray::from_iter_values(
                q.iter().map(|x| x.reason.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                q.iter().map(|x| x.record.as_str()),
            )),
        ],
    )
    .expect("quarantine columns of equal length")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact_or_refused() {
        assert_eq!(parse_decimal("12.50", 18, 2), Some(1250));
        assert_eq!(parse_decimal("-0.5", 18, 2), Some(-50));
        assert_eq!(parse_decimal("12,5", 18, 2), None);
        assert_eq!(parse_decimal("1.234", 18, 2), None);
        assert_eq!(parse_decimal("1.230", 18, 2), Some(123));
        assert_eq!(parse_decimal("123", 3, 1), None);
    }

    #[test]
    fn dates_and_timestamps() {
        assert_eq!(
            parse_date("2026年2月3日"),
            NaiveDate::from_ymd_opt(2026, 2, 3)
        );
        assert_eq!(parse_date("2023-02-30"), None);
        assert_eq!(parse_date("20260203"), NaiveDate::from_ymd_opt(2026, 2, 3));
        let sh = chrono_tz::Asia::Shanghai;
        let utc = parse_timestamp("2026-11-20 00:00:00+00", sh).unwrap();
        assert_eq!(parse_timestamp("2026-11-20 08:00:00", sh), Some(utc));
        assert_eq!(parse_timestamp("2026-11-20T00:00:00Z", sh), Some(utc));
        assert_eq!(parse_timestamp("2026-11-20T08:00:00+08:00", sh), Some(utc));
        assert_eq!(parse_timestamp("2026-11-20T08:00:00", sh), Some(utc));
        assert_eq!(parse_timestamp("2026/11/20 08:00:00", sh), Some(utc));
        assert_eq!(parse_timestamp("2026-11-20 08:00:61", sh), None);
        assert_eq!(
            parse_date("1990.03.07"),
            NaiveDate::from_ymd_opt(1990, 3, 7)
        );
        assert_eq!(parse_date("1990-3-07x"), None);
        assert_eq!(parse_timestamp("未知", sh), None);
    }

    /// Landed rows are the runs between quarantined ones, in order, each a
    /// slice of the typed batch: bad rows first, adjacent, and last.
    #[test]
    fn landed_rows_are_the_runs_between_quarantined_ones() {
        let columns = vec![ColumnDef {
            name: "n".into(),
            ty: ColumnType::Int64,
            nullable: true,
            source: None,
        }];
        let schema = landed_schema(&columns);
        let run = |values: &[&str]| {
            let text = StringArray::from(values.to_vec());
            let raw = RawBatch {
                columns: RecordBatch::try_from_iter([("n", Arc::new(text) as ArrayRef)]).unwrap(),
                rows: arrow::array::UInt64Array::from((0..values.len() as u64).collect::<Vec<_>>()),
                rejects: vec![],
                keys: None,
            };
            let c = conform(&raw, &columns, &schema, "d1", chrono_tz::Asia::Shanghai).unwrap();
            let landed: Vec<Vec<i64>> = c
                .runs
                .iter()
                .map(|b| {
                    let n = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                    n.values().to_vec()
                })
                .collect();
            let quarantined: Vec<u64> = c.quarantined.iter().map(|q| q.row).collect();
            assert_eq!(c.rows(), landed.iter().map(Vec::len).sum::<usize>());
            (landed, quarantined)
        };
        assert_eq!(run(&["1", "2", "3"]), (vec![vec![1, 2, 3]], vec![]));
        assert_eq!(
            run(&["x", "2", "y", "z", "5", "6", "w"]),
            (vec![vec![2], vec![5, 6]], vec![0, 2, 3, 6])
        );
        assert_eq!(run(&["x", "y"]), (vec![], vec![0, 1]));
        assert_eq!(run(&[]), (vec![], vec![]));
    }

    /// Issue #23, F: China's daylight saving (1986–1991) skipped an hour
    /// each spring and passed one twice each autumn.
    #[test]
    fn daylight_saving_gaps_and_folds_in_the_bureaus_zone() {
        let sh = chrono_tz::Asia::Shanghai;
        // 1988-04-17 02:00 became 03:00.
        for gap in [
            "1988-04-17 02:30:00",
            "1988/04/17 02:30:00",
            "1988-04-17T02:30:00.5",
        ] {
            assert_eq!(parse_timestamp(gap, sh), None, "{gap}");
            assert!(nonexistent_local(gap, sh), "{gap}");
        }
        assert!(!nonexistent_local("1988-04-17 03:30:00", sh));
        assert!(!nonexistent_local("1988-04-17 02:30:61", sh), "malformed");
        assert!(!nonexistent_local("1988-04-17 02:30:00+08:00", sh));
        // 1988-09-11 02:00 became 01:00: 01:30 happened twice; the earlier
        // (daylight time, +09:00) is taken.
        assert_eq!(
            parse_timestamp("1988-09-11 01:30:00", sh),
            parse_timestamp("1988-09-11 01:30:00+09:00", sh)
        );
        assert!(integer_out_of_range("18446744073709551615"));
        assert!(integer_out_of_range("-9223372036854775809"));
        assert!(!integer_out_of_range("9223372036854775807"));
        assert!(!integer_out_of_range("12a"));
    }
}

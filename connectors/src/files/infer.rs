//! Type inference for text cells that never loses information.
//!
//! A column gets a type only when *every* non-blank value in the dataset
//! parses as that type and prints back the same: digit strings with a
//! leading zero or 15 digits and more (ID numbers, codes) stay text, one
//! impossible date (`2024-02-30`) keeps a date column as text. Blank cells
//! (empty or white space only) do not vote; in typed columns they become
//! NULL, in text columns they are kept as written.
//!
//! The same inference serves CSV, JSON (scalars are first turned into their
//! text form) and XLSX, so the same data in any format gives the same arrays.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Builder, Float64Builder, Int64Builder, StringViewBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, TimeUnit};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

const INT: u8 = 1;
const FLOAT: u8 = 2;
const DATE: u8 = 4;
const TIMESTAMP: u8 = 8;
const ALL: u8 = INT | FLOAT | DATE | TIMESTAMP;

/// The running verdict for one column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnInference {
    candidates: u8,
    voters: u64,
}

impl Default for ColumnInference {
    fn default() -> Self {
        ColumnInference {
            candidates: ALL,
            voters: 0,
        }
    }
}

/// True for cells that carry no value (empty or white space only, U+3000 included).
pub fn is_blank(s: &str) -> bool {
    // Most cells start with a printable ASCII byte: decided without
    // decoding (U+000B is the one ASCII white space `u8` does not count).
    match s.as_bytes().first() {
        Some(&b) if b.is_ascii() && !b.is_ascii_whitespace() && b != 0x0B => false,
        _ => s.chars().all(char::is_whitespace),
    }
}

impl ColumnInference {
    /// Feeds one cell (`None` = NULL).
    pub fn observe(&mut self, cell: Option<&str>) {
        let Some(s) = cell else { return };
        if is_blank(s) {
            return;
        }
        self.voters += 1;
        if self.candidates & INT != 0 && parse_int(s).is_none() {
            self.candidates &= !INT;
        }
        if self.candidates & FLOAT != 0 && parse_float(s).is_none() {
            self.candidates &= !FLOAT;
        }
        if self.candidates & DATE != 0 && parse_date(s).is_none() {
            self.candidates &= !DATE;
        }
        if self.candidates & TIMESTAMP != 0 && parse_timestamp_parts(s).is_none() {
            self.candidates &= !TIMESTAMP;
        }
    }

    /// Whether any non-blank value was observed.
    pub fn voted(&self) -> bool {
        self.voters > 0
    }

    /// Combines the verdicts of two partial scans.
    pub fn merge(&mut self, other: &ColumnInference) {
        self.candidates &= other.candidates;
        self.voters += other.voters;
    }

    /// The inferred type; text when nothing voted or nothing fits.
    pub fn data_type(&self, tz: Tz) -> DataType {
        if self.voters == 0 {
            return DataType::Utf8View;
        }
        if self.candidates & INT != 0 {
            DataType::Int64
        } else if self.candidates & FLOAT != 0 {
            DataType::Float64
        } else if self.candidates & DATE != 0 {
            DataType::Date32
        } else if self.candidates & TIMESTAMP != 0 {
            DataType::Timestamp(TimeUnit::Microsecond, Some(tz.name().into()))
        } else {
            DataType::Utf8View
        }
    }
}

/// An integer of at most 14 digits without a leading zero (`0` itself allowed).
///
/// 15-digit strings are first-generation resident IDs far more often than
/// quantities, and an identifier must stay text: it is compared, masked and
/// checked character by character, never added up.
pub fn parse_int(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        all => (false, all),
    };
    if digits.is_empty() || digits.len() > 14 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    // One pass: checked and accumulated together (14 digits cannot overflow).
    let mut v = 0i64;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + i64::from(d);
    }
    Some(if negative { -v } else { v })
}

/// A plain decimal number with at most 15 significant digits and no leading
/// zero in its integer part, so it prints back as written (up to trailing zeros).
pub fn parse_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((a, b)) => (a, b),
        None => (mantissa, ""),
    };
    if int_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if mantissa.contains('.') && frac_part.is_empty() {
        return None;
    }
    if !mantissa.contains('.') && exponent.is_none() {
        // A plain integer is a number only where `parse_int` says so.
        return parse_int(s).map(|i| i as f64);
    }
    if int_part.len() > 1 && int_part.starts_with('0') {
        return None;
    }
    if let Some(e) = exponent {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || e.len() > 3 || !e.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    // Significant digits: those of the integer and fraction parts
    // together, without leading and trailing zeros (counted in place: a
    // joined copy per value was a tenth of a CSV check's time).
    let digits = || int_part.bytes().chain(frac_part.bytes());
    let total = int_part.len() + frac_part.len();
    let leading = digits().take_while(|b| *b == b'0').count();
    let trailing = frac_part
        .bytes()
        .rev()
        .chain(int_part.bytes().rev())
        .take_while(|b| *b == b'0')
        .count();
    let significant = if leading == total {
        0
    } else {
        total - leading - trailing
    };
    if significant > 15 {
        return None;
    }
    let v: f64 = s.parse().ok()?;
    v.is_finite().then_some(v)
}

/// `YYYY-MM-DD` or `YYYY/MM/DD`, a real calendar date.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let (y, m, d) = date_parts(s)?;
    NaiveDate::from_ymd_opt(y, m as u32, d as u32)
}

/// The year, month and day written in a `YYYY-MM-DD` or `YYYY/MM/DD`
/// (digits only, not yet checked against the calendar).
fn date_parts(s: &str) -> Option<(i32, i32, i32)> {
    let b = s.as_bytes();
    if b.len() != 10 || !(b[4] == b'-' && b[7] == b'-' || b[4] == b'/' && b[7] == b'/') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i32> {
        b[r].iter().try_fold(0i32, |acc, &c| {
            let d = c.wrapping_sub(b'0');
            (d <= 9).then_some(acc * 10 + i32::from(d))
        })
    };
    Some((num(0..4)?, num(5..7)?, num(8..10)?))
}

/// [`parse_date`] as days since 1970-01-01 (a Date32), without building a
/// `NaiveDate`: the calendar check and the day count are done on the
/// numbers (the proleptic Gregorian calendar, as chrono's).
pub fn parse_date_days(s: &str) -> Option<i32> {
    let (y, m, d) = date_parts(s)?;
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let month_days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > month_days {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm): years start in
    // March, so the leap day is the last day of a year.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let day_of_year = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

/// A timestamp `YYYY-MM-DD[ T]HH:MM:SS[.f]` with an optional `Z` / `±HH:MM`:
/// the local date-time and, if written, its offset in seconds.
fn parse_timestamp_parts(s: &str) -> Option<(NaiveDateTime, Option<i32>)> {
    if s.len() < 19 {
        return None;
    }
    let (local, offset) = if let Some(rest) = s.strip_suffix('Z') {
        (rest, Some(0))
    } else if s.len() > 19
        && matches!(s.as_bytes()[s.len() - 6], b'+' | b'-')
        && s.as_bytes()[s.len() - 3] == b':'
    {
        let (l, o) = s.split_at(s.len() - 6);
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let h: i32 = o[1..3].parse().ok()?;
        let m: i32 = o[4..6].parse().ok()?;
        (l, Some(sign * (h * 3600 + m * 60)))
    } else {
        (s, None)
    };
    let b = local.as_bytes();
    if b.len() < 19 || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    parse_date(&local[..10])?;
    let fmt = if b[10] == b'T' {
        "%Y-%m-%dT%H:%M:%S%.f"
    } else {
        "%Y-%m-%d %H:%M:%S%.f"
    };
    let normal = local.replace('/', "-");
    let naive = NaiveDateTime::parse_from_str(&normal, fmt).ok()?;
    Some((naive, offset))
}

/// A timestamp as microseconds since the epoch (UTC); naive values are in `tz`.
pub fn parse_timestamp(s: &str, tz: Tz) -> Option<i64> {
    let (naive, offset) = parse_timestamp_parts(s)?;
    let utc = match offset {
        Some(secs) => naive - chrono::Duration::seconds(i64::from(secs)),
        None => tz.from_local_datetime(&naive).earliest()?.naive_utc(),
    };
    Some(DateTime::<chrono::Utc>::from_naive_utc_and_offset(utc, chrono::Utc).timestamp_micros())
}

/// Builds an array of one inferred type a cell at a time: blank cells
/// are NULL in typed columns, text is kept as written.
pub struct CellBuilder {
    column: TypedBuilder,
    tz: Tz,
}

enum TypedBuilder {
    Int(Int64Builder),
    Float(Float64Builder),
    Date(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Text(StringViewBuilder),
}

impl CellBuilder {
    /// A builder of `data_type` (text for any type inference does not make).
    pub fn new(data_type: &DataType, tz: Tz, capacity: usize) -> CellBuilder {
        let column = match data_type {
            DataType::Int64 => TypedBuilder::Int(Int64Builder::with_capacity(capacity)),
            DataType::Float64 => TypedBuilder::Float(Float64Builder::with_capacity(capacity)),
            DataType::Date32 => TypedBuilder::Date(Date32Builder::with_capacity(capacity)),
            DataType::Timestamp(_, zone) => TypedBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(capacity)
                    .with_timezone_opt(zone.clone()),
            ),
            _ => TypedBuilder::Text(StringViewBuilder::with_capacity(capacity)),
        };
        CellBuilder { column, tz }
    }

    /// Appends a cell (`None`: NULL). False when a non-blank cell does not
    /// parse as the builder's type (it is then NULL).
    pub fn append(&mut self, cell: Option<&str>) -> bool {
        if let TypedBuilder::Text(b) = &mut self.column {
            b.append_option(cell);
            return true;
        }
        // Blankness matters to typed columns only.
        let present = cell.filter(|s| !is_blank(s));
        let parsed = match &mut self.column {
            TypedBuilder::Text(_) => true,
            TypedBuilder::Int(b) => {
                let v = present.and_then(parse_int);
                b.append_option(v);
                v.is_some()
            }
            TypedBuilder::Float(b) => {
                let v = present.and_then(parse_float);
                b.append_option(v);
                v.is_some()
            }
            TypedBuilder::Date(b) => {
                let v = present.and_then(parse_date_days);
                b.append_option(v);
                v.is_some()
            }
            TypedBuilder::Timestamp(b) => {
                let v = present.and_then(|s| parse_timestamp(s, self.tz));
                b.append_option(v);
                v.is_some()
            }
        };
        parsed || present.is_none()
    }

    /// The array of the cells appended so far; the builder starts again empty.
    pub fn finish(&mut self) -> ArrayRef {
        match &mut self.column {
            TypedBuilder::Int(b) => Arc::new(b.finish()),
            TypedBuilder::Float(b) => Arc::new(b.finish()),
            TypedBuilder::Date(b) => Arc::new(b.finish()),
            TypedBuilder::Timestamp(b) => Arc::new(b.finish()),
            TypedBuilder::Text(b) => Arc::new(b.finish()),
        }
    }
}

/// Builds an array of `data_type` from cells; the type must come from
/// [`ColumnInference::data_type`] over (at least) these cells, so every
/// non-blank cell parses. A cell that does not (a bug upstream) becomes NULL
/// rather than a panic.
pub fn convert<'a>(
    cells: impl ExactSizeIterator<Item = Option<&'a str>>,
    data_type: &DataType,
    tz: Tz,
) -> ArrayRef {
    let mut b = CellBuilder::new(data_type, tz, cells.len());
    cells.for_each(|c| {
        b.append(c);
    });
    b.finish()
}

/// Whether a non-blank value would be typed by inference on its own
/// (a number, date or timestamp), so that a column of no other values
/// would not be text.
pub fn has_a_type(s: &str) -> bool {
    parse_int(s).is_some()
        || parse_float(s).is_some()
        || parse_date(s).is_some()
        || parse_timestamp_parts(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The definitions these functions had before their fast paths: the
    // fast ones must agree with them on every input.
    fn old_is_blank(s: &str) -> bool {
        s.chars().all(char::is_whitespace)
    }

    fn old_parse_int(s: &str) -> Option<i64> {
        let digits = s.strip_prefix('-').unwrap_or(s);
        if digits.is_empty() || digits.len() > 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if digits.len() > 1 && digits.starts_with('0') {
            return None;
        }
        s.parse().ok()
    }

    fn old_parse_date(s: &str) -> Option<NaiveDate> {
        let b = s.as_bytes();
        if b.len() != 10 || !(b[4] == b'-' && b[7] == b'-' || b[4] == b'/' && b[7] == b'/') {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = &s[r];
            part.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| part.parse().ok())
                .flatten()
        };
        NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
    }

    fn old_days(d: NaiveDate) -> i32 {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(d);
        (d - epoch).num_days() as i32
    }

    /// A small deterministic generator (xorshift), for generated inputs.
    struct Gen(u64);
    impl Gen {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[(self.next() % from.len() as u64) as usize]
        }
    }

    #[test]
    fn blank_fast_path_agrees_with_every_character() {
        for c in (0..=0x3001u32)
            .chain([0x85, 0xA0, 0x2028, 0xFEFF])
            .filter_map(char::from_u32)
        {
            for s in [
                c.to_string(),
                format!("{c}x"),
                format!("{c} "),
                format!(" {c}"),
                format!("{c}\u{3000}"),
            ] {
                assert_eq!(is_blank(&s), old_is_blank(&s), "{s:?}");
            }
        }
        assert!(is_blank(""));
        assert!(is_blank("\u{0B}\u{3000}\t"));
        assert!(!is_blank("\u{0B}x"));
    }

    #[test]
    fn int_parse_agrees_with_the_checked_std_parse() {
        for s in [
            "",
            "-",
            "--1",
            "+1",
            "0",
            "-0",
            "00",
            "-00",
            "01",
            "-01",
            "7",
            "-7",
            "10",
            "99999999999999",
            "-99999999999999",
            "100000000000000",
            "-100000000000000",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "99999999999999999999",
            "1 ",
            " 1",
            "1.0",
            "1e3",
            "١٢",
            "12a",
            "a12",
            "0x1",
        ] {
            assert_eq!(parse_int(s), old_parse_int(s), "{s:?}");
        }
        let parts = [
            "-", "0", "1", "9", "5", "00", "123", "4567890", "+", ".", "e", " ", "a", "٣",
        ];
        let mut g = Gen(0x9E37_79B9_7F4A_7C15);
        for _ in 0..300_000 {
            let n = 1 + g.next() % 6;
            let s: String = (0..n).map(|_| g.pick(&parts)).collect();
            assert_eq!(parse_int(&s), old_parse_int(&s), "{s:?}");
            // Long digit runs around the 14-digit limit and i64's range.
            let digits = format!("{}{}", 1 + g.next() % 9, g.next());
            for len in 1..=digits.len() {
                for t in [&digits[..len], &format!("-{}", &digits[..len])] {
                    assert_eq!(parse_int(t), old_parse_int(t), "{t:?}");
                }
            }
        }
    }

    #[test]
    fn date_days_agree_with_chrono_on_every_written_date() {
        for y in 0..=9999 {
            for m in 0..=13 {
                for d in 0..=32 {
                    let s = format!("{y:04}-{m:02}-{d:02}");
                    let want = old_parse_date(&s).map(old_days);
                    assert_eq!(parse_date_days(&s), want, "{s}");
                    assert_eq!(parse_date(&s), old_parse_date(&s), "{s}");
                    if y % 97 == 0 {
                        let t = s.replace('-', "/");
                        assert_eq!(parse_date_days(&t), want, "{t}");
                    }
                }
            }
        }
        for s in [
            "2024-02-29",
            "2023-02-29",
            "1900-02-29",
            "2000-02-29",
            "0000-02-29",
            "0000-01-01",
            "1970-01-01",
            "1969-12-31",
            "9999-12-31",
            "2024/02-29",
            "2024-02/29",
            "2024-2-29",
            "2024-02-291",
            "+024-02-29",
            "2024-0a-29",
            "2024-02-2 ",
            " 024-02-29",
            "2024-é-29",
            "2024-02-é",
            "२०२४-02-29",
            "",
        ] {
            assert_eq!(parse_date_days(s), old_parse_date(s).map(old_days), "{s:?}");
            assert_eq!(parse_date(s), old_parse_date(s), "{s:?}");
        }
        assert_eq!(parse_date_days("1970-01-01"), Some(0));
        assert_eq!(parse_date_days("1969-12-31"), Some(-1));
    }

    fn infer(values: &[Option<&str>]) -> DataType {
        let mut c = ColumnInference::default();
        values.iter().for_each(|v| c.observe(*v));
        c.data_type(chrono_tz::Asia::Shanghai)
    }

    #[test]
    fn identifiers_and_codes_stay_text() {
        assert_eq!(infer(&[Some("110105194912310021")]), DataType::Utf8View);
        assert_eq!(infer(&[Some("110105491231002")]), DataType::Utf8View); // a 15-digit (first-generation) ID
        assert_eq!(infer(&[Some("11010549123100")]), DataType::Int64); // 14 digits are a number
        assert_eq!(infer(&[Some("0012"), Some("12")]), DataType::Utf8View);
        assert_eq!(infer(&[Some("01")]), DataType::Utf8View);
        assert_eq!(infer(&[Some(" 12")]), DataType::Utf8View);
    }

    #[test]
    fn numbers_dates_timestamps() {
        assert_eq!(
            infer(&[Some("12"), Some("-3"), None, Some(""), Some("\u{3000}")]),
            DataType::Int64
        );
        assert_eq!(infer(&[Some("12"), Some("1.5")]), DataType::Float64);
        assert_eq!(infer(&[Some("1234567890.123456")]), DataType::Utf8View); // 16 significant digits
        assert_eq!(infer(&[Some("123456789.0123456")]), DataType::Utf8View); // 16, a zero inside
        assert_eq!(infer(&[Some("12345678901234.5000")]), DataType::Float64); // 15 and trailing zeros
        assert_eq!(
            infer(&[Some("0.000001234567890123456")]),
            DataType::Utf8View
        ); // 16 after leading zeros
        assert_eq!(infer(&[Some("0.00000123456789012345")]), DataType::Float64); // 15 after leading zeros
        assert_eq!(infer(&[Some("0.0"), Some("100.00")]), DataType::Float64);
        assert_eq!(
            infer(&[Some("2024-02-29"), Some("2024/03/01")]),
            DataType::Date32
        );
        assert_eq!(
            infer(&[Some("2024-02-29"), Some("2024-02-30")]),
            DataType::Utf8View
        );
        assert!(matches!(
            infer(&[
                Some("2026-11-21 08:00:00"),
                Some("2026-11-21T08:00:00.5+08:00")
            ]),
            DataType::Timestamp(_, Some(_))
        ));
        assert_eq!(infer(&[None, Some("  ")]), DataType::Utf8View);
        assert_eq!(infer(&[Some("abc"), Some("1")]), DataType::Utf8View);
    }

    #[test]
    fn naive_timestamps_are_in_the_bureau_zone() {
        let tz = chrono_tz::Asia::Shanghai;
        let a = parse_timestamp("2026-11-21 08:00:00", tz).unwrap();
        let b = parse_timestamp("2026-11-21T00:00:00Z", tz).unwrap();
        let c = parse_timestamp("2026-11-21T08:00:00+08:00", tz).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
    }

    #[test]
    fn conversion_keeps_blanks_null_in_typed_columns_and_text_as_written() {
        let cells = [Some("1"), Some(" "), None];
        let a = convert(
            cells.iter().copied(),
            &DataType::Int64,
            chrono_tz::Asia::Shanghai,
        );
        assert_eq!(a.null_count(), 2);
        let s = convert(
            cells.iter().copied(),
            &DataType::Utf8View,
            chrono_tz::Asia::Shanghai,
        );
        assert_eq!(s.null_count(), 1);
    }
}

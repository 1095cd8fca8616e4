//! `pdq_to_number(value)`: the trimmed text as a number (Float64), NULL when
//! it is not one. Accepts `12`, `-3.5`, `1e3`, `+7`; thousands separators and
//! units are not numbers.

use std::sync::Arc;

use datafusion::arrow::array::Float64Builder;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature};

use super::{first_array, for_each_str, string_then, trim};

/// `pdq_to_number`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ToNumberFunc {
    signature: Signature,
}

impl ToNumberFunc {
    pub fn new() -> Self {
        ToNumberFunc {
            signature: string_then(&[&[]]),
        }
    }
}

/// Parses a plain decimal number; Rust's parser also takes `inf`/`nan`, which are not numbers here.
fn number(s: &str) -> Option<f64> {
    let t = trim(s);
    if t.is_empty()
        || !t
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
    {
        return None;
    }
    if let Some(v) = simple_decimal(t.as_bytes()) {
        return Some(v);
    }
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// `[+-]digits[.digits]` whose digits fit 2^53, exactly as `str::parse`
/// reads it, without its general algorithm: the digits as an integer
/// divided by an exact power of ten is one correctly rounded IEEE division
/// (Clinger's fast path). A range check runs this on every row of a text
/// column (`5098790.49`), where `str::parse` was a tenth of a CSV check.
/// `None` for anything else (exponents, more digits), which the caller
/// gives to `str::parse`.
fn simple_decimal(b: &[u8]) -> Option<f64> {
    let (negative, body) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, b),
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0usize;
    let mut decimals: Option<usize> = None;
    for &c in body {
        match c {
            b'0'..=b'9' => {
                digits += 1;
                if digits > 19 {
                    return None;
                }
                mantissa = mantissa * 10 + u64::from(c - b'0');
                if let Some(d) = &mut decimals {
                    *d += 1;
                }
            }
            b'.' if decimals.is_none() => decimals = Some(0),
            _ => return None,
        }
    }
    let decimals = decimals.unwrap_or(0);
    // `str::parse` reads "5." and ".5" but not "." alone.
    if digits == 0 || mantissa >= 1 << 53 || decimals >= POW10.len() {
        return None;
    }
    let v = mantissa as f64 / POW10[decimals];
    Some(if negative { -v } else { v })
}

/// The powers of ten a double holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

impl ScalarUDFImpl for ToNumberFunc {
    fn name(&self) -> &str {
        "pdq_to_number"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let array = first_array(&args.args, args.number_rows)?;
        let mut out = Float64Builder::with_capacity(array.len());
        for_each_str(&array, |v| out.append_option(v.and_then(number)))?;
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udfs::test_util::invoke;
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::Float64Type;

    #[test]
    fn numbers() {
        let out = invoke(
            &ToNumberFunc::new(),
            &[
                Some(" 5 "),
                Some("-1.5"),
                Some("1e3"),
                Some("abc"),
                Some("inf"),
                Some("1,000"),
                None,
            ],
            &[],
        )
        .unwrap();
        let got: Vec<Option<f64>> = out.as_primitive::<Float64Type>().iter().collect();
        assert_eq!(
            got,
            vec![Some(5.0), Some(-1.5), Some(1000.0), None, None, None, None]
        );
    }

    /// The fast path reads exactly what `str::parse` reads, bit for bit, on
    /// hundreds of thousands of generated texts (signs, points, exponents,
    /// leading and trailing zeros, up to 24 characters) and the edge cases.
    #[test]
    fn the_fast_path_reads_numbers_as_str_parse_does() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "+0",
            "0.0",
            "-0.0",
            "5.",
            ".5",
            "-.5",
            "+.5",
            ".",
            "-",
            "+",
            "",
            "1.2.3",
            "--1",
            "+-1",
            "1e5",
            "9007199254740992",
            "9007199254740993",
            "900719925474099.3",
            "9999999999999999999",
            "99999999999999999999",
            "0.0000000000000000000001",
            "0.00000000000000000000001",
            "5098790.49",
            "-2374343.98",
            "0.1",
            "0.3",
            "2.675",
            "00012.50",
            "123456789012345678.9",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let alphabet = b"0000111223456789..-+";
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..300_000 {
            let len = 1 + (next() % 24) as usize;
            cases.push(
                (0..len)
                    .map(|_| alphabet[(next() % alphabet.len() as u64) as usize] as char)
                    .collect(),
            );
        }
        for _ in 0..300_000 {
            let decimals = (next() % 8) as usize;
            let frac = next() % 10u64.pow(decimals as u32);
            cases.push(format!("{}.{frac:0decimals$}", next() % 100_000_000_000));
        }
        let mut fast = 0;
        for s in &cases {
            let std = s.parse::<f64>().ok().filter(|v| v.is_finite());
            if let Some(v) = simple_decimal(s.as_bytes()) {
                fast += 1;
                assert_eq!(Some(v.to_bits()), std.map(f64::to_bits), "{s:?}");
            }
            assert_eq!(number(s).map(f64::to_bits), std.map(f64::to_bits), "{s:?}");
        }
        assert!(
            fast > 300_000,
            "the fast path took {fast} of {}",
            cases.len()
        );
    }
}

//! `pdq_key_hash(a, b, …) -> UInt64`: a fixed, seedless 64-bit code of a
//! record key, NULL when any part is NULL.
//!
//! The engine groups keys by this code first (a primitive group-by, far
//! cheaper than grouping ten million strings). The code is one of two kinds,
//! told apart by its top bit ([`HASHED`]):
//!
//! - **exact** (top bit clear): a key of one text column whose value has a
//!   common short shape — an 18-character resident ID number, a string of at
//!   most 18 digits, any value of at most 7 bytes — is numbered one-to-one
//!   ([`exact_code`]). Two such keys are equal exactly when their codes are.
//! - **hashed** (top bit set): every other key is hashed. The few keys whose
//!   hash repeats are then compared exactly, so a collision can never turn
//!   into a false duplicate.
//!
//! The code is stable across runs and machines.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, UInt64Array};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use super::for_each_str;

/// `pdq_key_hash`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct KeyHashFunc {
    signature: Signature,
}

impl KeyHashFunc {
    pub fn new() -> Self {
        KeyHashFunc {
            signature: Signature::variadic_any(Volatility::Immutable),
        }
    }
}

const K: u64 = 0x9E37_79B9_7F4A_7C15;

#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Eight bytes at `i`, little-endian (`b` has at least `i + 8` bytes).
#[inline(always)]
fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// Four bytes at `i`, little-endian (`b` has at least `i + 4` bytes).
#[inline(always)]
fn half(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[i..i + 4]);
    u32::from_le_bytes(w) as u64
}

#[inline(always)]
fn round(h: u64, w: u64) -> u64 {
    (h ^ w).wrapping_mul(K).rotate_left(29)
}

/// Hashes bytes 8 at a time, folding in the length so that key parts cannot
/// run into each other.
///
/// Every read has a fixed width: the last word overlaps the one before it
/// when the length is not a multiple of 8, and shorter values are read as
/// two overlapping halves (or three single bytes). For a given length the
/// words cover every byte, so equal lengths with different bytes differ in
/// some word. (Copying a variable-length tail into a buffer cost a call and a
/// stalled load per value: 40% of this function.)
#[inline]
pub(crate) fn hash_bytes(seed: u64, b: &[u8]) -> u64 {
    let len = b.len();
    let mut h = seed ^ (len as u64).wrapping_mul(K);
    if len >= 8 {
        let mut i = 0;
        while i + 8 < len {
            h = round(h, word(b, i));
            i += 8;
        }
        h = round(h, word(b, len - 8));
    } else if len >= 4 {
        h = round(h, half(b, 0) | (half(b, len - 4) << 32));
    } else if len > 0 {
        let w = b[0] as u64 | (b[len / 2] as u64) << 8 | (b[len - 1] as u64) << 16;
        h = round(h, w);
    }
    mix(h)
}

/// The top bit of a key code: set for a hash, clear for an exact code.
pub const HASHED: u64 = 1 << 63;

/// Whether a key code is exact (equal codes mean equal keys).
#[inline]
pub fn is_exact(code: u64) -> bool {
    code & HASHED == 0
}

/// Codes of the shapes: resident IDs from 0, digit strings from
/// [`DIGITS_BASE`], short values from [`SHORT_BASE`]; the ranges are disjoint
/// and all below [`HASHED`].
const ID_SPACE: u64 = 12 * 100_000_000_000_000_000; // 10^17 bodies × 12 last characters
const DIGITS_BASE: u64 = ID_SPACE;
/// Digit strings of lengths 1..=18: 10 + 100 + … + 10^18 codes.
const DIGITS_SPACE: u64 = 1_111_111_111_111_111_110;
const SHORT_BASE: u64 = DIGITS_BASE + DIGITS_SPACE;
/// `DIGITS_OFFSET[n]`: codes used by digit strings shorter than `n`.
const DIGITS_OFFSET: [u64; 19] = {
    let mut t = [0u64; 19];
    let mut n = 2;
    let mut p = 10u64;
    while n < 19 {
        t[n] = t[n - 1] + p;
        p *= 10;
        n += 1;
    }
    t
};
/// `SHORT_OFFSET[n]`: codes used by values shorter than `n` bytes (256^k each).
const SHORT_OFFSET: [u64; 8] = {
    let mut t = [0u64; 8];
    let mut n = 1;
    while n < 8 {
        t[n] = t[n - 1] + (1u64 << (8 * (n - 1)));
        n += 1;
    }
    t
};
const _: () = assert!(SHORT_BASE + SHORT_OFFSET[7] + (1u64 << 56) <= HASHED);

/// The exact code of a text key, when its value has one of the shapes,
/// checked in this order (so each value has one shape):
///
/// 1. 18 bytes: 17 ASCII digits and a digit, `X` or `x` (a resident ID
///    number, or any 18-digit string);
/// 2. 1 to 18 ASCII digits (leading zeros count: `007` is not `7`);
/// 3. at most 7 bytes of anything.
///
/// ```
/// use quality_rules::udfs::{exact_code, is_exact};
/// let a = exact_code(b"11010519491231002X").unwrap();
/// assert!(is_exact(a));
/// assert_ne!(Some(a), exact_code(b"11010519491231002x"));
/// assert_ne!(exact_code(b"007"), exact_code(b"7"));
/// assert_eq!(exact_code(b"91350100M000100Y43"), None); // a USCC is hashed
/// ```
pub fn exact_code(b: &[u8]) -> Option<u64> {
    let len = b.len();
    if len == 18
        && let Some(body) = digits_value(&b[..17])
    {
        let last = match b[17] {
            c @ b'0'..=b'9' => u64::from(c - b'0'),
            b'X' => 10,
            b'x' => 11,
            // 18 bytes fit no other shape.
            _ => return None,
        };
        return Some(body * 12 + last);
    }
    if (1..=18).contains(&len)
        && let Some(v) = digits_value(b)
    {
        return Some(DIGITS_BASE + DIGITS_OFFSET[len] + v);
    }
    short_code(b)
}

/// The value of ASCII digits (at most 19), or None when a byte is not a digit.
///
/// Eight digits at a time, in a word (SWAR): a digit-by-digit loop is a chain
/// of 17 dependent multiplications for an ID number, which made this code
/// cost more than the hash it replaces.
#[inline]
fn digits_value(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        v = v * 100_000_000 + eight_digits(word(c, 0))?;
    }
    for &c in chunks.remainder() {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u64::from(d);
    }
    Some(v)
}

/// The value of eight ASCII digits read little-endian (the first digit in
/// the low byte), or None when one is not a digit (simdjson's method).
#[inline]
fn eight_digits(w: u64) -> Option<u64> {
    const HIGH: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    // Every byte is 0x30..=0x3F, and still 0x3_ after adding 6: 0x30..=0x39.
    if w & HIGH != ZEROS || w.wrapping_add(0x0606_0606_0606_0606) & HIGH != ZEROS {
        return None;
    }
    let d = w - ZEROS;
    // Pairs, then quads, then the eight digits.
    let d = d.wrapping_mul(10).wrapping_add(d >> 8);
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    let d = ((d & MASK)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((d >> 16) & MASK).wrapping_mul(1 + (10_000 << 32))))
        >> 32;
    Some(d)
}

/// Shape 3: a value of at most 7 bytes.
#[inline]
fn short_code(b: &[u8]) -> Option<u64> {
    if b.len() > 7 {
        return None;
    }
    let mut w = [0u8; 8];
    w[..b.len()].copy_from_slice(b);
    Some(SHORT_BASE + SHORT_OFFSET[b.len()] + u64::from_le_bytes(w))
}

impl ScalarUDFImpl for KeyHashFunc {
    fn name(&self) -> &str {
        "pdq_key_hash"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::UInt64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        // One text column: exact codes where the value has a shape.
        if let [arg] = args.args.as_slice()
            && matches!(
                arg.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            )
        {
            let array = arg.to_array(n)?;
            let mut codes = Vec::with_capacity(n);
            for_each_str(&array, |v| {
                codes.push(match v {
                    Some(v) => exact_code(v.as_bytes())
                        .unwrap_or_else(|| hash_bytes(0, v.as_bytes()) | HASHED),
                    None => 0,
                })
            })?;
            let out: ArrayRef = Arc::new(UInt64Array::new(codes.into(), array.nulls().cloned()));
            return Ok(ColumnarValue::Array(out));
        }
        let mut hashes = vec![0u64; n];
        let mut nulls: Option<NullBuffer> = None;
        for arg in &args.args {
            let mut array = arg.to_array(n)?;
            if !matches!(
                array.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) {
                array = cast(&array, &DataType::Utf8)?;
            }
            let mut i = 0;
            for_each_str(&array, |v| {
                if let Some(v) = v {
                    hashes[i] = hash_bytes(hashes[i], v.as_bytes());
                }
                i += 1;
            })?;
            nulls = NullBuffer::union(nulls.as_ref(), array.nulls());
        }
        for h in &mut hashes {
            *h |= HASHED;
        }
        let out: ArrayRef = Arc::new(UInt64Array::new(hashes.into(), nulls));
        Ok(ColumnarValue::Array(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_do_not_run_together_and_values_differ() {
        let ab_c = hash_bytes(hash_bytes(0, b"ab"), b"c");
        let a_bc = hash_bytes(hash_bytes(0, b"a"), b"bc");
        assert_ne!(ab_c, a_bc);
        assert_ne!(
            hash_bytes(0, b"11010519491231002X"),
            hash_bytes(0, b"11010519491231002x")
        );
        assert_eq!(hash_bytes(0, b"same"), hash_bytes(0, b"same"));
    }

    #[test]
    fn exact_codes_are_one_to_one_and_their_shapes_disjoint() {
        let mut values: Vec<Vec<u8>> = vec![];
        // Resident IDs and 18-digit strings, all twelve last characters.
        for last in b"0123456789Xx" {
            let mut v = b"11010519491231002".to_vec();
            v.push(*last);
            values.push(v);
        }
        values.push(b"000000000000000000".to_vec());
        values.push(b"999999999999999999".to_vec());
        values.push(b"99999999999999999x".to_vec());
        // Digit strings of every length, with and without leading zeros.
        for len in 1..=18 {
            values.push(vec![b'0'; len]);
            values.push(vec![b'9'; len]);
            let mut v = vec![b'0'; len];
            v[len - 1] = b'1';
            values.push(v);
        }
        // Short values of every length up to 7, including bytes 0 and 255
        // and digit-like ones that are not all digits.
        for len in 0..=7 {
            values.push(vec![0u8; len]);
            values.push(vec![255u8; len]);
            values.push(b"1234567"[..len].to_vec());
            values.push(b"1 2 3 4"[..len].to_vec());
            values.push("张三".as_bytes()[..len.min(6)].to_vec());
        }
        values.sort();
        values.dedup();
        let mut codes = std::collections::HashMap::new();
        for v in &values {
            let c = exact_code(v).unwrap_or_else(|| panic!("{v:?} has no exact code"));
            assert!(is_exact(c), "{v:?}");
            if let Some(other) = codes.insert(c, v.clone()) {
                panic!("{v:?} and {other:?} share the code {c}");
            }
        }
        // Other shapes are hashed.
        for v in [
            &b"91350100M000100Y43"[..],
            b"11010519491231002Y",
            b"1101051949123100 2X",
            b"1234567890123456789",
            b"1234567a",
            "张三丰".as_bytes(),
        ] {
            assert_eq!(exact_code(v), None, "{v:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn digits_are_read_as_their_number(s in "[0-9]{1,19}", at in 0usize..40, byte in 0u8..=255) {
            let naive = s.bytes().fold(0u64, |v, c| v * 10 + u64::from(c - b'0'));
            proptest::prop_assert_eq!(digits_value(s.as_bytes()), Some(naive));
            // Any one byte that is not a digit spoils it.
            if !byte.is_ascii_digit() {
                let mut bad = s.clone().into_bytes();
                let at = at % bad.len();
                bad[at] = byte;
                proptest::prop_assert_eq!(digits_value(&bad), None);
            }
        }
    }

    #[test]
    fn every_byte_of_every_length_counts() {
        // For each length up to 40, changing any one byte changes the hash
        // (the overlapping reads must still cover every position).
        for len in 0..40usize {
            let base: Vec<u8> = (0..len as u8).map(|i| b'a' + i % 26).collect();
            let h = hash_bytes(0, &base);
            for i in 0..len {
                let mut other = base.clone();
                other[i] ^= 0x01;
                assert_ne!(hash_bytes(0, &other), h, "length {len}, byte {i}");
            }
            let mut longer = base.clone();
            longer.push(0);
            assert_ne!(hash_bytes(0, &longer), h, "length {len} vs {}", len + 1);
        }
    }

    #[test]
    fn distinct_id_numbers_do_not_collide() {
        // 18-character keys differing only in their last characters (the
        // overlapping tail word) and their first (the first word).
        let mut seen = std::collections::HashSet::new();
        for n in 0..200_000u64 {
            let id = format!("{:06}19900101{:03}{}", n % 1000, n / 1000 % 1000, n % 11);
            assert!(seen.insert(hash_bytes(0, id.as_bytes())), "{id}");
        }
    }
}

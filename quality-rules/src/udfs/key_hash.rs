//! `pdq_key_hash(a, b, …) -> UInt64`: a fixed, seedless 64-bit hash of a
//! record key, NULL when any part is NULL.
//!
//! The engine groups keys by this hash first (a primitive group-by, far
//! cheaper than grouping ten million strings) and then compares the few
//! candidate keys whose hash repeats exactly, so a collision can never turn
//! into a false duplicate. The hash is stable across runs and machines.

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

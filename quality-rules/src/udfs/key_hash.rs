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

/// Hashes bytes 8 at a time, folding in the length so that key parts cannot
/// run into each other.
#[inline]
pub(crate) fn hash_bytes(seed: u64, b: &[u8]) -> u64 {
    let mut h = seed ^ (b.len() as u64).wrapping_mul(K);
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = (h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
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
}

//! Content hashes of deliveries whose rows are a multiset: a database
//! query's rows and an API's records, which a server may return in another
//! order from one run to the next, wrapped (APIs) in an envelope that
//! changes on every call (a server time, a request id). An unchanged
//! snapshot must be recognised whatever its order and envelope, and a row
//! more, less or changed must change the hash.

use sha2::{Digest, Sha256};

/// One row's hash: its values in column order, each ended by 0x1F, NULL
/// (`None`) written as `"\0NULL"`, so that NULL is not the empty string and
/// values do not run together.
pub(crate) fn row_hash<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> [u8; 32] {
    let mut h = Sha256::new();
    for v in values {
        h.update(v.unwrap_or("\u{0}NULL").as_bytes());
        h.update(b"\x1f");
    }
    h.finalize().into()
}

/// An additive multiset hash: the sum of the rows' SHA-256 values modulo
/// 2^256 and their count, hashed once more at the end. The order of `add`
/// calls does not change the result; the rows added do.
#[derive(Default)]
pub(crate) struct MultisetDigest {
    /// Little-endian 64-bit limbs of the running sum.
    sum: [u64; 4],
    rows: u64,
}

impl MultisetDigest {
    pub(crate) fn add(&mut self, row: &[u8; 32]) {
        let mut carry = false;
        for (i, limb) in self.sum.iter_mut().enumerate() {
            // The row hash read as a little-endian 256-bit number.
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&row[i * 8..i * 8 + 8]);
            let part = u64::from_le_bytes(bytes);
            let (s, c1) = limb.overflowing_add(part);
            let (s, c2) = s.overflowing_add(carry as u64);
            *limb = s;
            carry = c1 || c2;
        }
        self.rows += 1;
    }

    pub(crate) fn finish(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"pdq rows multiset v1\x1e");
        for limb in self.sum {
            h.update(limb.to_le_bytes());
        }
        h.update(self.rows.to_le_bytes());
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sum_carries_across_limbs() {
        let mut d = MultisetDigest::default();
        d.add(&[0xff; 32]);
        d.add(&{
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        });
        assert_eq!(d.sum, [0, 0, 0, 0], "2^256 - 1 + 1 wraps to zero");
        assert_eq!(d.rows, 2);
    }

    #[test]
    fn rows_in_any_order_have_one_hash() {
        let rows = [
            row_hash([Some("1"), Some("张三")]),
            row_hash([Some("2"), None]),
            row_hash([Some("3"), Some("")]),
        ];
        let of = |order: &[usize]| {
            let mut d = MultisetDigest::default();
            for &i in order {
                d.add(&rows[i]);
            }
            d.finish()
        };
        assert_eq!(of(&[0, 1, 2]), of(&[2, 0, 1]));
        assert_ne!(of(&[0, 1, 2]), of(&[0, 1]));
        assert_ne!(of(&[0, 1]), of(&[0, 1, 1]));
        assert_ne!(row_hash([Some("2"), None]), row_hash([Some("2"), Some("")]));
        assert_ne!(
            row_hash([Some("1a"), Some("")]),
            row_hash([Some("1"), Some("a")])
        );
    }
}

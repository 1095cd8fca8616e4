//! Match weights of candidate pairs: the pattern's weight at each field's
//! average u, plus, for a term-frequency field agreed exactly, the
//! adjustment `log2(u / tf(v))` that turns its weight into `log2(m / tf(v))`.

use std::collections::HashMap;

use super::blocking::joined;
use super::config::FieldSpec;
use super::frequency::TermFrequencies;
use super::{FieldEvidence, MISSING, Pattern, level_of};

/// Everything a pair's weight needs, shared by the scoring threads.
pub(super) struct Weigh<'a> {
    /// Weight per distinct pattern at the average u.
    pub(super) table: &'a HashMap<Pattern, f64>,
    /// Term frequencies.
    pub(super) tf: &'a TermFrequencies,
    /// m per field and level.
    pub(super) m: &'a [Vec<f64>],
    /// u per field and level.
    pub(super) u: &'a [Vec<f64>],
    /// log2 of the prior odds λ / (1 − λ).
    pub(super) prior: f64,
}

/// A pair at or above the threshold: probability, weight, pair, pattern.
pub(super) type Accepted = (f64, f64, u64, Pattern);

impl Weigh<'_> {
    /// The term-frequency adjustment of field `f` for record `a` at level
    /// `l`: non-zero only on an exact agreement of an adjusted field.
    #[inline]
    fn adjustment(&self, f: usize, a: usize, l: u8) -> f64 {
        if l != 0 {
            return 0.0;
        }
        self.tf
            .frequency(f, a)
            .map_or(0.0, |t| (self.u[f][0] / t).log2())
    }

    /// Weight of pair (`a`, `b`) with pattern `p` (the records agree exactly
    /// wherever the level is 0, so `a`'s value frequency is the pair's).
    fn weight(&self, a: usize, p: Pattern) -> f64 {
        let mut w = self.table.get(&p).copied().unwrap_or(0.0);
        for f in 0..self.m.len() {
            if self.tf.adjusts(f) {
                w += self.adjustment(f, a, level_of(p, f));
            }
        }
        w
    }

    /// Posterior match probability of a weight (never NaN: very large or
    /// small weights saturate at 1 or 0).
    fn probability(&self, w: f64) -> f64 {
        1.0 / (1.0 + (-(w + self.prior)).exp2())
    }

    /// The pairs at or above `threshold`, scored in parallel.
    pub(super) fn accepted(
        &self,
        pairs: &[u64],
        patterns: &[Pattern],
        threshold: f64,
        threads: usize,
    ) -> Vec<Accepted> {
        let chunk = pairs.len().div_ceil(threads.max(1)).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = pairs
                .chunks(chunk)
                .zip(patterns.chunks(chunk))
                .map(|(ps, pats)| {
                    s.spawn(move || {
                        ps.iter()
                            .zip(pats)
                            .filter_map(|(&pair, &p)| {
                                let w = self.weight((pair >> 32) as usize, p);
                                let prob = self.probability(w);
                                (prob >= threshold).then_some((prob, w, pair, p))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(joined).collect()
        })
    }

    /// Field `f`'s part of the evidence for a pair whose first record is `a`.
    pub(super) fn field(&self, f: usize, spec: &FieldSpec, a: usize, p: Pattern) -> FieldEvidence {
        let l = level_of(p, f);
        if l == MISSING {
            return FieldEvidence {
                field: spec.name.clone(),
                level: "missing".into(),
                weight: 0.0,
            };
        }
        let base = (self.m[f][l as usize] / self.u[f][l as usize]).log2();
        let level = match (l, self.tf.frequency(f, a)) {
            (0, Some(t)) => format!(
                "{} (value frequency {t:.2e})",
                spec.comparison.level_name(l)
            ),
            _ => spec.comparison.level_name(l),
        };
        FieldEvidence {
            field: spec.name.clone(),
            level,
            weight: base + self.adjustment(f, a, l),
        }
    }
}

//! Fellegi–Sunter parameters: u from random pairs, m from pairs sharing a
//! valid key or by EM over the candidate pairs' comparison patterns.

use std::collections::HashMap;

use super::blocking::joined;
use super::config::MatchConfig;
use super::records::Records;
use super::{MISSING, Pattern, level_of, pattern_of};

/// xorshift64*: a reproducible sampler, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

pub(super) fn estimate_u(records: &Records, config: &MatchConfig, threads: usize) -> Vec<Vec<f64>> {
    let n = records.len() as u64;
    let mut counts: Vec<Vec<f64>> = config
        .fields
        .iter()
        .map(|f| vec![1.0; f.comparison.levels()])
        .collect();
    if n >= 2 {
        let per = config.u_sample.div_ceil(threads.max(1));
        let partial: Vec<Vec<Vec<f64>>> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..threads.max(1))
                .map(|t| {
                    s.spawn(move || {
                        let mut rng =
                            Rng(config.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (t as u64 + 1));
                        let mut c: Vec<Vec<f64>> = config
                            .fields
                            .iter()
                            .map(|f| vec![0.0; f.comparison.levels()])
                            .collect();
                        for _ in 0..per {
                            let a = (rng.next() % n) as usize;
                            let b = (rng.next() % n) as usize;
                            if a == b
                                || (config.link_only && records.source[a] == records.source[b])
                            {
                                continue;
                            }
                            let p = pattern_of(records, config, a, b);
                            for (f, cf) in c.iter_mut().enumerate() {
                                let l = level_of(p, f);
                                if l != MISSING {
                                    cf[l as usize] += 1.0;
                                }
                            }
                        }
                        c
                    })
                })
                .collect();
            hs.into_iter().map(joined).collect()
        });
        for c in partial {
            for (f, cf) in c.into_iter().enumerate() {
                for (l, v) in cf.into_iter().enumerate() {
                    counts[f][l] += v;
                }
            }
        }
    }
    counts
        .into_iter()
        .map(|c| {
            let t: f64 = c.iter().sum();
            c.into_iter().map(|v| v / t).collect()
        })
        .collect()
}

/// Up to 200,000 pairs of records that share a valid key (every group
/// contributes its consecutive pairs; large inputs are thinned evenly).
pub(super) fn labelled_pairs(keyed: &[(u128, u32)], seed: u64) -> Vec<(u32, u32)> {
    const CAP: usize = 200_000;
    let all: usize = keyed.windows(2).filter(|w| w[0].0 == w[1].0).count();
    let step = all.div_ceil(CAP).max(1);
    let mut rng = Rng(seed | 1);
    let offset = (rng.next() % step as u64) as usize;
    keyed
        .windows(2)
        .filter(|w| w[0].0 == w[1].0)
        .skip(offset)
        .step_by(step)
        .map(|w| (w[0].1, w[1].1))
        .collect()
}

/// m per field from labelled matches (fields with a fixed m keep it).
pub(super) fn m_from_labelled(config: &MatchConfig, patterns: &[Pattern]) -> Vec<Vec<f64>> {
    config
        .fields
        .iter()
        .enumerate()
        .map(|(f, spec)| {
            if let Some(m) = &spec.m {
                return m.clone();
            }
            // add-one smoothing keeps every level possible
            let mut c = vec![1.0; spec.comparison.levels()];
            for &p in patterns {
                let l = level_of(p, f);
                if l != MISSING {
                    c[l as usize] += 1.0;
                }
            }
            let t: f64 = c.iter().sum();
            c.into_iter().map(|v| v / t).collect()
        })
        .collect()
}

fn initial_m(levels: usize) -> Vec<f64> {
    if levels == 2 {
        return vec![0.95, 0.05];
    }
    let mid = 0.15 / (levels - 2) as f64;
    let mut m = vec![mid; levels];
    m[0] = 0.8;
    m[levels - 1] = 0.05;
    m
}

/// Pairs resolution could compare: every pair (across sources only when
/// linking) less the pairs of two keyed records, which the exact stage
/// decides. The denominator of the prior λ when EM estimates it.
pub(super) fn comparable_pairs(records: &Records, link_only: bool) -> f64 {
    let pairs = |per_source: &HashMap<u32, f64>| -> f64 {
        let total: f64 = per_source.values().sum();
        if link_only {
            let squares: f64 = per_source.values().map(|n| n * n).sum();
            (total * total - squares) / 2.0
        } else {
            total * (total - 1.0) / 2.0
        }
    };
    let mut all: HashMap<u32, f64> = HashMap::new();
    let mut keyed: HashMap<u32, f64> = HashMap::new();
    for (&s, &k) in records.source.iter().zip(&records.key) {
        *all.entry(s).or_default() += 1.0;
        if k != 0 {
            *keyed.entry(s).or_default() += 1.0;
        }
    }
    (pairs(&all) - pairs(&keyed)).max(0.0)
}

/// m and λ by EM over the candidate pairs' full comparison patterns, with u
/// held at its random-pair estimate and λ the share of matches among all
/// `comparable` pairs (pairs blocking never produced count as non-matches).
///
/// Why not EM within the blocks with its own λ (as before): inside a block
/// on name + birth year, strangers agree on the birth date 66 times more
/// often than random pairs do, and a free λ and u absorb that: EM read
/// birth-date agreement among namesakes as a match and fuzzy-only precision
/// fell to 0.969. Holding u at its value among random pairs (Splink also
/// never re-estimates u in EM) and scoring each candidate against the prior
/// of a *random* pair makes a blocked pair's posterior the same as if every
/// pair had been compared: blocking only decides which pairs are looked at,
/// never how much their agreement weighs. The blocking fields then keep
/// their full weight (no masking), since u says how often random strangers
/// agree on them.
pub(super) fn estimate_m(
    config: &MatchConfig,
    counts: &HashMap<Pattern, u64>,
    u: &[Vec<f64>],
    comparable: f64,
) -> (Vec<Vec<f64>>, f64) {
    let mut m: Vec<Vec<f64>> = config
        .fields
        .iter()
        .map(|f| {
            f.m.clone()
                .unwrap_or_else(|| initial_m(f.comparison.levels()))
        })
        .collect();
    let total: f64 = counts.values().map(|&c| c as f64).sum();
    if total == 0.0 || comparable < 1.0 {
        return (m, 0.05);
    }
    // Start as if a tenth of the candidates matched.
    let mut lambda = (0.1 * total / comparable).clamp(1e-12, 0.5);
    let patterns: Vec<(Pattern, f64)> = counts.iter().map(|(&p, &c)| (p, c as f64)).collect();
    for _ in 0..config.em_iterations {
        let mut acc: Vec<Vec<f64>> = m.iter().map(|l| vec![1e-6; l.len()]).collect();
        let mut sum_g = 0.0;
        for &(p, c) in &patterns {
            // odds of a match as a log2 sum: products of 15 small u underflow
            let mut w = (lambda / (1.0 - lambda)).log2();
            for f in 0..m.len() {
                let l = level_of(p, f);
                if l != MISSING {
                    w += (m[f][l as usize] / u[f][l as usize]).log2();
                }
            }
            let g = 1.0 / (1.0 + (-w).exp2());
            sum_g += c * g;
            for (f, af) in acc.iter_mut().enumerate() {
                let l = level_of(p, f);
                if l != MISSING {
                    af[l as usize] += c * g;
                }
            }
        }
        lambda = (sum_g / comparable).clamp(1e-12, 0.5);
        for (f, spec) in config.fields.iter().enumerate() {
            if spec.m.is_some() {
                continue;
            }
            let t: f64 = acc[f].iter().sum();
            m[f] = acc[f].iter().map(|v| v / t).collect();
        }
    }
    (m, lambda)
}

//! Blocking: the candidate pairs, from hashes of field prefixes per pass.

use super::config::{MatchConfig, Pass};
use super::records::Records;
use crate::onesource::OneSourceError;

/// The candidate pairs blocking produces, each `a << 32 | b` with `a < b`,
/// sorted (for measuring blocking recall and reduction).
pub fn candidate_pairs(
    records: &Records,
    config: &MatchConfig,
) -> Result<Vec<u64>, OneSourceError> {
    let passes = config.validate()?;
    Ok(candidate_pairs_inner(records, config, &passes).0)
}

pub(crate) fn threads(config: &MatchConfig) -> usize {
    if config.threads > 0 {
        config.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// A worker's result. A worker that panicked panics here too, as
/// `std::thread::scope` does for handles nobody joined: dropping its part
/// (`join().ok()`) would lose pairs, counts or frequencies without a word.
pub(crate) fn joined<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// FNV-1a, 64 bits: block keys only need to spread, not resist attack.
#[inline]
pub(super) fn fnv(h: u64, bytes: &[u8]) -> u64 {
    let mut h = h;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

pub(super) fn block_hash(
    records: &Records,
    i: usize,
    pass: &[(usize, Option<usize>)],
) -> Option<u64> {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &(f, prefix) in pass {
        let v = records.fields[f].get(i);
        if v.is_empty() {
            return None;
        }
        let v = match prefix {
            Some(p) => v.char_indices().nth(p).map_or(v, |(at, _)| &v[..at]),
            None => v,
        };
        h = fnv(h, v.as_bytes());
        h = fnv(h, &[0xff]);
    }
    Some(h)
}

pub(super) fn candidate_pairs_inner(
    records: &Records,
    config: &MatchConfig,
    passes: &[Pass],
) -> (Vec<u64>, usize) {
    // Passes are independent: each worker takes every `workers`-th pass and
    // returns its pairs sorted and deduplicated; the union is sorted again
    // (a stable sort merges the sorted runs in linear time) and
    // deduplicated, so the result does not depend on the number of workers.
    let workers = threads(config).min(passes.len()).max(1);
    if workers == 1 {
        return pass_pairs(records, config, passes.iter());
    }
    let parts: Vec<(Vec<u64>, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                s.spawn(move || pass_pairs(records, config, passes.iter().skip(w).step_by(workers)))
            })
            .collect();
        handles.into_iter().map(joined).collect()
    });
    let mut oversize = 0;
    let mut pairs = Vec::with_capacity(parts.iter().map(|(p, _)| p.len()).sum());
    for (p, o) in parts {
        pairs.extend_from_slice(&p);
        oversize += o;
    }
    pairs.sort();
    pairs.dedup();
    (pairs, oversize)
}

/// The candidate pairs of some passes, sorted and deduplicated, and the
/// number of blocks skipped as too large.
fn pass_pairs<'a>(
    records: &Records,
    config: &MatchConfig,
    passes: impl Iterator<Item = &'a Pass>,
) -> (Vec<u64>, usize) {
    let n = records.len();
    let any_keys = records.key.iter().any(|&k| k != 0);
    let mut pairs: Vec<u64> = Vec::new();
    let mut oversize = 0;
    let mut entries: Vec<(u64, u32)> = Vec::with_capacity(n);
    let mut open: Vec<u32> = Vec::new();
    let mut closed: Vec<u32> = Vec::new();
    for pass in passes {
        entries.clear();
        entries.extend((0..n).filter_map(|i| block_hash(records, i, pass).map(|h| (h, i as u32))));
        entries.sort_unstable();
        for group in entries.chunk_by(|a, b| a.0 == b.0) {
            if group.len() < 2 {
                continue;
            }
            open.clear();
            closed.clear();
            for &(_, i) in group {
                if any_keys && records.key[i as usize] != 0 {
                    closed.push(i);
                } else {
                    open.push(i);
                }
            }
            if open.is_empty() {
                continue;
            }
            if group.len() > config.max_block {
                oversize += 1;
                continue;
            }
            let mut emit = |a: u32, b: u32| {
                if config.link_only && records.source[a as usize] == records.source[b as usize] {
                    return;
                }
                let (a, b) = if a < b { (a, b) } else { (b, a) };
                pairs.push(u64::from(a) << 32 | u64::from(b));
            };
            for (x, &a) in open.iter().enumerate() {
                for &b in &open[x + 1..] {
                    emit(a, b);
                }
                for &b in &closed {
                    emit(a, b);
                }
            }
        }
        // Keep memory bounded across passes.
        pairs.sort_unstable();
        pairs.dedup();
    }
    (pairs, oversize)
}

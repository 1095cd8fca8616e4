//! Entity resolution: which records, across every department's datasets, are
//! the same person (or organisation).
//!
//! ```text
//! records ──▶ exact stage: union records whose normalised key is equal
//!         ──▶ blocking: several passes, each a hash of field prefixes;
//!             pairs only inside a block, at least one side without a valid key
//!             (two different valid keys are two subjects, never compared)
//!         ──▶ comparison vectors: one level per field (exact / similar / …)
//!         ──▶ Fellegi–Sunter: u from random pairs, m from pairs sharing a
//!             valid key or by EM with u fixed (or fixed in the
//!             configuration); names and addresses weighed by how common
//!             the agreed value is among these records (term frequencies)
//!         ──▶ pairs whose match probability ≥ threshold, strongest first,
//!             unioned unless that would join two different valid keys
//!         ──▶ clusters + evidence for every accepted pair
//! ```
//!
//! Work is linear in the records plus the candidate pairs: no stage compares
//! all pairs. Blocks larger than `max_block` are skipped (and counted) rather
//! than compared quadratically; other passes still reach their members.

mod blocking;
mod config;
mod estimate;
mod frequency;
mod records;
mod union_find;
mod weigh;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::OneSourceError;
use blocking::candidate_pairs_inner;
pub(crate) use blocking::{joined, threads};
use estimate::{comparable_pairs, estimate_m, estimate_u, labelled_pairs, m_from_labelled};
use frequency::TermFrequencies;
use union_find::UnionFind;
use weigh::Weigh;

pub use blocking::candidate_pairs;
pub use config::{BlockKey, Comparison, FieldSpec, MatchConfig, Prepare, TermFrequency};
pub use records::{Records, StrColumn};

/// Why two records were joined.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchEvidence {
    /// One record (index into [`Records`]).
    pub a: u32,
    /// The other.
    pub b: u32,
    /// Posterior match probability.
    pub probability: f64,
    /// Match weight: log2 Bayes factor summed over fields.
    pub weight: f64,
    /// Per field: its name, level name and partial weight (missing: weight 0).
    pub fields: Vec<FieldEvidence>,
}

/// One field's contribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldEvidence {
    /// Field name.
    pub field: String,
    /// Level name (`exact`, `jaro_winkler≥0.92`, `missing` …).
    pub level: String,
    /// log2(m/u).
    pub weight: f64,
}

impl MatchEvidence {
    /// One line: `p=0.998 w=14.2: name exact (+8.1), birth_date one typo (+3.0), …`.
    pub fn explain(&self) -> String {
        let parts: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("{} {} ({:+.1})", f.field, f.level, f.weight))
            .collect();
        format!(
            "p={:.4} w={:.1}: {}",
            self.probability,
            self.weight,
            parts.join(", ")
        )
    }
}

/// Counts from one resolution.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ResolveStats {
    /// Records in.
    pub records: usize,
    /// Records with a valid key.
    pub keyed: usize,
    /// Distinct valid keys.
    pub distinct_keys: usize,
    /// Candidate pairs after blocking (deduplicated).
    pub candidate_pairs: usize,
    /// Blocks skipped for exceeding `max_block`.
    pub oversize_blocks: usize,
    /// Pairs at or above the threshold.
    pub matched_pairs: usize,
    /// Of those, pairs not joined because both sides had different valid keys.
    pub key_conflicts: usize,
    /// Clusters out.
    pub clusters: usize,
    /// The prior: the chance that two random comparable records match,
    /// estimated by EM (share of matches among all comparable pairs, not
    /// among the blocked ones) or from the records sharing a valid key.
    pub lambda: f64,
    /// Where m came from: `keys` (pairs sharing a valid key) or `em`.
    pub m_source: String,
    /// m per field and level.
    pub m: Vec<Vec<f64>>,
    /// u per field and level.
    pub u: Vec<Vec<f64>>,
}

/// The result: a cluster id per record and evidence for every probabilistic link.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// Dense cluster id of each record.
    pub cluster: Vec<u32>,
    /// The probabilistic links that joined two clusters, strongest first
    /// (exact-key links and matches inside an already joined cluster have no
    /// entry).
    pub evidence: Vec<MatchEvidence>,
    /// Counts.
    pub stats: ResolveStats,
}

const MISSING: u8 = 15;

/// Packs one level per field (4 bits each).
type Pattern = u64;

#[inline]
fn level_of(p: Pattern, f: usize) -> u8 {
    ((p >> (4 * f)) & 0xf) as u8
}

/// Runs resolution over `records`.
pub fn resolve(records: &Records, config: &MatchConfig) -> Result<Resolution, OneSourceError> {
    let passes = config.validate()?;
    let n = records.len();
    if n > u32::MAX as usize - 1 {
        return Err(OneSourceError::Config(format!(
            "{n} records exceed 2^32 - 1"
        )));
    }
    let mut stats = ResolveStats {
        records: n,
        ..Default::default()
    };
    let mut uf = UnionFind::new(&records.key);

    // Exact stage.
    let mut keyed: Vec<(u128, u32)> = (0..n)
        .filter(|&i| records.key[i] != 0)
        .map(|i| (records.key[i], i as u32))
        .collect();
    stats.keyed = keyed.len();
    keyed.sort_unstable();
    for w in keyed.windows(2) {
        if w[0].0 == w[1].0 {
            uf.union(w[0].1, w[1].1);
        }
    }
    stats.distinct_keys = keyed.chunk_by(|a, b| a.0 == b.0).count();
    // Records sharing a valid key are known matches: labelled pairs.
    let key_pairs = labelled_pairs(&keyed, config.seed);
    let same_key_pairs: f64 = keyed
        .chunk_by(|a, b| a.0 == b.0)
        .map(|g| (g.len() * (g.len() - 1) / 2) as f64)
        .sum();
    let keyed_total = keyed.len() as f64 * (keyed.len() as f64 - 1.0) / 2.0;
    drop(keyed);

    // Term frequencies of the names and addresses, from these very records.
    let tf = TermFrequencies::count(records, config);

    // Blocking.
    let (pairs, oversize) = candidate_pairs_inner(records, config, &passes);
    stats.candidate_pairs = pairs.len();
    stats.oversize_blocks = oversize;

    // Comparison vectors, in parallel.
    let threads = threads(config);
    let patterns = compare_pairs(records, config, &pairs, threads);
    let use_keys = key_pairs.len() >= config.min_key_pairs && keyed_total > 0.0;

    // u from random pairs.
    let u = estimate_u(records, config, threads);
    let mut counts: HashMap<Pattern, u64> = HashMap::new();
    for &p in &patterns {
        *counts.entry(p).or_default() += 1;
    }
    // With enough labelled pairs, m comes from them and λ is the chance that
    // two random keyed records match; otherwise m and λ come from EM over
    // the candidate pairs' full patterns with u held at its random-pair
    // value and λ the share of matches among *all* comparable pairs (see
    // `estimate_m` for why not among the blocked ones).
    let (m, lambda) = if use_keys {
        stats.m_source = "keys".into();
        let lp: Vec<Pattern> = key_pairs
            .iter()
            .map(|&(a, b)| pattern_of(records, config, a as usize, b as usize))
            .collect();
        (
            m_from_labelled(config, &lp),
            (same_key_pairs / keyed_total).clamp(1e-12, 0.5),
        )
    } else {
        stats.m_source = "em".into();
        estimate_m(
            config,
            &counts,
            &u,
            comparable_pairs(records, config.link_only),
        )
    };
    stats.lambda = lambda;

    // Weight per distinct pattern at the fields' average u; each pair then
    // adds its term-frequency adjustments.
    let table: HashMap<Pattern, f64> = counts
        .keys()
        .map(|&p| {
            let w = (0..config.fields.len())
                .filter_map(|f| {
                    let l = level_of(p, f);
                    (l != MISSING).then(|| (m[f][l as usize] / u[f][l as usize]).log2())
                })
                .sum();
            (p, w)
        })
        .collect();
    drop(counts);
    let weigh = Weigh {
        table: &table,
        tf: &tf,
        m: &m,
        u: &u,
        prior: (lambda / (1.0 - lambda)).log2(),
    };
    let mut accepted = weigh.accepted(&pairs, &patterns, config.threshold, threads);
    stats.matched_pairs = accepted.len();
    accepted.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.2.cmp(&b.2)));
    let mut evidence = Vec::new();
    for (prob, w, pair, p) in accepted {
        let (a, b) = ((pair >> 32) as u32, pair as u32);
        if uf.find(a) == uf.find(b) {
            // already joined (by key or a stronger match): no new evidence
            continue;
        }
        if !uf.union(a, b) {
            stats.key_conflicts += 1;
            continue;
        }
        evidence.push(MatchEvidence {
            a,
            b,
            probability: prob,
            weight: w,
            fields: config
                .fields
                .iter()
                .enumerate()
                .map(|(f, spec)| weigh.field(f, spec, a as usize, p))
                .collect(),
        });
    }
    stats.m = m;
    stats.u = u;

    // Dense cluster ids in record order. A cluster's root is its lowest
    // record (`UnionFind::union`), met before any other of its records:
    // the root takes the next id, every other record its root's.
    let mut cluster: Vec<u32> = Vec::with_capacity(n);
    let mut clusters = 0u32;
    for i in 0..n as u32 {
        let r = uf.find(i);
        if r == i {
            cluster.push(clusters);
            clusters += 1;
        } else {
            cluster.push(cluster[r as usize]);
        }
    }
    stats.clusters = clusters as usize;
    Ok(Resolution {
        cluster,
        evidence,
        stats,
    })
}

fn pattern_of(records: &Records, config: &MatchConfig, a: usize, b: usize) -> Pattern {
    let mut p: Pattern = 0;
    for (f, spec) in config.fields.iter().enumerate() {
        let (x, y) = (records.fields[f].get(a), records.fields[f].get(b));
        let l = if x.is_empty() || y.is_empty() {
            MISSING
        } else {
            spec.comparison.compare(x, y)
        };
        p |= Pattern::from(l) << (4 * f);
    }
    p
}

/// Pairs whose values are brought into the cache together before they are
/// compared (see [`compare_pairs`]).
const AHEAD: usize = 16;

/// Per pair, its comparison pattern (every field, in parallel).
fn compare_pairs(
    records: &Records,
    config: &MatchConfig,
    pairs: &[u64],
    threads: usize,
) -> Vec<Pattern> {
    let chunk = pairs.len().div_ceil(threads.max(1)).max(1);
    let mut out = vec![0; pairs.len()];
    std::thread::scope(|s| {
        for (ps, os) in pairs.chunks(chunk).zip(out.chunks_mut(chunk)) {
            s.spawn(move || {
                for (group, outs) in ps.chunks(AHEAD).zip(os.chunks_mut(AHEAD)) {
                    // The second records of sorted pairs are scattered over
                    // all records: comparing them one by one waits for
                    // memory about twenty times per pair. Reading the first
                    // byte of every value of the group first lets those
                    // loads overlap; the comparisons then find them cached.
                    let mut touched = 0u8;
                    for &pair in group {
                        let (a, b) = ((pair >> 32) as usize, pair as u32 as usize);
                        for column in &records.fields {
                            touched ^= column.first_byte(a) ^ column.first_byte(b);
                        }
                    }
                    std::hint::black_box(touched);
                    for (&pair, o) in group.iter().zip(outs.iter_mut()) {
                        let (a, b) = ((pair >> 32) as usize, pair as u32 as usize);
                        *o = pattern_of(records, config, a, b);
                    }
                }
            });
        }
    });
    out
}

#[cfg(test)]
mod tests;

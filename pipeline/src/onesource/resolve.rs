//! Entity resolution: which records, across every department's datasets, are
//! the same person (or organisation).
//!
//! ```text
//! records ──▶ exact stage: union records whose normalised key is equal
//!         ──▶ blocking: several passes, each a hash of field prefixes;
//!             pairs only inside a block, at least one side without a valid key
//!             (two different valid keys are two subjects, never compared)
//!         ──▶ comparison vectors: one level per field (exact / similar / …)
//!         ──▶ Fellegi–Sunter: u from random pairs, m and λ by EM over the
//!             distinct comparison patterns (or fixed in the configuration)
//!         ──▶ pairs whose match probability ≥ threshold, strongest first,
//!             unioned unless that would join two different valid keys
//!         ──▶ clusters + evidence for every accepted pair
//! ```
//!
//! Work is linear in the records plus the candidate pairs: no stage compares
//! all pairs. Blocks larger than `max_block` are skipped (and counted) rather
//! than compared quadratically; other passes still reach their members.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::OneSourceError;
use super::compare::{DateLevel, compare_dates, jaro_winkler, osa_distance};
use super::normalize::{
    fold_resident_id, normalize_date, normalize_name_into, normalize_sex, normalize_text,
};

/// How a field's raw value is prepared for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prepare {
    /// Trimmed only.
    #[default]
    Trim,
    /// Free text: simplified characters, half-width, lowercase, no spaces or punctuation.
    Text,
    /// A person's name (see [`super::normalize::normalize_name`]).
    Name,
    /// A date, as `yyyymmdd`.
    Date,
    /// Sex, as `1`/`2`.
    Sex,
    /// A resident ID folded (not validated) for comparison.
    ResidentId,
}

/// How two prepared values are compared, and so the field's levels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum Comparison {
    /// Levels: exact, different.
    Exact,
    /// Levels: exact, then one per threshold (similarity ≥ t), else.
    JaroWinkler {
        /// Descending similarity thresholds.
        thresholds: Vec<f64>,
    },
    /// Levels: exact, one typo (a digit, adjacent swap, month/day swap), close, else.
    Date,
    /// Levels: exact, then distance 1..=max, else (edit distance with transpositions).
    Distance {
        /// Largest distance with its own level.
        max: usize,
    },
}

impl Comparison {
    /// Number of levels (the missing level excluded).
    pub fn levels(&self) -> usize {
        match self {
            Comparison::Exact => 2,
            Comparison::JaroWinkler { thresholds } => thresholds.len() + 2,
            Comparison::Date => 4,
            Comparison::Distance { max } => max + 2,
        }
    }

    /// A name for level `l`.
    pub fn level_name(&self, l: u8) -> String {
        let last = self.levels() as u8 - 1;
        match (self, l) {
            (_, 0) => "exact".into(),
            (_, l) if l == last => "different".into(),
            (Comparison::JaroWinkler { thresholds }, l) => {
                format!("jaro_winkler≥{}", thresholds[l as usize - 1])
            }
            (Comparison::Date, 1) => "one typo".into(),
            (Comparison::Date, _) => "close".into(),
            (Comparison::Distance { .. }, l) => format!("distance {l}"),
            (Comparison::Exact, _) => "different".into(),
        }
    }

    fn compare(&self, a: &str, b: &str) -> u8 {
        if a == b {
            return 0;
        }
        match self {
            Comparison::Exact => 1,
            Comparison::JaroWinkler { thresholds } => {
                let s = jaro_winkler(a, b);
                thresholds
                    .iter()
                    .position(|&t| s >= t)
                    .map_or(thresholds.len() as u8 + 1, |p| p as u8 + 1)
            }
            Comparison::Date => match compare_dates(a, b) {
                DateLevel::Exact => 0,
                DateLevel::Typo => 1,
                DateLevel::Close => 2,
                DateLevel::Different => 3,
            },
            Comparison::Distance { max } => osa_distance(a, b, *max).max(1) as u8,
        }
    }
}

/// One compared field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// Its name (used in blocking keys and evidence).
    pub name: String,
    /// How raw values are prepared.
    #[serde(default)]
    pub prepare: Prepare,
    /// How prepared values are compared.
    pub comparison: Comparison,
    /// Fixed m probabilities per level (not re-estimated); EM when absent.
    #[serde(default)]
    pub m: Option<Vec<f64>>,
}

/// One part of a blocking key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockKey {
    /// The field.
    pub field: String,
    /// Only the first `prefix` characters (whole value when absent).
    #[serde(default)]
    pub prefix: Option<usize>,
}

fn default_threshold() -> f64 {
    0.99
}
fn default_max_block() -> usize {
    2_000
}
fn default_em() -> usize {
    25
}
fn default_u_sample() -> usize {
    200_000
}
fn default_min_key_pairs() -> usize {
    1_000
}
fn default_seed() -> u64 {
    42
}

/// `[matching]`: how records are compared and when they match. The
/// threshold is fixed here, before any evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// Compared fields.
    pub fields: Vec<FieldSpec>,
    /// Blocking passes; a pair is a candidate when any pass puts it in one block.
    pub blocking: Vec<Vec<BlockKey>>,
    /// Match when the posterior match probability is at least this.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
    /// Larger blocks are skipped (and counted).
    #[serde(default = "default_max_block")]
    pub max_block: usize,
    /// Only pairs from different sources (record linkage, no deduplication).
    #[serde(default)]
    pub link_only: bool,
    /// EM iterations.
    #[serde(default = "default_em")]
    pub em_iterations: usize,
    /// Random pairs drawn to estimate u.
    #[serde(default = "default_u_sample")]
    pub u_sample: usize,
    /// Seed of that draw.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Pairs sharing a valid key needed to estimate m from them instead of EM.
    #[serde(default = "default_min_key_pairs")]
    pub min_key_pairs: usize,
    /// Worker threads (0 = all cores).
    #[serde(default)]
    pub threads: usize,
}

impl MatchConfig {
    /// The built-in configuration for persons: name, birth date, sex,
    /// address and the (invalid) identifier as text.
    pub fn persons() -> MatchConfig {
        toml::from_str(PERSONS).unwrap_or_else(|e| {
            // The embedded text is a constant checked by a unit test.
            unreachable!("embedded person matching config: {e}")
        })
    }

    fn validate(&self) -> Result<Vec<Pass>, OneSourceError> {
        let err = |m: String| OneSourceError::Config(format!("matching: {m}"));
        if self.fields.is_empty() || self.fields.len() > 15 {
            return Err(err(format!(
                "{} fields (1 to 15 allowed)",
                self.fields.len()
            )));
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(err(format!(
                "threshold {} is not a probability",
                self.threshold
            )));
        }
        for f in &self.fields {
            if f.comparison.levels() > 14 {
                return Err(err(format!("field `{}` has more than 14 levels", f.name)));
            }
            if let Some(m) = &f.m
                && m.len() != f.comparison.levels()
            {
                return Err(err(format!(
                    "field `{}`: {} m values for {} levels",
                    f.name,
                    m.len(),
                    f.comparison.levels()
                )));
            }
        }
        self.blocking
            .iter()
            .map(|pass| {
                if pass.is_empty() {
                    return Err(err("an empty blocking pass".into()));
                }
                pass.iter()
                    .map(|k| {
                        self.fields
                            .iter()
                            .position(|f| f.name == k.field)
                            .map(|i| (i, k.prefix))
                            .ok_or_else(|| {
                                err(format!("blocking key `{}` is not a field", k.field))
                            })
                    })
                    .collect()
            })
            .collect()
    }
}

/// A resolved blocking pass: (field index, prefix length) per key part.
type Pass = Vec<(usize, Option<usize>)>;

const PERSONS: &str = r#"
threshold = 0.99
fields = [
  { name = "name", prepare = "name", comparison = { type = "jaro_winkler", thresholds = [0.92, 0.8] } },
  { name = "birth_date", prepare = "date", comparison = { type = "date" } },
  { name = "sex", prepare = "sex", comparison = { type = "exact" } },
  { name = "address", prepare = "text", comparison = { type = "jaro_winkler", thresholds = [0.9, 0.75] } },
  # Matching only involves records whose key is invalid or missing, so an
  # exact identifier is rare among matches and a one-character typo common.
  { name = "id", prepare = "resident_id", comparison = { type = "distance", max = 2 }, m = [0.05, 0.8, 0.1, 0.05] },
]
blocking = [
  [{ field = "birth_date" }, { field = "name", prefix = 1 }],
  # name and birth year, not name and sex: at 10 million records common names
  # and a sex made blocks of thousands (skipped, and 120 million pairs).
  [{ field = "name" }, { field = "birth_date", prefix = 4 }],
  [{ field = "id", prefix = 14 }],
]
"#;

/// Prepared values of one field for every record (an Arrow-like string
/// column; the empty string means missing).
#[derive(Debug, Clone, Default)]
pub struct StrColumn {
    data: String,
    offsets: Vec<u32>,
}

impl StrColumn {
    fn new() -> StrColumn {
        StrColumn {
            data: String::new(),
            offsets: vec![0],
        }
    }

    /// Value `i` (empty = missing).
    #[inline]
    pub fn get(&self, i: usize) -> &str {
        &self.data[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    fn end(&mut self) -> Result<(), OneSourceError> {
        let end = u32::try_from(self.data.len())
            .map_err(|_| OneSourceError::Config("more than 4 GiB of one matching field".into()))?;
        self.offsets.push(end);
        Ok(())
    }
}

/// The records to resolve, columnar.
#[derive(Debug, Clone)]
pub struct Records {
    /// Which source (dataset) each record came from.
    pub source: Vec<u32>,
    /// The normalised subject key (0 = missing or invalid).
    pub key: Vec<u128>,
    /// Prepared field values, in [`MatchConfig::fields`] order.
    pub fields: Vec<StrColumn>,
    prepare: Vec<Prepare>,
    scratch: String,
}

impl Records {
    /// Empty records for `config`'s fields.
    pub fn new(config: &MatchConfig) -> Records {
        Records {
            source: Vec::new(),
            key: Vec::new(),
            fields: config.fields.iter().map(|_| StrColumn::new()).collect(),
            prepare: config.fields.iter().map(|f| f.prepare).collect(),
            scratch: String::new(),
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// Adds a record: its source, key (0 = none) and raw field values in the
    /// configuration's order (`None` = missing).
    pub fn push(
        &mut self,
        source: u32,
        key: u128,
        values: &[Option<&str>],
    ) -> Result<(), OneSourceError> {
        if values.len() != self.fields.len() {
            return Err(OneSourceError::Config(format!(
                "a record has {} matching values for {} fields",
                values.len(),
                self.fields.len()
            )));
        }
        for ((col, prep), v) in self.fields.iter_mut().zip(&self.prepare).zip(values) {
            if let Some(v) = v {
                prepare_into(*prep, v, &mut col.data, &mut self.scratch);
            }
            col.end()?;
        }
        self.source.push(source);
        self.key.push(key);
        Ok(())
    }
}

fn prepare_into(p: Prepare, v: &str, out: &mut String, scratch: &mut String) {
    match p {
        Prepare::Trim => out.push_str(v.trim()),
        Prepare::Text => out.push_str(&normalize_text(v)),
        Prepare::Name => {
            scratch.clear();
            normalize_name_into(v, scratch);
            out.push_str(scratch);
        }
        Prepare::Date => {
            if let Some(d) = normalize_date(v) {
                use std::fmt::Write;
                let _ = write!(out, "{d:08}");
            }
        }
        Prepare::Sex => {
            if let Some(s) = normalize_sex(v) {
                out.push(char::from(b'0' + s));
            }
        }
        Prepare::ResidentId => {
            if let Some(s) = fold_resident_id(v) {
                out.push_str(&s);
            }
        }
    }
}

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
    /// The prior: share of matches among candidate pairs (EM), or the
    /// chance two random keyed records match (labelled by keys).
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

    // Blocking.
    let (pairs, oversize) = candidate_pairs_inner(records, config, &passes);
    stats.candidate_pairs = pairs.len();
    stats.oversize_blocks = oversize;

    // Comparison vectors, in parallel.
    let threads = threads(config);
    let both = compare_pairs(records, config, &passes, &pairs, threads);
    let use_keys = key_pairs.len() >= config.min_key_pairs && keyed_total > 0.0;
    // Labelled m and the random-pair prior score the full pattern. EM runs
    // within blocks, where the blocking fields agree by construction, so it
    // estimates and scores without them (as Splink trains per blocking rule).
    let patterns: Vec<Pattern> = both
        .iter()
        .map(|&(full, masked)| if use_keys { full } else { masked })
        .collect();

    // u from random pairs.
    let u = estimate_u(records, config, threads);
    let mut counts: HashMap<Pattern, u64> = HashMap::new();
    for &p in &patterns {
        *counts.entry(p).or_default() += 1;
    }
    // With enough labelled pairs, m comes from them and λ is the chance that
    // two random keyed records match; otherwise m and λ come from EM over
    // the candidate pairs. (EM over blocked pairs alone would read the
    // agreement the blocking itself forces as evidence of a match.)
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
        estimate_m(config, &counts, &u)
    };
    stats.lambda = lambda;

    // Probability per distinct pattern.
    let score = |p: Pattern| -> (f64, f64) {
        let mut w = 0.0;
        for (f, _) in config.fields.iter().enumerate() {
            let l = level_of(p, f);
            if l != MISSING {
                w += (m[f][l as usize] / u[f][l as usize]).log2();
            }
        }
        let prior = (lambda / (1.0 - lambda)).log2();
        let odds = (w + prior).exp2();
        (w, odds / (1.0 + odds))
    };
    let table: HashMap<Pattern, (f64, f64)> = counts.keys().map(|&p| (p, score(p))).collect();
    let mut accepted: Vec<(f64, u64, Pattern, Pattern)> = pairs
        .iter()
        .zip(&patterns)
        .zip(&both)
        .filter_map(|((&pair, &p), &(full, _))| {
            let (_, prob) = table[&p];
            (prob >= config.threshold).then_some((prob, pair, p, full))
        })
        .collect();
    stats.matched_pairs = accepted.len();
    accepted.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut evidence = Vec::new();
    for (prob, pair, p, full) in accepted {
        let (a, b) = ((pair >> 32) as u32, pair as u32);
        if uf.find(a) == uf.find(b) {
            // already joined (by key or a stronger match): no new evidence
            continue;
        }
        if !uf.union(a, b) {
            stats.key_conflicts += 1;
            continue;
        }
        let (w, _) = table[&p];
        evidence.push(MatchEvidence {
            a,
            b,
            probability: prob,
            weight: w,
            fields: config
                .fields
                .iter()
                .enumerate()
                .map(|(f, spec)| {
                    let l = level_of(p, f);
                    let lf = level_of(full, f);
                    if l == MISSING && lf != MISSING {
                        // agreed by the blocking pass: the prior accounts for it
                        FieldEvidence {
                            field: spec.name.clone(),
                            level: format!("{} (blocking)", spec.comparison.level_name(lf)),
                            weight: 0.0,
                        }
                    } else if l == MISSING {
                        FieldEvidence {
                            field: spec.name.clone(),
                            level: "missing".into(),
                            weight: 0.0,
                        }
                    } else {
                        FieldEvidence {
                            field: spec.name.clone(),
                            level: spec.comparison.level_name(l),
                            weight: (m[f][l as usize] / u[f][l as usize]).log2(),
                        }
                    }
                })
                .collect(),
        });
    }
    stats.m = m;
    stats.u = u;

    // Dense cluster ids in record order.
    let mut dense: HashMap<u32, u32> = HashMap::new();
    let mut cluster = Vec::with_capacity(n);
    for i in 0..n as u32 {
        let r = uf.find(i);
        let next = dense.len() as u32;
        cluster.push(*dense.entry(r).or_insert(next));
    }
    stats.clusters = dense.len();
    Ok(Resolution {
        cluster,
        evidence,
        stats,
    })
}

/// The candidate pairs blocking produces, each `a << 32 | b` with `a < b`,
/// sorted (for measuring blocking recall and reduction).
pub fn candidate_pairs(
    records: &Records,
    config: &MatchConfig,
) -> Result<Vec<u64>, OneSourceError> {
    let passes = config.validate()?;
    Ok(candidate_pairs_inner(records, config, &passes).0)
}

fn threads(config: &MatchConfig) -> usize {
    if config.threads > 0 {
        config.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// FNV-1a, 64 bits: block keys only need to spread, not resist attack.
#[inline]
fn fnv(h: u64, bytes: &[u8]) -> u64 {
    let mut h = h;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

fn block_hash(records: &Records, i: usize, pass: &[(usize, Option<usize>)]) -> Option<u64> {
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

fn candidate_pairs_inner(
    records: &Records,
    config: &MatchConfig,
    passes: &[Pass],
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

/// Per pair: its full comparison pattern, and the same pattern with the
/// fields its generating blocking pass forced to agree (whole-value keys of
/// the first pass that puts both records in one block) set to missing.
fn compare_pairs(
    records: &Records,
    config: &MatchConfig,
    passes: &[Pass],
    pairs: &[u64],
    threads: usize,
) -> Vec<(Pattern, Pattern)> {
    let masks: Vec<Pattern> = passes
        .iter()
        .map(|pass| {
            pass.iter()
                .filter(|(_, prefix)| prefix.is_none())
                .fold(0, |m, &(f, _)| m | (0xf << (4 * f)))
        })
        .collect();
    let chunk = pairs.len().div_ceil(threads.max(1)).max(1);
    let mut out = vec![(0, 0); pairs.len()];
    std::thread::scope(|s| {
        for (ps, os) in pairs.chunks(chunk).zip(out.chunks_mut(chunk)) {
            let masks = &masks;
            s.spawn(move || {
                for (&pair, o) in ps.iter().zip(os.iter_mut()) {
                    let (a, b) = ((pair >> 32) as usize, pair as u32 as usize);
                    let full = pattern_of(records, config, a, b);
                    let mask = passes
                        .iter()
                        .zip(masks)
                        .find(|(pass, _)| {
                            let ha = block_hash(records, a, pass);
                            ha.is_some() && ha == block_hash(records, b, pass)
                        })
                        .map_or(0, |(_, &m)| m);
                    // MISSING is all ones: OR-ing the mask sets those fields to it
                    *o = (full, full | mask);
                }
            });
        }
    });
    out
}

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

fn estimate_u(records: &Records, config: &MatchConfig, threads: usize) -> Vec<Vec<f64>> {
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
            hs.into_iter().filter_map(|h| h.join().ok()).collect()
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
fn labelled_pairs(keyed: &[(u128, u32)], seed: u64) -> Vec<(u32, u32)> {
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
fn m_from_labelled(config: &MatchConfig, patterns: &[Pattern]) -> Vec<Vec<f64>> {
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

fn estimate_m(
    config: &MatchConfig,
    counts: &HashMap<Pattern, u64>,
    u: &[Vec<f64>],
) -> (Vec<Vec<f64>>, f64) {
    let mut m: Vec<Vec<f64>> = config
        .fields
        .iter()
        .map(|f| {
            f.m.clone()
                .unwrap_or_else(|| initial_m(f.comparison.levels()))
        })
        .collect();
    let mut lambda = 0.05f64;
    let total: f64 = counts.values().map(|&c| c as f64).sum();
    if total == 0.0 {
        return (m, lambda);
    }
    let patterns: Vec<(Pattern, f64)> = counts.iter().map(|(&p, &c)| (p, c as f64)).collect();
    for _ in 0..config.em_iterations {
        let mut acc: Vec<Vec<f64>> = m.iter().map(|l| vec![1e-6; l.len()]).collect();
        let mut sum_g = 0.0;
        for &(p, c) in &patterns {
            let (mut pm, mut pu) = (lambda, 1.0 - lambda);
            for f in 0..m.len() {
                let l = level_of(p, f);
                if l != MISSING {
                    pm *= m[f][l as usize];
                    pu *= u[f][l as usize];
                }
            }
            let g = pm / (pm + pu);
            sum_g += c * g;
            for (f, af) in acc.iter_mut().enumerate() {
                let l = level_of(p, f);
                if l != MISSING {
                    af[l as usize] += c * g;
                }
            }
        }
        lambda = (sum_g / total).clamp(1e-9, 1.0 - 1e-9);
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

/// Union-find over record indices; each root remembers its cluster's valid
/// key so two different keys are never joined.
struct UnionFind {
    parent: Vec<u32>,
    key: Vec<u128>,
}

impl UnionFind {
    fn new(keys: &[u128]) -> UnionFind {
        UnionFind {
            parent: (0..keys.len() as u32).collect(),
            key: keys.to_vec(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    /// Joins the clusters of `a` and `b`; false when they hold different keys.
    fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return true;
        }
        let (ka, kb) = (self.key[ra as usize], self.key[rb as usize]);
        if ka != 0 && kb != 0 && ka != kb {
            return false;
        }
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        self.parent[hi as usize] = lo;
        self.key[lo as usize] = if ka != 0 { ka } else { kb };
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> MatchConfig {
        let mut c = MatchConfig::persons();
        c.u_sample = 20_000;
        c
    }

    /// A small population: `people` persons, each with a keyed copy, plus
    /// extra copies without keys (some with typos).
    fn population(people: usize) -> (Records, Vec<u32>) {
        let c = cfg();
        let mut r = Records::new(&c);
        let mut truth = Vec::new();
        let surnames = ["张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴"];
        let given = [
            "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳",
        ];
        for p in 0..people {
            let name = format!(
                "{}{}{}",
                surnames[p % 10],
                given[(p / 10) % 12],
                given[(p / 120 + 3) % 12]
            );
            let birth = format!(
                "19{:02}-{:02}-{:02}",
                50 + p % 50,
                1 + p % 12,
                1 + (p * 7) % 28
            );
            let sex = if p % 2 == 0 { "男" } else { "女" };
            let addr = format!("乌鲁木齐市天山区{}路{}号", surnames[(p * 3) % 10], p % 97);
            let key = 1_000_000 + p as u128;
            r.push(
                0,
                key,
                &[Some(&name), Some(&birth), Some(sex), Some(&addr), None],
            )
            .unwrap();
            truth.push(p as u32);
            // an unkeyed copy with the same attributes
            r.push(
                1,
                0,
                &[Some(&name), Some(&birth), Some(sex), Some(&addr), None],
            )
            .unwrap();
            truth.push(p as u32);
            if p % 3 == 0 {
                // an unkeyed copy with a birth-date typo and traditional name
                let typo = format!(
                    "19{:02}-{:02}-{:02}",
                    50 + p % 50,
                    1 + p % 12,
                    1 + (p * 7 + 1) % 28
                );
                let trad: String = name.replace('张', "張").replace('刘', "劉");
                r.push(
                    2,
                    0,
                    &[Some(&trad), Some(&typo), Some(sex), Some(&addr), None],
                )
                .unwrap();
                truth.push(p as u32);
            }
        }
        (r, truth)
    }

    #[test]
    fn the_embedded_person_config_parses() {
        let c = MatchConfig::persons();
        assert_eq!(c.fields.len(), 5);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn exact_keys_group_and_different_keys_never_join() {
        let c = cfg();
        let mut r = Records::new(&c);
        let same = [
            Some("张三"),
            Some("1990-01-01"),
            Some("男"),
            Some("天山区"),
            None,
        ];
        r.push(0, 7, &same).unwrap();
        r.push(1, 7, &same).unwrap();
        r.push(2, 8, &same).unwrap(); // identical attributes, different key
        let res = resolve(&r, &c).unwrap();
        assert_eq!(res.cluster[0], res.cluster[1]);
        assert_ne!(res.cluster[0], res.cluster[2]);
    }

    #[test]
    fn unkeyed_copies_join_their_person_with_evidence() {
        let (r, truth) = population(600);
        let res = resolve(&r, &cfg()).unwrap();
        let (mut tp, mut fp, mut fnn) = (0, 0, 0);
        for i in 0..r.len() {
            for j in i + 1..r.len() {
                let same_truth = truth[i] == truth[j];
                let same_cluster = res.cluster[i] == res.cluster[j];
                match (same_truth, same_cluster) {
                    (true, true) => tp += 1,
                    (false, true) => fp += 1,
                    (true, false) => fnn += 1,
                    _ => {}
                }
            }
        }
        assert_eq!(fp, 0, "false matches: {:?}", res.stats);
        assert!(fnn * 50 < tp, "recall too low: tp {tp} fn {fnn}");
        let ev = &res.evidence[0];
        assert!(ev.probability >= 0.99);
        let text = ev.explain();
        assert!(
            text.contains("name") && text.contains("birth_date"),
            "{text}"
        );
        // no quadratic comparison: candidates are a small fraction of all pairs
        let n = r.len();
        assert!(
            res.stats.candidate_pairs < n * (n - 1) / 2 / 20,
            "{:?}",
            res.stats
        );
    }

    #[test]
    fn m_from_records_sharing_a_key_and_strangers_stay_apart() {
        let mut c = cfg();
        c.min_key_pairs = 100;
        let (mut r, _) = population(600);
        // a second keyed copy of each of the first 300 persons: labelled pairs
        let (base, _) = population(300);
        for i in (0..base.len()).filter(|&i| base.key[i] != 0) {
            let v: Vec<Option<&str>> = (0..5)
                .map(|f| Some(base.fields[f].get(i)).filter(|s| !s.is_empty()))
                .collect();
            r.push(3, base.key[i], &v).unwrap();
        }
        // a stranger: same birth date and surname as person 0, nothing else
        let birth0 = r.fields[1].get(0).to_string();
        let stranger = r.len();
        r.push(
            4,
            0,
            &[
                Some("张某某"),
                Some(&birth0),
                Some("女"),
                Some("拉萨市北京路1号"),
                None,
            ],
        )
        .unwrap();
        let res = resolve(&r, &c).unwrap();
        assert_eq!(res.stats.m_source, "keys");
        assert!(res.stats.lambda < 0.01, "{:?}", res.stats);
        let alone = res
            .cluster
            .iter()
            .filter(|&&x| x == res.cluster[stranger])
            .count();
        assert_eq!(alone, 1, "the stranger joined someone: {:?}", res.stats);
        // the unkeyed copies still join their persons
        assert_eq!(res.cluster[0], res.cluster[1]);
    }

    #[test]
    fn link_only_skips_pairs_within_a_source() {
        let mut c = cfg();
        c.link_only = true;
        let mut r = Records::new(&c);
        let v = [
            Some("张三"),
            Some("1990-01-01"),
            Some("男"),
            Some("天山区"),
            None,
        ];
        r.push(0, 0, &v).unwrap();
        r.push(0, 0, &v).unwrap();
        assert!(candidate_pairs(&r, &c).unwrap().is_empty());
    }

    #[test]
    fn oversize_blocks_are_counted_not_compared() {
        let mut c = cfg();
        c.max_block = 3;
        c.blocking = vec![vec![BlockKey {
            field: "sex".into(),
            prefix: None,
        }]];
        let mut r = Records::new(&c);
        for _ in 0..5 {
            r.push(0, 0, &[Some("张三"), None, Some("男"), None, None])
                .unwrap();
        }
        let res = resolve(&r, &c).unwrap();
        assert_eq!(res.stats.candidate_pairs, 0);
        assert_eq!(res.stats.oversize_blocks, 1);
    }

    #[test]
    fn bad_config_is_an_error_not_a_panic() {
        let mut c = cfg();
        c.blocking = vec![vec![BlockKey {
            field: "nope".into(),
            prefix: None,
        }]];
        let r = Records::new(&c);
        let e = resolve(&r, &c).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
        let mut c = cfg();
        c.fields[0].m = Some(vec![0.5]);
        assert!(resolve(&Records::new(&c), &c).is_err());
    }
}

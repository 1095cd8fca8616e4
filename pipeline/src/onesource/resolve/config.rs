//! The matching configuration: how fields are prepared and compared, the
//! blocking passes, the thresholds, and the built-in person configuration.

use serde::{Deserialize, Serialize};

use crate::onesource::OneSourceError;
use crate::onesource::compare::{DateLevel, compare_dates, jaro_winkler, osa_distance};

/// How a field's raw value is prepared for comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prepare {
    /// Trimmed only.
    #[default]
    Trim,
    /// Free text: simplified characters, half-width, lowercase, no spaces or punctuation.
    Text,
    /// A person's name (see [`crate::onesource::normalize::normalize_name`]).
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

    pub(super) fn compare(&self, a: &str, b: &str) -> u8 {
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
    /// Weigh an exact agreement by how common the agreed value is (absent:
    /// every exact agreement weighs the same).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_frequency: Option<TermFrequency>,
}

/// Term-frequency adjustment of a field's exact level, as in the
/// Fellegi–Sunter literature (Winkler) and Splink's "term frequency
/// adjustments": when two records agree exactly on value `v`, the chance
/// that two *different* subjects agree is not the field's average u but the
/// share of records holding `v`, so the level's weight becomes
/// `log2(m / max(tf(v), min_u))` instead of `log2(m / u)`.
///
/// Why: among millions of residents, 王伟 born on a given day is shared by
/// strangers far more often than 帕提古丽·吐尔洪 is; an average u makes
/// the common name too strong and the rare one too weak. Frequencies are
/// counted from the records being resolved (every source, one pass over
/// the prepared values), never from a fixed table, so they follow the
/// population actually held.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermFrequency {
    /// Lowest frequency used (Splink's `tf_minimum_u_value`): a value seen
    /// in only a handful of records is not trusted to be rarer than this.
    /// 0 (the default): the observed frequency, which is at least 2 / n for
    /// any value two records agree on.
    #[serde(default)]
    pub min_u: f64,
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

    pub(super) fn validate(&self) -> Result<Vec<Pass>, OneSourceError> {
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
            if let Some(tf) = &f.term_frequency
                && !(0.0..1.0).contains(&tf.min_u)
            {
                return Err(err(format!(
                    "field `{}`: term_frequency.min_u {} is not a frequency below 1",
                    f.name, tf.min_u
                )));
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
pub(super) type Pass = Vec<(usize, Option<usize>)>;

const PERSONS: &str = r#"
threshold = 0.99
# Term frequencies (`term_frequency = {}` on name and address: a shared 王伟
# weak evidence, a shared rare name strong) are off by default. Measured on
# the seeded benchmark (benches/RESULTS.md, 2026-12-07) they raise the
# recall of copies without a key at 4 million persons (0.90 -> 0.955) but
# lower it at 200,000 (0.99999 -> 0.989): a copy whose address moved and
# whose name is common then falls below the threshold. Turn them on for
# resolution at province scale.
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

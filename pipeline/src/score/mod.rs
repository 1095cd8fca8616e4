//! Scoring: scorecards per dataset and per department, in the regulation's
//! dimensions and in GB/T 36344-2018's indicators, with ranks, changes and
//! rectification items — computed **only** from stored rule counts
//! ([`RuleCount`], one per rule per run) and the scoring configuration, so
//! re-scoring stored history gives identical scorecards without reading any
//! data.
//!
//! The formula (also in the README and on the site):
//!
//! - a rule's score is `100 × (evaluated − failed) / evaluated`; a rule that
//!   evaluated nothing is *not assessable* and left out;
//! - a dimension's score is the mean of its rules' scores (uniqueness counts
//!   under 准确性 accuracy, as in GB/T 36344's 数据唯一性);
//! - a dataset's score is the weighted mean of its assessable dimensions
//!   (weights renormalised over those present);
//! - a department's score is the mean of its datasets' scores weighted by
//!   dataset weight (base datasets count more);
//! - grades by band (default 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, else 不合格);
//!   ranks among departments by score (ties share a rank);
//! - GB/T 36344 indicators: X = A / B with A = rows passing and B = rows
//!   evaluated by the rules behind the indicator; 可访问性 (accessibility)
//!   and any indicator without rules are "not assessable", never 100.

mod counts;
pub mod export;
mod rectify;
pub mod step;
pub mod store;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use counts::{Counts, Interner, Row};
pub use rectify::{Rectification, rectifications, rectifications_of};

/// The rules that stages other than `check` count (no rule file declares
/// them), by the name stored in `_pdq/rule_results`.
pub mod stage_rules {
    /// Landing: a delivery failed or is late (timeliness; evaluated 1).
    pub const DELIVERY: &str = "_delivery";
    /// Landing: rows quarantined at the last landing (validity).
    pub const QUARANTINE: &str = "_quarantine";
    /// One-source: copies that differ from the authoritative source
    /// (consistency).
    pub const ONESOURCE_CONSISTENCY: &str = "_onesource_consistency";
    /// One-source: the same conflicts, counted under accuracy.
    pub const ONESOURCE_ACCURACY: &str = "_onesource_accuracy";
}

/// One rule's counts in one run: what every score is computed from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCount {
    /// The run.
    pub run_id: String,
    /// The run's as-of time.
    pub as_of: DateTime<Utc>,
    /// `department.dataset`.
    pub dataset: String,
    /// The department.
    pub department: String,
    /// The rule's id.
    pub rule: String,
    /// Its dimension (`completeness`, `validity`, …).
    pub dimension: String,
    /// Its check type.
    pub check: String,
    /// Rows (or 1) evaluated.
    pub evaluated: i64,
    /// Of those, failed.
    pub failed: i64,
    /// `pass`, `warn` or `fail`.
    pub status: String,
    /// SHA-256 of the rule file.
    pub rules_version: String,
    /// The data table's version checked.
    pub table_version: Option<i64>,
}

/// A grade band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grade {
    /// Chinese name (优秀…).
    pub name: String,
    /// English name.
    pub en: String,
    /// Lowest score in the band.
    pub min: f64,
}

fn default_grades() -> Vec<Grade> {
    [
        ("优秀", "excellent", 90.0),
        ("良好", "good", 80.0),
        ("合格", "pass", 60.0),
        ("不合格", "fail", 0.0),
    ]
    .iter()
    .map(|(n, e, m)| Grade {
        name: n.to_string(),
        en: e.to_string(),
        min: *m,
    })
    .collect()
}

fn default_dimension_weights() -> BTreeMap<String, f64> {
    [
        "completeness",
        "validity",
        "timeliness",
        "consistency",
        "accuracy",
    ]
    .iter()
    .map(|d| (d.to_string(), 1.0))
    .collect()
}

/// `[scoring]` in `pdq.toml`: every part has a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScoringConfig {
    /// Weight of each regulation dimension.
    #[serde(default = "default_dimension_weights")]
    pub dimension_weights: BTreeMap<String, f64>,
    /// Weight of a dataset (`department.name`) in its department's score; default 1.
    #[serde(default)]
    pub dataset_weights: BTreeMap<String, f64>,
    /// Grade bands, highest first.
    #[serde(default = "default_grades")]
    pub grades: Vec<Grade>,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            dimension_weights: default_dimension_weights(),
            dataset_weights: BTreeMap::new(),
            grades: default_grades(),
        }
    }
}

impl ScoringConfig {
    /// SHA-256 of the configuration, named in every scorecard.
    pub fn version(&self) -> String {
        hex::encode(Sha256::digest(serde_json::to_vec(self).unwrap_or_default()))
    }

    fn grade(&self, score: f64) -> Option<Grade> {
        let mut g = self.grades.clone();
        g.sort_by(|a, b| b.min.total_cmp(&a.min));
        g.into_iter().find(|g| score >= g.min)
    }
}

/// Every quality dimension a regulation names, in the order reports give
/// them (profiles name a subset: `pipeline::profile`).
pub const REGULATION_DIMENSIONS: [&str; 8] = [
    "completeness",
    "validity",
    "timeliness",
    "consistency",
    "accuracy",
    "compliance",
    "authenticity",
    "usability",
];

/// The configuration's dimension weights in the regulation's order, then
/// any other dimensions it weighs.
pub fn ordered_dimensions(config: &ScoringConfig) -> Vec<(&String, &f64)> {
    let mut ordered: Vec<(&String, &f64)> = config.dimension_weights.iter().collect();
    ordered.sort_by_key(|(d, _)| {
        REGULATION_DIMENSIONS
            .iter()
            .position(|o| o == d)
            .unwrap_or(REGULATION_DIMENSIONS.len())
    });
    ordered
}

/// The regulation dimension a rule's dimension counts under.
pub fn regulation_dimension(rule_dimension: &str) -> &str {
    match rule_dimension {
        "uniqueness" => "accuracy",
        other => other,
    }
}

/// Chinese name of a regulation dimension.
pub fn dimension_zh(d: &str) -> &'static str {
    match d {
        "completeness" => "完整性",
        "validity" => "有效性",
        "timeliness" => "及时性",
        "consistency" => "一致性",
        "accuracy" => "准确性",
        "compliance" => "合规性",
        "authenticity" => "真实性",
        "usability" => "可用性",
        _ => "其他",
    }
}

/// GB/T 36344-2018's indicators: (Chinese, English, rule dimensions behind it).
pub const GBT36344: &[(&str, &str, &[&str])] = &[
    ("规范性", "normativity", &["validity"]),
    ("完整性", "completeness", &["completeness"]),
    ("准确性", "accuracy", &["accuracy", "uniqueness"]),
    ("一致性", "consistency", &["consistency"]),
    ("时效性", "timeliness", &["timeliness"]),
    ("可访问性", "accessibility", &[]),
];

/// A dimension's score in a scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionScore {
    /// `completeness`, …
    pub dimension: String,
    /// 完整性, …
    pub name_zh: String,
    /// Its score, or `None`: not assessable (no rule evaluated anything).
    pub score: Option<f64>,
    /// Its weight.
    pub weight: f64,
    /// Rules behind it.
    pub rules: usize,
}

/// A GB/T 36344 indicator: X = A / B.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// 规范性, …
    pub name_zh: String,
    /// normativity, …
    pub name_en: String,
    /// Rows passing.
    pub a: i64,
    /// Rows evaluated.
    pub b: i64,
    /// A / B, or `None`: not assessable.
    pub x: Option<f64>,
    /// Why it is not assessable.
    pub note: Option<String>,
}

/// A rule behind a scorecard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleScore {
    /// `department.dataset`.
    pub dataset: String,
    /// Rule id.
    pub rule: String,
    /// Rule dimension.
    pub dimension: String,
    /// Evaluated.
    pub evaluated: i64,
    /// Failed.
    pub failed: i64,
    /// (evaluated − failed) / evaluated, or `None`.
    pub pass_rate: Option<f64>,
    /// `pass`, `warn`, `fail`.
    pub status: String,
}

/// A problem that needs the responsible department's action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// `rule_failure`, `landing_failure`, `quarantined_rows`, …
    pub kind: String,
    /// The responsible department.
    pub department: String,
    /// The dataset.
    pub dataset: String,
    /// The rule.
    pub rule: String,
    /// Counts, in words.
    pub detail: String,
}

/// A scorecard of a dataset or a department for one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// The run.
    pub run_id: String,
    /// Its as-of time.
    pub as_of: DateTime<Utc>,
    /// `dataset` or `department`.
    pub scope: String,
    /// `department.dataset` or the department.
    pub id: String,
    /// The department.
    pub department: String,
    /// 0–100, or `None` when nothing was assessable.
    pub score: Option<f64>,
    /// The grade's Chinese name.
    pub grade: Option<String>,
    /// The grade's English name.
    pub grade_en: Option<String>,
    /// The regulation's dimensions.
    pub dimensions: Vec<DimensionScore>,
    /// GB/T 36344 indicators.
    pub indicators: Vec<Indicator>,
    /// The rules behind it.
    pub rules: Vec<RuleScore>,
    /// Rank among departments (department scorecards).
    pub rank: Option<usize>,
    /// Change of score since the previous run.
    pub delta: Option<f64>,
    /// What needs action.
    pub findings: Vec<Finding>,
    /// The scoring configuration's version.
    pub config_version: String,
    /// The rule files' versions behind it.
    pub rules_versions: Vec<String>,
    /// Objections (异议) to its data as of the run: filed, open, overdue,
    /// steps on time (none filed: absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objections: Option<crate::objection::ObjectionTally>,
    /// Findings on the sharing platform's usage log as of the run
    /// (department scorecards; `pdq usage check`): the department's rows
    /// lacking what the text requires, and a log that does not reach back
    /// as far as the retention says (the log as a whole: every department
    /// keeps the log of data it provides and obtains, 新疆 第十五条). No
    /// operator's name: the findings name departments, files and lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage_findings: Vec<crate::usage::UsageFinding>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

fn card_for(
    counts: &[&RuleCount],
    scope: &str,
    id: &str,
    department: &str,
    run_id: &str,
    as_of: DateTime<Utc>,
    config: &ScoringConfig,
) -> Scorecard {
    let rules: Vec<RuleScore> = counts
        .iter()
        .map(|c| RuleScore {
            dataset: c.dataset.clone(),
            rule: c.rule.clone(),
            dimension: c.dimension.clone(),
            evaluated: c.evaluated,
            failed: c.failed,
            pass_rate: (c.evaluated > 0)
                .then(|| (c.evaluated - c.failed) as f64 / c.evaluated as f64),
            status: c.status.clone(),
        })
        .collect();
    let mut dims = vec![];
    let ordered = ordered_dimensions(config);
    for (d, w) in ordered {
        let behind: Vec<&RuleScore> = rules
            .iter()
            .filter(|r| regulation_dimension(&r.dimension) == d)
            .collect();
        let scores: Vec<f64> = behind
            .iter()
            .filter_map(|r| r.pass_rate.map(|p| 100.0 * p))
            .collect();
        dims.push(DimensionScore {
            dimension: d.clone(),
            name_zh: dimension_zh(d).into(),
            score: mean(&scores).map(round2),
            weight: *w,
            rules: behind.len(),
        });
    }
    let (num, den) = dims
        .iter()
        .filter_map(|d| d.score.map(|s| (s * d.weight, d.weight)))
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let score = (den > 0.0).then(|| round2(num / den));
    let indicators = indicators(&rules);
    let grade = score.and_then(|s| config.grade(s));
    let findings = rules
        .iter()
        .filter(|r| r.status == "fail")
        .map(|r| Finding {
            kind: "rule_failure".into(),
            department: r.dataset.split('.').next().unwrap_or("").into(),
            dataset: r.dataset.clone(),
            rule: r.rule.clone(),
            detail: format!("{} of {} failed", r.failed, r.evaluated),
        })
        .collect();
    let versions: BTreeSet<String> = counts.iter().map(|c| c.rules_version.clone()).collect();
    Scorecard {
        run_id: run_id.into(),
        as_of,
        scope: scope.into(),
        id: id.into(),
        department: department.into(),
        score,
        grade: grade.as_ref().map(|g| g.name.clone()),
        grade_en: grade.map(|g| g.en),
        dimensions: dims,
        indicators,
        rules,
        rank: None,
        delta: None,
        findings,
        config_version: config.version(),
        rules_versions: versions.into_iter().collect(),
        objections: None,
        usage_findings: vec![],
    }
}

fn indicators(rules: &[RuleScore]) -> Vec<Indicator> {
    let counts: Vec<(&str, i64, i64)> = rules
        .iter()
        .map(|r| (r.dimension.as_str(), r.evaluated, r.failed))
        .collect();
    indicators_from(&counts)
}

/// GB/T 36344 indicators from (rule dimension, evaluated, failed) counts.
pub fn indicators_from(counts: &[(&str, i64, i64)]) -> Vec<Indicator> {
    GBT36344
        .iter()
        .map(|(zh, en, dims)| {
            let (mut a, mut b) = (0i64, 0i64);
            for (dim, evaluated, failed) in counts {
                if dims.contains(dim) {
                    b += evaluated;
                    a += evaluated - failed;
                }
            }
            let note = if dims.is_empty() {
                Some("pdq 无访问日志，无法评估 — pdq has no access logs to assess it".to_string())
            } else if b == 0 {
                Some("没有规则评估此项 — no rule assesses it".to_string())
            } else {
                None
            };
            Indicator {
                name_zh: zh.to_string(),
                name_en: en.to_string(),
                a,
                b,
                x: (b > 0 && !dims.is_empty()).then(|| a as f64 / b as f64),
                note,
            }
        })
        .collect()
}

/// The scorecards of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunScores {
    /// The run.
    pub run_id: String,
    /// Per dataset.
    pub datasets: Vec<Scorecard>,
    /// Per department, ranked.
    pub departments: Vec<Scorecard>,
    /// The regulation the scores are held to, and its status on the run's
    /// date (a lapsed or draft text is said on every scorecard).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ProfileInForce>,
}

/// The profile a run was scored under, and its status that day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileInForce {
    /// `xpcc-2025`, …
    pub id: String,
    /// The measures' title.
    pub title: String,
    /// Its status on the run's date, computed from the text's dates.
    pub status: crate::profile::Status,
    /// The status in words, Chinese first.
    pub status_words: String,
    /// The text applies that day (in force or on trial).
    pub applies: bool,
    /// `pdq.toml` names it (false: assumed, the workspace names none).
    pub named: bool,
    /// The quality dimensions the text names (its `dimensions`, with the
    /// article), each with whether any rule of the run measured it: a
    /// dimension the text requires and no rule checks is said on the
    /// scorecards, not silently left out (issue #17, 5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<TextDimension>,
}

/// A quality dimension a regulation names, and whether the run measured it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextDimension {
    /// `completeness`, `compliance`, …
    pub dimension: String,
    /// 完整性, 合规性, …
    pub name_zh: String,
    /// The article that names it (第十五条).
    pub article: String,
    /// Some rule of the run evaluated something in it.
    pub measured: bool,
}

impl ProfileInForce {
    /// `profile` on `day`; `named`: the workspace chose it.
    pub fn of(profile: &crate::profile::Profile, day: chrono::NaiveDate, named: bool) -> Self {
        let status = profile.status(day);
        ProfileInForce {
            id: profile.id.clone(),
            title: profile.title.clone(),
            status,
            status_words: status.words(),
            applies: status.applies(),
            named,
            dimensions: text_dimensions(profile),
        }
    }

    /// Marks the text's dimensions that some scorecard of the run measured.
    pub fn note_measured(&mut self, cards: &[Scorecard]) {
        for d in &mut self.dimensions {
            d.measured = cards.iter().any(|c| {
                c.dimensions
                    .iter()
                    .any(|x| x.dimension == d.dimension && x.score.is_some())
            });
        }
    }

    /// The dimensions the text names that no rule of the run measured.
    pub fn unmeasured(&self) -> Vec<&TextDimension> {
        self.dimensions.iter().filter(|d| !d.measured).collect()
    }

    /// One line for a run's output when the text does not apply or was not
    /// chosen; None when all is well.
    pub fn warning(&self) -> Option<String> {
        match (self.applies, self.named) {
            (true, true) => None,
            (false, true) => Some(format!(
                "profile {} ({}): {}; results are held to a text that is not in force",
                self.id, self.title, self.status_words
            )),
            (_, false) => Some(format!(
                "pdq.toml names no profile: {} ({}, {}) is assumed; choose one with `profile = \"…\"` (pdq profile list)",
                self.id, self.title, self.status_words
            )),
        }
    }
}

/// The dimensions `profile`'s text names, with the article that names them.
fn text_dimensions(profile: &crate::profile::Profile) -> Vec<TextDimension> {
    let article = match profile.source("dimensions") {
        Some(crate::profile::Source::Cited(c)) => c
            .iter()
            .map(|c| c.article.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        _ => String::new(),
    };
    profile
        .dimensions
        .iter()
        .map(|d| TextDimension {
            dimension: d.clone(),
            name_zh: dimension_zh(d).into(),
            article: article.clone(),
            measured: false,
        })
        .collect()
}

impl RunScores {
    /// The order scores are given in: datasets by id; departments by rank
    /// (unranked last), then id.
    pub fn sort(&mut self) {
        self.datasets.sort_by(|a, b| a.id.cmp(&b.id));
        self.departments.sort_by(|a, b| {
            (a.rank.unwrap_or(usize::MAX), &a.id).cmp(&(b.rank.unwrap_or(usize::MAX), &b.id))
        });
    }
}

/// Scores one run (`run_id`) from the stored counts `history` (all runs;
/// earlier runs give the changes).
pub fn score_run(history: &[RuleCount], run_id: &str, config: &ScoringConfig) -> RunScores {
    let runs = run_order(history);
    let pos = runs.iter().position(|(r, _)| r == run_id);
    let previous = pos
        .and_then(|p| p.checked_sub(1))
        .map(|p| runs[p].0.clone());
    let current = score_one(history, run_id, config);
    let Some(prev_id) = previous else {
        return current;
    };
    let prev = score_one(history, &prev_id, config);
    let delta = |cards: &mut Vec<Scorecard>, before: &[Scorecard]| {
        for c in cards.iter_mut() {
            if let (Some(now), Some(then)) = (
                c.score,
                before.iter().find(|b| b.id == c.id).and_then(|b| b.score),
            ) {
                c.delta = Some(round2(now - then));
            }
        }
    };
    let mut out = current;
    delta(&mut out.datasets, &prev.datasets);
    delta(&mut out.departments, &prev.departments);
    out
}

/// Runs in the order of their as-of time (then id).
pub fn run_order(history: &[RuleCount]) -> Vec<(String, DateTime<Utc>)> {
    let mut runs: Vec<(String, DateTime<Utc>)> = history
        .iter()
        .map(|c| (c.run_id.clone(), c.as_of))
        .collect();
    runs.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    runs.dedup();
    runs
}

fn score_one(history: &[RuleCount], run_id: &str, config: &ScoringConfig) -> RunScores {
    let counts: Vec<&RuleCount> = history.iter().filter(|c| c.run_id == run_id).collect();
    score_counts(&counts, run_id, config)
}

/// Scores one run from that run's counts only (no changes computed).
pub fn score_counts(counts: &[&RuleCount], run_id: &str, config: &ScoringConfig) -> RunScores {
    let counts: Vec<&RuleCount> = counts.to_vec();
    let as_of = counts.first().map(|c| c.as_of).unwrap_or_default();
    let mut by_dataset: BTreeMap<&str, Vec<&RuleCount>> = BTreeMap::new();
    for c in &counts {
        by_dataset.entry(c.dataset.as_str()).or_default().push(c);
    }
    let datasets: Vec<Scorecard> = by_dataset
        .iter()
        .map(|(ds, cs)| card_for(cs, "dataset", ds, &cs[0].department, run_id, as_of, config))
        .collect();
    let mut by_dept: BTreeMap<&str, Vec<&Scorecard>> = BTreeMap::new();
    for d in &datasets {
        by_dept.entry(d.department.as_str()).or_default().push(d);
    }
    let mut departments: Vec<Scorecard> = by_dept
        .iter()
        .map(|(dept, cards)| {
            let dept_counts: Vec<&RuleCount> = counts
                .iter()
                .copied()
                .filter(|c| c.department == *dept)
                .collect();
            let mut card = card_for(
                &dept_counts,
                "department",
                dept,
                dept,
                run_id,
                as_of,
                config,
            );
            // The department's score weighs its datasets, not its rules.
            let (num, den) = cards
                .iter()
                .filter_map(|c| {
                    let w = config.dataset_weights.get(&c.id).copied().unwrap_or(1.0);
                    c.score.map(|s| (s * w, w))
                })
                .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
            card.score = (den > 0.0).then(|| round2(num / den));
            let g = card.score.and_then(|s| config.grade(s));
            card.grade = g.as_ref().map(|g| g.name.clone());
            card.grade_en = g.map(|g| g.en);
            card
        })
        .collect();
    // Rank: by score, ties share a rank; unassessable last, unranked.
    let mut scores: Vec<f64> = departments.iter().filter_map(|d| d.score).collect();
    scores.sort_by(|a, b| b.total_cmp(a));
    for d in departments.iter_mut() {
        d.rank = d
            .score
            .map(|s| 1 + scores.iter().filter(|x| **x > s).count());
    }
    let mut scores = RunScores {
        run_id: run_id.into(),
        datasets,
        departments,
        profile: None,
    };
    scores.sort();
    scores
}

#[cfg(test)]
mod tests;

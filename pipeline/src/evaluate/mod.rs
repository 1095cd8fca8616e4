//! The annual evaluation for assessors: per department, from stored counts
//! and corrections only (no data is re-read), the year's score and grade
//! with monthly checkpoints, rank, and the components behind it:
//!
//! | component | from | score |
//! |---|---|---|
//! | data quality | every run's department scorecard | mean of the year's run scores |
//! | aggregation and timeliness | every run's `_delivery` count per dataset | 100 × deliveries on time / deliveries due |
//! | rectification | the rectification list at the year's last run | 100 × items opened in the year and closed by their due date / items opened |
//! | catalog management | catalog findings | not assessable until catalog harvesting lands |
//! | one-source compliance | duplicate-collection and conflict findings | not assessable until one-source resolution lands |
//!
//! The total is the weighted mean of the assessable components (weights
//! renormalised); a component pdq cannot assess is shown as such, never
//! scored. The result names every input (configuration version, rule-set
//! versions, the run ids, the stored table's version, the corrections
//! applied) and its id is the hash of them, so re-running it gives the
//! same result and a changed input gives a new, differently labelled one.

pub mod report;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::calendar::WorkCalendar;
use crate::profile::Profile;
use crate::score::{Grade, Indicator, RuleCount, ScoringConfig, rectifications, score_counts};

/// A hand correction of one stored count, with who made it and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correction {
    /// The run.
    pub run_id: String,
    /// `department.dataset`.
    pub dataset: String,
    /// The rule.
    pub rule: String,
    /// The corrected evaluated count.
    pub evaluated: i64,
    /// The corrected failed count.
    pub failed: i64,
    /// Why.
    pub reason: String,
    /// Who.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// `[evaluation]` in pdq.toml: component weights and grade bands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluationConfig {
    /// Weight of each component.
    #[serde(default = "default_weights")]
    pub weights: BTreeMap<String, f64>,
    /// Grade bands; default: the scoring bands.
    #[serde(default)]
    pub grades: Option<Vec<Grade>>,
}

fn default_weights() -> BTreeMap<String, f64> {
    [
        ("quality", 0.4),
        ("timeliness", 0.2),
        ("rectification", 0.2),
        ("catalog", 0.1),
        ("one_source", 0.1),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), *v))
    .collect()
}

impl Default for EvaluationConfig {
    fn default() -> Self {
        EvaluationConfig {
            weights: default_weights(),
            grades: None,
        }
    }
}

/// One component of a department's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// `quality`, `timeliness`, `rectification`, `catalog`, `one_source`.
    pub name: String,
    /// Chinese name.
    pub name_zh: String,
    /// 0–100 or `None`: not assessable.
    pub score: Option<f64>,
    /// Its weight.
    pub weight: f64,
    /// How it was computed, with its counts.
    pub basis: String,
}

/// A monthly checkpoint: the department's score at the month's last run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// `YYYY-MM`.
    pub month: String,
    /// The run.
    pub run_id: String,
    /// Its score.
    pub score: Option<f64>,
}

/// One department's evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DepartmentEvaluation {
    /// The department.
    pub department: String,
    /// The year's score.
    pub score: Option<f64>,
    /// Its grade.
    pub grade: Option<String>,
    /// English grade.
    pub grade_en: Option<String>,
    /// Rank among departments.
    pub rank: Option<usize>,
    /// The components.
    pub components: Vec<Component>,
    /// Monthly checkpoints.
    pub monthly: Vec<Checkpoint>,
    /// Data quality per regulation dimension, mean over the year's runs.
    pub dimensions: BTreeMap<String, Option<f64>>,
    /// GB/T 36344 indicators over the year (A and B summed over runs).
    pub indicators: Vec<Indicator>,
    /// Rectification items opened in the year: (total, closed on time, closed late, open, overdue at year end).
    pub rectification: [usize; 5],
    /// The previous year's score, if evaluated from the same store.
    pub previous_year: Option<f64>,
    /// Evidence: the runs behind these numbers.
    pub runs: Vec<String>,
}

/// The evaluation of a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Hash of every input: the same inputs give the same id.
    pub id: String,
    /// The year.
    pub year: i32,
    /// Counts up to this time only.
    pub as_of: DateTime<Utc>,
    /// The jurisdiction profile.
    pub profile: String,
    /// The configuration used (weights, bands, scoring).
    pub config: serde_json::Value,
    /// Its version (hash).
    pub config_version: String,
    /// Rule-set versions behind the counts.
    pub rules_versions: Vec<String>,
    /// The stored counts' table version read.
    pub table_version: Option<i64>,
    /// Corrections applied.
    pub corrections: Vec<Correction>,
    /// Per department, ranked.
    pub departments: Vec<DepartmentEvaluation>,
    /// Departments below the passing grade.
    pub below_passing: Vec<String>,
    /// Runs in the year.
    pub runs: usize,
}

/// What an evaluation reads.
pub struct EvaluationInput<'a> {
    /// Every stored count (any year).
    pub history: &'a [RuleCount],
    /// Corrections.
    pub corrections: &'a [Correction],
    /// The year.
    pub year: i32,
    /// Only counts up to this time.
    pub as_of: DateTime<Utc>,
    /// The bureau's zone (months and days).
    pub tz: Tz,
    /// The profile (deadlines).
    pub profile: &'a Profile,
    /// The calendar.
    pub calendar: &'a WorkCalendar,
    /// Scoring of each run.
    pub scoring: &'a ScoringConfig,
    /// Weights and bands.
    pub config: &'a EvaluationConfig,
    /// The stored counts' table version (named in the result).
    pub table_version: Option<i64>,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn zh(c: &str) -> &'static str {
    match c {
        "quality" => "数据质量",
        "timeliness" => "汇聚及时性",
        "rectification" => "问题整改",
        "catalog" => "目录管理",
        "one_source" => "一数一源",
        _ => "其他",
    }
}

/// Applies corrections (the latest per run, dataset and rule wins).
fn corrected(history: &[RuleCount], corrections: &[Correction]) -> Vec<RuleCount> {
    let mut latest: BTreeMap<(&str, &str, &str), &Correction> = BTreeMap::new();
    for c in corrections {
        let k = (c.run_id.as_str(), c.dataset.as_str(), c.rule.as_str());
        if latest.get(&k).is_none_or(|o| o.at <= c.at) {
            latest.insert(k, c);
        }
    }
    history
        .iter()
        .map(
            |r| match latest.get(&(r.run_id.as_str(), r.dataset.as_str(), r.rule.as_str())) {
                Some(c) => RuleCount {
                    evaluated: c.evaluated,
                    failed: c.failed,
                    status: if c.failed > 0 && r.status == "pass" {
                        "fail".into()
                    } else if c.failed == 0 {
                        "pass".into()
                    } else {
                        r.status.clone()
                    },
                    ..r.clone()
                },
                None => r.clone(),
            },
        )
        .collect()
}

/// A run: its as-of time and id.
type RunKey<'a> = (DateTime<Utc>, &'a str);

/// Evaluates a year.
pub fn evaluate(input: &EvaluationInput) -> Result<Evaluation, String> {
    let tz = input.tz;
    let in_year =
        |t: &DateTime<Utc>| t.with_timezone(&tz).year() == input.year && *t <= input.as_of;
    // Without corrections the stored counts are used as they are (a year of
    // a large bureau is millions of counts: no copy).
    let owned;
    let all: &[RuleCount] = if input.corrections.is_empty() {
        input.history
    } else {
        owned = corrected(input.history, input.corrections);
        &owned
    };
    // Group once by run: every later step works per run.
    let mut by_run: BTreeMap<RunKey, Vec<&RuleCount>> = BTreeMap::new();
    for c in all {
        by_run
            .entry((c.as_of, c.run_id.as_str()))
            .or_default()
            .push(c);
    }
    let year_runs: Vec<(&RunKey, &Vec<&RuleCount>)> =
        by_run.iter().filter(|((t, _), _)| in_year(t)).collect();
    let grades = input
        .config
        .grades
        .clone()
        .unwrap_or_else(|| input.scoring.grades.clone());
    let grade_of = |s: f64| -> Option<Grade> {
        let mut g = grades.clone();
        g.sort_by(|a, b| b.min.total_cmp(&a.min));
        g.into_iter().find(|g| s >= g.min)
    };
    // Per run, per department: the run's department scorecard.
    let mut dept_runs: BTreeMap<String, Vec<(DateTime<Utc>, String, crate::score::Scorecard)>> =
        BTreeMap::new();
    for ((t, run), counts) in &year_runs {
        let scores = score_counts(counts, run, input.scoring);
        for d in scores.departments {
            dept_runs
                .entry(d.id.clone())
                .or_default()
                .push((*t, run.to_string(), d));
        }
    }
    // Rectification at the year's last run (history up to it).
    let last_run = year_runs.last().map(|((_, r), _)| r.to_string());
    let rects = match &last_run {
        Some(r) => {
            let upto: Vec<RuleCount> = all
                .iter()
                .filter(|c| c.as_of <= input.as_of)
                .cloned()
                .collect();
            rectifications(&upto, r, input.profile.rectification, input.calendar, tz)
                .map_err(|e| e.to_string())?
        }
        None => vec![],
    };
    let mut departments = vec![];
    for (dept, runs) in &dept_runs {
        // Quality: mean of the year's run scores.
        let scores: Vec<f64> = runs.iter().filter_map(|(_, _, c)| c.score).collect();
        let quality =
            (!scores.is_empty()).then(|| round2(scores.iter().sum::<f64>() / scores.len() as f64));
        // Timeliness: deliveries on time / due.
        let (due, on_time) = year_runs
            .iter()
            .flat_map(|(_, cs)| cs.iter())
            .filter(|c| c.department == *dept && c.rule == "_delivery")
            .fold((0i64, 0i64), |(d, o), c| {
                (d + c.evaluated, o + c.evaluated - c.failed)
            });
        let timeliness = (due > 0).then(|| round2(100.0 * on_time as f64 / due as f64));
        // Rectification: items opened in the year, closed by their due date.
        let mine: Vec<&crate::score::Rectification> = rects
            .iter()
            .filter(|r| r.department == *dept && r.opened_on.year() == input.year)
            .collect();
        let on_time_closed = mine.iter().filter(|r| r.status == "closed").count();
        let late_closed = mine.iter().filter(|r| r.status == "closed_late").count();
        let open = mine.iter().filter(|r| r.status == "open").count();
        let overdue = mine.iter().filter(|r| r.status == "overdue").count();
        let rect_score =
            (!mine.is_empty()).then(|| round2(100.0 * on_time_closed as f64 / mine.len() as f64));
        let weight = |k: &str| input.config.weights.get(k).copied().unwrap_or(0.0);
        let components = vec![
            Component {
                name: "quality".into(),
                name_zh: zh("quality").into(),
                score: quality,
                weight: weight("quality"),
                basis: format!("mean of {} run scores", scores.len()),
            },
            Component {
                name: "timeliness".into(),
                name_zh: zh("timeliness").into(),
                score: timeliness,
                weight: weight("timeliness"),
                basis: format!("{on_time} of {due} deliveries on time"),
            },
            Component {
                name: "rectification".into(),
                name_zh: zh("rectification").into(),
                score: rect_score,
                weight: weight("rectification"),
                basis: format!(
                    "{} items opened: {on_time_closed} closed on time, {late_closed} late, {open} open, {overdue} overdue",
                    mine.len()
                ),
            },
            Component {
                name: "catalog".into(),
                name_zh: zh("catalog").into(),
                score: None,
                weight: weight("catalog"),
                basis: "not assessable: pdq has no catalog findings yet (catalog harvesting)"
                    .into(),
            },
            Component {
                name: "one_source".into(),
                name_zh: zh("one_source").into(),
                score: None,
                weight: weight("one_source"),
                basis: "not assessable: pdq has no one-source findings yet".into(),
            },
        ];
        let (num, den) = components
            .iter()
            .filter_map(|c| c.score.map(|s| (s * c.weight, c.weight)))
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        let score = (den > 0.0).then(|| round2(num / den));
        let g = score.and_then(grade_of);
        // Monthly checkpoints: the last run of each month.
        let mut monthly: BTreeMap<String, Checkpoint> = BTreeMap::new();
        for (t, run, c) in runs {
            let month = t.with_timezone(&tz).format("%Y-%m").to_string();
            monthly.insert(
                month.clone(),
                Checkpoint {
                    month,
                    run_id: run.clone(),
                    score: c.score,
                },
            );
        }
        // Dimensions: mean over runs of the department's dimension scores.
        let mut dims: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut dim_names: BTreeSet<String> = BTreeSet::new();
        for (_, _, c) in runs {
            for d in &c.dimensions {
                dim_names.insert(d.dimension.clone());
                if let Some(s) = d.score {
                    dims.entry(d.dimension.clone()).or_default().push(s);
                }
            }
        }
        let dimensions = dim_names
            .into_iter()
            .map(|d| {
                let v = dims
                    .get(&d)
                    .filter(|v| !v.is_empty())
                    .map(|v| round2(v.iter().sum::<f64>() / v.len() as f64));
                (d, v)
            })
            .collect();
        // Indicators: A and B summed over the year's runs.
        let mut indicators: Vec<Indicator> = runs
            .first()
            .map(|(_, _, c)| c.indicators.clone())
            .unwrap_or_default();
        for i in &mut indicators {
            i.a = 0;
            i.b = 0;
        }
        for (_, _, c) in runs {
            for (i, x) in indicators.iter_mut().zip(&c.indicators) {
                i.a += x.a;
                i.b += x.b;
            }
        }
        for i in &mut indicators {
            let assessable = i.name_en != "accessibility" && i.b > 0;
            i.x = assessable.then(|| i.a as f64 / i.b as f64);
        }
        departments.push(DepartmentEvaluation {
            department: dept.clone(),
            score,
            grade: g.as_ref().map(|g| g.name.clone()),
            grade_en: g.map(|g| g.en),
            rank: None,
            components,
            monthly: monthly.into_values().collect(),
            dimensions,
            indicators,
            rectification: [mine.len(), on_time_closed, late_closed, open, overdue],
            previous_year: None,
            runs: runs.iter().map(|(_, r, _)| r.clone()).collect(),
        });
    }
    let mut scores: Vec<f64> = departments.iter().filter_map(|d| d.score).collect();
    scores.sort_by(|a, b| b.total_cmp(a));
    for d in &mut departments {
        d.rank = d
            .score
            .map(|s| 1 + scores.iter().filter(|x| **x > s).count());
    }
    departments.sort_by(|a, b| {
        (a.rank.unwrap_or(usize::MAX), &a.department)
            .cmp(&(b.rank.unwrap_or(usize::MAX), &b.department))
    });
    let passing = grades
        .iter()
        .filter(|g| g.min > 0.0)
        .map(|g| g.min)
        .fold(f64::INFINITY, f64::min);
    let below_passing = departments
        .iter()
        .filter(|d| d.score.is_none_or(|s| s < passing))
        .map(|d| d.department.clone())
        .collect();
    let config =
        serde_json::json!({"evaluation": input.config, "scoring": input.scoring, "grades": grades});
    let config_version = hex::encode(Sha256::digest(config.to_string()));
    let rules_versions: BTreeSet<String> = year_runs
        .iter()
        .flat_map(|(_, cs)| cs.iter().map(|c| c.rules_version.clone()))
        .collect();
    let corrections: Vec<Correction> = input
        .corrections
        .iter()
        .filter(|c| year_runs.iter().any(|((_, r), _)| *r == c.run_id))
        .cloned()
        .collect();
    let mut e = Evaluation {
        id: String::new(),
        year: input.year,
        as_of: input.as_of,
        profile: input.profile.id.clone(),
        config,
        config_version,
        rules_versions: rules_versions.into_iter().collect(),
        table_version: input.table_version,
        corrections,
        departments,
        below_passing,
        runs: year_runs.len(),
    };
    e.id = hex::encode(&Sha256::digest(serde_json::to_vec(&e).unwrap_or_default())[..8]);
    Ok(e)
}

/// Sets each department's previous-year score from an evaluation of the year before.
pub fn compare_with(current: &mut Evaluation, previous: &Evaluation) {
    for d in &mut current.departments {
        d.previous_year = previous
            .departments
            .iter()
            .find(|p| p.department == d.department)
            .and_then(|p| p.score);
    }
}

#[cfg(test)]
mod tests;

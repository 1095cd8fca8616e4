//! The annual evaluation for assessors: per department, from stored counts
//! and corrections only (no data is re-read), the year's score and grade
//! with monthly checkpoints, rank, and the components behind it:
//!
//! | component | from | score |
//! |---|---|---|
//! | data quality | every run's department scorecard | mean of the year's run scores |
//! | aggregation and timeliness | every run's `_delivery` count per dataset | 100 × deliveries on time / deliveries due |
//! | rectification | the rectification list at the year's last run | 100 × items opened in the year and closed by their due date / items opened |
//! | catalog management | every run's catalog summary (`_pdq/catalog_summary`) | mean over the year's runs of 100 × entries without findings / (entries + datasets not catalogued) |
//! | one-source compliance | every run's `_onesource_consistency` count per dataset | 100 × copies agreeing with the authority / copies compared; not assessable for a department that copies nothing |
//! | objections | objections filed in the year (`_pdq/objections`), in their state at the as-of time | 100 × steps with a deadline done on time / steps due (forwarding, verifying, correcting); not assessable without such steps |
//!
//! The total is the weighted mean of the assessable components (weights
//! renormalised); a component pdq cannot assess is shown as such, never
//! scored. The result names every input (configuration version, rule-set
//! versions, the run ids, the stored table's version, the corrections
//! applied) and its id is the hash of them, so re-running it gives the
//! same result and a changed input gives a new, differently labelled one.

pub mod report;
pub mod store;
pub mod year;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::calendar::WorkCalendar;
use crate::profile::Profile;
use crate::score::{
    DimensionScore, Grade, Indicator, Rectification, RuleCount, ScoringConfig, dimension_zh,
    indicators_from, ordered_dimensions, rectifications_of, regulation_dimension,
};

pub use crate::score::{Counts, Row};

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
        ("objections", 0.1),
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
    /// Objections filed in the year against its data, in their state at
    /// the as-of time.
    #[serde(default)]
    pub objections: crate::objection::ObjectionTally,
    /// The previous year's score, if evaluated from the same store.
    pub previous_year: Option<f64>,
    /// Evidence: the runs behind these numbers.
    pub runs: Vec<String>,
    /// Evidence: every rule behind the quality score, over the year.
    pub rules: Vec<RuleEvidence>,
}

/// One rule of a department over the year: how often it was checked and
/// failed, and its last result (the rows behind it are in the runs' published results).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleEvidence {
    /// `department.dataset`.
    pub dataset: String,
    /// The rule.
    pub rule: String,
    /// Its dimension.
    pub dimension: String,
    /// Runs that checked it.
    pub runs: usize,
    /// Runs where it was at `fail`.
    pub runs_failed: usize,
    /// Rows failed / evaluated over the year.
    pub failed: i64,
    /// Rows evaluated over the year.
    pub evaluated: i64,
    /// The last run that checked it, and whether it failed there.
    pub last_run: String,
    /// At `fail` in the last run.
    pub last_failed: bool,
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
    /// Catalog summaries per run and department (runs not among the
    /// counts' runs are ignored).
    pub catalog: &'a [CatalogSummary],
    /// Every objection, in its state at `as_of` (those filed in the year
    /// are counted).
    pub objections: &'a [crate::objection::Objection],
}

/// One department's catalog as one run found it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogSummary {
    /// The run.
    pub run_id: String,
    /// Its as-of time.
    pub as_of: DateTime<Utc>,
    /// The department.
    pub department: String,
    /// Its entries in force.
    pub entries: i64,
    /// Entries with at least one finding.
    pub entries_with_findings: i64,
    /// Its datasets with no catalog entry.
    pub uncatalogued: i64,
    /// Findings about it, all kinds.
    pub findings: i64,
}

/// Catalog management: the mean over the year's runs of 100 × entries
/// without findings / (entries + datasets not catalogued).
fn catalog_component(
    input: &EvaluationInput,
    dept: &str,
    runs: &BTreeSet<&str>,
    weight: f64,
) -> Component {
    let mine: Vec<&CatalogSummary> = input
        .catalog
        .iter()
        .filter(|c| c.department == dept && runs.contains(c.run_id.as_str()))
        .collect();
    let per_run: Vec<f64> = mine
        .iter()
        .filter(|c| c.entries + c.uncatalogued > 0)
        .map(|c| {
            100.0 * (c.entries - c.entries_with_findings) as f64
                / (c.entries + c.uncatalogued) as f64
        })
        .collect();
    let score =
        (!per_run.is_empty()).then(|| round2(per_run.iter().sum::<f64>() / per_run.len() as f64));
    let basis = match mine.iter().max_by_key(|c| c.as_of) {
        Some(last) => format!(
            "mean of {} runs; at the last, {} of {} entries without findings, {} datasets not catalogued",
            per_run.len(),
            last.entries - last.entries_with_findings,
            last.entries,
            last.uncatalogued
        ),
        None => "not assessable: no catalog harvested in the year".into(),
    };
    Component {
        name: "catalog".into(),
        name_zh: zh("catalog").into(),
        score,
        weight,
        basis,
    }
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
        "objections" => "异议处理",
        _ => "其他",
    }
}

/// Applies corrections to the counts (the latest per run, dataset and rule wins).
fn apply_corrections(counts: &mut Counts, corrections: &[Correction]) {
    let mut latest: BTreeMap<(u32, u32, u32), &Correction> = BTreeMap::new();
    for c in corrections {
        let (Some(r), Some(d), Some(u)) = (
            counts.runs.get(&c.run_id),
            counts.datasets.get(&c.dataset),
            counts.rules.get(&c.rule),
        ) else {
            continue;
        };
        if latest.get(&(r, d, u)).is_none_or(|o| o.at <= c.at) {
            latest.insert((r, d, u), c);
        }
    }
    if latest.is_empty() {
        return;
    }
    for row in &mut counts.rows {
        if let Some(c) = latest.get(&(row.run, row.dataset, row.rule)) {
            row.evaluated = c.evaluated;
            row.failed = c.failed;
            row.status = match (c.failed, row.status) {
                (0, _) => 0,
                (_, 0) => 2,
                (_, s) => s,
            };
        }
    }
}

/// A department's scorecard figures for one run (what the year needs).
struct DeptRun {
    score: Option<f64>,
    dimensions: Vec<DimensionScore>,
    indicators: Vec<Indicator>,
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Dimension scores and the weighted score of a set of rows, exactly as
/// `score::card_for` computes them.
fn card(
    counts: &Counts,
    rows: &[&Row],
    config: &ScoringConfig,
    order: &[(&String, &f64)],
) -> (Vec<DimensionScore>, Option<f64>) {
    let mut dims = Vec::with_capacity(order.len());
    for (d, w) in order {
        let mut scores = vec![];
        let mut n = 0;
        for r in rows {
            if regulation_dimension(counts.dimensions.name(r.dimension)) == d.as_str() {
                n += 1;
                if r.evaluated > 0 {
                    scores.push(100.0 * ((r.evaluated - r.failed) as f64 / r.evaluated as f64));
                }
            }
        }
        dims.push(DimensionScore {
            dimension: (*d).clone(),
            name_zh: dimension_zh(d).into(),
            score: mean(&scores).map(round2),
            weight: **w,
            rules: n,
        });
    }
    let _ = config;
    let (num, den) = dims
        .iter()
        .filter_map(|d| d.score.map(|s| (s * d.weight, d.weight)))
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    (dims, (den > 0.0).then(|| round2(num / den)))
}

fn indicators_of(counts: &Counts, rows: &[&Row]) -> Vec<Indicator> {
    let triples: Vec<(&str, i64, i64)> = rows
        .iter()
        .map(|r| (counts.dimensions.name(r.dimension), r.evaluated, r.failed))
        .collect();
    indicators_from(&triples)
}

/// Every department's figures for one run (rows of that run, in canonical order).
fn score_run_rows(counts: &Counts, rows: &[Row], config: &ScoringConfig) -> BTreeMap<u32, DeptRun> {
    let order = ordered_dimensions(config);
    let mut by_dataset: BTreeMap<u32, Vec<&Row>> = BTreeMap::new();
    let mut by_dept: BTreeMap<u32, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        by_dataset.entry(r.dataset).or_default().push(r);
        by_dept.entry(r.department).or_default().push(r);
    }
    let mut dataset_scores: BTreeMap<u32, Vec<(u32, Option<f64>)>> = BTreeMap::new();
    // Datasets in name order, as scorecards are.
    let mut datasets: Vec<(&str, u32, &Vec<&Row>)> = by_dataset
        .iter()
        .map(|(d, rs)| (counts.datasets.name(*d), *d, rs))
        .collect();
    datasets.sort_by(|a, b| a.0.cmp(b.0));
    for (_, d, rs) in datasets {
        let (_, score) = card(counts, rs, config, &order);
        dataset_scores
            .entry(rs[0].department)
            .or_default()
            .push((d, score));
    }
    let mut out = BTreeMap::new();
    for (dept, rs) in by_dept {
        let (dimensions, _) = card(counts, &rs, config, &order);
        let (num, den) = dataset_scores
            .get(&dept)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .filter_map(|(d, s)| {
                let w = config
                    .dataset_weights
                    .get(counts.datasets.name(*d))
                    .copied()
                    .unwrap_or(1.0);
                s.map(|s| (s * w, w))
            })
            .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
        out.insert(
            dept,
            DeptRun {
                score: (den > 0.0).then(|| round2(num / den)),
                dimensions,
                indicators: indicators_of(counts, &rs),
            },
        );
    }
    out
}

/// Every rule of every department over the year's runs, in one pass:
/// department → rules in dataset and rule order.
fn evidence(
    counts: &Counts,
    year_runs: &[u32],
    by_run: &BTreeMap<u32, (usize, usize)>,
) -> BTreeMap<u32, Vec<RuleEvidence>> {
    // (department, dataset, rule) → (runs, runs failed, failed, evaluated, last run, last failed, dimension)
    type Acc = (usize, usize, i64, i64, u32, bool, u32);
    let mut acc: std::collections::HashMap<(u32, u32, u32), Acc> = std::collections::HashMap::new();
    for run in year_runs {
        let Some((lo, hi)) = by_run.get(run) else {
            continue;
        };
        for r in &counts.rows[*lo..*hi] {
            let e = acc.entry((r.department, r.dataset, r.rule)).or_insert((
                0,
                0,
                0,
                0,
                *run,
                false,
                r.dimension,
            ));
            e.0 += 1;
            e.1 += (r.status == 2) as usize;
            e.2 += r.failed;
            e.3 += r.evaluated;
            e.4 = *run;
            e.5 = r.status == 2;
        }
    }
    let mut out: BTreeMap<u32, Vec<RuleEvidence>> = BTreeMap::new();
    for ((dept, dataset, rule), (runs, runs_failed, failed, evaluated, last, last_failed, dim)) in
        acc
    {
        out.entry(dept).or_default().push(RuleEvidence {
            dataset: counts.datasets.name(dataset).to_string(),
            rule: counts.rules.name(rule).to_string(),
            dimension: counts.dimensions.name(dim).to_string(),
            runs,
            runs_failed,
            failed,
            evaluated,
            last_run: counts.runs.name(last).to_string(),
            last_failed,
        });
    }
    for rules in out.values_mut() {
        rules.sort_by(|a, b| (&a.dataset, &a.rule).cmp(&(&b.dataset, &b.rule)));
    }
    out
}

/// Evaluates a year from owned counts (see [`evaluate_counts`]).
pub fn evaluate(input: &EvaluationInput) -> Result<Evaluation, String> {
    let counts = Counts::from_counts(input.history);
    evaluate_counts(counts, input)
}

/// Evaluates a year from compact counts (`input.history` is not read).
pub fn evaluate_counts(mut counts: Counts, input: &EvaluationInput) -> Result<Evaluation, String> {
    apply_corrections(&mut counts, input.corrections);
    counts.normalize();
    // Row ranges per run (rows are in canonical run order).
    let by_run = counts.run_ranges();
    let year_runs = runs_in_year(&counts, input);
    let grades = input
        .config
        .grades
        .clone()
        .unwrap_or_else(|| input.scoring.grades.clone());
    let dept_runs = department_runs(&counts, &year_runs, &by_run, input.scoring);
    let rects = match year_runs.last() {
        Some(last) => rectifications_of(
            &counts,
            *last,
            input.profile.rectification,
            input.calendar,
            input.tz,
        )
        .map_err(|e| e.to_string())?,
        None => vec![],
    };
    let mut evidence_by_dept = evidence(&counts, &year_runs, &by_run);
    let year_run_ids: BTreeSet<&str> = year_runs.iter().map(|r| counts.runs.name(*r)).collect();
    let year = Year {
        counts: &counts,
        input,
        grades: &grades,
        rects: &rects,
        run_ids: &year_run_ids,
    };
    let mut departments = vec![];
    for (dept_idx, runs) in &dept_runs {
        let rules = evidence_by_dept.remove(dept_idx).unwrap_or_default();
        departments.push(evaluate_department(&year, *dept_idx, runs, rules));
    }
    rank(&mut departments);
    let below_passing = below_passing(&departments, &grades);
    let config =
        serde_json::json!({"evaluation": input.config, "scoring": input.scoring, "grades": grades});
    let config_version = hex::encode(Sha256::digest(config.to_string()));
    let rules_versions: BTreeSet<String> = year_runs
        .iter()
        .flat_map(|r| counts.rules_versions[*r as usize].iter().cloned())
        .collect();
    let corrections: Vec<Correction> = input
        .corrections
        .iter()
        .filter(|c| year_run_ids.contains(c.run_id.as_str()))
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

/// The runs of the evaluated year up to its as-of time, in canonical run order.
fn runs_in_year(counts: &Counts, input: &EvaluationInput) -> Vec<u32> {
    let in_year = |run: u32| {
        let t = counts.run_as_of[run as usize];
        t.with_timezone(&input.tz).year() == input.year && t <= input.as_of
    };
    counts
        .run_order()
        .iter()
        .copied()
        .filter(|r| in_year(*r))
        .collect()
}

/// One department's figures in one run: (as-of, run, figures).
type RunFigures = (DateTime<Utc>, u32, DeptRun);

/// Per department: (as-of, run, figures) for every run of the year.
fn department_runs(
    counts: &Counts,
    year_runs: &[u32],
    by_run: &BTreeMap<u32, (usize, usize)>,
    scoring: &ScoringConfig,
) -> BTreeMap<u32, Vec<RunFigures>> {
    let mut dept_runs: BTreeMap<u32, Vec<RunFigures>> = BTreeMap::new();
    for run in year_runs {
        let Some((lo, hi)) = by_run.get(run) else {
            continue;
        };
        for (dept, figures) in score_run_rows(counts, &counts.rows[*lo..*hi], scoring) {
            dept_runs.entry(dept).or_default().push((
                counts.run_as_of[*run as usize],
                *run,
                figures,
            ));
        }
    }
    dept_runs
}

/// What every department's evaluation reads about the year.
struct Year<'a> {
    counts: &'a Counts,
    input: &'a EvaluationInput<'a>,
    /// Grade bands in force.
    grades: &'a [Grade],
    /// Rectification items as of the year's last run.
    rects: &'a [Rectification],
    /// The year's run ids.
    run_ids: &'a BTreeSet<&'a str>,
}

/// The grade band a score falls in (the highest band whose minimum it reaches).
fn grade_of(grades: &[Grade], s: f64) -> Option<Grade> {
    let mut g = grades.to_vec();
    g.sort_by(|a, b| b.min.total_cmp(&a.min));
    g.into_iter().find(|g| s >= g.min)
}

/// One department's evaluation (unranked) from its runs and rule evidence.
fn evaluate_department(
    year: &Year,
    dept_idx: u32,
    runs: &[RunFigures],
    rules: Vec<RuleEvidence>,
) -> DepartmentEvaluation {
    let dept = year.counts.departments.name(dept_idx).to_string();
    let mine: Vec<&Rectification> = year
        .rects
        .iter()
        .filter(|r| r.department == dept && r.opened_on.year() == year.input.year)
        .collect();
    let rectification = rectification_tally(&mine);
    let mut objections = crate::objection::ObjectionTally::default();
    for o in year.input.objections.iter().filter(|o| {
        o.responsible == dept && o.filed.with_timezone(&year.input.tz).year() == year.input.year
    }) {
        objections.add(o);
    }
    let mut components = components(year, &dept, runs, &rules, rectification);
    components.push(objection_component(&objections, year.input.config));
    let (num, den) = components
        .iter()
        .filter_map(|c| c.score.map(|s| (s * c.weight, c.weight)))
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let score = (den > 0.0).then(|| round2(num / den));
    let g = score.and_then(|s| grade_of(year.grades, s));
    DepartmentEvaluation {
        department: dept,
        score,
        grade: g.as_ref().map(|g| g.name.clone()),
        grade_en: g.map(|g| g.en),
        rank: None,
        components,
        monthly: monthly_checkpoints(year.counts, runs, year.input.tz),
        dimensions: mean_dimensions(runs),
        indicators: summed_indicators(runs),
        rectification,
        objections,
        previous_year: None,
        runs: runs
            .iter()
            .map(|(_, r, _)| year.counts.runs.name(*r).to_string())
            .collect(),
        rules,
    }
}

/// A department's rectification items opened in the year: [opened, closed on
/// time, closed late, open, overdue].
fn rectification_tally(mine: &[&Rectification]) -> [usize; 5] {
    let count = |status: &str| mine.iter().filter(|r| r.status == status).count();
    [
        mine.len(),
        count("closed"),
        count("closed_late"),
        count("open"),
        count("overdue"),
    ]
}

/// The year's (evaluated, evaluated − failed) totals of one stage rule.
fn rule_totals(rules: &[RuleEvidence], rule: &str) -> (i64, i64) {
    rules
        .iter()
        .filter(|r| r.rule == rule)
        .fold((0i64, 0i64), |(d, o), r| {
            (d + r.evaluated, o + r.evaluated - r.failed)
        })
}

/// The five weighted components of a department's evaluation.
fn components(
    year: &Year,
    dept: &str,
    runs: &[RunFigures],
    rules: &[RuleEvidence],
    rectification: [usize; 5],
) -> Vec<Component> {
    let scores: Vec<f64> = runs.iter().filter_map(|(_, _, c)| c.score).collect();
    let quality =
        (!scores.is_empty()).then(|| round2(scores.iter().sum::<f64>() / scores.len() as f64));
    // Deliveries due and on time: the year's `_delivery` counts.
    let (due, on_time) = rule_totals(rules, crate::score::stage_rules::DELIVERY);
    let timeliness = (due > 0).then(|| round2(100.0 * on_time as f64 / due as f64));
    // One source: the year's `_onesource_consistency` counts (copies of
    // authority attributes compared with the authority, and conflicts).
    let (compared, agreeing) = rule_totals(rules, crate::score::stage_rules::ONESOURCE_CONSISTENCY);
    let one_source = (compared > 0).then(|| round2(100.0 * agreeing as f64 / compared as f64));
    let [opened, on_time_closed, late_closed, open, overdue] = rectification;
    let rect_score = (opened != 0).then(|| round2(100.0 * on_time_closed as f64 / opened as f64));
    let weight = |k: &str| year.input.config.weights.get(k).copied().unwrap_or(0.0);
    vec![
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
                "{opened} items opened: {on_time_closed} closed on time, {late_closed} late, {open} open, {overdue} overdue"
            ),
        },
        catalog_component(year.input, dept, year.run_ids, weight("catalog")),
        Component {
            name: "one_source".into(),
            name_zh: zh("one_source").into(),
            score: one_source,
            weight: weight("one_source"),
            basis: if compared > 0 {
                format!("{agreeing} of {compared} copies agree with their authoritative source")
            } else {
                "not assessable: the department holds no copy of another department's data".into()
            },
        },
    ]
}

/// Objection handling: 100 × steps with a deadline done on time / steps
/// due (done, or past due and not done).
fn objection_component(
    o: &crate::objection::ObjectionTally,
    config: &EvaluationConfig,
) -> Component {
    let due = o.steps_on_time + o.steps_late + o.steps_overdue;
    Component {
        name: "objections".into(),
        name_zh: zh("objections").into(),
        score: o.on_time_rate(),
        weight: config.weights.get("objections").copied().unwrap_or(0.0),
        basis: if due > 0 {
            format!(
                "{} objections filed, {} open, {} overdue; {} of {due} steps with a deadline on time ({} late, {} overdue)",
                o.filed, o.open, o.overdue, o.steps_on_time, o.steps_late, o.steps_overdue
            )
        } else {
            format!(
                "not assessable: {} objections filed, no step with a deadline due (the profile's text sets none, or none was due yet)",
                o.filed
            )
        },
    }
}

/// The last run's score in each month of the year.
fn monthly_checkpoints(counts: &Counts, runs: &[RunFigures], tz: Tz) -> Vec<Checkpoint> {
    let mut monthly: BTreeMap<String, Checkpoint> = BTreeMap::new();
    for (t, run, c) in runs {
        let month = t.with_timezone(&tz).format("%Y-%m").to_string();
        monthly.insert(
            month.clone(),
            Checkpoint {
                month,
                run_id: counts.runs.name(*run).to_string(),
                score: c.score,
            },
        );
    }
    monthly.into_values().collect()
}

/// Each dimension's mean score over the year's runs (`None` where no run
/// could score it).
fn mean_dimensions(runs: &[RunFigures]) -> BTreeMap<String, Option<f64>> {
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
    dim_names
        .into_iter()
        .map(|d| {
            let v = dims
                .get(&d)
                .filter(|v| !v.is_empty())
                .map(|v| round2(v.iter().sum::<f64>() / v.len() as f64));
            (d, v)
        })
        .collect()
}

/// The indicators summed over the year's runs.
fn summed_indicators(runs: &[RunFigures]) -> Vec<Indicator> {
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
    indicators
}

/// Ranks the departments by score (ties share a rank; unscored last) and
/// sorts them by rank, then name.
fn rank(departments: &mut [DepartmentEvaluation]) {
    let mut scores: Vec<f64> = departments.iter().filter_map(|d| d.score).collect();
    scores.sort_by(|a, b| b.total_cmp(a));
    for d in departments.iter_mut() {
        d.rank = d
            .score
            .map(|s| 1 + scores.iter().filter(|x| **x > s).count());
    }
    departments.sort_by(|a, b| {
        (a.rank.unwrap_or(usize::MAX), &a.department)
            .cmp(&(b.rank.unwrap_or(usize::MAX), &b.department))
    });
}

/// Departments scoring below the lowest passing band (or not scored).
fn below_passing(departments: &[DepartmentEvaluation], grades: &[Grade]) -> Vec<String> {
    let passing = grades
        .iter()
        .filter(|g| g.min > 0.0)
        .map(|g| g.min)
        .fold(f64::INFINITY, f64::min);
    departments
        .iter()
        .filter(|d| d.score.is_none_or(|s| s < passing))
        .map(|d| d.department.clone())
        .collect()
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

//! Hand-computed cases of the scoring formula, grades, ranks, changes and
//! rectification items.

use chrono::{NaiveDate, TimeZone, Utc};

use super::*;
use crate::calendar::WorkCalendar;
use crate::profile::{DayUnit, Deadline};

#[allow(clippy::too_many_arguments)] // one row of a hand-written table
fn c(
    run: &str,
    day: u32,
    dataset: &str,
    rule: &str,
    dim: &str,
    evaluated: i64,
    failed: i64,
    status: &str,
) -> RuleCount {
    RuleCount {
        run_id: run.into(),
        // 02:30 Beijing time on that day of February 2026.
        as_of: Utc.with_ymd_and_hms(2026, 2, day, 0, 0, 0).unwrap()
            - chrono::Duration::minutes(330),
        dataset: dataset.into(),
        department: dataset.split('.').next().unwrap().into(),
        rule: rule.into(),
        dimension: dim.into(),
        check: "x".into(),
        evaluated,
        failed,
        status: status.into(),
        rules_version: "v1".into(),
        table_version: Some(1),
    }
}

/// Run r1: gongan.a has completeness 90/100 and 100/100, validity 80/100;
/// uniqueness 50/50 counts as accuracy. gongan.b: validity 1/2 failed.
/// minzheng.c: timeliness 0/1 evaluated → not assessable; completeness 10/10.
fn history() -> Vec<RuleCount> {
    vec![
        c("r1", 12, "gongan.a", "c1", "completeness", 100, 10, "fail"),
        c("r1", 12, "gongan.a", "c2", "completeness", 100, 0, "pass"),
        c("r1", 12, "gongan.a", "v1", "validity", 100, 20, "fail"),
        c("r1", 12, "gongan.a", "u1", "uniqueness", 50, 0, "pass"),
        c("r1", 12, "gongan.b", "v1", "validity", 2, 1, "fail"),
        c("r1", 12, "minzheng.c", "t1", "timeliness", 0, 0, "pass"),
        c("r1", 12, "minzheng.c", "k1", "completeness", 10, 0, "pass"),
        // r2: gongan.a's validity fixed, gongan.b unchanged.
        c("r2", 13, "gongan.a", "c1", "completeness", 100, 10, "fail"),
        c("r2", 13, "gongan.a", "c2", "completeness", 100, 0, "pass"),
        c("r2", 13, "gongan.a", "v1", "validity", 100, 0, "pass"),
        c("r2", 13, "gongan.a", "u1", "uniqueness", 50, 0, "pass"),
        c("r2", 13, "gongan.b", "v1", "validity", 2, 1, "fail"),
        c("r2", 13, "minzheng.c", "k1", "completeness", 10, 0, "pass"),
    ]
}

#[test]
fn the_formula_by_hand() {
    let s = score_run(&history(), "r1", &ScoringConfig::default());
    let a = s.datasets.iter().find(|d| d.id == "gongan.a").unwrap();
    let dim = |card: &Scorecard, d: &str| {
        card.dimensions
            .iter()
            .find(|x| x.dimension == d)
            .unwrap()
            .score
    };
    // completeness = mean(90, 100) = 95; validity 80; accuracy (uniqueness) 100.
    assert_eq!(dim(a, "completeness"), Some(95.0));
    assert_eq!(dim(a, "validity"), Some(80.0));
    assert_eq!(dim(a, "accuracy"), Some(100.0));
    assert_eq!(dim(a, "timeliness"), None, "no rule: not assessable");
    // Equal weights over the three assessable dimensions: (95 + 80 + 100) / 3.
    assert_eq!(a.score, Some(91.67));
    assert_eq!(a.grade.as_deref(), Some("优秀"));
    let b = s.datasets.iter().find(|d| d.id == "gongan.b").unwrap();
    assert_eq!(b.score, Some(50.0));
    assert_eq!(b.grade.as_deref(), Some("不合格"));
    // minzheng.c: timeliness evaluated nothing → left out; completeness 100.
    let m = s.datasets.iter().find(|d| d.id == "minzheng.c").unwrap();
    assert_eq!(dim(m, "timeliness"), None);
    assert_eq!(m.score, Some(100.0));
    // Department gongan: mean of its datasets, equal weights: (91.67 + 50) / 2.
    let g = s.departments.iter().find(|d| d.id == "gongan").unwrap();
    assert_eq!(g.score, Some(70.84));
    assert_eq!(g.grade.as_deref(), Some("合格"));
    // Ranks: minzheng 100 first, gongan second.
    assert_eq!(
        s.departments
            .iter()
            .map(|d| (d.id.as_str(), d.rank))
            .collect::<Vec<_>>(),
        vec![("minzheng", Some(1)), ("gongan", Some(2))]
    );
    // Findings name the responsible department.
    assert_eq!(g.findings.len(), 3);
    assert!(g.findings.iter().all(|f| f.department == "gongan"));
}

#[test]
fn weights_and_bands_are_configuration() {
    let mut cfg = ScoringConfig::default();
    cfg.dimension_weights.insert("validity".into(), 3.0);
    cfg.dataset_weights.insert("gongan.a".into(), 3.0);
    let s = score_run(&history(), "r1", &cfg);
    let a = s.datasets.iter().find(|d| d.id == "gongan.a").unwrap();
    // (95 + 3 × 80 + 100) / 5 = 87.
    assert_eq!(a.score, Some(87.0));
    assert_eq!(a.grade.as_deref(), Some("良好"));
    // gongan = (3 × 87 + 1 × 50) / 4 = 77.75.
    let g = s.departments.iter().find(|d| d.id == "gongan").unwrap();
    assert_eq!(g.score, Some(77.75));
    assert_ne!(
        cfg.version(),
        ScoringConfig::default().version(),
        "a changed configuration is labelled"
    );
    // Bands: 60 exactly is 合格.
    assert_eq!(cfg.grade(60.0).unwrap().name, "合格");
    assert_eq!(cfg.grade(59.99).unwrap().name, "不合格");
}

#[test]
fn ties_share_a_rank_and_changes_are_against_the_previous_run() {
    let mut h = history();
    h.push(c("r1", 12, "weijian.d", "k", "completeness", 10, 0, "pass"));
    let s = score_run(&h, "r1", &ScoringConfig::default());
    let ranks: Vec<(&str, Option<usize>)> = s
        .departments
        .iter()
        .map(|d| (d.id.as_str(), d.rank))
        .collect();
    assert_eq!(
        ranks,
        vec![
            ("minzheng", Some(1)),
            ("weijian", Some(1)),
            ("gongan", Some(3))
        ]
    );
    // r2: gongan.a validity fixed → a = (95 + 100 + 100) / 3 = 98.33 (+6.66).
    let s2 = score_run(&history(), "r2", &ScoringConfig::default());
    let a = s2.datasets.iter().find(|d| d.id == "gongan.a").unwrap();
    assert_eq!(a.score, Some(98.33));
    assert_eq!(a.delta, Some(6.66));
    let first = score_run(&history(), "r1", &ScoringConfig::default());
    assert!(
        first.datasets.iter().all(|d| d.delta.is_none()),
        "no previous run, no change"
    );
}

#[test]
fn gbt36344_indicators_are_a_over_b_and_never_silently_perfect() {
    let s = score_run(&history(), "r1", &ScoringConfig::default());
    let a = s.datasets.iter().find(|d| d.id == "gongan.a").unwrap();
    let ind = |n: &str| {
        a.indicators
            .iter()
            .find(|i| i.name_en == n)
            .unwrap()
            .clone()
    };
    assert_eq!((ind("normativity").a, ind("normativity").b), (80, 100));
    assert_eq!((ind("completeness").a, ind("completeness").b), (190, 200));
    assert_eq!(ind("completeness").x, Some(0.95));
    assert_eq!((ind("accuracy").a, ind("accuracy").b), (50, 50));
    assert_eq!(ind("timeliness").x, None);
    assert!(ind("timeliness").note.is_some());
    assert_eq!(ind("accessibility").x, None);
    assert!(ind("accessibility").note.unwrap().contains("access"));
}

#[test]
fn rescoring_is_a_pure_function_of_stored_counts() {
    let a = serde_json::to_string(&score_run(&history(), "r2", &ScoringConfig::default())).unwrap();
    let b = serde_json::to_string(&score_run(&history(), "r2", &ScoringConfig::default())).unwrap();
    assert_eq!(a, b);
}

#[test]
fn rectification_due_dates_carry_over_and_close() {
    let cal = WorkCalendar::embedded();
    let tz = chrono_tz::Asia::Shanghai;
    let five = Deadline {
        days: 5,
        unit: DayUnit::Working,
    };
    let d = |m: u32, day: u32| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    // Found on Thursday 12 February 2026, just before the Spring Festival
    // (off 15–23 Feb; Saturday 14 and 28 Feb worked): 13, 14, 24, 25, 26 → due 26 Feb.
    let r1 = rectifications(&history(), "r1", five, &cal, tz).unwrap();
    assert_eq!(r1.len(), 3);
    assert!(
        r1.iter()
            .all(|i| i.opened_on == d(2, 12) && i.due == d(2, 26)),
        "{r1:?}"
    );
    // r2 (13 Feb): gongan.a/v1 fixed → closed; the other two carried over, open.
    let r2 = rectifications(&history(), "r2", five, &cal, tz).unwrap();
    let st = |id: &str| r2.iter().find(|i| i.id == id).unwrap().clone();
    assert_eq!(st("gongan.a/v1").status, "closed");
    assert_eq!(st("gongan.a/v1").closed_on, Some(d(2, 13)));
    assert_eq!(st("gongan.a/c1").status, "open");
    assert_eq!(
        st("gongan.a/c1").opened_run,
        "r1",
        "carried over, not reopened"
    );
    // Still failing on 27 February: overdue.
    let mut h = history();
    h.push(c("r3", 27, "gongan.b", "v1", "validity", 2, 1, "fail"));
    h.push(c(
        "r3",
        27,
        "gongan.a",
        "c1",
        "completeness",
        100,
        0,
        "pass",
    ));
    let r3 = rectifications(&h, "r3", five, &cal, tz).unwrap();
    let st = |id: &str| r3.iter().find(|i| i.id == id).unwrap().clone();
    assert_eq!(st("gongan.b/v1").status, "overdue");
    assert_eq!(
        st("gongan.a/c1").status,
        "closed_late",
        "fixed on the 27th, due the 26th"
    );
    // A failure again after closing opens a new item.
    h.push(c(
        "r4",
        28,
        "gongan.a",
        "c1",
        "completeness",
        100,
        5,
        "fail",
    ));
    let r4 = rectifications(&h, "r4", five, &cal, tz).unwrap();
    assert_eq!(r4.iter().filter(|i| i.id == "gongan.a/c1").count(), 2);
}

/// Issue #17, 5: the quality dimensions a profile's text names reach the
/// scorecards with their article, each said measured or not: under 甘孜
/// (第四十二条: 合规性、真实性、完整性、准确性、时效性、可用性) a run whose
/// rules check completeness and validity leaves 合规性, 真实性 and 可用性
/// unmeasured, and the scorecards say so; under 新疆 (第十五条) every named
/// dimension a rule measured is marked so.
#[test]
fn the_dimensions_the_text_names_are_said_measured_or_not() {
    let scores = score_run(&history(), "r1", &ScoringConfig::default());
    let day = NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
    let measured: Vec<&str> = scores
        .departments
        .iter()
        .flat_map(|c| &c.dimensions)
        .filter(|d| d.score.is_some())
        .map(|d| d.dimension.as_str())
        .collect();
    assert!(measured.contains(&"completeness"), "{measured:?}");
    let ganzi = crate::profile::profile("ganzi-2025").unwrap();
    let mut p = ProfileInForce::of(&ganzi, day, true);
    assert_eq!(p.dimensions.len(), 6);
    assert!(p.dimensions.iter().all(|d| d.article == "第四十二条"));
    p.note_measured(&scores.departments);
    let unmeasured: Vec<&str> = p
        .unmeasured()
        .iter()
        .map(|d| d.dimension.as_str())
        .collect();
    for d in ["compliance", "authenticity", "usability"] {
        assert!(unmeasured.contains(&d), "{d} unmeasured: {unmeasured:?}");
    }
    assert!(!unmeasured.contains(&"completeness"), "{unmeasured:?}");
    let xinjiang = crate::profile::profile("xinjiang-2023").unwrap();
    let mut x = ProfileInForce::of(&xinjiang, day, true);
    x.note_measured(&scores.departments);
    for d in &x.dimensions {
        assert_eq!(d.article, "第十五条");
        assert_eq!(
            d.measured,
            measured.contains(&d.dimension.as_str()),
            "{d:?}"
        );
    }
    // 西藏 names no general list: nothing to say.
    let tibet = crate::profile::profile("tibet-2025").unwrap();
    assert!(ProfileInForce::of(&tibet, day, true).dimensions.is_empty());
}

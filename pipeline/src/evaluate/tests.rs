//! Hand-computed fixtures for every component and the weighting.

use chrono::{TimeZone, Utc};

use super::*;
use crate::profile::profile;

#[allow(clippy::too_many_arguments)] // one row of a hand-written table
fn c(
    run: &str,
    month: u32,
    day: u32,
    dataset: &str,
    rule: &str,
    dim: &str,
    evaluated: i64,
    failed: i64,
) -> RuleCount {
    RuleCount {
        run_id: run.into(),
        as_of: Utc.with_ymd_and_hms(2026, month, day, 2, 0, 0).unwrap(),
        dataset: dataset.into(),
        department: dataset.split('.').next().unwrap().into(),
        rule: rule.into(),
        dimension: dim.into(),
        check: "x".into(),
        evaluated,
        failed,
        status: if failed > 0 { "fail" } else { "pass" }.into(),
        rules_version: "v1".into(),
        table_version: None,
    }
}

/// Three runs in 2026 (March, June, June) and one in 2027.
/// gongan.a: completeness 100/100 → 90/100 → 100/100 (score 100, 90, 100);
/// deliveries: on time, late, on time.
/// minzheng.b: validity 50/100 in every run; deliveries always on time.
fn history() -> Vec<RuleCount> {
    let mut h = vec![];
    for (run, m, d, ga, gd) in [("r1", 3, 2, 0, 0), ("r2", 6, 1, 10, 1), ("r3", 6, 30, 0, 0)] {
        h.push(c(run, m, d, "gongan.a", "k", "completeness", 100, ga));
        h.push(c(run, m, d, "gongan.a", "_delivery", "timeliness", 1, gd));
        h.push(c(run, m, d, "minzheng.b", "v", "validity", 100, 50));
        h.push(c(run, m, d, "minzheng.b", "_delivery", "timeliness", 1, 0));
    }
    let mut next = c("r4", 1, 5, "gongan.a", "k", "completeness", 100, 100);
    next.as_of = Utc.with_ymd_and_hms(2027, 1, 5, 2, 0, 0).unwrap();
    h.push(next);
    h
}

fn run(history: &[RuleCount], corrections: &[Correction], cfg: &EvaluationConfig) -> Evaluation {
    let p = profile("xinjiang-2023").unwrap();
    let cal = WorkCalendar::embedded();
    let scoring = ScoringConfig::default();
    evaluate(&EvaluationInput {
        catalog: &[],
        history,
        corrections,
        year: 2026,
        as_of: Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap(),
        tz: chrono_tz::Asia::Shanghai,
        profile: &p,
        calendar: &cal,
        scoring: &scoring,
        config: cfg,
        table_version: Some(7),
        objections: &[],
    })
    .unwrap()
}

fn comp(d: &DepartmentEvaluation, name: &str) -> Option<f64> {
    d.components.iter().find(|c| c.name == name).unwrap().score
}

#[test]
fn every_component_by_hand() {
    let e = run(&history(), &[], &EvaluationConfig::default());
    assert_eq!(e.runs, 3, "2027's run is not in 2026");
    let g = e
        .departments
        .iter()
        .find(|d| d.department == "gongan")
        .unwrap();
    // Run scores: r1 completeness 100 + timeliness 100 → 100; r2: (90 + 0) / 2 = 45; r3: 100.
    // Quality = (100 + 45 + 100) / 3 = 81.67.
    assert_eq!(comp(g, "quality"), Some(81.67));
    // Timeliness: 2 of 3 deliveries on time.
    assert_eq!(comp(g, "timeliness"), Some(66.67));
    // Rectification: r2 opened two items (k, _delivery) on 1 June, due 10
    // working days later (2–5, 8–12, 15 June → 15 June); r3 (30 June) found
    // both fixed: closed, but late.
    assert_eq!(g.rectification, [2, 0, 2, 0, 0]);
    assert_eq!(comp(g, "rectification"), Some(0.0));
    // Not assessable, never scored.
    assert_eq!(comp(g, "catalog"), None);
    assert_eq!(comp(g, "one_source"), None);
    // Total: (0.4 × 81.67 + 0.2 × 66.67 + 0.2 × 0) / 0.8 = 57.5.
    assert_eq!(g.score, Some(57.5));
    assert_eq!(g.grade.as_deref(), Some("不合格"));
    // minzheng: quality = mean(75, 75, 75) = 75 (validity 50, timeliness 100);
    // timeliness 100; no rectification item closed on time: v failed in every
    // run → one item opened 2 March, due 16 March, still open at year end → overdue.
    let m = e
        .departments
        .iter()
        .find(|d| d.department == "minzheng")
        .unwrap();
    assert_eq!(comp(m, "quality"), Some(75.0));
    assert_eq!(comp(m, "timeliness"), Some(100.0));
    assert_eq!(m.rectification, [1, 0, 0, 0, 1]);
    // (0.4 × 75 + 0.2 × 100 + 0.2 × 0) / 0.8 = 62.5.
    assert_eq!(m.score, Some(62.5));
    assert_eq!(m.rank, Some(1));
    assert_eq!(g.rank, Some(2));
    assert_eq!(e.below_passing, vec!["gongan".to_string()]);
    // Monthly checkpoints: the last run of each month.
    assert_eq!(
        g.monthly
            .iter()
            .map(|c| (c.month.as_str(), c.run_id.as_str()))
            .collect::<Vec<_>>(),
        vec![("2026-03", "r1"), ("2026-06", "r3")]
    );
    // Evidence: every rule behind the numbers, over the year.
    let k = g.rules.iter().find(|r| r.rule == "k").unwrap();
    assert_eq!(
        (
            k.runs,
            k.runs_failed,
            k.failed,
            k.evaluated,
            k.last_run.as_str(),
            k.last_failed
        ),
        (3, 1, 10, 300, "r3", false)
    );
    let del = g.rules.iter().find(|r| r.rule == "_delivery").unwrap();
    assert_eq!((del.runs, del.runs_failed), (3, 1));
    // GB/T 36344 over the year: completeness A = 100 + 90 + 100, B = 300.
    let comp_ind = g
        .indicators
        .iter()
        .find(|i| i.name_en == "completeness")
        .unwrap();
    assert_eq!((comp_ind.a, comp_ind.b), (290, 300));
}

#[test]
fn weights_are_configuration_and_change_the_label() {
    let mut cfg = EvaluationConfig::default();
    cfg.weights.insert("quality".into(), 1.0);
    cfg.weights.insert("timeliness".into(), 0.0);
    cfg.weights.insert("rectification".into(), 0.0);
    let e = run(&history(), &[], &cfg);
    let g = e
        .departments
        .iter()
        .find(|d| d.department == "gongan")
        .unwrap();
    assert_eq!(g.score, Some(81.67), "quality alone");
    let base = run(&history(), &[], &EvaluationConfig::default());
    assert_ne!(e.config_version, base.config_version);
    assert_ne!(e.id, base.id);
}

#[test]
fn same_inputs_same_result_and_corrections_change_it() {
    let a = run(&history(), &[], &EvaluationConfig::default());
    let b = run(&history(), &[], &EvaluationConfig::default());
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    let fix = Correction {
        run_id: "r2".into(),
        dataset: "gongan.a".into(),
        rule: "_delivery".into(),
        evaluated: 1,
        failed: 0,
        reason: "delivery was on time; the source server's clock was wrong".into(),
        by: "bureau".into(),
        at: Utc.with_ymd_and_hms(2027, 1, 10, 9, 0, 0).unwrap(),
    };
    let c = run(
        &history(),
        std::slice::from_ref(&fix),
        &EvaluationConfig::default(),
    );
    assert_ne!(c.id, a.id);
    assert_eq!(c.corrections, vec![fix]);
    let g = c
        .departments
        .iter()
        .find(|d| d.department == "gongan")
        .unwrap();
    assert_eq!(comp(g, "timeliness"), Some(100.0));
}

/// A varied history: 6 runs, 3 departments, 7 datasets, rules in every
/// dimension (some evaluating nothing), statuses including warn.
fn varied() -> Vec<RuleCount> {
    let mut h = vec![];
    let mut seed = 7u64;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        seed >> 33
    };
    let dims = [
        "completeness",
        "validity",
        "timeliness",
        "consistency",
        "accuracy",
        "uniqueness",
    ];
    for (k, (m, d)) in [(1, 5), (2, 9), (3, 3), (3, 30), (7, 14), (11, 2)]
        .into_iter()
        .enumerate()
    {
        for ds in 0..7 {
            let dataset = format!("{}.set{ds}", ["gongan", "minzheng", "weijian"][ds % 3]);
            for r in 0..6 {
                let evaluated = if (r + ds) % 5 == 4 {
                    0
                } else {
                    10 + (next() % 990) as i64
                };
                let failed = if next() % 3 == 0 {
                    (next() % 7) as i64
                } else {
                    0
                }
                .min(evaluated);
                let mut row = c(
                    &format!("run{k}"),
                    m,
                    d,
                    &dataset,
                    &format!("r{r}"),
                    dims[(r + ds) % 6],
                    evaluated,
                    failed,
                );
                if failed > 0 && next() % 4 == 0 {
                    row.status = "warn".into();
                }
                h.push(row);
            }
        }
    }
    h
}

#[test]
fn the_compact_path_scores_exactly_as_the_scorecards_do() {
    let h = varied();
    let mut scoring = ScoringConfig::default();
    scoring.dimension_weights.insert("validity".into(), 2.5);
    scoring.dataset_weights.insert("minzheng.set1".into(), 3.0);
    let mut counts = Counts::from_counts(&h);
    counts.normalize();
    for run in counts.run_order() {
        let name = counts.runs.name(run).to_string();
        let rows: Vec<Row> = counts
            .rows
            .iter()
            .copied()
            .filter(|r| r.run == run)
            .collect();
        let lean = score_run_rows(&counts, &rows, &scoring);
        let full = crate::score::score_run(&h, &name, &scoring);
        assert_eq!(lean.len(), full.departments.len());
        for d in &full.departments {
            let l = &lean[&counts.departments.get(&d.id).unwrap()];
            assert_eq!(l.score, d.score, "{name} {}", d.id);
            assert_eq!(l.dimensions, d.dimensions, "{name} {}", d.id);
            assert_eq!(l.indicators, d.indicators, "{name} {}", d.id);
        }
    }
}

#[test]
fn rectifications_do_not_depend_on_the_order_counts_are_stored_in() {
    let h = varied();
    let mut reversed = h.clone();
    reversed.reverse();
    let p = profile("xinjiang-2023").unwrap();
    let cal = WorkCalendar::embedded();
    let tz = chrono_tz::Asia::Shanghai;
    for run in ["run0", "run2", "run5"] {
        let a = crate::score::rectifications(&h, run, p.rectification, &cal, tz).unwrap();
        let b = crate::score::rectifications(&reversed, run, p.rectification, &cal, tz).unwrap();
        assert_eq!(a, b, "{run}");
        assert!(!a.is_empty(), "{run}: the varied history opens items");
    }
}

#[test]
fn the_catalog_component_from_the_runs_catalog_summaries() {
    let s = |run: &str, m: u32, d: u32, dept: &str, entries, flagged, uncat| CatalogSummary {
        run_id: run.into(),
        as_of: Utc.with_ymd_and_hms(2026, m, d, 2, 0, 0).unwrap(),
        department: dept.into(),
        entries,
        entries_with_findings: flagged,
        uncatalogued: uncat,
        findings: flagged * 2,
    };
    let summaries = vec![
        // gongan: 8 of 10 clean, 0 uncatalogued → 80; then 9 of 10 and one
        // dataset not catalogued → 9 / 11 = 81.82; r3: 10/10 → 100.
        s("r1", 3, 2, "gongan", 10, 2, 0),
        s("r2", 6, 1, "gongan", 10, 1, 1),
        s("r3", 6, 30, "gongan", 10, 0, 0),
        // A run whose counts are not among the evaluated runs is ignored.
        s("r-other", 7, 1, "gongan", 10, 10, 0),
    ];
    let p = profile("xinjiang-2023").unwrap();
    let cal = WorkCalendar::embedded();
    let scoring = ScoringConfig::default();
    let cfg = EvaluationConfig::default();
    let e = evaluate(&EvaluationInput {
        objections: &[],
        catalog: &summaries,
        history: &history(),
        corrections: &[],
        year: 2026,
        as_of: Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap(),
        tz: chrono_tz::Asia::Shanghai,
        profile: &p,
        calendar: &cal,
        scoring: &scoring,
        config: &cfg,
        table_version: Some(7),
    })
    .unwrap();
    let g = e
        .departments
        .iter()
        .find(|d| d.department == "gongan")
        .unwrap();
    // (80 + 81.818 + 100) / 3 = 87.27.
    assert_eq!(comp(g, "catalog"), Some(87.27));
    let c = g.components.iter().find(|c| c.name == "catalog").unwrap();
    assert!(c.basis.contains("mean of 3 runs"), "{}", c.basis);
    // Total: (0.4 × 81.67 + 0.2 × 66.67 + 0.2 × 0 + 0.1 × 87.27) / 0.9 = 54.729 / 0.9 = 60.81.
    assert_eq!(g.score, Some(60.81));
    // minzheng harvested no catalog: not assessable, not zero.
    let m = e
        .departments
        .iter()
        .find(|d| d.department == "minzheng")
        .unwrap();
    assert_eq!(comp(m, "catalog"), None);
    assert_eq!(m.score, Some(62.5));
}

#[test]
fn issue_5_one_source_is_assessed_from_conflict_counts() {
    let mut h = history();
    for (run, m, d, failed) in [("r1", 3, 2, 10), ("r2", 6, 1, 0), ("r3", 6, 30, 5)] {
        h.push(c(
            run,
            m,
            d,
            "renshe.c",
            "_onesource_consistency",
            "consistency",
            100,
            failed,
        ));
        h.push(c(
            run,
            m,
            d,
            "renshe.c",
            "_onesource_accuracy",
            "accuracy",
            100,
            failed,
        ));
    }
    let e = run(&h, &[], &EvaluationConfig::default());
    let r = e
        .departments
        .iter()
        .find(|d| d.department == "renshe")
        .unwrap();
    // 285 of 300 copies agree with their source.
    assert_eq!(comp(r, "one_source"), Some(95.0));
    let basis = &r
        .components
        .iter()
        .find(|c| c.name == "one_source")
        .unwrap()
        .basis;
    assert!(basis.contains("285 of 300"), "{basis}");
    // a department that copies nothing stays not assessable
    let g = e
        .departments
        .iter()
        .find(|d| d.department == "gongan")
        .unwrap();
    assert_eq!(comp(g, "one_source"), None);
}

#[test]
fn objections_count_steps_done_on_time_for_the_responsible_department() {
    use crate::objection::{Action, Deadlines, Objection, ObjectionEvent, Reporter};
    let tz = chrono_tz::Asia::Shanghai;
    let at = |m: u32, d: u32| {
        tz.with_ymd_and_hms(2026, m, d, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let ev = |seq: i64, t, action| {
        let mut e = ObjectionEvent::new("2026-0001", seq, t, action, "test");
        e.department = Some("gongan".into());
        e
    };
    let mut filed = ev(0, at(9, 24), Action::Filed);
    filed.reporter = Some(Reporter::Citizen);
    filed.dataset = Some("gongan.p".into());
    let events = [
        filed,
        // Forwarded late (due 09-29 under 吴忠 第二十一条), answered on time.
        ev(1, at(9, 30), Action::Forwarded),
        ev(2, at(10, 9), Action::Rejected),
        ev(3, at(10, 9), Action::Closed),
    ];
    let cal = WorkCalendar::embedded();
    let o: Objection = Objection::fold(
        &events,
        Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap(),
        &Deadlines::of(&profile("wuzhong-2024").unwrap()),
        &cal,
        tz,
    )
    .unwrap();
    let p = profile("xinjiang-2023").unwrap();
    let scoring = ScoringConfig::default();
    let cfg = EvaluationConfig::default();
    let with = |objections: &[Objection]| {
        evaluate(&EvaluationInput {
            objections,
            catalog: &[],
            history: &history(),
            corrections: &[],
            year: 2026,
            as_of: Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).unwrap(),
            tz,
            profile: &p,
            calendar: &cal,
            scoring: &scoring,
            config: &cfg,
            table_version: Some(7),
        })
        .unwrap()
    };
    let e = with(std::slice::from_ref(&o));
    let dept = |e: &Evaluation, d: &str| {
        e.departments
            .iter()
            .find(|x| x.department == d)
            .unwrap()
            .clone()
    };
    let g = dept(&e, "gongan");
    assert_eq!(comp(&g, "objections"), Some(50.0));
    assert_eq!(g.objections.filed, 1);
    assert_eq!(
        (g.objections.steps_on_time, g.objections.steps_late),
        (1, 1)
    );
    // Another department's objection is not gongan's; without any, the
    // component is not assessable and the total is the other components'.
    assert_eq!(comp(&dept(&e, "minzheng"), "objections"), None);
    let without = with(&[]);
    assert_eq!(comp(&dept(&without, "gongan"), "objections"), None);
    assert_ne!(dept(&without, "gongan").score, g.score);
    assert_ne!(without.id, e.id);
}

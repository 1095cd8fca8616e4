//! The score stage of a run: the run's scorecards and rectification list,
//! computed from stored counts only and stored in the lake.
//!
//! A run scores every dataset of the workspace at its latest state: a
//! dataset that this run did not count (a sweep of some datasets, a
//! cancelled sweep, one locked by a concurrent sweep) keeps the counts of
//! the last run that did ([`carry_forward`]), so a partial run never
//! publishes scorecards with departments missing (issue #23, 1).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};

use super::store::{counts, record_cards};
use super::{Rectification, RuleCount, RunScores, rectifications, run_order, score_run};
use crate::land::{Lake, LandError};
use crate::run::Step;
use crate::workspace::Workspace;

/// A run's scorecards and its rectification list.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    /// The scorecards.
    pub scores: RunScores,
    /// The rectification list up to this run.
    pub rectifications: Vec<Rectification>,
}

/// Fills every run of `history` (and `run`, if it counted nothing) with the
/// latest earlier counts of each dataset it did not count. A copy keeps its
/// rule and table versions and takes the run's id and as-of time.
pub fn carry_forward(history: &[RuleCount], run: (&str, DateTime<Utc>)) -> Vec<RuleCount> {
    let mut runs = run_order(history);
    if !runs.iter().any(|(r, _)| r == run.0) {
        runs.push((run.0.to_string(), run.1));
        runs.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    }
    let mut by_run: HashMap<&str, Vec<&RuleCount>> = HashMap::new();
    for c in history {
        by_run.entry(c.run_id.as_str()).or_default().push(c);
    }
    let mut latest: BTreeMap<&str, Vec<&RuleCount>> = BTreeMap::new();
    let mut out = Vec::with_capacity(history.len());
    for (run_id, as_of) in &runs {
        let own = by_run.remove(run_id.as_str()).unwrap_or_default();
        let counted: BTreeSet<&str> = own.iter().map(|c| c.dataset.as_str()).collect();
        for (dataset, carried) in &latest {
            if counted.contains(dataset) {
                continue;
            }
            out.extend(carried.iter().map(|c| RuleCount {
                run_id: run_id.clone(),
                as_of: *as_of,
                ..(*c).clone()
            }));
        }
        for dataset in &counted {
            latest.insert(dataset, vec![]);
        }
        for c in own {
            latest.entry(c.dataset.as_str()).or_default().push(c);
            out.push(c.clone());
        }
    }
    out
}

/// The stored counts of the workspace's datasets (those defined now, valid
/// or not), each run filled by [`carry_forward`].
async fn history(
    ws: &Workspace,
    lake: &Lake,
    run: (&str, DateTime<Utc>),
) -> Result<Vec<RuleCount>, LandError> {
    let known: BTreeSet<String> = ws
        .datasets
        .iter()
        .map(|d| d.id())
        .chain(ws.invalid.iter().map(|d| d.id.clone()))
        .collect();
    // Counts of a run that never finished (its process was killed or it is
    // still going) are no one's result: they give no trend and no earlier
    // finding, so a re-run after a crash scores as the run that was not
    // interrupted would have (issue #18).
    let unfinished: BTreeSet<String> = crate::run::runs(lake)
        .await?
        .into_iter()
        .filter(|r| match &r.finished {
            None => r.started.run_id != run.0,
            Some(f) => f.status == "interrupted",
        })
        .map(|r| r.started.run_id)
        .collect();
    let mut all = counts(lake).await?;
    all.retain(|c| known.contains(&c.dataset) && !unfinished.contains(&c.run_id));
    Ok(carry_forward(&all, run))
}

fn rectifications_of(
    ws: &Workspace,
    history: &[RuleCount],
    run_id: &str,
) -> Result<Vec<Rectification>, LandError> {
    let profile = ws.profile()?;
    let cal = ws.calendar()?;
    rectifications(history, run_id, profile.rectification, &cal, ws.tz())
        .map_err(|e| LandError::Config(format!("rectification deadlines: {e}")))
}

/// Scores run `run_id` (as of `as_of`) and stores its scorecards.
pub async fn score(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
) -> Result<Scored, LandError> {
    let history = history(ws, lake, (run_id, as_of)).await?;
    let mut scores = score_run(&history, run_id, &ws.config.scoring);
    scores.profile = Some(profile_of(ws, as_of, &scores)?);
    with_objections(ws, lake, as_of, &mut scores).await?;
    with_usage(ws, as_of, &mut scores).await?;
    let rectifications = rectifications_of(ws, &history, run_id)?;
    record_cards(lake, &scores).await?;
    Ok(Scored {
        scores,
        rectifications,
    })
}

/// The score stage as a step of the run.
pub async fn score_step(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
) -> (Step, Option<Scored>) {
    let mut step = Step::start(run_id, "score", "");
    step.inputs = serde_json::json!({"rule_results": super::store::RULE_RESULTS, "config_version": ws.config.scoring.version()}).to_string();
    match score(ws, lake, run_id, as_of).await {
        Ok(s) => {
            step.outputs = serde_json::json!({"departments": s.scores.departments.len(), "datasets": s.scores.datasets.len(), "rectifications": s.rectifications.len(), "profile": s.scores.profile}).to_string();
            (step.finish(), Some(s))
        }
        Err(e) => {
            step.fail(e.to_string());
            (step.finish(), None)
        }
    }
}

/// What a stored run scored, computed again from the stored counts (the
/// same pure function of the same counts the score step used, so the
/// numbers are the stored ones bit for bit). `None`: the run stored no
/// scorecards.
pub async fn scored_run(
    ws: &Workspace,
    lake: &Lake,
    run_id: &str,
    as_of: DateTime<Utc>,
) -> Result<Option<Scored>, LandError> {
    if !super::store::has_scorecards(lake, run_id).await? {
        return Ok(None);
    }
    let history = history(ws, lake, (run_id, as_of)).await?;
    let mut scores = score_run(&history, run_id, &ws.config.scoring);
    scores.profile = Some(profile_of(ws, as_of, &scores)?);
    // Objections and usage-log findings as the run stored them, not as
    // they read now.
    let mut stored = super::store::stored_cards(lake, run_id).await?;
    for c in scores
        .datasets
        .iter_mut()
        .chain(scores.departments.iter_mut())
    {
        let card = stored.remove(&(c.scope.clone(), c.id.clone()));
        c.objections = card.as_ref().and_then(|s| s.objections.clone());
        c.usage_findings = card.map(|s| s.usage_findings).unwrap_or_default();
    }
    Ok(Some(Scored {
        scores,
        rectifications: rectifications_of(ws, &history, run_id)?,
    }))
}

/// Puts the objections as of the run on its dataset and department
/// scorecards (those filed by then, in their state then).
async fn with_objections(
    ws: &Workspace,
    lake: &Lake,
    as_of: DateTime<Utc>,
    scores: &mut super::RunScores,
) -> Result<(), LandError> {
    let (by_dept, by_dataset) = crate::objection::stage::tallies(ws, lake, as_of)
        .await
        .map_err(|e| match e {
            crate::objection::ObjectionError::Lake(e) => e,
            other => LandError::Config(other.to_string()),
        })?;
    for c in &mut scores.datasets {
        c.objections = by_dataset.get(&c.id).cloned();
    }
    for c in &mut scores.departments {
        c.objections = by_dept.get(&c.department).cloned();
    }
    Ok(())
}

/// Puts the usage log's findings as of the run's day (`pdq usage check`)
/// on the department scorecards: a department's incomplete rows on its
/// own, a log that does not reach back far enough (no department: the log
/// as a whole) on every department's.
async fn with_usage(
    ws: &Workspace,
    as_of: DateTime<Utc>,
    scores: &mut super::RunScores,
) -> Result<(), LandError> {
    let today = as_of.with_timezone(&ws.tz()).date_naive();
    let findings = crate::usage::stage::check(ws, today)
        .await
        .map_err(|e| match e {
            crate::usage::UsageError::Lake(e) => e,
            other => LandError::Config(other.to_string()),
        })?;
    for c in &mut scores.departments {
        c.usage_findings = findings
            .iter()
            .filter(|f| f.department.as_ref().is_none_or(|d| *d == c.department))
            .cloned()
            .collect();
    }
    Ok(())
}

/// The profile a run's scores are held to: [`profile_on`] the run's date,
/// with the text's dimensions marked measured or not by its scorecards.
pub fn profile_of(
    ws: &Workspace,
    as_of: DateTime<Utc>,
    scores: &super::RunScores,
) -> Result<super::ProfileInForce, LandError> {
    let mut p = profile_on(ws, as_of)?;
    p.note_measured(&scores.departments);
    Ok(p)
}

/// The workspace's profile and its status on the run's date.
pub fn profile_on(
    ws: &Workspace,
    as_of: DateTime<Utc>,
) -> Result<super::ProfileInForce, LandError> {
    let day = as_of.with_timezone(&ws.tz()).date_naive();
    Ok(super::ProfileInForce::of(
        &ws.profile()?,
        day,
        ws.names_profile(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(run: &str, day: u32, dataset: &str, rule: &str, failed: i64) -> RuleCount {
        RuleCount {
            run_id: run.into(),
            as_of: format!("2026-03-{day:02}T00:00:00Z").parse().unwrap(),
            dataset: dataset.into(),
            department: dataset.split('.').next().unwrap().into(),
            rule: rule.into(),
            dimension: "validity".into(),
            check: "not_null".into(),
            evaluated: 10,
            failed,
            status: if failed > 0 { "fail" } else { "pass" }.into(),
            rules_version: "v".into(),
            table_version: Some(1),
        }
    }

    #[test]
    fn a_partial_run_keeps_every_dataset_at_its_latest_counts() {
        let history = vec![
            count("r1", 1, "a.x", "n", 1),
            count("r1", 1, "b.y", "n", 2),
            count("r1", 1, "b.y", "m", 0),
            // r2 counted a.x only; r3 b.y only.
            count("r2", 2, "a.x", "n", 3),
            count("r3", 3, "b.y", "n", 5),
        ];
        let day4: DateTime<Utc> = "2026-03-04T00:00:00Z".parse().unwrap();
        let filled = carry_forward(&history, ("r4", day4));
        let of = |run: &str| {
            let mut v: Vec<(String, String, i64)> = filled
                .iter()
                .filter(|c| c.run_id == run)
                .map(|c| (c.dataset.clone(), c.rule.clone(), c.failed))
                .collect();
            v.sort();
            v
        };
        let t = |d: &str, r: &str, f: i64| (d.to_string(), r.to_string(), f);
        assert_eq!(
            of("r1"),
            vec![t("a.x", "n", 1), t("b.y", "m", 0), t("b.y", "n", 2)]
        );
        // b.y carried from r1, both rules.
        assert_eq!(
            of("r2"),
            vec![t("a.x", "n", 3), t("b.y", "m", 0), t("b.y", "n", 2)]
        );
        // b.y counted again in r3 (only rule n now): r1's rule m is gone.
        assert_eq!(of("r3"), vec![t("a.x", "n", 3), t("b.y", "n", 5)]);
        // A run that counted nothing (cancelled) still has every dataset.
        assert_eq!(of("r4"), vec![t("a.x", "n", 3), t("b.y", "n", 5)]);
        assert!(
            filled
                .iter()
                .filter(|c| c.run_id == "r4")
                .all(|c| c.as_of == day4)
        );
        // Department scores of the partial run cover both departments.
        let scores = score_run(&filled, "r2", &Default::default());
        let depts: Vec<&str> = scores.departments.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(depts.len(), 2, "{depts:?}");
    }
}

//! The bureau's review of department catalogs (审定) and the departments'
//! revisions after review comments, where the text sets a deadline for
//! them (issue #17, 5): 兵团 第十四条 and 吴忠 第十三条 (公共数据主管部门应当
//! 在5个工作日内审定), 吴忠 第十二条 (有修改意见的,应当在10个工作日内完成修改).
//! The other texts set none (`catalog_review` / `catalog_revision` are
//! `not_in_text`), and nothing is checked for them.
//!
//! A department's catalog is submitted whenever a harvest adds, changes or
//! restores one of its entries. The bureau records its reviews in the
//! workspace file [`FILE`] (`pdq catalog review record`): a review covers
//! every submission on or before its date. The earliest submission after a
//! department's last review not reviewed within `catalog_review` is a
//! `catalog_review_overdue` finding (the bureau's duty: its `department` is
//! the bureau, so no department's score bears it); a review with comments
//! not followed by a revision (a harvest changing one of the department's
//! entries) within `catalog_revision` is a `catalog_revision_overdue`
//! finding of the department. Both cite the profile's article.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::checks::CatalogFinding;
use super::reconcile::provisional_note;
use super::store::CatalogState;
use super::workfile::{InputError, append_record, load_records};
use crate::calendar::{CalendarError, WorkCalendar};
use crate::profile::Profile;

/// The workspace file of the bureau's reviews.
pub const FILE: &str = "catalog-reviews.toml";

/// What a review concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 审定通过.
    Approved,
    /// 有修改意见: the department must revise.
    Comments,
}

/// One review of a department's catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// The department whose catalog was reviewed.
    pub department: String,
    /// The day of the review.
    #[serde(deserialize_with = "super::workfile::day")]
    pub date: NaiveDate,
    /// Approved, or comments to address.
    pub outcome: Outcome,
    /// The comments (修改意见), when there are any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
}

fn departments(state: &CatalogState) -> BTreeSet<&str> {
    state
        .entries
        .values()
        .map(|s| s.entry.department.as_str())
        .collect()
}

fn invalid(r: &Review, state: &CatalogState) -> Option<String> {
    let known = departments(state);
    if !known.contains(r.department.as_str()) {
        return Some(format!(
            "department: `{}` has no catalog entry; expected one of {}",
            r.department,
            known.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    if r.outcome == Outcome::Comments && r.comments.as_deref().is_none_or(|c| c.trim().is_empty()) {
        return Some("comments: blank; a review with comments names them".into());
    }
    None
}

/// Reads [`FILE`] from the workspace directory (none: no reviews).
pub fn load(dir: &Path, state: &CatalogState) -> Result<Vec<Review>, InputError> {
    load_records(&dir.join(FILE), "review", |r| invalid(r, state))
}

/// Appends a review to [`FILE`] (created if absent) after checking it and
/// the file; returns the file.
pub fn record(dir: &Path, review: &Review, state: &CatalogState) -> Result<PathBuf, InputError> {
    let path = dir.join(FILE);
    load(dir, state)?;
    if let Some(what) = invalid(review, state) {
        return Err(InputError::new(&path, format!("new review: {what}")));
    }
    append_record(
        &path,
        "review",
        review,
        "The bureau's reviews of department catalogs (pdq catalog review record).",
    )?;
    Ok(path)
}

/// The days each department's catalog was submitted (a harvest added,
/// changed or restored one of its entries), up to `today`.
fn submissions(
    state: &CatalogState,
    tz: chrono_tz::Tz,
    today: NaiveDate,
) -> BTreeMap<&str, BTreeSet<NaiveDate>> {
    let mut out: BTreeMap<&str, BTreeSet<NaiveDate>> = BTreeMap::new();
    for s in state.entries.values() {
        for t in &s.updated {
            let d = t.with_timezone(&tz).date_naive();
            if d <= today {
                out.entry(s.entry.department.as_str())
                    .or_default()
                    .insert(d);
            }
        }
    }
    out
}

/// `catalog_review_overdue` and `catalog_revision_overdue` findings as of
/// `today` (none when the profile sets no such deadline); `bureau` names
/// the reviewing bureau on review findings.
pub fn overdue(
    reviews: &[Review],
    state: &CatalogState,
    profile: &Profile,
    cal: &WorkCalendar,
    tz: chrono_tz::Tz,
    today: NaiveDate,
    bureau: &str,
) -> Result<Vec<CatalogFinding>, CalendarError> {
    let mut out = vec![];
    let submitted = submissions(state, tz, today);
    if let Some(d) = profile.catalog_review {
        for (dept, days) in &submitted {
            let last = reviews
                .iter()
                .filter(|r| r.department == *dept && r.date <= today)
                .map(|r| r.date)
                .max();
            // The earliest submission no review has covered yet.
            let Some(first) = days.iter().find(|s| last.is_none_or(|l| **s > l)) else {
                continue;
            };
            let due = d.due(*first, cal)?;
            if today > due {
                out.push(CatalogFinding {
                    check: "catalog_review_overdue".into(),
                    department: bureau.to_string(),
                    key: None,
                    code: None,
                    name: None,
                    field: None,
                    location: format!("{FILE} ({dept})"),
                    message: format!(
                        "{dept}'s catalog submitted on {first} has not been reviewed (审定); it was due by {due} ({} {}, {}){}",
                        d.days,
                        d.unit.words(),
                        profile.quote("catalog_review"),
                        provisional_note(due, cal)
                    ),
                });
            }
        }
    }
    if let Some(d) = profile.catalog_revision {
        for (i, r) in reviews.iter().enumerate() {
            if r.outcome != Outcome::Comments || r.date > today {
                continue;
            }
            let due = d.due(r.date, cal)?;
            let revised = submitted
                .get(r.department.as_str())
                .and_then(|days| days.iter().find(|s| **s > r.date).copied());
            let late = match revised {
                Some(v) if v <= due => continue,
                Some(v) => format!("was revised only on {v}"),
                None if today > due => "has not been revised".to_string(),
                None => continue,
            };
            out.push(CatalogFinding {
                check: "catalog_revision_overdue".into(),
                department: r.department.clone(),
                key: None,
                code: None,
                name: None,
                field: None,
                location: format!("{FILE} [[review]] {}", i + 1),
                message: format!(
                    "the catalog reviewed on {} with comments ({}) {late}; it was due by {due} ({} {}, {}){}",
                    r.date,
                    r.comments.as_deref().unwrap_or(""),
                    d.days,
                    d.unit.words(),
                    profile.quote("catalog_revision"),
                    provisional_note(due, cal)
                ),
            });
        }
    }
    Ok(out)
}

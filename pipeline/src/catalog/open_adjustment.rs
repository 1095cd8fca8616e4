//! The yearly adjustment of the open catalog (开放目录年度动态调整, issue
//! #21, 5): only 吴忠 第三十条 sets a period (实行年度动态调整); 新疆 第二十七条,
//! 兵团 第二十九条 and 西藏 第三十条 ask for 动态调整 and 甘孜 第二十五条 for
//! 动态更新 with none, so nothing is checked for them
//! (`catalog.open_adjustment` in `pdq profile show`).
//!
//! A *version of the open catalog* in a year is any catalog version that
//! year which changed an entry's open attribute (开放属性) or the open
//! catalog's membership (an entry with 无条件/有条件开放 added, withdrawn
//! or restored). Every calendar year that passed entirely after the year of
//! the first harvest (pdq cannot know what happened before it) without one
//! is an `open_catalog_not_adjusted` finding of the bureau, due by that
//! year's 31 December, citing the article and the text's status (吴忠's is
//! a draft, not in force).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use super::checks::CatalogFinding;
use super::model::CatalogEntry;
use super::store::{CatalogRow, ChangeKind, FieldChange};
use super::vocab::{Kind, rank};
use crate::profile::Profile;

fn open(e: &CatalogEntry) -> bool {
    e.open_attribute
        .as_deref()
        .and_then(|v| rank(Kind::Open, v))
        .is_some_and(|r| r < 2)
}

/// Whether a stored row changed the open catalog.
fn changes_open_catalog(r: &CatalogRow) -> bool {
    match r.kind {
        ChangeKind::Changed => serde_json::from_str::<Vec<FieldChange>>(&r.changes)
            .unwrap_or_default()
            .iter()
            .any(|c| c.field == "open_attribute"),
        ChangeKind::Added | ChangeKind::Withdrawn | ChangeKind::Restored => {
            serde_json::from_str::<CatalogEntry>(&r.entry).is_ok_and(|e| open(&e))
        }
    }
}

/// `open_catalog_not_adjusted` findings as of `today` (none unless the
/// profile's text sets a yearly adjustment).
pub fn missed_years(
    rows: &[CatalogRow],
    profile: &Profile,
    bureau: &str,
    tz: chrono_tz::Tz,
    today: NaiveDate,
) -> Vec<CatalogFinding> {
    if !profile.catalog.open_adjustment_yearly {
        return vec![];
    }
    let year = |r: &CatalogRow| {
        DateTime::parse_from_rfc3339(&r.harvested_at)
            .ok()
            .map(|t| t.with_timezone(&Utc).with_timezone(&tz).year())
    };
    let Some(first) = rows.iter().filter_map(year).min() else {
        return vec![];
    };
    let adjusted: BTreeSet<i32> = rows
        .iter()
        .filter(|r| changes_open_catalog(r))
        .filter_map(year)
        .collect();
    let cites = format!(
        "{} {}",
        profile.name,
        profile.quote("catalog.open_adjustment")
    );
    let status = profile.status(today).words();
    ((first + 1)..today.year())
        .filter(|y| !adjusted.contains(y))
        .map(|y| CatalogFinding {
            check: "open_catalog_not_adjusted".into(),
            department: bureau.to_string(),
            key: None,
            code: None,
            name: None,
            field: Some("open_attribute".into()),
            location: "_pdq/catalog".into(),
            message: format!(
                "开放目录未年度调整 — no version of the open catalog in {y}: no entry's 开放属性 or open-catalog membership changed that year; the open catalog is adjusted yearly, due by {y}-12-31 ({cites}; 条文状态 status: {status})"
            ),
        })
        .collect()
}

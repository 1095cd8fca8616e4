//! Catalog entries of new or upgraded IT systems (信息化项目), due before the
//! project's acceptance (竣工验收) where the text says so (issue #21, 5):
//! 兵团 第十五条 at least 20 days before (至少提前20日); 吴忠 第十四条 and 甘孜
//! 第四十条 before it; 新疆 第三十九条 as an acceptance requirement (作为验收要求);
//! 西藏 sets no such duty and nothing is checked (`catalog.project_lead_days`).
//!
//! The bureau lists projects in the workspace file [`FILE`]: each with its
//! department, acceptance date and the catalog entries it brings. An entry
//! no harvest added or updated by the due date (the acceptance date less
//! the lead days) is a `project_catalog_late` finding of the department,
//! quoting the article; before the due date nothing is said.

use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::checks::CatalogFinding;
use super::store::CatalogState;
use super::workfile::{InputError, load_records};
use crate::profile::Profile;

/// The workspace file of IT projects.
pub const FILE: &str = "it-projects.toml";

/// One IT project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    /// Its name.
    pub name: String,
    /// The department that builds it.
    pub department: String,
    /// The day of its acceptance (竣工验收).
    #[serde(deserialize_with = "super::workfile::day")]
    pub acceptance: NaiveDate,
    /// The catalog entries it brings, by key.
    pub entries: Vec<String>,
}

fn invalid(p: &Project, state: &CatalogState) -> Option<String> {
    if p.name.trim().is_empty() {
        return Some("name: blank; expected the project's name".into());
    }
    if p.entries.is_empty() {
        return Some(
            "entries: none; expected the keys of the catalog entries the project brings".into(),
        );
    }
    for k in &p.entries {
        match state.entries.get(k) {
            None => {
                return Some(format!(
                    "entries: `{k}` is not a catalog entry's key; expected a key as `pdq harvest --format json` lists it"
                ));
            }
            Some(s) if s.entry.department != p.department => {
                return Some(format!(
                    "entries: `{k}` belongs to department {}, not {}",
                    s.entry.department, p.department
                ));
            }
            Some(_) => {}
        }
    }
    None
}

/// Reads [`FILE`] from the workspace directory (none: no projects).
pub fn load(dir: &Path, state: &CatalogState) -> Result<Vec<Project>, InputError> {
    load_records(&dir.join(FILE), "project", |p| invalid(p, state))
}

/// `project_catalog_late` findings as of `today` (none when the profile's
/// text sets no such duty).
pub fn late(
    projects: &[Project],
    state: &CatalogState,
    profile: &Profile,
    tz: chrono_tz::Tz,
    today: NaiveDate,
) -> Vec<CatalogFinding> {
    let Some(lead) = profile.catalog.project_lead_days else {
        return vec![];
    };
    let cites = profile.quote("catalog.project_lead_days");
    let mut out = vec![];
    for (i, p) in projects.iter().enumerate() {
        let due = p.acceptance - chrono::Duration::days(i64::from(lead));
        if today <= due {
            continue;
        }
        for k in &p.entries {
            let Some(s) = state.entries.get(k) else {
                continue;
            };
            let updated = s
                .updated
                .iter()
                .map(|t| t.with_timezone(&tz).date_naive())
                .filter(|d| *d <= today);
            let in_time = updated.clone().any(|d| d <= due);
            if in_time {
                continue;
            }
            let done = match updated.filter(|d| *d > due).min() {
                Some(d) => format!("was catalogued only on {d}"),
                None => "is not catalogued".to_string(),
            };
            let when = if lead == 0 {
                format!("by its acceptance on {}", p.acceptance)
            } else {
                format!(
                    "by {due}, {lead} days before its acceptance on {}",
                    p.acceptance
                )
            };
            out.push(CatalogFinding {
                check: "project_catalog_late".into(),
                department: p.department.clone(),
                key: Some(k.clone()),
                code: s.entry.resource_code.clone(),
                name: s.entry.name.clone(),
                field: None,
                location: format!("{FILE} [[project]] {}", i + 1),
                message: format!(
                    "IT project {}: the entry {done}; it was due {when} ({cites})",
                    p.name
                ),
            });
        }
    }
    out
}

//! Jurisdiction profiles: what each regulation sets as data (dimensions,
//! deadlines, log retention), one file per regulation in `data/profiles/`.
//! This list is the registry of profiles.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, WorkCalendar};

/// Working or calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayUnit {
    /// Working days per the holiday calendar.
    Working,
    /// Calendar days.
    Calendar,
}

/// A deadline: so many working or calendar days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// How many.
    pub days: u32,
    /// Of which kind.
    pub unit: DayUnit,
}

impl Deadline {
    /// The due date for something that starts on `from`.
    pub fn due(&self, from: NaiveDate, cal: &WorkCalendar) -> Result<NaiveDate, CalendarError> {
        match self.unit {
            DayUnit::Working => cal.add_working_days(from, self.days),
            DayUnit::Calendar => Ok(from + chrono::Duration::days(self.days as i64)),
        }
    }
}

/// One regulation's settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// `xinjiang-2023`, …
    pub id: String,
    /// The jurisdiction, in Chinese.
    pub name: String,
    /// The quality dimensions it names.
    pub dimensions: Vec<String>,
    /// Years logs are kept at least.
    pub log_retention_years: u32,
    /// Catalog update after a change.
    pub catalog_update: Deadline,
    /// Bureau review of a catalog.
    #[serde(default)]
    pub catalog_review: Option<Deadline>,
    /// Revisions after review comments.
    #[serde(default)]
    pub catalog_revision: Option<Deadline>,
    /// Fixing a quality finding (rectification item due date).
    pub rectification: Deadline,
    /// What the catalog must hold.
    pub catalog: CatalogProfile,
}

/// `[catalog]`: the catalog fields and rules a regulation sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogProfile {
    /// Canonical fields every catalog entry must fill
    /// (`connectors::catalog::FIELDS`).
    pub required: Vec<String>,
    /// Fields every open-catalog (开放目录) entry must fill.
    pub open_required: Vec<String>,
    /// Classified (涉密) data may not be catalogued.
    pub no_classified: bool,
    /// Share and open attributes may not be lowered without the bureau's
    /// review (an approval record).
    pub downgrade_review: bool,
    /// How delivery lateness against the declared update frequency is
    /// counted.
    pub lateness_unit: DayUnit,
}

const PROFILES: &[(&str, &str)] = &[
    (
        "xinjiang-2023",
        include_str!("../data/profiles/xinjiang-2023.toml"),
    ),
    ("xpcc-2025", include_str!("../data/profiles/xpcc-2025.toml")),
    (
        "tibet-2025",
        include_str!("../data/profiles/tibet-2025.toml"),
    ),
    (
        "ganzi-2025",
        include_str!("../data/profiles/ganzi-2025.toml"),
    ),
    (
        "wuzhong-2024",
        include_str!("../data/profiles/wuzhong-2024.toml"),
    ),
];

/// The profile ids.
pub fn ids() -> Vec<&'static str> {
    PROFILES.iter().map(|(id, _)| *id).collect()
}

/// A profile by id; the error lists the known ones.
pub fn profile(id: &str) -> Result<Profile, String> {
    let (_, text) = PROFILES
        .iter()
        .find(|(p, _)| *p == id)
        .ok_or_else(|| format!("unknown profile `{id}` (profiles: {})", ids().join(", ")))?;
    toml::from_str(text).map_err(|e| format!("profile {id}: {}", e.message()))
}

/// The profile a workspace uses when it names none.
pub const DEFAULT_PROFILE: &str = "xinjiang-2023";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_loads_and_differs_where_the_regulations_do() {
        for id in ids() {
            let p = profile(id).unwrap();
            assert_eq!(p.id, id);
            assert!(p.log_retention_years >= 3);
        }
        assert_eq!(
            profile("xpcc-2025").unwrap().catalog_update.unit,
            DayUnit::Calendar
        );
        assert_eq!(profile("tibet-2025").unwrap().catalog_update.days, 20);
        assert_eq!(profile("ganzi-2025").unwrap().dimensions.len(), 8);
        assert!(profile("beijing").unwrap_err().contains("xinjiang-2023"));
        // Catalog fields follow each regulation's list.
        let fields = |id: &str| profile(id).unwrap().catalog.required;
        assert!(fields("xpcc-2025").contains(&"operation_attribute".to_string()));
        assert!(!fields("wuzhong-2024").contains(&"operation_attribute".to_string()));
        assert!(fields("wuzhong-2024").contains(&"grading".to_string()));
        assert!(fields("tibet-2025").contains(&"data_volume".to_string()));
        assert!(profile("ganzi-2025").unwrap().catalog.downgrade_review);
        assert!(!profile("xinjiang-2023").unwrap().catalog.downgrade_review);
        assert_eq!(
            profile("xpcc-2025").unwrap().catalog.lateness_unit,
            DayUnit::Calendar
        );
        for id in ids() {
            let p = profile(id).unwrap();
            for f in p.catalog.required.iter().chain(&p.catalog.open_required) {
                assert!(
                    connectors::catalog::FIELDS.iter().any(|(n, _)| n == f),
                    "{id}: `{f}` is not a catalog field"
                );
            }
        }
    }
}

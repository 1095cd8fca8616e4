//! Dataset definitions (`datasets/<department>/<name>.toml`): whose a
//! dataset is, where its deliveries come from, what it holds, how often it
//! is due and how it takes part in one-source resolution. Every stage reads
//! them; this module depends on no stage.

use std::path::Path;

use chrono::Utc;
use connectors::source::{ColumnDef, SourceConfig};
use serde::{Deserialize, Serialize};

use crate::land::error::LandError;

/// How deliveries become table versions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadMode {
    /// Each delivery is the whole dataset: it replaces the previous contents.
    #[default]
    Full,
    /// Each delivery adds rows (new files each period, or a watermark range).
    Append,
}

/// A declared update frequency (更新频率).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateFrequency {
    /// 实时 / 每日: a new delivery every day.
    Daily,
    /// 每周.
    Weekly,
    /// 每月.
    Monthly,
    /// 每季度.
    Quarterly,
    /// 每半年.
    HalfYearly,
    /// 每年.
    Yearly,
}

impl UpdateFrequency {
    fn period_days(&self) -> i64 {
        match self {
            UpdateFrequency::Daily => 1,
            UpdateFrequency::Weekly => 7,
            UpdateFrequency::Monthly => 31,
            UpdateFrequency::Quarterly => 92,
            UpdateFrequency::HalfYearly => 184,
            UpdateFrequency::Yearly => 366,
        }
    }

    /// Whether a delivery last landed at `last` is late at `now` (older than
    /// one period, with a day's grace for the nightly rhythm).
    pub fn is_late(&self, last: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> bool {
        now - last > chrono::Duration::days(self.period_days() + 1)
    }

    /// Whether a new snapshot is due at `now`, the last having landed at
    /// `last`: one period has (nearly — a nightly run may start a little
    /// earlier than the last) gone by.
    ///
    /// ```
    /// use pipeline::land::UpdateFrequency;
    /// let t = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    /// assert!(!UpdateFrequency::Weekly.is_due(t("2026-11-01T18:30:00Z"), t("2026-11-04T18:30:00Z")));
    /// assert!(UpdateFrequency::Weekly.is_due(t("2026-11-01T18:30:00Z"), t("2026-11-08T18:25:00Z")));
    /// assert!(UpdateFrequency::Daily.is_due(t("2026-11-01T18:30:00Z"), t("2026-11-02T18:29:00Z")));
    /// ```
    pub fn is_due(&self, last: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> bool {
        now - last >= chrono::Duration::days(self.period_days()) - chrono::Duration::hours(6)
    }
}

/// A dataset's definition: whose it is, where it comes from, what it holds.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetDef {
    /// Its name, unique within the department.
    pub name: String,
    /// The department responsible for it.
    pub department: String,
    /// Chinese title, for people.
    #[serde(default)]
    pub title: Option<String>,
    /// How deliveries become versions.
    #[serde(default)]
    pub mode: LoadMode,
    /// Where deliveries come from.
    pub source: SourceConfig,
    /// The declared columns.
    pub columns: Vec<ColumnDef>,
    /// The rule file checked against the landed table (relative to the workspace).
    #[serde(default)]
    pub rules: Option<String>,
    /// How often the department must deliver (the catalog's 更新频率): a
    /// delivery older than one period at a sweep is late.
    #[serde(default)]
    pub update_frequency: Option<UpdateFrequency>,
    /// The catalog entry's resource code this dataset is mounted to (挂接).
    #[serde(default)]
    pub catalog: Option<String>,
    /// Which columns identify the subject and hold the attributes that
    /// one-source resolution compares (issue #5); absent: the dataset takes
    /// no part in it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onesource: Option<crate::onesource::def::OneSourceDef>,
    /// Snapshot sources (a database table or query without a watermark, an
    /// API) in `full` mode: a snapshot with no rows, or fewer than this share
    /// of the last landed snapshot's, is held back instead of replacing the
    /// table (default 0.5; 0 turns the check off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_snapshot_share: Option<f64>,
    /// The SHA-256 (or its first 12 or more hex digits) of a held-back
    /// snapshot that an operator accepts, copied from the ledger: that
    /// content lands on the next run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accept_snapshot: Option<String>,
}

/// The share of the last landed snapshot's rows below which a new
/// snapshot is held back, unless the dataset says otherwise.
pub const DEFAULT_MIN_SNAPSHOT_SHARE: f64 = 0.5;

impl DatasetDef {
    /// `department.name`.
    pub fn id(&self) -> String {
        format!("{}.{}", self.department, self.name)
    }

    /// Its data table's path in the lake.
    pub fn data_path(&self) -> String {
        format!("data/{}/{}", self.department, self.name)
    }

    /// Its quarantine table's path in the lake.
    pub fn quarantine_path(&self) -> String {
        format!("quarantine/{}/{}", self.department, self.name)
    }
}

/// Loads a dataset definition file (TOML). `department` and `name` default
/// to the file's folder and stem. Errors name the file and the line, and an
/// unknown value lists the accepted ones (`update_frequency = "hourly"`:
/// expected one of `daily`, `weekly`, …).
pub fn load_dataset(path: &Path) -> Result<DatasetDef, LandError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| LandError::Config(format!("{}: {e}", path.display())))?;
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        LandError::Config(format!("{}: {}", path.display(), one_line_toml(&e, &text)))
    })?;
    // The defaults go in front of the file's own text (top-level keys come
    // before any table), so that an error keeps its line number in the file
    // (issue #23, 5: a bad value was reported without one).
    let defaults = [
        ("name", path.file_stem()),
        ("department", path.parent().and_then(|p| p.file_name())),
    ];
    let mut prefix = String::new();
    for (key, default) in defaults {
        if let (false, Some(v)) = (table.contains_key(key), default.and_then(|s| s.to_str())) {
            prefix.push_str(&format!("{key} = {}\n", toml::Value::from(v)));
        }
    }
    let full = format!("{prefix}{text}");
    toml::from_str(&full).map_err(|e: toml::de::Error| {
        let shift = prefix.matches('\n').count();
        let line = e.span().map(|s| {
            let l = full[..s.start.min(full.len())].matches('\n').count() + 1;
            l.saturating_sub(shift).max(1)
        });
        let message = e.message().trim().replace('\n', " ");
        LandError::Config(match line {
            Some(line) => format!("{}: line {line}: {message}", path.display()),
            None => format!("{}: {message}", path.display()),
        })
    })
}

/// A TOML error as `line N: message`.
pub(crate) fn one_line_toml(e: &toml::de::Error, text: &str) -> String {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .unwrap_or(0);
    format!("line {line}: {}", e.message())
}

//! The bureau workspace: `pdq.toml` and one definition file per dataset
//! under `datasets/<department>/<dataset>.toml`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dataset::{DatasetDef, load_dataset};
use crate::land::LandOptions;
use crate::land::error::LandError;
use crate::land::lake::LakeConfig;

fn default_tz() -> String {
    "Asia/Shanghai".into()
}

/// `pdq.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceConfig {
    /// The bureau's name, for reports.
    #[serde(default)]
    pub bureau: Option<String>,
    /// The jurisdiction profile (e.g. `xinjiang-2023`).
    #[serde(default)]
    pub profile: Option<String>,
    /// The bureau's time zone (naive timestamps are read in it).
    #[serde(default = "default_tz")]
    pub time_zone: String,
    /// Where the lake is.
    #[serde(default)]
    pub lake: LakeConfig,
    /// How sweeps run.
    #[serde(default)]
    pub sweep: SweepConfig,
    /// When the daemon runs sweeps.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// Where alerts go.
    #[serde(default)]
    pub alerts: AlertConfig,
    /// How long records are kept.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// Scoring weights and grade bands (defaults: equal dimensions, 优秀/良好/合格/不合格 at 90/80/60).
    #[serde(default)]
    pub scoring: crate::score::ScoringConfig,
    /// The annual evaluation's component weights and grade bands.
    #[serde(default)]
    pub evaluation: crate::evaluate::EvaluationConfig,
    /// Department codes and their names (`gongan = "公安局"`).
    #[serde(default)]
    pub departments: std::collections::BTreeMap<String, String>,
    /// Extra holiday-calendar files (years past the embedded 2020–2026).
    #[serde(default)]
    pub calendar: CalendarConfig,
    /// How data files are read.
    #[serde(default)]
    pub files: FilesConfig,
    /// `pdq serve`: sessions, connection limits, the proxy in front.
    #[serde(default)]
    pub serve: ServeConfig,
    /// Which engine runs the checks: `embedded` (default) or `ballista`
    /// with its scheduler (issue #22).
    #[serde(default)]
    pub engine: crate::check::engine::EngineConfig,
}

const fn session_idle_seconds() -> u64 {
    30 * 60
}
const fn session_max_seconds() -> u64 {
    8 * 60 * 60
}
const fn header_timeout_seconds() -> u64 {
    10
}
const fn idle_timeout_seconds() -> u64 {
    60
}
const fn max_body() -> u64 {
    64 << 10
}
const fn max_header() -> u64 {
    16 << 10
}

/// `[serve]`: how `pdq serve` treats sessions and connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Seconds a signed-in session may go unused before it ends (default
    /// 1800: 30 minutes).
    #[serde(default = "session_idle_seconds")]
    pub session_idle_seconds: u64,
    /// Seconds a session lasts at most after sign-in, used or not (default
    /// 28800: 8 hours); then the holder signs in again.
    #[serde(default = "session_max_seconds")]
    pub session_max_seconds: u64,
    /// Seconds a client has to send a request's line and headers, counted
    /// from when the server waits for them, so also how long an idle
    /// kept-alive connection stays open (default 10).
    #[serde(default = "header_timeout_seconds")]
    pub header_timeout_seconds: u64,
    /// Seconds a connection may send and receive nothing (a stalled upload,
    /// a client that stops reading) before it is closed (default 60).
    #[serde(default = "idle_timeout_seconds")]
    pub idle_timeout_seconds: u64,
    /// The largest request body (default `"64KiB"`); more is refused with 413.
    #[serde(default = "max_body", deserialize_with = "size_in_bytes")]
    pub max_body: u64,
    /// The largest request line and headers (default `"16KiB"`); more is
    /// refused with 431.
    #[serde(default = "max_header", deserialize_with = "size_in_bytes")]
    pub max_header: u64,
    /// A reverse proxy in front terminates TLS and sets
    /// `X-Forwarded-Proto`: believe it, and mark the session cookie
    /// `Secure` when it says `https` (default false: the header is ignored,
    /// since any client can send it).
    #[serde(default)]
    pub trust_proxy: bool,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            session_idle_seconds: session_idle_seconds(),
            session_max_seconds: session_max_seconds(),
            header_timeout_seconds: header_timeout_seconds(),
            idle_timeout_seconds: idle_timeout_seconds(),
            max_body: max_body(),
            max_header: max_header(),
            trust_proxy: false,
        }
    }
}

fn xlsx_max_bytes() -> u64 {
    connectors::files::sheet::DEFAULT_XLSX_MAX_BYTES
}

/// `[files]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// The most bytes an XLSX workbook's parts may unpack to, and the most
    /// cell text one of its rows (or a sheet that is kept whole, as in
    /// catalog harvest) may hold; default 512 MiB. A workbook past it is a
    /// failed delivery that names the file, sheet and this key.
    /// A size as everywhere in pdq.toml (`"512MiB"`, `"1GiB"`), or a
    /// number of bytes.
    #[serde(default = "xlsx_max_bytes", deserialize_with = "size_in_bytes")]
    pub xlsx_max_bytes: u64,
}

/// A size written as text (`"512MiB"`, parsed by [`parse_size`]) or as a
/// plain number of bytes.
fn size_in_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Bytes(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Bytes(n) => Ok(n),
        Size::Text(t) => parse_size(&t)
            .map(|n| n as u64)
            .map_err(serde::de::Error::custom),
    }
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            xlsx_max_bytes: xlsx_max_bytes(),
        }
    }
}

/// `[calendar]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    /// CSV files (`date,kind,festival`), relative to the workspace.
    #[serde(default)]
    pub files: Vec<String>,
}

impl Default for WorkspaceConfig {
    fn default() -> Self {
        toml::from_str("").expect("every field has a default")
    }
}

fn two() -> usize {
    2
}
fn one() -> usize {
    1
}
fn three() -> u32 {
    3
}
fn nightly() -> String {
    "30 2 * * *".into()
}

/// `[sweep]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepConfig {
    /// Datasets worked on at once.
    #[serde(default = "two")]
    pub parallelism: usize,
    /// Memory the check engine may use before spilling (e.g. `2GiB`).
    #[serde(default)]
    pub memory_limit: Option<String>,
    /// How long a sweep waits, before scoring, for the sweeps started before
    /// it that are still going (their counts belong in its scorecards and
    /// publication); past it, the sweep scores without them and says so.
    #[serde(default = "two_hours")]
    pub wait_for_earlier_minutes: u64,
}

fn two_hours() -> u64 {
    120
}

impl SweepConfig {
    /// `memory_limit` in bytes; None: the check engine's default (2 GiB).
    pub fn memory_limit_bytes(&self) -> Result<Option<usize>, String> {
        self.memory_limit.as_deref().map(parse_size).transpose()
    }
}

/// Parses a size such as `2GiB`, `512MiB`, `1G`, `1000000` (bytes).
///
/// ```
/// use pipeline::workspace::parse_size;
/// assert_eq!(parse_size("2GiB"), Ok(2 << 30));
/// assert_eq!(parse_size("512MiB"), Ok(512 << 20));
/// assert_eq!(parse_size("1000"), Ok(1000));
/// assert!(parse_size("lots").is_err());
/// assert!(parse_size("1 parsec").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("invalid size `{text}` (expected e.g. 2GiB, 512MiB)"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0_f64.powi(4),
        other => {
            return Err(format!(
                "invalid size unit `{other}` in `{text}` (expected B, KiB, MiB, GiB)"
            ));
        }
    };
    let bytes = n * mult;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("invalid size `{text}`"));
    }
    Ok(bytes as usize)
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            parallelism: 2,
            memory_limit: None,
            wait_for_earlier_minutes: two_hours(),
        }
    }
}

/// `[schedule]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// When sweeps run: a cron expression in the bureau's time zone.
    #[serde(default = "nightly")]
    pub cron: String,
    /// Runs missed while the daemon was down that are caught up (as one run); 0: none.
    #[serde(default = "one")]
    pub max_catch_up: usize,
    /// Retries of a sweep that could not run, with backoff.
    #[serde(default = "three")]
    pub retries: u32,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            cron: nightly(),
            max_catch_up: 1,
            retries: 3,
        }
    }
}

/// `[alerts]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertConfig {
    /// A webhook that receives a JSON POST when a sweep fails or finds new
    /// `fail` results; none: no alerts.
    #[serde(default)]
    pub webhook: Option<String>,
}

/// `[retention]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Years the audit log is kept (at least what the profile's text
    /// requires: three years in 新疆 and 西藏).
    #[serde(default = "three")]
    pub audit_years: u32,
    /// Days an earlier version of a lake table stays readable (Delta time
    /// travel): files that a full delivery replaced, or a prune removed,
    /// longer ago than this are deleted after each sweep (`pdq vacuum`),
    /// and so are files of writes that died before their commit. At least 1.
    #[serde(default = "seven")]
    pub lake_days: u32,
    /// One-source runs whose golden records, links and conflicts (per
    /// subject, identifiers included) are kept in the lake; those of older
    /// runs are removed at each run. Each run's report is kept for good.
    /// At least 1.
    #[serde(default = "seven_runs")]
    pub onesource_runs: usize,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            audit_years: 3,
            lake_days: seven(),
            onesource_runs: seven_runs(),
        }
    }
}

fn seven() -> u32 {
    7
}

fn seven_runs() -> usize {
    7
}

/// A loaded workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Its directory.
    pub dir: PathBuf,
    /// `pdq.toml`.
    pub config: WorkspaceConfig,
    /// The datasets, ordered by id.
    pub datasets: Vec<DatasetDef>,
    /// Dataset definitions that could not be loaded, ordered by id: each
    /// fails on its own, and every other dataset runs.
    pub invalid: Vec<InvalidDataset>,
    /// `time_zone`, parsed.
    tz: chrono_tz::Tz,
}

/// A dataset definition file that could not be loaded (a bad value, a
/// missing key): that dataset fails with this error; the others run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDataset {
    /// `department.name`, from the file's folder and stem.
    pub id: String,
    /// The department (the file's folder).
    pub department: String,
    /// The definition file.
    pub path: PathBuf,
    /// What is wrong: file, line and key, and what was expected.
    pub error: String,
}

/// The bureau's name when `pdq.toml` gives none.
pub const DEFAULT_BUREAU: &str = "数据局";

impl Workspace {
    /// The bureau's name for reports: `bureau` in `pdq.toml`, else
    /// [`DEFAULT_BUREAU`].
    pub fn bureau(&self) -> &str {
        self.config.bureau.as_deref().unwrap_or(DEFAULT_BUREAU)
    }

    /// Loads `DIR/pdq.toml` and every `DIR/datasets/*/*.toml`; errors name
    /// the file, line and key.
    pub fn load(dir: &Path) -> Result<Workspace, LandError> {
        let path = dir.join("pdq.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            LandError::Config(format!(
                "{}: {e} (is {} a pdq workspace?)",
                path.display(),
                dir.display()
            ))
        })?;
        let mut config: WorkspaceConfig = toml::from_str(&text).map_err(|e| {
            LandError::Config(format!(
                "{}: {}",
                path.display(),
                crate::dataset::one_line_toml(&e, &text)
            ))
        })?;
        let tz = config.time_zone.parse::<chrono_tz::Tz>().map_err(|_| {
            LandError::Config(format!(
                "{}: time_zone: unknown zone `{}`",
                path.display(),
                config.time_zone
            ))
        })?;
        config.sweep.memory_limit_bytes().map_err(|e| {
            LandError::Config(format!("{}: sweep.memory_limit: {e}", path.display()))
        })?;
        config
            .engine
            .resolve()
            .map_err(|e| LandError::Config(format!("{}: engine: {e}", path.display())))?;
        if config.files.xlsx_max_bytes == 0 {
            return Err(LandError::Config(format!(
                "{}: files.xlsx_max_bytes: must be above 0",
                path.display()
            )));
        }
        if config.lake.location.is_empty() {
            config.lake.location = "lake".into();
        }
        if config.retention.lake_days == 0 {
            return Err(LandError::Config(format!(
                "{}: retention.lake_days = 0: expected at least 1 (days an earlier version of a lake table stays readable)",
                path.display()
            )));
        }
        if config.retention.onesource_runs == 0 {
            return Err(LandError::Config(format!(
                "{}: retention.onesource_runs = 0: expected at least 1 (the run just made is always kept)",
                path.display()
            )));
        }
        let mut datasets = vec![];
        let mut invalid = vec![];
        let root = dir.join("datasets");
        if root.is_dir() {
            let mut files = vec![];
            for dept in std::fs::read_dir(&root)
                .map_err(|e| LandError::Config(format!("{}: {e}", root.display())))?
            {
                let dept = dept
                    .map_err(|e| LandError::Config(format!("{}: {e}", root.display())))?
                    .path();
                if !dept.is_dir() {
                    continue;
                }
                for f in std::fs::read_dir(&dept)
                    .map_err(|e| LandError::Config(format!("{}: {e}", dept.display())))?
                {
                    let f = f
                        .map_err(|e| LandError::Config(format!("{}: {e}", dept.display())))?
                        .path();
                    if f.extension().is_some_and(|e| e == "toml") {
                        files.push(f);
                    }
                }
            }
            files.sort();
            // A bureau's 100,000 dataset definitions are parsed on every
            // core (issue #19: parsing them one by one took 11 s).
            let threads = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .min(files.len().div_ceil(256).max(1));
            let chunk = files.len().div_ceil(threads).max(1);
            let loaded: Vec<(PathBuf, Result<DatasetDef, LandError>)> = std::thread::scope(|s| {
                let handles: Vec<_> = files
                    .chunks(chunk)
                    .map(|part| {
                        s.spawn(move || {
                            part.iter()
                                .map(|f| (f.clone(), load_dataset(f)))
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            });
            for (f, loaded) in loaded {
                match loaded {
                    Ok(d) => datasets.push(d),
                    Err(e) => {
                        let part = |p: Option<&std::ffi::OsStr>| {
                            p.map(|s| s.to_string_lossy().into_owned())
                                .unwrap_or_default()
                        };
                        let department = part(f.parent().and_then(|p| p.file_name()));
                        invalid.push(InvalidDataset {
                            id: format!("{department}.{}", part(f.file_stem())),
                            department,
                            path: f.clone(),
                            error: e.to_string(),
                        });
                    }
                }
            }
        }
        datasets.sort_by_key(|d| d.id());
        invalid.sort_by(|a: &InvalidDataset, b| a.id.cmp(&b.id));
        Ok(Workspace {
            dir: dir.to_path_buf(),
            config,
            datasets,
            invalid,
            tz,
        })
    }

    /// How long earlier versions of the lake's tables stay readable:
    /// `[retention] lake_days` (at least one day, checked at load: a
    /// shorter window could delete a file a running check is reading).
    pub fn lake_retention(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.config.retention.lake_days.max(1)))
    }

    /// One-source runs whose per-subject tables are kept:
    /// `[retention] onesource_runs` (at least one, checked at load).
    pub fn onesource_runs(&self) -> usize {
        self.config.retention.onesource_runs.max(1)
    }

    /// Years the audit log is kept: `[retention] audit_years`, which may
    /// not be fewer than the profile's text requires (新疆 第十五条, 西藏
    /// 第十九条: 不得少于三年); where the text sets no period, at least one.
    pub fn audit_retention_years(&self) -> Result<u32, LandError> {
        let p = self.profile()?;
        let years = self.config.retention.audit_years;
        let least = p.log_retention_years.unwrap_or(1);
        if years < least {
            let cites = match p.source("log_retention_years") {
                Some(crate::profile::Source::Cited(c)) => c
                    .iter()
                    .map(|c| format!("{} {}", c.article, c.says))
                    .collect::<Vec<_>>()
                    .join("; "),
                _ => "at least one year".into(),
            };
            return Err(LandError::Config(format!(
                "{}: retention.audit_years = {years}: {} requires at least {least} ({cites})",
                self.dir.join("pdq.toml").display(),
                p.title
            )));
        }
        Ok(years)
    }

    /// Whether `pdq.toml` names its profile (else [`crate::profile::DEFAULT_PROFILE`]
    /// is assumed, and every run says so).
    pub fn names_profile(&self) -> bool {
        self.config.profile.is_some()
    }

    /// The jurisdiction profile (`profile` in pdq.toml; a workspace that
    /// names none gets xinjiang-2023, and every run says so).
    pub fn profile(&self) -> Result<crate::profile::Profile, LandError> {
        crate::profile::profile(
            self.config
                .profile
                .as_deref()
                .unwrap_or(crate::profile::DEFAULT_PROFILE),
        )
        .map_err(|e| {
            LandError::Config(format!(
                "{}: profile: {e}",
                self.dir.join("pdq.toml").display()
            ))
        })
    }

    /// The bureau's time zone (`time_zone`, checked when the workspace was
    /// loaded): the one place that reads it.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.tz
    }

    /// The working-day calendar: embedded, then the notices imported into
    /// `calendar/` (`pdq calendar import`, in name order), then
    /// `[calendar] files`.
    pub fn calendar(&self) -> Result<crate::calendar::WorkCalendar, LandError> {
        let mut cal = crate::calendar::WorkCalendar::embedded();
        let imported = self.dir.join(crate::calendar::IMPORTED_DIR);
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&imported) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "csv"))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
            Err(e) => {
                return Err(LandError::Config(format!("{}: {e}", imported.display())));
            }
        };
        files.sort();
        files.extend(self.config.calendar.files.iter().map(|f| self.dir.join(f)));
        for f in files {
            cal.add_file(&f)
                .map_err(|e| LandError::Config(e.to_string()))?;
        }
        Ok(cal)
    }

    /// The datasets a selection names (`--dataset`): each selector is a
    /// dataset id (`department.name`) or a department, and every selector
    /// must match at least one dataset; an empty selection is every dataset.
    /// One definition for the sweep, `pdq ingest` and the progress bar.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// std::fs::write(dir.path().join("pdq.toml"), "bureau = \"x\"\n").unwrap();
    /// let ws = pipeline::workspace::Workspace::load(dir.path()).unwrap();
    /// assert!(ws.select(&[]).unwrap().is_empty());
    /// let err = ws.select(&["nosuchdept".to_string()]).unwrap_err().to_string();
    /// assert!(err.contains("no dataset matches `nosuchdept`"), "{err}");
    /// ```
    pub fn select(&self, only: &[String]) -> Result<Vec<&DatasetDef>, LandError> {
        let matches = |s: &String, d: &DatasetDef| *s == d.id() || *s == d.department;
        if let Some(unknown) = only.iter().find(|s| {
            !self.datasets.iter().any(|d| matches(s, d))
                && self
                    .invalid_selected(std::slice::from_ref(*s))
                    .next()
                    .is_none()
        }) {
            let known: Vec<String> = self.datasets.iter().map(|d| d.id()).collect();
            return Err(LandError::Config(format!(
                "{}: no dataset matches `{unknown}` (a dataset id department.name or a department; datasets: {})",
                self.dir.display(),
                if known.is_empty() {
                    "none under datasets/".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        Ok(self
            .datasets
            .iter()
            .filter(|d| only.is_empty() || only.iter().any(|s| matches(s, d)))
            .collect())
    }

    /// The invalid dataset definitions a selection names (all when empty):
    /// each is a failed dataset of the run that selected it.
    pub fn invalid_selected<'a>(
        &'a self,
        only: &'a [String],
    ) -> impl Iterator<Item = &'a InvalidDataset> + 'a {
        self.invalid.iter().filter(move |d| {
            only.is_empty() || only.iter().any(|s| *s == d.id || *s == d.department)
        })
    }

    /// Landing options from the configuration.
    pub fn land_options(&self) -> LandOptions {
        LandOptions {
            time_zone: self.tz,
            base_dir: self.dir.clone(),
            xlsx: self.xlsx_limits(),
            ..LandOptions::default()
        }
    }

    /// How much of an XLSX workbook is read (`[files] xlsx_max_bytes`).
    pub fn xlsx_limits(&self) -> connectors::files::sheet::XlsxLimits {
        connectors::files::sheet::XlsxLimits {
            max_bytes: self.config.files.xlsx_max_bytes,
        }
    }
}

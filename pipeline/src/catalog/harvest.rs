//! A harvest: every catalog source of the workspace read, its records made
//! into entries (normalised, defaults and the bureau's curation applied),
//! compared with the stored catalog by identity and content hash, and the
//! differences committed as one new catalog version.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use connectors::catalog::{CatalogSourceConfig, HarvestProblem, HarvestedRecord};
use serde::{Deserialize, Serialize};

use super::model::{
    CatalogEntry, DataItem, ENTRY_FIELDS, collapse, half_width, normalize_field, yes_no,
};
use super::store::{self, CatalogRow, CatalogState, ChangeKind, FieldChange};
use super::vocab::{Kind, SourceValues};
use crate::land::{Lake, LandError};
use crate::workspace::Workspace;

fn fifth() -> f64 {
    0.2
}
fn twentieth() -> f64 {
    0.05
}

/// A catalog source of the workspace: `catalogs/<name>.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSourceDef {
    /// Its id (default: the file name without `.toml`).
    #[serde(default)]
    pub name: String,
    /// The department whose catalog it is; none: a portal covering many,
    /// each entry's department found from its provider.
    #[serde(default)]
    pub department: Option<String>,
    /// Where and how to read it.
    pub source: CatalogSourceConfig,
    /// The largest share of this source's entries one harvest may withdraw;
    /// a harvest that would withdraw more is refused (a misconfigured or
    /// truncated source must not wipe the catalog).
    #[serde(default = "fifth")]
    pub max_withdraw_share: f64,
    /// The largest share of this source's records that may lack a required
    /// field (the resource name; the provider too when the source has no
    /// `department`); a harvest with more fails the source, naming the
    /// field and the source keys no mapping used (a portal export read
    /// without the right mapping must not pass as a good harvest).
    #[serde(default = "twentieth")]
    pub max_missing_share: f64,
    /// Whether the source may deliver no records at all. When false (the
    /// default), a harvest of no records fails the source if it has
    /// entries (they stand), and is `empty` (not ok: exit 4, or 1 alone)
    /// if it has none yet. When true, no records is a harvest like any
    /// other: its withdrawals are still bounded by `max_withdraw_share`.
    #[serde(default)]
    pub allow_empty: bool,
    /// Values for fields the source leaves blank (e.g. an open-data portal's
    /// `open_attribute = "无条件开放"`).
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
    /// The source's own words for the open and share attributes and the
    /// update frequency (`[values.open]`, `[values.share]`,
    /// `[values.frequency]`: word → a value pdq knows), read before the
    /// built-in synonym tables ([`super::vocab`]). A value neither maps is
    /// left unset and reported, never guessed.
    #[serde(default)]
    pub values: SourceValues,
}

/// Loads `DIR/catalogs/*.toml`, sorted by name; errors name the file, line and key.
pub fn load_sources(dir: &Path) -> Result<Vec<CatalogSourceDef>, LandError> {
    let root = dir.join("catalogs");
    let mut out = vec![];
    if !root.is_dir() {
        return Ok(out);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .map_err(|e| LandError::Config(format!("{}: {e}", root.display())))?
        .filter_map(|f| f.ok().map(|f| f.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| LandError::Config(format!("{}: {e}", f.display())))?;
        let mut def: CatalogSourceDef = toml::from_str(&text).map_err(|e| {
            LandError::Config(format!(
                "{}: {}",
                f.display(),
                crate::dataset::one_line_toml(&e, &text)
            ))
        })?;
        if def.name.is_empty() {
            def.name = f
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
        }
        for k in def.defaults.keys() {
            if !ENTRY_FIELDS.contains(&k.as_str()) {
                return Err(LandError::Config(format!(
                    "{}: defaults: `{k}` is not a catalog field (fields: {})",
                    f.display(),
                    ENTRY_FIELDS.join(", ")
                )));
            }
        }
        def.values
            .validate()
            .map_err(|e| LandError::Config(format!("{}: {e}", f.display())))?;
        // A default no vocabulary maps would leave the field of every entry
        // it fills unset: refused here, once, rather than found per entry.
        for (k, v) in &def.defaults {
            if let Some(kind) = Kind::of_field(k)
                && def.values.canonical(kind, v).is_none()
            {
                return Err(LandError::Config(format!(
                    "{}: defaults: {k} = `{v}` is not a value pdq knows; expected one of {} (or map it in [values.{}])",
                    f.display(),
                    kind.canonical_values().join(", "),
                    kind.table()
                )));
            }
        }
        for (key, share) in [
            ("max_withdraw_share", def.max_withdraw_share),
            ("max_missing_share", def.max_missing_share),
        ] {
            if !(0.0..=1.0).contains(&share) {
                return Err(LandError::Config(format!(
                    "{}: {key}: expected a share between 0 and 1, got {share}",
                    f.display(),
                )));
            }
        }
        out.push(def);
    }
    Ok(out)
}

/// The bureau's curation: `catalog-curation.toml`, fields the bureau sets
/// on entries, which harvests never overwrite.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Curation {
    /// One per curated entry.
    #[serde(default)]
    pub entry: Vec<CuratedEntry>,
}

/// `[[entry]]` of the curation file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CuratedEntry {
    /// The entry's key …
    #[serde(default)]
    pub key: Option<String>,
    /// … or its resource code.
    #[serde(default)]
    pub code: Option<String>,
    /// Field → value.
    pub fields: BTreeMap<String, String>,
}

/// Loads `DIR/catalog-curation.toml` (absent: no curation).
pub fn load_curation(dir: &Path) -> Result<Curation, LandError> {
    let f = dir.join("catalog-curation.toml");
    let text = match std::fs::read_to_string(&f) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Curation::default()),
        Err(e) => return Err(LandError::Config(format!("{}: {e}", f.display()))),
    };
    let c: Curation = toml::from_str(&text).map_err(|e| {
        LandError::Config(format!(
            "{}: {}",
            f.display(),
            crate::dataset::one_line_toml(&e, &text)
        ))
    })?;
    for (i, e) in c.entry.iter().enumerate() {
        if e.key.is_none() && e.code.is_none() {
            return Err(LandError::Config(format!(
                "{}: entry {}: expected `key` or `code`",
                f.display(),
                i + 1
            )));
        }
        for k in e.fields.keys() {
            if !ENTRY_FIELDS.contains(&k.as_str()) {
                return Err(LandError::Config(format!(
                    "{}: entry {}: `{k}` is not a catalog field",
                    f.display(),
                    i + 1
                )));
            }
        }
    }
    Ok(c)
}

/// How one source's harvest went.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SourceOutcome {
    /// The source.
    pub source: String,
    /// `ok`; `failed` (could not be read, was truncated, lacked a required
    /// field in too many records, or delivered nothing while it has
    /// entries: its entries stand); `empty` (a source with no entries
    /// delivered no records); or `refused` (would have withdrawn too much;
    /// nothing changed). Anything but `ok` makes `pdq harvest` exit non-zero.
    pub status: String,
    /// Why, when not ok.
    #[serde(default)]
    pub error: Option<String>,
    /// Records read.
    pub records: usize,
    /// Entries added, changed, withdrawn, restored, unchanged.
    pub added: usize,
    /// Changed.
    pub changed: usize,
    /// Withdrawn.
    pub withdrawn: usize,
    /// Restored.
    pub restored: usize,
    /// Unchanged.
    pub unchanged: usize,
    /// What was mapped (issue #19, 1): per catalog field, the source key
    /// each record gave it from and how many records did; the keys no field
    /// took.
    #[serde(default)]
    pub mapping: connectors::catalog::mapping::MappingReport,
}

/// A harvest's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HarvestReport {
    /// The harvest id.
    pub harvest: String,
    /// When.
    pub harvested_at: DateTime<Utc>,
    /// The catalog version after it (unchanged when nothing changed).
    pub version: i64,
    /// Whether it wrote a new version.
    pub new_version: bool,
    /// Per source.
    pub sources: Vec<SourceOutcome>,
    /// Records or cells that could not be harvested, with stage and location.
    pub problems: Vec<SourceProblem>,
    /// The rows written (the change log of this version), without their
    /// `entry` once committed: the state holds it.
    pub changes: Vec<CatalogRow>,
    /// When this harvest wrote nothing: the change log of the version it
    /// left standing (see [`HarvestReport::version_log`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub version_changes: Vec<CatalogRow>,
}

impl HarvestReport {
    /// The change log of the catalog's current version: the rows this
    /// harvest wrote, or, when it wrote none, those of the version it left
    /// standing. This is what is published, so that a version committed by
    /// a sweep killed before it published is published by the next one, and
    /// an unchanged harvest republishes the same log (issue #18).
    pub fn version_log(&self) -> &[CatalogRow] {
        if self.changes.is_empty() {
            &self.version_changes
        } else {
            &self.changes
        }
    }

    /// The sources that were not harvested, one line each: `source status:
    /// why`.
    pub fn failed_sources(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter(|s| s.status != "ok")
            .map(|s| {
                format!(
                    "{} {}: {}",
                    s.source,
                    s.status,
                    s.error.as_deref().unwrap_or("")
                )
            })
            .collect()
    }
}

/// A harvest problem and its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceProblem {
    /// The catalog source.
    pub source: String,
    /// The department it belongs to, if known.
    pub department: Option<String>,
    /// The problem.
    #[serde(flatten)]
    pub problem: HarvestProblem,
}

/// The department code an entry belongs to.
fn department_of(
    def: &CatalogSourceDef,
    e: &CatalogEntry,
    departments: &BTreeMap<String, String>,
) -> String {
    if let Some(d) = &def.department {
        return d.clone();
    }
    if let Some(c) = &e.provider_code
        && departments.contains_key(c)
    {
        return c.clone();
    }
    if let Some(p) = &e.provider {
        if departments.contains_key(p) {
            return p.clone();
        }
        if let Some((code, _)) = departments.iter().find(|(_, n)| *n == p) {
            return code.clone();
        }
        // 自治区公安厅 provides, the workspace calls it 公安厅.
        if let Some((code, _)) = departments
            .iter()
            .find(|(_, n)| !n.is_empty() && (p.contains(n.as_str()) || n.contains(p.as_str())))
        {
            return code.clone();
        }
        return p.clone();
    }
    "(未知)".into()
}

/// Between a provider/name and the digest of an entry without an identifier.
const IDENTITY_MARK: char = '~';

/// The provider/name part of a key made from a digest (`src:局/名~0123456789abcdef`,
/// also with a duplicate's `#2`); None for a key from an identifier.
fn digest_stem(key: &str) -> Option<&str> {
    let (stem, tail) = key.rsplit_once(IDENTITY_MARK)?;
    let digest = tail.split_once('#').map_or(tail, |(d, _)| d);
    (digest.len() == 16 && digest.bytes().all(|b| b.is_ascii_hexdigit())).then_some(stem)
}

/// An entry without an identifier whose distinguishing text changed (a
/// corrected summary) gets a new digest; where exactly one such entry
/// arrived and exactly one of the same provider and name vanished, it is
/// the same resource changed, not one withdrawn and another added. This
/// also carries entries over from keys written before digests (plain
/// `provider/name`).
fn carry_over(fresh: &mut BTreeMap<String, CatalogEntry>, before: &BTreeSet<String>) {
    let mut vanished: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for k in before.iter().filter(|k| !fresh.contains_key(*k)) {
        vanished
            .entry(digest_stem(k).unwrap_or(k))
            .or_default()
            .push(k);
    }
    let mut arrived: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    for k in fresh.keys().filter(|k| !before.contains(*k)) {
        if let Some(stem) = digest_stem(k) {
            arrived.entry(stem).or_default().push(k);
        }
    }
    let moves: Vec<(String, String)> = arrived
        .iter()
        .filter_map(
            |(stem, new)| match (new.as_slice(), vanished.get(stem).map(Vec::as_slice)) {
                ([new], Some([old])) => Some(((*new).clone(), (*old).clone())),
                _ => None,
            },
        )
        .collect();
    for (new, old) in moves {
        if let Some(mut e) = fresh.remove(&new) {
            e.key = old.clone();
            fresh.insert(old, e);
        }
    }
}

/// Sets a harvested field: an enumerated one through the source's
/// `[values]` and the built-in vocabularies, and when neither knows the
/// value, left unset with the value kept in `unmapped` for the checks.
fn set_mapped(e: &mut CatalogEntry, def: &CatalogSourceDef, f: &str, v: &str, tz: chrono_tz::Tz) {
    match Kind::of_field(f) {
        Some(kind) => match def.values.canonical(kind, v) {
            Some(c) => {
                e.set(f, Some(c.to_string()));
                e.unmapped.remove(f);
            }
            None => {
                e.set(f, None);
                e.unmapped.insert(f.to_string(), collapse(v));
            }
        },
        None => {
            e.set(f, Some(normalize_field(f, v, tz)));
        }
    }
}

/// Makes an entry of a harvested record.
pub fn entry_of(
    def: &CatalogSourceDef,
    rec: &HarvestedRecord,
    tz: chrono_tz::Tz,
    departments: &BTreeMap<String, String>,
) -> CatalogEntry {
    let mut e = CatalogEntry {
        source: def.name.clone(),
        location: rec.location.clone(),
        ..Default::default()
    };
    for (f, v) in &rec.fields {
        set_mapped(&mut e, def, f, v, tz);
    }
    for (f, v) in &def.defaults {
        // A value the source wrote but no vocabulary maps is not blank:
        // a default must not hide it.
        if e.get(f).is_none() && !e.unmapped.contains_key(f) {
            set_mapped(&mut e, def, f, v, tz);
            e.origins.insert(f.clone(), "defaults".into());
        }
    }
    for (f, o) in &rec.origins {
        e.origins.insert_if_absent(f, o);
    }
    for it in &rec.items {
        let g = |k: &str| it.fields.get(k).map(|v| normalize_field(k, v, tz));
        e.items.push(DataItem {
            name: g("name"),
            column: g("column"),
            data_type: g("type"),
            length: g("length").map(|l| half_width(&l)),
            description: g("description"),
            personal: it.fields.get("personal").and_then(|v| yes_no(v)),
            sensitive: it.fields.get("sensitive").and_then(|v| yes_no(v)),
            location: it.location.clone(),
        });
    }
    e.department = department_of(def, &e, departments);
    // The source's identifier, else the resource code, else provider and
    // name with a digest of the fields that tell resources apart: the same
    // title for different years or districts is two entries, not one
    // (issue #19, 5).
    let id = rec
        .source_id
        .clone()
        .or_else(|| e.resource_code.clone())
        .unwrap_or_else(|| {
            format!(
                "{}/{}{IDENTITY_MARK}{}",
                e.provider.as_deref().unwrap_or(&e.department),
                e.name.as_deref().unwrap_or(""),
                e.identity_digest()
            )
        });
    let id: String = half_width(&id)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("");
    e.key = format!("{}:{id}", def.name);
    e
}

/// Applies the bureau's curation to an entry.
fn curate(e: &mut CatalogEntry, curation: &Curation, tz: chrono_tz::Tz) {
    for c in &curation.entry {
        let hit = c.key.as_deref() == Some(e.key.as_str())
            || (c.key.is_none() && c.code.is_some() && c.code == e.resource_code);
        if hit {
            for (f, v) in &c.fields {
                e.set(f, Some(normalize_field(f, v, tz)));
                e.unmapped.remove(f);
                e.origins.insert(f.clone(), "catalog-curation.toml".into());
                if !e.curated.contains(f) {
                    e.curated.push(f.clone());
                }
            }
        }
    }
}

/// What one source delivered: its harvest, or why it could not be read.
pub type SourceResult = (
    CatalogSourceDef,
    Result<connectors::catalog::Harvest, String>,
);

/// Reads every source (at most two at a time); workbooks within `xlsx`.
pub async fn read_sources(
    defs: &[CatalogSourceDef],
    base_dir: &Path,
    xlsx: connectors::files::sheet::XlsxLimits,
) -> Vec<SourceResult> {
    use futures::StreamExt;
    source_results(defs, base_dir, xlsx).collect().await
}

/// The sources' harvests in the sources' order, at most two read at a time.
fn source_results<'a>(
    defs: &[CatalogSourceDef],
    base_dir: &'a Path,
    xlsx: connectors::files::sheet::XlsxLimits,
) -> impl futures::Stream<Item = SourceResult> + 'a {
    use futures::StreamExt;
    let reads: Vec<_> = defs
        .iter()
        .cloned()
        .map(|d| read_source(d, base_dir, xlsx))
        .collect();
    futures::stream::iter(reads).buffered(2)
}

/// The sources' harvests, read on their own task (two at a time, in the
/// sources' order) while the caller merges the ones before: one source
/// waits in the channel, so at most four are held at once.
fn spawn_reads(
    defs: Vec<CatalogSourceDef>,
    base_dir: std::path::PathBuf,
    xlsx: connectors::files::sheet::XlsxLimits,
) -> tokio::sync::mpsc::Receiver<SourceResult> {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(read_into(defs, base_dir, xlsx, tx));
    rx
}

async fn read_into(
    defs: Vec<CatalogSourceDef>,
    base_dir: std::path::PathBuf,
    xlsx: connectors::files::sheet::XlsxLimits,
    tx: tokio::sync::mpsc::Sender<SourceResult>,
) {
    let mut results = std::pin::pin!(source_results(&defs, &base_dir, xlsx));
    while let Some(result) = futures::StreamExt::next(&mut results).await {
        if tx.send(result).await.is_err() {
            // The merge stopped (its task ended): nothing more to read.
            break;
        }
    }
}

async fn read_source(
    def: CatalogSourceDef,
    base_dir: &Path,
    xlsx: connectors::files::sheet::XlsxLimits,
) -> SourceResult {
    let r = def
        .source
        .harvest_with(base_dir, xlsx)
        .await
        .map_err(|e| e.to_string());
    (def, r)
}

/// What a source's harvest mapped, in one line: `name←title 60/60, …`.
pub fn mapping_line(m: &connectors::catalog::mapping::MappingReport) -> String {
    let mut parts = vec![];
    for (field, keys) in &m.fields {
        let keys: Vec<&str> = keys.keys().map(String::as_str).collect();
        parts.push(format!(
            "{field}←{} {}/{}",
            keys.join("|"),
            m.covered(field),
            m.records
        ));
    }
    parts.join(", ")
}

/// Why a source's harvest is not usable for want of a required field: the
/// resource name, and the provider (or its code) when the source names no
/// department, each missing (after `defaults`) in more than
/// `max_missing_share` of the records read (those skipped for want of a
/// name included). One line: each field with its count, then the source
/// keys no mapping used, most frequent first (ten at most).
pub fn missing_required(
    def: &CatalogSourceDef,
    h: &connectors::catalog::Harvest,
) -> Option<String> {
    let all: Vec<&HarvestedRecord> = h.records.iter().chain(&h.skipped).collect();
    if all.is_empty() {
        return None;
    }
    let has =
        |r: &HarvestedRecord, f: &str| r.fields.contains_key(f) || def.defaults.contains_key(f);
    let mut required: Vec<(&str, usize)> =
        vec![("name", all.iter().filter(|r| !has(r, "name")).count())];
    if def.department.is_none() {
        required.push((
            "provider",
            all.iter()
                .filter(|r| !has(r, "provider") && !has(r, "provider_code"))
                .count(),
        ));
    }
    let share = |n: usize| n as f64 / all.len() as f64;
    let over: Vec<String> = required
        .iter()
        .filter(|(_, n)| share(*n) > def.max_missing_share)
        .map(|(f, n)| {
            format!(
                "required field `{f}` missing in {n} of {} records ({:.0}%)",
                all.len(),
                100.0 * share(*n)
            )
        })
        .collect();
    if over.is_empty() {
        return None;
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &all {
        for k in &r.unmapped {
            *seen.entry(k.as_str()).or_default() += 1;
        }
    }
    let mut seen: Vec<(&str, usize)> = seen.into_iter().collect();
    seen.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let keys = if seen.is_empty() {
        "no unmapped source keys seen".to_string()
    } else {
        format!(
            "unmapped source keys seen: {}{}",
            seen.iter()
                .take(10)
                .map(|(k, n)| format!("{k} ({n})"))
                .collect::<Vec<_>>()
                .join(", "),
            if seen.len() > 10 {
                format!(" and {} more", seen.len() - 10)
            } else {
                String::new()
            }
        )
    };
    Some(format!(
        "{}, more than max_missing_share {:.0}%; {keys}; map the field in the source's `mapping` (CKAN: `extras`; `pdq harvest --suggest-mapping {}` proposes one); nothing from this source was applied",
        over.join(", "),
        100.0 * def.max_missing_share,
        def.name
    ))
}

/// The problem recorded when nothing from source `def` was applied (it was
/// refused or unusable), saying `why`.
fn not_applied(def: &CatalogSourceDef, why: &str) -> SourceProblem {
    SourceProblem {
        source: def.name.clone(),
        department: def.department.clone(),
        problem: HarvestProblem {
            stage: "validate".into(),
            location: def.source.location(),
            field: None,
            message: why.to_string(),
        },
    }
}

/// Merges what the sources delivered into the catalog state and returns the
/// rows of a new version (empty: nothing changed). `state` is updated in
/// place (locations of unchanged entries included). The sources' records
/// are consumed as they become entries, so that a large harvest is not
/// held twice.
pub fn merge(
    state: &mut CatalogState,
    results: Vec<SourceResult>,
    curation: &Curation,
    tz: chrono_tz::Tz,
    departments: &BTreeMap<String, String>,
    harvest: &str,
    now: DateTime<Utc>,
) -> (Vec<CatalogRow>, Vec<SourceOutcome>, Vec<SourceProblem>) {
    let mut m = Merge::new(state, curation, tz, departments, harvest, now);
    for r in results {
        m.source(r);
    }
    m.finish()
}

/// A harvest being merged into the catalog state, a source at a time (in
/// the sources' order), so that a source's records can go as soon as they
/// are merged: a bureau's many department catalogs are not all held at
/// once.
pub struct Merge<'a> {
    state: &'a mut CatalogState,
    curation: &'a Curation,
    tz: chrono_tz::Tz,
    departments: &'a BTreeMap<String, String>,
    harvest: &'a str,
    now: DateTime<Utc>,
    version: i64,
    rows: Vec<CatalogRow>,
    outcomes: Vec<SourceOutcome>,
    problems: Vec<SourceProblem>,
}

impl<'a> Merge<'a> {
    /// A merge into `state` as catalog version `state.version + 1`.
    pub fn new(
        state: &'a mut CatalogState,
        curation: &'a Curation,
        tz: chrono_tz::Tz,
        departments: &'a BTreeMap<String, String>,
        harvest: &'a str,
        now: DateTime<Utc>,
    ) -> Self {
        let version = state.version + 1;
        Merge {
            state,
            curation,
            tz,
            departments,
            harvest,
            now,
            version,
            rows: vec![],
            outcomes: vec![],
            problems: vec![],
        }
    }

    /// Merges one source's harvest (or records why it was not read).
    pub fn source(&mut self, (def, result): SourceResult) {
        let (state, curation, tz, departments, harvest, now, version) = (
            &mut *self.state,
            self.curation,
            self.tz,
            self.departments,
            self.harvest,
            self.now,
            self.version,
        );
        let (rows, outcomes, problems) = (&mut self.rows, &mut self.outcomes, &mut self.problems);
        let mut o = SourceOutcome {
            source: def.name.clone(),
            status: "ok".into(),
            ..Default::default()
        };
        let mut h = match result {
            Ok(h) => h,
            Err(e) => {
                o.status = "failed".into();
                o.error = Some(e.clone());
                problems.push(SourceProblem {
                    source: def.name.clone(),
                    department: def.department.clone(),
                    problem: HarvestProblem {
                        stage: "fetch".into(),
                        location: def.source.location(),
                        field: None,
                        message: format!("source not harvested, its entries stand: {e}"),
                    },
                });
                outcomes.push(o);
                return;
            }
        };
        o.records = h.records.len();
        o.mapping = h.mapping_report();
        tracing::info!(
            source = %def.name,
            records = o.mapping.records,
            mapped = %mapping_line(&o.mapping),
            "catalog source mapped"
        );
        for p in &h.problems {
            problems.push(SourceProblem {
                source: def.name.clone(),
                department: def.department.clone(),
                problem: p.clone(),
            });
        }
        let before: BTreeSet<String> = state
            .entries
            .iter()
            .filter(|(_, s)| s.entry.source == def.name && !s.withdrawn)
            .map(|(k, _)| k.clone())
            .collect();
        // Never a silent zero (issue #19, 2): a source whose records lack
        // a required field, or that delivered none, is not merged.
        let unusable = match missing_required(&def, &h) {
            Some(why) => Some(("failed", why)),
            None if h.records.is_empty() && h.skipped.is_empty() && !def.allow_empty => {
                Some(if before.is_empty() {
                    (
                        "empty",
                        "delivered no records (set `allow_empty = true` if the source may be empty)"
                            .to_string(),
                    )
                } else {
                    (
                        "failed",
                        format!(
                            "delivered no records; its {} entries stand (set `allow_empty = true` if the source may be empty)",
                            before.len()
                        ),
                    )
                })
            }
            None => None,
        };
        if let Some((status, why)) = unusable {
            o.status = status.into();
            problems.push(not_applied(&def, &why));
            o.error = Some(why);
            outcomes.push(o);
            return;
        }
        let mut fresh: BTreeMap<String, CatalogEntry> = BTreeMap::new();
        for rec in std::mem::take(&mut h.records) {
            let mut e = entry_of(&def, &rec, tz, departments);
            curate(&mut e, curation, tz);
            state.origins.intern(&mut e.origins);
            // Two records with one identity: both kept (the duplicate-code
            // check reports them), the second under a suffixed key.
            let mut key = e.key.clone();
            let mut n = 1;
            while fresh.contains_key(&key) {
                n += 1;
                key = format!("{}#{n}", e.key);
            }
            e.key = key.clone();
            fresh.insert(key, e);
        }
        carry_over(&mut fresh, &before);
        let gone: Vec<&String> = before.iter().filter(|k| !fresh.contains_key(*k)).collect();
        if !before.is_empty() && gone.len() as f64 / before.len() as f64 > def.max_withdraw_share {
            o.status = "refused".into();
            o.error = Some(format!(
                "would withdraw {} of {} entries ({:.0}%), more than max_withdraw_share {:.0}%; nothing from this source was applied",
                gone.len(),
                before.len(),
                100.0 * gone.len() as f64 / before.len() as f64,
                100.0 * def.max_withdraw_share
            ));
            problems.push(not_applied(&def, o.error.as_deref().unwrap_or_default()));
            outcomes.push(o);
            return;
        }
        let row =
            |e: &CatalogEntry, kind: ChangeKind, hash: &str, changes: &[FieldChange]| CatalogRow {
                version,
                harvest: harvest.to_string(),
                harvested_at: now.to_rfc3339(),
                source: def.name.clone(),
                key: e.key.clone(),
                department: e.department.clone(),
                code: e.resource_code.clone(),
                name: e.name.clone(),
                kind,
                hash: hash.to_string(),
                entry: serde_json::to_string(e).unwrap_or_default(),
                changes: serde_json::to_string(changes).unwrap_or_default(),
            };
        for (key, mut e) in fresh {
            // Most entries are unchanged: compared with the stored entry
            // directly, they are never serialised for a hash.
            if let Some(s) = state.entries.get_mut(&key)
                && !s.withdrawn
                && store::same_content(&mut s.entry, &mut e)
            {
                s.entry.location = e.location;
                o.unchanged += 1;
                continue;
            }
            let hash = store::content_hash_of(&mut e);
            match state.entries.get_mut(&key) {
                None => {
                    e.first_harvested = Some(now);
                    e.entry_updated = Some(now);
                    rows.push(row(&e, ChangeKind::Added, &hash, &[]));
                    o.added += 1;
                    state.entries.insert(
                        key,
                        store::Stored {
                            entry: e,
                            hash,
                            version,
                            withdrawn: false,
                            attribute_changes: vec![],
                            updated: vec![now],
                        },
                    );
                }
                Some(s) if s.hash == hash && !s.withdrawn => {
                    s.entry.location = e.location;
                    o.unchanged += 1;
                }
                Some(s) => {
                    let changes = store::diff(&s.entry, &e);
                    e.first_harvested = s.entry.first_harvested.or(Some(now));
                    e.entry_updated = Some(now);
                    let kind = if s.withdrawn {
                        o.restored += 1;
                        ChangeKind::Restored
                    } else {
                        o.changed += 1;
                        ChangeKind::Changed
                    };
                    rows.push(row(&e, kind, &hash, &changes));
                    for c in &changes {
                        if c.field == "share_attribute" || c.field == "open_attribute" {
                            s.attribute_changes.push(store::AttributeChange {
                                field: c.field.clone(),
                                old: c.old.clone(),
                                new: c.new.clone(),
                                version,
                                at: now,
                            });
                        }
                    }
                    s.entry = e;
                    s.hash = hash;
                    s.version = version;
                    s.withdrawn = false;
                    s.updated.push(now);
                }
            }
        }
        for key in gone {
            if let Some(s) = state.entries.get_mut(key) {
                s.withdrawn = true;
                s.version = version;
                rows.push(row(&s.entry, ChangeKind::Withdrawn, &s.hash, &[]));
                o.withdrawn += 1;
            }
        }
        outcomes.push(o);
    }

    /// The rows of the new version (empty: nothing changed), each source's
    /// outcome and the problems found; the state's version moves on only
    /// when there are rows.
    pub fn finish(self) -> (Vec<CatalogRow>, Vec<SourceOutcome>, Vec<SourceProblem>) {
        if !self.rows.is_empty() {
            self.state.version = self.version;
        }
        (self.rows, self.outcomes, self.problems)
    }
}

/// Harvests the workspace's catalog sources (or the one named) into the
/// lake's catalog: one new version if anything changed.
pub async fn harvest(
    ws: &Workspace,
    lake: &Lake,
    only: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(HarvestReport, CatalogState), LandError> {
    let mut defs = load_sources(&ws.dir)?;
    if let Some(name) = only {
        let known: Vec<String> = defs.iter().map(|d| d.name.clone()).collect();
        defs.retain(|d| d.name == name);
        if defs.is_empty() {
            return Err(LandError::Config(format!(
                "no catalog source `{name}` (sources: {})",
                known.join(", ")
            )));
        }
    }
    let curation = load_curation(&ws.dir)?;
    let tz = ws.tz();
    let clock = std::time::Instant::now();
    let (mut state, history) = store::load_latest(lake).await?;
    tracing::info!(
        entries = state.entries.len(),
        version = state.version,
        seconds = clock.elapsed().as_secs_f64(),
        "catalog loaded"
    );
    // Each source is merged as soon as it is read (in the sources' order,
    // the next ones read meanwhile on their own task), and its records go
    // as they become entries: a bureau with a hundred department catalogs
    // holds a few of them at a time, not all.
    let clock = std::time::Instant::now();
    let harvest = format!("h{}", now.format("%Y%m%dT%H%M%S%.3fZ"));
    let mut merging = Merge::new(
        &mut state,
        &curation,
        tz,
        &ws.config.departments,
        &harvest,
        now,
    );
    let mut results = spawn_reads(defs, ws.dir.clone(), ws.xlsx_limits());
    while let Some(result) = results.recv().await {
        merging.source(result);
    }
    let (mut rows, sources, problems) = merging.finish();
    tracing::info!(
        sources = sources.len(),
        changes = rows.len(),
        seconds = clock.elapsed().as_secs_f64(),
        "catalog sources read and merged"
    );
    if !rows.is_empty() {
        let clock = std::time::Instant::now();
        store::commit(lake, &harvest, &rows).await?;
        tracing::info!(
            version = state.version,
            seconds = clock.elapsed().as_secs_f64(),
            "catalog version committed"
        );
        // Committed: each row's entry is the state's now, and a first
        // harvest of 100,000 entries need not hold them twice.
        for r in &mut rows {
            r.entry = String::new();
        }
    }
    Ok((
        HarvestReport {
            harvest,
            harvested_at: now,
            version: state.version,
            new_version: !rows.is_empty(),
            sources,
            problems,
            version_changes: if rows.is_empty() { history } else { vec![] },
            changes: rows,
        },
        state,
    ))
}

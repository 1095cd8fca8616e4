//! The versioned catalog store: `lake/_pdq/catalog`, one row per entry
//! *state* (added, changed, withdrawn, restored), never a row for an
//! unchanged entry. A harvest that changes anything is one commit and one
//! new catalog version; a harvest that changes nothing writes nothing. The
//! change log is the same rows: each carries its field-by-field changes.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::{CatalogEntry, DataItem, ENTRY_FIELDS, OriginsInterner};
use crate::land::{Lake, LandError};

/// The catalog table's path in the lake.
pub const CATALOG: &str = crate::tables::CATALOG.path;

/// What happened to an entry in a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// First harvested.
    Added,
    /// A field changed.
    Changed,
    /// No longer published by its source.
    Withdrawn,
    /// Published again after a withdrawal.
    Restored,
}

/// One field's change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    /// Canonical field, or `items[<column>].<field>` for a data item.
    pub field: String,
    /// Before (None: absent).
    pub old: Option<String>,
    /// After.
    pub new: Option<String>,
}

/// One stored row: an entry's state as of a catalog version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogRow {
    /// The catalog version that wrote it.
    pub version: i64,
    /// The harvest that wrote it.
    pub harvest: String,
    /// When (RFC 3339).
    pub harvested_at: String,
    /// The catalog source.
    pub source: String,
    /// The entry's identity.
    pub key: String,
    /// Responsible department.
    pub department: String,
    /// Resource code.
    pub code: Option<String>,
    /// Resource name.
    pub name: Option<String>,
    /// What happened.
    pub kind: ChangeKind,
    /// Content hash of the entry.
    pub hash: String,
    /// The entry, as JSON.
    pub entry: String,
    /// Its field changes, as JSON (`[FieldChange]`).
    pub changes: String,
}

/// The table schema.
pub fn schema() -> SchemaRef {
    let s = |n: &str, null: bool| Field::new(n, DataType::Utf8, null);
    Arc::new(Schema::new(vec![
        Field::new("version", DataType::Int64, false),
        s("harvest", false),
        s("harvested_at", false),
        s("source", false),
        s("key", false),
        s("department", false),
        s("code", true),
        s("name", true),
        s("kind", false),
        s("hash", false),
        s("entry", false),
        s("changes", false),
    ]))
}

/// An entry's current state.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    /// The entry as last stored.
    pub entry: CatalogEntry,
    /// Its content hash.
    pub hash: String,
    /// The version that wrote it.
    pub version: i64,
    /// Withdrawn by its source.
    pub withdrawn: bool,
    /// Share/open attribute changes over its history, oldest first.
    pub attribute_changes: Vec<AttributeChange>,
    /// When each version that added, changed or restored it was harvested,
    /// oldest first: the catalog's updates of this entry.
    pub updated: Vec<DateTime<Utc>>,
}

/// One change of a share or open attribute, as a harvest found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeChange {
    /// `share_attribute` or `open_attribute`.
    pub field: String,
    /// Before (None: blank).
    pub old: Option<String>,
    /// After (None: blank).
    pub new: Option<String>,
    /// The catalog version that recorded it.
    pub version: i64,
    /// When that harvest ran: the change is dated by it.
    pub at: DateTime<Utc>,
}

/// The catalog as of its latest version.
#[derive(Debug, Clone, Default)]
pub struct CatalogState {
    /// The latest version (0: none yet).
    pub version: i64,
    /// Entries by key, withdrawn ones included.
    pub entries: BTreeMap<String, Stored>,
    /// The distinct origin maps its entries share.
    pub origins: OriginsInterner,
}

impl CatalogState {
    /// The entries in force (not withdrawn), by key.
    pub fn current(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.entries
            .values()
            .filter(|s| !s.withdrawn)
            .map(|s| &s.entry)
    }
}

/// Reads the catalog's history into its current state, with every row.
pub async fn load(lake: &Lake) -> Result<(CatalogState, Vec<CatalogRow>), LandError> {
    load_at(lake, None).await
}

/// Reads the catalog's history up to catalog version `version` (all of it:
/// `None`) into the state it had then, with every row up to it.
pub async fn load_at(
    lake: &Lake,
    version: Option<i64>,
) -> Result<(CatalogState, Vec<CatalogRow>), LandError> {
    load_with(lake, version, Rows::All).await
}

/// The catalog's current state, without its history's rows.
pub async fn load_state(lake: &Lake) -> Result<CatalogState, LandError> {
    Ok(load_with(lake, None, Rows::None).await?.0)
}

/// The catalog's current state and the rows of its latest version (the
/// change log of the harvest that wrote it), those rows without their
/// `entry` (the entry is the state's).
pub async fn load_latest(lake: &Lake) -> Result<(CatalogState, Vec<CatalogRow>), LandError> {
    load_with(lake, None, Rows::Latest).await
}

/// Which of the history's rows a load keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// Every row, in order of version and key.
    All,
    /// The latest version's, without their `entry`.
    Latest,
    /// None.
    None,
}

/// Folds the history into a state one batch at a time, in whatever order
/// the lake gives the rows: an entry is parsed only when its row is newer
/// than the one already seen, so memory holds the state (and the rows
/// asked for), not the history as text (issue #19: 100,000 entries).
async fn load_with(
    lake: &Lake,
    version: Option<i64>,
    keep: Rows,
) -> Result<(CatalogState, Vec<CatalogRow>), LandError> {
    let upto = version.map(|v| format!("version <= {v}"));
    let mut state = CatalogState::default();
    let mut updated: BTreeMap<String, Vec<(i64, DateTime<Utc>)>> = BTreeMap::new();
    let mut rows: Vec<CatalogRow> = vec![];
    lake.for_each_record(CATALOG, None, upto.as_deref(), |mut r: CatalogRow| {
        state.version = state.version.max(r.version);
        let at = DateTime::parse_from_rfc3339(&r.harvested_at)
            .map_err(|e| {
                LandError::lake(
                    CATALOG,
                    format!("version {} key {}: harvested_at: {e}", r.version, r.key),
                )
            })?
            .with_timezone(&Utc);
        let changes: Vec<FieldChange> = serde_json::from_str(&r.changes).unwrap_or_default();
        let attribute_changes: Vec<AttributeChange> = changes
            .into_iter()
            .filter(|c| c.field == "share_attribute" || c.field == "open_attribute")
            .map(|c| AttributeChange {
                field: c.field,
                old: c.old,
                new: c.new,
                version: r.version,
                at,
            })
            .collect();
        if r.kind != ChangeKind::Withdrawn {
            updated
                .entry(r.key.clone())
                .or_default()
                .push((r.version, at));
        }
        let newer = state
            .entries
            .get(&r.key)
            .is_none_or(|s| r.version > s.version);
        let origins = &mut state.origins;
        let mut parse = |r: &CatalogRow| {
            let mut e = serde_json::from_str::<CatalogEntry>(&r.entry).map_err(|e| {
                LandError::lake(CATALOG, format!("version {} key {}: {e}", r.version, r.key))
            })?;
            origins.intern(&mut e.origins);
            Ok::<_, LandError>(e)
        };
        match state.entries.get_mut(&r.key) {
            Some(s) => {
                s.attribute_changes.extend(attribute_changes);
                if newer {
                    s.entry = parse(&r)?;
                    s.hash = r.hash.clone();
                    s.version = r.version;
                    s.withdrawn = r.kind == ChangeKind::Withdrawn;
                }
            }
            None => {
                let entry = parse(&r)?;
                state.entries.insert(
                    r.key.clone(),
                    Stored {
                        entry,
                        hash: r.hash.clone(),
                        version: r.version,
                        withdrawn: r.kind == ChangeKind::Withdrawn,
                        attribute_changes,
                        updated: vec![],
                    },
                );
            }
        }
        match keep {
            Rows::All => rows.push(r),
            Rows::Latest => {
                r.entry.clear();
                rows.push(r);
            }
            Rows::None => {}
        }
        Ok(())
    })
    .await?;
    // Oldest first, as the history wrote them.
    for (key, s) in &mut state.entries {
        s.attribute_changes.sort_by_key(|c| c.version);
        if let Some(mut u) = updated.remove(key) {
            u.sort_by_key(|(v, _)| *v);
            s.updated = u.into_iter().map(|(_, at)| at).collect();
        }
    }
    if keep == Rows::Latest {
        rows.retain(|r| r.version == state.version);
    }
    rows.sort_by(|a, b| (a.version, &a.key).cmp(&(b.version, &b.key)));
    Ok((state, rows))
}

/// Where and when an entry was read: what its content leaves out (the
/// hash and the comparison below), taken out of the entry and put back.
struct ReadAt {
    location: String,
    origins: super::model::Origins,
    first_harvested: Option<DateTime<Utc>>,
    entry_updated: Option<DateTime<Utc>>,
    items: Vec<String>,
}

impl ReadAt {
    fn take(e: &mut CatalogEntry) -> ReadAt {
        ReadAt {
            location: std::mem::take(&mut e.location),
            origins: std::mem::take(&mut e.origins),
            first_harvested: e.first_harvested.take(),
            entry_updated: e.entry_updated.take(),
            items: e
                .items
                .iter_mut()
                .map(|it| std::mem::take(&mut it.location))
                .collect(),
        }
    }

    fn put_back(self, e: &mut CatalogEntry) {
        e.location = self.location;
        e.origins = self.origins;
        e.first_harvested = self.first_harvested;
        e.entry_updated = self.entry_updated;
        for (it, l) in e.items.iter_mut().zip(self.items) {
            it.location = l;
        }
    }
}

/// The content hash of an entry: its fields and items, not where or when
/// it was read.
pub fn content_hash(e: &CatalogEntry) -> String {
    content_hash_of(&mut e.clone())
}

/// [`content_hash`] without copying the entry: where and when it was read
/// are taken out for the hashing and put back, so `e` is as it was (a
/// copy of each of 100,000 entries, data items and all, cost more than
/// the hashing).
pub fn content_hash_of(e: &mut CatalogEntry) -> String {
    let read_at = ReadAt::take(e);
    let json = serde_json::to_vec(&*e).unwrap_or_default();
    read_at.put_back(e);
    hex::encode(Sha256::digest(&json))
}

/// Whether two entries have the same content: what [`content_hash`]
/// covers, compared directly (no serialising). A harvest asks this of
/// every entry it reads, and most are unchanged (issue #19: a catalog of
/// 100,000 entries). Both entries are left as they were.
pub fn same_content(a: &mut CatalogEntry, b: &mut CatalogEntry) -> bool {
    if a.items.len() != b.items.len() || a.key != b.key {
        return false;
    }
    let (at_a, at_b) = (ReadAt::take(a), ReadAt::take(b));
    let same = *a == *b;
    at_a.put_back(a);
    at_b.put_back(b);
    same
}

fn item_key(i: &DataItem) -> String {
    i.column_name().unwrap_or("").to_string()
}

/// Field-by-field differences between two states of an entry.
pub fn diff(old: &CatalogEntry, new: &CatalogEntry) -> Vec<FieldChange> {
    let mut out = vec![];
    for f in ["department"] {
        if old.department != new.department {
            out.push(FieldChange {
                field: f.into(),
                old: Some(old.department.clone()),
                new: Some(new.department.clone()),
            });
        }
    }
    for f in ENTRY_FIELDS {
        let (a, b) = (old.get(f), new.get(f));
        if a != b {
            out.push(FieldChange {
                field: (*f).into(),
                old: a.map(str::to_string),
                new: b.map(str::to_string),
            });
        }
    }
    let before: BTreeMap<String, &DataItem> = old.items.iter().map(|i| (item_key(i), i)).collect();
    let after: BTreeMap<String, &DataItem> = new.items.iter().map(|i| (item_key(i), i)).collect();
    let keys: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let show = |i: &DataItem| {
        let mut i = i.clone();
        i.location.clear();
        serde_json::to_string(&i).unwrap_or_default()
    };
    for k in keys {
        match (before.get(k), after.get(k)) {
            (None, Some(n)) => out.push(FieldChange {
                field: format!("items[{k}]"),
                old: None,
                new: Some(show(n)),
            }),
            (Some(o), None) => out.push(FieldChange {
                field: format!("items[{k}]"),
                old: Some(show(o)),
                new: None,
            }),
            (Some(o), Some(n)) => {
                let pairs = [
                    ("name", &o.name, &n.name),
                    ("data_type", &o.data_type, &n.data_type),
                    ("length", &o.length, &n.length),
                    ("description", &o.description, &n.description),
                ];
                for (f, a, b) in pairs {
                    if a != b {
                        out.push(FieldChange {
                            field: format!("items[{k}].{f}"),
                            old: a.clone(),
                            new: b.clone(),
                        });
                    }
                }
                for (f, a, b) in [
                    ("personal", o.personal, n.personal),
                    ("sensitive", o.sensitive, n.sensitive),
                ] {
                    if a != b {
                        out.push(FieldChange {
                            field: format!("items[{k}].{f}"),
                            old: a.map(|x| x.to_string()),
                            new: b.map(|x| x.to_string()),
                        });
                    }
                }
            }
            (None, None) => {}
        }
    }
    out
}

/// Commits a version's rows as one commit, once per harvest id.
pub async fn commit(lake: &Lake, harvest: &str, rows: &[CatalogRow]) -> Result<(), LandError> {
    lake.append_records(
        CATALOG,
        &schema(),
        rows,
        Some(&format!("catalog-{harvest}")),
    )
    .await?;
    Ok(())
}

//! A portal's JSON API: records found at a path in each page, their keys
//! mapped to catalog fields (by an explicit mapping, else by the Chinese or
//! canonical key names portals use: 资源名称, 摘要, 资源提供方, 资源格式 …),
//! paged by page number, offset or cursor.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fetch::{client, get, stream_json};
use super::{
    FIELDS, Harvest, HarvestError, HarvestProblem, HarvestedItem, HarvestedRecord, ITEM_FIELDS,
    canonical, canonical_ranked, json_field,
};
use crate::paging::{Pager, Paging, at_path};
use crate::source::Secret;

fn max_pages() -> u64 {
    10_000
}

/// `kind = "json_api"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonApiConfig {
    /// The endpoint (or a local JSON file, for a portal's export).
    pub url: String,
    /// Dotted path of the records array in a response (`data.list`); empty:
    /// the response is the array.
    #[serde(default)]
    pub records: String,
    /// Paging.
    #[serde(default)]
    pub paging: Paging,
    /// A bearer token.
    #[serde(default)]
    pub token: Option<Secret>,
    /// Catalog field → the record's key (dotted path) holding it. Keys not
    /// mapped are matched by name (`资源名称` → `name`).
    #[serde(default)]
    pub mapping: BTreeMap<String, String>,
    /// The record's key that identifies it at the source (`id`).
    #[serde(default)]
    pub id: Option<String>,
    /// Dotted path of the data-items array inside a record.
    #[serde(default)]
    pub items: Option<String>,
    /// Item field → the item's key, as `mapping`.
    #[serde(default)]
    pub item_mapping: BTreeMap<String, String>,
    /// A guard against APIs that never stop paging.
    #[serde(default = "max_pages")]
    pub max_pages: u64,
}

/// One JSON object mapped: field → value, field → the key it came from.
type Mapped = (BTreeMap<String, String>, BTreeMap<String, String>);

/// Maps one JSON object to fields: explicit mappings first, then keys named
/// like a field (with `machine`, also the machine keys portals, CKAN and
/// DCAT use, see [`super::mapping`]); of two keys naming one field the
/// better-ranked wins, whatever their order. An object value counts by its
/// label (`{"title": "市公安局"}`, `{"name": …}`). Unknown keys are left
/// out (portals add many); see [`unmapped_keys`].
pub(crate) fn map_object(
    obj: &serde_json::Value,
    table: &[(&'static str, &[&str])],
    mapping: &BTreeMap<String, String>,
    machine: bool,
) -> Mapped {
    let mut fields = BTreeMap::new();
    let mut origins = BTreeMap::new();
    for (field, key) in mapping {
        if let Some(v) = at_path(obj, key).and_then(json_field) {
            fields.insert(field.clone(), v);
            origins.insert(field.clone(), key.clone());
        }
    }
    if let Some(map) = obj.as_object() {
        let mut best: BTreeMap<&'static str, (usize, &String, String)> = BTreeMap::new();
        for (k, v) in map {
            let Some((f, rank)) = canonical_ranked(table, k, machine) else {
                continue;
            };
            if fields.contains_key(f) || mapping.contains_key(f) {
                continue;
            }
            let Some(v) = json_field(v).or_else(|| label(v)) else {
                continue;
            };
            if best.get(f).is_none_or(|(r, _, _)| rank < *r) {
                best.insert(f, (rank, k, v));
            }
        }
        for (f, (_, k, v)) in best {
            fields.insert(f.to_string(), v);
            origins.insert(f.to_string(), k.clone());
        }
    }
    (fields, origins)
}

/// Adds `key` to the keys field `f` was read from (`itemName / name`
/// when the items of one source use two), each key once.
pub(crate) fn note_origin(origins: &mut BTreeMap<String, String>, f: String, key: &str) {
    match origins.get_mut(&f) {
        None => {
            origins.insert(f, key.to_string());
        }
        Some(keys) => {
            if !keys.split(" / ").any(|k| k == key) {
                keys.push_str(" / ");
                keys.push_str(key);
            }
        }
    }
}

/// The label of an object value: its `title`, `name`, `label`, `prefLabel`
/// or `foaf:name` (an organisation or a theme given as an object).
fn label(v: &serde_json::Value) -> Option<String> {
    let o = v.as_object()?;
    [
        "title",
        "name",
        "label",
        "prefLabel",
        "foaf:name",
        "display_name",
    ]
    .iter()
    .find_map(|k| o.get(*k).and_then(json_field))
}

/// The keys a record's identity is taken from when no `id` is configured.
const ID_KEYS: &[&str] = &[
    "id",
    "identifier",
    "@id",
    "uuid",
    "guid",
    "resourceId",
    "resource_id",
];

/// The top-level keys of `obj` that neither a field (`origins`, dotted
/// paths by their first key) nor one of `used` (the id, the items) took.
pub(crate) fn unmapped_keys(
    obj: &serde_json::Value,
    origins: &BTreeMap<String, String>,
    used: &[Option<&str>],
) -> Vec<String> {
    let first = |path: &str| path.split('.').next().unwrap_or(path).to_string();
    let taken: std::collections::BTreeSet<String> = origins
        .values()
        .map(|o| first(o))
        .chain(used.iter().flatten().map(|u| first(u)))
        .collect();
    obj.as_object()
        .map(|m| {
            m.keys()
                .filter(|k| !taken.contains(k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn harvest(cfg: &JsonApiConfig, base_dir: &Path) -> Result<Harvest, HarvestError> {
    for f in cfg.mapping.keys() {
        if canonical(FIELDS, f) != Some(f.as_str()) {
            return Err(HarvestError::Config(format!(
                "mapping: `{f}` is not a catalog field (fields: {})",
                FIELDS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
    }
    let token = match &cfg.token {
        Some(t) => Some(
            t.resolve(base_dir)
                .map_err(|e| HarvestError::Config(e.to_string()))?,
        ),
        None => None,
    };
    let local = !(cfg.url.starts_with("http://") || cfg.url.starts_with("https://"));
    let http = client(token.is_some())?;
    let mut out = Harvest::default();
    let mut pager = Pager::new(&cfg.paging, &cfg.url, cfg.max_pages);
    loop {
        let Some(req) = pager.next_page() else {
            return Err(HarvestError::Format {
                location: cfg.url.clone(),
                message: format!("still paging after max_pages = {}", cfg.max_pages),
            });
        };
        let page_no = req.page_no;
        let bytes = if local {
            super::fetch::fetch(&cfg.url, base_dir, None).await?
        } else {
            get(&http, &req.url, &req.query, token.as_deref()).await?
        };
        let location = format!("{} page {}", super::fetch::shown(&cfg.url), page_no + 1);
        // The records are read one at a time out of the document and each
        // is dropped once mapped: a portal export of 100,000 entries is
        // never held as one JSON tree, only as text and as records
        // (issue #19).
        let mut i = 0usize;
        let mut record = |rec: serde_json::Value| {
            i += 1;
            let rec = &rec;
            let at = format!("{location} item {i}");
            if !rec.is_object() {
                out.problems.push(HarvestProblem {
                    stage: "parse".into(),
                    location: at,
                    field: None,
                    message: "record is not a JSON object; skipped".into(),
                });
                return;
            }
            let (fields, origins) = map_object(rec, FIELDS, &cfg.mapping, true);
            // The record's own id: the configured key, else a key such as
            // `id` or `identifier`.
            let id_key = cfg.id.as_deref().or_else(|| {
                ID_KEYS
                    .iter()
                    .copied()
                    .find(|k| rec.get(*k).and_then(json_field).is_some())
            });
            let unmapped = unmapped_keys(rec, &origins, &[id_key, cfg.items.as_deref()]);
            let mut r = HarvestedRecord {
                unmapped,
                source_id: id_key.and_then(|k| at_path(rec, k)).and_then(json_field),
                location: at.clone(),
                fields: fields.into(),
                origins: origins.into(),
                items: vec![],
            };
            if let Some(p) = &cfg.items
                && let Some(serde_json::Value::Array(items)) = at_path(rec, p)
            {
                for (j, it) in items.iter().enumerate() {
                    let (fields, origins) = map_object(it, ITEM_FIELDS, &cfg.item_mapping, false);
                    for (f, key) in origins {
                        note_origin(&mut out.item_origins, f, &key);
                    }
                    r.items.push(HarvestedItem {
                        location: format!("{at} {p}[{j}]"),
                        fields: fields.into(),
                    });
                }
            }
            if r.source_id.is_none() {
                r.source_id = r.fields.get("resource_code").cloned();
            }
            if !r.fields.contains_key("name") {
                out.problems.push(HarvestProblem {
                    stage: "map".into(),
                    location: at,
                    field: Some("name".into()),
                    message: "record has no resource name (mapping `name`, or a key 资源名称/name); skipped".into(),
                });
                out.skipped.push(r);
                return;
            }
            out.records.push(r);
        };
        let (doc, found) = stream_json(&bytes, &location, &cfg.records, &mut record)?;
        drop(bytes);
        let received = match (found, at_path(&doc, &cfg.records)) {
            (Some(n), _) => n,
            (None, Some(serde_json::Value::Null) | None) if page_no > 0 => 0,
            _ => {
                return Err(HarvestError::Format {
                    location,
                    message: format!(
                        "no records array at `{}`",
                        if cfg.records.is_empty() {
                            "(top level)"
                        } else {
                            &cfg.records
                        }
                    ),
                });
            }
        };
        // A local file is one page; an empty page is the last (`advance`).
        let more = !local && pager.advance(&doc, received, json_field);
        if !more {
            break;
        }
    }
    // A local file is one document, whatever total it states; from an API,
    // fewer records than it states is a truncated harvest (issue #19, 6).
    if !local && let Some((received, total)) = pager.shortfall() {
        return Err(HarvestError::Format {
            location: super::fetch::shown(&cfg.url),
            message: truncated(received, total, pager.pages()),
        });
    }
    Ok(out)
}

/// The message of a harvest that received fewer records than the API stated.
pub(crate) fn truncated(received: u64, total: u64, pages: u64) -> String {
    format!(
        "received {received} of {total} records the API states (paging ended after {pages} page{}); not harvested rather than truncated (check `paging`, its `size` and `total`)",
        if pages == 1 { "" } else { "s" }
    )
}

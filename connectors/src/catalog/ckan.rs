//! CKAN's `package_search` (`/api/3/action/package_search`), paged with
//! `rows` and `start` until `result.count` is reached (`start` advances by
//! the packages received, so a portal capping `rows` loses none; paging
//! that ends short of the count fails the source). CKAN packages carry
//! few of the bureau's fields: title, notes, organization, resources'
//! formats, created/modified times and free-form `extras`, where portals put
//! 更新频率, 开放属性 and the like under keys of their own; extras are
//! mapped by name like JSON API keys.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fetch::{client, get, parse_json};
use super::{
    FIELDS, Harvest, HarvestError, HarvestProblem, HarvestedRecord, canonical_ranked, json_field,
};

fn hundred() -> u64 {
    100
}

/// `kind = "ckan"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CkanConfig {
    /// The `package_search` URL
    /// (`https://portal/api/3/action/package_search`), or a local file
    /// holding one response.
    pub url: String,
    /// Packages per page (`rows`).
    #[serde(default = "hundred")]
    pub rows: u64,
    /// A filter query (`fq`), e.g. `organization:gongan`.
    #[serde(default)]
    pub fq: Option<String>,
    /// Extras key → catalog field, for keys not named like a field.
    #[serde(default)]
    pub extras: BTreeMap<String, String>,
}

fn text(v: &serde_json::Value, path: &[&str]) -> Option<String> {
    let mut v = v;
    for k in path {
        v = v.get(k)?;
    }
    json_field(v)
}

/// One CKAN package as a catalog record.
pub(crate) fn package(
    p: &serde_json::Value,
    location: String,
    extras_map: &BTreeMap<String, String>,
) -> HarvestedRecord {
    let mut r = HarvestedRecord {
        source_id: text(p, &["id"]).or_else(|| text(p, &["name"])),
        location,
        ..Default::default()
    };
    let mut set = |field: &str, value: Option<String>, origin: &str| {
        if let Some(v) = value
            && !r.fields.contains_key(field)
        {
            r.fields.insert(field.into(), v);
            r.origins.insert(field.into(), origin.into());
        }
    };
    set("name", text(p, &["title"]), "title");
    set("name", text(p, &["name"]), "name");
    set("summary", text(p, &["notes"]), "notes");
    set(
        "provider",
        text(p, &["organization", "title"]),
        "organization.title",
    );
    set("provider", text(p, &["author"]), "author");
    set(
        "provider_code",
        text(p, &["organization", "name"]),
        "organization.name",
    );
    set(
        "data_updated",
        text(p, &["metadata_modified"]),
        "metadata_modified",
    );
    set(
        "online_date",
        text(p, &["metadata_created"]),
        "metadata_created",
    );
    set("update_frequency", text(p, &["frequency"]), "frequency");
    set(
        "update_frequency",
        text(p, &["accrual_periodicity"]),
        "accrual_periodicity",
    );
    set(
        "usage_requirements",
        text(p, &["license_title"]),
        "license_title",
    );
    let mut unmapped = vec![];
    if let Some(serde_json::Value::Array(extras)) = p.get("extras") {
        for e in extras {
            let (Some(k), Some(v)) = (text(e, &["key"]), e.get("value").and_then(json_field))
            else {
                continue;
            };
            let field = extras_map
                .get(&k)
                .map(String::as_str)
                .or_else(|| canonical_ranked(FIELDS, &k, true).map(|(f, _)| f))
                .or(match k.as_str() {
                    "frequency"
                    | "accrualPeriodicity"
                    | "accrual_periodicity"
                    | "update_frequency" => Some("update_frequency"),
                    _ => None,
                });
            match field {
                Some(f) => set(f, Some(v), &format!("extras.{k}")),
                None => unmapped.push(format!("extras.{k}")),
            }
        }
    }
    if let Some(serde_json::Value::Array(res)) = p.get("resources") {
        let formats: BTreeSet<String> = res
            .iter()
            .filter_map(|x| text(x, &["format"]))
            .map(|f| f.to_lowercase())
            .collect();
        if !formats.is_empty() {
            set(
                "format",
                Some(formats.into_iter().collect::<Vec<_>>().join("、")),
                "resources[].format",
            );
        }
    }
    // A private package is not open; a public one on an open-data portal is
    // open unless its extras say otherwise (those were set above).
    if p.get("private").and_then(|v| v.as_bool()) == Some(true) {
        set("open_attribute", Some("不予开放".into()), "private");
    }
    // Keys of the package itself that gave no field (CKAN's bookkeeping,
    // `num_tags`, `state` …, among them), then the unmapped extras.
    let taken: BTreeSet<&str> = r
        .origins
        .values()
        .map(|o| o.split(['.', '[']).next().unwrap_or(o))
        .chain(["id", "extras", "resources", "private"])
        .collect();
    if let Some(m) = p.as_object() {
        r.unmapped = m
            .keys()
            .filter(|k| !taken.contains(k.as_str()))
            .cloned()
            .collect();
    }
    r.unmapped.extend(unmapped);
    r
}

pub(crate) async fn harvest(cfg: &CkanConfig, base_dir: &Path) -> Result<Harvest, HarvestError> {
    let local = !(cfg.url.starts_with("http://") || cfg.url.starts_with("https://"));
    let http = client(false)?;
    let mut out = Harvest::default();
    let mut start = 0u64;
    let rows = cfg.rows.max(1);
    loop {
        let mut query = vec![
            ("rows".to_string(), rows.to_string()),
            ("start".to_string(), start.to_string()),
        ];
        if let Some(fq) = &cfg.fq {
            query.push(("fq".into(), fq.clone()));
        }
        let bytes = if local {
            super::fetch::fetch(&cfg.url, base_dir, None).await?
        } else {
            get(&http, &cfg.url, &query, None).await?
        };
        let location = format!("{} start={start}", super::fetch::shown(&cfg.url));
        let doc = parse_json(&bytes, &location)?;
        if doc.get("success").and_then(|v| v.as_bool()) == Some(false) {
            return Err(HarvestError::Fetch {
                location,
                message: format!(
                    "CKAN answered success=false: {}",
                    doc.get("error").map(|e| e.to_string()).unwrap_or_default()
                ),
            });
        }
        let result = doc.get("result").ok_or_else(|| HarvestError::Format {
            location: location.clone(),
            message: "not a package_search response (no `result`)".into(),
        })?;
        let count = result.get("count").and_then(|c| c.as_u64());
        let results = result
            .get("results")
            .and_then(|r| r.as_array())
            .ok_or_else(|| HarvestError::Format {
                location: location.clone(),
                message: "not a package_search response (no `result.results` array)".into(),
            })?;
        for (i, p) in results.iter().enumerate() {
            let at = format!("{location} item {}", i + 1);
            let r = package(p, at.clone(), &cfg.extras);
            if !r.fields.contains_key("name") {
                out.problems.push(HarvestProblem {
                    stage: "map".into(),
                    location: at,
                    field: Some("name".into()),
                    message: "package has neither title nor name; skipped".into(),
                });
                out.skipped.push(r);
                continue;
            }
            out.records.push(r);
        }
        start += results.len() as u64;
        let done = local
            || results.is_empty()
            || count.is_some_and(|c| start >= c)
            || (count.is_none() && (results.len() as u64) < rows);
        if done {
            // Fewer packages than `result.count` is a truncated harvest, an
            // error rather than a partial catalog (issue #19, 6); a local
            // file is one response, whatever count it states.
            if let Some(c) = count
                && start < c
                && !local
            {
                return Err(HarvestError::Format {
                    location: super::fetch::shown(&cfg.url),
                    message: format!(
                        "received {start} of {c} packages CKAN states (result.count; paging ended at start={start}); not harvested rather than truncated"
                    ),
                });
            }
            break;
        }
    }
    Ok(out)
}

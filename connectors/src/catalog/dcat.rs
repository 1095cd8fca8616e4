//! DCAT and DCAT-AP documents in JSON-LD, Turtle or RDF/XML (the latter two
//! turned into a JSON-LD graph by [`super::rdf`]), in the shapes portals publish:
//! a `dcat:Catalog` with `dcat:dataset`, an `@graph` of nodes, prefixed
//! (`dct:title`), full-IRI or context-compacted (`title`) keys, language-
//! tagged values (Chinese preferred), references by `@id` resolved within
//! the document, Project Open Data `data.json` (`dataset` array), and
//! Hydra paging (`hydra:view` / `hydra:next`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::fetch::parse_json;
use super::rdf::{self, RdfFormat};
use super::{Harvest, HarvestError, HarvestProblem, HarvestedRecord, clean};

fn max_pages() -> u64 {
    1_000
}

/// `kind = "dcat"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DcatConfig {
    /// The document's URL or path.
    pub url: String,
    /// A guard against paging without end.
    #[serde(default = "max_pages")]
    pub max_pages: u64,
    /// `jsonld`, `turtle` or `rdfxml`; by default what the document shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<RdfFormat>,
}

/// The local name of a key or IRI: after the last `#`, `/` or `:`.
fn local(k: &str) -> &str {
    k.rsplit(['#', '/', ':']).next().unwrap_or(k)
}

fn is_dataset(node: &serde_json::Value) -> bool {
    match node.get("@type") {
        Some(serde_json::Value::String(t)) => local(t) == "Dataset",
        Some(serde_json::Value::Array(a)) => {
            a.iter().any(|t| t.as_str().map(local) == Some("Dataset"))
        }
        _ => false,
    }
}

struct Doc<'a> {
    by_id: BTreeMap<&'a str, &'a serde_json::Value>,
}

impl<'a> Doc<'a> {
    fn prop(&self, node: &'a serde_json::Value, names: &[&str]) -> Option<&'a serde_json::Value> {
        let obj = node.as_object()?;
        for n in names {
            if let Some((_, v)) = obj
                .iter()
                .find(|(k, _)| !k.starts_with('@') && local(k) == *n)
            {
                return Some(v);
            }
        }
        None
    }

    /// A value as text: Chinese first among language-tagged values, a
    /// referenced node by its name or label, an IRI as is.
    fn text(&self, v: &'a serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) => clean(s),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            serde_json::Value::Array(a) => {
                let zh = a.iter().find(|x| {
                    x.get("@language")
                        .and_then(|l| l.as_str())
                        .is_some_and(|l| l.starts_with("zh"))
                });
                if let Some(z) = zh {
                    return self.text(z);
                }
                if a.iter().any(|x| x.get("@language").is_some()) {
                    // No Chinese: English, then an untagged value, then the
                    // first (a Catalan title before an English one misled
                    // readers; issue #19, 7).
                    let lang = |x: &serde_json::Value| {
                        x.get("@language")
                            .and_then(|l| l.as_str())
                            .map(str::to_ascii_lowercase)
                    };
                    let pick = a
                        .iter()
                        .find(|x| lang(x).is_some_and(|l| l == "en" || l.starts_with("en-")))
                        .or_else(|| a.iter().find(|x| lang(x).is_none()))
                        .or_else(|| a.first());
                    return pick.and_then(|x| self.text(x));
                }
                let parts: Vec<String> = a
                    .iter()
                    .filter_map(|x| self.text(x))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                (!parts.is_empty()).then(|| parts.join("、"))
            }
            serde_json::Value::Object(o) => {
                if let Some(v) = o.get("@value") {
                    return self.text(v);
                }
                let target = match o.get("@id").and_then(|i| i.as_str()) {
                    Some(id) => match self.by_id.get(id) {
                        Some(n) => *n,
                        // A blank node is a document's own label, not a
                        // value: it never becomes text.
                        None if id.starts_with("_:") => return None,
                        None => return clean(id),
                    },
                    None => v,
                };
                self.prop(target, &["name", "prefLabel", "label", "title", "fn"])
                    .and_then(|x| self.text(x))
                    .or_else(|| {
                        target
                            .get("@id")
                            .and_then(|i| i.as_str())
                            .filter(|i| !i.starts_with("_:"))
                            .and_then(clean)
                    })
            }
            serde_json::Value::Null => None,
        }
    }

    fn dataset(&self, node: &'a serde_json::Value, location: String) -> HarvestedRecord {
        let mut r = HarvestedRecord {
            location,
            ..Default::default()
        };
        let fields: &[(&str, &[&str])] = &[
            ("name", &["title"]),
            ("summary", &["description"]),
            // Not contactPoint: whom to ask is not who provides the data
            // (issue #19, 7).
            ("provider", &["publisher", "creator"]),
            ("update_frequency", &["accrualPeriodicity", "frequency"]),
            ("data_updated", &["modified"]),
            ("online_date", &["issued"]),
            ("resource_code", &["identifier"]),
            ("usage_requirements", &["license", "rights"]),
            // The open attribute: the EU access-right IRI (…/PUBLIC,
            // RESTRICTED, NON_PUBLIC) by its local name, or the text.
            ("open_attribute", &["accessRights"]),
            ("classification", &["theme"]),
            ("landing_page", &["landingPage"]),
        ];
        for (field, names) in fields {
            if let Some((name, t)) = names.iter().find_map(|n| {
                self.prop(node, &[n])
                    .and_then(|v| self.text(v))
                    .map(|t| (n, t))
            }) {
                r.fields.insert((*field).into(), t);
                r.origins.insert((*field).into(), (*name).into());
            }
        }
        // The node's properties no field took (what a silent-zero failure
        // names, issue #19, 2); distributions are read for their formats.
        if let Some(obj) = node.as_object() {
            let used: BTreeSet<&str> = fields
                .iter()
                .flat_map(|(_, names)| names.iter().copied())
                .chain(["distribution"])
                .collect();
            r.unmapped = obj
                .keys()
                .filter(|k| !k.starts_with('@') && !used.contains(local(k)))
                .cloned()
                .collect();
        }
        if let Some(v) = r.fields.get_mut("open_attribute")
            && v.contains("/access-right/")
        {
            *v = local(v).to_string();
        }
        // Formats from the distributions.
        let mut formats = BTreeSet::new();
        if let Some(d) = self.prop(node, &["distribution"]) {
            let list: Vec<&serde_json::Value> = match d {
                serde_json::Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for x in list {
                let x = x
                    .get("@id")
                    .and_then(|i| i.as_str())
                    .and_then(|i| self.by_id.get(i).copied())
                    .unwrap_or(x);
                if let Some(f) = self
                    .prop(x, &["format", "mediaType"])
                    .and_then(|v| self.text(v))
                {
                    formats.insert(local(&f).to_lowercase());
                }
            }
        }
        if !formats.is_empty() {
            r.fields.insert(
                "format".into(),
                formats.into_iter().collect::<Vec<_>>().join("、"),
            );
            r.origins
                .insert("format".into(), "distribution.format".into());
        }
        // A blank node's label changes from one serialisation to the next:
        // never an identity.
        r.source_id = node
            .get("@id")
            .and_then(|i| i.as_str())
            .filter(|i| !i.starts_with("_:"))
            .and_then(clean)
            .or_else(|| r.fields.get("resource_code").cloned());
        r
    }
}

fn collect_nodes<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_nodes(x, out)),
        serde_json::Value::Object(o) => {
            out.push(v);
            for (k, x) in o {
                if k != "@context" {
                    collect_nodes(x, out);
                }
            }
        }
        _ => {}
    }
}

/// The datasets of one document, and the next page's URL if any.
pub(crate) fn parse(
    doc: &serde_json::Value,
    location: &str,
) -> (Vec<HarvestedRecord>, Vec<HarvestProblem>, Option<String>) {
    let mut nodes = vec![];
    collect_nodes(doc, &mut nodes);
    let by_id = nodes
        .iter()
        .filter(|n| n.as_object().is_some_and(|o| o.len() > 1))
        .filter_map(|n| n.get("@id").and_then(|i| i.as_str()).map(|i| (i, *n)))
        .collect();
    let d = Doc { by_id };
    // Datasets: typed nodes, else the members of a `dataset` array
    // (data.json has no types).
    let mut datasets: Vec<&serde_json::Value> =
        nodes.iter().copied().filter(|n| is_dataset(n)).collect();
    if datasets.is_empty()
        && let Some(serde_json::Value::Array(a)) = d.prop(doc, &["dataset"])
    {
        datasets = a.iter().collect();
    }
    let mut records = vec![];
    let mut problems = vec![];
    let mut seen = BTreeSet::new();
    for (i, n) in datasets.into_iter().enumerate() {
        // A reference `{"@id": …}` to a dataset described elsewhere.
        let n = match n.get("@id").and_then(|x| x.as_str()) {
            Some(id) if n.as_object().is_some_and(|o| o.len() == 1) => match d.by_id.get(id) {
                Some(full) => *full,
                None => continue,
            },
            _ => n,
        };
        let at = format!("{location} dataset {}", i + 1);
        let r = d.dataset(n, at.clone());
        if let Some(id) = &r.source_id
            && !seen.insert(id.clone())
        {
            continue;
        }
        if !r.fields.contains_key("name") {
            problems.push(HarvestProblem {
                stage: "map".into(),
                location: at,
                field: Some("name".into()),
                message: "dataset has no dct:title; skipped".into(),
            });
            continue;
        }
        records.push(r);
    }
    let next = nodes.iter().find_map(|n| {
        n.as_object()?
            .iter()
            .find(|(k, _)| matches!(local(k), "next" | "nextPage"))
            .and_then(|(_, v)| d.text(v))
    });
    (records, problems, next)
}

pub(crate) async fn harvest(cfg: &DcatConfig, base_dir: &Path) -> Result<Harvest, HarvestError> {
    let mut out = Harvest::default();
    let mut url = cfg.url.clone();
    let mut seen = BTreeSet::new();
    for _ in 0..cfg.max_pages {
        seen.insert(url.clone());
        let bytes = super::fetch::fetch(&url, base_dir, None).await?;
        let doc = match RdfFormat::detect(cfg.format, &bytes) {
            RdfFormat::Jsonld => parse_json(&bytes, &url)?,
            f => rdf::to_jsonld(&bytes, f, &super::fetch::shown(&url))?,
        };
        let (records, problems, next) = parse(&doc, &super::fetch::shown(&url));
        out.records.extend(records);
        out.problems.extend(problems);
        match next {
            Some(n) if !seen.contains(&n) => {
                url = match url::Url::parse(&url).and_then(|b| b.join(&n)) {
                    Ok(u) => u.to_string(),
                    Err(_) => n,
                };
            }
            _ => return Ok(out),
        }
    }
    Err(HarvestError::Format {
        location: cfg.url.clone(),
        message: format!("still paging after max_pages = {}", cfg.max_pages),
    })
}

#[cfg(test)]
mod tests {
    use super::super::CatalogSourceConfig;
    use super::DcatConfig;

    /// A dataset's properties that no field takes are its unmapped keys
    /// (what a silent-zero failure and the mapping report name), as for
    /// JSON, CKAN and the XLSX template.
    #[tokio::test]
    async fn properties_no_field_takes_are_the_records_unmapped_keys() {
        let dir = tempfile::tempdir().unwrap();
        let doc = serde_json::json!({
            "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
            "@graph": [{
                "@id": "http://example.org/dataset/1",
                "@type": "dcat:Dataset",
                "dct:title": "空气质量",
                "dct:publisher": "生态环境局",
                "dcat:keyword": ["空气"],
                "ex:naam": "x",
                "dcat:distribution": [{"dct:format": "CSV"}]
            }]
        });
        std::fs::write(dir.path().join("d.jsonld"), doc.to_string()).unwrap();
        let h = CatalogSourceConfig::Dcat(DcatConfig {
            url: "d.jsonld".into(),
            max_pages: 1,
            format: None,
        })
        .harvest(dir.path())
        .await
        .unwrap();
        assert_eq!(h.records.len(), 1, "{:?}", h.problems);
        assert_eq!(h.records[0].unmapped, ["dcat:keyword", "ex:naam"]);
        assert_eq!(h.records[0].fields["name"], "空气质量");
    }
}

//! DCAT served as Turtle or RDF/XML (the formats CKAN's DCAT endpoints and
//! European portals serve), parsed with Oxigraph's maintained parsers and
//! turned into the flattened JSON-LD graph the DCAT reader already reads:
//! one node per subject, full-IRI keys, `@type`, `{"@id": …}` references,
//! and `{"@value", "@language" | "@type"}` literals. Nothing is lost on the
//! way: every triple becomes one value of its subject's node.

use std::collections::BTreeMap;

use oxrdf::{NamedOrBlankNode, Term, Triple};
use serde::{Deserialize, Serialize};

use super::HarvestError;

const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";
const RDF_LANG_STRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";

/// The serialisation of a DCAT document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RdfFormat {
    /// JSON-LD (`.jsonld`, `.json`, `application/ld+json`).
    Jsonld,
    /// Turtle (`.ttl`, `text/turtle`).
    Turtle,
    /// RDF/XML (`.rdf`, `.xml`, `application/rdf+xml`).
    Rdfxml,
}

impl RdfFormat {
    /// The format of a document: the one configured, else the one its
    /// content shows (`{`/`[` JSON-LD, `<` RDF/XML), else Turtle.
    ///
    /// ```
    /// use connectors::catalog::RdfFormat;
    /// assert_eq!(RdfFormat::detect(None, b"  {\"@graph\": []}"), RdfFormat::Jsonld);
    /// assert_eq!(RdfFormat::detect(None, b"<?xml version=\"1.0\"?><rdf:RDF/>"), RdfFormat::Rdfxml);
    /// assert_eq!(RdfFormat::detect(None, b"@prefix dcat: <http://www.w3.org/ns/dcat#> ."), RdfFormat::Turtle);
    /// assert_eq!(RdfFormat::detect(Some(RdfFormat::Turtle), b"{"), RdfFormat::Turtle);
    /// ```
    pub fn detect(configured: Option<RdfFormat>, bytes: &[u8]) -> RdfFormat {
        if let Some(f) = configured {
            return f;
        }
        let start = bytes
            .strip_prefix(b"\xEF\xBB\xBF".as_slice())
            .unwrap_or(bytes)
            .iter()
            .find(|b| !b.is_ascii_whitespace());
        match start {
            Some(b'{') | Some(b'[') => RdfFormat::Jsonld,
            Some(b'<') if !looks_like_turtle_iri(bytes) => RdfFormat::Rdfxml,
            _ => RdfFormat::Turtle,
        }
    }
}

/// Turtle may start with `<subject> …`; XML starts with `<?`, `<!` or an
/// element name.
fn looks_like_turtle_iri(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('<')
        && !t.starts_with("<?")
        && !t.starts_with("<!")
        && t[1..]
            .split_once('>')
            .is_some_and(|(iri, _)| iri.contains(':') && !iri.contains(' '))
}

/// Parses a Turtle or RDF/XML document into a flattened JSON-LD graph
/// (`{"@graph": [nodes]}`); errors name the document and, for Turtle, the
/// line and column.
pub(crate) fn to_jsonld(
    bytes: &[u8],
    format: RdfFormat,
    location: &str,
) -> Result<serde_json::Value, HarvestError> {
    let error = |message: String| HarvestError::Format {
        location: location.to_string(),
        message,
    };
    let base = location.starts_with("http").then(|| location.to_string());
    let mut nodes: BTreeMap<String, serde_json::Map<String, serde_json::Value>> = BTreeMap::new();
    let mut add = |t: Triple| {
        let subject = match t.subject {
            NamedOrBlankNode::NamedNode(n) => n.into_string(),
            NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
        };
        let node = nodes.entry(subject.clone()).or_insert_with(|| {
            let mut m = serde_json::Map::new();
            m.insert("@id".into(), serde_json::Value::String(subject));
            m
        });
        let (key, value) = if t.predicate.as_str() == RDF_TYPE {
            let value = match &t.object {
                Term::NamedNode(n) => serde_json::Value::String(n.as_str().to_string()),
                other => serde_json::Value::String(other.to_string()),
            };
            ("@type".to_string(), value)
        } else {
            (t.predicate.into_string(), object(t.object))
        };
        match node.get_mut(&key) {
            Some(serde_json::Value::Array(a)) => a.push(value),
            _ => {
                node.insert(key, serde_json::Value::Array(vec![value]));
            }
        }
    };
    match format {
        RdfFormat::Turtle => {
            let mut parser = oxttl::TurtleParser::new();
            if let Some(b) = &base {
                parser = parser
                    .with_base_iri(b.as_str())
                    .map_err(|e| error(format!("base IRI: {e}")))?;
            }
            for t in parser.for_slice(bytes) {
                let t = t.map_err(|e| {
                    let at = e.location().start;
                    error(format!(
                        "Turtle, line {} column {}: {}",
                        at.line + 1,
                        at.column + 1,
                        e.message()
                    ))
                })?;
                add(t);
            }
        }
        RdfFormat::Rdfxml => {
            let mut parser = oxrdfxml::RdfXmlParser::new();
            if let Some(b) = &base {
                parser = parser
                    .with_base_iri(b.as_str())
                    .map_err(|e| error(format!("base IRI: {e}")))?;
            }
            for t in parser.for_slice(bytes) {
                add(t.map_err(|e| error(format!("RDF/XML: {e}")))?);
            }
        }
        RdfFormat::Jsonld => {
            return Err(error("JSON-LD is read as JSON, not as triples".into()));
        }
    }
    Ok(serde_json::json!({
        "@graph": nodes.into_values().map(serde_json::Value::Object).collect::<Vec<_>>()
    }))
}

/// An object as a JSON-LD value.
fn object(o: Term) -> serde_json::Value {
    match o {
        Term::NamedNode(n) => serde_json::json!({ "@id": n.into_string() }),
        Term::BlankNode(b) => serde_json::json!({ "@id": format!("_:{}", b.as_str()) }),
        Term::Literal(l) => {
            let mut m = serde_json::Map::new();
            m.insert(
                "@value".into(),
                serde_json::Value::String(l.value().to_string()),
            );
            if let Some(lang) = l.language() {
                m.insert(
                    "@language".into(),
                    serde_json::Value::String(lang.to_string()),
                );
            } else {
                let dt = l.datatype().as_str();
                if dt != XSD_STRING && dt != RDF_LANG_STRING {
                    m.insert("@type".into(), serde_json::Value::String(dt.to_string()));
                }
            }
            serde_json::Value::Object(m)
        }
        #[allow(unreachable_patterns)]
        other => serde_json::Value::String(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turtle_becomes_a_graph_of_nodes() {
        let ttl = r#"@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
<https://x.org/d/1> a dcat:Dataset ;
    dct:title "路况"@zh-CN, "Roads"@en ;
    dct:issued "2024-05-01"^^<http://www.w3.org/2001/XMLSchema#date> ;
    dct:publisher [ <http://xmlns.com/foaf/0.1/name> "交通运输局" ] .
"#;
        let g = to_jsonld(ttl.as_bytes(), RdfFormat::Turtle, "d.ttl").unwrap();
        let nodes = g["@graph"].as_array().unwrap();
        assert_eq!(nodes.len(), 2);
        let d = nodes
            .iter()
            .find(|n| n["@id"] == "https://x.org/d/1")
            .unwrap();
        assert_eq!(d["@type"][0], "http://www.w3.org/ns/dcat#Dataset");
        let titles = d["http://purl.org/dc/terms/title"].as_array().unwrap();
        assert!(
            titles.contains(&serde_json::json!({"@value": "路况", "@language": "zh-cn"}))
                || titles.contains(&serde_json::json!({"@value": "路况", "@language": "zh-CN"}))
        );
        assert_eq!(
            d["http://purl.org/dc/terms/issued"][0]["@type"],
            "http://www.w3.org/2001/XMLSchema#date"
        );
        let publisher = d["http://purl.org/dc/terms/publisher"][0]["@id"]
            .as_str()
            .unwrap();
        assert!(publisher.starts_with("_:"));
    }

    #[test]
    fn a_turtle_error_names_the_document_line_and_column() {
        let bad = b"@prefix dct: <http://purl.org/dc/terms/> .\n<https://x.org/d/1> dct:title \"a\"^^<<http://bad> .\n";
        let e = to_jsonld(bad, RdfFormat::Turtle, "catalog.ttl")
            .unwrap_err()
            .to_string();
        assert!(e.contains("catalog.ttl") && e.contains("line 2"), "{e}");
    }

    #[test]
    fn rdf_xml_becomes_a_graph_of_nodes() {
        let xml = r#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dcat="http://www.w3.org/ns/dcat#" xmlns:dct="http://purl.org/dc/terms/">
  <dcat:Dataset rdf:about="https://x.org/d/2"><dct:title>公交线路</dct:title></dcat:Dataset>
</rdf:RDF>"#;
        let g = to_jsonld(xml.as_bytes(), RdfFormat::Rdfxml, "d.rdf").unwrap();
        let d = &g["@graph"][0];
        assert_eq!(d["@id"], "https://x.org/d/2");
        assert_eq!(d["http://purl.org/dc/terms/title"][0]["@value"], "公交线路");
        let e = to_jsonld(b"<rdf:RDF", RdfFormat::Rdfxml, "broken.rdf")
            .unwrap_err()
            .to_string();
        assert!(e.contains("broken.rdf") && e.contains("RDF/XML"), "{e}");
    }
}

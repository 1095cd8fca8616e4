//! DCAT in JSON-LD, Turtle and RDF/XML, real documents and the round trip (issue #19, 7 and 9).

use super::*;

/// Issue #19, 5 and 7: in a DCAT document, a blank node's label is neither
/// an identity nor a value; without Chinese, English is preferred over
/// other languages; the contact point is not the provider.
#[test]
fn dcat_blank_nodes_languages_and_contact_points() {
    let dir = tempfile::tempdir().unwrap();
    let doc = serde_json::json!({
        "@context": {"dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/"},
        "@graph": [
            {
                "@id": "_:b0",
                "@type": "dcat:Dataset",
                "dct:title": [
                    {"@language": "ca", "@value": "Trànsit"},
                    {"@language": "en", "@value": "Traffic"}
                ],
                "dct:publisher": {"@id": "_:b7"},
                "dcat:contactPoint": {"@type": "vcard:Organization", "vcard:fn": "数据管理科"}
            },
            {
                "@id": "_:b1",
                "@type": "dcat:Dataset",
                "dct:identifier": "JT-0002",
                "dct:title": [{"@language": "zh-CN", "@value": "路况"}, {"@language": "en", "@value": "Roads"}],
                "dct:publisher": {"@id": "_:b2"}
            },
            {"@id": "_:b2", "@type": "foaf:Agent", "foaf:name": "交通运输局"}
        ]
    });
    std::fs::write(dir.path().join("dcat.jsonld"), doc.to_string()).unwrap();
    let src = CatalogSourceConfig::Dcat(DcatConfig {
        url: "dcat.jsonld".into(),
        max_pages: 1,
        format: None,
    });
    let h = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(src.harvest(dir.path()))
        .unwrap();
    assert_eq!(h.records.len(), 2);
    let (a, b) = (&h.records[0], &h.records[1]);
    assert_eq!(a.source_id, None, "a blank node is no identity");
    assert_eq!(a.fields.get("name").map(String::as_str), Some("Traffic"));
    assert_eq!(
        a.fields.get("provider"),
        None,
        "an unresolved blank node is no provider, nor is the contact point"
    );
    assert_eq!(b.source_id.as_deref(), Some("JT-0002"));
    assert_eq!(b.fields.get("name").map(String::as_str), Some("路况"));
    assert_eq!(
        b.fields.get("provider").map(String::as_str),
        Some("交通运输局")
    );
    assert_eq!(
        b.origins.get("provider").map(String::as_str),
        Some("publisher")
    );
}

fn harvest_dcat(dir: &std::path::Path, file: &str) -> Harvest {
    let src = CatalogSourceConfig::Dcat(DcatConfig {
        url: file.into(),
        max_pages: 1,
        format: None,
    });
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(src.harvest(dir))
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn field<'a>(r: &'a HarvestedRecord, f: &str) -> Option<&'a str> {
    r.fields.get(f).map(String::as_str)
}

/// Issue #19, 7 and 9: ckanext-dcat's own examples (RDF/XML, Turtle,
/// JSON-LD with `@graph`), read as published.
#[test]
fn real_dcat_documents_in_rdf_xml_turtle_and_json_ld() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/dcat");
    let rdf = harvest_dcat(&fixtures, "ckanext-dcat-dataset.rdf");
    assert_eq!(rdf.records.len(), 1, "{:?}", rdf.problems);
    let r = &rdf.records[0];
    assert_eq!(
        r.source_id.as_deref(),
        Some("https://data.some.org/catalog/datasets/9df8df51-63db-37a8-e044-0003ba9b0d98")
    );
    assert_eq!(
        field(r, "name"),
        Some("Zimbabwe Regional Geochemical Survey.")
    );
    assert_eq!(
        field(r, "provider"),
        Some("Publishing Organization for dataset 1")
    );
    assert_eq!(
        field(r, "resource_code"),
        Some("9df8df51-63db-37a8-e044-0003ba9b0d98")
    );
    assert_eq!(field(r, "online_date"), Some("2012-05-10"));
    assert_eq!(field(r, "open_attribute"), Some("public"));
    assert_eq!(field(r, "format"), Some("html"));
    let e = crate::catalog::harvest::entry_of(&def("eu", None), r, TZ, &depts());
    assert_eq!(
        e.update_frequency.as_deref(),
        Some("每日"),
        "Dublin Core daily"
    );
    assert_eq!(e.open_attribute.as_deref(), Some("无条件开放"));

    let ttl = harvest_dcat(&fixtures, "ckanext-dcat-dataset_multilingual.ttl");
    assert_eq!(ttl.records.len(), 1, "{:?}", ttl.problems);
    let r = &ttl.records[0];
    assert_eq!(
        field(r, "name"),
        Some("Test DCAT dataset"),
        "English before Catalan"
    );
    assert_eq!(field(r, "summary"), Some("Some description"));
    assert_eq!(
        field(r, "resource_code"),
        Some("0112cf32-bce0-4071-9504-923375f9f2ad")
    );
    assert_eq!(field(r, "online_date"), Some("2024-05-01"));
    assert_eq!(
        field(r, "provider"),
        None,
        "two contact points, no publisher"
    );

    let jsonld = harvest_dcat(&fixtures, "ckanext-dcat-catalog_with_at_graph.jsonld");
    assert_eq!(jsonld.records.len(), 1, "{:?}", jsonld.problems);
    let r = &jsonld.records[0];
    assert_eq!(field(r, "name"), Some("Title dataset"));
    assert!(
        r.fields.values().all(|v| !v.starts_with("_:")),
        "no blank node as text: {:?}",
        r.fields
    );
}

/// Issue #19, 7: pdq's own DCAT-AP export, harvested back by pdq, gives
/// back every field DCAT carries — Chinese and English names, every open
/// attribute (and none where none was stated), frequencies, dates, codes
/// and formats.
#[test]
fn the_dcat_export_round_trips_through_the_harvester() {
    let mut st = CatalogState::default();
    let mut records = vec![];
    for (i, (name, open, freq, fmt)) in [
        ("户籍人口", "无条件开放", "每日", "csv/xlsx"),
        ("Bus lines", "有条件开放", "每月", "json"),
        ("企业登记", "不予开放", "每年", "电子表格"),
        ("空气质量", "", "不定期", ""),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = good(&format!("RT{i}"), name);
        r.fields.insert("summary".into(), format!("{name} 的摘要"));
        r.fields.insert("online_date".into(), "2024-05-01".into());
        r.fields.insert("data_updated".into(), "2026-11-02".into());
        r.fields.insert("update_frequency".into(), freq.into());
        r.fields.insert(
            "landing_page".into(),
            format!("https://portal.example.gov.cn/page/RT{i}.html"),
        );
        if open.is_empty() {
            r.fields.remove("open_attribute");
        } else {
            r.fields.insert("open_attribute".into(), open.into());
        }
        if fmt.is_empty() {
            r.fields.remove("format");
        } else {
            r.fields.insert("format".into(), fmt.into());
        }
        records.push(r);
    }
    // And one without a resource code: its IRI is its identity.
    records.push(anonymous("人口统计", "2024年 城区"));
    run(
        &mut st,
        &def("tpl", Some("gongan")),
        records,
        &Curation::default(),
        1,
    );
    let before: Vec<CatalogEntry> = st.current().cloned().collect();
    let doc = dcat_export(before.iter());
    let text = doc.to_string();
    assert!(!text.contains("\"zh\""), "Chinese is tagged zh-CN");
    assert!(
        text.contains("{\"@language\":\"zh-CN\",\"@value\":\"户籍人口\"}")
            && text.contains("\"dct:title\":\"Bus lines\""),
        "an English name is not tagged Chinese"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dcat.jsonld"), &text).unwrap();
    let back = harvest_dcat(dir.path(), "dcat.jsonld");
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    let mut again = CatalogState::default();
    run(
        &mut again,
        &def("tpl", Some("gongan")),
        back.records,
        &Curation::default(),
        1,
    );
    let after: Vec<CatalogEntry> = again.current().cloned().collect();
    assert_eq!(after.len(), before.len());
    let by_name = |es: &[CatalogEntry], n: &str| -> CatalogEntry {
        es.iter()
            .find(|e| e.name.as_deref() == Some(n))
            .cloned()
            .unwrap()
    };
    let formats = |e: &CatalogEntry| -> BTreeSet<String> {
        e.format
            .as_deref()
            .unwrap_or("")
            .split(['、', '/'])
            .filter(|f| !f.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    for b in &before {
        let name = b.name.as_deref().unwrap();
        let a = by_name(&after, name);
        for f in [
            "resource_code",
            "name",
            "summary",
            "provider",
            "update_frequency",
            "open_attribute",
            "online_date",
            "data_updated",
            "classification",
            "landing_page",
        ] {
            assert_eq!(a.get(f), b.get(f), "{name}: {f}");
        }
        assert_eq!(formats(&a), formats(b), "{name}: format");
    }
}

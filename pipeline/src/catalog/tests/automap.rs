//! Auto-mapping (issue #19, 1): portal exports harvested with no mapping
//! written, in the key conventions portals use.

use super::*;

/// Forty records of one portal shape: `keys` names, in that portal's
/// words, the title, provider, frequency and open attribute; the values
/// are the portal's own words, with their canonical forms beside them.
fn portal(keys: [&str; 4], nested_provider: bool) -> (serde_json::Value, Vec<[String; 4]>) {
    let providers = ["公安局", "民政局"];
    let freqs = [
        ("每日", "每日"),
        ("实时", "实时"),
        ("每季度", "每季度"),
        ("不更新", "不更新"),
    ];
    let opens = [
        ("完全开放", "无条件开放"),
        ("依申请开放", "有条件开放"),
        ("不开放", "不予开放"),
    ];
    let mut records = vec![];
    let mut expected = vec![];
    for i in 0..40 {
        let title = format!("资源目录{i:02}号");
        let provider = providers[i % 2];
        let (freq, freq_c) = freqs[i % freqs.len()];
        let (open, open_c) = opens[i % opens.len()];
        let mut r = serde_json::Map::new();
        // Keys portals add that map to nothing.
        r.insert("viewCount".into(), serde_json::json!(i * 7));
        r.insert("score".into(), serde_json::json!(4.5));
        r.insert(keys[0].into(), serde_json::json!(title));
        r.insert(
            keys[1].into(),
            if nested_provider {
                serde_json::json!({"name": format!("org-{}", i % 2), "title": provider})
            } else {
                serde_json::json!(provider)
            },
        );
        r.insert(keys[2].into(), serde_json::json!(freq));
        r.insert(keys[3].into(), serde_json::json!(open));
        records.push(serde_json::Value::Object(r));
        expected.push([
            title,
            provider.to_string(),
            freq_c.to_string(),
            open_c.to_string(),
        ]);
    }
    (serde_json::json!({"data": {"list": records}}), expected)
}

#[tokio::test]
async fn portal_exports_in_every_key_convention_harvest_with_no_mapping() {
    let shapes: [(&str, [&str; 4], bool); 6] = [
        (
            "camel",
            ["resourceName", "orgName", "updateCycle", "openType"],
            false,
        ),
        (
            "snake",
            [
                "resource_name",
                "org_name",
                "update_frequency",
                "open_attribute",
            ],
            false,
        ),
        (
            "ckan",
            ["title", "organization", "frequency", "access_rights"],
            true,
        ),
        (
            "dcat",
            [
                "dct:title",
                "dct:publisher",
                "dct:accrualPeriodicity",
                "dct:accessRights",
            ],
            true,
        ),
        ("pinyin", ["zymc", "tgbm", "gxpl", "kfsx"], false),
        (
            "chinese",
            ["资源名称", "提供部门", "更新频率", "开放属性"],
            false,
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, keys, nested) in shapes {
        let (doc, expected) = portal(keys, nested);
        std::fs::write(dir.path().join(format!("{name}.json")), doc.to_string()).unwrap();
        let src: CatalogSourceDef = toml::from_str(&format!(
            "name = \"{name}\"\n[source]\nkind = \"json_api\"\nurl = \"{name}.json\"\nrecords = \"data.list\"\n"
        ))
        .unwrap();
        let h = src.source.harvest(dir.path()).await.unwrap();
        assert_eq!(h.records.len(), 40, "{name}: {:?}", h.problems);
        // What was mapped, per field, with the key and its coverage.
        let report = h.mapping_report();
        for (field, key) in ["name", "provider", "update_frequency", "open_attribute"]
            .iter()
            .zip(keys)
        {
            assert_eq!(report.covered(field), 40, "{name}: {field}");
            assert!(
                report.fields[*field].contains_key(key),
                "{name}: {field} from {key}"
            );
        }
        assert_eq!(report.unmapped.get("viewCount"), Some(&40), "{name}");
        let mut st = CatalogState::default();
        run(&mut st, &src, h.records, &Curation::default(), 1);
        let entries: Vec<&CatalogEntry> = st.current().collect();
        assert_eq!(entries.len(), 40, "{name}");
        let mut correct = 0;
        for e in &entries {
            let want = expected
                .iter()
                .find(|x| Some(x[0].as_str()) == e.name.as_deref())
                .unwrap_or_else(|| panic!("{name}: {:?} not expected", e.name));
            let got = [
                e.name.as_deref(),
                e.provider.as_deref(),
                e.update_frequency.as_deref(),
                e.open_attribute.as_deref(),
            ];
            if got
                == [
                    Some(&*want[0]),
                    Some(&*want[1]),
                    Some(&*want[2]),
                    Some(&*want[3]),
                ]
            {
                correct += 1;
            }
            // The department comes from the provider.
            assert_eq!(
                e.department,
                if want[1] == "公安局" {
                    "gongan"
                } else {
                    "minzheng"
                },
                "{name}"
            );
        }
        assert!(
            correct as f64 >= 0.95 * entries.len() as f64,
            "{name}: {correct} of {} right with no mapping",
            entries.len()
        );
        assert_eq!(correct, 40, "{name}: these shapes map whole");
    }
}

/// Of two keys naming one field, the better one wins whatever the key
/// order: CKAN's `title` over its URL slug `name`; a Chinese key over a
/// machine key.
#[tokio::test]
async fn the_better_key_wins_whatever_the_order() {
    let dir = tempfile::tempdir().unwrap();
    let doc = serde_json::json!([
        {"name": "air-quality-2024", "title": "空气质量", "publisher": "生态环境局", "提供部门": "公安局", "id": "a1"},
        {"title": "户籍人口", "name": "hukou", "提供部门": "公安局", "publisher": "x", "id": "a2"}
    ]);
    std::fs::write(dir.path().join("p.json"), doc.to_string()).unwrap();
    let src: CatalogSourceDef =
        toml::from_str("name = \"p\"\n[source]\nkind = \"json_api\"\nurl = \"p.json\"\n").unwrap();
    let h = src.source.harvest(dir.path()).await.unwrap();
    let names: Vec<(&str, &str)> = h
        .records
        .iter()
        .map(|r| (r.fields["name"].as_str(), r.fields["provider"].as_str()))
        .collect();
    assert_eq!(names, [("空气质量", "公安局"), ("户籍人口", "公安局")]);
    // `id` is the record's identity, not an unmapped key.
    assert_eq!(h.records[0].source_id.as_deref(), Some("a1"));
    assert!(!h.records[0].unmapped.contains(&"id".to_string()));
}

fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/ckan")
}

/// A real CKAN `package_search` response (data.birmingham.gov.uk, one page
/// of 10 of 38 packages; a local file is one document, whatever total it
/// states): every package gives its title, its organisation as provider,
/// its dates and its formats, with no mapping; the maintainers (staff
/// names and addresses) reach no entry.
#[tokio::test]
async fn a_real_ckan_package_search_response_harvests_with_no_mapping() {
    let h = CatalogSourceConfig::Ckan(connectors::catalog::CkanConfig {
        url: "birmingham-package_search.json".into(),
        rows: 10,
        fq: None,
        extras: BTreeMap::new(),
    })
    .harvest(&fixtures())
    .await
    .unwrap();
    assert_eq!(h.records.len(), 10, "{:?}", h.problems);
    let report = h.mapping_report();
    for field in ["name", "provider", "data_updated", "online_date", "summary"] {
        assert_eq!(report.covered(field), 10, "{field}: {report:?}");
    }
    let first = &h.records[0];
    assert_eq!(first.fields["name"], "Purchase Card Transactions");
    assert_eq!(first.fields["provider"], "Birmingham City Council");
    assert_eq!(
        first.source_id.as_deref(),
        Some("cf552d08-cee9-43bf-8c0f-3196a9311799")
    );
    let mut st = CatalogState::default();
    let src = def("birmingham", Some("gongan"));
    run(&mut st, &src, h.records, &Curation::default(), 1);
    let entries: Vec<&CatalogEntry> = st.current().collect();
    assert_eq!(entries.len(), 10, "ten packages, ten entries");
    for e in &entries {
        assert!(e.data_updated.is_some() && e.online_date.is_some(), "{e:?}");
        let text = serde_json::to_string(e).unwrap();
        assert!(
            !text.contains("Ian Martin") && !text.contains("ian.martin@"),
            "a maintainer reached an entry: {text}"
        );
    }
    let f = checks_of(&st, "xinjiang-2023");
    assert!(
        !f.iter()
            .any(|x| matches!(x.field.as_deref(), Some("data_updated" | "online_date"))),
        "CKAN's dates are read: {f:#?}"
    );
}

/// A real plain-JSON catalog export (ckanext-dcat's example list), read as
/// a portal's JSON with no mapping: title, description, identifier, dates
/// and the publisher object are all recognised.
#[tokio::test]
async fn a_real_json_catalog_export_harvests_with_no_mapping() {
    let src: CatalogSourceDef = toml::from_str(
        "name = \"list\"\n[source]\nkind = \"json_api\"\nurl = \"ckanext-dcat-catalog_datasets_list.json\"\n",
    )
    .unwrap();
    let h = src.source.harvest(&fixtures()).await.unwrap();
    assert_eq!(h.records.len(), 2, "{:?}", h.problems);
    let r = &h.records[0];
    assert_eq!(r.fields["name"], "Example dataset 1");
    assert_eq!(
        r.fields["provider"],
        "Publishing Organization for dataset 1"
    );
    assert!(r.fields["summary"].starts_with("A longer description"));
    assert_eq!(r.fields["online_date"], "2013-04-26T00:00:00Z");
    assert_eq!(r.fields["data_updated"], "2013-04-26T00:00:00Z");
    assert_eq!(
        r.source_id.as_deref(),
        Some("https://data.some.org/catalog/datasets/1")
    );
    assert_eq!(h.records[1].fields["online_date"], "2012-06-21");
}

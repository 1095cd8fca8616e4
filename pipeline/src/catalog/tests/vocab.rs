//! Portal vocabularies and dates (issue #19, 3 and 4).

use super::*;

/// One record per value, under `field`, merged from source `src` into a
/// fresh catalog.
fn harvested_values(
    src: &CatalogSourceDef,
    field: &str,
    values: &[&str],
) -> (CatalogState, Vec<CatalogFinding>) {
    let mut st = CatalogState::default();
    let records = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut r = good(&format!("V{i}"), &format!("资源{i}"));
            r.fields.insert(field.into(), (*v).into());
            r.origins.insert(field.into(), "K 开放属性".into());
            r
        })
        .collect();
    run(&mut st, src, records, &Curation::default(), 1);
    let f = checks_of(&st, "xinjiang-2023");
    (st, f)
}

fn value_of<'a>(st: &'a CatalogState, code: &str, field: &str) -> Option<&'a str> {
    st.entries[&format!("portal:{code}")].entry.get(field)
}

#[test]
fn portal_words_for_each_kind_map_to_canonical_values_without_findings() {
    let src = def("portal", Some("gongan"));
    let cases: [(&str, &[(&str, &str)]); 3] = [
        (
            "open_attribute",
            &[
                ("完全开放", "无条件开放"),
                ("无条件开放", "无条件开放"),
                ("开放", "无条件开放"),
                ("依申请开放", "有条件开放"),
                ("有条件开放", "有条件开放"),
                ("登录开放", "有条件开放"),
                ("受限开放", "有条件开放"),
                ("不开放", "不予开放"),
                ("非开放", "不予开放"),
                ("不予开放", "不予开放"),
            ],
        ),
        (
            "share_attribute",
            &[
                ("无条件共享", "无条件共享"),
                ("完全共享", "无条件共享"),
                ("依申请共享", "有条件共享"),
                ("有条件共享", "有条件共享"),
                ("不予共享", "不予共享"),
                ("不共享", "不予共享"),
            ],
        ),
        (
            "update_frequency",
            &[
                ("实时", "实时"),
                ("即时", "实时"),
                ("每小时", "实时"),
                ("每日", "每日"),
                ("每周", "每周"),
                ("每月", "每月"),
                ("每季度", "每季度"),
                ("每半年", "每半年"),
                ("每年", "每年"),
                ("不定期", "不定期"),
                ("不定时", "不定期"),
                ("静态数据", "不更新"),
                ("不更新", "不更新"),
                ("never", "不更新"),
            ],
        ),
    ];
    for (field, pairs) in cases {
        let written: Vec<&str> = pairs.iter().map(|(w, _)| *w).collect();
        let (st, f) = harvested_values(&src, field, &written);
        for (i, (w, want)) in pairs.iter().enumerate() {
            assert_eq!(
                value_of(&st, &format!("V{i}"), field),
                Some(*want),
                "{field} `{w}`"
            );
        }
        // No finding says the value is wrong (conditions owed by the
        // conditional values are other checks).
        let wrong: Vec<&CatalogFinding> = f
            .iter()
            .filter(|x| x.check == "enumeration" || x.check == "required_field")
            .filter(|x| x.field.as_deref() == Some(field))
            .collect();
        assert_eq!(wrong, Vec::<&CatalogFinding>::new(), "{field}");
    }
}

#[test]
fn an_unmapped_value_is_a_finding_naming_it_and_the_record_and_leaves_the_field_unset() {
    let mut src = def("portal", Some("gongan"));
    // A default must not cover what the source wrote.
    src.defaults
        .insert("update_frequency".into(), "每年".into());
    src.defaults
        .insert("open_attribute".into(), "无条件开放".into());
    let mut st = CatalogState::default();
    let mut other = good("U1", "其他频率");
    other
        .fields
        .insert("update_frequency".into(), "其他".into());
    other
        .origins
        .insert("update_frequency".into(), "column J (更新频率)".into());
    let mut unknown = good("U2", "未知开放");
    unknown
        .fields
        .insert("open_attribute".into(), "看情况开放".into());
    let mut blank = good("U3", "未填频率");
    blank.fields.remove("update_frequency");
    run(
        &mut st,
        &src,
        vec![other, unknown, blank],
        &Curation::default(),
        1,
    );
    let e = &st.entries["portal:U1"].entry;
    assert_eq!(
        e.update_frequency, None,
        "其他 is not silently 不定期 or 每年"
    );
    assert_eq!(
        e.unmapped.get("update_frequency").map(String::as_str),
        Some("其他")
    );
    assert_eq!(st.entries["portal:U2"].entry.open_attribute, None);
    assert_eq!(
        st.entries["portal:U3"].entry.update_frequency.as_deref(),
        Some("每年"),
        "a blank field still takes the default"
    );
    let f = checks_of(&st, "xinjiang-2023");
    let about = |name: &str, field: &str| -> Vec<&CatalogFinding> {
        f.iter()
            .filter(|x| x.name.as_deref() == Some(name) && x.field.as_deref() == Some(field))
            .collect()
    };
    let freq = about("其他频率", "update_frequency");
    assert_eq!(freq.len(), 1, "one finding, not also `required`: {freq:#?}");
    assert_eq!(freq[0].check, "enumeration");
    assert_eq!(freq[0].key.as_deref(), Some("portal:U1"));
    assert_eq!(
        freq[0].location,
        "目录.xlsx!资源目录 row 2 column J (更新频率)"
    );
    assert!(
        freq[0].message.starts_with(
            "`其他` in update_frequency (更新频率) of record portal:U1 is not a value pdq knows, so update_frequency is left unset"
        ),
        "{}",
        freq[0].message
    );
    assert!(freq[0].message.contains("[values.frequency]"));
    let open = about("未知开放", "open_attribute");
    assert_eq!(open.len(), 1, "{open:#?}");
    assert!(
        open[0].message.contains("`看情况开放`")
            && open[0].message.contains("portal:U2")
            && open[0].message.contains("无条件开放, 有条件开放, 非开放"),
        "the profile's words: {}",
        open[0].message
    );
    // The bureau's curation settles it: no finding left.
    let curation = Curation {
        entry: vec![CuratedEntry {
            key: Some("portal:U1".into()),
            code: None,
            fields: [("update_frequency".to_string(), "不定期".to_string())].into(),
        }],
    };
    let mut st2 = CatalogState::default();
    let mut other = good("U1", "其他频率");
    other
        .fields
        .insert("update_frequency".into(), "其他".into());
    run(&mut st2, &src, vec![other], &curation, 1);
    let e = &st2.entries["portal:U1"].entry;
    assert_eq!(e.update_frequency.as_deref(), Some("不定期"));
    assert!(e.unmapped.is_empty());
    assert!(
        !checks_of(&st2, "xinjiang-2023")
            .iter()
            .any(|x| x.field.as_deref() == Some("update_frequency"))
    );
}

#[test]
fn a_sources_values_table_overrides_and_extends_the_builtins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("catalogs")).unwrap();
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "department = \"gongan\"\n[source]\nkind = \"dcat\"\nurl = \"unused\"\n\
         [values.open]\n\"公开\" = \"无条件开放\"\n\"开放\" = \"依申请开放\"\n\
         [values.share]\n\"共享\" = \"无条件共享\"\n\
         [values.frequency]\n\"其他\" = \"不定期\"\n\"每两天\" = \"每日\"\n",
    )
    .unwrap();
    let defs = crate::catalog::harvest::load_sources(dir.path()).unwrap();
    let src = &defs[0];
    assert_eq!(src.values.open.len(), 2);
    let (st, f) = harvested_values(src, "open_attribute", &["公开", "开放", "完全开放"]);
    assert_eq!(
        value_of(&st, "V0", "open_attribute"),
        Some("无条件开放"),
        "extends"
    );
    assert_eq!(
        value_of(&st, "V1", "open_attribute"),
        Some("有条件开放"),
        "overrides the built-in 开放 = 无条件开放 for this source"
    );
    assert_eq!(
        value_of(&st, "V2", "open_attribute"),
        Some("无条件开放"),
        "built-in"
    );
    assert!(!f.iter().any(|x| x.check == "enumeration"), "{f:#?}");
    let (st, _) = harvested_values(src, "update_frequency", &["其他", "每两天"]);
    assert_eq!(value_of(&st, "V0", "update_frequency"), Some("不定期"));
    assert_eq!(value_of(&st, "V1", "update_frequency"), Some("每日"));
    let (st, _) = harvested_values(src, "share_attribute", &["共享"]);
    assert_eq!(value_of(&st, "V0", "share_attribute"), Some("无条件共享"));
    // Without the table, the same words are findings.
    let (st, f) = harvested_values(&def("portal", Some("gongan")), "open_attribute", &["公开"]);
    assert_eq!(value_of(&st, "V0", "open_attribute"), None);
    assert!(
        f.iter()
            .any(|x| x.check == "enumeration" && x.message.contains("`公开`"))
    );
    // A mapping to a value pdq does not know is refused, naming file and key.
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "[source]\nkind = \"dcat\"\nurl = \"unused\"\n[values.frequency]\n\"其他\" = \"偶尔\"\n",
    )
    .unwrap();
    let e = crate::catalog::harvest::load_sources(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("portal.toml: values.frequency: `其他` = `偶尔`"),
        "{e}"
    );
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "[source]\nkind = \"dcat\"\nurl = \"unused\"\n[values.opne]\n\"公开\" = \"无条件开放\"\n",
    )
    .unwrap();
    let e = crate::catalog::harvest::load_sources(dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("portal.toml") && e.contains("opne"), "{e}");
    // A default is read through the same tables: one the source maps is
    // fine, one nothing maps is refused when the source is loaded.
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "[source]\nkind = \"dcat\"\nurl = \"unused\"\n[defaults]\nopen_attribute = \"公开\"\n[values.open]\n\"公开\" = \"无条件开放\"\n",
    )
    .unwrap();
    assert!(crate::catalog::harvest::load_sources(dir.path()).is_ok());
    std::fs::write(
        dir.path().join("catalogs/portal.toml"),
        "[source]\nkind = \"dcat\"\nurl = \"unused\"\n[defaults]\nupdate_frequency = \"其他\"\n",
    )
    .unwrap();
    let e = crate::catalog::harvest::load_sources(dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("portal.toml: defaults: update_frequency = `其他` is not a value pdq knows"),
        "{e}"
    );
}

fn published(st: &CatalogState, profile_id: &str) -> Vec<crate::catalog::publish::PublishedEntry> {
    crate::catalog::publish::enrich(
        st,
        &[],
        &[],
        &BTreeMap::new(),
        &profile(profile_id).unwrap().catalog,
    )
}

fn dcat_of(entries: &[crate::catalog::publish::PublishedEntry]) -> serde_json::Value {
    crate::catalog::publish::dcat("数据局", "urn:pdq:", entries, "2026-11-01T00:00:00+00:00")
}

fn dcat_dataset<'a>(d: &'a serde_json::Value, code: &str) -> &'a serde_json::Value {
    d["dcat:dataset"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["dct:identifier"] == code)
        .unwrap()
}

#[test]
fn dcat_labels_open_data_public_conditional_restricted_not_open_non_public() {
    let src = def("portal", Some("gongan"));
    let (st, _) = harvested_values(
        &src,
        "open_attribute",
        &["完全开放", "依申请开放", "登录开放", "非开放", "看情况"],
    );
    // 新疆 words 不予开放 as 非开放: the label must not depend on the word.
    for profile_id in ["xinjiang-2023", "tibet-2025"] {
        let d = dcat_of(&published(&st, profile_id));
        let access = |code: &str| {
            dcat_dataset(&d, code)["dct:accessRights"]["@id"]
                .as_str()
                .map(|i| i.rsplit('/').next().unwrap_or_default().to_string())
                .unwrap_or_else(|| "(none)".into())
        };
        assert_eq!(access("V0"), "PUBLIC", "{profile_id}");
        assert_eq!(access("V1"), "RESTRICTED", "{profile_id}");
        assert_eq!(access("V2"), "RESTRICTED", "{profile_id}");
        assert_eq!(access("V3"), "NON_PUBLIC", "{profile_id}");
        // An attribute nothing maps is not stated as anything: written as
        // NON_PUBLIC it would come back from pdq's own harvester as 不予开放
        // (the round trip, issue #19, 7); it is in no public file anyway.
        assert_eq!(
            access("V4"),
            "(none)",
            "{profile_id}: unknown is not claimed"
        );
    }
}

#[test]
fn the_published_catalog_words_attributes_as_the_profile_does() {
    let src = def("portal", Some("gongan"));
    let (st, _) = harvested_values(&src, "open_attribute", &["不开放", "完全开放"]);
    let xj = published(&st, "xinjiang-2023");
    let tb = published(&st, "tibet-2025");
    let word = |p: &[crate::catalog::publish::PublishedEntry], code: &str| {
        p.iter()
            .find(|x| x.entry.resource_code.as_deref() == Some(code))
            .and_then(|x| x.entry.open_attribute.clone())
    };
    assert_eq!(
        word(&xj, "V0").as_deref(),
        Some("非开放"),
        "新疆 第二十六条"
    );
    assert_eq!(word(&tb, "V0").as_deref(), Some("不予开放"));
    assert_eq!(word(&xj, "V1").as_deref(), Some("无条件开放"));
    // The open catalog is the open entries, whatever the words.
    let files = crate::catalog::publish::files("数据局", 1, Utc::now(), xj, &[], &[], &st).unwrap();
    let get = |n: &str| &files.iter().find(|(f, _)| f == n).unwrap().1;
    let open: serde_json::Value = serde_json::from_slice(get("open-catalog.json")).unwrap();
    let names: Vec<&str> = open
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, ["资源1"]);
    let catalog: serde_json::Value = serde_json::from_slice(get("catalog.json")).unwrap();
    let opens: Vec<&str> = catalog["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["open_attribute"].as_str())
        .collect();
    assert_eq!(opens, ["非开放", "无条件开放"]);
}

#[tokio::test]
async fn real_time_round_trips_as_real_time_through_the_published_catalog_and_dcat() {
    let src = def("portal", Some("gongan"));
    let (st, f) = harvested_values(&src, "update_frequency", &["实时", "即时"]);
    assert!(!f.iter().any(|x| x.check == "enumeration"), "{f:#?}");
    assert_eq!(value_of(&st, "V0", "update_frequency"), Some("实时"));
    assert_eq!(
        value_of(&st, "V1", "update_frequency"),
        Some("实时"),
        "not 每日"
    );
    let entries = published(&st, "xinjiang-2023");
    let files =
        crate::catalog::publish::files("数据局", 1, Utc::now(), entries.clone(), &[], &[], &st)
            .unwrap();
    let get = |n: &str| &files.iter().find(|(f, _)| f == n).unwrap().1;
    let catalog: serde_json::Value = serde_json::from_slice(get("catalog.json")).unwrap();
    assert_eq!(catalog["entries"][0]["update_frequency"], "实时");
    assert!(String::from_utf8_lossy(get("catalog.csv")).contains(",实时,"));
    let d: serde_json::Value = serde_json::from_slice(get("dcat.jsonld")).unwrap();
    assert_eq!(
        dcat_dataset(&d, "V0")["dct:accrualPeriodicity"]["@id"],
        "http://publications.europa.eu/resource/authority/frequency/UPDATE_CONT"
    );
    // pdq's own DCAT, harvested back, is still 实时.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dcat.jsonld"), get("dcat.jsonld")).unwrap();
    let h = CatalogSourceConfig::Dcat(DcatConfig {
        url: "dcat.jsonld".into(),
        max_pages: 1,
        format: None,
    })
    .harvest(dir.path())
    .await
    .unwrap();
    assert_eq!(h.records.len(), 2);
    let mut back = CatalogState::default();
    run(
        &mut back,
        &def("again", Some("gongan")),
        h.records,
        &Curation::default(),
        2,
    );
    for e in back.current() {
        assert_eq!(e.update_frequency.as_deref(), Some("实时"), "{}", e.key);
    }
}

#[test]
fn never_updated_data_is_valid_and_never_late_and_real_time_is_checked_daily() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    let freq = |code: &str, name: &str, v: &str| {
        let mut r = good(code, name);
        r.fields.insert("update_frequency".into(), v.into());
        r
    };
    run(
        &mut st,
        &src,
        vec![
            freq("S1", "历史档案", "不更新"),
            freq("S2", "静态名录", "静态数据"),
            freq("S3", "实时监测", "实时"),
            freq("S4", "不定期公告", "不定时"),
        ],
        &Curation::default(),
        1,
    );
    assert_eq!(
        st.entries["tpl:S2"].entry.update_frequency.as_deref(),
        Some("不更新")
    );
    let f = checks_of(&st, "xinjiang-2023");
    assert!(
        !f.iter()
            .any(|x| x.field.as_deref() == Some("update_frequency")),
        "不更新, 静态数据, 实时 and 不定时 are accepted: {f:#?}"
    );
    let long_ago = Utc.with_ymd_and_hms(2023, 1, 10, 10, 0, 0).unwrap();
    let datasets: Vec<LandedDataset> = ["S1", "S2", "S3", "S4"]
        .iter()
        .map(|c| {
            super::reconcile::landed(
                &format!("gongan.{c}"),
                Some(c),
                &[("x", Kind::Text, None)],
                Some(long_ago),
            )
        })
        .collect();
    let now = Utc.with_ymd_and_hms(2025, 1, 27, 1, 0, 0).unwrap();
    let cal = WorkCalendar::embedded();
    let f = reconcile(&st, &datasets, DayUnit::Calendar, &cal, TZ, now).unwrap();
    let late: Vec<&str> = f
        .iter()
        .filter(|x| x.check == "late_delivery")
        .filter_map(|x| x.name.as_deref())
        .collect();
    assert_eq!(late, ["实时监测"], "only real time, checked as daily");
    let msg = &f
        .iter()
        .find(|x| x.check == "late_delivery")
        .unwrap()
        .message;
    assert!(
        msg.starts_with("declared 实时; last delivery 2023-01-10, next was due 2023-01-11"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_ckan_package_with_fractional_seconds_and_no_zone_has_no_date_finding() {
    let dir = tempfile::tempdir().unwrap();
    let package = serde_json::json!({
        "success": true,
        "result": {"count": 1, "results": [{
            "id": "3f0c", "name": "air-quality", "title": "空气质量",
            "notes": "逐时空气质量监测数据",
            "organization": {"name": "gongan", "title": "公安局"},
            "metadata_created": "2023-12-31T16:00:00.000001",
            "metadata_modified": "2024-03-05T08:15:30.123456",
            "extras": [
                {"key": "更新频率", "value": "实时"},
                {"key": "开放属性", "value": "完全开放"},
                {"key": "共享属性", "value": "无条件共享"}
            ],
            "resources": [{"format": "CSV"}]
        }]}
    });
    std::fs::write(dir.path().join("ckan.json"), package.to_string()).unwrap();
    let h = CatalogSourceConfig::Ckan(connectors::catalog::CkanConfig {
        url: "ckan.json".into(),
        rows: 100,
        fq: None,
        extras: BTreeMap::new(),
    })
    .harvest(dir.path())
    .await
    .unwrap();
    let mut st = CatalogState::default();
    run(
        &mut st,
        &def("ckan", None),
        h.records,
        &Curation::default(),
        1,
    );
    let e = st.current().next().unwrap();
    assert_eq!(
        e.data_updated.as_deref(),
        Some("2024-03-05T00:15:30.123456+00:00"),
        "no zone: the bureau's time"
    );
    assert_eq!(
        e.online_date.as_deref(),
        Some("2023-12-31T08:00:00.000001+00:00")
    );
    assert_eq!(e.update_frequency.as_deref(), Some("实时"));
    assert_eq!(e.open_attribute.as_deref(), Some("无条件开放"));
    let f = checks_of(&st, "xinjiang-2023");
    let dates: Vec<&CatalogFinding> = f
        .iter()
        .filter(|x| matches!(x.field.as_deref(), Some("data_updated" | "online_date")))
        .collect();
    assert_eq!(dates, Vec::<&CatalogFinding>::new());
    let enums: Vec<&CatalogFinding> = f.iter().filter(|x| x.check == "enumeration").collect();
    assert_eq!(enums, Vec::<&CatalogFinding>::new());
}

//! Issue #19 (a catalog of 100,000 entries): the catalog's history is
//! folded into its state a batch at a time, and the published files are
//! written a file and a row at a time. Both must give exactly what the
//! in-memory forms give.

use super::*;
use crate::catalog::publish::{
    DirSink, PublishedCatalog, PublishedEntry, dcat, enrich, files, write_files,
};
use crate::catalog::store::{self, CatalogRow};
use crate::land::{Lake, LakeConfig};

fn open(code: &str, name: &str, open: &str) -> HarvestedRecord {
    let mut r = good(code, name);
    r.fields.insert("open_attribute".into(), open.into());
    r.items.push(HarvestedItem {
        location: format!("{code} item 1"),
        fields: [("name", "姓名"), ("column", "xm"), ("data_type", "字符型")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    });
    r
}

/// Four versions of one source: entries added, an attribute changed, one
/// withdrawn, then restored; each version committed to a lake as the
/// harvest commits it.
async fn history(lake: &Lake) -> (CatalogState, Vec<Vec<CatalogRow>>) {
    let src = def("portal", Some("gongan"));
    let mut st = CatalogState::default();
    let base = || {
        vec![
            open("S1", "户籍人口", "无条件开放"),
            open("S2", "婚姻登记", "不予开放"),
            open("S3", "=1+1 公式", "有条件开放"),
            open("S4", "社会组织", "无条件开放"),
            open("S5", "低保", "不予开放"),
        ]
    };
    let mut versions = vec![];
    let mut v2 = base();
    v2[1] = open("S2", "婚姻登记", "无条件开放");
    let v3: Vec<HarvestedRecord> = v2
        .iter()
        .filter(|r| r.source_id.as_deref() != Some("S5"))
        .cloned()
        .collect();
    for (n, records) in [(1, base()), (2, v2.clone()), (3, v3), (4, v2)] {
        let rows = run(&mut st, &src, records, &Curation::default(), n);
        assert!(!rows.is_empty(), "version {n} changed something");
        store::commit(lake, &format!("h{n}"), &rows).await.unwrap();
        versions.push(rows);
    }
    (st, versions)
}

#[tokio::test]
async fn the_history_folded_a_batch_at_a_time_is_the_state_the_harvests_built() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&LakeConfig::default(), dir.path()).unwrap();
    let (built, versions) = history(&lake).await;
    assert_eq!(built.version, 4);
    for loaded in [
        store::load(&lake).await.unwrap().0,
        store::load_state(&lake).await.unwrap(),
        store::load_latest(&lake).await.unwrap().0,
    ] {
        assert_eq!(loaded.version, built.version);
        assert_eq!(
            loaded.entries.keys().collect::<Vec<_>>(),
            built.entries.keys().collect::<Vec<_>>()
        );
        for (k, b) in &built.entries {
            let l = &loaded.entries[k];
            // Where the entry was last read is not stored with it.
            let mut be = b.entry.clone();
            be.location = l.entry.location.clone();
            assert_eq!(l.entry, be, "{k}");
            assert_eq!(
                (&l.hash, l.version, l.withdrawn),
                (&b.hash, b.version, b.withdrawn),
                "{k}"
            );
            assert_eq!(l.attribute_changes, b.attribute_changes, "{k}");
            assert_eq!(l.updated, b.updated, "{k}: every update, oldest first");
        }
    }
    let s2 = &built.entries["portal:S2"];
    assert_eq!(
        s2.attribute_changes.len(),
        1,
        "不予开放 → 无条件开放 in version 2"
    );
    let s5 = &built.entries["portal:S5"];
    assert_eq!(
        (s5.updated.len(), s5.withdrawn),
        (2, false),
        "added, restored"
    );
    // Every row, ordered; or the latest version's, without their entries.
    let (_, all) = store::load(&lake).await.unwrap();
    let mut expected: Vec<&CatalogRow> = versions.iter().flatten().collect();
    expected.sort_by(|a, b| (a.version, &a.key).cmp(&(b.version, &b.key)));
    assert_eq!(all.iter().collect::<Vec<_>>(), expected);
    let (_, latest) = store::load_latest(&lake).await.unwrap();
    let mut last = versions[3].clone();
    for r in &mut last {
        r.entry.clear();
    }
    last.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(latest, last);
    assert!(!latest.is_empty());
}

/// A catalog of thousands of entries over four versions (batches of
/// stored rows, unchanged entries compared without hashing): the rows say
/// what happened to each entry (a repeated identity is suffixed in the
/// order the source gave it), every hash is the entry's content hash, and
/// the history folded back is the state the merges built.
#[tokio::test]
async fn a_large_catalog_is_merged_and_folded_back_as_it_was_built() {
    const N: usize = 3_000;
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&LakeConfig::default(), dir.path()).unwrap();
    let src = def("portal", Some("gongan"));
    let base = || -> Vec<HarvestedRecord> {
        (0..N)
            .map(|i| {
                // Every 500th record repeats the identity of the one before
                // (never one that is withdrawn below).
                let code = format!("S{:05}", if i % 500 == 250 { i - 1 } else { i });
                open(&code, &format!("资源{i}"), "不予开放")
            })
            .collect()
    };
    let mut v2 = base();
    for r in v2.iter_mut().step_by(7) {
        r.fields
            .insert("open_attribute".into(), "无条件开放".into());
    }
    let v3: Vec<HarvestedRecord> = v2
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 11 != 3)
        .map(|(_, r)| r.clone())
        .collect();
    let mut st = CatalogState::default();
    let mut counts = vec![];
    for (n, records) in [(1, base()), (2, v2.clone()), (3, v3), (4, v2)] {
        let rows = run(&mut st, &src, records, &Curation::default(), n);
        store::commit(&lake, &format!("h{n}"), &rows).await.unwrap();
        let mut by_kind: BTreeMap<ChangeKind, usize> = BTreeMap::new();
        for r in &rows {
            *by_kind.entry(r.kind).or_default() += 1;
            let stored = &st.entries[&r.key];
            assert_eq!(r.hash, store::content_hash(&stored.entry), "{}", r.key);
        }
        counts.push(by_kind);
    }
    let kinds = |k: &[(ChangeKind, usize)]| k.iter().copied().collect::<BTreeMap<_, _>>();
    let changed = (0..N).step_by(7).count();
    let withdrawn = (0..N).filter(|i| i % 11 == 3).count();
    assert_eq!(counts[0], kinds(&[(ChangeKind::Added, N)]));
    assert_eq!(counts[1], kinds(&[(ChangeKind::Changed, changed)]));
    assert_eq!(counts[2], kinds(&[(ChangeKind::Withdrawn, withdrawn)]));
    assert_eq!(counts[3], kinds(&[(ChangeKind::Restored, withdrawn)]));
    // The repeated identity: the first record keeps the key, the second
    // is suffixed.
    assert_eq!(
        st.entries["portal:S00249"].entry.name.as_deref(),
        Some("资源249")
    );
    assert_eq!(
        st.entries["portal:S00249#2"].entry.name.as_deref(),
        Some("资源250")
    );
    assert_eq!(st.entries.len(), N);
    let loaded = store::load_state(&lake).await.unwrap();
    assert_eq!(loaded.version, 4);
    assert_eq!(
        loaded.entries.keys().collect::<Vec<_>>(),
        st.entries.keys().collect::<Vec<_>>()
    );
    for (k, b) in &st.entries {
        let l = &loaded.entries[k];
        let mut be = b.entry.clone();
        be.location = l.entry.location.clone();
        assert_eq!(l.entry, be, "{k}");
        assert_eq!(
            (
                &l.hash,
                l.version,
                l.withdrawn,
                &l.attribute_changes,
                &l.updated
            ),
            (
                &b.hash,
                b.version,
                b.withdrawn,
                &b.attribute_changes,
                &b.updated
            ),
            "{k}"
        );
    }
}

fn published_of(st: &CatalogState) -> Vec<PublishedEntry> {
    enrich(
        st,
        &[],
        &[],
        &BTreeMap::new(),
        &profile("xinjiang-2023").unwrap().catalog,
    )
}

#[tokio::test]
async fn files_written_one_at_a_time_are_the_files_built_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&LakeConfig::default(), dir.path()).unwrap();
    let (st, versions) = history(&lake).await;
    let findings = checks_of(&st, "xinjiang-2023");
    let at = Utc.with_ymd_and_hms(2026, 11, 5, 1, 0, 0).unwrap();
    let entries = published_of(&st);
    assert!(entries.iter().all(|p| !p.entry.items.is_empty()));
    let in_memory = files(
        "数据局",
        4,
        at,
        entries.clone(),
        &findings,
        &versions[3],
        &st,
    )
    .unwrap();
    let out = dir.path().join("published");
    let sink = DirSink::new(&out);
    write_files(
        &sink,
        "数据局",
        4,
        at,
        entries.clone(),
        &findings,
        &versions[3],
        &st,
    )
    .unwrap();
    assert_eq!(sink.written().len(), in_memory.len());
    for (name, bytes) in &in_memory {
        let written = std::fs::read(out.join(name)).unwrap();
        assert_eq!(&written, bytes, "{name}");
    }
    // No temporary file is left beside them.
    let stray: Vec<_> = walk(&out)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    let get = |n: &str| &in_memory.iter().find(|(f, _)| f == n).unwrap().1;
    // The streamed DCAT document is the document tree [`dcat`] builds.
    let streamed: serde_json::Value = serde_json::from_slice(get("dcat.jsonld")).unwrap();
    assert_eq!(
        streamed,
        dcat("数据局", "urn:pdq:", &entries, &at.to_rfc3339())
    );
    let open: Vec<PublishedEntry> = entries
        .iter()
        .filter(|p| crate::catalog::publish::is_open(&p.entry))
        .cloned()
        .collect();
    assert_eq!(open.len(), 4, "S1, S2 (now open), S3, S4");
    let public: serde_json::Value = serde_json::from_slice(get("public/dcat.jsonld")).unwrap();
    assert_eq!(public, dcat("数据局", "urn:pdq:", &open, &at.to_rfc3339()));
    // catalog.json is the document [`PublishedCatalog`] serialises.
    for (name, want) in [("catalog.json", &entries), ("public/catalog.json", &open)] {
        let got: PublishedCatalog = serde_json::from_slice(get(name)).unwrap();
        assert_eq!(
            got,
            PublishedCatalog {
                bureau: "数据局".into(),
                version: 4,
                generated_at: at.to_rfc3339(),
                entries: want.clone(),
            },
            "{name}"
        );
    }
    // One row per data item, and the formula-like name neutralised.
    let items = String::from_utf8(get("catalog-items.csv").clone()).unwrap();
    assert_eq!(items.lines().count(), 1 + entries.len());
    let csv = String::from_utf8(get("catalog.csv").clone()).unwrap();
    assert!(csv.contains(",'=1+1 公式,"), "{csv}");
    // The change log of the version: one line per row.
    let log: Vec<serde_json::Value> = serde_json::from_slice(get("changes.json")).unwrap();
    assert_eq!(log.len(), versions[3].len());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

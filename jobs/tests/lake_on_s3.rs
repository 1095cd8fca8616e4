//! Issue #22, 3: the lake on S3-compatible storage end to end. The demo
//! bureau swept with its lake in a bucket (landing, checking, one source,
//! scores, the catalog, publishing) publishes exactly what the same bureau
//! publishes with its lake on disk, and a second sweep reads the checks'
//! local copies without fetching or keeping anything twice.
//!
//! Needs the S3 server `ops/test.sh` starts (`PDQ_TEST_S3_ENDPOINT`, keys in
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`); run alone, the test fails
//! without it unless `PDQ_TEST_SERVICES=off` says to skip server tests.

mod common;

use std::path::Path;

/// `pdq sweep` of `ws` as of the demo's day; its exit code and stderr.
fn sweep(home: &Path, ws: &Path, name: &str) -> (Option<i32>, String) {
    let status = common::demo_sweep(home, ws, name)
        .status()
        .expect("pdq sweep");
    (
        status.code(),
        std::fs::read_to_string(home.join(format!("{name}.err"))).unwrap_or_default(),
    )
}

/// The files under `dir` (recursively), as paths relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p.strip_prefix(dir).expect("inside").display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn issue_22_the_demo_sweep_with_its_lake_on_s3_publishes_what_a_local_lake_publishes() {
    let Some(endpoint) = common::s3_endpoint() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("local");
    let remote = dir.path().join("s3");
    pipeline::demo::generate(&local).expect("demo bureau");
    pipeline::demo::generate(&remote).expect("demo bureau");
    // The generator sweeps its bureau: start both from sources only.
    for ws in [&local, &remote] {
        for landed in ["lake", "results", "published", "history"] {
            let _ = std::fs::remove_dir_all(ws.join(landed));
        }
    }
    common::lake_on_s3(&remote, &endpoint);

    let (code, err) = sweep(dir.path(), &local, "local");
    assert!(matches!(code, Some(0 | 3)), "local sweep: {code:?}\n{err}");
    let (code, err) = sweep(dir.path(), &remote, "s3");
    assert!(matches!(code, Some(0 | 3)), "sweep on S3: {code:?}\n{err}");
    assert!(
        !remote.join("lake").exists(),
        "the lake went to disk, not to the bucket"
    );

    let on_disk = common::published(&local);
    let on_s3 = common::published(&remote);
    assert!(
        on_disk.keys().any(|k| k.contains("scorecard")) && on_disk.len() > 5,
        "{:?}",
        on_disk.keys()
    );
    for (name, text) in &on_disk {
        assert_eq!(
            on_s3.get(name),
            Some(text),
            "published {name} differs with the lake on S3"
        );
    }
    assert_eq!(on_s3.len(), on_disk.len());

    // The checks read local copies of the bucket's data files: one per
    // data file of each table's current version, nothing half-fetched.
    let cache = remote.join(".cache/lake");
    let copies = files_under(&cache);
    assert!(
        !copies.is_empty(),
        "no local copies under {}",
        cache.display()
    );
    assert!(copies.iter().all(|c| c.ends_with(".parquet")), "{copies:?}");
    let datasets = std::fs::read_dir(remote.join("datasets"))
        .expect("datasets")
        .flat_map(|d| std::fs::read_dir(d.expect("dept").path()).expect("dept"))
        .count();
    assert!(
        copies.len() >= datasets,
        "{} copies for {datasets} datasets",
        copies.len()
    );

    // A second sweep (nothing new delivered) checks the same copies again.
    let (code, err) = sweep(dir.path(), &remote, "s3-again");
    assert!(
        matches!(code, Some(0 | 3)),
        "second sweep on S3: {code:?}\n{err}"
    );
    assert_eq!(files_under(&cache), copies);
    // Each dataset's check report is the same as the first sweep's.
    let again = common::published(&remote);
    let reports: Vec<&String> = on_s3
        .keys()
        .filter(|k| !k.contains('/') && k.ends_with(".json") && k.matches('.').count() == 2)
        .collect();
    assert_eq!(reports.len(), datasets, "{reports:?}");
    for name in reports {
        assert_eq!(
            again.get(name),
            on_s3.get(name),
            "{name} after a second sweep"
        );
    }
}

/// The lake's upkeep on S3: within the window nothing goes; past it, the
/// file a later version removed is deleted from the bucket (counted with
/// its bytes), the current version reads the same, and nothing is left to
/// do. (The window itself is at least a day in `pdq.toml`; the library
/// call takes any, which is how the deletion is reached in a test.)
#[test]
fn vacuum_on_s3_deletes_what_the_window_no_longer_needs() {
    use datafusion::prelude::{col, lit};
    let Some(endpoint) = common::s3_endpoint() else {
        return;
    };
    let bucket = common::new_bucket(&endpoint);
    let dir = tempfile::tempdir().expect("tempdir");
    let config: pipeline::land::LakeConfig = serde_json::from_value(serde_json::json!({
        "location": format!("s3://{bucket}/lake"),
        "s3": {"endpoint": endpoint},
    }))
    .expect("lake config");
    let lake = pipeline::land::Lake::open(&config, dir.path()).expect("lake on S3");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let schema: arrow::datatypes::SchemaRef =
        std::sync::Arc::new(arrow::datatypes::Schema::new(vec![
            arrow::datatypes::Field::new("n", arrow::datatypes::DataType::Int64, false),
        ]));
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Row {
        n: i64,
    }
    let rows = |ns: &[i64]| ns.iter().map(|&n| Row { n }).collect::<Vec<_>>();
    rt.block_on(lake.append_records("t", &schema, &rows(&[1, 2]), None))
        .expect("append");
    rt.block_on(lake.append_records("t", &schema, &rows(&[3]), None))
        .expect("append");
    rt.block_on(lake.delete_where("t", col("n").lt(lit(3i64))))
        .expect("delete");
    let read = || -> Vec<i64> {
        rt.block_on(lake.read_records::<Row>("t", None, "n"))
            .expect("read")
            .into_iter()
            .map(|r| r.n)
            .collect()
    };
    assert_eq!(read(), vec![3]);
    let day = chrono::Duration::days(1);
    let kept = rt.block_on(lake.vacuum("t", day, false)).expect("vacuum");
    assert_eq!(kept.map(|v| v.files), Some(0), "within the window");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let zero = chrono::Duration::zero();
    let done = rt
        .block_on(lake.vacuum("t", zero, false))
        .expect("vacuum")
        .expect("the table");
    assert_eq!(done.files, 1, "{done:?}");
    assert!(done.bytes > 0, "{done:?}");
    assert_eq!(read(), vec![3]);
    let again = rt.block_on(lake.vacuum("t", zero, false)).expect("vacuum");
    assert_eq!(again.map(|v| v.files), Some(0));
}

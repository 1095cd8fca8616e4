//! The lake's tests: rows in and out, upkeep, versions kept.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema};

use super::*;

#[derive(serde::Serialize)]
struct Row {
    n: i64,
}

/// An empty lake in a temporary directory, the schema of [`Row`], a runtime.
fn lake_of_numbers() -> (tempfile::TempDir, Lake, SchemaRef, tokio::runtime::Runtime) {
    let dir = tempfile::tempdir().unwrap();
    let lake = Lake::open(&LakeConfig::default(), dir.path()).unwrap();
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
    (dir, lake, schema, tokio::runtime::Runtime::new().unwrap())
}

#[test]
fn records_beyond_one_batch_land_in_one_commit_once() {
    let (_dir, lake, schema, rt) = lake_of_numbers();
    let rows: Vec<Row> = (0..2 * RECORDS_PER_BATCH as i64 + 7)
        .map(|n| Row { n })
        .collect();
    let first = rt
        .block_on(lake.append_records("t", &schema, &rows, Some("run-1")))
        .unwrap();
    let again = rt
        .block_on(lake.append_records("t", &schema, &rows, Some("run-1")))
        .unwrap();
    assert_eq!(again, first, "a commit with the same id is made once");
    let none = rt
        .block_on(lake.append_batches("t", &schema, std::iter::empty(), None))
        .unwrap();
    assert_eq!(none, first, "no batches, no commit");
    let counted = rt
        .block_on(lake.sql(
            &[("t", "t")],
            "SELECT count(*), count(DISTINCT n), sum(n) FROM t",
        ))
        .unwrap();
    let n = rows.len() as i64;
    assert_eq!(
        arrow::util::pretty::pretty_format_batches(&counted)
            .unwrap()
            .to_string()
            .lines()
            .nth(3)
            .unwrap()
            .split('|')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>(),
        vec![n.to_string(), n.to_string(), (n * (n - 1) / 2).to_string()]
    );
}

#[test]
fn a_bad_batch_fails_the_append_and_commits_nothing() {
    let (_dir, lake, schema, rt) = lake_of_numbers();
    let v0 = rt
        .block_on(lake.append_records("t", &schema, &[Row { n: 1 }], None))
        .unwrap();
    let batches = [
        records_batch("t", &schema, &[Row { n: 2 }]),
        Err(LandError::lake("t", "made up")),
    ];
    let e = rt
        .block_on(lake.append_batches("t", &schema, batches, None))
        .unwrap_err();
    assert!(e.to_string().contains("made up"), "{e}");
    let t = rt.block_on(lake.open_table("t")).unwrap().unwrap();
    assert_eq!(t.version().map(|v| v as i64), Some(v0));
}

/// The data files under a local table's directory (its log aside).
fn data_files(dir: &Path, table: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("lake").join(table))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect();
    files.sort();
    files
}

fn numbers(lake: &Lake, rt: &tokio::runtime::Runtime, version: Option<i64>) -> Vec<i64> {
    #[derive(serde::Deserialize)]
    struct N {
        n: i64,
    }
    rt.block_on(lake.read_records_at::<N>("t", version, None, "n"))
        .unwrap()
        .into_iter()
        .map(|r| r.n)
        .collect()
}

#[test]
fn vacuum_deletes_removed_and_uncommitted_files_past_the_window_only() {
    let (dir, lake, schema, rt) = lake_of_numbers();
    let rows = |ns: &[i64]| ns.iter().map(|&n| Row { n }).collect::<Vec<_>>();
    let v1 = rt
        .block_on(lake.append_records("t", &schema, &rows(&[1, 2]), None))
        .unwrap();
    rt.block_on(lake.append_records("t", &schema, &rows(&[3]), None))
        .unwrap();
    // A prune removes the first file's rows: its file stays for time travel.
    rt.block_on(lake.delete_where(
        "t",
        datafusion::prelude::col("n").lt(datafusion::prelude::lit(3i64)),
    ))
    .unwrap();
    // A write that died before its commit left a file behind.
    let dead = dir.path().join("lake/t/part-00000-dead.snappy.parquet");
    std::fs::write(&dead, b"PAR1 never committed").unwrap();
    let before = data_files(dir.path(), "t");
    assert_eq!(before.len(), 3, "{before:?}");
    let live = numbers(&lake, &rt, None);
    assert_eq!(live, vec![3]);

    // Within the window: nothing goes, the earlier version reads.
    let day = chrono::Duration::days(1);
    let kept = rt.block_on(lake.vacuum("t", day, false)).unwrap().unwrap();
    assert_eq!(kept, Vacuumed::default());
    assert_eq!(data_files(dir.path(), "t"), before);
    assert_eq!(numbers(&lake, &rt, Some(v1)), vec![1, 2]);

    // A dry run past the window says what would go and deletes nothing.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let zero = chrono::Duration::zero();
    let would = rt.block_on(lake.vacuum("t", zero, true)).unwrap().unwrap();
    let removed_size = std::fs::metadata(&before[0]).unwrap().len()
        + std::fs::metadata(&before[1]).unwrap().len()
        + std::fs::metadata(&before[2]).unwrap().len()
        - live_file_size(&lake, &rt);
    assert_eq!(would.files, 2, "{would:?}");
    assert_eq!(would.bytes, removed_size);
    assert_eq!(data_files(dir.path(), "t"), before);

    // Past the window: the removed file and the dead one go, the
    // current version is untouched.
    let done = rt.block_on(lake.vacuum("t", zero, false)).unwrap().unwrap();
    assert_eq!(done, would);
    let after = data_files(dir.path(), "t");
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(!dead.exists());
    assert_eq!(numbers(&lake, &rt, None), vec![3]);
    // Nothing more to do: no commit is made.
    let version = rt
        .block_on(lake.open_table("t"))
        .unwrap()
        .unwrap()
        .version();
    let again = rt.block_on(lake.vacuum("t", zero, false)).unwrap().unwrap();
    assert_eq!(again, Vacuumed::default());
    let same = rt
        .block_on(lake.open_table("t"))
        .unwrap()
        .unwrap()
        .version();
    assert_eq!(same, version);
    assert_eq!(
        rt.block_on(lake.vacuum("absent", zero, false)).unwrap(),
        None
    );
}

/// The size of the one file the table's current version holds.
fn live_file_size(lake: &Lake, rt: &tokio::runtime::Runtime) -> u64 {
    let t = rt.block_on(lake.open_table("t")).unwrap().unwrap();
    let sizes: Vec<i64> = t
        .snapshot()
        .unwrap()
        .log_data()
        .iter()
        .map(|f| f.size())
        .collect();
    assert_eq!(sizes.len(), 1);
    sizes[0] as u64
}

#[derive(serde::Serialize, serde::Deserialize)]
struct RunRow {
    run: String,
    n: i64,
}

/// The schema of [`RunRow`].
fn run_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("run", DataType::Utf8, false),
        Field::new("n", DataType::Int64, false),
    ]))
}

#[test]
fn the_latest_runs_are_kept_by_when_they_were_written_not_by_name() {
    let (_dir, lake, _, rt) = lake_of_numbers();
    let schema = run_schema();
    let append = |rows: Vec<RunRow>| {
        rt.block_on(lake.append_records("r", &schema, &rows, None))
            .unwrap();
        // Write times are in milliseconds.
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let run = |r: &str, ns: std::ops::Range<i64>| -> Vec<RunRow> {
        ns.map(|n| RunRow { run: r.into(), n }).collect()
    };
    // Written in this order; their names sort the other way.
    append(run("z-first", 0..3));
    append(run("m-second", 3..5));
    append(run("a-third", 5..9));
    let left = |lake: &Lake| -> Vec<String> {
        let rows: Vec<RunRow> = rt.block_on(lake.read_records("r", None, "n")).unwrap();
        let mut runs: Vec<String> = rows.into_iter().map(|r| r.run).collect();
        runs.dedup();
        runs
    };
    assert_eq!(
        rt.block_on(lake.keep_latest_runs("r", "run", 3)).unwrap(),
        Vec::<String>::new()
    );
    let gone = rt.block_on(lake.keep_latest_runs("r", "run", 2)).unwrap();
    assert_eq!(gone, vec!["z-first".to_string()]);
    assert_eq!(left(&lake), vec!["m-second", "a-third"]);
    let rows: Vec<RunRow> = rt.block_on(lake.read_records("r", None, "n")).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.n).collect::<Vec<_>>(),
        (3..9).collect::<Vec<_>>()
    );
    // A file holding two runs is not split: it is kept.
    let mut mixed = run("b-fourth", 9..10);
    mixed.extend(run("c-fourth", 10..11));
    append(mixed);
    let gone = rt.block_on(lake.keep_latest_runs("r", "run", 1)).unwrap();
    assert_eq!(gone, vec!["m-second".to_string()]);
    assert_eq!(left(&lake), vec!["a-third", "b-fourth", "c-fourth"]);
    assert_eq!(
        rt.block_on(lake.keep_latest_runs("absent", "run", 1))
            .unwrap(),
        Vec::<String>::new()
    );
}

/// One stage's tables keep the same runs: conflicts found in the first
/// run only go once the stage has made `keep` runs since, though the
/// conflicts table has no newer run (it used to keep them for good).
#[test]
fn a_stages_tables_keep_the_stages_last_runs() {
    let (_dir, lake, _, rt) = lake_of_numbers();
    let schema = run_schema();
    let append = |table: &str, run: &str| {
        rt.block_on(lake.append_records(
            table,
            &schema,
            &[RunRow {
                run: run.into(),
                n: 1,
            }],
            None,
        ))
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    append("golden", "r1");
    append("conflicts", "r1");
    append("golden", "r2");
    append("golden", "r3");
    let runs = |table: &str| -> Vec<String> {
        let rows: Vec<RunRow> = rt.block_on(lake.read_records(table, None, "run")).unwrap();
        rows.into_iter().map(|r| r.run).collect()
    };
    // One table at a time, the conflicts' only run would stay.
    assert_eq!(
        rt.block_on(lake.keep_latest_runs("conflicts", "run", 2))
            .unwrap(),
        Vec::<String>::new()
    );
    let gone = rt
        .block_on(lake.keep_latest_runs_of(&["golden", "conflicts", "absent"], "run", 2))
        .unwrap();
    assert_eq!(gone, vec!["r1".to_string()]);
    assert_eq!(runs("golden"), vec!["r2", "r3"]);
    assert!(runs("conflicts").is_empty());
    // Nothing more to remove: no commit, nothing returned.
    assert_eq!(
        rt.block_on(lake.keep_latest_runs_of(&["golden", "conflicts"], "run", 2))
            .unwrap(),
        Vec::<String>::new()
    );
}

/// A hundred and six nights of one commit each to table `t` (a
/// checkpoint at version 100), the log then two months old but the last
/// night; returns the first night's version.
fn months_of_nights(
    dir: &Path,
    lake: &Lake,
    schema: &SchemaRef,
    rt: &tokio::runtime::Runtime,
) -> i64 {
    let first = rt
        .block_on(lake.append_records("t", schema, &[Row { n: 0 }], None))
        .unwrap();
    for n in 1..105 {
        rt.block_on(lake.append_records("t", schema, &[Row { n }], None))
            .unwrap();
    }
    let log = dir.join("lake/t/_delta_log");
    let checkpoint = |e: &std::io::Result<std::fs::DirEntry>| {
        e.as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains(".checkpoint")
    };
    assert!(
        std::fs::read_dir(&log).unwrap().any(|e| checkpoint(&e)),
        "a checkpoint was written"
    );
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(60 * 86_400);
    for e in std::fs::read_dir(&log).unwrap() {
        let f = std::fs::File::options()
            .write(true)
            .open(e.unwrap().path())
            .unwrap();
        f.set_modified(old).unwrap();
    }
    rt.block_on(lake.append_records("t", schema, &[Row { n: 105 }], None))
        .unwrap();
    first
}

/// Delta deletes log files older than 30 days once a later checkpoint
/// covers them, unless the table says not to; the annual evaluation
/// reads `_pdq/rule_results` at the version of the year's last run,
/// months later. Without the property the first version is gone ("No
/// files in log segment"); every table pdq makes has it.
#[test]
fn an_old_version_stays_readable_after_checkpoints_and_months() {
    let (dir, lake, schema, rt) = lake_of_numbers();
    let first = months_of_nights(dir.path(), &lake, &schema, &rt);
    assert_eq!(numbers(&lake, &rt, Some(first)), vec![0]);
    assert!(
        !rt.block_on(lake.keep_every_version("t")).unwrap(),
        "already set"
    );
}

/// A table made before that rule is told once (`land::prepare` does it
/// for the stages' tables), and keeps its versions from then on.
#[test]
fn a_table_made_before_keeps_every_version_once_told() {
    let (dir, lake, schema, rt) = lake_of_numbers();
    let kernel: StructType = schema.as_ref().try_into_kernel().unwrap();
    let url = lake.table_url("t").unwrap();
    rt.block_on(async {
        DeltaTable::try_from_url_with_storage_options(url, HashMap::new())
            .await
            .unwrap()
            .create()
            .with_columns(kernel.fields().cloned())
            .await
            .unwrap()
    });
    assert!(
        rt.block_on(lake.keep_every_version("t")).unwrap(),
        "set once"
    );
    assert!(
        !rt.block_on(lake.keep_every_version("t")).unwrap(),
        "then kept"
    );
    assert!(!rt.block_on(lake.keep_every_version("absent")).unwrap());
    let first = months_of_nights(dir.path(), &lake, &schema, &rt);
    assert_eq!(numbers(&lake, &rt, Some(first)), vec![0]);
}

//! Unit tests of file datasets: discovery, formats, encodings, types,
//! segments and the location columns.

use super::*;
use arrow::array::{Int64Array, StringArray};
use arrow::datatypes::{Field, Schema};

/// Issue #18, 8: two symbolic links back up the tree made the walk
/// branch for ever; a link to a file already read counted it twice.
/// Each directory and file is now read once, in bounded time.
#[test]
fn symbolic_link_loops_are_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("sub")).unwrap();
    std::fs::write(data.join("a.csv"), "x\n1\n").unwrap();
    std::fs::write(data.join("sub/b.csv"), "x\n2\n").unwrap();
    std::os::unix::fs::symlink(&data, data.join("sub/up")).unwrap();
    std::os::unix::fs::symlink(&data, data.join("sub/up2")).unwrap();
    std::os::unix::fs::symlink(data.join("a.csv"), data.join("again.csv")).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let root = data.clone();
    std::thread::spawn(move || {
        let _ = tx.send(expand(&[root]));
    });
    let files = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("the walk ends")
        .unwrap();
    let mut names: Vec<String> = files
        .iter()
        .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "each file once: {names:?}");
    assert!(names.contains(&"b.csv".to_string()), "{names:?}");
}

/// Regression: Parquet columns marked REQUIRED (not nullable), as DuckDB
/// writes them, were refused by the reader's schema hint.
#[test]
fn reads_required_parquet_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("req.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("c", DataType::Utf8, false),
        Field::new("n", DataType::Int64, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(StringArray::from(vec!["a", "b"])),
            Arc::new(Int64Array::from(vec![1, 2])),
        ],
    )
    .unwrap();
    let mut w =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None)
            .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let ds = FileDataset::open(&[path], &ReadOptions::default()).unwrap();
    let ctx = datafusion::prelude::SessionContext::new();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let rows = rt.block_on(async {
        let df = ctx.read_table(ds.table_provider()).unwrap();
        df.collect()
            .await
            .unwrap()
            .iter()
            .map(|b| b.num_rows())
            .sum::<usize>()
    });
    assert_eq!(rows, 2);
    assert_eq!(ds.schema().field(0).data_type(), &DataType::Utf8View);
}

fn scan(
    ds: &FileDataset,
    batch_size: usize,
    sql: &str,
) -> datafusion::common::Result<Vec<RecordBatch>> {
    let config = datafusion::prelude::SessionConfig::new()
        .with_batch_size(batch_size)
        .with_target_partitions(2);
    let ctx = datafusion::prelude::SessionContext::new_with_config(config);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        ctx.register_table("t", ds.table_provider())?;
        ctx.sql(sql).await?.collect().await
    })
}

/// CSV and JSON are streamed at scan time, batch by batch, with types
/// inferred over every value at open (the value that makes `amount` a
/// float is in the last row) and locations counted across batches.
#[test]
fn text_files_are_streamed_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("a.csv");
    let mut text = "id,amount,when\n".to_string();
    for i in 0..9 {
        text.push_str(&format!("0{i},{i},2024-01-0{}\n", i + 1));
        if i == 4 {
            text.push('\n'); // blank lines are not records
        }
    }
    text.push_str("09,1.5,\n");
    std::fs::write(&csv, &text).unwrap();
    let json = dir.path().join("b.ndjson");
    std::fs::write(
        &json,
        "{\"id\":\"10\",\"amount\":2}\n{\"amount\":3,\"extra\":\"x\"}\n",
    )
    .unwrap();
    let ds = FileDataset::open(&[csv, json], &ReadOptions::default()).unwrap();
    assert_eq!(ds.files()[0].rows, Some(10));
    assert_eq!(ds.files()[1].rows, Some(2));
    let schema = ds.schema();
    assert_eq!(
        schema.field_with_name("id").unwrap().data_type(),
        &DataType::Utf8View
    );
    assert_eq!(
        schema.field_with_name("amount").unwrap().data_type(),
        &DataType::Float64
    );
    assert_eq!(
        schema.field_with_name("when").unwrap().data_type(),
        &DataType::Date32
    );
    // The bare scan comes in batches of at most 3 rows.
    let batches = scan(&ds, 3, "SELECT amount, __pdq_file, __pdq_row FROM t").unwrap();
    assert!(batches.len() >= 5, "{} batches", batches.len());
    assert!(batches.iter().all(|b| b.num_rows() <= 3));
    let batches = scan(
        &ds,
        3,
        "SELECT CAST(__pdq_file AS BIGINT) * 100 + CAST(__pdq_row AS BIGINT) AS at, id, amount, \
         CAST(\"when\" AS VARCHAR) AS w, extra FROM t ORDER BY at",
    )
    .unwrap();
    let table = arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    let want = "\
+-----+----+--------+------------+-------+
| at  | id | amount | w          | extra |
+-----+----+--------+------------+-------+
| 0   | 00 | 0.0    | 2024-01-01 |       |
| 1   | 01 | 1.0    | 2024-01-02 |       |
| 2   | 02 | 2.0    | 2024-01-03 |       |
| 3   | 03 | 3.0    | 2024-01-04 |       |
| 4   | 04 | 4.0    | 2024-01-05 |       |
| 5   | 05 | 5.0    | 2024-01-06 |       |
| 6   | 06 | 6.0    | 2024-01-07 |       |
| 7   | 07 | 7.0    | 2024-01-08 |       |
| 8   | 08 | 8.0    | 2024-01-09 |       |
| 9   | 09 | 1.5    |            |       |
| 100 | 10 | 2.0    |            |       |
| 101 |    | 3.0    |            | x     |
+-----+----+--------+------------+-------+";
    assert_eq!(table, want);
}

/// A file rewritten between opening and scanning is not read as if it
/// were the file whose types were inferred.
#[test]
fn a_text_file_that_changes_before_the_scan_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("a.csv");
    std::fs::write(&csv, "n\n1\n2\n").unwrap();
    let ds = FileDataset::open(std::slice::from_ref(&csv), &ReadOptions::default()).unwrap();
    std::fs::write(&csv, "n\n1\n2\nthree\n").unwrap();
    let err = scan(&ds, 8192, "SELECT n FROM t").unwrap_err();
    assert!(
        err.to_string()
            .contains("a.csv: the file changed while it was being checked"),
        "{err}"
    );
}

/// A UTF-8 CSV (with a BOM, quoted newlines and blank lines) of several
/// segments, and the same in GB18030, is read by two partitions at
/// once: every record exactly once, with its record index, its values
/// intact.
#[test]
fn a_large_csv_is_split_at_record_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("big.csv");
    let mut text = "\u{feff}n,note\n".to_string();
    let rows = 5_500u64;
    for i in 0..rows {
        if i % 7 == 0 {
            text.push_str(&format!("{i},\"line one\nline {i}, two\"\n"));
        } else {
            text.push_str(&format!("{i},备注{i}\n"));
        }
        if i % 1000 == 999 {
            text.push_str("\n\n"); // blank lines at segment edges
        }
    }
    // The same records in UTF-8 (with a BOM) and in GB18030.
    let gb = dir.path().join("big-gb.csv");
    std::fs::write(&csv, &text).unwrap();
    std::fs::write(&gb, encoding_rs::GB18030.encode(&text[3..]).0).unwrap();
    for (path, encoding) in [(&csv, encoding_rs::UTF_8), (&gb, encoding_rs::GB18030)] {
        split_and_read(path, encoding, rows);
    }
}

fn split_and_read(csv: &Path, encoding: &'static encoding_rs::Encoding, rows: u64) {
    let ds = FileDataset::open(&[csv.to_path_buf()], &ReadOptions::default()).unwrap();
    let FilePart::Stream {
        segments,
        spec: TextSpec::Csv(spec),
        ..
    } = &ds.inner.parts[0]
    else {
        panic!("a CSV is streamed");
    };
    assert_eq!(spec.encoding, encoding);
    assert_eq!(segments.len(), 6);
    assert_eq!(segments.iter().map(|s| s.rows).sum::<u64>(), rows);
    let batches = scan(
        &ds,
        512,
        "SELECT count(*) AS records, count(DISTINCT __pdq_row) AS distinct_rows, \
         sum(CAST(__pdq_row AS BIGINT) - n) AS misplaced, \
         sum(CASE WHEN note = concat('line one', chr(10), 'line ', CAST(n AS VARCHAR), ', two') \
                  OR note = concat('备注', CAST(n AS VARCHAR)) THEN 0 ELSE 1 END) AS wrong_notes \
         FROM t",
    )
    .unwrap();
    let table = arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert_eq!(
        table,
        "\
+---------+---------------+-----------+-------------+
| records | distinct_rows | misplaced | wrong_notes |
+---------+---------------+-----------+-------------+
| 5500    | 5500          | 0         | 0           |
+---------+---------------+-----------+-------------+"
    );
}

/// Without `--encoding` a CSV is UTF-8 only if all of it is: one
/// GB18030 record after more than a megabyte of valid UTF-8 makes the
/// whole file GB18030 (read again from the start).
#[test]
fn a_late_gb18030_record_makes_the_file_gb18030() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("late.csv");
    let mut text = "name,n\n".to_string();
    let mut rows = 0;
    while text.len() < (1 << 20) + 10 {
        text.push_str("ascii only,1\n");
        rows += 1;
    }
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(&encoding_rs::GB18030.encode("张三,2\n").0);
    std::fs::write(&csv, &bytes).unwrap();
    let ds = FileDataset::open(std::slice::from_ref(&csv), &ReadOptions::default()).unwrap();
    let FilePart::Stream {
        spec: TextSpec::Csv(spec),
        ..
    } = &ds.inner.parts[0]
    else {
        panic!("a CSV is streamed");
    };
    assert_eq!(spec.encoding, encoding_rs::GB18030);
    let batches = scan(
        &ds,
        8192,
        &format!("SELECT name FROM t WHERE __pdq_row = {rows}"),
    )
    .unwrap();
    let table = arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string();
    assert!(table.contains("张三"), "{table}");
}

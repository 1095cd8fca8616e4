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
    scan_on(ds, batch_size, 2, sql)
}

/// Runs `sql` over the dataset as table `t` with this batch size and
/// number of partitions, on two threads.
fn scan_on(
    ds: &FileDataset,
    batch_size: usize,
    partitions: usize,
    sql: &str,
) -> datafusion::common::Result<Vec<RecordBatch>> {
    let config = datafusion::prelude::SessionConfig::new()
        .with_batch_size(batch_size)
        .with_target_partitions(partitions);
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

/// The records of `tricky_csv`: quoted fields with line ends (blank lines
/// and quotes inside them too), blank lines between records, a record of
/// several ranges' size, numbers, dates and Chinese text.
fn tricky_csv(rows: u64, crlf: bool) -> String {
    let nl = if crlf { "\r\n" } else { "\n" };
    let mut text = format!("\u{feff}n,d,note{nl}");
    for i in 0..rows {
        let day = 1 + i % 28;
        let note = match i % 11 {
            0 => format!("\"line one{nl}line {i}, \"\"two\"\"\""),
            3 => format!("\"{nl}{nl}starts with blank lines {i}{nl}\""),
            5 => format!("\"ends in a quote and a line end \"\"{nl}\""),
            _ => format!("备注{i}"),
        };
        text.push_str(&format!("{i},2024-02-{day:02},{note}{nl}"));
        if i % 97 == 0 {
            text.push_str(nl); // a blank line
        }
        if i == rows / 2 {
            // One record longer than several ranges and than the slack
            // a guessed parse may read past its range.
            let big: String = (0..3000).map(|k| format!("长 {k}{nl}")).collect();
            text.push_str(&format!("{},2024-03-01,\"{big}\"{nl}", rows));
        }
    }
    text
}

/// Every value of a dataset in record order, with its record index.
fn every_value(ds: &FileDataset, batch_size: usize, partitions: usize) -> String {
    let batches = scan_on(
        ds,
        batch_size,
        partitions,
        "SELECT * FROM t ORDER BY __pdq_row",
    )
    .unwrap();
    arrow::util::pretty::pretty_format_batches(&batches)
        .unwrap()
        .to_string()
}

fn sampled(records: u64) -> ReadOptions {
    ReadOptions {
        inference: Inference::Sampled { records },
        ..ReadOptions::default()
    }
}

/// Issue #24, 1: a CSV typed from a sample is read once, in byte ranges
/// whose first records are guessed, by several partitions at once. With
/// guesses inside quoted fields, blank lines, CRLF, a BOM, GB18030 and a
/// record longer than the slack, every record comes exactly once, in
/// order, with the record index and values of a read from the start.
#[test]
fn a_sampled_csv_read_in_ranges_equals_a_read_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    for crlf in [false, true] {
        let text = tricky_csv(3_000, crlf);
        let utf8 = dir.path().join(format!("t-{crlf}.csv"));
        let gb = dir.path().join(format!("t-gb-{crlf}.csv"));
        std::fs::write(&utf8, &text).unwrap();
        std::fs::write(&gb, encoding_rs::GB18030.encode(&text[3..]).0).unwrap();
        for path in [&utf8, &gb] {
            let exact =
                FileDataset::open(std::slice::from_ref(path), &ReadOptions::default()).unwrap();
            let ds = FileDataset::open(std::slice::from_ref(path), &sampled(100)).unwrap();
            let FilePart::Stream {
                split: Some(split), ..
            } = &ds.inner.parts[0]
            else {
                panic!("a large CSV with a sample is read in ranges");
            };
            assert!(split.len > 100 * 1024, "many ranges: {}", split.len);
            assert_eq!(ds.schema(), exact.schema());
            let want = every_value(&exact, 64, 2);
            assert!(want.contains("| 1500 | 2024-02-17 | 备注1500"), "{path:?}");
            for (batch, partitions) in [(7, 2), (64, 3), (8192, 1)] {
                let got = every_value(&ds, batch, partitions);
                assert!(
                    got == want,
                    "{path:?}, batch {batch}, {partitions} partitions"
                );
                assert_eq!(ds.contradiction(), None);
            }
        }
    }
}

/// A file no longer than its sample is typed from all of it, at open.
#[test]
fn a_csv_within_its_sample_is_read_whole_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.csv");
    std::fs::write(&path, "n,d\n1,2024-01-01\n2,2024-01-02\n").unwrap();
    let ds = FileDataset::open(std::slice::from_ref(&path), &sampled(100)).unwrap();
    assert!(matches!(
        ds.inner.parts[0],
        FilePart::Stream { split: None, .. }
    ));
    assert_eq!(ds.files()[0].rows, Some(2));
}

/// A value after the sample that the sampled types cannot hold stops the
/// scan with an error naming its line and column, and the dataset says
/// so (the check then reads again with exact types); a record of the wrong
/// width is named at the same line as a read from the start names it.
#[test]
fn a_value_after_the_sample_that_contradicts_it_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let text = tricky_csv(3_000, false);
    let line_of = |text: &str, n: u64| {
        let at = text
            .find(&format!("\n{n},"))
            .expect("the record is in the file");
        text[..at].matches('\n').count() + 2
    };
    // An impossible date: `d` would be text had every value been seen.
    let day = 1 + 2222 % 28;
    let bad_date = text.replacen(
        &format!("\n2222,2024-02-{day:02},"),
        "\n2222,2024-02-30,",
        1,
    );
    assert!(bad_date != text, "the date is replaced");
    let path = dir.path().join("bad-date.csv");
    std::fs::write(&path, &bad_date).unwrap();
    let ds = FileDataset::open(std::slice::from_ref(&path), &sampled(100)).unwrap();
    // A scan that does not read `d` has nothing to contradict.
    assert!(scan(&ds, 64, "SELECT count(*), max(n) FROM t").is_ok());
    let err = scan(&ds, 64, "SELECT count(*), max(d) FROM t")
        .unwrap_err()
        .to_string();
    let want = format!(
        "{}:{}: column `d` has a value that is not a date, as the first 100 records had it",
        path.display(),
        line_of(&bad_date, 2222)
    );
    assert!(err.contains(&want), "{err}\nwant: {want}");
    assert_eq!(ds.contradiction().as_deref(), Some(want.as_str()));
    let exact = FileDataset::open(std::slice::from_ref(&path), &ReadOptions::default()).unwrap();
    assert_eq!(exact.schema().field(1).data_type(), &DataType::Utf8View);

    // A column blank in the sample that later holds a number.
    let mut blank = "n,e\n".to_string();
    for i in 0..5000 {
        let e = if i == 4321 {
            "7".to_string()
        } else {
            String::new()
        };
        blank.push_str(&format!("{i},{e}\n"));
    }
    let path = dir.path().join("blank.csv");
    std::fs::write(&path, &blank).unwrap();
    let ds = FileDataset::open(std::slice::from_ref(&path), &sampled(100)).unwrap();
    assert!(scan(&ds, 64, "SELECT count(e) FROM t").is_err());
    let why = ds.contradiction().expect("the sample is contradicted");
    assert!(
        why.ends_with(
            ":4323: column `e` has a value that is not blank, as the first 100 records had it"
        ),
        "{why}"
    );

    // A record of the wrong width: the same error as an exact read's.
    let ragged = text.replacen("\n2500,", "\n2500,extra,", 1);
    assert!(ragged != text, "the record is widened");
    let path = dir.path().join("ragged.csv");
    std::fs::write(&path, &ragged).unwrap();
    let exact_err = FileDataset::open(std::slice::from_ref(&path), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    let ds = FileDataset::open(std::slice::from_ref(&path), &sampled(100)).unwrap();
    let err = scan(&ds, 64, "SELECT count(*) FROM t")
        .unwrap_err()
        .to_string();
    assert!(err.contains(&exact_err), "{err}\nwant: {exact_err}");
    assert!(
        exact_err.contains(&format!(
            ":{}: expected 3 fields, found 4",
            line_of(&ragged, 2500)
        )),
        "{exact_err}"
    );
    assert_eq!(
        ds.contradiction(),
        None,
        "a ragged record is an error, not a contradiction"
    );
}

/// Bytes that are not UTF-8 after a UTF-8 sample contradict the encoding
/// found in it (the exact read makes the file GB18030).
#[test]
fn gb18030_after_a_utf8_sample_contradicts_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("late.csv");
    let mut bytes = b"name,n\n".to_vec();
    for _ in 0..20_000 {
        bytes.extend_from_slice(b"ascii only,1\n");
    }
    bytes.extend_from_slice(&encoding_rs::GB18030.encode("张三,2\n").0);
    std::fs::write(&path, &bytes).unwrap();
    let ds = FileDataset::open(std::slice::from_ref(&path), &sampled(100)).unwrap();
    assert!(scan(&ds, 512, "SELECT count(name) FROM t").is_err());
    let why = ds
        .contradiction()
        .expect("the sampled encoding is contradicted");
    assert!(why.contains(":20002: not valid UTF-8 text"), "{why}");
}

/// A character cut in two by a delimiter is not UTF-8 text, though the
/// record's fields put together are (they are validated as one buffer).
#[test]
fn a_character_cut_by_a_delimiter_is_not_utf8_in_a_sampled_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.csv");
    let mut bytes = b"a,b\n".to_vec();
    for i in 0..5000 {
        bytes.extend_from_slice(format!("{i},名{i}\n").as_bytes());
    }
    // "名" is E5 90 8D: here E5 ends field a and 90 8D starts field b.
    bytes.extend_from_slice(b"\xE5,\x90\x8D\n");
    std::fs::write(&path, &bytes).unwrap();
    let opts = ReadOptions {
        encoding: Some(encoding_rs::UTF_8),
        ..sampled(100)
    };
    let ds = FileDataset::open(std::slice::from_ref(&path), &opts).unwrap();
    let err = scan(&ds, 512, "SELECT count(a), count(b) FROM t")
        .unwrap_err()
        .to_string();
    assert!(err.contains(":5002: not valid UTF-8 text"), "{err}");
    assert_eq!(
        ds.contradiction(),
        None,
        "the encoding was given, not sampled"
    );
}

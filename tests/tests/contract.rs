//! The contract's result semantics (CONTRACT.md, "Result semantics (exact)"),
//! sentence by sentence, on a hand-built dataset whose every count was worked
//! out by hand below. The same rows are then written as CSV (UTF-8 and
//! GB18030), NDJSON, XLSX and Parquet and must give identical results.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::DateTime;
use pdq_tests::{Table, resident_id, uscc, write, write_gb18030};
use pipeline::{CheckOptions, CheckReport, check_paths};
use quality_rules::{RuleFile, Status};

const RULES: &str = r#"
dataset: contract_cases
missing_values: ["无", "NULL"]
key: [id_number]
rules:
  - {id: id_present, dimension: completeness, check: not_null, column: id_number}
  - {id: id_valid, dimension: validity, check: cn_resident_id, column: id_number}
  - {id: id_valid_lower, dimension: validity, check: cn_resident_id, column: id_number, allow_lowercase_x: true}
  - {id: org_valid, dimension: validity, check: cn_uscc, column: credit_code}
  - {id: region, dimension: validity, check: cn_division_code, column: region_code}
  - {id: phone, dimension: validity, check: regex, column: phone, pattern: '^1[3-9]\d{9}$'}
  - {id: sex, dimension: validity, check: in_set, column: sex_code, values: ['0','1','2','9']}
  - {id: amount, dimension: validity, check: range, column: amount, min: 0, max: 10000000, warn_below: 0.99, fail_below: 0.5}
  - {id: id_unique, dimension: uniqueness, check: unique, columns: [id_number]}
  - {id: death_after_birth, dimension: consistency, check: expression, expr: "death_date IS NULL OR death_date >= birth_date"}
  - {id: in_base, dimension: consistency, check: reference, column: id_number, reference: {data: base.csv, column: id_number}}
  - {id: fresh, dimension: timeliness, check: freshness, column: updated_at, max_age: 1d}
  - {id: stale, dimension: timeliness, check: freshness, column: updated_at, max_age: 1h}
  - {id: volume, dimension: completeness, check: row_count, min: 1000}
  - {id: volume_ok, dimension: completeness, check: row_count, min: 1, max: 100}
"#;

const COLUMNS: [&str; 9] = [
    "id_number",
    "credit_code",
    "region_code",
    "phone",
    "sex_code",
    "amount",
    "birth_date",
    "death_date",
    "updated_at",
];

struct Ids {
    v0: String,
    v12: String,
    v13: String,
    v14: String,
    fut: String,
    old: String,
    feb30: String,
    feb29: String,
}

fn ids() -> Ids {
    Ids {
        v0: resident_id("11010519491231002"),
        // 110223 通县 was abolished in 1997: valid for people born up to 1997.
        v12: resident_id("11022319990101001"),
        v13: resident_id("11022319900101001"),
        // 110112 通州区 was created in 1997: numbers are issued at registration.
        v14: resident_id("11011219800101001"),
        fut: resident_id("11010520270101001"),
        old: resident_id("11010518991231001"),
        feb30: resident_id("11010520240230001"),
        feb29: resident_id("11010520240229001"),
    }
}

/// Rows of file a and file b (see the module docs for the counts).
fn tables() -> (Table, Table, Table) {
    let i = ids();
    assert_eq!(i.v0, "11010519491231002X");
    let lower = "11010519491231002x";
    let u_ok = "91350100M000100Y43";
    let org = quality_rules::ids::org_code::check_char(b"12345678").expect("org body") as char;
    let u_ok2 = uscc(&format!("9111010812345678{org}"));
    let u_badorg = uscc("91350100M000100Y5");
    let padded_id = format!(" {} ", i.v0);
    let padded_uscc = format!(" {u_ok}\u{3000}");
    let mut a = Table::new(&COLUMNS);
    let rows_a: Vec<[&str; 9]> = vec![
        [
            &i.v0,
            u_ok,
            "110101",
            "13800138000",
            "1",
            "100",
            "1949-12-31",
            "",
            "2026-11-21 08:00:00",
        ],
        [
            "",
            "",
            "",
            "",
            "",
            "",
            "1950-01-01",
            "1940-01-01",
            "2026-11-20 00:00:00",
        ],
        [
            "\u{3000}",
            " ",
            "\u{3000}",
            "\u{3000}\u{3000}",
            " \u{3000} ",
            "\u{3000}",
            "",
            "1960-01-01",
            "",
        ],
        [
            "无",
            "NULL",
            "无",
            " 无 ",
            "NULL",
            "无",
            "1960-05-05",
            "1960-05-05",
            "",
        ],
        [
            &padded_id,
            &padded_uscc,
            " 110101 ",
            " 13800138000 ",
            " 2 ",
            " 5 ",
            "1970-01-01",
            "",
            "",
        ],
        [
            lower,
            &u_badorg,
            "110223",
            "1380013800",
            "3",
            "-1",
            "1970-01-01",
            "",
            "",
        ],
        [
            "110105194912310021",
            "91350100M000100Y44",
            "999999",
            "12800138000",
            "01",
            "abc",
            "1970-01-01",
            "",
            "",
        ],
        [
            "110105491231002",
            "91350100M0001O0Y43",
            "11010",
            "+8613800138000",
            "9",
            "10000000",
            "1970-01-01",
            "",
            "",
        ],
        [
            &i.feb30,
            "91350100M000100Y4",
            "110112",
            "13900139000",
            "0",
            "10000000.01",
            "1970-01-01",
            "",
            "",
        ],
        [
            &i.fut,
            &u_ok2,
            "110101",
            "13700137000",
            "1",
            "50",
            "1970-01-01",
            "",
            "",
        ],
        [
            &i.old,
            u_ok,
            "110101",
            "13700137000",
            "1",
            "50",
            "1970-01-01",
            "",
            "",
        ],
        [
            &i.v12,
            u_ok,
            "110101",
            "13700137000",
            "1",
            "50",
            "1970-01-01",
            "",
            "",
        ],
        [
            &i.v13,
            u_ok,
            "110101",
            "13700137000",
            "1",
            "50",
            "1970-01-01",
            "",
            "",
        ],
        [
            &i.v14,
            u_ok,
            "110101",
            "13700137000",
            "1",
            "50",
            "1970-01-01",
            "",
            "",
        ],
        [
            &i.feb29,
            u_ok,
            "110101",
            "13700137000",
            "1",
            "50",
            "1970-01-01",
            "",
            "",
        ],
    ];
    for cells in &rows_a {
        a.row(&blank_to_null(cells.iter().map(|c| Some(*c)).collect()));
    }
    let mut b = Table::new(&COLUMNS);
    for id in [i.v0.as_str(), i.v13.as_str(), lower] {
        let cells = [
            id,
            u_ok,
            "110101",
            "13700137000",
            "1",
            "50",
            "1970-01-01",
            "",
            "",
        ];
        b.row(&blank_to_null(cells.iter().map(|c| Some(*c)).collect()));
    }
    let mut base = Table::new(&["id_number"]);
    for id in [&i.v0, &i.v13, &i.v14, &i.feb29] {
        base.row(&[Some(id.as_str())]);
    }
    (a, b, base)
}

/// Empty cells are NULL in typed formats; CSV writes both as an empty field.
fn blank_to_null(cells: Vec<Option<&str>>) -> Vec<Option<&str>> {
    cells
        .into_iter()
        .map(|c| c.filter(|s| !s.is_empty()))
        .collect()
}

fn as_of() -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-22T00:00:00+08:00").expect("as-of")
}

fn run(dir: &Path, data: Vec<PathBuf>, failed_rows: Option<PathBuf>) -> CheckReport {
    run_on(dir, data, failed_rows, pipeline::check::Engine::Embedded)
}

fn run_on(
    dir: &Path,
    data: Vec<PathBuf>,
    failed_rows: Option<PathBuf>,
    engine: pipeline::check::Engine,
) -> CheckReport {
    let rules_path = write(dir, "rules.yaml", RULES);
    let rules = RuleFile::load(&rules_path).expect("rules parse");
    let mut opts = CheckOptions::new(as_of());
    opts.failed_rows_dir = failed_rows;
    opts.engine = engine;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(check_paths(&data, &rules, &opts))
        .expect("check runs")
}

fn counts(report: &CheckReport) -> BTreeMap<String, (u64, u64, Status)> {
    report
        .results
        .iter()
        .map(|r| (r.id.clone(), (r.evaluated, r.failed, r.status)))
        .collect()
}

fn expected() -> BTreeMap<String, (u64, u64, Status)> {
    use Status::*;
    [
        ("id_present", (18, 3, Fail)),
        ("id_valid", (15, 8, Fail)),
        ("id_valid_lower", (15, 6, Fail)),
        ("org_valid", (15, 4, Fail)),
        ("region", (15, 2, Fail)),
        ("phone", (15, 3, Fail)),
        ("sex", (15, 2, Fail)),
        ("amount", (15, 3, Warn)),
        ("id_unique", (15, 6, Fail)),
        ("death_after_birth", (17, 1, Fail)),
        ("in_base", (15, 9, Fail)),
        ("fresh", (1, 0, Pass)),
        ("stale", (1, 1, Fail)),
        ("volume", (1, 1, Fail)),
        ("volume_ok", (1, 0, Pass)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

fn setup_csv(dir: &Path) -> PathBuf {
    let (a, b, base) = tables();
    write(dir, "base.csv", &base.to_csv());
    write(dir, "data/a.csv", &a.to_csv());
    write(dir, "data/b.csv", &b.to_csv());
    dir.join("data")
}

#[test]
fn every_sentence_of_the_contract_on_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = setup_csv(dir.path());
    let failed_dir = dir.path().join("failed");
    let report = run(dir.path(), vec![data], Some(failed_dir.clone()));
    assert_eq!(report.rows, 18);
    let got = counts(&report);
    let want = expected();
    assert_eq!(got, want, "\nexpected:\n{want:#?}\nactual:\n{got:#?}");
    assert!(report.has_failures());

    // pass_rate = (evaluated - failed) / evaluated, published rounded down.
    let amount = report
        .results
        .iter()
        .find(|r| r.id == "amount")
        .expect("amount");
    assert_eq!(amount.pass_rate, 0.8);
    let id_valid = report
        .results
        .iter()
        .find(|r| r.id == "id_valid")
        .expect("id_valid");
    assert_eq!(id_valid.pass_rate, 0.466666);

    // Samples: first failures in (file, row) order, masked, at most 10.
    let rows: Vec<(String, u64)> = id_valid
        .samples
        .iter()
        .map(|s| {
            (
                Path::new(&s.file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
                s.row,
            )
        })
        .collect();
    let want_rows: Vec<(String, u64)> = [
        ("a.csv", 5),
        ("a.csv", 6),
        ("a.csv", 7),
        ("a.csv", 8),
        ("a.csv", 9),
        ("a.csv", 10),
        ("a.csv", 11),
        ("b.csv", 2),
    ]
    .iter()
    .map(|(f, r)| (f.to_string(), *r))
    .collect();
    assert_eq!(rows, want_rows);
    assert_eq!(
        id_valid.samples[0].value.as_deref(),
        Some("1101**********002x")
    );
    let dup = report
        .results
        .iter()
        .find(|r| r.id == "id_unique")
        .expect("unique");
    assert_eq!(dup.samples.len(), 6);
    assert_eq!(dup.samples[0].row, 0);
    assert_eq!(dup.samples[0].value.as_deref(), Some("1101**********002X"));
    let fresh = report
        .results
        .iter()
        .find(|r| r.id == "fresh")
        .expect("fresh");
    assert!(
        fresh
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("2026-11-21 08:00:00 +08:00"),
        "{:?}",
        fresh.detail
    );

    // No full identifier in the published JSON.
    let json = report.to_json();
    for id in [ids().v0, ids().v13, ids().fut] {
        assert!(!json.contains(&id), "{id} leaked into the JSON");
    }
    // Nor any full identifier in another written form.
    let leaks: Vec<String> = pipeline::leak::LeakScanner::new()
        .scan_text("contract_cases.json", &json)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(
        leaks.is_empty(),
        "identifiers in the published JSON: {leaks:?}"
    );

    // Failed rows: every failing row, unmasked, with rule id, file, row and key.
    let file = std::fs::File::open(failed_dir.join("contract_cases.failed_rows.parquet"))
        .expect("failed rows written");
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader");
    let mut per_rule: BTreeMap<String, u64> = BTreeMap::new();
    let mut saw_unmasked = false;
    for batch in reader {
        let batch = batch.expect("batch");
        let rule = batch
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .expect("rule_id");
        let value = batch
            .column(6)
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .expect("value");
        for k in 0..batch.num_rows() {
            *per_rule.entry(rule.value(k).to_string()).or_default() += 1;
            saw_unmasked |= value.value(k) == "11010519491231002x";
        }
    }
    for (id, (_, failed, _)) in &want {
        if !["fresh", "stale", "volume", "volume_ok"].contains(&id.as_str()) {
            assert_eq!(
                per_rule.get(id).copied().unwrap_or(0),
                *failed,
                "failed rows of {id}"
            );
        }
    }
    assert!(saw_unmasked, "failed rows keep the raw value");
}

/// (rule, evaluated, failed, sample locations by file stem).
type Fingerprint = Vec<(String, u64, u64, Vec<(String, u64)>)>;

fn fingerprint(report: &CheckReport) -> Fingerprint {
    report
        .results
        .iter()
        .map(|r| {
            let s = r
                .samples
                .iter()
                .map(|s| {
                    (
                        Path::new(&s.file)
                            .file_stem()
                            .unwrap()
                            .to_string_lossy()
                            .into_owned(),
                        s.row,
                    )
                })
                .collect();
            (r.id.clone(), r.evaluated, r.failed, s)
        })
        .collect()
}

#[test]
fn same_data_in_every_format_gives_identical_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b, base) = tables();
    write(dir.path(), "base.csv", &base.to_csv());
    let csv = run(dir.path(), vec![setup_csv(dir.path())], None);

    let gb = dir.path().join("gb");
    std::fs::create_dir_all(&gb).expect("mkdir");
    write_gb18030(&gb.join("a.csv"), &a.to_csv());
    write_gb18030(&gb.join("b.csv"), &b.to_csv());
    let gb18030 = run(dir.path(), vec![gb], None);

    let nd = dir.path().join("nd");
    write(&nd, "a.ndjson", &a.to_ndjson());
    write(&nd, "b.ndjson", &b.to_ndjson());
    let ndjson = run(dir.path(), vec![nd], None);

    let xl = dir.path().join("xl");
    std::fs::create_dir_all(&xl).expect("mkdir");
    a.write_xlsx(&xl.join("a.xlsx"));
    b.write_xlsx(&xl.join("b.xlsx"));
    let xlsx = run(dir.path(), vec![xl], None);

    let pq = dir.path().join("pq");
    std::fs::create_dir_all(&pq).expect("mkdir");
    a.write_parquet(&pq.join("a.parquet"));
    b.write_parquet(&pq.join("b.parquet"));
    let parquet = run(
        dir.path(),
        vec![pq.join("a.parquet"), pq.join("b.parquet")],
        None,
    );

    let want = fingerprint(&csv);
    assert_eq!(counts(&csv), expected());
    for (name, other) in [
        ("gb18030", &gb18030),
        ("ndjson", &ndjson),
        ("xlsx", &xlsx),
        ("parquet", &parquet),
    ] {
        assert_eq!(fingerprint(other), want, "{name} differs from UTF-8 CSV");
    }
}

/// `unique` keeps its key hashes within `--memory-limit`: under a limit far
/// below what 300,000 hashes need, it spills sorted runs and still counts
/// every copy of every repeated key, with the same samples.
#[test]
fn unique_under_a_small_memory_limit_counts_the_same() {
    // 299,000 distinct keys; keys 0..1,000 occur again at the end.
    // 1 MiB holds two 64K-hash blocks at most: the partitions must spill
    // (the 1,000 candidate keys then fit the confirming sort).
    let runs = check_unique_keys(300_000, |i| i % 299_000, &[2 << 30, 1 << 20]);
    let roomy = &runs[0];
    assert_eq!((roomy.0, roomy.1), (300_000, 2_000));
    assert_eq!(roomy.2.len(), 10);
    assert_eq!(roomy.2[0].row, 0);
    assert_eq!(&runs[1], roomy);
}

/// The rule file `dataset: keys` with one `unique` rule `u` on
/// `id_number` (written in `dir`), and a two-thread runtime to check it on.
fn unique_rule_and_runtime(dir: &Path) -> (RuleFile, tokio::runtime::Runtime) {
    let rules_path = write(
        dir,
        "unique.yaml",
        "dataset: keys\nrules:\n  - {id: u, dimension: uniqueness, check: unique, columns: [id_number]}\n",
    );
    let rules = RuleFile::load(&rules_path).expect("rules parse");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    (rules, rt)
}

/// Checks `rows` rows whose key of row `i` is number `key(i)`, with one
/// `unique` rule, under each memory limit; returns (evaluated, failed,
/// samples) per limit.
fn check_unique_keys(
    rows: u64,
    key: impl Fn(u64) -> u64,
    limits: &[usize],
) -> Vec<(u64, u64, Vec<pipeline::model::Sample>)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut csv = String::from("id_number,name\n");
    for i in 0..rows {
        csv.push_str(&format!("K{:017},n{i}\n", key(i)));
    }
    let data = write(dir.path(), "keys.csv", &csv);
    let (rules, rt) = unique_rule_and_runtime(dir.path());
    limits
        .iter()
        .map(|&limit| {
            let mut opts = CheckOptions::new(as_of());
            opts.memory_limit = limit;
            let report = rt
                .block_on(check_paths(std::slice::from_ref(&data), &rules, &opts))
                .unwrap_or_else(|e| panic!("check under {limit} bytes: {e}"));
            let r = report.results.into_iter().next().expect("one result");
            (r.evaluated, r.failed, r.samples)
        })
        .collect()
}

/// `unique` over keys with an exact code (18 digits, as ID numbers) counts
/// from the codes and reads only the first samples; keys that are hashed
/// ("K" and 17 digits) are confirmed by sorting the real keys. Both must give
/// the same counts and the same sample rows, over two files whose
/// duplicates cross from one file into the other, and the same failed rows.
#[test]
fn exact_and_hashed_keys_give_the_same_counts_samples_and_failed_rows() {
    // 60,000 rows in two files of 30,000. The first file's keys are its row
    // numbers; the second file's first 5,000 rows repeat the odd keys
    // 20,001..29,999 of the first file, the rest are new. So the first
    // duplicates in file order are late in the first file, while the
    // second file's partition finds its duplicates at once.
    let key = |i: u64| {
        if i < 30_000 {
            i
        } else {
            (i - 30_000) * 2 + 20_001
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (rules, rt) = unique_rule_and_runtime(dir.path());
    let mut outcomes = vec![];
    for (shape, format) in [
        ("exact", (|k: u64| format!("{k:018}")) as fn(u64) -> String),
        ("hashed", |k: u64| format!("K{k:017}")),
    ] {
        let sub = dir.path().join(shape);
        std::fs::create_dir_all(&sub).expect("dir");
        let mut files = vec![];
        for (f, range) in [(0u64, 0..30_000u64), (1, 30_000..60_000)] {
            let mut csv = String::from("id_number\n");
            for i in range {
                csv.push_str(&format!("{}\n", format(key(i))));
            }
            files.push(write(&sub, &format!("part{f}.csv"), &csv));
        }
        let failed_dir = sub.join("failed");
        let mut opts = CheckOptions::new(as_of());
        opts.failed_rows_dir = Some(failed_dir.clone());
        let with_rows = rt
            .block_on(check_paths(&files, &rules, &opts))
            .unwrap_or_else(|e| panic!("{shape}: {e}"));
        opts.failed_rows_dir = None;
        let without = rt
            .block_on(check_paths(&files, &rules, &opts))
            .unwrap_or_else(|e| panic!("{shape}: {e}"));
        let (a, b) = (&with_rows.results[0], &without.results[0]);
        assert_eq!((a.evaluated, a.failed), (b.evaluated, b.failed), "{shape}");
        let at = |r: &pipeline::model::RuleResult| -> Vec<(String, u64)> {
            r.samples
                .iter()
                .map(|s| {
                    let name = Path::new(&s.file).file_name().expect("a file name");
                    (name.to_string_lossy().into_owned(), s.row)
                })
                .collect()
        };
        assert_eq!(
            at(a),
            at(b),
            "{shape}: samples with and without failed rows"
        );
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            std::fs::File::open(failed_dir.join("keys.failed_rows.parquet")).expect("failed rows"),
        )
        .expect("parquet")
        .build()
        .expect("reader");
        let written: usize = reader.map(|b| b.expect("batch").num_rows()).sum();
        outcomes.push((b.evaluated, b.failed, written as u64, at(b)));
    }
    let mut counts = std::collections::HashMap::new();
    for i in 0..60_000 {
        *counts.entry(key(i)).or_insert(0) += 1;
    }
    let expected_first: Vec<(String, u64)> = (0..60_000u64)
        .filter(|&i| counts[&key(i)] > 1)
        .take(10)
        .map(|i| (format!("part{}.csv", i / 30_000), i % 30_000))
        .collect();
    assert_eq!(expected_first[0], ("part0.csv".to_string(), 20_001));
    assert_eq!(outcomes[0].0, 60_000);
    assert_eq!(outcomes[0].1, 10_000, "5,000 keys twice");
    assert_eq!(outcomes[0].2, 10_000, "every failed row written");
    assert_eq!(outcomes[0].3, expected_first);
    assert_eq!(outcomes[1], outcomes[0]);
}

/// Many duplicates under a small `--memory-limit`: 100,000 keys that each
/// occur twice. The confirming pass sorts the candidate rows, spilling to
/// disk, instead of holding them (or a hash table of them) in memory.
#[test]
fn many_duplicates_under_a_small_memory_limit_count_the_same() {
    let runs = check_unique_keys(200_000, |i| (i * 7919) % 100_000, &[2 << 30, 4 << 20]);
    let roomy = &runs[0];
    assert_eq!((roomy.0, roomy.1), (200_000, 200_000));
    let rows: Vec<u64> = roomy.2.iter().map(|s| s.row).collect();
    assert_eq!(
        rows,
        (0..10).collect::<Vec<u64>>(),
        "first samples in file order"
    );
    assert_eq!(&runs[1], roomy);
}

/// When even the candidate hashes would take more than a quarter of the
/// limit (300,000 repeated keys, 2.4 MB, under 8 MiB), every evaluated row
/// is sorted instead, spilling, with the same counts and samples.
#[test]
fn too_many_candidates_for_the_limit_sort_every_row() {
    let runs = check_unique_keys(600_000, |i| (i * 7919) % 300_000, &[2 << 30, 8 << 20]);
    assert_eq!((runs[0].0, runs[0].1), (600_000, 600_000));
    assert_eq!(runs[1], runs[0]);
}

/// Every row of a failed-rows file, as text, sorted (row-level rules write
/// in partition order, which is not fixed).
#[cfg(feature = "ballista")]
fn failed_rows_of(path: &Path) -> Vec<Vec<String>> {
    use arrow::util::display::array_value_to_string;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("parquet")
    .build()
    .expect("reader");
    let mut rows = vec![];
    for batch in reader {
        let batch = batch.expect("batch");
        for i in 0..batch.num_rows() {
            rows.push(
                batch
                    .columns()
                    .iter()
                    .map(|c| array_value_to_string(c, i).expect("text"))
                    .collect(),
            );
        }
    }
    rows.sort();
    rows
}

#[cfg(feature = "ballista")]
fn standalone() -> pipeline::check::Engine {
    pipeline::check::Engine::Ballista {
        scheduler: pipeline::check::Scheduler::Standalone,
        staging: None,
        stall_timeout_secs: pipeline::check::DEFAULT_STALL_TIMEOUT_SECS,
    }
}

/// Issue #22: the contract suite on an in-process Ballista cluster
/// (scheduler and executor in this process) gives the embedded engine's
/// results rule by rule — the whole RuleResult JSON: counts, pass rate,
/// status, samples and details — and the same failed rows, from CSV and
/// from Parquet.
#[cfg(feature = "ballista")]
#[test]
fn issue_22_ballista_standalone_gives_the_embedded_results() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = setup_csv(dir.path());
    let (a, b, _) = tables();
    let pq = dir.path().join("pq");
    std::fs::create_dir_all(&pq).expect("mkdir");
    a.write_parquet(&pq.join("a.parquet"));
    b.write_parquet(&pq.join("b.parquet"));
    for (name, data) in [("csv", vec![csv]), ("parquet", vec![pq])] {
        let failed_e = dir.path().join(format!("failed-embedded-{name}"));
        let failed_b = dir.path().join(format!("failed-ballista-{name}"));
        let embedded = run(dir.path(), data.clone(), Some(failed_e.clone()));
        let ballista = run_on(
            dir.path(),
            data.clone(),
            Some(failed_b.clone()),
            standalone(),
        );
        assert_eq!(counts(&embedded), expected(), "{name}: embedded");
        assert_eq!(ballista.rows, embedded.rows, "{name}: rows");
        assert_eq!(ballista.files, embedded.files, "{name}: files");
        assert_eq!(ballista.results.len(), embedded.results.len());
        for (e, b) in embedded.results.iter().zip(&ballista.results) {
            assert_eq!(
                serde_json::to_value(b).expect("json"),
                serde_json::to_value(e).expect("json"),
                "{name}: rule `{}` on Ballista differs from embedded",
                e.id
            );
        }
        let file = "contract_cases.failed_rows.parquet";
        let rows = failed_rows_of(&failed_e.join(file));
        assert!(!rows.is_empty());
        assert_eq!(
            failed_rows_of(&failed_b.join(file)),
            rows,
            "{name}: failed rows"
        );
        // Without failed rows, the samples come from the first rows only.
        let quick = run_on(dir.path(), data, None, standalone());
        assert_eq!(
            serde_json::to_value(&quick.results).expect("json"),
            serde_json::to_value(&embedded.results).expect("json"),
            "{name}: without failed rows"
        );
    }
}

/// Issue #22: `unique` on Ballista (grouped by the real key, exact) over
/// two files whose duplicates cross from one into the other, with exact
/// and hashed key shapes: the embedded engine's counts and samples.
#[cfg(feature = "ballista")]
#[test]
fn issue_22_ballista_unique_across_files_equals_embedded() {
    let key = |i: u64| {
        if i < 30_000 {
            i
        } else {
            (i - 30_000) * 2 + 20_001
        }
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let (rules, rt) = unique_rule_and_runtime(dir.path());
    for (shape, format) in [
        ("exact", (|k: u64| format!("{k:018}")) as fn(u64) -> String),
        ("hashed", |k: u64| format!("K{k:017}")),
    ] {
        let sub = dir.path().join(shape);
        std::fs::create_dir_all(&sub).expect("dir");
        let mut files = vec![];
        for (f, range) in [(0u64, 0..30_000u64), (1, 30_000..60_000)] {
            let mut csv = String::from("id_number\n");
            for i in range {
                csv.push_str(&format!("{}\n", format(key(i))));
            }
            files.push(write(&sub, &format!("part{f}.csv"), &csv));
        }
        let mut opts = CheckOptions::new(as_of());
        let embedded = rt
            .block_on(check_paths(&files, &rules, &opts))
            .unwrap_or_else(|e| panic!("{shape}: {e}"));
        opts.engine = standalone();
        let ballista = rt
            .block_on(check_paths(&files, &rules, &opts))
            .unwrap_or_else(|e| panic!("{shape} on ballista: {e}"));
        let (e, b) = (&embedded.results[0], &ballista.results[0]);
        assert_eq!((e.evaluated, e.failed), (60_000, 10_000), "{shape}");
        assert_eq!(
            serde_json::to_value(b).expect("json"),
            serde_json::to_value(e).expect("json"),
            "{shape}"
        );
    }
}

/// Issue #22: a scheduler that does not answer is a one-line error naming
/// the dataset, never a silent run on the embedded engine.
#[cfg(feature = "ballista")]
#[test]
fn issue_22_an_unreachable_scheduler_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = setup_csv(dir.path());
    let rules = RuleFile::load(&write(dir.path(), "rules.yaml", RULES)).expect("rules");
    let mut opts = CheckOptions::new(as_of());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    opts.engine = pipeline::check::Engine::Ballista {
        scheduler: pipeline::check::Scheduler::Remote(format!("df://127.0.0.1:{port}")),
        staging: None,
        stall_timeout_secs: pipeline::check::DEFAULT_STALL_TIMEOUT_SECS,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let e = rt
        .block_on(check_paths(&[data], &rules, &opts))
        .expect_err("no scheduler there");
    let text = e.to_string();
    assert!(text.contains("contract_cases"), "{text}");
    assert!(
        text.contains(&format!(
            "scheduler df://127.0.0.1:{port} cannot be reached"
        )),
        "{text}"
    );
    assert!(!text.contains('\n'), "{text}");
}

/// Issue #24, 1: a large CSV is typed from its first records and read once;
/// one impossible date after that sample would have kept the column as
/// text had every value been seen, so the check runs again with types from
/// every value and gives exactly that: the date counted and failed, not an
/// error and not a NULL.
#[test]
fn a_late_value_that_contradicts_the_sample_gives_the_results_of_a_full_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = 70_000u64; // more than the 65,536 records of the sample
    let bad = 69_000u64;
    let mut csv = String::from("n,d\n");
    for i in 0..rows {
        let d = if i == bad {
            "2023-02-30".to_string()
        } else {
            format!("2020-01-{:02}", 1 + i % 28)
        };
        csv.push_str(&format!("{i},{d}\n"));
    }
    let data = write(dir.path(), "late.csv", &csv);
    let rules_path = write(
        dir.path(),
        "late.yaml",
        "dataset: late\nrules:\n  - {id: r, dimension: validity, check: range, column: d, min: '2000-01-01', max: '2026-12-31'}\n",
    );
    let rules = RuleFile::load(&rules_path).expect("rules parse");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let report = rt
        .block_on(check_paths(&[data], &rules, &CheckOptions::new(as_of())))
        .expect("the check runs again with exact types");
    let r = &report.results[0];
    assert_eq!((r.evaluated, r.failed), (rows, 1));
    assert_eq!(r.samples.len(), 1);
    assert_eq!(r.samples[0].row, bad);
}

//! Landing deliveries into the lake: formats, quarantine, row accounting,
//! idempotence and recovery from interrupted runs. Servers (PostgreSQL,
//! MariaDB, S3) are in `landing_servers.rs`.

use std::path::Path;

use arrow::array::RecordBatch;
use pipeline::land::{
    DatasetDef, DeliveryStatus, Lake, LakeConfig, LandOptions, land_dataset, load_dataset,
    read_ledger,
};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Rows of a query as text, `|`-joined, NULL as `∅`.
fn rows(batches: &[RecordBatch]) -> Vec<String> {
    pdq_tests::rows_as_text(batches)
}

fn query(lake: &Lake, tables: &[(&str, &str)], sql: &str) -> Vec<String> {
    rows(&rt().block_on(lake.sql(tables, sql)).unwrap())
}

fn write_def(ws: &Path, dept: &str, name: &str, toml: &str) -> DatasetDef {
    let dir = ws.join("datasets").join(dept);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, toml).unwrap();
    load_dataset(&path).unwrap()
}

fn open_lake(ws: &Path) -> Lake {
    Lake::open(&LakeConfig::default(), ws).unwrap()
}

fn opts(ws: &Path) -> LandOptions {
    LandOptions {
        base_dir: ws.to_path_buf(),
        batch_rows: 3, // several batches even for small files
        ..LandOptions::default()
    }
}

const PEOPLE_COLUMNS: &str = r#"
[[columns]]
name = "id"
source = "编号"
type = "int64"
nullable = false
[[columns]]
name = "name"
source = "姓名"
type = "string"
[[columns]]
name = "id_number"
source = "身份证号"
type = "string"
[[columns]]
name = "birth_date"
source = "出生日期"
type = "date"
[[columns]]
name = "amount"
source = "金额"
type = "decimal(18,2)"
"#;

/// A CSV with everything awkward a department sends: quoted delimiters,
/// doubled quotes, an embedded newline, a 15-digit ID and a code with a
/// leading zero that must stay text.
const PEOPLE_CSV: &str = "编号,姓名,身份证号,出生日期,金额\n\
1,张三,110101199003071234,1990-03-07,12.50\n\
2,\"王,五\",110101900307123,1990/03/07,3\n\
3,\"说\"\"明\"\"\",0012,,\n\
4,\"多\n行\",11010119900307123X,1990年3月7日,-0.5\n";

fn people_def(ws: &Path, name: &str, path: &str, extra: &str) -> DatasetDef {
    write_def(
        ws,
        "gongan",
        name,
        &format!(
            "mode = \"full\"\n[source]\nkind = \"file\"\npath = \"{path}\"\n{extra}\n{PEOPLE_COLUMNS}"
        ),
    )
}

fn expected_people() -> Vec<String> {
    vec![
        "1|张三|110101199003071234|1990-03-07|12.50".to_string(),
        "2|王,五|110101900307123|1990-03-07|3.00".to_string(),
        "3|说\"明\"|0012|∅|∅".to_string(),
        "4|多\n行|11010119900307123X|1990-03-07|-0.50".to_string(),
    ]
}

#[test]
fn csv_encodings_and_line_endings_land_identically() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    let (gb, _, _) = encoding_rs::GB18030.encode(PEOPLE_CSV);
    std::fs::write(ws.join("in/gb18030.csv"), &gb).unwrap();
    std::fs::write(
        ws.join("in/bom.csv"),
        [b"\xEF\xBB\xBF".as_slice(), PEOPLE_CSV.as_bytes()].concat(),
    )
    .unwrap();
    std::fs::write(
        ws.join("in/crlf.csv"),
        PEOPLE_CSV
            .replace('\n', "\r\n")
            .replace("多\r\n行", "多\n行"),
    )
    .unwrap();
    let lake = open_lake(ws);
    for name in ["gb18030", "bom", "crlf"] {
        let def = people_def(ws, name, &format!("in/{name}.csv"), "");
        let records = rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap();
        assert_eq!(records.len(), 1, "{name}");
        assert_eq!(
            (
                records[0].rows_read,
                records[0].rows_landed,
                records[0].rows_quarantined
            ),
            (4, 4, 0),
            "{name}"
        );
        let got = query(
            &lake,
            &[("t", &def.data_path())],
            "SELECT id, name, id_number, birth_date, amount FROM t ORDER BY id",
        );
        assert_eq!(got, expected_people(), "{name}");
    }
    // A forced wrong encoding is not silently accepted: read as UTF-8, the
    // GB18030 header matches no declared column, and the error says so.
    let def = people_def(ws, "forced", "in/gb18030.csv", "encoding = \"utf-8\"");
    let e = rt()
        .block_on(land_dataset(&lake, &def, &opts(ws)))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gb18030.csv") && e.contains("no column `编号`"),
        "{e}"
    );
    // With the header right but GB18030 bytes in the rows, those rows are
    // quarantined, not landed mangled.
    let mut mixed = b"id,name\n1,ok\n".to_vec();
    mixed.extend_from_slice(&encoding_rs::GB18030.encode("2,张三\n").0);
    std::fs::write(ws.join("in/mixed.csv"), mixed).unwrap();
    let def = write_def(
        ws,
        "gongan",
        "mixed",
        "[source]\nkind = \"file\"\npath = \"in/mixed.csv\"\nencoding = \"utf-8\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n[[columns]]\nname = \"name\"\ntype = \"string\"\n",
    );
    let r = &rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap()[0];
    assert_eq!((r.rows_read, r.rows_landed, r.rows_quarantined), (2, 1, 1));
    let q = query(
        &lake,
        &[("q", &def.quarantine_path())],
        "SELECT \"row\", reason FROM q",
    );
    assert_eq!(q, vec!["1|bytes that are not valid UTF-8 text"]);
    // A character cut in two by a delimiter: the record's bytes taken
    // together are valid UTF-8 (中 = E4 B8 AD), its fields are not. Short
    // records and ones long enough for the SIMD validator (64 bytes and
    // more) are both quarantined, the rows around them land.
    let long = "长".repeat(30);
    let mut cut = format!("id,a,b\n1,x,{long}\n").into_bytes();
    cut.extend_from_slice(b"2,\xE4\xB8,\xAD\n");
    cut.extend_from_slice(format!("3,{long}").as_bytes());
    cut.extend_from_slice(b"\xE4\xB8,\xAD");
    cut.extend_from_slice(format!("{long}\n4,中,{long}\n").as_bytes());
    std::fs::write(ws.join("in/cut.csv"), cut).unwrap();
    let def = write_def(
        ws,
        "gongan",
        "cut",
        "[source]\nkind = \"file\"\npath = \"in/cut.csv\"\nencoding = \"utf-8\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n[[columns]]\nname = \"a\"\ntype = \"string\"\n[[columns]]\nname = \"b\"\ntype = \"string\"\n",
    );
    let r = &rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap()[0];
    assert_eq!((r.rows_read, r.rows_landed, r.rows_quarantined), (4, 2, 2));
    let q = query(
        &lake,
        &[("q", &def.quarantine_path())],
        "SELECT \"row\", reason FROM q ORDER BY \"row\"",
    );
    assert_eq!(
        q,
        vec![
            "1|bytes that are not valid UTF-8 text",
            "2|bytes that are not valid UTF-8 text"
        ]
    );
    let got = query(
        &lake,
        &[("t", &def.data_path())],
        "SELECT id, a, length(b) FROM t ORDER BY id",
    );
    assert_eq!(got, vec!["1|x|30".to_string(), "4|中|30".to_string()]);
}

#[test]
fn bad_rows_are_quarantined_with_line_reason_and_raw_record() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    let csv = "编号,姓名,身份证号,出生日期,金额\r\n\
1,张三,110101199003071234,1990-03-07,12.50\r\n\
2,李四,11010119900307123X,2023-02-30,3\r\n\
3,王五,110101900307123,1990-03-07,\"12,5\"\r\n\
4,赵六,110101199003071234\r\n\
\r\n\
,钱七,110101199003071234,1990-03-07,7.25\r\n\
6,孙八,110101199003071234,1990-03-07,1.234\r\n\
7,周九,110101199003071234,1990-03-07,7\r\n";
    std::fs::write(ws.join("in/p.csv"), encoding_rs::GB18030.encode(csv).0).unwrap();
    let def = people_def(ws, "p", "in/p.csv", "");
    let lake = open_lake(ws);
    let r = &rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap()[0];
    assert_eq!((r.rows_read, r.rows_landed, r.rows_quarantined), (7, 2, 5));
    let landed = query(
        &lake,
        &[("t", &def.data_path())],
        "SELECT id, _pdq_row FROM t ORDER BY id",
    );
    assert_eq!(
        landed,
        vec!["1|0", "7|6"],
        "lineage: each row's 0-based record index (header and blank lines are not records)"
    );
    let q = query(
        &lake,
        &[("q", &def.quarantine_path())],
        "SELECT \"row\", \"column\", raw_value, reason FROM q ORDER BY \"row\"",
    );
    assert_eq!(
        q,
        vec![
            "1|birth_date|2023-02-30|`birth_date`: `2023-02-30` is not a date (YYYY-MM-DD)",
            "2|amount|12,5|`amount`: `12,5` is not a decimal number within the declared precision and scale",
            "3||4,赵六,110101199003071234|expected 5 fields, found 3",
            "4|id|∅|`id` is required but empty",
            "5|amount|1.234|`amount`: `1.234` is not a decimal number within the declared precision and scale",
        ]
    );
    // The raw record is kept whole, so nothing is lost.
    let rec = query(
        &lake,
        &[("q", &def.quarantine_path())],
        "SELECT record FROM q WHERE \"row\" = 1",
    );
    let v: serde_json::Value = serde_json::from_str(&rec[0]).unwrap();
    assert_eq!(v["name"], "李四");
    assert_eq!(v["id_number"], "11010119900307123X");
    // The ledger accounts for every row.
    let ledger = rt().block_on(read_ledger(&lake, Some(&def.id()))).unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(
        ledger[0].rows_read,
        ledger[0].rows_landed + ledger[0].rows_quarantined
    );
}

#[test]
fn ndjson_bad_line_is_quarantined_and_the_rest_lands() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(
        ws.join("in/p.ndjson"),
        "{\"编号\": 1, \"姓名\": \"张三\", \"身份证号\": \"110101199003071234\", \"出生日期\": \"1990-03-07\", \"金额\": 12.5}\n\
         {\"编号\": 2, \"姓名\": \"李四\", \"身份证号\": \"11010119900307123X\"\n\
         \n\
         [1, 2]\n\
         {\"编号\": 3, \"姓名\": null, \"身份证号\": 110101900307123, \"金额\": \"7\"}\n",
    )
    .unwrap();
    let def = people_def(ws, "j", "in/p.ndjson", "");
    let lake = open_lake(ws);
    let r = &rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap()[0];
    assert_eq!((r.rows_read, r.rows_landed, r.rows_quarantined), (4, 2, 2));
    assert_eq!(
        query(
            &lake,
            &[("t", &def.data_path())],
            "SELECT id, name, id_number, birth_date, amount, _pdq_row FROM t ORDER BY id"
        ),
        vec![
            "1|张三|110101199003071234|1990-03-07|12.50|0",
            "3|∅|110101900307123|∅|7.00|3"
        ]
    );
    let q = query(
        &lake,
        &[("q", &def.quarantine_path())],
        "SELECT \"row\", substr(reason, 1, 13) FROM q ORDER BY \"row\"",
    );
    assert_eq!(q, vec!["1|invalid JSON:", "2|expected a JS"]);
}

#[test]
fn xlsx_with_dates_serials_and_a_merged_header() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("户籍").unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    // Row 1: a title; row 2: merged group headers; row 3: sub-headers.
    sheet.write(0, 0, "2026年户籍人口（仅供测试）").unwrap();
    sheet.write(1, 0, "编号").unwrap();
    sheet.write(1, 1, "姓名").unwrap();
    sheet
        .merge_range(1, 2, 1, 3, "联系方式", &Format::new())
        .unwrap();
    sheet.write(1, 4, "出生日期").unwrap();
    sheet.write(2, 2, "电话").unwrap();
    sheet.write(2, 3, "地址").unwrap();
    sheet.write(3, 0, 1).unwrap();
    sheet.write(3, 1, "张三 ").unwrap();
    sheet.write(3, 2, "13800138000").unwrap();
    sheet.write(3, 3, "北京市东城区").unwrap();
    sheet
        .write_datetime_with_format(3, 4, ExcelDateTime::from_ymd(1990, 3, 7).unwrap(), &date)
        .unwrap();
    // A blank row, then a date typed as a bare serial number.
    sheet.write(5, 0, 2).unwrap();
    sheet.write(5, 1, "李四").unwrap();
    sheet.write(5, 4, 32939).unwrap(); // 1990-03-07
    sheet.write(6, 0, 3).unwrap();
    sheet.write(6, 4, "不详").unwrap();
    book.save(ws.join("in/p.xlsx")).unwrap();
    let def = write_def(
        ws,
        "gongan",
        "x",
        r#"
[source]
kind = "file"
path = "in/p.xlsx"
sheet = "户籍"
header_rows = 2
[[columns]]
name = "id"
source = "编号"
type = "int64"
[[columns]]
name = "name"
source = "姓名"
type = "string"
[[columns]]
name = "phone"
source = "联系方式/电话"
type = "string"
[[columns]]
name = "address"
source = "联系方式/地址"
type = "string"
[[columns]]
name = "birth_date"
source = "出生日期"
type = "date"
"#,
    );
    let lake = open_lake(ws);
    let mut o = opts(ws);
    o.batch_rows = 100;
    // A title above the table: the first non-blank row is not the header,
    // and the error says which columns it did find.
    let err = rt()
        .block_on(land_dataset(&lake, &def, &o))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("户籍") && err.contains("no column `编号`") && err.contains("header row 1"),
        "{err}"
    );
    // `header_row = 2` says where the header is.
    let toml = std::fs::read_to_string(ws.join("datasets/gongan/x.toml")).unwrap();
    let def = write_def(
        ws,
        "gongan",
        "x",
        &toml.replace("header_rows = 2", "header_rows = 2\nheader_row = 2"),
    );
    let r = &rt().block_on(land_dataset(&lake, &def, &o)).unwrap()[0];
    assert_eq!((r.rows_read, r.rows_landed, r.rows_quarantined), (3, 2, 1));
    assert_eq!(
        query(
            &lake,
            &[("t", &def.data_path())],
            "SELECT id, name, phone, address, birth_date, _pdq_row FROM t ORDER BY id"
        ),
        vec![
            "1|张三 |13800138000|北京市东城区|1990-03-07|0",
            "2|李四|∅|∅|1990-03-07|2"
        ]
    );
    assert_eq!(
        query(
            &lake,
            &[("q", &def.quarantine_path())],
            "SELECT \"row\", raw_value FROM q"
        ),
        vec!["3|不详"],
        "0-based record index: the row after the header is 0"
    );
}

#[test]
fn the_same_delivery_lands_once() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(ws.join("in/2026-11-01.csv"), PEOPLE_CSV).unwrap();
    let def = write_def(
        ws,
        "gongan",
        "daily",
        &format!(
            "mode = \"append\"\n[source]\nkind = \"file\"\npath = \"in/*.csv\"\n{PEOPLE_COLUMNS}"
        ),
    );
    let lake = open_lake(ws);
    let count =
        |lake: &Lake| query(lake, &[("t", &def.data_path())], "SELECT count(*) FROM t")[0].clone();
    let first = rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(count(&lake), "4");
    // Run again: nothing waiting, nothing added.
    assert!(
        rt().block_on(land_dataset(&lake, &def, &opts(ws)))
            .unwrap()
            .is_empty()
    );
    assert_eq!(count(&lake), "4");
    // The same content re-sent under another name: recorded, not added.
    std::fs::write(ws.join("in/2026-11-02.csv"), PEOPLE_CSV).unwrap();
    let again = rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].status, DeliveryStatus::Unchanged);
    assert_eq!(count(&lake), "4");
    // A new file appends.
    std::fs::write(
        ws.join("in/2026-11-03.csv"),
        "编号,姓名,身份证号,出生日期,金额\n9,新,1,2000-01-01,1\n",
    )
    .unwrap();
    let third = rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(count(&lake), "5");
    let ledger = rt().block_on(read_ledger(&lake, Some(&def.id()))).unwrap();
    assert_eq!(
        ledger.iter().map(|r| r.status).collect::<Vec<_>>(),
        vec![
            DeliveryStatus::Landed,
            DeliveryStatus::Unchanged,
            DeliveryStatus::Landed
        ]
    );
}

#[test]
fn a_full_delivery_replaces_and_older_versions_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(ws.join("in/p.csv"), PEOPLE_CSV).unwrap();
    let def = people_def(ws, "full", "in/p.csv", "");
    let lake = open_lake(ws);
    rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap();
    std::fs::write(
        ws.join("in/p.csv"),
        "编号,姓名,身份证号,出生日期,金额\n9,新,1,2000-01-01,1\n",
    )
    .unwrap();
    let r = rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(
        query(&lake, &[("t", &def.data_path())], "SELECT id FROM t"),
        vec!["9"]
    );
    // Time travel: the version before still holds the first delivery.
    let mut t = rt()
        .block_on(lake.open_table(&def.data_path()))
        .unwrap()
        .unwrap();
    rt().block_on(t.load_version(r[0].table_version.unwrap() as u64 - 1))
        .unwrap();
    let n: usize = t
        .snapshot()
        .unwrap()
        .log_data()
        .iter()
        .map(|f| f.num_records().unwrap_or(0))
        .sum();
    assert_eq!(n, 4);
}

/// Removes a table's newest commit, as if the process had died just
/// before making it (the data files it would have referenced remain, in no
/// version).
fn drop_last_commit(table_dir: &Path) {
    let log = table_dir.join("_delta_log");
    let mut commits: Vec<_> = std::fs::read_dir(&log)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    commits.sort();
    std::fs::remove_file(commits.last().unwrap()).unwrap();
    let _ = std::fs::remove_file(log.join("_last_checkpoint"));
}

#[test]
fn interrupted_runs_complete_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(
        ws.join("in/a.csv"),
        PEOPLE_CSV.to_string() + "5,坏,1,2023-02-30,1\n",
    )
    .unwrap();
    let def = write_def(
        ws,
        "gongan",
        "crash",
        &format!(
            "mode = \"append\"\n[source]\nkind = \"file\"\npath = \"in/*.csv\"\n{PEOPLE_COLUMNS}"
        ),
    );
    let lake = open_lake(ws);
    let count =
        |lake: &Lake, path: &str| query(lake, &[("t", path)], "SELECT count(*) FROM t")[0].clone();
    rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap();
    let lake_dir = ws.join("lake");

    // 1. Died after the data commit, before the ledger record.
    drop_last_commit(&lake_dir.join("_pdq/deliveries"));
    assert!(
        rt().block_on(read_ledger(&lake, Some(&def.id())))
            .unwrap()
            .is_empty()
    );
    let again = rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap();
    assert!(again.is_empty(), "nothing re-landed: {again:?}");
    let ledger = rt().block_on(read_ledger(&lake, Some(&def.id()))).unwrap();
    assert_eq!(
        ledger.len(),
        1,
        "the ledger record was recovered from the data table's log"
    );
    assert_eq!((ledger[0].rows_landed, ledger[0].rows_quarantined), (4, 1));
    assert_eq!(count(&lake, &def.data_path()), "4");

    // 2. Died after the quarantine commit, before the data commit.
    drop_last_commit(&lake_dir.join("_pdq/deliveries"));
    drop_last_commit(&lake_dir.join(def.data_path()));
    assert_eq!(count(&lake, &def.data_path()), "0");
    let again = rt().block_on(land_dataset(&lake, &def, &opts(ws))).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(count(&lake, &def.data_path()), "4");
    assert_eq!(
        count(&lake, &def.quarantine_path()),
        "1",
        "quarantine not written twice"
    );
    let ledger = rt().block_on(read_ledger(&lake, Some(&def.id()))).unwrap();
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].rows_read, 5);
}

#[test]
fn configuration_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    let d = ws.join("datasets/gongan");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(
        d.join("a.toml"),
        "[source]\nkind = \"ftp\"\n[[columns]]\nname='x'\ntype='string'\n",
    )
    .unwrap();
    let e = load_dataset(&d.join("a.toml")).unwrap_err().to_string();
    assert!(
        e.contains("a.toml") && e.contains("ftp") && e.contains("file"),
        "{e}"
    );
    std::fs::write(
        d.join("b.toml"),
        "[source]\nkind = \"file\"\npath = 'x.csv'\n[[columns]]\nname='x'\ntype='decimal(40,2)'\n",
    )
    .unwrap();
    let e = load_dataset(&d.join("b.toml")).unwrap_err().to_string();
    assert!(e.contains("b.toml") && e.contains("decimal(40,2)"), "{e}");
    std::fs::write(
        d.join("c.toml"),
        "[source]\nkind = \"file\"\npath = 'x.csv'\ncolumns = 3\n",
    )
    .unwrap();
    let e = load_dataset(&d.join("c.toml")).unwrap_err().to_string();
    assert!(e.contains("c.toml") && e.contains("columns"), "{e}");
    // A declared column missing from the file names it and lists the header.
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(ws.join("in/p.csv"), "编号,姓名\n1,张三\n").unwrap();
    let def = people_def(ws, "missing", "in/p.csv", "");
    let e = rt()
        .block_on(land_dataset(&open_lake(ws), &def, &opts(ws)))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("p.csv") && e.contains("身份证号") && e.contains("编号, 姓名"),
        "{e}"
    );
}

/// A dataset that has landed can gain a column (issue #23, 7): the table
/// gets it, NULL in the rows landed before, and the ledger says so; a
/// column no longer declared is NULL in new rows; a changed type is refused
/// with what to do, never an internal Arrow message.
#[test]
fn a_new_column_is_added_to_a_landed_table() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    let lake = open_lake(ws);
    let cols = |c: &[(&str, &str)]| {
        c.iter()
            .map(|(n, t)| format!("[[columns]]\nname = \"{n}\"\ntype = \"{t}\"\n"))
            .collect::<String>()
    };
    let def = |glob: &str, c: &[(&str, &str)]| {
        write_def(
            ws,
            "gongan",
            "evolving",
            &format!(
                "mode = \"append\"\n[source]\nkind = \"file\"\npath = \"in/{glob}\"\n{}",
                cols(c)
            ),
        )
    };
    std::fs::write(ws.join("in/a1.csv"), "id,name\n1,甲\n2,乙\n").unwrap();
    let first = def("a*.csv", &[("id", "int64"), ("name", "string")]);
    rt().block_on(land_dataset(&lake, &first, &opts(ws)))
        .unwrap();
    // The department adds a phone column between the others.
    std::fs::write(ws.join("in/a2.csv"), "id,phone,name\n3,13800138000,丙\n").unwrap();
    let second = def(
        "a*.csv",
        &[("id", "int64"), ("phone", "string"), ("name", "string")],
    );
    let r = rt()
        .block_on(land_dataset(&lake, &second, &opts(ws)))
        .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].rows_read, r[0].rows_landed), (1, 1));
    assert!(
        r[0].note
            .as_deref()
            .unwrap_or("")
            .contains("columns added to the table: phone"),
        "{:?}",
        r[0].note
    );
    assert_eq!(
        query(
            &lake,
            &[("t", &second.data_path())],
            "SELECT id, name, phone FROM t ORDER BY id"
        ),
        vec!["1|甲|∅", "2|乙|∅", "3|丙|13800138000"]
    );
    // A column no longer declared stays, NULL in new rows.
    std::fs::write(ws.join("in/a3.csv"), "id,phone\n4,13900139000\n").unwrap();
    let third = def("a*.csv", &[("id", "int64"), ("phone", "string")]);
    rt().block_on(land_dataset(&lake, &third, &opts(ws)))
        .unwrap();
    assert_eq!(
        query(
            &lake,
            &[("t", &third.data_path())],
            "SELECT id, name, phone FROM t WHERE id = 4"
        ),
        vec!["4|∅|13900139000"]
    );
    // A changed type is refused, saying which column and what to do.
    std::fs::write(ws.join("in/a4.csv"), "id,phone\n5,x\n").unwrap();
    let changed = def("a*.csv", &[("id", "string"), ("phone", "string")]);
    let err = rt()
        .block_on(land_dataset(&lake, &changed, &opts(ws)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("column `id`") && err.contains("cannot change a column's type"),
        "{err}"
    );
    assert!(!err.contains("schema does not match"), "{err}");
}

/// A small tmpfs mounted on a directory for one test, unmounted on drop.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    /// Mounts `size` (e.g. `"4m"`) of tmpfs on `dir`; `Err` says why not
    /// (not root, no mount namespace).
    fn mount(dir: &Path, size: &str) -> Result<SmallDisk, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(SmallDisk(dir.to_path_buf()))
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Issue #18, faults: the lake's disk fills up while a delivery lands. The
/// landing fails in one line saying the disk is full and naming the lake's
/// directory; nothing of the delivery is committed or recorded; once space
/// is freed the next run lands every row exactly once.
///
/// Runs as root (as CI does) on a real 8 MiB tmpfs; re-runs itself in a
/// user and mount namespace (`unshare`) otherwise.
#[test]
fn the_lakes_disk_full_fails_clearly_and_a_rerun_lands_once() {
    const ME: &str = "the_lakes_disk_full_fails_clearly_and_a_rerun_lands_once";
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    let lake_dir = ws.join("lake");
    let _disk = match SmallDisk::mount(&lake_dir, "8m") {
        Ok(d) => d,
        Err(why) if std::env::var_os("PDQ_TEST_IN_UNSHARE").is_none() => {
            // Not root: the same test in a namespace where it may mount.
            let status = std::process::Command::new("unshare")
                .args(["--user", "--map-root-user", "--mount"])
                .arg(std::env::current_exe().unwrap())
                .args(["--exact", ME, "--nocapture"])
                .env("PDQ_TEST_IN_UNSHARE", "1")
                .status();
            match status {
                Ok(s) => {
                    assert!(s.success(), "the test failed inside unshare: {s}");
                    return;
                }
                Err(e) => {
                    eprintln!("skipped: cannot mount a small disk ({why}) nor run unshare ({e})");
                    return;
                }
            }
        }
        Err(why) => {
            eprintln!("skipped: cannot mount a small disk even in a namespace: {why}");
            return;
        }
    };
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(ws.join("in/a.csv"), pdq_tests::noisy_csv(1, 100)).unwrap();
    let def = write_def(
        ws,
        "gongan",
        "full_disk",
        "mode = \"append\"\n[source]\nkind = \"file\"\npath = \"in/*.csv\"\n[[columns]]\nname = \"id\"\nsource = \"编号\"\ntype = \"int64\"\n[[columns]]\nname = \"name\"\nsource = \"姓名\"\ntype = \"string\"\n",
    );
    let lake = open_lake(ws);
    let o = LandOptions {
        base_dir: ws.to_path_buf(),
        ..LandOptions::default()
    };
    let first = rt().block_on(land_dataset(&lake, &def, &o)).unwrap();
    assert_eq!(first.len(), 1);
    // The rest of the disk is taken but 1 MiB, and a 2 MB delivery with
    // one bad row arrives.
    let free = fs_free(&lake_dir);
    let filler = lake_dir.join("filler");
    std::fs::write(&filler, vec![7u8; (free - (1 << 20)) as usize]).unwrap();
    std::fs::write(
        ws.join("in/b.csv"),
        pdq_tests::noisy_csv(1_000, 20_000) + "not a number,bad row\n",
    )
    .unwrap();
    let e = rt()
        .block_on(land_dataset(&lake, &def, &o))
        .unwrap_err()
        .to_string();
    eprintln!("disk full: {e}");
    assert!(!e.contains('\n'), "one line: {e}");
    assert!(e.contains("the lake's disk is full"), "{e}");
    assert!(
        e.contains(&lake_dir.canonicalize().unwrap().display().to_string()),
        "{e}"
    );
    // Nothing of b committed or recorded: the table holds what the ledger says.
    let ledger = rt().block_on(read_ledger(&lake, Some(&def.id()))).unwrap();
    assert_eq!(ledger.len(), 1, "{ledger:?}");
    assert!(ledger[0].location.ends_with("a.csv"));
    let count = |lake: &Lake| {
        query(
            lake,
            &[("t", &def.data_path())],
            "SELECT count(*), count(DISTINCT id) FROM t",
        )
    };
    let quarantined = |lake: &Lake| {
        query(
            lake,
            &[("q", &def.quarantine_path())],
            "SELECT count(*) FROM q",
        )
    };
    assert_eq!(count(&lake), vec!["100|100"]);
    assert_eq!(
        quarantined(&lake),
        vec!["0"],
        "no quarantine commit of b either"
    );

    // Space freed: the next run lands b, once.
    std::fs::remove_file(&filler).unwrap();
    let again = rt().block_on(land_dataset(&lake, &def, &o)).unwrap();
    assert_eq!(again.len(), 1, "{again:?}");
    assert!(again[0].location.ends_with("b.csv"));
    assert_eq!(
        (
            again[0].rows_read,
            again[0].rows_landed,
            again[0].rows_quarantined
        ),
        (20_001, 20_000, 1)
    );
    assert_eq!(count(&lake), vec!["20100|20100"]);
    assert_eq!(quarantined(&lake), vec!["1"]);
    let ledger = rt().block_on(read_ledger(&lake, Some(&def.id()))).unwrap();
    assert_eq!(ledger.len(), 2);
    assert_eq!(ledger.iter().map(|r| r.rows_landed).sum::<i64>(), 20_100);
    assert!(
        rt().block_on(land_dataset(&lake, &def, &o))
            .unwrap()
            .is_empty()
    );
}

/// Free bytes on the filesystem holding `dir` (from `df`).
fn fs_free(dir: &Path) -> u64 {
    let out = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

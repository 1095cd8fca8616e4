//! The parallel loader against the one-thread reading it replaced.

use super::*;

fn columns(truth: bool) -> Columns {
    Columns {
        renames: [("id".to_string(), "id_number".to_string())].into(),
        id: "rec_id".into(),
        key: Some("id_number".into()),
        truth: truth.then(|| "entity".into()),
        as_of: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default(),
    }
}

/// What `onesource_match` did before loading in parallel: `Trim::All`,
/// string records, one [`Records::push`] per row, on one thread.
fn sequential(paths: &[PathBuf], config: &MatchConfig, cols: &Columns) -> Result<Loaded, String> {
    let mut records = Records::new(config);
    let (mut ids, mut truth) = (Vec::new(), Vec::new());
    for (source, path) in paths.iter().enumerate() {
        let mut rdr = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_path(path)
            .map_err(|e| e.to_string())?;
        let header = rdr.headers().map_err(|e| e.to_string())?.clone();
        let col = |name: &str| header.iter().position(|h| h == name).ok_or("no column");
        let field_cols: Vec<usize> = config
            .fields
            .iter()
            .map(|f| col(cols.renames.get(&f.name).unwrap_or(&f.name)))
            .collect::<Result<_, _>>()?;
        let id_col = col(&cols.id)?;
        let key_col = cols.key.as_deref().map(col).transpose()?;
        let truth_col = cols.truth.as_deref().map(col).transpose()?;
        for (row, rec) in rdr.records().enumerate() {
            let rec = rec.map_err(|e| format!("{} row {}: {e}", path.display(), row + 1))?;
            let key = key_col
                .and_then(|c| rec.get(c))
                .and_then(|v| normalize_resident_id(v, cols.as_of).ok())
                .map_or(0, |n| u128::from(n.resident_key()));
            let refs: Vec<Option<&str>> = field_cols
                .iter()
                .map(|&c| rec.get(c).filter(|v| !v.is_empty()))
                .collect();
            records
                .push(source as u32, key, &refs)
                .map_err(|e| e.to_string())?;
            ids.push(rec.get(id_col).unwrap_or_default().to_string());
            if let Some(c) = truth_col {
                truth.push(rec.get(c).unwrap_or_default().to_string());
            }
        }
    }
    Ok(Loaded {
        records,
        ids,
        truth,
    })
}

const HEADER: &str = " rec_id ,name, birth_date ,sex,address,id_number,entity\n";

/// Rows with what the reading must keep exactly: quoted commas and line
/// breaks, ASCII and Unicode (U+3000, U+00A0) white space around values,
/// traditional and full-width characters, empty and invalid values, valid,
/// 15-digit, lowercase-x and broken resident IDs.
fn rows(file: usize, n: usize) -> String {
    let names = [
        "张伟",
        " 劉芳 ",
        "\u{3000}艾力•買買提\u{3000}",
        "\"王, 静\"",
        "ＬＩ Ｎａ",
        "",
        "\"多行\n姓名\"",
        "\u{a0}赵六\t",
    ];
    let ids = [
        "11010519491231002X",
        " 11010519491231002x ",
        "110105491231002",
        "110105194912310021",
        "",
        "１１０１０５１９４９１２３１００２Ｘ",
        "abc",
    ];
    let mut s = String::from(HEADER);
    for i in 0..n {
        let p = file * 1000 + i;
        s.push_str(&format!(
            "r{file}-{i},{},{},{},{},{},\" e{} \"\n",
            names[p % names.len()],
            [
                "1990-01-02",
                " 1990年1月2日 ",
                "19900230",
                "",
                "１９９０/３/４"
            ][p % 5],
            ["男", " 女 ", "", "x", "F"][p % 5],
            ["\"乌鲁木齐市, 天山區\"", "  ", "天山区 1号", "\"a\"\"b\""][p % 4],
            ids[p % ids.len()],
            p % 37,
        ));
    }
    s
}

fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap_or_else(|e| panic!("writing {}: {e}", p.display()));
    p
}

fn settings() -> Vec<Parallelism> {
    let mut out = Vec::new();
    for workers in [1, 2, 3] {
        for batch in [1, 2, 5, 64, 4096] {
            out.push(Parallelism { workers, batch });
        }
    }
    out
}

#[test]
fn parallel_load_equals_the_sequential_reading_it_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let paths = vec![
        write(dir.path(), "dept0.csv", rows(0, 301).as_bytes()),
        write(dir.path(), "dept1.csv", HEADER.as_bytes()), // no rows
        write(dir.path(), "dept2.csv", rows(2, 64).as_bytes()),
        write(dir.path(), "dept3.csv", rows(3, 7).as_bytes()),
    ];
    let config = MatchConfig::persons();
    for truth in [false, true] {
        let cols = columns(truth);
        let want = sequential(&paths, &config, &cols).unwrap();
        assert_eq!(want.records.len(), 301 + 64 + 7);
        assert!(want.records.key.iter().any(|&k| k != 0));
        assert!(want.records.key.contains(&0));
        for par in settings() {
            let got = load(&paths, &config, &cols, par).unwrap();
            assert!(got.records == want.records, "{par:?}: records differ");
            assert_eq!(got.ids, want.ids, "{par:?}");
            assert_eq!(got.truth, want.truth, "{par:?}");
        }
    }
}

#[test]
fn a_bad_row_is_reported_with_its_file_and_row_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.csv", rows(0, 20).as_bytes());
    // Row 13 has one field too few; rows after it are never reached.
    let mut text = rows(1, 12);
    text.push_str("short,row\n");
    text.push_str(&rows(1, 5)[HEADER.len()..]);
    let bad = write(dir.path(), "bad.csv", text.as_bytes());
    let paths = [good, bad.clone()];
    let config = MatchConfig::persons();
    let cols = columns(true);
    let before = sequential(&paths, &config, &cols).err().unwrap_or_default();
    let at = format!("{} row 13", bad.display());
    assert!(before.starts_with(&at), "{before}");
    for par in settings() {
        let e = load(&paths, &config, &cols, par).err();
        let e = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(e.starts_with(&at), "{par:?}: {e}");
        assert!(matches!(
            load(&paths, &config, &cols, par),
            Err(LoadError::Csv { row: 13, .. })
        ));
    }
}

#[test]
fn invalid_utf8_is_reported_with_its_file_row_and_line() {
    let dir = tempfile::tempdir().unwrap();
    // Rows 1-9 hold one quoted line break (row 7, name index 6), so row 10
    // starts on line 12 (the header is line 1); its address is not UTF-8.
    let mut text = rows(0, 9).into_bytes();
    text.extend_from_slice("r-bad,张三,1990-01-02,男,天山\u{533a}".as_bytes());
    text.extend_from_slice(b"\xff\xfe,,e1\n");
    text.extend_from_slice(&rows(0, 3).as_bytes()[HEADER.len()..]);
    let path = write(dir.path(), "latin.csv", &text);
    let config = MatchConfig::persons();
    let cols = columns(false);
    let before = sequential(std::slice::from_ref(&path), &config, &cols)
        .err()
        .unwrap_or_default();
    assert!(
        before.starts_with(&format!("{} row 10", path.display())),
        "{before}"
    );
    assert!(before.contains("line 12"), "{before}");
    for par in settings() {
        match load(std::slice::from_ref(&path), &config, &cols, par) {
            Err(e @ LoadError::Utf8 { .. }) => {
                let e = e.to_string();
                assert!(
                    e.starts_with(&format!("{} row 10 (line 12)", path.display())),
                    "{par:?}: {e}"
                );
                assert!(e.contains("field 4"), "{par:?}: {e}");
            }
            other => panic!("{par:?}: {other:?}"),
        }
    }
}

#[test]
fn a_missing_column_or_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(dir.path(), "good.csv", rows(0, 5).as_bytes());
    let config = MatchConfig::persons();
    let mut cols = columns(false);
    cols.truth = Some("cluster".into());
    let e = load(
        std::slice::from_ref(&good),
        &config,
        &cols,
        Parallelism::default(),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert_eq!(e, format!("{}: no column `cluster`", good.display()));
    let gone = dir.path().join("gone.csv");
    let e = load(
        &[good, gone.clone()],
        &config,
        &columns(false),
        Parallelism::default(),
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(e.starts_with(&format!("opening {}", gone.display())), "{e}");
}

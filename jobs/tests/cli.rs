//! The real `pdq` binary, run in a temp directory: exit codes and one-line
//! errors for bad input (CONTRACT.md, "Exit codes"; issue #2, "Bad input").

use std::path::Path;
use std::process::{Command, Output};

fn pdq(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pdq"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("pdq runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

/// Asserts exit code 1 and a single-line error containing every `needle`.
fn assert_one_line_error(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "exit code; stderr:\n{err}");
    assert_eq!(err.lines().count(), 1, "one line expected, got:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected `{n}` in:\n{err}");
    }
}

fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("people.csv"),
        "id_number,amount\n11010519491231002X,5\n,7\n",
    )
    .expect("csv");
    dir
}

fn rules(dir: &Path, body: &str) {
    std::fs::write(
        dir.join("rules.yaml"),
        format!("dataset: people\nrules:\n{body}"),
    )
    .expect("rules");
}

/// `pdq token` needs a workspace and one of its departments (issue #23, 9):
/// it used to create any path it was given and accept any department.
#[test]
fn token_needs_a_workspace_and_a_known_department() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = pdq(
        dir.path(),
        &["token", "-w", "nowhere", "--department", "gongan"],
    );
    assert_one_line_error(&o, &["nowhere", "pdq.toml"]);
    assert!(!dir.path().join("nowhere").exists(), "nothing created");
    std::fs::write(
        dir.path().join("pdq.toml"),
        "[departments]\ngongan = \"公安局\"\n",
    )
    .expect("pdq.toml");
    let o = pdq(dir.path(), &["token", "-w", ".", "--department", "gongann"]);
    assert_one_line_error(&o, &["no department `gongann`", "gongan"]);
    assert!(!dir.path().join("tokens.toml").exists(), "nothing written");
    let o = pdq(dir.path(), &["token", "-w", ".", "--department", "gongan"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(dir.path().join("tokens.toml").exists());
}

#[test]
fn clean_run_exits_0_and_failures_exit_3() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: ok, dimension: validity, check: cn_resident_id, column: id_number}\n",
    );
    let o = pdq(
        dir.path(),
        &[
            "check",
            "--data",
            "people.csv",
            "--rules",
            "rules.yaml",
            "--format",
            "json",
            "--as-of",
            "2026-11-22",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json on stdout");
    assert_eq!(v["dataset"], "people");
    assert_eq!(v["rows"], 2);
    assert_eq!(v["as_of"], "2026-11-22T00:00:00+08:00");
    assert_eq!(v["results"][0]["evaluated"], 1);
    assert_eq!(v["results"][0]["status"], "pass");

    rules(
        dir.path(),
        "  - {id: present, dimension: completeness, check: not_null, column: id_number}\n",
    );
    let o = pdq(
        dir.path(),
        &[
            "check",
            "--data",
            "people.csv",
            "--rules",
            "rules.yaml",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["results"][0]["failed"], 1);
    assert_eq!(v["results"][0]["samples"][0]["file"], "people.csv");
    assert_eq!(v["results"][0]["samples"][0]["row"], 1);
}

#[test]
fn table_format_renders() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: present, dimension: completeness, check: not_null, column: id_number}\n",
    );
    let o = pdq(
        dir.path(),
        &[
            "check",
            "--data",
            "people.csv",
            "--rules",
            "rules.yaml",
            "--format",
            "table",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("present") && out.contains("不通过 fail"),
        "{out}"
    );
}

#[test]
fn missing_data_file() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: a, dimension: completeness, check: not_null, column: id_number}\n",
    );
    let o = pdq(
        dir.path(),
        &["check", "--data", "nope.parquet", "--rules", "rules.yaml"],
    );
    assert_one_line_error(&o, &["nope.parquet"]);
}

#[test]
fn truncated_parquet() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: a, dimension: completeness, check: not_null, column: id_number}\n",
    );
    std::fs::write(dir.path().join("bad.parquet"), b"PAR1\x00\x01\x02garbage").expect("write");
    let o = pdq(
        dir.path(),
        &["check", "--data", "bad.parquet", "--rules", "rules.yaml"],
    );
    assert_one_line_error(&o, &["bad.parquet"]);
}

#[test]
fn malformed_yaml_names_the_line() {
    let dir = workspace();
    std::fs::write(
        dir.path().join("rules.yaml"),
        "dataset: people\nrules:\n  - {id: a, check: [oops\n",
    )
    .expect("write");
    let o = pdq(
        dir.path(),
        &["check", "--data", "people.csv", "--rules", "rules.yaml"],
    );
    assert_one_line_error(&o, &["rules.yaml:"]);
}

#[test]
fn unknown_check_type_suggests() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: u, dimension: uniqueness, check: uniqe, columns: [id_number]}\n",
    );
    let o = pdq(
        dir.path(),
        &["check", "--data", "people.csv", "--rules", "rules.yaml"],
    );
    assert_one_line_error(&o, &["rules.yaml:3", "uniqe", "did you mean `unique`"]);
}

#[test]
fn unknown_column_lists_the_columns() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: c, dimension: completeness, check: not_null, column: id_numbr}\n",
    );
    let o = pdq(
        dir.path(),
        &["check", "--data", "people.csv", "--rules", "rules.yaml"],
    );
    assert_one_line_error(&o, &["id_numbr", "id_number, amount"]);
}

#[test]
fn regex_that_does_not_compile() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: r, dimension: validity, check: regex, column: id_number, pattern: '[0-9'}\n",
    );
    let o = pdq(
        dir.path(),
        &["check", "--data", "people.csv", "--rules", "rules.yaml"],
    );
    assert_one_line_error(&o, &["rule `r`", "invalid regex"]);
}

#[test]
fn expression_that_does_not_parse_or_is_not_boolean() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: e, dimension: consistency, check: expression, expr: \"amount >\"}\n",
    );
    let o = pdq(
        dir.path(),
        &["check", "--data", "people.csv", "--rules", "rules.yaml"],
    );
    assert_one_line_error(&o, &["rule `e`", "cannot use expression"]);
    rules(
        dir.path(),
        "  - {id: e, dimension: consistency, check: expression, expr: \"amount + 1\"}\n",
    );
    let o = pdq(
        dir.path(),
        &["check", "--data", "people.csv", "--rules", "rules.yaml"],
    );
    assert_one_line_error(&o, &["rule `e`", "not boolean"]);
}

#[test]
fn bad_flags_exit_1() {
    let dir = workspace();
    let o = pdq(dir.path(), &["check", "--rules", "rules.yaml"]);
    assert_eq!(o.status.code(), Some(1));
    let o = pdq(
        dir.path(),
        &[
            "check",
            "--data",
            "people.csv",
            "--rules",
            "rules.yaml",
            "--as-of",
            "yesterday",
        ],
    );
    assert_one_line_error(&o, &["yesterday"]);
}

#[test]
fn rules_lists_every_type() {
    let dir = workspace();
    let o = pdq(dir.path(), &["rules"]);
    assert_eq!(o.status.code(), Some(0));
    let out = String::from_utf8_lossy(&o.stdout);
    for t in [
        "not_null",
        "cn_resident_id",
        "cn_uscc",
        "cn_division_code",
        "regex",
        "in_set",
        "range",
        "unique",
        "expression",
        "reference",
        "freshness",
        "row_count",
    ] {
        assert!(out.contains(t), "{t} missing from:\n{out}");
    }
}

#[test]
fn ingest_bad_workspace_and_unknown_dataset() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Not a workspace: names pdq.toml.
    let o = pdq(dir.path(), &["ingest", "-w", "."]);
    assert_one_line_error(&o, &["pdq.toml", "workspace"]);
    // A bad key in pdq.toml: names the file, the line and the key.
    std::fs::write(
        dir.path().join("pdq.toml"),
        "time_zone = \"Asia/Shanghai\"\n[lake]\nplace = \"x\"\n",
    )
    .expect("toml");
    let o = pdq(dir.path(), &["ingest", "-w", "."]);
    assert_one_line_error(&o, &["pdq.toml", "line 3", "place"]);
    // An unknown dataset lists the known ones.
    std::fs::write(dir.path().join("pdq.toml"), "[lake]\nlocation = \"lake\"\n").expect("toml");
    std::fs::create_dir_all(dir.path().join("datasets/gongan")).expect("dir");
    std::fs::write(
        dir.path().join("datasets/gongan/people.toml"),
        "[source]\nkind = \"file\"\npath = \"people.csv\"\n[[columns]]\nname = \"id_number\"\ntype = \"string\"\n[[columns]]\nname = \"amount\"\ntype = \"int64\"\n",
    )
    .expect("def");
    std::fs::write(
        dir.path().join("people.csv"),
        "id_number,amount\n1,5\n2,x\n",
    )
    .expect("csv");
    let o = pdq(
        dir.path(),
        &["ingest", "-w", ".", "--dataset", "minzheng.x"],
    );
    assert_one_line_error(&o, &["minzheng.x", "gongan.people"]);
    // A source that fails is reported, the exit code is 1.
    std::fs::write(
        dir.path().join("datasets/gongan/broken.toml"),
        "[source]\nkind = \"file\"\npath = \"missing.csv\"\n[[columns]]\nname = \"a\"\ntype = \"string\"\n",
    )
    .expect("def");
    let o = pdq(dir.path(), &["ingest", "-w", ".", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        out["deliveries"][0]["rows_landed"], 1,
        "the healthy dataset still landed"
    );
    assert_eq!(out["deliveries"][0]["rows_quarantined"], 1);
    assert!(
        out["failures"][0]
            .as_str()
            .expect("failure")
            .contains("missing.csv")
    );
}

/// `pdq check … | head -3`: the reader has gone before pdq writes. That is
/// not an error of pdq's: no panic, no message, exit code 0 (issue #23, 6).
#[test]
fn a_closed_output_pipe_ends_quietly() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: present, dimension: completeness, check: not_null, column: id_number}\n",
    );
    // The reading end is closed before pdq starts, so its first write fails
    // with EPIPE every time (no race with a reader that is still there).
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    for format in ["table", "json"] {
        let o = Command::new(env!("CARGO_BIN_EXE_pdq"))
            .args([
                "check",
                "--data",
                "people.csv",
                "--rules",
                "rules.yaml",
                "--format",
                format,
                "--as-of",
                "2026-11-22",
            ])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .stdout(writer.try_clone().expect("clone pipe"))
            .output()
            .expect("pdq runs");
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{format}: {err}");
        assert_eq!(err, "", "{format}: nothing on stderr");
        assert_eq!(o.status.code(), Some(0), "{format}: {err}");
    }
}

/// A missing rule file: one line, naming the file, with the reason once
/// (issue #23, 9: it was printed twice).
#[test]
fn a_missing_rule_file_is_named_once() {
    let dir = workspace();
    let o = pdq(
        dir.path(),
        &["check", "--data", "people.csv", "--rules", "nope.yaml"],
    );
    assert_one_line_error(&o, &["nope.yaml"]);
    let err = stderr(&o);
    assert_eq!(
        err.matches("No such file").count(),
        1,
        "the reason once: {err}"
    );
}

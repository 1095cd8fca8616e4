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

/// A `GET` over plain TCP with an optional bearer token: the status code.
fn http_status(addr: &str, path: &str, token: Option<&str>) -> Option<u16> {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(addr).ok()?;
    c.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        c,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut got = String::new();
    let _ = c.read_to_string(&mut got);
    got.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Issue #18, 5: `pdq serve` re-reads tokens.toml on SIGHUP and keeps
/// serving (a SIGHUP used to end it), and a revoked token is refused at its
/// next request.
#[test]
fn issue_18_serve_reloads_tokens_on_sighup_and_on_change() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("pdq.toml"),
        "[departments]\ngongan = \"公安局\"\nminzheng = \"民政局\"\n",
    )
    .expect("pdq.toml");
    let issue = |d: &str| {
        let o = pdq(dir.path(), &["token", "-w", ".", "--department", d]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let gongan = issue("gongan");
    let log = dir.path().join("serve.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pdq"))
        .args(["-v", "serve", "-w", ".", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("pdq serve runs");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("the address line");
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in {first}"))
        .to_string();
    let api = "/api/rectifications";
    assert_eq!(http_status(&addr, api, Some(&gongan)), Some(200));
    // A token issued while it runs works at once; revoking one (editing
    // the file) refuses it at its next request.
    let minzheng = issue("minzheng");
    assert_eq!(http_status(&addr, api, Some(&minzheng)), Some(200));
    let path = dir.path().join("tokens.toml");
    let text = std::fs::read_to_string(&path).expect("tokens.toml");
    let kept: toml::Value = toml::from_str(&text).expect("toml");
    let mut kept = kept.as_table().cloned().expect("table");
    if let Some(toml::Value::Array(list)) = kept.get_mut("token") {
        list.retain(|t| t.get("department").and_then(|d| d.as_str()) != Some("gongan"));
    }
    std::fs::write(&path, toml::to_string(&kept).expect("toml")).expect("write");
    assert_eq!(http_status(&addr, api, Some(&gongan)), Some(401));
    assert_eq!(http_status(&addr, api, Some(&minzheng)), Some(200));
    // SIGHUP: reloaded, still serving.
    let hup = Command::new("kill")
        .args(["-HUP", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(hup.success());
    let until = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut logged = String::new();
    while std::time::Instant::now() < until && !logged.contains("SIGHUP") {
        std::thread::sleep(std::time::Duration::from_millis(100));
        logged = std::fs::read_to_string(&log).unwrap_or_default();
    }
    let alive = child.try_wait().expect("wait").is_none();
    let after = http_status(&addr, api, Some(&minzheng));
    let _ = child.kill();
    let _ = child.wait();
    assert!(alive, "pdq serve ended on SIGHUP; stderr:\n{logged}");
    assert!(logged.contains("SIGHUP"), "{logged}");
    assert_eq!(after, Some(200));
    assert!(
        !logged.contains(&gongan) && !logged.contains(&minzheng),
        "no token in the log"
    );
}

/// Issue #18: a `[serve]` setting out of range stops `pdq serve` with one
/// line naming the key.
#[test]
fn serve_settings_out_of_range_are_one_line_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (toml, key) in [
        (
            "[serve]\nsession_idle_seconds = 0\n",
            "session_idle_seconds",
        ),
        ("[serve]\nmax_header = \"1KiB\"\n", "max_header"),
        (
            "[serve]\nsession_idle_seconds = 600\nsession_max_seconds = 60\n",
            "session_max_seconds",
        ),
    ] {
        std::fs::write(dir.path().join("pdq.toml"), toml).expect("pdq.toml");
        let o = pdq(dir.path(), &["serve", "-w", ".", "--listen", "127.0.0.1:0"]);
        assert_one_line_error(&o, &["[serve]", key]);
    }
}

/// `pdq profile show` gives what must accompany each restrictive attribute
/// value (issue #17, 2) with its article, and says where the text asks
/// nothing and pdq checks nothing.
#[test]
fn profile_show_gives_what_must_accompany_each_attribute_value() {
    let dir = tempfile::tempdir().unwrap();
    let o = pdq(
        dir.path(),
        &["profile", "show", "ganzi-2025", "--format", "json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let field = |name: &str| {
        v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == name)
            .unwrap_or_else(|| panic!("no field {name}"))
            .clone()
    };
    let cs = field("catalog.accompany.conditional_share");
    assert_eq!(
        cs["value"],
        serde_json::json!(["share_conditions", "share_reason"])
    );
    assert_eq!(cs["source"][0]["article"], "第十五条");
    let co = field("catalog.accompany.conditional_open");
    assert_eq!(co["value"], serde_json::json!([]));
    assert!(
        co["source"]["not_in_text"]
            .as_str()
            .unwrap()
            .contains("pdq checks nothing"),
        "{co}"
    );
    let o = pdq(dir.path(), &["profile", "show", "xinjiang-2023"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("catalog.accompany.no_share")
            && text.contains(
                "第十九条：“将公共数据列入有条件共享和不予共享的,须提供法律法规依据或国家有关规定”"
            )
            && text.contains("pdq checks nothing for 非开放"),
        "{text}"
    );
}

/// `pdq profile show` lists the 一数一源 registry (issue #17, 4): the text's
/// items with their articles for 兵团, none for 西藏 (whose text has none),
/// and with `-w` the workspace's items, each marked as the workspace's.
#[test]
fn profile_show_gives_each_registry_item_its_origin() {
    let dir = tempfile::tempdir().unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let o = pdq(dir.path(), args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let v = json(&["profile", "show", "xpcc-2025", "--format", "json"]);
    let items = v["authority_registry"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 16);
    assert_eq!(items[4]["name"], "卫生健康数据");
    assert_eq!(items[4]["basis"], "第十七条第二款（五）");
    assert_eq!(items[4]["origin"]["from"], "text");
    assert_eq!(items[4]["origin"]["profile"], "xpcc-2025");

    let v = json(&["profile", "show", "tibet-2025", "--format", "json"]);
    assert_eq!(v["authority_registry"]["items"], serde_json::json!([]));
    let o = pdq(dir.path(), &["profile", "show", "tibet-2025"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("条文未规定") && text.contains("authority.toml"),
        "{text}"
    );

    std::fs::write(
        dir.path().join("authority.toml"),
        "[departments]\nweijian = \"卫生健康委员会\"\n\n[[item]]\nid = \"health\"\nname = \"卫生健康数据\"\nsubject = \"person\"\nauthorities = [\"weijian\"]\nbasis = \"本局清单第3项\"\n",
    )
    .unwrap();
    let ws = dir.path().display().to_string();
    let v = json(&[
        "profile",
        "show",
        "tibet-2025",
        "--format",
        "json",
        "-w",
        &ws,
    ]);
    let items = v["authority_registry"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["origin"]["from"], "workspace");
    assert!(
        items[0]["origin"]["file"]
            .as_str()
            .unwrap()
            .ends_with("authority.toml")
    );
    let o = pdq(dir.path(), &["profile", "show", "tibet-2025", "-w", &ws]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("工作区 workspace") && text.contains("本局清单第3项"),
        "{text}"
    );
}

/// Issue #22: a pdq built without the `ballista` feature refuses the
/// distributed engine in one line that says how to rebuild, from the
/// command line (`pdq check`, `pdq sweep`) and from `[engine]` in pdq.toml,
/// before any work starts.
#[cfg(not(feature = "ballista"))]
#[test]
fn issue_22_ballista_without_the_feature_says_how_to_rebuild() {
    let dir = workspace();
    rules(
        dir.path(),
        "  - {id: ok, dimension: validity, check: cn_resident_id, column: id_number}\n",
    );
    let rebuild = ["`ballista` feature", "--features jobs/ballista"];
    let o = pdq(
        dir.path(),
        &[
            "check",
            "--data",
            "people.csv",
            "--rules",
            "rules.yaml",
            "--engine",
            "ballista",
            "--scheduler",
            "df://localhost:50050",
        ],
    );
    assert_one_line_error(&o, &rebuild);
    assert!(o.stdout.is_empty(), "no results printed");

    let ws = dir.path().join("ws");
    std::fs::create_dir_all(&ws).expect("ws");
    std::fs::write(
        ws.join("pdq.toml"),
        "[engine]\nkind = \"ballista\"\nscheduler = \"df://localhost:50050\"\n",
    )
    .expect("pdq.toml");
    let o = pdq(dir.path(), &["sweep", "-w", "ws"]);
    assert_one_line_error(&o, &["pdq.toml", "engine", rebuild[0], rebuild[1]]);
    std::fs::write(ws.join("pdq.toml"), "").expect("pdq.toml");
    let o = pdq(dir.path(), &["sweep", "-w", "ws", "--engine", "ballista"]);
    assert_one_line_error(&o, &["--engine", rebuild[0], rebuild[1]]);
    assert!(!ws.join("lake").exists(), "nothing ran");
    // The embedded engine, named, runs as before.
    let o = pdq(
        dir.path(),
        &[
            "check",
            "--data",
            "people.csv",
            "--rules",
            "rules.yaml",
            "--engine",
            "embedded",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// The `pdq` process runs without transparent huge pages (a flag of its
/// own, set first thing in `main`: the kernel's zeroing of 2 MiB pages was
/// a quarter of a large harvest's CPU), and `MIMALLOC_ALLOW_THP` set by the
/// operator leaves the process as it was started.
#[cfg(target_os = "linux")]
#[test]
fn pdq_runs_without_transparent_huge_pages_unless_told() {
    use std::io::BufRead;
    let thp = |status: &str| {
        status
            .lines()
            .find(|l| l.starts_with("THP_enabled:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_string)
    };
    let of_pdq = |allow: Option<&str>| {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("pdq.toml"), "").expect("pdq.toml");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pdq"));
        cmd.args(["serve", "-w", ".", "--listen", "127.0.0.1:0"])
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env_remove("MIMALLOC_ALLOW_THP")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        if let Some(a) = allow {
            cmd.env("MIMALLOC_ALLOW_THP", a);
        }
        let mut child = cmd.spawn().expect("pdq serve runs");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("the address line");
        assert!(first.contains("http://"), "{first}");
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", child.id())).expect("status");
        let _ = child.kill();
        let _ = child.wait();
        thp(&status)
    };
    let ours = std::fs::read_to_string("/proc/self/status").expect("status");
    let Some(ours) = thp(&ours) else {
        eprintln!("skipped: this kernel does not report THP_enabled");
        return;
    };
    assert_eq!(of_pdq(None).as_deref(), Some("0"), "pdq turns them off");
    assert_eq!(
        of_pdq(Some("1")),
        Some(ours),
        "with MIMALLOC_ALLOW_THP set, as the test runner has it"
    );
}

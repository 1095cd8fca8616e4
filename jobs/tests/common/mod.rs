//! What the audit tests share (issue #18, 4): a small bureau workspace
//! with its key and anchor file outside it, as on a server (/etc/pdq,
//! /var/lib/pdq), the real binary with the user's directories pointed
//! into the test's temporary directory, and the checks on its output.
#![allow(dead_code)] // each test file uses a part

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Bureau {
    _dir: tempfile::TempDir,
    pub ws: PathBuf,
    pub key: Option<PathBuf>,
    pub anchors: PathBuf,
    pub home: PathBuf,
}

const RULES: &str = "dataset: people\nrules:\n  - {id: id_present, dimension: completeness, check: not_null, column: id}\n";

impl Bureau {
    /// A workspace of two small CSV datasets; with a 0600 key outside it.
    pub fn new(with_key: bool) -> Bureau {
        let dir = tempfile::tempdir().unwrap();
        let ws = dir.path().join("ws");
        std::fs::create_dir_all(ws.join("rules")).unwrap();
        std::fs::create_dir_all(ws.join("in")).unwrap();
        std::fs::write(ws.join("pdq.toml"), "[lake]\nlocation = \"lake\"\n").unwrap();
        std::fs::write(ws.join("rules/people.yaml"), RULES).unwrap();
        for (i, dept) in ["gongan", "minzheng"].iter().enumerate() {
            std::fs::create_dir_all(ws.join("datasets").join(dept)).unwrap();
            std::fs::write(ws.join(format!("in/d{i}.csv")), "id\n1\n2\n3\n").unwrap();
            std::fs::write(
                ws.join("datasets").join(dept).join(format!("d{i}.toml")),
                format!("rules = \"rules/people.yaml\"\n[source]\nkind = \"file\"\npath = \"in/d{i}.csv\"\n[[columns]]\nname = \"id\"\ntype = \"int64\"\n"),
            )
            .unwrap();
        }
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let key = with_key.then(|| {
            let p = dir.path().join("etc/audit.key");
            write_key(&p);
            p
        });
        let anchors = dir.path().join("state/audit-anchors");
        Bureau {
            _dir: dir,
            ws,
            key,
            anchors,
            home,
        }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pdq"));
        c.env_remove("RUST_LOG")
            .env_remove("CREDENTIALS_DIRECTORY")
            .env_remove("PDQ_AUDIT_KEY_FILE")
            .env_remove("PDQ_WORKSPACE")
            .env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env("XDG_STATE_HOME", self.home.join(".local/state"))
            .env("PDQ_AUDIT_ANCHOR_FILE", &self.anchors);
        if let Some(k) = &self.key {
            c.env("PDQ_AUDIT_KEY_FILE", k);
        }
        c
    }

    pub fn pdq(&self, args: &[&str]) -> Output {
        self.cmd()
            .args(args)
            .arg("-w")
            .arg(&self.ws)
            .output()
            .unwrap()
    }

    pub fn sweep(&self) {
        let o = self.pdq(&["sweep", "--format", "json"]);
        assert!(
            o.status.success(),
            "sweep: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    pub fn log_file(&self) -> PathBuf {
        std::fs::read_dir(self.ws.join("audit"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .max()
            .unwrap()
    }

    pub fn head(&self) -> PathBuf {
        self.ws.join("audit/head.json")
    }

    pub fn lines(&self) -> Vec<String> {
        text_lines(&self.log_file())
    }
}

/// The binary with an audit key and an anchor file outside every test
/// workspace, under `CARGO_TARGET_TMPDIR/<dir>`: without a key, `pdq audit
/// verify` fails (issue #18, 4). The key is made once, by whichever test
/// gets there first.
pub fn keyed_bin(dir: &str) -> Command {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(dir);
    let key = dir.join("audit.key");
    write_key_once(&key);
    let mut c = Command::new(env!("CARGO_BIN_EXE_pdq"));
    c.env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("RUST_LOG")
        .env("PDQ_AUDIT_KEY_FILE", key)
        .env("PDQ_AUDIT_ANCHOR_FILE", dir.join("anchors"));
    c
}

/// The binary with the user's directories under `CARGO_TARGET_TMPDIR/<home>`:
/// `pdq demo` makes the user's audit key when there is none, and it must not
/// be the machine's.
pub fn home_bin(home: &str) -> Command {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join(home);
    let mut c = Command::new(env!("CARGO_BIN_EXE_pdq"));
    c.env_remove("RUST_LOG")
        .env_remove("PDQ_AUDIT_KEY_FILE")
        .env_remove("PDQ_AUDIT_ANCHOR_FILE")
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_STATE_HOME", home.join(".local/state"));
    c
}

/// 32 random bytes, hex.
fn random_key() -> String {
    use std::io::Read;
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    hex::encode(b)
}

/// A key at `p` unless one is there: created exclusively, so tests racing
/// to make it agree on one.
fn write_key_once(p: &Path) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let key = random_key();
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(p)
    {
        Ok(mut f) => writeln!(f, "{key}").unwrap(),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => panic!("{}: {e}", p.display()),
    }
}

/// A random 32-byte key, hex, mode 0600 (what `pdq audit key-init` makes).
pub fn write_key(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, format!("{}\n", random_key())).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

pub fn text_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

pub fn write_lines(p: &Path, lines: &[String]) {
    std::fs::write(
        p,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

/// Exit 3, and one stderr line that says every one of `words`.
pub fn fails_naming(o: &Output, words: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(3),
        "expected exit 3\n--- stdout\n{}\n--- stderr\n{err}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        err.lines()
            .any(|l| words.iter().all(|w| l.to_lowercase().contains(w))),
        "expected a line naming {words:?}\n--- stderr\n{err}"
    );
}

/// Per dataset: (rows in its lake table, deliveries in the ledger); the
/// table must hold exactly what the ledger says landed.
pub fn landed(ws: &Path) -> std::collections::BTreeMap<String, (i64, usize)> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let lake = pipeline::land::Lake::open(&pipeline::land::LakeConfig::default(), ws).unwrap();
    let ledger = rt
        .block_on(pipeline::land::read_ledger(&lake, None))
        .unwrap();
    let mut out = std::collections::BTreeMap::new();
    for r in ledger {
        let e = out.entry(r.dataset.clone()).or_insert((0, 0));
        e.0 += r.rows_landed;
        e.1 += 1;
    }
    for (ds, v) in out.iter_mut() {
        let (dept, name) = ds.split_once('.').unwrap();
        let b = rt
            .block_on(lake.sql(
                &[("t", &format!("data/{dept}/{name}"))],
                "SELECT count(*) FROM t",
            ))
            .unwrap();
        let n = b[0]
            .column(0)
            .as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .unwrap()
            .value(0);
        assert_eq!(n, v.0, "{ds}: the table holds what the ledger says landed");
    }
    out
}

/// The published run's JSON and CSV files, with the run id, times and
/// check durations (`elapsed_ms`) written as RUN and TIME.
pub fn published(ws: &Path) -> std::collections::BTreeMap<String, String> {
    let latest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.join("published/latest.json")).expect("latest"))
            .expect("json");
    let run = latest["run"].as_str().expect("run id").to_string();
    let root = ws.join("published/runs").join(&run);
    let time = regex::Regex::new(
        r#"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?|"elapsed_ms": \d+"#,
    )
    .expect("regex");
    let mut out = std::collections::BTreeMap::new();
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json" || x == "csv") {
                let text = std::fs::read_to_string(&p)
                    .expect("text")
                    .replace(&run, "RUN");
                let name = p.strip_prefix(&root).expect("inside").display().to_string();
                out.insert(name, time.replace_all(&text, "TIME").into_owned());
            }
        }
    }
    out
}

/// The S3 server `ops/test.sh` starts (`PDQ_TEST_S3_ENDPOINT`); run alone,
/// a test fails without it unless `PDQ_TEST_SERVICES=off` says to skip.
pub fn s3_endpoint() -> Option<String> {
    match std::env::var("PDQ_TEST_S3_ENDPOINT") {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("PDQ_TEST_SERVICES").as_deref() == Ok("off") => {
            eprintln!("skipped: PDQ_TEST_S3_ENDPOINT is not set and PDQ_TEST_SERVICES=off");
            None
        }
        _ => panic!(
            "PDQ_TEST_S3_ENDPOINT is not set: run the suite with ops/test.sh (it starts the S3 server), or set PDQ_TEST_SERVICES=off to skip server tests"
        ),
    }
}

/// A new bucket on the S3 server at `endpoint` (`http://host:port`), made
/// with a plain HTTP PUT as the test servers accept it.
pub fn new_bucket(endpoint: &str) -> String {
    let host = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    let bucket = format!("pdq-sweep-{}-{}", std::process::id(), nanos % 1_000_000_000);
    let mut s = std::net::TcpStream::connect(&host).expect("connect to the S3 server");
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "create bucket {bucket}: {}",
        answer.lines().next().unwrap_or_default()
    );
    bucket
}

/// Puts the lake of the workspace `ws` (a demo bureau, its lake in
/// `lake/`) into a new bucket on the S3 server at `endpoint`.
pub fn lake_on_s3(ws: &Path, endpoint: &str) -> String {
    let bucket = new_bucket(endpoint);
    let config = std::fs::read_to_string(ws.join("pdq.toml")).expect("pdq.toml");
    assert!(config.contains("[lake]\nlocation = \"lake\"\n"), "{config}");
    std::fs::write(
        ws.join("pdq.toml"),
        config.replace(
            "[lake]\nlocation = \"lake\"\n",
            &format!(
                "[lake]\nlocation = \"s3://{bucket}/lake\"\ns3 = {{ endpoint = \"{endpoint}\" }}\n"
            ),
        ),
    )
    .expect("write pdq.toml");
    bucket
}

/// `pdq sweep` of the demo bureau in `ws` as of the demo's day, JSON out,
/// the user's directories in `home`, its anchors in `home/NAME.anchors`,
/// stdout dropped and stderr to `home/NAME.err`.
pub fn demo_sweep(home: &Path, ws: &Path, name: &str) -> Command {
    let mut sweep = Command::new(env!("CARGO_BIN_EXE_pdq"));
    sweep
        .args([
            "sweep",
            "--as-of",
            "2026-11-20 08:00:00",
            "--format",
            "json",
        ])
        .arg("-w")
        .arg(ws)
        .env_remove("RUST_LOG")
        .env_remove("PDQ_WORKSPACE")
        .env_remove("PDQ_AUDIT_KEY_FILE")
        .env("HOME", home)
        .env(
            "PDQ_AUDIT_ANCHOR_FILE",
            home.join(format!("{name}.anchors")),
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(
            std::fs::File::create(home.join(format!("{name}.err"))).expect("log"),
        ));
    sweep
}

//! Issue #18, 4: the audit chain cannot be rewritten unseen. Each test
//! runs real sweeps through the binary, tampers with the log the way an
//! intruder with write access to the workspace (but not to the key) could,
//! and expects `pdq audit verify` to exit 3 with a line naming the problem.
//! The key and the anchor file are in the test's temporary directory,
//! outside the workspace, as on a server (/etc/pdq, /var/lib/pdq).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

struct Bureau {
    _dir: tempfile::TempDir,
    ws: PathBuf,
    key: Option<PathBuf>,
    anchors: PathBuf,
    home: PathBuf,
}

const RULES: &str = "dataset: people\nrules:\n  - {id: id_present, dimension: completeness, check: not_null, column: id}\n";

impl Bureau {
    /// A workspace of two small CSV datasets; with a 0600 key outside it.
    fn new(with_key: bool) -> Bureau {
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

    fn cmd(&self) -> Command {
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

    fn pdq(&self, args: &[&str]) -> Output {
        self.cmd()
            .args(args)
            .arg("-w")
            .arg(&self.ws)
            .output()
            .unwrap()
    }

    fn sweep(&self) {
        let o = self.pdq(&["sweep", "--format", "json"]);
        assert!(
            o.status.success(),
            "sweep: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    fn log_file(&self) -> PathBuf {
        std::fs::read_dir(self.ws.join("audit"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .max()
            .unwrap()
    }

    fn head(&self) -> PathBuf {
        self.ws.join("audit/head.json")
    }

    fn lines(&self) -> Vec<String> {
        text_lines(&self.log_file())
    }
}

/// A random 32-byte key, hex, mode 0600 (what `pdq audit key-init` makes).
fn write_key(p: &Path) {
    use std::io::Read;
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    std::fs::write(p, format!("{}\n", hex::encode(b))).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn text_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn write_lines(p: &Path, lines: &[String]) {
    std::fs::write(p, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
}

/// Exit 3, and one stderr line that says every one of `words`.
fn fails_naming(o: &Output, words: &[&str]) {
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

/// A record's hash as pdq computes it (SHA-256 of its fields but `hash`,
/// in order): what an intruder recomputing the chain would do.
fn rehash(r: &mut serde_json::Value) {
    #[derive(serde::Serialize)]
    struct Hashed<'a> {
        seq: &'a serde_json::Value,
        time: &'a serde_json::Value,
        actor: &'a serde_json::Value,
        action: &'a serde_json::Value,
        target: &'a serde_json::Value,
        detail: &'a serde_json::Value,
        prev: &'a serde_json::Value,
    }
    let body = serde_json::to_vec(&Hashed {
        seq: &r["seq"],
        time: &r["time"],
        actor: &r["actor"],
        action: &r["action"],
        target: &r["target"],
        detail: &r["detail"],
        prev: &r["prev"],
    })
    .unwrap();
    r["hash"] = hex::encode(Sha256::digest(body)).into();
}

/// Relinks and rehashes `records` from `prev` on; returns the last hash.
fn rechain(records: &mut [serde_json::Value], mut prev: String) -> String {
    for r in records.iter_mut() {
        r["prev"] = prev.clone().into();
        rehash(r);
        prev = r["hash"].as_str().unwrap().to_string();
    }
    prev
}

fn parse(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn unparse(records: &[serde_json::Value]) -> Vec<String> {
    records.iter().map(|r| r.to_string()).collect()
}

#[test]
fn issue_18_4_an_untampered_log_verifies_with_its_anchors() {
    let b = Bureau::new(true);
    b.sweep();
    b.sweep();
    let o = b.pdq(&["audit", "verify"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("intact") && out.contains("2 anchor(s) checked"), "{out}");
    // One anchor line per sweep, outside the workspace, signed.
    let anchors = text_lines(&b.anchors);
    assert_eq!(anchors.len(), 2);
    let a: serde_json::Value = serde_json::from_str(&anchors[1]).unwrap();
    assert_eq!(a["n"], 2);
    assert_eq!(a["mac"].as_str().unwrap().len(), 64);
}

#[test]
fn issue_18_4_tamper_1_head_removed_after_tail_truncation() {
    let b = Bureau::new(true);
    b.sweep();
    let lines = b.lines();
    write_lines(&b.log_file(), &lines[..lines.len() - 2]);
    std::fs::remove_file(b.head()).unwrap();
    fails_naming(&b.pdq(&["audit", "verify"]), &["head is missing"]);
    // The next sweep does not sign over it: it stops before recording a run.
    let runs = b.pdq(&["runs", "--format", "json"]).stdout;
    let o = b.pdq(&["sweep"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("head.json is missing") && err.contains("pdq audit seal"), "{err}");
    assert_eq!(b.pdq(&["runs", "--format", "json"]).stdout, runs, "no run recorded");
    fails_naming(&b.pdq(&["audit", "verify"]), &["head is missing"]);
}

#[test]
fn issue_18_4_tamper_2_head_garbled_after_tail_truncation() {
    let b = Bureau::new(true);
    b.sweep();
    let lines = b.lines();
    write_lines(&b.log_file(), &lines[..lines.len() - 2]);
    std::fs::write(b.head(), "{\"seq\": 3, garbage").unwrap();
    fails_naming(&b.pdq(&["audit", "verify"]), &["head", "garbled"]);
}

#[test]
fn issue_18_4_tamper_3_forged_anchor_line() {
    let b = Bureau::new(true);
    b.sweep();
    // An anchor moved to an earlier record (to cover a log cut back to
    // it), without the key to sign it.
    let first: serde_json::Value = serde_json::from_str(&b.lines()[0]).unwrap();
    let good = text_lines(&b.anchors);
    let mut a: serde_json::Value = serde_json::from_str(&good[0]).unwrap();
    a["seq"] = first["seq"].clone();
    a["hash"] = first["hash"].clone();
    a["mac"] = "ab".repeat(32).into();
    write_lines(&b.anchors, &[a.to_string()]);
    fails_naming(
        &b.pdq(&["audit", "verify"]),
        &["anchor 1", "signature does not match"],
    );
    // A forged line added after a good anchor fails too.
    let b = Bureau::new(true);
    b.sweep();
    let mut a: serde_json::Value = serde_json::from_str(&text_lines(&b.anchors)[0]).unwrap();
    a["n"] = 2.into();
    a["mac"] = "00".repeat(32).into();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&b.anchors)
        .unwrap();
    writeln!(f, "{a}").unwrap();
    fails_naming(
        &b.pdq(&["audit", "verify"]),
        &["anchor 2", "signature does not match"],
    );
}

#[test]
fn issue_18_4_tamper_4_chain_recomputed_from_scratch_with_a_new_head() {
    let b = Bureau::new(true);
    b.sweep();
    // Drop the first two records and rebuild the chain from genesis,
    // renumbered, with a head of the new format and the old key id: all an
    // intruder without the key can do.
    let mut recs = parse(&b.lines())[2..].to_vec();
    for (i, r) in recs.iter_mut().enumerate() {
        r["seq"] = (i as u64 + 1).into();
    }
    let end = rechain(&mut recs, "0".repeat(64));
    write_lines(&b.log_file(), &unparse(&recs));
    let mut head: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.head()).unwrap()).unwrap();
    head["seq"] = (recs.len() as u64).into();
    head["hash"] = end.clone().into();
    head["records"] = (recs.len() as u64).into();
    std::fs::write(b.head(), head.to_string()).unwrap();
    fails_naming(&b.pdq(&["audit", "verify"]), &["head", "signature does not match"]);
    // The same with a head of the old, unsigned format.
    std::fs::write(
        b.head(),
        serde_json::json!({"seq": recs.len(), "hash": end}).to_string(),
    )
    .unwrap();
    fails_naming(&b.pdq(&["audit", "verify"]), &["unsigned"]);
}

#[test]
fn issue_18_4_tamper_5_garbage_line_in_the_middle() {
    let b = Bureau::new(true);
    b.sweep();
    let mut lines = b.lines();
    lines.insert(2, "{\"seq\":3,\"time\":\"2026-".into());
    write_lines(&b.log_file(), &lines);
    fails_naming(&b.pdq(&["audit", "verify"]), &[":3:", "garbage"]);
}

#[test]
fn issue_18_4_tamper_6_entry_edited_in_place_with_recomputed_hashes() {
    let b = Bureau::new(true);
    b.sweep();
    let mut recs = parse(&b.lines());
    recs[2]["target"] = "minzheng.forged".into();
    let prev = recs[1]["hash"].as_str().unwrap().to_string();
    let end = rechain(&mut recs[2..], prev);
    write_lines(&b.log_file(), &unparse(&recs));
    let mut head: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.head()).unwrap()).unwrap();
    head["hash"] = end.into();
    std::fs::write(b.head(), head.to_string()).unwrap();
    fails_naming(&b.pdq(&["audit", "verify"]), &["signature does not match"]);
}

#[test]
fn issue_18_4_tamper_7_anchor_file_truncated_or_rewritten() {
    let b = Bureau::new(true);
    b.sweep();
    b.sweep();
    let anchors = text_lines(&b.anchors);
    // Truncated: the last anchor removed.
    write_lines(&b.anchors, &anchors[..1]);
    fails_naming(&b.pdq(&["audit", "verify"]), &["anchor", "truncated"]);
    // Emptied, or removed.
    std::fs::write(&b.anchors, "").unwrap();
    fails_naming(&b.pdq(&["audit", "verify"]), &["anchor", "truncated"]);
    std::fs::remove_file(&b.anchors).unwrap();
    fails_naming(&b.pdq(&["audit", "verify"]), &["anchor", "truncated"]);
    // Rewritten: the two anchors swapped.
    write_lines(&b.anchors, &[anchors[1].clone(), anchors[0].clone()]);
    fails_naming(&b.pdq(&["audit", "verify"]), &["anchor", "jump"]);
    // Rewritten: a line edited into garbage.
    write_lines(&b.anchors, &[anchors[0].clone(), "{\"log\":".into()]);
    fails_naming(&b.pdq(&["audit", "verify"]), &[":2:", "garbage"]);
}

/// Cutting the log below an anchor and putting back an older, genuinely
/// signed head is caught by the anchor.
#[test]
fn issue_18_4_an_older_signed_head_put_back_is_caught_by_the_anchors() {
    let b = Bureau::new(true);
    b.sweep();
    let old_head = std::fs::read(b.head()).unwrap();
    let old_lines = b.lines();
    b.sweep();
    write_lines(&b.log_file(), &old_lines);
    std::fs::write(b.head(), old_head).unwrap();
    fails_naming(&b.pdq(&["audit", "verify"]), &["anchor", "removed from the end"]);
    // Sealing it is refused, unless a person says it is a restored backup;
    // then it is sealed under a new log id and the seal says why.
    fails_naming(&b.pdq(&["audit", "seal"]), &["not sealed", "--restart-anchors"]);
    let o = b.pdq(&["audit", "seal", "--restart-anchors"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let seal: serde_json::Value = serde_json::from_str(b.lines().last().unwrap()).unwrap();
    assert_eq!(seal["action"], "audit-seal");
    assert!(
        seal["detail"]["anchor_problem"]
            .as_str()
            .unwrap()
            .contains("removed from the end"),
        "{seal}"
    );
    assert_ne!(seal["detail"]["log"], seal["detail"]["previous_log"]);
    b.sweep();
    let o = b.pdq(&["audit", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn issue_18_4_an_incomplete_final_record_is_not_tampering() {
    let b = Bureau::new(true);
    b.sweep();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(b.log_file())
        .unwrap();
    f.write_all(b"{\"seq\":99,\"time\":\"2026-").unwrap();
    drop(f);
    let n = b.lines().len();
    let o = b.pdq(&["audit", "verify"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(&format!("incomplete final record at {}:{n}", b.log_file().display()))
            && out.contains("not tampering"),
        "{out}"
    );
    // The next sweep removes it, and the log verifies whole.
    b.sweep();
    let o = b.pdq(&["audit", "verify"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(!out.contains("incomplete"), "{out}");
    assert!(b.lines().iter().all(|l| !l.contains("\"seq\":99")));
}

#[test]
fn issue_18_4_a_key_inside_the_workspace_is_refused() {
    let mut b = Bureau::new(true);
    let inside = b.ws.join("audit.key");
    write_key(&inside);
    b.key = Some(inside.clone());
    for args in [&["sweep"][..], &["audit", "verify"][..]] {
        let o = b.pdq(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("inside the workspace"), "{args:?}: {err}");
    }
    let o = b.pdq(&["audit", "key-init", "--out", b.ws.join("new.key").to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("inside the workspace"), "{err}");
    assert!(!b.ws.join("new.key").exists());
}

#[test]
fn issue_18_4_key_init_writes_0600_and_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt;
    let b = Bureau::new(false);
    let key = b.home.join("keys/audit.key");
    let o = b.pdq(&["audit", "key-init", "--out", key.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let first = std::fs::read(&key).unwrap();
    assert_eq!(String::from_utf8_lossy(&first).trim().len(), 64);
    let o = b.pdq(&["audit", "key-init", "--out", key.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert_eq!(std::fs::read(&key).unwrap(), first, "the key is unchanged");
    // Outside any workspace (the current directory has no pdq.toml), a
    // relative path is fine.
    let o = b
        .cmd()
        .current_dir(key.parent().unwrap())
        .args(["audit", "key-init", "--out", "second.key"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(key.parent().unwrap().join("second.key").exists());
    // A key others can read is refused.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = b
        .cmd()
        .env("PDQ_AUDIT_KEY_FILE", &key)
        .args(["audit", "verify", "-w"])
        .arg(&b.ws)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
}

/// No key anywhere: sweeps work, verification fails saying the log is
/// unsigned and how to set a key up; a key and `pdq audit seal` then make
/// it verify, and the seal is in the log.
#[test]
fn issue_18_4_without_a_key_verify_fails_until_a_person_seals_the_log() {
    if Path::new("/etc/pdq/audit.key").exists() {
        eprintln!("skipped: this machine has /etc/pdq/audit.key");
        return;
    }
    let mut b = Bureau::new(false);
    b.sweep();
    fails_naming(&b.pdq(&["audit", "verify"]), &["unsigned", "pdq audit key-init"]);
    let key = b.home.join("keys/audit.key");
    let o = b.pdq(&["audit", "key-init", "--out", key.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    b.key = Some(key);
    b.sweep(); // appends, but does not sign what nobody checked
    fails_naming(&b.pdq(&["audit", "verify"]), &["unsigned", "pdq audit seal"]);
    let o = b.pdq(&["audit", "seal"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("sealed"), "{out}");
    let last: serde_json::Value = serde_json::from_str(b.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "audit-seal");
    assert!(last["detail"]["previous_head"].as_str().unwrap().contains("unsigned"));
    assert_eq!(b.pdq(&["audit", "verify"]).status.code(), Some(0));
}

/// `pdq demo` on a machine with no key makes the user's own key (0600,
/// outside the demo workspace), and its log verifies.
#[test]
fn issue_18_4_the_demo_makes_a_user_key_and_its_log_verifies() {
    if Path::new("/etc/pdq/audit.key").exists() || Path::new("/var/lib/pdq").exists() {
        eprintln!("skipped: this machine has /etc/pdq/audit.key or /var/lib/pdq");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let b = Bureau::new(false);
    let out = b.ws.parent().unwrap().join("demo");
    let o = b
        .cmd()
        .env_remove("PDQ_AUDIT_ANCHOR_FILE")
        .args(["demo", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let key = b.home.join(".config/pdq/audit.key");
    assert!(text.contains(&key.display().to_string()), "{text}");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let v = b
        .cmd()
        .env_remove("PDQ_AUDIT_ANCHOR_FILE")
        .args(["audit", "verify", "-w"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );
    assert!(b.home.join(".local/state/pdq/audit-anchors").exists());
}

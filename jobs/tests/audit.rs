//! Issue #18, 4: the audit chain cannot be rewritten unseen. Each test
//! runs real sweeps through the binary, tampers with the log the way an
//! intruder with write access to the workspace (but not to the key) could,
//! and expects `pdq audit verify` to exit 3 with a line naming the problem.
//! The key and the anchor file are in the test's temporary directory,
//! outside the workspace, as on a server (/etc/pdq, /var/lib/pdq).

mod common;

use std::io::Write;

use common::{Bureau, fails_naming, text_lines, write_lines};
use sha2::{Digest, Sha256};

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
    assert!(
        out.contains("intact") && out.contains("2 anchor(s) checked"),
        "{out}"
    );
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
    assert!(
        err.contains("head.json is missing") && err.contains("pdq audit seal"),
        "{err}"
    );
    assert_eq!(
        b.pdq(&["runs", "--format", "json"]).stdout,
        runs,
        "no run recorded"
    );
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
    fails_naming(
        &b.pdq(&["audit", "verify"]),
        &["head", "signature does not match"],
    );
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
    fails_naming(
        &b.pdq(&["audit", "verify"]),
        &["anchor", "removed from the end"],
    );
    // Sealing it is refused, unless a person says it is a restored backup;
    // then it is sealed under a new log id and the seal says why.
    fails_naming(
        &b.pdq(&["audit", "seal"]),
        &["not sealed", "--restart-anchors"],
    );
    let o = b.pdq(&["audit", "seal", "--restart-anchors"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
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
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
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
        out.contains(&format!(
            "incomplete final record at {}:{n}",
            b.log_file().display()
        )) && out.contains("not tampering"),
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

//! Issue #18, 4: the audit key. It is found outside the workspace and
//! refused inside it or open to others; `pdq audit key-init` writes it
//! 0600 and never over a key; without one the log is written unsigned and
//! `pdq audit verify` fails until a person seals it; `pdq demo` makes the
//! user's own key on a machine with none.

mod common;

use std::path::Path;

use common::{Bureau, fails_naming, write_key};

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
    let o = b.pdq(&[
        "audit",
        "key-init",
        "--out",
        b.ws.join("new.key").to_str().unwrap(),
    ]);
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
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
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
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
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
    fails_naming(
        &b.pdq(&["audit", "verify"]),
        &["unsigned", "pdq audit key-init"],
    );
    let key = b.home.join("keys/audit.key");
    let o = b.pdq(&["audit", "key-init", "--out", key.to_str().unwrap()]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    b.key = Some(key);
    b.sweep(); // appends, but does not sign what nobody checked
    fails_naming(
        &b.pdq(&["audit", "verify"]),
        &["unsigned", "pdq audit seal"],
    );
    let o = b.pdq(&["audit", "seal"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("sealed"), "{out}");
    let last: serde_json::Value = serde_json::from_str(b.lines().last().unwrap()).unwrap();
    assert_eq!(last["action"], "audit-seal");
    assert!(
        last["detail"]["previous_head"]
            .as_str()
            .unwrap()
            .contains("unsigned")
    );
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
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
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

use std::io::Write;

use super::*;

/// A workspace with an audit log of `n` records, signed with a test key,
/// anchored into a file beside (outside) the workspace.
fn log_with(n: usize) -> (tempfile::TempDir, AuditLog) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(&ws).unwrap();
    let key = AuditKey::from_bytes(&[7u8; 32], &dir.path().join("audit.key"));
    let log = AuditLog::with_key(
        &ws.join("audit"),
        Some(key),
        Some(dir.path().join("anchors")),
    );
    for i in 0..n {
        log.append(
            "job:sweep",
            "ingest",
            &format!("gongan.d{i}"),
            serde_json::json!({"rows": i}),
        )
        .unwrap();
    }
    (dir, log)
}

fn file(log: &AuditLog) -> PathBuf {
    log.files().unwrap().pop().unwrap()
}

fn lines_of(f: &Path) -> Vec<String> {
    std::fs::read_to_string(f)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn write_lines(f: &Path, lines: &[String]) {
    std::fs::write(
        f,
        lines.iter().map(|l| format!("{l}\n")).collect::<String>(),
    )
    .unwrap();
}

#[test]
fn an_intact_log_verifies() {
    let (_d, log) = log_with(5);
    log.anchor().unwrap().unwrap();
    log.append("job:sweep", "check", "gongan.d1", serde_json::json!({}))
        .unwrap();
    let v = log.verify().unwrap();
    assert_eq!((v.records, v.first, v.last), (6, Some(1), Some(6)));
    assert_eq!(v.anchors.unwrap().checked, 1);
    assert!(v.incomplete.is_none());
}

#[test]
fn an_edited_record_is_detected() {
    let (_d, log) = log_with(5);
    let f = file(&log);
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("\"rows\":2", "\"rows\":200");
    std::fs::write(&f, text).unwrap();
    let e = log.verify().unwrap_err().to_string();
    assert!(
        e.contains(":3:") && e.contains("record 3") && e.contains("edited"),
        "{e}"
    );
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_next_link() {
    let (_d, log) = log_with(5);
    let f = file(&log);
    let mut recs = log.records().unwrap();
    recs[1].target = "forged".into();
    recs[1].hash = recs[1].compute_hash();
    let text: Vec<String> = recs
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    write_lines(&f, &text);
    let e = log.verify().unwrap_err().to_string();
    assert!(e.contains("record 3") && e.contains("does not link"), "{e}");
}

#[test]
fn a_deleted_record_is_detected() {
    let (_d, log) = log_with(5);
    let f = file(&log);
    let mut lines = lines_of(&f);
    lines.remove(1);
    write_lines(&f, &lines);
    let e = log.verify().unwrap_err().to_string();
    assert!(
        e.contains("record 2") && e.contains("jumps from 1 to 3"),
        "{e}"
    );
    // Removing the last records is caught by the head.
    let (_d2, log2) = log_with(4);
    let f2 = file(&log2);
    write_lines(&f2, &lines_of(&f2)[..3]);
    let e = log2.verify().unwrap_err().to_string();
    assert!(e.contains("removed from the end"), "{e}");
    // …and appending after it is refused rather than covering it up.
    let e = log2
        .append("job:sweep", "check", "x", serde_json::json!({}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("ends at record 3") && e.contains("seal"), "{e}");
}

/// A crash mid-write leaves a cut-off last line: reported as such (not
/// tampering), and removed by the next append. (Before issue #18, 4 the
/// append closed it off with a newline and it stayed as a "torn" line in
/// the middle; a line in the middle that is not a record is now tampering.)
#[test]
fn an_incomplete_final_record_is_reported_not_hidden_and_the_log_goes_on() {
    let (_d, log) = log_with(2);
    let f = file(&log);
    let mut fh = OpenOptions::new().append(true).open(&f).unwrap();
    fh.write_all(b"{\"seq\":3,\"time\":\"2026-").unwrap(); // crash mid-write
    let v = log.verify().unwrap();
    assert_eq!(v.records, 2);
    assert_eq!(v.incomplete, Some(format!("{}:3", f.display())));
    log.append("job:sweep", "check", "gongan.d9", serde_json::json!({}))
        .unwrap();
    let v = log.verify().unwrap();
    assert_eq!((v.records, v.incomplete), (3, None));
    assert_eq!(lines_of(&f).len(), 3, "the fragment is gone");
}

#[test]
fn a_garbage_line_in_the_middle_is_tampering() {
    let (_d, log) = log_with(3);
    let f = file(&log);
    let mut lines = lines_of(&f);
    lines.insert(1, "{\"seq\":2,\"time\":\"2026-".into());
    write_lines(&f, &lines);
    let e = log.verify().unwrap_err();
    assert!(e.is_verdict());
    let e = e.to_string();
    assert!(e.contains(":2:") && e.contains("garbage"), "{e}");
}

#[test]
fn without_a_key_the_log_is_written_but_does_not_verify_until_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let anchors = dir.path().join("anchors");
    let bare = AuditLog::with_key(&ws.join("audit"), None, Some(anchors.clone()));
    for i in 0..3 {
        bare.append(
            "job:sweep",
            "ingest",
            &format!("d{i}"),
            serde_json::json!({}),
        )
        .unwrap();
    }
    assert!(bare.anchor().unwrap().is_none(), "nothing signed to anchor");
    let e = bare.verify().unwrap_err();
    assert!(matches!(e, AuditError::Unsigned { .. }), "{e}");
    assert!(e.to_string().contains("pdq audit key-init"), "{e}");
    // A key appears: appends do not sign what nobody checked…
    let key = AuditKey::from_bytes(&[9u8; 32], &dir.path().join("k"));
    let log = AuditLog::with_key(&ws.join("audit"), Some(key), Some(anchors));
    log.append("job:sweep", "ingest", "d3", serde_json::json!({}))
        .unwrap();
    let e = log.verify().unwrap_err().to_string();
    assert!(
        e.contains("unsigned") && e.contains("pdq audit seal"),
        "{e}"
    );
    // …a person seals it, and the seal is in the log.
    let Sealed::Sealed(r) = log.seal("cli:audit (tester)", false).unwrap() else {
        panic!("sealed")
    };
    assert_eq!((r.seq, r.action.as_str()), (5, "audit-seal"));
    assert_eq!(r.detail["sealed_seq"], 4);
    assert!(
        r.detail["previous_head"]
            .as_str()
            .unwrap()
            .contains("unsigned")
    );
    assert_eq!(log.verify().unwrap().records, 5);
    assert!(matches!(
        log.seal("again", false).unwrap(),
        Sealed::Already(_)
    ));
}

#[test]
fn a_removed_head_stops_appends_and_verification() {
    let (_d, log) = log_with(3);
    std::fs::remove_file(log.head_path()).unwrap();
    let e = log.verify().unwrap_err().to_string();
    assert!(e.contains("head is missing"), "{e}");
    let e = log
        .append("job:sweep", "check", "x", serde_json::json!({}))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing"), "{e}");
}

#[test]
fn pruning_keeps_the_retention_period_and_the_chain() {
    let (_d, log) = log_with(3);
    // Move the records into an old year's file, as if written in 2021.
    let f = file(&log);
    std::fs::rename(&f, log.year_file(2021)).unwrap();
    log.append("job:sweep", "publish", "site", serde_json::json!({}))
        .unwrap();
    log.anchor().unwrap().unwrap();
    let now: DateTime<Utc> = "2026-11-22T00:00:00Z".parse().unwrap();
    // Three years' retention: 2021 ended almost five years ago.
    let gone = log.prune(3, now).unwrap();
    assert_eq!(gone, vec![log.year_file(2021)]);
    let v = log.verify().unwrap();
    assert_eq!(
        (v.records, v.first),
        (1, Some(4)),
        "the rest verifies from the base"
    );
    // Nothing within the period is pruned.
    assert!(log.prune(3, now).unwrap().is_empty());
}

/// A log from before signed heads (`{"seq","hash"}`, the old `anchor.json`
/// prune base): appends go on, unsigned; verification says so; a seal
/// signs it, carrying the old base over.
#[test]
fn a_log_from_before_signed_heads_is_sealed_by_a_person() {
    let (_d, log) = log_with(3);
    let recs = log.records().unwrap();
    // As an old pdq left it: records 1–2 pruned long ago.
    let f = file(&log);
    write_lines(&f, &lines_of(&f)[2..]);
    std::fs::write(
        log.dir.join("anchor.json"),
        serde_json::json!({"seq": 2, "hash": recs[1].hash}).to_string(),
    )
    .unwrap();
    std::fs::write(
        log.head_path(),
        serde_json::json!({"seq": 3, "hash": recs[2].hash}).to_string(),
    )
    .unwrap();
    let e = log.verify().unwrap_err().to_string();
    assert!(
        e.contains("unsigned") && e.contains("pdq audit seal"),
        "{e}"
    );
    let r = log
        .append("job:sweep", "check", "x", serde_json::json!({}))
        .unwrap();
    assert_eq!(r.seq, 4);
    assert!(log.verify().unwrap_err().to_string().contains("unsigned"));
    assert!(matches!(
        log.seal("cli:audit", false).unwrap(),
        Sealed::Sealed(_)
    ));
    let v = log.verify().unwrap();
    assert_eq!((v.records, v.first, v.last), (3, Some(3), Some(5)));
}

/// A crash (kill -9) inside an append, at each of its writes: after the
/// signed head names the record, and after the record, before the head
/// moves. The log verifies as it stands, the next append completes or
/// drops the interrupted one and goes on, and the head stays signed. The
/// very first append of a log too (its head did not exist before it).
#[test]
fn an_append_killed_between_its_writes_is_completed_by_the_next() {
    for first in [true, false] {
        let (_d, log) = log_with(if first { 0 } else { 3 });
        let key = log.key().unwrap();
        let before = log.records().unwrap().len();
        std::fs::create_dir_all(&log.dir).unwrap();
        // Killed after the record, before the head moved.
        let (h, signable) = log.head_to_extend(key.as_ref()).unwrap();
        assert!(signable);
        let r = log.record_after(&h, "job:sweep", "ingest", "gongan.x", serde_json::json!({}));
        let mut intent = h.clone();
        intent.pending = Some(r.hash.clone());
        intent.sign(key.as_ref());
        head::write_json(&log.dir, head::HEAD, &intent).unwrap();
        log.write_record(&r).unwrap();
        let v = log.verify().unwrap();
        assert_eq!(v.records as usize, before + 1, "the written record counts");
        let next = log
            .append("job:sweep", "check", "gongan.y", serde_json::json!({}))
            .unwrap();
        assert_eq!(next.seq, r.seq + 1, "the interrupted record is kept, once");
        assert_eq!(next.prev, r.hash);
        // Killed after the signed head named a record, before the record.
        let (h, _) = log.head_to_extend(key.as_ref()).unwrap();
        let lost = log.record_after(&h, "job:sweep", "ingest", "gongan.z", serde_json::json!({}));
        let mut intent = h.clone();
        intent.pending = Some(lost.hash.clone());
        intent.sign(key.as_ref());
        head::write_json(&log.dir, head::HEAD, &intent).unwrap();
        log.verify().unwrap();
        let after = log
            .append("job:sweep", "check", "gongan.w", serde_json::json!({}))
            .unwrap();
        assert_eq!(
            after.seq,
            next.seq + 1,
            "the record never written leaves no gap"
        );
        let v = log.verify().unwrap();
        assert_eq!(v.records as usize, before + 3);
        let head = match head::load(&log.dir).unwrap() {
            HeadState::Present(h) => h,
            other => panic!("{other:?}"),
        };
        assert!(head.pending.is_none() && head.mac.is_some(), "{head:?}");
    }
}

/// A record added after the head without the head naming it (no key, no
/// intent) is still refused, not completed.
#[test]
fn a_record_added_past_an_unnamed_head_is_refused() {
    let (_d, log) = log_with(2);
    let key = log.key().unwrap();
    let (h, _) = log.head_to_extend(key.as_ref()).unwrap();
    let r = log.record_after(&h, "someone", "ingest", "gongan.x", serde_json::json!({}));
    log.write_record(&r).unwrap();
    let e = log
        .append("job:sweep", "check", "gongan.y", serde_json::json!({}))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the log ends at record 3 but head.json says 2"),
        "{e}"
    );
    assert!(log.verify().is_err());
}

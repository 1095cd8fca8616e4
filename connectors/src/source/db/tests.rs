//! Unit tests of the database source: TLS and schemes, recorded watermarks,
//! table names, recorded state and equal rows.

use super::link::server_of;
use super::pager::take_one;
use super::sql::{literal, quote_part, session_text, table_parts};
use super::*;

/// Issue #18, 8 and #23, 8: TLS is required off this machine unless
/// the URL chooses a mode; the scheme must match the source's kind.
#[test]
fn tls_by_default_off_this_machine_and_schemes_match_kinds() {
    let tls = |u: &str, d| super::Link::of(u, d).map(|l| l.require_tls);
    use super::Dialect::{Mysql, Postgres};
    assert_eq!(
        tls("postgres://u:p@db.bureau.example/x", Postgres),
        Ok(true)
    );
    assert_eq!(tls("postgresql://u:p@10.1.2.3:5432/x", Postgres), Ok(true));
    assert_eq!(tls("mysql://u:p@db.bureau.example/x", Mysql), Ok(true));
    // The explicit opt-out (or any explicit mode) is the URL's.
    assert_eq!(
        tls(
            "postgres://u:p@db.bureau.example/x?sslmode=disable",
            Postgres
        ),
        Ok(false)
    );
    assert_eq!(
        tls("mysql://u:p@db.bureau.example/x?ssl-mode=DISABLED", Mysql),
        Ok(false)
    );
    // This machine: loopback names and addresses.
    assert_eq!(tls("postgres://u:p@127.0.0.1:55432/x", Postgres), Ok(false));
    assert_eq!(tls("postgres://u:p@localhost/x", Postgres), Ok(false));
    assert_eq!(tls("mysql://u:p@[::1]:3306/x", Mysql), Ok(false));
    // The wrong scheme for the kind.
    let e = tls("mysql://u:p@127.0.0.1/x", Postgres).unwrap_err();
    assert!(e.contains("needs a postgres:// URL, found mysql://"), "{e}");
    assert!(tls("postgres://u:p@127.0.0.1/x", Mysql).is_err());
}

#[test]
fn recorded_watermarks_compare_in_the_session_old_and_new() {
    // New: a MariaDB TIMESTAMP watermark carries the offset pdq added.
    assert_eq!(
        session_text(Dialect::Mysql, "2026-11-01 00:00:02+00:00"),
        "2026-11-01 00:00:02"
    );
    // Old ledgers: the same UTC text without it, unchanged.
    assert_eq!(
        session_text(Dialect::Mysql, "2026-11-01 00:00:02.000000"),
        "2026-11-01 00:00:02.000000"
    );
    // PostgreSQL reads its own offsets.
    assert_eq!(
        session_text(Dialect::Postgres, "2026-11-01 00:00:02+00"),
        "2026-11-01 00:00:02+00"
    );
    assert_eq!(
        literal(Dialect::Mysql, "O'Brien \\"),
        "'O''Brien \\\\'".to_string()
    );
}

/// Issue #23, G: a table is split at dots outside double quotes.
#[test]
fn table_names_split_at_dots_outside_quotes() {
    assert_eq!(table_parts("t"), vec!["t"]);
    assert_eq!(table_parts("public.t"), vec!["public", "t"]);
    assert_eq!(table_parts("\"a.b\""), vec!["a.b"]);
    assert_eq!(table_parts("s.\"a.b\""), vec!["s", "a.b"]);
    assert_eq!(table_parts("\"say \"\"hi\"\".x\""), vec!["say \"hi\".x"]);
    assert_eq!(quote_part(Dialect::Mysql, "a`b"), "`a``b`");
    assert_eq!(
        server_of("mysql://127.0.0.1:53306/pdq", Dialect::Mysql),
        "127.0.0.1:53306"
    );
    assert_eq!(
        server_of("postgres://db.example/x", Dialect::Postgres),
        "db.example:5432"
    );
}

#[test]
fn a_state_counts_only_for_its_own_watermark() {
    let s = serde_json::to_string(&DbState {
        watermark: Some("w1".into()),
        at_watermark: vec!["k:1".into()],
        null_watermark: vec![],
    })
    .unwrap();
    assert!(DbState::known(Some(&s), Some("w1")).is_some());
    assert!(DbState::known(Some(&s), Some("w2")).is_none());
    assert!(DbState::known(Some("not json"), Some("w1")).is_none());
    assert!(DbState::known(None, Some("w1")).is_none());
}

#[test]
fn equal_rows_are_recognised_as_often_as_they_were_read() {
    let mut seen = HashMap::from([("h:a".to_string(), 2)]);
    assert!(take_one(&mut seen, "h:a"));
    assert!(take_one(&mut seen, "h:a"));
    assert!(!take_one(&mut seen, "h:a"), "a third equal row is new");
    assert!(!take_one(&mut seen, "h:b"));
}

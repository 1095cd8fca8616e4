use chrono::TimeZone;

use super::*;
use crate::profile::profile;

fn tz() -> Tz {
    "Asia/Shanghai".parse().unwrap()
}

/// 09:00 Beijing time on 2026-`m`-`d`.
fn at(m: u32, d: u32) -> DateTime<Utc> {
    tz().with_ymd_and_hms(2026, m, d, 9, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap()
}

fn filed(t: DateTime<Utc>) -> ObjectionEvent {
    let mut e = ObjectionEvent::new("2026-0001", 0, t, Action::Filed, "test");
    e.department = Some("minzheng".into());
    e.dataset = Some("minzheng.marriage".into());
    e.key_column = Some("id_number".into());
    e.key_value = Some("65010219900101123X".into());
    e.field = Some("name".into());
    e.value = Some("张三丰".into());
    e.text = Some("姓名错误，身份证 65010219900101123X".into());
    e.reporter = Some(Reporter::Citizen);
    e.contact = Some("13800138000".into());
    e
}

fn then(seq: i64, t: DateTime<Utc>, action: Action) -> ObjectionEvent {
    let mut e = ObjectionEvent::new("2026-0001", seq, t, action, "test");
    e.department = Some("minzheng".into());
    e
}

fn wuzhong() -> Deadlines {
    Deadlines::of(&profile("wuzhong-2024").unwrap())
}

fn fold(events: &[ObjectionEvent], as_of: DateTime<Utc>, d: &Deadlines) -> Objection {
    Objection::fold(events, as_of, d, &WorkCalendar::embedded(), tz()).unwrap()
}

fn step<'a>(o: &'a Objection, name: &str) -> &'a StepDue {
    o.steps.iter().find(|s| s.step == name).unwrap()
}

#[test]
fn each_step_is_due_in_the_working_days_of_its_article() {
    // Filed on Thursday 2026-09-24; Mid-autumn (09-25..27) and National
    // Day (10-01..07) follow, with 10-10 (a Saturday) a make-up workday.
    let o = fold(&[filed(at(9, 24))], at(9, 24), &wuzhong());
    let forward = step(&o, "forward");
    // 2 working days (吴忠 第二十一条): 09-28, 09-29.
    assert_eq!(forward.due, Some(day(9, 29)));
    assert!(forward.basis.contains("第二十一条"), "{}", forward.basis);
    assert_eq!(forward.status, "open");
    let verify = step(&o, "verify");
    // Not forwarded: 5 working days from filing: 28, 29, 30, 10-08, 10-09.
    assert_eq!(verify.due, Some(day(10, 9)));
    assert_eq!(o.state, State::Filed);
    assert!(!o.overdue);

    // On 09-30 the forwarding is overdue, the verification not yet.
    let o = fold(&[filed(at(9, 24))], at(9, 30), &wuzhong());
    assert!(step(&o, "forward").is_overdue());
    assert_eq!(step(&o, "verify").status, "open");
    assert!(o.overdue);

    // Forwarded on 09-30 (late), verified on 10-09: 5 working days from
    // 09-30 are 10-08, 10-09, 10-10 (make-up Saturday), 10-12, 10-13.
    let events = [
        filed(at(9, 24)),
        then(1, at(9, 30), Action::Forwarded),
        then(2, at(10, 9), Action::Upheld),
    ];
    let o = fold(&events, at(10, 9), &wuzhong());
    assert_eq!(step(&o, "forward").status, "late");
    assert_eq!(step(&o, "verify").from, day(9, 30));
    assert_eq!(step(&o, "verify").due, Some(day(10, 13)));
    assert_eq!(step(&o, "verify").status, "on_time");
    // Answered directly, never forwarded: it reached the department when
    // it answered (on 09-29, on time).
    let direct = [filed(at(9, 24)), then(1, at(9, 29), Action::Rejected)];
    let d = fold(&direct, at(12, 1), &wuzhong());
    assert_eq!(step(&d, "forward").done, Some(day(9, 29)));
    assert_eq!(step(&d, "forward").status, "on_time");
    // Upheld: the correction is due by the rectification deadline, which no
    // text sets (the bureau's default: 10 working days).
    let correct = step(&o, "correct");
    assert_eq!(correct.from, day(10, 9));
    assert!(
        correct.basis.contains("not in the text"),
        "{}",
        correct.basis
    );
    assert_eq!(o.state, State::Upheld);
}

#[test]
fn a_text_without_a_period_gives_no_due_date() {
    let d = Deadlines::of(&profile("ganzi-2025").unwrap());
    let o = fold(&[filed(at(1, 5))], at(12, 1), &d);
    assert!(o.steps.iter().all(|s| s.step != "forward"));
    assert_eq!(step(&o, "verify").due, None);
    assert_eq!(step(&o, "verify").status, "no_deadline");
    assert!(!o.overdue);
}

#[test]
fn a_reopened_correction_is_upheld_again_and_its_deadline_runs_on() {
    let events = [
        filed(at(3, 2)),
        then(1, at(3, 3), Action::Forwarded),
        then(2, at(3, 4), Action::Upheld),
        then(3, at(3, 5), Action::Corrected),
        then(4, at(3, 6), Action::Reopened),
    ];
    let o = fold(&events, at(4, 30), &wuzhong());
    assert_eq!(o.state, State::Upheld);
    assert_eq!(o.reopened, 1);
    let c = step(&o, "correct");
    assert_eq!(c.done, None);
    assert!(c.is_overdue());
    assert!(o.overdue);
    // As of before the re-opening, it was corrected on time.
    let o = fold(&events, at(3, 5), &wuzhong());
    assert_eq!(o.state, State::Corrected);
    assert_eq!(step(&o, "correct").status, "on_time");
}

#[test]
fn only_allowed_steps_by_the_responsible_department() {
    let d = wuzhong();
    let o = fold(&[filed(at(3, 2))], at(3, 2), &d);
    // Another department cannot answer.
    let e = allowed(&o, Action::Upheld, Some("gongan")).unwrap_err();
    assert!(e.to_string().contains("`minzheng`"), "{e}");
    allowed(&o, Action::Upheld, Some("minzheng")).unwrap();
    // Nothing to close yet, nothing to correct.
    assert!(allowed(&o, Action::Closed, None).is_err());
    assert!(allowed(&o, Action::Corrected, Some("minzheng")).is_err());
    // Corrected but not confirmed: cannot close (it names a value).
    let events = [
        filed(at(3, 2)),
        then(1, at(3, 4), Action::Upheld),
        then(2, at(3, 5), Action::Corrected),
    ];
    let o = fold(&events, at(3, 5), &d);
    let e = allowed(&o, Action::Closed, None).unwrap_err();
    assert!(e.to_string().contains("not yet confirmed"), "{e}");
    // Closed twice.
    let mut events = events.to_vec();
    events.push(then(3, at(3, 6), Action::Confirmed));
    events.push(then(4, at(3, 6), Action::Closed));
    let o = fold(&events, at(3, 7), &d);
    let e = allowed(&o, Action::Closed, None).unwrap_err();
    assert!(e.to_string().contains("already closed"), "{e}");
}

#[test]
fn what_is_shown_is_masked() {
    let o = fold(&[filed(at(3, 2))], at(3, 2), &wuzhong()).masked();
    let shown = serde_json::to_string(&o).unwrap();
    for secret in ["65010219900101123X", "张三丰", "13800138000"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert_eq!(o.contact.as_deref(), Some("138****8000"));
    assert_eq!(o.value.as_deref(), Some("张**"));
}

#[test]
fn tallies_count_on_time_late_and_overdue_steps() {
    let d = wuzhong();
    let events = [
        filed(at(9, 24)),
        then(1, at(9, 30), Action::Forwarded),
        then(2, at(10, 9), Action::Rejected),
        then(3, at(10, 9), Action::Closed),
    ];
    let a = fold(&events, at(11, 30), &d);
    let b = fold(&[filed(at(9, 24))], at(11, 30), &d);
    let mut t = ObjectionTally::default();
    t.add(&a);
    t.add(&b);
    assert_eq!(t.filed, 2);
    assert_eq!(t.open, 1);
    assert_eq!(t.overdue, 1);
    // a: forward late, verify on time; b: both overdue.
    assert_eq!((t.steps_on_time, t.steps_late, t.steps_overdue), (1, 1, 2));
    assert_eq!(t.on_time_rate(), Some(25.0));
}

//! The catalog-update clock (recorded changes of law or function) and the
//! approval of lowered attributes (issue #17, 6 and 8).

use super::*;
use crate::catalog::approvals::{self, Approval};
use crate::catalog::checks::check_with_approvals;
use crate::catalog::events::{self, ChangeEvent, ClockState, EventKind};

fn at(y: i32, m: u32, day: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, 2, 0, 0).unwrap()
}

/// Two 公安 entries, tpl:A1 and tpl:A2.
fn two_entries() -> CatalogState {
    let mut st = CatalogState::default();
    run(
        &mut st,
        &def("tpl", Some("gongan")),
        vec![good("A1", "户籍人口"), good("A2", "婚姻")],
        &Curation::default(),
        1,
    );
    st
}

fn event(entries: &[&str]) -> ChangeEvent {
    ChangeEvent {
        department: "gongan".into(),
        date: d(2026, 9, 24),
        kind: EventKind::Law,
        basis: "《户口登记条例》修订".into(),
        entries: entries.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn an_event_starts_the_clock_in_working_days_over_national_day() {
    let mut st = two_entries();
    st.entries.get_mut("tpl:A1").unwrap().updated = vec![at(2026, 9, 1), at(2026, 10, 20)];
    st.entries.get_mut("tpl:A2").unwrap().updated = vec![at(2026, 9, 1)];
    let ganzi = profile("ganzi-2025").unwrap();
    let cal = WorkCalendar::embedded();
    let ev = [event(&[])];
    // 15 working days from Thursday 24 September 2026: 25–27 September
    // (中秋) and 1–7 October (国庆) are off; 28, 29, 30 September, 8, 9
    // and Saturday 10 October (a make-up working day), 12–16, 19–22
    // October. Without the holidays it would be 15 October.
    let c = events::clocks(&ev, &st, &ganzi, &cal, TZ, d(2026, 10, 23)).unwrap();
    assert_eq!(
        c.len(),
        2,
        "no entries listed: every entry of the department"
    );
    assert!(c.iter().all(|c| c.due == d(2026, 10, 22)), "{c:?}");
    let state = |k: &str| c.iter().find(|c| c.key == k).unwrap().state;
    assert_eq!(state("tpl:A1"), ClockState::Updated);
    assert_eq!(state("tpl:A2"), ClockState::Overdue);
    // On the due date nothing is overdue yet.
    assert!(
        events::overdue(&ev, &st, &ganzi, &cal, TZ, d(2026, 10, 22))
            .unwrap()
            .is_empty()
    );
    // The day after, the entry not updated is, citing 甘孜 第八条.
    let f = events::overdue(&ev, &st, &ganzi, &cal, TZ, d(2026, 10, 23)).unwrap();
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].check, "catalog_update_overdue");
    assert_eq!(f[0].key.as_deref(), Some("tpl:A2"));
    for words in [
        "法律法规规章修改 on 2026-09-24",
        "due by 2026-10-22",
        "15 working days",
        "第八条",
        "应当在15个工作日内更新公共数据目录",
    ] {
        assert!(f[0].message.contains(words), "{words}: {}", f[0].message);
    }
    // An update after the due date is late, still a finding.
    st.entries
        .get_mut("tpl:A2")
        .unwrap()
        .updated
        .push(at(2026, 10, 26));
    let f = events::overdue(&ev, &st, &ganzi, &cal, TZ, d(2026, 11, 2)).unwrap();
    assert_eq!(f.len(), 1);
    assert!(
        f[0].message.contains("updated only on 2026-10-26"),
        "{}",
        f[0].message
    );
    // An event naming one entry leaves the other alone.
    let only_a1 = [event(&["tpl:A1"])];
    assert!(
        events::overdue(&only_a1, &st, &ganzi, &cal, TZ, d(2026, 11, 2))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn events_naming_an_unknown_entry_are_refused_with_file_and_line() {
    let st = two_entries();
    let dir = tempfile::tempdir().unwrap();
    let e = events::record(dir.path(), &event(&["tpl:Z9"]), &st).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("catalog-changes.toml") && msg.contains("`tpl:Z9`") && !msg.contains('\n'),
        "{msg}"
    );
    assert!(!dir.path().join(events::FILE).exists());
    let mut typo = event(&[]);
    typo.department = "gongn".into();
    let msg = events::record(dir.path(), &typo, &st)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("`gongn` has no catalog entry; expected one of gongan"),
        "{msg}"
    );
    // A good one is appended, and reads back.
    events::record(dir.path(), &event(&["tpl:A1"]), &st).unwrap();
    events::record(dir.path(), &event(&[]), &st).unwrap();
    assert_eq!(
        events::load(dir.path(), &st).unwrap(),
        vec![event(&["tpl:A1"]), event(&[])]
    );
    // A hand-edited file with an unknown key: the line of its [[change]].
    let path = dir.path().join(events::FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("tpl:A1", "tpl:Z9")).unwrap();
    let msg = events::load(dir.path(), &st).unwrap_err().to_string();
    assert!(
        msg.contains("line 3 ([[change]] 1)") && msg.contains("`tpl:Z9`"),
        "{msg}"
    );
    std::fs::write(
        &path,
        "[[change]]\ndepartment = \"gongan\"\ndate = \"24 Sept\"\n",
    )
    .unwrap();
    let msg = events::load(dir.path(), &st).unwrap_err().to_string();
    assert!(msg.contains("catalog-changes.toml: line 3"), "{msg}");
    std::fs::write(
        &path,
        "[[change]]\ndepartment = \"gongan\"\ndate = 2026-09-24\nkind = \"function\"\nbasis = \"职能划转\"\n",
    )
    .unwrap();
    assert_eq!(
        events::load(dir.path(), &st).unwrap()[0].date,
        d(2026, 9, 24)
    );
}

fn approval(entry: &str, field: &str, from: &str, to: &str, date: &str) -> Approval {
    Approval {
        entry: entry.into(),
        field: field.into(),
        from: from.into(),
        to: to.into(),
        date: date.parse().unwrap(),
        record: Some("甘数审〔2026〕3号".into()),
    }
}

#[test]
fn a_downgrade_holds_unless_an_approval_names_entry_change_and_an_earlier_date() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    let codes = ["A1", "A2", "A3", "A4", "A5", "A6"];
    run(
        &mut st,
        &src,
        codes.iter().map(|c| good(c, &format!("资源{c}"))).collect(),
        &Curation::default(),
        1,
    );
    // Version 2, harvested 2 November 2026: A1–A3 and A5 lowered to
    // 有条件共享, A4 and A6 open attribute blanked.
    let mut next = vec![];
    for c in codes {
        let mut r = good(c, &format!("资源{c}"));
        if ["A4", "A6"].contains(&c) {
            r.fields.remove("open_attribute");
        } else {
            r.fields
                .insert("share_attribute".into(), "有条件共享".into());
            r.fields
                .insert("share_conditions".into(), "仅用于核验".into());
        }
        if c == "A5" {
            r.fields.insert(
                "approval_record".into(),
                "2026-11-01 同意 共享属性 无条件共享→有条件共享".into(),
            );
        }
        next.push(r);
    }
    run(&mut st, &src, next, &Curation::default(), 2);
    let s = "share_attribute";
    let approvals = vec![
        approval("tpl:A1", s, "无条件共享", "有条件共享", "2026-11-01"),
        approval("tpl:A2", s, "无条件共享", "有条件共享", "2026-11-03"),
        approval(
            "tpl:A3",
            "open_attribute",
            "无条件开放",
            "有条件开放",
            "2026-11-01",
        ),
        approval("tpl:A1", s, "无条件共享", "不予共享", "2026-11-01"),
        approval("tpl:A6", "开放属性", "不予开放", "", "2026-11-02"),
    ];
    let ganzi = profile("ganzi-2025").unwrap();
    let f = check_with_approvals(&st, &ganzi.catalog, &[], TZ, &approvals);
    let down: BTreeMap<&str, &str> = f
        .iter()
        .filter(|x| x.check == "attribute_downgrade")
        .map(|x| (x.key.as_deref().unwrap(), x.message.as_str()))
        .collect();
    // Approved on 1 November, the day before: no finding (A1, and A5 by
    // its own 审核记录); blanking approved the same day (A6).
    assert_eq!(
        down.keys().copied().collect::<Vec<_>>(),
        ["tpl:A2", "tpl:A3", "tpl:A4"],
        "{down:?}"
    );
    assert!(down["tpl:A2"].contains("dated 2026-11-03, after the change"));
    assert!(down["tpl:A2"].contains("无条件共享 to 有条件共享"));
    // An approval of another attribute's change does not approve this one.
    assert!(down["tpl:A3"].contains("no approval record names this change"));
    assert!(down["tpl:A4"].contains("open_attribute blanked (was 不予开放)"));
    // Without the file, only A5's own record approves.
    let bare = check_with_approvals(&st, &ganzi.catalog, &[], TZ, &[]);
    assert_eq!(
        bare.iter()
            .filter(|x| x.check == "attribute_downgrade")
            .count(),
        5
    );
}

#[test]
fn an_approvals_file_with_an_unknown_entry_or_bad_value_is_refused() {
    let st = two_entries();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(approvals::FILE);
    let ok = "[[approval]]\nentry = \"tpl:A1\"\nfield = \"共享属性\"\nfrom = \"无条件共享\"\nto = \"有条件共享\"\ndate = \"2026-11-01\"\n";
    std::fs::write(&path, format!("{ok}\n{}", ok.replace("tpl:A1", "tpl:Z9"))).unwrap();
    let msg = approvals::load(dir.path(), &st).unwrap_err().to_string();
    assert!(
        msg.contains("catalog-approvals.toml: line 8 ([[approval]] 2)") && msg.contains("`tpl:Z9`"),
        "{msg}"
    );
    std::fs::write(&path, ok.replace("有条件共享", "部分共享")).unwrap();
    let msg = approvals::load(dir.path(), &st).unwrap_err().to_string();
    assert!(msg.contains("to: `部分共享` is not one of"), "{msg}");
    std::fs::write(&path, ok.replace("2026-11-01", "1 Nov")).unwrap();
    let msg = approvals::load(dir.path(), &st).unwrap_err().to_string();
    assert!(
        msg.contains("line 6") && msg.contains("`1 Nov` is not a date"),
        "{msg}"
    );
    std::fs::write(&path, ok).unwrap();
    assert_eq!(approvals::load(dir.path(), &st).unwrap().len(), 1);
    // A TOML date unquoted reads the same.
    std::fs::write(&path, ok.replace("\"2026-11-01\"", "2026-11-01")).unwrap();
    assert_eq!(
        approvals::load(dir.path(), &st).unwrap()[0].date,
        d(2026, 11, 1)
    );
}

/// Issue #17, 5: the review (审定) and revision deadlines the texts set
/// (吴忠 第十三条: 5 working days to review; 第十二条: 10 working days to
/// revise after comments) give findings citing them; 新疆 sets none and
/// nothing is checked.
#[test]
fn catalog_review_and_revision_deadlines_where_the_text_sets_them() {
    use crate::catalog::reviews::{self, Outcome, Review};
    let mut st = two_entries();
    // Both entries submitted on Tuesday 1 September 2026.
    st.entries.get_mut("tpl:A1").unwrap().updated = vec![at(2026, 9, 1)];
    st.entries.get_mut("tpl:A2").unwrap().updated = vec![at(2026, 9, 1)];
    let wuzhong = profile("wuzhong-2024").unwrap();
    let xinjiang = profile("xinjiang-2023").unwrap();
    let cal = WorkCalendar::embedded();
    let find = |reviews: &[Review], st: &CatalogState, p: &crate::profile::Profile, day| {
        reviews::overdue(reviews, st, p, &cal, TZ, day, "数据局").unwrap()
    };
    // Not reviewed: due on Tuesday 8 September (5 working days), overdue
    // the day after, the bureau's finding citing 第十三条.
    assert!(find(&[], &st, &wuzhong, d(2026, 9, 8)).is_empty());
    let f = find(&[], &st, &wuzhong, d(2026, 9, 9));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].check, "catalog_review_overdue");
    assert_eq!(f[0].department, "数据局", "the bureau's duty, not gongan's");
    assert!(
        f[0].message.contains("submitted on 2026-09-01")
            && f[0].message.contains("2026-09-08")
            && f[0].message.contains("第十三条"),
        "{}",
        f[0].message
    );
    assert!(
        find(&[], &st, &xinjiang, d(2026, 12, 1)).is_empty(),
        "新疆 sets no deadline"
    );
    // Reviewed on Friday 4 September with comments: no review finding; the
    // revision is due by Friday 18 September (10 working days).
    let commented = [Review {
        department: "gongan".into(),
        date: d(2026, 9, 4),
        outcome: Outcome::Comments,
        comments: Some("补充共享条件".into()),
    }];
    assert!(find(&commented, &st, &wuzhong, d(2026, 9, 18)).is_empty());
    let f = find(&commented, &st, &wuzhong, d(2026, 9, 21));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].check, "catalog_revision_overdue");
    assert_eq!(f[0].department, "gongan");
    assert!(
        f[0].message.contains("has not been revised") && f[0].message.contains("第十二条"),
        "{}",
        f[0].message
    );
    // Revised on Thursday 10 September: no revision finding; but that
    // revision is a new submission, due for review by Thursday 17 September.
    st.entries.get_mut("tpl:A1").unwrap().updated = vec![at(2026, 9, 1), at(2026, 9, 10)];
    assert!(find(&commented, &st, &wuzhong, d(2026, 9, 17)).is_empty());
    let f = find(&commented, &st, &wuzhong, d(2026, 9, 21));
    assert_eq!(
        f.iter().map(|x| x.check.as_str()).collect::<Vec<_>>(),
        ["catalog_review_overdue"],
        "{f:#?}"
    );
    assert!(
        f[0].message.contains("submitted on 2026-09-10"),
        "{}",
        f[0].message
    );
    // Approved after it: nothing left.
    let mut both = commented.to_vec();
    both.push(Review {
        department: "gongan".into(),
        date: d(2026, 9, 15),
        outcome: Outcome::Approved,
        comments: None,
    });
    assert!(find(&both, &st, &wuzhong, d(2026, 10, 30)).is_empty());
}

/// A review of a department with no catalog, or comments left blank, is
/// refused in one line naming the file and line.
#[test]
fn a_bad_review_record_is_refused_naming_the_line() {
    use crate::catalog::reviews;
    let st = two_entries();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(reviews::FILE),
        "[[review]]\ndepartment = \"gongan\"\ndate = 2026-09-04\noutcome = \"approved\"\n\n[[review]]\ndepartment = \"nosuch\"\ndate = \"2026-09-05\"\noutcome = \"approved\"\n",
    )
    .unwrap();
    let msg = reviews::load(dir.path(), &st).unwrap_err().to_string();
    assert!(
        msg.contains("catalog-reviews.toml")
            && msg.contains("line 6 ([[review]] 2)")
            && msg.contains("`nosuch` has no catalog entry"),
        "{msg}"
    );
    std::fs::write(
        dir.path().join(reviews::FILE),
        "[[review]]\ndepartment = \"gongan\"\ndate = 2026-09-04\noutcome = \"comments\"\n",
    )
    .unwrap();
    let msg = reviews::load(dir.path(), &st).unwrap_err().to_string();
    assert!(msg.contains("comments: blank"), "{msg}");
}

/// Issue #21, 5: an IT project's catalog entries are due before its
/// acceptance where the text says so: 兵团 第十五条 at least 20 days before,
/// 吴忠 第十四条 by the acceptance; 西藏 sets no such duty.
#[test]
fn an_it_projects_entries_are_due_before_its_acceptance() {
    use crate::catalog::projects::{self, Project};
    let mut st = two_entries();
    st.entries.get_mut("tpl:A1").unwrap().updated = vec![at(2026, 9, 1)];
    st.entries.get_mut("tpl:A2").unwrap().updated = vec![at(2026, 10, 20)];
    let project = [Project {
        name: "户籍系统升级".into(),
        department: "gongan".into(),
        acceptance: d(2026, 10, 30),
        entries: vec!["tpl:A1".into(), "tpl:A2".into()],
    }];
    let late = |p: &str, day| projects::late(&project, &st, &profile(p).unwrap(), TZ, day);
    // 兵团: due 10 October (20 days before 30 October).
    assert!(late("xpcc-2025", d(2026, 10, 10)).is_empty(), "not due yet");
    let f = late("xpcc-2025", d(2026, 10, 11));
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].check, "project_catalog_late");
    assert_eq!(f[0].key.as_deref(), Some("tpl:A2"));
    assert!(
        f[0].message.contains("is not catalogued")
            && f[0]
                .message
                .contains("by 2026-10-10, 20 days before its acceptance on 2026-10-30")
            && f[0].message.contains("第十五条"),
        "{}",
        f[0].message
    );
    let f = late("xpcc-2025", d(2026, 11, 2));
    assert!(
        f[0].message.contains("was catalogued only on 2026-10-20"),
        "{}",
        f[0].message
    );
    // 吴忠: by the acceptance, which 20 October is.
    assert!(late("wuzhong-2024", d(2026, 11, 2)).is_empty());
    // 西藏: nothing checked.
    assert!(late("tibet-2025", d(2027, 1, 1)).is_empty());
    // A project naming an entry the catalog lacks is refused, with its line.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(projects::FILE),
        "[[project]]\nname = \"户籍系统升级\"\ndepartment = \"gongan\"\nacceptance = 2026-10-30\nentries = [\"tpl:NOPE\"]\n",
    )
    .unwrap();
    let msg = projects::load(dir.path(), &st).unwrap_err().to_string();
    assert!(
        msg.contains("it-projects.toml") && msg.contains("line 1") && msg.contains("`tpl:NOPE`"),
        "{msg}"
    );
}

//! Reconciliation with the lake and working-day lateness.

use super::*;

pub(super) fn landed(
    id: &str,
    catalog: Option<&str>,
    cols: &[(&str, Kind, Option<i64>)],
    last: Option<chrono::DateTime<Utc>>,
) -> LandedDataset {
    let (dept, name) = id.split_once('.').unwrap();
    LandedDataset {
        id: id.into(),
        department: dept.into(),
        name: name.into(),
        title: Some(format!("{name}标题")),
        catalog: catalog.map(String::from),
        columns: cols
            .iter()
            .map(|(n, k, l)| LandedColumn {
                name: n.to_string(),
                kind: Some(*k),
                max_length: *l,
            })
            .collect(),
        rows: Some(10),
        last_delivery: last,
    }
}

fn item(name: &str, column: &str, ty: &str, len: Option<&str>) -> HarvestedItem {
    let mut fields: BTreeMap<String, String> = [("name", name), ("column", column), ("type", ty)]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    if let Some(l) = len {
        fields.insert("length".into(), l.into());
    }
    HarvestedItem {
        location: format!("目录.xlsx!信息项 {column}"),
        fields: fields.into(),
    }
}

#[test]
fn reconciliation_finds_unmounted_uncatalogued_drift_and_lateness() {
    let mut st = CatalogState::default();
    let src = def("tpl", Some("gongan"));
    let mut hh = good("A1", "户籍人口");
    hh.items = vec![
        item("公民身份号码", "id_number", "VARCHAR2(18)", None),
        item("姓名", "name", "字符型", Some("4")),
        item("行政区划代码", "region_code", "数值型", None),
        item("曾用名", "former_name", "字符型", None),
    ];
    let mut by_title = good("A2", "people标题");
    by_title
        .fields
        .insert("update_frequency".into(), "每月".into());
    let unmounted = good("A3", "流动人口");
    let mut empty = good("A4", "无数据");
    empty.fields.insert("dataset".into(), "gongan.empty".into());
    run(
        &mut st,
        &src,
        vec![hh, by_title, unmounted, empty],
        &Curation::default(),
        1,
    );
    let friday = Utc.with_ymd_and_hms(2025, 1, 24, 10, 0, 0).unwrap();
    let datasets = vec![
        landed(
            "gongan.household",
            Some("A1"),
            &[
                ("id_number", Kind::Text, Some(18)),
                ("name", Kind::Text, Some(6)),
                ("region_code", Kind::Text, Some(6)),
                ("phone", Kind::Text, Some(11)),
            ],
            Some(friday),
        ),
        landed(
            "gongan.people",
            None,
            &[("x", Kind::Number, None)],
            Some(friday),
        ),
        landed("gongan.empty", None, &[], None),
        landed(
            "gongan.orphan",
            None,
            &[("x", Kind::Text, None)],
            Some(friday),
        ),
    ];
    let cal = WorkCalendar::embedded();
    // Monday 27 January 2025, 09:00 in Shanghai.
    let now = Utc.with_ymd_and_hms(2025, 1, 27, 1, 0, 0).unwrap();
    let f = reconcile(&st, &datasets, DayUnit::Working, &cal, TZ, now).unwrap();
    let got = |check: &str| -> Vec<String> {
        f.iter()
            .filter(|x| x.check == check)
            .map(|x| {
                format!(
                    "{}|{}",
                    x.name.clone().unwrap_or_default(),
                    x.field.clone().unwrap_or_default()
                )
            })
            .collect()
    };
    assert_eq!(got("not_mounted"), ["流动人口|", "无数据|"]);
    assert_eq!(got("uncatalogued"), ["gongan.orphan|"]);
    assert_eq!(got("schema_missing"), ["户籍人口|former_name"]);
    assert_eq!(got("schema_extra"), ["户籍人口|phone"]);
    assert_eq!(got("schema_type"), ["户籍人口|region_code"]);
    assert_eq!(
        got("schema_length"),
        ["户籍人口|name"],
        "VARCHAR2(18) holds 18; 姓名 (4) holds 6"
    );
    // Daily, delivered Friday 24 Jan 2025: due Sunday 26 (a make-up
    // workday), so 1 working day late on Monday 27. Monthly: not late.
    assert_eq!(got("late_delivery"), ["户籍人口|update_frequency"]);
    let late = f.iter().find(|x| x.check == "late_delivery").unwrap();
    assert!(
        late.message
            .contains("next was due 2025-01-26: 1 working days late"),
        "{}",
        late.message
    );
    // Counted in calendar days (XPCC), Saturday 25 was the due date: 2 days.
    let f = reconcile(&st, &datasets, DayUnit::Calendar, &cal, TZ, now).unwrap();
    let late = f.iter().find(|x| x.check == "late_delivery").unwrap();
    assert!(
        late.message
            .contains("next was due 2025-01-25: 2 days late"),
        "{}",
        late.message
    );
}

#[test]
fn working_day_lateness_across_spring_festival_and_national_day() {
    let cal = WorkCalendar::embedded();
    let w = DayUnit::Working;
    // 2025 Spring Festival (off 28 Jan – 4 Feb): daily from Monday 27 Jan is
    // due Wednesday 5 Feb; on Friday 7 Feb it is 2 working days late.
    assert_eq!(
        due_after(d(2025, 1, 27), Daily, w, &cal).unwrap(),
        d(2025, 2, 5)
    );
    assert_eq!(days_late(d(2025, 2, 5), d(2025, 2, 7), w, &cal).unwrap(), 2);
    assert_eq!(days_late(d(2025, 2, 5), d(2025, 2, 5), w, &cal).unwrap(), 0);
    // Saturday 8 Feb 2025 is a make-up workday.
    assert_eq!(
        days_late(d(2025, 2, 7), d(2025, 2, 10), w, &cal).unwrap(),
        2
    );
    // 2025 National Day (off 1–8 Oct; Sunday 28 Sep and Saturday 11 Oct worked):
    // weekly (5 working days) from Friday 26 Sep is due Friday 10 Oct.
    assert_eq!(
        due_after(d(2025, 9, 26), Weekly, w, &cal).unwrap(),
        d(2025, 10, 10)
    );
    assert_eq!(
        days_late(d(2025, 10, 10), d(2025, 10, 13), w, &cal).unwrap(),
        2
    );
    assert_eq!(
        due_after(d(2025, 9, 26), Weekly, DayUnit::Calendar, &cal).unwrap(),
        d(2025, 10, 3)
    );
    // 2026 Spring Festival (off 15–23 Feb; Saturdays 14 and 28 Feb worked):
    // monthly from 16 Jan falls due on 16 Feb, a holiday, so Tuesday 24 Feb.
    assert_eq!(
        due_after(d(2026, 1, 16), Monthly, w, &cal).unwrap(),
        d(2026, 2, 24)
    );
    assert_eq!(
        due_after(d(2026, 1, 16), Monthly, DayUnit::Calendar, &cal).unwrap(),
        d(2026, 2, 16)
    );
    assert_eq!(
        days_late(d(2026, 2, 16), d(2026, 2, 24), DayUnit::Calendar, &cal).unwrap(),
        8
    );
    // (24 Feb, 2 Mar]: 25, 26, 27, Saturday 28 (worked) and Monday 2 Mar.
    assert_eq!(
        days_late(d(2026, 2, 24), d(2026, 3, 2), w, &cal).unwrap(),
        5
    );
}

#[test]
fn national_day_2026_and_the_end_of_the_calendar() {
    let cal = WorkCalendar::embedded();
    let w = DayUnit::Working;
    // Daily from Wednesday 30 Sep 2026: off 1–7 Oct, due Thursday 8 Oct;
    // by Monday 12 Oct it is 3 working days late: Friday 9, Saturday 10
    // (worked) and Monday 12.
    assert_eq!(
        due_after(d(2026, 9, 30), Daily, w, &cal).unwrap(),
        d(2026, 10, 8)
    );
    assert_eq!(
        days_late(d(2026, 10, 8), d(2026, 10, 12), w, &cal).unwrap(),
        3
    );
    // Past the last holiday notice: provisional (issue #17, 11). Saturday
    // 30 January 2027 moves to Monday 1 February, and the note says so.
    let due = due_after(d(2026, 12, 30), Monthly, w, &cal).unwrap();
    assert_eq!(due, d(2027, 2, 1));
    assert!(cal.is_provisional(due));
    let note = crate::catalog::reconcile::provisional_note(due, &cal);
    assert!(
        note.contains("provisional") && note.contains("2027"),
        "{note}"
    );
    assert_eq!(
        crate::catalog::reconcile::provisional_note(d(2026, 12, 30), &cal),
        ""
    );
    // Before the first year: an error naming the year, not a guess.
    let e = due_after(d(2019, 5, 30), Monthly, w, &cal).unwrap_err();
    assert!(e.to_string().contains("2019"), "{e}");
    // But a quarterly delivery of November 2026 is simply not late in
    // November: that needs no 2027 calendar.
    assert_eq!(
        lateness(d(2026, 11, 20), Quarterly, w, &cal, d(2026, 11, 22)).unwrap(),
        None
    );
    assert_eq!(
        lateness(d(2026, 11, 2), Weekly, w, &cal, d(2026, 11, 16)).unwrap(),
        Some((d(2026, 11, 9), 5))
    );
    // Judged in 2027 with no 2027 notice: counted provisionally (1 January
    // off): 15 working days in November after the 9th, 23 in December, 4
    // and 5 January.
    assert_eq!(
        lateness(d(2026, 11, 2), Weekly, w, &cal, d(2027, 1, 5)).unwrap(),
        Some((d(2026, 11, 9), 40))
    );
}

#[test]
fn schema_drift_is_its_own_finding_and_starts_no_catalog_update_clock() {
    // The texts start the catalog-update clock at a change of law or
    // function (甘孜 第八条, 新疆 第十一条 …), never at drift: drift seen
    // for months is still only drift, citing none of those articles.
    let mut st = CatalogState::default();
    let mut hh = good("A1", "户籍人口");
    hh.items = vec![
        item("公民身份号码", "id_number", "VARCHAR2(18)", None),
        item("曾用名", "former_name", "字符型", None),
    ];
    run(
        &mut st,
        &def("tpl", Some("gongan")),
        vec![hh],
        &Curation::default(),
        1,
    );
    let last = Utc.with_ymd_and_hms(2026, 11, 30, 2, 0, 0).unwrap();
    let datasets = vec![landed(
        "gongan.household",
        Some("A1"),
        &[("id_number", Kind::Text, Some(18))],
        Some(last),
    )];
    let cal = WorkCalendar::embedded();
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap();
    let f = reconcile(&st, &datasets, DayUnit::Working, &cal, TZ, now).unwrap();
    let drift: Vec<&CatalogFinding> = f.iter().filter(|x| x.check == "schema_missing").collect();
    assert_eq!(drift.len(), 1, "{f:?}");
    assert!(!drift[0].message.contains('第'), "{}", drift[0].message);
    assert!(!f.iter().any(|x| x.check == "catalog_update_overdue"));
    // With no recorded change, no entry is overdue, however old the drift.
    let ganzi = profile("ganzi-2025").unwrap();
    let today = d(2027, 6, 1);
    let none = crate::catalog::events::overdue(&[], &st, &ganzi, &cal, TZ, today).unwrap();
    assert!(none.is_empty(), "{none:?}");
}

//! 民政局 婚姻登记: the marriage registration dataset.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};

use super::people::{Person, Rng, bad_id};
use super::rules::MARRIAGE_REGISTRATION_RULES;
use super::{Book, Cell, dataset, missing, s, ts};
use crate::demo::write::{self, Kind, Table};
use crate::demo::{DemoDataset, DemoError};

/// 民政局 婚姻登记 (CSV, GB18030). Also returns what civil affairs records
/// for each husband (the last row wins), for social insurance's re-collected
/// copy.
pub(super) fn marriage_registration(
    root: &Path,
    rng: &mut Rng,
    now: NaiveDateTime,
    pop: &[Person],
    base: &BTreeSet<String>,
) -> Result<(DemoDataset, HashMap<String, String>), DemoError> {
    let men: Vec<&Person> = pop
        .iter()
        .filter(|p| p.male && p.birth.year() < 2000)
        .collect();
    let women: Vec<&Person> = pop
        .iter()
        .filter(|p| !p.male && p.birth.year() < 2000)
        .collect();
    let mut t = Table::new(&[
        ("cert_no", Kind::Text),
        ("husband_id", Kind::Text),
        ("husband_name", Kind::Text),
        ("wife_id", Kind::Text),
        ("wife_name", Kind::Text),
        ("register_date", Kind::Date),
        ("marital_status", Kind::Text),
        ("remark", Kind::Text),
        ("updated_at", Kind::Timestamp),
    ]);
    let (mut cert_c, mut hus_c, mut wife_c, mut status_c) = (vec![], vec![], vec![], vec![]);
    let mut husband_status: HashMap<String, String> = HashMap::new();
    let rows = 600;
    for i in 0..rows {
        let h = men[i % men.len()];
        let w = women[(i * 7) % women.len()];
        let (cert, cc) = if i % 41 == 5 {
            (s(format!("J{}", rng.digits(6))), Cell::Invalid)
        } else {
            (s(format!("J{}", rng.digits(12))), Cell::Valid)
        };
        let (hid, hc) = if i % 37 == 11 {
            (s(bad_id(h, i / 37)), Cell::Invalid)
        } else if i % 43 == 2 {
            (missing(i / 43), Cell::Missing)
        } else {
            (s(h.id.clone()), Cell::Valid)
        };
        let (wid, wc) = if i % 53 == 9 {
            (missing(i / 53), Cell::Missing)
        } else {
            (s(w.id.clone()), Cell::Valid)
        };
        let (status, stc) = if i % 47 == 3 {
            (s("99"), Cell::Invalid)
        } else {
            (s(*rng.pick(&["20", "21", "22", "23"])), Cell::Valid)
        };
        let remark = match i % 9 {
            0 => s("补领，原证遗失"),
            1 => s("涉外婚姻, 已公证"),
            2 => s("备注第一行\n备注第二行"),
            _ => None,
        };
        let reg = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default()
            + Duration::days(rng.below(3000) as i64);
        let updated = now
            - Duration::days(10)
            - Duration::minutes(if i == 0 {
                0
            } else {
                rng.below(60 * 24 * 20) as i64 + 1
            });
        if let (Cell::Valid, Cell::Valid) = (&hc, &stc)
            && let Some(v) = &status
        {
            husband_status.insert(h.id.clone(), v.clone());
        }
        t.push(vec![
            cert,
            hid,
            s(h.name.clone()),
            wid,
            s(w.name.clone()),
            s(reg.format("%Y-%m-%d").to_string()),
            status,
            remark,
            s(ts(updated)),
        ]);
        cert_c.push(cc);
        hus_c.push(hc);
        wife_c.push(wc);
        status_c.push(stc);
    }
    let mut book = Book::default();
    book.validity("cert_format", &cert_c);
    book.validity("husband_valid", &hus_c);
    book.reference("husband_in_base", &t.column("husband_id"), &hus_c, base);
    book.not_null("wife_present", &wife_c);
    book.validity("status", &status_c);
    book.set("fresh", 1, 1);
    write::csv_gb18030(
        &root.join("departments/minzheng/marriage_registration.csv"),
        &t,
    )?;
    let dataset = dataset(
        root,
        "marriage_registration",
        "婚姻登记",
        "minzheng",
        "csv-gb18030",
        vec!["departments/minzheng/marriage_registration.csv"],
        MARRIAGE_REGISTRATION_RULES,
        book,
        &t.columns,
    )?;
    Ok((dataset, husband_status))
}

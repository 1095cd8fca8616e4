//! 公安局 户籍人口: the household registration dataset.

use std::path::Path;

use chrono::{Duration, NaiveDateTime};

use super::people::{Person, Rng, bad_id, phone};
use super::rules::HOUSEHOLD_REGISTRATION_RULES;
use super::{Book, Cell, dataset, missing, s, ts};
use crate::demo::write::{self, Kind, Table};
use crate::demo::{DemoDataset, DemoError};

/// 公安局 户籍人口 (Parquet).
pub(super) fn household_registration(
    root: &Path,
    rng: &mut Rng,
    now: NaiveDateTime,
    registered: &[Person],
    week: u32,
) -> Result<DemoDataset, DemoError> {
    // The weeks before the final night (see `demo::history`): four and one
    // week before, a short delivery (the volume rule fails, is rectified and
    // recurs); three and two weeks before, a stale one (three days old: the
    // freshness rule fails until it is rectified); up to two weeks before,
    // more mistyped phone numbers.
    let registered = if matches!(week, 1 | 4) {
        &registered[..900]
    } else {
        registered
    };
    let stale = Duration::days(if matches!(week, 2 | 3) { 3 } else { 0 });
    let mut t = Table::new(&[
        ("id_number", Kind::Text),
        ("name", Kind::Text),
        ("sex_code", Kind::Text),
        ("birth_date", Kind::Date),
        ("region_code", Kind::Text),
        ("address", Kind::Text),
        ("phone", Kind::Text),
        ("updated_at", Kind::Timestamp),
    ]);
    let (mut id_c, mut sex_c, mut region_c, mut phone_c) = (vec![], vec![], vec![], vec![]);
    for (i, p) in registered.iter().enumerate() {
        let (id, idc) = if i % 50 == 7 {
            (missing(i / 50), Cell::Missing)
        } else if i % 50 == 13 {
            (s(bad_id(p, i / 50)), Cell::Invalid)
        } else if i % 100 == 21 {
            (s(format!(" {}\u{3000}", p.id)), Cell::Valid) // padded: valid after trimming
        } else if i % 200 == 99 {
            (s(registered[i - 1].id.clone()), Cell::Valid) // registered twice
        } else {
            (s(p.id.clone()), Cell::Valid)
        };
        let (sex, sc) = if i % 97 == 5 {
            (s("3"), Cell::Invalid)
        } else if i % 89 == 3 {
            (missing(i), Cell::Missing)
        } else {
            (s(if p.male { "1" } else { "2" }), Cell::Valid)
        };
        let (region, rc) = if i % 83 == 4 {
            (s("999999"), Cell::Invalid)
        } else if i % 71 == 2 {
            (None, Cell::Missing)
        } else {
            (s(p.id[..6].to_string()), Cell::Valid)
        };
        let (ph, pc) = if i % 61 == 6 || (week >= 2 && i % 23 == 1) {
            (s(rng.digits(10)), Cell::Invalid)
        } else if i % 59 == 8 {
            (s(""), Cell::Missing)
        } else {
            (s(phone(rng)), Cell::Valid)
        };
        let updated = now
            - Duration::hours(2)
            - stale
            - Duration::minutes(if i == 0 {
                0
            } else {
                rng.below(60 * 24 * 30) as i64 + 1
            });
        t.push(vec![
            id,
            s(p.name.clone()),
            sex,
            s(p.birth.format("%Y-%m-%d").to_string()),
            region,
            s(format!(
                "新疆乌鲁木齐市{}路{}号",
                rng.pick(&["解放南", "新华北", "光明", "友好南", "北京南"]),
                rng.below(300) + 1
            )),
            ph,
            s(ts(updated)),
        ]);
        id_c.push(idc);
        sex_c.push(sc);
        region_c.push(rc);
        phone_c.push(pc);
    }
    let mut book = Book::default();
    book.not_null("id_present", &id_c);
    book.validity("id_valid", &id_c);
    book.unique("id_unique", &t.column("id_number"), &id_c);
    book.validity("sex", &sex_c);
    book.validity("region", &region_c);
    book.validity("phone", &phone_c);
    book.set("volume", 1, u64::from(registered.len() < 1000));
    book.set("fresh", 1, u64::from(stale > Duration::zero()));
    write::parquet(
        &root.join("departments/gongan/household_registration.parquet"),
        &t,
    )?;
    dataset(
        root,
        "household_registration",
        "户籍人口",
        "gongan",
        "parquet",
        vec!["departments/gongan/household_registration.parquet"],
        HOUSEHOLD_REGISTRATION_RULES,
        book,
        &t.columns,
    )
}

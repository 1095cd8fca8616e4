//! 人社局 社保参保: the social insurance dataset.

use std::collections::HashMap;
use std::path::Path;

use chrono::{Duration, NaiveDate};

use super::people::{Person, REGIONS, Rng, bad_id, bad_uscc, make_uscc};
use super::rules::SOCIAL_INSURANCE_RULES;
use super::{Book, Cell, dataset, missing, s};
use crate::demo::write::{self, Kind, Table};
use crate::demo::{DemoDataset, DemoError};

/// 人社局 社保参保 (XLSX).
pub(super) fn social_insurance(
    root: &Path,
    rng: &mut Rng,
    pop: &[Person],
    husband_status: &HashMap<String, String>,
) -> Result<DemoDataset, DemoError> {
    let mut t = Table::new(&[
        ("id_number", Kind::Text),
        ("name", Kind::Text),
        ("insured_date", Kind::Date),
        ("contribution_base", Kind::Number),
        ("unit_uscc", Kind::Text),
        ("status", Kind::Text),
        // Re-collected from the insured (issue #5): civil affairs and public
        // security are their sources; a few copies disagree.
        ("birth_date", Kind::Date),
        ("marital_status", Kind::Text),
    ]);
    let (mut id_c, mut base_c, mut unit_c, mut status_c) = (vec![], vec![], vec![], vec![]);
    let units: Vec<String> = (0..12)
        .map(|_| {
            let region = *rng.pick(&REGIONS);
            make_uscc(rng, region)
        })
        .collect();
    for i in 0..300 {
        let p = &pop[(i * 5) % pop.len()];
        let (id, ic) = if i % 23 == 4 {
            (s(bad_id(p, i / 23)), Cell::Invalid)
        } else if i % 37 == 9 {
            (missing(i / 37), Cell::Missing)
        } else {
            (s(p.id.clone()), Cell::Valid)
        };
        let (b, bc) = match i % 41 {
            2 => (s("500"), Cell::Invalid),
            7 => (s("99999"), Cell::Invalid),
            _ => (s((3000 + rng.below(20000)).to_string()), Cell::Valid),
        };
        let (u, uc) = if i % 59 == 3 {
            (s(bad_uscc(rng, i / 59)), Cell::Invalid)
        } else {
            (s(rng.pick(&units).clone()), Cell::Valid)
        };
        let (st, sc) = if i % 71 == 5 {
            (s("参保"), Cell::Invalid)
        } else {
            (s(*rng.pick(&["1", "2", "3"])), Cell::Valid)
        };
        let insured = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap_or_default()
            + Duration::days(rng.below(5000) as i64);
        let birth = if i % 17 == 3 {
            p.birth + Duration::days(1)
        } else {
            p.birth
        };
        let married = match husband_status.get(&p.id) {
            Some(_) if i % 7 == 2 => "10".to_string(),
            Some(v) => v.clone(),
            None => "10".to_string(),
        };
        t.push(vec![
            id,
            s(p.name.clone()),
            s(insured.format("%Y-%m-%d").to_string()),
            b,
            u,
            st,
            s(birth.format("%Y-%m-%d").to_string()),
            s(married),
        ]);
        id_c.push(ic);
        base_c.push(bc);
        unit_c.push(uc);
        status_c.push(sc);
    }
    let mut book = Book::default();
    book.validity("id_valid", &id_c);
    book.validity("base", &base_c);
    book.validity("unit", &unit_c);
    book.validity("status", &status_c);
    book.set("volume", 1, 1);
    write::xlsx(
        &root.join("departments/renshe/social_insurance.xlsx"),
        &t,
        "参保人员",
    )?;
    dataset(
        root,
        "social_insurance",
        "社保参保",
        "renshe",
        "xlsx",
        vec!["departments/renshe/social_insurance.xlsx"],
        SOCIAL_INSURANCE_RULES,
        book,
        &t.columns,
    )
}

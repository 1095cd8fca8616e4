//! 卫健委 出生医学证明: the birth certificates dataset.

use std::path::Path;

use chrono::{DateTime, Datelike, Duration, FixedOffset};

use super::people::{GIVEN, Person, Rng, SURNAMES, bad_id, bad_uscc, lowercase_x_id, make_uscc};
use super::rules::BIRTH_CERTIFICATES_RULES;
use super::{Book, Cell, dataset, missing, s};
use crate::demo::write::{self, Kind, Table};
use crate::demo::{DemoDataset, DemoError};

/// 卫健委 出生医学证明 (NDJSON).
pub(super) fn birth_certificates(
    root: &Path,
    rng: &mut Rng,
    as_of: DateTime<FixedOffset>,
    pop: &[Person],
    week: u32,
) -> Result<DemoDataset, DemoError> {
    let mothers: Vec<&Person> = pop
        .iter()
        .filter(|p| !p.male && (1960..2004).contains(&p.birth.year()))
        .collect();
    let mut t = Table::new(&[
        ("cert_no", Kind::Text),
        ("child_name", Kind::Text),
        ("birth_date", Kind::Date),
        ("mother_id", Kind::Text),
        ("birth_weight_g", Kind::Number),
        ("hospital_uscc", Kind::Text),
    ]);
    let (mut mother_c, mut weight_c, mut hosp_c) = (vec![], vec![], vec![]);
    let mut male_mothers = 0u64;
    let hospitals: Vec<String> = (0..5).map(|_| make_uscc(rng, "650102")).collect();
    for i in 0..800 {
        let m = mothers[(i * 3) % mothers.len()];
        let (mid, mc) = if i % 31 == 4 {
            (s(bad_id(m, i / 31)), Cell::Invalid)
        } else if i % 29 == 6 {
            (missing(i / 29), Cell::Missing)
        } else if i % 45 == 10 {
            (s(lowercase_x_id(m)), Cell::Valid) // allowed by the rule
        } else if i % 101 == 17 {
            male_mothers += 1;
            let man = pop
                .iter()
                .find(|p| p.male)
                .map(|p| p.id.clone())
                .unwrap_or_default();
            (s(man), Cell::Valid) // a valid number of a man: the expression catches it
        } else {
            (s(m.id.clone()), Cell::Valid)
        };
        // Three and four weeks before the final night, the hospitals' system
        // wrote 0 for every seventh unknown weight: the rule fails until the
        // health commission rectifies it (at the final night it only warns).
        let (weight, wc) = match i % 67 {
            _ if week >= 3 && i % 7 == 0 => (s("0"), Cell::Invalid),
            3 => (s("0"), Cell::Invalid),
            8 => (s("9000"), Cell::Invalid),
            12 => (s("不详"), Cell::Invalid),
            20 => (None, Cell::Missing),
            _ => (s((2500 + rng.below(2000)).to_string()), Cell::Valid),
        };
        let (hosp, hc) = if i % 53 == 1 {
            (s(bad_uscc(rng, i / 53)), Cell::Invalid)
        } else {
            (s(rng.pick(&hospitals).clone()), Cell::Valid)
        };
        let born = as_of.date_naive() - Duration::days(rng.below(700) as i64 + 1);
        t.push(vec![
            s(format!("Q650{}", rng.digits(9))),
            s(format!("{}{}", rng.pick(&SURNAMES), rng.pick(&GIVEN))),
            s(born.format("%Y-%m-%d").to_string()),
            mid,
            weight,
            hosp,
        ]);
        mother_c.push(mc);
        weight_c.push(wc);
        hosp_c.push(hc);
    }
    let mut book = Book::default();
    // With allow_lowercase_x, the lowercase variants count as valid; the
    // planted invalid kinds (bad_id) never include lowercase x.
    book.validity("mother_valid", &mother_c);
    book.validity("weight", &weight_c);
    book.validity("hospital", &hosp_c);
    // cn_id_sex(mother_id) is NULL only for missing values here: every planted
    // invalid number still has 15 or 17+1 digits except the `A` variant (k % 7 == 6).
    let not_derivable = t
        .column("mother_id")
        .iter()
        .zip(&mother_c)
        .filter(|(v, c)| **c != Cell::Missing && v.is_some_and(|v| v.ends_with('A')))
        .count() as u64;
    let present = mother_c.iter().filter(|c| **c != Cell::Missing).count() as u64;
    book.set("mother_is_female", present - not_derivable, male_mothers);
    write::ndjson(
        &root.join("departments/weijian/birth_certificates.ndjson"),
        &t,
    )?;
    dataset(
        root,
        "birth_certificates",
        "出生医学证明",
        "weijian",
        "ndjson",
        vec!["departments/weijian/birth_certificates.ndjson"],
        BIRTH_CERTIFICATES_RULES,
        book,
        &t.columns,
    )
}

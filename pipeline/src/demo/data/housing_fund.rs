//! 住建局 住房公积金: the housing provident fund dataset (two CSV files).

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{Duration, NaiveDate};

use super::people::{Person, Rng};
use super::rules::HOUSING_PROVIDENT_FUND_RULES;
use super::{Book, Cell, dataset, missing, s};
use crate::demo::write::{self, Kind, Table};
use crate::demo::{DemoDataset, DemoError};

/// 住建局 住房公积金 (two CSV files, UTF-8 with BOM).
pub(super) fn housing_provident_fund(
    root: &Path,
    rng: &mut Rng,
    pop: &[Person],
    base: &BTreeSet<String>,
) -> Result<DemoDataset, DemoError> {
    let cols = [
        ("id_number", Kind::Text),
        ("name", Kind::Text),
        ("account_no", Kind::Text),
        ("balance", Kind::Number),
        ("birth_date", Kind::Date),
        ("death_date", Kind::Date),
    ];
    let mut parts = [Table::new(&cols), Table::new(&cols)];
    let (mut id_all, mut id_c, mut bal_c) = (Vec::<Option<String>>::new(), vec![], vec![]);
    let (mut life_eval, mut life_fail) = (0u64, 0u64);
    for i in 0..400 {
        // Most holders are registered; every 19th is not in the population base.
        let p = if i % 19 == 0 {
            &pop[2000 + i % 400]
        } else {
            &pop[(i * 13) % 2000]
        };
        let (id, ic) = if i == 250 || i == 330 {
            (s(pop[91].id.clone()), Cell::Valid) // the holder of row 7 (pop[7 * 13]) again, in the second file
        } else if i % 47 == 5 {
            (missing(i / 47), Cell::Missing)
        } else {
            (s(p.id.clone()), Cell::Valid)
        };
        let (bal, bc) = if i % 71 == 4 {
            (s("-120.5"), Cell::Invalid)
        } else {
            (
                s(format!("{}.{:02}", rng.below(200_000), rng.below(100))),
                Cell::Valid,
            )
        };
        let (birth, death) = match i % 37 {
            3 => (Some(p.birth), Some(p.birth - Duration::days(365))), // died before born
            8 => (
                None,
                Some(NaiveDate::from_ymd_opt(2020, 6, 1).unwrap_or_default()),
            ), // NULL comparison: not evaluated
            11 => (Some(p.birth), Some(p.birth + Duration::days(365 * 70))),
            _ => (Some(p.birth), None),
        };
        match (birth, death) {
            (_, None) => life_eval += 1,
            (Some(b), Some(d)) => {
                life_eval += 1;
                life_fail += u64::from(d < b);
            }
            (None, Some(_)) => {}
        }
        let fmt = |d: Option<NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string());
        parts[usize::from(i >= 200)].push(vec![
            id.clone(),
            s(p.name.clone()),
            s(format!("GJJ{}", rng.digits(10))),
            bal,
            fmt(birth),
            fmt(death),
        ]);
        id_all.push(id);
        id_c.push(ic);
        bal_c.push(bc);
    }
    let mut book = Book::default();
    let ids: Vec<Option<&str>> = id_all.iter().map(|v| v.as_deref()).collect();
    book.unique("id_unique", &ids, &id_c);
    book.reference("in_base", &ids, &id_c, base);
    book.validity("balance", &bal_c);
    book.set("life", life_eval, life_fail);
    write::csv_utf8_bom(
        &root.join("departments/zhujian/housing_provident_fund/part-1.csv"),
        &parts[0],
    )?;
    write::csv_utf8_bom(
        &root.join("departments/zhujian/housing_provident_fund/part-2.csv"),
        &parts[1],
    )?;
    dataset(
        root,
        "housing_provident_fund",
        "住房公积金",
        "zhujian",
        "csv-utf8-bom",
        vec!["departments/zhujian/housing_provident_fund"],
        HOUSING_PROVIDENT_FUND_RULES,
        book,
        &cols,
    )
}

//! 市场监管局 市场主体登记: the market entities dataset, with its annual-report columns.

use std::path::Path;

use chrono::{Duration, NaiveDate};

use super::people::{
    ABOLISHED, GIVEN, Person, REGIONS, Rng, bad_id, bad_uscc, demo_mobile, make_uscc, written_form,
    written_phone,
};
use super::rules::MARKET_ENTITIES_RULES;
use super::{Book, Cell, dataset, missing, s};
use crate::demo::write::{self, Kind, Table};
use crate::demo::{DemoDataset, DemoError};

/// 市场监管局 市场主体登记 (JSON array).
pub(super) fn market_entities(
    root: &Path,
    rng: &mut Rng,
    pop: &[Person],
) -> Result<DemoDataset, DemoError> {
    let mut t = Table::new(&[
        ("credit_code", Kind::Text),
        ("entity_name", Kind::Text),
        ("legal_rep", Kind::Text),
        ("legal_rep_id", Kind::Text),
        ("region_code", Kind::Text),
        ("registered_capital", Kind::Number),
        ("established_date", Kind::Date),
        // From the annual report (issue #18): persons' names under column
        // names that mention the enterprise, and a contact number.
        ("企业法定代表人", Kind::Text),
        ("单位联系人", Kind::Text),
        ("联系电话", Kind::Text),
    ]);
    let (mut code_c, mut rep_c, mut region_c, mut cap_c) = (vec![], vec![], vec![], vec![]);
    let (mut rep_name_c, mut contact_c, mut tel_c) = (vec![], vec![], vec![]);
    let mut codes: Vec<String> = Vec::new();
    for i in 0..500 {
        let p = &pop[(i * 11) % pop.len()];
        let region = *rng.pick(&REGIONS);
        let (code, cc) = if i % 43 == 6 {
            (s(bad_uscc(rng, i / 43)), Cell::Invalid)
        } else if i % 97 == 50 {
            (s(codes[i - 1].clone()), code_c[i - 1]) // registered twice (valid or not, as the original)
        } else if i % 47 == 30 {
            // A valid code written in groups: invalid as written, and masked when published.
            let code = make_uscc(rng, region);
            (s(written_form(&code, i / 47)), Cell::Invalid)
        } else {
            (s(make_uscc(rng, region)), Cell::Valid)
        };
        codes.push(code.clone().unwrap_or_default());
        let (rep_id, rc) = if i % 29 == 8 {
            (s(bad_id(p, i / 29)), Cell::Invalid)
        } else if i % 31 == 20 {
            (s(written_form(&p.id, i / 31)), Cell::Invalid) // spaced, hyphenated, full-width …
        } else {
            (s(p.id.clone()), Cell::Valid)
        };
        let [(rep_name, nc), (contact_name, ctc), (phone_no, tc)] = annual_report_cells(pop, p, i);
        let (reg, gc) = if i % 61 == 13 {
            (s(ABOLISHED), Cell::Invalid)
        } else if i % 67 == 1 {
            (missing(i / 67), Cell::Missing)
        } else {
            (s(region), Cell::Valid)
        };
        let (cap, kc) = if i % 53 == 7 {
            (s("-5"), Cell::Invalid)
        } else {
            (s((10 + rng.below(5000)).to_string()), Cell::Valid)
        };
        let est = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default()
            + Duration::days(rng.below(9000) as i64);
        t.push(vec![
            code,
            s(format!(
                "乌鲁木齐{}{}有限公司",
                rng.pick(&GIVEN),
                rng.pick(&["商贸", "科技", "物流", "餐饮"])
            )),
            s(p.name.clone()),
            rep_id,
            reg,
            cap,
            s(est.format("%Y-%m-%d").to_string()),
            rep_name,
            contact_name,
            phone_no,
        ]);
        code_c.push(cc);
        rep_c.push(rc);
        region_c.push(gc);
        cap_c.push(kc);
        rep_name_c.push(nc);
        contact_c.push(ctc);
        tel_c.push(tc);
    }
    let mut book = Book::default();
    book.validity("code_valid", &code_c);
    book.unique("code_unique", &t.column("credit_code"), &code_c);
    book.validity("rep_id", &rep_c);
    book.validity("region_current", &region_c);
    book.validity("capital", &cap_c);
    book.validity("rep_name", &rep_name_c);
    book.validity("contact_name", &contact_c);
    book.validity("contact_phone", &tel_c);
    write::json_array(&root.join("departments/shichang/market_entities.json"), &t)?;
    dataset(
        root,
        "market_entities",
        "市场主体登记",
        "shichang",
        "json",
        vec!["departments/shichang/market_entities.json"],
        MARKET_ENTITIES_RULES,
        book,
        &t.columns,
    )
}

/// The annual report's copy of the representative's name, a contact person
/// and a contact number for market entity row `i`; a few written badly, the
/// way that puts an identifier beside the name.
fn annual_report_cells(pop: &[Person], p: &Person, i: usize) -> [(Option<String>, Cell); 3] {
    let contact = &pop[(i * 17 + 3) % pop.len()];
    let rep_name = match (i % 43 == 11, i / 43 % 3) {
        (false, _) => (s(p.name.clone()), Cell::Valid),
        (true, 0) => (
            s(format!("{} {}", p.name, written_form(&p.id, i / 43))),
            Cell::Invalid,
        ),
        (true, 1) => (s(format!("{}（已变更）", p.name)), Cell::Invalid),
        (true, _) => (s(format!("{}，{}", p.name, contact.name)), Cell::Invalid),
    };
    let tel = demo_mobile(i);
    let contact_name = if i % 41 == 7 {
        (
            s(format!("{} {}", contact.name, written_phone(&tel, i / 41))),
            Cell::Invalid,
        )
    } else {
        (s(contact.name.clone()), Cell::Valid)
    };
    let phone_no = if i % 37 == 5 {
        (s(written_phone(&tel, i / 37)), Cell::Invalid)
    } else {
        (s(tel), Cell::Valid)
    };
    [rep_name, contact_name, phone_no]
}

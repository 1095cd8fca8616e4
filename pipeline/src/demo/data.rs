//! The demo bureau's content: people, departments, datasets, rule files, and
//! the bookkeeping of every planted defect.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime};
use quality_rules::ids::{org_code, resident_id, uscc};

use super::write::{self, Kind, Table};
use super::{DemoDataset, DemoDepartment, DemoError, DemoPerson, ExpectedCount};

/// splitmix64: small, seeded, the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// Urumqi districts in use today (GB/T 2260, to_year empty).
const REGIONS: [&str; 7] = [
    "650102", "650103", "650104", "650105", "650106", "650109", "650121",
];
/// 东山区, in use 1987–2007.
const ABOLISHED: &str = "650108";
const SURNAMES: [&str; 16] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "马", "艾", "买", "阿", "古", "热",
];
const GIVEN: [&str; 16] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
];
const UYGHUR: [&str; 6] = [
    "阿不都拉·买买提",
    "古丽娜尔·艾力",
    "艾合买提·热合曼",
    "热依拉·吐尔逊",
    "买买提·艾则孜",
    "阿依古丽·司马义",
];

#[derive(Debug, Clone)]
struct Person {
    id: String,
    name: String,
    male: bool,
    birth: NaiveDate,
}

fn id_for(region: &str, birth: NaiveDate, seq: u32, male: bool) -> String {
    let seq = seq % 500 * 2 + u32::from(male);
    let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
    let c = resident_id::check_digit(first17.as_bytes())
        .map(char::from)
        .unwrap_or('0');
    format!("{first17}{c}")
}

fn people(rng: &mut Rng, n: usize) -> Vec<Person> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    let base = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default();
    while out.len() < n {
        let male = rng.below(2) == 0;
        let birth = base + Duration::days(rng.below(365 * 80) as i64);
        let region = *rng.pick(&REGIONS);
        let id = id_for(region, birth, rng.below(500) as u32, male);
        if !seen.insert(id.clone()) {
            continue;
        }
        let name = if rng.below(8) == 0 {
            rng.pick(&UYGHUR).to_string()
        } else {
            format!(
                "{}{}{}",
                rng.pick(&SURNAMES),
                rng.pick(&GIVEN),
                if rng.below(2) == 0 {
                    *rng.pick(&GIVEN)
                } else {
                    ""
                }
            )
        };
        out.push(Person {
            id,
            name,
            male,
            birth,
        });
    }
    out
}

/// What a planted cell is, for the bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cell {
    Valid,
    Missing,
    Invalid,
}

/// The ways a value can be missing (CONTRACT.md): NULL, empty, blanks, markers.
fn missing(k: usize) -> Option<String> {
    [
        None,
        Some(""),
        Some("  "),
        Some("\u{3000}"),
        Some("无"),
        Some("NULL"),
    ][k % 6]
        .map(str::to_string)
}

/// An invalid resident ID derived from a valid one (keeps its sex digit).
fn bad_id(p: &Person, k: usize) -> String {
    let region = &p.id[..6];
    let seq: u32 = p.id[14..17].parse().unwrap_or(0) / 2;
    match k % 7 {
        0 => {
            // wrong check character
            let last = p.id.as_bytes()[17];
            let wrong = if last == b'0' { '1' } else { '0' };
            format!("{}{wrong}", &p.id[..17])
        }
        1 => format!("{}{}", region, &p.id[8..17]), // 15-digit first-generation number
        2 => {
            id_for(
                region,
                NaiveDate::from_ymd_opt(2024, 2, 28).unwrap_or_default(),
                seq,
                p.male,
            )
            .replacen("20240228", "20240230", 1)
            .chars()
            .take(17)
            .collect::<String>()
                + "0"
        } // 30 February
        3 => id_for(
            region,
            NaiveDate::from_ymd_opt(2027, 3, 1).unwrap_or_default(),
            seq,
            p.male,
        ), // born after the as-of date
        4 => id_for(
            ABOLISHED,
            NaiveDate::from_ymd_opt(2010, 5, 5).unwrap_or_default(),
            seq,
            p.male,
        ), // code abolished 2007
        5 => id_for(
            region,
            NaiveDate::from_ymd_opt(1899, 12, 31).unwrap_or_default(),
            seq,
            p.male,
        ), // before 1900
        _ => format!("{}A", &p.id[..17]),           // not a digit or X
    }
}

/// A valid ID whose check character is `X`, written with a lowercase `x`.
fn lowercase_x_id(p: &Person) -> String {
    let region = &p.id[..6];
    (0..500)
        .map(|s| id_for(region, p.birth, s, p.male))
        .find(|id| id.ends_with('X'))
        .map(|id| id.replace('X', "x"))
        .unwrap_or_else(|| p.id.clone())
}

fn make_uscc(rng: &mut Rng, region: &str) -> String {
    let body: String = (0..8)
        .map(|_| char::from(*rng.pick(b"0123456789ABCDEFGHJKLMNPQRTUWXY")))
        .collect();
    let org = org_code::check_char(body.as_bytes())
        .map(char::from)
        .unwrap_or('0');
    let first17 = format!("91{region}{body}{org}");
    let c = uscc::check_char(first17.as_bytes())
        .map(char::from)
        .unwrap_or('0');
    format!("{first17}{c}")
}

fn bad_uscc(rng: &mut Rng, k: usize) -> String {
    let good = make_uscc(rng, "650102");
    match k % 4 {
        0 => {
            // right final character over a broken organisation-code check
            let org = good.as_bytes()[16];
            let wrong = if org == b'0' { '1' } else { '0' };
            let first17 = format!("{}{wrong}", &good[..16]);
            let c = uscc::check_char(first17.as_bytes())
                .map(char::from)
                .unwrap_or('0');
            if first17.as_bytes()[16] as char == org as char {
                good.replace('9', "O")
            } else {
                format!("{first17}{c}")
            }
        }
        1 => {
            let last = good.as_bytes()[17];
            let wrong = if last == b'0' { '1' } else { '0' };
            format!("{}{wrong}", &good[..17])
        }
        2 => format!("{}O{}", &good[..9], &good[10..]), // the letter O is not in the alphabet
        _ => good[..17].to_string(),                    // too short
    }
}

#[derive(Default)]
struct Book(BTreeMap<String, ExpectedCount>);

impl Book {
    fn set(&mut self, rule: &str, evaluated: u64, failed: u64) {
        self.0
            .insert(rule.to_string(), ExpectedCount { evaluated, failed });
    }
    /// A validity check over planted cells: missing not evaluated, invalid failed.
    fn validity(&mut self, rule: &str, cells: &[Cell]) {
        let evaluated = cells.iter().filter(|c| **c != Cell::Missing).count() as u64;
        let failed = cells.iter().filter(|c| **c == Cell::Invalid).count() as u64;
        self.set(rule, evaluated, failed);
    }
    fn not_null(&mut self, rule: &str, cells: &[Cell]) {
        let failed = cells.iter().filter(|c| **c == Cell::Missing).count() as u64;
        self.set(rule, cells.len() as u64, failed);
    }
    /// `unique`: every copy of a raw value that occurs twice or more among non-missing cells.
    fn unique(&mut self, rule: &str, values: &[Option<&str>], cells: &[Cell]) {
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for (v, c) in values.iter().zip(cells) {
            if let (Some(v), false) = (v, *c == Cell::Missing) {
                *counts.entry(v).or_default() += 1;
            }
        }
        let evaluated = counts.values().sum();
        let failed = counts.values().filter(|n| **n > 1).sum();
        self.set(rule, evaluated, failed);
    }
    /// `reference`: non-missing raw values absent from `base`.
    fn reference(
        &mut self,
        rule: &str,
        values: &[Option<&str>],
        cells: &[Cell],
        base: &BTreeSet<String>,
    ) {
        let mut evaluated = 0;
        let mut failed = 0;
        for (v, c) in values.iter().zip(cells) {
            if *c == Cell::Missing {
                continue;
            }
            evaluated += 1;
            if !v.is_some_and(|v| base.contains(v)) {
                failed += 1;
            }
        }
        self.set(rule, evaluated, failed);
    }
}

fn s(v: impl Into<String>) -> Option<String> {
    Some(v.into())
}

fn ts(t: chrono::NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn phone(rng: &mut Rng) -> String {
    format!("1{}{}", rng.pick(&['3', '5', '7', '8', '9']), rng.digits(9))
}

/// A mobile number made from `i` alone (no draw from the generator, so the
/// data planted after it is the same as before it existed).
fn demo_mobile(i: usize) -> String {
    let second = ['3', '5', '7', '8', '9'][i % 5];
    format!(
        "1{second}{:09}",
        (i as u64 * 7_919_337 + 13) % 1_000_000_000
    )
}

/// `chars` in groups of `size`, joined by `sep`.
fn in_groups(chars: &[char], sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= chars.len() {
            break;
        }
        let end = (at + size).min(chars.len());
        out.push(chars[at..end].iter().collect::<String>());
        at = end;
    }
    out.join(sep)
}

fn full_width(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            '0'..='9' | 'A'..='Z' | 'a'..='z' => char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c),
            other => other,
        })
        .collect()
}

/// A valid identifier written the ways people write one (issue #18):
/// spaced, hyphenated, full-width, with zero-width or ideographic spaces,
/// dotted. Each is invalid as written and must be masked when published.
fn written_form(id: &str, k: usize) -> String {
    let chars: Vec<char> = id.chars().collect();
    match k % 6 {
        0 => in_groups(&chars, &[4], " "),
        1 => in_groups(&chars, &[6, 8, 4], "-"),
        2 => full_width(id),
        3 => in_groups(&chars, &[4], "\u{200B}"),
        4 => in_groups(&chars, &[6, 8, 4], "\u{3000}"),
        _ => in_groups(&chars, &[4], "."),
    }
}

/// A mobile number written the ways people write one, or (one in seven) a
/// bank card number typed into the phone field.
fn written_phone(tel: &str, k: usize) -> String {
    let chars: Vec<char> = tel.chars().collect();
    match k % 7 {
        0 => in_groups(&chars, &[3, 4, 4], " "),
        1 => in_groups(&chars, &[3, 4, 4], "-"),
        2 => full_width(tel),
        3 => format!("+86 {}", in_groups(&chars, &[3, 4, 4], " ")),
        4 => in_groups(&chars, &[3, 4, 4], "\u{200B}"),
        5 => in_groups(&chars, &[3, 4, 4], "\u{FF0E}"),
        _ => {
            let body = format!("622202{}", &tel[2..]);
            let card = format!("{body}{}", luhn_digit(&body));
            in_groups(&card.chars().collect::<Vec<_>>(), &[4], " ")
        }
    }
}

/// The Luhn check digit completing `body`.
fn luhn_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(k, b)| {
            let d = u32::from(b - b'0');
            if k.is_multiple_of(2) {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

#[allow(clippy::too_many_arguments)] // one call per dataset, each argument named at the call
fn dataset(
    root: &Path,
    name: &str,
    title_zh: &str,
    department: &str,
    format: &str,
    data: Vec<&str>,
    rules: &str,
    book: Book,
    columns: &[(&'static str, Kind)],
) -> Result<DemoDataset, DemoError> {
    let rules_path = root.join("rules").join(format!("{name}.yaml"));
    write::text(&rules_path, rules)?;
    Ok(DemoDataset {
        name: name.into(),
        title_zh: title_zh.into(),
        department: department.into(),
        data: data.into_iter().map(|d| root.join(d)).collect(),
        rules: rules_path,
        format: format.into(),
        expected: book.0,
        columns: columns
            .iter()
            .map(|(c, k)| {
                let ty = match k {
                    Kind::Text => "string",
                    Kind::Date => "date",
                    Kind::Timestamp => "timestamp",
                    Kind::Number => "float64",
                };
                (c.to_string(), ty.to_string())
            })
            .collect(),
        onesource: None,
    })
}

/// What [`build`] made: departments, datasets and the persons in them.
pub(super) type Built = (Vec<DemoDepartment>, Vec<DemoDataset>, Vec<DemoPerson>);

/// Builds the whole demo bureau under `root`. One seeded generator feeds every
/// dataset in a fixed order, so the output is the same on every run.
pub(super) fn build(root: &Path, as_of: DateTime<FixedOffset>) -> Result<Built, DemoError> {
    let mut rng = Rng(20_261_120);
    let now = as_of.naive_local();
    let pop = people(&mut rng, 2400);
    let registered = &pop[..2000];
    let base = population_base(root, registered)?;
    let mut datasets = vec![household_registration(root, &mut rng, now, registered)?];
    let (marriage, husband_status) = marriage_registration(root, &mut rng, now, &pop, &base)?;
    datasets.push(marriage);
    datasets.push(birth_certificates(root, &mut rng, as_of, &pop)?);
    datasets.push(social_insurance(root, &mut rng, &pop, &husband_status)?);
    datasets.push(market_entities(root, &mut rng, &pop)?);
    datasets.push(housing_provident_fund(root, &mut rng, &pop, &base)?);
    mark_one_source(&mut datasets);
    let persons = pop
        .iter()
        .map(|p| DemoPerson {
            name: p.name.clone(),
            id: p.id.clone(),
        })
        .collect();
    Ok((departments(), datasets, persons))
}

/// The six departments that deliver data.
fn departments() -> Vec<DemoDepartment> {
    [
        ("gongan", "公安局", "Public Security Bureau"),
        ("minzheng", "民政局", "Civil Affairs Bureau"),
        ("weijian", "卫生健康委员会", "Health Commission"),
        (
            "renshe",
            "人力资源和社会保障局",
            "Human Resources and Social Security Bureau",
        ),
        (
            "shichang",
            "市场监督管理局",
            "Market Regulation Administration",
        ),
        (
            "zhujian",
            "住房和城乡建设局",
            "Housing and Urban-Rural Development Bureau",
        ),
    ]
    .iter()
    .map(|(c, z, e)| DemoDepartment {
        code: (*c).into(),
        name_zh: (*z).into(),
        name_en: (*e).into(),
    })
    .collect()
}

/// Writes the population base (the registered persons' numbers) and returns
/// those numbers for the reference checks' bookkeeping.
fn population_base(root: &Path, registered: &[Person]) -> Result<BTreeSet<String>, DemoError> {
    let base: BTreeSet<String> = registered.iter().map(|p| p.id.clone()).collect();
    let mut base_table = Table::new(&[("id_number", Kind::Text)]);
    for p in registered {
        base_table.push(vec![s(p.id.clone())]);
    }
    write::parquet(&root.join("base/population.parquet"), &base_table)?;
    Ok(base)
}

/// 公安局 户籍人口 (Parquet).
fn household_registration(
    root: &Path,
    rng: &mut Rng,
    now: NaiveDateTime,
    registered: &[Person],
) -> Result<DemoDataset, DemoError> {
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
        let (ph, pc) = if i % 61 == 6 {
            (s(rng.digits(10)), Cell::Invalid)
        } else if i % 59 == 8 {
            (s(""), Cell::Missing)
        } else {
            (s(phone(rng)), Cell::Valid)
        };
        let updated = now
            - Duration::hours(2)
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
    book.set("fresh", 1, 0);
    book.set("volume", 1, 0);
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

/// 民政局 婚姻登记 (CSV, GB18030). Also returns what civil affairs records
/// for each husband (the last row wins), for social insurance's re-collected
/// copy.
fn marriage_registration(
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

/// 卫健委 出生医学证明 (NDJSON).
fn birth_certificates(
    root: &Path,
    rng: &mut Rng,
    as_of: DateTime<FixedOffset>,
    pop: &[Person],
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
        let (weight, wc) = match i % 67 {
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

/// 人社局 社保参保 (XLSX).
fn social_insurance(
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

/// 市场监管局 市场主体登记 (JSON array).
fn market_entities(root: &Path, rng: &mut Rng, pop: &[Person]) -> Result<DemoDataset, DemoError> {
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

/// 住建局 住房公积金 (two CSV files, UTF-8 with BOM).
fn housing_provident_fund(
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

/// One data, one source (issue #5): public security and civil affairs are
/// the sources; social insurance re-collects birth dates and marital status.
fn mark_one_source(datasets: &mut [DemoDataset]) {
    for d in datasets {
        d.onesource = match d.name.as_str() {
            "household_registration" => Some(
                "key = \"id_number\"\nname = \"name\"\nsex = \"sex_code\"\nbirth_date = \"birth_date\"\naddress = \"address\"\nupdated_at = \"updated_at\"",
            ),
            "marriage_registration" => {
                Some("key = \"husband_id\"\nname = \"husband_name\"\nupdated_at = \"updated_at\"")
            }
            "social_insurance" => {
                Some("key = \"id_number\"\nname = \"name\"\nbirth_date = \"birth_date\"")
            }
            _ => None,
        }
        .map(str::to_string);
    }
}

// ---- The rule files, one per dataset ----------------------------------------

const HOUSEHOLD_REGISTRATION_RULES: &str = r#"# 公安局 户籍人口 — 基础数据，每日更新
dataset: household_registration
missing_values: ["无", "NULL"]
key: [id_number]
rules:
  - {id: id_present, dimension: completeness, check: not_null, column: id_number, warn_below: 0.99, fail_below: 0.95}
  - {id: id_valid,   dimension: validity,     check: cn_resident_id, column: id_number}   # 公民身份号码
  - {id: id_unique,  dimension: uniqueness,   check: unique, columns: [id_number]}
  - {id: sex,        dimension: validity,     check: in_set, column: sex_code, values: ['1', '2', '9']}  # GB/T 2261.1
  - {id: region,     dimension: validity,     check: cn_division_code, column: region_code}
  - {id: phone,      dimension: validity,     check: regex, column: phone, pattern: '^1[3-9]\d{9}$'}
  - {id: fresh,      dimension: timeliness,   check: freshness, column: updated_at, max_age: 1d}
  - {id: volume,     dimension: completeness, check: row_count, min: 1000}
"#;

const MARRIAGE_REGISTRATION_RULES: &str = r#"# 民政局 婚姻登记 — GB18030 编码的 CSV；数据已超过一周未更新（及时性不合格）
dataset: marriage_registration
missing_values: ["无", "NULL"]
key: [cert_no]
rules:
  - {id: cert_format,     dimension: validity,    check: regex, column: cert_no, pattern: '^J\d{12}$'}
  - {id: husband_valid,   dimension: validity,    check: cn_resident_id, column: husband_id}
  - {id: husband_in_base, dimension: consistency, check: reference, column: husband_id, reference: {data: ../base/population.parquet, column: id_number}}
  - {id: wife_present,    dimension: completeness, check: not_null, column: wife_id}
  - {id: status,          dimension: validity,    check: in_set, column: marital_status, values: ['10', '20', '21', '22', '23', '30', '40', '90']}  # GB/T 2261.2
  - {id: fresh,           dimension: timeliness,  check: freshness, column: updated_at, max_age: 7d}
"#;

const BIRTH_CERTIFICATES_RULES: &str = r#"# 卫健委 出生医学证明 — NDJSON
dataset: birth_certificates
missing_values: ["无", "NULL"]
key: [cert_no]
rules:
  - {id: mother_valid,     dimension: validity,    check: cn_resident_id, column: mother_id, allow_lowercase_x: true}
  - {id: weight,           dimension: validity,    check: range, column: birth_weight_g, min: 500, max: 6000, warn_below: 0.99, fail_below: 0.9}
  - {id: hospital,         dimension: validity,    check: cn_uscc, column: hospital_uscc}
  - {id: mother_is_female, dimension: accuracy,    check: expression, expr: "cn_id_sex(mother_id) = '2'"}
"#;

const SOCIAL_INSURANCE_RULES: &str = r#"# 人社局 社保参保 — XLSX；本期只报送了 300 条（应不少于 1000 条）
dataset: social_insurance
missing_values: ["无", "NULL"]
key: [id_number]
rules:
  - {id: id_valid, dimension: validity,     check: cn_resident_id, column: id_number}
  - {id: base,     dimension: validity,     check: range, column: contribution_base, min: 1000, max: 40000}
  - {id: unit,     dimension: validity,     check: cn_uscc, column: unit_uscc}
  - {id: status,   dimension: validity,     check: in_set, column: status, values: ['1', '2', '3']}
  - {id: volume,   dimension: completeness, check: row_count, min: 1000}
"#;

const MARKET_ENTITIES_RULES: &str = r#"# 市场监管局 市场主体登记 — JSON 数组
dataset: market_entities
missing_values: ["无", "NULL"]
key: [credit_code]
rules:
  - {id: code_valid,     dimension: validity,   check: cn_uscc, column: credit_code}          # 统一社会信用代码
  - {id: code_unique,    dimension: uniqueness, check: unique, columns: [credit_code]}
  - {id: rep_id,         dimension: validity,   check: cn_resident_id, column: legal_rep_id}
  - {id: region_current, dimension: validity,   check: cn_division_code, column: region_code, current_only: true}
  - {id: capital,        dimension: validity,   check: range, column: registered_capital, min: 0}
  - {id: rep_name,       dimension: validity,   check: regex, column: 企业法定代表人, pattern: '^[\p{Han}·]{2,20}$'}   # 姓名只含汉字
  - {id: contact_name,   dimension: validity,   check: regex, column: 单位联系人, pattern: '^[\p{Han}·]{2,20}$'}
  - {id: contact_phone,  dimension: validity,   check: regex, column: 联系电话, pattern: '^1[3-9]\d{9}$'}
"#;

const HOUSING_PROVIDENT_FUND_RULES: &str = r#"# 住建局 住房公积金 — 一个目录中的两个 CSV 文件（UTF-8 带 BOM），构成一个数据集
dataset: housing_provident_fund
missing_values: ["无", "NULL"]
key: [account_no]
rules:
  - {id: id_unique, dimension: uniqueness,  check: unique, columns: [id_number]}
  - {id: in_base,   dimension: consistency, check: reference, column: id_number, reference: {data: ../base/population.parquet, column: id_number}}
  - {id: balance,   dimension: validity,    check: range, column: balance, min: 0}
  - {id: life,      dimension: consistency, check: expression, expr: "death_date IS NULL OR death_date >= birth_date"}
"#;

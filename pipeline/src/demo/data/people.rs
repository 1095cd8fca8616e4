//! The demo's people and identifiers: the seeded generator, names, resident
//! IDs and credit codes (valid and planted invalid), and the ways people
//! write numbers and phones.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use quality_rules::ids::{org_code, resident_id, uscc};

/// splitmix64: small, seeded, the same everywhere.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub(super) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    pub(super) fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// Urumqi districts in use today (GB/T 2260, to_year empty).
pub(super) const REGIONS: [&str; 7] = [
    "650102", "650103", "650104", "650105", "650106", "650109", "650121",
];
/// 东山区, in use 1987–2007.
pub(super) const ABOLISHED: &str = "650108";
pub(super) const SURNAMES: [&str; 16] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "马", "艾", "买", "阿", "古", "热",
];
pub(super) const GIVEN: [&str; 16] = [
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
pub(super) struct Person {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) male: bool,
    pub(super) birth: NaiveDate,
}

fn id_for(region: &str, birth: NaiveDate, seq: u32, male: bool) -> String {
    let seq = seq % 500 * 2 + u32::from(male);
    let first17 = format!("{region}{}{seq:03}", birth.format("%Y%m%d"));
    let c = resident_id::check_digit(first17.as_bytes())
        .map(char::from)
        .unwrap_or('0');
    format!("{first17}{c}")
}

pub(super) fn people(rng: &mut Rng, n: usize) -> Vec<Person> {
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

/// An invalid resident ID derived from a valid one (keeps its sex digit).
pub(super) fn bad_id(p: &Person, k: usize) -> String {
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
pub(super) fn lowercase_x_id(p: &Person) -> String {
    let region = &p.id[..6];
    (0..500)
        .map(|s| id_for(region, p.birth, s, p.male))
        .find(|id| id.ends_with('X'))
        .map(|id| id.replace('X', "x"))
        .unwrap_or_else(|| p.id.clone())
}

pub(super) fn make_uscc(rng: &mut Rng, region: &str) -> String {
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

pub(super) fn bad_uscc(rng: &mut Rng, k: usize) -> String {
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

pub(super) fn phone(rng: &mut Rng) -> String {
    format!("1{}{}", rng.pick(&['3', '5', '7', '8', '9']), rng.digits(9))
}

/// A mobile number made from `i` alone (no draw from the generator, so the
/// data planted after it is the same as before it existed).
pub(super) fn demo_mobile(i: usize) -> String {
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
pub(super) fn written_form(id: &str, k: usize) -> String {
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
pub(super) fn written_phone(tel: &str, k: usize) -> String {
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

//! Property tests: the identifier validators (and their UDFs' building
//! blocks) against straightforward reference implementations written
//! independently here — strings, chrono, the CSV read line by line — on
//! random inputs biased towards near-valid identifiers.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use proptest::prelude::*;
use quality_rules::ids::{resident_id, uscc};

const CSV: &str = include_str!("../data/gbt2260-divisions.csv");

/// code -> every to_year of its records (None = open).
static DIVISIONS: std::sync::LazyLock<HashMap<String, Vec<Option<i32>>>> =
    std::sync::LazyLock::new(division_years);

fn division_years() -> HashMap<String, Vec<Option<i32>>> {
    let mut m: HashMap<String, Vec<Option<i32>>> = HashMap::new();
    for line in CSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("code,"))
    {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() == 5 {
            m.entry(f[0].to_string())
                .or_default()
                .push(f[4].parse().ok());
        }
    }
    m
}

fn ref_resident_id(
    s: &str,
    as_of: NaiveDate,
    lower_ok: bool,
    div: &HashMap<String, Vec<Option<i32>>>,
) -> bool {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() != 18 || !chars[..17].iter().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let last = chars[17];
    if !(last.is_ascii_digit() || last == 'X' || (lower_ok && last == 'x')) {
        return false;
    }
    let y: i32 = s[6..10].parse().unwrap();
    let m: u32 = s[10..12].parse().unwrap();
    let d: u32 = s[12..14].parse().unwrap();
    let Some(birth) = NaiveDate::from_ymd_opt(y, m, d) else {
        return false;
    };
    if birth < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() || birth > as_of {
        return false;
    }
    let ok_div = div
        .get(&s[..6])
        .is_some_and(|ys| ys.iter().any(|t| t.is_none_or(|t| t >= birth.year())));
    if !ok_div {
        return false;
    }
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = chars[..17]
        .iter()
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let expected = "10X98765432".chars().nth((sum % 11) as usize).unwrap();
    last.to_ascii_uppercase() == expected
}

fn ref_uscc(s: &str, div: &HashMap<String, Vec<Option<i32>>>) -> bool {
    let alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    if s.chars().count() != 18 || !s.chars().all(|c| alphabet.contains(c)) {
        return false;
    }
    if !div.contains_key(&s[2..8]) {
        return false;
    }
    let weights = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let sum: usize = s
        .chars()
        .take(17)
        .zip(weights)
        .map(|(c, w)| alphabet.find(c).unwrap() * w)
        .sum();
    if alphabet.chars().nth((31 - sum % 31) % 31).unwrap() != s.chars().nth(17).unwrap() {
        return false;
    }
    let org_alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let ow = [3, 7, 9, 10, 5, 8, 4, 2];
    let osum: usize = s[8..16]
        .chars()
        .zip(ow)
        .map(|(c, w)| org_alpha.find(c).unwrap() * w)
        .sum();
    let c9 = match 11 - osum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n as u32, 10).unwrap(),
    };
    c9 == s.chars().nth(16).unwrap()
}

/// Regions: current, abolished (110223: 1982–1997), created late (110112: 1997–), unlisted.
const REGIONS: [&str; 6] = ["110101", "110223", "110112", "650108", "650102", "999999"];

fn near_valid_id() -> impl Strategy<Value = String> {
    (
        0..REGIONS.len(),
        1890i32..2030,
        1u32..13,
        1u32..32,
        0u32..1000,
        0u8..8,
        0usize..18,
        0u8..10,
    )
        .prop_map(|(r, y, m, d, seq, mutation, pos, digit)| {
            let first17 = format!("{}{y:04}{m:02}{d:02}{seq:03}", REGIONS[r]);
            let check = resident_id::check_digit(first17.as_bytes()).unwrap() as char;
            let mut s = format!("{first17}{check}");
            match mutation {
                0 => {
                    let mut b = s.into_bytes();
                    b[pos] = b'0' + digit;
                    s = String::from_utf8(b).unwrap();
                }
                1 => s = s.to_lowercase(),
                2 => s.truncate(pos),
                3 => s.push('1'),
                4 => s = format!("{}X", &s[..17]),
                _ => {}
            }
            s
        })
}

fn near_valid_uscc() -> impl Strategy<Value = String> {
    let alpha: Vec<char> = "0123456789ABCDEFGHJKLMNPQRTUWXYIOSVZ".chars().collect();
    (
        0..REGIONS.len(),
        proptest::collection::vec(0usize..31, 8),
        0u8..6,
        0usize..18,
        0usize..36,
    )
        .prop_map(move |(r, body, mutation, pos, ch)| {
            let body: String = body.iter().map(|i| alpha[*i]).collect();
            let org = quality_rules::ids::org_code::check_char(body.as_bytes()).unwrap() as char;
            let first17 = format!("91{}{body}{org}", REGIONS[r]);
            let c = uscc::check_char(first17.as_bytes()).unwrap() as char;
            let mut s = format!("{first17}{c}");
            if mutation < 3 {
                let mut v: Vec<char> = s.chars().collect();
                v[pos] = alpha[ch];
                s = v.into_iter().collect();
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn resident_id_matches_reference(s in near_valid_id(), lower in any::<bool>()) {
        let div = &*DIVISIONS;
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        prop_assert_eq!(resident_id::validate(s.as_bytes(), as_of, lower).is_ok(), ref_resident_id(&s, as_of, lower, div), "{}", s);
    }

    #[test]
    fn resident_id_never_panics_on_junk(s in "\\PC{0,24}") {
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let _ = resident_id::validate(s.as_bytes(), as_of, true);
        let _ = resident_id::birth_date(s.as_bytes());
        let _ = uscc::validate(s.as_bytes());
    }

    #[test]
    fn uscc_matches_reference(s in near_valid_uscc()) {
        let div = &*DIVISIONS;
        prop_assert_eq!(uscc::validate(s.as_bytes()).is_ok(), ref_uscc(&s, div), "{}", s);
    }
}

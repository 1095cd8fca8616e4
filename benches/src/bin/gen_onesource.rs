//! Generates the Chinese one-source benchmark (issue #5): persons held by
//! public security (the authority, one clean record each) and 0–3 copies in
//! other departments, each copy with at most one corruption. Seeded and
//! deterministic.
//!
//! ```text
//! gen_onesource --persons 200000 --out /tmp/pdq-onesource/cn --seed 2026
//! gen_onesource --persons 4000000 --copies 1.5 --damaged 0.05 --out /tmp/pdq-onesource/10m
//! ```
//!
//! Writes `dept<k>.csv` (k = 0..departments; dept0 is the authority) with
//! `rec_id,entity,corruption,id_number,name,sex,birth_date,address`.
//! Corruptions of a copy:
//!
//! | corruption | what | key after normalisation |
//! |---|---|---|
//! | `none` | an exact copy | valid |
//! | `id15` | the first-generation 15-digit number | valid |
//! | `lowercase_x` | `x` for a final `X` | valid |
//! | `full_width` | the ID in full-width digits | valid |
//! | `traditional` | the name in traditional characters | valid |
//! | `dot_variant` | a minority name with `•`, `.`, `・`, a space or no separator | valid |
//! | `birth_typo` | one digit of the birth-date column changed | valid |
//! | `id_typo` | one digit of the ID changed (always caught by MOD 11-2) | invalid |
//! | `missing_key` | no ID | missing |
//!
//! With `--damaged F`, a fraction F of copies get `id_typo` or `missing_key`
//! and the rest spread over the valid-key kinds; without it, every kind is
//! equally likely.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{Datelike, NaiveDate};
use clap::Parser;
use quality_rules::ids::resident_id::{check_digit, validate};

/// Generates the Chinese entity-resolution benchmark.
#[derive(Debug, Parser)]
struct Args {
    /// Persons.
    #[arg(long, default_value_t = 200_000)]
    persons: u64,
    /// Departments (dept0 is the authority).
    #[arg(long, default_value_t = 6)]
    departments: usize,
    /// Mean copies per person outside dept0 (0 to 3 each).
    #[arg(long, default_value_t = 1.5)]
    copies: f64,
    /// Fraction of copies with a damaged key; absent: all kinds equally likely.
    #[arg(long)]
    damaged: Option<f64>,
    /// Seed.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Output directory.
    #[arg(long)]
    out: PathBuf,
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SURNAMES: &[&str] = &[
    "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "马", "孙", "郑", "冯", "韩", "邓",
    "许", "罗", "叶", "苏", "钱", "徐", "高", "林", "何", "郭", "胡", "朱", "梁", "宋",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "华", "国", "红", "兰", "凤", "龙", "飞", "鹏", "辉", "玲",
    "东", "建", "文", "晓", "云", "海", "亮", "波", "宁", "欣", "学", "长", "庆", "志", "永", "新",
];
const MINORITY_FIRST: &[&str] = &[
    "艾力",
    "买买提",
    "阿不都",
    "热依拉",
    "古丽",
    "努尔",
    "阿依",
    "吐尔逊",
    "米热",
    "帕提古丽",
    "扎西",
    "次仁",
    "卓玛",
    "格桑",
    "拉姆",
    "达瓦",
    "尼玛",
    "央金",
    "阿迪力",
    "麦麦提",
];
const MINORITY_LAST: &[&str] = &[
    "买买提",
    "艾则孜",
    "吐尔洪",
    "热合曼",
    "艾山",
    "阿布拉",
    "玉素甫",
    "尼亚孜",
    "多吉",
    "平措",
    "旺堆",
    "索朗",
    "巴桑",
    "普布",
    "克里木",
    "依明",
    "斯迪克",
    "吾守尔",
    "哈力克",
    "司马义",
];
/// Simplified → traditional for the characters above that have one.
const TRAD: &[(char, char)] = &[
    ('张', '張'),
    ('赵', '趙'),
    ('刘', '劉'),
    ('陈', '陳'),
    ('杨', '楊'),
    ('黄', '黃'),
    ('吴', '吳'),
    ('马', '馬'),
    ('孙', '孫'),
    ('郑', '鄭'),
    ('冯', '馮'),
    ('韩', '韓'),
    ('邓', '鄧'),
    ('许', '許'),
    ('罗', '羅'),
    ('叶', '葉'),
    ('苏', '蘇'),
    ('钱', '錢'),
    ('郭', '郭'),
    ('伟', '偉'),
    ('丽', '麗'),
    ('强', '強'),
    ('军', '軍'),
    ('艳', '艷'),
    ('杰', '傑'),
    ('涛', '濤'),
    ('霞', '霞'),
    ('刚', '剛'),
    ('华', '華'),
    ('国', '國'),
    ('红', '紅'),
    ('兰', '蘭'),
    ('凤', '鳳'),
    ('龙', '龍'),
    ('飞', '飛'),
    ('鹏', '鵬'),
    ('辉', '輝'),
    ('东', '東'),
    ('晓', '曉'),
    ('云', '雲'),
    ('海', '海'),
    ('亮', '亮'),
    ('波', '波'),
    ('宁', '寧'),
    ('学', '學'),
    ('长', '長'),
    ('庆', '慶'),
    ('买', '買'),
    ('热', '熱'),
    ('尔', '爾'),
    ('丽', '麗'),
    ('则', '則'),
    ('孜', '孜'),
    ('洪', '洪'),
    ('苏', '蘇'),
    ('亚', '亞'),
    ('吉', '吉'),
    ('旺', '旺'),
    ('朗', '朗'),
    ('维', '維'),
    ('义', '義'),
    ('汉', '漢'),
    ('迪', '迪'),
];
const DIVISIONS: &[&str] = &[
    "650102", "650103", "650104", "650105", "650106", "650107", "650109", "650121", "650202",
    "650203", "650204", "650205", "652301", "652302", "652323", "652324", "652325", "652327",
    "652328", "652801", "652822", "652823", "652901", "652922", "653101", "653121", "653201",
    "654002", "654003", "654021", "654201", "654301", "540102", "540103", "513301", "513322",
];
const CITIES: &[&str] = &[
    "乌鲁木齐市",
    "克拉玛依市",
    "昌吉市",
    "库尔勒市",
    "阿克苏市",
    "喀什市",
    "伊宁市",
    "拉萨市",
    "康定市",
];
const ROADS: &[&str] = &[
    "解放", "人民", "友好", "新华", "北京", "长江", "黄河", "天山", "和平", "团结", "光明", "建设",
];
const KINDS_VALID: &[&str] = &[
    "none",
    "id15",
    "lowercase_x",
    "full_width",
    "traditional",
    "dot_variant",
    "birth_typo",
];
const KINDS_DAMAGED: &[&str] = &["id_typo", "missing_key"];

struct Person {
    id: String,
    name: String,
    sex: u8,
    birth: NaiveDate,
    address: String,
}

fn person(rng: &mut Rng, used: &mut HashSet<u64>, divisions: &[&str], as_of: NaiveDate) -> Person {
    let base = NaiveDate::from_ymd_opt(1940, 1, 1).unwrap_or_default();
    loop {
        let birth = base + chrono::Duration::days(rng.below(66 * 365) as i64);
        let div = rng.pick(divisions);
        let seq = rng.below(1000);
        let first17 = format!(
            "{div}{:04}{:02}{:02}{seq:03}",
            birth.year(),
            birth.month(),
            birth.day()
        );
        let Ok(k) = first17.parse::<u64>() else {
            continue;
        };
        if !used.insert(k) {
            continue;
        }
        let Some(c) = check_digit(first17.as_bytes()) else {
            continue;
        };
        let id = format!("{first17}{}", c as char);
        if validate(id.as_bytes(), as_of, false).is_err() {
            continue;
        }
        let name = if rng.below(10) < 2 {
            format!("{}·{}", rng.pick(MINORITY_FIRST), rng.pick(MINORITY_LAST))
        } else if rng.below(3) == 0 {
            format!("{}{}", rng.pick(SURNAMES), rng.pick(GIVEN))
        } else {
            format!(
                "{}{}{}",
                rng.pick(SURNAMES),
                rng.pick(GIVEN),
                rng.pick(GIVEN)
            )
        };
        let address = format!(
            "{}{}路{}号{}室",
            rng.pick(CITIES),
            rng.pick(ROADS),
            1 + rng.below(300),
            101 + rng.below(1500)
        );
        return Person {
            sex: if seq % 2 == 1 { 1 } else { 2 },
            id,
            name,
            birth,
            address,
        };
    }
}

fn traditional(s: &str) -> String {
    s.chars()
        .map(|c| TRAD.iter().find(|(a, _)| *a == c).map_or(c, |(_, t)| *t))
        .collect()
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from_u32(c as u32 + 0xfee0).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

/// A copy's fields under `kind`, or `None` when the kind does not apply to this person.
fn corrupt(rng: &mut Rng, p: &Person, kind: &str) -> Option<(String, String, String)> {
    let birth = p.birth.format("%Y-%m-%d").to_string();
    let (id, name, birth) = match kind {
        "none" => (p.id.clone(), p.name.clone(), birth),
        "id15" => {
            if p.birth.year() >= 2000 {
                return None;
            }
            (
                format!("{}{}", &p.id[..6], &p.id[8..17]),
                p.name.clone(),
                birth,
            )
        }
        "lowercase_x" => {
            if !p.id.ends_with('X') {
                return None;
            }
            (p.id.to_lowercase(), p.name.clone(), birth)
        }
        "full_width" => (full_width(&p.id), p.name.clone(), birth),
        "traditional" => {
            let t = traditional(&p.name);
            if t == p.name {
                return None;
            }
            (p.id.clone(), t, birth)
        }
        "dot_variant" => {
            if !p.name.contains('·') {
                return None;
            }
            let sep = *rng.pick(&["•", ".", "・", " ", "", "．"]);
            (p.id.clone(), p.name.replace('·', sep), birth)
        }
        "birth_typo" => {
            let mut b = birth.into_bytes();
            let at = *rng.pick(&[2usize, 3, 5, 6, 8, 9]);
            b[at] = if b[at] == b'0' { b'1' } else { b[at] - 1 };
            (p.id.clone(), p.name.clone(), String::from_utf8(b).ok()?)
        }
        "id_typo" => {
            let mut b = p.id.clone().into_bytes();
            let at = rng.below(17) as usize;
            b[at] = b'0' + ((b[at] - b'0' + 1 + rng.below(9) as u8) % 10);
            (String::from_utf8(b).ok()?, p.name.clone(), birth)
        }
        "missing_key" => (String::new(), p.name.clone(), birth),
        _ => return None,
    };
    Some((id, name, birth))
}

fn run(args: Args) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let as_of = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap_or_default();
    let mut rng = Rng(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let divisions: Vec<&str> = DIVISIONS
        .iter()
        .copied()
        .filter(|d| {
            let first17 = format!("{d}19900101001");
            check_digit(first17.as_bytes()).is_some_and(|c| {
                validate(format!("{first17}{}", c as char).as_bytes(), as_of, false).is_ok()
            })
        })
        .collect();
    anyhow::ensure!(!divisions.is_empty(), "no usable division code");
    let mut files = (0..args.departments)
        .map(|k| {
            let path = args.out.join(format!("dept{k}.csv"));
            let mut w = std::io::BufWriter::with_capacity(
                1 << 20,
                std::fs::File::create(&path)
                    .with_context(|| format!("creating {}", path.display()))?,
            );
            writeln!(
                w,
                "rec_id,entity,corruption,id_number,name,sex,birth_date,address"
            )?;
            Ok(w)
        })
        .collect::<Result<Vec<_>>>()?;
    let mut used = HashSet::with_capacity(args.persons as usize);
    let mut records = 0u64;
    let copy_p = (args.copies / 3.0).clamp(0.0, 1.0);
    for e in 0..args.persons {
        let p = person(&mut rng, &mut used, &divisions, as_of);
        let birth = p.birth.format("%Y-%m-%d");
        writeln!(
            files[0],
            "r{records},{e},none,{},{},{},{birth},{}",
            p.id, p.name, p.sex, p.address
        )?;
        records += 1;
        // 0–3 copies: binomial(3, copies/3)
        let n = (0..3).filter(|_| rng.unit() < copy_p).count();
        for _ in 0..n {
            let dept = 1 + rng.below(args.departments as u64 - 1) as usize;
            let (kind, (id, name, birth)) = loop {
                let kind = match args.damaged {
                    Some(f) if rng.unit() < f => *rng.pick(KINDS_DAMAGED),
                    Some(_) => *rng.pick(KINDS_VALID),
                    None => {
                        if rng.below(9) < 2 {
                            *rng.pick(KINDS_DAMAGED)
                        } else {
                            *rng.pick(KINDS_VALID)
                        }
                    }
                };
                if let Some(v) = corrupt(&mut rng, &p, kind) {
                    break (kind, v);
                }
            };
            // a fifth of copies carry an older address
            let address = if rng.below(5) == 0 {
                format!(
                    "{}{}路{}号",
                    rng.pick(CITIES),
                    rng.pick(ROADS),
                    1 + rng.below(300)
                )
            } else {
                p.address.clone()
            };
            writeln!(
                files[dept],
                "r{records},{e},{kind},{id},{name},{},{birth},{address}",
                p.sex
            )?;
            records += 1;
        }
    }
    for mut f in files {
        f.flush()?;
    }
    eprintln!(
        "gen_onesource: {} persons, {records} records in {}",
        args.persons,
        args.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen_onesource: {e:#}");
            ExitCode::from(1)
        }
    }
}

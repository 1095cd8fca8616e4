//! The rule-engine benchmark dataset: person rows with distinct identifiers
//! and about 2% planted defects, as Arrow batches and one Parquet file.
//!
//! Every row is a pure function of `(seed, row number)`: a per-row random
//! stream, and bijective "shuffles" (`x ↦ (a·x + b) mod m` with `a` prime to
//! `m`) from the row number onto the space of resident IDs, organisation
//! codes and phone numbers. That is what makes the identifiers distinct
//! without remembering any of them, and lets a batch be generated from any
//! starting row. Values are written into reused buffers: no allocation per
//! row.
//!
//! Defects: 2% of rows carry one defect drawn from [`Defect`] (missing
//! values in every spelling the contract knows, padded valid values, and
//! invalid values of each kind the rules check); another 0.2% of rows repeat
//! the previous row's resident ID.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Date32Builder, Float64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use chrono::{Datelike, NaiveDate};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use quality_rules::ids::{org_code, resident_id, uscc};

use crate::divisions::DivisionCodes;

/// Time zone of `updated_at`.
pub const TIME_ZONE: &str = "Asia/Shanghai";
/// Offset of [`TIME_ZONE`] (no daylight saving since 1991).
const UTC_OFFSET_SECONDS: i64 = 8 * 3600;
/// Birth dates are spread over this many days from 1940-01-01 (to mid-2008).
const BIRTH_DAYS: u64 = 25_000;
/// Share of rows with a planted defect, per 10 000.
const DEFECT_PER_10K: u64 = 200;
/// Share of rows repeating the previous row's resident ID, per 10 000.
const DUPLICATE_PER_10K: u64 = 20;
/// Rows per generated batch.
pub const BATCH_ROWS: usize = 65_536;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// More rows than distinct identifiers can be made for.
    #[error(
        "{rows} rows requested, but only {max} rows with distinct identifiers can be generated"
    )]
    TooManyRows {
        /// Rows asked for.
        rows: u64,
        /// The most the generator can make distinct.
        max: u64,
    },
    /// The output file could not be created, written or renamed into place.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Encoding Parquet failed.
    #[error("cannot write Parquet to {path}: {source}")]
    Parquet {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: ParquetError,
    },
    /// Building a batch failed (a generator bug, reported rather than panicking).
    #[error("cannot build a record batch: {0}")]
    Arrow(#[from] ArrowError),
}

/// What a dataset is made from.
#[derive(Debug, Clone)]
pub struct Config {
    /// Seed of every random choice; same seed, same file.
    pub seed: u64,
    /// The as-of date the rules will be checked at: birth dates after it are
    /// planted defects, `updated_at` lies in the day before it.
    pub as_of: NaiveDate,
}

/// One kind of planted defect (or of tolerated noise that must pass, such as
/// a padded valid value). Each defective row carries exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Defect {
    /// id_number NULL.
    IdNull,
    /// id_number empty or white space only (U+3000 included).
    IdBlank,
    /// id_number a missing marker (`无`, `NULL`, possibly padded).
    IdMarker,
    /// id_number valid but padded with white space (passes after trimming).
    IdPadded,
    /// Wrong MOD 11-2 check digit.
    IdWrongCheck,
    /// Birth date 30 February (check digit recomputed, so only the date is wrong).
    IdImpossibleDate,
    /// Birth date after the as-of date (check digit recomputed).
    IdFutureBirth,
    /// Birth date before 1900 (check digit recomputed).
    IdBefore1900,
    /// Check character `x` instead of `X`.
    IdLowercaseX,
    /// A first-generation 15-digit number.
    IdFifteenDigits,
    /// A division code abolished before the birth year (check digit recomputed).
    IdAbolishedDivision,
    /// A division code that was never listed (check digit recomputed).
    IdUnlistedDivision,
    /// The letter O typed for a zero.
    IdLetter,
    /// name NULL.
    NameNull,
    /// name blank.
    NameBlank,
    /// name a missing marker.
    NameMarker,
    /// sex_code outside {1, 2, 9}.
    SexOutOfSet,
    /// sex_code blank or a marker.
    SexMissing,
    /// sex_code padded (passes).
    SexPadded,
    /// birth_date after the as-of date.
    BirthFuture,
    /// birth_date before 1900.
    BirthBefore1900,
    /// birth_date NULL.
    BirthNull,
    /// death_date before birth_date.
    DeathBeforeBirth,
    /// region_code abolished (listed, but not in use any more).
    RegionAbolished,
    /// region_code never listed.
    RegionUnlisted,
    /// region_code of five digits.
    RegionShort,
    /// region_code NULL, blank or a marker.
    RegionMissing,
    /// USCC with a wrong MOD 31 check character.
    CreditWrongCheck,
    /// USCC whose embedded organisation code has a wrong GB 11714 check
    /// character (final check recomputed, so only that is wrong).
    CreditBrokenOrgCode,
    /// USCC with an unlisted division code (checks recomputed).
    CreditUnlistedDivision,
    /// USCC containing a letter outside its alphabet (I, O, S, V, Z).
    CreditBadLetter,
    /// USCC in lowercase.
    CreditLowercase,
    /// USCC NULL, blank or a marker.
    CreditMissing,
    /// USCC valid but padded (passes).
    CreditPadded,
    /// Phone of ten digits.
    PhoneShort,
    /// Phone of twelve digits.
    PhoneLong,
    /// Phone with a second digit below 3.
    PhoneBadPrefix,
    /// Phone with a country prefix or separators.
    PhoneFormatted,
    /// Phone NULL, blank or a marker.
    PhoneMissing,
    /// Phone valid but padded (passes).
    PhonePadded,
    /// Negative amount.
    AmountNegative,
    /// Amount above 10 000 000.
    AmountHuge,
    /// Amount NULL.
    AmountNull,
    /// Amount NaN (not a number, so out of any range).
    AmountNan,
    /// status outside {A, B, C, D}.
    StatusOutOfSet,
    /// status in lowercase.
    StatusLowercase,
    /// status NULL, blank or a marker.
    StatusMissing,
    /// status padded (passes).
    StatusPadded,
}

impl Defect {
    /// Every defect, each equally likely among defective rows.
    pub const ALL: [Defect; 48] = [
        Defect::IdNull,
        Defect::IdBlank,
        Defect::IdMarker,
        Defect::IdPadded,
        Defect::IdWrongCheck,
        Defect::IdImpossibleDate,
        Defect::IdFutureBirth,
        Defect::IdBefore1900,
        Defect::IdLowercaseX,
        Defect::IdFifteenDigits,
        Defect::IdAbolishedDivision,
        Defect::IdUnlistedDivision,
        Defect::IdLetter,
        Defect::NameNull,
        Defect::NameBlank,
        Defect::NameMarker,
        Defect::SexOutOfSet,
        Defect::SexMissing,
        Defect::SexPadded,
        Defect::BirthFuture,
        Defect::BirthBefore1900,
        Defect::BirthNull,
        Defect::DeathBeforeBirth,
        Defect::RegionAbolished,
        Defect::RegionUnlisted,
        Defect::RegionShort,
        Defect::RegionMissing,
        Defect::CreditWrongCheck,
        Defect::CreditBrokenOrgCode,
        Defect::CreditUnlistedDivision,
        Defect::CreditBadLetter,
        Defect::CreditLowercase,
        Defect::CreditMissing,
        Defect::CreditPadded,
        Defect::PhoneShort,
        Defect::PhoneLong,
        Defect::PhoneBadPrefix,
        Defect::PhoneFormatted,
        Defect::PhoneMissing,
        Defect::PhonePadded,
        Defect::AmountNegative,
        Defect::AmountHuge,
        Defect::AmountNull,
        Defect::AmountNan,
        Defect::StatusOutOfSet,
        Defect::StatusLowercase,
        Defect::StatusMissing,
        Defect::StatusPadded,
    ];
}

/// The columns, in order.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id_number", DataType::Utf8, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("sex_code", DataType::Utf8, true),
        Field::new("birth_date", DataType::Date32, true),
        Field::new("death_date", DataType::Date32, true),
        Field::new("region_code", DataType::Utf8, true),
        Field::new("credit_code", DataType::Utf8, true),
        Field::new("phone", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("status", DataType::Utf8, true),
        Field::new(
            "updated_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some(TIME_ZONE.into())),
            true,
        ),
    ]))
}

// ---- randomness ------------------------------------------------------------

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64, one stream per row.
struct Rng(u64);

impl Rng {
    fn for_row(seed: u64, row: u64) -> Rng {
        Rng(mix(seed ^ mix(row.wrapping_add(GOLDEN))))
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN);
        mix(self.0)
    }
    /// Uniform in `0..n` (n > 0; the modulo bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, per_10k: u64) -> bool {
        self.below(10_000) < per_10k
    }
}

/// A bijection of `0..m`: `x ↦ (a·x + b) mod m` with `gcd(a, m) = 1`.
#[derive(Debug, Clone, Copy)]
struct Shuffle {
    a: u128,
    b: u128,
    m: u128,
}

impl Shuffle {
    fn new(m: u64, seed: u64) -> Shuffle {
        let m = u128::from(m.max(1));
        let mut a = u128::from(mix(seed) | 1) % m;
        while gcd(a, m) != 1 {
            a = (a + 1) % m;
        }
        let b = u128::from(mix(seed ^ GOLDEN)) % m;
        Shuffle { a, b, m }
    }
    fn apply(&self, x: u64) -> u64 {
        // a, b < m <= 2^64, so a·x + b < 2^128; the result is < m.
        ((self.a * u128::from(x) + self.b) % self.m) as u64
    }
}

fn gcd(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

// ---- calendar ----------------------------------------------------------------

/// Days since 1970-01-01 of a date.
fn epoch_days(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 719_163
}

/// (year, month, day) of days since 1970-01-01 (Hinnant's civil_from_days:
/// no table, no allocation).
fn civil(days: i32) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

// ---- word lists ----------------------------------------------------------------

const SURNAMES: [&str; 60] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁",
    "任", "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖",
];
const GIVEN: [&str; 64] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "飞", "鹏", "斌", "宇", "浩", "凯",
    "建", "国", "红", "文", "辉", "力", "亮", "晨", "婷", "雪", "琳", "欣", "佳", "子", "梓", "涵",
    "思", "雨", "嘉", "宁", "博", "俊", "峰", "晶", "燕", "春", "志", "海", "慧", "珍", "波", "云",
];
/// Uyghur and Kazakh personal names as written in Chinese; a full name is
/// `given·father's given`.
const MINORITY: [&str; 16] = [
    "阿依古丽",
    "买买提",
    "艾尔肯",
    "古丽娜尔",
    "热依拉",
    "吐尔逊",
    "阿不都",
    "迪丽拜尔",
    "努尔",
    "帕提古丽",
    "艾力",
    "阿依努尔",
    "热合曼",
    "再努尔",
    "巴合提",
    "哈力木",
];
const BLANKS: [&str; 6] = ["", " ", "  ", "\t", "\u{3000}", " \u{3000} "];
const MARKERS: [&str; 5] = ["无", "NULL", " 无 ", "NULL\u{3000}", "\u{3000}无"];
const PADS: [(&str, &str); 5] = [
    (" ", ""),
    ("", " "),
    ("\u{3000}", ""),
    ("\t", "\u{a0}"),
    (" ", "\u{3000}"),
];
const STATUSES: [&str; 4] = ["A", "B", "C", "D"];

// ---- the generator -------------------------------------------------------------

/// Generates the dataset batch by batch.
pub struct People<'a> {
    config: Config,
    codes: &'a DivisionCodes,
    schema: SchemaRef,
    /// Row number → (division, birth day, sequence) of the resident ID.
    ids: Shuffle,
    /// Row number → the 8-character organisation-code body (31^8 values).
    orgs: Shuffle,
    /// Row number → the ten digits after the leading 1 of a phone (7·10^9 values).
    phones: Shuffle,
    /// 1940-01-01, days since the epoch.
    birth_base: i32,
    /// The as-of date, days since the epoch.
    as_of_days: i32,
    /// Midnight starting the as-of date in [`TIME_ZONE`], µs since the epoch.
    as_of_micros: i64,
}

/// Reused per-row buffers.
#[derive(Default)]
struct Scratch {
    id: [u8; 18],
    prev_id: Option<[u8; 18]>,
    text: String,
}

impl<'a> People<'a> {
    /// A generator over `codes` (see [`crate::divisions::load`]).
    pub fn new(config: Config, codes: &'a DivisionCodes) -> People<'a> {
        let id_space = codes.current.len() as u64 * BIRTH_DAYS * 1000;
        let birth_base = NaiveDate::from_ymd_opt(1940, 1, 1).map_or(-10_957, epoch_days);
        let as_of_days = epoch_days(config.as_of);
        People {
            ids: Shuffle::new(id_space, config.seed ^ 0x1D),
            orgs: Shuffle::new(31u64.pow(8), config.seed ^ 0x06),
            phones: Shuffle::new(7_000_000_000, config.seed ^ 0x7E),
            birth_base,
            as_of_days,
            as_of_micros: i64::from(as_of_days) * 86_400_000_000 - UTC_OFFSET_SECONDS * 1_000_000,
            schema: schema(),
            codes,
            config,
        }
    }

    /// The most rows with distinct resident IDs, organisation codes and
    /// phone numbers.
    pub fn max_rows(&self) -> u64 {
        [self.ids.m, self.orgs.m, self.phones.m]
            .into_iter()
            .min()
            .map_or(0, |m| m as u64)
    }

    /// The batch of rows `start..start + n`.
    pub fn batch(&self, start: u64, n: usize) -> Result<RecordBatch, GenerateError> {
        let end = start.saturating_add(n as u64);
        if end > self.max_rows() {
            return Err(GenerateError::TooManyRows {
                rows: end,
                max: self.max_rows(),
            });
        }
        let mut b = Builders::new(n);
        let mut s = Scratch::default();
        if start > 0 {
            // The previous row's ID, for duplicates across batch boundaries.
            s.prev_id = Some(self.canonical_id(start - 1).0);
        }
        for row in start..end {
            self.row(row, &mut s, &mut b);
        }
        b.finish(&self.schema)
    }

    /// The row's valid resident ID, its division index and birth day.
    fn canonical_id(&self, row: u64) -> ([u8; 18], usize, i32) {
        let x = self.ids.apply(row);
        let n = self.codes.current.len() as u64;
        let division = (x % n) as usize;
        let rest = x / n;
        let day = self.birth_base + (rest % BIRTH_DAYS) as i32;
        let seq = (rest / BIRTH_DAYS) as u32;
        let mut id = [b'0'; 18];
        id[..6].copy_from_slice(&self.codes.current[division]);
        let (y, m, d) = civil(day);
        put_digits(&mut id[6..10], y as u32);
        put_digits(&mut id[10..12], m);
        put_digits(&mut id[12..14], d);
        put_digits(&mut id[14..17], seq);
        id[17] = resident_id::check_digit(&id[..17]).unwrap_or(b'0');
        (id, division, day)
    }

    fn row(&self, row: u64, s: &mut Scratch, b: &mut Builders) {
        let mut rng = Rng::for_row(self.config.seed, row);
        let roll = rng.below(10_000);
        let defect = (roll < DEFECT_PER_10K).then(|| rng.pick(&Defect::ALL));
        let duplicate = (DEFECT_PER_10K..DEFECT_PER_10K + DUPLICATE_PER_10K).contains(&roll);
        let is = |d: Defect| defect == Some(d);

        let (id, division, day) = self.canonical_id(row);
        s.id = id;
        let (year, _, _) = civil(day);

        // id_number
        match defect {
            Some(Defect::IdNull) => b.id.append_null(),
            Some(Defect::IdBlank) => b.id.append_value(rng.pick(&BLANKS)),
            Some(Defect::IdMarker) => b.id.append_value(rng.pick(&MARKERS)),
            Some(Defect::IdPadded) => {
                let (l, r) = rng.pick(&PADS);
                s.text.clear();
                s.text.push_str(l);
                s.text.push_str(ascii(&s.id));
                s.text.push_str(r);
                b.id.append_value(&s.text);
            }
            Some(Defect::IdWrongCheck) => {
                let mut v = s.id;
                v[17] = if v[17] == b'0' { b'1' } else { b'0' };
                b.id.append_value(ascii(&v));
            }
            Some(Defect::IdLowercaseX) => {
                // The next sequence number whose check character is X, written
                // as x. Canonical IDs never contain x, so this cannot collide
                // with one of them.
                let mut v = s.id;
                let seq = (s.id[14] - b'0') as u32 * 100
                    + (s.id[15] - b'0') as u32 * 10
                    + (s.id[16] - b'0') as u32;
                for k in 0..1000 {
                    put_digits(&mut v[14..17], (seq + k) % 1000);
                    if resident_id::check_digit(&v[..17]) == Some(b'X') {
                        break;
                    }
                }
                v[17] = b'x';
                b.id.append_value(ascii(&v));
            }
            Some(Defect::IdImpossibleDate) => {
                let mut v = s.id;
                v[10..14].copy_from_slice(b"0230");
                b.id.append_value(ascii(&with_check(v)));
            }
            Some(Defect::IdFutureBirth) => {
                let mut v = s.id;
                let (y, m, d) = civil(self.as_of_days + 1 + rng.below(3000) as i32);
                put_digits(&mut v[6..10], y as u32);
                put_digits(&mut v[10..12], m);
                put_digits(&mut v[12..14], d);
                b.id.append_value(ascii(&with_check(v)));
            }
            Some(Defect::IdBefore1900) => {
                let mut v = s.id;
                v[6..10].copy_from_slice(b"1899");
                b.id.append_value(ascii(&with_check(v)));
            }
            Some(Defect::IdFifteenDigits) => {
                let mut v = [0u8; 15];
                v[..6].copy_from_slice(&s.id[..6]);
                v[6..].copy_from_slice(&s.id[8..17]);
                b.id.append_value(ascii(&v));
            }
            Some(Defect::IdAbolishedDivision) => {
                let mut v = s.id;
                let gone = self.codes.abolished_before(year);
                let code = if gone.is_empty() {
                    self.codes.unlisted
                } else {
                    rng.pick(gone).0
                };
                v[..6].copy_from_slice(&code);
                b.id.append_value(ascii(&with_check(v)));
            }
            Some(Defect::IdUnlistedDivision) => {
                let mut v = s.id;
                v[..6].copy_from_slice(&self.codes.unlisted);
                b.id.append_value(ascii(&with_check(v)));
            }
            Some(Defect::IdLetter) => {
                let mut v = s.id;
                v[14] = b'O';
                b.id.append_value(ascii(&v));
            }
            _ => match (duplicate, s.prev_id) {
                (true, Some(prev)) => b.id.append_value(ascii(&prev)),
                _ => b.id.append_value(ascii(&s.id)),
            },
        }
        s.prev_id = Some(s.id);

        // name
        match defect {
            Some(Defect::NameNull) => b.name.append_null(),
            Some(Defect::NameBlank) => b.name.append_value(rng.pick(&BLANKS)),
            Some(Defect::NameMarker) => b.name.append_value(rng.pick(&MARKERS)),
            _ => {
                s.text.clear();
                if rng.chance(300) {
                    s.text.push_str(rng.pick(&MINORITY));
                    s.text.push('·');
                    s.text.push_str(rng.pick(&MINORITY));
                } else {
                    s.text.push_str(rng.pick(&SURNAMES));
                    s.text.push_str(rng.pick(&GIVEN));
                    if rng.chance(6_000) {
                        s.text.push_str(rng.pick(&GIVEN));
                    }
                }
                b.name.append_value(&s.text);
            }
        }

        // sex_code: GB 11643's sequence parity (odd = male), a few unknown (9).
        let sex = if s.id[16] % 2 == 1 { "1" } else { "2" };
        match defect {
            Some(Defect::SexOutOfSet) => b.sex.append_value(rng.pick(&["3", "0", "男", "F"])),
            Some(Defect::SexMissing) => b.sex.append_value(rng.pick(&["", "\u{3000}", "无"])),
            Some(Defect::SexPadded) => {
                s.text.clear();
                let (l, r) = rng.pick(&PADS);
                let _ = write!(s.text, "{l}{sex}{r}");
                b.sex.append_value(&s.text);
            }
            _ if rng.chance(100) => b.sex.append_value("9"),
            _ => b.sex.append_value(sex),
        }

        // birth_date, death_date
        let birth = match defect {
            Some(Defect::BirthFuture) => self.as_of_days + 1 + rng.below(3000) as i32,
            Some(Defect::BirthBefore1900) => {
                NaiveDate::from_ymd_opt(1899, 12, 31).map_or(-25_568, epoch_days)
                    - rng.below(3000) as i32
            }
            _ => day,
        };
        if is(Defect::BirthNull) {
            b.birth.append_null();
        } else {
            b.birth.append_value(birth);
        }
        if is(Defect::DeathBeforeBirth) {
            b.death.append_value(birth - 1 - rng.below(3650) as i32);
        } else if rng.chance(300) {
            let span = (self.as_of_days - birth).max(1) as u64;
            b.death.append_value(birth + rng.below(span) as i32);
        } else {
            b.death.append_null();
        }

        // region_code: usually the ID's division.
        let region = if rng.chance(8_000) {
            self.codes.current[division]
        } else {
            rng.pick(&self.codes.current)
        };
        match defect {
            Some(Defect::RegionAbolished) if !self.codes.abolished.is_empty() => {
                b.region
                    .append_value(ascii(&rng.pick(&self.codes.abolished).0));
            }
            Some(Defect::RegionAbolished | Defect::RegionUnlisted) => {
                b.region.append_value(ascii(&self.codes.unlisted));
            }
            Some(Defect::RegionShort) => b.region.append_value(ascii(&region[..5])),
            Some(Defect::RegionMissing) => self.missing(&mut rng, &mut b.region),
            _ => b.region.append_value(ascii(&region)),
        }

        // credit_code: 9 (market regulation) 1 (enterprise), division, GB 11714
        // organisation code (8 + check), MOD 31 check.
        let mut code = [0u8; 18];
        code[..2].copy_from_slice(b"91");
        code[2..8].copy_from_slice(&rng.pick(&self.codes.current));
        let mut x = self.orgs.apply(row);
        for c in code[8..16].iter_mut().rev() {
            *c = uscc::ALPHABET[(x % 31) as usize];
            x /= 31;
        }
        code[16] = org_code::check_char(&code[8..16]).unwrap_or(b'0');
        code[17] = uscc::check_char(&code[..17]).unwrap_or(b'0');
        match defect {
            Some(Defect::CreditWrongCheck) => {
                code[17] = if code[17] == b'0' { b'1' } else { b'0' };
                b.credit.append_value(ascii(&code));
            }
            Some(Defect::CreditBrokenOrgCode) => {
                code[16] = if code[16] == b'0' { b'1' } else { b'0' };
                code[17] = uscc::check_char(&code[..17]).unwrap_or(b'0');
                b.credit.append_value(ascii(&code));
            }
            Some(Defect::CreditUnlistedDivision) => {
                code[2..8].copy_from_slice(&self.codes.unlisted);
                code[17] = uscc::check_char(&code[..17]).unwrap_or(b'0');
                b.credit.append_value(ascii(&code));
            }
            Some(Defect::CreditBadLetter) => {
                code[8 + rng.below(8) as usize] = rng.pick(b"IOSVZ");
                b.credit.append_value(ascii(&code));
            }
            Some(Defect::CreditLowercase) => {
                code.make_ascii_lowercase();
                b.credit.append_value(ascii(&code));
            }
            Some(Defect::CreditMissing) => self.missing(&mut rng, &mut b.credit),
            Some(Defect::CreditPadded) => {
                let (l, r) = rng.pick(&PADS);
                s.text.clear();
                s.text.push_str(l);
                s.text.push_str(ascii(&code));
                s.text.push_str(r);
                b.credit.append_value(&s.text);
            }
            _ => b.credit.append_value(ascii(&code)),
        }

        // phone: 1, then 3–9, then nine digits; distinct per row.
        let p = self.phones.apply(row);
        let mut phone = [0u8; 11];
        phone[0] = b'1';
        phone[1] = b'3' + (p / 1_000_000_000) as u8;
        put_digits(&mut phone[2..], (p % 1_000_000_000) as u32);
        match defect {
            Some(Defect::PhoneShort) => b.phone.append_value(ascii(&phone[..10])),
            Some(Defect::PhoneLong) => {
                s.text.clear();
                s.text.push_str(ascii(&phone));
                s.text.push('0');
                b.phone.append_value(&s.text);
            }
            Some(Defect::PhoneBadPrefix) => {
                phone[1] = b'0' + rng.below(3) as u8;
                b.phone.append_value(ascii(&phone));
            }
            Some(Defect::PhoneFormatted) => {
                s.text.clear();
                if rng.chance(5_000) {
                    s.text.push_str("+86 ");
                    s.text.push_str(ascii(&phone));
                } else {
                    let _ = write!(
                        s.text,
                        "{}-{}-{}",
                        ascii(&phone[..3]),
                        ascii(&phone[3..7]),
                        ascii(&phone[7..])
                    );
                }
                b.phone.append_value(&s.text);
            }
            Some(Defect::PhoneMissing) => self.missing(&mut rng, &mut b.phone),
            Some(Defect::PhonePadded) => {
                let (l, r) = rng.pick(&PADS);
                s.text.clear();
                s.text.push_str(l);
                s.text.push_str(ascii(&phone));
                s.text.push_str(r);
                b.phone.append_value(&s.text);
            }
            _ => b.phone.append_value(ascii(&phone)),
        }

        // amount: cents in [0, 10 000 000], both bounds included now and then.
        match defect {
            Some(Defect::AmountNegative) => {
                b.amount
                    .append_value(-((1 + rng.below(1_000_000)) as f64) / 100.0);
            }
            Some(Defect::AmountHuge) => {
                b.amount
                    .append_value(10_000_000.01 + rng.below(1_000_000_000) as f64);
            }
            Some(Defect::AmountNull) => b.amount.append_null(),
            Some(Defect::AmountNan) => b.amount.append_value(f64::NAN),
            _ if rng.chance(5) => b.amount.append_value(rng.pick(&[0.0, 10_000_000.0])),
            _ => b
                .amount
                .append_value(rng.below(1_000_000_001) as f64 / 100.0),
        }

        // status
        let status = rng.pick(&STATUSES);
        match defect {
            Some(Defect::StatusOutOfSet) => b.status.append_value(rng.pick(&["Z", "E", "00"])),
            Some(Defect::StatusLowercase) => b.status.append_value(rng.pick(&["a", "b", "c", "d"])),
            Some(Defect::StatusMissing) => self.missing(&mut rng, &mut b.status),
            Some(Defect::StatusPadded) => {
                let (l, r) = rng.pick(&PADS);
                s.text.clear();
                let _ = write!(s.text, "{l}{status}{r}");
                b.status.append_value(&s.text);
            }
            _ => b.status.append_value(status),
        }

        // updated_at: within the day before the as-of midnight.
        b.updated
            .append_value(self.as_of_micros - 1 - rng.below(86_400_000_000) as i64);
    }

    /// NULL, blank or a marker, one in three each.
    fn missing(&self, rng: &mut Rng, b: &mut StringBuilder) {
        match rng.below(3) {
            0 => b.append_null(),
            1 => b.append_value(rng.pick(&BLANKS)),
            _ => b.append_value(rng.pick(&MARKERS)),
        }
    }

    /// Writes `rows` rows to `out` as Parquet (zstd, `row_group_rows` rows per
    /// row group). The file appears whole or not at all: it is written next
    /// to `out` and renamed into place.
    pub fn write_parquet(
        &self,
        rows: u64,
        row_group_rows: usize,
        out: &Path,
    ) -> Result<(), GenerateError> {
        if rows > self.max_rows() {
            return Err(GenerateError::TooManyRows {
                rows,
                max: self.max_rows(),
            });
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| GenerateError::Io { path, source }
        };
        let pq = |path: &Path| {
            let path = path.to_path_buf();
            move |source| GenerateError::Parquet { path, source }
        };
        if let Some(dir) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut tmp = out.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let file = File::create(&tmp).map_err(io(&tmp))?;
        let level = ZstdLevel::try_new(1).map_err(pq(&tmp))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_max_row_group_row_count(Some(row_group_rows.max(1)))
            .build();
        let mut writer =
            ArrowWriter::try_new(file, Arc::clone(&self.schema), Some(props)).map_err(pq(&tmp))?;
        let mut start = 0u64;
        while start < rows {
            let n = BATCH_ROWS.min((rows - start) as usize);
            let batch = self.batch(start, n)?;
            writer.write(&batch).map_err(pq(&tmp))?;
            start += n as u64;
        }
        writer.close().map_err(pq(&tmp))?;
        std::fs::rename(&tmp, out).map_err(io(out))?;
        Ok(())
    }
}

/// A recomputed MOD 11-2 check digit over a (possibly altered) ID.
fn with_check(mut id: [u8; 18]) -> [u8; 18] {
    id[17] = resident_id::check_digit(&id[..17]).unwrap_or(b'0');
    id
}

/// Writes `n` as zero-padded decimal digits filling `out`.
fn put_digits(out: &mut [u8], mut n: u32) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The generator only ever builds ASCII; a non-ASCII byte would be a bug,
/// shown as an empty value rather than a panic.
fn ascii(b: &[u8]) -> &str {
    std::str::from_utf8(b).unwrap_or_default()
}

struct Builders {
    id: StringBuilder,
    name: StringBuilder,
    sex: StringBuilder,
    birth: Date32Builder,
    death: Date32Builder,
    region: StringBuilder,
    credit: StringBuilder,
    phone: StringBuilder,
    amount: Float64Builder,
    status: StringBuilder,
    updated: TimestampMicrosecondBuilder,
}

impl Builders {
    fn new(n: usize) -> Builders {
        Builders {
            id: StringBuilder::with_capacity(n, n * 18),
            name: StringBuilder::with_capacity(n, n * 7),
            sex: StringBuilder::with_capacity(n, n),
            birth: Date32Builder::with_capacity(n),
            death: Date32Builder::with_capacity(n),
            region: StringBuilder::with_capacity(n, n * 6),
            credit: StringBuilder::with_capacity(n, n * 18),
            phone: StringBuilder::with_capacity(n, n * 11),
            amount: Float64Builder::with_capacity(n),
            status: StringBuilder::with_capacity(n, n),
            updated: TimestampMicrosecondBuilder::with_capacity(n).with_timezone(TIME_ZONE),
        }
    }

    fn finish(mut self, schema: &SchemaRef) -> Result<RecordBatch, GenerateError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.id.finish()),
            Arc::new(self.name.finish()),
            Arc::new(self.sex.finish()),
            Arc::new(self.birth.finish()),
            Arc::new(self.death.finish()),
            Arc::new(self.region.finish()),
            Arc::new(self.credit.finish()),
            Arc::new(self.phone.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.updated.finish()),
        ];
        Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use arrow::array::{Array, AsArray};
    use arrow::datatypes::{Date32Type, Float64Type};
    use quality_rules::ids::Invalid;

    use super::*;
    use crate::divisions;

    fn codes() -> DivisionCodes {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../quality-rules/data/gbt2260-divisions.csv");
        divisions::load(&path).unwrap()
    }

    fn as_of() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn people(codes: &DivisionCodes, seed: u64) -> People<'_> {
        People::new(
            Config {
                seed,
                as_of: as_of(),
            },
            codes,
        )
    }

    #[test]
    fn calendar_matches_chrono() {
        for days in [-25_568, -10_957, -1, 0, 59, 11_016, 20_779, 20_780, 21_000] {
            let d = NaiveDate::from_num_days_from_ce_opt(days + 719_163).unwrap();
            assert_eq!(civil(days), (d.year(), d.month(), d.day()), "{days}");
            assert_eq!(epoch_days(d), days);
        }
    }

    #[test]
    fn shuffles_are_bijections() {
        for (m, seed) in [(1000u64, 1u64), (7 * 64, 2), (31 * 31 * 31, 3), (1, 4)] {
            let s = Shuffle::new(m, seed);
            let seen: HashSet<u64> = (0..m).map(|x| s.apply(x)).collect();
            assert_eq!(seen.len() as u64, m);
            assert!(seen.iter().all(|&y| y < m));
        }
    }

    #[test]
    fn same_seed_same_rows_any_batching() {
        let codes = codes();
        let p = people(&codes, 7);
        let whole = p.batch(0, 3000).unwrap();
        let parts = [p.batch(0, 1000).unwrap(), p.batch(1000, 2000).unwrap()];
        let joined = arrow::compute::concat_batches(&whole.schema(), &parts).unwrap();
        assert_eq!(whole, joined);
        assert_ne!(whole, people(&codes, 8).batch(0, 3000).unwrap());
    }

    #[test]
    fn clean_ids_are_valid_and_distinct_and_defects_are_about_two_percent() {
        let codes = codes();
        let p = people(&codes, 2026);
        let n = 200_000;
        let batch = p.batch(0, n).unwrap();
        let ids = batch.column(0).as_string::<i32>();
        let mut valid = 0usize;
        let mut distinct = HashSet::new();
        let mut repeats = 0usize;
        for v in ids.iter().flatten() {
            if resident_id::validate(v.trim().as_bytes(), as_of(), false).is_ok() {
                valid += 1;
                if !distinct.insert(v) {
                    repeats += 1;
                }
            }
        }
        // 2% of rows are defective, 13 of the 48 defects hit id_number
        // (one of them, padding, stays valid).
        let invalid_share = 1.0 - valid as f64 / n as f64;
        assert!(
            (0.004..0.007).contains(&invalid_share),
            "invalid share {invalid_share}"
        );
        // ~0.2% repeat the previous row.
        let repeat_share = repeats as f64 / n as f64;
        assert!(
            (0.0015..0.0025).contains(&repeat_share),
            "repeat share {repeat_share}"
        );
    }

    #[test]
    fn every_defect_kind_occurs_and_breaks_what_it_says() {
        let codes = codes();
        let p = people(&codes, 11);
        let n = 200_000usize;
        let batch = p.batch(0, n).unwrap();
        let ids = batch.column(0).as_string::<i32>();
        let credit = batch.column(6).as_string::<i32>();
        let birth = batch.column(3).as_primitive::<Date32Type>();
        let death = batch.column(4).as_primitive::<Date32Type>();
        let amount = batch.column(8).as_primitive::<Float64Type>();
        let mut seen = HashSet::new();
        for row in 0..n as u64 {
            let mut rng = Rng::for_row(11, row);
            if rng.below(10_000) >= DEFECT_PER_10K {
                continue;
            }
            let defect = rng.pick(&Defect::ALL);
            seen.insert(defect);
            let i = row as usize;
            let id = || resident_id::validate(ids.value(i).trim().as_bytes(), as_of(), false);
            let org = || uscc::validate(credit.value(i).trim().as_bytes());
            match defect {
                Defect::IdNull => assert!(ids.is_null(i)),
                Defect::IdPadded => {
                    assert_ne!(ids.value(i), ids.value(i).trim());
                    assert_eq!(id(), Ok(()));
                }
                Defect::IdImpossibleDate | Defect::IdFutureBirth | Defect::IdBefore1900 => {
                    assert_eq!(id(), Err(Invalid::Date), "{}", ids.value(i))
                }
                Defect::IdAbolishedDivision | Defect::IdUnlistedDivision => {
                    assert_eq!(id(), Err(Invalid::Division), "{}", ids.value(i))
                }
                Defect::IdWrongCheck => assert_eq!(id(), Err(Invalid::CheckCharacter)),
                Defect::IdLowercaseX => assert_eq!(id(), Err(Invalid::LowercaseX)),
                Defect::IdFifteenDigits => assert_eq!(id(), Err(Invalid::Length)),
                Defect::IdLetter => assert_eq!(id(), Err(Invalid::Characters)),
                Defect::CreditBrokenOrgCode => assert_eq!(org(), Err(Invalid::OrgCodeCheck)),
                Defect::CreditWrongCheck => assert_eq!(org(), Err(Invalid::CheckCharacter)),
                Defect::CreditUnlistedDivision => assert_eq!(org(), Err(Invalid::Division)),
                Defect::CreditBadLetter | Defect::CreditLowercase => {
                    assert_eq!(org(), Err(Invalid::Characters))
                }
                Defect::CreditPadded => assert_eq!(org(), Ok(())),
                Defect::DeathBeforeBirth => assert!(death.value(i) < birth.value(i)),
                Defect::AmountNan => assert!(amount.value(i).is_nan()),
                Defect::AmountNegative => assert!(amount.value(i) < 0.0),
                Defect::AmountHuge => assert!(amount.value(i) > 10_000_000.0),
                _ => {}
            }
        }
        let missing: Vec<_> = Defect::ALL.iter().filter(|d| !seen.contains(d)).collect();
        assert!(missing.is_empty(), "never planted: {missing:?}");
        // Rows without a defect have valid USCCs.
        let valid = (0..n)
            .filter(|&i| {
                credit.is_valid(i) && uscc::validate(credit.value(i).trim().as_bytes()).is_ok()
            })
            .count();
        assert!(valid as f64 / n as f64 > 0.995);
    }

    #[test]
    fn too_many_rows_is_an_error() {
        let codes = DivisionCodes {
            current: vec![*b"110101"],
            abolished: vec![],
            unlisted: *b"999999",
        };
        let p = people(&codes, 1);
        assert_eq!(p.max_rows(), BIRTH_DAYS * 1000);
        let shared = super::tests::codes();
        assert_eq!(people(&shared, 1).max_rows(), 7_000_000_000);
        assert!(matches!(
            p.batch(p.max_rows() - 1, 2),
            Err(GenerateError::TooManyRows { .. })
        ));
        let dir = tempfile::tempdir().unwrap();
        let err = p
            .write_parquet(p.max_rows() + 1, 1000, &dir.path().join("x.parquet"))
            .unwrap_err();
        assert!(err.to_string().contains("distinct identifiers"), "{err}");
    }

    #[test]
    fn writes_a_parquet_file_with_row_groups() {
        let codes = codes();
        let p = people(&codes, 3);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sub/people.parquet");
        p.write_parquet(100_000, 40_000, &out).unwrap();
        let file = File::open(&out).unwrap();
        let reader =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 3);
        assert_eq!(reader.metadata().file_metadata().num_rows(), 100_000);
        assert_eq!(reader.schema(), &schema());
        assert!(!dir.path().join("sub/people.parquet.tmp").exists());
    }
}

//! Generates the rule-engine benchmark dataset: N person rows with distinct
//! identifiers and about 2% planted defects, as one Parquet file.
//!
//! ```text
//! gen_people --rows 10000000 --out benches/data/people-10m.parquet
//! ```
//!
//! Deterministic for a seed. Columns: id_number, name, sex_code,
//! birth_date (DATE), death_date (DATE), region_code, credit_code, phone,
//! amount (DOUBLE), status, updated_at (TIMESTAMP, Asia/Shanghai).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use arrow::array::{
    ArrayRef, Date32Builder, Float64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use clap::Parser;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use quality_rules::ids::{org_code, resident_id, uscc};

#[derive(Parser)]
struct Args {
    /// Number of rows.
    #[arg(long, default_value_t = 10_000_000)]
    rows: u64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Output Parquet file.
    #[arg(long)]
    out: PathBuf,
    /// Rows per row group.
    #[arg(long, default_value_t = 1 << 20)]
    row_group_rows: usize,
}

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
        self.next() % n
    }
}

const REGIONS: [&str; 7] = [
    "650102", "650103", "650104", "650105", "650106", "650109", "650121",
];
const SURNAMES: [&str; 8] = ["王", "李", "张", "刘", "陈", "艾", "买", "阿"];
const GIVEN: [&str; 8] = ["伟", "芳", "娜", "敏", "静", "丽", "强", "古丽"];
const ALPHA: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// 1940-01-01 as days since the epoch; birth dates spread over 1940–2008.
const BIRTH_BASE: i32 = -10958;
/// 2026-11-22T00:00:00+08:00.
const AS_OF_MICROS: i64 = 1_795_276_800_000_000;

fn ymd(days: i32) -> (i32, u32, u32) {
    // Civil-from-days (Howard Hinnant), no allocation.
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

fn main() -> Result<()> {
    let args = Args::parse();
    let schema = Arc::new(Schema::new(vec![
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
            DataType::Timestamp(TimeUnit::Microsecond, Some("Asia/Shanghai".into())),
            true,
        ),
    ]));
    if let Some(p) = args.out.parent() {
        std::fs::create_dir_all(p)?;
    }
    let tmp = args.out.with_extension("parquet.tmp");
    let file = std::fs::File::create(&tmp).with_context(|| format!("create {}", tmp.display()))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_max_row_group_row_count(Some(args.row_group_rows))
        .build();
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(props))?;
    let mut rng = Rng(args.seed);
    let batch = 65_536u64;
    let mut start = 0u64;
    let mut prev_id = String::new();
    let mut buf = String::with_capacity(32);
    while start < args.rows {
        let n = batch.min(args.rows - start);
        let mut id = StringBuilder::with_capacity(n as usize, n as usize * 19);
        let mut name = StringBuilder::with_capacity(n as usize, n as usize * 9);
        let mut sex = StringBuilder::with_capacity(n as usize, n as usize);
        let mut birth = Date32Builder::with_capacity(n as usize);
        let mut death = Date32Builder::with_capacity(n as usize);
        let mut region = StringBuilder::with_capacity(n as usize, n as usize * 6);
        let mut credit = StringBuilder::with_capacity(n as usize, n as usize * 18);
        let mut phone = StringBuilder::with_capacity(n as usize, n as usize * 11);
        let mut amount = Float64Builder::with_capacity(n as usize);
        let mut status = StringBuilder::with_capacity(n as usize, n as usize);
        let mut updated =
            TimestampMicrosecondBuilder::with_capacity(n as usize).with_timezone("Asia/Shanghai");
        for i in start..start + n {
            // Distinct by construction: (region, birth day, sequence) from i.
            let r = REGIONS[(i % 7) as usize];
            let day = BIRTH_BASE + ((i / 7) % 25_000) as i32;
            let seq = (i / 175_000) % 1000;
            let (y, m, d) = ymd(day);
            buf.clear();
            use std::fmt::Write;
            let _ = write!(buf, "{r}{y:04}{m:02}{d:02}{seq:03}");
            let check = resident_id::check_digit(buf.as_bytes()).unwrap_or(b'0') as char;
            buf.push(check);
            let male = seq % 2 == 1;
            let defect = rng.below(1000);
            let kind = rng.below(24);
            let d_ = |k: u64| defect < 20 && kind == k;
            // id_number
            if d_(0) {
                id.append_null();
            } else if d_(1) {
                id.append_value("\u{3000}");
            } else if d_(2) {
                id.append_value("无");
            } else if d_(3) {
                let wrong = if buf.ends_with('0') { '1' } else { '0' };
                id.append_value(format!("{}{wrong}", &buf[..17]));
            } else if d_(4) {
                id.append_value(format!("{}{}", &buf[..6], &buf[8..17])); // 15-digit
            } else if d_(5) {
                id.append_value(format!("{}0230{}", &buf[..10], &buf[14..])); // 30 February
            } else if d_(6) {
                id.append_value(format!(" {buf} ")); // padded, valid after trimming
            } else if (20..22).contains(&defect) && !prev_id.is_empty() {
                id.append_value(&prev_id); // duplicate of the previous row
            } else {
                id.append_value(&buf);
            }
            prev_id.clone_from(&buf);
            // name
            if d_(7) {
                name.append_value("");
            } else {
                name.append_value(format!(
                    "{}{}",
                    SURNAMES[(i % 8) as usize],
                    GIVEN[((i / 8) % 8) as usize]
                ));
            }
            // sex_code
            if d_(8) {
                sex.append_value("3");
            } else {
                sex.append_value(if male { "1" } else { "2" });
            }
            birth.append_value(day);
            // death_date: mostly NULL; a few before birth
            if d_(9) {
                death.append_value(day - 30);
            } else if i % 50 == 0 {
                death.append_value(day + 20_000);
            } else {
                death.append_null();
            }
            // region_code
            if d_(10) {
                region.append_value("999999");
            } else if d_(11) {
                region.append_null();
            } else {
                region.append_value(r);
            }
            // credit_code: distinct organisation body from i
            let mut body = [b'0'; 8];
            let mut x = i;
            for b in body.iter_mut().rev() {
                *b = ALPHA[(x % 31) as usize];
                x /= 31;
            }
            let org = org_code::check_char(&body).unwrap_or(b'0');
            let mut code = [0u8; 18];
            code[..2].copy_from_slice(b"91");
            code[2..8].copy_from_slice(r.as_bytes());
            code[8..16].copy_from_slice(&body);
            code[16] = org;
            code[17] = uscc::check_char(&code[..17]).unwrap_or(b'0');
            if d_(12) {
                code[17] = if code[17] == b'0' { b'1' } else { b'0' };
            } else if d_(13) {
                code[16] = if org == b'0' { b'1' } else { b'0' };
                code[17] = uscc::check_char(&code[..17]).unwrap_or(b'0');
            }
            credit.append_value(std::str::from_utf8(&code).unwrap_or(""));
            // phone
            if d_(14) {
                phone.append_value(format!("1{:09}", i % 1_000_000_000)); // 10 digits
            } else if d_(15) {
                phone.append_null();
            } else {
                phone.append_value(format!("1{}{:09}", 3 + (i % 7), (i * 7919) % 1_000_000_000));
            }
            // amount
            if d_(16) {
                amount.append_value(-1.0);
            } else if d_(17) {
                amount.append_value(2.0e7);
            } else {
                amount.append_value((rng.below(100_000_000) as f64) / 100.0);
            }
            // status
            if d_(18) {
                status.append_value("Z");
            } else {
                status.append_value(["A", "B", "C", "D"][(i % 4) as usize]);
            }
            updated.append_value(AS_OF_MICROS - (rng.below(86_400) as i64 + 60) * 1_000_000);
        }
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(id.finish()),
            Arc::new(name.finish()),
            Arc::new(sex.finish()),
            Arc::new(birth.finish()),
            Arc::new(death.finish()),
            Arc::new(region.finish()),
            Arc::new(credit.finish()),
            Arc::new(phone.finish()),
            Arc::new(amount.finish()),
            Arc::new(status.finish()),
            Arc::new(updated.finish()),
        ];
        writer.write(&RecordBatch::try_new(Arc::clone(&schema), arrays)?)?;
        start += n;
    }
    writer.close()?;
    std::fs::rename(&tmp, &args.out)?;
    eprintln!("wrote {} rows to {}", args.rows, args.out.display());
    Ok(())
}

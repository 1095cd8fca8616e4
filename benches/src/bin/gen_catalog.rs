//! A large bureau for the catalog benchmark: `--entries` catalog entries
//! with `--items` data items each, half in a spreadsheet template and half
//! in a portal's JSON export, and as many datasets defined in the workspace
//! whose deliveries and measured facts are in the lake (the ledger and
//! `_pdq/dataset_facts`, as landing and an earlier sweep leave them). About
//! 2% of everything is wrong in the ways reconciliation finds: datasets
//! without an entry, entries without data, a catalogued column missing, a
//! type that differs, a late delivery. Seeded: the same arguments, the same
//! bureau.
//!
//! ```text
//! gen_catalog --out WS [--entries 20000] [--items 10] [--departments 100]
//! gen_catalog --out WS --touch 200    # change 200 entries' summaries in place
//! ```

use std::path::PathBuf;

use anyhow::Result;
use chrono::{Duration, TimeZone, Utc};
use clap::Parser;
use pipeline::catalog::reconcile::{DATASET_FACTS, Kind, LandedColumn, StoredFacts};
use pipeline::land::{DeliveryRecord, DeliveryStatus, LEDGER, Lake, LakeConfig, ledger_schema};
use serde_json::json;

#[derive(Parser)]
struct Args {
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 20_000)]
    entries: usize,
    #[arg(long, default_value_t = 10)]
    items: usize,
    #[arg(long, default_value_t = 100)]
    departments: usize,
    /// Instead of generating: change this many entries of the JSON export.
    #[arg(long)]
    touch: Option<usize>,
}

const COLUMNS: &[(&str, &str, &str, Kind)] = &[
    ("id_number", "公民身份号码", "字符型", Kind::Text),
    ("name", "姓名", "字符型", Kind::Text),
    ("sex_code", "性别代码", "字符型", Kind::Text),
    ("birth_date", "出生日期", "日期型", Kind::Date),
    ("region_code", "行政区划代码", "字符型", Kind::Text),
    ("address", "住址", "字符型", Kind::Text),
    ("phone", "联系电话", "字符型", Kind::Text),
    ("amount", "金额", "数值型", Kind::Number),
    ("status", "状态", "字符型", Kind::Text),
    ("updated_at", "更新时间", "日期时间型", Kind::Timestamp),
    ("remark", "备注", "字符型", Kind::Text),
    ("unit_uscc", "单位统一社会信用代码", "字符型", Kind::Text),
];

fn code(i: usize) -> String {
    format!("B{:03}-{:06}", i % 1000, i)
}

fn dept(i: usize, n: usize) -> String {
    format!("d{:03}", i % n)
}

fn main() -> Result<()> {
    let a = Args::parse();
    if let Some(n) = a.touch {
        let p = a.out.join("catalogs/portal.json");
        let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&p)?)?;
        for (i, r) in doc["data"]["list"]
            .as_array_mut()
            .unwrap()
            .iter_mut()
            .take(n)
            .enumerate()
        {
            r["摘要"] = json!(format!("修订后的摘要 {i}"));
        }
        std::fs::write(&p, serde_json::to_vec(&doc)?)?;
        return Ok(());
    }
    let items = a.items.min(COLUMNS.len());
    std::fs::create_dir_all(a.out.join("catalogs"))?;
    let mut cfg = String::from(
        "bureau = \"基准数据局\"\nprofile = \"xinjiang-2023\"\n[lake]\nlocation = \"lake\"\n[departments]\n",
    );
    for d in 0..a.departments {
        cfg += &format!("d{d:03} = \"部门{d:03}\"\n");
    }
    std::fs::write(a.out.join("pdq.toml"), cfg)?;
    let entry = |i: usize| {
        let freq = ["每日", "每周", "每月", "每季度"][i % 4];
        (
            code(i),
            format!("资源{i:06}"),
            format!("部门{:03}", i % a.departments),
            freq,
        )
    };
    // Half the entries: the spreadsheet template.
    let half = a.entries / 2;
    {
        let mut book = rust_xlsxwriter::Workbook::new();
        let s = book.add_worksheet().set_name("资源目录")?;
        let headers = [
            "资源代码",
            "资源分类",
            "资源名称",
            "资源提供方",
            "资源摘要",
            "资源格式",
            "更新频率",
            "共享属性",
            "共享范围",
            "开放属性",
            "使用要求",
        ];
        for (c, h) in headers.iter().enumerate() {
            s.write(0, c as u16, *h)?;
        }
        for i in 0..half {
            let (c, n, p, f) = entry(i);
            let r = (i + 1) as u32;
            for (col, v) in [
                c.as_str(),
                "基础",
                &n,
                &p,
                "数据资源摘要",
                "csv",
                f,
                "无条件共享",
                "全市政务部门",
                "不予开放",
                "按需使用",
            ]
            .iter()
            .enumerate()
            {
                s.write(r, col as u16, *v)?;
            }
        }
        let it = book.add_worksheet().set_name("信息项")?;
        for (c, h) in ["资源代码", "信息项名称", "字段名", "数据类型"]
            .iter()
            .enumerate()
        {
            it.write(0, c as u16, *h)?;
        }
        let mut r = 1u32;
        for i in 0..half {
            for (col, zh, ty, _) in COLUMNS.iter().take(items) {
                it.write(r, 0, code(i))?;
                it.write(r, 1, *zh)?;
                it.write(r, 2, *col)?;
                it.write(r, 3, *ty)?;
                r += 1;
            }
        }
        book.save(a.out.join("catalogs/template.xlsx"))?;
        std::fs::write(
            a.out.join("catalogs/template.toml"),
            "[source]\nkind = \"xlsx_template\"\nlocation = \"catalogs/template.xlsx\"\n",
        )?;
    }
    // The other half: a portal's JSON export.
    {
        let list: Vec<serde_json::Value> = (half..a.entries)
            .map(|i| {
                let (c, n, p, f) = entry(i);
                let its: Vec<serde_json::Value> = COLUMNS
                    .iter()
                    .take(items)
                    .map(|(col, zh, ty, _)| json!({"信息项名称": zh, "字段名": col, "数据类型": ty}))
                    .collect();
                json!({"id": i, "资源代码": c, "资源分类": "基础", "资源名称": n, "资源提供方": p, "摘要": "数据资源摘要",
                       "资源格式": "csv", "更新频率": f, "共享属性": "无条件共享", "共享范围": "全市政务部门",
                       "开放属性": "不予开放", "使用要求": "按需使用", "更新日期": 1_761_926_400_000_i64, "信息项": its})
            })
            .collect();
        std::fs::write(
            a.out.join("catalogs/portal.json"),
            serde_json::to_vec(&json!({"data": {"list": list}}))?,
        )?;
        std::fs::write(
            a.out.join("catalogs/portal.toml"),
            "[source]\nkind = \"json_api\"\nurl = \"catalogs/portal.json\"\nrecords = \"data.list\"\nid = \"id\"\nitems = \"信息项\"\n",
        )?;
    }
    // The datasets: one per entry; every 50th has no catalog code
    // (uncatalogued, and its entry unmounted).
    let columns_toml: String = COLUMNS
        .iter()
        .take(items)
        .map(|(c, _, _, k)| {
            let ty = match k {
                Kind::Date => "date",
                Kind::Timestamp => "timestamp",
                Kind::Number => "float64",
                _ => "string",
            };
            format!("\n[[columns]]\nname = \"{c}\"\ntype = \"{ty}\"\n")
        })
        .collect();
    for i in 0..a.entries {
        let d = dept(i, a.departments);
        let dir = a.out.join("datasets").join(&d);
        std::fs::create_dir_all(&dir)?;
        let catalog = if i % 50 == 7 {
            String::new()
        } else {
            format!("catalog = \"{}\"\n", code(i))
        };
        std::fs::write(
            dir.join(format!("ds{i:06}.toml")),
            format!(
                "title = \"数据集{i:06}\"\n{catalog}\n[source]\nkind = \"file\"\npath = \"extracts/{d}/ds{i:06}.csv\"\n{columns_toml}"
            ),
        )?;
    }
    // The lake: a delivery per dataset and its measured facts.
    let rt = tokio::runtime::Runtime::new()?;
    let lake = Lake::open(&LakeConfig::default(), &a.out)?;
    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 18, 30, 0).unwrap();
    let mut ledger = vec![];
    let mut facts = vec![];
    for i in 0..a.entries {
        let id = format!("{}.ds{i:06}", dept(i, a.departments));
        // Every 40th delivery (all daily) is three weeks old: late.
        let started_at = if i % 40 == 4 {
            t0 - Duration::days(21)
        } else {
            t0
        };
        ledger.push(DeliveryRecord {
            delivery: format!("{id}:1"),
            dataset: id.clone(),
            location: format!("extracts/{id}.csv"),
            fingerprint: format!("fp{i}"),
            status: DeliveryStatus::Landed,
            sha256: format!("{i:064x}"),
            bytes: 1_000_000,
            watermark_from: None,
            watermark_to: None,
            rows_read: 10_000,
            rows_landed: 10_000,
            rows_quarantined: 0,
            table_version: Some(1),
            started_at,
            seconds: 1.0,
            note: None,
        });
        let mut cols: Vec<LandedColumn> = COLUMNS
            .iter()
            .take(items)
            .map(|(c, _, _, k)| LandedColumn {
                name: c.to_string(),
                kind: Some(*k),
                max_length: (*k == Kind::Text).then_some(18),
            })
            .collect();
        if i % 50 == 11 {
            cols.pop(); // a catalogued column missing
        }
        if i % 50 == 13 {
            cols[0].kind = Some(Kind::Number); // a type that differs
        }
        facts.push(StoredFacts {
            dataset: id,
            table_version: 1,
            rows: Some(10_000),
            columns: serde_json::to_string(&cols)?,
            measured_at: t0,
        });
    }
    rt.block_on(async {
        lake.append_records(LEDGER, &ledger_schema(), &ledger, None)
            .await?;
        lake.append_records(
            DATASET_FACTS,
            &pipeline::catalog::reconcile::facts_schema(),
            &facts,
            None,
        )
        .await
    })?;
    println!(
        "{} entries, {} data items, {} datasets under {}",
        a.entries,
        a.entries * items,
        a.entries,
        a.out.display()
    );
    Ok(())
}

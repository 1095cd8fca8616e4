//! The demo bureau (`pdq demo`): six departments delivering one dataset each,
//! in every supported format, with rule files and deliberately planted
//! defects of every kind the checks catch.
//!
//! Deterministic: a seeded generator and a fixed as-of time ([`DEMO_AS_OF`]),
//! so the same files and the same results come out on every machine.
//!
//! Every planted defect is booked as it is planted: [`DemoDataset::expected`]
//! holds, per rule, the evaluated and failed counts that follow from the
//! generator's own bookkeeping — an oracle independent of the engine, which
//! the end-to-end tests compare the engine against.

mod catalogs;
mod data;
pub mod history;
pub mod objections;
pub mod usage;
mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// The demo's fixed as-of time.
pub const DEMO_AS_OF: &str = "2026-11-20T08:00:00+08:00";

/// A department of the demo bureau.
#[derive(Debug, Clone, Serialize)]
pub struct DemoDepartment {
    /// Short code, e.g. `gongan`.
    pub code: String,
    /// Chinese name, e.g. 公安局.
    pub name_zh: String,
    /// English name.
    pub name_en: String,
}

/// Expected counts of one rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ExpectedCount {
    /// Rows (or 1) evaluated.
    pub evaluated: u64,
    /// Of those, failed.
    pub failed: u64,
}

/// A dataset of the demo bureau.
#[derive(Debug, Clone, Serialize)]
pub struct DemoDataset {
    /// Dataset name (also the rule file's `dataset:`).
    pub name: String,
    /// Chinese title.
    pub title_zh: String,
    /// Department code.
    pub department: String,
    /// Data files or one directory.
    pub data: Vec<PathBuf>,
    /// The rule file.
    pub rules: PathBuf,
    /// Delivery format.
    pub format: String,
    /// Per rule id: what the engine must report.
    pub expected: BTreeMap<String, ExpectedCount>,
    /// The declared columns: name and type, as the dataset definition
    /// (`datasets/<department>/<name>.toml`) gives them for landing.
    pub columns: Vec<(String, String)>,
    /// Its `[onesource]` section (TOML), when it takes part in one data,
    /// one source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub onesource: Option<String>,
}

/// A person of the demo's population, as the generator made them: what
/// nothing published may show (the leak tests look for exactly these).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPerson {
    /// Name (汉族 or 维吾尔族 with `·`).
    pub name: String,
    /// Resident ID (valid).
    pub id: String,
}

/// The generated bureau.
#[derive(Debug, Clone, Serialize)]
pub struct DemoBureau {
    /// Where it was written.
    pub root: PathBuf,
    /// The as-of time its rules are judged at (the final night).
    pub as_of: DateTime<FixedOffset>,
    /// The nights whose deliveries it holds, oldest first, the last at
    /// `as_of` (one a week; [`history`]).
    pub nights: Vec<DateTime<FixedOffset>>,
    /// Its departments.
    pub departments: Vec<DemoDepartment>,
    /// Its datasets.
    pub datasets: Vec<DemoDataset>,
    /// Every person in its data (names and IDs appear in the extracts; never
    /// in full in anything published).
    #[serde(skip)]
    pub persons: Vec<DemoPerson>,
}

/// Why the demo could not be written.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A file or directory could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A file could not be encoded.
    #[error("{}: {message}", path.display())]
    Encode {
        /// The path.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// The target exists and is not a demo bureau.
    #[error("{}: exists and is not a pdq demo (no manifest.json); choose another --out", path.display())]
    NotADemo {
        /// The path.
        path: PathBuf,
    },
}

/// Writes the demo bureau under `root` (replacing an earlier demo there) and
/// describes it. The files are written to a sibling temporary directory and
/// renamed into place, so an interrupted run never leaves half a bureau.
pub fn generate(root: &Path) -> Result<DemoBureau, DemoError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DemoError::Io {
            path: path.clone(),
            source,
        }
    };
    if root.exists() {
        let empty = std::fs::read_dir(root).map_err(io(root))?.next().is_none();
        if !empty && !root.join("manifest.json").exists() {
            return Err(DemoError::NotADemo {
                path: root.to_path_buf(),
            });
        }
    }
    let parent = root
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "pdq-demo".into());
    let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io(&staging))?;
    }
    let as_of = DateTime::parse_from_rfc3339(DEMO_AS_OF).map_err(|e| DemoError::Encode {
        path: root.to_path_buf(),
        message: e.to_string(),
    })?;
    let (departments, mut datasets, persons) = data::build(&staging, as_of, 0)?;
    history::write(&staging, as_of)?;
    let nights = history::nights(as_of);
    let manifest = serde_json::json!({
        "as_of": DEMO_AS_OF,
        "nights": nights.iter().map(|n| n.to_rfc3339()).collect::<Vec<_>>(),
        "departments": departments,
        "datasets": datasets.iter().map(|d| serde_json::json!({
            "name": d.name, "title_zh": d.title_zh, "department": d.department, "format": d.format,
            "data": d.data.iter().map(|p| rel(&staging, p)).collect::<Vec<_>>(),
            "rules": rel(&staging, &d.rules),
            "expected": d.expected,
        })).collect::<Vec<_>>(),
    });
    write::text(
        &staging.join("manifest.json"),
        &serde_json::to_string_pretty(&manifest).unwrap_or_default(),
    )?;
    write::text(&staging.join("README.txt"), README)?;
    write_workspace(&staging, &datasets, &departments)?;
    usage::write(&staging, &persons)?;
    if root.exists() {
        std::fs::remove_dir_all(root).map_err(io(root))?;
    }
    std::fs::rename(&staging, root).map_err(io(root))?;
    for d in &mut datasets {
        d.data = d.data.iter().map(|p| root.join(rel(&staging, p))).collect();
        d.rules = root.join(rel(&staging, &d.rules));
    }
    Ok(DemoBureau {
        root: root.to_path_buf(),
        as_of,
        nights,
        departments,
        datasets,
        persons,
    })
}

/// The bureau workspace around the extracts: `pdq.toml` (a local lake) and
/// one definition per dataset, so `pdq ingest -w <demo>` lands them all.
fn write_workspace(
    root: &Path,
    datasets: &[DemoDataset],
    departments: &[DemoDepartment],
) -> Result<(), DemoError> {
    let mut config = String::from(
        "# pdq 示例数据局的工作区 / the demo bureau's workspace\n\
         bureau = \"示例数据局\"\nprofile = \"xinjiang-2023\"\ntime_zone = \"Asia/Shanghai\"\n\n[lake]\nlocation = \"lake\"\n\n\
         [scoring.dataset_weights]\n\"gongan.household_registration\" = 2.0   # a base dataset counts double\n\n[departments]\n",
    );
    for d in departments {
        config += &format!("{} = \"{}\"\n", d.code, d.name_zh);
    }
    write::text(&root.join("pdq.toml"), &config)?;
    catalogs::write(root, datasets)?;
    for d in datasets {
        let (mode, path) = match d.data.as_slice() {
            [one] if one.is_dir() => ("append", format!("{}/*.csv", rel(root, one))),
            [one] => ("full", rel(root, one)),
            _ => ("append", rel(root, &d.data[0])),
        };
        let catalog = catalogs::code_of(&d.name)
            .map(|c| format!("catalog = \"{c}\"\n"))
            .unwrap_or_default();
        let mut toml = format!(
            "# {} — {}\ntitle = \"{}\"\nmode = \"{mode}\"\nrules = \"{}\"\n{catalog}\n[source]\nkind = \"file\"\npath = \"{path}\"\n",
            d.department,
            d.title_zh,
            d.title_zh,
            rel(root, &d.rules)
        );
        if let Some(os) = &d.onesource {
            toml += &format!("\n[onesource]\n{os}\n");
        }
        for (name, ty) in &d.columns {
            toml += &format!("\n[[columns]]\nname = \"{name}\"\ntype = \"{ty}\"\n");
        }
        write::text(
            &root
                .join("datasets")
                .join(&d.department)
                .join(format!("{}.toml", d.name)),
            &toml,
        )?;
    }
    Ok(())
}

fn rel(base: &Path, p: &Path) -> String {
    p.strip_prefix(base)
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

const README: &str = "pdq 示例数据局 / pdq demo bureau
================================

中文：这是 `pdq demo` 生成的示例数据局，包含六个部门各一个数据集，覆盖全部支持的格式：
  公安局 户籍人口            departments/gongan/household_registration.parquet   (Parquet)
  民政局 婚姻登记            departments/minzheng/marriage_registration.csv      (CSV, GB18030 编码)
  卫健委 出生医学证明        departments/weijian/birth_certificates.ndjson        (NDJSON)
  人社局 社保参保            departments/renshe/social_insurance.xlsx             (XLSX)
  市场监管局 市场主体登记    departments/shichang/market_entities.json            (JSON 数组)
  住建局 住房公积金          departments/zhujian/housing_provident_fund/          (两个 UTF-8 BOM 的 CSV)
另有人口基础库 base/population.parquet，供 reference 规则比对。
规则文件在 rules/ 目录。数据中故意埋入了各类缺陷：空值、空白与全角空格、缺失标记（无、NULL）、
身份证号校验码错误、小写 x、15 位旧号码、2 月 30 日、出生日期晚于基准日或早于 1900 年、
已撤销的行政区划代码、组织机构代码校验错误的统一社会信用代码、手机号错误、代码不在值域内、
带空格、连字符或全角字符的身份证号、信用代码和手机号，写在“单位联系人”“企业法定代表人”中的姓名、
数值越界、重复记录（含跨文件重复）、死亡日期早于出生日期、不在人口库中的号码、数据不及时、记录数不足。
每个数据集每条规则的预期结果记录在 manifest.json 中。检查基准时间固定为 2026-11-20 08:00 (+08:00)。
history/ 目录保存此前四周每周一次的报送（每周五 08:00，最后一次即上述基准时间）：`pdq demo` 按日期顺序
逐夜放入并各运行一次作业，因此湖中有真实的历史——趋势、排名变化、整改事项的开立与关闭（其中一项复发）、
按月的评估检查点。

English: the example bureau written by `pdq demo`: six departments, one dataset each, in every
supported format (see above), a population base for `reference` rules, and rule files in rules/.
Defects of every kind the checks catch are planted on purpose; manifest.json records, for every
rule, the counts the checks must report. The as-of time is fixed at 2026-11-20 08:00 +08:00.
history/ holds the deliveries of the four weeks before, one night a week (Fridays 08:00, the last
being the as-of time above): `pdq demo` puts each in place in date order and sweeps it, so the lake
holds a real history — trends, rank changes, rectification items opened and closed (one recurs),
the evaluation's monthly checkpoints.
";

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.insert(rel(dir, &p), std::fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn deterministic_and_complete() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let one = generate(&a.path().join("demo")).unwrap();
        generate(&b.path().join("demo")).unwrap();
        let fa = files(&a.path().join("demo"));
        let fb = files(&b.path().join("demo"));
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
        for (k, v) in &fa {
            assert!(fb[k] == *v, "{k} differs between two generations");
        }
        assert!(one.departments.len() >= 6);
        let formats: std::collections::BTreeSet<&str> =
            one.datasets.iter().map(|d| d.format.as_str()).collect();
        for f in [
            "parquet",
            "csv-gb18030",
            "ndjson",
            "xlsx",
            "json",
            "csv-utf8-bom",
        ] {
            assert!(formats.contains(f), "{f} missing");
        }
        // Re-generating over an existing demo replaces it; a foreign directory is refused.
        generate(&a.path().join("demo")).unwrap();
        let foreign = a.path().join("mine");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "keep").unwrap();
        assert!(matches!(
            generate(&foreign),
            Err(DemoError::NotADemo { .. })
        ));
    }

    #[test]
    fn history_holds_weeks_of_deliveries_ending_with_the_bureau() {
        let a = tempfile::tempdir().unwrap();
        let root = a.path().join("demo");
        let bureau = generate(&root).unwrap();
        assert_eq!(bureau.nights.len() as u32, history::WEEKS + 1);
        assert_eq!(bureau.nights.last(), Some(&bureau.as_of));
        let first = bureau.nights[0];
        assert_eq!(bureau.as_of - first, chrono::Duration::weeks(4));
        // The final night's deliveries are the bureau's files, byte for byte.
        let catalog = "gongan/公安局数据资源目录.xlsx";
        let mut departments = files(&root.join("departments"));
        let catalog_bytes = departments.remove(catalog).expect("the catalog is there");
        let last = history::night_dir(&root, &bureau.as_of).join("departments");
        assert!(files(&last) == departments, "the final night is the bureau");
        // An earlier night differs (its defects), and lacks the append
        // dataset's second file; delivering it and then the final night puts
        // the bureau back as it was.
        let earlier = files(&history::night_dir(&root, &first).join("departments"));
        let hr = "gongan/household_registration.parquet";
        assert!(earlier[hr] != departments[hr]);
        assert!(!earlier.contains_key("zhujian/housing_provident_fund/part-2.csv"));
        assert!(
            earlier["zhujian/housing_provident_fund/part-1.csv"]
                == departments["zhujian/housing_provident_fund/part-1.csv"],
            "an append dataset's file is the same bytes every night"
        );
        // The departments' other files (the catalog) stay as they are.
        let delivered = |departments: &BTreeMap<String, Vec<u8>>| {
            let mut now = files(&root.join("departments"));
            assert!(now.remove(catalog).as_ref() == Some(&catalog_bytes));
            assert!(now == *departments);
        };
        history::deliver(&root, &first).unwrap();
        delivered(&earlier);
        history::deliver(&root, &bureau.as_of).unwrap();
        delivered(&departments);
    }
}

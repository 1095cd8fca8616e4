//! Mutation fuzzing on stable Rust (issue #18, "Beyond the list"): seed
//! inputs of every parser pdq exposes to department files — CSV, JSON,
//! NDJSON and XLSX through the one-scan check, rule YAML, the masker, the
//! identifier validators and the catalog readers (portal JSON, CKAN, DCAT
//! in JSON-LD, Turtle and RDF/XML, the XLSX template) — are mutated byte by byte, deterministically
//! from a seed, and each mutant must give a result or a clean error, never
//! a panic. The masker must in addition never let a planted identifier
//! through.
//!
//! The budget is `PDQ_FUZZ_ITERATIONS` mutants per target (default 40 in
//! the test suite); `ops/fuzz.sh` runs a long budget and reports figures.
//! A mutant that panics is written to `$CARGO_TARGET_TMPDIR/fuzz-crashes/`
//! and named in the failure, to become a regression test.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// xorshift64*: deterministic, seedable, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that matter to the formats: delimiters, quotes, brackets, line
/// ends, BOMs, multi-byte UTF-8 and GB18030 lead bytes, digits, X.
const INTERESTING: &[&[u8]] = &[
    b",",
    b"\"",
    b"\n",
    b"\r\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"\\",
    b"\xEF\xBB\xBF",
    b"\x00",
    "中".as_bytes(),
    "\u{3000}".as_bytes(),
    "\u{200B}".as_bytes(),
    b"\xC4\xE3",
    b"\xFF\xFE",
    b"9999999999999999999999",
    b"-",
    b"1e308",
    b"NaN",
    b"X",
    b"null",
    b"true",
    b"  ",
    b"\t",
    b"- ",
    b": ",
    b"&a",
    b"*a",
    b"!!binary",
    b"{{",
    b"'",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(v.len())..end);
            }
            1 => {
                let piece = INTERESTING[rng.below(INTERESTING.len())];
                v.splice(at..at, piece.iter().copied());
            }
            2 if at < v.len() => v[at] = rng.next() as u8,
            3 if !v.is_empty() => {
                // Duplicate a slice (repeated records, nesting).
                let from = rng.below(v.len());
                let to = (from + 1 + rng.below(64)).min(v.len());
                let piece = v[from..to].to_vec();
                v.splice(at..at, piece);
            }
            4 => v.truncate(at),
            _ => v.insert(at, b"0123456789,;\"\n{}[]"[rng.below(18)]),
        }
    }
    v
}

fn budget() -> usize {
    std::env::var("PDQ_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

/// Runs `f` on `budget()` mutants of each seed; a panic keeps the input
/// and fails, naming it.
fn fuzz(target: &str, seeds: &[&[u8]], f: impl FnMut(&[u8])) -> usize {
    fuzz_n(target, seeds, budget(), f)
}

/// [`fuzz`] with its own budget (landing commits to a lake per mutant:
/// a quarter of the budget).
fn fuzz_n(target: &str, seeds: &[&[u8]], budget: usize, mut f: impl FnMut(&[u8])) -> usize {
    let crashes = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ target.len() as u64);
    let mut runs = 0;
    for seed in seeds {
        for i in 0..budget {
            let input = if i == 0 {
                seed.to_vec()
            } else {
                mutate(&mut rng, seed)
            };
            runs += 1;
            if catch_unwind(AssertUnwindSafe(|| f(&input))).is_err() {
                std::fs::create_dir_all(&crashes).unwrap();
                let path = crashes.join(format!("{target}-{i}.bin"));
                std::fs::write(&path, &input).unwrap();
                panic!(
                    "{target}: a mutant panicked; input kept at {}",
                    path.display()
                );
            }
        }
    }
    runs
}

const RULES: &str = "dataset: fuzz\nrules:\n  - {id: a_present, dimension: completeness, check: not_null, column: a}\n  - {id: id_valid, dimension: validity, check: cn_resident_id, column: b}\n  - {id: a_unique, dimension: accuracy, check: unique, columns: [a]}\n";

fn check_file(dir: &Path, name: &str, bytes: &[u8], rt: &tokio::runtime::Runtime) {
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let rules = quality_rules::RuleFile::parse(Path::new("fuzz.yaml"), RULES).unwrap();
    let as_of = chrono::DateTime::parse_from_rfc3339("2026-12-01T00:00:00+08:00").unwrap();
    let opts = pipeline::CheckOptions::new(as_of);
    // Ok or a clean error: both are fine; a panic is not.
    let _ = rt.block_on(pipeline::check_paths(&[path], &rules, &opts));
}

#[test]
fn file_readers_never_panic_on_mutated_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let csv: &[u8] = "a,b\n1,11010119900307123X\n2,\"x,y\"\n3,\u{3000}4\n".as_bytes();
    let ndjson: &[u8] = b"{\"a\": 1, \"b\": \"110101199003071234\"}\n{\"a\": 2, \"b\": null}\n";
    let json: &[u8] = b"[{\"a\": 1, \"b\": \"x\"}, {\"a\": \"2\", \"b\": [1]}]";
    let mut runs = fuzz("csv", &[csv], |b| check_file(dir.path(), "f.csv", b, &rt));
    runs += fuzz("ndjson", &[ndjson], |b| {
        check_file(dir.path(), "f.ndjson", b, &rt)
    });
    runs += fuzz("json", &[json], |b| {
        check_file(dir.path(), "f.json", b, &rt)
    });
    // XLSX: a real workbook, mutated (mostly a broken zip: a clean error).
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "a").unwrap();
    sheet.write_string(0, 1, "b").unwrap();
    sheet.write_number(1, 0, 1.0).unwrap();
    sheet.write_string(1, 1, "110101199003071234").unwrap();
    let xlsx = book.save_to_buffer().unwrap();
    runs += fuzz("xlsx", &[&xlsx], |b| {
        check_file(dir.path(), "f.xlsx", b, &rt)
    });
    assert!(runs >= 4 * budget());
}

#[test]
fn rule_files_never_panic_when_mutated() {
    let seeds: &[&[u8]] = &[
        RULES.as_bytes(),
        b"dataset: d\nrules:\n  - {id: r, dimension: validity, check: range, column: x, min: 0, max: 10, thresholds: {warn: 0.9, fail: 0.8}}\n  - {id: e, dimension: consistency, check: expression, expr: \"a > b AND c IS NOT NULL\"}\n  - {id: s, dimension: validity, check: in_set, column: k, values: [\"1\", \"2\"]}\n",
    ];
    fuzz("rules", seeds, |b| {
        let text = String::from_utf8_lossy(b);
        let _ = quality_rules::RuleFile::parse(Path::new("fuzz.yaml"), &text);
    });
}

#[test]
fn the_masker_never_panics_and_never_lets_a_planted_identifier_through() {
    let id = "11010119900307123X";
    let seeds: &[&[u8]] = &[
        "联系人张三，身份证 110101 1990 0307 123X，电话 138-0013-8000".as_bytes(),
        "１１０１０１１９９００３０７１２３Ｘ and 9144030071526726XG".as_bytes(),
        b"6222 0202 0000 1234 567",
    ];
    let scanner = pipeline::leak::LeakScanner::new();
    fuzz("mask", seeds, |b| {
        let text = String::from_utf8_lossy(b);
        for column in ["备注", "联系人", "address", "单位联系人"] {
            let _ = pipeline::mask::mask(column, &text);
        }
        let masked = pipeline::mask::mask_identifiers(&text);
        // Whatever surrounds it, a whole planted identifier is masked.
        let planted = format!("{text} {id} {text}");
        let masked_planted = pipeline::mask::mask_identifiers(&planted);
        assert!(!masked_planted.contains(id), "{masked_planted}");
        let _ = scanner.scan_text("fuzz", &masked);
    });
}

#[test]
fn identifier_validators_never_panic() {
    use quality_rules::ids::{resident_id, uscc};
    let seeds: &[&[u8]] = &[
        b"11010119900307123X",
        b"91440300715267266G",
        b"110101900307123",
    ];
    let day = chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    fuzz("ids", seeds, |b| {
        let _ = resident_id::validate(b, day, true);
        let _ = resident_id::validate_until(b, 20261201, false);
        let _ = uscc::validate(b);
        if b.len() >= 17 {
            let _ = resident_id::check_digit(&b[..17]);
            let _ = uscc::check_char(&b[..17]);
        }
    });
}

/// Landing reads deliveries with its own streaming readers: a mutated
/// delivery lands, is quarantined row by row, or fails with a clean error,
/// and its ledger record adds up: a landed delivery's read = landed +
/// quarantined; one recognised as unchanged (or held back) lands nothing
/// and says why.
#[test]
fn landing_never_panics_and_its_counts_add_up() {
    use pipeline::land::{Lake, LakeConfig, LandOptions, land_dataset, load_dataset};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::create_dir_all(ws.join("datasets/gongan")).unwrap();
    let lake = Lake::open(&LakeConfig::default(), ws).unwrap();
    let opts = LandOptions {
        base_dir: ws.to_path_buf(),
        batch_rows: 2,
        ..LandOptions::default()
    };
    let columns = "[[columns]]\nname = \"a\"\ntype = \"int64\"\n[[columns]]\nname = \"b\"\ntype = \"string\"\n[[columns]]\nname = \"d\"\ntype = \"date\"\n";
    for (ext, seed) in [
        (
            "csv",
            &b"a,b,d\n1,x,2026-01-02\n2,\"y,z\",2026-02-30\nq,w,\n"[..],
        ),
        (
            "ndjson",
            &b"{\"a\": 1, \"b\": \"x\", \"d\": \"2026-01-02\"}\n{\"a\": \"n\"}\n"[..],
        ),
    ] {
        let def_path = ws.join(format!("datasets/gongan/f_{ext}.toml"));
        std::fs::write(
            &def_path,
            format!("mode = \"append\"\n[source]\nkind = \"file\"\npath = \"in/{ext}/*.{ext}\"\n{columns}"),
        )
        .unwrap();
        let def = load_dataset(&def_path).unwrap();
        std::fs::create_dir_all(ws.join("in").join(ext)).unwrap();
        let mut n = 0;
        fuzz_n(
            &format!("land-{ext}"),
            &[seed],
            (budget() / 4).max(5),
            |b| {
                n += 1;
                // Each mutant is a new delivery (a new file of the dataset).
                std::fs::write(ws.join("in").join(ext).join(format!("{n:05}.{ext}")), b).unwrap();
                if let Ok(records) = rt.block_on(land_dataset(&lake, &def, &opts)) {
                    for r in records {
                        if r.status == pipeline::land::DeliveryStatus::Landed {
                            assert_eq!(r.rows_read, r.rows_landed + r.rows_quarantined, "{r:?}");
                        } else {
                            assert_eq!((r.rows_landed, r.rows_quarantined), (0, 0), "{r:?}");
                            assert!(r.note.is_some(), "{r:?}");
                        }
                    }
                }
                // A failed delivery is recorded as such; the next one lands.
                let _ = std::fs::remove_file(ws.join("in").join(ext).join(format!("{n:05}.{ext}")));
            },
        );
    }
}

/// The catalog readers (issue #18, "Beyond the list"): a portal's JSON
/// export, a CKAN `package_search` response, DCAT in JSON-LD, Turtle and
/// RDF/XML, and the bureau's XLSX template, each seeded with a real or
/// representative document and mutated; a mutant gives records or a clean
/// error, never a panic.
#[test]
fn catalog_readers_never_panic_on_mutated_catalogs() {
    use connectors::catalog::{CatalogSourceConfig, CkanConfig, DcatConfig};
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let read = |p: &str| std::fs::read(fixtures.join(p)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let harvest = |name: &str, bytes: &[u8], source: CatalogSourceConfig| {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        // Records or a clean error: both fine; a panic is not.
        let _ = rt.block_on(source.harvest(dir.path()));
    };
    let json_api = |name: &str| {
        toml::from_str::<CatalogSourceConfig>(&format!(
            "kind = \"json_api\"\nurl = \"{name}\"\nrecords = \"data.list\"\n"
        ))
        .unwrap()
    };
    let portal: &[u8] = "{\"data\": {\"total\": 2, \"list\": [{\"resourceName\": \"户籍人口\", \"orgName\": \"公安局\", \"updateCycle\": \"每日\", \"openType\": \"完全开放\", \"issued\": \"2024-01-02T10:00:00\"}, {\"资源名称\": \"婚姻\", \"提供部门\": {\"title\": \"民政局\"}, \"更新频率\": \"实时\", \"id\": 7}]}}".as_bytes();
    let mut runs = fuzz("catalog-json", &[portal], |b| {
        harvest("portal.json", b, json_api("portal.json"))
    });
    let ckan = read("ckan/birmingham-package_search.json");
    runs += fuzz_n("catalog-ckan", &[&ckan], budget().div_ceil(4), |b| {
        harvest(
            "ckan.json",
            b,
            CatalogSourceConfig::Ckan(CkanConfig {
                url: "ckan.json".into(),
                rows: 10,
                fq: None,
                extras: Default::default(),
            }),
        )
    });
    for (file, target) in [
        (
            "dcat/ckanext-dcat-catalog_with_at_graph.jsonld",
            "catalog-jsonld",
        ),
        (
            "dcat/ckanext-dcat-dataset_multilingual.ttl",
            "catalog-turtle",
        ),
        ("dcat/ckanext-dcat-dataset.rdf", "catalog-rdfxml"),
    ] {
        let seed = read(file);
        let name = Path::new(file)
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        runs += fuzz(target, &[&seed], |b| {
            harvest(
                &name,
                b,
                CatalogSourceConfig::Dcat(DcatConfig {
                    url: name.clone(),
                    max_pages: 1,
                    format: None,
                }),
            )
        });
    }
    // The bureau's template: a resources sheet with Chinese headers.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in [
        "资源代码",
        "资源名称",
        "资源提供方",
        "共享属性",
        "开放属性",
        "更新频率",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in [
        "A01",
        "户籍人口",
        "公安局",
        "无条件共享",
        "不予开放",
        "每日",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(1, c as u16, *v).unwrap();
    }
    let xlsx = book.save_to_buffer().unwrap();
    runs += fuzz("catalog-xlsx", &[&xlsx], |b| {
        harvest(
            "目录.xlsx",
            b,
            toml::from_str::<CatalogSourceConfig>(
                "kind = \"xlsx_template\"\nlocation = \"目录.xlsx\"\n",
            )
            .unwrap(),
        )
    });
    assert!(runs >= 6 * budget().div_ceil(4));
}

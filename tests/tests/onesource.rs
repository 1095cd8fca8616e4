//! One data, one source over a landed workspace (issue #5): three
//! departments hold the same people; civil affairs is the source of marital
//! status, public security of names and birth dates; social insurance
//! re-collects both, with damaged identifiers and some disagreements.

use std::fmt::Write as _;
use std::path::Path;

use chrono::NaiveDate;
use pipeline::land::{Lake, LakeConfig, LandOptions, land_dataset, load_dataset};
use pipeline::onesource::duplicate::{CatalogDeclaration, DuplicateEvidence};
use pipeline::onesource::registry::AuthorityRegistry;
use pipeline::onesource::resolve::MatchConfig;
use pipeline::onesource::stage::{
    CONFLICTS_TABLE, GOLDEN_TABLE, LINKS_TABLE, OneSourceOptions, run_onesource, write_published,
};
use pipeline::workspace::Workspace;
use quality_rules::ids::resident_id::check_digit;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

const N: usize = 200;
const SURNAMES: &[&str] = &[
    "张", "王", "李", "赵", "刘", "陈", "杨", "黄", "周", "吴", "马", "艾力",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
];

struct Person {
    id: String,
    name: String,
    sex: &'static str,
    birth: String,
    married: &'static str,
}

fn people() -> Vec<Person> {
    (0..N)
        .map(|p| {
            let birth = format!(
                "19{:02}{:02}{:02}",
                50 + p % 49,
                1 + p % 12,
                1 + (p * 7) % 28
            );
            let seq = 100 + p % 800;
            let first17 = format!("110105{birth}{seq:03}");
            let id = format!(
                "{first17}{}",
                check_digit(first17.as_bytes()).unwrap() as char
            );
            let sex = if seq % 2 == 1 { "1" } else { "2" };
            let name = format!(
                "{}{}{}",
                SURNAMES[p % SURNAMES.len()],
                GIVEN[(p / 12) % GIVEN.len()],
                GIVEN[(p * 5 + 3) % GIVEN.len()]
            );
            let married = if p % 3 == 0 { "10" } else { "20" };
            let birth = format!("{}-{}-{}", &birth[..4], &birth[4..6], &birth[6..]);
            Person {
                id,
                name,
                sex,
                birth,
                married,
            }
        })
        .collect()
}

fn write_dataset(
    ws: &Path,
    dept: &str,
    name: &str,
    header: &str,
    columns: &[(&str, &str)],
    onesource: &str,
    csv: &str,
) {
    let dir = ws.join("datasets").join(dept);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(
        ws.join(format!("in/{dept}-{name}.csv")),
        format!("{header}\n{csv}"),
    )
    .unwrap();
    let mut toml = format!(
        "mode = \"full\"\n[source]\nkind = \"file\"\npath = \"in/{dept}-{name}.csv\"\n{onesource}\n"
    );
    for (c, t) in columns {
        write!(toml, "[[columns]]\nname = \"{c}\"\ntype = \"{t}\"\n").unwrap();
    }
    std::fs::write(dir.join(format!("{name}.toml")), toml).unwrap();
}

/// The fifteen-digit first-generation form of an 18-digit ID.
fn fifteen(id: &str) -> String {
    format!("{}{}", &id[..6], &id[8..17])
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                char::from_u32(c as u32 + 0xfee0).unwrap()
            } else {
                c
            }
        })
        .collect()
}

fn typo(id: &str) -> String {
    let mut b = id.as_bytes().to_vec();
    b[15] = if b[15] == b'9' { b'0' } else { b[15] + 1 };
    String::from_utf8(b).unwrap()
}

fn workspace(ws: &Path) -> Vec<Person> {
    std::fs::write(ws.join("pdq.toml"), "profile = \"xinjiang-2023\"\n").unwrap();
    let ps = people();
    let mut gongan = String::new();
    let mut minzheng = String::new();
    let mut renshe = String::new();
    for (p, x) in ps.iter().enumerate() {
        writeln!(gongan, "{},{},{},{}", x.id, x.name, x.sex, x.birth).unwrap();
        if p % 2 == 0 {
            writeln!(minzheng, "{},{},{}", x.id, x.name, x.married).unwrap();
        }
        if p % 4 == 0 {
            // social insurance re-collects marital status and birth dates
            let (id, name, birth, hyzk) = match p % 40 {
                0 => (
                    full_width(&x.id),
                    x.name.clone(),
                    x.birth.clone(),
                    x.married,
                ),
                4 => (
                    fifteen(&x.id),
                    x.name.clone(),
                    x.birth.clone(),
                    if x.married == "10" { "20" } else { "10" },
                ),
                8 => (
                    String::new(),
                    x.name.replace('张', "張").replace('刘', "劉"),
                    x.birth.clone(),
                    x.married,
                ),
                12 => (typo(&x.id), x.name.clone(), x.birth.clone(), x.married),
                16 => (
                    x.id.clone(),
                    x.name.clone(),
                    format!("{}-12-31", &x.birth[..4]),
                    x.married,
                ),
                _ => (x.id.clone(), x.name.clone(), x.birth.clone(), x.married),
            };
            writeln!(renshe, "{id},{name},{},{birth},{hyzk},2026-10-01", x.sex).unwrap();
        }
    }
    write_dataset(
        ws,
        "gongan",
        "household",
        "id_number,name,sex,birth_date",
        &[
            ("id_number", "string"),
            ("name", "string"),
            ("sex", "string"),
            ("birth_date", "date"),
        ],
        "[onesource]\nkey = \"id_number\"\nname = \"name\"\nsex = \"sex\"\nbirth_date = \"birth_date\"",
        &gongan,
    );
    write_dataset(
        ws,
        "minzheng",
        "marriage",
        "id_number,name,marital_status",
        &[
            ("id_number", "string"),
            ("name", "string"),
            ("marital_status", "string"),
        ],
        "[onesource]\nkey = \"id_number\"\nname = \"name\"",
        &minzheng,
    );
    write_dataset(
        ws,
        "renshe",
        "insured",
        "id_number,xm,sex,birth_date,hyzk,updated_at",
        &[
            ("id_number", "string"),
            ("xm", "string"),
            ("sex", "string"),
            ("birth_date", "string"),
            ("hyzk", "string"),
            ("updated_at", "date"),
        ],
        "[onesource]\nkey = \"id_number\"\nname = \"xm\"\nsex = \"sex\"\nbirth_date = \"birth_date\"\nupdated_at = \"updated_at\"",
        &renshe,
    );
    ps
}

/// The workspace at `ws_dir` with every dataset landed in its lake.
fn landed(ws_dir: &Path, rt: &tokio::runtime::Runtime) -> (Workspace, Lake) {
    let ws = Workspace::load(ws_dir).unwrap();
    let lake = Lake::open(&LakeConfig::default(), ws_dir).unwrap();
    let land = LandOptions {
        base_dir: ws_dir.to_path_buf(),
        ..LandOptions::default()
    };
    for d in &ws.datasets {
        let path = ws_dir
            .join("datasets")
            .join(&d.department)
            .join(format!("{}.toml", d.name));
        rt.block_on(land_dataset(&lake, &load_dataset(&path).unwrap(), &land))
            .unwrap();
    }
    (ws, lake)
}

#[test]
fn issue_5_golden_records_conflicts_and_duplicates_over_a_landed_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let ws_dir = dir.path();
    let ps = workspace(ws_dir);
    let rt = rt();
    let (ws, lake) = landed(ws_dir, &rt);
    let registry = AuthorityRegistry::load("xinjiang-2023", ws_dir).unwrap();
    let opts = OneSourceOptions {
        as_of: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        run: "r1".into(),
        declarations: vec![CatalogDeclaration {
            department: "renshe".into(),
            item_name: "参保人员婚姻状况".into(),
        }],
        matching: MatchConfig::persons(),
        keep_runs: 7,
    };
    let report = rt
        .block_on(run_onesource(&ws, &lake, &registry, &opts))
        .unwrap();

    // every person is one subject: 200 + 100 + 50 records resolve to 200
    assert_eq!(report.records, (N + N / 2 + N / 4) as u64);
    assert_eq!(report.subjects, N as u64, "{report:#?}");
    let renshe = &report.datasets["renshe.insured"];
    // 5 of 50 missing, 5 with a typo: set aside with their reasons
    assert_eq!(
        renshe.set_aside.reasons.get("missing"),
        Some(&5),
        "{report:#?}"
    );
    assert_eq!(renshe.set_aside.reasons.get("check_character"), Some(&5));
    // full-width and 15-digit IDs repaired (5 each)
    assert_eq!(renshe.repaired_keys, 10);
    assert_eq!(report.probabilistic_links, 10);

    // conflicts: the 5 flipped marital statuses and 5 truncated birth dates
    let conflicts = rt
        .block_on(lake.sql(&[("c", CONFLICTS_TABLE)], "SELECT attribute, department, authority_department, subject_key, value, authority_value FROM c ORDER BY attribute, subject_key"))
        .unwrap();
    let rows = pdq_tests::rows_as_text(&conflicts);
    assert_eq!(rows.len(), 10, "{rows:#?}");
    assert_eq!(
        rows.iter()
            .filter(|r| r.starts_with("marital_status|renshe|minzheng|"))
            .count(),
        5
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.starts_with("birth_date|renshe|gongan|"))
            .count(),
        5
    );
    let p4 = &ps[4];
    assert!(
        rows.contains(&format!(
            "marital_status|renshe|minzheng|{}|{}|{}",
            p4.id,
            if p4.married == "10" { "20" } else { "10" },
            p4.married
        )),
        "{rows:#?}"
    );
    // name, sex, birth date and marital status of 50 copies, all held by their sources
    assert_eq!((renshe.compared, renshe.conflicts), (200, 10));

    // golden records: marital status from minzheng, lineage to its row
    let golden = rt
        .block_on(lake.sql(&[("g", GOLDEN_TABLE)], &format!("SELECT value, department, rule FROM g WHERE subject_key = '{}' AND attribute = 'marital_status'", p4.id)))
        .unwrap();
    assert_eq!(
        pdq_tests::rows_as_text(&golden),
        vec![format!("{}|minzheng|authority", p4.married)]
    );
    let links = rt
        .block_on(lake.sql(
            &[("l", LINKS_TABLE)],
            "SELECT method, count(*) FROM l GROUP BY method ORDER BY method",
        ))
        .unwrap();
    assert_eq!(
        pdq_tests::rows_as_text(&links),
        vec!["key|340".to_string(), "match|10".to_string()]
    );

    // duplicate collection from the catalog and from the data
    assert!(report.duplicates.iter().any(|d| d.department == "renshe"
        && d.authority == "minzheng"
        && matches!(d.evidence, DuplicateEvidence::Catalog { .. })));
    assert!(report.duplicates.iter().any(|d| d.department == "renshe"
        && d.attribute.as_deref() == Some("marital_status")
        && matches!(&d.evidence, DuplicateEvidence::Data { column, .. } if column == "hyzk")));
    assert!(report.duplicates.iter().any(|d| d.department == "renshe"
        && d.attribute.as_deref() == Some("birth_date")
        && d.authority == "gongan"));
    assert!(!report.duplicates.iter().any(|d| d.department == "minzheng" && d.attribute.as_deref() == Some("marital_status")));

    // the published report is masked
    let path = write_published(&ws_dir.join("published"), &report).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    for p in &ps {
        assert!(!text.contains(&p.id), "unmasked ID in published output");
        assert!(!text.contains(&p.name), "unmasked name in published output");
    }
    // Nor in any other written form.
    let leaks: Vec<String> =
        pipeline::leak::LeakScanner::with_names(ps.iter().map(|p| p.name.as_str()))
            .scan_text("onesource.json", &text)
            .iter()
            .map(ToString::to_string)
            .collect();
    assert!(leaks.is_empty(), "published onesource report: {leaks:?}");
    assert!(text.contains(&format!("{}**********{}", &p4.id[..4], &p4.id[14..])));

    // run again with the same run id: nothing is written twice
    let again = rt
        .block_on(run_onesource(&ws, &lake, &registry, &opts))
        .unwrap();
    assert_eq!(again.conflicts, 10);
    let n = rt
        .block_on(lake.sql(&[("c", CONFLICTS_TABLE)], "SELECT count(*) FROM c"))
        .unwrap();
    assert_eq!(pdq_tests::rows_as_text(&n), vec!["10".to_string()]);
}

#[test]
fn a_bad_onesource_section_names_the_dataset_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let ws_dir = dir.path();
    workspace(ws_dir);
    let p = ws_dir.join("datasets/renshe/insured.toml");
    let t = std::fs::read_to_string(&p)
        .unwrap()
        .replace("name = \"xm\"\nsex", "name = \"xingming\"\nsex");
    std::fs::write(&p, t).unwrap();
    let ws = Workspace::load(ws_dir).unwrap();
    let lake = Lake::open(&LakeConfig::default(), ws_dir).unwrap();
    let registry = AuthorityRegistry::load("xinjiang-2023", ws_dir).unwrap();
    let opts = OneSourceOptions {
        as_of: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        run: "r".into(),
        declarations: vec![],
        matching: MatchConfig::persons(),
        keep_runs: 7,
    };
    let e = rt()
        .block_on(run_onesource(&ws, &lake, &registry, &opts))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("renshe.insured") && e.contains("xingming"),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

/// A profile whose text lists no 数源部门 (西藏) ships no items: without
/// the bureau's authority.toml the stage refuses in one line naming the
/// dataset, what it holds and where to add it; with it, the workspace's
/// registry is the one used, and the report says so.
#[test]
fn a_profile_without_a_list_uses_the_workspace_registry_or_says_to_add_one() {
    let dir = tempfile::tempdir().unwrap();
    let ws_dir = dir.path();
    workspace(ws_dir);
    std::fs::write(ws_dir.join("pdq.toml"), "profile = \"tibet-2025\"\n").unwrap();
    let ws = Workspace::load(ws_dir).unwrap();
    let lake = Lake::open(&LakeConfig::default(), ws_dir).unwrap();
    let opts = OneSourceOptions {
        as_of: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        run: "r".into(),
        declarations: vec![],
        matching: MatchConfig::persons(),
        keep_runs: 7,
    };
    let registry = AuthorityRegistry::load("tibet-2025", ws_dir).unwrap();
    assert!(registry.is_empty());
    let e = rt()
        .block_on(run_onesource(&ws, &lake, &registry, &opts))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("gongan.household")
            && e.contains("birth_date")
            && e.contains("tibet-2025")
            && e.contains("authority.toml"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");

    std::fs::write(
        ws_dir.join("authority.toml"),
        "[departments]\ngongan = \"公安厅\"\nminzheng = \"民政厅\"\n\n\
         [[item]]\nid = \"household_registration\"\nname = \"户籍登记数据\"\nsubject = \"person\"\nauthorities = [\"gongan\"]\nattributes = [\"name\", \"sex\", \"birth_date\"]\n\n\
         [[item]]\nid = \"marriage_registration\"\nname = \"婚姻登记数据\"\nsubject = \"person\"\nauthorities = [\"minzheng\"]\nattributes = [\"marital_status\"]\n",
    )
    .unwrap();
    let registry = AuthorityRegistry::load("tibet-2025", ws_dir).unwrap();
    let report = rt()
        .block_on(run_onesource(&ws, &lake, &registry, &opts))
        .unwrap();
    assert!(
        report.registry.contains("2 from the workspace")
            && report.registry.contains("authority.toml"),
        "{}",
        report.registry
    );

    // Landed, the household copies' sex and birth date have a source (the
    // workspace's household item); what no item owns is named, not dropped.
    std::fs::write(
        ws_dir.join("authority.toml"),
        "[[item]]\nid = \"household_registration\"\nname = \"户籍登记数据\"\nsubject = \"person\"\nauthorities = [\"gongan\"]\nattributes = [\"name\", \"sex\", \"birth_date\"]\n",
    )
    .unwrap();
    let land = LandOptions {
        base_dir: ws_dir.to_path_buf(),
        ..LandOptions::default()
    };
    for d in &ws.datasets {
        let d = load_dataset(
            &ws_dir
                .join("datasets")
                .join(&d.department)
                .join(format!("{}.toml", d.name)),
        )
        .unwrap();
        rt().block_on(land_dataset(&lake, &d, &land)).unwrap();
    }
    let registry = AuthorityRegistry::load("tibet-2025", ws_dir).unwrap();
    let report = rt()
        .block_on(run_onesource(&ws, &lake, &registry, &opts))
        .unwrap();
    assert_eq!(
        report.no_source.get("minzheng.marriage"),
        Some(&vec!["marital_status".to_string()]),
        "{:?}",
        report.no_source
    );
    assert!(!report.no_source.contains_key("gongan.household"));
    assert!(
        report.conflicts > 0,
        "the copies are held to the workspace's source"
    );
}

/// Persons by the other lawful identity documents (issue #17, 10): the same
/// permanent-residence card held by two departments (one writes it in
/// full-width groups) is one subject; so is a Hong Kong permit written in
/// lower case; the same passport number of two countries is two persons;
/// and one person under a permanent-residence card in one department and a
/// passport in another stays two subjects: nothing in the data links them.
#[test]
fn other_identity_documents_resolve_by_type_and_number() {
    let dir = tempfile::tempdir().unwrap();
    let ws_dir = dir.path();
    std::fs::write(ws_dir.join("pdq.toml"), "profile = \"xinjiang-2023\"\n").unwrap();
    let cols = [
        ("id_number", "string"),
        ("doc_type", "string"),
        ("nationality", "string"),
        ("name", "string"),
        ("sex", "string"),
        ("birth_date", "string"),
    ];
    let os = "[onesource]\nkey = \"id_number\"\ndocument_type = \"doc_type\"\nnationality = \"nationality\"\nname = \"name\"\nsex = \"sex\"\nbirth_date = \"birth_date\"";
    let header = "id_number,doc_type,nationality,name,sex,birth_date";
    write_dataset(
        ws_dir,
        "gongan",
        "household",
        header,
        &cols,
        os,
        "11010519491231002X,居民身份证,,张伟,1,1949-12-31\n\
         931586197501010011,外国人永久居留身份证,,约翰,1,1975-01-01\n\
         H12345678,港澳居民来往内地通行证,,陈大文,1,1980-02-02\n\
         123456789,护照,USA,玛丽,2,1990-03-03\n",
    );
    write_dataset(
        ws_dir,
        "renshe",
        "insured",
        header,
        &cols,
        os,
        "９３１５ ８６１９ ７５０１ ０１００ １１,外国人永久居留身份证,,约翰,1,1975-01-01\n\
         h12345678,,,陈大文,1,1980-02-02\n\
         123456789,护照,CAN,玛丽,2,1990-03-03\n\
         A98765432,护照,USA,约翰,1,1975-01-01\n",
    );
    let rt = rt();
    let (ws, lake) = landed(ws_dir, &rt);
    let registry = AuthorityRegistry::load("xinjiang-2023", ws_dir).unwrap();
    let opts = OneSourceOptions {
        as_of: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
        run: "docs".into(),
        declarations: vec![],
        matching: MatchConfig::persons(),
        keep_runs: 7,
    };
    let report = rt
        .block_on(run_onesource(&ws, &lake, &registry, &opts))
        .unwrap();
    let renshe = &report.datasets["renshe.insured"];
    assert_eq!(renshe.valid_keys, 4, "{report:#?}");
    assert!(renshe.set_aside.reasons.is_empty(), "{report:#?}");
    // full width and inner spaces; lower case
    assert_eq!(renshe.repaired_keys, 2);
    assert_eq!(report.records, 8);
    // 4 in 公安; 人社 adds the Canadian passport and 约翰's passport
    assert_eq!(report.subjects, 6, "{report:#?}");
    let links = rt
        .block_on(lake.sql(
            &[("l", LINKS_TABLE)],
            "SELECT subject_key, count(DISTINCT dataset), count(DISTINCT subject), min(method) FROM l GROUP BY subject_key ORDER BY subject_key",
        ))
        .unwrap();
    assert_eq!(
        pdq_tests::rows_as_text(&links),
        vec![
            "11010519491231002X|1|1|key".to_string(),
            "hk_macao_permit:H12345678|2|1|key".to_string(),
            "passport:CAN:123456789|1|1|key".to_string(),
            "passport:USA:123456789|1|1|key".to_string(),
            "passport:USA:A98765432|1|1|key".to_string(),
            "pr_card:931586197501010011|2|1|key".to_string(),
        ]
    );
    // The published report masks the document numbers too.
    let path = write_published(&ws_dir.join("published"), &report).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    assert!(!text.contains("931586197501010011"), "{text}");
}

/// Each run writes every subject's golden values, links and conflicts
/// again: only the last `keep_runs` runs' rows stay (identifiers included,
/// so none is kept longer than it serves), and the latest run's rows are
/// whole. Runs are told apart by when they were written, not by name.
#[test]
fn per_subject_tables_keep_the_last_runs_only() {
    let dir = tempfile::tempdir().unwrap();
    let ws_dir = dir.path();
    workspace(ws_dir);
    let rt = rt();
    let (ws, lake) = landed(ws_dir, &rt);
    let registry = AuthorityRegistry::load("xinjiang-2023", ws_dir).unwrap();
    let per_run = |table: &str| -> Vec<String> {
        let b = rt
            .block_on(lake.sql(
                &[("t", table)],
                "SELECT run, count(*) FROM t GROUP BY run ORDER BY run",
            ))
            .unwrap();
        pdq_tests::rows_as_text(&b)
    };
    let mut first = None;
    // Names sort against the order of the runs.
    for run in ["r9", "r5", "r1"] {
        let opts = OneSourceOptions {
            as_of: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(),
            run: run.into(),
            declarations: vec![],
            matching: MatchConfig::persons(),
            keep_runs: 2,
        };
        let report = rt
            .block_on(run_onesource(&ws, &lake, &registry, &opts))
            .unwrap();
        first.get_or_insert(report.golden_values);
        assert_eq!(
            Some(report.golden_values),
            first,
            "every run makes the same"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let golden = per_run(GOLDEN_TABLE);
    let g = first.unwrap();
    assert_eq!(golden, vec![format!("r1|{g}"), format!("r5|{g}")]);
    let links = per_run(LINKS_TABLE);
    let records = (N + N / 2 + N / 4).to_string();
    assert_eq!(
        links,
        vec![format!("r1|{records}"), format!("r5|{records}")]
    );
    assert_eq!(
        per_run(CONFLICTS_TABLE),
        vec!["r1|10".to_string(), "r5|10".to_string()]
    );
}

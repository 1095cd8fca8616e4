//! kill -9 in the middle of a large ingest: the lake still reads its last
//! committed version, and the next run lands the delivery exactly once.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn pdq() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pdq"));
    c.env_remove("RUST_LOG");
    c
}

fn ingest_json(ws: &Path) -> serde_json::Value {
    let out = pdq()
        .args(["ingest", "-w"])
        .arg(ws)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Parquet data files under a table directory (committed or not).
fn data_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default()
}

fn count_rows(ws: &Path) -> (i64, usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let lake = pipeline::land::Lake::open(&pipeline::land::LakeConfig::default(), ws).unwrap();
    let b = rt
        .block_on(lake.sql(
            &[("t", "data/gongan/big")],
            "SELECT count(*) AS n, count(DISTINCT id) AS d FROM t",
        ))
        .unwrap();
    let n = b[0]
        .column(0)
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .unwrap()
        .value(0);
    let d = b[0]
        .column(1)
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .unwrap()
        .value(0);
    let ledger = rt
        .block_on(pipeline::land::read_ledger(&lake, Some("gongan.big")))
        .unwrap();
    assert_eq!(n, d, "no row twice");
    (n, ledger.len())
}

#[test]
fn kill_9_mid_write_then_rerun_lands_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path();
    std::fs::create_dir_all(ws.join("datasets/gongan")).unwrap();
    std::fs::create_dir_all(ws.join("in")).unwrap();
    std::fs::write(ws.join("pdq.toml"), "[lake]\nlocation = \"lake\"\n").unwrap();
    std::fs::write(
        ws.join("datasets/gongan/big.toml"),
        "mode = \"append\"\n[source]\nkind = \"file\"\npath = \"in/*.csv\"\n\
         [[columns]]\nname = \"id\"\ntype = \"int64\"\n\
         [[columns]]\nname = \"name\"\ntype = \"string\"\n\
         [[columns]]\nname = \"id_number\"\ntype = \"string\"\n\
         [[columns]]\nname = \"amount\"\ntype = \"decimal(18,2)\"\n",
    )
    .unwrap();
    let write_csv = |name: &str, from: u64, to: u64| {
        let mut f =
            std::io::BufWriter::new(std::fs::File::create(ws.join("in").join(name)).unwrap());
        writeln!(f, "id,name,id_number,amount").unwrap();
        for i in from..to {
            writeln!(
                f,
                "{i},姓名{i},11010119900307{:04},{}.{:02}",
                i % 10_000,
                i % 100_000,
                i % 100
            )
            .unwrap();
        }
    };
    write_csv("a.csv", 0, 1000);
    let first = ingest_json(ws);
    assert_eq!(first["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(count_rows(ws), (1000, 1));

    // A large delivery; kill the ingest once it has started writing data files.
    write_csv("b.csv", 1000, 1_501_000);
    let table_dir = ws.join("lake/data/gongan/big");
    let before = data_files(&table_dir).len();
    let mut child = pdq()
        .args(["ingest", "-w"])
        .arg(ws)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    loop {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the ingest finished before it could be killed; make the file larger"
        );
        if data_files(&table_dir).len() > before {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no data file appeared"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        data_files(&table_dir).len() > before,
        "killed mid-write: uncommitted files exist"
    );
    // The lake still reads the previous version, and the ledger has one record.
    assert_eq!(count_rows(ws), (1000, 1));

    // The next run lands the big delivery exactly once…
    let second = ingest_json(ws);
    let d = &second["deliveries"][0];
    assert_eq!(d["rows_read"], 1_500_000);
    assert_eq!(d["rows_landed"], 1_500_000);
    assert_eq!(count_rows(ws), (1_501_000, 2));
    // …and a further run adds nothing.
    let third = ingest_json(ws);
    assert!(third["deliveries"].as_array().unwrap().is_empty());
    assert_eq!(count_rows(ws), (1_501_000, 2));
}

//! The README is executable (issue #23, 15): every `sh` block is run, in
//! order, in a temporary directory holding the demo bureau (`pdq demo`
//! writes `pdq-demo/` there), with the workspace the README calls
//! `/srv/pdq/bureau` standing for that demo. Each `pdq` command must end
//! with an exit code the README documents for a command that ran (0, 3:
//! rules at `fail` or a log that does not verify, 4: a partial failure),
//! never 1 (could not run) or 2 (bad arguments): a command that drifted
//! from the code fails this test. `cargo run --bin pdq -- demo` runs as
//! `pdq demo`; `cargo build` and `./ops/test.sh` are what built and runs
//! this test and are not run again; `pdq serve` and
//! `pdq daemon`, which run until stopped, must still be running after a
//! few seconds.

use std::path::Path;
use std::process::Command;

/// Every `sh` block of the README, in order.
fn sh_blocks(readme: &str) -> Vec<String> {
    let mut blocks = vec![];
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```sh") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.extend(current.take()),
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    blocks
}

#[test]
fn every_command_block_of_the_readme_runs() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let blocks = sh_blocks(&readme);
    assert!(blocks.len() >= 5, "{} sh blocks", blocks.len());
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let bin = env!("CARGO_BIN_EXE_pdq");
    // The README's commands, as a user types them; `pdq` is this build.
    let prelude = format!(
        r#"set -u
pdq() {{
  case "$1" in
    serve|daemon)
      timeout 6 "{bin}" "$@" > /dev/null 2>&1; rc=$?
      [ "$rc" = 124 ] && return 0
      echo "README: pdq $* stopped with $rc instead of running" >&2; exit 1 ;;
  esac
  "{bin}" "$@" > /dev/null 2> last-stderr.txt; rc=$?
  case "$rc" in
    0|3|4) return 0 ;;
    *) echo "README: pdq $* exited $rc: $(head -c 400 last-stderr.txt)" >&2; exit 1 ;;
  esac
}}
cargo() {{ :; }}
"#
    );
    let mut ran = 0;
    for block in &blocks {
        let script: String = block
            .lines()
            .filter(|l| !l.trim_start().starts_with("./ops/test.sh"))
            .map(|l| {
                // A fresh workspace for `pdq init`; the demo for the rest.
                l.replace("cargo run --bin pdq -- ", "pdq ")
                    .replace("pdq init /srv/pdq/bureau", "pdq init new-bureau")
                    .replace("/srv/pdq/bureau", "pdq-demo")
                    .replace("0.0.0.0:8080", "127.0.0.1:0")
            })
            .collect::<Vec<_>>()
            .join("\n");
        if !script.contains("pdq") {
            continue;
        }
        ran += script
            .lines()
            .filter(|l| l.trim_start().starts_with("pdq "))
            .count();
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("{prelude}\n{script}\n"))
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env_remove("PDQ_WORKSPACE")
            .env_remove("PDQ_AUDIT_KEY_FILE")
            .env_remove("PDQ_AUDIT_ANCHOR_FILE")
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "README block failed:\n{block}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // The first block made the demo the others use.
        assert!(
            dir.path().join("pdq-demo/pdq.toml").exists(),
            "after:\n{block}"
        );
    }
    assert!(ran >= 12, "{ran} pdq commands run");
}

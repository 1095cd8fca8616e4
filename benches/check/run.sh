#!/usr/bin/env bash
# The rule-engine benchmark: `pdq check` against DuckDB on the same Parquet
# file, as whole processes, plus the floor (DuckDB only decoding the columns).
# Prints a Markdown table of wall time and peak RSS per command, the ratios
# against the targets, and fails if pdq and DuckDB disagree on any count.
#
#   benches/check/run.sh                       # 10 million rows, one run each
#   ROWS=1000000 RUNS=3 benches/check/run.sh   # smaller, median of 3
#
# Environment:
#   ROWS     rows to generate (default 10000000) -> benches/data/people-ROWS.parquet
#   RUNS     runs per command, A and B in turn; the table shows medians (default 1)
#   THREADS  DuckDB threads (default: the machine's cores, `nproc`); pdq uses all cores
#   PDQ      the pdq binary (default: $CARGO_TARGET_DIR/release/pdq, else ./target/release/pdq;
#            built with `cargo build --release --workspace --bins` when PDQ is unset and it is missing)
#   GEN      the generator (default: gen_people next to pdq, else the dev build, else cargo run)
#   DIVISIONS  the GB/T 2260 code list (default: quality-rules/data/gbt2260-divisions.csv)
set -euo pipefail
BENCHES="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$BENCHES/.." && pwd)"
cd "$BENCHES"

ROWS="${ROWS:-10000000}"
RUNS="${RUNS:-1}"
THREADS="${THREADS:-$(nproc)}"
AS_OF=2026-11-22
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
DIVISIONS="${DIVISIONS:-$ROOT/quality-rules/data/gbt2260-divisions.csv}"
[ -f "$DIVISIONS" ] || DIVISIONS="$ROOT/quality-rules/data/gbt2260-divisions.csv"

# Python with DuckDB and PyYAML.
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import duckdb, yaml' 2>/dev/null; then
  echo "setting up $BENCHES/.venv (duckdb, pyyaml)" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q duckdb pyyaml
fi
PY="$BENCHES/.venv/bin/python"

# GNU time for peak RSS.
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null
fi

# The pdq binary.
if [ -z "${PDQ:-}" ]; then
  PDQ="$TARGET/release/pdq"
  if [ ! -x "$PDQ" ]; then
    echo "building $PDQ (release)" >&2
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release --workspace --bins)
  fi
fi
[ -x "$PDQ" ] || { echo "run.sh: no pdq binary at $PDQ" >&2; exit 1; }

# The data.
DATA="$BENCHES/data/people-$ROWS.parquet"
if [ ! -f "$DATA" ]; then
  if [ -z "${GEN:-}" ]; then
    for g in "$(dirname "$PDQ")/gen_people" "$TARGET/release/gen_people" "$TARGET/debug/gen_people"; do
      [ -x "$g" ] && { GEN="$g"; break; }
    done
  fi
  echo "generating $DATA" >&2
  if [ -n "${GEN:-}" ]; then
    "$GEN" --rows "$ROWS" --out "$DATA" --divisions "$DIVISIONS" --as-of "$AS_OF"
  else
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo run -q -p pdq-benches --bin gen_people -- \
      --rows "$ROWS" --out "$DATA" --divisions "$DIVISIONS" --as-of "$AS_OF")
  fi
fi

OUT="$(mktemp -d)"
echo "rows: $ROWS   file: $DATA ($(du -h "$DATA" | cut -f1))   outputs: $OUT" >&2

# measure NAME RUN COMMAND...: one timed run; pdq's exit code 3 (a rule at
# `fail`) is expected with planted defects.
measure() {
  local name=$1 run=$2; shift 2
  local rc=0
  /usr/bin/time -v -o "$OUT/$name.$run.time" "$@" > "$OUT/$name.json" 2> "$OUT/$name.err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "run.sh: $name failed (exit $rc):" >&2
    cat "$OUT/$name.err" >&2
    exit 1
  fi
}

for run in $(seq 1 "$RUNS"); do
  for set in rules rules-native rules-simple; do
    measure "pdq-$set" "$run" "$PDQ" check --data "$DATA" --rules "check/$set.yaml" --format json --as-of "$AS_OF"
    measure "duckdb-$set" "$run" "$PY" check/duckdb_rules.py --data "$DATA" --rules "check/$set.yaml" \
      --divisions "$DIVISIONS" --as-of "$AS_OF" --threads "$THREADS"
  done
  measure floor "$run" "$PY" check/duckdb_rules.py --data "$DATA" --floor --rules check/rules.yaml --threads "$THREADS"
done

status=0
for set in rules rules-native rules-simple; do
  if ! "$PY" check/compare.py "$OUT/pdq-$set.json" "$OUT/duckdb-$set.json" > "$OUT/compare-$set.txt"; then
    cat "$OUT/compare-$set.txt"
    echo "run.sh: pdq and DuckDB disagree on $set.yaml" >&2
    status=1
  fi
done

"$PY" - "$OUT" "$ROWS" "$RUNS" "$THREADS" "$(nproc)" "$PDQ" <<'EOF'
import re, statistics, sys
from pathlib import Path
import yaml

out, rows, runs, threads, cores, pdq = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), sys.argv[6]

def timing(name):
    walls, rss = [], []
    for f in sorted(out.glob(f"{name}.*.time")):
        text = f.read_text()
        h_m_s = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text).groups()
        walls.append(int(h_m_s[0] or 0) * 3600 + int(h_m_s[1]) * 60 + float(h_m_s[2]))
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024)
    return statistics.median(walls), statistics.median(rss)

commands = [
    ("pdq-rules", "`pdq check` full rule set (`rules.yaml`: 12 row-level + 1 `unique`)"),
    ("duckdb-rules", "DuckDB, full rule set"),
    ("pdq-rules-native", "`pdq check` native kinds (`rules-native.yaml`: null, in-set, range, regex)"),
    ("duckdb-rules-native", "DuckDB, native kinds"),
    ("pdq-rules-simple", "`pdq check` null + range + in-set (`rules-simple.yaml`)"),
    ("duckdb-rules-simple", "DuckDB, null + range + in-set"),
    ("floor", "floor: DuckDB decoding the columns of `rules.yaml` only"),
]
t = {name: timing(name) for name, _ in commands}
print(f"\n{rows:,} rows; {cores} cores; DuckDB threads = {threads} (SET threads); pdq: all cores; "
      f"{'median of %d runs' % runs if runs > 1 else 'one run each'}\n")
print("| command | wall s | peak RSS MB |")
print("|---|---:|---:|")
for name, label in commands:
    print(f"| {label} | {t[name][0]:.2f} | {t[name][1]:.0f} |")

simple_rules = len(yaml.safe_load(open("check/rules-simple.yaml", encoding="utf-8"))["rules"])
wall_simple = t["pdq-rules-simple"][0]
checks_per_core = simple_rules * rows / wall_simple / cores if wall_simple > 0 else float("inf")
ratios = [
    ("pdq / DuckDB, full rule set", t["pdq-rules"][0] / t["duckdb-rules"][0], "≤ 0.25 (4× faster)", lambda r: r <= 0.25),
    ("pdq / DuckDB, native kinds", t["pdq-rules-native"][0] / t["duckdb-rules-native"][0], "≤ 1", lambda r: r <= 1),
    ("pdq / DuckDB, null + range + in-set", t["pdq-rules-simple"][0] / t["duckdb-rules-simple"][0], "—", lambda r: None),
    ("pdq full / floor", t["pdq-rules"][0] / t["floor"][0], "≤ 2", lambda r: r <= 2),
]
print("\n| figure | value | target | met |")
print("|---|---:|---|---|")
for label, r, target, ok in ratios:
    met = ok(r)
    print(f"| {label} | {r:.3f} | {target} | {'—' if met is None else 'yes' if met else '**no**'} |")
print(f"| row-checks / s / core, null + range + in-set ({simple_rules} rules × {rows:,} rows / {wall_simple:.2f} s / {cores} cores) "
      f"| {checks_per_core / 1e6:.1f} M | ≥ 50 M | {'yes' if checks_per_core >= 50e6 else '**no**'} |")
print(f"\npdq: {pdq}")
EOF
if [ "$status" -eq 0 ]; then
  echo "every count of every rule agrees between pdq and DuckDB ($OUT/compare-*.txt)"
fi
exit "$status"

#!/usr/bin/env bash
# Memory of `pdq check` on CSV: the benchmark's rows as CSV at two sizes,
# checked with the full rule set. Streaming keeps peak RSS flat as the
# file grows; the peer in the same run is DuckDB decoding the same CSV
# (the floor). Prints a Markdown table (median of RUNS).
#
#   benches/check/csv_memory.sh            # 2M and 10M rows (needs the Parquet files run.sh makes)
#   SIZES="1000000 2000000" RUNS=3 benches/check/csv_memory.sh
set -euo pipefail
BENCHES="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$BENCHES/.." && pwd)"
cd "$BENCHES"
SIZES="${SIZES:-2000000 10000000}"
RUNS="${RUNS:-1}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
PDQ="${PDQ:-$TARGET/release/pdq}"
PY="$BENCHES/.venv/bin/python"
[ -x "$PDQ" ] || { echo "csv_memory.sh: no pdq binary at $PDQ (cargo build --release --workspace --bins)" >&2; exit 1; }
[ -x "$PY" ] || { echo "csv_memory.sh: run benches/check/run.sh first (it sets up $BENCHES/.venv)" >&2; exit 1; }
OUT="$(mktemp -d)"
echo "| rows | CSV size | command | wall s | peak RSS MB |"
echo "|---:|---:|---|---:|---:|"
for rows in $SIZES; do
  pq="data/people-$rows.parquet"
  csv="data/people-$rows.csv"
  [ -f "$pq" ] || { echo "csv_memory.sh: missing $pq (ROWS=$rows benches/check/run.sh makes it)" >&2; exit 1; }
  if [ ! -f "$csv" ]; then
    "$PY" -c "import duckdb,sys; duckdb.connect().execute(f\"COPY (SELECT * FROM '{sys.argv[1]}') TO '{sys.argv[2]}' (HEADER)\")" "$pq" "$csv"
  fi
  size="$(du -h "$csv" | cut -f1)"
  for run in $(seq 1 "$RUNS"); do
    rc=0
    /usr/bin/time -v -o "$OUT/pdq.$rows.$run" "$PDQ" check --data "$csv" --rules check/rules.yaml --format json --as-of 2026-11-22 > /dev/null || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { echo "pdq failed ($rc)" >&2; exit 1; }
    /usr/bin/time -v -o "$OUT/floor.$rows.$run" "$PY" check/duckdb_rules.py --data "$csv" --floor --rules check/rules.yaml > /dev/null
  done
  for name in pdq floor; do
    "$PY" - "$OUT" "$name" "$rows" "$size" <<'PYEOF'
import re, statistics, sys
from pathlib import Path
out, name, rows, size = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
walls, rss = [], []
for f in sorted(out.glob(f"{name}.{rows}.*")):
    t = f.read_text()
    h, m, s = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t).groups()
    walls.append(int(h or 0) * 3600 + int(m) * 60 + float(s))
    rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024)
label = {"pdq": "`pdq check` full rule set", "floor": "DuckDB decoding the CSV (floor)"}[name]
print(f"| {rows:,} | {size} | {label} | {statistics.median(walls):.2f} | {statistics.median(rss):.0f} |")
PYEOF
  done
done

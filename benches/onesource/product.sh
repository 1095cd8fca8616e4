#!/usr/bin/env bash
# `pdq onesource` itself (issue #24, 2): the product path, lake in and lake
# out, on the same generated departments as run.sh. Builds a workspace whose
# six datasets declare [onesource] over the generated CSVs, lands them with
# `pdq ingest` (not timed), then times `pdq onesource` as a whole process.
#
#   benches/onesource/product.sh cn     # 200,000 persons, 499,833 records
#   benches/onesource/product.sh 10m    # 4,000,000 persons, 10,002,435 records
#   RUNS=3 BIN=<dir with pdq and gen_onesource> benches/onesource/product.sh cn
#
# Generated data and the workspace go to $OUT (default /tmp/pdq-onesource).
set -euo pipefail
SET="${1:?cn or 10m}"
BIN="${BIN:-${CARGO_TARGET_DIR:-$(dirname "$0")/../../target}/release}"
OUT="${OUT:-/tmp/pdq-onesource}"
RUNS="${RUNS:-1}"
case "$SET" in
  cn) gen=(--persons 200000 --seed 2026) ;;
  10m) gen=(--persons 4000000 --copies 1.5 --damaged 0.05 --seed 7) ;;
  *) echo "product.sh: unknown set $SET (cn or 10m)" >&2; exit 2 ;;
esac
[ -f "$OUT/$SET/dept0.csv" ] || "$BIN/gen_onesource" "${gen[@]}" --out "$OUT/$SET"
WS="$OUT/ws-$SET"
if [ ! -d "$WS/lake/data" ]; then
  rm -rf "$WS"; mkdir -p "$WS/in"
  echo 'profile = "xinjiang-2023"' > "$WS/pdq.toml"
  for d in 0 1 2 3 4 5; do
    mkdir -p "$WS/datasets/dept$d"
    ln -sf "$OUT/$SET/dept$d.csv" "$WS/in/dept$d.csv"
    {
      printf 'mode = "full"\n[source]\nkind = "file"\npath = "in/dept%s.csv"\n' "$d"
      printf '[onesource]\nkey = "id_number"\nname = "name"\nbirth_date = "birth_date"\nsex = "sex"\naddress = "address"\n'
      for c in rec_id entity corruption id_number name sex birth_date address; do
        printf '[[columns]]\nname = "%s"\ntype = "string"\n' "$c"
      done
    } > "$WS/datasets/dept$d/people.toml"
  done
  "$BIN/pdq" ingest -w "$WS" > "$OUT/ingest-$SET.json"
fi
for run in $(seq 1 "$RUNS"); do
  /usr/bin/time -f "pdq onesource $SET run $run: %e s wall, %U s user, %S s system, %M KiB peak RSS" \
    "$BIN/pdq" onesource -w "$WS" --as-of 2026-11-22 --format json > "$OUT/onesource-$SET.json"
done

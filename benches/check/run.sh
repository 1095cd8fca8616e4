#!/usr/bin/env bash
# The rule-engine benchmark (issue #2): pdq check vs DuckDB on the same
# Parquet file, whole processes, plus the floor (DuckDB only decoding the
# columns). Prints wall time and peak RSS of each, the ratios, and checks
# that pdq and DuckDB agree on every count.
#
#   benches/check/run.sh            # 10 million rows
#   ROWS=1000000 benches/check/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${ROWS:-10000000}"
TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/pdq/target}"
SHARED="${SHARED:-../../shared/data/gbt2260-divisions.csv}"
[ -f "$SHARED" ] || SHARED="../quality-rules/data/gbt2260-divisions.csv"
AS_OF=2026-11-22

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q duckdb pyyaml
fi
PY=.venv/bin/python
command -v /usr/bin/time >/dev/null || apt-get install -y -q time >/dev/null

(cd .. && CARGO_TARGET_DIR="$TARGET" cargo build --release --workspace --bins --locked)
PDQ="${PDQ:-$TARGET/release/pdq}"
DATA="data/people-$ROWS.parquet"
[ -f "$DATA" ] || "$TARGET/release/gen_people" --rows "$ROWS" --out "$DATA"
COLS=id_number,credit_code,region_code,phone,sex_code,status,amount,name,death_date,birth_date
OUT=$(mktemp -d)

measure() { # name, command...
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$OUT/$name.time" "$@" > "$OUT/$name.json" || true
  read -r wall rss < "$OUT/$name.time"
  printf '| %-22s | %8.2f | %8d |\n' "$name" "$wall" "$((rss / 1024))"
  echo "$wall" > "$OUT/$name.wall"
}

echo "rows: $ROWS   machine: $(nproc) cores   DuckDB threads: $(nproc)"
echo "| command                | wall s   | peak MB  |"
echo "|------------------------|----------|----------|"
for set in rules rules-native rules-simple; do
  measure "pdq-$set" "$PDQ" check --data "$DATA" --rules "check/$set.yaml" --format json --as-of "$AS_OF"
  measure "duckdb-$set" "$PY" check/duckdb_rules.py --data "$DATA" --rules "check/$set.yaml" --divisions "$SHARED" --as-of "$AS_OF" --threads "$(nproc)"
done
measure floor "$PY" check/duckdb_rules.py --data "$DATA" --floor --columns "$COLS" --threads "$(nproc)"

for set in rules rules-native rules-simple; do
  "$PY" check/compare.py "$OUT/pdq-$set.json" "$OUT/duckdb-$set.json" > "$OUT/compare-$set.txt" \
    || { cat "$OUT/compare-$set.txt"; echo "pdq and DuckDB disagree on $set"; exit 1; }
done
ratio() { python3 -c "print(f'{float(open(\"$OUT/$1.wall\").read())/float(open(\"$OUT/$2.wall\").read()):.2f}')"; }
echo
echo "pdq / DuckDB, full rule set:    $(ratio pdq-rules duckdb-rules)"
echo "pdq / DuckDB, native kinds:     $(ratio pdq-rules-native duckdb-rules-native)"
echo "pdq / DuckDB, null+range+in-set: $(ratio pdq-rules-simple duckdb-rules-simple)"
echo "pdq full / floor:               $(ratio pdq-rules floor)"
python3 -c "
w=float(open('$OUT/pdq-rules-simple.wall').read()); n=$ROWS*6
print(f'null/range/in-set row-checks per second per core: {n/w/$(nproc)/1e6:.1f} million (6 rules x $ROWS rows / {w:.2f} s / $(nproc) cores)')"
echo "every count agrees between pdq and DuckDB (see $OUT/compare-*.txt)"

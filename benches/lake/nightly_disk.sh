#!/usr/bin/env bash
# The lake's disk over nights of full deliveries ([retention] lake_days):
# one dataset delivered in full each night for NIGHTS nights, each night's
# landing run with the clock set back NIGHTS-n days (`faketime`, Debian
# package `faketime`: Delta records when a file was replaced from the
# clock), the lake's size after each night; then `pdq vacuum --dry-run` and
# `pdq vacuum` (timed), and the size after.
#
#   BIN=<dir with pdq> CSV=<a CSV with a header> benches/lake/nightly_disk.sh
#   NIGHTS=10 (default) OUT=/tmp/pdq-nightly (default)
#
# Each night's file is the CSV with that night's number appended as one
# more row (a changed delivery, so it lands). Only `pdq vacuum` is timed.
set -euo pipefail
BIN="${BIN:-${CARGO_TARGET_DIR:-$(dirname "$0")/../../target}/release}"
CSV="${CSV:?a CSV file with a header row}"
NIGHTS="${NIGHTS:-10}"
OUT="${OUT:-/tmp/pdq-nightly}"
command -v faketime >/dev/null || { echo "nightly_disk.sh: needs faketime (apt-get install faketime)" >&2; exit 2; }
rm -rf "$OUT"; mkdir -p "$OUT/ws/in" "$OUT/ws/datasets/dept"
WS="$OUT/ws"
echo 'profile = "xinjiang-2023"' > "$WS/pdq.toml"
header=$(head -1 "$CSV")
{
  printf 'mode = "full"\n[source]\nkind = "file"\npath = "in/extract.csv"\n'
  IFS=, read -ra cols <<< "$header"
  for c in "${cols[@]}"; do printf '[[columns]]\nname = "%s"\ntype = "string"\n' "$c"; done
} > "$WS/datasets/dept/extract.toml"
ncols=${#cols[@]}
size() { du -sb "$WS/lake/data" | cut -f1; }
for n in $(seq 1 "$NIGHTS"); do
  back=$((NIGHTS - n))
  cp "$CSV" "$WS/in/extract.csv"
  # One more row, its first field the night's number.
  printf 'night-%s%s\n' "$n" "$(printf ',%.0s' $(seq 2 "$ncols"))" >> "$WS/in/extract.csv"
  if [ "$back" -gt 0 ]; then
    faketime -f "-${back}d" "$BIN/pdq" ingest -w "$WS" > "$OUT/ingest-$n.json"
  else
    "$BIN/pdq" ingest -w "$WS" > "$OUT/ingest-$n.json"
  fi
  echo "night $n (${back} days ago): lake/data $(size) bytes"
done
"$BIN/pdq" vacuum -w "$WS" --dry-run --format json > "$OUT/vacuum-dry.json"
echo "dry run: $(tr -d '\n ' < "$OUT/vacuum-dry.json" | head -c 300)"
/usr/bin/time -f "pdq vacuum: %e s wall, %M KiB peak RSS" \
  "$BIN/pdq" vacuum -w "$WS" --format json > "$OUT/vacuum.json"
echo "after the vacuum: lake/data $(size) bytes"

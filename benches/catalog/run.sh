#!/usr/bin/env bash
# Catalog harvesting and reconciliation at the size of a large bureau
# (issue #4): gen_catalog writes 20,000 catalog entries with 200,000 data
# items (half in a spreadsheet template, half in a portal's JSON export)
# and 20,000 datasets whose deliveries and measured facts are in the lake.
# Then `pdq harvest` is timed as a whole process, three ways, 3 times each:
#   first    — an empty catalog: every entry added (one new version);
#   same     — nothing changed at the sources (no new version);
#   touched  — 1% of the portal's entries changed (one version, 200 changes).
# Each run harvests both sources, merges by key and content hash, checks
# every entry, reconciles all 20,000 datasets and writes every published
# file (JSON, CSV, XLSX, DCAT-AP, open catalog, findings, change log).
#
#   benches/catalog/run.sh                  # release binaries from ${CARGO_TARGET_DIR:-../target}/release
#   ENTRIES=100000 benches/catalog/run.sh   # the size issue #19/#24 asks for (touches ENTRIES/100)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-${CARGO_TARGET_DIR:-../target}/release}"
WS="${WS:-data/catalog/ws}"
rm -rf "$WS"
mkdir -p "$(dirname "$WS")"
ENTRIES="${ENTRIES:-20000}"
"$BIN/gen_catalog" --out "$WS" --entries "$ENTRIES" --items 10 --departments 100
t() { /usr/bin/time -f "$1: %e s wall, %M KiB peak RSS" "$BIN/pdq" harvest -w "$WS" --format json > "$WS/last.json"; }
summary() { python3 -c "import json,collections;d=json.load(open('$WS/last.json'));print('   version',d['version'],'new',d['new_version'],'changes',d['changes'],'entries',d['entries'],'findings',len(d['findings']),dict(collections.Counter(f['check'] for f in d['findings'])))"; }
for i in 1 2 3; do
  rm -rf "$WS/lake/_pdq/catalog"
  t "first $i"
done
summary
for i in 1 2 3; do t "same $i"; done
summary
for i in 1 2 3; do
  "$BIN/gen_catalog" --out "$WS" --touch $((ENTRIES / 100 * i))
  t "touched $i"
done
summary

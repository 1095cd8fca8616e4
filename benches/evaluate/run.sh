#!/usr/bin/env bash
# The annual evaluation over a year of a large bureau's stored results
# (issue #8): gen_year writes 365 nightly runs × 2,000 datasets × 7 counts
# (60 departments) into a workspace's lake with the run ledger that pins
# them; then `pdq evaluate --year 2025` is timed (2025: every due date falls
# inside the embedded holiday calendar) as a whole process, 3 times.
#
#   benches/evaluate/run.sh        # release binaries from ${CARGO_TARGET_DIR:-../target}/release
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-${CARGO_TARGET_DIR:-../target}/release}"
WS="${WS:-data/evaluate/ws}"
if [ ! -d "$WS/lake" ]; then
  mkdir -p "$(dirname "$WS")"
  "$BIN/gen_year" --out "$WS" --departments 60 --datasets 2000 --days 365 --rules 5 --year 2025
fi
for i in 1 2 3; do
  rm -rf "$WS/published/evaluation"
  /usr/bin/time -f "run $i: %e s wall, %M KiB peak RSS" "$BIN/pdq" evaluate -w "$WS" --year 2025 --format json > /dev/null
done

#!/usr/bin/env bash
# Soak run of the daemon (not part of CI): `pdq daemon` on a one-minute
# schedule for DURATION seconds (default 1800), with a new delivery every
# minute and a failure injected every few runs (a source file that turns
# corrupt, then healthy again). Samples the daemon's RSS every 10 s and
# prints: runs, their outcomes, failed steps, RSS first/median/max/last, and
# whether the audit log verifies.
#
#   ops/soak.sh                       # 30 minutes
#   DURATION=300 ops/soak.sh          # a shorter look
#   PDQ=target/release/pdq ops/soak.sh
set -euo pipefail
DURATION="${DURATION:-1800}"
PDQ="${PDQ:-${CARGO_TARGET_DIR:-target}/release/pdq}"
WS="${WS:-$(mktemp -d /tmp/pdq-soak.XXXXXX)}"
OUT="$WS/soak"
mkdir -p "$OUT" "$WS/in" "$WS/rules" "$WS/datasets/gongan" "$WS/datasets/minzheng"

cat > "$WS/pdq.toml" <<'EOF'
time_zone = "Asia/Shanghai"
[lake]
location = "lake"
[schedule]
cron = "0 * * * * *"   # every minute, at second 0
max_catch_up = 1
retries = 1
EOF
cat > "$WS/rules/people.yaml" <<'EOF'
dataset: people
rules:
  - {id: id_present, dimension: completeness, check: not_null, column: id}
  - {id: amount_range, dimension: validity, check: range, column: amount, min: 0}
EOF
for d in daily flaky; do
  dept=gongan; [ "$d" = flaky ] && dept=minzheng
  mode=append; [ "$d" = flaky ] && mode=full
  path="in/$d-*.csv"; [ "$d" = flaky ] && path="in/flaky.csv"
  cat > "$WS/datasets/$dept/$d.toml" <<EOF
mode = "$mode"
rules = "rules/people.yaml"
[source]
kind = "file"
path = "$path"
[[columns]]
name = "id"
type = "int64"
[[columns]]
name = "amount"
type = "int64"
EOF
done
python3 - "$WS/in/flaky.csv" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("id,amount\n")
    for i in range(50000):
        f.write(f"{i},{i % 1000 - (1 if i % 97 == 0 else 0)}\n")
EOF

"$PDQ" daemon -w "$WS" > "$OUT/daemon.log" 2>&1 &
DAEMON=$!
trap 'kill -TERM $DAEMON 2>/dev/null || true' EXIT
echo "soak: workspace $WS, daemon pid $DAEMON, $DURATION s" >&2
echo "t_s,rss_kib" > "$OUT/rss.csv"
start=$(date +%s)
minute=0
while true; do
  now=$(date +%s); t=$((now - start))
  [ "$t" -ge "$DURATION" ] && break
  kill -0 "$DAEMON" 2>/dev/null || { echo "soak: the daemon died" >&2; exit 1; }
  echo "$t,$(awk '/VmRSS/ {print $2}' /proc/$DAEMON/status)" >> "$OUT/rss.csv"
  m=$((t / 60))
  if [ "$m" -gt "$minute" ]; then
    minute=$m
    # A new delivery every minute…
    python3 -c "
import sys
with open('$WS/in/daily-$(printf %04d $m).csv', 'w') as f:
    f.write('id,amount\n')
    for i in range(20000): f.write(f'{$m * 20000 + i},{i % 500}\n')
"
    # …and every 4th minute the flaky source turns corrupt, healthy the next.
    if [ $((m % 4)) -eq 0 ]; then cp "$WS/in/flaky.csv" "$OUT/flaky.good"; printf 'PAR1garbage' > "$WS/in/flaky.csv"; fi
    if [ $((m % 4)) -eq 1 ] && [ -f "$OUT/flaky.good" ]; then cp "$OUT/flaky.good" "$WS/in/flaky.csv"; fi
  fi
  sleep 10
done
kill -TERM "$DAEMON"
wait "$DAEMON" || true
trap - EXIT
"$PDQ" runs -w "$WS" --format json > "$OUT/runs.json"
python3 - "$OUT" <<'EOF'
import csv, json, statistics, sys
out = sys.argv[1]
runs = json.load(open(f"{out}/runs.json"))
rss = [int(r["rss_kib"]) for r in csv.DictReader(open(f"{out}/rss.csv")) if r["rss_kib"]]
status = {}
for r in runs:
    s = (r.get("finished") or {}).get("status", "unfinished")
    status[s] = status.get(s, 0) + 1
failed = sum((r.get("finished") or {}).get("datasets_failed", 0) for r in runs)
print(f"runs: {len(runs)} {status}; dataset failures recorded: {failed}")
q = len(rss) // 4 or 1
print(f"RSS MiB: first {rss[0]/1024:.1f}, median {statistics.median(rss)/1024:.1f}, max {max(rss)/1024:.1f}, last {rss[-1]/1024:.1f}; "
      f"mean of first quarter {statistics.mean(rss[:q])/1024:.1f} vs last quarter {statistics.mean(rss[-q:])/1024:.1f} ({len(rss)} samples)")
EOF
"$PDQ" audit verify -w "$WS"

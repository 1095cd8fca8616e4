#!/usr/bin/env bash
# Load on `pdq serve` (issue #6): the demo bureau's site served on loopback,
# hit by wrk (Debian package) for DURATION (default 60 s) with CONNECTIONS
# (default 32) connections on 2 threads, half on the public overview and half
# on a department's detail page with its bearer token. wrk runs closed-loop
# (as fast as the server answers), so the rate it reports is the most the
# server sustained; the target is >= 500 requests/s with p99 < 50 ms.
#
#   benches/serve/run.sh              # PDQ=target/release/pdq by default
set -euo pipefail
cd "$(dirname "$0")/.."
PDQ="${PDQ:-${CARGO_TARGET_DIR:-../target}/release/pdq}"
DURATION="${DURATION:-60s}"
CONNECTIONS="${CONNECTIONS:-32}"
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
WS="$(mktemp -d /tmp/pdq-serve-bench.XXXXXX)"
"$PDQ" demo --out "$WS/demo" >/dev/null
TOKEN=$("$PDQ" token -w "$WS/demo" --department gongan 2>/dev/null)
PORT=18080
"$PDQ" serve -w "$WS/demo" --listen "127.0.0.1:$PORT" >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WS"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/" >/dev/null && break; sleep 0.1; done
cat > "$WS/mix.lua" <<LUA
local i = 0
request = function()
  i = i + 1
  if i % 2 == 0 then
    return wrk.format("GET", "/index.html")
  end
  return wrk.format("GET", "/dept/gongan.html", { ["Authorization"] = "Bearer $TOKEN" })
end
LUA
echo "pdq serve on 2 cores; wrk -t2 -c$CONNECTIONS -d$DURATION (overview + a department's page with its token)"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -s "$WS/mix.lua" "http://127.0.0.1:$PORT"
echo "peak RSS of the server: $(awk '/VmHWM/ {print $2 " " $3}' /proc/$SERVER/status)"

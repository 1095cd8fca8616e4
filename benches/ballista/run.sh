#!/usr/bin/env bash
# The distributed engine against the embedded one (issue #22): `pdq check` of
# the people rule set (benches/check/rules.yaml, 12 row-level rules + 1
# `unique`) on ROWS generated rows, first embedded, then on a `pdq scheduler`
# with two `pdq executor`s on this machine (loopback). Fails if the two give
# different results; prints wall time, cost per row and the ratio, the
# client's peak RSS and each executor's.
#
#   benches/ballista/run.sh                 # 10 million rows
#   ROWS=1000000 benches/ballista/run.sh
#
# Environment:
#   ROWS   rows to generate (default 10000000) -> benches/data/people-ROWS.parquet
#   PDQ    a pdq built with the feature (default: $CARGO_TARGET_DIR/release/pdq;
#          built with `cargo build --release --locked --features jobs/ballista --bins`
#          when PDQ is unset and it is missing)
#   TASKS  tasks per executor (default: half the cores, at least 1)
#   GEN    the generator (default: gen_people next to pdq, else cargo run)
set -euo pipefail
BENCHES="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$(cd "$BENCHES/.." && pwd)"
cd "$BENCHES"

ROWS="${ROWS:-10000000}"
AS_OF=2026-11-22
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
DIVISIONS="$ROOT/quality-rules/data/gbt2260-divisions.csv"
CORES="$(nproc)"
TASKS="${TASKS:-$(( CORES / 2 > 0 ? CORES / 2 : 1 ))}"

if [ -z "${PDQ:-}" ]; then
  PDQ="$TARGET/release/pdq"
  if [ ! -x "$PDQ" ]; then
    echo "building $PDQ (release, --features jobs/ballista)" >&2
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release --locked --workspace --bins --features jobs/ballista)
  fi
fi
[ -x "$PDQ" ] || { echo "run.sh: no pdq binary at $PDQ" >&2; exit 1; }
"$PDQ" scheduler --help > /dev/null 2>&1 || { echo "run.sh: $PDQ was built without the ballista feature" >&2; exit 1; }

DATA="$BENCHES/data/people-$ROWS.parquet"
if [ ! -f "$DATA" ]; then
  mkdir -p "$BENCHES/data"
  if [ -z "${GEN:-}" ]; then
    for g in "$(dirname "$PDQ")/gen_people" "$TARGET/release/gen_people"; do
      [ -x "$g" ] && { GEN="$g"; break; }
    done
  fi
  echo "generating $DATA" >&2
  if [ -n "${GEN:-}" ]; then
    "$GEN" --rows "$ROWS" --out "$DATA" --divisions "$DIVISIONS" --as-of "$AS_OF"
  else
    (cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo run -q --release --locked -p pdq-benches --bin gen_people -- \
      --rows "$ROWS" --out "$DATA" --divisions "$DIVISIONS" --as-of "$AS_OF")
  fi
fi

OUT="$(mktemp -d)"
echo "rows: $ROWS   file: $DATA ($(du -h "$DATA" | cut -f1))   outputs: $OUT" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PIDS=()
# The executors' work directories hold the jobs' shuffle files (Ballista
# removes them minutes after a job, and the executors are stopped before
# that): their size is reported, then they are removed with the cluster, so
# that repeated runs at 100M rows do not fill the disk. Logs and reports
# stay in $OUT.
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$OUT/work1" "$OUT/work2"
}
trap cleanup EXIT

SPORT="$(free_port)"
"$PDQ" scheduler --bind "127.0.0.1:$SPORT" --external-host 127.0.0.1 > "$OUT/scheduler.log" 2>&1 &
PIDS+=($!)
EXECUTORS=()
for n in 1 2; do
  mkdir -p "$OUT/work$n"
  "$PDQ" executor --scheduler "df://127.0.0.1:$SPORT" --port "$(free_port)" --grpc-port "$(free_port)" \
    --concurrent-tasks "$TASKS" --work-dir "$OUT/work$n" > "$OUT/executor$n.log" 2>&1 &
  PIDS+=($!)
  EXECUTORS+=($!)
done
for _ in $(seq 1 300); do
  n="$(curl -s "http://127.0.0.1:$SPORT/api/executors" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null || echo 0)"
  [ "$n" = 2 ] && break
  sleep 0.2
done
[ "$n" = 2 ] || { echo "run.sh: the executors did not register (logs in $OUT)" >&2; exit 1; }

# measure NAME ARGS...: one timed `pdq check`; exit code 3 (a rule at `fail`) is expected.
measure() {
  local name=$1; shift
  local rc=0
  /usr/bin/time -v -o "$OUT/$name.time" "$PDQ" check --data "$DATA" --rules check/rules.yaml \
    --format json --as-of "$AS_OF" "$@" > "$OUT/$name.json" 2> "$OUT/$name.err" || rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
    echo "run.sh: $name failed (exit $rc):" >&2
    cat "$OUT/$name.err" >&2
    exit 1
  fi
}
measure embedded --engine embedded
measure cluster --engine ballista --scheduler "df://127.0.0.1:$SPORT"
for i in 0 1; do
  grep VmHWM "/proc/${EXECUTORS[$i]}/status" | awk '{print $2}' > "$OUT/executor$((i + 1)).hwm"
  du -sk "$OUT/work$((i + 1))" | cut -f1 > "$OUT/executor$((i + 1)).work"
done

python3 - "$OUT" "$ROWS" "$CORES" "$TASKS" <<'EOF'
import json, re, sys
from pathlib import Path
out, rows, cores, tasks = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

def report(name):
    r = json.loads((out / f"{name}.json").read_text())
    r.pop("elapsed_ms", None)
    return r

def timing(name):
    text = (out / f"{name}.time").read_text()
    h, m, s = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text).groups()
    wall = int(h or 0) * 3600 + int(m) * 60 + float(s)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1)) / 1024
    return wall, rss

e, c = report("embedded"), report("cluster")
if e != c:
    for a, b in zip(e["results"], c["results"]):
        if a != b:
            print(f"differs: {a['id']}\n  embedded {a}\n  cluster  {b}", file=sys.stderr)
    sys.exit("run.sh: the cluster's results differ from the embedded engine's")
(we, re_), (wc, rc) = timing("embedded"), timing("cluster")
hwm = [int((out / f"executor{i}.hwm").read_text().strip()) / 1024 for i in (1, 2)]
work = [int((out / f"executor{i}.work").read_text().strip()) / 1024 for i in (1, 2)]
print(f"\n{rows:,} rows; {cores} cores; cluster: scheduler + 2 executors on loopback, {tasks} task(s) each; results equal rule by rule\n")
print("| engine | wall s | ns per row | peak RSS MB |")
print("|---|---:|---:|---:|")
print(f"| embedded | {we:.2f} | {we / rows * 1e9:.0f} | {re_:.0f} (pdq) |")
print(f"| Ballista | {wc:.2f} | {wc / rows * 1e9:.0f} | {rc:.0f} (client); executors {hwm[0]:.0f}, {hwm[1]:.0f} |")
print(f"\nratio Ballista / embedded: {wc / we:.2f}")
print(f"executors' work directories (shuffle files) after the check: {work[0]:.0f} MB, {work[1]:.0f} MB")
EOF

#!/usr/bin/env bash
# The ingest benchmark: a GB18030 CSV of resident records (5 million rows,
# about 1 GB) into typed columnar storage, as whole processes: `pdq ingest`
# (into its Delta lake, bad rows to quarantine) against DuckDB and Polars
# (to one Parquet file, bad values to NULL; see peers.py for how each reads
# GB18030). Each tool runs RUNS times, in alternating order, under
# `/usr/bin/time -v`; the table shows the medians of wall time and peak RSS,
# MB/s = input bytes / 10^6 / median wall seconds, and pdq's MB/s over the
# fastest peer's. Fails if a tool's row counts disagree with the generator's.
#
#   benches/ingest/run.sh                  # 5,000,000 rows, 3 runs each
#   ROWS=1000000 benches/ingest/run.sh     # smaller: compare peak RSS across sizes
#   ENCODING=utf-8 benches/ingest/run.sh   # the same records as UTF-8: no tool transcodes
#
# Environment:
#   ROWS     rows to generate (default 5000000) -> benches/data/ingest/residents-ROWS.csv
#   RUNS     runs per tool (default 3)
#   THREADS  threads for the peers (default: `nproc`); pdq uses all cores
#   ENCODING gb18030 (default) or utf-8: the UTF-8 file is the GB18030 one
#            transcoded once (-> residents-ROWS.utf8.csv, same sidecar), and
#            every tool reads it directly (peers.py --utf8)
#   PDQ      the pdq binary (default: ${CARGO_TARGET_DIR:-/work/target}/release/pdq);
#            when it is missing, only the peers run
# Results are also appended to benches/data/ingest/results.jsonl, one line per tool.
set -euo pipefail
BENCHES="$(cd "$(dirname "$0")/.." && pwd)"
cd "$BENCHES"

ROWS="${ROWS:-5000000}"
RUNS="${RUNS:-3}"
ENCODING="${ENCODING:-gb18030}"
THREADS="${THREADS:-$(nproc)}"
PDQ="${PDQ:-${CARGO_TARGET_DIR:-/work/target}/release/pdq}"
PY="$BENCHES/.venv/bin/python"
DATA="$BENCHES/data/ingest"
CSV="$DATA/residents-$ROWS.csv"
WS="$DATA/ws-$ROWS"
mkdir -p "$DATA"

if ! "$PY" -c 'import duckdb, polars' 2>/dev/null; then
  echo "setting up $BENCHES/.venv (duckdb, polars)" >&2
  python3 -m venv .venv
  .venv/bin/pip install -q duckdb polars
fi
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time" >&2
  apt-get update -qq >/dev/null && apt-get install -y -qq time >/dev/null
fi

# The data, once per size (the sidecar is written last).
if [ ! -f "$CSV.json" ]; then
  echo "generating $CSV" >&2
  "$PY" ingest/gen_csv.py --rows "$ROWS" --out "$CSV" >/dev/null
fi
PEER_FLAGS=()
case "$ENCODING" in
  gb18030) ;;
  utf-8)
    UTF8="$DATA/residents-$ROWS.utf8.csv"
    if [ ! -f "$UTF8.json" ]; then
      echo "transcoding $CSV to UTF-8 once" >&2
      iconv -f GB18030 -t UTF-8 "$CSV" > "$UTF8.part" && mv "$UTF8.part" "$UTF8"
      cp "$CSV.json" "$UTF8.json"
    fi
    CSV="$UTF8"; WS="$DATA/ws-$ROWS-utf8"; PEER_FLAGS=(--utf8) ;;
  *) echo "run.sh: ENCODING must be gb18030 or utf-8, not $ENCODING" >&2; exit 2 ;;
esac

# pdq's workspace: one dataset, the CSV as a full delivery.
mkdir -p "$WS/datasets/bench"
cat > "$WS/pdq.toml" <<'EOF'
[lake]
location = "lake"
EOF
{
  cat <<EOF
mode = "full"
[source]
kind = "file"
path = "$CSV"
encoding = "$ENCODING"
EOF
  for col in id:int64 xm:string gmsfhm:string xb:string csrq:date mz:string zz:string \
             lxdh:string djrq:timestamp je:'decimal(18,2)' bz:string; do
    printf '[[columns]]\nname = "%s"\ntype = "%s"\n' "${col%%:*}" "${col#*:}"
  done
} > "$WS/datasets/bench/residents.toml"

TOOLS="duckdb polars"
if [ -x "$PDQ" ]; then TOOLS="$TOOLS pdq"; else echo "no pdq binary at $PDQ: running the peers only" >&2; fi
OUT="$(mktemp -d)"
echo "rows: $ROWS   file: $CSV ($(du -h "$CSV" | cut -f1))   runs: $RUNS   timings: $OUT" >&2
cat "$CSV" > /dev/null  # every tool starts from the page cache

# measure TOOL RUN: one timed whole-process run.
measure() {
  local tool=$1 run=$2 cmd
  case "$tool" in
    pdq) rm -rf "$WS/lake"; cmd=("$PDQ" ingest -w "$WS" --dataset bench.residents) ;;
    *) cmd=("$PY" ingest/peers.py --peer "$tool" --csv "$CSV" --out "$DATA/out-$ROWS" --threads "$THREADS" "${PEER_FLAGS[@]}") ;;
  esac
  if ! /usr/bin/time -v -o "$OUT/$tool.$run.time" "${cmd[@]}" > "$OUT/$tool.$run.json" 2> "$OUT/$tool.$run.err"; then
    echo "run.sh: $tool failed:" >&2
    cat "$OUT/$tool.$run.err" >&2
    exit 1
  fi
}

for run in $(seq 1 "$RUNS"); do
  order=$TOOLS
  [ $((run % 2)) -eq 0 ] && order=$(echo "$TOOLS" | tr ' ' '\n' | tac | tr '\n' ' ')
  for tool in $order; do
    echo "run $run: $tool" >&2
    measure "$tool" "$run"
  done
done

"$PY" - "$OUT" "$CSV" "$RUNS" "$THREADS" "$DATA/results.jsonl" "$ENCODING" $TOOLS <<'EOF'
import datetime, json, os, re, statistics, sys
from pathlib import Path

out, csv, runs, threads, results = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
encoding, tools = sys.argv[6], sys.argv[7:]
side = json.load(open(csv + ".json", encoding="utf-8"))
mb = os.path.getsize(csv) / 1e6

def timing(path):
    text = path.read_text()
    h, m, s = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text).groups()
    kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return int(h or 0) * 3600 + int(m) * 60 + float(s), kib / 1024

def counts(tool, doc):
    """(rows written, bad rows, what the counts should be) from the tool's JSON."""
    if tool == "pdq":
        ds = doc["deliveries"]
        return sum(d["rows_landed"] for d in ds), sum(d["rows_quarantined"] for d in ds), \
            (side["good_rows"], side["bad_rows"])
    return doc["rows_written"], (doc["null_csrq"], doc["null_je"]), (side["rows"], (side["bad_csrq"], side["bad_je"]))

rows, problems = [], []
for tool in tools:
    per_run = []
    for r in range(1, runs + 1):
        wall, rss = timing(out / f"{tool}.{r}.time")
        doc = json.loads((out / f"{tool}.{r}.json").read_text())
        written, bad, expected = counts(tool, doc)
        if (written, bad) != expected:
            problems.append(f"{tool} run {r}: rows {written}, bad {bad}; expected {expected}")
        per_run.append({"wall_s": wall, "peak_rss_mib": round(rss, 1), "rows_written": written, "bad": bad,
                        "method": doc.get("method", "pdq ingest")})
    wall = statistics.median(p["wall_s"] for p in per_run)
    rss = statistics.median(p["peak_rss_mib"] for p in per_run)
    rows.append({"tool": tool, "rows": side["rows"], "input_mb": round(mb, 1), "runs": runs, "threads": threads,
                 "median_wall_s": round(wall, 3), "mb_per_s": round(mb / wall, 1), "median_peak_rss_mib": round(rss, 1),
                 "rows_written": per_run[-1]["rows_written"], "bad": per_run[-1]["bad"],
                 "method": per_run[-1]["method"], "encoding": encoding, "per_run": per_run,
                 "date": datetime.datetime.now().isoformat(timespec="seconds")})

print(f"\n{side['rows']:,} rows, {mb:,.0f} MB {encoding.upper()} CSV; {os.cpu_count()} cores; peers: {threads} threads; "
      f"median of {runs} run(s), whole processes\n")
print("| tool | median wall s | MB/s | peak RSS MiB | rows written | bad values |")
print("|---|---:|---:|---:|---:|---|")
for r in rows:
    bad = f"{r['bad']} quarantined rows" if r["tool"] == "pdq" else f"{r['bad'][0]} csrq + {r['bad'][1]} je → NULL"
    print(f"| {r['tool']} | {r['median_wall_s']:.2f} | {r['mb_per_s']:.1f} | {r['median_peak_rss_mib']:.0f} "
          f"| {r['rows_written']:,} | {bad} |")
peers = [r for r in rows if r["tool"] != "pdq"]
pdq = next((r for r in rows if r["tool"] == "pdq"), None)
if pdq and peers:
    best = max(peers, key=lambda r: r["mb_per_s"])
    print(f"\npdq / fastest peer ({best['tool']}), MB/s: {pdq['mb_per_s'] / best['mb_per_s']:.2f}")
for r in peers:
    print(f"\n{r['tool']}: {r['method']}")
with open(results, "a", encoding="utf-8") as f:
    for r in rows:
        f.write(json.dumps(r, ensure_ascii=False) + "\n")
print(f"\nappended to {results}")
for p in problems:
    print(f"run.sh: COUNTS DISAGREE: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF

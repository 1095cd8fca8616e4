#!/usr/bin/env python3
"""Compares two result JSONs (pdq's and the DuckDB peer's): every rule's
evaluated and failed must be equal. Prints a table; exits 1 on a difference."""
import json
import sys

a = json.load(open(sys.argv[1], encoding="utf-8"))
b = json.load(open(sys.argv[2], encoding="utf-8"))
bad = 0
if a["rows"] != b["rows"]:
    print(f"rows differ: {a['rows']} vs {b['rows']}")
    bad += 1
theirs = {r["id"]: r for r in b["results"]}
print(f"{'rule':<20} {'evaluated':>12} {'failed':>10}  agree")
for r in a["results"]:
    o = theirs.get(r["id"])
    ok = o is not None and (o["evaluated"], o["failed"]) == (r["evaluated"], r["failed"])
    bad += not ok
    other = f" (peer: {o['evaluated']} / {o['failed']})" if o and not ok else ""
    print(f"{r['id']:<20} {r['evaluated']:>12} {r['failed']:>10}  {'yes' if ok else 'NO'}{other}")
sys.exit(1 if bad else 0)

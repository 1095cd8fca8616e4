#!/usr/bin/env python3
"""Compares two rule-result JSONs, pdq's and the DuckDB peer's: the row
counts and every rule's `evaluated` and `failed` must be equal, and both must
have the same rules. Runs nothing. Prints a table; exits 1 on any
difference, 2 when a file cannot be read.

    compare.py pdq.json duckdb.json
"""
import json
import sys


def load(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise ValueError(f"{path}: not a rule-result JSON (no `results` list)")
    return doc


def compare(a, b):
    """(lines of the table, number of differences)."""
    lines, bad = [], 0
    rows_ok = a.get("rows") == b.get("rows")
    bad += not rows_ok
    lines.append(f"{'rule':<22} {'evaluated':>12} {'failed':>10}  agree")
    lines.append(f"{'(rows)':<22} {a.get('rows')!s:>12} {'':>10}  {'yes' if rows_ok else 'NO (peer: %s)' % b.get('rows')}")
    theirs = {r["id"]: r for r in b["results"]}
    mine = {r["id"] for r in a["results"]}
    for r in a["results"]:
        o = theirs.get(r["id"])
        ok = o is not None and (o["evaluated"], o["failed"]) == (r["evaluated"], r["failed"])
        bad += not ok
        note = "" if ok else (" (peer: missing)" if o is None else f" (peer: {o['evaluated']} / {o['failed']})")
        lines.append(f"{r['id']:<22} {r['evaluated']:>12} {r['failed']:>10}  {'yes' if ok else 'NO'}{note}")
    for rid in theirs.keys() - mine:
        bad += 1
        lines.append(f"{rid:<22} {'':>12} {'':>10}  NO (only in the peer's result)")
    return lines, bad


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        a, b = load(argv[1]), load(argv[2])
    except (OSError, ValueError) as e:
        print(f"compare.py: {e}", file=sys.stderr)
        return 2
    lines, bad = compare(a, b)
    print("\n".join(lines))
    print(f"{bad} difference(s)" if bad else "every count agrees")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

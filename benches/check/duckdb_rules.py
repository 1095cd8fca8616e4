#!/usr/bin/env python3
"""DuckDB peer for the rule-engine benchmark: the same rule file, the
contract's exact semantics (CONTRACT.md), as ONE SQL aggregate over the
Parquet file (plus one GROUP BY for `unique`). GB 11643 and GB 32100 are
spelled out in SQL. An independent implementation: compare.py checks that it
and pdq agree on every count.

  duckdb_rules.py --data people.parquet --rules rules.yaml --divisions gbt2260.csv --as-of 2026-11-22 [--threads 2]
  duckdb_rules.py --data people.parquet --floor --columns a,b,c     # decode only
"""
import argparse
import json
import sys
import time

import duckdb
import yaml

# Rust's char::is_whitespace set (what pdq trims), as DuckDB trim characters.
WS = "".join(chr(c) for c in [0x9, 0xA, 0xB, 0xC, 0xD, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000])


def q(s):
    return "'" + str(s).replace("'", "''") + "'"


def ident(c):
    return '"' + c.replace('"', '""') + '"'


class Sql:
    def __init__(self, markers, as_of, types):
        self.markers = markers
        self.as_of = as_of  # 'YYYY-MM-DD'
        self.types = types
        self.joins = {}

    def is_text(self, c):
        return self.types[c].upper().startswith("VARCHAR")

    def clean(self, c):
        col = ident(c)
        if not self.is_text(c):
            return f"CAST({col} AS VARCHAR)"
        t = f"trim({col}, {q(WS)})"
        markers = ", ".join(q(m.strip(WS)) for m in [""] + self.markers)
        return f"(CASE WHEN {t} IN ({markers}) THEN NULL ELSE {t} END)"

    def missing(self, c):
        return f"({self.clean(c)} IS NULL)" if self.is_text(c) else f"({ident(c)} IS NULL)"

    def division_join(self, expr, key):
        # Latest to_year per code (9999 = still in use), joined once per use.
        alias = f"dv_{key}"
        self.joins[alias] = expr
        return alias

    def resident_id_valid(self, v, alias):
        digits = " + ".join(f"TRY_CAST(substr({v},{i + 1},1) AS INTEGER)*{w}" for i, w in enumerate([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]))
        return (
            f"(length({v}) = 18 AND regexp_full_match({v}, '[0-9]{{17}}[0-9X]')"
            f" AND try_strptime(substr({v},7,8), '%Y%m%d') IS NOT NULL"
            f" AND substr({v},7,8) BETWEEN '19000101' AND {q(self.as_of.replace('-', ''))}"
            f" AND {alias}.last_year >= TRY_CAST(substr({v},7,4) AS INTEGER)"
            f" AND substr('10X98765432', (({digits}) % 11) + 1, 1) = substr({v},18,1))"
        )

    def uscc_valid(self, v, alias):
        alpha = "0123456789ABCDEFGHJKLMNPQRTUWXY"
        ws = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
        total = " + ".join(f"(strpos({q(alpha)}, substr({v},{i + 1},1)) - 1)*{w}" for i, w in enumerate(ws))
        org_alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        org = " + ".join(f"(strpos({q(org_alpha)}, substr({v},{9 + i},1)) - 1)*{w}" for i, w in enumerate([3, 7, 9, 10, 5, 8, 4, 2]))
        org_check = f"(CASE 11 - (({org}) % 11) WHEN 10 THEN 'X' WHEN 11 THEN '0' ELSE CAST(11 - (({org}) % 11) AS VARCHAR) END)"
        return (
            f"(length({v}) = 18 AND regexp_full_match({v}, '[0-9A-HJ-NP-RTUWXY]{{18}}')"
            f" AND {alias}.code IS NOT NULL"
            f" AND substr({q(alpha)}, ((31 - (({total}) % 31)) % 31) + 1, 1) = substr({v},18,1)"
            f" AND {org_check} = substr({v},17,1))"
        )

    def rule(self, r, n):
        """(evaluated_condition, failed_condition) for a row-level rule."""
        check = r["check"]
        c = r.get("column")
        if check == "not_null":
            return "TRUE", self.missing(c)
        if check == "expression":
            e = r["expr"]
            return f"(({e}) IS NOT NULL)", f"(({e}) = FALSE)"
        present = f"NOT {self.missing(c)}"
        v = self.clean(c)
        if check == "in_set":
            vals = ", ".join(q(x) for x in r["values"])
            return present, f"({present} AND {v} NOT IN ({vals}))"
        if check == "regex":
            return present, f"({present} AND NOT regexp_matches({v}, {q(r['pattern'])}))"
        if check == "range":
            lo, hi = r.get("min"), r.get("max")
            date = isinstance(lo, str) or isinstance(hi, str)
            val = (f"TRY_CAST({v} AS DATE)" if self.is_text(c) else f"CAST({ident(c)} AS DATE)") if date else (f"TRY_CAST({v} AS DOUBLE)" if self.is_text(c) else ident(c))
            lit = (lambda x: f"DATE {q(x)}") if date else (lambda x: repr(float(x)))
            conds = []
            if lo is not None:
                conds.append(f"{val} >= {lit(lo)}")
            if hi is not None:
                conds.append(f"{val} <= {lit(hi)}")
            return present, f"({present} AND NOT coalesce({' AND '.join(conds)}, FALSE))"
        if check == "cn_resident_id":
            alias = self.division_join(f"substr({v},1,6)", n)
            return present, f"({present} AND NOT coalesce({self.resident_id_valid(v, alias)}, FALSE))"
        if check == "cn_uscc":
            alias = self.division_join(f"substr({v},3,6)", n)
            return present, f"({present} AND NOT coalesce({self.uscc_valid(v, alias)}, FALSE))"
        if check == "cn_division_code":
            alias = self.division_join(v, n)
            return present, f"({present} AND NOT coalesce(regexp_full_match({v}, '[0-9]{{6}}') AND {alias}.code IS NOT NULL, FALSE))"
        raise SystemExit(f"duckdb_rules.py: check `{check}` is not implemented here")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--rules")
    ap.add_argument("--divisions", default="../shared/data/gbt2260-divisions.csv")
    ap.add_argument("--as-of", default="2026-11-22")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--floor", action="store_true", help="only decode the columns the rules use")
    ap.add_argument("--columns", help="with --floor: the columns to decode")
    a = ap.parse_args()
    t0 = time.time()
    con = duckdb.connect()
    con.execute(f"SET threads = {a.threads}")
    src = f"read_parquet({q(a.data)})"
    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
    if a.floor:
        cols = a.columns.split(",") if a.columns else list(types)
        parts = [f"sum(strlen({ident(c)}))" if types[c].upper().startswith("VARCHAR") else f"max({ident(c)})" for c in cols]
        row = con.execute(f"SELECT count(*), {', '.join(parts)} FROM {src}").fetchone()
        print(json.dumps({"rows": row[0], "elapsed_ms": int((time.time() - t0) * 1000)}))
        return
    spec = yaml.safe_load(open(a.rules, encoding="utf-8"))
    sql = Sql(spec.get("missing_values", []), a.as_of, types)
    aggs, row_rules, unique_rules = [], [], []
    for n, r in enumerate(spec["rules"]):
        if r["check"] == "unique":
            unique_rules.append(r)
            continue
        ev, fail = sql.rule(r, n)
        aggs.append(f"count(*) FILTER (WHERE {ev}) AS e{n}, count(*) FILTER (WHERE {fail}) AS f{n}")
        row_rules.append((n, r))
    joins = ""
    if sql.joins:
        con.execute(
            f"CREATE TEMP TABLE div AS SELECT lpad(CAST(code AS VARCHAR), 6, '0') AS code, max(coalesce(to_year, 9999)) AS last_year "
            f"FROM read_csv({q(a.divisions)}, comment='#', header=true, types={{'code': 'VARCHAR', 'to_year': 'INTEGER'}}) GROUP BY 1"
        )
        joins = " ".join(f"LEFT JOIN div {alias} ON {alias}.code = {expr}" for alias, expr in sql.joins.items())
    out = {"dataset": spec["dataset"], "results": []}
    row = con.execute(f"SELECT count(*) AS rows, {', '.join(aggs)} FROM {src} t {joins}").fetchone()
    out["rows"] = row[0]
    for k, (n, r) in enumerate(row_rules):
        out["results"].append({"id": r["id"], "evaluated": row[1 + 2 * k], "failed": row[2 + 2 * k]})
    for r in unique_rules:
        cols = r.get("columns") or [r["column"]]
        keep = " AND ".join(f"NOT {sql.missing(c)}" for c in cols)
        key = ", ".join(ident(c) for c in cols)
        ev, fail = con.execute(
            f"SELECT (SELECT count(*) FROM {src} WHERE {keep}), "
            f"(SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {src} WHERE {keep} GROUP BY {key} HAVING count(*) > 1))"
        ).fetchone()
        out["results"].append({"id": r["id"], "evaluated": ev, "failed": int(fail)})
    order = {r["id"]: i for i, r in enumerate(spec["rules"])}
    out["results"].sort(key=lambda x: order[x["id"]])
    out["elapsed_ms"] = int((time.time() - t0) * 1000)
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    sys.exit(main())

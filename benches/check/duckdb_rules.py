#!/usr/bin/env python3
"""DuckDB peer of `pdq check` for the rule-engine benchmark.

Runs a pdq rule file over a Parquet file with the exact result semantics of
CONTRACT.md ("Result semantics (exact)"), written independently in SQL:

* all row-level rules as ONE aggregate, `count(*) FILTER (WHERE ...)` per
  rule for `evaluated` and `failed`, over one scan of the file;
* each `unique` rule as its own GROUP BY;
* GB 11643 (resident ID) and GB 32100 / GB 11714 (USCC, organisation code)
  spelled out in SQL, the GB/T 2260 code list loaded into a DuckDB table.

compare.py checks that this and pdq agree on every count, so this script is
also an independent cross-check of the engine's semantics.

    duckdb_rules.py --data people.parquet --rules rules.yaml [--as-of 2026-11-22] [--threads 2]
    duckdb_rules.py --data people.parquet --floor [--rules rules.yaml | --columns a,b]

`--floor` only decodes the columns (those the rule file uses, or --columns):
the cost of reading the data, without any rule logic.

Output (stdout): JSON shaped like pdq's `--format json` (no samples).
Exit codes: 0 ran; 1 could not run (message on stderr).
"""
import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path

import duckdb
import yaml

HERE = Path(__file__).resolve().parent

# Rust's `char::is_whitespace` (Unicode White_Space): what pdq trims. DuckDB's
# one-argument trim() only strips ASCII spaces, so the set is passed explicitly.
WHITE_SPACE = "".join(
    chr(c)
    for c in [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
              0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
)

# GB 11643-1999: weights of the 17 digits (2^(18-i) mod 11) and the check
# character for each value of the weighted sum mod 11.
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"
# GB 32100-2015: alphabet (value = position) and weights (3^(i-1) mod 31).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
# GB 11714-1997: weights of the 8 body characters (0-9 = 0-9, A-Z = 10-35).
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

ROW_CHECKS = {"not_null", "regex", "in_set", "range", "cn_resident_id", "cn_uscc",
              "cn_division_code", "expression"}


class RuleError(Exception):
    """A rule this peer cannot run, with the rule id in the message."""


# ---- YAML as pdq reads it -----------------------------------------------------

class Yaml12Loader(yaml.SafeLoader):
    """PyYAML resolves YAML 1.1 scalars (yes/no/on/off as booleans, bare
    dates as date objects); pdq's parser is YAML 1.2, where those are text."""


Yaml12Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_rules(path):
    with open(path, encoding="utf-8") as f:
        spec = yaml.load(f, Loader=Yaml12Loader)
    if not isinstance(spec, dict) or not isinstance(spec.get("rules"), list):
        raise RuleError(f"{path}: expected a mapping with a `rules:` list")
    return spec


def scalar_text(v):
    """A YAML scalar as pdq's `Scalar::to_text` writes it (Rust Display)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if v.is_integer() and abs(v) < 1e17:
            return str(int(v))
        return repr(v)
    return str(v)


# ---- SQL helpers ----------------------------------------------------------------

def q(s):
    """A SQL string literal."""
    return "'" + str(s).replace("'", "''") + "'"


def ident(c):
    """A SQL identifier."""
    return '"' + c.replace('"', '""') + '"'


def translate_regex(pattern, rule_id):
    """Rust `regex` syntax → RE2 (DuckDB). Rust's \\d, \\s, \\w are Unicode
    classes, RE2's are ASCII: spell them as Unicode properties. \\b and \\B
    (Unicode word boundaries in Rust) have no RE2 equivalent."""
    word = r"\p{L}\p{M}\p{Nd}\p{Pc}"
    space = r"\t\n\x0B\f\r\x{85}\p{Z}"
    out, i, depth = [], 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            if e == "d":
                out.append(r"\p{Nd}")
            elif e == "D":
                out.append(r"\P{Nd}")
            elif e in "sw":
                body = space if e == "s" else word
                out.append(body if depth else f"[{body}]")
            elif e in "SW":
                if depth:
                    raise RuleError(f"rule `{rule_id}`: \\{e} inside a character class is not supported here")
                out.append(f"[^{space if e == 'S' else word}]")
            elif e in "bB":
                raise RuleError(f"rule `{rule_id}`: \\{e} (Unicode word boundary) is not supported here")
            else:
                out.append(c + e)
            i += 2
            continue
        if c == "[":
            if depth and not (i > 0 and pattern[i - 1] == "[") and pattern[i:i + 2] != "[:":
                raise RuleError(f"rule `{rule_id}`: nested character classes are not supported here")
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        out.append(c)
        i += 1
    return "".join(out)


class Query:
    """Builds the one aggregate for the row-level rules of a file."""

    def __init__(self, types, markers, as_of):
        self.types = types            # column -> DuckDB type
        self.markers = markers        # missing markers, untrimmed as written
        self.as_of = as_of            # datetime.date
        self.cleaned = {}             # column -> alias of its cleaned value
        self.lookups = {}             # alias -> SQL of the code looked up in `divisions`

    def column(self, c, rule_id):
        if c not in self.types:
            raise RuleError(f"rule `{rule_id}`: unknown column `{c}`; the columns are: {', '.join(self.types)}")
        return c

    def is_text(self, c):
        return self.types[c].upper() == "VARCHAR"

    def clean(self, c):
        """The value as checked: text trimmed of Unicode white space, NULL when
        missing; other types cast to text (only NULL is missing)."""
        if c not in self.cleaned:
            self.cleaned[c] = f"__v{len(self.cleaned)}"
        return self.cleaned[c]

    def clean_sql(self, c):
        if not self.is_text(c):
            return f"CAST({ident(c)} AS VARCHAR)"
        col = ident(c)
        # trim() with a character set is slow in DuckDB (~1 s per million
        # values here), so, like pdq, it only runs when the first or last
        # character is white space.
        ws = ", ".join(str(ord(ch)) for ch in WHITE_SPACE)
        t = (f"(CASE WHEN unicode({col}) IN ({ws}) OR unicode(right({col}, 1)) IN ({ws})"
             f" THEN trim({col}, {q(WHITE_SPACE)}) ELSE {col} END)")
        missing = ", ".join(q(m.strip(WHITE_SPACE)) for m in ["", *self.markers])
        return f"CASE WHEN {t} IN ({missing}) THEN NULL ELSE {t} END"

    def lookup(self, code_sql):
        """A LEFT JOIN to the GB/T 2260 table on `code_sql`; returns its alias."""
        for alias, sql in self.lookups.items():
            if sql == code_sql:
                return alias
        alias = f"__d{len(self.lookups)}"
        self.lookups[alias] = code_sql
        return alias

    # -- validity predicates over a cleaned, non-NULL value v --

    def resident_id_valid(self, v, allow_lowercase_x):
        last = "[0-9Xx]" if allow_lowercase_x else "[0-9X]"
        digits = " + ".join(f"(ascii(substr({v}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(ID_WEIGHTS))
        birth = f"substr({v}, 7, 8)"
        d = self.lookup(f"substr({v}, 1, 6)")
        return (
            f"(regexp_full_match({v}, '[0-9]{{17}}{last}')"
            # A real calendar date: strptime is lenient, so require the round trip.
            f" AND strftime(try_strptime({birth}, '%Y%m%d'), '%Y%m%d') = {birth}"
            f" AND {birth} BETWEEN '19000101' AND {q(self.as_of.strftime('%Y%m%d'))}"
            # Division in use in the birth year or later.
            f" AND {d}.last_year >= TRY_CAST(substr({v}, 7, 4) AS INTEGER)"
            f" AND substr({q(ID_CHECK)}, (({digits}) % 11) + 1, 1) = upper(substr({v}, 18, 1)))"
        )

    def uscc_valid(self, v):
        # Character values by position in the alphabet (strpos is the fastest
        # spelling found in DuckDB); the format regex has already excluded
        # characters outside it.
        def value(i):  # value of character i (1-based) in the USCC alphabet
            return f"(strpos({q(USCC_ALPHABET)}, substr({v}, {i}, 1)) - 1)"

        def org_value(i):  # GB 11714: 0-9, then A-Z as 10-35
            return f"(strpos({q(ORG_ALPHABET)}, substr({v}, {i}, 1)) - 1)"

        total = " + ".join(f"{value(i + 1)} * {w}" for i, w in enumerate(USCC_WEIGHTS))
        org = " + ".join(f"{org_value(9 + i)} * {w}" for i, w in enumerate(ORG_WEIGHTS))
        org_check = f"substr('0123456789X0', 11 - (({org}) % 11) + 1, 1)"  # 10 -> X, 11 -> 0
        d = self.lookup(f"substr({v}, 3, 6)")
        return (
            f"(regexp_full_match({v}, '[0-9A-HJ-NP-RTUWXY]{{18}}')"
            f" AND regexp_full_match(substr({v}, 3, 6), '[0-9]{{6}}')"
            f" AND {d}.code IS NOT NULL"
            f" AND substr({q(USCC_ALPHABET)}, ((31 - (({total}) % 31)) % 31) + 1, 1) = substr({v}, 18, 1)"
            f" AND {org_check} = substr({v}, 17, 1))"
        )

    def number(self, v):
        """pdq_to_number: a plain decimal number (Rust f64 grammar, no inf/nan), finite."""
        n = f"TRY_CAST({v} AS DOUBLE)"
        return (f"(CASE WHEN regexp_full_match({v}, '[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?')"
                f" AND isfinite({n}) THEN {n} END)")

    def text_date(self, v):
        """Arrow's text-to-date cast: YYYY-M[M]-D[D] or YYYYMMDD; longer text
        as a timestamp's date."""
        return (f"(CASE WHEN regexp_full_match({v}, '[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}')"
                f" THEN CAST(try_strptime({v}, '%Y-%m-%d') AS DATE)"
                f" WHEN regexp_full_match({v}, '[0-9]{{8}}') THEN CAST(try_strptime({v}, '%Y%m%d') AS DATE)"
                f" WHEN length({v}) > 10 THEN CAST(TRY_CAST({v} AS TIMESTAMP) AS DATE) END)")

    def rule(self, r):
        """(evaluated, failed) conditions of a row-level rule."""
        rid, check = r.get("id", "?"), r.get("check")
        if check == "expression":
            e = r.get("expr")
            if not isinstance(e, str) or not e.strip():
                raise RuleError(f"rule `{rid}`: `expression` needs `expr:`")
            return f"(({e}) IS NOT NULL)", f"(({e}) = FALSE)"
        c = self.column(r.get("column") or "", rid)
        # Text is checked trimmed, NULL when missing; for other types only
        # NULL is missing and the value is cast to text only where a check
        # compares text.
        present = f"({self.clean(c)} IS NOT NULL)" if self.is_text(c) else f"({ident(c)} IS NOT NULL)"
        if check == "not_null":
            return "TRUE", f"(NOT {present})"
        v = self.clean(c) if check != "range" else None
        if check == "in_set":
            values = r.get("values") or []
            if not values:
                raise RuleError(f"rule `{rid}`: `in_set` needs a non-empty `values:` list")
            valid = f"{v} IN ({', '.join(q(scalar_text(x)) for x in values)})"
        elif check == "regex":
            valid = f"regexp_matches({v}, {q(translate_regex(r['pattern'], rid))})"
        elif check == "range":
            valid = self.range_valid(r, c)
        elif check == "cn_resident_id":
            valid = self.resident_id_valid(v, bool(r.get("allow_lowercase_x", False)))
        elif check == "cn_uscc":
            valid = self.uscc_valid(v)
        elif check == "cn_division_code":
            d = self.lookup(v)
            in_use = (f"{d}.last_year >= {self.as_of.year}" if r.get("current_only")
                      else f"{d}.code IS NOT NULL")
            valid = f"(regexp_full_match({v}, '[0-9]{{6}}') AND {in_use})"
        else:
            raise RuleError(f"rule `{rid}`: check `{check}` is not implemented in the DuckDB peer")
        # Invalid, or not decidable (NULL), counts as failed.
        return present, f"({present} AND NOT coalesce({valid}, FALSE))"

    def range_valid(self, r, c):
        rid = r.get("id", "?")

        def bound(x):
            if x is None:
                return None
            if isinstance(x, (int, float)) and not isinstance(x, bool):
                return ("number", float(x))
            text = scalar_text(x).strip()
            try:
                return ("date", dt.datetime.strptime(text, "%Y-%m-%d").date())
            except ValueError:
                pass
            try:
                return ("number", float(text))
            except ValueError:
                raise RuleError(f"rule `{rid}`: range bound `{text}` is neither a number nor a date") from None

        lo, hi = bound(r.get("min")), bound(r.get("max"))
        kinds = {b[0] for b in (lo, hi) if b}
        if not kinds or len(kinds) > 1:
            raise RuleError(f"rule `{rid}`: `range` needs `min`/`max`, both numbers or both dates")
        dates = kinds == {"date"}
        t = self.types[c].upper()
        if self.is_text(c):
            v = self.clean(c)
            val = self.text_date(v) if dates else self.number(v)
        elif dates:
            val = f"CAST({ident(c)} AS DATE)"
        else:
            val = ident(c) if not t.startswith("DECIMAL") else f"CAST({ident(c)} AS DOUBLE)"
        lit = (lambda b: f"DATE {q(b[1].isoformat())}") if dates else (lambda b: repr(b[1]))
        conds = ([f"{val} >= {lit(lo)}"] if lo else []) + ([f"{val} <= {lit(hi)}"] if hi else [])
        return "(" + " AND ".join(conds) + ")"


# ---- running ---------------------------------------------------------------------

def parse_as_of(text):
    """The as-of date: the date as written in RFC 3339 or `YYYY-MM-DD[ HH:MM:SS]`
    (pdq uses the as-of time's own calendar date)."""
    m = re.match(r"^(\d{4}-\d{2}-\d{2})([T ].*)?$", text.strip())
    if not m:
        raise RuleError(f"invalid --as-of `{text}` (expected YYYY-MM-DD or RFC 3339)")
    return dt.date.fromisoformat(m.group(1))


def default_divisions():
    return HERE.parent.parent / "quality-rules/data/gbt2260-divisions.csv"


def connect(threads, memory_limit=None):
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {q(memory_limit)}")
    return con


def column_types(con, src):
    return {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}


def rule_columns(spec, types):
    """The data columns a rule file uses (for the floor)."""
    cols = []
    for r in spec["rules"]:
        named = [r.get("column")] + list(r.get("columns") or [])
        if r.get("check") == "expression":
            words = set(re.findall(r'"([^"]+)"|([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)', r.get("expr", "")))
            named += [w for pair in words for w in pair if w in types]
        cols += [c for c in named if c and c in types and c not in cols]
    return cols


def floor(con, src, cols, types):
    """Decodes each column and nothing more: string lengths, max of the rest."""
    parts = [f"sum(strlen({ident(c)}))" if types[c].upper() == "VARCHAR" else f"max({ident(c)})" for c in cols]
    row = con.execute(f"SELECT count(*){''.join(', ' + p for p in parts)} FROM {src}").fetchone()
    return {"rows": row[0], "columns": cols}


def load_divisions(con, path):
    """GB/T 2260 as `divisions(code, last_year)`: 9999 when some record of the
    code is still open, else its latest to_year."""
    con.execute(
        "CREATE TEMP TABLE divisions AS SELECT code, "
        "max(coalesce(to_year, 9999)) AS last_year "
        f"FROM read_csv({q(str(path))}, delim = ',', quote = '\"', comment = '#', header = true, auto_detect = false, "
        "columns = {'code': 'VARCHAR', 'name': 'VARCHAR', 'province': 'VARCHAR', "
        "'from_year': 'INTEGER', 'to_year': 'INTEGER'}) GROUP BY code"
    )


def status(r, evaluated, failed):
    """pass_rate and status as CONTRACT.md defines them (row-level rules)."""
    rate = 1.0 if evaluated == 0 else (evaluated - failed) / evaluated
    warn, fail = r.get("warn_below"), r.get("fail_below")
    if fail is None and warn is None:
        fail = 1.0
    if fail is not None and rate < fail:
        return rate, "fail"
    if warn is not None and rate < warn:
        return rate, "warn"
    return rate, "pass"


def check(con, src, spec, divisions, as_of):
    types = column_types(con, src)
    query = Query(types, [str(m) for m in spec.get("missing_values") or []], as_of)
    row_rules, unique_rules, aggs = [], [], []
    for r in spec["rules"]:
        if r.get("check") == "unique":
            unique_rules.append(r)
            continue
        if r.get("check") not in ROW_CHECKS:
            raise RuleError(f"rule `{r.get('id')}`: check `{r.get('check')}` is not implemented in the DuckDB peer")
        ev, fail = query.rule(r)
        n = len(row_rules)
        aggs.append(f"count(*) FILTER (WHERE {ev}) AS e{n}, count(*) FILTER (WHERE {fail}) AS f{n}")
        row_rules.append(r)
    if query.lookups:
        load_divisions(con, divisions)
    # Each column is cleaned once, in the inner projection; the joins look up
    # the cleaned codes.
    cleaned = "".join(f", {query.clean_sql(c)} AS {alias}" for c, alias in query.cleaned.items())
    inner = f"SELECT *{cleaned} FROM {src}"
    joins = "".join(f" LEFT JOIN divisions {a} ON {a}.code = {sql}" for a, sql in query.lookups.items())
    sql = f"SELECT count(*){''.join(', ' + a for a in aggs)} FROM ({inner}) t{joins}"
    row = con.execute(sql).fetchone()
    counts = {}
    for n, r in enumerate(row_rules):
        counts[r["id"]] = (row[1 + 2 * n], row[2 + 2 * n])
    for r in unique_rules:
        cols = r.get("columns") or ([r["column"]] if r.get("column") else [])
        if not cols:
            raise RuleError(f"rule `{r.get('id')}`: `unique` needs `columns:`")
        for c in cols:
            query.column(c, r.get("id"))
        # Evaluated: no key column missing. Failed: every row of a key that
        # occurs twice or more. Keys are compared as stored (not trimmed).
        keep = " AND ".join(f"({query.clean_sql(c)}) IS NOT NULL" if query.is_text(c)
                            else f"{ident(c)} IS NOT NULL" for c in cols)
        key = ", ".join(ident(c) for c in cols)
        ev, fail = con.execute(
            f"SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE n > 1), 0) FROM "
            f"(SELECT count(*) AS n FROM {src} WHERE {keep} GROUP BY {key})"
        ).fetchone()
        counts[r["id"]] = (int(ev), int(fail))
    results = []
    for r in spec["rules"]:
        ev, fail = counts[r["id"]]
        rate, st = status(r, ev, fail)
        results.append({"id": r["id"], "dimension": r.get("dimension"), "check": r.get("check"),
                        "column": r.get("column") or ",".join(r.get("columns") or []) or None,
                        "evaluated": int(ev), "failed": int(fail), "pass_rate": round(rate, 6), "status": st})
    return {"dataset": spec.get("dataset"), "rows": row[0], "as_of": as_of.isoformat(), "results": results}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="Parquet file")
    ap.add_argument("--rules", help="pdq rule file (YAML)")
    ap.add_argument("--divisions", default=str(default_divisions()), help="GB/T 2260 code list (CSV)")
    ap.add_argument("--as-of", default="2026-11-22", help="as-of date or time (default 2026-11-22)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="DuckDB threads (default: all cores)")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 2GB (default: DuckDB's)")
    ap.add_argument("--floor", action="store_true", help="only decode the columns")
    ap.add_argument("--columns", help="with --floor: the columns to decode (default: those the rules use)")
    ap.add_argument("--infer", action="store_true",
                    help="with --floor on CSV: let DuckDB infer the column types (its read_csv default) instead of reading text")
    a = ap.parse_args(argv)
    started = time.time()
    try:
        con = connect(a.threads, a.memory_limit)
        if a.data.endswith(".csv"):
            if not a.floor:
                raise RuleError("a CSV file is only supported with --floor (rules need typed columns)")
            # Text as written (the floor decodes, it does not infer types),
            # or with DuckDB's own type inference (--infer).
            if a.infer:
                src = f"read_csv({q(a.data)}, header = true)"
            else:
                src = f"read_csv({q(a.data)}, header = true, all_varchar = true)"
        else:
            src = f"read_parquet({q(a.data)})"
        if a.floor:
            types = column_types(con, src)
            if a.columns:
                cols = [c for c in a.columns.split(",") if c]
            elif a.rules:
                cols = rule_columns(load_rules(a.rules), types)
            else:
                cols = list(types)
            unknown = [c for c in cols if c not in types]
            if unknown:
                raise RuleError(f"unknown columns: {', '.join(unknown)}")
            out = floor(con, src, cols, types)
        else:
            if not a.rules:
                raise RuleError("--rules is required (or --floor)")
            out = check(con, src, load_rules(a.rules), a.divisions, parse_as_of(a.as_of))
    except (RuleError, duckdb.Error, OSError, yaml.YAMLError) as e:
        print(f"duckdb_rules.py: {e}", file=sys.stderr)
        return 1
    out["elapsed_ms"] = int((time.time() - started) * 1000)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

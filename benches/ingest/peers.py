#!/usr/bin/env python3
"""The peers of `pdq ingest`: converts the GB18030 CSV of gen_csv.py to one
typed Parquet file with DuckDB or Polars, one peer per invocation, and prints
what it measured as one JSON object:

    peers.py --peer duckdb|polars --csv residents.csv --out DIR [--threads N]

Target schema: id BIGINT, csrq DATE, djrq TIMESTAMP, je DECIMAL(18,2), the
rest VARCHAR; snappy compression (as pdq's Delta writer). Bad dates and
amounts become NULL (DuckDB TRY_CAST, Polars strict=False): the raw value is
lost, where pdq keeps the row whole in its quarantine.

Neither peer reads GB18030 offline: DuckDB 2.0's read_csv knows utf-8,
utf-16 and latin-1, and the rest is in its `encodings` extension, which is
downloaded at first use (no internet here; the PyPI repackaging
duckdb-ext-encodings stops at DuckDB 1.4.4, and that build rejects every
4-byte GB18030 sequence, e.g. 㛃 or 𠮷, as "not gb18030 encoded"); Polars
reads only utf8 / utf8-lossy. DuckDB is tried first with encoding='gb18030'
(autoinstall off: an installed extension is used, nothing is downloaded);
when that fails, and always for Polars, the input is transcoded to UTF-8
temporary files in DIR, one byte range per thread split at line ends (0x0A
is never part of a multi-byte GB18030 character), by Python's C codec in
parallel processes, and that time is included. `method` in the output says
what was done.

seconds: wall time of the work (transcoding + loading + writing), without
interpreter start-up and imports (run.sh times the whole process too).
mb_per_s: input bytes (10^6) / seconds. peak_rss_mib: ru_maxrss of this
process and of the largest child (the transcoders), in MiB.
"""
import argparse
import codecs
import json
import os
import resource
import time
from concurrent.futures import ProcessPoolExecutor

COLUMNS = ["id", "xm", "gmsfhm", "xb", "csrq", "mz", "zz", "lxdh", "djrq", "je", "bz"]


def transcode_range(src, dst, start, end, header):
    """GB18030 bytes [start, end) of src → UTF-8 file dst, `header` first."""
    dec = codecs.getincrementaldecoder("gb18030")()
    with open(src, "rb") as i, open(dst, "wb") as o:
        o.write(header)
        i.seek(start)
        left = end - start
        while left > 0:
            b = i.read(min(left, 1 << 18))
            left -= len(b)
            o.write(dec.decode(b).encode("utf-8"))
        o.write(dec.decode(b"", final=True).encode("utf-8"))
    return dst


def transcode(src, out_dir, parts):
    """Splits src at line ends into `parts` ranges, transcodes them in parallel;
    every part file starts with the header line. Returns the part paths."""
    size = os.path.getsize(src)
    with open(src, "rb") as f:
        header = f.readline()
        cuts = [0]
        for k in range(1, parts):
            f.seek(min(max(size * k // parts, cuts[-1], len(header)), size))
            f.readline()
            cuts.append(f.tell())
    cuts.append(size)
    utf8_header = header.decode("gb18030").encode("utf-8")
    paths = [os.path.join(out_dir, f".utf8-part{k}.csv") for k in range(parts)]
    with ProcessPoolExecutor(parts) as pool:
        jobs = [pool.submit(transcode_range, src, p, cuts[k], cuts[k + 1], utf8_header if k else b"")
                for k, p in enumerate(paths)]
        return [j.result() for j in jobs]


UTF8_INPUT = False  # --utf8: the input is already UTF-8 (the fair-to-peers variant)


def via_utf8(csv, out_dir, threads, load):
    """Transcodes csv to UTF-8 part files, calls load(parts), removes them.
    Returns (what was done, transcoding seconds)."""
    if UTF8_INPUT:
        load([csv])
        return "input already UTF-8 (no transcoding)", 0.0
    t = time.perf_counter()
    parts = transcode(csv, out_dir, threads)
    took = time.perf_counter() - t
    try:
        load(parts)
    finally:
        for p in parts:
            os.remove(p)
    return f"GB18030→UTF-8 by Python's codec in {threads} processes to temporary files ({took:.2f} s, included)", took


def duckdb_peer(csv, out, threads):
    import duckdb
    # type_pushdown off: DuckDB 2.0 pushes TRY_CAST into read_csv as a strict cast, which then
    # fails on the first bad date instead of giving NULL (duckdb/duckdb#23818, open).
    con = duckdb.connect(config={"threads": threads, "autoinstall_known_extensions": False,
                                 "disabled_optimizers": "type_pushdown"})
    cols = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in COLUMNS) + "}"
    query = """COPY (SELECT CAST(id AS BIGINT) AS id, xm, gmsfhm, xb, TRY_CAST(csrq AS DATE) AS csrq, mz, zz, lxdh,
                 TRY_CAST(djrq AS TIMESTAMP) AS djrq, TRY_CAST(je AS DECIMAL(18,2)) AS je, bz
               FROM read_csv({files}, header = true, delim = ',', quote = '"', escape = '"',
                             auto_detect = false, columns = {cols}{enc}))
               TO '{out}' (FORMAT parquet, COMPRESSION snappy)"""
    try:
        if UTF8_INPUT:
            raise duckdb.Error("UTF-8 input")
        con.execute(query.format(files=f"'{csv}'", cols=cols, enc=", encoding = 'gb18030'", out=out))
        return "duckdb read_csv(encoding = 'gb18030'), natively", None
    except duckdb.Error as e:
        reason = str(e).splitlines()[0]
    did, took = via_utf8(csv, os.path.dirname(out), threads,
                         lambda parts: con.execute(query.format(files=repr(parts), cols=cols, enc="", out=out)))
    return f"not natively ({reason}); {did}; then duckdb read_csv → COPY TO parquet", took


def polars_peer(csv, out, threads):
    os.environ["POLARS_MAX_THREADS"] = str(threads)
    import polars as pl

    def load(parts):
        (pl.scan_csv(parts, schema={c: pl.String for c in COLUMNS})
         .with_columns(pl.col("id").cast(pl.Int64),
                       pl.col("csrq").str.to_date("%Y-%m-%d", strict=False),
                       pl.col("djrq").str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False),
                       pl.col("je").cast(pl.Decimal(18, 2), strict=False))
         .sink_parquet(out, compression="snappy"))
    did, took = via_utf8(csv, os.path.dirname(out), threads, load)
    return f"polars reads utf8 only; {did}; then scan_csv → sink_parquet (streaming engine)", took


def count(peer, out):
    """(rows, NULL csrq, NULL je) in the written Parquet file, read back by the peer."""
    if peer == "duckdb":
        import duckdb
        return duckdb.sql(f"SELECT count(*), count(*) - count(csrq), count(*) - count(je) FROM '{out}'").fetchall()[0]
    import polars as pl
    return pl.scan_parquet(out).select(pl.len(), pl.col("csrq").null_count(), pl.col("je").null_count()).collect().row(0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer", choices=["duckdb", "polars"], required=True)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--out", required=True, help="directory for <peer>.parquet")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--utf8", action="store_true", help="the input is UTF-8: read it directly")
    a = ap.parse_args()
    global UTF8_INPUT
    UTF8_INPUT = a.utf8
    os.makedirs(a.out, exist_ok=True)
    csv, out = os.path.abspath(a.csv), os.path.abspath(os.path.join(a.out, f"{a.peer}.parquet"))
    if os.path.exists(out):
        os.remove(out)
    t = time.perf_counter()
    method, transcode_s = (duckdb_peer if a.peer == "duckdb" else polars_peer)(csv, out, a.threads)
    seconds = time.perf_counter() - t

    rss = {who: resource.getrusage(w).ru_maxrss / 1024  # KiB → MiB
           for who, w in (("self", resource.RUSAGE_SELF), ("children", resource.RUSAGE_CHILDREN))}
    rows, null_csrq, null_je = count(a.peer, out)  # after the clock and the RSS reading
    mb = os.path.getsize(csv) / 1e6
    print(json.dumps({
        "tool": a.peer, "method": method, "threads": a.threads, "input": csv, "input_mb": round(mb, 1),
        "seconds": round(seconds, 3), "transcode_seconds": transcode_s and round(transcode_s, 3),
        "mb_per_s": round(mb / seconds, 1), "rows_written": rows,
        "null_csrq": null_csrq, "null_je": null_je,
        "bad_values": "converted to NULL (raw value lost; pdq quarantines the row)",
        "peak_rss_mib": round(max(rss.values()), 1), "peak_rss_self_mib": round(rss["self"], 1),
        "peak_rss_children_mib": round(rss["children"], 1),
        "output": out, "output_mb": round(os.path.getsize(out) / 1e6, 1),
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()

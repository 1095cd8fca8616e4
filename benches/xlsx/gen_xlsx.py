"""Writes a people-like XLSX workbook of ROWS rows for the XLSX benchmark
(deterministic: the same bytes for the same ROWS; xlsxwriter in
constant-memory mode, so generating 1M rows stays small)."""
import random
import sys

import xlsxwriter

rows = int(sys.argv[1])
out = sys.argv[2]
rng = random.Random(20261206)
book = xlsxwriter.Workbook(out, {"constant_memory": True})
# A fixed creation time: the same bytes on every run.
book.set_properties({"created": __import__("datetime").datetime(2026, 12, 6)})
sheet = book.add_worksheet("people")
header = ["id", "name", "sex", "birth_date", "district", "phone", "income", "note"]
for c, h in enumerate(header):
    sheet.write_string(0, c, h)
districts = ["650102", "650103", "650104", "650105", "650106", "659001"]
for r in range(1, rows + 1):
    sheet.write_number(r, 0, r)
    sheet.write_string(r, 1, "居民%06d" % (r % 999983))
    sheet.write_string(r, 2, "男" if r % 2 else "女")
    sheet.write_string(r, 3, "19%02d-%02d-%02d" % (rng.randrange(40, 99), rng.randrange(1, 13), rng.randrange(1, 29)))
    sheet.write_string(r, 4, districts[r % len(districts)])
    if r % 97:
        sheet.write_string(r, 5, "138%08d" % rng.randrange(10**8))
    sheet.write_number(r, 6, -1 if r % 1000 == 7 else rng.randrange(0, 200000))
    if r % 5 == 0:
        sheet.write_string(r, 7, "备注")
book.close()

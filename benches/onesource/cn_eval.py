"""Scores a clustering of the Chinese benchmark (gen_onesource): pairwise
precision, recall and F1 over all records and over the records whose key is
valid after normalisation (these must be P = R = 1), and per corruption kind
the recall (the copy joined its person's authority record) and precision
(the copy's cluster holds no other person).

    python cn_eval.py CLUSTERS.csv DIR      # DIR holds dept*.csv
"""
import glob
import json
import sys

import pandas as pd

DAMAGED = {"id_typo", "missing_key"}


def pairs(sizes):
    return int((sizes * (sizes - 1) // 2).sum())


def pairwise(df):
    true = pairs(df.groupby("entity").size())
    pred = pairs(df.groupby("cluster").size())
    tp = pairs(df.groupby(["entity", "cluster"]).size())
    p = tp / pred if pred else 1.0
    r = tp / true if true else 1.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "tp": tp, "fp": pred - tp, "fn": true - tp}


def main(clusters_path, directory):
    recs = pd.concat([pd.read_csv(f, dtype=str, usecols=["rec_id", "entity", "corruption"])
                      for f in sorted(glob.glob(f"{directory}/dept*.csv"))])
    cl = pd.read_csv(clusters_path, dtype=str).rename(columns={"id": "rec_id"})
    df = recs.merge(cl, on="rec_id", how="left")
    if df["cluster"].isna().any():
        sys.exit(f"{clusters_path}: records without a cluster")
    out = {"records": len(df), "all": pairwise(df),
           "valid_keys": pairwise(df[~df["corruption"].isin(DAMAGED)])}
    # the authority record of each entity is rec in dept0 with corruption none: the first per entity
    auth = df.drop_duplicates("entity", keep="first").set_index("entity")["cluster"]
    df["joined"] = df["cluster"].values == auth.reindex(df["entity"]).values
    entities_per_cluster = df.groupby("cluster")["entity"].nunique()
    df["pure"] = df["cluster"].map(entities_per_cluster).values == 1
    copies = df[df.duplicated("entity", keep="first")]
    out["by_corruption"] = {
        k: {"copies": int(len(g)), "recall": float(g["joined"].mean()), "precision": float(g["pure"].mean())}
        for k, g in copies.groupby("corruption")}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main(*sys.argv[1:])

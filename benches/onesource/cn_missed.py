"""Which copies without a valid key (missing key, ID typo) a clustering left
out of their person, by whether the copy's address differs from the
authority's and by kind of name, with the share that have a "twin": another
person in dept0 with the same name, birth date and sex (then name + birth
date + sex cannot tell the two apart).

    python cn_missed.py CLUSTERS.csv DIR      # DIR holds dept*.csv
"""
import glob
import sys

import pandas as pd

clusters, d = sys.argv[1:]
cols = ["rec_id", "entity", "corruption", "name", "sex", "birth_date", "address"]
recs = pd.concat([pd.read_csv(f, dtype=str, usecols=cols, keep_default_na=False) for f in sorted(glob.glob(f"{d}/dept*.csv"))])
cl = pd.read_csv(clusters, dtype=str).rename(columns={"id": "rec_id"})
df = recs.merge(cl, on="rec_id", how="left")
auth = df.drop_duplicates("entity", keep="first").set_index("entity")
cp = df[df["corruption"].isin(["missing_key", "id_typo"])].copy()
cp["joined"] = cp["cluster"].values == auth["cluster"].reindex(cp["entity"]).values
cp["moved"] = cp["address"].values != auth["address"].reindex(cp["entity"]).values


def kind(n):
    if "·" in n:
        return "minority"
    return f"{len(n)}-char"


cp["kind"] = cp["name"].map(kind)
# namesakes: authority records (other persons) with the same name, birth date and sex
a = auth.reset_index()
twins = a.groupby(["name", "birth_date", "sex"]).size().rename("same_nbs")
cp = cp.join(twins, on=["name", "birth_date", "sex"])
cp["twin"] = cp["same_nbs"] > 1
print(cp.groupby(["corruption", "moved", "kind"]).agg(copies=("joined", "size"), recall=("joined", "mean"), with_twin=("twin", "mean")).to_string())
for c, g in cp.groupby("corruption"):
    print(c, "copies", len(g), "recall", round(g["joined"].mean(), 5))
print("keyless (missing_key + id_typo): copies", len(cp), "recall", round(cp["joined"].mean(), 5))

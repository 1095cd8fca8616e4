"""Pairwise precision, recall and F1 of a clustering against the truth, the
same code for every tool.

    python pairwise.py CLUSTERS.csv TRUTH.csv [TRUTH_B.csv]

CLUSTERS.csv: id,cluster (every record). TRUTH*.csv: rec_id,...,entity; with
two truth files (linking) only pairs across the files count, as in FEBRL4.
Prints JSON: precision, recall, f1, tp, fp, fn.
"""
import csv
import json
import sys
from collections import defaultdict


def pairs_by(groups, source, link):
    n = 0
    for members in groups.values():
        if link:
            a = sum(1 for m in members if source[m] == 0)
            n += a * (len(members) - a)
        else:
            n += len(members) * (len(members) - 1) // 2
    return n


def main(clusters_path, *truth_paths):
    entity, source = {}, {}
    for s, p in enumerate(truth_paths):
        with open(p, newline="") as f:
            for row in csv.DictReader(f):
                entity[row["rec_id"]] = row["entity"]
                source[row["rec_id"]] = s
    cluster = {}
    with open(clusters_path, newline="") as f:
        for row in csv.DictReader(f):
            cluster[row["id"]] = row["cluster"]
    missing = set(entity) - set(cluster)
    if missing:
        sys.exit(f"{clusters_path}: {len(missing)} records without a cluster, e.g. {next(iter(missing))}")
    link = len(truth_paths) == 2
    by_entity, by_cluster, by_both = defaultdict(list), defaultdict(list), defaultdict(list)
    for r in entity:
        by_entity[entity[r]].append(r)
        by_cluster[cluster[r]].append(r)
        by_both[(entity[r], cluster[r])].append(r)
    true_pairs = pairs_by(by_entity, source, link)
    predicted = pairs_by(by_cluster, source, link)
    tp = pairs_by(by_both, source, link)
    p = tp / predicted if predicted else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    print(json.dumps({"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": predicted - tp, "fn": true_pairs - tp}))


if __name__ == "__main__":
    main(*sys.argv[1:])

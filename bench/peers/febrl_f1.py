#!/usr/bin/env python3
"""Pairwise precision, recall and F1 of predicted FEBRL pairs, one scorer for every peer.

    python3 febrl_f1.py --left A.csv [--right B.csv] \
        --pred sinergi=pasangan.csv:left_rec_id:right_rec_id:match=MATCH \
        --pred splink=splink.csv:rec_id_l:rec_id_r [--json OUT.json]

Truth is in the ids, as FEBRL writes them: two records are the same person when their
`rec_id`s (`rec-17-org`, `rec-17-dup-0`) share the number. With --right (linkage) the true
pairs are (a, b) with a in A and b in B of one person; without it (deduplication) every
unordered pair of distinct records of one person in A. A predicted pair counts once however
often it is written (and in either order when deduplicating). `:COL=VALUE` keeps only rows
whose COL equals VALUE (Sinergi writes POSSIBLE pairs too).
"""
import argparse
import csv
import json
from collections import defaultdict


def ids(path):
    with open(path, newline="", encoding="utf-8") as f:
        return [r["rec_id"].strip() for r in csv.DictReader(f)]


def entity(rec_id):
    return rec_id.split("-")[1]


def truth_pairs(left, right):
    pairs = set()
    if right is None:
        by = defaultdict(list)
        for r in left:
            by[entity(r)].append(r)
        for members in by.values():
            members.sort()
            for i, x in enumerate(members):
                for y in members[i + 1:]:
                    pairs.add((x, y))
    else:
        by = defaultdict(list)
        for r in right:
            by[entity(r)].append(r)
        for l in left:
            for r in by.get(entity(l), []):
                pairs.add((l, r))
    return pairs


def load_pred(spec, dedup):
    name, rest = spec.split("=", 1)
    parts = rest.split(":")
    path, lcol, rcol = parts[0], parts[1], parts[2]
    flt = parts[3].split("=", 1) if len(parts) > 3 else None
    pred = set()
    with open(path, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if flt and r[flt[0]] != flt[1]:
                continue
            a, b = r[lcol].strip(), r[rcol].strip()
            if dedup and a > b:
                a, b = b, a
            pred.add((a, b))
    return name, pred


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--left", required=True)
    ap.add_argument("--right")
    ap.add_argument("--pred", action="append", required=True,
                    help="NAME=FILE:LEFT_ID_COL:RIGHT_ID_COL[:COL=VALUE]")
    ap.add_argument("--label", default="", help="printed before each line")
    ap.add_argument("--json")
    args = ap.parse_args()
    left = ids(args.left)
    right = ids(args.right) if args.right else None
    truth = truth_pairs(left, right)
    results = {}
    for spec in args.pred:
        name, pred = load_pred(spec, right is None)
        tp = len(pred & truth)
        p = tp / len(pred) if pred else 0.0
        r = tp / len(truth) if truth else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        results[name] = dict(true_pairs=len(truth), predicted=len(pred), correct=tp,
                             false_pos=len(pred) - tp, missed=len(truth) - tp,
                             precision=round(p, 5), recall=round(r, 5), f1=round(f, 5))
        print(f"{args.label}{name:<16} F1 {f:.4f}  precision {p:.4f}  recall {r:.4f}  "
              f"({tp} of {len(truth)} true pairs, {len(pred) - tp} false)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

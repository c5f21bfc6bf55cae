#!/usr/bin/env python3
"""Score predicted roster->registry links against the generator's truth (docs/TRUTH.md).

    python3 linkage_f1.py --truth DIR/truth/PBI_JK.csv [--injected DIR/truth/injected.csv --program PBI_JK] \
        --pred splink=links.csv:row_no:nik --pred sinergi=OUT/verdicts.csv:row_no:linked_nik

A row's prediction is correct when the predicted NIK equals true_nik; a row whose true_nik is
empty (a ghost) is correct when nothing is predicted. precision = correct links / links
predicted, recall = correct links / rows with a true_nik, F1 their harmonic mean. A roster row
missing from a prediction file counts as "no link". Prints one block per predictor and, with
--injected, rows right per injected kind of error.
"""
import argparse
import csv
import json
from collections import Counter, defaultdict


# verdicts.csv names its columns in the officer's language (crates/engine/src/layout.rs).
ALIASES = {
    "row_no": ("No",),
    "linked_nik": ("NIK di data kependudukan", "NIK in the population registry"),
}


def load_pred(spec):
    """NAME=FILE:ROW_COL:NIK_COL; a file with `;` and a BOM (Sinergi's verdicts.csv) reads too,
    and a NIK keeps only its digits (a cell written for Excel)."""
    name, rest = spec.split("=", 1)
    path, row_col, nik_col = rest.rsplit(":", 2)
    pred = {}
    with open(path, newline="", encoding="utf-8-sig") as f:
        first = f.readline()
        f.seek(0)
        reader = csv.DictReader(f, delimiter=";" if ";" in first else ",")
        header = reader.fieldnames or []

        def pick(col):
            for c in (col, *ALIASES.get(col, ())):
                if c in header:
                    return c
            raise SystemExit(f"{path}: no column {col!r}; header is {header}")

        rc, nc = pick(row_col), pick(nik_col)
        for r in reader:
            nik = "".join(ch for ch in (r[nc] or "") if ch.isdigit())
            pred[int(r[rc])] = nik
    return name, path, pred


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--truth", required=True)
    ap.add_argument("--injected")
    ap.add_argument("--program", default="PBI_JK")
    ap.add_argument("--pred", action="append", required=True, help="NAME=FILE:ROW_COL:NIK_COL")
    ap.add_argument("--json", help="also write the figures as JSON here")
    args = ap.parse_args()

    truth = {}
    with open(args.truth, newline="") as f:
        for r in csv.DictReader(f):
            truth[int(r["row_no"])] = r["true_nik"].strip()
    kinds = defaultdict(list)
    if args.injected:
        with open(args.injected, newline="") as f:
            for r in csv.DictReader(f):
                if r["program"] == args.program:
                    for k in r["injected"].split(";"):
                        kinds[k].append(int(r["row_no"]))

    results = {}
    for spec in args.pred:
        name, path, pred = load_pred(spec)
        c = Counter()
        wrong = []
        for row, t in truth.items():
            p = pred.get(row, "")
            if p:
                c["predicted"] += 1
            if t:
                c["true_links"] += 1
            if p and p == t:
                c["tp"] += 1
            elif p and t:
                c["wrong_person"] += 1
            elif p and not t:
                c["ghost_linked"] += 1
            elif t and not p:
                c["missed"] += 1
            else:
                c["ghost_unlinked"] += 1
            if p != t and len(wrong) < 10:
                wrong.append((row, t, p))
        extra = sorted(set(pred) - set(truth))
        prec = c["tp"] / c["predicted"] if c["predicted"] else 0.0
        rec = c["tp"] / c["true_links"] if c["true_links"] else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        acc = (c["tp"] + c["ghost_unlinked"]) / len(truth)
        res = dict(file=path, rows=len(truth), precision=round(prec, 5), recall=round(rec, 5),
                   f1=round(f1, 5), row_accuracy=round(acc, 5), rows_not_in_truth=len(extra), **c)
        if kinds:
            # Share of rows right (linked to the true person, or a ghost left unlinked).
            res["right_by_injected"] = {
                k: f"{sum(1 for r in rows if pred.get(r, '') == truth[r])}/{len(rows)}"
                for k, rows in sorted(kinds.items())
            }
        results[name] = res
        print(f"== {name}: {path}")
        print(f"   rows {len(truth)}  true links {c['true_links']}  predicted {c['predicted']}")
        print(f"   correct {c['tp']}  wrong person {c['wrong_person']}  missed {c['missed']}  "
              f"ghost linked {c['ghost_linked']}  ghost unlinked {c['ghost_unlinked']}")
        print(f"   precision {prec:.5f}  recall {rec:.5f}  F1 {f1:.5f}  row accuracy {acc:.5f}")
        if kinds:
            print("   rows right by injected kind: " + ", ".join(f"{k} {v}" for k, v in res["right_by_injected"].items()))
        print("   first errors (row, true, predicted): " + "; ".join(f"{r} {t or '-'} {p or '-'}" for r, t, p in wrong))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

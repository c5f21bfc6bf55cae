#!/usr/bin/env python3
"""Summary of one seed of run_accuracy.sh against issue 17's targets.

    python3 accuracy_report.py --work WORK/seedS [--splink-programs PBI_JK]

Reads WORK/eval.json (`sinergi eval --json`), WORK/f1-PROGRAM.json (linkage_f1.py) and the
`/usr/bin/time -v` logs of each command, and prints: identity-link P/R/F1 of both sides, DECEASED
P/R, living persons with their own NIK given DECEASED, P/R per reason code, and the end-to-end
times (ingest of the registries + validate against Splink), each with its target and PASS/MISS.
"""
import argparse
import glob
import json
import os
import re


def usage(log):
    """(wall seconds, CPU seconds) of a /usr/bin/time -v log."""
    text = open(log, encoding="utf-8", errors="replace").read()

    def num(pat):
        m = re.search(pat, text)
        return float(m.group(1)) if m else 0.0

    cpu = num(r"User time \(seconds\): ([\d.]+)") + num(r"System time \(seconds\): ([\d.]+)")
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", text)
    wall = 0.0
    if m:
        for part in m.group(1).split(":"):
            wall = wall * 60 + float(part)
    return wall, cpu


def mark(ok):
    return "PASS" if ok else "MISS"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--splink-programs", default="PBI_JK")
    ap.add_argument("--results")
    args = ap.parse_args()
    w = args.work
    ev = json.load(open(os.path.join(w, "eval.json")))
    print(f"== summary {w}: {ev['rows']} rows of {', '.join(ev['programs'])}, {ev['missing_rows']} missing")
    ln = ev["linked_nik"]
    print(f"   Sinergi identity link, all lists: P {ln['precision']:.5f}  R {ln['recall']:.5f}  "
          f"F1 {ln['f1']:.5f}  {mark(ln['f1'] >= 0.995)} (>= 0.995)")
    for p in args.splink_programs.split():
        f = os.path.join(w, f"f1-{p}.json")
        if not os.path.exists(f):
            continue
        r = json.load(open(f))
        s, k = r["sinergi"], r["splink"]
        print(f"   {p} identity link: Sinergi P {s['precision']:.5f} R {s['recall']:.5f} F1 {s['f1']:.5f} | "
              f"Splink P {k['precision']:.5f} R {k['recall']:.5f} F1 {k['f1']:.5f}  "
              f"{mark(s['f1'] >= k['f1'] and s['f1'] >= 0.995)} (>= Splink and >= 0.995)")
    d = ev["by_code"].get("DECEASED", {"precision": 1, "recall": 1, "tp": 0, "fp": 0, "fn_": 0})
    print(f"   DECEASED P {d['precision']:.5f} R {d['recall']:.5f} (TP {d['tp']} FP {d['fp']} FN {d['fn_']})  "
          f"{mark(d['precision'] == 1.0 and d['recall'] >= 0.998)} (P = 1, R >= 0.998)")
    dl = ev.get("deceased_living_own_nik")
    print(f"   living persons with their own NIK given DECEASED: {dl}  {mark(dl == 0)} (0)")
    worst = []
    for code, sc in sorted(ev["by_code"].items()):
        ok = sc["precision"] >= 0.99 and sc["recall"] >= 0.99
        if not ok:
            worst.append(code)
        print(f"   {code:<26} P {sc['precision']:.5f} R {sc['recall']:.5f} "
              f"(TP {sc['tp']} FP {sc['fp']} FN {sc['fn_']})  {mark(ok)}")
    print(f"   every code P and R >= 0.99: {mark(not worst)}" + (f" (below: {', '.join(worst)})" if worst else ""))
    # End to end: the registries' ingest + validate, against Splink on the same files.
    regs = [l for l in glob.glob(os.path.join(w, "store/problems/*.log")) if "roster-" not in os.path.basename(l)]
    ing = [usage(l) for l in regs]
    iw, ic = sum(x[0] for x in ing), sum(x[1] for x in ing)
    pen = [usage(l) for l in regs if "dukcapil-penduduk" in l]
    print(f"   ingest of {len(regs)} registries: wall {iw:.1f} s, CPU {ic:.1f} s"
          + (f" (penduduk: wall {pen[0][0]:.1f} s, CPU {pen[0][1]:.1f} s)" if pen else ""))
    for p in args.splink_programs.split():
        v, sp = os.path.join(w, f"validate-{p}.log"), os.path.join(w, f"splink-{p}.log")
        if not (os.path.exists(v) and os.path.exists(sp)):
            continue
        vw, vc = usage(v)
        sw, sc = usage(sp)
        ew, ec = iw + vw, ic + vc
        print(f"   {p} end to end: Sinergi ingest + validate wall {ew:.1f} s (validate {vw:.1f}), CPU {ec:.1f} s | "
              f"Splink wall {sw:.1f} s, CPU {sc:.1f} s | ratio wall {sw / ew:.2f}x, CPU {sc / ec:.2f}x")


if __name__ == "__main__":
    main()

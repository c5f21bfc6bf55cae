#!/usr/bin/env python3
"""Link a Sinergi synthetic roster to the Dukcapil registry with Splink 4 (DuckDB backend).

    python3 splink_link.py --data DIR --program PBI_JK --out links.csv [--threshold 0.5]

Reads DIR/dukcapil/penduduk.csv (the registry) and DIR/rosters/<PROGRAM>.xlsx (pandas +
openpyxl), cleans both the way an analyst would (upper case, punctuation and common titles
dropped from names, birth dates parsed from Excel dates or the four text formats, regency from
the village code), trains a Fellegi-Sunter model the way Splink's tutorials do (lambda from
deterministic rules, u by random sampling, m by EM on two blocking rules), predicts above a
threshold and keeps the best match per roster row.

Writes OUT with columns row_no,nik,match_probability,match_weight (nik empty: no link) and
prints one JSON line of phase timings to stdout.
"""
import argparse
import json
import re
import sys
import time

import duckdb
import pandas as pd
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
import splink.comparison_library as cl

MONTHS = {
    "JANUARI": 1, "FEBRUARI": 2, "MARET": 3, "APRIL": 4, "MEI": 5, "JUNI": 6, "JULI": 7,
    "AGUSTUS": 8, "SEPTEMBER": 9, "OKTOBER": 10, "NOVEMBER": 11, "DESEMBER": 12,
}
TITLES = {"H", "HJ", "DRS", "DRA", "DR", "IR", "PROF", "KH"}


def clean_name(s):
    if not isinstance(s, str):
        return None
    s = s.upper().split(",")[0]  # ", S.PD" / ", A.MD" suffix titles
    s = s.replace("’", "'").replace("'", "")
    toks = [t for t in re.split(r"[^A-Z]+", s) if t and t not in TITLES]
    return " ".join(toks) or None


def parse_dob(v):
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if hasattr(v, "strftime"):
        return v.strftime("%Y-%m-%d")
    s = str(v).strip().upper()
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?: 00:00:00)?", s)
    if m:
        return f"{m[1]}-{m[2]}-{m[3]}"
    m = re.fullmatch(r"(\d{1,2})[-/](\d{1,2})[-/](\d{4})", s)
    if m:
        return f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}"
    m = re.fullmatch(r"(\d{1,2}) ([A-Z]+) (\d{4})", s)
    if m and m[2] in MONTHS:
        return f"{m[3]}-{MONTHS[m[2]]:02d}-{int(m[1]):02d}"
    return None


def clean_nik(v):
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, float):
        v = int(v)
    s = re.sub(r"\s+", "", str(v))
    return s or None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--program", default="PBI_JK")
    ap.add_argument("--out", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--u-max-pairs", type=float, default=1e7)
    ap.add_argument("--db", default=":memory:")
    args = ap.parse_args()

    t = {}
    t0 = time.perf_counter()
    con = duckdb.connect(args.db)
    # Registry: read_csv copes with the CRLF, the quoting and the quoted newlines.
    con.execute(
        f"""
        CREATE OR REPLACE TABLE raw_reg AS SELECT * FROM read_csv('{args.data}/dukcapil/penduduk.csv',
            delim='|', header=true, quote='"', all_varchar=true)
        """
    )
    # Name cleaning in SQL (same rules as clean_name, vectorised, no Python UDF over 1M rows).
    titles = ", ".join(f"'{x}'" for x in sorted(TITLES))
    con.execute(
        f"""
        CREATE OR REPLACE TABLE registry AS
        SELECT NIK AS unique_id, NIK AS nik,
               nullif(array_to_string(list_filter(string_split(trim(regexp_replace(
                   regexp_replace(split_part(upper(NAMA_LGKP), ',', 1), '[’'']', '', 'g'),
                   '[^A-Z]+', ' ', 'g')), ' '), lambda x: x <> '' AND x NOT IN ({titles})), ' '), '') AS name,
               strftime(strptime(TGL_LHR, '%d-%m-%Y'), '%Y-%m-%d') AS dob,
               lpad(NO_PROP, 2, '0') || lpad(NO_KAB, 2, '0') AS regency
        FROM raw_reg
        """
    )
    con.execute("DROP TABLE raw_reg")
    t["read_registry_s"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    df = pd.read_excel(f"{args.data}/rosters/{args.program}.xlsx", engine="openpyxl", dtype=object)
    roster = pd.DataFrame(
        {
            "unique_id": df["No"].astype(int).astype(str),
            "nik": df["NIK"].map(clean_nik),
            "name": df["Nama KPM"].map(clean_name),
            "dob": df["Tanggal Lahir"].map(parse_dob),
            "regency": df["Kode Desa"].map(lambda v: str(v).strip()[:4] if isinstance(v, str) else None),
        }
    )
    con.register("roster_df", roster)
    con.execute("CREATE OR REPLACE TABLE roster AS SELECT * FROM roster_df")
    t["read_roster_s"] = time.perf_counter() - t1
    n_roster = len(roster)
    n_reg = con.execute("SELECT count(*) FROM registry").fetchone()[0]

    t2 = time.perf_counter()
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        blocking_rules_to_generate_predictions=[
            block_on("nik"),
            block_on("dob"),
            block_on("substr(nik, 1, 12)"),   # region + birth date digits
            block_on("substr(nik, 7, 10)"),   # birth date + serial digits
            block_on("substr(name, 1, 4)", "regency"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("name", [0.95, 0.88, 0.7]),
            cl.ExactMatch("dob"),
            cl.LevenshteinAtThresholds("nik", [1, 2]),
            cl.ExactMatch("regency"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    db_api = DuckDBAPI(con)
    linker = Linker(["roster", "registry"], settings, db_api, input_table_aliases=["roster", "registry"],
                    set_up_basic_logging=False)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nik"), block_on("name", "dob")], recall=0.85
    )
    tu = time.perf_counter()
    linker.training.estimate_u_using_random_sampling(max_pairs=args.u_max_pairs, seed=1)
    t["u_sampling_s"] = time.perf_counter() - tu
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("substr(name, 1, 4)", "regency"))
    t["train_s"] = time.perf_counter() - t2

    t3 = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=args.threshold)
    # Best match per roster row (link_only: the roster side is the left or the right record).
    best = con.execute(
        f"""
        WITH p AS (
            SELECT CASE WHEN source_dataset_l = 'roster' THEN unique_id_l ELSE unique_id_r END AS row_no,
                   CASE WHEN source_dataset_l = 'roster' THEN unique_id_r ELSE unique_id_l END AS nik,
                   match_probability, match_weight
            FROM {pred.physical_name})
        SELECT row_no, nik, match_probability, match_weight FROM p
        QUALIFY row_number() OVER (PARTITION BY row_no ORDER BY match_weight DESC, nik) = 1
        """
    ).df()
    n_pairs = con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchone()[0]
    t["predict_s"] = time.perf_counter() - t3

    out = roster[["unique_id"]].rename(columns={"unique_id": "row_no"}).merge(best, on="row_no", how="left")
    out["row_no"] = out["row_no"].astype(int)
    out = out.sort_values("row_no")
    out.to_csv(args.out, index=False, float_format="%.6f")
    t["total_s"] = time.perf_counter() - t0
    t.update(roster_rows=n_roster, registry_rows=n_reg, pairs_above_threshold=int(n_pairs),
             linked_rows=int(best.shape[0]), threshold=args.threshold, u_max_pairs=args.u_max_pairs,
             splink=__import__("splink").__version__, duckdb=duckdb.__version__)
    print(json.dumps({k: (round(v, 2) if isinstance(v, float) else v) for k, v in t.items()}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

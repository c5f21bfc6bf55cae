#!/usr/bin/env python3
"""Load a Dukcapil population file into a DuckDB file database with read_csv.

    python3 duckdb_ingest.py FILE DBFILE [--auto]

The peer of `sinergi ingest --source dukcapil-penduduk FILE`: one CREATE TABLE AS SELECT from
read_csv (delim '|', header, quoted fields with '|' and newlines, CRLF), all columns VARCHAR
unless --auto (type sniffing). No validation, no rejects file, no quality report. Prints one
JSON line: rows, seconds, DuckDB version, thread count.
"""
import json
import os
import sys
import time

import duckdb


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    auto = "--auto" in sys.argv
    if len(args) != 2:
        raise SystemExit(__doc__)
    path, db = args
    for p in (db, db + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    t0 = time.perf_counter()
    con = duckdb.connect(db)
    typing = "" if auto else ", all_varchar=true"
    con.execute(
        f"CREATE TABLE penduduk AS SELECT * FROM read_csv('{path}', delim='|', header=true, quote='\"'{typing})"
    )
    con.execute("CHECKPOINT")
    rows = con.execute("SELECT count(*) FROM penduduk").fetchone()[0]
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.close()
    dt = time.perf_counter() - t0
    print(json.dumps(dict(rows=rows, seconds=round(dt, 2), duckdb=duckdb.__version__, threads=threads,
                          all_varchar=not auto, db_bytes=os.path.getsize(db))))


if __name__ == "__main__":
    main()

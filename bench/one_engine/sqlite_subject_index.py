"""The audit log's subject index on SQLite, in isolation (docs/BENCHMARKS.md, "One engine",
second session): a log of N entries with the schema of crates/server/src/audit_sql.rs (WAL,
synchronous=FULL), then 20 commits of 2,048 entries, with and without the per-append index on
subject_hash (a keyed hash: a random key). Prints CPU and wall time per commit.

    python3 sqlite_subject_index.py [N=400000]
"""
import os
import sqlite3
import sys
import tempfile
import time


def run(path, subject_index, n0, chunks=20, k=2048):
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=FULL")
    c.execute("PRAGMA cache_size=-65536")
    c.execute("PRAGMA wal_autocheckpoint=16384")
    c.execute(
        "CREATE TABLE audit_entry (seq INTEGER PRIMARY KEY, at_us BIGINT, node TEXT, "
        "request_id TEXT, client TEXT, service TEXT, purpose TEXT, pks_id TEXT, user_id TEXT, "
        "issue TEXT, decision TEXT, clause TEXT, subject_hash BLOB, status SMALLINT, "
        "latency_us BIGINT, request_hash BLOB, prev_hash BLOB, hash BLOB)"
    )
    if subject_index:
        c.execute(
            "CREATE INDEX audit_entry_subject ON audit_entry (subject_hash, seq) "
            "WHERE subject_hash IS NOT NULL"
        )
    c.execute("CREATE INDEX audit_entry_client_at ON audit_entry (client, at_us)")
    c.execute("CREATE INDEX audit_entry_pks_at ON audit_entry (pks_id, at_us)")
    seq = 0

    def batch():
        nonlocal seq
        rows = []
        for _ in range(k):
            seq += 1
            rows.append((
                seq, 1_700_000_000_000_000 + seq, "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA", "bench-1",
                "ID/GOV/KEMENSOS/PUSAT", "ID/GOV/KEMENDAGRI-DUKCAPIL/DATA/fakta-penduduk-batch",
                "VALIDASI_BANSOS", "PKS-1", "petugas", "", "ALLOWED", "PKS-1#grant",
                os.urandom(32), 200, 1234, os.urandom(32), os.urandom(32), os.urandom(32),
            ))
        c.execute("BEGIN IMMEDIATE")
        c.executemany("INSERT INTO audit_entry VALUES (" + ",".join("?" * 18) + ")", rows)
        c.execute("COMMIT")

    while seq < n0:
        batch()
    cpu, wall = time.process_time(), time.time()
    for _ in range(chunks):
        batch()
    return (time.process_time() - cpu) / chunks * 1e3, (time.time() - wall) / chunks * 1e3


if __name__ == "__main__":
    n0 = int(sys.argv[1]) if len(sys.argv) > 1 else 400_000
    for si in (True, False):
        with tempfile.TemporaryDirectory() as d:
            cpu, wall = run(os.path.join(d, "audit.db"), si, n0)
        print(f"subject index {si}: per 2,048-entry commit: CPU {cpu:.1f} ms, wall {wall:.1f} ms")

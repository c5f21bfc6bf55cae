#!/usr/bin/env bash
# Ingestion of a 10M-row Dukcapil population file: sinergi (SQLite, PostgreSQL) vs DuckDB,
# in one run, alternating, REPS times. See bench/peers/README.md.
#   bench/peers/run_ingest.sh [WORK=/tmp/sinergi-peers/ingest] [REPS=1]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
PEERS_ROOT=${PEERS_ROOT:-/tmp/sinergi-peers}
WORK=${1:-$PEERS_ROOT/ingest}
REPS=${2:-1}
PEOPLE=${PEOPLE:-10000000}
SINERGI=${SINERGI:-$REPO/target/release/sinergi}
PG_ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-sinergi_peers_ingest}
PG_URL=${PG_ADMIN%/*}/$PG_DB
mkdir -p "$WORK"
DATA=$WORK/data
RESULTS=$WORK/results.txt
synth_if_missing "$PEOPLE" "$DATA"
FILE=$DATA/dukcapil/penduduk.csv
cd "$WORK"
{ echo "# $(date -u +%FT%TZ) $(nproc) cores; $(ls -l "$FILE" | awk '{print $5}') bytes; $("$SINERGI" --version 2>/dev/null); binary built from ${SINERGI_COMMIT:-?} (checkout HEAD $(git -C "$REPO" rev-parse --short HEAD))"; } | tee -a "$RESULTS"
for rep in $(seq 1 "$REPS"); do
  rm -rf "$WORK/sqlite" && mkdir -p "$WORK/sqlite"
  timed "sinergi-sqlite#$rep" "$WORK/sqlite.log" \
    "$SINERGI" ingest --db "$WORK/sqlite/sinergi.db" --source dukcapil-penduduk \
      --rejects "$WORK/sqlite/rejects.csv" --warnings "$WORK/sqlite/warnings.csv" "$FILE"
  timed "duckdb-varchar#$rep" "$WORK/duckdb.log" "$PEERS_ROOT/venv-duckdb/bin/python" "$HERE/duckdb_ingest.py" "$FILE" "$WORK/penduduk.duckdb"
  psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB" -c "CREATE DATABASE $PG_DB" >/dev/null
  timed "sinergi-postgres#$rep" "$WORK/postgres.log" \
    "$SINERGI" ingest --db "$PG_URL" --source dukcapil-penduduk \
      --rejects "$WORK/pg-rejects.csv" --warnings "$WORK/pg-warnings.csv" "$FILE"
  if [ "${DUCKDB_AUTO:-0}" = 1 ]; then
    timed "duckdb-auto#$rep" "$WORK/duckdb-auto.log" "$PEERS_ROOT/venv-duckdb/bin/python" "$HERE/duckdb_ingest.py" "$FILE" "$WORK/penduduk-auto.duckdb" --auto
  fi
done
psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $PG_DB" >/dev/null
rm -f "$WORK/penduduk.duckdb" "$WORK/penduduk-auto.duckdb"

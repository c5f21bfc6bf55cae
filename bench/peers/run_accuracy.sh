#!/usr/bin/env bash
# Accuracy and end-to-end time of Sinergi against Splink on high-anomaly worlds (issue 17's
# "Done when"), in one script: per seed, `sinergi synth --anomalies high` (the error habits and
# the national NIK density), every source and roster ingested into a fresh SQLite store, every
# programme validated, `sinergi eval` against the truth, Splink on the same registry and the
# PBI_JK list, one scorer for both links, and a summary against the targets. See
# bench/peers/README.md.
#   bench/peers/run_accuracy.sh [WORK=/tmp/sinergi-peers/accuracy]
#   SEEDS="7 11" PEOPLE=1000000 SPLINK_PROGRAMS=PBI_JK KEEP=0 ...
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
PEERS_ROOT=${PEERS_ROOT:-/tmp/sinergi-peers}
WORK=${1:-$PEERS_ROOT/accuracy}
PEOPLE=${PEOPLE:-1000000}
SEEDS=${SEEDS:-"7 11"}
PROGRAMS=${PROGRAMS:-"PKH BPNT PBI_JK BLT_DD"}
SPLINK_PROGRAMS=${SPLINK_PROGRAMS:-PBI_JK}
SINERGI=${SINERGI:-$REPO/target/release/sinergi}
THRESHOLD=${THRESHOLD:-0.5}
PY=${PY:-$PEERS_ROOT/venv/bin/python}
mkdir -p "$WORK"
RESULTS=$WORK/results.txt
echo "# $(date -u +%FT%TZ) $(nproc) cores; $PEOPLE people; seeds $SEEDS; anomalies high; binary built from ${SINERGI_COMMIT:-?} (checkout HEAD $(git -C "$REPO" rev-parse --short HEAD))" | tee -a "$RESULTS"
for seed in $SEEDS; do
  W=$WORK/seed$seed
  DATA=$W/data
  mkdir -p "$W"
  if [ ! -f "$DATA/manifest.json" ]; then
    timed "synth seed $seed" "$W/synth.log" \
      "$SINERGI" synth --people "$PEOPLE" --seed "$seed" --anomalies high --out "$DATA"
  fi
  echo "## seed $seed" | tee -a "$RESULTS"
  # Sinergi: every source and roster into a fresh store, each ingest timed.
  DB=$W/store/sinergi.db
  rm -rf "$W/store" "$W/out" && mkdir -p "$W/store/problems" "$W/out"
  ingest() { # SOURCE FILE
    timed "ingest $1 $(basename "$2")" "$W/store/problems/$1-$(basename "$2").log" \
      "$SINERGI" ingest --db "$DB" --source "$1" \
        --rejects "$W/store/problems/$1-$(basename "$2")-rejects.csv" \
        --warnings "$W/store/problems/$1-$(basename "$2")-warnings.csv" "$2"
  }
  ingest dukcapil-penduduk "$DATA/dukcapil/penduduk.csv"
  ingest dukcapil-kematian "$DATA/dukcapil/kematian.csv"
  ingest dtsen "$DATA/dtsen/dtsen.csv"
  ingest bpjs-kesehatan "$DATA/bpjs-kesehatan/peserta.jsonl"
  ingest bkn-asn "$DATA/bkn/asn.xlsx"
  ingest tni-polri "$DATA/tni-polri/personel.csv"
  ingest bpjs-ketenagakerjaan-upah "$DATA/bpjs-ketenagakerjaan/upah.csv"
  for r in "$DATA"/rosters/*.xlsx; do ingest roster "$r"; done
  for p in $PROGRAMS; do
    timed "sinergi-validate $p" "$W/validate-$p.log" \
      "$SINERGI" validate --db "$DB" --program "$p" --list "$DATA/rosters/$p.xlsx" \
        --format csv --out "$W/out/$p"
  done
  "$SINERGI" eval --truth "$DATA/truth" --verdicts "$W/out" --json >"$W/eval.json"
  "$SINERGI" eval --truth "$DATA/truth" --verdicts "$W/out" | tee -a "$RESULTS"
  # Splink on the same registry file and lists; one scorer for both sides.
  for p in $SPLINK_PROGRAMS; do
    timed "splink $p" "$W/splink-$p.log" \
      "$PY" "$HERE/splink_link.py" --data "$DATA" --program "$p" --out "$W/splink-$p.csv" --threshold "$THRESHOLD"
    grep '^{' "$W/splink-$p.log" | tee -a "$RESULTS"
    python3 "$HERE/linkage_f1.py" --truth "$DATA/truth/$p.csv" --injected "$DATA/truth/injected.csv" \
      --program "$p" --pred "sinergi=$W/out/$p/verdicts.csv:row_no:linked_nik" \
      --pred "splink=$W/splink-$p.csv:row_no:nik" --json "$W/f1-$p.json" | tee -a "$RESULTS"
  done
  python3 "$HERE/accuracy_report.py" --work "$W" --results "$RESULTS" --splink-programs "$SPLINK_PROGRAMS" \
    | tee -a "$RESULTS"
  [ "${KEEP:-0}" = 1 ] || rm -rf "$DATA" "$W/store" "$W/out"
done

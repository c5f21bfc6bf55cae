#!/bin/bash
# Instruction counts of the one_engine bench's round 0 only (docs/BENCHMARKS.md, "One engine",
# second session): the embedded validator and validasi-penerima-batch over the same PBI_JK list.
# usage: callgrind_round0.sh TEST_BINARY OUT   (the release `server-<hash>` test binary)
# then:  callgrind_annotate --inclusive=yes OUT.1 | less
set -eu
BIN=$1; OUT=$2; LOG=$OUT.log
cd "$(dirname "$0")/../../crates/server"
uptime > "$LOG"
SINERGI_WORLD_PEOPLE=20000 SINERGI_WORLD_PBI_ROWS=20000 SINERGI_BENCH=1 \
  nice -n 5 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT" \
  "$BIN" one_engine --nocapture --test-threads=1 >> "$LOG" 2>&1 &
PID=$!
until grep -q "^BLT_DD: .* differ" "$LOG"; do sleep 1; kill -0 $PID; done
callgrind_control -i on $PID >> "$LOG"
until grep -q "^bench round 0" "$LOG"; do sleep 1; kill -0 $PID; done
callgrind_control -i off $PID >> "$LOG"
callgrind_control -d $PID >> "$LOG"
sleep 2
kill $PID
uptime >> "$LOG"

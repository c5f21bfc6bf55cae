# Shared helpers for the peer benchmarks (sourced).
# timed NAME LOG CMD...: runs CMD under /usr/bin/time -v with a time limit, appends one line
# "NAME wall_s=… maxrss_mib=… rc=… load=…" to $RESULTS and keeps the full output in LOG.
timed() {
  local name=$1 log=$2; shift 2
  local load_before; load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  local start end rc
  start=$(date +%s.%N)
  timeout "${TIME_LIMIT:-900}" /usr/bin/time -v "$@" >"$log" 2>&1
  rc=$?
  end=$(date +%s.%N)
  local rss_kb wall user sys
  rss_kb=$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')
  user=$(grep 'User time (seconds)' "$log" | awk '{print $NF}')
  sys=$(grep 'System time (seconds)' "$log" | awk '{print $NF}')
  wall=$(echo "$end - $start" | bc)
  printf '%-28s wall_s=%.1f cpu_s=%.1f maxrss_mib=%.0f rc=%s load_before=[%s] load_after=[%s]\n' \
    "$name" "$wall" "$(echo "${user:-0} + ${sys:-0}" | bc)" "$(echo "${rss_kb:-0} / 1024" | bc -l)" "$rc" \
    "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$RESULTS"
}

# synth_if_missing PEOPLE DIR: generates the synthetic world once (never in the repo).
synth_if_missing() {
  local people=$1 dir=$2
  if [ ! -f "$dir/manifest.json" ]; then
    echo "generating $people people into $dir" >&2
    timeout 900 "$SINERGI" synth --people "$people" --seed 1 --out "$dir" >/dev/null 2>&1 || {
      echo "synth failed" >&2; exit 1; }
  fi
}

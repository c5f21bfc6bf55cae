#!/usr/bin/env bash
# The end-to-end browser test of Sinergi Web: a small demo world, a node on a free port with an
# operator of the kabupaten/kota that has the most rows to review, then e2e.mjs in Debian's
# headless Chromium. Screenshots go to docs/img/ (SINERGI_SHOTS to change).
#
# Needs: the debug binary (cargo build --workspace), chromium, node and npm (node_modules from
# `npm ci`). Prints why and exits 0 when one of them is missing, unless SINERGI_E2E_REQUIRED=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=${SINERGI_BIN:-$root/target/debug/sinergi}
chromium=${CHROMIUM:-/usr/bin/chromium}

skip() {
  echo "e2e: SKIPPED — $1"
  if [ "${SINERGI_E2E_REQUIRED:-0}" = 1 ]; then exit 1; fi
  exit 0
}
[ -x "$chromium" ] || skip "no Chromium at $chromium (apt-get install chromium)"
command -v node >/dev/null 2>&1 || skip "no node (apt-get install nodejs npm)"
command -v npm >/dev/null 2>&1 || skip "no npm (apt-get install npm)"
[ -x "$bin" ] || skip "no sinergi binary at $bin (cargo build --workspace)"
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund >/dev/null 2>&1) || skip "npm ci failed (no registry?)"
fi

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
"$bin" demo --people 8000 --seed 3 > demo.log 2>&1 || { cat demo.log; exit 1; }
port=$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
sed "s/^listen = .*/listen = \"127.0.0.1:$port\"/" "$root/config/node.example.toml" > node.toml
region=$(node -e '
const s=require("./sinergi-data/demo/hasil/PKH/summary.json").by_regency;
const best=Object.entries(s).sort((a,b)=>(b[1].tinjau-a[1].tinjau)||(b[1].rows-a[1].rows))[0][0];
console.log(best.replace(".",""))')
password=sinergi-e2e-sandi
SINERGI_SANDI=$password "$bin" pengguna tambah petugas --peran operator --wilayah "$region" --config node.toml >/dev/null
"$bin" serve --config node.toml > serve.log 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if node -e "fetch('http://127.0.0.1:$port/masuk').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"; then break; fi
  sleep 0.3
done
shots=${SINERGI_SHOTS:-$root/docs/img}
mkdir -p "$shots"
SINERGI_URL="http://127.0.0.1:$port" SINERGI_LIST="$work/sinergi-data/demo/dunia/rosters/PKH.xlsx" \
  SINERGI_USER=petugas SINERGI_PASSWORD=$password SINERGI_SHOTS="$shots" CHROMIUM="$chromium" \
  node "$here/e2e.mjs" || { echo "--- node log"; tail -50 serve.log; exit 1; }

#!/usr/bin/env bash
# Sinergi Web page timings and weights against a node on this machine (curl, 127.0.0.1 only).
#
#   bench.sh [ROWS]   (default 100000)
#
# Builds a list of ROWS rows by repeating the rows of a demo world's PKH list (new `No`,
# the same people: most extra rows are DUPLICATE_IN_LIST), validates it through the web
# application, then requests beranda, the results page, a filtered results page (TINJAU, name
# search) and one row N times each (N=200), printing p50/p95 of curl's time_total and each
# page's bytes over the wire with gzip. Also the CPU seconds of the node during the job and of
# the CLI (comparable when the machine is shared). Uses target/release/sinergi (SINERGI_BIN to
# change).
set -euo pipefail
rows=${1:-100000}
n=${N:-200}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
bin=${SINERGI_BIN:-$root/target/release/sinergi}
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
"$bin" demo --people 100000 --seed 5 > demo.log 2>&1
# The big list as CSV: the PKH workbook's rows again and again.
python3 - "$rows" <<'EOF'
import sys, zipfile, re, xml.etree.ElementTree as ET
rows = int(sys.argv[1])
z = zipfile.ZipFile('sinergi-data/demo/dunia/rosters/PKH.xlsx')
ns = {'m': 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'}
shared = []
if 'xl/sharedStrings.xml' in z.namelist():
    for si in ET.fromstring(z.read('xl/sharedStrings.xml')).findall('m:si', ns):
        shared.append(''.join(t.text or '' for t in si.iter('{%s}t' % ns['m'])))
sheet = ET.fromstring(z.read('xl/worksheets/sheet1.xml'))
table = []
for r in sheet.iter('{%s}row' % ns['m']):
    line = {}
    for c in r.findall('m:c', ns):
        col = re.match(r'[A-Z]+', c.get('r')).group(0)
        v = c.find('m:v', ns)
        t = c.get('t')
        if t == 's': val = shared[int(v.text)]
        elif t == 'inlineStr': val = ''.join(x.text or '' for x in c.iter('{%s}t' % ns['m']))
        else: val = v.text if v is not None else ''
        line[col] = val
    table.append(line)
cols = sorted({k for l in table for k in l}, key=lambda c: (len(c), c))
header = [table[0].get(c, '') for c in cols]
data = [[l.get(c, '') for c in cols] for l in table[1:]]
date_col = header.index('Tanggal Lahir') if 'Tanggal Lahir' in header else -1
import datetime
with open('besar.csv', 'w', encoding='utf-8') as f:
    f.write(';'.join(header) + '\n')
    i = 0
    while i < rows:
        for d in data:
            if i >= rows: break
            d = list(d)
            d[header.index('No')] = str(i + 1)
            if date_col >= 0 and re.fullmatch(r'\d+(\.\d+)?', d[date_col] or ''):
                d[date_col] = (datetime.date(1899, 12, 30) + datetime.timedelta(days=int(float(d[date_col])))).isoformat()
            f.write(';'.join(x.replace(';', ',') for x in d) + '\n')
            i += 1
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed "s/^listen = .*/listen = \"127.0.0.1:$port\"/" "$root/config/node.example.toml" > node.toml
SINERGI_SANDI=sinergi-bench-sandi "$bin" pengguna tambah bench --peran pengawas --config node.toml >/dev/null
"$bin" serve --config node.toml > serve.log 2>&1 &
pid=$!
B="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$B/masuk" -o /dev/null && break; sleep 0.3; done
jar=$work/cj
curl -s -c "$jar" "$B/masuk" -o login.html
csrf=$(grep -o 'name="csrf" value="[^"]*"' login.html | head -1 | sed 's/.*value="//;s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf=$csrf&username=bench&password=sinergi-bench-sandi&kembali=/" "$B/masuk"
curl -s -b "$jar" "$B/validasi" -o v.html
csrf=$(grep -o 'name="csrf" value="[^"]*"' v.html | head -1 | sed 's/.*value="//;s/"$//')
# CPU seconds of the node (user + system), read around the job: unlike wall time, not
# inflated by other processes on a shared machine.
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$pid/stat"; }
echo "load before the job: $(cut -d' ' -f1-3 /proc/loadavg)"
c0=$(cpu)
t0=$(date +%s.%N)
loc=$(curl -s -b "$jar" -o /dev/null -w '%{redirect_url}' -F "csrf=$csrf" -F program=PKH -F "berkas=@besar.csv" "$B/validasi")
job=${loc##*/}
while ! curl -s -b "$jar" "$B/validasi/$job" | grep -q -E 'id="status">(Selesai|Gagal)'; do sleep 0.2; done
t1=$(date +%s.%N)
c1=$(cpu)
curl -s -b "$jar" "$B/validasi/$job" | grep -q 'id="status">Selesai' || { echo "job failed"; exit 1; }
# The CLI on the same file, in the same run.
t2=$(date +%s.%N)
# The shipped roster mapping read as `;` CSV, as the web application reads an uploaded CSV.
sed -e 's/^kind = "xlsx"/kind = "csv"\ndelimiter = ";"\nencoding = "auto"/' -e '/^sheet = 0/d' \
  "$root/config/mappings/roster.toml" > roster-csv.toml
/usr/bin/time -f "%U %S" -o cli.cpu "$bin" validate --program PKH --list besar.csv \
  --mapping roster-csv.toml --out cli-hasil --db sinergi-data/sinergi.db > cli.log 2>&1 \
  || { cat cli.log; exit 1; }
t3=$(date +%s.%N)
echo "rows=$rows web_job_s=$(echo "$t1 - $t0" | bc) cli_validate_s=$(echo "$t3 - $t2" | bc) (cli: $(tail -1 cli.log))"
echo "cpu_s: web job (node, upload to done) $(echo "$c1 - $c0" | bc), cli $(awk '{print $1 + $2}' cli.cpu); load after: $(cut -d' ' -f1-3 /proc/loadavg)"
seq1=$(curl -s -b "$jar" "$B/validasi/$job/hasil?putusan=TINJAU" | grep -o "/validasi/$job/baris/[0-9]*" | head -1)
for page in "/" "/validasi/$job/hasil" "/validasi/$job/hasil?putusan=TINJAU&q=SITI" "/validasi/$job/hasil?putusan=TIDAK%20LAYAK&urut=nama&hal=50" "$seq1"; do
  : > times
  for _ in $(seq 1 "$n"); do
    curl -s -b "$jar" -H 'Accept-Encoding: gzip' -o /dev/null -w '%{time_total}\n' "$B$page" >> times
  done
  bytes=$(curl -s -b "$jar" -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$B$page")
  sort -n times | awk -v p="$page" -v b="$bytes" '{a[NR]=$1} END {printf "%-60s p50 %6.1f ms  p95 %6.1f ms  %7d bytes gzip\n", p, a[int(NR*0.5)]*1000, a[int(NR*0.95)]*1000, b}'
done

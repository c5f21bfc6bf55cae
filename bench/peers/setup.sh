#!/usr/bin/env bash
# Installs the peers into virtualenvs under /tmp/sinergi-peers (never in the repo):
#   venv        Splink 4 + DuckDB 1.4 + pandas 2 + openpyxl + recordlinkage 0.16 (linkage;
#               recordlinkage also brings the FEBRL3/FEBRL4 files, read offline)
#   venv-duckdb the newest DuckDB (ingestion peer)
# and Debian's `time` for /usr/bin/time -v.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=${PEERS_ROOT:-/tmp/sinergi-peers}
mkdir -p "$ROOT"
[ -x /usr/bin/time ] || { apt-get update && apt-get install -y time; }
command -v bc >/dev/null || { apt-get update && apt-get install -y bc; }
[ -x "$ROOT/venv/bin/python" ] || python3 -m venv "$ROOT/venv"
"$ROOT/venv/bin/pip" install -q -r "$HERE/requirements.txt"
[ -x "$ROOT/venv-duckdb/bin/python" ] || python3 -m venv "$ROOT/venv-duckdb"
"$ROOT/venv-duckdb/bin/pip" install -q "duckdb${DUCKDB_VERSION:+==$DUCKDB_VERSION}"
"$ROOT/venv/bin/python" -c "import splink, duckdb, pandas, recordlinkage; print('splink', splink.__version__, 'duckdb', duckdb.__version__, 'pandas', pandas.__version__, 'recordlinkage', recordlinkage.__version__)"
"$ROOT/venv-duckdb/bin/python" -c "import duckdb; print('ingestion peer: duckdb', duckdb.__version__)"

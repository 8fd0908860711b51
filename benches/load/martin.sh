#!/usr/bin/env bash
# Side by side: Martin (PostGIS) and wangge (in memory) serving the same layers of the Helsinki
# sample, the same fixed tile list (buildings+basemap composite, z12-z16), the same load tool
# (wrk -t2 -c16, bounded in time), on 127.0.0.1 only.
#
#   benches/load/martin.sh
#
# Installs Martin once with cargo into ~/.cache/wangge/martin (its own CARGO_TARGET_DIR under
# ~/.cache: a long compile, run at low priority), starts a throwaway PostgreSQL+PostGIS cluster with
# scripts/pg-cluster.sh, loads the sample with `wangge import` into the PostGIS store (tables
# `buildings` and `basemap`, geometry in EPSG:4326, GiST-indexed), serves it with Martin (cache off,
# then on with gzip) and then runs benches/load/run.sh for wangge; both tables are printed.
# Environment: as run.sh (DURATION, RUNS, CONNECTIONS, THREADS, ZOOMS, WANGGE_BIN), MARTIN_BIN to
# use an installed Martin.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wangge/target}"
DURATION="${DURATION:-10s}"
RUNS="${RUNS:-3}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
ZOOMS="${ZOOMS:-12 13 14 15 16}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/wangge-martin.XXXXXX")"
# The cluster runs as the postgres user: it must reach its folder.
chmod 755 "$WORK"
PG="$WORK/pg"
MARTIN_PID=""

cleanup() {
  if [[ -n "$MARTIN_PID" ]] && kill -0 "$MARTIN_PID" 2>/dev/null; then kill -TERM "$MARTIN_PID"; wait "$MARTIN_PID" 2>/dev/null || true; fi
  [[ -d "$PG/data" ]] && "$ROOT/scripts/pg-cluster.sh" stop "$PG" >/dev/null 2>&1 || true
  if [[ -z "${KEEP_DIR:-}" ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
log() { echo "== $*" >&2; }

# --- tools -------------------------------------------------------------------------------------
if [[ -z "${MARTIN_BIN:-}" ]]; then
  MARTIN_BIN="$HOME/.cache/wangge/martin/bin/martin"
  if [[ ! -x "$MARTIN_BIN" ]]; then
    log "installing Martin (long compile, nice 15)"
    CARGO_TARGET_DIR="$HOME/.cache/wangge/martin-target" nice -n 15 \
      cargo install martin --locked --no-default-features --features postgres --root "$HOME/.cache/wangge/martin" >&2
  fi
fi
"$MARTIN_BIN" --version >&2
if [[ -z "${WANGGE_BIN:-}" ]]; then
  (cd "$ROOT" && cargo build --release -p wangge >&2)
  WANGGE_BIN="$CARGO_TARGET_DIR/release/wangge"
fi
export WANGGE_BIN
command -v wrk >/dev/null || apt-get install -y -o DPkg::Lock::Timeout=600 wrk >&2

# --- PostGIS with the sample -------------------------------------------------------------------
log "PostGIS cluster and import"
ADMIN_URL="$("$ROOT/scripts/pg-cluster.sh" start "$PG")"
DB_URL="${ADMIN_URL%/*}/wangge_load"
psql "$ADMIN_URL" -qc "CREATE DATABASE wangge_load" >/dev/null
"$WANGGE_BIN" --db "$DB_URL" import "$ROOT/geodata/helsinki/Helsinki.osm.pbf" \
  "$ROOT/geodata/helsinki/helsinki_population_grid_2020.gpkg" >"$WORK/import.log" 2>&1
psql "$DB_URL" -qc "ANALYZE" >/dev/null
psql "$DB_URL" -Atc "SELECT 'buildings ' || count(*) FROM buildings UNION ALL SELECT 'basemap ' || count(*) FROM basemap" >&2

# --- the tile list (the same as run.sh, from a wangge server over the same store) --------------
"$WANGGE_BIN" --db "$DB_URL" serve --bind 127.0.0.1:0 --rate-limit 0 --web "$WORK/no-web" >"$WORK/w.out" 2>"$WORK/w.err" &
WPID=$!
for _ in $(seq 1 240); do BASE="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/w.out" | head -1 || true)"; [[ -n "$BASE" ]] && break; sleep 0.5; done
[[ -n "$BASE" ]] || { tail "$WORK/w.err" >&2; exit 1; }
for z in $ZOOMS; do
  python3 "$HERE/loadlib.py" tiles "$BASE" "buildings,basemap" "$z" "$WORK/wangge-z$z.txt" >/dev/null
  # Martin's composite of the same two tables: no `/tiles` prefix and no extension (it redirects
  # `.mvt` with a 301, which would measure nothing).
  sed -e 's#^/tiles/buildings,basemap/#/buildings,basemap/#' -e 's#\.mvt$##' "$WORK/wangge-z$z.txt" >"$WORK/martin-z$z.txt"
done
kill -TERM "$WPID"; wait "$WPID" 2>/dev/null || true

# --- Martin ------------------------------------------------------------------------------------
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
martin_bench() {
  local mode="$1" cache_mb="$2"; shift 2
  cat >"$WORK/martin-$mode.yaml" <<EOF
listen_addresses: 127.0.0.1:$PORT
cache_size_mb: $cache_mb
postgres:
  connection_string: $DB_URL
  auto_publish: true
EOF
  "$MARTIN_BIN" --config "$WORK/martin-$mode.yaml" >"$WORK/martin-$mode.log" 2>&1 &
  MARTIN_PID=$!
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/catalog" >/dev/null && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$PORT/catalog" >/dev/null || { tail "$WORK/martin-$mode.log" >&2; exit 1; }
  for z in $ZOOMS; do
    # Every tile must be a real answer (200 with bytes, or 204 for an empty tile) before timing.
    while read -r p; do
      code="$(curl -s -o /dev/null -w '%{http_code}' "$@" "http://127.0.0.1:$PORT$p")"
      [[ "$code" == 200 || "$code" == 204 ]] || { echo "Martin answers $code for $p" >&2; exit 1; }
    done <"$WORK/martin-z$z.txt"
    local files=()
    for r in $(seq 1 "$RUNS"); do
      wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency "$@" -s "$HERE/paths.lua" \
        "http://127.0.0.1:$PORT" -- "$WORK/martin-z$z.txt" >"$WORK/martin-$mode-$z-$r.txt"
      files+=("$WORK/martin-$mode-$z-$r.txt")
    done
    python3 "$HERE/loadlib.py" median "martin $mode z$z" "${files[@]}" | tee -a "$WORK/martin-summary.txt"
  done
  kill -TERM "$MARTIN_PID"; wait "$MARTIN_PID" 2>/dev/null || true; MARTIN_PID=""
}
log "Martin, cache off"
martin_bench uncached 0
log "Martin, cache on, Accept-Encoding: gzip"
martin_bench cached+gzip 512 -H "Accept-Encoding: gzip"

# --- wangge ------------------------------------------------------------------------------------
log "wangge"
SKIP_SYNTH=1 "$HERE/run.sh" | tee "$WORK/wangge-run.txt" >&2

echo
echo "==== Martin ($("$MARTIN_BIN" --version)) over PostGIS"
cat "$WORK/martin-summary.txt"
echo "==== wangge (in memory)"
sed -n '/^==== summary/,$p' "$WORK/wangge-run.txt" | tail -n +2

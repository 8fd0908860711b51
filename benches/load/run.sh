#!/usr/bin/env bash
# Load benchmark of `wangge serve` with a real HTTP load tool (wrk), on 127.0.0.1 only, bounded in
# time: the Helsinki sample, a fixed list of buildings+basemap composite tiles at z12-z16,
# 16 connections, 2 threads (as the Martin figures of issue 5: wrk -t2 -c16).
#
#   1. uncached: the server runs with --tile-cache 0, every request encodes its tile;
#   2. cached with `Accept-Encoding: gzip`: the gzip copy made once and kept in the cache;
#   3. /api/v1/nearest and /api/v1/responsible at building centres (nearest only if it answers);
#   4. a whole synthetic city (`wangge synth`) zoomed out: the largest tile of every layer at
#      z10-z12 must be under 500 KB.
#
# Each load run is repeated RUNS times and the median printed (a 2-core machine is noisy).
#
#   benches/load/run.sh                        # everything
#   DURATION=5s RUNS=1 benches/load/run.sh     # quicker
#   SKIP_SYNTH=1 benches/load/run.sh           # no synthetic-city size check
#
# Environment: WANGGE_BIN (default: build release into $CARGO_TARGET_DIR), DURATION (10s), RUNS (3),
# CONNECTIONS (16), THREADS (2), ZOOMS ("12 13 14 15 16"), SYNTH_BUILDINGS (200000), KEEP_DIR=1 to keep the work folder,
# PARTS ("uncached cached api synth": which of the runs above to make).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wangge/target}"
DURATION="${DURATION:-10s}"
RUNS="${RUNS:-3}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
ZOOMS="${ZOOMS:-12 13 14 15 16}"
SYNTH_BUILDINGS="${SYNTH_BUILDINGS:-200000}"
PARTS="${PARTS:-uncached cached api synth}"
[[ -n "${SKIP_SYNTH:-}" ]] && PARTS="${PARTS//synth/}"
part() { [[ " $PARTS " == *" $1 "* ]]; }
LAYERS="buildings,basemap"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/wangge-load.XXXXXX")"
SERVER_PID=""

cleanup() {
  stop_server
  if [[ -z "${KEEP_DIR:-}" ]]; then rm -rf "$WORK"; else echo "work folder kept: $WORK"; fi
}
trap cleanup EXIT

log() { echo "== $*" >&2; }

# --- tools -------------------------------------------------------------------------------------
if [[ -z "${WANGGE_BIN:-}" ]]; then
  log "building release wangge (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
  (cd "$ROOT" && cargo build --release -p wangge >&2)
  WANGGE_BIN="$CARGO_TARGET_DIR/release/wangge"
fi
[[ -x "$WANGGE_BIN" ]] || { echo "no wangge binary at $WANGGE_BIN" >&2; exit 1; }
if ! command -v wrk >/dev/null; then
  log "installing wrk (Debian package)"
  apt-get install -y -o DPkg::Lock::Timeout=600 wrk >&2
fi
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }

# --- server ------------------------------------------------------------------------------------
# start_server LOG ARGS...: runs `wangge ARGS` on a free port; sets BASE and SERVER_PID.
start_server() {
  local logf="$1"; shift
  "$WANGGE_BIN" "$@" >"$logf.out" 2>"$logf.err" &
  SERVER_PID=$!
  local i
  for i in $(seq 1 600); do
    BASE="$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$logf.out" 2>/dev/null | head -1 || true)"
    [[ -n "$BASE" ]] && return 0
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      echo "wangge $* exited before it was ready:" >&2; tail -20 "$logf.err" >&2; exit 1
    fi
    sleep 0.5
  done
  echo "wangge $* was not ready after 300 s" >&2; tail -20 "$logf.err" >&2; exit 1
}

stop_server() {
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}

# bench LABEL PATHFILE [wrk header args...]: RUNS time-bounded wrk runs, their median printed.
bench() {
  local label="$1" paths="$2"; shift 2
  local files=() r
  for r in $(seq 1 "$RUNS"); do
    local out="$WORK/wrk-$(echo "$label" | tr -c 'a-zA-Z0-9' '_')-$r.txt"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 5s --latency "$@" -s "$HERE/paths.lua" "$BASE" -- "$paths" >"$out"
    files+=("$out")
  done
  python3 "$HERE/loadlib.py" median "$label" "${files[@]}" | tee -a "$WORK/summary.txt"
}

# api_bench LABEL: nearest and responsible at 200 building centres of the served city (each only
# when it answers 200).
api_bench() {
  local label="$1" api status
  python3 "$HERE/loadlib.py" points "$BASE" 200 "$WORK/nearest.txt" "$WORK/responsible.txt" >/dev/null
  echo "-- $label: API at 200 building centres" | tee -a "$WORK/summary.txt"
  for api in nearest responsible; do
    status="$(curl -s -o "$WORK/$api-probe.json" -w '%{http_code}' "$BASE$(head -1 "$WORK/$api.txt")")"
    if [[ "$status" == 200 ]]; then
      bench "$label /api/v1/$api" "$WORK/$api.txt"
    else
      echo "$label /api/v1/$api answers HTTP $status: $(head -c 160 "$WORK/$api-probe.json") (skipped)" | tee -a "$WORK/summary.txt"
    fi
  done
}

HEL="$WORK/helsinki"
mkdir -p "$HEL"
common=(demo --sample helsinki --dir "$HEL" --geodata "$ROOT/geodata" --bind 127.0.0.1:0 --rate-limit 0
  --anonymous-role resident --web "$WORK/no-web")

echo "wangge load benchmark: $(nproc) cores, wrk -t$THREADS -c$CONNECTIONS -d$DURATION, median of $RUNS runs, $(date -u +%FT%TZ)" | tee "$WORK/summary.txt"
echo "binary: $WANGGE_BIN" | tee -a "$WORK/summary.txt"

# --- 1. uncached -------------------------------------------------------------------------------
log "Helsinki sample (first start imports it), tile cache off"
start_server "$WORK/uncached" "${common[@]}" --tile-cache 0
for z in $ZOOMS; do
  n=$(python3 "$HERE/loadlib.py" tiles "$BASE" "$LAYERS" "$z" "$WORK/tiles-z$z.txt")
  echo "z$z: $n tiles" >>"$WORK/tiles.txt"
done
echo "tiles per zoom: $(paste -sd' ' "$WORK/tiles.txt" | sed 's/ tiles//g')" | tee -a "$WORK/summary.txt"
if part uncached; then
  echo "-- $LAYERS, uncached (every request encodes; no gzip)" | tee -a "$WORK/summary.txt"
  for z in $ZOOMS; do
    bench "uncached z$z" "$WORK/tiles-z$z.txt"
  done
fi
stop_server

# --- 2. cached with gzip, 3. nearest / responsible ---------------------------------------------
if part cached || part api; then
  log "Helsinki sample, tile cache on"
  start_server "$WORK/cached" "${common[@]}"
fi
if part cached; then
  echo "-- $LAYERS, cached, Accept-Encoding: gzip (compressed once)" | tee -a "$WORK/summary.txt"
  for z in $ZOOMS; do
    # Warm the cache (and its gzip copies) with one pass over the list.
    while read -r p; do curl -s -o /dev/null -H 'Accept-Encoding: gzip' "$BASE$p"; done <"$WORK/tiles-z$z.txt"
    bench "cached+gzip z$z" "$WORK/tiles-z$z.txt" -H "Accept-Encoding: gzip"
  done
  sample_path="$(head -1 "$WORK/tiles-z16.txt" 2>/dev/null || true)"
  if [[ -n "$sample_path" ]]; then
    enc="$(curl -s -D - -o /dev/null -H 'Accept-Encoding: gzip' "$BASE$sample_path" | tr -d '\r' | grep -i '^content-encoding:' || true)"
    echo "check: $sample_path with Accept-Encoding: gzip -> ${enc:-no Content-Encoding (empty tile?)}" | tee -a "$WORK/summary.txt"
  fi
fi
part api && api_bench "Helsinki"
stop_server

# --- 4. synthetic city, zoomed out -------------------------------------------------------------
if part synth; then
  log "synthetic city of $SYNTH_BUILDINGS buildings: generate, import, serve"
  SYN="$WORK/synth"
  "$WANGGE_BIN" synth --buildings "$SYNTH_BUILDINGS" --out "$SYN" >"$WORK/synth.log" 2>&1
  "$WANGGE_BIN" --db "sqlite://$WORK/synth.db" import "$SYN"/*.geojson >"$WORK/synth-import.log" 2>&1
  # A plan in force, so that "who is responsible here" finds a grid (and its workers) too.
  "$WANGGE_BIN" --db "sqlite://$WORK/synth.db" partition --community all --min 300 --max 500 --plan load \
    >"$WORK/synth-partition.log" 2>&1
  "$WANGGE_BIN" --db "sqlite://$WORK/synth.db" plan activate load >>"$WORK/synth-partition.log" 2>&1
  start_server "$WORK/synth-serve" --db "sqlite://$WORK/synth.db" serve --bind 127.0.0.1:0 --rate-limit 0 \
    --anonymous-role leader --web "$WORK/no-web"
  echo "-- synthetic city ($SYNTH_BUILDINGS buildings), signed-in audience, every tile at z10-z12" | tee -a "$WORK/summary.txt"
  python3 "$HERE/loadlib.py" sizes "$BASE" 10 12 500 | tee -a "$WORK/summary.txt" || true
  # The synthetic city has communities and streets, so "who is responsible here" answers there.
  part api && api_bench "synthetic"
  stop_server
fi

echo
echo "==== summary"
cat "$WORK/summary.txt"

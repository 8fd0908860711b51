#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what is missing, checks formatting and lints,
# starts a throwaway PostgreSQL+PostGIS cluster on 127.0.0.1, runs every Rust test against both
# stores, builds the web app and drives it in headless Chromium against a real `wangge` server.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# Reuse one build directory outside the clone: the first build is long on 2 cores.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wangge/target}"

echo "== format and lints" >&2
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== throwaway PostGIS cluster" >&2
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/wangge-pg.XXXXXX")
trap 'scripts/pg-cluster.sh stop "$PGDIR" >/dev/null 2>&1 || true; rm -rf "$PGDIR"' EXIT
WANGGE_TEST_PG_URL=$(scripts/pg-cluster.sh start "$PGDIR")
export WANGGE_TEST_PG_URL

echo "== Rust tests (embedded store and PostGIS)" >&2
cargo test --workspace

echo "== web app: type-check, build, browser tests" >&2
(cd web && npm run build)
WANGGE_BIN="$CARGO_TARGET_DIR/debug/wangge" npm --prefix web test

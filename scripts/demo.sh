#!/usr/bin/env bash
# Sets up and runs the demo: imports the Beijing sample (or `--sample helsinki`) into a fresh
# embedded store under .wangge/ (once) and serves the map on http://127.0.0.1:8080.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wangge/target}"
(cd web && npm run build)
cargo run --quiet --bin wangge -- demo "$@"

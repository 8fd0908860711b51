#!/usr/bin/env bash
# Installs what wangge needs on a fresh Debian machine that has the Rust toolchain:
# PostgreSQL + PostGIS (for the PostGIS store and its tests), Chromium (browser tests),
# Node.js + npm (the web app), and the web app's npm packages. Safe to run again: it installs
# only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in postgresql-15-postgis-3 chromium fonts-wqy-zenhei; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
fi

if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "setup: installing the web app's npm packages" >&2
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi

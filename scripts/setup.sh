#!/usr/bin/env bash
# Everything a fresh machine needs, idempotent: skips what is already there.
#   --browser   also install Debian's chromium (only the browser tests need it)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--browser" ] && ! command -v chromium >/dev/null 2>&1; then
  echo "setup: installing chromium (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi

# `npm install`, not `npm ci`: npm leaves deno's other-platform optional packages out of the
# lockfile, and `npm ci` then refuses it. `npm install` still installs the locked versions.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install"
  npm install --no-audit --no-fund --loglevel=error
fi

bash scripts/build.sh

#!/usr/bin/env bash
# Everything a fresh machine needs, idempotent: skips what is already there.
#   --browser   also install Debian's chromium and its chromedriver (only the browser tests need
#               them; wasm-pack test --chrome uses $CHROMEDRIVER or the one on PATH, never a download)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--browser" ]; then
  apt=()
  command -v chromium >/dev/null 2>&1 || apt+=(chromium)
  [ -n "${CHROMEDRIVER:-}" ] || command -v chromedriver >/dev/null 2>&1 || apt+=(chromium-driver)
  if [ ${#apt[@]} -gt 0 ]; then
    echo "setup: installing ${apt[*]} (Debian)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${apt[@]}" >/dev/null
  fi
fi

# wasm-pack builds the wasm (scripts/build.sh) and runs the engine's tests in wasm (scripts/test.sh).
# From source (~2 min on 2 cores), at a known version, with its own lockfile.
if ! command -v wasm-pack >/dev/null 2>&1; then
  echo "setup: cargo install wasm-pack"
  cargo install wasm-pack --version 0.15.1 --locked
fi

# `npm install`, not `npm ci`: npm leaves deno's other-platform optional packages out of the
# lockfile, and `npm ci` then refuses it. `npm install` still installs the locked versions.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm install"
  npm install --no-audit --no-fund --loglevel=error
fi

bash scripts/build.sh

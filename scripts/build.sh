#!/usr/bin/env bash
# Builds the wasm engine and its JS glue into pkg/gen/ (gitignored). Idempotent; installs the
# wasm32 target and the exact wasm-bindgen-cli that matches Cargo.lock when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock 2>/dev/null || true)
if [ -z "$want" ]; then cargo generate-lockfile >/dev/null; want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock); fi
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "installing wasm-bindgen-cli $want (have: ${have:-none})"
  cargo install wasm-bindgen-cli --version "$want"
fi

cargo build --profile wasm --target wasm32-unknown-unknown --lib
rm -rf pkg/gen
wasm-bindgen target/wasm32-unknown-unknown/wasm/ballast.wasm \
  --out-dir pkg/gen --target web --no-typescript --omit-default-module-path
# binaryen from npm (Debian's wasm-opt 108 mangles the externref table wasm-bindgen emits).
[ -x node_modules/.bin/wasm-opt ] || npm install --no-audit --no-fund
# The flags are in scripts/wasm-opt.flags (bench/size.mjs builds its named copy with the same).
# --converge reruns the passes while they still shrink the file; --low-memory-unused lets it fold
# constant offsets into loads and stores, which is sound unless an address computation wraps
# around into the first 1 KB (Rust's stack grows down from 1 MB toward 0 and traps below it, and
# data sits above it, so none does). Together 0.4 KB less gzip.
mapfile -t wasm_opt_flags < scripts/wasm-opt.flags
node_modules/.bin/wasm-opt "${wasm_opt_flags[@]}" pkg/gen/ballast_bg.wasm -o pkg/gen/ballast_bg.wasm
raw=$(wc -c < pkg/gen/ballast_bg.wasm); gz=$(gzip -9 -c pkg/gen/ballast_bg.wasm | wc -c)
echo "built pkg/gen: wasm ${raw} bytes (${gz} gzip)"

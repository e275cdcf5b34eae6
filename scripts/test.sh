#!/usr/bin/env bash
# Runs every test on a fresh or warm machine: set-up, lints, Rust tests, the Node suite against the
# loopback fault origin, the runtime matrix (Node, Deno, workerd, Chromium+Vite, Chromium plain) and
# the demo page in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - t0 ))s)"; }

step setup
bash scripts/setup.sh --browser

step "cargo fmt / clippy"
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings

step "rust tests"
cargo test --all-targets

step "typescript declarations"
node_modules/.bin/tsc -p tests/types

step "node tests (loopback fault origin)"
node --test --test-concurrency=1 tests/js/

step "runtime matrix (npm pack -> node, deno, workerd, vite+chromium, plain+chromium)"
node tests/matrix/run.mjs --only=node,deno,workerd,vite,plain,vite-dev

step "demo page end to end (www/serve.mjs + Chromium: bursts, events, snapshot)"
node tests/demo/run.mjs

step "benchmark smoke (each benchmark briefly; no timing assertions)"
node bench/run.mjs --smoke

step "done"

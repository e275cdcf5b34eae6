#!/usr/bin/env bash
# Runs every test on a fresh or warm machine: set-up, lints, Rust tests, the Node suite against the
# loopback fault origin, the runtime matrix (Node, Bun, Deno, workerd, Chromium+Vite, Chromium plain,
# and every project in examples/ run as a user runs it) and the demo page in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
step() { echo; echo "== $* ($(( $(date +%s) - t0 ))s)"; }

# The tests must leave the checkout as they found it (a fresh clone stays clean): what git reports
# now is compared with what it reports at the end.
tree_state() { git status --porcelain=v1 --untracked-files=all; git diff HEAD --no-ext-diff 2>/dev/null | sha1sum; }
before=$(tree_state)

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

step "runtime matrix (npm pack -> node, bun, deno, workerd, vite+chromium, plain+chromium; examples/)"
# Each entry has its own timeout inside (120 s); this one bounds the whole run.
timeout --kill-after=30s 600s node tests/matrix/run.mjs \
  --only=node,bun,deno,workerd,vite,plain,vite-dev,example-node,example-node-bun,example-deno,example-worker,example-vite,example-otel

step "demo site end to end (vite build, www/serve.mjs, Chromium: live mode, every chart drew, fallback reasons)"
node tests/demo/run.mjs

step "benchmark smoke (each benchmark briefly; no timing assertions)"
node bench/run.mjs --smoke

step "publishable: npm publish --dry-run (pkg/) and cargo package"
(cd pkg && npm publish --dry-run --ignore-scripts 2>&1 | grep -v "requires you to be logged in")
# Its own target dir: the crate is a cdylib, whose artifacts carry no hash, so the verify build
# would otherwise overwrite the lib that cargo test uses.
CARGO_TARGET_DIR=target/package-verify cargo package --allow-dirty --quiet
cargo package --allow-dirty --list | tr '\n' ' '; echo

step "the checkout is as the tests found it"
after=$(tree_state)
if [ "$before" != "$after" ]; then
  echo "test.sh: the tests changed the checkout (git status before / after):" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi

step "done"

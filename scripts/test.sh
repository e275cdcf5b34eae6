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
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --no-default-features --features binding -- -D warnings # the browsers' build (no `server`)
cargo clippy -p ballast-tools --lib --target wasm32-unknown-unknown -- -D warnings

step "rust tests (the engine, the simulator, the tools)"
cargo test --workspace --all-targets
# The engine as the simulator links it (without the binding: call.rs, sketch.rs and the engine
# hold some things differently there, for speed), with its own unit tests and the golden runs.
cargo test --lib --test simulator --no-default-features --features std,server

# The engine's tests compiled to wasm, with wasm-bindgen-test (Cargo.toml says how the no_std lib
# links std there): those of every test file whose first lines make `#[test]` wasm-bindgen-test's;
# the other test targets are built, and run none. Each file below must run some, so one that loses
# those lines fails here instead of passing empty. --mode no-install: the wasm-bindgen-cli that
# build.sh installed and Debian's chromedriver, or fail; wasm-pack downloads nothing.
wasm_test() { # <where> <wasm-pack test args...>
  local where=$1 log n f
  shift
  log=$(mktemp)
  wasm-pack --log-level warn test --mode no-install "$@" 2>&1 | tee "$log"
  for f in engine routes hooks pressure_ramp; do
    n=$(awk -v f="tests/$f.rs" '$1 == "Running" && $2 != "headless" { on = ($2 == f) }
      on && /^test result:/ { print $4; exit }' "$log")
    [ "${n:-0}" -gt 0 ] || { echo "test.sh: tests/$f.rs ran no tests in wasm ($where)" >&2; exit 1; }
    echo "wasm ($where): tests/$f.rs: $n passed"
  done
  rm -f "$log"
}
step "rust tests in wasm: Node (wasm-pack test --node)"
wasm_test Node --node

step "rust tests in wasm: Chromium (wasm-pack test --headless --chrome)"
# The tests are configured for Node (the default); WASM_BINDGEN_USE_BROWSER runs them in a page.
# A test that blocks the page for more than 30 s trips chromedriver (WASM_BINDGEN_USE_DEDICATED_WORKER
# runs them in a worker instead). WASM_BINDGEN_TEST_TIMEOUT bounds each test file (default 20 s).
chromedriver=${CHROMEDRIVER:-$(command -v chromedriver || true)}
[ -n "$chromedriver" ] || { echo "test.sh: no chromedriver (bash scripts/setup.sh --browser)" >&2; exit 1; }
WASM_BINDGEN_USE_BROWSER=1 WASM_BINDGEN_TEST_TIMEOUT=120 \
  wasm_test Chromium --headless --chrome --chromedriver "$chromedriver"

step "typescript declarations"
node_modules/.bin/tsc -p tests/types

step "node tests (loopback fault origin)"
node --test --test-concurrency=1 tests/js/

step "runtime matrix (npm pack -> node, bun, deno, workerd, vite+chromium, plain+chromium; examples/)"
# Each entry has its own timeout inside (120 s); this one bounds the whole run.
timeout --kill-after=30s 600s node tests/matrix/run.mjs \
  --only=node,bun,deno,workerd,vite,plain,vite-dev,example-node,example-node-bun,example-deno,example-worker,example-worker-shared,example-vite,example-otel

step "demo site end to end (vite build, www/serve.mjs, Chromium: live mode, every chart drew, fallback reasons)"
node tests/demo/run.mjs

step "benchmark smoke (each benchmark briefly; no timing assertions)"
node bench/run.mjs --smoke
node bench/compare.mjs --smoke >/dev/null
node bench/compare.mjs --smoke --in-process >/dev/null

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

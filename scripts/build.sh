#!/usr/bin/env bash
# Builds the wasm engine and its JS glue into pkg/gen/ (gitignored) with wasm-pack (scripts/setup.sh
# installs it), and the tools module into pkg/gen/tools/ (`build.sh tools`: only that one).
# Idempotent; installs the wasm32 target and the exact wasm-bindgen-cli that matches Cargo.lock
# when missing: wasm-pack runs that one (`--mode no-install`: it downloads nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case "$what" in all|tools) ;; *) echo "usage: build.sh [tools]" >&2; exit 2 ;; esac
command -v wasm-pack >/dev/null || { echo "build.sh: wasm-pack is missing (bash scripts/setup.sh installs it)" >&2; exit 1; }

rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock 2>/dev/null || true)
if [ -z "$want" ]; then cargo generate-lockfile >/dev/null; want=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/"/,"",$3); print $3; exit}' Cargo.lock); fi
have=$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)
if [ "$have" != "$want" ]; then
  echo "installing wasm-bindgen-cli $want (have: ${have:-none})"
  cargo install wasm-bindgen-cli --version "$want"
fi

# binaryen from npm (Debian's wasm-opt 108 mangles the externref table wasm-bindgen emits).
[ -x node_modules/.bin/wasm-opt ] || npm install --no-audit --no-fund
# wasm-opt's flags are in scripts/wasm-opt.flags (bench/size.mjs builds its named copy with the
# same). --converge reruns the passes while they still shrink the file; --low-memory-unused lets it
# fold constant offsets into loads and stores, which is sound unless an address computation wraps
# around into the first 1 KB (Rust's stack grows down from 1 MB toward 0 and traps below it, and
# data sits above it, so none does). The producers and target-features
# sections name the compilers and the features they assumed: nothing reads them at run time.
mapfile -t wasm_opt_flags < scripts/wasm-opt.flags
# The browser build's passes (scripts/wasm-opt-browser.flags): functions that differ only in
# constants merged into one that takes them as parameters (--merge-similar-functions: the copies of
# a generic function for different types, for instance; first, as after -Oz it finds nothing to
# merge), -Oz, then the control flow flattened and rebuilt by binaryen's relooper (--flatten
# --rereloop: it finds shorter block structures than LLVM's) and -Oz again, twice (the second round
# finds more in what the first left), then -Oz once more knowing each function's side effects
# (--generate-global-effects: calls that cannot trap or write memory are dropped or moved). All
# semantics-preserving, and a smaller file than -Oz alone.
mapfile -t wasm_opt_browser < scripts/wasm-opt-browser.flags
if [ "$what" = all ]; then
# Two builds of the same crate (Cargo.toml says why): `wasm` (opt-level z, wasm-opt -Oz) is
# gen/ballast_bg.wasm for browsers; `wasm-fast` (opt-level 3, wasm-opt -O3) is
# gen/ballast_fast_bg.wasm for Node, Deno and workerd. Both have the same exports and imports, so
# they share one JS glue; the build fails if wasm-bindgen generates different glue for them.
rm -rf pkg/gen pkg/gen-fast
# wasm-pack: `cargo build --lib --profile <p>` then wasm-bindgen with Cargo.toml's
# [package.metadata.wasm-pack.profile.custom] settings (--omit-default-module-path; its wasm-opt
# off: ours runs next). --no-pack and --no-gitignore: no package.json, README, licence or
# .gitignore of its own in the output (pkg/package.json is the package).
build() { # <cargo profile> <out dir> <cargo features> <wasm-opt passes...>
  local profile=$1 out=$2 features=$3
  shift 3
  wasm-pack --log-level warn build --mode no-install --target web --profile "$profile" \
    --out-dir "$out" --out-name ballast --no-typescript --no-pack --no-gitignore \
    -- --no-default-features --features "$features"
  node_modules/.bin/wasm-opt "$@" "${wasm_opt_flags[@]}" "$out/ballast_bg.wasm" -o "$out/ballast_bg.wasm"
}
# Browsers get the fetch path without what only servers use (Cargo.toml's `server`): the same
# exports, so the same glue, whose server-only calls answer that the build has none.
build wasm pkg/gen binding "${wasm_opt_browser[@]}"
# The fetch path carries no formatting machinery (src/lib.rs says why): one `to_string()` or
# `format!` pulls in core::fmt::write. Checked in the linked module's names, before wasm-opt.
linked="${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/wasm/ballast_fetch.wasm"
[ -f "$linked" ] || { echo "build.sh: $linked is missing (where did cargo put the fetch path?)" >&2; exit 1; }
if grep -q '4core3fmt5write' "$linked"; then
  echo "build.sh: the fetch path links core::fmt::write (a to_string() or format! in src/core?)" >&2
  exit 1
fi
build wasm-fast pkg/gen-fast binding,server -O3
if ! glue_diff=$(diff -r -x ballast_bg.wasm pkg/gen pkg/gen-fast); then
  echo "build.sh: the two wasm builds got different JS glue from wasm-bindgen:" >&2
  echo "$glue_diff" >&2
  exit 1
fi
mv pkg/gen-fast/ballast_bg.wasm pkg/gen/ballast_fast_bg.wasm
rm -rf pkg/gen-fast
# Only what pkg/package.json ships ("files"): nothing else wasm-pack may write lands beside it.
unexpected=$(cd pkg/gen && find . -mindepth 1 -maxdepth 1 ! -name ballast.js ! -name ballast_bg.wasm ! -name ballast_fast_bg.wasm ! -name tools)
if [ -n "$unexpected" ]; then
  echo "build.sh: unexpected files in pkg/gen: $unexpected" >&2
  exit 1
fi
# One instance per call of instantiate(), not one per JS module (pkg/host.js says why).
node scripts/glue-factory.mjs pkg/gen/ballast.js
for w in ballast_bg ballast_fast_bg; do
  raw=$(wc -c < "pkg/gen/$w.wasm"); gz=$(gzip -9 -c "pkg/gen/$w.wasm" | wc -c)
  echo "built pkg/gen/$w.wasm: ${raw} bytes (${gz} gzip)"
done
fi

# The tools build (tools/: the simulator, rehearse; `ballast-fetch/sim`): a module of its own, so
# the fetch path never carries it. Profile `tools` (opt-level 3) and wasm-opt -O3: speed over bytes.
# LLVM inlines more there than opt-level 3 does (scripts/tools.rustflags: a cargo profile cannot
# carry LLVM's options): the simulator's loop then runs in a few large functions, with fewer calls
# and more of each step's work in registers, for a larger module. Inlining changes no result:
# the float operations are the same, in the same order. The variable adds to the rustflags of
# .cargo/config.toml, which cargo merges with it.
mapfile -t tools_rustflags < scripts/tools.rustflags
rm -rf pkg/gen-tools
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="${tools_rustflags[*]}" \
  wasm-pack --log-level warn build tools --mode no-install --target web --profile tools \
  --out-dir ../pkg/gen-tools --out-name ballast_tools --no-typescript --no-pack --no-gitignore
node_modules/.bin/wasm-opt -O3 "${wasm_opt_flags[@]}" pkg/gen-tools/ballast_tools_bg.wasm -o pkg/gen-tools/ballast_tools_bg.wasm
unexpected=$(cd pkg/gen-tools && find . -mindepth 1 -maxdepth 1 ! -name ballast_tools.js ! -name ballast_tools_bg.wasm)
if [ -n "$unexpected" ]; then
  echo "build.sh: unexpected files in pkg/gen-tools: $unexpected" >&2
  exit 1
fi
node scripts/glue-factory.mjs pkg/gen-tools/ballast_tools.js
rm -rf pkg/gen/tools && mkdir -p pkg/gen/tools && mv pkg/gen-tools/* pkg/gen/tools/ && rm -rf pkg/gen-tools
raw=$(wc -c < pkg/gen/tools/ballast_tools_bg.wasm); gz=$(gzip -9 -c pkg/gen/tools/ballast_tools_bg.wasm | wc -c)
echo "built pkg/gen/tools/ballast_tools_bg.wasm: ${raw} bytes (${gz} gzip)"

# The npm package page shows the README; the licences go with every copy. Copied, not committed
# twice (pkg/.gitignore-d by the root .gitignore).
cp README.md LICENSE-MIT LICENSE-APACHE pkg/

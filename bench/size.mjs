// 3. Size: the wasm (raw, gzip -9, brotli -11; the browsers' small build, and beside it the
// server runtimes' fast build, which no browser bundle contains), the JS glue, and the gzip of an esbuild bundle
// (browser platform, minified) of `import { createFetch } from "ballast-fetch"` beside the same bundle
// for each peer, all measured in this run. With --twiggy (the orchestrator passes it in full runs
// when `twiggy` is installed), also the top size contributors of a copy of the wasm built with
// symbol names (its own CARGO_TARGET_DIR under the OS temp dir; target/ is not touched).
//
//   node bench/size.mjs [--twiggy]

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { BENCH, REPO, args, emit } from "./lib/common.mjs";

// The browsers' build as scripts/build.sh makes it: profile wasm, without the `shared` feature.
const BROWSER_BUILD = ["build", "--profile", "wasm", "--target", "wasm32-unknown-unknown", "--lib", "--quiet", "--no-default-features", "--features", "binding"];

const gzip = (buf) => zlib.gzipSync(buf, { level: 9 }).length;
const brotli = (buf) =>
  zlib.brotliCompressSync(buf, {
    params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length },
  }).length;
const sizes = (buf) => ({ raw: buf.length, gzip: gzip(buf), brotli: brotli(buf) });

const PKG = path.join(REPO, "pkg");
const wasm = readFileSync(path.join(PKG, "gen/ballast_bg.wasm"));
const wasmFast = readFileSync(path.join(PKG, "gen/ballast_fast_bg.wasm"));
const glue = readFileSync(path.join(PKG, "gen/ballast.js"));
// JS snippets wasm-bindgen emits for the wasm's own imports (none today: the build has none).
const snippetFiles = [];
(function walk(dir) {
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) walk(p);
    else snippetFiles.push(p);
  }
})(path.join(PKG, "gen/snippets"));
// The hand-written JS a browser loads with createFetch: every module of the package but the
// other runtimes' entries and what only they import, the export helpers and the tools entries (ballast-fetch/sim and
// ballast-fetch/drift: their own subpaths, never in a createFetch bundle).
const NOT_BROWSER = new Set(["node.js", "deno.js", "workerd.js", "workers-executor.js", "server.js", "server-executor.js", "export.js"]);
const TOOLS = /^(sim|drift|tools)[-.]/;
const handJsFiles = JSON.parse(readFileSync(path.join(PKG, "package.json"), "utf8"))
  .files.filter((f) => f.endsWith(".js") && !f.startsWith("gen/") && !f.startsWith("bin/") && !NOT_BROWSER.has(f) && !TOOLS.test(f));
const handJs = Buffer.concat([
  ...handJsFiles.map((f) => readFileSync(path.join(PKG, f))),
  ...snippetFiles.map((f) => readFileSync(f)),
]);

// esbuild bundles, from a scratch dir whose node_modules links ballast (pkg/) and the peers.
const require = createRequire(path.join(REPO, "package.json"));
const esbuild = require("esbuild");
const work = path.join(os.tmpdir(), `ballast-bench-size-${process.pid}`);
mkdirSync(path.join(work, "node_modules"), { recursive: true });
symlinkSync(PKG, path.join(work, "node_modules/ballast-fetch"), "dir");
for (const dep of readdirSync(path.join(BENCH, "node_modules"))) {
  if (!dep.startsWith(".")) symlinkSync(path.join(BENCH, "node_modules", dep), path.join(work, "node_modules", dep), "dir");
}
const ENTRIES = {
  ballast: `import { createFetch } from "ballast-fetch"; globalThis.x = createFetch;`,
  ky: `import ky from "ky"; globalThis.x = ky;`,
  ofetch: `import { ofetch } from "ofetch"; globalThis.x = ofetch;`,
  "p-retry": `import pRetry from "p-retry"; globalThis.x = pRetry;`,
  cockatiel: `import { retry, handleAll, ExponentialBackoff, timeout, wrap, TimeoutStrategy } from "cockatiel"; globalThis.x = [retry, handleAll, ExponentialBackoff, timeout, wrap, TimeoutStrategy];`,
};
const bundles = {};
try {
  for (const [name, contents] of Object.entries(ENTRIES)) {
    const r = await esbuild.build({
      stdin: { contents, resolveDir: work, loader: "js" },
      bundle: true,
      minify: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "silent",
    });
    const js = Buffer.from(r.outputFiles[0].contents);
    bundles[name] = { js: sizes(js) };
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
bundles.ballast.wasm = sizes(wasm);
bundles.ballast.totalGzip = bundles.ballast.js.gzip + bundles.ballast.wasm.gzip;

const out = {
  esbuild: esbuild.version,
  wasm: sizes(wasm),
  wasmFast: sizes(wasmFast),
  glue: sizes(glue),
  handwrittenJs: sizes(handJs),
  bundles,
};

// twiggy on a copy with names (same profile, strip off; wasm-bindgen + wasm-opt as build.sh, with -g).
if (args.includes("--twiggy")) {
  try {
    out.twiggy = twiggy();
  } catch (e) {
    out.twiggyError = String(e?.message || e).slice(0, 500);
  }
}
emit(out);

function twiggy() {
  const target = path.join(os.tmpdir(), "ballast-bench-target");
  const env = { ...process.env, CARGO_TARGET_DIR: target, CARGO_PROFILE_WASM_STRIP: "none" };
  let source = "the working tree";
  try {
    execFileSync("cargo", BROWSER_BUILD, {
      cwd: REPO,
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch {
    // The working tree may be mid-edit; analyse the last commit instead (exported, git untouched).
    const head = path.join(os.tmpdir(), "ballast-bench-head");
    rmSync(head, { recursive: true, force: true });
    mkdirSync(head, { recursive: true });
    execFileSync("bash", ["-c", `git archive HEAD | tar -x -C "${head}"`], { cwd: REPO });
    execFileSync("cargo", BROWSER_BUILD, {
      cwd: head,
      env,
      stdio: ["ignore", "ignore", "inherit"],
    });
    source = `HEAD (${execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: REPO }).toString().trim()}; the working tree did not build)`;
  }
  const rustWasm = path.join(target, "wasm32-unknown-unknown/wasm/ballast_fetch.wasm");
  const gen = path.join(target, "bench-gen");
  rmSync(gen, { recursive: true, force: true });
  execFileSync("wasm-bindgen", [rustWasm, "--out-dir", gen, "--out-name", "ballast", "--target", "web", "--no-typescript", "--omit-default-module-path"]);
  const named = path.join(gen, "ballast_bg.wasm");
  const wasmOpt = path.join(REPO, "node_modules/.bin/wasm-opt");
  // The shipped build's passes and flags (scripts/build.sh), plus -g to keep the names.
  const lines = (f) => readFileSync(path.join(REPO, "scripts", f), "utf8").split("\n").filter(Boolean);
  const passes = lines("wasm-opt-browser.flags");
  const flags = lines("wasm-opt.flags");
  execFileSync(wasmOpt, [...passes, ...flags, "-g", named, "-o", named]);
  const top = JSON.parse(execFileSync("twiggy", ["top", "-n", "100000", "--format", "json", named], { maxBuffer: 1 << 28 }))
    .filter((r) => !/^"(function|data|local|type|global|label|elem) names" subsection|custom section/.test(r.name)); // not shipped
  const total = top.reduce((s, r) => s + r.shallow_size, 0);
  // Attribute each item to a crate by its first path segment (`<serde_json::... as core::fmt::..>`
  // counts for the crate of the implementing type).
  const byCrate = new Map();
  for (const r of top) {
    const crate = crateOf(r.name);
    byCrate.set(crate, (byCrate.get(crate) || 0) + r.shallow_size);
  }
  // Retained sizes (dominator tree): what each export / the function table keeps alive.
  const dom = JSON.parse(execFileSync("twiggy", ["dominators", "--format", "json", named], { maxBuffer: 1 << 28 }));
  const roots = (dom.items?.[0]?.children ?? dom.items ?? [])
    .filter((r) => !/function names|custom section/.test(r.name))
    .sort((a, b) => b.retained_size - a.retained_size)
    .slice(0, 8)
    .map((r) => ({ name: r.name.slice(0, 100), retained: r.retained_size, percent: (100 * r.retained_size) / total }));
  const version = execFileSync("twiggy", ["--version"]).toString().trim();
  return {
    version,
    file: `wasm profile (opt-level z) with names (strip = none) -> wasm-bindgen -> wasm-opt ${passes.join(" ")} ${flags.filter((f) => !f.startsWith("--enable-")).join(" ")} -g`,
    source,
    bytesWithNames: readFileSync(named).length,
    codeAndDataBytes: total,
    top: top.slice(0, 25).map((r) => ({ name: r.name.slice(0, 140), bytes: r.shallow_size, percent: (100 * r.shallow_size) / total })),
    retainedBy: roots,
    byCrate: [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([crate, bytes]) => ({ crate, bytes })),
    rustWasmBytes: readFileSync(rustWasm).length,
  };
}

function crateOf(name) {
  if (/^data segment|^data\[/.test(name)) return "(data: strings, tables)";
  if (/shim|^__externref|^__wbindgen|^__wbg/.test(name)) return "wasm-bindgen (export shims, externref table)";
  if (/^(import|export|type\[|table\[|elem\[|global\[|memory\[)/.test(name)) return "(wasm sections, imports, exports)";
  if (/^<(char|str|u8|u16|u32|u64|usize|i32|i64|f32|f64|bool)>::/.test(name)) return "core";
  // The first path segment names the crate: `core[hash]::fmt::..`, `<f64 as core::fmt::Display>::fmt`
  // (core), `<serde_path_to_error::de::Deserializer<D> as serde::..>` (the former).
  const m = /(?:^|[<\s&(*])([a-z_][a-z0-9_]*)(?:\[[0-9a-f]+\])?::/.exec(name);
  if (m) return m[1];
  if (/^(memcpy|memset|memmove|memcmp|dlmalloc|__rust|rust_)/.test(name)) return "std (alloc/mem)";
  return "(other)";
}

// 5b. The engine in wasm, from Node: the per-call cost of the wrapped fetch over an in-memory
// transport (`transport: async () => new Response("x")`) minus the cost of calling that transport
// directly, which isolates engine + JS/wasm boundary + driver. Also snapshot() and a breakdown of
// the JS-side work the driver does per call (each piece timed alone), to say where the time goes.
//
//   node bench/engine-wasm.mjs [--smoke]

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createFetch } from "../pkg/node.js";
import { BENCH, SMOKE, emit, median } from "./lib/common.mjs";

const N = SMOKE ? 2_000 : 12_000; // calls per sample
const SAMPLES = SMOKE ? 2 : 7;
// Run with --expose-gc (bench/run.mjs does): a collection before each timing keeps one variant's
// garbage from being collected on the next one's time.
const gc = globalThis.gc ?? (() => {});
const URL_ = "http://127.0.0.1:9/items?id=42";

const transport = async () => new Response("x");

/** ns per call of an async function, awaited one at a time. */
async function timeAsync(fn, n = N) {
  gc();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) * 1e6) / n;
}

/** ns per call of a sync function (results kept alive so nothing is optimised away). */
const sink = new Array(1024);
function timeSync(fn, n = N) {
  gc();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink[i & 1023] = fn();
  return ((performance.now() - t0) * 1e6) / n;
}

/** ns per call with 64 calls in flight at once (Promise.all batches). */
async function timeBatch(fn, n = N) {
  const batches = Math.max(1, Math.floor(n / 64));
  gc();
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const ps = new Array(64);
    for (let i = 0; i < 64; i++) ps[i] = fn();
    await Promise.all(ps);
  }
  return ((performance.now() - t0) * 1e6) / (batches * 64);
}

const fDefault = createFetch({ transport });
const fNoTimers = createFetch({ transport, timeout: { attemptMs: null, totalMs: null } });
const fListening = createFetch({ transport });
fListening.on("retry", () => {});
fListening.on("giveup", () => {});
const ac = new AbortController();
const init = { signal: ac.signal };

// The JS-side pieces of one call, as the driver does them (pkg/driver.js).
const pieces = {
  "new Headers(init.headers) (glue describe; only when the call has headers)": () => new Headers({ accept: "application/json" }),
  "new AbortController().signal (one per attempt; Node makes the signal lazily)": () =>
    new AbortController().signal,
  "setTimeout + clearTimeout (one per call: the earlier of attempt timeout and deadline)": () => clearTimeout(setTimeout(noop, 10_000)),
  "Object.assign({}, init, {signal}) (glue send)": () => Object.assign({}, undefined, { signal: ac.signal }),
  "AbortSignal.any([caller, attempt]) (with a caller signal)": () =>
    AbortSignal.any([ac.signal, new AbortController().signal]),
  "TextEncoder.encodeInto of the URL (string into wasm)": (() => {
    const enc = new TextEncoder();
    const buf = new Uint8Array(256);
    return () => enc.encodeInto(URL_, buf);
  })(),
};
function noop() {}

const asyncVariants = {
  "transport called directly": () => transport(URL_),
  "transport + .catch() wrapper (the least a wrapper does)": () =>
    transport(URL_).catch((e) => Promise.reject(e)),
  "ballast (defaults: a signal and one timer per call)": () => fDefault(URL_),
  "ballast (timeout.attemptMs/totalMs null: no signal, no timer)": () => fNoTimers(URL_),
  "ballast (defaults, with a caller signal)": () => fDefault(URL_, init),
  "ballast (defaults, retry+giveup listeners on)": () => fListening(URL_),
};

// Cold: between two real requests the CPU runs ~250 µs of socket, HTTP and stream code that evicts
// its caches, so every ballast call runs with cold caches, unlike the back-to-back loop above.
// These variants evict them in the transport (touching 4 MB) before it answers, so the difference
// shows what a call costs cold.
const big = new Uint32Array(1 << 20);
const evict = () => {
  for (let i = 0; i < big.length; i += 16) big[i]++;
};
const coldTransport = async () => {
  evict();
  return new Response("x");
};
const fColdDefault = createFetch({ transport: coldTransport });
const fColdNoTimers = createFetch({ transport: coldTransport, timeout: { attemptMs: null, totalMs: null } });
const coldVariants = {
  "transport (evicting the caches) called directly": () => coldTransport(URL_),
  "ballast (defaults)": () => fColdDefault(URL_),
  "ballast (timeouts null)": () => fColdNoTimers(URL_),
};
const COLD_N = SMOKE ? 100 : 1500;

// Warm-up.
for (const fn of Object.values(asyncVariants)) await timeAsync(fn, SMOKE ? 500 : 5000);
for (const fn of Object.values(coldVariants)) await timeAsync(fn, SMOKE ? 50 : 300);

const seq = Object.fromEntries(Object.keys(asyncVariants).map((k) => [k, []]));
const batch = { "transport called directly": [], "ballast (defaults: a signal and one timer per call)": [] };
const piece = Object.fromEntries(Object.keys(pieces).map((k) => [k, []]));
const snap = [];
const cold = {};
for (let s = 0; s < SAMPLES; s++) {
  const names = Object.keys(asyncVariants);
  for (let i = 0; i < names.length; i++) {
    const k = names[(i + s) % names.length]; // rotate the order per sample
    seq[k].push(await timeAsync(asyncVariants[k]));
  }
  for (const k of Object.keys(batch)) batch[k].push(await timeBatch(asyncVariants[k]));
  for (const [k, fn] of Object.entries(pieces)) piece[k].push(timeSync(fn, k.startsWith("AbortSignal.any") ? N / 10 : N));
  snap.push(timeSync(() => fDefault.snapshot(), SMOKE ? 200 : 5000));
  for (const [k, fn] of Object.entries(coldVariants)) (cold[k] ??= []).push(await timeAsync(fn, COLD_N));
}

const m = (xs) => median(xs);
const direct = m(seq["transport called directly"]);
const out = {
  samples: SAMPLES,
  callsPerSample: N,
  sequentialNs: Object.fromEntries(Object.entries(seq).map(([k, v]) => [k, m(v)])),
  addedNs: Object.fromEntries(
    Object.entries(seq)
      .filter(([k]) => k !== "transport called directly")
      .map(([k, v]) => [k, m(v) - direct]),
  ),
  batch64Ns: Object.fromEntries(Object.entries(batch).map(([k, v]) => [k, m(v)])),
  piecesNs: Object.fromEntries(Object.entries(piece).map(([k, v]) => [k, m(v)])),
  snapshotNs: m(snap),
  coldAddedNs: Object.fromEntries(
    Object.entries(cold)
      .filter(([k]) => !k.startsWith("transport"))
      .map(([k, v]) => [k, m(v) - m(cold["transport (evicting the caches) called directly"])]),
  ),
  snapshotKeys: Object.keys(fDefault.snapshot()),
};
out.profile = profile();
emit(out);

/**
 * Where a call's time goes: a CPU profile of ballast over the in-memory transport (own process),
 * self time grouped by what the code is. Includes the transport's own `new Response`.
 */
function profile() {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ballast-bench-prof-"));
  try {
    const stdout = execFileSync(
      process.execPath,
      ["--cpu-prof", "--cpu-prof-interval", "50", "--cpu-prof-dir", dir, path.join(BENCH, "lib/profile-child.mjs"), String(SMOKE ? 5000 : 100_000)],
      { encoding: "utf8" },
    );
    const { nsPerCall } = JSON.parse(stdout.trim().split("\n").pop());
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    const p = JSON.parse(readFileSync(path.join(dir, file), "utf8"));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const groups = new Map();
    const fns = new Map();
    let total = 0;
    p.samples.forEach((id, i) => {
      const dt = p.timeDeltas[i] || 0;
      const cf = byId.get(id).callFrame;
      const g = classify(cf.functionName, cf.url);
      if (g === null) return; // idle / program start-up
      total += dt;
      groups.set(g, (groups.get(g) || 0) + dt);
      const name = `${cf.functionName || "(anonymous)"} ${cf.url.split("/").slice(-2).join("/")}`.trim();
      fns.set(name, (fns.get(name) || 0) + dt);
    });
    const share = (m) =>
      [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => ({ what: k, share: v / total, ns: (v / total) * nsPerCall }));
    return { nsPerCall, groups: share(groups), topFunctions: share(fns).slice(0, 12) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function classify(fn, url) {
  if (fn === "(idle)" || fn === "(root)") return null;
  if (fn === "(garbage collector)") return "garbage collection";
  if (/makeTransferable|JSTransferable|createAbortSignal|AbortController|AbortSignal|abort_controller/.test(fn + url))
    return "AbortController/AbortSignal creation (Node: makeTransferable)";
  if (/makeMutClosure|_wbg_cb_unref|closure|CLOSURE_DTORS|FinalizationRegistry/i.test(fn))
    return "wasm-bindgen closures (Closure::new, drop)";
  if (/timers|setTimeout|clearTimeout|unenroll|insert|Timeout/.test(fn + url)) return "timers (setTimeout/clearTimeout)";
  if (/^(wasm-to-js|js-to-wasm)/.test(fn)) return "JS<->wasm trampolines";
  if (url.startsWith("wasm://") || fn.startsWith("wasm-function")) return "Rust code in wasm";
  if (url.endsWith("gen/ballast.js")) return "wasm-bindgen glue (strings, externref table, calls)";
  if (url.endsWith("pkg/driver.js")) return "the attempt loop (pkg/driver.js)";
  if (url.includes("/snippets/") || url.endsWith("glue.js")) return "JS helpers the wasm calls (src/wasm/glue.js)";
  if (url.endsWith("pkg/api.js")) return "pkg/api.js wrapper";
  if (/undici|webstreams|Response|Headers|streams/.test(fn + url)) return "the transport's new Response() (baseline work)";
  if (url.includes("profile-child")) return "benchmark loop";
  return "other (promises, microtasks, runtime)";
}

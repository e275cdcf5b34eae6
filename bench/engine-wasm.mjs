// 5b. The engine in wasm, from Node, three ways:
// - the step API alone (engine + wasm-bindgen glue + the boundary's step outputs), for each of the
//   two builds: a call is `client.begin(...)` -> a start action -> `client.response(...)` -> a
//   settle action, as pkg/executor.js drives it (timers fired when due, events and detail read when
//   pending), with no promise, fetch or timer; virtual time advances 10 µs per call, as in the
//   native benchmark (benches/engine.rs), so the two compare;
// - through the JS executor (pkg/api.js's bind with a virtual clock, as tests/js/builds.test.mjs
//   does) over an in-memory transport, for each build: executor + engine + glue, no setTimeout;
// - the package as Node loads it (pkg/node.js: the fast build, real clock and timers) over an
//   in-memory transport (`transport: async () => new Response("x")`), minus calling that transport
//   directly, which isolates engine + JS/wasm boundary + executor.
// Also snapshot(), the JS-side pieces of a call each timed alone, and a CPU profile grouped by
// cause, to say where the time goes.
//
//   node bench/engine-wasm.mjs [--smoke]

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createFetch } from "../pkg/node.js";
import { bind } from "../pkg/api.js";
import { encode, readConfig } from "../pkg/config.js";
import { instantiate } from "../pkg/gen/ballast.js";
import { Host } from "../pkg/host.js";
import { BENCH, REPO, SMOKE, emit, median } from "./lib/common.mjs";

const N = SMOKE ? 2_000 : 12_000; // calls per sample
const SAMPLES = SMOKE ? 2 : 7;
// No forced collection before a timing: after one, V8 runs the code two to three times slower for
// the next few thousand calls (bench/lib/pairs.mjs), which a sample of this size would measure.
const URL_ = "http://127.0.0.1:9/items?id=42";

const transport = async () => new Response("x");

/** ns per call of an async function, awaited one at a time. */
async function timeAsync(fn, n = N) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) * 1e6) / n;
}

/** ns per call of a sync function (results kept alive so nothing is optimised away). */
const sink = new Array(1024);
function timeSync(fn, n = N) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) sink[i & 1023] = fn();
  return ((performance.now() - t0) * 1e6) / n;
}

/** ns per call with 64 calls in flight at once (Promise.all batches). */
async function timeBatch(fn, n = N) {
  const batches = Math.max(1, Math.floor(n / 64));
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    const ps = new Array(64);
    for (let i = 0; i < 64; i++) ps[i] = fn();
    await Promise.all(ps);
  }
  return ((performance.now() - t0) * 1e6) / (batches * 64);
}

// ---------------------------------------------------------------------------- the step API alone
const GEN = path.join(REPO, "pkg/gen");
const BUILDS = {
  small: { file: "ballast_bg.wasm", label: "small build (ballast_bg.wasm, browsers)" },
  fast: { file: "ballast_fast_bg.wasm", label: "fast build (ballast_fast_bg.wasm, Node, Deno, Bun, workerd)" },
};
const modules = Object.fromEntries(
  Object.entries(BUILDS).map(([k, b]) => [k, new WebAssembly.Module(readFileSync(path.join(GEN, b.file)))]),
);

// Scenarios as in benches/engine.rs: backoff of a microsecond so a retry takes its real path (a
// backoff timer set, then fired) without spreading virtual time; budget ratio 10 so it never runs dry.
const STEP_SCENARIOS = {
  ok: { what: "one call, 200 (defaults)", config: {}, statuses: [200] },
  ok_timeouts_null: { what: "one call, 200, timeouts null", config: { timeout: { attemptMs: null, totalMs: null } }, statuses: [200] },
  retry_ok: {
    what: "503 → retry (backoff, budget) → 200",
    config: { retry: { backoff: { baseMs: 0.001 } }, budget: { ratio: 10 } },
    statuses: [503, 200],
  },
};

/**
 * A wasm Client of `module` (a fresh instance through the glue's factory, as pkg/host.js makes
 * them) and a function making one call through its step API, as pkg/executor.js drives it.
 */
function stepDriver(module, config, statuses) {
  const host = new Host(instantiate(module));
  const b = host.boundary;
  const { data } = readConfig({ ...config, seed: 7 });
  const client = new host.Client(encode(data, b.T), {
    configError: (p, allowed) => new Error(`config ${p}: ${allowed}`),
  });
  client.setListening(0);
  let now = 1000;
  let wake = Infinity;
  let calls = 0;
  let settled = 0;
  /** After every input: what the executor reads (copied into a kept buffer, as it does), and the timer it would arm. */
  let kept;
  const after = (ptr) => {
    const out = (kept = host.copyOut(ptr, kept));
    const pending = out[b.H_PENDING];
    if (pending & b.PENDING_DETAIL) client.detail();
    if (pending & b.PENDING_EVENTS) client.events();
    const at = out[b.H_TIMEOUT];
    wake = at >= 0 ? at : Infinity;
    return out;
  };
  /** The started attempt in `out` (-1: none), or -2 when `out` settles the call. */
  const scan = (out) => {
    let started = -1;
    for (let k = 0, at = b.HEADER; k < out[b.H_COUNT]; k++, at += b.WIDTH) {
      const kind = out[at + b.F_KIND];
      if (kind === b.START) started = out[at + b.F_ATTEMPT];
      else if (kind !== b.ABORT) return -2;
    }
    return started;
  };
  const fire = () => {
    if (wake <= now) after(client.timeout(now));
  };
  const call = () => {
    calls++;
    now += 0.01;
    fire();
    let out = after(client.begin(undefined, URL_, 0, now));
    const task = out[b.H_TASK];
    let answer = 0;
    for (;;) {
      const started = scan(out);
      if (started === -2) {
        settled++;
        fire();
        return out;
      }
      if (started >= 0) {
        now += 0.005;
        out = after(client.response(task, started, statuses[answer++], 0, undefined, now, 1.7e12 + now));
      } else {
        // Sleeping before a retry: the backoff timer is the next one due.
        if (!(wake < Infinity)) throw new Error("a call neither settled, started nor waits on a timer");
        now = Math.max(now, wake);
        out = after(client.timeout(now));
      }
    }
  };
  const snapshot = () => client.snapshot(now);
  const check = () => {
    if (settled !== calls) throw new Error(`step driver: ${calls - settled} of ${calls} calls did not settle`);
  };
  return { call, snapshot, check };
}

const stepDrivers = {};
for (const build of Object.keys(BUILDS)) {
  for (const [sc, { config, statuses }] of Object.entries(STEP_SCENARIOS)) {
    stepDrivers[`${build}/${sc}`] = stepDriver(modules[build], config, statuses);
  }
}
const STEP_N = SMOKE ? 5_000 : 100_000;

// ------------------------------------------------------- the JS executor on a virtual clock
/** Time that moves only when the loop moves it; the executor's one timer fires when due. */
function virtualClock() {
  let t = 1000;
  const timers = new Set();
  const clock = {
    now: () => t,
    wall: () => 1.7e12 + t,
    set: (fn, ms) => {
      const timer = { at: t + ms, fn };
      timers.add(timer);
      return timer;
    },
    clear: (timer) => timers.delete(timer),
  };
  const tick = () => {
    t += 0.01;
    for (const timer of timers) {
      if (timer.at <= t) {
        timers.delete(timer);
        timer.fn();
      }
    }
  };
  return { clock, tick };
}
const virtual = {};
for (const build of Object.keys(BUILDS)) {
  for (const [k, config] of [
    ["defaults", {}],
    ["timeouts null", { timeout: { attemptMs: null, totalMs: null } }],
  ]) {
    const { clock, tick } = virtualClock();
    const f = bind(() => modules[build], { clock })({ ...config, transport });
    virtual[`${build}, ${k}`] = () => {
      tick();
      return f(URL_);
    };
  }
}

// -------------------------------------------------------- the package as Node loads it
const fDefault = createFetch({ transport });
const fNoTimers = createFetch({ transport, timeout: { attemptMs: null, totalMs: null } });
const fListening = createFetch({ transport });
fListening.on("retry", () => {});
fListening.on("giveup", () => {});
const ac = new AbortController();
const init = { signal: ac.signal };

// The JS-side pieces of one call, as the executor does them (pkg/executor.js, pkg/request.js).
const pieces = {
  "new Headers(init.headers) (describe, request.js; only when the call has headers)": () => new Headers({ accept: "application/json" }),
  "new AbortController().signal (one per attempt when a timeout or hedging may abort it; Node makes the signal lazily)": () =>
    new AbortController().signal,
  "setTimeout + clearTimeout (now one timer per client, re-armed only when the engine's next wake-up moves earlier; was one per call)": () =>
    clearTimeout(setTimeout(noop, 10_000)),
  "Object.assign({}, init, {signal}) (send, request.js)": () => Object.assign({}, undefined, { signal: ac.signal }),
  "AbortSignal.any([caller, attempt]) (with a caller signal)": () =>
    AbortSignal.any([ac.signal, new AbortController().signal]),
  "TextEncoder.encodeInto of the URL (string into wasm)": (() => {
    const enc = new TextEncoder();
    const buf = new Uint8Array(256);
    return () => enc.encodeInto(URL_, buf);
  })(),
  "new Promise + resolve (the call's promise, executor.js)": () => {
    let r;
    const p = new Promise((res) => (r = res));
    r(1);
    return p;
  },
  "Map set + get + delete (the executor's calls and an attempt's flights)": (() => {
    const m = new Map();
    let k = 0;
    return () => {
      m.set(++k, k);
      const v = m.get(k);
      m.delete(k);
      return v;
    };
  })(),
};
function noop() {}

const asyncVariants = {
  "transport called directly": () => transport(URL_),
  "transport + .catch() wrapper (the least a wrapper does)": () =>
    transport(URL_).catch((e) => Promise.reject(e)),
  "ballast (defaults: a signal per attempt; the client's one timer)": () => fDefault(URL_),
  "ballast (timeout.attemptMs/totalMs null: no signal of its own)": () => fNoTimers(URL_),
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
for (const d of Object.values(stepDrivers)) timeSync(d.call, SMOKE ? 2000 : 20_000);
for (const fn of Object.values(virtual)) await timeAsync(fn, SMOKE ? 500 : 5000);
for (const fn of Object.values(asyncVariants)) await timeAsync(fn, SMOKE ? 500 : 5000);
for (const fn of Object.values(coldVariants)) await timeAsync(fn, SMOKE ? 50 : 300);

const seq = Object.fromEntries(Object.keys(asyncVariants).map((k) => [k, []]));
const DEFAULTS_ROW = "ballast (defaults: a signal per attempt; the client's one timer)";
const batch = { "transport called directly": [], [DEFAULTS_ROW]: [] };
const steps = Object.fromEntries(Object.keys(stepDrivers).map((k) => [k, []]));
const stepSnap = Object.fromEntries(Object.keys(BUILDS).map((k) => [k, []]));
const virt = Object.fromEntries(Object.keys(virtual).map((k) => [k, []]));
const piece = Object.fromEntries(Object.keys(pieces).map((k) => [k, []]));
const snap = [];
const cold = {};
for (let s = 0; s < SAMPLES; s++) {
  const names = Object.keys(asyncVariants);
  for (let i = 0; i < names.length; i++) {
    const k = names[(i + s) % names.length]; // rotate the order per sample
    seq[k].push(await timeAsync(asyncVariants[k]));
  }
  const stepNames = Object.keys(stepDrivers);
  for (let i = 0; i < stepNames.length; i++) {
    const k = stepNames[(i + s) % stepNames.length];
    steps[k].push(timeSync(stepDrivers[k].call, STEP_N));
  }
  for (const b of Object.keys(BUILDS)) stepSnap[b].push(timeSync(stepDrivers[`${b}/ok`].snapshot, SMOKE ? 200 : 5000));
  const virtNames = Object.keys(virtual);
  for (let i = 0; i < virtNames.length; i++) {
    const k = virtNames[(i + s) % virtNames.length];
    virt[k].push(await timeAsync(virtual[k]));
  }
  for (const k of Object.keys(batch)) batch[k].push(await timeBatch(asyncVariants[k]));
  for (const [k, fn] of Object.entries(pieces)) piece[k].push(timeSync(fn, k.startsWith("AbortSignal.any") ? N / 10 : N));
  snap.push(timeSync(() => fDefault.snapshot(), SMOKE ? 200 : 5000));
  for (const [k, fn] of Object.entries(coldVariants)) (cold[k] ??= []).push(await timeAsync(fn, COLD_N));
}

for (const d of Object.values(stepDrivers)) d.check();

const m = (xs) => median(xs);
const direct = m(seq["transport called directly"]);
const out = {
  samples: SAMPLES,
  callsPerSample: N,
  builds: Object.fromEntries(
    Object.entries(BUILDS).map(([k, b]) => [k, { ...b, bytes: readFileSync(path.join(GEN, b.file)).length }]),
  ),
  step: {
    callsPerSample: STEP_N,
    scenarios: Object.fromEntries(Object.entries(STEP_SCENARIOS).map(([k, v]) => [k, v.what])),
    ns: Object.fromEntries(
      Object.keys(BUILDS).map((b) => [
        b,
        Object.fromEntries(Object.keys(STEP_SCENARIOS).map((sc) => [sc, m(steps[`${b}/${sc}`])])),
      ]),
    ),
    snapshotNs: Object.fromEntries(Object.entries(stepSnap).map(([k, v]) => [k, m(v)])),
  },
  virtualNs: Object.fromEntries(Object.entries(virt).map(([k, v]) => [k, m(v)])),
  virtualAddedNs: Object.fromEntries(Object.entries(virt).map(([k, v]) => [k, m(v) - direct])),
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
    return { nsPerCall, groups: share(groups), topFunctions: share(fns).slice(0, 15) };
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
  if (url.endsWith("gen/ballast.js")) return "wasm-bindgen glue (strings, step outputs, calls)";
  if (url.includes("/pkg/gen/snippets/")) return "JS helpers the wasm calls (src/wasm/glue.js)";
  if (/\/pkg\/[a-z-]+\.js$/.test(url)) return "ballast's JS (executor: pkg/executor.js, request.js, boundary.js, listeners.js, api.js)";
  if (/undici|webstreams|Response|Headers|streams/.test(fn + url)) return "the transport's new Response() (baseline work)";
  if (url.includes("profile-child")) return "benchmark loop";
  return "other (promises, microtasks, runtime)";
}

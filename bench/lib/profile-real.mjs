// Run by bench/overhead.mjs, one process per sample: raw fetch, raw fetch with a signal and a
// timer (the least a timeout costs), or ballast (its defaults) against the loopback origin,
// closed loop, under the CPU profiler, to say how much of a request's CPU time is ballast's own
// code and how much is the runtime's (fetch, streams, signals, timers, garbage collection). The in-memory profile of bench/engine-wasm.mjs cannot say this: there the
// caches stay warm and nothing else runs between two calls.
//
//   node bench/lib/profile-real.mjs <url> <fetch|floor|ballast> <concurrency> <requests>
// prints one JSON line: { requests, rps, usPerRequest: { <group>: µs of main-thread CPU },
// ownUsPerRequest: { <file or function of ballast's JS, glue or engine>: µs } }.

import { Session } from "node:inspector/promises";
import { createFetch } from "../../pkg/node.js";
import { BALLAST } from "../scenarios.mjs";
import { fetchWithTimeout, loadLoop } from "./pairs.mjs";

const [url, variant, concurrency, requests] = process.argv.slice(2);
const c = Number(concurrency);
const n = Number(requests);
if (!url || !["fetch", "floor", "ballast"].includes(variant) || !(c >= 1) || !(n >= 1)) {
  throw new Error("usage: profile-real.mjs <url> <fetch|floor|ballast> <concurrency> <requests>");
}
const readJson = (r) => r.json();
const f = variant === "ballast" ? createFetch(BALLAST.overhead.config({})) : fetch;
const call = variant === "floor" ? () => fetchWithTimeout(url, readJson) : async () => readJson(await f(url));

// Warm-up: connections open, code optimised.
await loadLoop(call, { concurrency: c, durationMs: 1500, maxCount: Math.max(2000, n >> 1) });

const session = new Session();
session.connect();
await session.post("Profiler.enable");
await session.post("Profiler.setSamplingInterval", { interval: 100 });
await session.post("Profiler.start");
const run = await loadLoop(call, { concurrency: c, durationMs: 60_000, maxCount: n });
const { profile } = await session.post("Profiler.stop");
session.disconnect();
if (run.errors > 0) throw new Error(`${run.errors} of ${run.count} requests failed`);

const GROUPS = {
  js: "ballast: its JS (executor: pkg/executor.js, request.js, boundary.js, listeners.js, api.js)",
  glue: "ballast: wasm-bindgen glue (gen/ballast.js)",
  engine: "ballast: engine (Rust in wasm)",
  gc: "garbage collection",
  runtime: "the runtime: fetch (undici), streams, signals, timers, promises",
};
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const isWasm = (cf) => cf.url.startsWith("wasm://") || cf.functionName.startsWith("wasm-function");
/** A wasm frame is ballast's when the JS frame that entered wasm is ballast's glue. */
function wasmOwner(id) {
  for (let at = parent.get(id); at !== undefined; at = parent.get(at)) {
    const cf = byId.get(at).callFrame;
    if (cf.url === "" || isWasm(cf)) continue; // trampolines, wasm calling wasm
    return cf.url.includes("/pkg/") ? GROUPS.engine : GROUPS.runtime; // else undici's llhttp
  }
  return GROUPS.runtime;
}
function group(id) {
  const cf = byId.get(id).callFrame;
  if (cf.functionName === "(idle)" || cf.functionName === "(root)") return null;
  if (cf.functionName === "(garbage collector)") return GROUPS.gc;
  if (isWasm(cf)) return wasmOwner(id);
  if (cf.url.includes("/pkg/gen/")) return GROUPS.glue; // the glue and its snippets
  if (cf.url.includes("/pkg/")) return GROUPS.js;
  return GROUPS.runtime; // including the load loop's own few lines
}

const us = Object.fromEntries(Object.values(GROUPS).map((g) => [g, 0]));
// ballast's own time by function (file:function for its JS and glue; the engine as one), to say
// where its JS spends its time.
const own = {};
profile.samples.forEach((id, i) => {
  const g = group(id);
  if (g === null) return;
  const dt = profile.timeDeltas[i] ?? 0;
  us[g] += dt;
  if (g === GROUPS.js || g === GROUPS.glue) {
    const cf = byId.get(id).callFrame;
    const k = `${cf.url.split("/pkg/")[1]}: ${cf.functionName || "(anonymous)"}`;
    own[k] = (own[k] ?? 0) + dt;
  } else if (g === GROUPS.engine) own["(the engine, Rust in wasm)"] = (own["(the engine, Rust in wasm)"] ?? 0) + dt;
});
for (const g of Object.keys(us)) us[g] /= run.count;
for (const k of Object.keys(own)) own[k] /= run.count;
process.stdout.write(`${JSON.stringify({ requests: run.count, rps: run.rps, usPerRequest: us, ownUsPerRequest: own })}\n`);
process.exit(0);

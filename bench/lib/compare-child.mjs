// One sample of bench/compare.mjs, in a process of its own: the timeout floor (raw fetch + signal +
// timer), or ballast (its defaults) from the checkout `pkg` names, in a closed loop against the
// loopback origin, or (`url` "memory") against an in-memory transport that answers at once, where
// the floor is that transport given a signal and a timer. Prints one JSON line:
// { count, rps, p50, cpuUsPerReq } (CPU of the whole process, every thread: the collector's
// helpers are part of what a request costs).
//
//   node bench/lib/compare-child.mjs <url | memory> <floor | path of a checkout> <concurrency> <requests>

import path from "node:path";
import { pathToFileURL } from "node:url";
import { BALLAST } from "../scenarios.mjs";
import { fetchWithTimeout, loadLoop } from "./pairs.mjs";

const [url, what, concurrency, requests] = process.argv.slice(2);
const c = Number(concurrency);
const n = Number(requests);
if (!url || !what || !(c >= 1) || !(n >= 1)) {
  throw new Error("usage: compare-child.mjs <url | memory> <floor | checkout> <concurrency> <requests>");
}
const memory = url === "memory";
// In memory: no socket, so what remains is ballast's own code and what it allocates.
const transport = memory ? async () => new Response("x") : undefined;
const target = memory ? "http://127.0.0.1:9/json" : url;
const read = memory ? (r) => r.arrayBuffer() : (r) => r.json();
let call;
if (what === "floor") {
  call = () => fetchWithTimeout(target, read, transport);
} else {
  const { createFetch } = await import(pathToFileURL(path.join(what, "pkg/node.js")).href);
  const f = createFetch({ ...BALLAST.overhead.config({}), ...(memory ? { transport } : {}) });
  call = async () => read(await f(target));
}
// Warm-up: connections open, code optimised.
await loadLoop(call, { concurrency: c, durationMs: 1500, maxCount: Math.max(200, n >> 2) });
const cpuNow = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const run = await loadLoop(call, { concurrency: c, durationMs: 120_000, maxCount: n }, cpuNow);
if (run.errors > 0) throw new Error(`${run.errors} of ${run.count} requests failed`);
process.stdout.write(`${JSON.stringify({ count: run.count, rps: run.rps, p50: run.p50, cpuUsPerReq: run.cpuUsPerReq })}\n`);
process.exit(0);

// One sample of bench/compare.mjs, in a process of its own: the timeout floor or ballast from a
// checkout (bench/lib/compare-subject.mjs) in a closed loop. Prints one JSON line:
// { count, rps, p50, cpuUsPerReq } (CPU of the whole process, every thread: the collector's
// helpers are part of what a request costs).
//
//   node bench/lib/compare-child.mjs <url | memory> <floor | path of a checkout> <concurrency> <requests>

import { cpuNow } from "./common.mjs";
import { subjectCall } from "./compare-subject.mjs";
import { loadLoop } from "./pairs.mjs";

const [url, what, concurrency, requests] = process.argv.slice(2);
const c = Number(concurrency);
const n = Number(requests);
if (!url || !what || !(c >= 1) || !(n >= 1)) {
  throw new Error("usage: compare-child.mjs <url | memory> <floor | checkout> <concurrency> <requests>");
}
const call = await subjectCall(url, what);
// Warm-up: connections open, code optimised.
await loadLoop(call, { concurrency: c, durationMs: 1500, maxCount: Math.max(200, n >> 2) });
const run = await loadLoop(call, { concurrency: c, durationMs: 120_000, maxCount: n }, cpuNow);
if (run.errors > 0) throw new Error(`${run.errors} of ${run.count} requests failed`);
process.stdout.write(`${JSON.stringify({ count: run.count, rps: run.rps, p50: run.p50, cpuUsPerReq: run.cpuUsPerReq })}\n`);
process.exit(0);

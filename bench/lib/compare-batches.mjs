// bench/compare.mjs --in-process: the floor, checkout A and checkout B in one process, taking
// turns in batches (the order rotating every round), so that a round costs a batch of requests
// per subject instead of a process start and a warm-up each, and many more rounds fit in the same
// time. Each subject keeps its own module instance and client; they share the process's heap and
// collector, whose work lands on whichever batch runs when it comes (the rotation spreads it).
// Prints one JSON line: { floor: [sample...], A: [...], B: [...] }, a sample per round.
//
//   node bench/lib/compare-batches.mjs <url | memory> <checkout A> <checkout B> <concurrency> <requests per batch> <rounds>

import { cpuNow } from "./common.mjs";
import { subjectCall } from "./compare-subject.mjs";
import { loadLoop } from "./pairs.mjs";

const [url, a, b, concurrency, batch, rounds] = process.argv.slice(2);
const c = Number(concurrency);
const n = Number(batch);
const r = Number(rounds);
if (!url || !a || !b || !(c >= 1) || !(n >= 1) || !(r >= 1)) {
  throw new Error("usage: compare-batches.mjs <url | memory> <checkout A> <checkout B> <concurrency> <requests per batch> <rounds>");
}
const subjects = [
  { id: "floor", call: await subjectCall(url, "floor") },
  { id: "A", call: await subjectCall(url, a) },
  { id: "B", call: await subjectCall(url, b) },
];
// Warm-up: connections open, code optimised, for each.
for (const s of subjects) await loadLoop(s.call, { concurrency: c, durationMs: 1500, maxCount: Math.max(200, n) });
const samples = { floor: [], A: [], B: [] };
for (let k = 0; k < r; k++) {
  for (let i = 0; i < subjects.length; i++) {
    const s = subjects[(i + k) % subjects.length];
    const run = await loadLoop(s.call, { concurrency: c, durationMs: 120_000, maxCount: n }, cpuNow);
    if (run.errors > 0) throw new Error(`${s.id}: ${run.errors} of ${run.count} requests failed`);
    samples[s.id].push({ count: run.count, rps: run.rps, p50: run.p50, cpuUsPerReq: run.cpuUsPerReq });
  }
}
process.stdout.write(`${JSON.stringify(samples)}\n`);
process.exit(0);

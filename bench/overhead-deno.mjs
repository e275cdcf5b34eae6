// 1 (Deno). The overhead benchmark's core rows again, in Deno 2, against the same loopback origin:
// raw fetch, fetch + a signal, fetch + a signal + a timer (the least a timeout costs), ballast
// with its defaults and with both timeouts null. Deno's fetch and timers are not Node's (undici),
// so this says which costs belong to ballast and which to the runtime. Measured exactly like
// bench/overhead.mjs (bench/lib/pairs.mjs), without CPU time; run by it (it starts the origin
// and passes its URL).
//
//   deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc bench/overhead-deno.mjs URL PLAN_JSON ROUNDS \
//     LAT_ROUNDS LAT_PAIRS

import { createFetch } from "../pkg/deno.js";
import { fetchWithTimeout, measureOverhead } from "./lib/pairs.mjs";

const [url, planJson, roundsArg, latRoundsArg, latPairsArg] = Deno.args;
const PLAN = JSON.parse(planJson);
const ROUNDS = Number(roundsArg);
// Latency at concurrency 1, request by request (as in bench/overhead.mjs): rounds x pairs.
const LAT_ROUNDS = Number(latRoundsArg);
const LAT_PAIRS = Number(latPairsArg);

const readJson = async (r) => {
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
};
const ballast = createFetch({});
const ballastNoTimers = createFetch({ timeout: { attemptMs: null, totalMs: null } });
const clients = [
  { id: "fetch", label: "raw fetch", mode: "baseline", call: async () => readJson(await fetch(url)) },
  {
    id: "fetch-signal",
    label: "raw fetch + AbortController signal",
    mode: "diagnostic",
    call: async () => readJson(await fetch(url, { signal: new AbortController().signal })),
  },
  {
    id: "fetch-deadline",
    label: "raw fetch + signal + timer (the least a timeout costs)",
    mode: "diagnostic",
    call: () => fetchWithTimeout(url, readJson),
  },
  { id: "ballast-notimers", label: "ballast, timeouts null (no signal, no timer)", mode: "diagnostic", call: async () => readJson(await ballastNoTimers(url)) },
  { id: "ballast", label: "ballast", mode: "defaults", call: async () => readJson(await ballast(url)) },
];

const { rows, latency } = await measureOverhead({
  clients,
  plan: PLAN,
  rounds: ROUNDS,
  latRounds: LAT_ROUNDS,
  latPairs: LAT_PAIRS,
  warm: [
    { concurrency: 64, durationMs: 300, maxCount: 20_000 },
    { concurrency: 1, durationMs: 100, maxCount: 2_000 },
  ],
});
const result = { deno: Deno.version.deno, v8: Deno.version.v8, rounds: ROUNDS, rows, latency, latencyPairs: LAT_ROUNDS * LAT_PAIRS };
console.log(`\n@@RESULT ${JSON.stringify(result)}`);
Deno.exit(0);

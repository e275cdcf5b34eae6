// 1 (Deno). The overhead benchmark's core rows again, in Deno 2, against the same loopback origin:
// raw fetch, fetch + a signal, fetch + a signal + a timer (the least a timeout costs), ballast
// with its defaults and with both timeouts null. Deno's fetch and timers are not Node's (undici),
// so this says which costs belong to ballast and which to the runtime. Measured exactly like
// bench/overhead.mjs (bench/lib/pairs.mjs), without CPU time; run by it (it starts the origin
// and passes its URL).
//
//   deno run --allow-net=127.0.0.1 bench/overhead-deno.mjs URL SETTINGS_JSON
//
// SETTINGS_JSON: `{ plan, rounds, latRounds, latPairs }` as bench/overhead.mjs measures with.

import { createFetch } from "../pkg/deno.js";
import { fetchWithTimeout, measureOverhead } from "./lib/pairs.mjs";

const [url, settingsJson] = Deno.args;
const SETTINGS = JSON.parse(settingsJson);

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
  { id: "ballast-notimers", label: "ballast, timeouts null (no signal of its own)", mode: "diagnostic", call: async () => readJson(await ballastNoTimers(url)) },
  { id: "ballast", label: "ballast", mode: "defaults", call: async () => readJson(await ballast(url)) },
];

const { rows, latency } = await measureOverhead({
  clients,
  ...SETTINGS,
  warm: [
    { concurrency: 64, durationMs: 300, maxCount: 20_000 },
    { concurrency: 1, durationMs: 100, maxCount: 2_000 },
  ],
});
const { rounds, latRounds, latPairs } = SETTINGS;
const result = { deno: Deno.version.deno, v8: Deno.version.v8, rounds, rows, latency, latencyPairs: latRounds * latPairs };
console.log(`\n@@RESULT ${JSON.stringify(result)}`);
Deno.exit(0);

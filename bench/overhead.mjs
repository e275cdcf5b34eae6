// 1. Overhead: requests per second at concurrency 1 and 64 against a keep-alive loopback origin in
// a separate process (small JSON body), and the latency each wrapper adds to raw fetch (at
// concurrency 1 also measured request by request, interleaved with raw fetch).
//
// The machine is small (2 cores shared by client and origin) and throughput drifts by ±20% from
// one second to the next, so every client is measured in pairs with raw fetch (bench/lib/pairs.mjs
// says how). The client process's CPU time per request (user + system) is reported too: it is
// much less sensitive to the rest of the machine than wall-clock throughput. The throughput target
// pairs ballast with the timeout floor directly, in many more pairs (`measurePaired`).
//
//   node bench/overhead.mjs [--smoke] [--rounds=N] [--target-pairs=N]

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { BALLAST } from "./scenarios.mjs";
import { makeClients } from "./clients.mjs";
import { BENCH, REPO, SMOKE, argValue, cpuNow, emit, median, startOrigin } from "./lib/common.mjs";
import { measureOverhead, measurePaired } from "./lib/pairs.mjs";

const ROUNDS = Number(argValue("rounds", SMOKE ? 1 : 8));
// The throughput target: ballast directly against the timeout floor, block pairs per concurrency.
const TARGET_PAIRS = Number(argValue("target-pairs", SMOKE ? 2 : 100));
// Latency at concurrency 1, request by request: rounds x pairs per client.
const LAT_ROUNDS = SMOKE ? 1 : 6;
const LAT_PAIRS = SMOKE ? 50 : 500;
const PLAN = [
  { concurrency: 1, durationMs: SMOKE ? 60 : 400, maxCount: SMOKE ? 200 : 20_000 },
  { concurrency: 64, durationMs: SMOKE ? 80 : 500, maxCount: SMOKE ? 500 : 60_000 },
];
// What measureOverhead takes from this run, for Node here and for Deno (passed as one argument).
const SETTINGS = { plan: PLAN, rounds: ROUNDS, latRounds: LAT_ROUNDS, latPairs: LAT_PAIRS };
const run = promisify(execFile);

const origin = await startOrigin();
const url = `${origin.url}/json`;
try {
  const clients = makeClients({ ballast: BALLAST.overhead.config({}), diagnostics: true }).map((c) => {
    const call = c.make();
    return { ...c, call: () => call(url) };
  });
  const { rows, latency } = await measureOverhead({
    clients,
    ...SETTINGS,
    warm: [
      { concurrency: 64, durationMs: SMOKE ? 50 : 400, maxCount: 3000 },
      { concurrency: 1, durationMs: SMOKE ? 20 : 150, maxCount: 500 },
    ],
    cpuNow,
    onRound: (r) => process.stderr.write(`overhead: round ${r + 1}/${ROUNDS} done\n`),
  });
  const vsFloor = await measurePaired({
    subject: clients.find((c) => c.id === "ballast"),
    base: clients.find((c) => c.id === "fetch-deadline"),
    plan: PLAN,
    pairs: TARGET_PAIRS,
    cpuNow,
    onPair: (c, k) => {
      if ((k + 1) % 25 === 0 || k + 1 === TARGET_PAIRS) process.stderr.write(`overhead: vs the floor, concurrency ${c}: ${k + 1}/${TARGET_PAIRS} pairs\n`);
    },
  });
  const deno = await inDeno();
  const cpu = await whereCpuGoes();
  emit({ rounds: ROUNDS, plan: PLAN, rows, latency, latencyPairs: LAT_ROUNDS * LAT_PAIRS, vsFloor, deno, cpu });
} finally {
  await origin.close();
}

/**
 * Where a request's CPU time goes in this loop: raw fetch, raw fetch with a signal and a timer
 * (the floor of ballast's defaults) and ballast (defaults) each run under the CPU profiler in a
 * fresh process (bench/lib/profile-real.mjs), in rotating order, PROFILES times per concurrency;
 * medians per group of code, in µs of main-thread CPU per request.
 */
async function whereCpuGoes() {
  const PROFILES = SMOKE ? 1 : 3;
  const child = path.join(BENCH, "lib/profile-real.mjs");
  const out = [];
  for (const { concurrency } of PLAN) {
    const requests = SMOKE ? 300 : concurrency === 1 ? 8_000 : 20_000;
    const variants = ["fetch", "floor", "ballast"];
    const samples = Object.fromEntries(variants.map((v) => [v, []]));
    for (let i = 0; i < PROFILES; i++) {
      for (const variant of variants.map((_, j) => variants[(i + j) % variants.length])) {
        const { stdout } = await run(process.execPath, [child, url, variant, String(concurrency), String(requests)], {
          timeout: 180_000,
        });
        samples[variant].push(JSON.parse(stdout.trim().split("\n").pop()));
      }
    }
    const med = (runs) => {
      const groups = Object.keys(runs[0].usPerRequest);
      // ballast's own time by function: the median over the profiles (0 where one never sampled it).
      const fns = [...new Set(runs.flatMap((r) => Object.keys(r.ownUsPerRequest ?? {})))];
      const own = fns
        .map((k) => [k, median(runs.map((r) => r.ownUsPerRequest?.[k] ?? 0))])
        .filter(([, v]) => v > 0)
        .sort((a, b) => b[1] - a[1]);
      return {
        rps: median(runs.map((r) => r.rps)),
        usPerRequest: Object.fromEntries(groups.map((g) => [g, median(runs.map((r) => r.usPerRequest[g]))])),
        ...(own.length ? { ownUsPerRequest: Object.fromEntries(own) } : {}),
      };
    };
    out.push({ concurrency, requests, profiles: PROFILES, ...Object.fromEntries(variants.map((v) => [v, med(samples[v])])) });
  }
  return out;
}

/**
 * The same pairs in Deno (bench/overhead-deno.mjs) against this origin: which costs are ballast's
 * and which the runtime's. Skipped, with the reason, when the deno binary is not installed.
 */
async function inDeno() {
  const deno = path.join(REPO, "node_modules/.bin/deno");
  if (!existsSync(deno)) return { skipped: "deno is not installed (npm ci at the repository root)" };
  const { stdout } = await run(
    deno,
    ["run", "--allow-net=127.0.0.1", path.join(BENCH, "overhead-deno.mjs"), url, JSON.stringify(SETTINGS)],
    { maxBuffer: 1 << 24, timeout: 600_000 },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("@@RESULT "));
  if (!line) throw new Error(`overhead-deno.mjs printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice("@@RESULT ".length));
}

// 1. Overhead: requests per second at concurrency 1 and 64 against a keep-alive loopback origin in
// a separate process (small JSON body), and the latency each wrapper adds to raw fetch (at
// concurrency 1 also measured request by request, interleaved with raw fetch).
//
// The machine is small (2 cores shared by client and origin) and throughput drifts by ±20% from
// one second to the next, so every client is measured in pairs with raw fetch, back to back (the
// order alternates), and each ratio / difference is the median over rounds of the pair's. Each run
// starts after a GC and a short pause so it does not pay for the previous run's garbage. The
// client process's CPU time per request (user + system) is reported too: it is much less
// sensitive to the rest of the machine than wall-clock throughput.
//
//   node --expose-gc bench/overhead.mjs [--smoke] [--rounds=N]

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { BALLAST } from "./scenarios.mjs";
import { makeClients } from "./clients.mjs";
import { BENCH, REPO, SMOKE, argValue, emit, loadLoop, median, quantile, sleep, startOrigin } from "./lib/common.mjs";

const ROUNDS = Number(argValue("rounds", SMOKE ? 1 : 8));
// Latency at concurrency 1, request by request: rounds x pairs per client.
const LAT_ROUNDS = SMOKE ? 1 : 6;
const LAT_PAIRS = SMOKE ? 50 : 500;
const PLAN = [
  { concurrency: 1, durationMs: SMOKE ? 60 : 400, maxCount: SMOKE ? 200 : 20_000 },
  { concurrency: 64, durationMs: SMOKE ? 80 : 500, maxCount: SMOKE ? 500 : 60_000 },
];

const origin = await startOrigin();
const url = `${origin.url}/json`;
try {
  const clients = makeClients({ ballast: BALLAST.overhead.config({}), diagnostics: true }).map((c) => ({
    ...c,
    call: c.make(),
  }));
  const raw = clients.find((c) => c.id === "fetch");
  const measure = async (c, p) => {
    globalThis.gc?.();
    await sleep(20);
    const res = await loadLoop(() => c.call(url), p);
    if (res.errors) throw new Error(`${c.label}: ${res.errors} errors at concurrency ${p.concurrency}`);
    return res;
  };

  // Warm-up: JIT, connection pools, wasm instantiation.
  for (const c of clients) {
    await loadLoop(() => c.call(url), { concurrency: 64, durationMs: SMOKE ? 50 : 400, maxCount: 3000 });
    await loadLoop(() => c.call(url), { concurrency: 1, durationMs: SMOKE ? 20 : 150, maxCount: 500 });
  }

  // pairs[`${id}@${c}`] = [{ x, base }] per round
  const pairs = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const p of PLAN) {
      const others = clients.filter((c) => c !== raw);
      for (let i = 0; i < others.length; i++) {
        const c = others[(i + r) % others.length];
        const rawFirst = (i + r) % 2 === 0;
        const a = await measure(rawFirst ? raw : c, p);
        const b = await measure(rawFirst ? c : raw, p);
        (pairs[`${c.id}@${p.concurrency}`] ??= []).push(rawFirst ? { x: b, base: a } : { x: a, base: b });
        (pairs[`fetch@${p.concurrency}`] ??= []).push({ x: rawFirst ? a : b, base: rawFirst ? a : b });
      }
    }
    process.stderr.write(`overhead: round ${r + 1}/${ROUNDS} done\n`);
  }

  // Latency at concurrency 1, request by request: raw fetch and the client alternate, which one
  // goes first flipping every pair, so the machine's drift (±20% from one second to the next)
  // hits both alike. The block pairs above judge throughput (each client's garbage is collected
  // on its own time there); this judges latency, where blocks of 0.4 s still differ by tens of
  // µs from drift alone. Each request's CPU time is the process's CPU time across it (nothing
  // else runs at concurrency 1); garbage collection lands on whichever request triggers it, so
  // the CPU and mean-latency columns here share GC between the two clients of a pair.
  const lat = {};
  const others = clients.filter((c) => c !== raw);
  for (let r = 0; r < LAT_ROUNDS; r++) {
    for (let i = 0; i < others.length; i++) {
      const c = others[(i + r) % others.length];
      globalThis.gc?.();
      await sleep(20);
      const l = (lat[c.id] ??= { x: [], base: [] });
      for (let k = 0; k < LAT_PAIRS; k++) {
        const order = (k + r) % 2 === 0 ? [raw, c] : [c, raw];
        for (const who of order) {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          await who.call(url);
          const ms = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          (who === raw ? l.base : l.x).push([ms, cpu.user + cpu.system]);
        }
      }
    }
  }
  const sortedQ = (xs, q) => quantile([...xs].sort((a, b) => a - b), q);
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const latency = others.map((c) => {
    const { x, base } = lat[c.id];
    const ms = (v) => v.map((e) => e[0]);
    const cpu = (v) => v.map((e) => e[1]);
    return {
      id: c.id,
      label: c.label,
      peer: c.peer,
      mode: c.mode,
      pairs: x.length,
      p50: sortedQ(ms(x), 0.5),
      p99: sortedQ(ms(x), 0.99),
      baseP50: sortedQ(ms(base), 0.5),
      addedP50Us: (sortedQ(ms(x), 0.5) - sortedQ(ms(base), 0.5)) * 1000,
      addedP99Us: (sortedQ(ms(x), 0.99) - sortedQ(ms(base), 0.99)) * 1000,
      rpsRatio: mean(ms(base)) / mean(ms(x)),
      cpuUsPerReq: mean(cpu(x)),
      addedCpuUs: mean(cpu(x)) - mean(cpu(base)),
    };
  });

  const rows = [];
  for (const p of PLAN) {
    for (const c of clients) {
      const ps = pairs[`${c.id}@${p.concurrency}`];
      const pick = (f) => median(ps.map(({ x, base }) => f(x, base)));
      rows.push({
        id: c.id,
        label: c.label,
        peer: c.peer,
        mode: c.mode,
        concurrency: p.concurrency,
        pairs: ps.length,
        rps: pick((a) => a.rps),
        rpsRatio: pick((a, b) => a.rps / b.rps),
        p50: pick((a) => a.p50),
        p99: pick((a) => a.p99),
        addedP50Us: pick((a, b) => (a.p50 - b.p50) * 1000),
        addedP99Us: pick((a, b) => (a.p99 - b.p99) * 1000),
        cpuUsPerReq: pick((a) => a.cpuUsPerReq),
        addedCpuUs: pick((a, b) => a.cpuUsPerReq - b.cpuUsPerReq),
        count: pick((a) => a.count),
      });
    }
  }
  emit({ rounds: ROUNDS, plan: PLAN, rows, latency, latencyPairs: LAT_ROUNDS * LAT_PAIRS, deno: await inDeno() });
} finally {
  await origin.close();
}

/**
 * The same pairs in Deno (bench/overhead-deno.mjs) against this origin: which costs are ballast's
 * and which the runtime's. Skipped, with the reason, when the deno binary is not installed.
 */
async function inDeno() {
  const deno = path.join(REPO, "node_modules/.bin/deno");
  if (!existsSync(deno)) return { skipped: "deno is not installed (npm ci at the repository root)" };
  const { stdout } = await promisify(execFile)(
    deno,
    ["run", "--allow-net=127.0.0.1", "--v8-flags=--expose-gc", path.join(BENCH, "overhead-deno.mjs"), url, JSON.stringify(PLAN), String(ROUNDS), String(LAT_ROUNDS), String(LAT_PAIRS)],
    { maxBuffer: 1 << 24, timeout: 600_000 },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("@@RESULT "));
  if (!line) throw new Error(`overhead-deno.mjs printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice("@@RESULT ".length));
}

// 1 (Deno). The overhead benchmark's core rows again, in Deno 2, against the same loopback origin:
// raw fetch, fetch + a signal, fetch + a signal + a timer (the least a timeout costs), ballast
// with its defaults and with both timeouts null. Deno's fetch and timers are not Node's (undici),
// so this says which costs belong to ballast and which to the runtime. Measured in pairs with
// raw fetch, like bench/overhead.mjs; run by it (it starts the origin and passes its URL).
//
//   deno run --allow-net=127.0.0.1 --v8-flags=--expose-gc bench/overhead-deno.mjs URL PLAN_JSON ROUNDS \
//     LAT_ROUNDS LAT_PAIRS

import { createFetch } from "../pkg/deno.js";

const [url, planJson, roundsArg, latRoundsArg, latPairsArg] = Deno.args;
const PLAN = JSON.parse(planJson);
const ROUNDS = Number(roundsArg);
// Latency at concurrency 1, request by request (as in bench/overhead.mjs): rounds x pairs.
const LAT_ROUNDS = Number(latRoundsArg);
const LAT_PAIRS = Number(latPairsArg);
const gc = globalThis.gc ?? (() => {});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
    call: async () => {
      const c = new AbortController();
      const timer = setTimeout(() => c.abort(), 10_000);
      try {
        return readJson(await fetch(url, { signal: c.signal }));
      } finally {
        clearTimeout(timer);
      }
    },
  },
  { id: "ballast-notimers", label: "ballast, timeouts null (no signal, no timer)", mode: "diagnostic", call: async () => readJson(await ballastNoTimers(url)) },
  { id: "ballast", label: "ballast", mode: "defaults", call: async () => readJson(await ballast(url)) },
];

/** Closed loop: `concurrency` workers for `durationMs`; req/s and p50 / p99 in ms. */
async function loadLoop(call, { concurrency, durationMs, maxCount }) {
  const lat = new Float64Array(maxCount);
  let started = 0;
  let done = 0;
  let errors = 0;
  const t0 = performance.now();
  const stopAt = t0 + durationMs;
  async function worker() {
    while (started < maxCount && performance.now() < stopAt) {
      const i = started++;
      const s = performance.now();
      try {
        await call();
      } catch {
        errors++;
      }
      lat[i] = performance.now() - s;
      done++;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - t0;
  const sorted = lat.subarray(0, done).sort();
  const q = (p) => sorted[Math.min(done - 1, Math.floor(p * done))];
  return { count: done, errors, rps: (done / elapsed) * 1000, p50: q(0.5), p99: q(0.99) };
}

const measure = async (c, p) => {
  gc();
  await sleep(20);
  const res = await loadLoop(c.call, p);
  if (res.errors) throw new Error(`${c.label}: ${res.errors} errors at concurrency ${p.concurrency}`);
  return res;
};

for (const c of clients) {
  await loadLoop(c.call, { concurrency: 64, durationMs: 300, maxCount: 20_000 });
  await loadLoop(c.call, { concurrency: 1, durationMs: 100, maxCount: 2_000 });
}

const raw = clients[0];
const pairs = {};
for (let r = 0; r < ROUNDS; r++) {
  for (const p of PLAN) {
    const others = clients.slice(1);
    for (let i = 0; i < others.length; i++) {
      const c = others[(i + r) % others.length];
      const rawFirst = (i + r) % 2 === 0;
      const a = await measure(rawFirst ? raw : c, p);
      const b = await measure(rawFirst ? c : raw, p);
      (pairs[`${c.id}@${p.concurrency}`] ??= []).push(rawFirst ? { x: b, base: a } : { x: a, base: b });
      (pairs[`fetch@${p.concurrency}`] ??= []).push({ x: rawFirst ? a : b, base: rawFirst ? a : b });
    }
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const rows = [];
for (const p of PLAN) {
  for (const c of clients) {
    const ps = pairs[`${c.id}@${p.concurrency}`];
    const pick = (f) => median(ps.map(({ x, base }) => f(x, base)));
    rows.push({
      id: c.id,
      label: c.label,
      mode: c.mode,
      concurrency: p.concurrency,
      pairs: ps.length,
      rps: pick((a) => a.rps),
      rpsRatio: pick((a, b) => a.rps / b.rps),
      p50: pick((a) => a.p50),
      p99: pick((a) => a.p99),
      addedP50Us: pick((a, b) => (a.p50 - b.p50) * 1000),
      addedP99Us: pick((a, b) => (a.p99 - b.p99) * 1000),
    });
  }
}
// Latency at concurrency 1, request by request: raw fetch and the client alternate, which goes
// first flipping every pair, so the machine's drift hits both alike.
const lat = {};
for (let r = 0; r < LAT_ROUNDS; r++) {
  const others = clients.slice(1);
  for (let i = 0; i < others.length; i++) {
    const c = others[(i + r) % others.length];
    gc();
    await sleep(20);
    const l = (lat[c.id] ??= { x: [], base: [] });
    for (let k = 0; k < LAT_PAIRS; k++) {
      for (const who of (k + r) % 2 === 0 ? [raw, c] : [c, raw]) {
        const t0 = performance.now();
        await who.call();
        (who === raw ? l.base : l.x).push(performance.now() - t0);
      }
    }
  }
}
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
};
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const latency = clients.slice(1).map((c) => {
  const { x, base } = lat[c.id];
  return {
    id: c.id,
    label: c.label,
    mode: c.mode,
    pairs: x.length,
    p50: q(x, 0.5),
    p99: q(x, 0.99),
    addedP50Us: (q(x, 0.5) - q(base, 0.5)) * 1000,
    addedP99Us: (q(x, 0.99) - q(base, 0.99)) * 1000,
    rpsRatio: mean(base) / mean(x),
  };
});

const result = { deno: Deno.version.deno, v8: Deno.version.v8, rounds: ROUNDS, rows, latency, latencyPairs: LAT_ROUNDS * LAT_PAIRS };
console.log(`\n@@RESULT ${JSON.stringify(result)}`);
Deno.exit(0);

// The overhead method, shared by the Node run (bench/overhead.mjs) and the Deno run
// (bench/overhead-deno.mjs), so both runtimes are measured exactly alike. Runtime-neutral: only
// fetch, timers and performance.now(); CPU time is measured when the caller passes a clock for it.
//
// Three measurements, each suited to what it judges:
// - block pairs, for throughput: every client runs for a block of time right after (or before) a
//   block of raw fetch, the order alternating, a short pause before each block; ratios and
//   differences are medians over the per-pair figures.
// - the same blocks paired with the timeout floor directly, many more of them, for the throughput
//   target (`measurePaired`): a mean with its standard error.
// - request by request, for latency at concurrency 1: raw fetch and the client alternate, which
//   one goes first flipping every pair, so the machine's drift (±20% from one second to the next)
//   hits both alike; blocks of 0.4 s still differ by tens of µs from drift alone. Garbage
//   collection lands on whichever request triggers it, so mean-based figures here share GC
//   between the two clients of a pair.
//
// No block starts with a forced collection (`gc()`): after one, V8 runs every client's code two to
// three times slower for the next few thousand calls, so a block of a thousand requests after it
// measures that recovery, which a service under load never forces, and charges each client by how
// much code it runs. Garbage a block leaves behind costs the next one little: a scavenge's cost
// follows what survives it, not what died.

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/**
 * Closed-loop load: `concurrency` workers call `call()` back to back until `maxCount` calls were
 * started or `durationMs` elapsed (whichever first). Returns throughput and latency quantiles (ms),
 * and CPU µs per request when `cpuNow` (µs of CPU used so far) is given.
 */
export async function loadLoop(call, { concurrency, durationMs, maxCount }, cpuNow) {
  const lat = new Float64Array(maxCount);
  let started = 0;
  let done = 0;
  let errors = 0;
  const cpu0 = cpuNow?.();
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
  const cpu = cpuNow ? cpuNow() - cpu0 : NaN;
  const sorted = lat.subarray(0, done).sort();
  return {
    count: done,
    cpuUsPerReq: cpu / done,
    errors,
    elapsedMs: elapsed,
    rps: (done / elapsed) * 1000,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
  };
}

/** One block of client `c` under load `p`, after a short pause; throws on errors. */
async function measureBlock(c, p, cpuNow) {
  await sleep(20);
  const res = await loadLoop(c.call, p, cpuNow);
  if (res.errors) throw new Error(`${c.label}: ${res.errors} errors at concurrency ${p.concurrency}`);
  return res;
}

/** Mean and standard error of `xs` (NaN standard error for fewer than two). */
export function meanSe(xs) {
  const m = mean(xs);
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1)) : NaN;
  return { mean: m, se: sd / Math.sqrt(xs.length) };
}

/**
 * `subject` directly against `base` (the timeout floor, for the throughput target), in `pairs`
 * block pairs per concurrency of `plan`, which goes first alternating. Judging a client against
 * the floor through two medians of ratios to raw fetch compounds the spread of both; a pair of
 * adjacent blocks shares the machine's drift, so the per-pair ratio is the steadier figure, and
 * enough of them give a mean whose standard error says how far to trust it.
 * Returns per concurrency `{ concurrency, pairs, rpsRatio: { mean, se }, addedCpuUs: { mean, se } }`.
 */
export async function measurePaired({ subject, base, plan, pairs, cpuNow, onPair }) {
  const out = [];
  for (const p of plan) {
    const ratios = [];
    const added = [];
    for (let k = 0; k < pairs; k++) {
      const baseFirst = k % 2 === 0;
      const a = await measureBlock(baseFirst ? base : subject, p, cpuNow);
      const b = await measureBlock(baseFirst ? subject : base, p, cpuNow);
      const [x, y] = baseFirst ? [b, a] : [a, b];
      ratios.push(x.rps / y.rps);
      added.push(x.cpuUsPerReq - y.cpuUsPerReq);
      onPair?.(p.concurrency, k);
    }
    out.push({ concurrency: p.concurrency, pairs, rpsRatio: meanSe(ratios), addedCpuUs: meanSe(added) });
  }
  return out;
}

/**
 * The least a wrapper that enforces a timeout does: a signal, and a timer that would abort it,
 * cleared once the response has arrived. `read` consumes the response; `transport` is the fetch
 * to call (the global one by default).
 */
export async function fetchWithTimeout(url, read, transport = fetch) {
  const c = new AbortController();
  const timer = setTimeout(() => c.abort(), 10_000);
  try {
    return read(await transport(url, { signal: c.signal }));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Measures `clients` (each `{ id, label, peer?, mode, call }`, `call()` one request; the one with
 * id "fetch" is the baseline) in block pairs for each concurrency of `plan`, `rounds` times, and
 * request by request at concurrency 1 (`latRounds` x `latPairs` per client). `warm` are the
 * warm-up loops run for every client first; `onRound(r)` reports progress.
 * Returns `{ rows, latency }`.
 */
export async function measureOverhead({ clients, plan, rounds, latRounds, latPairs, warm, cpuNow, onRound }) {
  const raw = clients.find((c) => c.id === "fetch");
  const others = clients.filter((c) => c !== raw);
  const measure = (c, p) => measureBlock(c, p, cpuNow);

  // Warm-up: JIT, connection pools, wasm instantiation.
  for (const c of clients) for (const w of warm) await loadLoop(c.call, w);

  // pairs[`${id}@${c}`] = [{ x, base }] per round
  const pairs = {};
  for (let r = 0; r < rounds; r++) {
    for (const p of plan) {
      for (let i = 0; i < others.length; i++) {
        const c = others[(i + r) % others.length];
        const rawFirst = (i + r) % 2 === 0;
        const a = await measure(rawFirst ? raw : c, p);
        const b = await measure(rawFirst ? c : raw, p);
        (pairs[`${c.id}@${p.concurrency}`] ??= []).push(rawFirst ? { x: b, base: a } : { x: a, base: b });
        (pairs[`fetch@${p.concurrency}`] ??= []).push({ x: rawFirst ? a : b, base: rawFirst ? a : b });
      }
    }
    onRound?.(r);
  }
  const rows = [];
  for (const p of plan) {
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

  // Request by request. A request's CPU time is the process's CPU time across it (nothing else
  // runs at concurrency 1).
  const lat = {};
  for (let r = 0; r < latRounds; r++) {
    for (let i = 0; i < others.length; i++) {
      const c = others[(i + r) % others.length];
      await sleep(20);
      const l = (lat[c.id] ??= { x: [], base: [] });
      for (let k = 0; k < latPairs; k++) {
        for (const who of (k + r) % 2 === 0 ? [raw, c] : [c, raw]) {
          const cpu0 = cpuNow?.();
          const t0 = performance.now();
          await who.call();
          const ms = performance.now() - t0;
          (who === raw ? l.base : l.x).push([ms, cpuNow ? cpuNow() - cpu0 : NaN]);
        }
      }
    }
  }
  const latency = others.map((c) => {
    const { x, base } = lat[c.id];
    const ms = (v) => v.map((e) => e[0]);
    const cpu = (v) => v.map((e) => e[1]);
    const [xs, bs] = [ms(x).sort((a, b) => a - b), ms(base).sort((a, b) => a - b)];
    return {
      id: c.id,
      label: c.label,
      peer: c.peer,
      mode: c.mode,
      pairs: x.length,
      p50: quantile(xs, 0.5),
      p99: quantile(xs, 0.99),
      addedP50Us: (quantile(xs, 0.5) - quantile(bs, 0.5)) * 1000,
      addedP99Us: (quantile(xs, 0.99) - quantile(bs, 0.99)) * 1000,
      rpsRatio: mean(bs) / mean(xs),
      cpuUsPerReq: mean(cpu(x)),
      addedCpuUs: mean(cpu(x)) - mean(cpu(base)),
    };
  });
  return { rows, latency };
}

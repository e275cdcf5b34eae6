// Backpressure against a loopback origin of fixed capacity: the concurrency limit, the bounded
// queue, shedding (queue-full and queue-timeout), queue wait against the deadline, and the
// snapshot figures. Bounds are generous and relative: timing claims live in bench/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch, BallastError } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey } from "./helpers.mjs";

let origin;
before(async () => {
  origin = await startOrigin();
});
after(async () => {
  await origin.close();
});

const percentile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))];
};

// Offers `total` calls at a fixed rate (one every `everyMs`), returns per-call outcomes.
async function offer(f, url, total, everyMs) {
  const calls = [];
  for (let i = 0; i < total; i++) {
    const t0 = performance.now();
    calls.push(
      f(url).then(
        async (res) => {
          await res.arrayBuffer();
          return { ok: res.ok, ms: performance.now() - t0 };
        },
        (err) => ({ ok: false, err, ms: performance.now() - t0 }),
      ),
    );
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return Promise.all(calls);
}

test("at 2x capacity, shedding keeps origin in-flight at the limit and admitted p99 bounded; unlimited lets both grow", async (t) => {
  // Capacity: 4 at once x 40 ms = 100 req/s. Offered: one every 5 ms = 200 req/s for 1.5 s.
  const n = 4;
  const run = async (concurrency) => {
    const key = uniqueKey("cap");
    const f = createFetch({ concurrency, retry: { maxAttempts: 1 }, timeout: { totalMs: 20000 } });
    const results = await offer(f, `${origin.url}/capacity?key=${key}&n=${n}&ms=40`, 300, 5);
    const admitted = results.filter((r) => r.ok).map((r) => r.ms);
    const shed = results.filter((r) => r.err instanceof BallastError && r.err.code === "SHED");
    return { maxInFlight: origin.maxOpen(key), p99: percentile(admitted, 0.99), admitted: admitted.length, shed: shed.length, snap: f.snapshot() };
  };
  const limited = await run({ limit: n, queue: n, queueTimeoutMs: 100 });
  const unlimited = await run({ limit: null });
  const fmt = (r) => `origin open max ${r.maxInFlight}, admitted ${r.admitted}, shed ${r.shed}, admitted p99 ${r.p99.toFixed(0)} ms`;
  t.diagnostic(`limited: ${fmt(limited)}; unlimited: ${fmt(unlimited)}`);

  assert.ok(limited.maxInFlight <= n, `origin in-flight ${limited.maxInFlight} <= limit ${n}`);
  assert.ok(limited.shed > 0, "some calls were shed");
  assert.equal(limited.admitted + limited.shed, 300, "every call either admitted or shed");
  assert.equal(limited.snap.shed.total, limited.shed);
  // Admitted calls wait at most queueTimeoutMs for a slot plus one service time (+ slack).
  assert.ok(limited.p99 < 100 + 40 + 400, `admitted p99 ${limited.p99.toFixed(0)} ms bounded`);

  assert.ok(unlimited.maxInFlight > 4 * n, `unlimited origin in-flight grows (${unlimited.maxInFlight})`);
  assert.equal(unlimited.shed, 0);
  assert.ok(unlimited.p99 > 3 * limited.p99, `unlimited p99 ${unlimited.p99.toFixed(0)} ms grows past ${limited.p99.toFixed(0)} ms`);
});

test("queue full: the call beyond limit + queue is shed at once with SHED / queue-full and a shed event", async () => {
  const f = createFetch({ concurrency: { limit: 1, queue: 1, queueTimeoutMs: 5000 } });
  const events = [];
  f.on("shed", (e) => events.push(e));
  const url = `${origin.url}/slow?ms=200&key=${uniqueKey("qf")}`;
  const a = f(url);
  const b = f(url);
  const t0 = performance.now();
  const err = await f(url).catch((e) => e);
  assert.ok(performance.now() - t0 < 100, "rejected at once");
  assert.ok(err instanceof BallastError);
  assert.equal(err.name, "BallastError");
  assert.equal(err.code, "SHED");
  assert.equal(err.reason, "queue-full");
  assert.equal(events.length, 1);
  assert.equal(events[0].reason, "queue-full");
  assert.equal(events[0].limit, 1);
  assert.equal(events[0].queued, 1);
  assert.equal((await a).status, 200);
  assert.equal((await b).status, 200);
  assert.equal(f.snapshot().shed.byReason["queue-full"], 1);
});

test("queue timeout: a call that waits queueTimeoutMs is shed with SHED / queue-timeout; its wait is measured", async () => {
  const f = createFetch({ concurrency: { limit: 1, queue: 5, queueTimeoutMs: 50 } });
  const key = uniqueKey("qt");
  const a = f(`${origin.url}/slow?ms=400&key=${key}`);
  const t0 = performance.now();
  const err = await f(`${origin.url}/slow?ms=10&key=${key}`).catch((e) => e);
  const waited = performance.now() - t0;
  assert.equal(err.code, "SHED");
  assert.equal(err.reason, "queue-timeout");
  assert.ok(waited >= 45 && waited < 350, `shed after the queue timeout (${waited.toFixed(0)} ms)`);
  assert.equal(origin.hits(key), 1, "the shed call never reached the origin");
  await a;
  const s = f.snapshot();
  assert.equal(s.shed.byReason["queue-timeout"], 1);
  assert.ok(s.queueWait.max >= 45, `queueWait.max ${s.queueWait.max}`);
  assert.equal(s.inFlight, 0);
  assert.equal(s.queued, 0);
});

test("queue wait counts against timeout.totalMs", async () => {
  const f = createFetch({ concurrency: { limit: 1, queue: 5, queueTimeoutMs: 5000 }, timeout: { totalMs: 100 } });
  const key = uniqueKey("qd");
  const a = f(`${origin.url}/slow?ms=80&key=${key}`); // holds the slot (within its own deadline)
  const slow = f(`${origin.url}/slow?ms=80&key=${key}`); // waits 80 ms, then needs 80 more: too late
  const err = await slow.catch((e) => e);
  assert.equal(err.name, "TimeoutError");
  await a;
  assert.equal(f.snapshot().queued, 0);
});

// Counts transport calls outstanding at once (from the call until the response or error).
function countingTransport() {
  const stats = { now: 0, max: 0 };
  const transport = async (input, init) => {
    stats.now++;
    stats.max = Math.max(stats.max, stats.now);
    try {
      return await fetch(input, init);
    } finally {
      stats.now--;
    }
  };
  return { transport, stats };
}

test("retries go through the limiter: a queued retry waits for a slot like any attempt", async () => {
  const { transport, stats } = countingTransport();
  const f = createFetch({
    transport,
    concurrency: { limit: 1, queue: 10, queueTimeoutMs: 5000 },
    retry: { backoff: { kind: "exponential", baseMs: 1, capMs: 1 } },
  });
  const key = uniqueKey("rl");
  const results = await Promise.all([
    f(`${origin.url}/seq?key=${key}&codes=503,200,200,200`),
    f(`${origin.url}/slow?ms=30&key=${key}-b`),
    f(`${origin.url}/slow?ms=30&key=${key}-c`),
  ]);
  assert.deepEqual(results.map((r) => r.status), [200, 200, 200]);
  assert.equal(stats.max, 1, "never more than one attempt in flight, retries included");
  assert.equal(f.snapshot().retries, 1);
});

test("adaptive limit: accepted, reported in the snapshot, grows at baseline latency, never exceeded", async () => {
  const { transport, stats } = countingTransport();
  const f = createFetch({ transport, concurrency: { limit: "adaptive", queue: 1000, queueTimeoutMs: 10000 } });
  const key = uniqueKey("ad");
  const s0 = f.snapshot();
  assert.equal(s0.limit, 20, "initial adaptive limit");
  let maxLimit = s0.limit;
  f.on("attempt", () => (maxLimit = Math.max(maxLimit, f.snapshot().limit)));
  await Promise.all(Array.from({ length: 100 }, () => f(`${origin.url}/capacity?key=${key}&n=8&ms=5`).then((r) => r.arrayBuffer())));
  const s = f.snapshot();
  assert.ok(Number.isInteger(s.limit) && s.limit >= 2 && s.limit <= 1000, `limit ${s.limit}`);
  assert.ok(stats.max <= maxLimit, `in flight ${stats.max} never above the limit in force (max ${maxLimit})`);
  assert.ok(maxLimit > 20, "latency stayed at its baseline, so the limit grew");
});

test("snapshot has the backpressure and pressure figures, JSON-serialisable", async () => {
  const f = createFetch();
  await f(`${origin.url}/ok`);
  const s = f.snapshot();
  for (const k of ["inFlight", "queued", "limit", "activeTasks"]) assert.equal(typeof s[k], "number", k);
  assert.equal(s.limit, 64, "default limit");
  for (const k of ["p50", "p95", "p99", "max"]) {
    assert.equal(typeof s.queueWait[k], "number");
    assert.equal(typeof s.attemptLatency[k], "number");
  }
  assert.deepEqual(s.shed, { total: 0, byReason: {} });
  assert.ok(s.pressure.level >= 0 && s.pressure.level <= 1);
  assert.equal(s.pressure.state, "ok");
  assert.ok(Array.isArray(s.pressure.drivers));
  for (const k of ["tailLatency", "queueWait", "retryDensity", "budgetDrain"]) {
    assert.equal(typeof s.pressure.components[k], "number", k);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  assert.equal(createFetch({ concurrency: { limit: null } }).snapshot().limit, null);
});

test("invalid concurrency and pressure config names the field", () => {
  const cases = [
    [{ concurrency: { limit: 0 } }, "concurrency.limit"],
    [{ concurrency: { limit: 2.5 } }, "concurrency.limit"],
    [{ concurrency: { limit: "fast" } }, "concurrency.limit"],
    [{ concurrency: { queue: -1 } }, "concurrency.queue"],
    [{ concurrency: { queueTimeoutMs: "x" } }, "concurrency.queueTimeoutMs"],
    [{ concurrency: { lmit: 3 } }, "concurrency.lmit"],
    [{ pressure: { warn: 2 } }, "pressure.warn"],
    [{ pressure: { warn: 0.6, critical: 0.5 } }, "pressure.critical"],
    [{ pressure: { hysteresis: 0.9 } }, "pressure.hysteresis"],
  ];
  for (const [config, path] of cases) {
    assert.throws(() => createFetch(config), (e) => e.name === "ConfigError" && e.path === path && e.message.includes(path), JSON.stringify(config));
  }
});

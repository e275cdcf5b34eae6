// Observability: snapshot() and on().
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, collect, FAST, rejection, sleep, waitFor } from "./helpers.mjs";

let origin;
const u = (p) => `${origin.url}${p}`;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

function assertQuantiles(q, label) {
  assert.equal(typeof q, "object", label);
  for (const k of ["p50", "p95", "p99", "max"]) {
    assert.equal(typeof q[k], "number", `${label}.${k}`);
    assert.ok(Number.isFinite(q[k]) && q[k] >= 0, `${label}.${k} = ${q[k]}`);
  }
  assert.ok(q.p50 <= q.p95 && q.p95 <= q.p99 && q.p99 <= q.max, `${label}: ${JSON.stringify(q)}`);
}

test("snapshot has the contract fields, sane values, and is JSON-serialisable", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const empty = f.snapshot();
  assert.deepStrictEqual(JSON.parse(JSON.stringify(empty)), empty);
  assert.equal(empty.tasks, 0);
  assert.equal(empty.attempts, 0);

  const key = uniqueKey("snap");
  for (const p of [
    `/ok?key=${key}`, // 1 attempt
    `/seq?key=${key}-a&codes=503,200`, // 2 attempts, 1 retry
    `/status/503?key=${key}`, // 3 attempts, giveup max-attempts
    `/status/404?key=${key}`, // 1 attempt, not retryable
    `/slow?ms=30&key=${key}`, // 1 attempt, >= 30 ms
  ]) {
    await (await f(u(p))).text();
  }
  const s = f.snapshot();
  assert.deepStrictEqual(JSON.parse(JSON.stringify(s)), s);

  assert.equal(s.tasks, 5);
  assert.equal(s.inFlight, 0);
  assert.equal(s.attempts, 8);
  assert.equal(s.retries, 3);
  assert.equal(typeof s.retryDensity, "number");
  assert.ok(Number.isFinite(s.retryDensity) && s.retryDensity > 0, `retryDensity ${s.retryDensity}`);
  assert.equal(typeof s.giveups, "object");
  assert.equal(s.giveups["max-attempts"], 1);
  for (const [reason, n] of Object.entries(s.giveups)) {
    assert.equal(typeof n, "number", reason);
    if (reason !== "max-attempts") assert.equal(n, 0, `giveups.${reason}`);
  }
  assert.equal(typeof s.budget, "object");
  assert.equal(typeof s.budget.balance, "number");
  assert.ok(Number.isFinite(s.budget.balance));
  assert.equal(s.budget.exhausted, 0);
  assertQuantiles(s.latency, "latency");
  assertQuantiles(s.attemptLatency, "attemptLatency");
  assert.ok(s.latency.max >= 25, `latency.max ${s.latency.max} covers the 30 ms /slow task`);
  assert.ok(s.latency.max < 10_000);

  // snapshots are values, not live views
  s.tasks = 999;
  assert.equal(f.snapshot().tasks, 5);
});

test("snapshot().inFlight counts running tasks", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const key = uniqueKey("inflight");
  const ac = new AbortController();
  const ps = [f(u(`/hang?key=${key}`), { signal: ac.signal }), f(u(`/hang?key=${key}`), { signal: ac.signal })];
  await waitFor(() => origin.hits(key) === 2);
  assert.equal(f.snapshot().inFlight, 2);
  assert.equal(f.snapshot().tasks, 2);
  ac.abort();
  for (const p of ps) assert.equal((await rejection(p)).name, "AbortError");
  assert.equal(f.snapshot().inFlight, 0);
  assert.equal(f.snapshot().giveups.aborted, 2);
});

test("on() returns an unsubscribe that works", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const a = [];
  const b = [];
  const unsubscribeA = f.on("retry", (e) => a.push(e));
  f.on("retry", (e) => b.push(e));
  assert.equal(typeof unsubscribeA, "function");

  const r1 = await f(u(`/seq?key=${uniqueKey("unsub1")}&codes=503,200`));
  await r1.text();
  assert.equal(a.length, 1);
  assert.equal(b.length, 1);

  unsubscribeA();
  unsubscribeA(); // idempotent
  const r2 = await f(u(`/seq?key=${uniqueKey("unsub2")}&codes=503,200`));
  await r2.text();
  assert.equal(a.length, 1, "unsubscribed listener not called again");
  assert.equal(b.length, 2, "other listener still called");

  // the same function subscribed to giveup is independent of its retry subscription
  const g = [];
  const unsubscribeG = f.on("giveup", (e) => g.push(e));
  await (await f(u(`/status/503?key=${uniqueKey("unsub3")}`))).text();
  assert.equal(g.length, 1);
  unsubscribeG();
  await (await f(u(`/status/503?key=${uniqueKey("unsub4")}`))).text();
  assert.equal(g.length, 1);
});

test("a listener that throws does not break the fetch or other listeners", async (t) => {
  // the library may report listener errors on the console; keep the test output clean
  t.mock.method(console, "error", () => {});
  t.mock.method(console, "warn", () => {});
  const uncaught = [];
  const onUncaught = (err) => uncaught.push(err);
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  try {
    const f = createFetch({ retry: { maxAttempts: 2, backoff: FAST } });
    f.on("retry", () => {
      throw new Error("listener boom (retry)");
    });
    f.on("giveup", () => {
      throw new Error("listener boom (giveup)");
    });
    const retries = collect(f, "retry");
    const giveups = collect(f, "giveup");

    const key = uniqueKey("throw1");
    const r1 = await f(u(`/seq?key=${key}&codes=503,200`));
    assert.equal(r1.status, 200);
    await r1.text();
    assert.equal(origin.hits(key), 2);
    assert.equal(retries.length, 1);

    const key2 = uniqueKey("throw2");
    const r2 = await f(u(`/status/503?key=${key2}`));
    assert.equal(r2.status, 503);
    await r2.text();
    assert.equal(origin.hits(key2), 2);
    assert.equal(giveups.length, 1);
    assert.equal(giveups[0].reason, "max-attempts");

    assert.equal(f.snapshot().tasks, 2);
    await sleep(20);
  } finally {
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);
  }
  if (uncaught.length) t.diagnostic(`listener errors were re-reported asynchronously: ${uncaught.map(String).join("; ")}`);
});

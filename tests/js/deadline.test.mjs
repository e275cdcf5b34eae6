// Deadlines: timeout.totalMs, timeout.attemptMs, Retry-After beyond the deadline, slow bodies.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch, BallastError } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, collect, FAST, rejection, waitFor } from "./helpers.mjs";

let origin;
const u = (p) => `${origin.url}${p}`;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

test("Retry-After beyond the deadline: resolves promptly with the 503, giveup deadline, no sleep", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST }, timeout: { totalMs: 500 } });
  const giveups = collect(f, "giveup");
  const retries = collect(f, "retry");
  const key = uniqueKey("radeadline");
  const t0 = performance.now();
  const res = await f(u(`/seq?key=${key}&codes=503,200&ra=5`));
  const dt = performance.now() - t0;
  assert.equal(res.status, 503);
  await res.text();
  assert.ok(dt < 400, `resolved after ${dt.toFixed(0)} ms, expected < 400 (no sleep)`);
  assert.equal(origin.hits(key), 1);
  assert.equal(retries.length, 0);
  assert.equal(giveups.length, 1);
  assert.equal(giveups[0].reason, "deadline");
});

test("timeout.totalMs against /hang rejects with a TimeoutError DOMException", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST }, timeout: { totalMs: 200 } });
  const key = uniqueKey("total");
  const t0 = performance.now();
  const err = await rejection(f(u(`/hang?key=${key}`)));
  const dt = performance.now() - t0;
  assert.equal(err.name, "TimeoutError");
  assert.ok(err instanceof DOMException, "a DOMException");
  assert.ok(dt >= 150, `rejected after ${dt.toFixed(0)} ms, before the 200 ms deadline`);
  assert.ok(dt < 3000, `rejected after ${dt.toFixed(0)} ms`);
  assert.equal(origin.hits(key), 1);
  // the hanging request is aborted, not left open
  assert.equal(await waitFor(() => origin.inFlight() === 0, { timeoutMs: 1000 }), true, "origin request closed");
});

test("timeout.attemptMs against /hang: BallastError ATTEMPT_TIMEOUT with 2 timeout attempts", async () => {
  const f = createFetch({
    retry: { maxAttempts: 2, backoff: FAST },
    timeout: { attemptMs: 100, totalMs: 10_000 },
  });
  const retries = collect(f, "retry");
  const key = uniqueKey("attempt");
  const err = await rejection(f(u(`/hang?key=${key}`)));
  assert.ok(err instanceof BallastError, `expected BallastError, got ${err?.name}: ${err?.message}`);
  assert.equal(err.name, "BallastError");
  assert.equal(err.code, "ATTEMPT_TIMEOUT");
  assert.equal(err.reason, "max-attempts");
  assert.equal(err.attempts.length, 2);
  for (const a of err.attempts) {
    assert.equal(a.outcome, "timeout");
    assert.ok(a.durationMs >= 90, `attempt lasted ${a.durationMs} ms, attemptMs is 100`);
  }
  assert.equal(origin.hits(key), 2);
  assert.equal(retries.length, 1);
  assert.equal(retries[0].reason, "attempt-timeout");
  // each timed-out attempt's request is aborted
  assert.equal(await waitFor(() => origin.inFlight() === 0, { timeoutMs: 1000 }), true, "origin requests closed");
});

test("timeout.attemptMs bounds the headers: /slow beyond it times out, /slow within it succeeds", async () => {
  const f = createFetch({ retry: { maxAttempts: 1, backoff: FAST }, timeout: { attemptMs: 100 } });
  const err = await rejection(f(u(`/slow?ms=400`)));
  assert.ok(err instanceof BallastError);
  assert.equal(err.code, "ATTEMPT_TIMEOUT");
  const res = await f(u(`/slow?ms=10`));
  assert.equal(res.status, 200);
  await res.text();
});

test("slow body: attemptMs does not cut a body that streams past it", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST }, timeout: { attemptMs: 100 } });
  const key = uniqueKey("slowbody");
  const t0 = performance.now();
  const res = await f(u(`/slow-body?key=${key}&chunks=5&ms=50`));
  assert.equal(res.status, 200);
  const text = await res.text();
  const dt = performance.now() - t0;
  assert.equal(text, "chunk-0\nchunk-1\nchunk-2\nchunk-3\nchunk-4\n");
  assert.ok(dt >= 200, `body read over ${dt.toFixed(0)} ms, i.e. past the 100 ms attempt timeout`);
  assert.equal(origin.hits(key), 1);
});

test("timeout: null disables both timers", async () => {
  const f = createFetch({ retry: { maxAttempts: 1 }, timeout: { attemptMs: null, totalMs: null } });
  const res = await f(u(`/slow?ms=50`));
  assert.equal(res.status, 200);
  await res.text();
});

test("hedged attempts each get their own attempt timeout: the alarm moves from the first to the hedge", async () => {
  const f = createFetch({
    retry: { maxAttempts: 2, backoff: FAST },
    timeout: { attemptMs: 200, totalMs: 10_000 },
    hedge: { afterMs: 50 },
  });
  const hedges = collect(f, "hedge");
  const key = uniqueKey("hedge-timeout");
  const t0 = performance.now();
  const err = await rejection(f(u(`/hang?key=${key}`)));
  const elapsed = performance.now() - t0;
  assert.ok(err instanceof BallastError, `expected BallastError, got ${err?.name}: ${err?.message}`);
  assert.equal(err.code, "ATTEMPT_TIMEOUT");
  assert.equal(err.attempts.length, 2);
  assert.equal(hedges.length, 1, "one hedge sent");
  for (const a of err.attempts) {
    assert.equal(a.outcome, "timeout");
    assert.ok(a.durationMs >= 190, `attempt ${a.attempt} lasted ${a.durationMs} ms, attemptMs is 200`);
    assert.ok(a.error instanceof DOMException && a.error.name === "TimeoutError", "each attempt's error is its timeout");
  }
  // the first times out at ~200 ms, the hedge (sent at ~50 ms) at ~250 ms; no third attempt
  assert.ok(elapsed >= 240, `settled after ${elapsed.toFixed(0)} ms, before the hedge's own timeout`);
  assert.equal(origin.hits(key), 2);
  assert.equal(await waitFor(() => origin.inFlight() === 0, { timeoutMs: 1000 }), true, "both requests closed");
});

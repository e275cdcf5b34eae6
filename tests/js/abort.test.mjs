// Caller aborts: before start, during a backoff sleep, during an attempt. No timers left behind.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, collect, FAST, rejection, sleep, waitFor, activeTimeouts } from "./helpers.mjs";

let origin;
const u = (p) => `${origin.url}${p}`;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

const settle = () => new Promise((resolve) => setImmediate(resolve));

test("abort during a 10 s backoff sleep rejects with AbortError within 100 ms and leaves no timer", async () => {
  const f = createFetch({
    retry: { maxAttempts: 3, backoff: { kind: "exponential", baseMs: 10_000, capMs: 10_000 } },
  });
  // warm up (lazy init of the library, the keep-alive connection)
  await (await f(u(`/ok`))).text();
  await settle();
  const baseline = activeTimeouts();

  const retries = [];
  const giveups = collect(f, "giveup");
  const key = uniqueKey("abortsleep");
  const ac = new AbortController();
  let abortedAt = 0;
  let abortTimer;
  f.on("retry", (e) => {
    retries.push(e);
    abortTimer = setTimeout(() => {
      abortedAt = performance.now();
      ac.abort();
    }, 50);
  });
  const err = await rejection(f(u(`/seq?key=${key}&codes=503,200`), { signal: ac.signal }));
  const rejectedAt = performance.now();
  clearTimeout(abortTimer);

  assert.equal(retries.length, 1, "one retry was scheduled");
  assert.equal(retries[0].delayMs, 10_000);
  assert.ok(abortedAt > 0, "aborted by the test (not by anything else)");
  assert.equal(err.name, "AbortError");
  assert.ok(err instanceof DOMException, "default abort reason is a DOMException");
  assert.equal(err, ac.signal.reason, "rejects with signal.reason");
  const dt = rejectedAt - abortedAt;
  assert.ok(dt < 100, `rejected ${dt.toFixed(1)} ms after abort, expected < 100`);
  assert.equal(origin.hits(key), 1, "the retry never happened");
  assert.equal(giveups.length, 1);
  assert.equal(giveups[0].reason, "aborted");

  await settle();
  assert.equal(activeTimeouts(), baseline, `Timeout handles: ${process.getActiveResourcesInfo().join(",")}`);
  assert.equal(f.snapshot().inFlight, 0);
});

test("abort during an attempt (/hang) rejects with signal.reason and closes the request", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  await (await f(u(`/ok`))).text();
  await settle();
  const baseline = activeTimeouts();
  const key = uniqueKey("aborthang");
  const ac = new AbortController();
  const p = f(u(`/hang?key=${key}`), { signal: ac.signal });
  await waitFor(() => origin.hits(key) === 1);
  assert.equal(origin.hits(key), 1);
  const t0 = performance.now();
  ac.abort();
  const err = await rejection(p);
  const dt = performance.now() - t0;
  assert.equal(err.name, "AbortError");
  assert.equal(err, ac.signal.reason);
  assert.ok(dt < 100, `rejected ${dt.toFixed(1)} ms after abort`);
  assert.equal(await waitFor(() => origin.inFlight() === 0, { timeoutMs: 1000 }), true, "origin request closed");
  assert.equal(origin.hits(key), 1);
  await settle();
  assert.equal(activeTimeouts(), baseline, `Timeout handles: ${process.getActiveResourcesInfo().join(",")}`);
});

test("abort with a custom reason rejects with that exact reason", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const key = uniqueKey("abortreason");
  const ac = new AbortController();
  const p = f(u(`/hang?key=${key}`), { signal: ac.signal });
  await waitFor(() => origin.hits(key) === 1);
  const reason = new Error("caller gave up");
  ac.abort(reason);
  const err = await rejection(p);
  assert.equal(err, reason);
});

test("abort before start rejects at once with AbortError and never hits the origin", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const key = uniqueKey("abortbefore");
  const ac = new AbortController();
  ac.abort();
  const t0 = performance.now();
  const err = await rejection(f(u(`/ok?key=${key}`), { signal: ac.signal }));
  const dt = performance.now() - t0;
  assert.equal(err.name, "AbortError");
  assert.equal(err, ac.signal.reason);
  assert.ok(dt < 100, `rejected after ${dt.toFixed(1)} ms`);
  await sleep(50);
  assert.equal(origin.hits(key), 0);

  // AbortSignal.abort(reason) with a custom reason, too
  const reason = new Error("already gone");
  const err2 = await rejection(f(u(`/ok?key=${key}`), { signal: AbortSignal.abort(reason) }));
  assert.equal(err2, reason);
  await sleep(20);
  assert.equal(origin.hits(key), 0);
});

// Which signal an attempt carries: the caller's exactly when nothing of ours can abort it (no
// timeouts, no hedging; on Node a signal costs undici more than all of ballast's own work), ours
// otherwise. Either way the caller's abort reaches the request and, after the call settles, the body.
const recording = () => {
  const inits = [];
  const transport = (input, init) => {
    inits.push(init);
    return fetch(input, init);
  };
  return { inits, transport };
};
const NO_TIMEOUTS = { attemptMs: null, totalMs: null };

test("without timeouts or hedging an attempt carries the caller's own init and signal, or none", async () => {
  const { inits, transport } = recording();
  const f = createFetch({ transport, timeout: NO_TIMEOUTS });
  await (await f(u("/ok"))).text();
  assert.equal(inits[0], undefined, "no init of ours when the caller gave none");
  const ac = new AbortController();
  const init = { signal: ac.signal, headers: { "x-a": "1" } };
  await (await f(u("/ok"), init)).text();
  assert.equal(inits[1], init, "the caller's init object itself");
  assert.equal(inits[1].signal, ac.signal);

  // Any timeout or hedging gives every attempt a controller of ours.
  for (const config of [
    { timeout: { attemptMs: 5000, totalMs: null } },
    { timeout: { attemptMs: null, totalMs: 5000 } },
    { timeout: NO_TIMEOUTS, hedge: { afterMs: 5000 } },
  ]) {
    const rec = recording();
    const g = createFetch({ ...config, transport: rec.transport });
    await (await g(u("/ok"))).text();
    assert.ok(rec.inits[0].signal instanceof AbortSignal, JSON.stringify(config));
    await (await g(u("/ok"), init)).text();
    assert.notEqual(rec.inits[1].signal, ac.signal, JSON.stringify(config));
    assert.equal(rec.inits[1].headers, init.headers);
  }
});

test("without timeouts the caller's abort still ends an attempt (/hang) and closes the request", async () => {
  const f = createFetch({ timeout: NO_TIMEOUTS, retry: { maxAttempts: 3, backoff: FAST } });
  const key = uniqueKey("abortnotimeout");
  const ac = new AbortController();
  const p = f(u(`/hang?key=${key}`), { signal: ac.signal });
  await waitFor(() => origin.hits(key) === 1);
  const reason = new Error("caller gave up");
  ac.abort(reason);
  assert.equal(await rejection(p), reason);
  assert.equal(await waitFor(() => origin.inFlight() === 0, { timeoutMs: 1000 }), true, "origin request closed");
  assert.equal(origin.hits(key), 1);
});

test("after the call settles, the caller's abort still reaches the body, with and without timeouts", async () => {
  for (const timeout of [undefined, NO_TIMEOUTS]) {
    const f = createFetch({ timeout });
    const ac = new AbortController();
    const res = await f(u(`/slow-body?chunks=20&ms=50`), { signal: ac.signal });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    await reader.read();
    const reason = new Error("stop reading");
    ac.abort(reason);
    const err = await reader.read().then(
      () => reader.read().then(() => null),
      (e) => e,
    );
    assert.equal(err, reason, `timeout ${JSON.stringify(timeout)}`);
  }
});

test("calls sharing one caller signal add one abort listener, not one each: no leak warning, all aborted", async () => {
  const { getEventListeners } = await import("node:events");
  const f = createFetch();
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on("warning", onWarning);
  try {
    const ac = new AbortController();
    // 20 calls in flight at once on one signal; raw fetch prints no warning for this either.
    const calls = Array.from({ length: 20 }, () => rejection(f(u(`/slow?ms=5000`), { signal: ac.signal })));
    await sleep(50);
    assert.equal(getEventListeners(ac.signal, "abort").length, 1, "one listener for the 20 calls");
    ac.abort();
    const errors = await Promise.all(calls);
    for (const e of errors) assert.equal(e.name, "AbortError");
    assert.equal(getEventListeners(ac.signal, "abort").length, 0, "removed once no call uses it");
    // Calls that settle normally give theirs back too.
    const ac2 = new AbortController();
    await Promise.all(Array.from({ length: 12 }, () => f(u(`/ok`), { signal: ac2.signal }).then((r) => r.text())));
    assert.equal(getEventListeners(ac2.signal, "abort").length, 0);
    await settle();
    assert.deepEqual(warnings.map((w) => w.name), []);
  } finally {
    process.off("warning", onWarning);
  }
});

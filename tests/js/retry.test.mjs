// Retry behaviour: statuses, Retry-After, methods, network errors.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch, BallastError } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, collect, FAST, rejection } from "./helpers.mjs";

let origin;
const u = (p) => `${origin.url}${p}`;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

test("retry on 503: 503,503,200 with maxAttempts 3 resolves 200 after 3 hits", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const retries = collect(f, "retry");
  const giveups = collect(f, "giveup");
  const key = uniqueKey("retry503");
  const url = u(`/seq?key=${key}&codes=503,503,200`);
  const res = await f(url);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { seq: 3, status: 200 });
  assert.equal(origin.hits(key), 3);
  assert.equal(f.snapshot().retries, 2);
  assert.deepEqual(
    retries.map((e) => e.attempt),
    [2, 3],
  );
  for (const e of retries) {
    assert.equal(e.reason, "status-503");
    assert.equal(e.method, "GET");
    assert.equal(e.url, u("/seq?key=REDACTED&codes=REDACTED"), "query values redacted");
    assert.equal(typeof e.delayMs, "number");
    assert.ok(e.delayMs >= 0 && e.delayMs <= FAST.capMs, `delayMs ${e.delayMs} within [0, capMs]`);
  }
  assert.equal(giveups.length, 0);
});

test("final 503 resolves (does not reject) with the last 503; giveup reason max-attempts", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const giveups = collect(f, "giveup");
  const key = uniqueKey("final503");
  const url = u(`/seq?key=${key}&codes=503`);
  const res = await f(url);
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { seq: 3, status: 503 }, "the response of the last attempt");
  assert.equal(origin.hits(key), 3);
  assert.equal(giveups.length, 1);
  assert.equal(giveups[0].reason, "max-attempts");
  assert.equal(giveups[0].attempts, 3);
  assert.equal(giveups[0].method, "GET");
  assert.equal(giveups[0].url, u("/seq?key=REDACTED&codes=REDACTED"));
  const s = f.snapshot();
  assert.equal(s.giveups["max-attempts"], 1);
  assert.equal(s.retries, 2);
});

test("a status outside retry.statuses is returned at once with no giveup event", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const events = ["retry", "giveup"].map((t) => collect(f, t));
  const key = uniqueKey("404");
  const res = await f(u(`/seq?key=${key}&codes=404,200`));
  assert.equal(res.status, 404);
  await res.text();
  assert.equal(origin.hits(key), 1);
  assert.equal(events[0].length + events[1].length, 0);
  // and retry.statuses is honoured: with 404 listed, it is retried
  const f2 = createFetch({ retry: { maxAttempts: 3, backoff: FAST, statuses: [404] } });
  const key2 = uniqueKey("404b");
  const res2 = await f2(u(`/seq?key=${key2}&codes=404,200`));
  assert.equal(res2.status, 200);
  await res2.text();
  assert.equal(origin.hits(key2), 2);
  // ...and 503 is then no longer retried
  const key3 = uniqueKey("404c");
  const res3 = await f2(u(`/seq?key=${key3}&codes=503,200`));
  assert.equal(res3.status, 503);
  await res3.text();
  assert.equal(origin.hits(key3), 1);
});

test("Retry-After delta-seconds is respected: ra=1 waits ~1000 ms, delayMs == 1000", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const retries = collect(f, "retry");
  const key = uniqueKey("ra1");
  const res = await f(u(`/seq?key=${key}&codes=503,200&ra=1`));
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(origin.hits(key), 2);
  assert.equal(retries.length, 1);
  assert.equal(retries[0].delayMs, 1000);
  const [t1, t2] = origin.hitTimes(key);
  assert.ok(t2 - t1 >= 950, `second hit ${t2 - t1} ms after the first, expected >= ~1000`);
  assert.ok(t2 - t1 < 5000, `second hit ${t2 - t1} ms after the first, expected about 1000`);
});

test("Retry-After HTTP-date is respected", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const retries = collect(f, "retry");
  const key = uniqueKey("radate");
  // HTTP-dates have 1 s resolution: the target lies in (now+1000, now+2000].
  const date = new Date(Date.now() + 2000).toUTCString();
  const res = await f(u(`/seq?key=${key}&codes=503,200&ra=${encodeURIComponent(date)}`));
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(origin.hits(key), 2);
  assert.equal(retries.length, 1);
  const { delayMs } = retries[0];
  assert.ok(delayMs > 500 && delayMs <= 2000, `delayMs ${delayMs} should come from the date (~1000-2000)`);
  const [t1, t2] = origin.hitTimes(key);
  assert.ok(t2 - t1 >= delayMs - 50, `gap ${t2 - t1} ms < delayMs ${delayMs}`);
  assert.ok(t2 >= Date.parse(date) - 50, "second hit not before the Retry-After date");
});

test("Retry-After is clamped by retry.maxRetryAfterMs", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST, maxRetryAfterMs: 50 } });
  const retries = collect(f, "retry");
  const key = uniqueKey("raclamp");
  const t0 = Date.now();
  const res = await f(u(`/seq?key=${key}&codes=503,200&ra=100`));
  assert.equal(res.status, 200);
  await res.text();
  assert.ok(Date.now() - t0 < 10_000, "did not wait the 100 s Retry-After");
  assert.equal(origin.hits(key), 2);
  assert.equal(retries.length, 1);
  assert.equal(retries[0].delayMs, 50);
});

test("Retry-After is honoured on any retried status, not only 429 and 503 (a 500 that says 1 s)", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const retries = collect(f, "retry");
  const key = uniqueKey("ra500");
  const res = await f(u(`/seq?key=${key}&codes=500,200&ra=1`));
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(origin.hits(key), 2);
  assert.equal(retries[0].delayMs, 1000, "the 500's Retry-After, not the 10-20 ms backoff");
});

test("a 413 is retried only when it carries Retry-After (as ky); a 404 with one is not retried", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const retries = collect(f, "retry");
  const k1 = uniqueKey("413ra");
  const r1 = await f(u(`/seq?key=${k1}&codes=413,200&ra=0`));
  assert.equal(r1.status, 200);
  await r1.text();
  assert.equal(origin.hits(k1), 2);
  assert.equal(retries.length, 1);
  const k2 = uniqueKey("413");
  const r2 = await f(u(`/seq?key=${k2}&codes=413,200`));
  assert.equal(r2.status, 413, "without Retry-After the 413 is the answer");
  await r2.text();
  assert.equal(origin.hits(k2), 1);
  const k3 = uniqueKey("404ra");
  const r3 = await f(u(`/seq?key=${k3}&codes=404,200&ra=0`));
  assert.equal(r3.status, 404);
  await r3.text();
  assert.equal(origin.hits(k3), 1);
  assert.equal(retries.length, 1);
});

test("QUERY is retried by default (safe and idempotent); its body is sent again", async () => {
  const f = createFetch({ retry: { backoff: FAST } });
  const key = uniqueKey("query");
  const res = await f(u(`/seq?key=${key}&codes=503,200`), { method: "QUERY", body: "select 1", headers: { "content-type": "text/plain" } });
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(origin.hits(key), 2);
  assert.deepEqual(f.snapshot().config.effective.retry.methods, ["DELETE", "GET", "HEAD", "OPTIONS", "PUT", "QUERY", "TRACE"]);
});

test("rate-limit headers set the wait when there is no Retry-After, and the retry event names the one used", async () => {
  const f = createFetch({ retry: { maxAttempts: 2, backoff: FAST } });
  const retries = collect(f, "retry");
  const wh = (h) => `wh=${encodeURIComponent(h)}`;
  const cases = [
    [[wh("ratelimit-reset:1")], 1000, "ratelimit-reset"],
    [[wh('ratelimit:"default";r=0;t=1')], 1000, "ratelimit"],
    [[wh("x-ratelimit-reset:0.5")], 500, "x-ratelimit-reset"],
    [[wh("x-rate-limit-reset:0.25")], 250, "x-rate-limit-reset"],
    [[wh("x-ratelimit-retry-after:0.3")], 300, "x-ratelimit-retry-after"],
    // Retry-After wins over every rate-limit header.
    [["ra=0", wh("ratelimit-reset:9")], 0, "retry-after"],
    // Unreadable: the backoff.
    [[wh("ratelimit-reset:soon")], null, "backoff"],
  ];
  for (const [params, delayMs, source] of cases) {
    const key = uniqueKey("rl");
    const res = await f(u(`/seq?key=${key}&codes=429,200&${params.join("&")}`));
    assert.equal(res.status, 200);
    await res.text();
    const r = retries.at(-1);
    assert.equal(r.source, source, params.join("&"));
    if (delayMs !== null) assert.equal(r.delayMs, delayMs, params.join("&"));
    else assert.ok(r.delayMs <= 20, `backoff ${r.delayMs}`);
  }
  // A Unix time (as X-RateLimit-Reset may be): the wait until it, clamped to maxRetryAfterMs.
  const g = createFetch({ retry: { maxAttempts: 2, backoff: FAST, maxRetryAfterMs: 1500 } });
  const gr = collect(g, "retry");
  const key = uniqueKey("rlepoch");
  const at = Math.ceil(Date.now() / 1000) + 3600;
  const res = await g(u(`/seq?key=${key}&codes=503,200&${wh(`x-ratelimit-reset:${at}`)}`));
  await res.text();
  assert.equal(gr[0].delayMs, 1500);
  assert.equal(gr[0].source, "x-ratelimit-reset");
});

test("POST is not retried by default: giveup reason method-not-retryable", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const giveups = collect(f, "giveup");
  const retries = collect(f, "retry");
  const key = uniqueKey("post");
  const res = await f(u(`/seq?key=${key}&codes=503,200`), { method: "POST", body: "payload" });
  assert.equal(res.status, 503);
  await res.text();
  assert.equal(origin.hits(key), 1);
  assert.equal(retries.length, 0);
  assert.equal(giveups.length, 1);
  assert.equal(giveups[0].reason, "method-not-retryable");
  assert.equal(giveups[0].method, "POST");
  assert.equal(f.snapshot().giveups["method-not-retryable"], 1);
});

test("POST with an Idempotency-Key header is retried (header and body replayed)", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const key = uniqueKey("postidem");
  const res = await f(u(`/seq?key=${key}&codes=503,200`), {
    method: "POST",
    headers: { "Idempotency-Key": "abc-123", "content-type": "text/plain" },
    body: "payload",
  });
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(origin.hits(key), 2);
  for (const r of origin.requests(key)) {
    assert.equal(r.method, "POST");
    assert.equal(r.headers["idempotency-key"], "abc-123");
    assert.equal(r.body.toString(), "payload");
  }
  // also when given as a Headers instance, lower case
  const key2 = uniqueKey("postidem2");
  const res2 = await f(u(`/seq?key=${key2}&codes=503,200`), {
    method: "POST",
    headers: new Headers({ "idempotency-key": "xyz" }),
    body: "p2",
  });
  assert.equal(res2.status, 200);
  await res2.text();
  assert.equal(origin.hits(key2), 2);
});

test("POST is retried when retry.methods includes POST", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST, methods: ["GET", "POST"] } });
  const retries = collect(f, "retry");
  const key = uniqueKey("postcfg");
  const res = await f(u(`/seq?key=${key}&codes=503,200`), { method: "POST", body: "payload" });
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(origin.hits(key), 2);
  assert.equal(retries.length, 1);
  assert.equal(retries[0].method, "POST");
  assert.deepEqual(
    origin.requests(key).map((r) => r.body.toString()),
    ["payload", "payload"],
  );
  // and PUT, not listed any more, is not retried
  const key2 = uniqueKey("putcfg");
  const res2 = await f(u(`/seq?key=${key2}&codes=503,200`), { method: "PUT", body: "x" });
  assert.equal(res2.status, 503);
  await res2.text();
  assert.equal(origin.hits(key2), 1);
});

test("network error once (/reset?times=1) is retried and resolves 200", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const retries = collect(f, "retry");
  const key = uniqueKey("reset1");
  const res = await f(u(`/reset?key=${key}&times=1`));
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(origin.hits(key), 2);
  assert.equal(retries.length, 1);
  assert.equal(retries[0].attempt, 2);
  assert.equal(retries[0].reason, "network");
});

test("network error every time rejects with BallastError NETWORK, cause and attempts", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const giveups = collect(f, "giveup");
  const key = uniqueKey("resetall");
  const err = await rejection(f(u(`/reset?key=${key}`)));
  assert.ok(err instanceof BallastError, `expected BallastError, got ${err?.name}: ${err?.message}`);
  assert.ok(err instanceof Error);
  assert.equal(err.name, "BallastError");
  assert.equal(err.code, "NETWORK");
  assert.equal(err.reason, "max-attempts");
  assert.ok(err.cause, "cause is set");
  assert.equal(typeof err.message, "string");
  assert.ok(Array.isArray(err.attempts));
  assert.equal(err.attempts.length, 3);
  for (const a of err.attempts) {
    assert.equal(a.outcome, "error");
    assert.equal(a.status, undefined);
    assert.equal(typeof a.durationMs, "number");
    assert.ok(a.durationMs >= 0);
  }
  assert.equal(origin.hits(key), 3);
  assert.equal(giveups.length, 1);
  assert.equal(giveups[0].reason, "max-attempts");
});

test("defaults: a 503 that never clears gets 4 attempts (3 retries from the reserve), then the last 503", async () => {
  const f = createFetch({ retry: { backoff: FAST } });
  const key = uniqueKey("default4");
  const res = await f(u(`/seq?key=${key}&codes=503,503,503,503,503`));
  assert.equal(res.status, 503);
  assert.equal(origin.hits(key), 4);
  assert.equal(f.snapshot().retries, 3);
});

test("without a seed, each client seeds its jitter from crypto.getRandomValues on its first call, not before", async () => {
  const real = globalThis.crypto.getRandomValues;
  let draws = 0;
  globalThis.crypto.getRandomValues = function (a) {
    draws += 1;
    return real.call(this, a);
  };
  try {
    const policy = { retry: { maxAttempts: 2, backoff: { kind: "full", baseMs: 1000, capMs: 1000 } }, timeout: { totalMs: null } };
    const a = createFetch(policy);
    const b = createFetch(policy);
    assert.equal(draws, 0, "nothing drawn when the client is created (Workers refuse it at module scope)");
    const delays = [];
    for (const f of [a, b]) {
      f.on("retry", (e) => delays.push(e.delayMs));
      const ac = new AbortController();
      f.on("retry", () => ac.abort());
      await f(u(`/seq?key=${uniqueKey("seed")}&codes=503,200`), { signal: ac.signal }).catch(() => {});
    }
    assert.equal(draws, 2, "one draw per client, on its first call");
    assert.equal(delays.length, 2);
    assert.notEqual(delays[0], delays[1], "two clients, two seeds, two jitters");
    // A configured seed draws nothing and gives the same jitter every time.
    const seeded = [];
    for (let i = 0; i < 2; i++) {
      const f = createFetch({ ...policy, seed: 42 });
      const ac = new AbortController();
      f.on("retry", (e) => {
        seeded.push(e.delayMs);
        ac.abort();
      });
      await f(u(`/seq?key=${uniqueKey("seed")}&codes=503,200`), { signal: ac.signal }).catch(() => {});
    }
    assert.equal(draws, 2);
    assert.equal(seeded[0], seeded[1]);
  } finally {
    globalThis.crypto.getRandomValues = real;
  }
});

// retry.shouldRetry and retry.delay against a real loopback origin: what they are told, what they
// can change (decline a retry, retry a status the engine would not, set the wait) and what they
// cannot (the attempt cap, the budget, a request that may not be sent twice, the deadline); a hook
// that throws, rejects or answers nonsense rejects the call with code HOOK naming it; a hook still
// deciding when the deadline or the caller's abort comes holds nothing up.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch, BallastError, ConfigError } from "../../pkg/node.js";
import { fingerprint } from "../../pkg/drift-node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, FAST, collect, sleep } from "./helpers.mjs";

let S;
before(async () => {
  S = await startOrigin();
});
after(async () => {
  await S.close();
});

const url = (path, key) => `http://127.0.0.1:${S.port}${path}${path.includes("?") ? "&" : "?"}key=${key}`;

test("shouldRetry is told the status, the response, the attempt and the engine's verdict; false keeps the response", async () => {
  const seen = [];
  const f = createFetch({
    retry: {
      backoff: FAST,
      shouldRetry: (info) => {
        seen.push({ ...info, response: info.response instanceof Response });
        return false;
      },
    },
  });
  const giveups = collect(f, "giveup");
  const key = uniqueKey("sr-false");
  const res = await f(url("/seq?codes=503,200", key));
  assert.equal(res.status, 503);
  assert.deepEqual(await res.json(), { seq: 1, status: 503 }, "the response it decided on, unread");
  assert.equal(S.requests(key).length, 1);
  assert.deepEqual(seen, [
    { attempt: 1, retry: true, status: 503, response: true, error: undefined, method: "GET", url: url("/seq?codes=503,200", key) },
  ]);
  assert.deepEqual(
    giveups.map((g) => g.reason),
    ["declined"],
  );
  assert.equal(f.snapshot().retries, 0);
});

test("shouldRetry true retries a status the engine would not; undefined leaves it to the engine; promises are awaited", async () => {
  const f = createFetch({
    retry: { backoff: FAST, shouldRetry: async (info) => (info.status === 404 ? true : undefined) },
  });
  const key = uniqueKey("sr-404");
  const res = await f(url("/seq?codes=404,503,200", key));
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(S.requests(key).length, 3, "404 by the hook, 503 by the engine");
  // Successes are never asked about; neither is a 4xx the hook leaves alone.
  const g = createFetch({ retry: { backoff: FAST, shouldRetry: (info) => (info.status === 404 ? undefined : assert.fail("asked")) } });
  const k2 = uniqueKey("sr-404b");
  const r2 = await g(url("/seq?codes=404,200", k2));
  assert.equal(r2.status, 404);
  await r2.text();
  assert.equal(S.requests(k2).length, 1);
  assert.equal((await g(url("/ok", uniqueKey("sr-ok")))).status, 200);
});

test("shouldRetry is told a network error; false rejects with it, reason declined", async () => {
  let told;
  const f = createFetch({
    retry: {
      backoff: FAST,
      shouldRetry: (info) => {
        told = info;
        return false;
      },
    },
  });
  const key = uniqueKey("sr-net");
  const err = await f(url("/reset", key)).then(
    () => assert.fail("resolved"),
    (e) => e,
  );
  assert.ok(err instanceof BallastError);
  assert.equal(err.code, "NETWORK");
  assert.equal(err.reason, "declined");
  assert.equal(told.status, undefined);
  assert.ok(told.error instanceof Error, "the transport's error");
  assert.equal(told.retry, true);
  assert.equal(S.requests(key).length, 1);
});

test("delay sets the wait (named hook in the retry event) and is told the engine's, Retry-After included", async () => {
  const told = [];
  const f = createFetch({
    retry: {
      backoff: FAST,
      delay: (info) => {
        told.push(info.delayMs);
        return 1;
      },
    },
  });
  const retries = collect(f, "retry");
  const key = uniqueKey("delay");
  const res = await f(url("/seq?codes=503,200&ra=3", key));
  assert.equal(res.status, 200);
  await res.text();
  assert.deepEqual(told, [3_000], "the wait the response's Retry-After asks for");
  assert.deepEqual(
    retries.map((r) => [r.delayMs, r.source]),
    [[1, "hook"]],
  );
});

test("a hook never buys more than the attempt cap, the budget or a replay-safe request allows", async () => {
  let asked = 0;
  const always = () => {
    asked++;
    return true;
  };
  const f = createFetch({ retry: { maxAttempts: 2, backoff: FAST, shouldRetry: always } });
  const key = uniqueKey("cap");
  const res = await f(url("/seq?codes=503,503,503,200", key));
  assert.equal(res.status, 503);
  await res.text();
  assert.equal(S.requests(key).length, 2);
  assert.equal(asked, 1, "not asked when no attempt is left");

  const broke = createFetch({ retry: { backoff: FAST, shouldRetry: always }, budget: { ratio: 0, minPerSec: 0 } });
  const giveups = collect(broke, "giveup");
  const k2 = uniqueKey("budget");
  const r2 = await broke(url("/seq?codes=503,200", k2));
  assert.equal(r2.status, 503);
  await r2.text();
  assert.equal(S.requests(k2).length, 1);
  assert.deepEqual(
    giveups.map((g) => g.reason),
    ["budget-exhausted"],
  );

  asked = 0;
  const k3 = uniqueKey("post");
  const r3 = await f(url("/seq?codes=503,200", k3), { method: "POST", body: "x" });
  assert.equal(r3.status, 503);
  await r3.text();
  assert.equal(S.requests(k3).length, 1);
  assert.equal(asked, 0, "a POST without an Idempotency-Key is never sent twice");
});

test("a hook that throws, rejects or answers nonsense rejects the call with code HOOK naming it", async () => {
  const boom = new Error("boom");
  for (const [what, retry, name] of [
    ["shouldRetry throws", { shouldRetry: () => { throw boom; } }, "retry.shouldRetry"],
    ["shouldRetry rejects", { shouldRetry: async () => { throw boom; } }, "retry.shouldRetry"],
    ["shouldRetry returns 1", { shouldRetry: () => 1 }, "retry.shouldRetry"],
    ["delay throws", { delay: () => { throw boom; } }, "retry.delay"],
    ["delay returns -5", { delay: () => -5 }, "retry.delay"],
    ["delay returns NaN", { delay: () => NaN }, "retry.delay"],
  ]) {
    const f = createFetch({ retry: { backoff: FAST, ...retry } });
    const giveups = collect(f, "giveup");
    const key = uniqueKey("hook-bad");
    const err = await f(url("/seq?codes=503,200", key)).then(
      () => assert.fail(`${what}: resolved`),
      (e) => e,
    );
    assert.ok(err instanceof BallastError, what);
    assert.equal(err.code, "HOOK", what);
    assert.equal(err.reason, "hook-failed", what);
    assert.match(err.message, new RegExp(`${name.replace(".", "\\.")} failed`), what);
    assert.ok(err.cause instanceof TypeError, what);
    if (what.endsWith("throws") || what.endsWith("rejects")) assert.equal(err.cause.cause, boom, what);
    assert.equal(err.attempts.length, 1, what);
    assert.equal(S.requests(key).length, 1, `${what}: not retried`);
    assert.deepEqual(giveups.map((g) => g.reason), ["hook-failed"], what);
    assert.equal(f.snapshot().activeTasks, 0, what);
    // The client goes on.
    const ok = await f(url("/ok", uniqueKey("after")));
    assert.equal(ok.status, 200, what);
    await ok.text();
  }
});

test("a hook still deciding holds nothing up: the deadline and the caller's abort end the call", async () => {
  let release;
  const slow = () => new Promise((r) => (release = () => r(true)));
  const f = createFetch({ retry: { backoff: FAST, shouldRetry: slow }, timeout: { totalMs: 150 } });
  const key = uniqueKey("slow-hook");
  const err = await f(url("/seq?codes=503,200", key)).then(
    () => assert.fail("resolved"),
    (e) => e,
  );
  assert.equal(err.name, "TimeoutError");
  release(); // the late answer is ignored
  await sleep(20);
  assert.equal(S.requests(key).length, 1);
  assert.equal(f.snapshot().activeTasks, 0);
  assert.equal(f.snapshot().inFlight, 0, "a call waiting on a hook holds no slot");

  const g = createFetch({ retry: { backoff: FAST, shouldRetry: slow } });
  const ac = new AbortController();
  const k2 = uniqueKey("slow-hook-abort");
  const p = g(url("/seq?codes=503,200", k2), { signal: ac.signal });
  await sleep(50);
  ac.abort();
  const e2 = await p.then(
    () => assert.fail("resolved"),
    (e) => e,
  );
  assert.equal(e2.name, "AbortError");
  release();
  await sleep(20);
  assert.equal(S.requests(k2).length, 1);
  assert.equal(g.snapshot().activeTasks, 0);
});

test("retry hooks in the config: a ConfigError for a non-function; not part of the fingerprint", () => {
  for (const key of ["shouldRetry", "delay"]) {
    assert.throws(
      () => createFetch({ retry: { [key]: 5 } }),
      (e) => e instanceof ConfigError && e.path === `retry.${key}` && /a function/.test(e.message),
      key,
    );
  }
  const config = { retry: { maxAttempts: 2 } };
  const hooked = { retry: { maxAttempts: 2, shouldRetry: () => true, delay: () => 0 } };
  assert.equal(fingerprint(hooked), fingerprint(config));
  assert.equal(createFetch(hooked).snapshot().config.fingerprint, fingerprint(config));
});

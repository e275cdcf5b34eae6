// Workers: a timer belongs to the request whose code set it, and never fires once that request
// is over (workerd then reports a request waiting on nothing as hung). So in workerd each call
// keeps a timer of its own, set in its own request (pkg/workers-executor.js): a retry's backoff,
// an attempt timeout, a deadline wake the call they belong to, whatever other requests did or
// finished meanwhile. In miniflare (real workerd) against the loopback origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, workerScript } from "./helpers.mjs";

let origin;
let mf;
before(async () => {
  origin = await startOrigin();
  mf = new Miniflare({ workers: [workerScript("timers", "timers-worker.mjs")] });
});
after(async () => {
  await mf?.dispose();
  await origin?.close();
});

/** One request to the Worker: its client calls `target` on the origin. */
async function ask(target, extra = {}) {
  const q = new URLSearchParams({ url: `${origin.url}${target}`, ...extra });
  const res = await mf.dispatchFetch(`http://worker/?${q}`);
  const text = await res.text();
  assert.equal(res.status, 200, `the Worker answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

test("a retry after a finished request's timers: the call is woken in its own request, not reported hung", { timeout: 60_000 }, async () => {
  const ok = await ask(`/ok?key=${uniqueKey("first")}`);
  assert.equal(ok.status, 200);
  // The first request left the client's once-a-second timer set in its own context; this call's
  // retry comes 1.5 s later.
  const key = uniqueKey("retry");
  const r = await ask(`/reset?key=${key}`);
  assert.deepEqual([r.code, r.reason, r.attempts], ["NETWORK", "max-attempts", 2]);
  assert.ok(r.ms >= 1400, `the retry waited its backoff: ${r.ms} ms`);
  assert.equal(origin.hits(key), 2);
});

test("concurrent requests: one that waits in its backoff outlives one that finished, and retries", { timeout: 60_000 }, async () => {
  const key = uniqueKey("outlives");
  const waiting = ask(`/reset?key=${key}&times=1`); // fails once, then answers 200
  await new Promise((r) => setTimeout(r, 200));
  const quick = await ask(`/ok?key=${uniqueKey("quick")}`); // starts and ends while the first waits
  assert.equal(quick.status, 200);
  const r = await waiting;
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.equal(origin.hits(key), 2);
});

test("an attempt timeout and the retry after it fire in their call's request while others come and go", { timeout: 60_000 }, async () => {
  const key = uniqueKey("hang");
  const hanging = ask(`/hang?key=${key}`, { attemptMs: "300" });
  for (let i = 0; i < 3; i++) assert.equal((await ask(`/ok?key=${uniqueKey("between")}`, { attemptMs: "300" })).status, 200);
  const r = await hanging;
  assert.deepEqual([r.code, r.reason, r.attempts], ["ATTEMPT_TIMEOUT", "max-attempts", 2], JSON.stringify(r));
  assert.equal(origin.hits(key), 2);
});

test("a call that waited in the limiter's queue starts in its own request, and outlives the one that freed its slot", { timeout: 60_000 }, async () => {
  // limit 1: the second request's call waits until the first's settles; the first's request is
  // over by the time the second's attempt answers.
  const slow = ask(`/slow?ms=300&key=${uniqueKey("first")}`, { limit: "1" });
  await new Promise((r) => setTimeout(r, 100));
  const key = uniqueKey("queued");
  const queued = ask(`/slow?ms=600&key=${key}`, { limit: "1" });
  assert.equal((await slow).status, 200);
  const r = await queued;
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.ok(r.ms >= 700, `it waited for the slot, then its own 600 ms: ${r.ms} ms`);
  assert.equal(origin.hits(key), 1);
});

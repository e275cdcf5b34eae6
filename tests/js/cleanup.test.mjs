// Nothing outlives a call: however a call ends, the timers it set (attempt timeout, deadline,
// backoff sleep, hedge, queue wait) are cleared and its listener on the caller's signal is removed.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { setImmediate as tick } from "node:timers/promises";
import { createFetch } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, FAST, activeTimeouts } from "./helpers.mjs";

let origin;
const u = (p) => `${origin.url}${p}${p.includes("?") ? "&" : "?"}key=${uniqueKey("cleanup")}`;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

const retry = { maxAttempts: 2, backoff: FAST };
const cases = [
  ["a response", {}, () => u("/ok")],
  ["a retry, then a response", { retry }, () => u("/seq?codes=503,200")],
  ["attempt timeouts", { retry, timeout: { attemptMs: 40, totalMs: 5000 } }, () => u("/hang")],
  ["the deadline", { timeout: { attemptMs: 5000, totalMs: 60 } }, () => u("/hang")],
  ["a hedge, both attempts timing out", { retry, hedge: { afterMs: 10 }, timeout: { attemptMs: 50 } }, () => u("/hang")],
  ["network errors", { retry }, () => u("/reset")],
  ["a retry sleep cut by the deadline", { retry: { maxAttempts: 3, backoff: { kind: "exponential", baseMs: 2000, capMs: 2000 } }, timeout: { totalMs: 100 } }, () => u("/seq?codes=503,503,200")],
];

for (const [what, config, url] of cases) {
  test(`a call that ends with ${what} leaves no timer and no listener behind`, async () => {
    const baseline = activeTimeouts();
    const f = createFetch(config);
    const ac = new AbortController();
    try {
      const res = await f(url(), { signal: ac.signal });
      await res.arrayBuffer();
    } catch {
      // how it ended is other tests' business; here only what it leaves behind
    }
    await tick();
    assert.equal(activeTimeouts(), baseline, `Timeout handles: ${process.getActiveResourcesInfo().join(",")}`);
    assert.equal(getEventListeners(ac.signal, "abort").length, 0, "listeners left on the caller's signal");
  });
}

test("calls that end in the queue (shed, queue timeout, caller abort) leave nothing behind", async () => {
  const baseline = activeTimeouts();
  const f = createFetch({ concurrency: { limit: 1, queue: 1, queueTimeoutMs: 50 }, timeout: { attemptMs: 5000, totalMs: 300 } });
  const signals = [new AbortController(), new AbortController(), new AbortController()];
  const first = f(u("/hang"), { signal: signals[0].signal }).catch(() => {}); // holds the slot until its deadline
  const queued = f(u("/ok"), { signal: signals[1].signal }).catch(() => {}); // waits, then queue timeout
  const shed = f(u("/ok"), { signal: signals[2].signal }).catch(() => {}); // queue full: shed at once
  await Promise.all([queued, shed]);
  const aborted = new AbortController();
  const waiting = f(u("/ok"), { signal: aborted.signal }).catch(() => {}); // queued behind the hang
  aborted.abort();
  await Promise.all([first, waiting]);
  await tick();
  assert.equal(activeTimeouts(), baseline, `Timeout handles: ${process.getActiveResourcesInfo().join(",")}`);
  for (const s of [...signals, aborted]) assert.equal(getEventListeners(s.signal, "abort").length, 0);
});

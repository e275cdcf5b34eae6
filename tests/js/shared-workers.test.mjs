// The shared retry budget on Cloudflare Workers (docs/shared-budget.md), in miniflare with a real
// Durable Object: 1, 4 and 16 Worker scripts (each its own isolate with its own module state)
// bound to one BallastBudget namespace, every isolate calling a loopback origin in full outage.
// Retries across all isolates: with local budgets, one reserve per isolate (10 each with the
// default budget); shared, about one reserve in all. And the coordinator's own outage (an
// object that fails, one that answers after 3 s): calls flow on local budgets, none waits on
// the object, and the event and snapshot say degraded.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, workerScript } from "./helpers.mjs";

const CALLS = 8; // per isolate; each would retry 3 times without a budget
const RESERVE = 10; // budget.minPerSec 1 x ttlMs 10 s
const ns = (className) => ({ className, scriptName: "budget" });

let origin;
before(async () => {
  origin = await startOrigin();
});
after(() => origin?.close());

/** Miniflare with the budget Worker and `n` isolates of tests/shared/worker.mjs. */
async function workers(n) {
  const script = workerScript;
  const isolates = Array.from({ length: n }, (_, i) =>
    script(`isolate-${i}`, "worker.mjs", {
      durableObjects: {
        BALLAST_BUDGET: ns("BallastBudget"),
        BALLAST_BROKEN: ns("BrokenBudget"),
        BALLAST_SLOW: ns("SlowBudget"),
      },
    }),
  );
  const mf = new Miniflare({
    cf: false,
    host: "127.0.0.1",
    port: 0,
    workers: [
      ...isolates,
      script("budget", "coordinator.mjs", {
        durableObjects: { BALLAST_BUDGET: "BallastBudget", BALLAST_BROKEN: "BrokenBudget", BALLAST_SLOW: "SlowBudget" },
      }),
    ],
  });
  await mf.ready;
  return mf;
}

/** Every isolate makes CALLS calls at once in `mode`; the origin's hits give the retries. */
async function outage(mf, n, mode, pause = 0) {
  const key = uniqueKey(mode);
  const results = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const w = await mf.getWorker(`isolate-${i}`);
      const q = new URLSearchParams({ origin: origin.url, key, n: String(CALLS), mode, pause: String(pause) });
      const res = await w.fetch(`http://isolate/?${q}`);
      const text = await res.text();
      assert.equal(res.status, 200, text);
      return JSON.parse(text);
    }),
  );
  return { retries: origin.hits(key) - n * CALLS, results };
}

const table = [];
after(() => {
  if (table.length > 0) console.log(`retries across isolates in a full outage (miniflare):\n${table.join("\n")}`);
});

for (const n of [1, 4, 16]) {
  test(`${n} isolate(s): shared retries stay near one reserve, local ones grow with the isolates`, { timeout: 120_000 }, async () => {
    const mf = await workers(n);
    try {
      const local = await outage(mf, n, "local");
      const shared = await outage(mf, n, "shared");
      table.push(`  ${String(n).padStart(2)} isolates: local ${local.retries}, shared ${shared.retries}`);
      assert.equal(local.retries, n * RESERVE, "each isolate spends its own reserve");
      assert.ok(shared.retries <= RESERVE + 2, `shared: ${shared.retries} retries for ${n} isolates`);
      if (n >= 4) assert.ok(shared.retries >= RESERVE / 2, `the shared reserve is used: ${shared.retries}`);
      for (const r of shared.results) {
        assert.equal(r.budget.mode, "shared");
        assert.deepEqual(r.events, []);
      }
    } finally {
      await mf.dispose();
    }
  });
}

test("one isolate, many requests: the client stays shared from one request to the next", { timeout: 120_000 }, async () => {
  // A Durable Object stub belongs to the request that made it (workerd refuses its use from another
  // one), so a coordinator that kept the first request's stub failed every lease after it.
  const mf = await workers(1);
  try {
    const key = uniqueKey("requests");
    const w = await mf.getWorker("isolate-0");
    let last;
    // One call per request, each wanting 3 retries: the leases after the first request's are made
    // in later requests.
    for (let i = 0; i < 8; i++) {
      const q = new URLSearchParams({ origin: origin.url, key, n: "1", mode: "shared" });
      const res = await w.fetch(`http://isolate/?${q}`);
      last = JSON.parse(await res.text());
      assert.equal(last.budget.mode, "shared", `request ${i + 1}`);
    }
    assert.deepEqual(last.events, []);
    const retries = origin.hits(key) - 8;
    assert.ok(retries <= RESERVE + 2 && retries >= RESERVE / 2, `${retries} retries in 8 calls, one a request`);
  } finally {
    await mf.dispose();
  }
});

test("a deploy that changes the config: the object gives the new config a bucket of its own", { timeout: 120_000 }, async () => {
  const mf = await workers(2);
  try {
    const key = uniqueKey("deploy");
    for (const [i, mode] of [[0, "shared"], [1, "other"]]) {
      const w = await mf.getWorker(`isolate-${i}`);
      const q = new URLSearchParams({ origin: origin.url, key, n: "2", mode });
      const r = JSON.parse(await (await w.fetch(`http://isolate/?${q}`)).text());
      assert.equal(r.budget.mode, "shared", `${mode}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.events, [], `${mode}: no lease refused`);
    }
  } finally {
    await mf.dispose();
  }
});

test("coordinator outage: calls flow on local budgets, none waits on it, and it says degraded", { timeout: 120_000 }, async () => {
  const n = 4;
  const mf = await workers(n);
  try {
    for (const [mode, reason] of [
      ["broken", "error"],
      ["slow", "timeout"],
    ]) {
      // A pause past the engine's lease timeout (250 ms) after the first call.
      const { retries, results } = await outage(mf, n, mode, 400);
      // The degraded reserve: a tenth of the budget's, per isolate (1 here).
      assert.ok(retries <= n, `${mode}: ${retries} retries`);
      for (const r of results) {
        assert.equal(r.tasks, CALLS);
        assert.equal(r.budget.mode, "degraded", mode);
        const { error, ...event } = r.events.at(-1);
        assert.deepEqual(event, { state: "degraded", reason }, mode);
        assert.equal(error !== undefined, reason === "error", `${mode}: what failed, only when something did`);
        // The slow object answers after 3 s; no call took near that.
        assert.ok(r.slowest < 1000, `${mode}: a call took ${r.slowest} ms`);
      }
    }
  } finally {
    await mf.dispose();
  }
});

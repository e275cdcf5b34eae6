// The executor's coordinator path (the `coordinator` option, src/core/lease.rs) with fake
// coordinators (granting, failing, slow, answering nonsense), and the coordinator's bucket
// (pkg/coordinator.js) against src/core/budget.rs: the sequence tests/shared.rs computed with
// RetryBudget, replayed here grant by grant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createFetch, ConfigError } from "../../pkg/node.js";
import { answer, checkRequest, lease, newBucket } from "../../pkg/coordinator.js";
import { collect, sleep } from "./helpers.mjs";

const FAST = { baseMs: 1, capMs: 2 };
const always503 = async () => new Response("down", { status: 503 });

/** A transport that answers 503 and counts the attempts. */
function outage() {
  const t = async () => {
    t.hits++;
    return new Response("down", { status: 503 });
  };
  t.hits = 0;
  return t;
}

test("the JS bucket grants what budget.rs would, lease by lease", () => {
  const runs = JSON.parse(readFileSync(new URL("../fixtures/coordinator-bucket.json", import.meta.url), "utf8"));
  assert.ok(runs.length >= 3);
  for (const { budget, ops } of runs) {
    const b = newBucket("fp", budget);
    for (const [t, deposits, want, granted] of ops) {
      assert.equal(lease(b, { deposits, want }, t), granted, `at ${t} (${JSON.stringify(budget)})`);
    }
  }
});

test("the bucket refuses bad requests and another config's, naming what was wrong", () => {
  const ok = { fingerprint: "a", budget: { ratio: 0.2, minPerSec: 1, ttlMs: 10_000 }, deposits: 0, want: 4 };
  assert.deepEqual(checkRequest(ok), ok);
  for (const [bad, what] of [
    [null, /must be an object/],
    [{ ...ok, fingerprint: 3 }, /fingerprint/],
    [{ ...ok, budget: { ...ok.budget, ttlMs: 5 } }, /budget.ttlMs/],
    [{ ...ok, want: -1 }, /want must be an integer/],
    [{ ...ok, deposits: 1.5 }, /deposits must be an integer/],
  ]) {
    assert.throws(() => checkRequest(bad), what);
  }
  const { bucket, response } = answer(undefined, ok, 0);
  assert.deepEqual(response, { granted: 4, ttlMs: 10_000 });
  assert.throws(() => answer(bucket, { ...ok, fingerprint: "b" }, 1), /for config a, not b/);
});

test("a granting coordinator: retries spend leased tokens, deposits are reported", async () => {
  const requests = [];
  const bucket = { b: undefined };
  const coordinator = {
    async lease(r) {
      requests.push(r);
      const { bucket: b, response } = answer(bucket.b, r, Date.now());
      bucket.b = b;
      return response;
    },
  };
  const t = outage();
  const f = createFetch({ transport: t, coordinator, retry: { backoff: FAST } });
  assert.equal(f.snapshot().budget.mode, "shared");
  assert.equal(f.snapshot().config.effective.coordinator, undefined, "not part of the config");
  for (let i = 0; i < 6; i++) await f("http://o/x");
  await sleep(20);
  const s = f.snapshot();
  assert.equal(s.budget.mode, "shared");
  assert.ok(requests.length >= 2, `${requests.length} lease requests`);
  assert.equal(requests[0].fingerprint, s.config.fingerprint);
  assert.deepEqual(requests[0].budget, { ratio: 0.2, minPerSec: 1, ttlMs: 10_000 });
  assert.equal(t.hits - 6, 10, "the group's reserve (10), spent by this client alone");
});

test("a failing coordinator: degraded (event, snapshot), local budget with a small reserve", async () => {
  const t = outage();
  let asked = 0;
  const f = createFetch({
    transport: t,
    retry: { backoff: FAST },
    coordinator: {
      lease() {
        asked++;
        throw new Error("down");
      },
    },
  });
  const events = collect(f, "coordinator");
  for (let i = 0; i < 5; i++) await f("http://o/x");
  assert.equal(asked, 1, "asked again only after a backoff");
  assert.equal(events.length, 1);
  const { error, ...rest } = events[0];
  assert.deepEqual(rest, { state: "degraded", reason: "error" });
  assert.equal(error?.message, "down", "the event carries what the coordinator threw");
  const s = f.snapshot();
  assert.equal(s.budget.mode, "degraded");
  assert.ok(t.hits - 5 <= 1, `a tenth of the reserve: ${t.hits - 5} retries`);
});

test("a slow coordinator: no call waits for it; past 250 ms it is degraded, and its late answer dropped", async () => {
  const t = outage();
  let release;
  const f = createFetch({
    transport: t,
    retry: { backoff: FAST },
    coordinator: { lease: () => new Promise((r) => (release = () => r({ granted: 50, ttlMs: 10_000 }))) },
  });
  const events = collect(f, "coordinator");
  const t0 = Date.now();
  const res = await f("http://o/x");
  assert.equal(res.status, 503);
  assert.ok(Date.now() - t0 < 200, "the call did not wait for the coordinator");
  await sleep(300);
  assert.deepEqual([...events], [{ state: "degraded", reason: "timeout" }]);
  release();
  await sleep(5);
  assert.equal(f.snapshot().budget.leased, 0, "the late grant was dropped");
  assert.equal(f.snapshot().budget.mode, "degraded");
});

test("a coordinator answering nonsense is a failure; a recovered one restores shared mode", async () => {
  let good = false;
  const f = createFetch({
    transport: always503,
    retry: { backoff: FAST },
    coordinator: { lease: async () => (good ? { granted: 4, ttlMs: 10_000 } : { granted: "many" }) },
  });
  const events = collect(f, "coordinator");
  await f("http://o/x");
  await sleep(5);
  assert.equal(f.snapshot().budget.mode, "degraded");
  good = true;
  await sleep(1100); // the backoff (1 s): asked again on the engine's timer
  await sleep(5);
  assert.equal(events.length, 2);
  const { error, ...rest } = events[0];
  assert.deepEqual(rest, { state: "degraded", reason: "error" });
  assert.ok(error instanceof TypeError, String(error));
  assert.match(error.message, /coordinator\.lease resolved with .*many.*, not \{ granted, ttlMs \}/);
  assert.deepEqual(events[1], { state: "shared", reason: "granted" }, "no error on the way back");
  assert.equal(f.snapshot().budget.leased, 4);
});

test("the coordinator option must have a lease method", () => {
  assert.throws(() => createFetch({ coordinator: {} }), (e) => e instanceof ConfigError && e.path === "coordinator");
  assert.throws(() => createFetch({ coordinator: 3 }), ConfigError);
});

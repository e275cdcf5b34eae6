// Route state shared by the coordinator on Cloudflare Workers (docs/state.md), in miniflare with a
// real Durable Object and a Workers KV namespace. Isolate A calls a two-route config whose primary
// fails, ejects it and pushes its state; a new isolate B (a Worker script of its own) reads the
// group's state on its first use, and once it has arrived sends nothing to the primary; a new
// isolate without the shared state does. The same through Workers KV (with an object that fails,
// so the state can only have come from KV). A state of another config in the same group is kept
// apart. And a coordinator that fails or is slow: B's calls flow, none waits on it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Miniflare } from "miniflare";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, workerScript } from "./helpers.mjs";

const ns = (className) => ({ className, scriptName: "budget" });
const CALLS = 10;

let A, B;
before(async () => {
  [A, B] = await Promise.all([startOrigin(), startOrigin()]);
  A.setFault({ status: 503 });
});
after(async () => {
  await Promise.all([A, B].map((o) => o?.close()));
});

/** Miniflare with the budget Worker and `n` isolates of tests/shared/state-worker.mjs. */
async function workers(n) {
  const script = (name, file, extra) => workerScript(name, file, { kvNamespaces: { BALLAST_STATE: "ballast-state" }, ...extra });
  const objects = { BALLAST_BUDGET: ns("BallastBudget"), BALLAST_BROKEN: ns("BrokenBudget"), BALLAST_SLOW: ns("SlowBudget") };
  const mf = new Miniflare({
    cf: false,
    host: "127.0.0.1",
    port: 0,
    workers: [
      ...Array.from({ length: n }, (_, i) => script(`isolate-${i}`, "state-worker.mjs", { durableObjects: objects })),
      script("budget", "coordinator.mjs", {
        durableObjects: { BALLAST_BUDGET: "BallastBudget", BALLAST_BROKEN: "BrokenBudget", BALLAST_SLOW: "SlowBudget" },
      }),
    ],
  });
  await mf.ready;
  return mf;
}

/** Isolate `i` makes `n` calls with client `mode`; its routes and slowest call. */
async function calls(mf, i, mode, n, key = uniqueKey(mode), extra = {}) {
  const w = await mf.getWorker(`isolate-${i}`);
  const q = new URLSearchParams({ primary: A.url, secondary: B.url, mode, key, n: String(n), ...extra });
  const res = await w.fetch(`http://isolate/?${q}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text);
}

const primary = (r) => r.routes.find((x) => x.name === "primary");

/** Asks isolate `i` until `done(answer)`, or fails after a few seconds. */
async function until(mf, i, mode, done, what) {
  for (let t = 0; t < 100; t++) {
    const r = await calls(mf, i, mode, 0);
    if (done(r)) return r;
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(what);
}

/** Isolate 0 ejects the primary with `mode`, and its state reaches the object. */
async function ejectAndPush(mf, mode) {
  const a = await calls(mf, 0, mode, CALLS);
  assert.equal(primary(a).state, "ejected", JSON.stringify(a));
  const held = await peek(mf, a.fingerprint, (s) => s?.routes?.some((r) => r.name === "primary" && r.health?.[1] > 0));
  assert.ok(held, "A's state did not reach the object");
  return a;
}

/** What the object holds for config `fingerprint`, once `done(it)` (null if never). */
async function peek(mf, fingerprint, done = (s) => s !== null) {
  const w = await mf.getWorker("isolate-0");
  for (let t = 0; t < 100; t++) {
    const held = await (await w.fetch(`http://isolate/?mode=peek&fingerprint=${fingerprint}`)).json();
    if (done(held)) return held;
    await new Promise((res) => setTimeout(res, 50));
  }
  return null;
}

const numbers = [];
after(() => {
  if (numbers.length > 0) console.log(`attempts to the ejected primary by a new isolate's first ${CALLS} calls:\n${numbers.join("\n")}`);
});

test("a new isolate reads the group's state and sends nothing to the primary another isolate ejected", { timeout: 120_000 }, async () => {
  const mf = await workers(3);
  try {
    const a = await ejectAndPush(mf, "shared");
    // B: its first use starts the read; once the state is merged, the primary is ejected there too.
    await until(mf, 1, "shared", (r) => primary(r).state === "ejected", "B never took the group's state");
    const key = uniqueKey("b");
    const b = await calls(mf, 1, "shared", CALLS, key);
    assert.equal(A.hits(key), 0, "B sent nothing to the ejected primary");
    assert.deepEqual([primary(b).state, primary(b).attempts], ["ejected", 0]);
    assert.equal(b.fingerprint, a.fingerprint);
    // A new isolate without the shared state finds out by itself.
    const fresh = uniqueKey("fresh");
    const c = await calls(mf, 2, "local", CALLS, fresh);
    assert.ok(A.hits(fresh) > 0, "without the state the primary is tried");
    assert.equal(primary(c).state, "ejected");
    numbers.push(`  Durable Object: with the shared state ${A.hits(key)}, without ${A.hits(fresh)}`);
  } finally {
    await mf.dispose();
  }
});

test("Workers KV: a new isolate reads the state there first (its object fails), and avoids the primary", { timeout: 120_000 }, async () => {
  const mf = await workers(2);
  try {
    await ejectAndPush(mf, "shared");
    // The object copies its state to KV on the first push that names the namespace (then at most
    // once a minute): one call of a client with `stateKv`, after the ejection reached the object.
    await calls(mf, 0, "kv", 1);
    // B's object fails every call: the state can only have come from KV.
    await until(mf, 1, "kv-only", (r) => primary(r).state === "ejected", "B never took the state from KV");
    const key = uniqueKey("kv");
    const b = await calls(mf, 1, "kv-only", CALLS, key);
    assert.equal(A.hits(key), 0);
    assert.equal(primary(b).state, "ejected");
    numbers.push(`  Workers KV: with the shared state ${A.hits(key)}`);
  } finally {
    await mf.dispose();
  }
});

test("a state of another config in the same group is kept apart", { timeout: 120_000 }, async () => {
  const mf = await workers(2);
  try {
    const a = await ejectAndPush(mf, "shared");
    // Another config (another ejection time): its own state, which does not know the primary failed.
    const o = await calls(mf, 1, "other", 0);
    assert.notEqual(o.fingerprint, a.fingerprint);
    await new Promise((res) => setTimeout(res, 300)); // its read has long arrived
    const key = uniqueKey("other");
    const r = await calls(mf, 1, "other", CALLS, key);
    assert.ok(A.hits(key) > 0, "the other config tries the primary: it has no state of A's config");
    assert.equal(primary(r).state, "ejected");
    // The object holds one state per config, each of its own fingerprint.
    const theirs = await peek(mf, o.fingerprint);
    assert.equal(theirs?.fingerprint, o.fingerprint);
    assert.equal(theirs.isolates.length, 1);
    const mine = await peek(mf, a.fingerprint);
    assert.equal(mine.fingerprint, a.fingerprint);
    assert.equal(mine.isolates.length, 1);
  } finally {
    await mf.dispose();
  }
});

test("a coordinator that fails or is slow: calls flow, none waits on it", { timeout: 120_000 }, async () => {
  const mf = await workers(2);
  try {
    for (const [i, mode] of [
      [0, "broken"],
      [1, "slow"],
    ]) {
      const key = uniqueKey(mode);
      const r = await calls(mf, i, mode, CALLS, key);
      assert.ok(r.slowest < 1000, `${mode}: a call took ${r.slowest} ms`);
      // Every call reached an origin (a retry may be refused while no lease has come: retries fail
      // closed, calls fail open).
      assert.ok(A.hits(key) + B.hits(key) >= CALLS, `${mode}: ${A.hits(key)} + ${B.hits(key)} attempts`);
      assert.ok(B.hits(key) > 0, mode);
    }
  } finally {
    await mf.dispose();
  }
});

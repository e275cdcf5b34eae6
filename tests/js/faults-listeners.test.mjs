// Listeners stay contained (own process: on an engine that ran listeners inside its steps, these
// broke the instance for every client). Events are delivered after the step that produced them
// has returned: a listener's exception, and a console.error that throws too, stay in JS; a
// listener may call the same client again, to any depth the JS stack allows.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { collect } from "./helpers.mjs";

let origin;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

const ok = async () => new Response("ok");

test("10,000 throwing listeners while console.error throws too: every call resolves; other and new clients are healthy", async () => {
  const before = createFetch();
  const f = createFetch({ transport: ok });
  let thrown = 0;
  for (const kind of ["attempt", "retry", "giveup"]) {
    f.on(kind, () => {
      thrown++;
      throw new Error(`listener of ${kind}`);
    });
  }
  const error = console.error;
  console.error = () => {
    throw new Error("no console output allowed");
  };
  try {
    for (let i = 0; i < 10_000; i++) {
      const res = await f("http://x/y");
      assert.equal(res.status, 200, `call ${i}`);
    }
  } finally {
    console.error = error;
  }
  assert.equal(thrown, 10_000);
  assert.equal(f.snapshot().tasks, 10_000);
  const res = await before(`${origin.url}/ok`);
  assert.equal(res.status, 200);
  await res.text();
  const after = createFetch();
  const r2 = await after(`${origin.url}/ok`);
  assert.equal(r2.status, 200);
  await r2.text();
});

test("a listener that calls the same client, recursively, until the stack runs out: the client keeps working", async () => {
  let gate;
  const slow = () => new Promise((resolve) => (gate = () => resolve(new Response("ok"))));
  const f = createFetch({ transport: slow, concurrency: { limit: 1, queue: 0 } });
  const internal = collect(f, "internal-error");
  let depth = 0;
  let deepest = 0;
  let stoppedBy = null;
  const pending = [];
  f.on("shed", () => {
    depth++;
    deepest = Math.max(deepest, depth);
    try {
      pending.push(f("http://x/again").catch((e) => e)); // shed at once: the slot is held
    } catch (e) {
      stoppedBy = e;
    } finally {
      depth--;
    }
  });
  const holder = f("http://x/holder"); // takes the only slot
  const first = f("http://x/first").catch((e) => e); // shed -> the listener recurses
  const firstErr = await first;
  assert.equal(firstErr.code, "SHED");
  const settled = await Promise.all(pending);
  assert.ok(deepest > 100, `recursed ${deepest} deep`);
  // The recursion ended where the JS stack did, in JS: a RangeError from a call, not a fault.
  const range = settled.filter((e) => e instanceof RangeError).length + (stoppedBy instanceof RangeError ? 1 : 0);
  assert.ok(range >= 1, `the stack ran out in JS (${JSON.stringify(settled.slice(-3).map(String))})`);
  assert.equal(internal.length, 0, "no internal-error: the engine was never interrupted mid-step");
  for (const e of settled) assert.ok(e instanceof RangeError || e.code === "SHED", String(e));
  gate();
  assert.equal(await (await holder).text(), "ok");
  // The client is whole: counters add up and it serves again.
  const s = f.snapshot();
  assert.equal(s.activeTasks, 0);
  assert.equal(s.inFlight, 0);
  const again = f("http://x/after");
  gate();
  assert.equal(await (await again).text(), "ok");
});

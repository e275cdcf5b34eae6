// The one warning about a client per request (pkg/pitfall.js): many clients that each serve a
// single call within a short time. It must fire once for that, and never for clients that are
// reused or for a few short-lived ones (as this suite's own tests create). Its own file: the count
// is per process, and the node test runner runs each file in a process of its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createFetch } from "../../pkg/node.js";
import { PITFALL_MESSAGE } from "../../pkg/pitfall.js";

const transport = async () => new Response("ok");

/** The console warnings `fn` printed. */
async function warnings(fn) {
  const seen = [];
  const warn = console.warn;
  console.warn = (...args) => seen.push(args.join(" "));
  try {
    await fn();
  } finally {
    console.warn = warn;
  }
  return seen;
}

test("no warning for a client that is reused, nor for a few that serve one call each", async () => {
  const seen = await warnings(async () => {
    const api = createFetch({ transport });
    for (let i = 0; i < 200; i++) await (await api("http://127.0.0.1:9/x")).text();
    for (let i = 0; i < 20; i++) {
      const once = createFetch({ transport });
      await (await once("http://127.0.0.1:9/x")).text();
    }
    // Many clients, each reused: no warning either.
    for (let i = 0; i < 50; i++) {
      const twice = createFetch({ transport });
      for (let k = 0; k < 2; k++) await (await twice("http://127.0.0.1:9/x")).text();
    }
    // Clients that never call are not counted.
    for (let i = 0; i < 50; i++) createFetch({ transport });
  });
  assert.deepEqual(seen, []);
});

test("one warning, naming the problem and the fix, for many clients that serve one call each", async () => {
  const seen = await warnings(async () => {
    for (let i = 0; i < 100; i++) {
      const perRequest = createFetch({ transport });
      await (await perRequest("http://127.0.0.1:9/x")).text();
    }
  });
  assert.deepEqual(seen, [PITFALL_MESSAGE]);
  assert.match(PITFALL_MESSAGE, /each served a single call/);
  assert.match(PITFALL_MESSAGE, /one client per module or isolate, at module scope/);
});

// Faults that stay inside one call: invalid input is refused before a task starts, secrets stay
// out of messages and events, messages say what happened, and counters count what was sent.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch, ConfigError } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { collect, rejection, activeTimeouts, sleep, uniqueKey } from "./helpers.mjs";

let origin;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

test("a signal that is not an AbortSignal, or an init that is not an object, is a TypeError before any task starts", async () => {
  const f = createFetch({ transport: async () => new Response("ok") });
  const timers = activeTimeouts();
  for (const init of [{ signal: {} }, { signal: { aborted: false } }, { signal: "abort" }, { signal: new EventTarget() }, 5, "init"]) {
    const err = await rejection(f("http://x/y", init));
    assert.ok(err instanceof TypeError, `${JSON.stringify(init)}: ${err}`);
    assert.doesNotMatch(err.message, /is not a function/, "a message that says what was wrong");
  }
  const err = await rejection(f("http://x/y", { signal: {} }));
  assert.match(err.message, /signal must be an AbortSignal/);
  const s = f.snapshot();
  assert.equal(s.tasks, 0, "no task began");
  assert.equal(s.activeTasks, 0);
  assert.equal(activeTimeouts(), timers, "no timer left behind");
  // A real signal, and none, still work.
  assert.equal((await f("http://x/y", { signal: new AbortController().signal })).status, 200);
  assert.equal((await f("http://x/y", { signal: null })).status, 200);
});

test("secrets stay out of messages and events: no user-info ever, query values redacted unless kept", async () => {
  const f = createFetch({ retry: { maxAttempts: 2, backoff: { baseMs: 1, capMs: 2 } } });
  const retries = collect(f, "retry");
  const attempts = collect(f, "attempt");
  const giveups = collect(f, "giveup");
  const host = origin.url.slice("http://".length);
  // fetch refuses a URL with user-info before any I/O, quoting it: not retried.
  const err = await rejection(f(`http://user:hunter2@${host}/x?token=s3cret&id=7`));
  assert.equal(err.name, "BallastError");
  assert.equal(err.code, "INVALID_REQUEST");
  assert.doesNotMatch(err.message, /hunter2|s3cret|user:/, err.message);
  assert.match(err.message, new RegExp(`http://${host}/x\\?token=REDACTED&id=REDACTED`));
  for (const ev of [...retries, ...attempts, ...giveups]) {
    assert.doesNotMatch(JSON.stringify(ev), /hunter2|s3cret|user:/, JSON.stringify(ev));
  }
  assert.equal(retries.length, 0);
  assert.equal(giveups.length, 1);
  assert.equal(giveups[0].reason, "not-retryable");

  const key = uniqueKey("secret");
  const res = await f(`${origin.url}/seq?key=${key}&codes=503,200&token=abc`);
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(retries.at(-1).url, `${origin.url}/seq?key=REDACTED&codes=REDACTED&token=REDACTED`);
  assert.equal(origin.requests(key)[0].url, `/seq?key=${key}&codes=503,200&token=abc`, "the request itself is untouched");

  // Opting in keeps query strings (user-info stays out).
  const kept = createFetch({ retry: { maxAttempts: 2, backoff: { baseMs: 1, capMs: 2 } }, redact: { query: false } });
  const keptRetries = collect(kept, "retry");
  const k2 = uniqueKey("kept");
  await (await kept(`${origin.url}/seq?key=${k2}&codes=503,200`)).text();
  assert.equal(keptRetries[0].url, `${origin.url}/seq?key=${k2}&codes=503,200`);

  // A route URL with credentials is refused without repeating the password.
  const cfg = rejection(Promise.resolve().then(() => createFetch({ routes: [{ name: "a", url: "https://admin:hunter2@api.example" }] })));
  const ce = await cfg;
  assert.ok(ce instanceof ConfigError);
  assert.equal(ce.path, "routes[0].url");
  assert.doesNotMatch(`${ce.message} ${ce.value}`, /hunter2|admin/);
  assert.match(ce.message, /REDACTED@api\.example/);
  assert.throws(() => createFetch({ redact: { query: "no" } }), /redact\.query/);
});

test("a shed call's message says why without a dangling cause", async () => {
  let release;
  const held = new Promise((r) => (release = r));
  const f = createFetch({ transport: () => held.then(() => new Response("ok")), concurrency: { limit: 1, queue: 0 } });
  const first = f("http://x/1");
  const err = await rejection(f("http://x/2"));
  assert.equal(err.code, "SHED");
  assert.equal(err.reason, "queue-full");
  assert.doesNotMatch(err.message, /undefined/);
  assert.match(err.message, /failed after 0 attempts \(SHED; gave up: queue-full\)$/);
  release();
  await (await first).text();
});

test("retries counts retries sent: one granted but cut short by an abort during its backoff is not counted", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: { kind: "exponential", baseMs: 5000, capMs: 5000 } } });
  const decided = collect(f, "retry");
  const ac = new AbortController();
  const key = uniqueKey("cut");
  const call = f(`${origin.url}/seq?key=${key}&codes=503,200`, { signal: ac.signal });
  while (decided.length === 0) await sleep(5);
  ac.abort();
  const err = await rejection(call);
  assert.equal(err.name, "AbortError");
  assert.equal(origin.hits(key), 1, "the retry was never sent");
  const s = f.snapshot();
  assert.equal(decided.length, 1, "the retry was decided (and its event says so)");
  assert.equal(s.retries, 0, "but not counted as a retry");
  assert.equal(s.attempts, 1);
  // A retry that is sent counts once.
  const k2 = uniqueKey("sent");
  const g = createFetch({ retry: { maxAttempts: 3, backoff: { baseMs: 1, capMs: 2 } } });
  await (await g(`${origin.url}/seq?key=${k2}&codes=503,200`)).text();
  assert.equal(g.snapshot().retries, 1);
});

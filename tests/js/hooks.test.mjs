// hooks.beforeAttempt against real loopback origins: it sees each attempt's Request (the route's
// URL, the caller's headers and body) and may return another (a refreshed token on the retry),
// synchronously or not; credentials are stripped after it for a route on another origin; a hook
// that throws, rejects or returns something else fails the call at once with a BallastError
// naming it (one attempt, no budget spent) and leaves the client healthy; a bad hooks config is a
// ConfigError naming its path; drift tools ignore hooks as they ignore transport.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch, BallastError, ConfigError } from "../../pkg/node.js";
import { fingerprint } from "../../pkg/drift-node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, FAST } from "./helpers.mjs";

let S1, S2;
before(async () => {
  [S1, S2] = await Promise.all([startOrigin(), startOrigin()]);
});
after(async () => {
  await Promise.all([S1, S2].map((s) => s.close()));
});

test("beforeAttempt sees every attempt and its Request; a returned Request is what is sent", async () => {
  const seen = [];
  let token = "old";
  const f = createFetch({
    retry: { maxAttempts: 3, backoff: FAST },
    hooks: {
      beforeAttempt: async (req, info) => {
        seen.push({ ...info, method: req.method, body: await req.clone().text(), auth: req.headers.get("authorization") });
        if (info.attempt === 2) token = "refreshed";
        const headers = new Headers(req.headers);
        headers.set("authorization", `Bearer ${token}`);
        return new Request(req, { headers });
      },
    },
  });
  const key = uniqueKey("hook");
  const url = `http://127.0.0.1:${S1.port}/seq?key=${key}&codes=503,200`;
  const res = await f(url, { method: "PUT", body: "payload", headers: { authorization: "Bearer caller" } });
  assert.equal(res.status, 200);
  await res.text();
  assert.deepEqual(
    seen.map((s) => [s.attempt, s.hedge, s.url, s.method, s.body, s.auth]),
    [
      [1, false, url, "PUT", "payload", "Bearer caller"],
      [2, false, url, "PUT", "payload", "Bearer caller"],
    ],
  );
  const reqs = S1.requests(key);
  assert.deepEqual(reqs.map((r) => r.headers.authorization), ["Bearer old", "Bearer refreshed"]);
  assert.deepEqual(reqs.map((r) => r.body.toString()), ["payload", "payload"]);
});

test("returning nothing sends the attempt as it is; a route's URL is what the hook sees", async () => {
  const urls = [];
  const f = createFetch({
    routes: [{ name: "a", url: `http://127.0.0.1:${S1.port}` }],
    hooks: { beforeAttempt: (req, info) => void urls.push([req.url, info.url]) },
  });
  const key = uniqueKey("hook-route");
  const res = await f(`/echo?key=${key}`);
  assert.equal(res.status, 200);
  await res.text();
  assert.deepEqual(urls, [[`http://127.0.0.1:${S1.port}/echo?key=${key}`, `http://127.0.0.1:${S1.port}/echo?key=${key}`]]);
  assert.equal(S1.requests(key).length, 1);
});

test("credentials a hook adds are stripped for a route on another origin", async () => {
  S1.setFault({ status: 503 });
  try {
    const f = createFetch({
      retry: { maxAttempts: 2, backoff: FAST },
      budget: { ratio: 2, minPerSec: 100 },
      routes: [
        { name: "primary", url: `http://127.0.0.1:${S1.port}` },
        { name: "mirror", url: `http://localhost:${S2.port}`, fallback: true },
      ],
      hooks: {
        beforeAttempt: (req) => {
          const headers = new Headers(req.headers);
          headers.set("authorization", "Bearer from-hook");
          return new Request(req, { headers });
        },
      },
    });
    const key = uniqueKey("hook-cred");
    const res = await f(`/echo?key=${key}`);
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(S1.requests(key)[0].headers.authorization, "Bearer from-hook", "the addressed origin gets it");
    assert.equal(S2.requests(key)[0].headers.authorization, undefined, "the other origin does not");
  } finally {
    S1.setFault(null);
  }
});

test("a hook that throws, rejects or returns something else fails the call at once, naming the hook", async () => {
  for (const [what, hook] of [
    ["throws", () => {
      throw new Error("token service down");
    }],
    ["rejects", async () => {
      throw new Error("token service down");
    }],
    ["returns a string", () => "not a request"],
  ]) {
    const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST }, hooks: { beforeAttempt: hook } });
    const key = uniqueKey("hook-bad");
    const err = await f(`http://127.0.0.1:${S1.port}/echo?key=${key}`).then(
      () => assert.fail(`${what}: resolved`),
      (e) => e,
    );
    assert.ok(err instanceof BallastError, what);
    assert.equal(err.code, "HOOK", what);
    assert.equal(err.reason, "hook-failed", what);
    assert.match(err.message, /hooks\.beforeAttempt failed/, what);
    assert.equal(err.attempts.length, 1, `${what}: one attempt, not retried`);
    assert.equal(S1.requests(key).length, 0, `${what}: nothing sent`);
    assert.equal(f.snapshot().budget.exhausted, 0);
    assert.equal(f.snapshot().activeTasks, 0, `${what}: nothing left running`);
  }
  // The client is healthy after: a hook that works this time.
  let fail = true;
  const g = createFetch({
    hooks: {
      beforeAttempt: () => {
        if (fail) throw new Error("once");
      },
    },
  });
  await assert.rejects(g(`http://127.0.0.1:${S1.port}/echo?key=${uniqueKey("h")}`));
  fail = false;
  const ok = await g(`http://127.0.0.1:${S1.port}/echo?key=${uniqueKey("h")}`);
  assert.equal(ok.status, 200);
  await ok.text();
});

test("a bad hooks config is a ConfigError naming its path; drift ignores hooks", () => {
  for (const [hooks, path] of [
    ["x", "hooks"],
    [{ beforeRetry: () => {} }, "hooks.beforeRetry"],
    [{ beforeAttempt: 5 }, "hooks.beforeAttempt"],
  ]) {
    assert.throws(() => createFetch({ hooks }), (e) => e instanceof ConfigError && e.path === path, JSON.stringify(path));
  }
  const config = { retry: { maxAttempts: 2 } };
  assert.equal(fingerprint({ ...config, hooks: { beforeAttempt: () => {} } }), fingerprint(config));
  assert.equal(createFetch({ ...config, hooks: { beforeAttempt: () => {} } }).snapshot().config.fingerprint, fingerprint(config));
});

// Credentials across origins. For a path call the origin the caller addressed is the client's,
// not the call's: the origin of the first configured route. Every other origin gets the caller's
// Authorization, Cookie and Proxy-Authorization (and credentials other than "omit") only when its
// route says `forwardCredentials: true`, whichever route serves first, retries and hedges alike.
// An absolute URL addresses its own origin. Every scenario runs against real loopback origins:
// 127.0.0.1 and localhost on the same port are two origins (the Host header tells them apart).
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createFetch } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, collect, FAST } from "./helpers.mjs";

let S1, S2;
before(async () => {
  [S1, S2] = await Promise.all([startOrigin(), startOrigin()]);
});
afterEach(() => {
  for (const s of [S1, S2]) s.setFault(null);
});
after(async () => {
  await Promise.all([S1, S2].map((s) => s.close()));
});

const T = 30000;
const CREDS = Object.freeze({ authorization: "Bearer t", cookie: "sid=1", "proxy-authorization": "Basic p" });
const NAMES = Object.keys(CREDS);
const HEADERS = Object.freeze({ ...CREDS, "x-other": "kept" });
const GENEROUS = Object.freeze({
  retry: { maxAttempts: 3, backoff: FAST },
  budget: { ratio: 2, minPerSec: 100 },
  routing: { switchBudget: { ratio: 2, minPerSec: 100 } },
});

const loop = (s) => `http://127.0.0.1:${s.port}`;
const local = (s) => `http://localhost:${s.port}`;
/** `127.0.0.1:P` or `localhost:P`: the origin a logged request reached. */
const hostOf = (req) => req.headers.host;
const hasAll = (h) => NAMES.every((n) => h[n] === CREDS[n]);
const hasNone = (h) => NAMES.every((n) => h[n] === undefined);

/** Every request any server logged for `key`, with the host it reached. */
const requestsFor = (key) => [S1, S2].flatMap((s) => s.requests(key));

/** Makes `n` calls of `/echo` with credentials; returns the keys, after checking each is 200. */
async function calls(f, n, { path = "/echo", init = {} } = {}) {
  const base = uniqueKey("cred");
  const keys = [];
  for (let i = 0; i < n; i++) {
    const key = `${base}-${i}`;
    const res = await f(`${path}?key=${key}`, { headers: HEADERS, ...init });
    assert.equal(res.status, 200, `call ${i}: ${res.status}`);
    await res.text();
    keys.push(key);
  }
  return keys;
}

/** Checks every logged request: credentials present exactly on `trusted` hosts. */
function assertCredentialsOnlyAt(keys, trusted) {
  const seen = {};
  for (const key of keys) {
    for (const req of requestsFor(key)) {
      const host = hostOf(req);
      seen[host] = (seen[host] ?? 0) + 1;
      assert.equal(req.headers["x-other"], "kept", `${host}: other headers kept`);
      if (trusted.includes(host)) assert.ok(hasAll(req.headers), `${host} (trusted) must get the credentials: ${JSON.stringify(req.headers)}`);
      else assert.ok(hasNone(req.headers), `${host} (untrusted) must get no credentials: ${JSON.stringify(req.headers)}`);
    }
  }
  return seen;
}

const routeByName = (f, name) => f.snapshot().routes.find((r) => r.name === name);

test("a fallback on another origin never gets the credentials, before and after the primary is ejected", { timeout: T }, async () => {
  const f = createFetch({
    ...GENEROUS,
    routes: [
      { name: "primary", url: `${loop(S1)}/status/503` },
      { name: "fallback", url: local(S1), fallback: true },
    ],
    seed: 1,
  });
  const ejects = collect(f, "eject");
  const keys = await calls(f, 20);
  assert.ok(ejects.length >= 1, "the primary was ejected during the run");
  // After the ejection the fallback served first attempts: the case that leaked.
  const firstOnFallback = keys.filter((k) => hostOf(requestsFor(k)[0]) === `localhost:${S1.port}`).length;
  assert.ok(firstOnFallback >= 10, `first attempts on the fallback: ${firstOnFallback}`);
  const seen = assertCredentialsOnlyAt(keys, [`127.0.0.1:${S1.port}`]);
  assert.equal(routeByName(f, "fallback").credentialsStripped, seen[`localhost:${S1.port}`]);
  assert.equal(routeByName(f, "primary").credentialsStripped, 0);
});

test("two primaries on different origins: only the first configured route's origin gets the credentials, whichever is picked first", { timeout: T }, async () => {
  const f = createFetch({ ...GENEROUS, routes: [{ name: "a", url: loop(S1) }, { name: "b", url: local(S2) }], seed: 3 });
  const keys = await calls(f, 30);
  const seen = assertCredentialsOnlyAt(keys, [`127.0.0.1:${S1.port}`]);
  assert.ok(seen[`localhost:${S2.port}`] >= 3, `b served first attempts too: ${JSON.stringify(seen)}`);
  assert.equal(routeByName(f, "b").credentialsStripped, seen[`localhost:${S2.port}`]);
  assert.equal(routeByName(f, "a").credentialsStripped, 0);
});

test("hedges: a hedge to another origin goes without the credentials; a hedge back to the addressed origin keeps them", { timeout: T }, async () => {
  const f = createFetch({
    ...GENEROUS,
    routes: [{ name: "a", url: loop(S1) }, { name: "b", url: local(S2) }],
    hedge: { afterMs: 30, maxExtraLoad: 1 },
    seed: 5,
  });
  const hedges = collect(f, "hedge");
  // b slow: calls that start on b hedge to a (the addressed origin).
  S2.setFault({ delayMs: 400 });
  const k1 = await calls(f, 12);
  // a slow: calls that start on a hedge to b (another origin).
  S2.setFault(null);
  S1.setFault({ delayMs: 400 });
  const k2 = await calls(f, 12);
  const to = (name) => hedges.filter((h) => h.route === name).length;
  assert.ok(to("a") >= 1 && to("b") >= 1, `hedges to a: ${to("a")}, to b: ${to("b")}`);
  const seen = assertCredentialsOnlyAt([...k1, ...k2], [`127.0.0.1:${S1.port}`]);
  assert.equal(routeByName(f, "b").credentialsStripped, seen[`localhost:${S2.port}`]);
});

test("same-origin routes with other base paths keep the credentials; another origin does not", { timeout: T }, async () => {
  const f = createFetch({
    ...GENEROUS,
    routes: [
      { name: "v1", url: `${loop(S1)}/v1` },
      { name: "v2", url: `${loop(S1)}/v2` },
      { name: "elsewhere", url: `${local(S2)}/v3` },
    ],
    seed: 7,
  });
  const keys = await calls(f, 30);
  const seen = assertCredentialsOnlyAt(keys, [`127.0.0.1:${S1.port}`]);
  const paths = new Set(keys.flatMap((k) => requestsFor(k).map((r) => r.url.split("/")[1])));
  assert.deepEqual([...paths].sort(), ["v1", "v2", "v3"], "all three routes served");
  const snap = Object.fromEntries(f.snapshot().routes.map((r) => [r.name, r.credentialsStripped]));
  assert.deepEqual(snap, { v1: 0, v2: 0, elsewhere: seen[`localhost:${S2.port}`] });
});

test("forwardCredentials: true opts a route in; an absolute URL addresses its own origin", { timeout: T }, async () => {
  const trusting = createFetch({
    ...GENEROUS,
    routes: [{ name: "a", url: loop(S1) }, { name: "b", url: local(S2), forwardCredentials: true }],
    seed: 9,
  });
  const keys = await calls(trusting, 20);
  const seen = assertCredentialsOnlyAt(keys, [`127.0.0.1:${S1.port}`, `localhost:${S2.port}`]);
  assert.ok(seen[`localhost:${S2.port}`] >= 2, `b served: ${JSON.stringify(seen)}`);
  assert.deepEqual(trusting.snapshot().routes.map((r) => r.credentialsStripped), [0, 0]);

  // An absolute URL under route b addresses b's origin: b keeps the credentials; a retry that
  // moves to a (the first route, but not the addressed origin here) drops them.
  const absolute = createFetch({
    ...GENEROUS,
    routes: [{ name: "a", url: `${loop(S1)}/a` }, { name: "b", url: `${local(S2)}/b` }],
    routing: { ...GENEROUS.routing, ejection: { consecutiveFailures: 1000 } },
    seed: 11,
  });
  S2.setFault({ status: 503 });
  const abs = await calls(absolute, 12, { path: `${local(S2)}/b/echo` });
  const seenAbs = assertCredentialsOnlyAt(abs, [`localhost:${S2.port}`]);
  assert.ok(seenAbs[`127.0.0.1:${S1.port}`] >= 1, `retries moved to a: ${JSON.stringify(seenAbs)}`);
  assert.equal(routeByName(absolute, "a").credentialsStripped, seenAbs[`127.0.0.1:${S1.port}`]);
});

test("credentials: 'include' becomes 'omit' on an attempt to an untrusted origin", { timeout: T }, async () => {
  const seen = [];
  const transport = (input, init) => {
    seen.push({ url: String(input), credentials: init?.credentials });
    return fetch(input, init);
  };
  const f = createFetch({
    ...GENEROUS,
    routes: [{ name: "a", url: loop(S1) }, { name: "b", url: local(S2) }],
    transport,
    seed: 13,
  });
  await calls(f, 20, { init: { credentials: "include" } });
  const onB = seen.filter((s) => s.url.startsWith(local(S2)));
  const onA = seen.filter((s) => s.url.startsWith(loop(S1)));
  assert.ok(onA.length >= 1 && onB.length >= 1, `a: ${onA.length}, b: ${onB.length}`);
  for (const s of onB) assert.equal(s.credentials, "omit");
  for (const s of onA) assert.equal(s.credentials, "include");
});

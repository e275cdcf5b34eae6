// Routes: several origins serving the same API. Outlier ejection and probing, failover on retry,
// fallback-only routes, credential stripping across origins, hedged requests, path resolution
// against a route's base path, pass-through of unrelated URLs, and config errors.
// Every scenario runs against real loopback origins (tests/origin/server.mjs) whose whole-origin
// fault switch (`setFault`) takes one of them down. Timings are small (ejection baseMs of a few
// hundred ms); the only performance assertion is the hedging p99 comparison.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { createFetch } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, collect, FAST, sleep, waitFor } from "./helpers.mjs";

/** A, B, C: route origins; D: an unrelated origin (pass-through); E: hedging (clean counters). */
let A, B, C, D, E;
before(async () => {
  [A, B, C, D, E] = await Promise.all([startOrigin(), startOrigin(), startOrigin(), startOrigin(), startOrigin()]);
});
afterEach(() => {
  for (const o of [A, B, C, D, E]) o.setFault(null);
});
after(async () => {
  await Promise.all([A, B, C, D, E].map((o) => o.close()));
});

/** Generous retry and switch budgets so that budgets never decide a scenario unless meant to. */
const GENEROUS = Object.freeze({
  retry: { maxAttempts: 3, backoff: FAST },
  budget: { ratio: 2, minPerSec: 100 },
});
const SWITCH_GENEROUS = Object.freeze({ ratio: 2, minPerSec: 100 });

const CREDS = Object.freeze({
  authorization: "Bearer x",
  cookie: "a=b",
  "proxy-authorization": "p",
  "x-other": "1",
});
/** Per-test timeout, so that a missing event fails the test instead of hanging the suite. */
const T = 20000;
const CRED_NAMES = ["authorization", "cookie", "proxy-authorization"];

const routesOf = (f) => Object.fromEntries(f.snapshot().routes.map((r) => [r.name, r]));

const percentile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))];
};

/** Which test origin served an /echo response (by the Host header it received). */
const servedBy = (echo) => [A, B, C, D, E].find((o) => echo.headers.host === `127.0.0.1:${o.port}`);
const originName = (o) => ({ [A?.url]: "A", [B?.url]: "B", [C?.url]: "C", [D?.url]: "D", [E?.url]: "E" })[o?.url] ?? "?";

function assertRouteShape(r) {
  assert.equal(typeof r.name, "string");
  assert.ok(["healthy", "ejected", "probing"].includes(r.state), `state ${r.state}`);
  for (const k of ["score", "successRate", "variance", "attempts", "failures", "ejections"]) {
    assert.equal(typeof r[k], "number", `routes[${r.name}].${k}`);
    assert.ok(Number.isFinite(r[k]), `routes[${r.name}].${k} = ${r[k]}`);
  }
  for (const k of ["p50", "p95", "p99"]) assert.equal(typeof r.latency?.[k], "number", `routes[${r.name}].latency.${k}`);
}

// ---- the origin's additions this suite relies on -----------------------------------------------

test("origin: the whole-origin fault switch counts hits and spares the observation endpoints; /tail is seeded", { timeout: T }, async () => {
  const key = uniqueKey("fault");
  A.setFault({ status: 503 });
  const r1 = await fetch(`${A.url}/ok?key=${key}`);
  assert.equal(r1.status, 503);
  await r1.text();
  assert.deepEqual(await (await fetch(`${A.url}/hits?key=${key}`)).json(), { hits: 1 });
  A.setFault({ reset: true });
  await assert.rejects(fetch(`${A.url}/echo?key=${key}`));
  assert.equal(A.hits(key), 2);
  // HTTP control from another process.
  const set = await fetch(`${A.url}/fault`, { method: "POST", body: JSON.stringify({ delayMs: 60 }) });
  assert.deepEqual(await set.json(), { fault: { delayMs: 60 } });
  const t0 = performance.now();
  const r2 = await fetch(`${A.url}/ok?key=${key}`);
  assert.equal(r2.status, 200);
  await r2.text();
  assert.ok(performance.now() - t0 >= 50, "delayed");
  const bad = await fetch(`${A.url}/fault`, { method: "POST", body: JSON.stringify({ sttaus: 503 }) });
  assert.equal(bad.status, 400);
  await bad.text();
  await (await fetch(`${A.url}/fault`, { method: "POST", body: "null" })).text();
  assert.equal(A.fault(), null);
  assert.throws(() => A.setFault({ status: 503, reset: true }), TypeError);

  const run = async (k) => {
    const out = [];
    for (let i = 0; i < 200; i++) out.push((await (await fetch(`${A.url}/tail?key=${k}&p=0.1&ms=1&seed=9`)).json()).slow);
    return out;
  };
  const k = uniqueKey("tail");
  const first = await run(k);
  const other = await run(`${k}-x`);
  A.resetStats();
  assert.deepEqual(await run(k), first, "same seed and key after resetStats: same sequence");
  for (const seq of [first, other]) {
    const slow = seq.filter(Boolean).length;
    assert.ok(slow > 3 && slow < 50, `slow ${slow}/200 with p=0.1`);
  }
});

// ---- 1. failover and ejection -------------------------------------------------------------------

test("primary down: ejected after consecutive failures, traffic moves to the mirror with no failed call; probed and restored after baseMs, traffic returns", { timeout: T }, async (t) => {
  const CF = 3;
  const PROBES = 2;
  const BASE = 400;
  const f = createFetch({
    ...GENEROUS,
    routes: [
      { name: "primary", url: A.url },
      { name: "mirror", url: B.url },
    ],
    routing: {
      switchBudget: SWITCH_GENEROUS,
      ejection: { consecutiveFailures: CF, baseMs: BASE, intervalMs: 200 },
      probes: PROBES,
    },
    seed: 7,
  });
  const ejects = collect(f, "eject");
  const restores = collect(f, "restore");
  let ejectedAt = 0;
  f.on("eject", () => (ejectedAt ||= performance.now()));
  const base = uniqueKey("move");
  let n = 0;
  const call = async () => {
    const key = `${base}-${n++}`;
    const started = performance.now();
    const res = await f(`/ok?key=${key}`);
    await res.arrayBuffer();
    return { key, status: res.status, started, a: A.hits(key), b: B.hits(key) };
  };

  // Healthy: both routes serve.
  const warm = [];
  for (let i = 0; i < 20; i++) warm.push(await call());
  assert.deepEqual(warm.map((c) => c.status), Array(20).fill(200));
  const warmA = warm.filter((c) => c.a > 0).length;
  const warmB = warm.filter((c) => c.b > 0).length;
  t.diagnostic(`healthy: primary served ${warmA}, mirror ${warmB} of 20`);
  assert.ok(warmA > 0 && warmB > 0, `both healthy routes get traffic (primary ${warmA}, mirror ${warmB})`);
  for (const r of f.snapshot().routes) assertRouteShape(r);
  assert.deepEqual(f.snapshot().routes.map((r) => [r.name, r.state]), [["primary", "healthy"], ["mirror", "healthy"]]);

  // Outage of the primary.
  const aBefore = A.hits();
  const switchesBefore = f.snapshot().switches.total;
  A.setFault({ status: 503 });
  const outage = [];
  for (let i = 0; i < 60 && ejects.length === 0; i++) outage.push(await call());
  t.diagnostic(
    `outage: ${outage.length} calls, ${outage.filter((c) => c.a > 0).length} first attempts on the primary, ` +
      `eject events ${ejects.length}; routes ${JSON.stringify(f.snapshot().routes.map((r) => [r.name, r.state, r.score, r.attempts, r.failures]))}`,
  );
  assert.equal(ejects.length, 1, `one eject event within 60 calls (got ${ejects.length})`);
  assert.equal(ejects[0].route, "primary");
  assert.equal(ejects[0].reason, "consecutive-failures");
  assert.equal(ejects[0].ejections, 1);
  assert.equal(ejects[0].durationMs, BASE, "first ejection lasts baseMs");
  assert.deepEqual(outage.map((c) => c.status), Array(outage.length).fill(200), "no failed call: retries moved to the mirror");
  const failedOver = outage.filter((c) => c.a > 0);
  for (const c of failedOver) assert.equal(c.b, 1, `call ${c.key} failed over to the mirror`);
  assert.ok(failedOver.length >= 1);
  assert.ok(
    f.snapshot().switches.total - switchesBefore >= failedOver.length,
    `switches ${f.snapshot().switches.total - switchesBefore} >= failovers ${failedOver.length}`,
  );
  let routes = routesOf(f);
  assert.equal(routes.primary.state, "ejected");
  assert.equal(routes.primary.ejections, 1);
  assert.ok(routes.primary.failures >= CF, `primary failures ${routes.primary.failures}`);
  assert.equal(routes.mirror.state, "healthy");

  // While ejected, every call goes to the mirror at once (only calls started inside the ejection
  // window count: after baseMs a probe to the primary is allowed).
  const ejectedCalls = [];
  for (let i = 0; i < 20; i++) ejectedCalls.push(await call());
  for (const c of ejectedCalls) {
    assert.equal(c.status, 200);
    if (c.started < ejectedAt + BASE - 20) {
      assert.equal(c.a, 0, `call ${c.key} during the ejection did not go to the primary`);
      assert.equal(c.b, 1, `call ${c.key} during the ejection went to the mirror once`);
    }
  }
  A.setFault(null);
  const outageHits = A.hits() - aBefore;
  assert.ok(outageHits <= CF + PROBES, `primary hits during the outage ${outageHits} <= ${CF} + ${PROBES}`);

  // After baseMs: probing.
  await sleep(Math.max(0, ejectedAt + BASE + 30 - performance.now()));
  routes = routesOf(f);
  assert.equal(routes.primary.state, "probing", "after baseMs the route is probing");
  const aRecovered = A.hits();
  const probing = [];
  for (let i = 0; i < 200 && restores.length === 0; i++) probing.push(await call());
  assert.deepEqual(probing.map((c) => c.status), Array(probing.length).fill(200));
  assert.equal(restores.length, 1, `restore event within 200 calls (got ${restores.length})`);
  assert.equal(restores[0].route, "primary");
  assert.equal(restores[0].reason, "probes-succeeded");
  assert.ok(restores[0].ejectedForMs >= BASE - 5, `ejectedForMs ${restores[0].ejectedForMs} >= baseMs`);
  assert.equal(A.hits() - aRecovered, PROBES, "restored after exactly `probes` successful probes");
  assert.equal(ejects.length, 1, "no further ejection");
  assert.equal(routesOf(f).primary.state, "healthy");

  // Traffic returns.
  const aRestored = A.hits();
  const back = [];
  for (let i = 0; i < 30; i++) back.push(await call());
  assert.deepEqual(back.map((c) => c.status), Array(30).fill(200));
  assert.ok(A.hits() - aRestored > 0, `primary serves again (${A.hits() - aRestored} of 30)`);
  assert.deepEqual(f.snapshot().routes.map((r) => r.state), ["healthy", "healthy"]);
});

test("a failed probe re-ejects the route for longer (probe-failed)", { timeout: T }, async () => {
  const BASE = 200;
  const f = createFetch({
    ...GENEROUS,
    routes: [
      { name: "primary", url: A.url },
      { name: "mirror", url: B.url },
    ],
    routing: { switchBudget: SWITCH_GENEROUS, ejection: { consecutiveFailures: 3, baseMs: BASE, intervalMs: 100 }, probes: 2 },
    seed: 3,
  });
  const ejects = collect(f, "eject");
  const key = uniqueKey("reeject");
  A.setFault({ status: 503 });
  for (let i = 0; i < 60 && ejects.length === 0; i++) assert.equal((await f(`/ok?key=${key}`)).status, 200);
  assert.equal(ejects.length, 1);
  await sleep(BASE + 30);
  assert.equal(routesOf(f).primary.state, "probing");
  const aBefore = A.hits();
  for (let i = 0; i < 100 && ejects.length === 1; i++) assert.equal((await f(`/ok?key=${key}`)).status, 200, "a failed probe is retried on the mirror");
  assert.equal(ejects.length, 2, "the failed probe re-ejected the route");
  assert.equal(A.hits() - aBefore, 1, "one probe at a time: one failed probe re-ejects");
  assert.equal(ejects[1].route, "primary");
  assert.equal(ejects[1].reason, "probe-failed");
  assert.equal(ejects[1].ejections, 2);
  assert.equal(ejects[1].durationMs, 2 * BASE, "ejection lasts baseMs x ejections");
  const r = routesOf(f).primary;
  assert.equal(r.state, "ejected");
  assert.equal(r.ejections, 2);
});

test("at most maxPercent of routes are ejected at once", { timeout: T }, async () => {
  const f = createFetch({
    ...GENEROUS,
    routes: [
      { name: "a", url: A.url },
      { name: "b", url: B.url },
    ],
    routing: { switchBudget: SWITCH_GENEROUS, ejection: { consecutiveFailures: 2, baseMs: 5000, intervalMs: 100, maxPercent: 50 } },
    seed: 5,
  });
  const ejects = collect(f, "eject");
  A.setFault({ status: 503 });
  B.setFault({ status: 503 });
  const key = uniqueKey("maxpct");
  for (let i = 0; i < 30; i++) await (await f(`/ok?key=${key}`)).arrayBuffer();
  assert.equal(ejects.length, 1, `one of two routes ejected with maxPercent 50 (events: ${JSON.stringify(ejects)})`);
  assert.equal(f.snapshot().routes.filter((r) => r.state === "ejected").length, 1);
});

test("switch budget: a denied switch keeps the retry on the same route", { timeout: T }, async () => {
  const f = createFetch({
    ...GENEROUS,
    routes: [
      { name: "primary", url: A.url },
      { name: "mirror", url: B.url },
    ],
    routing: { switchBudget: { ratio: 0, minPerSec: 0 }, ejection: { consecutiveFailures: 1000, intervalMs: 60000 } },
    seed: 1,
  });
  A.setFault({ status: 503 });
  const base = uniqueKey("nosw");
  let onPrimary = 0;
  for (let i = 0; i < 40 && onPrimary < 2; i++) {
    const key = `${base}-${i}`;
    const res = await f(`/ok?key=${key}`);
    await res.arrayBuffer();
    if (A.hits(key) > 0) {
      onPrimary++;
      assert.equal(B.hits(key), 0, "no switch to the mirror without switch budget");
      assert.equal(A.hits(key), 3, "retried on the same route");
      assert.equal(res.status, 503);
    } else {
      assert.equal(res.status, 200);
    }
  }
  assert.ok(onPrimary >= 1, "some first attempts went to the primary");
  const s = f.snapshot().switches;
  assert.equal(s.total, 0);
  assert.ok(s.denied >= onPrimary, `switches.denied ${s.denied} >= ${onPrimary}`);
});

// ---- 3. fallback --------------------------------------------------------------------------------

test("fallback-only route: idle while primaries are healthy; serves with a fallback event per use when they are down; fallback-default both ways", { timeout: T }, async (t) => {
  const f = createFetch({
    ...GENEROUS,
    routes: [
      { name: "p1", url: A.url },
      { name: "p2", url: B.url },
      { name: "static", url: C.url, fallback: true },
    ],
    routing: {
      switchBudget: SWITCH_GENEROUS,
      ejection: { consecutiveFailures: 3, baseMs: 300, intervalMs: 200, maxPercent: 100 },
      probes: 2,
      fallbackDefaultShare: 0.5,
    },
    seed: 11,
  });
  const fallbacks = collect(f, "fallback");
  const defaults = collect(f, "fallback-default");
  const base = uniqueKey("fb");
  let n = 0;
  const call = async () => {
    const key = `${base}-${n++}`;
    const res = await f(`/ok?key=${key}`);
    await res.arrayBuffer();
    return res.status;
  };

  const c0 = C.hits();
  for (let i = 0; i < 30; i++) assert.equal(await call(), 200);
  assert.equal(C.hits() - c0, 0, "the fallback route serves nothing while primaries are healthy");
  assert.equal(fallbacks.length, 0);
  let fb = f.snapshot().fallback;
  assert.equal(fb.total, 0);
  assert.equal(fb.active, false);
  assert.equal(fb.isDefault, false);
  assert.equal(routesOf(f).static.state, "healthy");

  A.setFault({ status: 503 });
  B.setFault({ status: 503 });
  const statuses = [];
  for (let i = 0; i < 300 && !defaults.some((e) => e.isDefault); i++) statuses.push(await call());
  t.diagnostic(`fallback became the default after ${statuses.length} outage calls`);
  assert.deepEqual(statuses, Array(statuses.length).fill(200), "every call served (by the fallback when primaries fail)");
  assert.ok(fallbacks.length > 0);
  const REASONS = ["primary-ejected", "budget-exhausted", "all-primaries-failed", "deadline"];
  const tally = {};
  for (const e of fallbacks) {
    assert.ok(REASONS.includes(e.reason), `fallback reason ${e.reason}`);
    assert.equal(e.route, "static");
    assert.ok(e.from === null || e.from === "p1" || e.from === "p2", `from ${e.from}`);
    assert.equal(e.method, "GET");
    assert.equal(typeof e.url, "string");
    assert.equal(e.url, "/ok?key=REDACTED", "the path as called, query values redacted");
    tally[e.reason] = (tally[e.reason] ?? 0) + 1;
  }
  assert.equal(C.hits() - c0, fallbacks.length, "one fallback event per request the fallback route served");
  assert.ok((tally["primary-ejected"] ?? 0) >= 1, `primary-ejected once both are ejected (${JSON.stringify(tally)})`);
  fb = f.snapshot().fallback;
  assert.equal(fb.total, fallbacks.length);
  for (const [reason, count] of Object.entries(tally)) assert.equal(fb.byReason[reason] ?? 0, count, `byReason.${reason}`);
  assert.equal(Object.values(fb.byReason).reduce((a, b) => a + b, 0), fb.total);
  assert.equal(fb.active, true);
  assert.ok(fb.share > 0, `share ${fb.share}`);
  assert.ok(fb.share >= 0.5, `share ${fb.share} crossed fallbackDefaultShare`);
  assert.equal(fb.isDefault, true);
  assert.equal(typeof fb.activeForMs, "number");
  assert.ok(fb.activeForMs >= 0);
  assert.equal(defaults.length, 1);
  assert.equal(defaults[0].isDefault, true);
  assert.ok(defaults[0].share >= 0.5, `event share ${defaults[0].share}`);

  // Primaries recover: after their ejection they are probed, restored, and the share falls back.
  A.setFault(null);
  B.setFault(null);
  const deadline = performance.now() + 8000;
  while (performance.now() < deadline && !defaults.some((e) => !e.isDefault)) {
    assert.equal(await call(), 200);
    await sleep(5);
  }
  assert.equal(defaults.length, 2, `fallback-default fired again (${JSON.stringify(defaults)})`);
  assert.equal(defaults[1].isDefault, false);
  assert.ok(defaults[1].share < 0.5, `event share ${defaults[1].share}`);
  fb = f.snapshot().fallback;
  assert.equal(fb.isDefault, false);
  assert.equal(fb.total, fallbacks.length, "snapshot total still matches the events");
  const restored = await waitFor(() => ["p1", "p2"].every((name) => routesOf(f)[name].state === "healthy"), { timeoutMs: 100 });
  t.diagnostic(`after recovery: ${JSON.stringify(f.snapshot().routes.map((r) => [r.name, r.state, r.ejections]))}`);
  if (restored) {
    const before = C.hits();
    for (let i = 0; i < 10; i++) assert.equal(await call(), 200);
    assert.equal(C.hits() - before, 0, "idle again once primaries are healthy");
    assert.equal(f.snapshot().fallback.active, false);
  }
});

// ---- 4. credentials -----------------------------------------------------------------------------

/**
 * Calls /echo with credentials through `f` until `want` calls were served by `to` after a first
 * attempt elsewhere (`firstOn` hit); checks every response with `check(echo, crossed)`.
 */
async function echoUntilCrossed(f, { firstOn, to, want = 2, max = 40, init = {} }, check) {
  const base = uniqueKey("cred");
  let crossed = 0;
  for (let i = 0; i < max && crossed < want; i++) {
    const key = `${base}-${i}`;
    const res = await f(`/echo?key=${key}`, { headers: CREDS, ...init });
    assert.equal(res.status, 200);
    const echo = await res.json();
    const by = servedBy(echo);
    const isCross = by === to && firstOn.hits(key) > 0;
    if (isCross) crossed++;
    check(echo, isCross, by);
  }
  assert.ok(crossed >= 1, `some calls crossed from ${originName(firstOn)} to ${originName(to)} (${crossed})`);
}

const assertHasCreds = (echo, label) => {
  for (const h of CRED_NAMES) assert.equal(echo.headers[h], CREDS[h], `${label}: ${h} kept`);
  assert.equal(echo.headers["x-other"], "1");
};
const assertNoCreds = (echo, label) => {
  for (const h of CRED_NAMES) assert.equal(echo.headers[h], undefined, `${label}: ${h} removed`);
  assert.equal(echo.headers["x-other"], "1", `${label}: other headers kept`);
};

test("credentials: a retry to another origin drops Authorization, Cookie, Proxy-Authorization unless the route forwards them", { timeout: T }, async () => {
  const common = {
    ...GENEROUS,
    routing: { switchBudget: SWITCH_GENEROUS, ejection: { consecutiveFailures: 1000, intervalMs: 60000 } },
    seed: 2,
  };
  A.setFault({ status: 503 });

  const strip = createFetch({ ...common, routes: [{ name: "primary", url: A.url, weight: 9 }, { name: "mirror", url: B.url }] });
  await echoUntilCrossed(strip, { firstOn: A, to: B }, (echo, crossed, by) => {
    assert.equal(by, B, "served by the mirror");
    // Another origin than the first route's, whether it served a retry or the first attempt
    // (tests/js/credentials.test.mjs covers the rule in full).
    assertNoCreds(echo, crossed ? "retry to another origin" : "first attempt on another origin");
  });

  const forward = createFetch({
    ...common,
    routes: [{ name: "primary", url: A.url, weight: 9 }, { name: "trusted", url: C.url, forwardCredentials: true }],
  });
  await echoUntilCrossed(forward, { firstOn: A, to: C }, (echo, _crossed, by) => {
    assert.equal(by, C);
    assertHasCreds(echo, "forwardCredentials: true");
  });

  // A fallback on another origin is cross-origin too.
  const fallback = createFetch({ ...common, routes: [{ name: "primary", url: A.url }, { name: "static", url: D.url, fallback: true }] });
  await echoUntilCrossed(fallback, { firstOn: A, to: D }, (echo, crossed, by) => {
    assert.equal(by, D);
    assert.ok(crossed);
    assertNoCreds(echo, "fallback to another origin");
  });
});

test("credentials: a retry on the same route keeps them", { timeout: T }, async () => {
  const f = createFetch({ ...GENEROUS, routes: [{ name: "only", url: A.url }] });
  const key = uniqueKey("same");
  const res = await f(`/seq?key=${key}&codes=503,200`, { headers: CREDS });
  assert.equal(res.status, 200);
  await res.text();
  const reqs = A.requests(key);
  assert.equal(reqs.length, 2, "retried once on the same route");
  for (const [i, r] of reqs.entries()) {
    for (const h of CRED_NAMES) assert.equal(r.headers[h], CREDS[h], `attempt ${i + 1}: ${h}`);
  }
});

// ---- 5. hedging ---------------------------------------------------------------------------------

test("hedging cuts the p99 of a latency tail at most maxExtraLoad extra load", { timeout: T }, async (t) => {
  const TASKS = 400;
  const SEED = 17;
  const run = async (hedge) => {
    const key = uniqueKey(hedge ? "tailH" : "tail0");
    const f = createFetch({ routes: [{ name: "only", url: E.url }], ...(hedge ? { hedge } : {}), seed: 5 });
    const events = collect(f, "hedge");
    const lat = [];
    let next = 0;
    const worker = async () => {
      while (next < TASKS) {
        next++;
        const t0 = performance.now();
        const res = await f(`/tail?key=${key}&p=0.05&ms=500&seed=${SEED}`);
        await res.arrayBuffer();
        assert.equal(res.status, 200);
        lat.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return { key, lat, p99: percentile(lat, 0.99), hits: E.hits(key), snap: f.snapshot(), events };
  };
  const plain = await run(null);
  // 50 ms: far below the 500 ms tail, and above what a busy 2-core CI machine adds to an
  // ordinary loopback call (at 30 ms such calls also drew hedges and drained the budget).
  const AFTER = 50;
  const hedged = await run({ afterMs: AFTER, maxExtraLoad: 0.1 });
  const extra = hedged.hits - TASKS;
  // Without hedging, tasks over afterMs should be about the tail alone (p x TASKS = 20): many more
  // means a loaded machine, where hedges also fire on merely slow-ish first attempts.
  const overAfter = plain.lat.filter((ms) => ms > AFTER).length;
  t.diagnostic(
    `p99 without hedging ${plain.p99.toFixed(0)} ms, with ${hedged.p99.toFixed(0)} ms; ` +
      `extra attempts ${extra}; hedges ${JSON.stringify(hedged.snap.hedges)}; ` +
      `tasks over ${AFTER} ms without hedging ${overAfter}`,
  );
  assert.equal(plain.lat.length, TASKS);
  assert.equal(hedged.lat.length, TASKS);
  assert.equal(plain.hits, TASKS, "no extra attempts without hedging");
  assert.equal(plain.snap.hedges.sent, 0);
  assert.equal(plain.events.length, 0);
  assert.ok(plain.p99 >= 450, `the tail shows without hedging (p99 ${plain.p99.toFixed(0)} ms)`);
  assert.ok(hedged.p99 * 5 <= plain.p99, `p99 with hedging ${hedged.p99.toFixed(0)} ms at least 5x lower than ${plain.p99.toFixed(0)} ms`);
  assert.ok(extra <= 0.1 * TASKS + 10, `extra attempts ${extra} <= maxExtraLoad x tasks + 10`);
  const h = hedged.snap.hedges;
  assert.ok(h.sent > 0, "hedges sent");
  assert.ok(h.won > 0, "hedges won");
  assert.ok(h.won <= h.sent);
  assert.equal(typeof h.budgetExhausted, "number");
  assert.ok(extra <= h.sent, `every extra attempt is a hedge (extra ${extra}, sent ${h.sent})`);
  assert.equal(hedged.events.length, h.sent, "one hedge event per hedge");
  for (const e of hedged.events) {
    assert.equal(e.route, "only");
    assert.equal(e.from, "only");
    // How long the first attempt had been out when the hedge went (at least the configured 30).
    assert.ok(e.afterMs >= 29 && e.afterMs < 500, `afterMs ${e.afterMs}`);
    assert.equal(e.method, "GET");
    assert.ok(e.url.startsWith("/tail?key=REDACTED"), e.url);
  }
  // Losers are aborted: nothing is left waiting at the origin once every task has settled.
  assert.ok(await waitFor(() => E.inFlight() === 0, { timeoutMs: 300 }), `origin in flight ${E.inFlight()}`);
});

test("hedge to another route: the first good response wins, the slow attempt is aborted, credentials dropped across origins; no hedge for POST", { timeout: T }, async () => {
  A.setFault({ delayMs: 1500 });
  const f = createFetch({
    ...GENEROUS,
    routes: [{ name: "slow", url: A.url, weight: 9 }, { name: "fast", url: B.url }],
    routing: { switchBudget: SWITCH_GENEROUS, ejection: { consecutiveFailures: 1000, intervalMs: 60000 } },
    hedge: { afterMs: 30, maxExtraLoad: 1 },
    seed: 4,
  });
  const hedges = collect(f, "hedge");
  const base = uniqueKey("hedge2");
  let hedgedCalls = 0;
  for (let i = 0; i < 20 && hedgedCalls < 2; i++) {
    const key = `${base}-${i}`;
    const res = await f(`/echo?key=${key}`, { headers: CREDS });
    const echo = await res.json();
    assert.equal(res.status, 200);
    if (A.hits(key) === 0) continue; // first attempt went to the fast route
    hedgedCalls++;
    assert.equal(servedBy(echo), B, "the hedge on the fast route won");
    assertNoCreds(echo, "hedge to another origin");
    // The slow attempt would hold its request open for 1.5 s unless aborted.
    assert.ok(await waitFor(() => A.inFlight() === 0, { timeoutMs: 500 }), "the slow attempt was aborted");
    const e = hedges.at(-1);
    assert.equal(e.route, "fast");
    assert.equal(e.from, "slow");
    assert.ok(e.afterMs >= 29 && e.afterMs < 1500, `afterMs ${e.afterMs}`);
    assert.ok(e.url.includes("key=REDACTED"), e.url);
  }
  assert.ok(hedgedCalls >= 1, "some first attempts went to the slow route");
  const s = f.snapshot().hedges;
  assert.ok(s.won >= hedgedCalls, `hedges won ${s.won}`);

  // Not idempotent: never hedged.
  A.setFault({ delayMs: 150 });
  const post = createFetch({
    routes: [{ name: "slow", url: A.url }],
    hedge: { afterMs: 20, maxExtraLoad: 1 },
  });
  const postHedges = collect(post, "hedge");
  const key = uniqueKey("post");
  const res = await post(`/echo?key=${key}`, { method: "POST", body: "x" });
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(A.hits(key), 1, "POST sent once");
  assert.equal(postHedges.length, 0);
  assert.equal(post.snapshot().hedges.sent, 0);
});

// ---- 6. pass-through ----------------------------------------------------------------------------

test("an absolute URL of an unrelated origin is never rerouted, but is retried", { timeout: T }, async () => {
  const f = createFetch({
    ...GENEROUS,
    routes: [
      { name: "primary", url: A.url },
      { name: "mirror", url: `${B.url}/base` },
    ],
    routing: { switchBudget: SWITCH_GENEROUS },
  });
  const retries = collect(f, "retry");
  const k1 = uniqueKey("pass");
  const r1 = await f(`${D.url}/seq?key=${k1}&codes=503,200`);
  assert.equal(r1.status, 200);
  await r1.text();
  assert.equal(D.hits(k1), 2, "retried on the addressed origin");
  assert.equal(A.hits(k1) + B.hits(k1), 0, "never sent to a route");
  assert.equal(retries.length, 1);

  D.setFault({ status: 503 });
  const k2 = uniqueKey("pass");
  const r2 = await f(`${D.url}/ok?key=${k2}`);
  assert.equal(r2.status, 503, "resolves with the last 503");
  await r2.text();
  assert.equal(D.hits(k2), 3, "all attempts on the addressed origin");
  assert.equal(A.hits(k2) + B.hits(k2), 0);

  // Same origin as a route, outside its base path: not that route.
  B.setFault({ status: 503 });
  const k3 = uniqueKey("pass");
  const r3 = await f(`${B.url}/other/ok?key=${k3}`);
  assert.equal(r3.status, 503);
  await r3.text();
  assert.equal(B.hits(k3), 3);
  assert.equal(A.hits(k3), 0, "outside the route's base path: not rerouted");

  const s = f.snapshot();
  assert.equal(s.switches.total, 0);
  assert.equal(s.tasks, 3);
  assert.equal(s.fallback.total, 0);
});

// ---- 8. path resolution -------------------------------------------------------------------------

test("a path input resolves against the route's base path; a matching absolute URL keeps its remainder on every route", { timeout: T }, async () => {
  const only = createFetch({ routes: [{ name: "mirror", url: `${B.url}/base` }] });
  const k1 = uniqueKey("path");
  const res = await only(`/echo?key=${k1}&x=1`);
  await res.text(); // the origin has no /base/echo: 404, not retried
  assert.deepEqual(B.requests(k1).map((r) => r.url), [`/base/echo?key=${k1}&x=1`]);

  const two = createFetch({
    ...GENEROUS,
    routes: [
      { name: "primary", url: A.url },
      { name: "mirror", url: `${B.url}/base` },
    ],
    routing: { switchBudget: SWITCH_GENEROUS, ejection: { consecutiveFailures: 1000, intervalMs: 60000 } },
    seed: 9,
  });
  // Path input with the primary down: the mirror sees /base/echo.
  A.setFault({ status: 503 });
  const base = uniqueKey("path");
  let onMirror = 0;
  for (let i = 0; i < 20; i++) {
    const key = `${base}-${i}`;
    const r = await two(`/echo?key=${key}&x=1`);
    await r.text();
    for (const q of A.requests(key)) assert.equal(q.url, `/echo?key=${key}&x=1`);
    for (const q of B.requests(key)) assert.equal(q.url, `/base/echo?key=${key}&x=1`);
    onMirror += B.hits(key);
  }
  assert.ok(onMirror > 0);
  A.setFault(null);

  // Absolute URL addressing the mirror (origin + base path) while the mirror is down: rerouted to
  // the primary with the same remainder.
  B.setFault({ status: 503 });
  let rerouted = 0;
  for (let i = 0; i < 20; i++) {
    const key = `${base}-abs-${i}`;
    const r = await two(`${B.url}/base/echo?key=${key}&x=1`);
    assert.equal(r.status, 200, "served by the primary");
    const echo = await r.json();
    assert.equal(servedBy(echo), A);
    assert.equal(echo.url, `/echo?key=${key}&x=1`);
    for (const q of B.requests(key)) assert.equal(q.url, `/base/echo?key=${key}&x=1`);
    if (B.hits(key) > 0) rerouted++;
  }
  assert.ok(rerouted > 0, "some first attempts went to the addressed mirror and were rerouted");
});

// ---- 7. config ----------------------------------------------------------------------------------

test("the full routes config is accepted and the snapshot has the routing figures", () => {
  const f = createFetch({
    routes: [
      { name: "primary", url: A.url, weight: 1 },
      { name: "mirror", url: `${B.url}/base`, forwardCredentials: true },
      { name: "static", url: C.url, fallback: true },
    ],
    routing: {
      switchBudget: { ratio: 0.2, minPerSec: 1 },
      ejection: {
        consecutiveFailures: 5,
        minSuccessRate: 0.8,
        stdevFactor: 1.9,
        minRequests: 10,
        intervalMs: 10000,
        baseMs: 30000,
        maxMs: 300000,
        maxPercent: 50,
      },
      probes: 3,
      fallbackDefaultShare: 0.5,
    },
    hedge: { afterMs: 50, maxExtraLoad: 0.05 },
  });
  const s = f.snapshot();
  assert.deepStrictEqual(JSON.parse(JSON.stringify(s)), s);
  assert.deepEqual(s.routes.map((r) => [r.name, r.state]), [["primary", "healthy"], ["mirror", "healthy"], ["static", "healthy"]]);
  for (const r of s.routes) {
    assertRouteShape(r);
    assert.equal(r.attempts, 0);
    assert.equal(r.failures, 0);
    assert.equal(r.ejections, 0);
  }
  assert.equal(s.fallback.total, 0);
  assert.ok(Object.values(s.fallback.byReason).every((v) => v === 0), JSON.stringify(s.fallback.byReason));
  assert.equal(s.fallback.active, false);
  assert.equal(s.fallback.isDefault, false);
  assert.equal(typeof s.fallback.share, "number");
  assert.equal(typeof s.fallback.activeForMs, "number");
  assert.deepEqual(s.hedges, { sent: 0, won: 0, budgetExhausted: 0 });
  assert.deepEqual(s.switches, { total: 0, denied: 0 });
  // The percentile form of hedge.
  createFetch({ routes: [{ name: "a", url: A.url }], hedge: { percentile: 95 } });
});

test("invalid routes, routing and hedge config names the field", () => {
  const ok = (name, url) => ({ name, url });
  const cases = [
    [{ routes: [ok("a", A.url), { name: "b", url: "not a url" }] }, "routes[1].url"],
    [{ routes: [ok("a", A.url), { name: "b", url: "/relative" }] }, "routes[1].url"],
    [{ routes: [{ name: "a", url: "ftp://127.0.0.1/x" }] }, "routes[0].url"],
    [{ routes: [{ name: "a", url: 42 }] }, "routes[0].url"],
    [{ routes: [{ name: "a" }] }, "routes[0].url"],
    [{ routes: [{ name: "", url: A.url }] }, "routes[0].name"],
    [{ routes: [{ name: 5, url: A.url }] }, "routes[0].name"],
    [{ routes: [{ url: A.url }] }, "routes[0].name"],
    [{ routes: [ok("a", A.url), ok("a", B.url)] }, "routes[1].name"],
    [{ routes: [{ name: "a", url: A.url, wieght: 2 }] }, "routes[0].wieght"],
    [{ routes: [{ name: "a", url: A.url, weight: -1 }] }, "routes[0].weight"],
    [{ routes: [{ name: "a", url: A.url, weight: "heavy" }] }, "routes[0].weight"],
    [{ routes: [{ name: "a", url: A.url, fallback: "yes" }, ok("b", B.url)] }, "routes[0].fallback"],
    [{ routes: [{ name: "a", url: A.url, forwardCredentials: 1 }] }, "routes[0].forwardCredentials"],
    [{ routes: { name: "a", url: A.url } }, "routes"],
    [{ routes: [ok("a", A.url)], routing: { ejection: { baseMs: -1 } } }, "routing.ejection.baseMs"],
    [{ routes: [ok("a", A.url)], routing: { ejection: { baseMs: "soon" } } }, "routing.ejection.baseMs"],
    [{ routes: [ok("a", A.url)], routing: { ejection: { maxPercent: 150 } } }, "routing.ejection.maxPercent"],
    [{ routes: [ok("a", A.url)], routing: { ejection: { ejectMs: 5 } } }, "routing.ejection.ejectMs"],
    [{ routes: [ok("a", A.url)], routing: { ejektion: {} } }, "routing.ejektion"],
    [{ routes: [ok("a", A.url)], routing: { switchBudget: { ratio: -1 } } }, "routing.switchBudget.ratio"],
    [{ routes: [ok("a", A.url)], routing: { probes: "3" } }, "routing.probes"],
    [{ routes: [ok("a", A.url)], routing: { fallbackDefaultShare: 2 } }, "routing.fallbackDefaultShare"],
    [{ routes: [ok("a", A.url)], hedge: { afterMs: 50, maxExtraLoad: -0.1 } }, "hedge.maxExtraLoad"],
    [{ routes: [ok("a", A.url)], hedge: { afterMs: 50, maxExtraLoad: "lots" } }, "hedge.maxExtraLoad"],
    [{ routes: [ok("a", A.url)], hedge: { aftrMs: 50 } }, "hedge.aftrMs"],
  ];
  for (const [config, path] of cases) {
    assert.throws(
      () => createFetch(config),
      (e) => e.name === "ConfigError" && e.path === path && e.message.includes(path),
      `${JSON.stringify(config)} -> ${path}`,
    );
  }
});

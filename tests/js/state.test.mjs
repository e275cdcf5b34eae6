// State snapshots and routes replaced at run time, through the package against loopback origins:
// exportState -> JSON -> initialState starts a client where another was (an ejected primary stays
// avoided); mergeState refuses another version, another config and corrupt input with a
// StateError naming the path, and changes nothing; setRoutes validates as createFetch does, keeps
// what the routes that remain learnt, and lets the calls in flight finish.
import { test, before, after, afterEach } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createFetch, ConfigError, StateError } from "../../pkg/node.js";
import { bind } from "../../pkg/api.js";
import * as server from "../../pkg/server.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, FAST } from "./helpers.mjs";

let A, B, C;
before(async () => {
  [A, B, C] = await Promise.all([startOrigin(), startOrigin(), startOrigin()]);
});
afterEach(() => {
  for (const o of [A, B, C]) o.setFault(null);
});
after(async () => {
  await Promise.all([A, B, C].map((o) => o.close()));
});

const T = 20000;

const config = () => ({
  retry: { maxAttempts: 3, backoff: FAST },
  budget: { ratio: 2, minPerSec: 100 },
  routing: {
    switchBudget: { ratio: 2, minPerSec: 100 },
    ejection: { consecutiveFailures: 1, baseMs: 60_000 },
  },
  routes: [
    { name: "primary", url: A.url },
    { name: "secondary", url: B.url },
  ],
});

const routeOf = (f, name) => f.snapshot().routes.find((r) => r.name === name);

/** Calls `/echo` through `f` until `primary` is ejected (A must be failing). */
async function ejectPrimary(f) {
  for (let i = 0; i < 50 && routeOf(f, "primary").state !== "ejected"; i++) {
    const r = await f(`/echo?key=${uniqueKey("eject")}`);
    await r.text();
  }
  assert.equal(routeOf(f, "primary").state, "ejected");
}

test("exportState -> JSON -> initialState: the new client keeps the primary ejected and sends it nothing", { timeout: T }, async () => {
  A.setFault({ status: 503 });
  const first = createFetch(config());
  await ejectPrimary(first);
  const saved = JSON.stringify(first.exportState());
  const state = JSON.parse(saved);
  assert.equal(state.v, 1);
  assert.match(state.fingerprint, /^[0-9a-f]{12}$/);
  assert.notEqual(state.fingerprint, first.snapshot().config.fingerprint, "the routes are left out of it");
  assert.deepEqual(
    state.routes.map((r) => [r.name, r.url]),
    [
      ["primary", A.url],
      ["secondary", B.url],
    ],
  );
  const [at, until, ejections] = state.routes[0].health;
  assert.equal(until - at, 60_000);
  assert.equal(ejections, 1);
  assert.equal(state.isolates.length, 1);
  const [iso] = state.isolates;
  assert.ok(Number.isSafeInteger(iso.id) && Math.abs(iso.at - Date.now()) < 5_000, JSON.stringify(iso));
  const failed = iso.routes.find((r) => r.route === 0).slots.reduce((n, s) => n + s[2], 0);
  assert.equal(failed, routeOf(first, "primary").failures);

  const second = createFetch({ ...config(), initialState: state });
  const hitsOnA = A.hits();
  for (let i = 0; i < 10; i++) {
    const r = await second(`/echo?key=${uniqueKey("after")}`);
    assert.equal(r.status, 200);
    await r.text();
  }
  assert.equal(A.hits(), hitsOnA, "nothing went to the ejected primary");
  const p = routeOf(second, "primary");
  assert.deepEqual([p.state, p.ejections, p.attempts], ["ejected", 1, 0]);
  assert.ok(p.successRate < 0.5, "its long-window counts came along");
  // Both clients' contributions travel on; merging the second's into the first names no route
  // it lacks.
  const both = second.exportState();
  assert.equal(both.isolates.length, 2);
  assert.deepEqual(first.mergeState(both), { isolates: 1, ignoredRoutes: [] });

  // A client without it sends to the primary (half its first calls, until it ejects it).
  const fresh = createFetch(config());
  A.resetStats();
  for (let i = 0; i < 20; i++) await (await fresh(`/echo?key=${uniqueKey("fresh")}`)).text();
  assert.ok(A.hits() > 0);
});

test("mergeState takes states in any order, any number of times, and names routes it lacks", { timeout: T }, async () => {
  const transport = async () => new Response("ok");
  const make = (routes) => createFetch({ ...config(), routes, transport });
  const a = make([{ name: "primary", url: A.url }]);
  const b = make([
    { name: "primary", url: A.url },
    { name: "mirror", url: C.url },
  ]);
  // Enough calls that b's mirror serves some (only routes with something to say are in a state).
  for (const f of [a, b]) for (let i = 0; i < 30; i++) await (await f("/x")).text();
  const [sa, sb] = [a.exportState(), b.exportState()];
  assert.equal(sa.fingerprint, sb.fingerprint, "route sets differ, the fingerprint does not");
  const c1 = make([{ name: "primary", url: A.url }]);
  const c2 = make([{ name: "primary", url: A.url }]);
  const show = () => JSON.stringify({ sa, sb }, null, 1);
  assert.deepEqual(c1.mergeState(sa), { isolates: 1, ignoredRoutes: [] }, show());
  assert.deepEqual(c1.mergeState(sb), { isolates: 2, ignoredRoutes: ["mirror"] }, show());
  c2.mergeState(sb);
  c2.mergeState(sa);
  c2.mergeState(sb);
  const strip = (s) => ({ ...s, isolates: s.isolates.map((i) => ({ ...i, at: 0 })) });
  assert.deepEqual(strip(c1.exportState()), strip(c2.exportState()), show());
  assert.equal(c1.exportState().routes.length, 2, "the mirror is carried along");
});

/** A client on a clock that does not move (its exports are then comparable), no network. */
function frozen() {
  const clock = { now: () => 5_000, wall: () => 1_700_000_005_000, set: setTimeout, clear: clearTimeout };
  const create = bind(() => readFileSync(new URL("../../pkg/gen/ballast_fast_bg.wasm", import.meta.url)), { clock, server });
  return create;
}

test("a state that cannot be taken throws a StateError naming what is wrong, and changes nothing", { timeout: T }, async () => {
  const create = frozen();
  let n = 0;
  const transport = async () => new Response("x", { status: n++ % 3 === 0 ? 503 : 200 });
  // One attempt a call: with the clock stopped, a backoff would never end.
  const f = create({ ...config(), retry: { maxAttempts: 1 }, transport });
  for (let i = 0; i < 6; i++) await (await f("/x")).text();
  const good = f.exportState();
  assert.deepEqual(f.mergeState(good), { isolates: 0, ignoredRoutes: [] }, "its own contribution is not taken back");
  const before = JSON.stringify(f.exportState());
  const snap = JSON.stringify(f.snapshot());
  const other = create({ ...config(), retry: { maxAttempts: 2 }, transport }).exportState();
  const edit = (change) => {
    const s = structuredClone(good);
    change(s);
    return s;
  };
  const cases = [
    [edit((s) => (s.v = 2)), "v", 2, /^1, the state version/],
    [other, "fingerprint", other.fingerprint, /without its routes/],
    [edit((s) => (s.isolates[0].at = -1)), "isolates[0].at", -1, /a wall-clock time in whole ms/],
    [edit((s) => (s.isolates[0].at = Date.now() + 3 * 86_400_000)), "isolates[0].at", undefined, /at most a day ahead/],
    [edit((s) => (s.isolates[0].routes[0].slots[0][1] = 1.5)), "isolates[0].routes[0].slots[0][1]", 1.5, /an integer/],
    [edit((s) => (s.isolates[0].routes[0].route = 9)), "isolates[0].routes[0].route", 9, /an index into routes \(0 to 1\)/],
    [edit((s) => (s.routes[0].health = "ejected")), "routes[0].health", "ejected", /an array of 3 numbers/],
    [edit((s) => (s.extra = true)), "extra", true, /no such key; known keys here: v, fingerprint, routes, isolates/],
    [edit((s) => delete s.isolates), "isolates", undefined, /an array/],
    [JSON.stringify(good), "state", JSON.stringify(good), /JSON\.parse it first/],
    [null, "state", null, /an object from exportState\(\)/],
  ];
  for (const [state, path, value, allowed] of cases) {
    const err = captured(() => f.mergeState(state));
    assert.ok(err instanceof StateError, String(err));
    assert.equal(err.name, "StateError");
    assert.ok(!(err instanceof ConfigError));
    assert.equal(err.path, path, err.message);
    if (value !== undefined) assert.deepEqual(err.value, value, err.message);
    assert.match(err.allowed, allowed, err.message);
    assert.match(err.message, new RegExp(`^invalid ballast state: ${path.replace(/[[\]().]/g, "\\$&")} = `));
    assert.equal(JSON.stringify(f.exportState()), before, `${path}: the state is as it was`);
  }
  assert.equal(JSON.stringify(f.snapshot()), snap);
  // A state whose getter throws is refused the same way.
  const trap = { ...good };
  Object.defineProperty(trap, "isolates", {
    enumerable: true,
    get() {
      throw new Error("no");
    },
  });
  assert.equal(captured(() => f.mergeState(trap)).path, "isolates");
  // createFetch checks its initialState at once.
  const same = { ...config(), retry: { maxAttempts: 1 }, transport };
  const bad = edit((s) => (s.v = 3));
  assert.equal(captured(() => create({ ...same, initialState: bad })).path, "v");
  assert.equal(captured(() => create({ ...same, initialState: other })).path, "fingerprint");
  // ...and it is no part of the config: the fingerprint is the same with it.
  const g = create({ ...same, initialState: good });
  assert.equal(g.snapshot().config.fingerprint, f.snapshot().config.fingerprint);
  assert.equal(g.exportState().isolates.length, 1, "merged on first use");
});

function captured(fn) {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("it did not throw");
}

test("setRoutes validates as createFetch does and changes nothing when it refuses", { timeout: T }, () => {
  const f = createFetch({ ...config(), transport: async () => new Response("ok") });
  const cfg = snapshotConfig(f);
  for (const routes of [
    [{ name: "x" }],
    [{ name: "a", url: "ftp://a" }],
    [
      { name: "a", url: A.url },
      { name: "a", url: B.url },
    ],
    [{ name: "a", url: A.url, weight: -1 }],
    [{ name: "a", url: A.url, nmae: 1 }],
    [{ name: "a", url: A.url, fallback: true }],
    "routes",
    undefined,
  ]) {
    const mine = captured(() => f.setRoutes(routes));
    assert.ok(mine instanceof ConfigError, String(mine));
    if (routes !== undefined) {
      const theirs = captured(() => createFetch({ routes }));
      assert.equal(mine.path, theirs.path);
      assert.equal(mine.message, theirs.message);
    } else {
      assert.equal(mine.path, "routes");
    }
    assert.deepEqual(snapshotConfig(f), cfg);
  }
  f.setRoutes([]);
  assert.deepEqual(f.snapshot().routes, []);
});

const snapshotConfig = (f) => JSON.parse(JSON.stringify(f.snapshot().config));

test("setRoutes keeps what the routes that remain learnt, and the calls in flight finish", { timeout: T }, async () => {
  A.setFault({ status: 503 });
  const f = createFetch(config());
  await ejectPrimary(f);
  const { fingerprint } = f.snapshot().config;
  const stateFingerprint = f.exportState().fingerprint;
  // Calls in flight on the secondary (150 ms) while the routes change under them.
  B.setFault({ delayMs: 150 });
  const calls = [];
  for (let i = 0; i < 6; i++) calls.push(f(`/echo?key=${uniqueKey("flight")}`));
  await new Promise((r) => setTimeout(r, 30));
  const before = routeOf(f, "secondary").attempts;
  f.setRoutes([
    { name: "mirror", url: C.url },
    { name: "secondary", url: B.url, weight: 2 },
    { name: "primary", url: A.url },
  ]);
  const answers = await Promise.all(calls);
  for (const r of answers) {
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(await r.text()).headers.host, `127.0.0.1:${B.port}`);
  }
  const s = f.snapshot();
  assert.deepEqual(
    s.routes.map((r) => [r.name, r.state]),
    [
      ["mirror", "healthy"],
      ["secondary", "healthy"],
      ["primary", "ejected"],
    ],
  );
  assert.equal(s.routes[1].attempts, before + 6, "the attempts in flight were recorded on the secondary");
  assert.ok(s.routes[1].latency.p99 >= 100, "with their latency");
  assert.equal(s.routes[2].ejections, 1);
  assert.notEqual(s.config.fingerprint, fingerprint);
  assert.deepEqual(
    s.config.effective.routes.map((r) => [r.name, r.weight]),
    [
      ["mirror", 1],
      ["secondary", 2],
      ["primary", 1],
    ],
  );
  assert.equal(f.exportState().fingerprint, stateFingerprint, "states still merge across route changes");
  // The new route serves.
  B.setFault(null);
  const hosts = new Set();
  for (let i = 0; i < 20; i++) hosts.add(JSON.parse(await (await f(`/echo?key=${uniqueKey("new")}`)).text()).headers.host);
  assert.ok(hosts.has(`127.0.0.1:${C.port}`), [...hosts].join());
  assert.ok(!hosts.has(`127.0.0.1:${A.port}`));
});

// Hostile configs stay contained (own process: on an engine that let a config's exception unwind
// through wasm, each one lowered the shared stack for good, and the instance died for everyone).
// A config is read through own properties only, each read caught: whatever cannot be read is a
// ConfigError naming its path, never an exception inside the engine, never a value inherited from
// a polluted prototype.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch, ConfigError } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";

let origin;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

const boom = () => {
  throw new Error("boom");
};

/** Configs that throw while they are read, each with the path the error must name. */
function hostile() {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  return [
    [revoked.proxy, "config"],
    [new Proxy({}, { ownKeys: boom }), "config"],
    [{ retry: new Proxy({}, { ownKeys: boom }) }, "retry"],
    [{ retry: { statuses: new Proxy([], { get: (t, k) => (k === "length" ? boom() : t[k]) }) } }, "retry.statuses.length"],
    [{ retry: { statuses: [408, , 503] } }, "retry.statuses[1]"], // eslint-disable-line no-sparse-arrays
    [{ retry: { statuses: new Array(2 ** 32 - 1) } }, "retry.statuses"],
    [{ budget: { get ratio() { return boom(); } } }, "budget.ratio"],
    [{ routes: [{ name: "a", get url() { return boom(); } }] }, "routes[0].url"],
    [{ timeout: Object.defineProperty({}, "totalMs", { get: boom, enumerable: true }) }, "timeout.totalMs"],
  ];
}

test("each hostile config is a ConfigError naming its path", () => {
  for (const [config, path] of hostile()) {
    const err = (() => {
      try {
        createFetch(config);
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(err instanceof ConfigError, `${path}: ${err?.name}: ${err?.message}`);
    assert.equal(err.path, path, err.message);
  }
});

test("a typo beside a getter that throws is not accepted", () => {
  // The getter first: a reader that skipped the rest of the object after it accepted the typo.
  for (const config of [
    { budget: { get ratio() { return boom(); }, ratoi: 1 } },
    { retry: { get maxAttempts() { return boom(); } }, budget: { ratoi: 1 } },
  ]) {
    assert.throws(() => createFetch(config), ConfigError);
  }
});

test("1,000 throwing configs leave a client made before and a client made after healthy", async () => {
  const before = createFetch();
  const configs = hostile();
  for (let i = 0; i < 1000; i++) {
    assert.throws(() => createFetch(configs[i % configs.length][0]), ConfigError);
  }
  const res = await before(`${origin.url}/ok`);
  assert.equal(res.status, 200);
  await res.text();
  const after = createFetch({ retry: { maxAttempts: 2, backoff: { baseMs: 1, capMs: 2 } } });
  const r2 = await after(`${origin.url}/seq?key=faults-config&codes=503,200`);
  assert.equal(r2.status, 200);
  await r2.text();
  assert.equal(after.snapshot().retries, 1);
});

test("a polluted Object.prototype.transport is not the transport; own properties only", async () => {
  let used = 0;
  Object.prototype.transport = () => {
    used++;
    return Promise.resolve(new Response("stolen"));
  };
  Object.prototype.retry = { maxAttempts: 1 };
  try {
    const f = createFetch({ budget: { ratio: 0.5 } });
    const res = await f(`${origin.url}/seq?key=faults-proto&codes=503,200`, { headers: { authorization: "secret" } });
    assert.equal(res.status, 200, "retried with the default retry settings, not the inherited ones");
    await res.text();
    assert.equal(used, 0, "the inherited transport was never called");
  } finally {
    delete Object.prototype.transport;
    delete Object.prototype.retry;
  }
});

test("seed must be an integer; huge numbers print as JS prints them", () => {
  const err = (config) => {
    try {
      createFetch(config);
    } catch (e) {
      return e;
    }
    assert.fail(`accepted ${JSON.stringify(config)}`);
  };
  const seed = err({ seed: 1.5 });
  assert.equal(seed.path, "seed");
  assert.match(seed.message, /seed = 1\.5 \(allowed: an integer in \[0, 9007199254740991\]\)/);
  const big = err({ timeout: { totalMs: 1e308 } });
  assert.equal(big.path, "timeout.totalMs");
  assert.equal(big.value, 1e308);
  assert.match(big.message, /timeout\.totalMs = 1e\+308 \(allowed/);
  createFetch({ seed: 42 }); // an integer is fine
});

// Config validation: every invalid config throws a ConfigError naming its field.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createFetch, ConfigError } from "../../pkg/node.js";

// [description, config, expected path]
const bad = [
  ["maxAttempts 0", { retry: { maxAttempts: 0 } }, "retry.maxAttempts"],
  ["maxAttempts wrong type", { retry: { maxAttempts: "3" } }, "retry.maxAttempts"],
  ["maxAttempts NaN", { retry: { maxAttempts: NaN } }, "retry.maxAttempts"],
  ["maxAttempts negative", { retry: { maxAttempts: -1 } }, "retry.maxAttempts"],
  ["maxAttempts fractional", { retry: { maxAttempts: 1.5 } }, "retry.maxAttempts"],
  ["retry wrong type", { retry: 3 }, "retry"],
  ["backoff wrong type", { retry: { backoff: "full" } }, "retry.backoff"],
  ["bad backoff kind", { retry: { backoff: { kind: "linear" } } }, "retry.backoff.kind"],
  ["baseMs negative", { retry: { backoff: { baseMs: -1 } } }, "retry.backoff.baseMs"],
  ["baseMs NaN", { retry: { backoff: { baseMs: NaN } } }, "retry.backoff.baseMs"],
  ["capMs < baseMs", { retry: { backoff: { baseMs: 200, capMs: 100 } } }, "retry.backoff.capMs"],
  ["capMs Infinity", { retry: { backoff: { capMs: Infinity } } }, "retry.backoff.capMs"],
  ["unknown backoff key", { retry: { backoff: { kind: "full", jitter: 0.5 } } }, "retry.backoff.jitter"],
  ["bad status 999", { retry: { statuses: [503, 999] } }, "retry.statuses[1]"],
  ["status wrong type", { retry: { statuses: [503, "502"] } }, "retry.statuses[1]"],
  ["statuses not an array", { retry: { statuses: "503" } }, "retry.statuses"],
  ["bad method", { retry: { methods: ["GET", "NOT A METHOD"] } }, "retry.methods[1]"],
  ["empty method", { retry: { methods: [""] } }, "retry.methods[0]"],
  ["maxRetryAfterMs negative", { retry: { maxRetryAfterMs: -5 } }, "retry.maxRetryAfterMs"],
  ["unknown retry key", { retry: { maxAttempt: 3 } }, "retry.maxAttempt"],
  ["budget.ratio negative", { budget: { ratio: -0.1 } }, "budget.ratio"],
  ["budget.ratio NaN", { budget: { ratio: NaN } }, "budget.ratio"],
  ["budget.ratoi typo", { budget: { ratoi: 0.2 } }, "budget.ratoi"],
  ["budget.minPerSec negative", { budget: { minPerSec: -1 } }, "budget.minPerSec"],
  ["budget.ttlMs wrong type", { budget: { ttlMs: "10s" } }, "budget.ttlMs"],
  ["timeout.totalMs negative", { timeout: { totalMs: -1 } }, "timeout.totalMs"],
  ["timeout.totalMs NaN", { timeout: { totalMs: NaN } }, "timeout.totalMs"],
  ["timeout.attemptMs wrong type", { timeout: { attemptMs: "100" } }, "timeout.attemptMs"],
  ["timeout unknown key", { timeout: { atemptMs: 100 } }, "timeout.atemptMs"],
  ["unknown top-level key", { retries: 3 }, "retries"],
  ["seed wrong type", { seed: "abc" }, "seed"],
  ["seed negative", { seed: -1 }, "seed"],
  ["transport not a function", { transport: "fetch" }, "transport"],
  // Several errors: createFetch reports the first: unknown keys, then each field's type and range
  // in the schema's order, then the rules between fields (ballast-fetch/drift's validateConfig
  // lists them all).
  ["two type errors", { budget: { ratio: "x" }, retry: { maxAttempts: "3", backoff: { baseMs: "1" } } }, "retry.maxAttempts"],
  ["a range error, then a type error", { retry: { maxAttempts: 0 }, budget: { ratio: "x" } }, "retry.maxAttempts"],
  ["two range errors", { budget: { ratio: -1 }, retry: { maxAttempts: 0, backoff: { baseMs: -1 } } }, "retry.maxAttempts"],
  ["a bad status, then a status of the wrong type", { retry: { statuses: [503, 999, "x"] } }, "retry.statuses[1]"],
  ["a bad route and a bad limit", { routes: [{ url: "http://a" }, 5], concurrency: { limit: "x" } }, "concurrency.limit"],
  ["route: missing name, bad url", { routes: [{ url: "ftp://a" }] }, "routes[0].name"],
  ["route: name of the wrong type", { routes: [{ name: 5, url: "http://a" }] }, "routes[0].name"],
];

for (const [desc, cfg, path] of bad) {
  test(`invalid config (${desc}) throws ConfigError at ${path}`, () => {
    let thrown;
    try {
      createFetch(cfg);
    } catch (err) {
      thrown = err;
    }
    assert.ok(thrown !== undefined, "createFetch must throw synchronously");
    assert.ok(thrown instanceof ConfigError, `expected ConfigError, got ${thrown?.name}: ${thrown?.message}`);
    assert.ok(thrown instanceof Error, "ConfigError extends Error");
    assert.equal(thrown.name, "ConfigError");
    assert.equal(thrown.path, path);
    assert.ok(thrown.message.includes(path), `message ${JSON.stringify(thrown.message)} must contain ${path}`);
    assert.ok("value" in thrown, "has a value property");
    assert.equal(typeof thrown.allowed, "string");
    assert.ok(thrown.allowed.length > 0, "allowed is described");
    assert.ok(thrown.message.includes(thrown.allowed), "message contains allowed");
    if (typeof thrown.value === "string" || typeof thrown.value === "number") {
      assert.ok(thrown.message.includes(String(thrown.value)), "message contains value");
    }
  });
}

test("valid configs are accepted", () => {
  const good = [
    undefined,
    {},
    { retry: {} },
    { retry: { maxAttempts: 1 } },
    { retry: { backoff: { kind: "exponential", baseMs: 0, capMs: 0 } } },
    { retry: { backoff: { kind: "full", baseMs: 1, capMs: 1 } } },
    { retry: { backoff: { kind: "equal" } } },
    { retry: { backoff: { kind: "decorrelated", baseMs: 10, capMs: 100 } } },
    { retry: { statuses: [], methods: [] } },
    { retry: { methods: ["post", "GET"] } },
    { retry: { maxRetryAfterMs: 0 } },
    { budget: { ratio: 0, minPerSec: 0, ttlMs: 1000 } },
    { timeout: { attemptMs: null, totalMs: null } },
    { timeout: { attemptMs: 1, totalMs: 1 } },
    { seed: 42 },
    { transport: (input, init) => fetch(input, init) },
    {
      retry: {
        maxAttempts: 5,
        backoff: { kind: "full", baseMs: 100, capMs: 5000 },
        statuses: [408, 429, 500, 502, 503, 504],
        methods: ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"],
        maxRetryAfterMs: 20000,
      },
      budget: { ratio: 0.1, minPerSec: 1, ttlMs: 10000 },
      timeout: { attemptMs: 10000, totalMs: 30000 },
      seed: 7,
    },
  ];
  for (const cfg of good) {
    const f = createFetch(cfg);
    assert.equal(typeof f, "function", JSON.stringify(cfg));
    assert.equal(typeof f.snapshot, "function");
    assert.equal(typeof f.on, "function");
  }
});

test("the config object is not mutated", () => {
  const cfg = { retry: { maxAttempts: 2, methods: ["get"] }, budget: { ratio: 0.2 } };
  const copy = structuredClone(cfg);
  createFetch(cfg);
  assert.deepEqual(cfg, copy);
});

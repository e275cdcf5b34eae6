// ballast-fetch/drift in Node: a config's fingerprint is the same however the config is written
// and moves with any change in behaviour; the effective config lists every field with its
// default; diffConfig names each differing field with a consequence; lintConfig finds configs that
// pass validation yet behave badly under pressure, with stable rule ids and docs links; bad configs
// are ScenarioErrors naming their path, as createFetch's are.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fingerprint, effectiveConfig, diffConfig, lintConfig, lintRules, validateConfig, ScenarioError } from "../../pkg/drift-node.js";
import { simulate } from "../../pkg/sim-node.js";
import { createFetch } from "../../pkg/node.js";
import { toOpenMetrics } from "../../pkg/export.js";

test("fingerprint: 12 hex digits, equal for configs that behave alike, different for any change", () => {
  const base = fingerprint({});
  assert.match(base, /^[0-9a-f]{12}$/);
  // Defaults written out, key order, 1 vs 1.0, a set's order and repeats: the same behaviour.
  const written = effectiveConfig({});
  assert.equal(written.fingerprint, base);
  assert.equal(fingerprint({ retry: { maxAttempts: 4 } }), base, "maxAttempts 4 is the default");
  assert.equal(
    fingerprint({ retry: { statuses: [503, 502, 504, 429, 500, 503] } }),
    fingerprint({ retry: { statuses: [429, 500, 502, 503, 504] } }),
  );
  assert.equal(
    fingerprint({ timeout: { totalMs: 5000, attemptMs: 1000 } }),
    fingerprint({ timeout: { attemptMs: 1000.0, totalMs: 5000 } }),
  );
  const changed = new Set([
    base,
    fingerprint({ retry: { maxAttempts: 3 } }),
    fingerprint({ timeout: { attemptMs: 1500 } }),
    fingerprint({ budget: { ratio: 0.3 } }),
    fingerprint({ concurrency: { limit: 32 } }),
    fingerprint({ routes: [{ name: "a", url: "https://a.example" }] }),
    fingerprint({ routes: [{ name: "a", url: "https://b.example" }] }),
  ]);
  assert.equal(changed.size, 7, "every change in behaviour moves the fingerprint");
  // transport is code, not configuration: a config that carries one has the same fingerprint.
  assert.equal(fingerprint({ transport: () => {} }), base);
});

test("the fingerprints every runtime must agree on (tests/fixtures/fingerprints.json, checked natively too)", () => {
  const rows = JSON.parse(readFileSync(new URL("../fixtures/fingerprints.json", import.meta.url), "utf8"));
  assert.ok(rows.length >= 10);
  for (const { config, fingerprint: expected } of rows) assert.equal(fingerprint(config), expected, JSON.stringify(config));
});

test("effectiveConfig: every field with its default, as [path, JSON value]", () => {
  const { fields } = effectiveConfig({ retry: { maxAttempts: 5 } });
  const map = new Map(fields);
  assert.equal(map.get("retry.maxAttempts"), "5");
  assert.ok(map.has("timeout.attemptMs") && map.has("budget.ratio") && map.has("concurrency.limit"), [...map.keys()].join(" "));
  assert.ok(fields.length > 30, `${fields.length} fields`);
  for (const [, value] of fields) assert.doesNotThrow(() => JSON.parse(value), value);
});

test("diffConfig: each differing field with both values and what it does", () => {
  const staging = { timeout: { attemptMs: 2000 }, retry: { maxAttempts: 3 } };
  const production = { timeout: { attemptMs: 10000 }, retry: { maxAttempts: 5 } };
  const d = diffConfig(staging, production, { names: ["staging", "production"] });
  const paths = d.map((x) => x.path);
  assert.ok(paths.includes("timeout.attemptMs") && paths.includes("retry.maxAttempts"), paths.join(" "));
  const t = d.find((x) => x.path === "timeout.attemptMs");
  assert.equal(t.a, "2000");
  assert.equal(t.b, "10000");
  assert.match(t.consequence, /staging|production/);
  assert.deepEqual(diffConfig(staging, { ...staging, retry: { maxAttempts: 3.0 } }), [], "same behaviour: no difference");
});

test("lintConfig: findings with rule, severity, path, message, fix and a docs link", () => {
  const blind = { retry: { maxAttempts: 5 }, budget: { ratio: 10, minPerSec: 10000 }, concurrency: { limit: null } };
  const findings = lintConfig(blind);
  const rules = findings.map((f) => f.rule);
  assert.ok(rules.includes("BF005"), `no concurrency limit: ${rules}`);
  for (const f of findings) {
    assert.match(f.rule, /^BF\d{3}$/);
    assert.ok(["error", "warning", "info"].includes(f.severity));
    assert.ok(f.path && f.message && f.fix, JSON.stringify(f));
    assert.match(f.help, new RegExp(`docs/drift\\.md#${f.rule.toLowerCase()}$`));
  }
  const order = { error: 0, warning: 1, info: 2 };
  assert.deepEqual(findings.map((f) => order[f.severity]), findings.map((f) => order[f.severity]).sort(), "most severe first");
  // Cloudflare: more than six connections per request is an error only there.
  const wide = { concurrency: { limit: 64 } };
  assert.ok(!lintConfig(wide).some((f) => f.rule === "BF012"));
  assert.ok(lintConfig(wide, { target: "cloudflare" }).some((f) => f.rule === "BF012" && f.severity === "error"));
  assert.throws(() => lintConfig({}, { target: "lambda" }), (e) => e instanceof ScenarioError && e.path === "target");
  // The rule list (SARIF's rules): every id once, each with a title and a docs link.
  assert.equal(new Set(lintRules.map((r) => r.id)).size, lintRules.length);
  assert.ok(lintRules.length >= 12);
  for (const r of lintRules) assert.ok(r.title && r.help.endsWith(`#${r.id.toLowerCase()}`));
  assert.ok(Object.isFrozen(lintRules));
});

test("a bad config is a ScenarioError naming its path, as createFetch names it", () => {
  for (const [config, path] of [
    [{ retry: { maxAttempts: 0 } }, "retry.maxAttempts"],
    [{ timeout: { attemptMs: "1s" } }, "timeout.attemptMs"],
    [{ retyr: {} }, "retyr"],
  ]) {
    assert.throws(() => fingerprint(config), (e) => e instanceof ScenarioError && e.input === "config" && e.path.includes(path), JSON.stringify(config));
  }
});

test("validateConfig: every problem in order, [] for a valid config", () => {
  assert.deepEqual(validateConfig({}), []);
  assert.deepEqual(validateConfig({ transport: () => {}, $schema: "./config.schema.json" }), []);
  const problems = validateConfig({
    retyr: 1,
    retry: { maxAttempts: 0, statuses: [42, 503] },
    budget: "lots",
    pressure: { warn: 0.9, critical: 0.6 },
    timeout: { totalMs: -1 },
  });
  assert.deepEqual(problems.map((p) => p.path), ["retyr", "retry.maxAttempts", "retry.statuses[0]", "budget", "timeout.totalMs", "pressure.critical"]);
  assert.deepEqual(problems[1], { path: "retry.maxAttempts", value: "0", allowed: "an integer in [1, 10]" });
  assert.match(problems[5].allowed, /^a number >= pressure\.warn \(0\.9\)$/);
});

test("drift and sim share one module in a process", () => {
  // Both entries bind the same instance: a simulation between two drift calls changes nothing.
  const before = fingerprint({ retry: { maxAttempts: 2 } });
  simulate("burst", { policy: "naive", seed: 1, durationMs: 2000 });
  assert.equal(fingerprint({ retry: { maxAttempts: 2 } }), before);
});

test("snapshot().config: the running client's fingerprint (as drift computes it) and its effective config", () => {
  const config = {
    retry: { maxAttempts: 3, statuses: [503, 429, 503], methods: ["put", "GET"] },
    routes: [{ name: "eu", url: "https://eu.api.example/" }, { name: "mirror", url: "https://mirror.example", fallback: true }],
    hedge: { afterMs: 80 },
    transport: async () => new Response("ok"),
  };
  const api = createFetch(config);
  const s = api.snapshot();
  assert.equal(s.config.fingerprint, fingerprint(config));
  assert.notEqual(s.config.fingerprint, createFetch().snapshot().config.fingerprint);
  assert.equal(createFetch().snapshot().config.fingerprint, fingerprint({}));
  const e = s.config.effective;
  assert.equal(e.retry.maxAttempts, 3);
  assert.deepEqual(e.retry.statuses, [429, 503], "a set: sorted, once each");
  assert.deepEqual(e.retry.methods, ["GET", "PUT"]);
  assert.equal(e.budget.ratio, 0.2, "defaults filled in");
  assert.equal(e.timeout.totalMs, 30000);
  assert.deepEqual(e.hedge, { afterMs: 80, percentile: null, maxExtraLoad: 0.05 });
  assert.deepEqual(e.routes.map((r) => [r.name, r.url, r.fallback]), [["eu", "https://eu.api.example", false], ["mirror", "https://mirror.example", true]]);
  assert.equal(e.seed, null);
  assert.equal(createFetch().snapshot().config.effective.hedge, null);
  assert.ok(!("transport" in e));
  // The same frozen object in every snapshot: read once.
  assert.equal(api.snapshot().config, s.config);
  assert.ok(Object.isFrozen(e) && Object.isFrozen(e.retry.statuses) && Object.isFrozen(e.routes[0]));
  assert.throws(() => {
    "use strict";
    e.retry.maxAttempts = 9;
  }, TypeError);
  // What a scrape shows.
  assert.match(toOpenMetrics(s), new RegExp(`^ballast_config_info\\{fingerprint="${s.config.fingerprint}"\\} 1$`, "m"));
  // The effective config is the config: it gives the same fingerprint.
  assert.equal(fingerprint(JSON.parse(JSON.stringify(e))), s.config.fingerprint);
});

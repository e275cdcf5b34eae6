// The rehearse command as a CI job runs it (`npx ballast-fetch rehearse ...`): exit 0 within the
// limits, 1 when a limit is broken, 2 on input it cannot read, naming the file and the field;
// a readable table, or --json with the report's shape.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../pkg/bin/ballast-fetch.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "ballast-rehearse-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function file(name, content) {
  const p = join(dir, name);
  writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content));
  return p;
}

function run(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const defaults = file("defaults.json", {});
// Blind retries: five tries without backoff or budget, no concurrency limit, on the primary alone.
const blind = file("blind.json", {
  retry: { maxAttempts: 5, backoff: { kind: "exponential", baseMs: 0, capMs: 0 } },
  budget: { ratio: 10, minPerSec: 10000 },
  concurrency: { limit: null },
  timeout: { attemptMs: 3000, totalMs: null },
  routing: { ejection: { consecutiveFailures: 1000, minSuccessRate: 0 } },
  routes: [{ name: "primary", url: "https://api.example.com" }],
});
const mine = file("mine.json", {
  name: "my-outage",
  durationMs: 20_000,
  arrivals: [{ kind: "poisson", rate: 50 }],
  routes: [{ name: "a", latency: { medianMs: 10, p99Ms: 50 }, events: [{ kind: "outage", startMs: 2000, durationMs: 10000 }] }],
});

test("the defaults pass every preset: exit 0 and a table with config and naive rows", () => {
  const r = run("rehearse", defaults);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^rehearse .*defaults\.json: 7 scenarios, seed 1; limits: amplification <= 2x/);
  for (const name of ["burst", "primary-outage", "brownout-tail", "throttle-storm", "slow-drift", "overload-ramp", "metastable"]) {
    assert.match(r.out, new RegExp(`^${name} +config`, "m"), name);
  }
  assert.match(r.out, /metastable +config .*\n +naive .*never recovered/);
  assert.match(r.out, /ok: every scenario stayed within the limits/);
  assert.equal(r.err, "");
});

test("a config that turns an outage into a retry storm fails: exit 1 naming the scenario and the figure", () => {
  const r = run("rehearse", blind, "--scenario", "primary-outage", "--scenario", "metastable");
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /FAIL primary-outage: amplification \d\.\d\dx > 2x/);
  assert.match(r.out, /FAIL metastable: amplification/);
});

test("thresholds and the seed come from flags; a scenario may be a file", () => {
  const strict = run("rehearse", defaults, "--scenario", mine, "--min-success", "0.9", "--seed", "3");
  assert.equal(strict.code, 1);
  assert.match(strict.out, /seed 3; limits: amplification <= 2x, success >= 90\.00%/);
  assert.match(strict.out, /FAIL my-outage: success \d+\.\d\d% < 90\.00%/);
  const loose = run("rehearse", defaults, "--scenario", mine, "--max-amplification", "1.5");
  assert.equal(loose.code, 0, loose.out);
});

test("--json prints the report: seed, thresholds, rows of summaries, breaches", () => {
  const r = run("rehearse", blind, "--scenario", "metastable", "--json", "--seed", "2");
  assert.equal(r.code, 1);
  const report = JSON.parse(r.out);
  assert.deepEqual(Object.keys(report).sort(), ["breaches", "rows", "seed", "thresholds"]);
  assert.equal(report.seed, 2);
  assert.deepEqual(report.thresholds, { maxAmplification: 2, minSuccess: 0 });
  assert.equal(report.rows.length, 1);
  const row = report.rows[0];
  assert.equal(row.scenario, "metastable");
  for (const s of [row.config, row.naive]) {
    for (const k of ["offered", "attempts", "amplification", "successRate", "goodput", "latencyP99", "belowHalfAfterTriggerMs", "recovered"]) {
      assert.ok(k in s, k);
    }
  }
  assert.deepEqual(report.breaches.map((b) => [b.scenario, b.metric]), [["metastable", "amplification"]]);
  assert.ok(report.breaches[0].value > 2);
});

test("unreadable input: exit 2, naming the file and the field", () => {
  const cases = [
    [["rehearse", file("typo.json", { budget: { ratoi: 0.1 } })], /typo\.json: invalid config: budget\.ratoi: .*known keys here: ratio/],
    [["rehearse", file("range.json", { retry: { maxAttempts: 0 } })], /range\.json: invalid config: retry\.maxAttempts: got 0/],
    [["rehearse", file("broken.json", '{"budget": ')], /broken\.json: the config is not valid JSON/],
    [["rehearse", join(dir, "missing.json")], /missing\.json: cannot read the config: no such file/],
    [["rehearse", defaults, "--scenario", file("bad-scenario.json", { durationMs: 1000, arrivals: [{ kind: "poisson", rate: 1 }], routes: [{ name: "a", latency: { medianMs: 10, p99Ms: 5 } }] })], /bad-scenario\.json: invalid scenario: routes\[0\]\.latency\.p99Ms: allowed: a number of ms >= latency\.medianMs/],
    [["rehearse", defaults, "--scenario", "primary-outage", "--scenario", file("typo-scenario.json", { durationMs: 1000, arrivals: [{ kind: "poisson", rate: 1 }], routes: [{ name: "a", latency: { medianMs: 1, p99Ms: 5 }, errorRat: 1 }] })], /typo-scenario\.json: invalid scenario: routes\[0\]\.errorRat: unknown field/],
    [["rehearse", defaults, "--scenario", "metastabel"], /--scenario metastabel: no preset of that name \(presets: burst, /],
    [["rehearse", defaults, "--seed", "1.5"], /--seed "1\.5": expected an integer/],
    [["rehearse", defaults, "--min-success", "2"], /--min-success "2": expected a number in \[0, 1\]/],
    [["rehearse", defaults, "--bogus"], /Unknown option '--bogus'/],
    [["rehearse"], /rehearse takes one config file \(got 0\)/],
    [["frobnicate"], /unknown command "frobnicate"/],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.out}${r.err}`);
    assert.match(r.err, /^ballast-fetch: /);
    assert.match(r.err, message);
    assert.equal(r.out, "");
  }
});

test("a config with more routes than a scenario models names the route", () => {
  const three = file("three.json", {
    routes: [
      { name: "a", url: "https://a.example" },
      { name: "b", url: "https://b.example" },
      { name: "c", url: "https://c.example" },
    ],
  });
  const r = run("rehearse", three, "--scenario", mine);
  assert.equal(r.code, 2);
  assert.match(r.err, /three\.json: invalid config: routes\[1\]: .*a route the scenario models \(it has 1/);
});

test("presets and help", () => {
  const p = run("presets");
  assert.equal(p.code, 0);
  assert.match(p.out, /^metastable +.*retry storm|^metastable/m);
  assert.equal(Object.keys(JSON.parse(run("presets", "--json").out)).length, 7);
  for (const args of [["--help"], ["rehearse", "--help"], ["presets", "-h"]]) {
    const h = run(...args);
    assert.equal(h.code, 0, args.join(" "));
    assert.match(h.out, /usage:\n  ballast-fetch rehearse <config> \[--scenario/);
  }
});

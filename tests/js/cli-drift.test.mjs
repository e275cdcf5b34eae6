// The drift commands as a CI job runs them (`npx ballast-fetch lint|diff|fingerprint ...`): exit
// codes as kubectl diff's (0 clean, 1 findings at or above the threshold or drift, 2 unreadable
// input naming the file, the field and the problem); text, JSON and SARIF output, the SARIF checked
// by Microsoft's SARIF validator (the npm package @microsoft/sarif-multitool: the schema and the
// spec's rules); configs as JSON or as an ES module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../pkg/bin/ballast-fetch.mjs", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "ballast-cli-drift-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

function file(name, content) {
  writeFileSync(join(dir, name), typeof content === "string" ? content : JSON.stringify(content, null, 2));
  return name;
}

// Run from the temp dir: files are named relative to it, as in a repository's CI job.
function run(...args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const clean = file("clean.json", { timeout: { attemptMs: 5000, totalMs: 30000 } });
const defaults = file("defaults.json", {});
const storm = file("storm.json", {
  retry: { maxAttempts: 5, methods: ["GET", "POST"] },
  budget: { ratio: 10, minPerSec: 10000 },
  concurrency: { limit: null },
});
const wide = file("wide.json", { timeout: { attemptMs: 5000 }, concurrency: { limit: 64, queue: 100000 } });
const staging = file("staging.mjs", "export default {\n  timeout: { attemptMs: 2000 },\n  transport: (req) => fetch(req),\n};\n");
const production = file("production.json", { timeout: { attemptMs: 10000 } });
const productionReordered = file("production-b.json", '{ "retry": { "maxAttempts": 4.0 }, "timeout": { "attemptMs": 10000.0 } }');

test("lint: exit 0 when nothing reaches the threshold, 1 when something does; one line per finding", () => {
  let r = run("lint", clean);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^ok: no findings in 1 file \(target any; fails at error\)$/m);

  r = run("lint", defaults);
  assert.equal(r.code, 0, "the defaults' one note (info) fails nothing");
  assert.match(r.out, /^info {4}BF002 defaults\.json:1 retry\.maxAttempts: /m);

  r = run("lint", storm, clean);
  assert.equal(r.code, 1);
  const line = r.out.split("\n").find((l) => l.includes("BF001"));
  assert.match(line, /^error {3}BF001 storm\.json:10 budget\.ratio: budget\.ratio 10 lets every call use all 4 of its retries/);
  assert.match(r.out, /^ {8}fix: .*\(https:\/\/.*docs\/drift\.md#bf001\)$/m);
  assert.match(r.out, /^warning BF005 storm\.json:\d+ concurrency\.limit: /m);
  assert.match(r.out, /^warning BF007 storm\.json:4 retry\.methods: retry\.methods lists POST/m);
  assert.match(r.out, /^1 error, \d+ warnings, \d+ info in 2 files/m);

  // Warnings fail only when asked.
  assert.equal(run("lint", wide).code, 0);
  r = run("lint", wide, "--failure-threshold", "warning");
  assert.equal(r.code, 1);
  assert.match(r.out, /^warning BF006 wide\.json:7 concurrency\.queue: /m);
  // The Workers target adds its connection limit (an error).
  r = run("lint", wide, "--target", "cloudflare");
  assert.equal(r.code, 1);
  assert.match(r.out, /^error {3}BF012 wide\.json:\d+ concurrency\.limit: concurrency\.limit 64 on Cloudflare Workers/m);
});

test("lint --format json: the findings per file with the options used", () => {
  const r = run("lint", storm, staging, "--format", "json");
  assert.equal(r.code, 1);
  const out = JSON.parse(r.out);
  assert.equal(out.target, "any");
  assert.equal(out.failureThreshold, "error");
  assert.deepEqual(out.files.map((f) => f.file), ["storm.json", "staging.mjs"]);
  const f = out.files[0].findings[0];
  assert.deepEqual(Object.keys(f).sort(), ["fix", "help", "message", "path", "rule", "severity"]);
  assert.equal(f.rule, "BF001");
});

const require = createRequire(import.meta.url);
const MULTITOOL = join(require.resolve("@microsoft/sarif-multitool-linux/package.json"), "..", "Sarif.Multitool");

/** Microsoft's SARIF validator on `log`: the problems it reports (errors and warnings). */
function validateSarif(log, name) {
  const input = join(dir, `${name}.sarif`);
  const output = join(dir, `${name}.validation.sarif`);
  writeFileSync(input, JSON.stringify(log, null, 2));
  const r = spawnSync(MULTITOOL, ["validate", input, "-o", output], { encoding: "utf8", timeout: 120_000 });
  assert.match(r.stdout, /Analysis completed successfully/, r.stdout + r.stderr);
  const report = JSON.parse(readFileSync(output, "utf8"));
  return report.runs.flatMap((run) => run.results ?? []).filter((x) => x.level === "error" || x.level === "warning" || x.level === undefined);
}

test("lint --format sarif: valid SARIF 2.1.0 with stable rule ids, levels and field locations", () => {
  const r = run("lint", storm, wide, clean, "--format", "sarif");
  assert.equal(r.code, 1);
  const log = JSON.parse(r.out);
  assert.equal(log.version, "2.1.0");
  const [sarifRun] = log.runs;
  const driver = sarifRun.tool.driver;
  assert.equal(driver.name, "ballast-fetch");
  assert.equal(driver.version, JSON.parse(readFileSync(new URL("../../pkg/package.json", import.meta.url), "utf8")).version);
  assert.ok(driver.rules.length >= 12);
  for (const rule of driver.rules) assert.match(rule.helpUri, new RegExp(`#${rule.id.toLowerCase()}$`));
  const bf001 = sarifRun.results.find((x) => x.ruleId === "BF001");
  assert.equal(bf001.level, "error");
  assert.equal(driver.rules[bf001.ruleIndex].id, "BF001");
  assert.deepEqual(bf001.locations[0].physicalLocation, { artifactLocation: { uri: "storm.json" }, region: { startLine: 10 } });
  assert.equal(bf001.locations[0].logicalLocations[0].fullyQualifiedName, "budget.ratio");
  assert.ok(sarifRun.results.some((x) => x.level === "note" && x.ruleId === "BF002"), "info is SARIF's note");
  assert.deepEqual(validateSarif(log, "lint"), [], "the validator finds nothing to report");
  // The validator does check: a property the schema does not define, a required one missing.
  delete sarifRun.tool;
  log.extra = true;
  assert.deepEqual(validateSarif(log, "broken").map((x) => x.ruleId).sort(), ["JSON1002", "JSON1005"]);
});

test("diff: exit 0 for the same behaviour however written, 1 with each differing field and its consequence", () => {
  let r = run("diff", production, productionReordered);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^same behaviour: production\.json and production-b\.json \(fingerprint [0-9a-f]{12}\)$/m);

  r = run("diff", staging, production);
  assert.equal(r.code, 1);
  assert.match(r.out, /^--- staging\.mjs \(fingerprint [0-9a-f]{12}\)$/m);
  assert.match(r.out, /^timeout\.attemptMs: 2000 -> 10000: attempt timeout 2 s vs 10 s: production\.json waits 5x longer/m);
  assert.match(r.out, /^1 field differs$/m);

  r = run("diff", staging, production, "--format", "json");
  assert.equal(r.code, 1);
  const out = JSON.parse(r.out);
  assert.equal(out.a, "staging.mjs");
  assert.equal(out.differences.length, 1);
  assert.deepEqual(Object.keys(out.differences[0]).sort(), ["a", "b", "consequence", "path"]);
  assert.notEqual(out.fingerprints[0], out.fingerprints[1]);
});

test("fingerprint: one per file; exit 1 when they differ", () => {
  let r = run("fingerprint", production, productionReordered);
  assert.equal(r.code, 0);
  const [a, b] = r.out.trim().split("\n").map((l) => l.split(/\s+/));
  assert.match(a[0], /^[0-9a-f]{12}$/);
  assert.equal(a[0], b[0]);
  assert.deepEqual([a[1], b[1]], ["production.json", "production-b.json"]);
  r = run("fingerprint", staging, production, "--format", "json");
  assert.equal(r.code, 1);
  const rows = JSON.parse(r.out);
  assert.deepEqual(rows.map((x) => x.file), ["staging.mjs", "production.json"]);
  assert.notEqual(rows[0].fingerprint, rows[1].fingerprint);
});

test("unreadable input: exit 2 naming the file, the field and the problem", () => {
  const cases = [
    [["lint", file("broken.json", "{ \"retry\": ")], /^ballast-fetch: broken\.json: the config is not valid JSON: /],
    [["lint", file("invalid.json", { retry: { maxAttempts: 0 } })], /^ballast-fetch: invalid\.json: invalid config \(1 problem\):\n  retry\.maxAttempts = 0 \(allowed: an integer in \[1, 10\]\)$/m],
    [["diff", clean, file("typo.json", { retyr: {} })], /^ballast-fetch: typo\.json: invalid config \(1 problem\):\n  retyr = an object \(allowed: no such option; known keys here: retry, /m],
    [
      ["fingerprint", file("several.json", { retyr: 1, retry: { maxAttempts: 0, statuses: [42] }, budget: "lots" })],
      /^ballast-fetch: several\.json: invalid config \(4 problems\):\n  retyr = 1 .*\n  retry\.maxAttempts = 0 .*\n  retry\.statuses\[0\] = 42 .*\n  budget = "lots" \(allowed: an object\)$/m,
    ],
    [["fingerprint", "missing.json"], /^ballast-fetch: missing\.json: cannot read the config: no such file/],
    [["fingerprint", file("nodefault.mjs", "export const other = 1;\n")], /^ballast-fetch: nodefault\.mjs: the module must export the config object/],
    [["fingerprint", file("throws.mjs", "throw new Error('boom');\n")], /^ballast-fetch: throws\.mjs: the config module failed to load: boom/],
    [["lint", clean, "--format", "xml"], /^ballast-fetch: --format "xml": expected text or json or sarif/],
    [["lint", clean, "--failure-threshold", "info"], /^ballast-fetch: --failure-threshold "info": expected error or warning/],
    [["diff", clean], /^ballast-fetch: diff takes two config files \(got 1\)/],
    [["diff", clean, production, "--format", "sarif"], /^ballast-fetch: --format "sarif": expected text or json/],
    [["lint"], /^ballast-fetch: lint takes one or more config files/],
    [["lint", clean, "--colour"], /^ballast-fetch: Unknown option '--colour'/],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.out}${r.err}`);
    assert.match(r.err, message, args.join(" "));
    assert.equal(r.out, "", args.join(" "));
  }
});

test("help names every command", () => {
  const r = run("lint", "--help");
  assert.equal(r.code, 0);
  for (const c of ["rehearse", "presets", "lint", "diff", "fingerprint"]) assert.match(r.out, new RegExp(`^  ballast-fetch ${c} `, "m"));
});

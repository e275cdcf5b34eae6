// Compiled with `tsc --noEmit -p tests/types`: pkg/drift.d.ts must describe real usage of
// ballast-fetch/drift (tests/js/drift.test.mjs runs the same calls).
import {
  fingerprint,
  effectiveConfig,
  diffConfig,
  lintConfig,
  lintRules,
  validateConfig,
  ScenarioError,
  type ConfigDifference,
  type Finding,
  type Severity,
  type ConfigProblem,
} from "../../pkg/drift.js";
import type { BallastConfig } from "../../pkg/index.js";

const staging: BallastConfig = { timeout: { attemptMs: 2000 }, retry: { maxAttempts: 3 } };
const production: BallastConfig = { timeout: { attemptMs: 10_000 } };

const id: string = fingerprint(staging);
const { fingerprint: same, fields } = effectiveConfig(staging);
const firstPath: string | undefined = fields[0]?.[0];
const differences: ConfigDifference[] = diffConfig(staging, production, { names: ["staging", "production"] });
const consequences: string[] = differences.map((d) => `${d.path}: ${d.a} -> ${d.b}: ${d.consequence}`);
const findings: Finding[] = lintConfig(production, { target: "cloudflare" });
const worst: Severity | undefined = findings[0]?.severity;
const docs: string[] = lintRules.map((r) => `${r.id} ${r.title} ${r.help}`);
const problems: ConfigProblem[] = validateConfig(JSON.parse('{"retry":{"maxAttempts":0}}'));
const firstProblem: string | undefined = problems[0] && `${problems[0].path} = ${problems[0].value} (allowed: ${problems[0].allowed})`;

try {
  fingerprint(staging);
} catch (e) {
  if (e instanceof ScenarioError) console.log(e.path, e.problem);
}

// @ts-expect-error: the target is "any" or "cloudflare"
lintConfig(production, { target: "lambda" });
// @ts-expect-error: names are a pair
diffConfig(staging, production, { names: "staging" });

console.log(id, same, firstPath, consequences, worst, docs, firstProblem);

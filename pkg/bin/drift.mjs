// The drift commands: `lint` (findings per file: text, JSON or SARIF; exit 1 at or above the
// failure threshold), `diff` (every differing field with its consequence; exit 1 when the two
// behave differently) and `fingerprint` (one per file; exit 1 when they differ). Exit 2 on input
// that cannot be read, naming the file, the field and the problem. Configs are read exactly as
// createFetch reads them (ballast-fetch/drift).
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { InputError, inFile, oneOf, readConfig } from "./input.mjs";
import { lineOf } from "./locate.mjs";
import { toSarif } from "./sarif.mjs";

const RANK = { info: 0, warning: 1, error: 2 };

/** A file as SARIF and the text output name it: relative to the working directory when inside it. */
function uriOf(file) {
  const rel = path.relative(process.cwd(), path.resolve(file));
  return rel.startsWith("..") || path.isAbsolute(rel) ? pathToFileURL(path.resolve(file)).href : rel.split(path.sep).join("/");
}

/** The configs, each read and validated: an invalid one is an InputError listing every problem. */
async function load(files) {
  const drift = await import("../drift-node.js");
  const configs = [];
  for (const file of files) {
    const c = { file, uri: uriOf(file), ...(await readConfig(file)) };
    const problems = inFile(file, drift.ScenarioError, () => drift.validateConfig(c.value));
    if (problems.length > 0) {
      const lines = problems.map((p) => `  ${p.path} = ${p.value} (allowed: ${p.allowed})`);
      throw new InputError(`${file}: invalid config (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}`);
    }
    configs.push(c);
  }
  return { drift, configs };
}

function parse(args, options, usage) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...options, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    process.stdout.write(usage + "\n");
    return null;
  }
  return { values, positionals };
}

export async function lintCommand(args, usage) {
  const p = parse(args, { format: { type: "string" }, "failure-threshold": { type: "string" }, target: { type: "string" } }, usage);
  if (!p) return 0;
  const format = oneOf("format", p.values.format, ["text", "json", "sarif"], "text");
  const threshold = oneOf("failure-threshold", p.values["failure-threshold"], ["error", "warning"], "error");
  const target = oneOf("target", p.values.target, ["any", "cloudflare"], "any");
  if (p.positionals.length === 0) throw new InputError(`lint takes one or more config files\n${usage}`);
  const { drift, configs } = await load(p.positionals);
  const files = configs.map((c) => ({ ...c, findings: inFile(c.file, drift.ScenarioError, () => drift.lintConfig(c.value, { target })) }));
  const all = files.flatMap((f) => f.findings);
  const failing = all.filter((x) => RANK[x.severity] >= RANK[threshold]).length;
  if (format === "json") {
    process.stdout.write(JSON.stringify({ target, failureThreshold: threshold, files: files.map((f) => ({ file: f.uri, findings: f.findings })) }, null, 2) + "\n");
  } else if (format === "sarif") {
    const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    process.stdout.write(JSON.stringify(toSarif({ version, rules: drift.lintRules, files }), null, 2) + "\n");
  } else {
    const lines = [];
    for (const f of files) {
      for (const x of f.findings) {
        lines.push(`${x.severity.padEnd(7)} ${x.rule} ${f.uri}:${lineOf(f.text, x.path)} ${x.path}: ${x.message}`);
        lines.push(`        fix: ${x.fix} (${x.help})`);
      }
    }
    const count = (s) => all.filter((x) => x.severity === s).length;
    const plural = (n, w) => `${n} ${w}${n === 1 ? "" : "s"}`;
    lines.push(
      `${all.length === 0 ? "ok: no findings" : `${plural(count("error"), "error")}, ${plural(count("warning"), "warning")}, ${count("info")} info`} in ${plural(files.length, "file")} (target ${target}; fails at ${threshold})`,
    );
    process.stdout.write(lines.join("\n") + "\n");
  }
  return failing > 0 ? 1 : 0;
}

export async function diffCommand(args, usage) {
  const p = parse(args, { format: { type: "string" } }, usage);
  if (!p) return 0;
  const format = oneOf("format", p.values.format, ["text", "json"], "text");
  if (p.positionals.length !== 2) throw new InputError(`diff takes two config files (got ${p.positionals.length})\n${usage}`);
  const { drift, configs } = await load(p.positionals);
  const [a, b] = configs;
  for (const c of configs) inFile(c.file, drift.ScenarioError, () => drift.fingerprint(c.value));
  const differences = drift.diffConfig(a.value, b.value, { names: [a.uri, b.uri] });
  if (format === "json") {
    process.stdout.write(JSON.stringify({ a: a.uri, b: b.uri, fingerprints: [drift.fingerprint(a.value), drift.fingerprint(b.value)], differences }, null, 2) + "\n");
  } else if (differences.length === 0) {
    process.stdout.write(`same behaviour: ${a.uri} and ${b.uri} (fingerprint ${drift.fingerprint(a.value)})\n`);
  } else {
    const lines = [`--- ${a.uri} (fingerprint ${drift.fingerprint(a.value)})`, `+++ ${b.uri} (fingerprint ${drift.fingerprint(b.value)})`];
    for (const d of differences) lines.push(`${d.path}: ${d.a} -> ${d.b}: ${d.consequence}`);
    lines.push(`${differences.length} ${differences.length === 1 ? "field differs" : "fields differ"}`);
    process.stdout.write(lines.join("\n") + "\n");
  }
  return differences.length > 0 ? 1 : 0;
}

export async function fingerprintCommand(args, usage) {
  const p = parse(args, { format: { type: "string" } }, usage);
  if (!p) return 0;
  const format = oneOf("format", p.values.format, ["text", "json"], "text");
  if (p.positionals.length === 0) throw new InputError(`fingerprint takes one or more config files\n${usage}`);
  const { drift, configs } = await load(p.positionals);
  const rows = configs.map((c) => ({ file: c.uri, fingerprint: inFile(c.file, drift.ScenarioError, () => drift.fingerprint(c.value)) }));
  if (format === "json") process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
  else process.stdout.write(rows.map((r) => `${r.fingerprint}  ${r.file}`).join("\n") + "\n");
  return new Set(rows.map((r) => r.fingerprint)).size > 1 ? 1 : 0;
}

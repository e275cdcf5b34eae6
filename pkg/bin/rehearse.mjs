// `ballast-fetch rehearse`: plays a config against scenarios (the presets, or the user's) next to
// naive retries, prints a table (or --json) and exits 1 when a threshold is broken, 2 on input it
// cannot read (naming the file and the field), 0 otherwise; `presets` lists the named scenarios.
import { parseArgs } from "node:util";
import { InputError, number, readConfig, readJson } from "./input.mjs";

const pct = (x) => `${(x * 100).toFixed(2)}%`;
const ms = (x) => (x == null ? "-" : `${(x / 1000).toFixed(1)} s`);

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i < 2 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ").trimEnd()).join("\n");
}

function printReport(report, configFile) {
  const t = report.thresholds;
  const lines = [
    `rehearse ${configFile}: ${report.rows.length} scenario${report.rows.length === 1 ? "" : "s"}, seed ${report.seed}; limits: amplification <= ${t.maxAmplification}x${t.minSuccess > 0 ? `, success >= ${pct(t.minSuccess)}` : ""}`,
    "",
  ];
  const rows = [["scenario", "policy", "calls", "attempts", "amplification", "success", "p99", "below 50% after trigger", "shed"]];
  for (const r of report.rows) {
    for (const [name, s] of [["config", r.config], ["naive", r.naive]]) {
      rows.push([
        name === "config" ? r.scenario : "",
        name,
        s.offered,
        s.attempts,
        `${s.amplification.toFixed(2)}x`,
        pct(s.successRate),
        `${Math.round(s.latencyP99)} ms`,
        s.triggerEndMs == null ? "-" : s.recovered ? ms(s.belowHalfAfterTriggerMs) : `${ms(s.belowHalfAfterTriggerMs)} (never recovered)`,
        s.shed,
      ]);
    }
  }
  lines.push(table(rows), "");
  if (report.breaches.length === 0) {
    lines.push("ok: every scenario stayed within the limits");
  } else {
    for (const b of report.breaches) {
      const v = b.metric === "amplification" ? `${b.value.toFixed(2)}x > ${b.limit}x` : `${pct(b.value)} < ${pct(b.limit)}`;
      lines.push(`FAIL ${b.scenario}: ${b.metric === "amplification" ? "amplification" : "success"} ${v}`);
    }
  }
  process.stdout.write(lines.join("\n") + "\n");
}

export async function rehearseCommand(args, USAGE) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      scenario: { type: "string", multiple: true },
      seed: { type: "string" },
      json: { type: "boolean" },
      "max-amplification": { type: "string" },
      "min-success": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (positionals.length !== 1) throw new InputError(`rehearse takes one config file (got ${positionals.length})\n${USAGE}`);
  const [configFile] = positionals;
  const options = {
    seed: number("seed", values.seed, { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true }),
    maxAmplification: number("max-amplification", values["max-amplification"], { min: 0 }),
    minSuccess: number("min-success", values["min-success"], { min: 0, max: 1 }),
  };
  const { value: config } = await readConfig(configFile);
  const sim = await import("../sim-node.js");
  const sources = values.scenario ?? [];
  const scenarios = sources.map((s) => {
    if (Object.hasOwn(sim.presets, s)) return s;
    if (!s.endsWith(".json")) {
      throw new InputError(`--scenario ${s}: no preset of that name (presets: ${Object.keys(sim.presets).join(", ")}) and not a .json file`);
    }
    return readJson(s, "scenario").value;
  });
  let report;
  try {
    report = sim.rehearse(config, scenarios, options);
  } catch (e) {
    if (!(e instanceof sim.ScenarioError)) throw e;
    // Name the file the bad field is in.
    const file = e.input === "config" ? configFile : e.input === "scenario" ? (sources[e.index] ?? "scenario") : "options";
    throw new InputError(`${file}: ${e.message}`);
  }
  if (values.json) process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  else printReport(report, configFile);
  return report.breaches.length === 0 ? 0 : 1;
}

export async function presetsCommand(args, USAGE) {
  const { values } = parseArgs({ args, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  if (values.help) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const { presets } = await import("../sim-node.js");
  if (values.json) process.stdout.write(JSON.stringify(presets, null, 2) + "\n");
  else for (const [name, s] of Object.entries(presets)) process.stdout.write(`${name.padEnd(16)} ${s.description}\n`);
  return 0;
}


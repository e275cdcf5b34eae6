// 6. The simulator's speed: simulated calls ("tasks") per second of wall time, in the tools wasm
// (tools/: what `ballast-fetch/sim` runs), for every preset x policy (naive, ballast), in Node and
// in Chromium. Each figure is one whole `simulate(preset, { policy, seed: 1 })` call as a page
// makes it: reading the options, the run, and converting its output (series, events, summary)
// to JS objects; best of the runs after a warm-up, so the machine's other load shows as little
// as it can.
//
// The split between the run and the conversion comes from a second instance whose imports
// count their calls: the run itself calls none, so the longest pause between two calls is the
// run, and what follows it the conversion. One `performance.now()` is read on each side of it
// (the call numbers are found once per case, they do not change from run to run), so the
// counting is all it adds. The split's figures are that instance's best run (`split.totalMs`).
//
// Uses pkg/gen/tools (scripts/build.sh) when it is there, else builds the working tree's tools
// wasm into a temp dir as build.sh does (wasm-pack --profile tools with scripts/tools.rustflags,
// wasm-opt -O3, the glue as a factory). Chromium is Debian's (/usr/bin/chromium or
// $CHROMIUM_PATH) through playwright-core, never a downloaded one; the page and the wasm are
// served from 127.0.0.1.
//
//   node bench/sim.mjs [--smoke] [--runs=N] [--presets=a,b] [--dir=DIR] [--build] [--no-chromium]
//     --dir=DIR     a tools build to measure (ballast_tools.js as a factory, ballast_tools_bg.wasm)
//     --build       build the working tree even if pkg/gen/tools exists

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { REPO, SMOKE, args, argValue, emit } from "./lib/common.mjs";
import { SIM_GOAL } from "./lib/report.mjs";

const RUNS = Number(argValue("runs", SMOKE ? 1 : 7));
const WARMUP = SMOKE ? 1 : 3;
const SPLIT_RUNS = SMOKE ? 1 : 5;
const POLICIES = ["naive", "ballast"];
const GOAL = SIM_GOAL; // tasks per second in Chromium (the report judges it; nothing here fails on it)
const log = (msg) => process.stderr.write(`sim: ${msg}\n`);

// ------------------------------------------------------------------------------------ the build
function toolsDir() {
  const given = argValue("dir", null);
  if (given) return path.resolve(given);
  const shipped = path.join(REPO, "pkg/gen/tools");
  if (!args.includes("--build") && existsSync(path.join(shipped, "ballast_tools.js")) && existsSync(path.join(shipped, "ballast_tools_bg.wasm"))) {
    return shipped;
  }
  const out = path.join(os.tmpdir(), "ballast-bench-sim", "tools");
  log(`building the tools wasm into ${out} (wasm-pack --profile tools, wasm-opt -O3)`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(path.dirname(out), { recursive: true });
  const lines = (f) => readFileSync(path.join(REPO, f), "utf8").split("\n").filter(Boolean);
  // build.sh's extra rustflags for the tools build (scripts/tools.rustflags says why).
  const env = { ...process.env, CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS: lines("scripts/tools.rustflags").join(" ") };
  const run = (cmd, argv) => execFileSync(cmd, argv, { cwd: REPO, env, stdio: ["ignore", "ignore", "inherit"] });
  run("wasm-pack", [
    "--log-level", "warn", "build", "tools", "--mode", "no-install", "--target", "web", "--profile", "tools",
    "--out-dir", out, "--out-name", "ballast_tools", "--no-typescript", "--no-pack", "--no-gitignore",
  ]);
  const flags = lines("scripts/wasm-opt.flags");
  const wasm = path.join(out, "ballast_tools_bg.wasm");
  run(path.join(REPO, "node_modules/.bin/wasm-opt"), ["-O3", ...flags, wasm, "-o", wasm]);
  run(process.execPath, [path.join(REPO, "scripts/glue-factory.mjs"), path.join(out, "ballast_tools.js")]);
  return out;
}

// ------------------------------------------------------------------------- the measurement
// Runs where it is passed (Node, or a page by playwright's `evaluate`): self-contained.
async function measure({ glueUrl, wasmUrl, presets, policies, runs, warmup, splitRuns }) {
  const { instantiate } = await import(glueUrl);
  const bytes =
    typeof process === "object" && process.versions?.node
      ? (await import("node:fs")).readFileSync(new URL(wasmUrl))
      : new Uint8Array(await (await fetch(wasmUrl)).arrayBuffer());
  const module = await WebAssembly.compile(bytes);
  const plain = instantiate(module);

  // The counting instance: every import counts its call; `stamps` (when set) times them all,
  // else only calls number `mark` and `mark + 1` are timed.
  const c = { calls: 0, mark: -1, before: 0, after: 0, stamps: null };
  const wrap = (f) =>
    function (a0, a1, a2, a3, a4, a5, a6, a7) {
      const n = ++c.calls;
      if (c.stamps) c.stamps.push(performance.now());
      else if (n === c.mark) c.before = performance.now();
      else if (n === c.mark + 1) c.after = performance.now();
      return f.call(this, a0, a1, a2, a3, a4, a5, a6, a7);
    };
  const Instance = WebAssembly.Instance;
  let counting;
  WebAssembly.Instance = function (m, imports) {
    const wrapped = {};
    for (const [ns, fns] of Object.entries(imports)) {
      wrapped[ns] = {};
      for (const [k, v] of Object.entries(fns)) wrapped[ns][k] = typeof v === "function" ? wrap(v) : v;
    }
    return new Instance(m, wrapped);
  };
  try {
    counting = instantiate(module);
  } finally {
    WebAssembly.Instance = Instance;
  }

  // Every case, over and over for half a second first, so the whole module is compiled by the
  // optimizing tier before anything is timed: V8 starts wasm functions on its baseline compiler
  // and optimizes them in the background, which takes longer for the tools build's large,
  // inlined functions than one pass over the cases does. (A page reruns while a slider moves,
  // so it is the steady state that matters.)
  const warm = performance.now();
  do {
    for (const preset of presets) for (const policy of policies) plain.simulate(preset, { policy, seed: 1 });
  } while (performance.now() - warm < 500);
  const rows = [];
  for (const preset of presets) {
    for (const policy of policies) {
      const opts = { policy, seed: 1 };
      let out;
      for (let i = 0; i < warmup; i++) plain.simulate(preset, opts);
      const times = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        out = plain.simulate(preset, opts);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      // The split: find the run's pause once (every call timed), then time only its two sides.
      c.stamps = [];
      c.calls = 0;
      counting.simulate(preset, opts);
      const st = c.stamps;
      c.stamps = null;
      // Stamp i is call number i + 1: the pause is between calls `gap` and `gap + 1`.
      let gap = 1;
      for (let i = 2; i < st.length; i++) if (st[i] - st[i - 1] > st[gap] - st[gap - 1]) gap = i;
      c.mark = gap;
      const callsPerRun = st.length;
      let split = null;
      for (let i = 0; st.length > 1 && i < splitRuns + 1; i++) {
        c.calls = 0;
        const t0 = performance.now();
        counting.simulate(preset, opts);
        const t1 = performance.now();
        if (i === 0 || c.calls <= c.mark) continue; // a warm-up, or the pause was not reached
        const s = { totalMs: t1 - t0, inputMs: c.before - t0, runMs: c.after - c.before, convertMs: t1 - c.after };
        // A pause that is not most of the call was not the run (something else called out meanwhile).
        if (s.runMs < s.totalMs / 2) continue;
        if (!split || s.totalMs < split.totalMs) split = s;
      }
      const best = times[0];
      const s = out.summary;
      rows.push({
        preset,
        policy,
        tasks: s.offered,
        attempts: s.attempts,
        bestMs: best,
        medianMs: times[Math.floor(times.length / 2)],
        tasksPerSec: s.offered / (best / 1000),
        attemptsPerSec: s.attempts / (best / 1000),
        split: split && { ...split, importCalls: callsPerRun, runTasksPerSec: s.offered / (split.runMs / 1000) },
        digest: out.digest ?? null,
        points: out.series.length,
      });
    }
  }
  return rows;
}

// --------------------------------------------------------------------------------- Chromium
async function inChromium(dir, params) {
  const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH)`);
  const files = {
    "/": ["text/html", "<!doctype html><meta charset=utf-8><title>sim bench</title>"],
    "/ballast_tools.js": ["text/javascript", readFileSync(path.join(dir, "ballast_tools.js"))],
    "/ballast_tools_bg.wasm": ["application/wasm", readFileSync(path.join(dir, "ballast_tools_bg.wasm"))],
  };
  const server = http.createServer((req, res) => {
    const f = files[new URL(req.url, "http://x").pathname];
    if (!f) {
      res.writeHead(404).end();
      return;
    }
    // Cross-origin isolated: performance.now() then has microseconds, not a tenth of a ms.
    res
      .writeHead(200, {
        "content-type": f[0],
        "cache-control": "no-store",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-embedder-policy": "require-corp",
      })
      .end(f[1]);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    timeout: 60_000,
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/`);
    const version = browser.version();
    const rows = await page.evaluate(measure, { ...params, glueUrl: `${base}/ballast_tools.js`, wasmUrl: `${base}/ballast_tools_bg.wasm` });
    return { version, rows };
  } finally {
    await browser.close();
    server.close();
  }
}

// ------------------------------------------------------------------------------------- main
const dir = toolsDir();
const glue = pathToFileURL(path.join(dir, "ballast_tools.js")).href;
const wasmFile = path.join(dir, "ballast_tools_bg.wasm");
const { instantiate } = await import(glue);
const allPresets = Object.keys(instantiate(new WebAssembly.Module(readFileSync(wasmFile))).presets());
const wanted = argValue("presets", null)?.split(",") ?? allPresets;
const params = { presets: wanted.filter((p) => allPresets.includes(p)), policies: POLICIES, runs: RUNS, warmup: WARMUP, splitRuns: SPLIT_RUNS };
if (params.presets.length === 0) throw new Error(`no such preset (known: ${allPresets.join(", ")})`);

log(`tools build: ${path.relative(REPO, dir) || dir}; ${params.presets.length} presets x ${POLICIES.length} policies, best of ${RUNS}`);
const result = { build: dir.startsWith(REPO) ? path.relative(REPO, dir) : "temp (built from the working tree)", runs: RUNS, goalTasksPerSec: GOAL, wasmBytes: readFileSync(wasmFile).length };
result.node = { version: process.version, rows: await measure({ ...params, glueUrl: glue, wasmUrl: pathToFileURL(wasmFile).href }) };
log("node done");
if (!args.includes("--no-chromium")) {
  try {
    result.chromium = await inChromium(dir, params);
    log("chromium done");
  } catch (e) {
    result.chromiumError = String(e?.message || e).split("\n")[0];
    log(`chromium: ${result.chromiumError}`);
  }
}

// Digests must agree across hosts (the simulator is bit for bit the same everywhere).
const digests = new Map();
for (const env of [result.node, result.chromium].filter(Boolean)) {
  for (const r of env.rows) {
    const k = `${r.preset}/${r.policy}`;
    if (r.digest && digests.has(k) && digests.get(k) !== r.digest) result.digestMismatch = [...(result.digestMismatch ?? []), k];
    digests.set(k, r.digest);
  }
}
const min = (rows) => Math.min(...rows.map((r) => r.tasksPerSec));
result.summary = {
  nodeMinTasksPerSec: min(result.node.rows),
  chromiumMinTasksPerSec: result.chromium ? min(result.chromium.rows) : null,
  chromiumBelowGoal: result.chromium ? result.chromium.rows.filter((r) => r.tasksPerSec < GOAL).map((r) => `${r.preset}/${r.policy}`) : null,
};

// The table (stderr: stdout carries the result line).
const k = (x) => `${(x / 1000).toFixed(0)}k`;
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const lines = [];
const head = ["preset", "policy", "tasks", "attempts"];
const envs = [["node", result.node], ["chromium", result.chromium]].filter(([, e]) => e);
for (const [name] of envs) head.push(`${name} tasks/s`, "attempts/s", "ms", "run ms", "convert ms");
lines.push(head.join("\t"));
for (const r of result.node.rows) {
  const cells = [r.preset, r.policy, r.tasks, r.attempts];
  for (const [, e] of envs) {
    const x = e.rows.find((y) => y.preset === r.preset && y.policy === r.policy);
    cells.push(k(x.tasksPerSec), k(x.attemptsPerSec), f2(x.bestMs), f2(x.split?.runMs), f2(x.split?.convertMs));
  }
  lines.push(cells.join("\t"));
}
process.stderr.write(`\n${lines.join("\n")}\n`);
if (result.chromium) process.stderr.write(`chromium ${result.chromium.version}: lowest ${k(result.summary.chromiumMinTasksPerSec)} tasks/s (goal ${k(GOAL)})\n`);
if (result.digestMismatch) process.stderr.write(`digests differ between Node and Chromium: ${result.digestMismatch.join(", ")}\n`);
emit(result);

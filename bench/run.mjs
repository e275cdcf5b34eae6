#!/usr/bin/env node
// The benchmark suite: ballast beside raw fetch, ky, ofetch, p-retry and cockatiel, same run.
//
//   node bench/run.mjs            full run (about 16 minutes on 2 cores); writes bench/RESULTS.md,
//                                 bench/chart.svg and bench/results.json
//   node bench/run.mjs --smoke    every benchmark briefly (CI: so it cannot rot). Asserts nothing
//                                 about timings; exits non-zero only if a benchmark crashes.
//                                 Writes its report to a temp dir, never over the committed one.
//   --only=overhead,faults,size,coldstart,engine,sim run some sections (the report shows those)
//   --out=DIR                                          where to write the report
//
// Set-up it does by itself: builds pkg/gen (scripts/build.sh) if missing, installs the pinned
// peers (`npm ci` in bench/) if missing. Sections run one after the other, each in its own
// process; the loopback origins are child processes of those.

import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BENCH, REPO, SMOKE, argValue } from "./lib/common.mjs";
import { renderChart, renderResults } from "./lib/report.mjs";

const SECTIONS = ["overhead", "faults", "size", "coldstart", "engine", "sim"];
const only = argValue("only", SECTIONS.join(",")).split(",").filter(Boolean);
for (const s of only) {
  if (!SECTIONS.includes(s)) {
    console.error(`unknown section "${s}" (known: ${SECTIONS.join(", ")})`);
    process.exit(2);
  }
}
const OUT = path.resolve(argValue("out", SMOKE ? mkdtempSync(path.join(os.tmpdir(), "ballast-bench-smoke-")) : BENCH));
mkdirSync(OUT, { recursive: true });
const smokeFlag = SMOKE ? ["--smoke"] : [];
const t0 = Date.now();
const log = (msg) => console.error(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${msg}`);

// ---------------------------------------------------------------------------------------- set-up
if (!existsSync(path.join(REPO, "pkg/gen/ballast_bg.wasm"))) {
  log("pkg/gen missing: bash scripts/build.sh");
  execFileSync("bash", ["scripts/build.sh"], { cwd: REPO, stdio: "inherit" });
}
const peersInstalled = ["ky", "ofetch", "p-retry", "cockatiel"].every((p) =>
  existsSync(path.join(BENCH, "node_modules", p, "package.json")),
);
if (!peersInstalled) {
  log("installing the pinned peers: npm ci (bench/)");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: BENCH, stdio: "inherit" });
}
if ((only.includes("coldstart") || only.includes("size")) && !existsSync(path.join(REPO, "node_modules/esbuild"))) {
  log("root dev tools missing (esbuild, wrangler, miniflare): npm ci");
  execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: REPO, stdio: "inherit" });
}

// ---------------------------------------------------------------------------------------- sections
/** Runs a child process, streams its stderr, returns the JSON after the @@RESULT marker. */
function runChild(cmd, argv, { timeoutMs, env, cwd = REPO, parse = parseResult } = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, argv, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => {
      err += d;
      for (const line of String(d).split("\n")) if (line.trim()) log(`  ${line.trim()}`);
    });
    const timer = setTimeout(() => {
      p.kill("SIGTERM");
      setTimeout(() => p.kill("SIGKILL"), 3000).unref();
    }, timeoutMs);
    p.on("error", reject);
    p.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(new Error(`${path.basename(argv.find((a) => !a.startsWith("-")) || cmd)} exited ${code ?? signal}\n${err.slice(-3000)}`));
        return;
      }
      try {
        resolve(parse(out));
      } catch (e) {
        reject(new Error(`${cmd} ${argv.join(" ")}: unreadable output (${e.message})\n${out.slice(-2000)}`));
      }
    });
  });
}

function parseResult(out) {
  const line = out.split("\n").find((l) => l.startsWith("@@RESULT "));
  if (!line) throw new Error("no @@RESULT line");
  return JSON.parse(line.slice("@@RESULT ".length));
}

const node = (script, extra = [], opts = {}) =>
  runChild(process.execPath, [...(opts.nodeFlags ?? []), path.join(BENCH, script), ...smokeFlag, ...extra], opts);

function hasTwiggy() {
  try {
    execFileSync("twiggy", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Parses divan's table: `├─ task_ok   194.2 ns │ 231.8 ns │ 210.5 ns │ 211.1 ns │ 100 │ 1600`. */
function parseDivan(out) {
  const unit = { ps: 1e-3, ns: 1, "µs": 1e3, us: 1e3, ms: 1e6, s: 1e9 };
  const rows = {};
  for (const line of out.split("\n")) {
    const m = /^[├╰]─\s+(\S+)\s+(.+)$/.exec(line);
    if (!m) continue;
    const cols = m[2].split("│").map((c) => c.trim());
    const t = (c) => {
      const mm = /^([\d.]+)\s*(ps|ns|µs|us|ms|s)$/.exec(c);
      return mm ? Number(mm[1]) * unit[mm[2]] : NaN;
    };
    rows[m[1]] = { fastestNs: t(cols[0]), slowestNs: t(cols[1]), medianNs: t(cols[2]), meanNs: t(cols[3]), samples: Number(cols[4]), iters: Number(cols[5]) };
  }
  if (!Object.keys(rows).length) throw new Error("no divan rows");
  return rows;
}

const results = { smoke: SMOKE, sections: {} };
const failures = [];
async function section(name, fn) {
  if (!only.includes(name)) return;
  const s = Date.now();
  log(`${name}: start`);
  try {
    try {
      results.sections[name] = await fn();
    } catch (e) {
      // Once more, after a pause: pkg/gen may have been mid-rebuild (an empty .wasm for a moment).
      log(`${name}: failed (${String(e?.message || e).split("\n")[0]}); retrying once in 20 s`);
      await new Promise((r) => setTimeout(r, 20_000));
      results.sections[name] = await fn();
    }
    log(`${name}: done in ${((Date.now() - s) / 1000).toFixed(1)}s`);
  } catch (e) {
    failures.push(name);
    results.sections[name] = { error: String(e?.message || e).slice(0, 4000) };
    log(`${name}: FAILED: ${String(e?.message || e).split("\n")[0]}`);
  }
}

results.machine = machine();
results.machine.loadAvgStart = os.loadavg();
await section("overhead", () => node("overhead.mjs", [], { timeoutMs: 900_000 }));
await section("faults", () => node("faults.mjs", [], { timeoutMs: 900_000 }));
await section("size", () =>
  node("size.mjs", !SMOKE && hasTwiggy() ? ["--twiggy"] : [], { timeoutMs: 900_000 }),
);
await section("coldstart", () => node("coldstart.mjs", [], { timeoutMs: 600_000 }));
await section("engine", async () => {
  const wasm = await node("engine-wasm.mjs", [], { timeoutMs: 600_000 });
  // Native: divan. Its own target dir (target/ is left alone, and the lead's builds are not
  // blocked on cargo's lock). Smoke mode: few samples, and a faster-to-build profile.
  const env = { CARGO_TARGET_DIR: path.join(os.tmpdir(), "ballast-bench-target") };
  const divanArgs = SMOKE ? ["--sample-count", "5", "--sample-size", "10"] : ["--sample-count", "300", "--min-time", "0.5"];
  if (SMOKE) Object.assign(env, { CARGO_PROFILE_BENCH_LTO: "false", CARGO_PROFILE_BENCH_CODEGEN_UNITS: "16" });
  const native = await runChild("cargo", ["bench", "--quiet", "--bench", "engine", "--", ...divanArgs], {
    timeoutMs: 900_000,
    env,
    parse: parseDivan,
  });
  return { wasm, native, divanArgs, profile: SMOKE ? "bench, lto off (smoke)" : "bench (= release: opt-level s, lto, 1 codegen unit)" };
});
await section("sim", () => node("sim.mjs", [], { timeoutMs: 600_000 }));
results.elapsedS = (Date.now() - t0) / 1000;
results.machine.loadAvgEnd = os.loadavg();

// ---------------------------------------------------------------------------------------- report
writeFileSync(path.join(OUT, "results.json"), JSON.stringify(results, null, 2) + "\n");
writeFileSync(path.join(OUT, "chart.svg"), renderChart(results));
writeFileSync(path.join(OUT, "RESULTS.md"), renderResults(results));
log(`wrote ${path.join(OUT, "RESULTS.md")}, chart.svg, results.json (${results.elapsedS.toFixed(0)}s)`);
if (failures.length) {
  console.error(`benchmark sections that crashed: ${failures.join(", ")}`);
  process.exit(1);
}

function machine() {
  const sh = (cmd, a) => {
    try {
      return execFileSync(cmd, a, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return undefined;
    }
  };
  const cpus = os.cpus();
  let distro;
  try {
    distro = /PRETTY_NAME="([^"]+)"/.exec(readFileSync("/etc/os-release", "utf8"))?.[1];
  } catch {
    distro = undefined;
  }
  const lscpu = sh("lscpu", []) || "";
  const peers = {};
  for (const p of ["ky", "ofetch", "p-retry", "cockatiel"]) {
    try {
      peers[p] = JSON.parse(readFileSync(path.join(BENCH, "node_modules", p, "package.json"), "utf8")).version;
    } catch {
      peers[p] = "?";
    }
  }
  return {
    date: new Date().toISOString(),
    cpu: cpus[0]?.model?.trim(),
    cores: cpus.length,
    hypervisor: /Hypervisor vendor:\s*(\S+)/.exec(lscpu)?.[1],
    memGiB: os.totalmem() / 2 ** 30,
    os: `${distro ?? os.type()} (kernel ${os.release()}, ${os.arch()})`,
    node: process.version,
    rustc: sh("rustc", ["--version"]),
    commit: sh("git", ["rev-parse", "--short", "HEAD"]),
    dirty: Boolean(sh("git", ["status", "--porcelain", "--", "src", "pkg", "Cargo.toml"])),
    peers,
  };
}

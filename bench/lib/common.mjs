// Shared helpers: the origin process, bounded load loops, statistics, argument parsing.

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { quantile } from "./pairs.mjs";

export const BENCH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const REPO = path.resolve(BENCH, "..");

export const args = process.argv.slice(2);
export const SMOKE = args.includes("--smoke");
export function argValue(name, dflt) {
  const hit = args.find((a) => a.startsWith(`--${name}=`));
  return hit === undefined ? dflt : hit.slice(name.length + 3);
}

/** Starts bench/origin.mjs in its own process; resolves { url, stats(key), reset(), close() }. */
export function startOrigin() {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [path.join(BENCH, "origin.mjs")], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let buf = "";
    const fail = (e) => reject(e instanceof Error ? e : new Error(String(e)));
    proc.on("error", fail);
    proc.on("exit", (code) => fail(new Error(`origin exited early (${code})`)));
    proc.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      const { url } = JSON.parse(buf.slice(0, nl));
      proc.removeAllListeners("exit");
      const close = () =>
        new Promise((r) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return r();
          proc.once("exit", r);
          proc.kill("SIGTERM");
          setTimeout(() => proc.kill("SIGKILL"), 2000).unref();
        });
      process.once("exit", () => proc.kill("SIGKILL"));
      resolve({
        url,
        pid: proc.pid,
        async stats(key) {
          const r = await fetch(`${url}/stats?key=${encodeURIComponent(key)}`);
          return r.json();
        },
        async reset() {
          await (await fetch(`${url}/reset`)).arrayBuffer();
        },
        close,
      });
    });
  });
}

/** A port on 127.0.0.1 with nothing listening (connection refused). */
export async function closedPort() {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU time of the whole process so far, every thread (the collector's helpers too), in µs. */
export function cpuNow() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

// The overhead method's helpers live in pairs.mjs (runtime-neutral: Deno runs it too).
export { quantile, mean, meanSe, median, loadLoop } from "./pairs.mjs";

/**
 * Runs `tasks` tasks with at most `concurrency` at once; each task is `call()` resolving
 * `{ ok }`. Stops launching after `maxMs`; a task still pending `hardMs` after the start is counted
 * as failed (never awaited forever). Returns per-task results.
 */
export async function runTasks(call, { tasks, concurrency, maxMs, hardMs = maxMs + 35_000 }) {
  const results = [];
  let next = 0;
  const t0 = performance.now();
  let hardTimer;
  const hard = new Promise((r) => {
    hardTimer = setTimeout(() => r("hard-timeout"), hardMs);
  });
  async function worker() {
    while (next < tasks && performance.now() - t0 < maxMs) {
      next++;
      const s = performance.now();
      let ok = false;
      try {
        const r = await Promise.race([call(), hard]);
        ok = r !== "hard-timeout" && r?.ok === true;
      } catch {
        ok = false;
      }
      results.push({ ok, ms: performance.now() - s });
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  clearTimeout(hardTimer);
  return { results, elapsedMs: performance.now() - t0 };
}

/**
 * Open loop: task i starts at i / rate seconds whatever happened to the others (as arriving users
 * do), until `tasks` started or `maxMs` passed; then waits for all (a task still pending `hardMs`
 * after the start counts as failed). Returns per-task results.
 */
export async function runOpenLoop(call, { tasks, rate, maxMs, hardMs = maxMs + 35_000 }) {
  const pending = [];
  const t0 = performance.now();
  let hardTimer;
  const hard = new Promise((r) => {
    hardTimer = setTimeout(() => r("hard-timeout"), hardMs);
  });
  for (let i = 0; i < tasks; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait >= 1) await sleep(wait);
    if (performance.now() - t0 > maxMs) break;
    const s = performance.now();
    pending.push(
      Promise.race([Promise.resolve().then(call), hard]).then(
        (r) => ({ ok: r !== "hard-timeout" && r?.ok === true, ms: performance.now() - s }),
        () => ({ ok: false, ms: performance.now() - s }),
      ),
    );
  }
  const results = await Promise.all(pending);
  clearTimeout(hardTimer);
  return { results, elapsedMs: performance.now() - t0 };
}

export function summarize({ results, elapsedMs }, hits) {
  const okMs = results.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
  const all = results.map((r) => r.ms).sort((a, b) => a - b);
  return {
    tasks: results.length,
    ok: okMs.length,
    success: results.length ? okMs.length / results.length : NaN,
    hits,
    amplification: results.length ? hits / results.length : NaN,
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    p99ok: quantile(okMs, 0.99),
    goodput: (okMs.length / elapsedMs) * 1000,
    elapsedMs,
  };
}

/** Prints the result object as the last stdout line (the orchestrator reads it). */
export function emit(obj) {
  process.stdout.write(`\n@@RESULT ${JSON.stringify(obj)}\n`);
}

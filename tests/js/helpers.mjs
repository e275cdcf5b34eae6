// Shared helpers for the Node test-runner suites (not a test file itself).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The deno binary the tests run (npm's, or $DENO_BIN), if there is one. */
export const DENO = [process.env.DENO_BIN, path.join(ROOT, "node_modules/.bin/deno")].find((p) => p && existsSync(p));

/**
 * A Worker for Miniflare's `workers` list: `tests/shared/<file>` as ES modules, with the package's
 * wasm as a compiled module (paths from the repo root), plus `extra` options.
 */
export function workerScript(name, file, extra = {}) {
  return {
    name,
    modules: true,
    scriptPath: path.join(ROOT, "tests/shared", file),
    modulesRoot: ROOT,
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-01-01",
    ...extra,
  };
}

/** One deno process of `tests/shared/<file>` with `args` (KV and loopback allowed): its last line of output, parsed. */
export function denoJson(file, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(
      DENO,
      ["run", "--no-prompt", "--unstable-kv", "--allow-net", "--allow-read", "--allow-write", path.join(ROOT, "tests/shared", file), ...args],
      { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" } },
    );
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1))) : reject(new Error(`deno exited ${code}: ${err}`))));
  });
}

let counter = 0;

/** A key unique within this process, for per-key hit counters on the origin. */
export function uniqueKey(prefix = "k") {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `pred` until it returns truthy or `timeoutMs` elapses; returns the last value. */
export async function waitFor(pred, { timeoutMs = 2000, intervalMs = 5 } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v || Date.now() >= end) return v;
    await sleep(intervalMs);
  }
}

/** Subscribe to `type` on a ballast fetch and collect the events in an array. */
export function collect(f, type) {
  const events = [];
  const unsubscribe = f.on(type, (e) => events.push(e));
  events.unsubscribe = unsubscribe;
  return events;
}

/** Number of ref'ed "Timeout" entries among the process's active resources. */
export function activeTimeouts() {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

/** Await a promise that must reject; returns the rejection reason (fails if it resolves). */
export async function rejection(promise) {
  let v;
  try {
    v = await promise;
  } catch (err) {
    return err;
  }
  throw new Error(`expected a rejection, got a resolution: ${describe(v)}`);
}

function describe(v) {
  if (v instanceof Response) return `Response ${v.status}`;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** Small fast backoff for tests. */
export const FAST = Object.freeze({ kind: "full", baseMs: 1, capMs: 10 });

/** Read a response body fully (so sockets are released) and return the text. */
export async function drain(res) {
  return res.text();
}

/**
 * `createFetch` on the Node build, with every wasm instance it makes recorded in `instances`
 * (the generated glue's bindings: `{ Client, exports, ... }`). `patch(bindings, n)` may change an
 * instance's bindings before use (the n-th instance, from 0): tests make the engine fault with it.
 */
export async function instrumented(patch = () => {}) {
  const { readFileSync } = await import("node:fs");
  const { bind } = await import("../../pkg/api.js");
  const { instantiate } = await import("../../pkg/gen/ballast.js");
  const server = await import("../../pkg/server.js");
  const instances = [];
  const createFetch = bind(() => readFileSync(new URL("../../pkg/gen/ballast_fast_bg.wasm", import.meta.url)), {
    server,
    instantiate: (module) => {
      const b = instantiate(module);
      patch(b, instances.length);
      instances.push(b);
      return b;
    },
  });
  return { createFetch, instances };
}

/**
 * Time that moves only when nothing is left to do now: timers in order (equal instants in the
 * order set), microtasks drained before each. A clock for `bind(getModule, { clock })`.
 */
export class VirtualClock {
  t = 1000;
  seq = 0;
  timers = [];
  now = () => this.t;
  wall = () => 1_700_000_000_000 + this.t;
  set = (fn, ms) => {
    const timer = this.timer(this.t + ms, fn);
    this.timers.push(timer);
    return timer;
  };
  clear = (timer) => {
    timer.cancelled = true;
  };
  /** A timer due at `at` (a subclass adds what it tracks). */
  timer(at, fn) {
    return { at, seq: ++this.seq, fn };
  }
  /** Fires a timer that came due (a subclass may check it first). */
  fire(timer) {
    timer.fn();
  }
  /** Runs until no timer is left. */
  async run() {
    for (;;) {
      await new Promise((r) => setImmediate(r)); // every promise reaction due now
      this.timers = this.timers.filter((t) => !t.cancelled);
      if (this.timers.length === 0) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      this.t = Math.max(this.t, next.at);
      this.fire(next);
    }
  }
}

// The package carries two builds of one engine (scripts/build.sh): gen/ballast_bg.wasm, the
// smallest, for browsers, and gen/ballast_fast_bg.wasm, compiled for speed, for Node, Deno, Bun
// and workerd. They share one JS glue, so they must import and export the same things, and they
// must decide the same: here each drives the same seeded run through the real JS executor
// (pkg/executor.js) on a virtual clock, and the logs of settlements, events and the final
// snapshot are compared.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mulberry32 } from "../origin/server.mjs";
import { bind } from "../../pkg/api.js";
import * as server from "../../pkg/server.js";
import { VirtualClock } from "./helpers.mjs";

const gen = new URL("../../pkg/gen/", import.meta.url);
const BUILDS = ["ballast_bg.wasm", "ballast_fast_bg.wasm"];
const modules = BUILDS.map((f) => new WebAssembly.Module(readFileSync(new URL(f, gen))));

test("both builds import and export the same names and kinds, so one glue fits both", () => {
  // Instantiation matches imports and exports by name, so their order may differ.
  const shape = (m) => ({
    imports: WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}:${i.kind}`).sort(),
    exports: WebAssembly.Module.exports(m).map((e) => `${e.name}:${e.kind}`).sort(),
  });
  const [small, fast] = modules.map(shape);
  assert.ok(small.exports.length > 10, "the engine's exports are there");
  // A symbol the linker left undefined (core::math's floor, ceil, trunc and sqrt are C functions
  // compiler_builtins defines) would be imported from "env": only wasm-bindgen's glue may be.
  for (const i of small.imports) assert.match(i, /^\.\/ballast_bg\.js\./, "imported from the glue");
  assert.deepEqual(fast, small);
});

test("the server entries (Node, Deno, workerd) load the fast build, the browser entry the small one", () => {
  const entry = (f) => readFileSync(new URL(`../../pkg/${f}`, import.meta.url), "utf8");
  for (const f of ["node.js", "deno.js", "workerd.js"]) assert.match(entry(f), /"\.\/gen\/ballast_fast_bg\.wasm"/, f);
  assert.match(entry("browser.js"), /"\.\/gen\/ballast_bg\.wasm"/);
});

test("only the fast build has a shared retry budget: the small one refuses a coordinator, naming it", async () => {
  const coordinator = { lease: async () => ({ granted: 0, ttlMs: 1000 }) };
  const [small, fast] = modules.map((m) => bind(() => m, { server }));
  assert.throws(
    () => small({ coordinator }),
    (err) => err.name === "ConfigError" && err.path === "coordinator" && /browser build has no shared retry budget/.test(err.message),
  );
  const f = fast({ coordinator, transport: async () => new Response("ok") });
  assert.equal((await f("http://127.0.0.1:1/")).status, 200);
  assert.equal(f.snapshot().budget.mode, "shared");
  // Without a coordinator the small build serves as before.
  assert.equal((await small({ transport: async () => new Response("ok") })("http://127.0.0.1:1/")).status, 200);
});

test("only the fast build has state snapshots: the small one refuses them, naming why", async () => {
  const [small, fast] = modules.map((m) => bind(() => m, { server }));
  const transport = async () => new Response("ok");
  const f = fast({ transport });
  await f("http://127.0.0.1:1/");
  const state = JSON.parse(JSON.stringify(f.exportState()));
  assert.equal(state.v, 1);
  const s = small({ transport });
  await s("http://127.0.0.1:1/");
  for (const call of [() => s.exportState(), () => s.mergeState(state)]) {
    assert.throws(call, (err) => err.name === "StateError" && /browser build has no state snapshots/.test(err.message));
  }
  assert.throws(
    () => small({ initialState: state }),
    (err) => err.name === "ConfigError" && err.path === "initialState" && /no state snapshots/.test(err.message),
  );
});

/**
 * 400 calls through the JS executor on a virtual clock, against two routes whose answers (200,
 * 503, 429 with Retry-After, network errors, a hang until aborted) are drawn from a seeded
 * generator, with hedging, a concurrency limit and a queue; returns everything observed.
 */
async function seededRun(module) {
  const clock = new VirtualClock();
  const createFetch = bind(() => module, { clock, server });
  const rand = mulberry32(5);
  const log = [];
  const transport = (input, init) =>
    new Promise((resolve, reject) => {
      const r = rand();
      const latency = rand() < 0.1 ? 400 : 5 + Math.floor(rand() * 40);
      const signal = init?.signal;
      let timer = null;
      signal?.addEventListener("abort", () => {
        if (timer !== null) clock.clear(timer);
        reject(signal.reason);
      });
      if (r >= 0.95) return; // hangs until aborted
      timer = clock.set(() => {
        if (r < 0.6) resolve(new Response("ok"));
        else if (r < 0.75) resolve(new Response("no", { status: 503 }));
        else if (r < 0.85) resolve(new Response("slow down", { status: 429, headers: { "retry-after": "1" } }));
        else reject(new TypeError("fetch failed"));
      }, latency);
    });
  const f = createFetch({
    seed: 11,
    transport,
    routes: [
      { name: "a", url: "http://127.0.0.1:1/" },
      { name: "b", url: "http://127.0.0.1:2/" },
    ],
    hedge: { afterMs: 30 },
    timeout: { attemptMs: 200, totalMs: 2_000 },
    concurrency: { limit: 8, queue: 16, queueTimeoutMs: 300 },
  });
  for (const kind of ["retry", "giveup", "shed", "attempt", "eject", "restore", "fallback", "hedge"]) {
    f.on(kind, (e) => log.push(["event", kind, e]));
  }
  const calls = [];
  for (let i = 0; i < 400; i++) {
    clock.set(() => {
      const post = i % 7 === 0;
      const p = f(`/item/${i}`, post ? { method: "POST", body: "x" } : undefined).then(
        (res) => ["response", i, res.status],
        (err) => ["error", i, err.name, err.code ?? null, err.reason ?? null, err.attempts?.length ?? null],
      );
      calls.push(p.then((r) => log.push(r)));
    }, i * 7);
  }
  await clock.run();
  await Promise.all(calls);
  log.push(["snapshot", f.snapshot()]);
  return log;
}

test("both builds decide the same, event for event, through the JS executor in virtual time", async () => {
  const [small, fast] = [await seededRun(modules[0]), await seededRun(modules[1])];
  const kinds = new Set(small.map((e) => (e[0] === "event" ? e[1] : e[0])));
  for (const k of ["response", "error", "retry", "hedge", "attempt", "shed"]) assert.ok(kinds.has(k), `the run exercises ${k}: ${[...kinds]}`);
  assert.equal(small.filter((e) => e[0] === "response" || e[0] === "error").length, 400, "every call settled");
  const snap = small.at(-1)[1];
  assert.equal(snap.activeTasks, 0);
  assert.equal(snap.inFlight, 0);
  assert.ok(snap.retries > 20 && snap.hedges.sent > 5, JSON.stringify({ retries: snap.retries, hedges: snap.hedges }));
  assert.equal(fast.length, small.length);
  for (let i = 0; i < small.length; i++) assert.deepEqual(fast[i], small[i], `entry ${i}`);
});

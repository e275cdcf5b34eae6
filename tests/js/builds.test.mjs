// The package carries two builds of one engine (scripts/build.sh): gen/ballast_bg.wasm, the
// smallest, for browsers, and gen/ballast_fast_bg.wasm, compiled for speed, for Node, Deno and
// workerd. They share one JS glue, so they must import and export the same things, and they must
// decide the same: here each drives the same seeded run in virtual time (time is an argument of
// every engine step) and the logs of decisions, events and the final snapshot are compared.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mulberry32 } from "../origin/server.mjs";

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
  assert.ok(small.exports.length > 20, "the engine's exports are there");
  assert.deepEqual(fast, small);
});

test("the server entries (Node, Deno, workerd) load the fast build, the browser entry the small one", () => {
  const entry = (f) => readFileSync(new URL(`../../pkg/${f}`, import.meta.url), "utf8");
  for (const f of ["node.js", "deno.js", "workerd.js"]) assert.match(entry(f), /"\.\/gen\/ballast_fast_bg\.wasm"/, f);
  assert.match(entry("browser.js"), /"\.\/gen\/ballast_bg\.wasm"/);
});

/**
 * 400 tasks, one after another, against two routes with flaky, slow and throttling answers and
 * hedging, all in virtual time; returns everything the engine said.
 */
async function seededRun(module) {
  const { instantiate } = await import(new URL("ballast.js", gen).href);
  const glue = instantiate(module); // one instance per build
  const log = [];
  const hooks = {
    emit: (kind, payload) => log.push(["event", kind, payload]),
    granted: () => assert.fail("one task at a time never queues"),
    configError: (path, value, allowed) => new Error(`${path} (${allowed})`),
    ballastError: (code, reason, message) => new Error(`${code} ${reason}: ${message}`),
  };
  const client = new glue.Client(
    {
      seed: 11,
      routes: [
        { name: "a", url: "http://127.0.0.1:1/" },
        { name: "b", url: "http://127.0.0.1:2/" },
      ],
      hedge: { afterMs: 30 },
    },
    hooks,
  );
  client.setListening(0xffffffff);
  const rand = mulberry32(5); // the run's outcomes
  let t = 1000;
  for (let i = 0; i < 400; i++) {
    t += rand() * 20;
    const h = client.begin(i % 7 === 0 ? "POST" : undefined, `http://127.0.0.1:1/item/${i}`, i % 7 === 0 ? 2 : 0, t);
    let plan = client.admitAndStart(h, t);
    log.push(["admit", i, plan, client.planUrl() ?? null]);
    for (let round = 0; plan >= 0 && round < 10; round++) {
      const hedge = client.hedgeDelay(h, t);
      const latency = rand() < 0.1 ? 400 : 5 + rand() * 40;
      const ids = [plan >>> 2];
      if (!Number.isNaN(hedge) && latency > hedge && client.tryHedge(h, t + hedge)) {
        const p2 = client.attemptStarted(h, true, t + hedge);
        log.push(["hedge", i, p2, client.planUrl() ?? null]);
        ids.push(p2 >>> 2);
      }
      t += latency;
      const r = rand();
      const [outcome, status, retryAfter] = r < 0.6 ? [0, 200] : r < 0.75 ? [0, 503] : r < 0.85 ? [0, 429, "1"] : r < 0.95 ? [1, 0] : [2, 0];
      let decision = client.attemptFinished(h, ids[0], outcome, status, retryAfter, t);
      if (decision === -1 && ids.length > 1) decision = client.attemptFinished(h, ids[1], 0, 200, undefined, t + 1);
      else for (const other of ids.slice(1)) client.abandon(h, other, t);
      log.push(["decision", i, decision]);
      if (decision < 0) break;
      t += decision;
      plan = client.admitAndStart(h, t);
      log.push(["admit", i, plan, client.planUrl() ?? null]);
    }
    client.finish(h, t);
  }
  log.push(["snapshot", client.snapshot(t)]);
  return log;
}

test("both builds decide the same, event for event, in a seeded run", async () => {
  const [small, fast] = await Promise.all(modules.map((m) => seededRun(m)));
  const kinds = new Set(small.map((e) => (e[0] === "event" ? e[1] : e[0])));
  for (const k of ["admit", "decision", "hedge", "retry"]) assert.ok(kinds.has(k), `the run exercises ${k}`);
  assert.ok(small.some((e) => e[0] === "decision" && e[2] >= 0), "some attempts are retried");
  assert.equal(fast.length, small.length);
  for (let i = 0; i < small.length; i++) assert.deepEqual(fast[i], small[i], `entry ${i}`);
});

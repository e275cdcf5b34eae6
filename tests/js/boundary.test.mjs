// The boundary between the engine and JS (src/boundary/, pkg/boundary.js): every name is
// declared once in Rust; JS looks up what it needs by name when an instance starts. These tests
// fail when the two sides disagree: a name JS needs that Rust does not declare, a record whose
// fields differ from what pkg/index.d.ts promises users, a tape that does not decode whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { instantiate } from "../../pkg/gen/ballast.js";
import { Boundary } from "../../pkg/boundary.js";
import { createFetch } from "../../pkg/node.js";

const module = new WebAssembly.Module(readFileSync(new URL("../../pkg/gen/ballast_fast_bg.wasm", import.meta.url)));
const text = instantiate(module).boundary();
const dts = readFileSync(new URL("../../pkg/index.d.ts", import.meta.url), "utf8");

/** The member names of `interface name` in index.d.ts. */
function members(name) {
  const m = new RegExp(`export interface ${name} (?:extends [^{]+)?\\{([\\s\\S]*?)\\n\\}`).exec(dts);
  assert.ok(m, `index.d.ts declares ${name}`);
  return [...m[1].matchAll(/^ {2}(?:readonly )?"?([A-Za-z0-9-]+)"?\??:/gm)].map((x) => x[1]);
}

test("JS finds every name it needs in what the engine declares", () => {
  const b = new Boundary(text);
  assert.equal(b.WIDTH, b.lists.get("fields").length);
  assert.deepEqual(
    b.lists.get("actions"),
    ["start", "abort", "settle-response", "settle-aborted", "settle-deadline", "settle-failed", "consult"],
    "every action kind the engine emits is one the executor handles",
  );
});

test("a name the engine stops declaring stops the start, not a later call", () => {
  for (const [list, item] of [
    ["actions", "settle-failed"],
    ["abort-reasons", "attempt-timeout"],
    ["failures", "permission-denied"],
    ["header", "timeout"],
  ]) {
    const broken = text.replace(new RegExp(`^(${list}:.*)\\b${item}\\b`, "m"), "$1renamed");
    assert.notEqual(broken, text, `${list} has ${item}`);
    assert.throws(() => new Boundary(broken), new RegExp(`"${list}" list has no "${item}"`));
  }
});

test("every event's fields are the ones index.d.ts declares, in EventMap under its kind", () => {
  const b = new Boundary(text);
  const eventMap = members("EventMap");
  const iface = {
    retry: "RetryEvent",
    giveup: "GiveUpEvent",
    shed: "ShedEvent",
    pressure: "PressureEvent",
    attempt: "AttemptEvent",
    eject: "EjectEvent",
    restore: "RestoreEvent",
    fallback: "FallbackEvent",
    "fallback-default": "FallbackDefaultEvent",
    hedge: "HedgeEvent",
    coordinator: "CoordinatorEvent",
    "internal-error": "InternalErrorEvent",
  };
  assert.deepEqual([...b.events].sort(), Object.keys(iface).sort(), "the engine's event kinds");
  assert.deepEqual([...eventMap].sort(), [...b.events].sort(), "EventMap has every kind, and only those");
  // Fields the executor adds to the engine's: what failed, which only JS knows (pkg/server-executor.js).
  const added = { coordinator: ["error"] };
  for (const kind of b.events) {
    if (kind === "internal-error") continue; // the npm entry's own
    const fields = b.schemas[b.schemaNames.indexOf(kind)];
    assert.ok(fields, `a schema for ${kind}`);
    assert.deepEqual([...fields, ...(added[kind] ?? [])].sort(), [...members(iface[kind])].sort(), `${kind} vs ${iface[kind]}`);
  }
});

test("the snapshot decodes whole, with exactly the fields index.d.ts declares, in the schema's order", () => {
  const b = new Boundary(text);
  const f = createFetch({ routes: [{ name: "a", url: "http://127.0.0.1:9" }], transport: async () => new Response("ok") });
  const s = f.snapshot();
  const order = b.schemas[b.schemaNames.indexOf("snapshot")];
  // `config` is read once from its own tape (configInfo) and added by the executor.
  assert.deepEqual(Object.keys(s), [...order, "config"]);
  assert.deepEqual([...order, "config"].sort(), [...members("Snapshot")].sort());
  assert.deepEqual(Object.keys(s.config).sort(), [...members("ConfigInfo")].sort());
  assert.deepEqual(Object.keys(s.config.effective).sort(), [...members("EffectiveConfig")].sort());
  assert.deepEqual(Object.keys(s.routes[0]).sort(), [...members("RouteSnapshot")].sort());
  assert.deepEqual(Object.keys(s.pressure).sort(), [...members("PressureSnapshot")].sort());
  assert.deepEqual(Object.keys(s.latency).sort(), [...members("Quantiles")].sort());
  assert.doesNotThrow(() => JSON.stringify(s));
});

test("a tape that does not decode is an error, not a wrong value", () => {
  const b = new Boundary(text);
  assert.throws(() => b.decode(new Float64Array([99])), /unknown tag 99/);
});

test("a state snapshot and what a merge did decode with exactly the fields index.d.ts declares", async () => {
  const b = new Boundary(text);
  const fields = (name) => b.schemas[b.schemaNames.indexOf(name)];
  const f = createFetch({ routes: [{ name: "a", url: "http://127.0.0.1:9" }], transport: async () => new Response("ok") });
  await (await f("/x")).text();
  const s = f.exportState();
  for (const [schema, iface, value] of [
    ["state", "BallastState", s],
    ["state-route", "StateRoute", s.routes[0]],
    ["state-isolate", "StateIsolate", s.isolates[0]],
    ["state-counts", "StateCounts", s.isolates[0].routes[0]],
    ["state-merged", "MergeResult", createFetch({ routes: [{ name: "a", url: "http://127.0.0.1:9" }] }).mergeState(s)],
  ]) {
    assert.deepEqual(Object.keys(value), fields(schema), schema);
    assert.deepEqual([...fields(schema)].sort(), [...members(iface)].sort(), `${schema} vs ${iface}`);
  }
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
});

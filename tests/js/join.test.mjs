// A store's join of two states without a client (pkg/join.js, the server build): the join of
// what two clients exported holds both contributions, in any order and however often; a state it
// cannot take is refused with a StateError naming it (`a.` or `b.`), another config on
// `b.fingerprint`. The browsers' build refuses to join at all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createFetch, StateError } from "../../pkg/node.js";
import { joiner } from "../../pkg/join.js";

const wasm = (name) => () => readFileSync(new URL(`../../pkg/gen/${name}`, import.meta.url));
const joinStates = joiner(wasm("ballast_fast_bg.wasm"));
const transport = async () => new Response("ok");
const client = (baseMs = 1000) =>
  createFetch({ transport, routing: { ejection: { baseMs } }, routes: [{ name: "a", url: "http://a.test" }] });

async function exported(c) {
  for (let i = 0; i < 5; i++) await (await c("/x")).text();
  return c.exportState();
}

test("the join of two clients' states holds both, in any order, however often", async () => {
  const [a, b] = [await exported(client()), await exported(client())];
  const ab = joinStates(a, b);
  assert.equal(ab.isolates.length, 2);
  assert.deepEqual(joinStates(b, a), ab);
  assert.deepEqual(joinStates(ab, a), ab);
  assert.deepEqual(joinStates(JSON.parse(JSON.stringify(ab)), ab), ab);
  // A client takes the join as it takes the states.
  assert.deepEqual(client().mergeState(ab), { isolates: 2, ignoredRoutes: [] });
});

test("a state the join cannot take is named, a or b; states of other configs stay apart", async () => {
  const a = await exported(client());
  const other = await exported(client(2000));
  assert.throws(
    () => joinStates(a, other),
    (e) => e instanceof StateError && e.path === "b.fingerprint" && e.value === other.fingerprint && e.allowed.includes(a.fingerprint),
  );
  assert.throws(() => joinStates({ ...a, v: 2 }, a), (e) => e instanceof StateError && e.path === "a.v" && /a\.v = 2/.test(e.message));
  const late = structuredClone(a);
  late.isolates[0].at = 1.5;
  assert.throws(() => joinStates(a, late), (e) => e instanceof StateError && e.path === "b.isolates[0].at" && e.value === 1.5);
  assert.throws(() => joinStates("{}", a), (e) => e instanceof StateError && e.path === "a");
});

test("the browsers' build refuses to join", async () => {
  const a = await exported(client());
  const browserJoin = joiner(wasm("ballast_bg.wasm"));
  assert.throws(() => browserJoin(a, a), (e) => e instanceof StateError && /browser/.test(e.message));
});

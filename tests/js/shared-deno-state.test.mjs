// Route state shared by the coordinator on Deno KV (docs/state.md): deno processes on one
// Deno.openKv(path) file, a two-route config whose primary fails. Process A ejects the primary and
// its state reaches KV; a new process B reads the group's state at startup, and once it has
// arrived sends nothing to the primary; a process without the shared state does. A state of
// another config in the same group is kept apart, and a store that never answers holds no call up.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startOrigin } from "../origin/server.mjs";
import { DENO, denoJson, uniqueKey } from "./helpers.mjs";

const skip = DENO ? false : "no deno binary";
const CALLS = 10;

let A, B, dir;
before(async () => {
  [A, B] = await Promise.all([startOrigin(), startOrigin()]);
  A.setFault({ status: 503 });
  dir = mkdtempSync(path.join(tmpdir(), "ballast-kv-state-"));
});
after(async () => {
  await Promise.all([A, B].map((o) => o?.close()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One process of tests/shared/deno-state-client.mjs; what it printed. */
async function client(mode, kv, { key = uniqueKey(mode), n = CALLS, wait = 5000 } = {}) {
  return { key, ...(await denoJson("deno-state-client.mjs", [A.url, B.url, key, String(n), mode, kv, String(wait)])) };
}

const primary = (r) => r.routes.find((x) => x.name === "primary");
const numbers = [];
after(() => {
  if (numbers.length > 0) console.log(`attempts to the ejected primary by a new process's first ${CALLS} calls (Deno KV):\n${numbers.join("\n")}`);
});

test("a new deno process reads the group's state and sends nothing to the primary another ejected", { skip, timeout: 120_000 }, async () => {
  const kv = path.join(dir, `${uniqueKey("kv")}.db`);
  const a = await client("eject", kv);
  assert.equal(primary(a).state, "ejected");
  const b = await client("shared", kv);
  assert.equal(A.hits(b.key), 0, "B sent nothing to the ejected primary");
  assert.deepEqual([primary(b).state, primary(b).attempts], ["ejected", 0]);
  assert.equal(b.fingerprint, a.fingerprint);
  const c = await client("local", kv, { wait: 0 });
  assert.ok(A.hits(c.key) > 0, "without the state the primary is tried");
  numbers.push(`  with the shared state ${A.hits(b.key)}, without ${A.hits(c.key)}`);
});

test("deno: a state of another config in the same group is kept apart", { skip, timeout: 120_000 }, async () => {
  const kv = path.join(dir, `${uniqueKey("kv")}.db`);
  const a = await client("eject", kv);
  const o = await client("other", kv, { wait: 300 });
  assert.notEqual(o.fingerprint, a.fingerprint);
  assert.ok(A.hits(o.key) > 0, "the other config tries the primary: it has no state of A's config");
  assert.deepEqual(o.held, { fingerprint: o.fingerprint, isolates: 1 }, "its own state, alone");
});

test("deno: a store that never answers holds no call up", { skip, timeout: 120_000 }, async () => {
  const kv = path.join(dir, `${uniqueKey("kv")}.db`);
  const s = await client("stuck", kv, { wait: 0 });
  assert.ok(s.slowest < 1000, `a call took ${s.slowest} ms`);
  assert.ok(A.hits(s.key) + B.hits(s.key) >= CALLS, "every call reached an origin");
});

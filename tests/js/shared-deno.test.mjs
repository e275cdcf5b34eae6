// The shared retry budget on Deno KV (docs/shared-budget.md): 1, 4 and 8 deno processes sharing
// one Deno.openKv(path) file, every process calling a loopback origin in full outage. Retries
// across all processes: with local budgets, one reserve per process (10 each with the default
// budget); shared, about one reserve in all, plus the degraded reserve (1) of each process whose
// lease took longer than 250 ms (a cold deno process on a contended KV file can).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { startOrigin } from "../origin/server.mjs";
import { DENO, denoJson, uniqueKey } from "./helpers.mjs";

const CALLS = 8;
const RESERVE = 10;

let origin;
let dir;
before(async () => {
  origin = await startOrigin();
  dir = mkdtempSync(path.join(tmpdir(), "ballast-kv-"));
});
after(async () => {
  await origin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const client = (args) => denoJson("deno-client.mjs", args);

async function outage(n, mode) {
  const key = uniqueKey(mode);
  const kv = path.join(dir, `${key}.db`);
  const results = await Promise.all(Array.from({ length: n }, () => client([origin.url, key, String(CALLS), mode, kv])));
  return { retries: origin.hits(key) - n * CALLS, results };
}

const table = [];
after(() => {
  if (table.length > 0) console.log(`retries across deno processes in a full outage (Deno KV):\n${table.join("\n")}`);
});

for (const n of [1, 4, 8]) {
  test(`${n} deno process(es) on one KV file: shared retries stay near one reserve`, { skip: DENO ? false : "no deno binary", timeout: 120_000 }, async () => {
    const local = await outage(n, "local");
    const shared = await outage(n, "shared");
    const degraded = shared.results.filter((r) => r.events.some((e) => e.state === "degraded")).length;
    table.push(`  ${n} processes: local ${local.retries}, shared ${shared.retries} (${degraded} degraded for a while)`);
    assert.equal(local.retries, n * RESERVE);
    assert.ok(shared.retries <= RESERVE + 2 + degraded, `shared: ${shared.retries} retries for ${n} processes, ${degraded} degraded`);
    if (n >= 4) assert.ok(shared.retries < local.retries / 2, `shared ${shared.retries} vs local ${local.retries}`);
  });
}

test("a deploy that changes the config: the new clients get a bucket of their own and stay shared", { skip: DENO ? false : "no deno binary", timeout: 120_000 }, async () => {
  const key = uniqueKey("deploy");
  const kv = path.join(dir, `${key}.db`);
  const before = await client([origin.url, key, "2", "shared", kv]);
  const after = await client([origin.url, key, "2", "shared-other", kv]);
  for (const r of [before, after]) {
    assert.equal(r.budget.mode, "shared", JSON.stringify(r));
    assert.deepEqual(r.events.filter((e) => e.reason === "error"), [], "no lease refused");
  }
});

// One Deno process of the shared-budget test (tests/js/shared-deno.test.mjs): N calls in a row to
// ORIGIN/status/503 (a full outage) with its own budget (`local`) or one shared on the Deno KV
// file KV (`shared`, or `shared-other` with another config). Prints its snapshot's budget and its
// coordinator events as JSON.
// deno run --unstable-kv -A deno-client.mjs ORIGIN KEY N MODE KV
import { createFetch } from "../../pkg/deno.js";
import { kvCoordinator } from "../../pkg/deno-kv.js";

const [origin, key, n, mode, path] = Deno.args;
/**
 * Opens the KV file, again after a short wait while another process holds its lock: the processes
 * start together, and while the first sets the new file up, SQLite refuses the others an open
 * ("database is locked") instead of waiting.
 */
async function openKv(file) {
  for (let tries = 1; ; tries++) {
    try {
      return await Deno.openKv(file);
    } catch (err) {
      if (tries >= 20 || !/database is locked/.test(String(err?.message))) throw err;
      await new Promise((r) => setTimeout(r, 10 * tries));
    }
  }
}

// `shared-other`: shared, with another config (a deploy that changed it) in the same group.
const kv = mode.startsWith("shared") ? await openKv(path) : null;
const config = { retry: { backoff: { baseMs: mode === "shared-other" ? 6 : 5, capMs: 20 } } };
if (kv !== null) config.coordinator = kvCoordinator(kv, { group: "outage" });
const f = createFetch(config);
const events = [];
f.on("coordinator", (e) => events.push(e));
for (let i = 0; i < Number(n); i++) {
  const res = await f(`${origin}/status/503?key=${key}`);
  await res.body?.cancel();
}
console.log(JSON.stringify({ budget: f.snapshot().budget, events }));
kv?.close();

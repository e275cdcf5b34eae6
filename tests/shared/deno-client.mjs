// One Deno process of the shared-budget test (tests/js/shared-deno.test.mjs): N calls in a row to
// ORIGIN/status/503 (a full outage) with its own budget (`local`) or one shared on the Deno KV
// file KV (`shared`, or `shared-other` with another config). Prints its snapshot's budget and its
// coordinator events as JSON.
// deno run --unstable-kv -A deno-client.mjs ORIGIN KEY N MODE KV
import { createFetch } from "../../pkg/deno.js";
import { kvCoordinator } from "../../pkg/deno-kv.js";

const [origin, key, n, mode, path] = Deno.args;
// `shared-other`: shared, with another config (a deploy that changed it) in the same group.
const kv = mode.startsWith("shared") ? await Deno.openKv(path) : null;
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

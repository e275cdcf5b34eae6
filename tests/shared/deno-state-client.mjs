// One Deno process of the shared route state test (tests/js/shared-deno-state.test.mjs): a
// two-route config (PRIMARY fails, SECONDARY serves) whose client shares its state on the Deno KV
// file KV (`shared`), does not (`local`), shares with another config (`other`), or has a store
// that never answers a read and fails every push (`stuck`). `eject`: calls until the primary is
// ejected and its state is in KV; otherwise waits until the state read has arrived (WAIT ms at
// most), then makes N calls to /echo?key=KEY. Prints its routes, fingerprint and slowest call.
// deno run --unstable-kv -A deno-state-client.mjs PRIMARY SECONDARY KEY N MODE KV WAIT
import { createFetch } from "../../pkg/deno.js";
import { kvCoordinator, shareState } from "../../pkg/deno-kv.js";

const [primary, secondary, key, n, mode, path, wait] = Deno.args;
const config = {
  retry: { maxAttempts: 3, backoff: { kind: "full", baseMs: 1, capMs: 10 } },
  budget: { ratio: 2, minPerSec: 100 },
  routing: {
    switchBudget: { ratio: 2, minPerSec: 100 },
    ejection: { consecutiveFailures: 1, baseMs: mode === "other" ? 30_000 : 60_000 },
  },
  routes: [
    { name: "primary", url: primary },
    { name: "secondary", url: secondary },
  ],
};
const kv = await Deno.openKv(path);
const coordinator = kvCoordinator(kv, { group: "routes" });
const store =
  mode === "stuck"
    ? { pullState: () => new Promise(() => {}), pushState: () => Promise.reject(new Error("the store is down")) }
    : coordinator;
const api = createFetch(config);
const f = mode === "local" ? api : shareState(api, store, { pushEveryMs: 0 });
const route = () => f.snapshot().routes.find((r) => r.name === "primary");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const fingerprint = f.exportState().fingerprint;

if (mode === "eject") {
  for (let i = 0; i < 50 && route().state !== "ejected"; i++) await (await f(`/echo?key=${key}`)).body?.cancel();
  // Its pushes run in the background: wait until one with the ejection is in KV.
  for (let i = 0; i < 100; i++) {
    const held = await coordinator.pullState(fingerprint);
    if (held?.routes?.some((r) => r.name === "primary" && r.health?.[1] > 0)) break;
    await sleep(50);
  }
} else {
  for (let t = 0; t < Number(wait) && route().state !== "ejected"; t += 50) await sleep(50);
  let slowest = 0;
  for (let i = 0; i < Number(n); i++) {
    const t = Date.now();
    await (await f(`/echo?key=${key}`)).body?.cancel();
    slowest = Math.max(slowest, Date.now() - t);
  }
  globalThis.slowest = slowest;
}
// `other`: what KV holds for its own config once its pushes are in.
let held = null;
for (let i = 0; mode === "other" && i < 100 && held === null; i++) {
  held = await coordinator.pullState(fingerprint);
  if (held === null) await sleep(50);
}
console.log(JSON.stringify({
  routes: f.snapshot().routes.map((r) => ({ name: r.name, state: r.state, attempts: r.attempts })),
  fingerprint,
  slowest: globalThis.slowest ?? 0,
  held: held && { fingerprint: held.fingerprint, isolates: held.isolates.length },
}));
kv.close();
// A read that never answers must not keep the process alive.
Deno.exit(0);

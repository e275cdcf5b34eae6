// One isolate of the shared route state test (tests/js/shared-state.test.mjs): miniflare runs this
// script as several Workers, each its own isolate, bound to the same Durable Object namespaces
// and Workers KV namespace. Its clients are made on the first request (the origins' URLs come in
// the query), once per isolate. GET /?primary=P&secondary=S&mode=M&key=K&n=N makes N calls to
// /echo?key=K through client M and answers its routes and its slowest call:
// `local` (no sharing), `shared` (state through BallastBudget), `kv` (through Workers KV first),
// `kv-only` (Workers KV, with an object that fails), `broken` (an object that fails), `slow` (one
// that answers after 3 s), `other` (shared, another config in the same group).
// `mode=peek&fingerprint=F` answers what the object holds for config F.
import { createFetch, sharedFetch } from "../../pkg/cloudflare.js";

const config = (primary, secondary, baseMs = 60_000) => ({
  retry: { maxAttempts: 3, backoff: { kind: "full", baseMs: 1, capMs: 10 } },
  budget: { ratio: 2, minPerSec: 100 },
  routing: {
    switchBudget: { ratio: 2, minPerSec: 100 },
    ejection: { consecutiveFailures: 1, baseMs },
  },
  routes: [
    { name: "primary", url: primary },
    { name: "secondary", url: secondary },
  ],
});

let clients = null;
function make(p, s) {
  const group = "routes";
  const push = { pushEveryMs: 0 };
  return {
    local: createFetch(config(p, s)),
    shared: sharedFetch(config(p, s), { group, ...push }),
    kv: sharedFetch(config(p, s), { group, stateKv: "BALLAST_STATE", ...push }),
    "kv-only": sharedFetch(config(p, s), { group, binding: "BALLAST_BROKEN", stateKv: "BALLAST_STATE", ...push }),
    broken: sharedFetch(config(p, s), { group, binding: "BALLAST_BROKEN", ...push }),
    slow: sharedFetch(config(p, s), { group, binding: "BALLAST_SLOW", ...push }),
    other: sharedFetch(config(p, s, 30_000), { group, ...push }),
  };
}

export default {
  async fetch(request, env, ctx) {
    const u = new URL(request.url);
    const q = (k) => u.searchParams.get(k);
    const mode = q("mode");
    if (mode === "peek") {
      const stub = env.BALLAST_BUDGET.get(env.BALLAST_BUDGET.idFromName("routes"));
      return stub.fetch(`https://ballast-budget/state?fingerprint=${q("fingerprint")}`);
    }
    clients ??= make(q("primary"), q("secondary"));
    const client = clients[mode];
    const f = mode === "local" ? client : client.use(env, ctx);
    let slowest = 0;
    for (let i = 0; i < Number(q("n")); i++) {
      const t = Date.now();
      const res = await f(`/echo?key=${q("key")}`);
      await res.body?.cancel();
      slowest = Math.max(slowest, Date.now() - t);
    }
    const s = f.snapshot();
    return Response.json({
      routes: s.routes.map((r) => ({ name: r.name, state: r.state, attempts: r.attempts })),
      fingerprint: f.exportState().fingerprint,
      slowest,
    });
  },
};

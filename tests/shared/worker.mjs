// One isolate of the shared-budget test (tests/js/shared-workers.test.mjs): miniflare runs this
// script as several Workers, each its own isolate with its own module state, bound to the same
// Durable Object namespaces. GET /?origin=O&key=K&n=N&mode=M makes N calls in a row to
// O/status/503 (a full outage) with the client of mode M: `local` (its own budget), `shared`
// (leased from BallastBudget), `broken` (a budget object that fails), `slow` (one that answers
// after 3 s), `other` (shared, another config). `pause=P`: P ms between the first call and the others.
import { createFetch, sharedFetch } from "../../pkg/cloudflare.js";

const CONFIG = { retry: { backoff: { baseMs: 5, capMs: 20 } } };
const clients = {
  local: createFetch(CONFIG),
  shared: sharedFetch(CONFIG, { group: "outage" }),
  broken: sharedFetch(CONFIG, { group: "outage", binding: "BALLAST_BROKEN" }),
  slow: sharedFetch(CONFIG, { group: "outage", binding: "BALLAST_SLOW" }),
  // The same group with another config, as after a deploy that changed it.
  other: sharedFetch({ retry: { backoff: { baseMs: 6, capMs: 20 } } }, { group: "outage" }),
};
const events = [];
for (const c of [clients.shared, clients.broken, clients.slow, clients.other]) c.on("coordinator", (e) => events.push(e));

export default {
  async fetch(request, env, ctx) {
    const u = new URL(request.url);
    const mode = u.searchParams.get("mode");
    const n = Number(u.searchParams.get("n"));
    const target = `${u.searchParams.get("origin")}/status/503?key=${u.searchParams.get("key")}`;
    const client = clients[mode];
    const f = mode === "local" ? client : client.use(env, ctx);
    const pause = Number(u.searchParams.get("pause") ?? 0);
    let slowest = 0;
    for (let i = 0; i < n; i++) {
      if (i === 1 && pause > 0) await new Promise((r) => setTimeout(r, pause));
      const t = Date.now();
      const res = await f(target);
      await res.body?.cancel();
      slowest = Math.max(slowest, Date.now() - t);
    }
    const s = f.snapshot();
    return Response.json({ budget: s.budget, retries: s.retries, tasks: s.tasks, slowest, events });
  },
};

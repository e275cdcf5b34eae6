// A Worker that proxies every request to env.UPSTREAM through ballast-fetch, with one retry budget
// shared by all of its isolates: a Durable Object (BallastBudget) holds the budget, each isolate's
// client leases retry tokens from it in small batches. GET /budget shows where this isolate stands.
import { BallastBudget, BallastError, sharedFetch } from "ballast-fetch/cloudflare";

// The Durable Object class: wrangler.json binds it as BALLAST_BUDGET.
export { BallastBudget };

// One client per isolate, created at module scope so that its budget, leased tokens and figures
// outlive a request (sharedFetch does no I/O here, which Workers forbid at module scope). It is
// bound to the Durable Object on the first request, by `use(env, ctx)`.
// The group names the Durable Object holding the budget: one per origin group. Every isolate of
// this Worker calls one upstream, so one group; a Worker calling two unrelated APIs would have one
// client (and group) for each. The object keeps a bucket per config, so a deploy that changes the
// config needs no new group.
const api = sharedFetch(
  {
    retry: { maxAttempts: 3 },
    timeout: { attemptMs: 5000, totalMs: 10000 },
  },
  { group: "upstream" },
);

// Logged once per change of mode: "degraded" when the Durable Object is slow (250 ms) or failing
// (`error` says how), "shared" again when it answers.
api.on("coordinator", (e) => console.log(`ballast budget: ${e.state} (${e.reason})${e.error === undefined ? "" : `: ${e.error}`}`));

export default {
  async fetch(request, env, ctx) {
    const f = api.use(env, ctx); // env.BALLAST_BUDGET on the first call; ctx.waitUntil keeps leases alive
    const url = new URL(request.url);
    if (url.pathname === "/budget") {
      const s = f.snapshot();
      // budget.mode: "shared" (retries spend tokens leased from the Durable Object) or "degraded"
      // (the object is unreachable: a small local reserve); budget.leased: tokens held right now.
      return Response.json({ budget: s.budget, tasks: s.tasks, attempts: s.attempts, retries: s.retries, giveups: s.giveups });
    }
    try {
      // Same method, headers and body. A request body is a stream: sent once, never retried.
      // An upstream error response (a 503 after the last attempt) comes back as it is.
      return await f(new Request(new URL(url.pathname + url.search, env.UPSTREAM), request));
    } catch (err) {
      if (err instanceof BallastError) {
        // No response at all (connection refused or reset...): say why ballast stopped, e.g.
        // "NETWORK (budget-exhausted) after 1 attempt": the shared budget refused the retry.
        const n = err.attempts.length;
        return new Response(`upstream failed: ${err.code} (${err.reason}) after ${n} attempt${n === 1 ? "" : "s"}\n`, { status: 502 });
      }
      if (err instanceof DOMException && err.name === "TimeoutError") {
        return new Response("upstream timed out\n", { status: 504 });
      }
      throw err; // AbortError: the client went away
    }
  },
};

// One Worker of tests/js/workers-timers.test.mjs: GET /?url=U[&attemptMs=A][&limit=L] calls U
// through the isolate's one client for those settings (made on first use, kept for the isolate, as
// a Worker author would) and answers with the outcome. Backoff is a fixed 1.5 s, longer than the engine's own once-a-second timers, so a
// retry's wake-up comes after timers an earlier request set.
import { createFetch, BallastError } from "../../pkg/workerd.js";

const clients = new Map();
const client = (attemptMs, limit) => {
  const key = `${attemptMs}/${limit}`;
  if (!clients.has(key)) {
    clients.set(
      key,
      createFetch({
        retry: { maxAttempts: 2, backoff: { kind: "exponential", baseMs: 1500, capMs: 1500 } },
        timeout: { attemptMs: attemptMs === null ? 5000 : Number(attemptMs), totalMs: 20000 },
        ...(limit === null ? {} : { concurrency: { limit: Number(limit) } }),
      }),
    );
  }
  return clients.get(key);
};

export default {
  async fetch(request) {
    const u = new URL(request.url);
    const api = client(u.searchParams.get("attemptMs"), u.searchParams.get("limit"));
    const t = Date.now();
    try {
      const res = await api(u.searchParams.get("url"));
      await res.body?.cancel();
      return Response.json({ status: res.status, ms: Date.now() - t });
    } catch (err) {
      if (!(err instanceof BallastError)) throw err;
      return Response.json({ code: err.code, reason: err.reason, attempts: err.attempts.length, ms: Date.now() - t });
    }
  },
};

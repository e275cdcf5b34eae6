// "naive": what popular retry wrappers do by default. Three tries per request, a fixed or
// exponential backoff, no budget, no routing, no shedding, no deadline over the whole call. It
// wraps the same kind of transport as ballast, and has the bits of ballast's surface the demo reads
// (snapshot() counters, on("retry" | "giveup")), so live mode treats both clients alike.
const RETRY_STATUSES = [408, 429, 500, 502, 503, 504];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function createNaive({ transport, tries = 3, backoff = "exponential", baseMs = 100 }) {
  const counts = { tasks: 0, attempts: 0, retries: 0, giveups: 0 };
  const listeners = { retry: new Set(), giveup: new Set() };
  const emit = (type, e) => listeners[type].forEach((f) => f(e));

  async function naiveFetch(input, init) {
    counts.tasks++;
    for (let attempt = 1; ; attempt++) {
      counts.attempts++;
      let res;
      let err;
      try {
        res = await transport(input, init);
      } catch (e) {
        err = e;
      }
      const retryable = err ? err instanceof TypeError : RETRY_STATUSES.includes(res.status);
      if (!retryable) return res ?? Promise.reject(err);
      if (attempt >= tries) {
        counts.giveups++;
        emit("giveup", { reason: "max-attempts", attempts: attempt, url: String(input) });
        if (err) throw err;
        return res;
      }
      res?.body?.cancel();
      const delayMs = backoff === "fixed" ? baseMs : baseMs * 2 ** (attempt - 1);
      counts.retries++;
      emit("retry", { attempt: attempt + 1, delayMs, reason: err ? "network" : `status-${res.status}`, url: String(input) });
      await sleep(delayMs);
    }
  }
  naiveFetch.snapshot = () => ({ ...counts });
  naiveFetch.on = (type, f) => {
    listeners[type]?.add(f);
    return () => listeners[type]?.delete(f);
  };
  return naiveFetch;
}

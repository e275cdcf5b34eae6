// The in-page fault injector: a fetch-like transport `(url, init) => Promise<Response>` that never
// touches the network. Each request goes to a route by its host (https://primary.invalid/...,
// https://fallback.invalid/...) and, per that route's current settings, answers 200 or 503 with
// `new Response(...)` after a latency drawn from a heavy-tailed (log-normal) distribution, or throws
// `TypeError` like fetch does when a connection is refused. The primary can be put in an outage.
// The attempt's signal is honoured: an aborted attempt rejects with the signal's reason.
//
//   const faults = createFaults(() => settings);        // settings read at every request
//   const transport = faults.transport(seed, observer);  // observer.start(hit) / observer.end(hit)
//
// settings: { primary: { errorRate, p50, p99 }, fallback: { ... }, outage: "503" | "network",
//             outageUntil: performance.now() deadline, or 0 }

export const ROUTE_URLS = { primary: "https://primary.invalid", fallback: "https://fallback.invalid" };

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A log-normal latency with the given median and 99th percentile (ms), capped at 20 x p99. */
export function latency(rand, p50, p99) {
  const sigma = Math.log(Math.max(p99, p50 + 1e-9) / Math.max(p50, 1e-9)) / 2.3263;
  // Box-Muller
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Math.min(p50 * Math.exp(sigma * z), 20 * p99);
}

export function createFaults(getSettings) {
  const outageActive = (now = performance.now()) => getSettings().outageUntil > now;

  function transport(seed, observer = {}) {
    const rand = mulberry32(seed);
    return function faultyFetch(input, init = {}) {
      const url = new URL(typeof input === "string" ? input : input.url);
      const route = url.hostname.split(".")[0];
      const settings = getSettings();
      const cfg = settings[route];
      const hit = { url: url.pathname + url.search, route, start: performance.now(), outcome: null, status: undefined, ms: null };
      observer.start?.(hit);
      const finish = (outcome, status) => {
        hit.outcome = outcome;
        hit.status = status;
        hit.ms = performance.now() - hit.start;
        observer.end?.(hit);
      };
      if (!cfg) {
        finish("network");
        return Promise.reject(new TypeError(`Failed to fetch (no route ${route})`));
      }
      const signal = init.signal;
      if (signal?.aborted) {
        finish("aborted");
        return Promise.reject(signal.reason);
      }
      const down = route === "primary" && outageActive(hit.start);
      // A refused connection fails fast; everything else takes the route's latency.
      const refused = down && settings.outage === "network";
      const delay = refused ? 1 + rand() * 4 : latency(rand, cfg.p50, cfg.p99);
      const failed = down || rand() < cfg.errorRate;
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          finish(signal.reason?.name === "TimeoutError" ? "timeout" : "aborted");
          reject(signal.reason);
        };
        const timer = setTimeout(() => {
          signal?.removeEventListener("abort", onAbort);
          if (refused) {
            finish("network");
            reject(new TypeError("Failed to fetch"));
          } else if (failed) {
            finish("status", 503);
            resolve(new Response("service unavailable", { status: 503, headers: { "content-type": "text/plain" } }));
          } else {
            finish("ok", 200);
            resolve(new Response(`{"route":"${route}"}`, { status: 200, headers: { "content-type": "application/json" } }));
          }
        }, delay);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    };
  }

  return { transport, outageActive };
}

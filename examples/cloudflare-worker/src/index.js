// A Worker that proxies every request to env.UPSTREAM through ballast-fetch, and serves the
// client's metrics on /metrics (OpenMetrics text, for Prometheus or any compatible scraper).
import { BallastError, createFetch, OPENMETRICS_CONTENT_TYPE, toOpenMetrics } from "ballast-fetch";

// Created once per isolate, at module scope: the client's retry budget, route memory and metrics
// must span requests. (createFetch does no I/O, timers or randomness, so this is allowed here.)
const api = createFetch({
  retry: { maxAttempts: 3 },
  timeout: { attemptMs: 5000, totalMs: 10000 },
});

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/metrics") {
      return new Response(toOpenMetrics(api.snapshot()), { headers: { "content-type": OPENMETRICS_CONTENT_TYPE } });
    }
    try {
      // Same method, headers and body. A request body is a stream: sent once, never retried.
      return await api(new Request(new URL(url.pathname + url.search, env.UPSTREAM), request));
    } catch (err) {
      if (err instanceof BallastError) {
        return new Response(`upstream failed: ${err.code} (${err.reason}) after ${err.attempts.length} attempts\n`, { status: 502 });
      }
      if (err instanceof DOMException && err.name === "TimeoutError") {
        return new Response("upstream timed out\n", { status: 504 });
      }
      throw err; // AbortError: the client went away
    }
  },
};

// Everything that says *what* each client runs, in one place.
//
// BALLAST: per scenario, the config of the "ballast" row (`config`, a function of the scenario's
// URLs { origin, primary, mirror }), optional `extra` ballast rows, and what to run instead when a
// feature has not landed in the build being measured (`unavailable`: the harness tries the config
// with createFetch first; a ConfigError for an unknown key means the feature is not there yet, and
// the row says so). So when routes or hedging land, the same harness measures them.
//
// EQUIVALENT: the settings the peers get in their "≈ ballast" rows, mirroring ballast's defaults
// (see the config reference in the README).

const DEFAULTS = () => ({});

export const BALLAST = {
  overhead: { config: DEFAULTS },
  outage: { config: DEFAULTS },
  flaky: { config: DEFAULTS },
  mirror: {
    // Two routes: the primary, and the mirror as a fallback route (used when the primary fails).
    config: ({ primary, mirror }) => ({
      routes: [
        { name: "primary", url: primary },
        { name: "mirror", url: mirror, fallback: true },
      ],
    }),
    label: "ballast, routes: primary + fallback mirror",
    unavailable: {
      config: DEFAULTS,
      manualFallback: true,
      pending: "routes not landed yet: ballast defaults, with the mirror as a manual fallback URL like the peers",
    },
  },
  tail: {
    config: DEFAULTS,
    extra: [
      {
        id: "ballast-hedge",
        label: "ballast, hedge at p95",
        // Percentile hedging keeps latency per route, so the origin is declared as a route.
        config: ({ origin }) => ({ routes: [{ name: "origin", url: origin }], hedge: { percentile: 95 } }),
        unavailable: "hedging not landed yet",
      },
      {
        id: "ballast-hedge50",
        label: "ballast, hedge after 50 ms",
        config: () => ({ hedge: { afterMs: 50 } }),
        unavailable: "hedging not landed yet",
      },
    ],
  },
  overload: {
    // Defaults: limit 64, queue 256, queueTimeoutMs 5000 (engages here: the backlog grows past 64).
    config: DEFAULTS,
    extra: [
      {
        id: "ballast-adaptive",
        label: "ballast, limit adaptive",
        config: () => ({ concurrency: { limit: "adaptive" } }),
        unavailable: "backpressure not landed yet",
      },
      {
        id: "ballast-limit8",
        label: "ballast, limit 8 queue 8 (origin's capacity, known)",
        config: () => ({ concurrency: { limit: 8, queue: 8, queueTimeoutMs: 100 } }),
        unavailable: "backpressure not landed yet",
      },
    ],
  },
};

/** ballast's defaults, which the peers' "≈ ballast" rows copy where they can. */
export const EQUIVALENT = {
  attempts: 4, // first attempt included
  baseMs: 100, // full jitter: U(0, min(cap, base * 2^n))
  capMs: 5_000,
  statuses: [408, 429, 500, 502, 503, 504],
  retryAfterStatuses: [429, 503],
  maxRetryAfterMs: 20_000,
  attemptMs: 10_000,
  totalMs: 30_000,
};

/**
 * p-retry's defaults (retries 10, factor 2, minTimeout 1000 ms, no jitter) wait 1 + 2 + ... + 512 s
 * = 1023 s before a task gives up. Fault runs scale minTimeout by this factor so they stay bounded;
 * the number of attempts (and so the amplification) does not depend on the delays. Rows where the
 * scaled delays change a latency figure are marked.
 */
export const P_RETRY_TIME_SCALE = 1 / 1000;

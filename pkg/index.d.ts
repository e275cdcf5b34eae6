/**
 * ballast-fetch: a resilience layer for `fetch`. Retry budgets instead of blind retries, jittered
 * backoff that honours `Retry-After`, one deadline over the whole call, load shedding, routes with
 * failover, and the figures that show a retry storm starting.
 *
 * @example
 * ```ts
 * import { createFetch } from "ballast-fetch";
 *
 * const api = createFetch(); // once per module or isolate, never per request
 * const res = await api("https://api.example.com/items");
 * ```
 *
 * @packageDocumentation
 */

// ==== Configuration ==============================================================================

/**
 * Jitter strategy of the backoff between attempts (the four of AWS's "Exponential Backoff and
 * Jitter"), with `expo = min(capMs, baseMs × 2^n)` for retry n (0 for the first retry):
 *
 * - `"exponential"`: `expo`, no jitter (a predictable schedule);
 * - `"full"`: uniform in `[0, expo]` (the default);
 * - `"equal"`: `expo / 2` plus uniform in `[0, expo / 2]`;
 * - `"decorrelated"`: `min(capMs, uniform(baseMs, previous × 3))`.
 */
export type BackoffKind = "exponential" | "full" | "equal" | "decorrelated";

/** The wait between attempts. Ignored when a retried response carries `Retry-After`. */
export interface BackoffConfig {
  /**
   * Jitter strategy. Full jitter does less than half the work of plain exponential backoff with
   * contending clients.
   * @defaultValue `"full"`
   */
  kind?: BackoffKind;
  /**
   * Base delay in ms, in [0, 3600000].
   * @defaultValue `100`
   */
  baseMs?: number;
  /**
   * Largest delay in ms, in [baseMs, 3600000].
   * @defaultValue `5000`
   */
  capMs?: number;
}

/** What is retried, how often, and how long to wait in between. */
export interface RetryConfig {
  /**
   * Attempts per call, the first one included: an integer in [1, 10]. The retry budget, not this
   * cap, is what stops a storm.
   * @defaultValue `4`
   */
  maxAttempts?: number;
  /** The wait between attempts. */
  backoff?: BackoffConfig;
  /**
   * Response statuses that are retried (HTTP statuses in [100, 599]). Other statuses resolve at
   * once. Network errors and attempt timeouts are always retryable.
   * @defaultValue `[408, 429, 500, 502, 503, 504]`
   */
  statuses?: number[];
  /**
   * Methods that are retried (case-insensitive). POST and PATCH are also retried when the request
   * has an `Idempotency-Key` header.
   * @defaultValue `["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "QUERY"]`
   */
  methods?: string[];
  /**
   * Longest `Retry-After` wait honoured (on any retried status, and on a 413, which is retried
   * only when it carries one), in ms, in [0, 3600000]; longer ones are clamped to it.
   * @defaultValue `20000`
   */
  maxRetryAfterMs?: number;
  /**
   * Decides whether to retry after an attempt that failed: `true` retries, `false` stops (a
   * response in hand resolves the call; otherwise it rejects with give-up reason `"declined"`),
   * `undefined` leaves it to ballast (`info.retry`). Asked only when a retry is possible at all
   * (no other attempt in flight, the request may be sent again, attempts left), after a retryable
   * failure or any status from 400 up; never after a success. May return a promise. `true` still
   * goes through the deadline and the retry budget: a hook can ask for fewer retries, never for
   * more than the budget allows. Throwing, rejecting or returning anything else rejects the call
   * with a `BallastError` (`HOOK`) naming it. Code, not configuration: no part of the fingerprint.
   */
  shouldRetry?: (info: RetryInfo) => boolean | undefined | Promise<boolean | undefined>;
  /**
   * The wait before a retry, in ms (0 or more), instead of ballast's (`info.delayMs`: the backoff,
   * or what the response's `Retry-After` asks); `undefined` keeps ballast's. Still clamped to
   * `maxRetryAfterMs`, and a wait that would pass `timeout.totalMs` gives up (give-up reason
   * `"deadline"`). May return a promise. Throwing, rejecting or returning anything else rejects
   * the call with a `BallastError` (`HOOK`) naming it.
   */
  delay?: (info: RetryInfo & { delayMs: number }) => number | undefined | Promise<number | undefined>;
}

/** What the retry hooks (`retry.shouldRetry`, `retry.delay`) are told about an attempt that failed. */
export interface RetryInfo {
  /** The attempt's number (1 for the first). */
  attempt: number;
  /** ballast's own verdict: it would retry. */
  retry: boolean;
  /** The response's status, when the attempt got one. */
  status: number | undefined;
  /**
   * The response, when the attempt got one, unread: the call may still resolve with it, so read a
   * `clone()` if the hook needs the body.
   */
  response: Response | undefined;
  /** What the attempt failed with, when it got no response (a network error, a `TimeoutError`). */
  error: unknown;
  /** The call's method, upper case. */
  method: string;
  /** The call's URL as the caller gave it. */
  url: string;
}

/**
 * The retry budget: a token bucket shared by every call of one client. Each retry withdraws
 * `1 / ratio` deposits; when the bucket is empty the retry does not happen and the call settles
 * with what it has (give-up reason `"budget-exhausted"`).
 */
export interface BudgetConfig {
  /**
   * Who earns retries: `"success"` (calls that succeed, so a full outage costs only the reserve)
   * or `"task"` (every call, Finagle's model: `1 + ratio` times the traffic in an outage).
   * @defaultValue `"success"`
   */
  depositOn?: "success" | "task";
  /**
   * Retries allowed per deposit over the window, in [0, 10].
   * @defaultValue `0.2`
   */
  ratio?: number;
  /**
   * Retries per second always allowed, whatever the traffic (the reserve), in [0, 10000]. With
   * the defaults the reserve is 10 retries (`minPerSec × ttlMs / 1000`).
   * @defaultValue `1`
   */
  minPerSec?: number;
  /**
   * How long a deposit counts, in ms, in [1000, 60000].
   * @defaultValue `10000`
   */
  ttlMs?: number;
}

/** Timeouts. `null` switches one off. */
export interface TimeoutConfig {
  /**
   * Timeout of each attempt until its response headers arrive, in ms (fresh for every attempt),
   * in [1, 3600000], or `null` for none. An attempt that times out may be retried.
   * @defaultValue `10000`
   */
  attemptMs?: number | null;
  /**
   * One deadline over the whole call (queueing, attempts and sleeps) until the response headers
   * arrive, in ms, in [1, 3600000], or `null` for none. When it runs out the call rejects with a
   * `DOMException` named `"TimeoutError"`.
   * @defaultValue `30000`
   */
  totalMs?: number | null;
}

/** Backpressure: how many attempts one client may have in flight, and what waits. */
export interface ConcurrencyConfig {
  /**
   * Attempts in flight at once (retries included): an integer in [1, 100000], `"adaptive"`
   * (Gradient2: falls when latency rises above the baseline; starts at 20, bounds [2, 1000]), or
   * `null` for no limit.
   * @defaultValue `64`
   */
  limit?: number | "adaptive" | null;
  /**
   * Attempts that may wait for a slot (FIFO), an integer in [0, 1000000]; beyond that they are
   * shed at once (`BallastError` code `"SHED"`, reason `"queue-full"`).
   * @defaultValue `256`
   */
  queue?: number;
  /**
   * Longest wait for a slot, in ms, in [0, 3600000]; then the call is shed (reason
   * `"queue-timeout"`).
   * @defaultValue `5000`
   */
  queueTimeoutMs?: number;
}

/** Thresholds of the pressure signal (`snapshot().pressure`, the `"pressure"` event). */
export interface PressureConfig {
  /**
   * Level at which the state becomes `"warn"`, in [0.01, 1].
   * @defaultValue `0.5`
   */
  warn?: number;
  /**
   * Level at which the state becomes `"critical"`, in [warn, 1].
   * @defaultValue `0.8`
   */
  critical?: number;
  /**
   * How far below a threshold the level must fall for the state to step back down, in [0, warn],
   * so the event does not flap.
   * @defaultValue `0.1`
   */
  hysteresis?: number;
}

/** One route: an origin, mirror or region that serves the same API. */
export interface RouteConfig {
  /** The route's name in snapshots and events: non-empty, unique. Required. */
  name: string;
  /**
   * Absolute http(s) URL, optionally with a base path, without query or fragment. A path passed
   * to the client (`"/items?id=1"`) is resolved against it. Required.
   */
  url: string;
  /**
   * Relative share of traffic among healthy routes, in [0.001, 1000000].
   * @defaultValue `1`
   */
  weight?: number;
  /**
   * A fallback serves only when every primary is ejected, has failed this call, the retry budget
   * is empty, or the deadline is near. At least one route must not be a fallback.
   * @defaultValue `false`
   */
  fallback?: boolean;
  /**
   * Keep `Authorization`, `Cookie` and `Proxy-Authorization` (and the request's `credentials`)
   * when failing over to this route from another origin. Otherwise they are dropped.
   * @defaultValue `false`
   */
  forwardCredentials?: boolean;
}

/** How routes are chosen, ejected and restored. Only used when `routes` are configured. */
export interface RoutingConfig {
  /**
   * Route switches on retries draw from this bucket, like the retry budget: `ratio` switches per
   * routed call (in [0, 10]) plus `minPerSec` per second in reserve (in [0, 10000]). Without a
   * token a retry stays on its route.
   * @defaultValue `{ ratio: 0.2, minPerSec: 1 }`
   */
  switchBudget?: {
    /**
     * Switches per routed call, in [0, 10].
     * @defaultValue `0.2`
     */
    ratio?: number;
    /**
     * Switches per second always allowed, in [0, 10000].
     * @defaultValue `1`
     */
    minPerSec?: number;
  };
  /** Outlier ejection (after Envoy's outlier detection). */
  ejection?: {
    /**
     * Failures in a row that eject a route, an integer in [1, 1000].
     * @defaultValue `5`
     */
    consecutiveFailures?: number;
    /**
     * Success rate over an interval below which a route is ejected, in [0, 1].
     * @defaultValue `0.8`
     */
    minSuccessRate?: number;
    /**
     * With 3 or more routes, eject a route whose interval success rate is below
     * mean − stdevFactor × stdev, in [0, 100].
     * @defaultValue `1.9`
     */
    stdevFactor?: number;
    /**
     * Requests a route needs in an interval before the success-rate rules apply to it, an
     * integer in [1, 1000000].
     * @defaultValue `10`
     */
    minRequests?: number;
    /**
     * How often the success-rate rules are evaluated, in ms, in [10, 3600000].
     * @defaultValue `10000`
     */
    intervalMs?: number;
    /**
     * Ejection time = baseMs × the route's ejections so far, capped at `maxMs`; in ms, in
     * [1, 3600000].
     * @defaultValue `30000`
     */
    baseMs?: number;
    /**
     * Longest ejection, in ms, in [baseMs, 3600000].
     * @defaultValue `300000`
     */
    maxMs?: number;
    /**
     * At most this percentage of routes ejected at once (one always may be), in [0, 100].
     * @defaultValue `50`
     */
    maxPercent?: number;
  };
  /**
   * Successful probes in a row before an ejected route is restored, an integer in [1, 1000].
   * @defaultValue `3`
   */
  probes?: number;
  /**
   * Share of recent routed calls served by fallback above which fallback "is the default"
   * (`snapshot().fallback.isDefault`, the `"fallback-default"` event), in [0.01, 1].
   * @defaultValue `0.5`
   */
  fallbackDefaultShare?: number;
}

/**
 * Hedged requests: when the first attempt of an idempotent call is slow, send one more to another
 * healthy route (or the same URL) and keep the first good response. Set `afterMs` or `percentile`,
 * not both.
 *
 * @example
 * ```ts
 * createFetch({ hedge: { afterMs: 50 } }); // works with or without routes
 * createFetch({ routes, hedge: { percentile: 95, maxExtraLoad: 0.05 } }); // needs routes
 * ```
 */
export interface HedgeConfig {
  /**
   * Hedge when the first attempt has not answered after this many ms, in [1, 3600000]... (`null`:
   * as absent, for a config that sets `percentile` instead)
   */
  afterMs?: number | null;
  /**
   * ...or after the route's recent latency at this percentile, in [50, 99.99] (needs routes, and
   * 20 samples of the route; `null`: as absent).
   */
  percentile?: number | null;
  /**
   * Hedges per call at most, on average, in [0, 1] (plus a reserve of 1 per second over 10 s).
   * @defaultValue `0.05`
   */
  maxExtraLoad?: number;
}

/** A function with `fetch`'s signature. */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/**
 * The configuration of {@link createFetch}. Every key is optional. Unknown keys are errors (a typo
 * is not a silent default): an invalid config throws {@link ConfigError}.
 *
 * @example
 * ```ts
 * const api = createFetch({
 *   retry: { maxAttempts: 3 },
 *   budget: { ratio: 0.1 },
 *   timeout: { attemptMs: 5_000, totalMs: 15_000 },
 *   concurrency: { limit: 16 },
 * });
 * ```
 */
export interface RedactConfig {
  /**
   * Show query parameter values as `REDACTED` in error messages and events (`?token=REDACTED`):
   * query strings often carry secrets. `false` keeps them. The request itself is never changed.
   * @defaultValue `true`
   */
  query?: boolean;
}

/** What `hooks.beforeAttempt` is told about the attempt it may change. */
export interface AttemptInfo {
  /** The attempt's number (1 for the first). */
  attempt: number;
  /** Whether it is a hedge (sent beside a slow attempt). */
  hedge: boolean;
  /** Where it goes: the call's URL, or its route's when routing chose one. */
  url: string;
}

export interface Hooks {
  /**
   * Called before every attempt with its Request (the route's URL, the caller's headers and
   * body): return another Request to send instead (a refreshed token, say), or a promise of one,
   * or nothing to send it as it is. Credentials are stripped after it, as the route says. A hook
   * that throws, rejects or returns something else fails the call at once with a `BallastError`
   * (`HOOK`) whose message names the hook; no retry, no budget spent.
   */
  beforeAttempt?: (request: Request, info: AttemptInfo) => Request | void | Promise<Request | void>;
}

export interface BallastConfig {
  /** What is retried, how often, and the backoff. */
  retry?: RetryConfig;
  /** The retry budget shared by every call of the client. */
  budget?: BudgetConfig;
  /** Per-attempt timeout and the deadline over the whole call. */
  timeout?: TimeoutConfig;
  /** Concurrency limit, queue and shedding. */
  concurrency?: ConcurrencyConfig;
  /** Thresholds of the pressure signal. */
  pressure?: PressureConfig;
  /**
   * Several origins for one API, ranked by stability, with ejection and fallbacks.
   * @defaultValue `[]` (no routing: every call goes where its URL says)
   */
  routes?: RouteConfig[];
  /** How routes are chosen, ejected and restored. */
  routing?: RoutingConfig;
  /**
   * Hedged requests, or `null` for none.
   * @defaultValue `null` (off)
   */
  hedge?: HedgeConfig | null;
  /**
   * Seed for the jitter RNG (reproducible schedules in tests): an integer in [0, 2^53 − 1]
   * (`null`: as absent).
   * @defaultValue random, drawn on the first call
   */
  seed?: number | null;
  /** What messages and events may show of a request's URL (user-info never). */
  redact?: RedactConfig;
  /**
   * The fetch every attempt goes through: a mock, undici, a Worker service binding.
   * @defaultValue the global `fetch`, looked up on every call
   */
  transport?: FetchLike;
  /** Functions called as a call runs (code, not configuration: no part of the fingerprint). */
  hooks?: Hooks;
  /**
   * Shares the retry budget with other clients (isolates, processes) through a coordinator
   * (docs/shared-budget.md): retries spend tokens leased from it in small batches, in the
   * background. No call ever waits for it; a retry without a leased token does not happen
   * (give-up `budget-exhausted`). A coordinator slower than 250 ms or failing puts the client on
   * its local budget with a tenth of `budget.minPerSec` as reserve (`"coordinator"` event,
   * `snapshot().budget.mode`) until it answers again. Code, not configuration: no part of the
   * fingerprint. `ballast-fetch/cloudflare` and `ballast-fetch/deno-kv` make one. Not in
   * browsers: their build leaves shared mode out, and `createFetch` throws a `ConfigError` for
   * `coordinator` there.
   * @defaultValue none: the client's own budget
   */
  coordinator?: Coordinator;
  /**
   * A state another client of this config exported ({@link BallastFetch.exportState}), to start
   * from what it learnt: its routes' long-term scores and ejections, the retry reserve it spent.
   * Checked at once (a {@link StateError} for one that cannot be taken), merged on the first call
   * (no clock is read at module scope). Not configuration: no part of the fingerprint. Not in
   * browsers: their build has no state snapshots (a {@link ConfigError} there).
   * @defaultValue none: the client starts from nothing
   */
  initialState?: BallastState | null;
}

/** A lease request: what a client sends its coordinator. */
export interface LeaseRequest {
  /** The client's config fingerprint: a group keeps one bucket per config. */
  fingerprint: string;
  /** The client's budget, which a new bucket takes. */
  budget: { ratio: number; minPerSec: number; ttlMs: number };
  /** Deposits the client made since its last report. */
  deposits: number;
  /** Retry tokens wanted. */
  want: number;
}

/** A coordinator's answer: tokens granted, spendable for `ttlMs`. */
export interface LeaseResponse {
  granted: number;
  ttlMs: number;
}

/** Where a shared retry budget lives (see {@link BallastConfig.coordinator}). */
export interface Coordinator {
  lease(request: LeaseRequest): LeaseResponse | Promise<LeaseResponse>;
}

// ==== Events =====================================================================================

/**
 * Why a call stopped retrying (`BallastError.reason`, the `"giveup"` event, `snapshot().giveups`).
 * A call that stops with a response in hand resolves with it; without one it rejects.
 *
 * - `"max-attempts"`: `retry.maxAttempts` attempts were made;
 * - `"budget-exhausted"`: the retry budget was empty;
 * - `"method-not-retryable"`: the method is not in `retry.methods` (POST and PATCH need an
 *   `Idempotency-Key` header);
 * - `"stream-body"`: the body is a stream, which can be sent only once;
 * - `"deadline"`: the next wait would pass `timeout.totalMs`, or it ran out;
 * - `"aborted"`: the caller aborted;
 * - `"invalid-response"`: the transport resolved with something that is not a `Response`;
 * - `"queue-full"`, `"queue-timeout"`: shed by the concurrency limiter;
 * - `"not-retryable"`: the request cannot succeed (an invalid URL, method or scheme, or a
 *   permission the runtime refused): one attempt, no retry budget spent;
 * - `"declined"`: `retry.shouldRetry` said `false` where ballast would have retried;
 * - `"hook-failed"`: a hook threw, rejected or returned what it may not (code `HOOK`).
 */
export type GiveUpReason =
  | "max-attempts"
  | "budget-exhausted"
  | "method-not-retryable"
  | "stream-body"
  | "deadline"
  | "aborted"
  | "invalid-response"
  | "queue-full"
  | "queue-timeout"
  | "not-retryable"
  | "declined"
  | "hook-failed";

/** One attempt of a failed call, in {@link BallastError.attempts}. */
export interface AttemptRecord {
  /** Attempt number, 1 for the first (hedges can end out of order). */
  attempt: number;
  /** The route it went to, when routes are configured. */
  route?: string;
  /**
   * `"response"`; `"error"` (no response: network, DNS, CORS); `"timeout"` (`timeout.attemptMs`,
   * or the call's deadline, ran out during it); `"aborted"` (the caller aborted, or it lost a
   * hedge race).
   */
  outcome: "response" | "error" | "timeout" | "aborted";
  /** The HTTP status, when there was a response. */
  status?: number;
  /** What the attempt failed with, when it ended without a response. */
  error?: unknown;
  /** How long the attempt took, ms. */
  durationMs: number;
}

/** Payload of the `"retry"` event: a retry is scheduled. */
/**
 * What set a retry's wait: `"backoff"`, `"hook"` (`retry.delay`), or the response header it came
 * from: `Retry-After`, then
 * (when a response has no `Retry-After`) the IETF draft's `RateLimit-Reset` and `RateLimit` (its
 * `t` or `reset`), `X-RateLimit-Reset` and `X-Rate-Limit-Reset` (delta seconds, or a Unix time
 * from 2024 on), `X-RateLimit-Retry-After`.
 */
export type RetrySource =
  | "backoff"
  | "hook"
  | "retry-after"
  | "ratelimit-reset"
  | "ratelimit"
  | "x-ratelimit-reset"
  | "x-rate-limit-reset"
  | "x-ratelimit-retry-after";

export interface RetryEvent {
  /** Number of the attempt about to start (2 for the first retry). */
  attempt: number;
  /** The wait before it (backoff, or what the response's header asked for, clamped), ms. */
  delayMs: number;
  /** What failed: `"status-503"` (any retryable status), `"network"`, `"attempt-timeout"`. */
  reason: string;
  /** What set the wait: the backoff, or the response header that did (`Retry-After` wins). */
  source: RetrySource;
  /** The call's method, upper case. */
  method: string;
  /** The call's URL: no user-info, query values `REDACTED` unless `redact.query` is false. */
  url: string;
}

/** Payload of the `"giveup"` event: a call stopped retrying. */
export interface GiveUpEvent {
  /** Why it stopped. */
  reason: GiveUpReason;
  /** Attempts made. */
  attempts: number;
  /** The call's method, upper case. */
  method: string;
  /** The call's URL: no user-info, query values `REDACTED` unless `redact.query` is false. */
  url: string;
}

/** Payload of the `"shed"` event: an attempt was refused by the concurrency limiter. */
export interface ShedEvent {
  /** The queue was full, or the attempt waited `concurrency.queueTimeoutMs`. */
  reason: "queue-full" | "queue-timeout";
  /** Number of the attempt that was shed (1 for a first attempt). */
  attempt: number;
  /** How long it waited in the queue, ms. */
  waitedMs: number;
  /** Attempts waiting for a slot at that moment. */
  queued: number;
  /** Attempts holding a slot at that moment. */
  inFlight: number;
  /** The concurrency limit at that moment, `null` when unlimited. */
  limit: number | null;
  /** The call's method, upper case. */
  method: string;
  /** The call's URL: no user-info, query values `REDACTED` unless `redact.query` is false. */
  url: string;
}

/** State of the pressure signal: the level crossed `pressure.warn` or `pressure.critical`. */
export type PressureState = "ok" | "warn" | "critical";

/** Payload of the `"pressure"` event: the pressure state changed. */
export interface PressureEvent {
  /** The new state. */
  state: PressureState;
  /** The state before. */
  previous: PressureState;
  /** The pressure level, 0..1. */
  level: number;
  /** The components contributing (>= 0.1), largest first. */
  drivers: PressureDriver[];
}

/** Payload of the `"attempt"` event: an attempt ended (fired for every attempt). */
export interface AttemptEvent {
  /** Attempt number, 1 for the first. */
  attempt: number;
  /** How it ended, as in {@link AttemptRecord.outcome}. */
  outcome: "response" | "error" | "timeout" | "aborted";
  /** The HTTP status, when there was a response. */
  status?: number;
  /** How long the attempt took, ms. */
  durationMs: number;
  /** The call's method, upper case. */
  method: string;
  /** The call's URL: no user-info, query values `REDACTED` unless `redact.query` is false. */
  url: string;
}

/** Payload of the `"eject"` event: a route was taken out of rotation. */
export interface EjectEvent {
  /** The route's name. */
  route: string;
  /** Failures in a row, a low interval success rate, or a failed probe after an ejection. */
  reason: "consecutive-failures" | "low-success-rate" | "probe-failed";
  /** How many times this route has been ejected, this one included. */
  ejections: number;
  /** How long this ejection lasts, ms. */
  durationMs: number;
}

/** Payload of the `"restore"` event: an ejected route passed its probes. */
export interface RestoreEvent {
  /** The route's name. */
  route: string;
  /** `routing.probes` successful probes in a row. */
  reason: "probes-succeeded";
  /** How long it was out, ms. */
  ejectedForMs: number;
}

/**
 * Why a fallback route served: every primary ejected, every primary failed this call, the retry
 * budget empty, or the next wait would pass the deadline.
 */
export type FallbackReason = "primary-ejected" | "budget-exhausted" | "all-primaries-failed" | "deadline";

/** Payload of the `"fallback"` event: a fallback route serves an attempt. */
export interface FallbackEvent {
  /** Why the fallback serves. */
  reason: FallbackReason;
  /** The fallback route's name. */
  route: string;
  /** The route the call failed on before, if any. */
  from: string | null;
  /** The call's method, upper case. */
  method: string;
  /** The call's URL: no user-info, query values `REDACTED` unless `redact.query` is false. */
  url: string;
}

/** Payload of the `"fallback-default"` event: fallback became, or stopped being, the default. */
export interface FallbackDefaultEvent {
  /** Whether fallback now serves more than `routing.fallbackDefaultShare` of recent routed calls. */
  isDefault: boolean;
  /** The share of recent routed calls (60 s) served by fallback, 0..1. */
  share: number;
}

/** Payload of the `"hedge"` event: a hedge was sent. */
export interface HedgeEvent {
  /** The route the hedge goes to, `null` without routes. */
  route: string | null;
  /** The route of the original attempt, `null` without routes. */
  from: string | null;
  /** The hedge delay: how long the original had been waiting, ms. */
  afterMs: number;
  /** The call's method, upper case. */
  method: string;
  /** The call's URL: no user-info, query values `REDACTED` unless `redact.query` is false. */
  url: string;
}

/**
 * Payload of the `"internal-error"` event: the engine faulted during one of this client's steps (a
 * bug in ballast). That call rejected with `BallastError` code `INTERNAL`; the client started over
 * on a fresh WebAssembly instance with its state reset. Other clients are not affected.
 */
export interface InternalErrorEvent {
  /** The INTERNAL error's message (where the panic happened). */
  message: string;
  /** Whether the client works again; `false`: every call fails at once with `INTERNAL`. */
  recovered: boolean;
}

/**
 * Payload of the `"coordinator"` event: a client with a shared budget (`coordinator`) changed
 * mode. `degraded`: its coordinator was slower than 250 ms (`timeout`) or failed (`error`), and
 * it retries on its local budget with a small reserve; `shared` (`granted`): it answered again.
 */
export interface CoordinatorEvent {
  state: "shared" | "degraded";
  reason: "granted" | "timeout" | "error";
  /**
   * With reason `error`: what the coordinator's `lease` threw or rejected with, or a TypeError
   * naming what it resolved with instead of `{ granted, ttlMs }`.
   */
  error?: unknown;
}

/** Every event type {@link BallastFetch.on} accepts, and its payload. */
export interface EventMap {
  /** A retry is scheduled. */
  retry: RetryEvent;
  /** A call stopped retrying. */
  giveup: GiveUpEvent;
  /** An attempt was shed by the concurrency limiter. */
  shed: ShedEvent;
  /** The pressure state changed. */
  pressure: PressureEvent;
  /** An attempt ended. */
  attempt: AttemptEvent;
  /** A route was ejected. */
  eject: EjectEvent;
  /** An ejected route was restored. */
  restore: RestoreEvent;
  /** A fallback route serves an attempt. */
  fallback: FallbackEvent;
  /** Fallback became, or stopped being, the default. */
  "fallback-default": FallbackDefaultEvent;
  /** A hedge was sent. */
  hedge: HedgeEvent;
  /** A shared budget's coordinator became unreachable, or reachable again. */
  coordinator: CoordinatorEvent;
  /** The client faulted and started over (see {@link InternalErrorEvent}). */
  "internal-error": InternalErrorEvent;
}

// ==== Snapshot ===================================================================================

/** One route in {@link Snapshot.routes}. */
export interface RouteSnapshot {
  /** The route's name. */
  name: string;
  /** `"healthy"`, `"ejected"` (out of rotation) or `"probing"` (ejection over, being probed). */
  state: "healthy" | "ejected" | "probing";
  /**
   * Stability score in (0, 1]: success over 10 minutes weighted 4:1 over the last 10 s, times a
   * latency factor (100 ms of cost halves it). Higher is better.
   */
  score: number;
  /** Success rate over the long (10 min) window, 0..1. */
  successRate: number;
  /** Latency quantiles of its attempts over the last 60 s, ms. */
  latency: {
    /** Median, ms. */
    p50: number;
    /** 95th percentile, ms. */
    p95: number;
    /** 99th percentile, ms. */
    p99: number;
  };
  /** Latency variance, ms² (EWMA). */
  variance: number;
  /** Attempts sent to it, lifetime. */
  attempts: number;
  /** Attempts that failed (retryable status, network error, timeout), lifetime. */
  failures: number;
  /** Times it has been ejected. */
  ejections: number;
  /**
   * Attempts sent here without the caller's `Authorization`, `Cookie` and `Proxy-Authorization`
   * (and with `credentials: "omit"`): the route is on another origin than the addressed one (for a
   * path, the first route's) and does not say `forwardCredentials: true`.
   */
  credentialsStripped: number;
}

/** A component of the pressure signal, as named in `drivers`. */
export type PressureDriver = "tail-latency" | "queue-wait" | "retry-density" | "budget-drain";

/** {@link Snapshot.pressure}: a level that moves before failures do. */
export interface PressureSnapshot {
  /** 0..1: `1 − Π(1 − component)`. */
  level: number;
  /** `"ok"`, `"warn"` or `"critical"`, with hysteresis. */
  state: PressureState;
  /** Change of the level since the previous evaluation (about a second). */
  trend: number;
  /** Contributing components (>= 0.1), largest first. */
  drivers: PressureDriver[];
  /** Each component, 0..1, measured over the last 6 s against the client's own normal. */
  components: {
    /** Attempt p95 against the latency baseline: 0 at 2×, 1 at 8×. */
    tailLatency: number;
    /** Queue-wait p95 against the latency baseline (1 at 8×), or how full the queue is. */
    queueWait: number;
    /** Retries per call above their own baseline: 1 at + `budget.ratio`. */
    retryDensity: number;
    /** Share of the retry budget (deposits + reserve) withdrawn: 0 at half, 1 when empty. */
    budgetDrain: number;
  };
}

/** Quantiles over the recent window (`windowMs`), ms, with 1% relative error. All 0 while empty. */
export interface Quantiles {
  /** Median, ms. */
  p50: number;
  /** 95th percentile, ms. */
  p95: number;
  /** 99th percentile, ms. */
  p99: number;
  /** Largest value, ms. */
  max: number;
  /** Observations in the window. */
  count: number;
}

/**
 * What {@link BallastFetch.snapshot} returns: a plain, JSON-serialisable object. Counters are
 * lifetime totals of the client; windowed figures cover the last `windowMs`.
 */
/**
 * The config a client runs, as `snapshot().config` reports it: its fingerprint (what
 * `ballast-fetch/drift`'s `fingerprint` gives for the same config, and what `toOpenMetrics` emits
 * as `ballast_config_info{fingerprint}`) and every field with its default filled in. Frozen, and
 * the same object in every snapshot of the client.
 */
export interface ConfigInfo {
  /** 12 hex digits: equal for configs that behave alike however they are written. */
  readonly fingerprint: string;
  /** The config as it behaves: every field, defaults filled in (`transport` is not part of it). */
  readonly effective: EffectiveConfig;
}

/** A config with every field filled in, as the client runs it (sets sorted, methods upper case). */
export interface EffectiveConfig {
  readonly retry: {
    readonly maxAttempts: number;
    readonly backoff: { readonly kind: BackoffKind; readonly baseMs: number; readonly capMs: number };
    readonly statuses: readonly number[];
    readonly methods: readonly string[];
    readonly maxRetryAfterMs: number;
  };
  readonly budget: { readonly ratio: number; readonly minPerSec: number; readonly ttlMs: number; readonly depositOn: "success" | "task" };
  readonly timeout: { readonly attemptMs: number | null; readonly totalMs: number | null };
  readonly concurrency: { readonly limit: number | "adaptive" | null; readonly queue: number; readonly queueTimeoutMs: number };
  readonly pressure: { readonly warn: number; readonly critical: number; readonly hysteresis: number };
  readonly routing: {
    readonly switchBudget: { readonly ratio: number; readonly minPerSec: number };
    readonly ejection: {
      readonly consecutiveFailures: number;
      readonly minSuccessRate: number;
      readonly stdevFactor: number;
      readonly minRequests: number;
      readonly intervalMs: number;
      readonly baseMs: number;
      readonly maxMs: number;
      readonly maxPercent: number;
    };
    readonly probes: number;
    readonly fallbackDefaultShare: number;
  };
  /** `null` when hedging is off. */
  readonly hedge: { readonly afterMs: number | null; readonly percentile: number | null; readonly maxExtraLoad: number } | null;
  readonly routes: readonly {
    readonly name: string;
    readonly url: string;
    readonly weight: number;
    readonly fallback: boolean;
    readonly forwardCredentials: boolean;
  }[];
  /** `null`: a random seed, drawn on the first call. */
  readonly seed: number | null;
  readonly redact: { readonly query: boolean };
}

export interface Snapshot {
  /** The config this client runs: its fingerprint and every field with its default. */
  config: ConfigInfo;
  /** Calls started, lifetime. */
  tasks: number;
  /** Calls started and not settled yet (in flight, queued or sleeping between attempts). */
  activeTasks: number;
  /** Attempts holding a concurrency slot now. */
  inFlight: number;
  /** Attempts waiting for a slot now. */
  queued: number;
  /** The concurrency limit now (an adaptive limit moves), `null` when unlimited. */
  limit: number | null;
  /** Attempts shed by the concurrency limiter (each one ended its call), lifetime. */
  shed: {
    /** All attempts shed. */
    total: number;
    /** The same, by reason. */
    byReason: Partial<Record<"queue-full" | "queue-timeout", number>>;
  };
  /** Attempts sent, lifetime. */
  attempts: number;
  /** Retries (attempts after the first), lifetime. */
  retries: number;
  /** Retries per call over the recent window (`windowMs`). */
  retryDensity: number;
  /** Length of the recent window of the windowed figures, ms (60000). */
  windowMs: number;
  /** Give-ups by reason, lifetime; only reasons that happened are present. */
  giveups: Partial<Record<GiveUpReason, number>>;
  /** The retry budget shared by every call of the client. */
  budget: {
    /** Whole retries the budget allows right now. */
    balance: number;
    /** Retries refused because the budget was empty, lifetime. */
    exhausted: number;
    /** The part of the balance that is the reserve (`budget.minPerSec × budget.ttlMs`). */
    reserve: number;
    /**
     * `"local"`: the client's own budget; with a `coordinator`, `"shared"` (retries spend leased
     * tokens) or `"degraded"` (the coordinator is unreachable: the local budget, small reserve).
     */
    mode: "local" | "shared" | "degraded";
    /** Tokens leased from the coordinator, not spent or expired (0 when `local`). */
    leased: number;
  };
  /** Whole-call latency over the recent window, ms. */
  latency: Quantiles;
  /** Per-attempt latency over the recent window, ms. */
  attemptLatency: Quantiles;
  /** Time attempts waited for a concurrency slot over the recent window, ms. */
  queueWait: Quantiles;
  /** The pressure signal. */
  pressure: PressureSnapshot;
  /** One entry per configured route; `[]` without routes. */
  routes: RouteSnapshot[];
  /** How much fallback routes serve. */
  fallback: {
    /** Attempts sent to a fallback route, lifetime. */
    total: number;
    /** The same, by reason. */
    byReason: Partial<Record<FallbackReason, number>>;
    /** Fallback has served every call since `activeForMs` ago. */
    active: boolean;
    /** How long fallback has served every call, ms (0 when not active). */
    activeForMs: number;
    /** Share of recent routed calls (60 s) served by fallback, 0..1. */
    share: number;
    /** `share` is above `routing.fallbackDefaultShare` (with at least 10 calls). */
    isDefault: boolean;
  };
  /** Route switches on retries, lifetime. */
  switches: {
    /** Retries moved to another primary route (one the call had not failed on). */
    total: number;
    /** Switches refused because the switch budget was empty (the retry stayed on its route). */
    denied: number;
  };
  /** Hedged requests, lifetime. */
  hedges: {
    /** Hedges sent. */
    sent: number;
    /** Hedges whose response won the race. */
    won: number;
    /** Hedges not sent because the hedge budget was empty. */
    budgetExhausted: number;
  };
}

// ==== The client =================================================================================

/**
 * The wrapped fetch that {@link createFetch} returns. Call it like `fetch`: it resolves with the
 * final `Response` (a 503 after the last attempt included: check `res.ok`) and rejects with
 *
 * - the caller's `signal.reason` (a `DOMException` named `"AbortError"` by default) when the
 *   caller aborts;
 * - a `DOMException` named `"TimeoutError"` when `timeout.totalMs` runs out;
 * - a {@link BallastError} otherwise (no response from the last attempt, shed, or a bug).
 *
 * It holds the client's state (retry budget, route scores, metrics): create it once per module
 * or isolate and reuse it, never per request.
 *
 * @example
 * ```ts
 * try {
 *   const res = await api("https://api.example.com/items", { signal });
 *   if (!res.ok) throw new Error(`HTTP ${res.status}`);
 * } catch (err) {
 *   if (err instanceof BallastError) console.warn(err.code, err.reason, err.attempts.length);
 *   else if ((err as Error).name === "TimeoutError") console.warn("deadline passed");
 *   throw err;
 * }
 * ```
 */
export interface BallastFetch {
  (input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /**
   * The client's figures now: counters since it was created, latency quantiles and retry
   * density over the last `windowMs`, the retry budget, backpressure, the pressure signal and
   * routes. A plain, JSON-serialisable object; pass it to {@link toOpenMetrics} to serve it.
   *
   * @example
   * ```ts
   * const { tasks, retries, budget, pressure } = api.snapshot();
   * console.log(`${retries} retries for ${tasks} calls; budget ${budget.balance}; pressure ${pressure.state}`);
   * ```
   */
  snapshot(): Snapshot;
  /**
   * Calls `listener` for every event of `type`; returns a function that unsubscribes. Events are
   * built only for types that have listeners. A listener that throws is reported with
   * `console.error` and does not affect the call. Throws `TypeError` for an unknown type.
   *
   * @example
   * ```ts
   * const off = api.on("retry", (e) => console.log(`retry #${e.attempt} in ${Math.round(e.delayMs)} ms: ${e.reason}`));
   * api.on("giveup", (e) => console.warn(`gave up on ${e.url}: ${e.reason}`));
   * off(); // stop listening to "retry"
   * ```
   */
  on<K extends keyof EventMap>(type: K, listener: (event: EventMap[K]) => void): () => void;
  /**
   * What this client learnt that other clients of its config can use (other isolates of a
   * Worker, processes, a client started later), with what it has merged from others: a plain,
   * versioned, JSON-serialisable object. Pass it to {@link BallastFetch.mergeState} or
   * `createFetch({ initialState })`. See docs/state.md. Not in browsers (their build has no state
   * snapshots): there it throws a {@link StateError} saying so.
   *
   * @example
   * ```ts
   * await env.STATE.put("ballast", JSON.stringify(api.exportState()));
   * ```
   */
  exportState(): BallastState;
  /**
   * Takes another client's state: its routes' long-window counts join this client's, a later
   * ejection or restore of a route is taken, and the retry reserve the others spent comes out of
   * this client's. Merging is commutative, associative and idempotent: states may be merged in
   * any order, any number of times. Routes are matched by name and URL; the state's routes this
   * client lacks are carried along and named in the result.
   *
   * @throws {@link StateError} for a state of another version or config, or corrupt: nothing
   *   of it is merged; and in browsers, whose build has no state snapshots.
   *
   * @example
   * ```ts
   * const saved = await env.STATE.get("ballast");
   * if (saved !== null) api.mergeState(JSON.parse(saved));
   * ```
   */
  mergeState(state: BallastState): MergeResult;
  /**
   * Replaces the routes without a new client (service discovery, a mirror added during an
   * incident), validated as `createFetch` validates them (the same {@link ConfigError}, with paths
   * such as `routes[1].url`). A route whose name and URL remain keeps its score and ejection;
   * calls in progress carry on, their next attempts routed among the new routes. `snapshot().config`
   * names the new routes (and so has a new fingerprint).
   *
   * @throws {@link ConfigError} for an invalid route; the routes are then unchanged. In browsers
   *   (a page's routes come with the page, and their build leaves this out), always.
   */
  setRoutes(routes: RouteConfig[]): void;
}

// ==== State snapshots ============================================================================

/**
 * What {@link BallastFetch.exportState} returns and {@link BallastFetch.mergeState} and
 * `createFetch({ initialState })` take: plain, JSON-serialisable, versioned. Times are wall-clock
 * ms since the epoch. Treat it as opaque: its fields are described for stores and coordinators.
 */
export interface BallastState {
  /** The format's version. */
  v: 1;
  /** The fingerprint of the config without its routes: states of another config are refused. */
  fingerprint: string;
  /** The routes it names (by name and URL), with each one's latest ejection or restore. */
  routes: StateRoute[];
  /** The latest contributions of isolates (clients), at most 32. */
  isolates: StateIsolate[];
}

/** A route in {@link BallastState.routes}. */
export interface StateRoute {
  name: string;
  url: string;
  /**
   * Its latest ejection `[at, until, ejections]` (ejected at `at` until `until`, the route's
   * `ejections` count then) or restore (`until` 0), whoever saw it; `null` for none.
   */
  health: [at: number, until: number, ejections: number] | null;
}

/** What one client knew when it exported ({@link BallastState.isolates}). */
export interface StateIsolate {
  /** A random id per client, below 2^53. */
  id: number;
  /** When it exported. */
  at: number;
  /** Retries of its budget's reserve it had spent over the budget's window (`budget.ttlMs`). */
  reserve: number;
  /** Its routes' long-window counts. */
  routes: StateCounts[];
}

/** One route's long-window counts in a {@link StateIsolate}. */
export interface StateCounts {
  /** The route's index in {@link BallastState.routes}. */
  route: number;
  /** The long window's slots that counted something: when each began, successes, failures. */
  slots: [start: number, ok: number, failed: number][];
}

/** What {@link BallastFetch.mergeState} did. */
export interface MergeResult {
  /** Contributions of other clients the client now holds. */
  isolates: number;
  /** The names of the state's routes (by name and URL) this client does not have. */
  ignoredRoutes: string[];
}

/**
 * Creates a client: a `fetch` with retry budgets, backoff, timeouts, backpressure, routes and
 * metrics. The config is validated at once: an invalid one throws {@link ConfigError}
 * synchronously. No I/O, timers or randomness happen here, so it may run at module scope (also in
 * a Cloudflare Worker).
 *
 * Create it **once** per module or isolate and reuse it: the retry budget, route scores and
 * metrics live in the client, and a client created per request starts with a full budget every
 * time (a process or isolate that creates many clients which each serve a single call gets one
 * console warning saying so).
 *
 * @param config - Optional; every key has a default. See {@link BallastConfig}.
 * @returns The wrapped fetch, with `snapshot()`, `on()`, `exportState()`, `mergeState()` and
 *   `setRoutes()`.
 * @throws {@link ConfigError} when the config is invalid (unknown keys included).
 * @throws {@link StateError} when `initialState` cannot be taken.
 *
 * @example
 * ```ts
 * import { createFetch } from "ballast-fetch";
 *
 * const api = createFetch({ retry: { maxAttempts: 3 }, timeout: { totalMs: 10_000 } });
 * const res = await api("https://api.example.com/items");
 * ```
 */
export function createFetch(config?: BallastConfig): BallastFetch;

/**
 * Thrown synchronously by {@link createFetch} for the first problem in the config. The message
 * reads `invalid ballast config: <path> = <value> (allowed: <allowed>)`.
 *
 * @example
 * ```ts
 * try {
 *   createFetch({ budget: { ratio: 20 } });
 * } catch (err) {
 *   if (err instanceof ConfigError) console.error(err.path, err.value, err.allowed);
 *   // budget.ratio 20 a number in [0, 10]
 * }
 * ```
 */
export class ConfigError extends Error {
  readonly name: "ConfigError";
  /** Path of the bad field, e.g. `"budget.ratio"` or `"routes[1].url"`. */
  readonly path: string;
  /** The value found there. */
  readonly value: unknown;
  /** What is allowed there, e.g. `"a number in [0, 10]"`. */
  readonly allowed: string;
}

/**
 * Thrown by {@link BallastFetch.mergeState} and `createFetch({ initialState })` for a state that
 * cannot be taken: another version, another config's fingerprint, or corrupt. The message reads
 * `invalid ballast state: <path> = <value> (allowed: <allowed>)`. Nothing of the state was merged.
 *
 * @example
 * ```ts
 * try {
 *   api.mergeState(JSON.parse(saved));
 * } catch (err) {
 *   if (err instanceof StateError) console.warn(err.path, err.allowed); // e.g. "fingerprint"
 *   else throw err;
 * }
 * ```
 */
export class StateError extends Error {
  readonly name: "StateError";
  /** Path of what is wrong, e.g. `"v"`, `"fingerprint"` or `"isolates[2].at"`. */
  readonly path: string;
  /** The value found there. */
  readonly value: unknown;
  /** What is allowed there. */
  readonly allowed: string;
}

/**
 * What went wrong, in {@link BallastError.code}:
 *
 * - `"NETWORK"`: the last attempt failed without a response (connection refused or reset, DNS,
 *   a CORS failure in a browser);
 * - `"ATTEMPT_TIMEOUT"`: the last attempt ran past `timeout.attemptMs`;
 * - `"INVALID_RESPONSE"`: the `transport` resolved with something that is not a `Response`;
 * - `"SHED"`: refused by the concurrency limiter (queue full, or waited too long); it never
 *   reached the origin;
 * - `"INVALID_REQUEST"`: `fetch` refused the request before any I/O (an invalid URL or method, a
 *   scheme other than http(s)); not retried;
 * - `"PERMISSION_DENIED"`: the runtime refused the request (Deno without `--allow-net` for the
 *   host, a browser's security policy); not retried;
 * - `"HOOK"`: a hook (`hooks.beforeAttempt`, `retry.shouldRetry`, `retry.delay`) threw, rejected
 *   or returned what it may not; the message names it, `cause` is what it threw;
 * - `"INTERNAL"`: a bug in ballast; the message says where.
 */
export type BallastErrorCode =
  | "NETWORK"
  | "ATTEMPT_TIMEOUT"
  | "INVALID_RESPONSE"
  | "INVALID_REQUEST"
  | "PERMISSION_DENIED"
  | "HOOK"
  | "SHED"
  | "INTERNAL";

/**
 * A call of the wrapped fetch rejected without a response to give (and not because the caller
 * aborted or `timeout.totalMs` ran out: those reject with a `DOMException`).
 *
 * @example
 * ```ts
 * catch (err) {
 *   if (err instanceof BallastError && err.code === "SHED") return cachedItems();
 *   throw err;
 * }
 * ```
 */
export class BallastError extends Error {
  readonly name: "BallastError";
  /** What went wrong. */
  readonly code: BallastErrorCode;
  /** Why it stopped retrying; `"internal"` with code `"INTERNAL"`. */
  readonly reason: GiveUpReason | "internal";
  /** The last underlying error (the transport's error, the attempt's `TimeoutError`). */
  readonly cause: unknown;
  /** One record per attempt made. */
  readonly attempts: AttemptRecord[];
}

// ==== Export: OpenMetrics text and OpenTelemetry adapter =========================================

/**
 * Content type for serving {@link toOpenMetrics} output:
 * `application/openmetrics-text; version=1.0.0; charset=utf-8`.
 */
export const OPENMETRICS_CONTENT_TYPE: "application/openmetrics-text; version=1.0.0; charset=utf-8";

/** Options of {@link toOpenMetrics}. */
export interface OpenMetricsOptions {
  /**
   * Start of every metric name; a valid metric name.
   * @defaultValue `"ballast"`
   */
  prefix?: string;
  /**
   * Constant labels added to every sample, e.g. `{ client: "payments" }`, to tell clients apart in
   * one scrape. Names must be valid label names, not start with `"__"`, and not be `reason`,
   * `component`, `quantile`, `le` or `<prefix>_pressure_state`.
   * @defaultValue `{}`
   */
  labels?: Record<string, string | number | boolean>;
}

/**
 * A snapshot in the OpenMetrics 1.0 text format (Prometheus-compatible), ending in `# EOF\n`.
 * Counters are `_total`; the windowed latencies are summaries (quantiles 0.5, 0.95, 0.99 and 1.0
 * for the max, in seconds) with the window's count as a separate `*_window_observations` gauge.
 * Fields missing from the snapshot are left out. Throws `TypeError` on an invalid prefix or label.
 *
 * @example
 * ```ts
 * if (new URL(request.url).pathname === "/metrics") {
 *   return new Response(toOpenMetrics(api.snapshot()), {
 *     headers: { "content-type": OPENMETRICS_CONTENT_TYPE },
 *   });
 * }
 * ```
 */
export function toOpenMetrics(snapshot: Partial<Snapshot>, options?: OpenMetricsOptions): string;

/** The advised `ExplicitBucketBoundaries` of `http.client.request.duration`, in seconds. */
export const HTTP_CLIENT_DURATION_BUCKETS: readonly number[];

/** A value of an OpenTelemetry attribute. */
export type ExportAttributeValue = string | number | boolean;

/** Options of {@link registerOpenTelemetry}. */
export interface OpenTelemetryOptions {
  /**
   * Namespace of the ballast-specific instruments and attributes.
   * @defaultValue `"ballast"`
   */
  prefix?: string;
  /**
   * Added to every measurement, e.g. `{ "ballast.client": "payments" }` (two clients on one Meter
   * need distinct attributes), or `server.address` / `server.port` for a client that calls one
   * origin.
   * @defaultValue `{}`
   */
  attributes?: Record<string, ExportAttributeValue>;
}

/** The parts of `@opentelemetry/api`'s `Meter` (>= 1.3) the adapter uses; any `Meter` fits. */
export interface MeterLike {
  createObservableCounter(name: string, options?: object): object;
  createObservableUpDownCounter(name: string, options?: object): object;
  createObservableGauge(name: string, options?: object): object;
  createHistogram(name: string, options?: object): {
    record(value: number, attributes?: Record<string, ExportAttributeValue>): void;
  };
  addBatchObservableCallback(callback: (observer: any) => void | Promise<void>, observables: any[]): void;
  removeBatchObservableCallback(callback: (observer: any) => void | Promise<void>, observables: any[]): void;
}

/** What the adapter needs of a ballast fetch (what {@link createFetch} returns fits). */
export interface ExportSource {
  /** Read at every collection. */
  snapshot(): Partial<Snapshot>;
  /** Used for `"attempt"` (throws `TypeError` for an unknown event: the histogram is skipped). */
  on(type: string, listener: (event: any) => void): () => void;
}

/**
 * Registers the snapshot figures (observable instruments under `ballast.*`, read by one batch
 * callback) and `http.client.request.duration` (a histogram fed by the `"attempt"` event, with
 * the HTTP semantic-convention attributes) with `meter`. `@opentelemetry/api` is never imported:
 * pass your own `Meter`.
 *
 * @returns `unregister()`, which removes the callback and the listener.
 *
 * @example
 * ```ts
 * import { metrics } from "@opentelemetry/api";
 *
 * const unregister = registerOpenTelemetry(api, metrics.getMeter("my-app"), {
 *   attributes: { "ballast.client": "catalog" },
 * });
 * ```
 */
export function registerOpenTelemetry(
  fetch: ExportSource,
  meter: MeterLike,
  options?: OpenTelemetryOptions,
): () => void;

/**
 * Semantic-convention attributes of one `"attempt"` event: `http.request.method`,
 * `server.address`, `server.port`, `url.scheme`, `http.response.status_code` and `error.type`
 * (`"timeout"`, `"network"`, `"aborted"`, or the status code for a response >= 400).
 */
export function attemptAttributes(event: {
  method: string;
  url: string;
  outcome: "response" | "error" | "timeout" | "aborted";
  status?: number;
}): Record<string, string | number>;

// Type declarations for the `ballast` package (hand-written; the contract is in README.md).

export type BackoffKind = "exponential" | "full" | "equal" | "decorrelated";

export interface BackoffConfig {
  /** Jitter strategy (AWS "Exponential Backoff and Jitter"). Default "full". */
  kind?: BackoffKind;
  /** Base delay in ms, in [0, 3600000]. Default 100. */
  baseMs?: number;
  /** Largest delay in ms, >= baseMs. Default 5000. */
  capMs?: number;
}

export interface RetryConfig {
  /** Attempts per task, the first one included, in [1, 10]. Default 4. */
  maxAttempts?: number;
  backoff?: BackoffConfig;
  /** Statuses that are retried. Default [408, 429, 500, 502, 503, 504]. */
  statuses?: number[];
  /** Methods that are retried. Default GET HEAD OPTIONS PUT DELETE TRACE; POST and PATCH also
   * when the request has an `Idempotency-Key` header. */
  methods?: string[];
  /** Largest `Retry-After` wait honoured, in ms (longer ones are clamped). Default 20000. */
  maxRetryAfterMs?: number;
}

export interface BudgetConfig {
  /** Who earns retries: "success" (calls that succeed; default) or "task" (every call, Finagle). */
  depositOn?: "success" | "task";
  /** Retries per deposit allowed over the window, in [0, 10]. Default 0.2. */
  ratio?: number;
  /** Retries per second always allowed (the reserve), in [0, 10000]. Default 1. */
  minPerSec?: number;
  /** How long a deposit counts, in ms, in [1000, 60000]. Default 10000. */
  ttlMs?: number;
}

export interface TimeoutConfig {
  /** Per-attempt timeout in ms (fresh for every attempt), or null for none. Default 10000. */
  attemptMs?: number | null;
  /** One deadline over the whole task (attempts and sleeps), or null for none. Default 30000. */
  totalMs?: number | null;
}

export interface ConcurrencyConfig {
  /** Attempts in flight at once (retries included): an integer in [1, 100000], "adaptive"
   * (Gradient2: falls when latency rises above the baseline, bounds [2, 1000], starts at 20),
   * or null for no limit. Default 64. */
  limit?: number | "adaptive" | null;
  /** Attempts that may wait for a slot (FIFO); beyond that they are shed. Default 256. */
  queue?: number;
  /** Longest wait for a slot before the call is shed, ms. Default 5000. */
  queueTimeoutMs?: number;
}

export interface PressureConfig {
  /** Level at which the state becomes "warn". Default 0.5. */
  warn?: number;
  /** Level at which the state becomes "critical" (>= warn). Default 0.8. */
  critical?: number;
  /** How far below a threshold the level must fall to step back down. Default 0.1. */
  hysteresis?: number;
}

export interface RouteConfig {
  /** Unique, non-empty. */
  name: string;
  /** Absolute http(s) URL, optionally with a base path (no query or fragment). */
  url: string;
  /** Relative share of traffic among healthy routes. Default 1. */
  weight?: number;
  /** Serves only when primaries are ejected, out of budget or failing. Default false. */
  fallback?: boolean;
  /** Keep Authorization, Cookie and Proxy-Authorization when failing over to this route from
   * another origin. Default false. */
  forwardCredentials?: boolean;
}

export interface RoutingConfig {
  /** Route switches on retries: a token bucket like the retry budget. Default { ratio: 0.2, minPerSec: 1 }. */
  switchBudget?: { ratio?: number; minPerSec?: number };
  ejection?: {
    /** Failures in a row that eject a route. Default 5. */
    consecutiveFailures?: number;
    /** Interval success rate below which a route is ejected. Default 0.8. */
    minSuccessRate?: number;
    /** Eject below mean - stdevFactor x stdev across (3+) routes. Default 1.9. */
    stdevFactor?: number;
    /** Requests in an interval before the success-rate rules apply. Default 10. */
    minRequests?: number;
    /** Default 10000. */
    intervalMs?: number;
    /** Ejection time = baseMs x ejections, capped at maxMs. Defaults 30000 / 300000. */
    baseMs?: number;
    maxMs?: number;
    /** At most this share of routes ejected at once (one always may be). Default 50. */
    maxPercent?: number;
  };
  /** Successful probes in a row before an ejected route is restored. Default 3. */
  probes?: number;
  /** Share of recent tasks served by fallback above which fallback "is the default". Default 0.5. */
  fallbackDefaultShare?: number;
}

export interface HedgeConfig {
  /** Hedge when the first attempt has not answered after this many ms... */
  afterMs?: number;
  /** ...or after the route's recent latency at this percentile (50..99.99). */
  percentile?: number;
  /** Hedges per task at most, on average (plus a reserve of 1/s over 10 s). Default 0.05. */
  maxExtraLoad?: number;
}

export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface BallastConfig {
  retry?: RetryConfig;
  budget?: BudgetConfig;
  timeout?: TimeoutConfig;
  concurrency?: ConcurrencyConfig;
  pressure?: PressureConfig;
  routes?: RouteConfig[];
  routing?: RoutingConfig;
  hedge?: HedgeConfig | null;
  /** Seed for the jitter RNG (deterministic schedules in tests). Default: random. */
  seed?: number;
  /** The fetch to wrap. Default: the global `fetch`, looked up at call time. */
  transport?: FetchLike;
}

export type GiveUpReason =
  | "max-attempts"
  | "budget-exhausted"
  | "method-not-retryable"
  | "stream-body"
  | "deadline"
  | "aborted"
  | "invalid-response"
  | "queue-full"
  | "queue-timeout";

export interface AttemptRecord {
  /** Attempt number (hedges can end out of order). */
  attempt: number;
  /** The route it went to, when routes are configured. */
  route?: string;
  outcome: "response" | "error" | "timeout" | "aborted";
  status?: number;
  error?: unknown;
  durationMs: number;
}

export interface RetryEvent {
  /** Number of the attempt about to start (2 for the first retry). */
  attempt: number;
  delayMs: number;
  /** "status-503", "network", "attempt-timeout", ... */
  reason: string;
  method: string;
  url: string;
}

export interface GiveUpEvent {
  reason: GiveUpReason;
  attempts: number;
  method: string;
  url: string;
}

export interface ShedEvent {
  reason: "queue-full" | "queue-timeout";
  /** Number of the attempt that was shed (1 for a first attempt). */
  attempt: number;
  waitedMs: number;
  queued: number;
  inFlight: number;
  limit: number | null;
  method: string;
  url: string;
}

export type PressureState = "ok" | "warn" | "critical";

export interface PressureEvent {
  state: PressureState;
  previous: PressureState;
  level: number;
  drivers: PressureDriver[];
}

export interface AttemptEvent {
  attempt: number;
  outcome: "response" | "error" | "timeout" | "aborted";
  status?: number;
  durationMs: number;
  method: string;
  url: string;
}

export interface EjectEvent {
  route: string;
  reason: "consecutive-failures" | "low-success-rate" | "probe-failed";
  ejections: number;
  durationMs: number;
}

export interface RestoreEvent {
  route: string;
  reason: "probes-succeeded";
  ejectedForMs: number;
}

export type FallbackReason = "primary-ejected" | "budget-exhausted" | "all-primaries-failed" | "deadline";

export interface FallbackEvent {
  reason: FallbackReason;
  route: string;
  /** The route the task failed on before, if any. */
  from: string | null;
  method: string;
  url: string;
}

export interface FallbackDefaultEvent {
  isDefault: boolean;
  share: number;
}

export interface HedgeEvent {
  route: string | null;
  from: string | null;
  afterMs: number;
  method: string;
  url: string;
}

export interface EventMap {
  retry: RetryEvent;
  giveup: GiveUpEvent;
  shed: ShedEvent;
  pressure: PressureEvent;
  attempt: AttemptEvent;
  eject: EjectEvent;
  restore: RestoreEvent;
  fallback: FallbackEvent;
  "fallback-default": FallbackDefaultEvent;
  hedge: HedgeEvent;
}

export interface RouteSnapshot {
  name: string;
  state: "healthy" | "ejected" | "probing";
  /** Stability score in (0, 1]: long-window success weighted 4:1 over short, times a latency factor. */
  score: number;
  /** Success rate over the long (10 min) window. */
  successRate: number;
  latency: { p50: number; p95: number; p99: number };
  /** Latency variance, ms^2 (EWMA). */
  variance: number;
  attempts: number;
  failures: number;
  ejections: number;
}

export type PressureDriver = "tail-latency" | "queue-wait" | "retry-density" | "budget-drain";

export interface PressureSnapshot {
  /** 0..1: 1 - prod(1 - component). */
  level: number;
  state: PressureState;
  /** Change of the level since the previous evaluation (about a second). */
  trend: number;
  /** Contributing components (>= 0.1), largest first. */
  drivers: PressureDriver[];
  components: { tailLatency: number; queueWait: number; retryDensity: number; budgetDrain: number };
}

export interface Quantiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}

export interface Snapshot {
  tasks: number;
  /** Calls started and not settled yet. */
  activeTasks: number;
  /** Attempts holding a concurrency slot. */
  inFlight: number;
  /** Attempts waiting for a slot. */
  queued: number;
  /** The concurrency limit now, null when unlimited. */
  limit: number | null;
  shed: { total: number; byReason: Partial<Record<"queue-full" | "queue-timeout", number>> };
  attempts: number;
  retries: number;
  /** Retries per task over the recent window (`windowMs`). */
  retryDensity: number;
  windowMs: number;
  giveups: Partial<Record<GiveUpReason, number>>;
  budget: { balance: number; exhausted: number; reserve: number };
  /** Whole-task latency over the recent window, ms. */
  latency: Quantiles;
  /** Per-attempt latency over the recent window, ms. */
  attemptLatency: Quantiles;
  /** Time attempts waited for a slot over the recent window, ms. */
  queueWait: Quantiles;
  pressure: PressureSnapshot;
  routes: RouteSnapshot[];
  fallback: {
    total: number;
    byReason: Partial<Record<FallbackReason, number>>;
    /** Fallback has served every task since `activeForMs` ago. */
    active: boolean;
    activeForMs: number;
    /** Share of recent tasks (60 s) served by fallback. */
    share: number;
    isDefault: boolean;
  };
  switches: { total: number; denied: number };
  hedges: { sent: number; won: number; budgetExhausted: number };
}

export interface BallastFetch {
  (input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  snapshot(): Snapshot;
  on<K extends keyof EventMap>(type: K, listener: (event: EventMap[K]) => void): () => void;
}

export function createFetch(config?: BallastConfig): BallastFetch;

export class ConfigError extends Error {
  readonly name: "ConfigError";
  /** Path of the bad field, e.g. "budget.ratio". */
  readonly path: string;
  readonly value: unknown;
  /** What is allowed there, e.g. "a number in [0, 10]". */
  readonly allowed: string;
}

export type BallastErrorCode =
  | "NETWORK"
  | "ATTEMPT_TIMEOUT"
  | "INVALID_RESPONSE"
  | "SHED"
  | "INTERNAL";

export class BallastError extends Error {
  readonly name: "BallastError";
  readonly code: BallastErrorCode;
  readonly reason: GiveUpReason | "internal";
  /** The last underlying error. */
  readonly cause: unknown;
  readonly attempts: AttemptRecord[];
}

// ==== Export: OpenMetrics text and OpenTelemetry adapter (pkg/export.js) =========================
// Owned by the export work (issue 4, "Export"). `@opentelemetry/api` is an optional peer that is
// never imported: the adapter takes the caller's Meter, typed structurally below.

/** Content type for serving `toOpenMetrics()` output. */
export const OPENMETRICS_CONTENT_TYPE: "application/openmetrics-text; version=1.0.0; charset=utf-8";

export interface OpenMetricsOptions {
  /** Start of every metric name; a valid metric name. Default "ballast". */
  prefix?: string;
  /** Constant labels added to every sample, e.g. `{ client: "payments" }`. Names must be valid
   * label names, not start with "__", and not be `reason`, `component`, `quantile`, `le` or
   * `<prefix>_pressure_state`. */
  labels?: Record<string, string | number | boolean>;
}

/**
 * A snapshot in the OpenMetrics 1.0 text format (Prometheus-compatible), ending in `# EOF\n`.
 * Fields missing from the snapshot are left out. Throws `TypeError` on an invalid prefix or label.
 */
export function toOpenMetrics(snapshot: Partial<Snapshot>, options?: OpenMetricsOptions): string;

/** The advised `ExplicitBucketBoundaries` of `http.client.request.duration`, in seconds. */
export const HTTP_CLIENT_DURATION_BUCKETS: readonly number[];

export type ExportAttributeValue = string | number | boolean;

export interface OpenTelemetryOptions {
  /** Namespace of the ballast-specific instruments and attributes. Default "ballast". */
  prefix?: string;
  /** Added to every measurement, e.g. `{ "ballast.client": "payments" }`, or `server.address` /
   * `server.port` for a client that calls one origin. */
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

/** What the adapter needs of a ballast fetch. */
export interface ExportSource {
  snapshot(): Partial<Snapshot>;
  /** Used for `"attempt"` (throws `TypeError` for an unknown event: the histogram is skipped). */
  on(type: string, listener: (event: any) => void): () => void;
}

/**
 * Registers the snapshot figures (observable instruments, one batch callback) and
 * `http.client.request.duration` (a histogram fed by the `"attempt"` event) with `meter`.
 * Returns `unregister()`, which removes the callback and the listener.
 */
export function registerOpenTelemetry(
  fetch: ExportSource,
  meter: MeterLike,
  options?: OpenTelemetryOptions,
): () => void;

/** Semantic-convention attributes of one `"attempt"` event (`http.request.method`,
 * `server.address`, `server.port`, `url.scheme`, `http.response.status_code`, `error.type`). */
export function attemptAttributes(event: {
  method: string;
  url: string;
  outcome: "response" | "error" | "timeout" | "aborted";
  status?: number;
}): Record<string, string | number>;
// ==== end of Export ===============================================================================

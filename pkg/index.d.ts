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
  /** Attempts per task, the first one included, in [1, 10]. Default 3. */
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
  /** Retries per task allowed over the window, in [0, 10]. Default 0.1. */
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

export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface BallastConfig {
  retry?: RetryConfig;
  budget?: BudgetConfig;
  timeout?: TimeoutConfig;
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
  | "invalid-response";

export interface AttemptRecord {
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

export interface EventMap {
  retry: RetryEvent;
  giveup: GiveUpEvent;
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
  inFlight: number;
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

export type BallastErrorCode = "NETWORK" | "ATTEMPT_TIMEOUT" | "INVALID_RESPONSE" | "INTERNAL";

export class BallastError extends Error {
  readonly name: "BallastError";
  readonly code: BallastErrorCode;
  readonly reason: GiveUpReason | "internal";
  /** The last underlying error. */
  readonly cause: unknown;
  readonly attempts: AttemptRecord[];
}

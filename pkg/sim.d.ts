/**
 * `ballast-fetch/sim`: the simulator, `rehearse`, playback and the per-call raster.
 *
 * Runs ballast's real engine in virtual time against a scenario (load, routes that fail,
 * throttle, slow down and saturate), seeded: the same scenario, options and seed give the same
 * run, bit for bit, in every runtime. Its own wasm module: importing `ballast-fetch` alone never
 * downloads it. Node, Bun, Deno and browsers (it is compiled at import, so not in Workers).
 *
 * @packageDocumentation
 */

import type { BallastConfig } from "./index.js";

/** Where calls come from; several sources add up. Times are ms from the start of the run. */
export type Arrival =
  | { kind: "steady"; rate: number; startMs?: number; endMs?: number }
  | { kind: "poisson"; rate: number; startMs?: number; endMs?: number }
  | { kind: "burst"; rate: number; startMs: number; durationMs: number }
  | { kind: "ramp"; from: number; to: number; startMs: number; endMs: number; holdMs?: number }
  | { kind: "diurnal"; mean: number; amplitude: number; periodMs: number };

/** What happens to a route over time. */
export type RouteEvent =
  /** Down: every request fails (`network: true`) or answers `status` (default 503). */
  | { kind: "outage"; startMs: number; durationMs: number; status?: number; network?: boolean }
  /** Degraded: this error rate, latency multiplied by `latencyFactor`. */
  | { kind: "brownout"; startMs: number; durationMs: number; errorRate: number; latencyFactor?: number }
  /** Rate limited: `limitPerSec` admitted (a token bucket), the rest 429 with Retry-After. */
  | { kind: "throttle"; startMs: number; durationMs: number; limitPerSec: number; retryAfterS: number }
  /** Latency drifting up to `toFactor` times over the window. */
  | { kind: "drift"; startMs: number; durationMs: number; toFactor: number };

export interface RouteModel {
  name: string;
  /** Serves only when the primaries cannot (ballast's `fallback: true`). */
  fallback?: boolean;
  weight?: number;
  /** Probability of a 503 in normal times. */
  errorRate?: number;
  /** Log-normal between median and p99, plus a heavy tail: with probability `p`, `ms` instead. */
  latency: { medianMs: number; p99Ms: number; tail?: { p: number; ms: number } };
  /**
   * How it degrades with the requests it serves at once (they count until done, even when the
   * client gave up on them): `latencyPerRequestMs` added per request in service; above `limit`,
   * the 503 probability grows by `errorPerRequest` per request beyond it.
   */
  capacity?: { limit: number; latencyPerRequestMs?: number; errorPerRequest?: number };
  events?: RouteEvent[];
}

/** A scenario: plain data (JSON). */
export interface Scenario {
  name?: string;
  description?: string;
  durationMs: number;
  /** The per-attempt timeout of the `naive` and `ballast` policies (a config keeps its own). */
  clientTimeoutMs?: number;
  arrivals: Arrival[];
  /** Primary first; `naive` uses only the first. */
  routes: RouteModel[];
  /** Failures that hit several routes at once (a shared dependency). */
  correlated?: { startMs: number; durationMs: number; routes: string[]; errorRate: number; latencyFactor?: number }[];
  /** When the trigger of a metastable failure ends (recovery is measured from here). */
  triggerEndMs?: number;
}

export type PresetName =
  | "burst"
  | "primary-outage"
  | "brownout-tail"
  | "throttle-storm"
  | "slow-drift"
  | "overload-ramp"
  | "metastable";

export interface SimulateOptions {
  /**
   * `"ballast"` (the defaults, default), `"naive"` (3 tries without backoff, no budget, no
   * routing, no shedding, Retry-After ignored), or a ballast config. A config's routes take the
   * scenario's models by name, else by position; without routes it gets the scenario's.
   */
  policy?: "ballast" | "naive" | BallastConfig;
  /** Integer in [0, 2^53); default 1. */
  seed?: number;
  /** Overrides the scenario's `durationMs`. */
  durationMs?: number;
  /** Calls to trace for the raster: those that began in [fromMs, toMs), at most `max` (400). */
  trace?: { fromMs: number; toMs: number; max?: number };
}

/** One simulated second (the format `www/src/series.js` documents). */
export interface Point {
  t: number;
  offered: number;
  attempts: number;
  byRoute: Record<string, number>;
  retries: number;
  retryDensity: number;
  successes: number;
  failures: number;
  shed: number;
  fallbacks: Record<string, number>;
  latencyP50: number | null;
  latencyP99: number | null;
  queueWaitP99: number | null;
  inFlight: number | null;
  queued: number | null;
  budget: number | null;
  pressure: number | null;
  pressureState: "ok" | "warn" | "critical" | null;
  routes: { name: string; state: "healthy" | "ejected" | "probing"; score: number }[] | null;
  outage: boolean;
}

export interface TimelineEvent {
  t: number;
  type: "fallback" | "eject" | "restore" | "fallback-default" | "pressure";
  reason?: string;
  route?: string;
  from?: string;
  detail?: string;
}

export interface TaskTrace {
  id: number;
  t: number;
  result: "ok" | "failed" | "shed" | null;
  attempts: { at: number; ms: number | null; route: string | null; outcome: string | null; status?: number }[];
}

export interface Summary {
  scenario: string;
  policy: "ballast" | "naive" | "config";
  seed: number;
  durationMs: number;
  offered: number;
  attempts: number;
  /** Attempts per call. */
  amplification: number;
  retries: number;
  successes: number;
  failures: number;
  shed: number;
  successRate: number;
  /** Successes per second. */
  goodput: number;
  latencyP50: number;
  latencyP99: number;
  timeInFallbackMs: number;
  /** From the primary's first outage to the first second with half its calls served. */
  rerouteMs: number | null;
  triggerEndMs: number | null;
  /** How long successes stayed below half the calls after the trigger ended. */
  belowHalfAfterTriggerMs: number | null;
  recovered: boolean;
  /** When the pressure signal first left "ok" (not for naive). */
  pressureWarnMs: number | null;
  /** When more than 1% of a second's settled calls first failed. */
  failuresOver1pctMs: number | null;
  budgetExhausted: number;
}

export interface SimulationRun {
  series: Point[];
  events: TimelineEvent[];
  tasks: TaskTrace[];
  summary: Summary;
  /** The run's fingerprint (16 hex digits): equal runs, equal digests. */
  digest: string;
}

/** Bad input: which input (`scenario`, `options`, `config`), the path of the bad field, and what was wrong. */
export class ScenarioError extends Error {
  name: "ScenarioError";
  input: "scenario" | "options" | "config";
  path: string;
  problem: string;
  /** rehearse: which of the scenarios passed in. */
  index?: number;
}

/** The named scenarios, in the order a page lists them. */
export const presets: Readonly<Record<PresetName, Scenario>>;

/** Runs a scenario (a preset's name or a scenario) to the end. Throws `ScenarioError`. */
export function simulate(scenario: PresetName | Scenario, options?: SimulateOptions): SimulationRun;

export interface PlayOptions extends SimulateOptions {
  /** Simulated seconds per real second (default 10). Frames come at most every 16 ms. */
  speed?: number;
  onFrame?: (frame: { t: number; points: Point[]; events: TimelineEvent[] }) => void;
  /** Stops the playback; the promise then resolves with the run so far. */
  signal?: AbortSignal;
}

/** Plays a scenario paced at `speed` times real time; resolves with the run. */
export function play(scenario: PresetName | Scenario, options?: PlayOptions): Promise<SimulationRun>;

export interface RehearseOptions {
  seed?: number;
  /** Attempts per call, at most (default 2). */
  maxAmplification?: number;
  /** Share of calls that succeed, at least (default 0: not judged). */
  minSuccess?: number;
}

export interface RehearseReport {
  seed: number;
  thresholds: { maxAmplification: number; minSuccess: number };
  rows: { scenario: string; config: Summary; naive: Summary }[];
  breaches: { scenario: string; metric: "amplification" | "successRate"; value: number; limit: number }[];
}

/** A config against scenarios (default: every preset) next to naive, on one seed. */
export function rehearse(
  config: BallastConfig,
  scenarios?: (PresetName | Scenario)[] | PresetName | Scenario,
  options?: RehearseOptions,
): RehearseReport;

/** Draws a run's `tasks` into a canvas: each call a row, each attempt a tick coloured by outcome. */
export function drawRaster(
  canvas: HTMLCanvasElement,
  tasks: TaskTrace[],
  window?: { fromS?: number; toS?: number },
): {
  rows: number;
  ticks: number;
  /** The colours it used, as CSS: each outcome, `running`, `shed` (a dot) and `waiting` (a call's life). */
  legend: Record<"ok" | "status" | "network" | "timeout" | "aborted" | "running" | "shed" | "waiting", string>;
};

/** A seed from the platform's secure random source (below 2^53). */
export function randomSeed(): number;

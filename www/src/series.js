// The demo's one data format. Every view (src/views/) renders from it and from nothing else, so
// whatever can produce it can drive the page: live mode (src/live.js) builds it from a real client's
// snapshot() and events once a second; Simulation mode (src/simulation.js) takes it as it is from
// ballast-fetch/sim's `simulate(scenario, { policy, seed, trace })` and `play()` frames.
//
// A RUN is what one client policy did under one load, second by second:
//
//   Run = {
//     policy: "naive" | "ballast",
//     label:  string,                 what the legend says ("naive: 3 tries, exponential backoff")
//     meta:   { warn, critical,       pressure thresholds (ballast's pressure.warn / .critical)
//               routes: string[] },   route names, primary first ([] when the policy has no routing)
//     points: Point[],                one per second, oldest first, t strictly increasing
//     events: Event[],                oldest first
//     tasks:  Task[],                 the newest calls, oldest first (the per-task raster)
//   }
//
// A POINT is one second; counters count what happened during that second, gauges are read at its
// end. `null` means "this policy has no such thing" (naive has no budget, routes or pressure) or
// "nothing to measure this second" (no call settled: no latency).
//
//   Point = {
//     t:            seconds since the run started, at the end of the second (1, 2, 3, ...)
//     offered:      calls started (the offered load; the same for every policy of one scenario)
//     attempts:     requests that reached a route (origin hits), first attempts and retries
//     byRoute:      { [route]: attempts } (naive: its one route)
//     retries:      attempts beyond each call's first
//     retryDensity: retries / offered, retries per call (0 when nothing was offered)
//     successes:    calls that settled with a 2xx this second
//     failures:     calls that settled otherwise (final error status, network error, timeout)
//     shed:         calls rejected by load shedding before they reached any route
//     fallbacks:    { [reason]: n }, fallback uses by reason ("primary-ejected", "budget-exhausted",
//                   "all-primaries-failed", "deadline"); {} for none
//     latencyP50, latencyP99: ms, whole-call latency of the calls that settled this second, or null
//     queueWaitP99: ms, p99 wait for a concurrency slot, or null (no limiter)
//     inFlight, queued: attempts holding / waiting for a slot at the end of the second, or null
//     budget:       retry-budget balance (retries it would allow now), or null (no budget)
//     pressure:     level in [0, 1], or null;  pressureState: "ok" | "warn" | "critical" | null
//     routes:       [{ name, state: "healthy" | "ejected" | "probing", score }], or null
//     outage:       true when the scenario had the primary route down during this second
//   }
//
// An EVENT is one discrete thing, at its own time (fractional seconds on the same clock as t):
//
//   Event = {
//     t, type: "fallback" | "eject" | "restore" | "fallback-default" | "pressure" | "outage" | "config",
//     reason?: string,   fallback: its FallbackReason; eject: "consecutive-failures" |
//                        "low-success-rate" | "probe-failed"; restore: "probes-succeeded";
//                        fallback-default: "became-default" | "no-longer-default";
//                        pressure: the new state; outage: "start" | "end"; config: "client-recreated"
//     route?: string,    the route it concerns (the fallback served, the route ejected / restored)
//     from?: string,     fallback: the route the call failed on before, if any
//     detail?: string,   free text for the timeline ("ejected for 5 s", "share 0.51", ...)
//     n?: number,        fallback: how many fallbacks it stands for (default 1; the simulator
//                        reports each second's at once)
//   }
//
// A TASK is one call, for the per-task raster (each call a row, each attempt a tick):
//
//   Task = {
//     id: number, t: seconds when the call started,
//     result: "ok" | "failed" | "shed" | null (still running),
//     attempts: [{ at: ms after the call started, ms: duration or null (running), route,
//                  outcome: "ok" | "status" | "network" | "timeout" | "aborted" | "shed" | null,
//                  status?: number }],
//   }
//
// A simulator returns per policy `{ series: Point[], events: Event[], tasks?: Task[], summary }`;
// `runFromSimulation()` below turns that into a Run. `summarize()` is the summary shape the page
// uses (its stat cards, and tests/demo/run.mjs through window.ballastDemo).

export const POLICIES = ["naive", "ballast"];
export const FALLBACK_REASONS = ["primary-ejected", "all-primaries-failed", "budget-exhausted", "deadline"];
export const TASK_OUTCOMES = ["ok", "status", "network", "timeout", "aborted", "shed"];

/** An empty run. */
export function createRun(policy, { label = policy, warn = 0.5, critical = 0.8, routes = [] } = {}) {
  return { policy, label, meta: { warn, critical, routes }, points: [], events: [], tasks: [] };
}

/** A point with every counter at zero and every gauge absent, for producers to fill in. */
export function emptyPoint(t) {
  return {
    t,
    offered: 0,
    attempts: 0,
    byRoute: {},
    retries: 0,
    retryDensity: 0,
    successes: 0,
    failures: 0,
    shed: 0,
    fallbacks: {},
    latencyP50: null,
    latencyP99: null,
    queueWaitP99: null,
    inFlight: null,
    queued: null,
    budget: null,
    pressure: null,
    pressureState: null,
    routes: null,
    outage: false,
  };
}

/** Appends a point (filling retryDensity from retries / offered), keeping about the newest `keep` seconds. */
export function pushPoint(run, point, keep = 600) {
  point.retryDensity = point.offered > 0 ? point.retries / point.offered : 0;
  run.points.push(point);
  trim(run.points, keep);
  return point;
}

/** Appends an event, keeping about the newest `keep`. */
export function pushEvent(run, event, keep = 20000) {
  run.events.push(event);
  trim(run.events, keep);
  return event;
}

/** Appends a task, keeping about the newest `keep`. */
export function pushTask(run, task, keep = 600) {
  run.tasks.push(task);
  trim(run.tasks, keep);
  return task;
}

// Drops the oldest entries once an array is a quarter over `keep` (amortised: not on every push).
function trim(list, keep) {
  if (list.length > keep + Math.ceil(keep / 4)) list.splice(0, list.length - keep);
}

/** The q-quantile (0..1) of an ascending array, nearest rank; null when empty. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

/**
 * Totals over the points with from < t <= to (default: all):
 * { seconds, offered, attempts, retries, successes, failures, shed, fallbacks, attemptsPerCall,
 *   retriesPerCall, successRate, byRoute, fallbacksByReason }.
 */
export function summarize(run, from = -Infinity, to = Infinity) {
  const s = {
    seconds: 0, offered: 0, attempts: 0, retries: 0, successes: 0, failures: 0, shed: 0, fallbacks: 0,
    byRoute: {}, fallbacksByReason: {},
  };
  for (const p of run.points) {
    if (!(p.t > from && p.t <= to)) continue;
    s.seconds++;
    s.offered += p.offered;
    s.attempts += p.attempts;
    s.retries += p.retries;
    s.successes += p.successes;
    s.failures += p.failures;
    s.shed += p.shed;
    for (const [r, n] of Object.entries(p.byRoute)) s.byRoute[r] = (s.byRoute[r] ?? 0) + n;
    for (const [r, n] of Object.entries(p.fallbacks)) {
      s.fallbacks += n;
      s.fallbacksByReason[r] = (s.fallbacksByReason[r] ?? 0) + n;
    }
  }
  const settled = s.successes + s.failures + s.shed;
  s.attemptsPerCall = s.offered > 0 ? s.attempts / s.offered : null;
  s.retriesPerCall = s.offered > 0 ? s.retries / s.offered : null;
  s.successRate = settled > 0 ? s.successes / settled : null;
  return s;
}

/** The seconds [start, end] during which points say the primary was down (for shading). */
export function outageSpans(points) {
  const spans = [];
  let open = null;
  for (const p of points) {
    if (p.outage && open === null) open = [p.t - 1, p.t];
    else if (p.outage) open[1] = p.t;
    else if (open !== null) {
      spans.push(open);
      open = null;
    }
  }
  if (open !== null) spans.push(open);
  return spans;
}

/** A Run from one simulate() result (the simulator's hook; see the top of this file). */
export function runFromSimulation(policy, result, meta = {}) {
  const run = createRun(policy, meta);
  for (const p of result.series) pushPoint(run, { ...emptyPoint(p.t), ...p }, Infinity);
  for (const e of result.events ?? []) pushEvent(run, e, Infinity);
  for (const k of result.tasks ?? []) pushTask(run, k, Infinity);
  return run;
}

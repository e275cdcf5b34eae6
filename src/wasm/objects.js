// Builders for the plain objects the driver hands to JS (shapes: pkg/index.d.ts), one call per
// object from src/wasm/to_js.rs, which says why. Keys come out in the order written here;
// optional fields are left out when `undefined`, nullable ones become `null`.

const orNull = (v) => (v === undefined ? null : v);

// Comma-joined keys, a Float64Array of values.
export function map(keys, values) {
  const o = {};
  if (keys !== "") {
    const k = keys.split(",");
    for (let i = 0; i < k.length; i++) o[k[i]] = values[i];
  }
  return o;
}

export function list(joined) {
  return joined === "" ? [] : joined.split(",");
}

export function quantiles(p50, p95, p99, max, count) {
  return { p50, p95, p99, max, count };
}

export function pressure(
  level, state, trend, drivers, tailLatency, queueWait, retryDensity, budgetDrain,
) {
  return {
    level,
    state,
    trend,
    drivers: list(drivers),
    components: { tailLatency, queueWait, retryDensity, budgetDrain },
  };
}

export function route(
  name, state, score, successRate, p50, p95, p99, variance, attempts, failures, ejections,
  credentialsStripped,
) {
  const latency = { p50, p95, p99 };
  return {
    name, state, score, successRate, latency, variance, attempts, failures, ejections,
    credentialsStripped,
  };
}

// `n` holds the numbers in this order: tasks, activeTasks, inFlight, queued, limit (NaN: null),
// attempts, retries, retryDensity, windowMs, shed.total, budget (3), switches (2), hedges (3),
// fallback.total, fallback.activeForMs, fallback.share.
export function snapshot(
  n, giveups, shedByReason, latency, attemptLatency, queueWait, pressure, routes,
  fallbackByReason, fallbackActive, fallbackIsDefault,
) {
  return {
    tasks: n[0],
    activeTasks: n[1],
    inFlight: n[2],
    queued: n[3],
    limit: Number.isNaN(n[4]) ? null : n[4],
    attempts: n[5],
    retries: n[6],
    retryDensity: n[7],
    windowMs: n[8],
    giveups,
    shed: { total: n[9], byReason: shedByReason },
    budget: { balance: n[10], exhausted: n[11], reserve: n[12] },
    latency,
    attemptLatency,
    queueWait,
    pressure,
    routes,
    fallback: {
      total: n[18],
      byReason: fallbackByReason,
      active: fallbackActive,
      activeForMs: n[19],
      share: n[20],
      isDefault: fallbackIsDefault,
    },
    switches: { total: n[13], denied: n[14] },
    hedges: { sent: n[15], won: n[16], budgetExhausted: n[17] },
  };
}

export function attemptRecord(attempt, outcome, status, durationMs, route) {
  const o = { attempt, outcome };
  if (status !== undefined) o.status = status;
  o.durationMs = durationMs;
  if (route !== undefined) o.route = route;
  return o;
}

export function retryEvent(attempt, delayMs, reason, method, url) {
  return { attempt, delayMs, reason, method, url };
}

export function giveUpEvent(reason, attempts, method, url) {
  return { reason, attempts, method, url };
}

export function shedEvent(reason, attempt, waitedMs, queued, inFlight, limit, method, url) {
  return { reason, attempt, waitedMs, queued, inFlight, limit: orNull(limit), method, url };
}

export function pressureEvent(state, previous, level, drivers) {
  return { state, previous, level, drivers: list(drivers) };
}

export function attemptEvent(attempt, outcome, status, durationMs, method, url) {
  const o = attemptRecord(attempt, outcome, status, durationMs, undefined);
  o.method = method;
  o.url = url;
  return o;
}

export function ejectEvent(route, reason, ejections, durationMs) {
  return { route, reason, ejections, durationMs };
}

export function restoreEvent(route, reason, ejectedForMs) {
  return { route, reason, ejectedForMs };
}

export function fallbackEvent(reason, route, from, method, url) {
  return { reason, route, from: orNull(from), method, url };
}

export function fallbackDefaultEvent(isDefault, share) {
  return { isDefault, share };
}

export function hedgeEvent(route, from, afterMs, method, url) {
  return { route: orNull(route), from: orNull(from), afterMs, method, url };
}

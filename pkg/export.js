// Export of ballast's figures: OpenMetrics text (`toOpenMetrics`) and an OpenTelemetry adapter
// (`registerOpenTelemetry`).
//
// Pure JS with no imports at all: the OpenTelemetry adapter works on the `Meter` the caller passes
// in (from `@opentelemetry/api`, an optional peer that ballast never imports nor bundles), so an
// application that does not use OpenTelemetry pays nothing for it, and one that does gets its own
// SDK, exporters and views.
//
// Both read the same figures from `fetch.snapshot()`; fields a snapshot lacks (an older engine)
// are left out rather than reported as zero. Names are the same in both, modulo each format's
// spelling: `ballast.retries` (OpenTelemetry) is `ballast_retries_total` (OpenMetrics), a duration
// in seconds gains `_seconds`. Per-request figures use the OpenTelemetry HTTP client semantic
// conventions (`http.client.request.duration`, `http.client.active_requests`); everything
// ballast-specific is under the prefix.

// ---------------------------------------------------------------------------------------------
// Shared vocabulary
// ---------------------------------------------------------------------------------------------

/** Give-up reasons the engine knows; reported as 0 until they happen so the series exist. */
const GIVEUP_REASONS = [
  "max-attempts",
  "budget-exhausted",
  "method-not-retryable",
  "stream-body",
  "deadline",
  "aborted",
  "invalid-response",
  "not-retryable",
  "declined",
  "hook-failed",
];

/** Shed reasons the engine knows (same reason for the zeros). */
const SHED_REASONS = ["queue-full", "queue-timeout"];

const PRESSURE_STATES = ["ok", "warn", "critical"];

/** Pressure components: snapshot key -> the name used in labels/attributes (as in `drivers`). */
const PRESSURE_COMPONENTS = [
  ["queueWait", "queue-wait"],
  ["retryDensity", "retry-density"],
  ["tailLatency", "tail-latency"],
  ["budgetDrain", "budget-drain"],
];

/** Quantile figures of a snapshot: [snapshot key, name stem, help]. Values are ms in snapshots. */
const SUMMARIES = [
  ["latency", "task_duration", "task.duration", "Duration of whole tasks (every attempt, wait and sleep)"],
  ["attemptLatency", "attempt_duration", "attempt.duration", "Duration of single attempts (HTTP requests)"],
  ["queueWait", "queue_wait_time", "queue.wait_time", "Time attempts waited for a concurrency slot"],
];

/** Quantile keys of a snapshot's `{ p50, p95, p99, max, count }`, with the canonical label value. */
const QUANTILES = [
  ["p50", "0.5"],
  ["p95", "0.95"],
  ["p99", "0.99"],
  ["max", "1.0"],
];

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const isNum = (v) => typeof v === "number" && !Number.isNaN(v);
const isFiniteNum = (v) => typeof v === "number" && Number.isFinite(v);

/** Known reasons first (as zeros when absent), then any others the snapshot has, sorted. */
function byReason(known, counts) {
  const out = new Map(known.map((r) => [r, 0]));
  const extra = Object.keys(counts).filter((r) => !out.has(r)).sort();
  for (const r of [...known, ...extra]) {
    const n = counts[r];
    if (isFiniteNum(n)) out.set(r, n);
  }
  return out;
}

/** The shed counts by reason; a total the reasons do not explain is reported as "other". */
function shedByReason(shed) {
  const reasons = byReason(SHED_REASONS, isObject(shed.byReason) ? shed.byReason : {});
  if (isFiniteNum(shed.total)) {
    let sum = 0;
    for (const n of reasons.values()) sum += n;
    if (shed.total > sum) reasons.set("other", shed.total - sum);
  }
  return reasons;
}

// ---------------------------------------------------------------------------------------------
// OpenMetrics text exposition
// ---------------------------------------------------------------------------------------------

/** Content type to serve `toOpenMetrics()` output with. */
export const OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a label value or HELP text: backslash, double quote and line feed (OpenMetrics ABNF). */
function escape(s) {
  return String(s).replace(/[\\"\n]/g, (c) => (c === "\\" ? "\\\\" : c === '"' ? '\\"' : "\\n"));
}

/** Numbers as OpenMetrics wants them: +Inf / -Inf / NaN, integers without a decimal point. */
function num(v) {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/**
 * Renders a snapshot in the OpenMetrics 1.0 text format (Prometheus-compatible), ending in
 * `# EOF\n`. Serve it with `OPENMETRICS_CONTENT_TYPE`.
 *
 * - `prefix` (default `"ballast"`) starts every metric name: letters, digits and underscores, not
 *   starting with a digit (no colon: it also names the pressure state's label).
 * - `labels` are constant labels added to every sample (e.g. `{ client: "payments" }`), to tell
 *   several clients apart in one scrape. Names must be valid label names and not clash with the
 *   labels ballast uses (`reason`, `component`, `quantile`, the pressure-state label).
 *
 * Counters are lifetime totals (`_total`). The `*_seconds` summaries are quantiles (p50, p95, p99,
 * and max as quantile 1.0) over the last `windowMs` (`<prefix>_window_seconds`), `NaN` when that
 * window saw nothing. They have no `_count`/`_sum`: OpenMetrics defines those as counters, and the
 * only count ballast has is the number of observations in the window, which goes down as the window
 * slides; it is reported as the gauge `<stem>_window_observations` instead.
 */
export function toOpenMetrics(snapshot, { prefix = "ballast", labels = {} } = {}) {
  if (!isObject(snapshot)) {
    throw new TypeError("toOpenMetrics: snapshot must be the object returned by fetch.snapshot()");
  }
  // A label name too, not only a metric name: the pressure state's stateset label is
  // `<prefix>_pressure_state`, and label names allow no colon.
  if (typeof prefix !== "string" || !LABEL_NAME.test(prefix)) {
    throw new TypeError(
      `toOpenMetrics: prefix ${JSON.stringify(prefix)} must be letters, digits and underscores, not starting with a digit`,
    );
  }
  if (!isObject(labels)) throw new TypeError("toOpenMetrics: labels must be an object");
  const stateLabel = `${prefix}_pressure_state`;
  const reserved = new Set(["reason", "component", "quantile", "le", "fingerprint", stateLabel]);
  const constant = Object.entries(labels).map(([k, v]) => {
    if (!LABEL_NAME.test(k) || k.startsWith("__") || reserved.has(k)) {
      throw new TypeError(
        `toOpenMetrics: label name ${JSON.stringify(k)} is invalid or reserved ` +
          `(reserved: ${[...reserved].join(", ")}, and names starting with "__")`,
      );
    }
    return [k, v];
  });

  const s = snapshot;
  const out = [];
  const labelSet = (extra) => {
    const all = [...constant, ...extra];
    return all.length === 0 ? "" : `{${all.map(([k, v]) => `${k}="${escape(v)}"`).join(",")}}`;
  };
  /** One family: samples are [suffix, extraLabels, value]. */
  const family = (name, type, help, unit, samples) => {
    const full = `${prefix}_${name}`;
    out.push(`# TYPE ${full} ${type}`);
    if (unit) out.push(`# UNIT ${full} ${unit}`);
    out.push(`# HELP ${full} ${escape(help)}`);
    for (const [suffix, extra, value] of samples) out.push(`${full}${suffix}${labelSet(extra)} ${num(value)}`);
  };
  const counter = (name, help, value) => {
    if (isFiniteNum(value)) family(name, "counter", help, "", [["_total", [], value]]);
  };
  const gauge = (name, help, value, unit = "") => {
    if (isNum(value)) family(name, "gauge", help, unit, [["", [], value]]);
  };

  // The config the client runs, as an info metric: a dashboard shows at once when two
  // environments (or two instances) run different configs.
  if (isObject(s.config) && typeof s.config.fingerprint === "string") {
    const help = "The config the client runs, by its fingerprint (ballast-fetch/drift).";
    family("config", "info", help, "", [["_info", [["fingerprint", s.config.fingerprint]], 1]]);
  }
  counter("tasks", "Tasks (calls of the wrapped fetch) started.", s.tasks);
  gauge(
    "tasks_active",
    "Tasks started and not yet settled (in flight, queued or sleeping between attempts).",
    s.activeTasks,
  );
  counter("attempts", "Attempts (HTTP requests) sent.", s.attempts);
  counter("retries", "Retries (attempts after the first).", s.retries);
  gauge("retry_density", "Retries per task over the recent window.", s.retryDensity);
  if (isObject(s.giveups)) {
    const samples = [...byReason(GIVEUP_REASONS, s.giveups)].map(([r, n]) => ["_total", [["reason", r]], n]);
    family("giveups", "counter", "Tasks that stopped retrying, by reason.", "", samples);
  }
  if (isObject(s.shed)) {
    const samples = [...shedByReason(s.shed)].map(([r, n]) => ["_total", [["reason", r]], n]);
    family("shed", "counter", "Attempts refused before being sent (load shedding), by reason.", "", samples);
  }
  gauge("active_requests", "Attempts in flight (holding a concurrency slot).", s.inFlight);
  gauge("queue_size", "Attempts waiting for a concurrency slot.", s.queued);
  gauge("concurrency_limit", "Concurrency limit now (+Inf when unlimited).", s.limit === null ? Infinity : s.limit);
  if (isObject(s.budget)) {
    gauge("budget_balance", "Retries the retry budget allows now.", s.budget.balance);
    gauge("budget_reserve", "Part of the budget balance that is the per-second reserve.", s.budget.reserve);
    counter("budget_exhausted", "Retries refused because the retry budget was empty.", s.budget.exhausted);
  }
  if (isObject(s.pressure)) {
    const p = s.pressure;
    gauge("pressure_level", "Pressure signal, 0 (no pressure) to 1 (overload).", p.level);
    if (typeof p.state === "string") {
      const states = PRESSURE_STATES.includes(p.state) ? PRESSURE_STATES : [...PRESSURE_STATES, p.state];
      const samples = states.map((st) => ["", [[stateLabel, st]], st === p.state ? 1 : 0]);
      family("pressure_state", "stateset", "Pressure state (ok, warn, critical).", "", samples);
    }
    gauge("pressure_trend", "Change of the pressure level over the last evaluation (about 1 s).", p.trend);
    if (isObject(p.components)) {
      const samples = PRESSURE_COMPONENTS.filter(([k]) => isNum(p.components[k])).map(([k, name]) => [
        "",
        [["component", name]],
        p.components[k],
      ]);
      if (samples.length) family("pressure_component", "gauge", "Pressure components, each 0 to 1.", "", samples);
    }
  }
  for (const [key, stem, , help] of SUMMARIES) {
    const q = s[key];
    if (!isObject(q)) continue;
    const empty = q.count === 0;
    const samples = QUANTILES.filter(([k]) => isNum(q[k])).map(([k, label]) => [
      "",
      [["quantile", label]],
      empty ? NaN : q[k] / 1000,
    ]);
    if (samples.length) family(`${stem}_seconds`, "summary", `${help}, over the recent window.`, "seconds", samples);
    const behind = `${prefix}_${stem}_seconds`;
    gauge(`${stem}_window_observations`, `Observations in the recent window behind ${behind}.`, q.count);
  }
  if (isFiniteNum(s.windowMs)) {
    gauge("window_seconds", "Length of the recent window that windowed figures cover.", s.windowMs / 1000, "seconds");
  }
  out.push("# EOF");
  return `${out.join("\n")}\n`;
}

// ---------------------------------------------------------------------------------------------
// OpenTelemetry adapter
// ---------------------------------------------------------------------------------------------

/** `ValueType` of `@opentelemetry/api` (a stable enum: INT = 0, DOUBLE = 1), without importing it. */
const INT = 0;
const DOUBLE = 1;

/**
 * Advised bucket boundaries of `http.client.request.duration`, in seconds (OpenTelemetry HTTP
 * semantic conventions, "This metric SHOULD be specified with ExplicitBucketBoundaries of ...").
 */
export const HTTP_CLIENT_DURATION_BUCKETS = Object.freeze([
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]);

/** Methods "known" per the conventions (RFC 9110 + PATCH); anything else is reported as `_OTHER`. */
const KNOWN_METHODS = new Set(["CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"]);
const DEFAULT_PORTS = { "http:": 80, "https:": 443, "ws:": 80, "wss:": 443 };

const INSTRUMENT_NAME = /^[A-Za-z][A-Za-z0-9_./-]*$/;

/**
 * Semantic-convention attributes of one attempt (the payload of the `"attempt"` event).
 *
 * `error.type` (the conventions ask instrumentations to document the values they report):
 * - `"timeout"`: the attempt timed out (`timeout.attemptMs`);
 * - `"network"`: the transport failed (no response);
 * - `"aborted"`: the caller aborted, or the task's deadline ran out, during the attempt;
 * - the status code as a string (`"503"`, `"404"`) for a response of 400 or more: for a *client*
 *   span the conventions treat 4xx as an error as well as 5xx;
 * - `"_OTHER"`: any other outcome.
 * A successful attempt (status below 400) has no `error.type`.
 */
export function attemptAttributes(event) {
  const attrs = {};
  const method = typeof event.method === "string" ? event.method : "";
  attrs["http.request.method"] = KNOWN_METHODS.has(method) ? method : "_OTHER";
  let url = null;
  try {
    url = new URL(event.url);
  } catch {
    // leave the server/url attributes out rather than guess
  }
  if (url) {
    // URL keeps the brackets of an IPv6 host; the conventions want the bare address.
    attrs["server.address"] = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = url.port ? Number(url.port) : DEFAULT_PORTS[url.protocol];
    if (port !== undefined) attrs["server.port"] = port;
    attrs["url.scheme"] = url.protocol.replace(/:$/, "");
  }
  const status = event.status;
  if (isFiniteNum(status)) attrs["http.response.status_code"] = status;
  switch (event.outcome) {
    case "response":
      if (isFiniteNum(status) && status >= 400) attrs["error.type"] = String(status);
      else if (!isFiniteNum(status)) attrs["error.type"] = "_OTHER";
      break;
    case "timeout":
      attrs["error.type"] = "timeout";
      break;
    case "error":
      attrs["error.type"] = "network";
      break;
    case "aborted":
      attrs["error.type"] = "aborted";
      break;
    default:
      attrs["error.type"] = "_OTHER";
  }
  return attrs;
}

/**
 * Registers ballast's figures with an OpenTelemetry `Meter` (from `@opentelemetry/api` >= 1.3,
 * which has batch observable callbacks). Returns `unregister()`, which removes the callback and the
 * event listener (instruments cannot be removed from a Meter; they just stop reporting).
 *
 * - `fetchLike`: what `createFetch()` returned (`snapshot()`, `on()`).
 * - `prefix` (default `"ballast"`): namespace of the ballast-specific instruments and attributes.
 * - `attributes`: added to every measurement, e.g. `{ "ballast.client": "payments" }` to tell
 *   clients apart on one Meter (two clients registered without distinct attributes overwrite each
 *   other's observations), or `{ "server.address": "api.example.com", "server.port": 443 }` for a
 *   client that calls one origin (`http.client.active_requests` cannot tell origins apart itself).
 *
 * Snapshot figures are read by one batch callback, so each collection sees one consistent
 * snapshot. `http.client.request.duration` is a real histogram fed by the `"attempt"` event (each
 * attempt is one HTTP request in the conventions' sense); with an engine that has no such event it
 * is skipped.
 */
export function registerOpenTelemetry(fetchLike, meter, { prefix = "ballast", attributes = {} } = {}) {
  if (fetchLike == null || typeof fetchLike.snapshot !== "function" || typeof fetchLike.on !== "function") {
    throw new TypeError("registerOpenTelemetry: the first argument must be what createFetch() returned");
  }
  if (meter == null || typeof meter.createObservableGauge !== "function") {
    throw new TypeError("registerOpenTelemetry: the second argument must be an OpenTelemetry Meter");
  }
  if (typeof meter.addBatchObservableCallback !== "function") {
    throw new TypeError(
      "registerOpenTelemetry: the Meter has no addBatchObservableCallback (@opentelemetry/api >= 1.3 needed)",
    );
  }
  if (typeof prefix !== "string" || !INSTRUMENT_NAME.test(prefix)) {
    throw new TypeError(`registerOpenTelemetry: prefix ${JSON.stringify(prefix)} is not a valid instrument name`);
  }
  if (!isObject(attributes)) throw new TypeError("registerOpenTelemetry: attributes must be an object");
  const base = { ...attributes };
  // The config's fingerprint on every measurement (it never changes for a client), so a
  // dashboard can tell configs apart.
  const first = fetchLike.snapshot();
  if (isObject(first.config) && typeof first.config.fingerprint === "string") {
    base[`${prefix}.config.fingerprint`] = first.config.fingerprint;
  }
  const p = (name) => `${prefix}.${name}`;
  const reasonKey = { giveup: p("giveup.reason"), shed: p("shed.reason") };
  const stateKey = p("pressure.state");
  const componentKey = p("pressure.component");

  const counter = (name, description, unit) =>
    meter.createObservableCounter(name, { description, unit, valueType: INT });
  const upDown = (name, description, unit) =>
    meter.createObservableUpDownCounter(name, { description, unit, valueType: INT });
  const gauge = (name, description, unit, valueType = DOUBLE) =>
    meter.createObservableGauge(name, { description, unit, valueType });

  const I = {
    // Semantic conventions (status: development). Required server.address/server.port are not
    // known for a whole client: pass them in `attributes` when the client calls one origin.
    activeRequests: upDown("http.client.active_requests", "Number of active HTTP requests.", "{request}"),
    tasks: counter(p("tasks"), "Tasks (calls of the wrapped fetch) started.", "{task}"),
    tasksActive: upDown(p("tasks.active"), "Tasks started and not yet settled.", "{task}"),
    attempts: counter(p("attempts"), "Attempts (HTTP requests) sent.", "{attempt}"),
    retries: counter(p("retries"), "Retries (attempts after the first).", "{retry}"),
    retryDensity: gauge(p("retry_density"), "Retries per task over the recent window.", "1"),
    giveups: counter(p("giveups"), "Tasks that stopped retrying, by reason.", "{task}"),
    shed: counter(p("shed"), "Attempts refused before being sent (load shedding), by reason.", "{request}"),
    queueSize: upDown(p("queue.size"), "Attempts waiting for a concurrency slot.", "{request}"),
    limit: gauge(p("concurrency.limit"), "Concurrency limit now (not reported when unlimited).", "{request}", INT),
    budgetBalance: gauge(p("budget.balance"), "Retries the retry budget allows now.", "{retry}", INT),
    budgetReserve: gauge(p("budget.reserve"), "Part of the budget balance that is the reserve.", "{retry}", INT),
    budgetExhausted: counter(p("budget.exhausted"), "Retries refused because the retry budget was empty.", "{retry}"),
    pressureLevel: gauge(p("pressure.level"), "Pressure signal, 0 (no pressure) to 1 (overload).", "1"),
    pressureState: gauge(p("pressure.state"), "Pressure state: 1 for the current state, 0 for the others.", "1", INT),
    pressureTrend: gauge(p("pressure.trend"), "Change of the pressure level over the last second or so.", "1"),
    pressureComponent: gauge(p("pressure.component"), "Pressure components, each 0 to 1.", "1"),
  };
  // Windowed quantiles. The API has no summary instrument, and a histogram cannot be rebuilt from
  // quantiles, so each figure is one gauge with a `quantile` attribute ("0.5", "0.95", "0.99", and
  // "1.0" for the max), the shape of a Prometheus summary once exported: one instrument per figure
  // rather than one per quantile keeps names few and lets a view drop or keep quantiles together.
  // Values are the last window's (see `windowMs`); nothing is reported while the window is empty.
  // Per-attempt durations are better read from `http.client.request.duration`, a real histogram.
  const summaries = SUMMARIES.map(([key, , name, help]) => [
    key,
    gauge(p(name), `${help}, quantiles over the recent window.`, "s"),
  ]);
  const observables = [...Object.values(I), ...summaries.map(([, g]) => g)];

  const callback = (observer) => {
    const s = fetchLike.snapshot();
    const at = (extra) => (extra ? { ...base, ...extra } : base);
    const obs = (instrument, value, extra) => {
      if (isFiniteNum(value)) observer.observe(instrument, value, at(extra));
    };
    obs(I.activeRequests, s.inFlight);
    obs(I.tasks, s.tasks);
    obs(I.tasksActive, s.activeTasks);
    obs(I.attempts, s.attempts);
    obs(I.retries, s.retries);
    obs(I.retryDensity, s.retryDensity);
    if (isObject(s.giveups)) {
      for (const [r, n] of byReason(GIVEUP_REASONS, s.giveups)) obs(I.giveups, n, { [reasonKey.giveup]: r });
    }
    if (isObject(s.shed)) {
      for (const [r, n] of shedByReason(s.shed)) obs(I.shed, n, { [reasonKey.shed]: r });
    }
    obs(I.queueSize, s.queued);
    obs(I.limit, s.limit);
    if (isObject(s.budget)) {
      obs(I.budgetBalance, s.budget.balance);
      obs(I.budgetReserve, s.budget.reserve);
      obs(I.budgetExhausted, s.budget.exhausted);
    }
    if (isObject(s.pressure)) {
      const pr = s.pressure;
      obs(I.pressureLevel, pr.level);
      obs(I.pressureTrend, pr.trend);
      if (typeof pr.state === "string") {
        const states = PRESSURE_STATES.includes(pr.state) ? PRESSURE_STATES : [...PRESSURE_STATES, pr.state];
        for (const st of states) obs(I.pressureState, st === pr.state ? 1 : 0, { [stateKey]: st });
      }
      if (isObject(pr.components)) {
        for (const [k, name] of PRESSURE_COMPONENTS) {
          obs(I.pressureComponent, pr.components[k], { [componentKey]: name });
        }
      }
    }
    for (const [key, g] of summaries) {
      const q = s[key];
      if (!isObject(q) || !(q.count > 0)) continue;
      for (const [k, label] of QUANTILES) {
        if (isFiniteNum(q[k])) obs(g, q[k] / 1000, { quantile: label });
      }
    }
  };
  meter.addBatchObservableCallback(callback, observables);

  let unsubscribe = null;
  let histogram = null;
  try {
    unsubscribe = fetchLike.on("attempt", (event) => {
      if (histogram === null || !isFiniteNum(event?.durationMs)) return;
      histogram.record(event.durationMs / 1000, { ...base, ...attemptAttributes(event) });
    });
  } catch (err) {
    // An engine without the "attempt" event (`on` throws TypeError): snapshot figures only, and no
    // empty histogram instrument.
    if (!(err instanceof TypeError)) {
      meter.removeBatchObservableCallback?.(callback, observables);
      throw err;
    }
  }
  if (unsubscribe !== null) {
    histogram = meter.createHistogram("http.client.request.duration", {
      description: "Duration of HTTP client requests.",
      unit: "s",
      valueType: DOUBLE,
      advice: { explicitBucketBoundaries: [...HTTP_CLIENT_DURATION_BUCKETS] },
    });
  }

  let done = false;
  return function unregister() {
    if (done) return;
    done = true;
    if (typeof meter.removeBatchObservableCallback === "function") {
      meter.removeBatchObservableCallback(callback, observables);
    }
    unsubscribe?.();
  };
}

// Export: toOpenMetrics() (OpenMetrics text) and registerOpenTelemetry() (a user-supplied Meter).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { MeterProvider, MetricReader, DataPointType } from "@opentelemetry/sdk-metrics";
import { createFetch } from "../../pkg/node.js";
import {
  toOpenMetrics,
  registerOpenTelemetry,
  attemptAttributes,
  HTTP_CLIENT_DURATION_BUCKETS,
  OPENMETRICS_CONTENT_TYPE,
} from "../../pkg/export.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, FAST } from "./helpers.mjs";

let origin;
const u = (p) => `${origin.url}${p}`;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

// ---- a strict OpenMetrics text parser (enough of the 1.0 ABNF to catch a bad exposition) --------

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NUMBER = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|infinity)|nan)$/i;
const SUFFIXES = {
  counter: ["_total", "_created"],
  gauge: [""],
  stateset: [""],
  info: ["_info"],
  summary: ["", "_count", "_sum", "_created"],
  histogram: ["_bucket", "_count", "_sum", "_created"],
  gaugehistogram: ["_bucket", "_gcount", "_gsum"],
  unknown: [""],
};

function parseValue(raw, where) {
  assert.match(raw, NUMBER, `${where}: bad number ${JSON.stringify(raw)}`);
  const l = raw.toLowerCase();
  if (l === "nan") return NaN;
  if (/^\+?inf/.test(l)) return Infinity;
  if (/^-inf/.test(l)) return -Infinity;
  return Number(raw);
}

/** Parses `{a="x",b="y\"z"}` starting at text[0] === "{"; returns [labels, rest]. */
function parseLabels(text, where) {
  const labels = {};
  let i = 1;
  if (text[i] === "}") return [labels, text.slice(i + 1)];
  for (;;) {
    const eq = text.indexOf("=", i);
    assert.ok(eq > i, `${where}: label without '='`);
    const name = text.slice(i, eq);
    assert.match(name, LABEL, `${where}: bad label name ${JSON.stringify(name)}`);
    assert.ok(!(name in labels), `${where}: duplicate label ${name}`);
    assert.equal(text[eq + 1], '"', `${where}: label value must be quoted`);
    let v = "";
    let j = eq + 2;
    for (;;) {
      const c = text[j];
      assert.ok(c !== undefined, `${where}: unterminated label value`);
      assert.notEqual(c, "\n", `${where}: raw newline in a label value`);
      if (c === "\\") {
        const e = text[j + 1];
        assert.ok(e === "\\" || e === '"' || e === "n", `${where}: undefined escape \\${e}`);
        v += e === "n" ? "\n" : e;
        j += 2;
      } else if (c === '"') {
        j += 1;
        break;
      } else {
        v += c;
        j += 1;
      }
    }
    labels[name] = v;
    if (text[j] === ",") {
      i = j + 1;
    } else {
      assert.equal(text[j], "}", `${where}: expected ',' or '}' after a label`);
      return [labels, text.slice(j + 1)];
    }
  }
}

function unescapeHelp(s, where) {
  return s.replace(/\\(.)/g, (_, e) => {
    assert.ok(e === "\\" || e === '"' || e === "n", `${where}: undefined escape in HELP`);
    return e === "n" ? "\n" : e;
  });
}

/** Returns Map(familyName -> { type, unit, help, samples: [{ name, labels, value }] }). */
function parseOpenMetrics(text) {
  assert.equal(typeof text, "string");
  assert.ok(!text.includes("\r"), "no carriage returns");
  assert.ok(text.endsWith("# EOF\n"), "ends with '# EOF\\n'");
  const lines = text.slice(0, -1).split("\n");
  assert.equal(lines.pop(), "# EOF");
  assert.ok(!lines.includes("# EOF"), "one EOF, at the end");
  const families = new Map();
  let current = null;
  for (const [n, line] of lines.entries()) {
    const where = `line ${n + 1} ${JSON.stringify(line)}`;
    if (line.startsWith("#")) {
      const m = /^# (TYPE|UNIT|HELP) (\S+)(?: (.*))?$/.exec(line);
      assert.ok(m, `${where}: only TYPE, UNIT, HELP and EOF comments are allowed`);
      const [, kind, name, rest = ""] = m;
      assert.match(name, NAME, `${where}: bad metric name`);
      if (kind === "TYPE") {
        assert.ok(!families.has(name), `${where}: family ${name} declared twice (interleaved?)`);
        assert.ok(rest in SUFFIXES, `${where}: unknown type ${rest}`);
        if (rest === "counter") assert.ok(!name.endsWith("_total"), `${where}: counter family named _total`);
        current = { name, type: rest, unit: undefined, help: undefined, samples: [] };
        families.set(name, current);
      } else {
        assert.ok(current && current.name === name, `${where}: ${kind} before the family's TYPE`);
        assert.equal(current.samples.length, 0, `${where}: metadata after samples`);
        if (kind === "UNIT") {
          assert.equal(current.unit, undefined, `${where}: second UNIT`);
          assert.equal(current.help, undefined, `${where}: UNIT after HELP (order is TYPE, UNIT, HELP)`);
          assert.ok(name.endsWith(`_${rest}`), `${where}: the unit must be the name's suffix`);
          current.unit = rest;
        } else {
          assert.equal(current.help, undefined, `${where}: second HELP`);
          current.help = unescapeHelp(rest, where);
        }
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(.*)$/.exec(line);
    assert.ok(m, `${where}: not a sample`);
    const [, name] = m;
    let rest = m[2];
    let labels = {};
    if (rest.startsWith("{")) [labels, rest] = parseLabels(rest, where);
    const v = /^ (\S+)(?: (\S+))?$/.exec(rest);
    assert.ok(v, `${where}: expected ' value [timestamp]'`);
    const value = parseValue(v[1], where);
    assert.ok(current, `${where}: sample before any # TYPE`);
    const suffix = name.slice(current.name.length);
    assert.ok(
      name.startsWith(current.name) && SUFFIXES[current.type].includes(suffix),
      `${where}: sample ${name} does not belong to ${current.type} family ${current.name}`,
    );
    if (current.type === "counter" && suffix === "_total") {
      assert.ok(value >= 0 && !Number.isNaN(value), `${where}: counter totals are >= 0`);
    }
    if (current.type === "summary" && suffix === "") {
      const q = Number(labels.quantile);
      assert.ok("quantile" in labels && q >= 0 && q <= 1, `${where}: summary sample needs quantile in [0, 1]`);
      assert.ok(Number.isNaN(value) || value >= 0, `${where}: quantile values are >= 0 or NaN`);
    }
    if (current.type === "stateset") {
      assert.ok(current.name in labels, `${where}: stateset sample needs the label ${current.name}`);
      assert.ok(value === 0 || value === 1, `${where}: stateset values are 0 or 1`);
    }
    current.samples.push({ name, labels, value });
  }
  return families;
}

/** The value of the one sample `name` whose labels include `labels`. */
function sample(families, name, labels = {}) {
  const hits = [];
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) hits.push(s);
    }
  }
  assert.equal(hits.length, 1, `one sample ${name} ${JSON.stringify(labels)}, found ${hits.length}`);
  return hits[0].value;
}

// ---- a full snapshot, as the engine with backpressure and pressure reports it --------------------

const FULL = Object.freeze({
  config: { fingerprint: "0123456789ab", effective: {} },
  tasks: 120,
  activeTasks: 4,
  attempts: 150,
  retries: 30,
  retryDensity: 0.25,
  windowMs: 60_000,
  inFlight: 3,
  queued: 2,
  limit: 8,
  shed: { total: 5, byReason: { "queue-full": 3, "queue-timeout": 2 } },
  giveups: { "max-attempts": 6, "budget-exhausted": 2 },
  budget: { balance: 7, exhausted: 2, reserve: 10 },
  latency: { p50: 12.5, p95: 80, p99: 120, max: 250, count: 100 },
  attemptLatency: { p50: 10, p95: 60, p99: 90, max: 200, count: 140 },
  queueWait: { p50: 1, p95: 5, p99: 9, max: 15, count: 20 },
  pressure: {
    level: 0.42,
    state: "warn",
    trend: -0.05,
    drivers: ["tail-latency", "retry-density"],
    components: { queueWait: 0.1, retryDensity: 0.2, tailLatency: 0.3, budgetDrain: 0 },
  },
});

test("toOpenMetrics: a full snapshot parses strictly, every family typed, counters _total", () => {
  const text = toOpenMetrics(FULL);
  const fam = parseOpenMetrics(text);
  assert.equal(OPENMETRICS_CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8");

  const types = Object.fromEntries([...fam].map(([name, f]) => [name, f.type]));
  assert.deepEqual(types, {
    ballast_config: "info",
    ballast_tasks: "counter",
    ballast_tasks_active: "gauge",
    ballast_attempts: "counter",
    ballast_retries: "counter",
    ballast_retry_density: "gauge",
    ballast_giveups: "counter",
    ballast_shed: "counter",
    ballast_active_requests: "gauge",
    ballast_queue_size: "gauge",
    ballast_concurrency_limit: "gauge",
    ballast_budget_balance: "gauge",
    ballast_budget_reserve: "gauge",
    ballast_budget_exhausted: "counter",
    ballast_pressure_level: "gauge",
    ballast_pressure_state: "stateset",
    ballast_pressure_trend: "gauge",
    ballast_pressure_component: "gauge",
    ballast_task_duration_seconds: "summary",
    ballast_task_duration_window_observations: "gauge",
    ballast_attempt_duration_seconds: "summary",
    ballast_attempt_duration_window_observations: "gauge",
    ballast_queue_wait_time_seconds: "summary",
    ballast_queue_wait_time_window_observations: "gauge",
    ballast_window_seconds: "gauge",
  });
  assert.equal(sample(fam, "ballast_config_info", { fingerprint: "0123456789ab" }), 1);
  for (const [name, f] of fam) {
    assert.ok(f.help && f.help.length > 0, `${name} has a HELP`);
    assert.ok(f.samples.length > 0, `${name} has samples`);
    if (f.type === "counter") for (const s of f.samples) assert.equal(s.name, `${name}_total`);
  }
  assert.equal(fam.get("ballast_task_duration_seconds").unit, "seconds");
  assert.equal(fam.get("ballast_window_seconds").unit, "seconds");

  assert.equal(sample(fam, "ballast_tasks_total"), 120);
  assert.equal(sample(fam, "ballast_tasks_active"), 4);
  assert.equal(sample(fam, "ballast_attempts_total"), 150);
  assert.equal(sample(fam, "ballast_retries_total"), 30);
  assert.equal(sample(fam, "ballast_retry_density"), 0.25);
  assert.equal(sample(fam, "ballast_giveups_total", { reason: "max-attempts" }), 6);
  assert.equal(sample(fam, "ballast_giveups_total", { reason: "budget-exhausted" }), 2);
  assert.equal(sample(fam, "ballast_giveups_total", { reason: "deadline" }), 0, "known reasons start at 0");
  assert.equal(sample(fam, "ballast_shed_total", { reason: "queue-full" }), 3);
  assert.equal(sample(fam, "ballast_shed_total", { reason: "queue-timeout" }), 2);
  assert.equal(fam.get("ballast_shed").samples.length, 2, "no 'other' when the reasons add up");
  assert.equal(sample(fam, "ballast_active_requests"), 3);
  assert.equal(sample(fam, "ballast_queue_size"), 2);
  assert.equal(sample(fam, "ballast_concurrency_limit"), 8);
  assert.equal(sample(fam, "ballast_budget_balance"), 7);
  assert.equal(sample(fam, "ballast_budget_reserve"), 10);
  assert.equal(sample(fam, "ballast_budget_exhausted_total"), 2);
  assert.equal(sample(fam, "ballast_pressure_level"), 0.42);
  assert.equal(sample(fam, "ballast_pressure_trend"), -0.05);
  assert.equal(sample(fam, "ballast_pressure_state", { ballast_pressure_state: "warn" }), 1);
  assert.equal(sample(fam, "ballast_pressure_state", { ballast_pressure_state: "ok" }), 0);
  assert.equal(sample(fam, "ballast_pressure_state", { ballast_pressure_state: "critical" }), 0);
  assert.equal(sample(fam, "ballast_pressure_component", { component: "tail-latency" }), 0.3);
  assert.equal(sample(fam, "ballast_pressure_component", { component: "retry-density" }), 0.2);
  assert.equal(sample(fam, "ballast_pressure_component", { component: "queue-wait" }), 0.1);
  assert.equal(sample(fam, "ballast_pressure_component", { component: "budget-drain" }), 0);
  // quantiles in seconds; max is quantile 1.0; canonical label values
  assert.deepEqual(
    fam.get("ballast_task_duration_seconds").samples.map((s) => [s.labels.quantile, s.value]),
    [["0.5", 0.0125], ["0.95", 0.08], ["0.99", 0.12], ["1.0", 0.25]],
  );
  assert.equal(sample(fam, "ballast_attempt_duration_seconds", { quantile: "0.99" }), 0.09);
  assert.equal(sample(fam, "ballast_queue_wait_time_seconds", { quantile: "0.95" }), 0.005);
  assert.equal(sample(fam, "ballast_task_duration_window_observations"), 100);
  assert.equal(sample(fam, "ballast_window_seconds"), 60);
  // no _count / _sum on the windowed summaries (they would not be counters)
  assert.ok(!/_seconds_(count|sum)\b/.test(text));
});

test("toOpenMetrics: tolerates missing fields, unlimited limit, empty windows, odd values", () => {
  assert.equal(toOpenMetrics({}), "# EOF\n");

  const fam = parseOpenMetrics(
    toOpenMetrics({
      tasks: 1,
      limit: null, // unlimited
      budget: {}, // no figures
      shed: { total: 4, byReason: { "queue-full": 1 } }, // 3 unexplained
      giveups: { "some-new-reason": 2 },
      latency: { p50: 0, p95: 0, p99: 0, max: 0, count: 0 },
      pressure: { level: 0.9, state: "panic", components: { tailLatency: 1 } },
    }),
  );
  assert.equal(sample(fam, "ballast_tasks_total"), 1);
  assert.equal(sample(fam, "ballast_concurrency_limit"), Infinity);
  assert.ok(!fam.has("ballast_budget_balance") && !fam.has("ballast_budget_exhausted"));
  assert.ok(!fam.has("ballast_attempts") && !fam.has("ballast_queue_size") && !fam.has("ballast_window_seconds"));
  assert.equal(sample(fam, "ballast_shed_total", { reason: "queue-full" }), 1);
  assert.equal(sample(fam, "ballast_shed_total", { reason: "queue-timeout" }), 0);
  assert.equal(sample(fam, "ballast_shed_total", { reason: "other" }), 3);
  assert.equal(sample(fam, "ballast_giveups_total", { reason: "some-new-reason" }), 2);
  assert.equal(sample(fam, "ballast_giveups_total", { reason: "max-attempts" }), 0);
  for (const s of fam.get("ballast_task_duration_seconds").samples) {
    assert.ok(Number.isNaN(s.value), "an empty window's quantiles are NaN (OpenMetrics)");
  }
  assert.equal(sample(fam, "ballast_task_duration_window_observations"), 0);
  assert.equal(sample(fam, "ballast_pressure_state", { ballast_pressure_state: "panic" }), 1);
  assert.equal(sample(fam, "ballast_pressure_state", { ballast_pressure_state: "ok" }), 0);
  assert.equal(fam.get("ballast_pressure_component").samples.length, 1);
  assert.ok(!fam.has("ballast_pressure_trend"));

  assert.throws(() => toOpenMetrics(null), TypeError);
  assert.throws(() => toOpenMetrics("x"), TypeError);
});

test("toOpenMetrics after real calls matches snapshot() (503 then 200: retries 1)", async () => {
  const f = createFetch({ retry: { maxAttempts: 2, backoff: FAST } });
  const key = uniqueKey("om");
  await (await f(u(`/seq?key=${key}&codes=503,200`))).text();
  const first = parseOpenMetrics(toOpenMetrics(f.snapshot()));
  assert.equal(sample(first, "ballast_retries_total"), 1);
  assert.equal(sample(first, "ballast_attempts_total"), 2);
  assert.equal(sample(first, "ballast_tasks_total"), 1);

  for (const p of [`/ok?key=${key}`, `/status/503?key=${key}-b`]) await (await f(u(p))).text();
  const s = f.snapshot();
  const fam = parseOpenMetrics(toOpenMetrics(s));

  assert.equal(s.retries, 2);
  assert.equal(sample(fam, "ballast_tasks_total"), 3);
  assert.equal(sample(fam, "ballast_attempts_total"), 5);
  assert.equal(sample(fam, "ballast_retries_total"), 2);
  assert.equal(sample(fam, "ballast_giveups_total", { reason: "max-attempts" }), 1);
  for (const [reason, n] of Object.entries(s.giveups)) {
    assert.equal(sample(fam, "ballast_giveups_total", { reason }), n, reason);
  }
  assert.equal(sample(fam, "ballast_retry_density"), s.retryDensity);
  assert.equal(sample(fam, "ballast_active_requests"), s.inFlight);
  assert.equal(sample(fam, "ballast_budget_balance"), s.budget.balance);
  assert.equal(sample(fam, "ballast_budget_reserve"), s.budget.reserve);
  assert.equal(sample(fam, "ballast_budget_exhausted_total"), s.budget.exhausted);
  assert.equal(sample(fam, "ballast_window_seconds"), s.windowMs / 1000);
  for (const [key, stem] of [
    ["latency", "task_duration"],
    ["attemptLatency", "attempt_duration"],
    ["queueWait", "queue_wait_time"],
  ]) {
    if (!(key in s)) continue; // queueWait arrives with backpressure
    assert.equal(sample(fam, `ballast_${stem}_window_observations`), s[key].count);
    for (const [q, label] of [["p50", "0.5"], ["p95", "0.95"], ["p99", "0.99"], ["max", "1.0"]]) {
      const v = sample(fam, `ballast_${stem}_seconds`, { quantile: label });
      if (s[key].count === 0) assert.ok(Number.isNaN(v));
      else assert.equal(v, s[key][q] / 1000, `${stem} ${label}`);
    }
  }
  assert.equal(sample(fam, "ballast_task_duration_window_observations"), 3);
  assert.equal(sample(fam, "ballast_attempt_duration_window_observations"), 5);
  // figures that arrive with backpressure and the pressure signal, when this build has them
  if ("activeTasks" in s) assert.equal(sample(fam, "ballast_tasks_active"), s.activeTasks);
  if ("queued" in s) assert.equal(sample(fam, "ballast_queue_size"), s.queued);
  if ("limit" in s) assert.equal(sample(fam, "ballast_concurrency_limit"), s.limit ?? Infinity);
  if (s.shed) {
    assert.equal(sample(fam, "ballast_shed_total", { reason: "queue-full" }), s.shed.byReason["queue-full"] ?? 0);
  }
  if (s.pressure) {
    assert.equal(sample(fam, "ballast_pressure_level"), s.pressure.level);
    assert.equal(sample(fam, "ballast_pressure_state", { ballast_pressure_state: s.pressure.state }), 1);
  }
});

test("toOpenMetrics: label values are escaped (backslash, quote, newline) and round-trip", () => {
  const nasty = 'a\\b"c\nd \u00e9\u{1F600}';
  const text = toOpenMetrics({ tasks: 2, giveups: {} }, { labels: { client: nasty, region: "eu" } });
  assert.ok(text.includes('ballast_tasks_total{client="a\\\\b\\"c\\nd \u00e9\u{1F600}",region="eu"} 2\n'), text);
  const fam = parseOpenMetrics(text);
  assert.equal(sample(fam, "ballast_tasks_total", { client: nasty, region: "eu" }), 2);
  // constant labels go on every sample, before the metric's own
  assert.equal(sample(fam, "ballast_giveups_total", { client: nasty, reason: "deadline" }), 0);
  const escaped = 'client="a\\\\b\\"c\\nd \u00e9\u{1F600}",region="eu"';
  assert.ok(text.includes(`ballast_giveups_total{${escaped},reason="deadline"} 0`));
  // non-string label values are stringified
  const numeric = parseOpenMetrics(toOpenMetrics({ tasks: 1 }, { labels: { shard: 3 } }));
  assert.equal(sample(numeric, "ballast_tasks_total", { shard: "3" }), 1);

  // custom prefix
  const fam2 = parseOpenMetrics(toOpenMetrics(FULL, { prefix: "api_client" }));
  assert.equal(sample(fam2, "api_client_retries_total"), 30);
  assert.equal(sample(fam2, "api_client_pressure_state", { api_client_pressure_state: "warn" }), 1);
  assert.ok([...fam2.keys()].every((n) => n.startsWith("api_client_")));

  // bad names are refused, not rendered into an invalid exposition
  for (const name of ["bad-name", "0x", "__name__", "reason", "quantile", "le", "component"]) {
    const labels = { [name]: "x" };
    assert.throws(() => toOpenMetrics(FULL, { labels }), TypeError, JSON.stringify(labels));
  }
  assert.throws(() => toOpenMetrics(FULL, { labels: { ballast_pressure_state: "x" } }), TypeError);
  for (const prefix of ["", "ballast.x", "1ballast", "bal last", 7, "a:b", ":ballast", "ballast:"]) {
    assert.throws(() => toOpenMetrics(FULL, { prefix }), TypeError, String(prefix));
  }
});

test("toOpenMetrics: every prefix it accepts gives a valid exposition (a colon would make an invalid label name)", () => {
  for (const prefix of ["ballast", "_", "a", "A_1", "api_client_v2", "_x9"]) {
    const families = parseOpenMetrics(toOpenMetrics(FULL, { prefix }));
    assert.equal(sample(families, `${prefix}_pressure_state`, { [`${prefix}_pressure_state`]: "warn" }), 1, prefix);
  }
  assert.throws(() => toOpenMetrics(FULL, { prefix: "svc:ballast" }), /prefix "svc:ballast" must be letters, digits and underscores/);
});

// ---- OpenTelemetry -------------------------------------------------------------------------------

class TestReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

function otel() {
  const reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const meter = provider.getMeter("ballast-export-test");
  return {
    meter,
    provider,
    /** Map(instrument name -> MetricData) of one collection. */
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      assert.deepEqual(errors, []);
      const out = new Map();
      for (const sm of resourceMetrics.scopeMetrics) for (const m of sm.metrics) out.set(m.descriptor.name, m);
      return out;
    },
  };
}

/** The data points of `name` whose attributes include `attrs`. */
function points(metrics, name, attrs = {}) {
  const m = metrics.get(name);
  assert.ok(m, `instrument ${name} reported`);
  return m.dataPoints.filter((p) => Object.entries(attrs).every(([k, v]) => p.attributes[k] === v));
}
function point(metrics, name, attrs = {}) {
  const ps = points(metrics, name, attrs);
  assert.equal(ps.length, 1, `one point of ${name} ${JSON.stringify(attrs)}, found ${ps.length}`);
  return ps[0];
}
function descriptor(metrics, name) {
  assert.ok(metrics.has(name), `instrument ${name} reported`);
  return metrics.get(name).descriptor;
}

/** A stand-in for createFetch()'s result: a fixed snapshot and hand-fired events. */
function standIn(snapshot, { events = ["retry", "giveup", "shed", "pressure", "attempt"] } = {}) {
  const listeners = new Map(events.map((e) => [e, new Set()]));
  return {
    snapshot: () => structuredClone(snapshot),
    on(type, l) {
      if (!listeners.has(type)) throw new TypeError(`unknown event "${type}"`);
      listeners.get(type).add(l);
      return () => listeners.get(type).delete(l);
    },
    emit(type, e) {
      for (const l of listeners.get(type)) l(e);
    },
    listenerCount: () => [...listeners.values()].reduce((n, s) => n + s.size, 0),
  };
}

test("OpenTelemetry: every snapshot figure of a full snapshot, with names, units and kinds", async () => {
  const { meter, provider, collect } = otel();
  const f = standIn(FULL);
  const unregister = registerOpenTelemetry(f, meter, { attributes: { "service.client": "api" } });
  const m = await collect();

  const kinds = {
    "http.client.active_requests": ["{request}", DataPointType.SUM, false],
    "ballast.tasks": ["{task}", DataPointType.SUM, true],
    "ballast.tasks.active": ["{task}", DataPointType.SUM, false],
    "ballast.attempts": ["{attempt}", DataPointType.SUM, true],
    "ballast.retries": ["{retry}", DataPointType.SUM, true],
    "ballast.retry_density": ["1", DataPointType.GAUGE],
    "ballast.giveups": ["{task}", DataPointType.SUM, true],
    "ballast.shed": ["{request}", DataPointType.SUM, true],
    "ballast.queue.size": ["{request}", DataPointType.SUM, false],
    "ballast.concurrency.limit": ["{request}", DataPointType.GAUGE],
    "ballast.budget.balance": ["{retry}", DataPointType.GAUGE],
    "ballast.budget.reserve": ["{retry}", DataPointType.GAUGE],
    "ballast.budget.exhausted": ["{retry}", DataPointType.SUM, true],
    "ballast.pressure.level": ["1", DataPointType.GAUGE],
    "ballast.pressure.state": ["1", DataPointType.GAUGE],
    "ballast.pressure.trend": ["1", DataPointType.GAUGE],
    "ballast.pressure.component": ["1", DataPointType.GAUGE],
    "ballast.task.duration": ["s", DataPointType.GAUGE],
    "ballast.attempt.duration": ["s", DataPointType.GAUGE],
    "ballast.queue.wait_time": ["s", DataPointType.GAUGE],
  };
  for (const [name, [unit, type, monotonic]] of Object.entries(kinds)) {
    assert.equal(descriptor(m, name).unit, unit, `${name} unit`);
    assert.equal(m.get(name).dataPointType, type, `${name} type`);
    if (monotonic !== undefined) assert.equal(m.get(name).isMonotonic, monotonic, `${name} monotonic`);
    assert.ok(descriptor(m, name).description.length > 0, `${name} description`);
    for (const p of m.get(name).dataPoints) {
      assert.equal(p.attributes["service.client"], "api", `${name} attributes`);
      assert.equal(p.attributes["ballast.config.fingerprint"], "0123456789ab", `${name}: the config's fingerprint`);
    }
  }

  const v = (name, attrs) => point(m, name, attrs).value;
  assert.equal(v("http.client.active_requests"), 3);
  assert.equal(v("ballast.tasks"), 120);
  assert.equal(v("ballast.tasks.active"), 4);
  assert.equal(v("ballast.attempts"), 150);
  assert.equal(v("ballast.retries"), 30);
  assert.equal(v("ballast.retry_density"), 0.25);
  assert.equal(v("ballast.giveups", { "ballast.giveup.reason": "max-attempts" }), 6);
  assert.equal(v("ballast.giveups", { "ballast.giveup.reason": "aborted" }), 0);
  assert.equal(v("ballast.shed", { "ballast.shed.reason": "queue-full" }), 3);
  assert.equal(v("ballast.shed", { "ballast.shed.reason": "queue-timeout" }), 2);
  assert.equal(v("ballast.queue.size"), 2);
  assert.equal(v("ballast.concurrency.limit"), 8);
  assert.equal(v("ballast.budget.balance"), 7);
  assert.equal(v("ballast.budget.reserve"), 10);
  assert.equal(v("ballast.budget.exhausted"), 2);
  assert.equal(v("ballast.pressure.level"), 0.42);
  assert.equal(v("ballast.pressure.trend"), -0.05);
  assert.equal(v("ballast.pressure.state", { "ballast.pressure.state": "warn" }), 1);
  assert.equal(v("ballast.pressure.state", { "ballast.pressure.state": "ok" }), 0);
  assert.equal(v("ballast.pressure.component", { "ballast.pressure.component": "tail-latency" }), 0.3);
  assert.deepEqual(
    points(m, "ballast.task.duration").map((p) => [p.attributes.quantile, p.value]),
    [["0.5", 0.0125], ["0.95", 0.08], ["0.99", 0.12], ["1.0", 0.25]],
  );
  assert.equal(v("ballast.queue.wait_time", { quantile: "1.0" }), 0.015);

  unregister();
  unregister(); // idempotent
  assert.equal(f.listenerCount(), 0);
  await provider.shutdown();
});

test("OpenTelemetry: unlimited limit and empty windows are not reported; custom prefix", async () => {
  const { meter, provider, collect } = otel();
  const snap = { ...FULL, limit: null, latency: { p50: 0, p95: 0, p99: 0, max: 0, count: 0 } };
  const unregister = registerOpenTelemetry(standIn(snap), meter, { prefix: "acme.http" });
  const m = await collect();
  const none = (name) => !m.has(name) || m.get(name).dataPoints.length === 0;
  assert.ok(none("acme.http.concurrency.limit"), "no limit observed when unlimited");
  assert.ok(none("acme.http.task.duration"), "no quantiles observed for an empty window");
  assert.equal(points(m, "acme.http.attempt.duration").length, 4);
  assert.equal(point(m, "acme.http.retries").value, 30);
  assert.equal(point(m, "acme.http.giveups", { "acme.http.giveup.reason": "max-attempts" }).value, 6);
  assert.ok(m.has("http.client.active_requests"), "semantic-convention names are not prefixed");
  assert.ok(![...m.keys()].some((n) => n.startsWith("ballast.")));
  unregister();
  await provider.shutdown();
});

test("OpenTelemetry: http.client.request.duration follows the HTTP client conventions (stand-in events)", async () => {
  const { meter, provider, collect } = otel();
  const f = standIn(FULL);
  const unregister = registerOpenTelemetry(f, meter);
  const fire = (e) => f.emit("attempt", { attempt: 1, ...e });
  fire({ method: "GET", url: "https://api.example.com/a?id=1", outcome: "response", status: 200, durationMs: 42 });
  fire({ method: "GET", url: "https://api.example.com/items?id=2", outcome: "response", status: 200, durationMs: 8 });
  fire({ method: "PUT", url: "http://[::1]:8080/x", outcome: "timeout", durationMs: 10_000 });
  fire({ method: "GET", url: "http://127.0.0.1:9/y", outcome: "error", durationMs: 3 });
  fire({ method: "DELETE", url: "https://api.example.com:8443/", outcome: "response", status: 503, durationMs: 120 });
  fire({ method: "GET", url: "https://api.example.com/missing", outcome: "response", status: 404, durationMs: 5 });
  fire({ method: "FOO", url: "https://api.example.com/", outcome: "aborted", durationMs: 1 });
  fire({ method: "GET", url: "https://api.example.com/", outcome: "response", durationMs: "oops" }); // ignored
  const m = await collect();

  const d = descriptor(m, "http.client.request.duration");
  assert.equal(d.unit, "s");
  assert.equal(d.description, "Duration of HTTP client requests.");
  assert.equal(m.get("http.client.request.duration").dataPointType, DataPointType.HISTOGRAM);
  const ok = point(m, "http.client.request.duration", { "http.response.status_code": 200 });
  assert.deepEqual(ok.attributes, {
    "http.request.method": "GET",
    "server.address": "api.example.com",
    "server.port": 443,
    "url.scheme": "https",
    "http.response.status_code": 200,
    "ballast.config.fingerprint": "0123456789ab",
  });
  assert.equal(ok.value.count, 2);
  assert.ok(Math.abs(ok.value.sum - 0.05) < 1e-9, `sum ${ok.value.sum} s`);
  assert.deepEqual(ok.value.buckets.boundaries, [...HTTP_CLIENT_DURATION_BUCKETS], "advised bucket boundaries");
  const advised = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
  assert.deepEqual(HTTP_CLIENT_DURATION_BUCKETS, advised);

  assert.deepEqual(point(m, "http.client.request.duration", { "error.type": "timeout" }).attributes, {
    "http.request.method": "PUT",
    "server.address": "::1",
    "server.port": 8080,
    "url.scheme": "http",
    "error.type": "timeout",
    "ballast.config.fingerprint": "0123456789ab",
  });
  assert.equal(point(m, "http.client.request.duration", { "error.type": "timeout" }).value.sum, 10);
  const net = point(m, "http.client.request.duration", { "error.type": "network" });
  assert.equal(net.attributes["server.port"], 9);
  assert.ok(!("http.response.status_code" in net.attributes));
  const e503 = point(m, "http.client.request.duration", { "error.type": "503" });
  assert.equal(e503.attributes["http.response.status_code"], 503);
  assert.equal(e503.attributes["server.port"], 8443);
  assert.equal(e503.attributes["http.request.method"], "DELETE");
  const e404 = point(m, "http.client.request.duration", { "error.type": "404" });
  assert.equal(e404.attributes["http.response.status_code"], 404, "4xx is an error for a client");
  const aborted = point(m, "http.client.request.duration", { "error.type": "aborted" });
  assert.equal(aborted.attributes["http.request.method"], "_OTHER");
  assert.equal(m.get("http.client.request.duration").dataPoints.length, 6);

  // after unregister, events are not recorded (the listener is gone)
  unregister();
  assert.equal(f.listenerCount(), 0);
  fire({ method: "GET", url: "https://api.example.com/items", outcome: "response", status: 200, durationMs: 1 });
  const m2 = await collect();
  assert.equal(point(m2, "http.client.request.duration", { "http.response.status_code": 200 }).value.count, 2);
  await provider.shutdown();
});

test("attemptAttributes: default ports, unknown methods, unparsable URLs", () => {
  const head = attemptAttributes({ method: "HEAD", url: "http://example.com/", outcome: "response", status: 301 });
  assert.deepEqual(head, {
    "http.request.method": "HEAD",
    "server.address": "example.com",
    "server.port": 80,
    "url.scheme": "http",
    "http.response.status_code": 301,
  });
  const lower = attemptAttributes({ method: "get", url: "http://x/", outcome: "response", status: 200 });
  assert.equal(lower["http.request.method"], "_OTHER", "methods are case-sensitive");
  const bad = attemptAttributes({ method: "GET", url: "not a url", outcome: "error" });
  assert.deepEqual(bad, { "http.request.method": "GET", "error.type": "network" });
  assert.equal(attemptAttributes({ method: "GET", url: "http://x/", outcome: "weird" })["error.type"], "_OTHER");
});

test("OpenTelemetry: an engine without the \"attempt\" event gets snapshot figures, no histogram", async () => {
  const { meter, provider, collect } = otel();
  const f = standIn(FULL, { events: ["retry", "giveup"] });
  const unregister = registerOpenTelemetry(f, meter);
  const m = await collect();
  assert.ok(!m.has("http.client.request.duration"));
  assert.equal(point(m, "ballast.retries").value, 30);
  unregister();
  await provider.shutdown();

  assert.throws(() => registerOpenTelemetry({}, meter), TypeError);
  assert.throws(() => registerOpenTelemetry(f, {}), TypeError);
  assert.throws(() => registerOpenTelemetry(f, meter, { prefix: "1bad" }), TypeError);
});

test("OpenTelemetry: real calls (503 then 200) are observed; unregister() stops updates", async () => {
  const { meter, provider, collect } = otel();
  const f = createFetch({ retry: { maxAttempts: 2, backoff: FAST } });
  const unregister = registerOpenTelemetry(f, meter, { attributes: { "service.client": "origin" } });
  const key = uniqueKey("otel");
  for (const p of [`/seq?key=${key}&codes=503,200`, `/ok?key=${key}`]) await (await f(u(p))).text();

  const m = await collect();
  const s = f.snapshot();
  assert.equal(point(m, "ballast.retries").value, 1);
  assert.equal(point(m, "ballast.tasks").value, 2);
  assert.equal(point(m, "ballast.attempts").value, 3);
  assert.equal(point(m, "ballast.retries").attributes["service.client"], "origin");
  assert.equal(point(m, "http.client.active_requests").value, 0);
  assert.equal(point(m, "ballast.giveups", { "ballast.giveup.reason": "max-attempts" }).value, 0);
  assert.equal(point(m, "ballast.budget.balance").value, s.budget.balance);
  assert.equal(point(m, "ballast.budget.exhausted").value, 0);
  assert.equal(point(m, "ballast.retry_density").value, s.retryDensity);
  assert.equal(point(m, "ballast.task.duration", { quantile: "0.99" }).value, s.latency.p99 / 1000);
  assert.equal(point(m, "ballast.attempt.duration", { quantile: "1.0" }).value, s.attemptLatency.max / 1000);
  if ("queued" in s) assert.equal(point(m, "ballast.queue.size").value, s.queued);
  if (s.pressure) {
    assert.equal(point(m, "ballast.pressure.state", { "ballast.pressure.state": s.pressure.state }).value, 1);
  }

  unregister();
  for (const p of [`/ok?key=${key}`, `/seq?key=${key}-2&codes=503,200`]) await (await f(u(p))).text();
  assert.equal(f.snapshot().tasks, 4);
  const m2 = await collect();
  for (const [name, before] of [["ballast.tasks", 2], ["ballast.retries", 1]]) {
    const after = m2.has(name) ? m2.get(name).dataPoints : [];
    assert.ok(after.every((p) => p.value === before), `${name} not updated after unregister()`);
  }
  await provider.shutdown();
});

test("OpenTelemetry [needs the engine's \"attempt\" event]: real calls record http.client.request.duration", async () => {
  const { meter, provider, collect } = otel();
  const f = createFetch({ retry: { maxAttempts: 2, backoff: FAST } });
  const unregister = registerOpenTelemetry(f, meter);
  const key = uniqueKey("otel-h");
  await (await f(u(`/seq?key=${key}&codes=503,200`))).text();
  const m = await collect();
  unregister();
  await provider.shutdown();

  assert.ok(m.has("http.client.request.duration"), 'http.client.request.duration recorded (needs on("attempt"))');
  const common = {
    "http.request.method": "GET",
    "server.address": "127.0.0.1",
    "server.port": origin.port,
    "url.scheme": "http",
    "ballast.config.fingerprint": f.snapshot().config.fingerprint,
  };
  const failed = point(m, "http.client.request.duration", { "http.response.status_code": 503 });
  assert.deepEqual(failed.attributes, { ...common, "http.response.status_code": 503, "error.type": "503" });
  assert.equal(failed.value.count, 1);
  const ok = point(m, "http.client.request.duration", { "http.response.status_code": 200 });
  assert.deepEqual(ok.attributes, { ...common, "http.response.status_code": 200 });
  assert.equal(ok.value.count, 1);
  assert.ok(ok.value.sum > 0 && ok.value.sum < 5, `duration ${ok.value.sum} s`);
  assert.deepEqual(ok.value.buckets.boundaries, [...HTTP_CLIENT_DURATION_BUCKETS]);
});

// Every view of the page. They read Runs (src/series.js) and nothing else:
//   const views = createViews(document);
//   views.render({ runs: [naiveRun, ballastRun], now });   // once a second
//   views.invalidateRaster(() => model);                    // per event; drawn once per frame
// `now` is seconds on the runs' clock (the raster draws attempts still running up to it).
// Optional in the model: `x: [from, to]`, the seconds shown (default: the newest 120);
// `drawTasks(canvas, run)`, the producer drawing the raster itself (views/raster.js), with its
// legend `legend: { colors, labels }`.
import { makeChart, fromZero } from "./chart.js";
import { createTimeline } from "./timeline.js";
import { createRaster, rasterLegend } from "./raster.js";
import { COLORS, OUTCOME_COLORS, OUTCOME_LABELS, ROUTE_COLORS, ROUTE_STATE_COLORS, PRESSURE_STATE_COLORS } from "./colors.js";
import { outageSpans, summarize } from "../series.js";

const WINDOW_S = 120; // seconds shown
const RECENT_S = 10; // seconds summarised in the readouts

const LIVE_LEGEND = { colors: OUTCOME_COLORS, labels: OUTCOME_LABELS };

const fmt = (v, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? "–" : v.toFixed(digits));
const ms = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)} ms`);

/** Joins the runs' points on t: { xs, cols: Map<run, (Point|null)[]> }. */
function align(runs, from) {
  const ts = new Set();
  for (const r of runs) for (const p of r.points) if (p.t > from) ts.add(p.t);
  const xs = [...ts].sort((a, b) => a - b);
  const index = new Map(xs.map((t, i) => [t, i]));
  const cols = new Map();
  for (const r of runs) {
    const col = new Array(xs.length).fill(null);
    for (const p of r.points) if (index.has(p.t)) col[index.get(p.t)] = p;
    cols.set(r, col);
  }
  return { xs, cols };
}

const line = (label, stroke, extra = {}) => ({ label, stroke, width: 2, points: { show: false }, ...extra });
const dashed = [6, 4];
const dotted = [2, 3];

export function createViews(root = document) {
  const q = (id) => root.querySelector(`[data-view="${id}"]`);
  const plot = (id) => q(id).querySelector(".plot");
  const readout = (id) => q(id).querySelector(".readout");
  const say = (id, text) => {
    const r = readout(id);
    if (r.textContent !== text) r.textContent = text;
  };
  const isPhone = () => window.matchMedia("(max-width: 600px)").matches;
  const h = () => (isPhone() ? 180 : 210);

  const charts = {
    density: makeChart(plot("density"), {
      height: h(),
      series: [
        line("naive retries/call", COLORS.naive),
        line("ballast retries/call", COLORS.ballast),
        line("ballast budget (right)", COLORS.budget, { scale: "budget", dash: dotted, width: 1.5 }),
      ],
      scales: { y: { range: fromZero(1) }, budget: { range: fromZero(10) } },
      axes: [{ size: 40 }, { scale: "budget", side: 1, grid: { show: false }, size: 44 }],
    }),
    amplification: makeChart(plot("amplification"), {
      height: h(),
      series: [
        line("offered calls/s", COLORS.offered, { dash: dashed }),
        line("naive attempts/s", COLORS.naive),
        line("ballast attempts/s", COLORS.ballast),
        line("ballast → primary/s", COLORS.ballast, { dash: dotted, width: 1.5 }),
      ],
      scales: { y: { range: fromZero(10) } },
    }),
    latency: makeChart(plot("latency"), {
      height: h(),
      series: [
        line("naive p50", COLORS.naive, { dash: dashed, width: 1.5 }),
        line("naive p99", COLORS.naive),
        line("ballast p50", COLORS.ballast, { dash: dashed, width: 1.5 }),
        line("ballast p99", COLORS.ballast),
        line("ballast queue wait p99", COLORS.queue, { dash: dotted }),
      ],
      scales: { y: { range: fromZero(100) } },
      axes: [{ size: 60, values: (u, vals) => vals.map((v) => (v >= 1000 ? `${v / 1000}s` : `${v}ms`)) }],
    }),
    routes: null, // built on the first render, once the route names are known
    pressure: makeChart(plot("pressure"), {
      height: h(),
      series: [
        line("ballast pressure", COLORS.ballast),
        line("warn", COLORS.warn, { dash: dashed, width: 1.5 }),
        line("critical", COLORS.critical, { dash: dotted, width: 1.5 }),
      ],
      scales: { y: { range: () => [0, 1] } },
    }),
  };
  let routeNames = null;
  const timeline = createTimeline(q("timeline"));
  const raster = createRaster(q("raster"));
  const legendBox = q("raster").querySelector(".legend");
  let legendNow = null;
  const legend = (l = LIVE_LEGEND) => {
    if (legendNow === l) return;
    legendNow = l;
    rasterLegend(legendBox, l.colors, l.labels);
  };
  legend();

  function routesChart(names) {
    const key = names.join("|");
    if (routeNames === key) return charts.routes;
    routeNames = key;
    charts.routes?.destroy();
    charts.routes = makeChart(plot("routes"), {
      height: h(),
      series: names.map((n, i) => line(`${n} score`, ROUTE_COLORS[i % ROUTE_COLORS.length])),
      scales: { y: { range: () => [0, 1.05] } },
    });
    return charts.routes;
  }

  function render({ runs, now, x: shown, drawTasks, legend: rasterKey }) {
    const byPolicy = Object.fromEntries(runs.map((r) => [r.policy, r]));
    const naive = byPolicy.naive ?? { points: [], events: [], tasks: [], meta: { routes: [] } };
    const ballast = byPolicy.ballast ?? { points: [], events: [], tasks: [], meta: { routes: [], warn: 0.5, critical: 0.8 } };
    const tEnd = Math.max(0, ...runs.map((r) => r.points.at(-1)?.t ?? 0));
    const from = shown ? shown[0] : tEnd - WINDOW_S;
    const { xs, cols } = align([naive, ballast], from);
    const N = cols.get(naive);
    const B = cols.get(ballast);
    const col = (c, f) => c.map((p) => (p === null ? null : f(p)));
    const spans = outageSpans((B.some(Boolean) ? B : N).filter(Boolean));
    const rn = summarize(naive, tEnd - RECENT_S);
    const rb = summarize(ballast, tEnd - RECENT_S);
    const last = B.filter(Boolean).at(-1) ?? null;
    const x = shown ?? [Math.max(0, from), Math.max(tEnd, 10)];

    charts.density.update([xs, col(N, (p) => p.retryDensity), col(B, (p) => p.retryDensity), col(B, (p) => p.budget)], { spans, x });
    say("density", `Last ${RECENT_S} s: naive ${fmt(rn.retriesPerCall)} retries per call, ballast ${fmt(rb.retriesPerCall)}` +
      (last?.budget != null ? `; ballast's budget allows ${Math.floor(last.budget)} more retries.` : "."));

    const primary = ballast.meta.routes[0];
    charts.amplification.update(
      [xs, col(B.some(Boolean) ? B : N, (p) => p.offered), col(N, (p) => p.attempts), col(B, (p) => p.attempts), col(B, (p) => (primary ? p.byRoute[primary] ?? 0 : null))],
      { spans, x },
    );
    say("amplification", `Last ${RECENT_S} s: ${fmt((rb.offered || rn.offered) / Math.max(1, rb.seconds || rn.seconds), 1)} calls/s offered; ` +
      `naive ${fmt(rn.attemptsPerCall)} attempts per call, ballast ${fmt(rb.attemptsPerCall)}` +
      (primary && rb.offered ? ` (${fmt((rb.byRoute[primary] ?? 0) / rb.offered)} per call to ${primary}).` : "."));

    charts.latency.update(
      [xs, col(N, (p) => p.latencyP50), col(N, (p) => p.latencyP99), col(B, (p) => p.latencyP50), col(B, (p) => p.latencyP99), col(B, (p) => p.queueWaitP99)],
      { spans, x },
    );
    const ln = N.filter(Boolean).at(-1);
    say("latency", `Last second: naive p50 ${ms(ln?.latencyP50)}, p99 ${ms(ln?.latencyP99)}; ballast p50 ${ms(last?.latencyP50)}, ` +
      `p99 ${ms(last?.latencyP99)}, queue wait p99 ${ms(last?.queueWaitP99)}` +
      (last?.queued != null ? ` (${last.inFlight} in flight, ${last.queued} queued).` : "."));

    const names = ballast.meta.routes;
    if (names.length) {
      const rc = routesChart(names);
      const strips = names.map((n) => ({
        points: B.filter(Boolean),
        color: (p) => ROUTE_STATE_COLORS[p.routes?.find((r) => r.name === n)?.state] ?? null,
      }));
      rc.update([xs, ...names.map((n) => col(B, (p) => p.routes?.find((r) => r.name === n)?.score ?? null))], { spans, strips, x });
      say("routes", last?.routes
        ? last.routes.map((r) => `${r.name}: ${r.state}, score ${fmt(r.score)}`).join("; ") + ". Naive has one route and no scores."
        : "No route data yet.");
    } else {
      say("routes", "This run has no routes.");
    }

    const { warn, critical } = ballast.meta;
    charts.pressure.update(
      [xs, col(B, (p) => p.pressure), xs.map(() => warn), xs.map(() => critical)],
      { spans, x, strips: [{ points: B.filter(Boolean), color: (p) => PRESSURE_STATE_COLORS[p.pressureState] ?? null }] },
    );
    say("pressure", last?.pressure != null
      ? `ballast pressure ${fmt(last.pressure)} (${last.pressureState}); warns at ${warn}, critical at ${critical}. Naive has no such signal.`
      : "No pressure data yet.");

    timeline.render({ runs: [naive, ballast].filter((r) => r.policy), from: x[0], to: x[1] });
    legend(drawTasks ? rasterKey : undefined);
    raster.render({ runs: [naive, ballast].filter((r) => r.policy), now, drawTasks });

    for (const [id, pts] of [["density", xs.length], ["amplification", xs.length], ["latency", xs.length], ["routes", names.length ? xs.length : 0], ["pressure", xs.length]]) {
      q(id).dataset.points = String(pts);
    }
    for (const [policy, s] of [["naive", rn], ["ballast", rb]]) stats(policy, s, byPolicy[policy]);
  }

  function stats(policy, s, run) {
    const card = root.querySelector(`.stat[data-policy="${policy}"]`);
    if (!card) return;
    const set = (k, v) => {
      const dd = card.querySelector(`[data-k="${k}"]`);
      if (dd && dd.textContent !== v) dd.textContent = v;
    };
    set("label", run?.label ?? policy);
    set("apc", fmt(s.attemptsPerCall));
    set("rpc", fmt(s.retriesPerCall));
    set("ok", s.successRate === null ? "–" : `${(s.successRate * 100).toFixed(1)}%`);
    set("shed", String(s.shed));
    set("fallbacks", String(s.fallbacks));
  }

  return {
    render,
    invalidateRaster: (getModel) => raster.invalidate(getModel),
  };
}

// Live mode: the real ballast client (createFetch from ballast-fetch, the wasm engine) and the naive
// wrapper, side by side, in real time, each over its own copy of the in-page fault-injecting
// transport (src/faults.js), both offered the same calls at the same moments. Live mode turns what
// it sees into the demo's format (src/series.js), one Point per client per second:
//
//   from the load generator:   offered, successes, failures, shed, latencyP50 / latencyP99
//   from the transport:        attempts, byRoute, retries (hits beyond a call's first), raster ticks
//   from ballast's events:     fallbacks by reason, and the timeline's fallback / eject / restore /
//                              fallback-default / pressure events
//   from ballast's snapshot(): budget, pressure and its state, routes (state, score), queue wait p99,
//                              inFlight, queued (read at the end of each second)
//
// Both clients are observed the same way, so whatever one view shows for naive means the same for
// ballast. Changing a ballast knob recreates the client (a "config" event marks it); calls the old
// client started still finish and are counted.
import { createFetch } from "ballast-fetch";
import { createFaults, ROUTE_URLS } from "./faults.js";
import { createNaive } from "./naive.js";
import { createRun, emptyPoint, pushEvent, pushPoint, pushTask, quantile } from "./series.js";

export const DEFAULTS = {
  rate: 20, // calls per second offered to each client
  primary: { errorRate: 0.02, p50: 40, p99: 120 },
  fallback: { errorRate: 0.01, p50: 60, p99: 200 },
  outage: "503", // or "network": refused connections (the transport throws TypeError)
  outageSec: 20,
  ratio: 0.2, // ballast budget.ratio
  maxAttempts: 3, // ballast retry.maxAttempts (naive always tries 3 times)
  limit: 32, // ballast concurrency.limit
  naiveBackoff: "exponential", // or "fixed"
};

const PRESSURE = { warn: 0.5, critical: 0.8 };
const ROUTES = ["primary", "fallback"];

/** The ballast config live mode runs with (knobs from params). */
export function ballastConfig(params, transport, seed) {
  return {
    retry: { maxAttempts: params.maxAttempts, backoff: { kind: "full", baseMs: 50, capMs: 1000 } },
    budget: { ratio: params.ratio },
    timeout: { attemptMs: 2000, totalMs: 10000 },
    concurrency: { limit: params.limit, queue: 64, queueTimeoutMs: 2000 },
    pressure: PRESSURE,
    routes: [
      { name: "primary", url: ROUTE_URLS.primary },
      { name: "fallback", url: ROUTE_URLS.fallback, fallback: true },
    ],
    // Ejections short enough to see probes and restores within a demo (defaults: 30 s x n).
    routing: { ejection: { baseMs: 5000, maxMs: 60000 } },
    transport,
    seed,
  };
}

const knobs = (p) => `budget ratio ${p.ratio}, maxAttempts ${p.maxAttempts}, limit ${p.limit}`;
const naiveLabel = (p) => `naive: 3 tries, ${p.naiveBackoff === "fixed" ? "fixed 100 ms" : "exponential 100/200 ms"} backoff`;
const ballastLabel = (p) => `ballast: ${knobs(p)}`;

function freshAcc() {
  return { offered: 0, attempts: 0, byRoute: {}, retries: 0, successes: 0, failures: 0, shed: 0, fallbacks: {}, latencies: [], outage: false };
}

/**
 * createLive({ params, onSecond, onActivity, onOutage, seed }):
 *   onSecond()   after each second's points are pushed (render the charts)
 *   onActivity() after each attempt or call settles (render the raster)
 *   onOutage(active) when the primary's outage starts or ends
 */
export function createLive({ params: initial = DEFAULTS, onSecond = () => {}, onActivity = () => {}, onOutage = () => {}, seed = 1 } = {}) {
  const params = structuredClone(initial);
  const settings = { primary: params.primary, fallback: params.fallback, outage: params.outage, outageUntil: 0 };
  const faults = createFaults(() => settings);
  let t0 = performance.now();
  let tick = 0;
  let running = false;
  let pausedAt = 0;
  let genTimer = null;
  let tickTimer = null;
  let outageTimer = null;
  let lastGen = 0;
  let due = 0;
  let seq = 0;
  let recreateTimer = null;
  let generation = 0;
  const now = () => performance.now();
  const sec = (at = now()) => (at - t0) / 1000;

  const sides = {
    naive: side("naive", naiveLabel(params), []),
    ballast: side("ballast", ballastLabel(params), ROUTES),
  };

  function side(policy, label, routes) {
    const s = {
      policy,
      run: createRun(policy, { label, routes, ...PRESSURE }),
      acc: freshAcc(),
      active: new Map(), // call id -> { task, start, hits }
      client: null,
    };
    s.transport = faults.transport(policy === "naive" ? seed * 2 + 1 : seed * 2 + 2, {
      start(hit) {
        const id = Number(hit.url.slice(hit.url.indexOf("id=") + 3));
        const a = s.acc;
        a.attempts++;
        a.byRoute[hit.route] = (a.byRoute[hit.route] ?? 0) + 1;
        const call = s.active.get(id);
        if (!call) return;
        if (call.hits++ > 0) a.retries++;
        hit.rec = { at: hit.start - call.start, ms: null, route: hit.route, outcome: null };
        call.task.attempts.push(hit.rec);
        onActivity();
      },
      end(hit) {
        if (!hit.rec) return;
        hit.rec.ms = hit.ms;
        hit.rec.outcome = hit.outcome;
        if (hit.status !== undefined) hit.rec.status = hit.status;
        onActivity();
      },
    });
    return s;
  }

  function makeNaive() {
    const s = sides.naive;
    s.client = createNaive({ transport: s.transport, tries: 3, backoff: params.naiveBackoff, baseMs: 100 });
    s.run.label = naiveLabel(params);
  }

  function makeBallast() {
    const s = sides.ballast;
    const client = createFetch(ballastConfig(params, s.transport, seed + generation));
    const ev = (e) => pushEvent(s.run, { t: sec(), ...e });
    client.on("fallback", (e) => {
      s.acc.fallbacks[e.reason] = (s.acc.fallbacks[e.reason] ?? 0) + 1;
      ev({ type: "fallback", reason: e.reason, route: e.route, from: e.from ?? undefined });
    });
    client.on("eject", (e) =>
      ev({ type: "eject", reason: e.reason, route: e.route, detail: `for ${(e.durationMs / 1000).toFixed(0)} s (ejection ${e.ejections})` }),
    );
    client.on("restore", (e) =>
      ev({ type: "restore", reason: e.reason, route: e.route, detail: `after ${(e.ejectedForMs / 1000).toFixed(1)} s out` }),
    );
    client.on("fallback-default", (e) =>
      ev({ type: "fallback-default", reason: e.isDefault ? "became-default" : "no-longer-default", detail: `fallback share ${e.share.toFixed(2)}` }),
    );
    client.on("pressure", (e) =>
      ev({ type: "pressure", reason: e.state, detail: `level ${e.level.toFixed(2)} (was ${e.previous})${e.drivers.length ? `: ${e.drivers.join(", ")}` : ""}` }),
    );
    if (s.client !== null) ev({ type: "config", reason: "client-recreated", detail: knobs(params) });
    s.client = client;
    s.run.label = ballastLabel(params);
    generation++;
  }

  function offer(at) {
    const id = ++seq;
    for (const s of Object.values(sides)) {
      const acc = s.acc;
      acc.offered++;
      const task = pushTask(s.run, { id, t: sec(at), result: null, attempts: [] });
      s.active.set(id, { task, start: at, hits: 0 });
      const url = s.policy === "naive" ? `${ROUTE_URLS.primary}/item?id=${id}` : `/item?id=${id}`;
      let p;
      try {
        p = s.client(url);
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (res) => {
          res.body?.cancel().catch(() => {});
          return res.ok ? "ok" : "failed";
        },
        (err) => (err?.code === "SHED" ? "shed" : "failed"),
      ).then((result) => {
        const end = now();
        s.active.delete(id);
        task.result = result;
        // Counted in the second the call settles (s.acc now, not the acc it started in).
        const a = s.acc;
        if (result === "ok") a.successes++;
        else if (result === "failed") a.failures++;
        else {
          a.shed++;
          task.attempts.push({ at: end - at, ms: 0, route: null, outcome: "shed" });
        }
        if (result !== "shed") a.latencies.push(end - at);
        onActivity();
      });
    }
  }

  function generate() {
    const t = now();
    due = Math.min(due + (params.rate * (t - lastGen)) / 1000, params.rate);
    lastGen = t;
    if (faults.outageActive(t)) for (const s of Object.values(sides)) s.acc.outage = true;
    while (due >= 1) {
      due--;
      offer(t);
    }
  }

  function sample(s, t) {
    const a = s.acc;
    s.acc = freshAcc();
    const p = emptyPoint(t);
    Object.assign(p, {
      offered: a.offered,
      attempts: a.attempts,
      byRoute: a.byRoute,
      retries: a.retries,
      successes: a.successes,
      failures: a.failures,
      shed: a.shed,
      fallbacks: a.fallbacks,
      outage: a.outage || faults.outageActive(),
    });
    const lat = a.latencies.sort((x, y) => x - y);
    p.latencyP50 = quantile(lat, 0.5);
    p.latencyP99 = quantile(lat, 0.99);
    if (s.policy === "ballast") {
      const snap = s.client.snapshot();
      p.queueWaitP99 = snap.queueWait.count > 0 ? snap.queueWait.p99 : 0;
      p.inFlight = snap.inFlight;
      p.queued = snap.queued;
      p.budget = snap.budget.balance;
      p.pressure = snap.pressure.level;
      p.pressureState = snap.pressure.state;
      p.routes = snap.routes.map((r) => ({ name: r.name, state: r.state, score: r.score }));
    }
    pushPoint(s.run, p);
  }

  function onTick() {
    tick++;
    for (const s of Object.values(sides)) sample(s, tick);
    scheduleTick();
    onSecond();
  }

  function scheduleTick() {
    const wait = t0 + (tick + 1) * 1000 - now();
    tickTimer = setTimeout(onTick, Math.max(0, wait));
  }

  function outageEvent(reason, detail) {
    const t = sec();
    for (const s of Object.values(sides)) pushEvent(s.run, { t, type: "outage", reason, route: "primary", detail });
  }

  const live = {
    params,
    get running() {
      return running;
    },
    get generation() {
      return generation;
    },
    start() {
      if (running) return;
      if (sides.ballast.client === null) {
        makeNaive();
        makeBallast();
      }
      if (pausedAt) t0 += now() - pausedAt; // no gap in the clock for the pause
      pausedAt = 0;
      running = true;
      lastGen = now();
      genTimer = setInterval(generate, 25);
      scheduleTick();
    },
    pause() {
      if (!running) return;
      running = false;
      pausedAt = now();
      clearInterval(genTimer);
      clearTimeout(tickTimer);
    },
    /** Forgets every point, event and task and restarts the clock (clients are kept). */
    reset() {
      for (const s of Object.values(sides)) {
        s.run.points.length = 0;
        s.run.events.length = 0;
        s.run.tasks.length = 0;
        s.acc = freshAcc();
      }
      t0 = now();
      pausedAt = running ? 0 : t0;
      tick = 0;
      if (running) {
        clearTimeout(tickTimer);
        scheduleTick();
      }
      onSecond();
    },
    /** Updates params; the fault and load settings apply at once, ballast knobs recreate the client. */
    set(patch) {
      const before = knobs(params);
      const backoff = params.naiveBackoff;
      for (const [k, v] of Object.entries(patch)) {
        if (k === "primary" || k === "fallback") Object.assign(params[k], v);
        else params[k] = v;
      }
      settings.outage = params.outage;
      if (sides.ballast.client === null) return;
      if (params.naiveBackoff !== backoff) makeNaive();
      if (knobs(params) !== before) {
        // Sliders send many values while dragged: recreate once they settle.
        clearTimeout(recreateTimer);
        recreateTimer = setTimeout(makeBallast, 250);
      }
    },
    startOutage(seconds = params.outageSec) {
      clearTimeout(outageTimer);
      settings.outageUntil = now() + seconds * 1000;
      for (const s of Object.values(sides)) s.acc.outage = true;
      outageEvent("start", `${params.outage === "network" ? "connection refused" : "503"} for ${seconds} s`);
      outageTimer = setTimeout(() => live.stopOutage(), seconds * 1000);
      onOutage(true);
    },
    stopOutage() {
      clearTimeout(outageTimer);
      if (settings.outageUntil === 0) return;
      settings.outageUntil = 0;
      outageEvent("end");
      onOutage(false);
    },
    outageActive: () => faults.outageActive(),
    outageLeftMs: () => Math.max(0, settings.outageUntil - now()),
    runs: () => [sides.naive.run, sides.ballast.run],
    now: () => sec(running ? now() : pausedAt || now()),
    /** ballast's snapshot now (the live client's), and naive's counters. */
    snapshot: () => sides.ballast.client?.snapshot() ?? null,
    naiveSnapshot: () => sides.naive.client?.snapshot() ?? null,
  };
  return live;
}

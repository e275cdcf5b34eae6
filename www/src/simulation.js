// Simulation mode: the deterministic simulator (`ballast-fetch/sim`, a wasm module of its own,
// imported the first time this mode opens so the page itself stays light) runs one scenario for
// naive and for ballast on one seed, and the page draws both runs with live mode's views, through
// the one format of src/series.js. Every control reruns both (at most once per animation frame,
// never queued); Play replays the same run paced by the simulator, frame by frame, until it ends
// or Stop aborts it. The raster is drawn by the simulator itself (drawRaster) from the calls traced
// around the scenario's trigger.
import { POLICIES, runFromSimulation } from "./series.js";
import { SIM_RASTER_COLORS, SIM_RASTER_LABELS } from "./views/colors.js";

const FIRST = "primary-outage"; // the preset shown first: it uses every view
const BALLAST_DEFAULTS = { ratio: 0.2, maxAttempts: 4, limit: 64 }; // ballast's own defaults
const PRESSURE = { warn: 0.5, critical: 0.8 }; // ballast's default thresholds
const TRACE_MAX = 2000; // calls traced for the raster
const RASTER_ROWS = 300; // calls drawn (evenly sampled): about a pixel row each
const LEGEND = { colors: SIM_RASTER_COLORS, labels: SIM_RASTER_LABELS };
const NAIVE_LABEL = "naive: 3 tries, no backoff, no budget, primary only";

let loading = null;
const loadSimulator = () => (loading ??= import("ballast-fetch/sim"));

const secs = (ms) => `${+(ms / 1000).toFixed(1)} s`;
const dur = (ms) => (ms == null ? "–" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
const pct = (x) => (x == null ? "–" : `${(x * 100).toFixed(1)}%`);

// The sliders: how a slider's value maps to the knob, and back, and how it reads.
const KNOBS = {
  errorRate: { get: (v) => v / 1000, set: (x) => Math.round(x * 1000), show: (v) => `${+(v / 10).toFixed(1)}%` },
  outageS: { get: Number, set: (x) => x, show: (v) => (Number(v) === 0 ? "none" : `${v} s`) },
  ratio: { get: Number, set: (x) => x, show: (v) => String(+Number(v).toFixed(2)) },
  maxAttempts: { get: Number, set: (x) => x, show: (v) => String(v) },
  limit: { get: Number, set: (x) => x, show: (v) => `${v} in flight` },
};

/** The primary's first outage in a scenario, or null. */
const outageOf = (s) => s.routes[0].events?.find((e) => e.kind === "outage") ?? null;

/** Where an outage goes when the slider adds one to a scenario without: a quarter in. */
const addedOutageStart = (s) => Math.round(s.durationMs / 4 / 1000) * 1000;

/** The preset with the scenario knobs applied: the primary's error rate and outage length. */
export function scenarioWith(preset, { errorRate, outageS }) {
  const s = structuredClone(preset);
  const primary = s.routes[0];
  primary.errorRate = errorRate;
  const before = outageOf(preset);
  const events = [...(primary.events ?? [])];
  const i = events.findIndex((e) => e.kind === "outage");
  if (outageS > 0 && i >= 0) events[i] = { ...events[i], durationMs: outageS * 1000 };
  else if (outageS > 0) events.push({ kind: "outage", startMs: addedOutageStart(s), durationMs: outageS * 1000, status: 503 });
  else if (i >= 0) events.splice(i, 1);
  primary.events = events;
  // When the trigger was the outage itself, recovery is measured from the outage's new end.
  if (before && s.triggerEndMs === before.startMs + before.durationMs) {
    s.triggerEndMs = outageS > 0 ? before.startMs + outageS * 1000 : null;
  }
  return s;
}

/** When the scenario turns bad (its earliest trigger), and what that is. */
export function triggerOf(s) {
  const marks = [];
  for (const a of s.arrivals) if (a.kind === "burst") marks.push({ at: a.startMs, what: "the burst" });
  for (const r of s.routes) {
    for (const e of r.events ?? []) {
      marks.push(e.kind === "drift"
        ? { at: e.startMs + e.durationMs / 2, what: `the ${r.name} route's drift, halfway` }
        : { at: e.startMs, what: `the ${r.name} route's ${e.kind}` });
    }
  }
  for (const c of s.correlated ?? []) marks.push({ at: c.startMs, what: "the correlated failure" });
  if (!marks.length) {
    for (const a of s.arrivals) if (a.kind === "ramp") marks.push({ at: Math.max(a.startMs, a.endMs - 10_000), what: "the top of the ramp" });
  }
  if (!marks.length) marks.push({ at: s.durationMs / 2, what: "the middle of the run" });
  return marks.reduce((a, b) => (b.at < a.at ? b : a));
}

/** Calls traced for the raster: from 2 s before the trigger to 12 s after, at most TRACE_MAX. */
const traceFor = (s, at) => ({ fromMs: Math.max(0, at - 2000), toMs: Math.min(s.durationMs, at + 12_000), max: TRACE_MAX });

/** ballast's policy: "ballast" at its defaults, else a config with the knobs moved. */
export function ballastPolicy(s, { ratio, maxAttempts, limit }) {
  const d = BALLAST_DEFAULTS;
  if (ratio === d.ratio && maxAttempts === d.maxAttempts && limit === d.limit) return "ballast";
  const config = { budget: { ratio }, retry: { maxAttempts }, concurrency: { limit } };
  // A config keeps its own timeouts; the scenario's client timeout is what "ballast" would use.
  if (s.clientTimeoutMs) config.timeout = { attemptMs: s.clientTimeoutMs, totalMs: Math.max(30_000, s.clientTimeoutMs) };
  return config;
}

/** Outage start / end events from the points' outage flags (a point covers (t - 1, t]). */
function outageEvents(points) {
  const out = [];
  let down = false;
  for (const p of points) {
    if (p.outage !== down) {
      down = p.outage;
      out.push({ t: p.t - 1, type: "outage", reason: down ? "start" : "end", route: "primary" });
    }
  }
  return out;
}

/**
 * The simulator's events in the page's format: a second's fallbacks as one event with `n` (its
 * count, from that second's point), and the outage's start and end added.
 */
function pageEvents(events, points) {
  const at = new Map(points.map((p) => [p.t, p]));
  const out = events.map((e) => {
    if (e.type !== "fallback") return e;
    const { detail, ...rest } = e; // "x<n>", said by n
    return { ...rest, n: at.get(e.t)?.fallbacks[e.reason] ?? 1 };
  });
  return [...out, ...outageEvents(points)].sort((a, b) => a.t - b.t);
}

/** When a traced call was over (its last attempt's end; a shed call at once), seconds. */
const endOf = (k) => k.t + Math.max(0, ...k.attempts.map((a) => (a.at + (a.ms ?? Infinity)) / 1000));

/**
 * createSimulation(section, { render, summary }) -> { open(), close(), info }
 *   section: #sim-controls; summary: the section holding #sim-summary;
 *   render(model): draws a views model ({ runs, now, x, drawTasks, legend }).
 * `info` is what the page last showed (for the console and tests/demo/run.mjs).
 */
export function createSimulation(section, { render, summary }) {
  const $ = (s) => section.querySelector(s);
  const el = {
    fields: [...section.querySelectorAll("fieldset")],
    scenario: $("#sim-scenario"),
    desc: $("#sim-desc"),
    seed: $("#sim-seed"),
    newSeed: $("#sim-new-seed"),
    speed: $("#sim-speed"),
    play: $("#sim-play"),
    stop: $("#sim-stop"),
    progress: $("#sim-progress"),
    status: $("#sim-status"),
    outageHint: $("#sim-outage-hint"),
    reset: $("#sim-reset"),
    knobs: Object.fromEntries([...section.querySelectorAll("[data-knob]")].map((i) => [i.dataset.knob, i])),
  };
  const table = summary.querySelector("#sim-summary tbody");
  const caption = summary.querySelector("#sim-caption");

  let sim = null; // the loaded module
  let active = false; // the mode is open
  let pending = 0; // the animation frame a rerun waits for
  let playback = null; // { ctrl, frames, ... } while playing
  let last = null; // the inputs and results shown
  let shown = null; // the views model last drawn, redrawn when the page resizes
  const info = { loaded: false, reruns: 0, frames: 0, playing: false, last: null };

  const draw = (model) => {
    shown = model;
    render(model);
  };
  let resizing = 0;
  window.addEventListener("resize", () => {
    if (!active || resizing) return;
    resizing = requestAnimationFrame(() => {
      resizing = 0;
      if (active && shown && !playback) render(shown);
    });
  });
  const say = (text) => {
    if (el.status.textContent !== text) el.status.textContent = text;
  };
  const knob = (k) => KNOBS[k].get(Number(el.knobs[k].value));
  const showKnob = (k) => {
    const out = el.knobs[k].parentElement.querySelector("output");
    out.textContent = KNOBS[k].show(el.knobs[k].value);
  };
  const setKnob = (k, x) => {
    el.knobs[k].value = String(KNOBS[k].set(x));
    showKnob(k);
  };

  function presetChanged() {
    const preset = sim.presets[el.scenario.value];
    el.desc.textContent = preset.description ?? "";
    setKnob("errorRate", preset.routes[0].errorRate ?? 0);
    const outage = outageOf(preset);
    setKnob("outageS", outage ? outage.durationMs / 1000 : 0);
    el.outageHint.textContent = outage
      ? `This scenario's outage starts at ${secs(outage.startMs)}.`
      : `None in this scenario; moved, one starts at ${secs(addedOutageStart(preset))}.`;
  }

  function seedValue() {
    const v = el.seed.value.trim();
    const n = Number(v);
    const ok = v !== "" && Number.isSafeInteger(n) && n >= 0;
    el.seed.setAttribute("aria-invalid", String(!ok));
    return ok ? n : null;
  }

  /** What the controls say now: the scenario, both policies' options, the labels. */
  function inputs() {
    const name = el.scenario.value;
    const preset = sim.presets[name];
    const scenario = scenarioWith(preset, { errorRate: knob("errorRate"), outageS: knob("outageS") });
    const seed = seedValue();
    const trigger = triggerOf(scenario);
    const trace = traceFor(scenario, trigger.at);
    const knobs = { ratio: knob("ratio"), maxAttempts: knob("maxAttempts"), limit: knob("limit") };
    const policy = ballastPolicy(scenario, knobs);
    const ballastLabel = policy === "ballast"
      ? "ballast: its defaults"
      : `ballast: budget ratio ${knobs.ratio}, maxAttempts ${knobs.maxAttempts}, limit ${knobs.limit}`;
    const routes = scenario.routes.map((r) => r.name);
    return {
      name,
      knobs: { errorRate: knob("errorRate"), outageS: knob("outageS"), ...knobs },
      scenario,
      seed,
      trigger,
      trace,
      durationS: scenario.durationMs / 1000,
      options: { naive: { policy: "naive", seed, trace }, ballast: { policy, seed, trace } },
      meta: {
        naive: { label: NAIVE_LABEL, ...PRESSURE, routes: [] },
        ballast: { label: ballastLabel, ...PRESSURE, routes },
      },
    };
  }

  /**
   * The raster drawer for a model: both panes on one time axis (the whole traced window, also
   * while playing), the simulator drawing the calls settled by `now`.
   */
  function rasterOf(input, runs, now = Infinity) {
    const settled = (run) => run.tasks.filter((k) => endOf(k) <= now);
    const fromS = input.trace.fromMs / 1000;
    const ends = runs.flatMap((r) => r.tasks).map((k) => Math.min(endOf(k), input.durationS)).filter(Number.isFinite);
    const toS = Math.max(fromS + 1, ...ends);
    return (canvas, run) => {
      const all = settled(run);
      const every = Math.max(1, Math.ceil(all.length / RASTER_ROWS));
      const tasks = every > 1 ? all.filter((_, i) => i % every === 0) : all;
      const { rows, ticks } = sim.drawRaster(canvas, tasks, { fromS, toS });
      const shed = tasks.filter((k) => k.result === "shed").length;
      const around = `around ${input.trigger.what} at ${secs(input.trigger.at)}`;
      const text = rows
        ? `${rows} calls${every > 1 ? ` (one in ${every})` : ""} that began ${tasks[0].t.toFixed(1)}–${tasks.at(-1).t.toFixed(1)} s, ${around}` +
          `${Number.isFinite(now) ? `, settled by ${Math.floor(now)} s` : ""}: ${ticks} attempts, ` +
          `${(ticks / rows).toFixed(2)} per call${shed ? `, ${shed} shed` : ""}.`
        : `No traced call (${around}) has settled yet.`;
      return { calls: rows, attempts: ticks, text, axis: [fromS, toS] };
    };
  }

  // ---- a whole run --------------------------------------------------------------------------
  function rerun() {
    if (!sim || !active) return;
    stopPlayback("Stopped: the inputs changed.");
    const input = inputs();
    if (input.seed === null) {
      say("The seed must be a whole number from 0 to 2^53 − 1.");
      return;
    }
    try {
      const t0 = performance.now();
      const results = Object.fromEntries(POLICIES.map((p) => [p, sim.simulate(input.scenario, input.options[p])]));
      const t1 = performance.now();
      show(input, results);
      const t2 = performance.now();
      info.reruns++;
      info.last = {
        scenario: input.name,
        seed: input.seed,
        policy: input.options.ballast.policy,
        knobs: input.knobs,
        simulateMs: t1 - t0,
        renderMs: t2 - t1,
        doneAt: t2,
        digests: Object.fromEntries(POLICIES.map((p) => [p, results[p].digest])),
        summaries: Object.fromEntries(POLICIES.map((p) => [p, results[p].summary])),
      };
      say(`${input.name}, seed ${input.seed}: ${input.durationS} s simulated for both in ${Math.round(t1 - t0)} ms, drawn in ${Math.round(t2 - t1)} ms.`);
    } catch (e) {
      if (e?.name !== "ScenarioError") {
        say(`The simulator failed: ${e?.message ?? e}`);
        throw e;
      }
      say(`The simulator refused the ${e.input}: ${e.path}: ${e.problem}`);
    }
  }

  function show(input, results) {
    last = { input, results };
    const runs = POLICIES.map((p) => {
      const r = results[p];
      return runFromSimulation(p, { ...r, events: pageEvents(r.events, r.series) }, input.meta[p]);
    });
    draw({ runs, now: input.durationS, x: [0, input.durationS], drawTasks: rasterOf(input, runs), legend: LEGEND });
    showSummary(input, results);
    el.progress.max = input.durationS;
    el.progress.value = input.durationS;
  }

  /** Runs at the next animation frame: moves in between make one rerun. */
  function requestRerun() {
    if (pending) return;
    pending = requestAnimationFrame(() => {
      pending = 0;
      rerun();
    });
  }

  // ---- the summaries, side by side ------------------------------------------------------------
  const ROWS = [
    ["amplification", "Attempts per call (amplification)", (s) => s.amplification.toFixed(2)],
    ["successRate", "Calls ok", (s) => pct(s.successRate)],
    ["goodput", "Goodput", (s) => `${s.goodput.toFixed(1)} calls/s`],
    ["latencyP50", "Latency p50", (s) => dur(s.latencyP50)],
    ["latencyP99", "Latency p99", (s) => dur(s.latencyP99)],
    ["shed", "Shed", (s) => String(s.shed)],
    ["timeInFallback", "Time in fallback", (s) => secs(s.timeInFallbackMs)],
    ["belowHalf", "Below 50% ok after the trigger", (s) => (s.belowHalfAfterTriggerMs == null ? "no trigger" : secs(s.belowHalfAfterTriggerMs))],
    ["recovered", "After the trigger", (s) => (s.recovered ? "recovered" : "not recovered")],
    ["pressureWarn", "Pressure warned at", (s, p) => (s.pressureWarnMs == null ? (p === "naive" ? "no such signal" : "never") : secs(s.pressureWarnMs))],
    ["failures1", "Failures over 1% from", (s) => (s.failuresOver1pctMs == null ? "never" : secs(s.failuresOver1pctMs))],
    ["retries", "Retries (refused by the budget)", (s) => `${s.retries} (${s.budgetExhausted})`],
    ["digest", "Run digest", (s, p, r) => r.digest],
  ];

  function showSummary(input, results) {
    const trig = results.ballast.summary.triggerEndMs;
    caption.textContent = `${input.name}, seed ${input.seed}, ${input.durationS} s simulated` +
      `${trig != null ? `; the trigger ends at ${secs(trig)}` : ""}. ${input.meta.ballast.label}.`;
    table.replaceChildren(
      ...ROWS.map(([k, label, f]) => {
        const tr = document.createElement("tr");
        const th = document.createElement("th");
        th.scope = "row";
        th.textContent = label;
        tr.append(th);
        for (const p of POLICIES) {
          const td = document.createElement("td");
          td.dataset.policy = p;
          td.dataset.k = k;
          td.textContent = f(results[p].summary, p, results[p]);
          if (k === "recovered") td.dataset.good = String(results[p].summary.recovered);
          tr.append(td);
        }
        return tr;
      }),
    );
  }

  // ---- playback -----------------------------------------------------------------------------
  async function startPlayback() {
    if (!sim || !active) return;
    if (pending || !last) {
      // Run the inputs as they are now: the static run supplies the traced calls for the raster.
      cancelAnimationFrame(pending);
      pending = 0;
      rerun();
    }
    stopPlayback();
    if (!last) return;
    const { input, results: traced } = last;
    const ctrl = new AbortController();
    const speed = Number(el.speed.value);
    const frames = Object.fromEntries(POLICIES.map((p) => [p, { t: 0, points: [], events: [] }]));
    const pb = { ctrl, frames, input, drawPending: false };
    playback = pb;
    info.playing = true;
    info.frames = 0;
    el.stop.setAttribute("aria-disabled", "false");
    el.progress.max = input.durationS;
    el.progress.value = 0;
    say(`Playing ${input.name} at ${speed}×.`);
    const drawFrame = () => {
      pb.drawPending = false;
      if (playback !== pb || !active) return;
      const now = Math.min(...POLICIES.map((p) => frames[p].t));
      const runs = POLICIES.map((p) => {
        const f = frames[p];
        return runFromSimulation(p, { series: f.points, events: pageEvents(f.events, f.points), tasks: traced[p].tasks }, input.meta[p]);
      });
      draw({ runs, now, x: [0, input.durationS], drawTasks: rasterOf(input, runs, now), legend: LEGEND });
      el.progress.value = now;
    };
    const onFrame = (p) => (f) => {
      const fr = frames[p];
      fr.t = f.t;
      fr.points.push(...f.points);
      fr.events.push(...f.events);
      info.frames++;
      if (!pb.drawPending) {
        pb.drawPending = true;
        requestAnimationFrame(drawFrame);
      }
    };
    let results;
    try {
      results = await Promise.all(
        POLICIES.map((p) => sim.play(input.scenario, { ...input.options[p], speed, signal: ctrl.signal, onFrame: onFrame(p) })),
      );
    } catch (e) {
      if (playback === pb) endPlayback(`Playback failed: ${e?.message ?? e}`);
      return;
    }
    if (playback !== pb) return; // stopped or superseded: that said what happened
    endPlayback(`Played ${input.name} to the end (${input.durationS} s).`);
    show(input, Object.fromEntries(POLICIES.map((p, i) => [p, results[i]])));
  }

  function endPlayback(text) {
    playback = null;
    info.playing = false;
    el.stop.setAttribute("aria-disabled", "true");
    if (text) say(text);
  }

  /** Stops a playback, leaving what it drew; `text` says why. */
  function stopPlayback(text) {
    if (!playback) return;
    const pb = playback;
    pb.ctrl.abort();
    const t = Math.min(...POLICIES.map((p) => pb.frames[p].t));
    endPlayback(text ?? `Stopped at ${t} s of ${pb.input.durationS} s.`);
  }

  // ---- wiring -------------------------------------------------------------------------------
  function wire() {
    el.scenario.replaceChildren(
      ...Object.keys(sim.presets).map((name) => {
        const o = document.createElement("option");
        o.value = name;
        o.textContent = name;
        return o;
      }),
    );
    el.scenario.value = sim.presets[FIRST] ? FIRST : Object.keys(sim.presets)[0];
    for (const [k, x] of Object.entries(BALLAST_DEFAULTS)) setKnob(k, x);
    presetChanged();
    el.scenario.addEventListener("change", () => {
      presetChanged();
      requestRerun();
    });
    for (const k of Object.keys(el.knobs)) {
      el.knobs[k].addEventListener("input", () => {
        showKnob(k);
        requestRerun();
      });
    }
    el.seed.addEventListener("input", requestRerun);
    el.newSeed.addEventListener("click", () => {
      el.seed.value = String(sim.randomSeed());
      requestRerun();
    });
    el.reset.addEventListener("click", () => {
      for (const [k, x] of Object.entries(BALLAST_DEFAULTS)) setKnob(k, x);
      presetChanged();
      requestRerun();
    });
    el.play.addEventListener("click", startPlayback);
    el.stop.addEventListener("click", () => stopPlayback());
    section.querySelector("form").addEventListener("submit", (e) => e.preventDefault());
    for (const f of el.fields) f.disabled = false;
    el.play.disabled = false;
  }

  return {
    info,
    /** Shows the mode: loads the simulator the first time, then runs the current inputs. */
    async open() {
      active = true;
      if (!sim) {
        say("Loading the simulator…");
        try {
          sim = await loadSimulator();
        } catch (e) {
          say(`Could not load the simulator: ${e?.message ?? e}`);
          throw e;
        }
        wire();
        info.loaded = true;
      }
      if (!active) return;
      if (shown) render(shown); // as it was left
      else rerun();
    },
    /** Leaves the mode: stops a playback. */
    close() {
      active = false;
      stopPlayback();
    },
  };
}

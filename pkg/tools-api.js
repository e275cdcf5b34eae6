// The tools wasm build (tools/ in the repository; its own module, so an app that only wraps fetch
// never downloads it) behind two entries: ballast-fetch/sim (the simulator, rehearse, playback,
// the per-call raster) and ballast-fetch/drift (fingerprint, diff, lint). tools.js and
// tools-node.js load the module once per runtime; this file wraps its exports: inputs are checked
// in Rust (a bad field is a ScenarioError naming its path), and a fault in the module (a trap: a
// bug in ballast) starts a fresh instance and is reported as an Error that says so, instead of
// leaving a broken instance behind.
import { instantiate } from "./gen/tools/ballast_tools.js";

/** Bad input to the simulator or rehearse: `input` (scenario, options, config) and `path`. */
export class ScenarioError extends Error {
  constructor(message, { input, path, problem, index } = {}) {
    super(message);
    this.name = "ScenarioError";
    this.input = input;
    this.path = path;
    this.problem = problem;
    /** rehearse: which of the scenarios passed in the bad field is in. */
    if (index !== undefined) this.index = index;
  }
}

export function bindTools(module) {
  let tools = instantiate(module);
  const guard = (name, fn) => (...args) => {
    try {
      const out = fn(...args);
      return out instanceof Promise ? out.catch((e) => rethrow(name, e)) : out;
    } catch (e) {
      rethrow(name, e);
    }
  };
  function rethrow(name, e) {
    if (e && e.name === "ScenarioError") {
      throw new ScenarioError(e.message, { input: e.input, path: e.path, problem: e.problem, index: e.index });
    }
    if (e instanceof WebAssembly.RuntimeError) {
      tools = instantiate(module);
      throw new Error(`ballast-fetch/sim: ${name} failed inside the simulator (a bug in ballast; please report it): ${e.message}`, { cause: e });
    }
    throw e;
  }

  const presets = Object.freeze(tools.presets());

  /** Runs a scenario (a preset's name or a scenario object) to the end. */
  const simulate = guard("simulate", (scenario, options) => tools.simulate(scenario, options ?? null));

  /** A config against scenarios (default: every preset), next to naive, judged by thresholds. */
  const rehearse = guard("rehearse", (config, scenarios = [], options) =>
    tools.rehearse(config, Array.isArray(scenarios) ? scenarios : [scenarios], options ?? null));

  /**
   * Plays a scenario at `speed` simulated seconds per real second; `onFrame({ t, points, events })`
   * after each frame; resolves with the whole run (or what ran before `signal` aborted it).
   */
  const playing = guard("play", (scenario, { speed = 10, onFrame = () => {}, signal, ...options } = {}) => {
    if (typeof onFrame !== "function") throw new TypeError("ballast-fetch/sim: play: onFrame must be a function");
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("ballast-fetch/sim: play: signal must be an AbortSignal");
    return tools.play(scenario, options, speed, onFrame, signal);
  });
  // Asynchronous all through: a bad argument is a rejection, as a failed run is.
  const play = async (...args) => playing(...args);

  /** Draws a run's traced calls into a canvas: each call a row, each attempt a tick. */
  const drawRaster = guard("drawRaster", (canvas, tasks, { fromS = 0, toS } = {}) => {
    if (!Array.isArray(tasks)) throw new TypeError("ballast-fetch/sim: drawRaster: tasks must be a run's tasks (an array)");
    const end = toS ?? Math.max(1, ...tasks.map((t) => t.t + Math.max(0, ...t.attempts.map((a) => (a.at + (a.ms ?? 0)) / 1000))));
    return tools.drawRaster(canvas, tasks, fromS, end);
  });

  /** A seed from the platform's secure random source (below 2^53). */
  const randomSeed = guard("randomSeed", () => tools.randomSeed());

  // A config as an app passes it to createFetch may carry its `transport` and hooks (`hooks`,
  // `retry.shouldRetry`, `retry.delay`: code, not configuration: no part of the fingerprint, the
  // diff or the lint): read without them.
  const data = (config) => {
    if (config === null || typeof config !== "object") return config;
    const { transport: _t, hooks: _h, ...rest } = config;
    const r = rest.retry;
    if (r !== null && typeof r === "object" && (typeof r.shouldRetry === "function" || typeof r.delay === "function")) {
      const { shouldRetry, delay, ...retry } = r;
      rest.retry = retry;
      if (typeof shouldRetry !== "function" && shouldRetry !== undefined) retry.shouldRetry = shouldRetry;
      if (typeof delay !== "function" && delay !== undefined) retry.delay = delay;
    }
    return rest;
  };

  /** The config's fingerprint (12 hex digits): what snapshot().config.fingerprint reports. */
  const fingerprint = guard("fingerprint", (config) => tools.fingerprint(data(config)));

  /** The config as it behaves: `{ fingerprint, fields: [[path, value], ...] }`, defaults filled in. */
  const effectiveConfig = guard("effectiveConfig", (config) => tools.effectiveConfig(data(config)));

  /** Every field that differs: `[{ path, a, b, consequence }]`; `names` label the two in the consequences. */
  const diffConfig = guard("diffConfig", (a, b, { names = [] } = {}) => tools.diffConfig(data(a), data(b), names[0], names[1]));

  /** Every problem of the config, in order: `[{ path, value, allowed }]` (`[]`: valid). */
  const validateConfig = guard("validateConfig", (config) => tools.validateConfig(data(config)));

  /** Findings, most severe first: `[{ rule, severity, path, message, fix, help }]`. */
  const lintConfig = guard("lintConfig", (config, options) => tools.lintConfig(data(config), options ?? null));

  const lintRules = Object.freeze(tools.lintRules());

  return {
    sim: { presets, simulate, rehearse, play, drawRaster, randomSeed },
    drift: { fingerprint, effectiveConfig, diffConfig, lintConfig, lintRules, validateConfig },
  };
}

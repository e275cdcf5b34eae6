// State snapshots on the JS side (src/core/state.rs has the format and the merge): the error a
// state that cannot be taken throws, and what the engine reads of one.
//
// A state is copied as a config is (pkg/config.js says why): own properties only, each read in a
// try, so that reading it cannot throw later or reach what the caller never set. Its shape (what
// JSON can get wrong: the version, keys, types, indexes) is checked here, as it is read, and the
// engine gets it as plain lists. The values' ranges and the fingerprint are the engine's to check
// (`State::check`, which a state built in Rust goes through too). Either way the error names the
// path of the first problem, and nothing of the state is taken.

import { copy, show, valueAt } from "./config.js";

export class StateError extends Error {
  constructor(path, value, allowed, message) {
    super(message);
    this.name = "StateError";
    this.path = path;
    this.value = value;
    this.allowed = allowed;
  }
}

function stateError(path, value, allowed, shown = show(value)) {
  return new StateError(path, value, allowed, `invalid ballast state: ${path} = ${shown} (allowed: ${allowed})`);
}

/** A state is deeper than a config: its slots are arrays of arrays, four levels down. */
const LIMITS = { depth: 8, fail: stateError, root: "state", keep: null };

/** A plain copy of `state` (what exportState() returned, perhaps through JSON). */
function copyState(state) {
  let kind;
  try {
    kind = state !== null && typeof state === "object" && !Array.isArray(state) ? "object" : "other";
  } catch {
    kind = "other"; // a revoked Proxy
  }
  if (kind !== "object") {
    const hint = typeof state === "string" ? ", parsed: JSON.parse it first" : "";
    throw stateError("state", state, `an object from exportState()${hint}`);
  }
  return copy(state, "", 0, LIMITS);
}

/** The engine's error for `path` of the copied `state` (`shown`: the value as the engine read it). */
export function stateErrorAt(state, path, shown, allowed) {
  return new StateError(path, valueAt(state, path), allowed, `invalid ballast state: ${path} = ${shown} (allowed: ${allowed})`);
}

const KEYS = {
  state: ["v", "fingerprint", "routes", "isolates"],
  route: ["name", "url", "health"],
  isolate: ["id", "at", "reserve", "routes"],
  counts: ["route", "slots"],
};
const MAX_ITEMS = 1024;

function fail(path, value, allowed) {
  throw stateError(path, value, allowed);
}

/** `o` (at `path`) must be an object with none but `keys`. */
function keys(o, path, known) {
  if (o === null || typeof o !== "object" || Array.isArray(o)) fail(path, o, "an object");
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) fail(path === "" ? k : `${path}.${k}`, o[k], `no such key; known keys here: ${known.join(", ")}`);
  }
}

function array(v, path) {
  if (!Array.isArray(v) || v.length > MAX_ITEMS) fail(path, v, `an array of at most ${MAX_ITEMS} items`);
  return v;
}

/** `v` must be `n` numbers; those at `ints` integers in [0, 2^53 - 1]. */
function numbers(v, n, path, ints = []) {
  if (!Array.isArray(v) || v.length !== n) fail(path, v, `an array of ${n} numbers`);
  v.forEach((x, i) => {
    if (typeof x !== "number") fail(`${path}[${i}]`, x, "a number");
    if (ints.includes(i) && !(Number.isSafeInteger(x) && x >= 0)) fail(`${path}[${i}]`, x, "an integer in [0, 9007199254740991]");
  });
  return v;
}

/**
 * The lists the engine reads of a state (`State::from_lists`), from a copy of it whose shape is
 * checked on the way; throws the StateError of the first problem. `copy` receives the copy (for
 * the engine's errors, which name paths in it).
 */
export function readState(state, copy = () => {}) {
  const s = copyState(state);
  copy(s);
  keys(s, "", KEYS.state);
  if (s.v !== 1) fail("v", s.v, "1, the state version this ballast-fetch reads");
  if (typeof s.fingerprint !== "string") fail("fingerprint", s.fingerprint, "a string");
  const routes = array(s.routes, "routes").map((r, i) => {
    const p = `routes[${i}]`;
    keys(r, p, KEYS.route);
    for (const k of ["name", "url"]) if (typeof r[k] !== "string") fail(`${p}.${k}`, r[k], "a string");
    return r.health == null ? [r.name, r.url] : [r.name, r.url, ...numbers(r.health, 3, `${p}.health`, [2])];
  });
  const isolates = array(s.isolates, "isolates").map((x, i) => {
    const p = `isolates[${i}]`;
    keys(x, p, KEYS.isolate);
    for (const k of ["id", "at", "reserve"]) if (typeof x[k] !== "number") fail(`${p}.${k}`, x[k], "a number");
    if (!(Number.isSafeInteger(x.id) && x.id >= 0)) fail(`${p}.id`, x.id, "an integer in [0, 9007199254740991]");
    const counts = array(x.routes, `${p}.routes`).map((c, j) => {
      const q = `${p}.routes[${j}]`;
      keys(c, q, KEYS.counts);
      if (!(Number.isInteger(c.route) && c.route >= 0 && c.route < routes.length)) {
        fail(`${q}.route`, c.route, `an index into routes (${routes.length === 0 ? "which is empty" : `0 to ${routes.length - 1}`})`);
      }
      return [c.route, ...array(c.slots, `${q}.slots`).flatMap((slot, k) => numbers(slot, 3, `${q}.slots[${k}]`, [1, 2]))];
    });
    return [x.id, x.at, x.reserve, counts];
  });
  return [s.fingerprint, routes, isolates];
}

// Reading the user's config object safely, before the engine sees it.
//
// Why a copy: reading a user's object can throw (a getter that throws, a revoked Proxy, an array
// whose `length` throws) and can reach what the user never set (a polluted
// `Object.prototype.transport` must not become everyone's transport). So the config is copied here,
// own properties only, each read in a try, into plain objects without a prototype, and handed to
// the engine as plain data on a tape (`encode`, src/boundary/value.rs). The engine does
// every check of types, ranges and unknown keys (src/core/config/), so the rules live in one
// place, and nothing the engine reads can call back into JS.

export class ConfigError extends Error {
  constructor(path, value, allowed, message) {
    super(message);
    this.name = "ConfigError";
    this.path = path;
    this.value = value;
    this.allowed = allowed;
  }
}

/** No config array needs more items than this; a longer one is an error, not a long copy. */
const MAX_ITEMS = 10_000;
/** The schema is three levels deep; deeper values are under unknown keys and reported as such. */
const MAX_DEPTH = 6;

/** A short rendering of any value for messages; never throws. */
export function show(value) {
  try {
    switch (typeof value) {
      case "string":
        return JSON.stringify(value);
      case "number":
        return String(value);
      case "bigint":
        return `${value}n`;
      case "symbol":
        return value.toString();
      case "function":
        return "a function";
      case "undefined":
        return "undefined";
      default:
        if (value === null) return "null";
        if (Array.isArray(value)) return "an array";
        return JSON.stringify(value) ?? "an object";
    }
  } catch {
    return "an unreadable value";
  }
}

/** The value at a path like `routes[2].url` (or `isolates[0].routes[1].slots[2][0]`) of a copy. */
export function valueAt(data, path) {
  let cur = data;
  for (const seg of path.split(".")) {
    const m = /^([^[]*)((?:\[\d+\])*)$/.exec(seg);
    if (m === null || cur === null || typeof cur !== "object") return undefined;
    cur = m[1] === "" ? cur : cur[m[1]];
    for (const [, i] of m[2].matchAll(/\[(\d+)\]/g)) cur = Array.isArray(cur) ? cur[Number(i)] : undefined;
  }
  return cur;
}

export function configError(path, value, allowed, shown = show(value)) {
  return new ConfigError(path, value, allowed, `invalid ballast config: ${path} = ${shown} (allowed: ${allowed})`);
}

function unreadable(path, err, fail) {
  let why;
  try {
    why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    why = "an exception";
  }
  return fail(path, undefined, "a value that can be read", `<reading it threw ${why}>`);
}

const join = (path, key) => (path === "" ? key : `${path}.${key}`);

/** What a config's copy allows, and the error for what it refuses. */
const CONFIG = { depth: MAX_DEPTH, fail: configError, root: "config", keep: null };

/**
 * A plain copy of `value` (at `path`, `depth` levels down): own properties only, each read in a
 * try, into objects without a prototype. `limits`: how deep it goes (`depth`), the error for
 * what cannot be copied (`fail(path, value, allowed, shown)`), the path of the root in messages
 * (`root`), and a root key whose value is kept as it is, for another copier (`keep`).
 */
export function copy(value, path, depth, limits = CONFIG) {
  let isArray;
  try {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
    if (typeof value === "function") return value;
    if (path === "coordinator") return value; // code, like the transport: kept as it is
    isArray = Array.isArray(value);
  } catch (err) {
    throw unreadable(path === "" ? limits.root : path, err, limits.fail); // a revoked Proxy
  }
  if (depth >= limits.depth) return Object.create(null);
  if (isArray) {
    let n;
    try {
      n = value.length;
    } catch (err) {
      throw unreadable(`${path}.length`, err, limits.fail);
    }
    if (!Number.isInteger(n) || n < 0 || n > MAX_ITEMS) {
      throw limits.fail(path, value, `an array of at most ${MAX_ITEMS} items`, `an array of ${show(n)} items`);
    }
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      const at = `${path}[${i}]`;
      out[i] = copy(own(value, String(i), at, limits.fail), at, depth + 1, limits);
    }
    return out;
  }
  let keys;
  try {
    keys = Object.keys(value);
  } catch (err) {
    throw unreadable(path === "" ? limits.root : path, err, limits.fail);
  }
  const out = Object.create(null);
  for (const key of keys) {
    const at = join(path, key);
    const v = own(value, key, at, limits.fail);
    out[key] = depth === 0 && key === limits.keep ? v : copy(v, at, depth + 1, limits);
  }
  return out;
}

/** `obj[key]` if it is an own property (a getter is called), else undefined; never inherited. */
function own(obj, key, path, fail) {
  try {
    const d = Object.getOwnPropertyDescriptor(obj, key);
    if (d === undefined) return undefined;
    return "value" in d ? d.value : d.get === undefined ? undefined : d.get.call(obj);
  } catch (err) {
    throw unreadable(path, err, fail);
  }
}

/** The hooks a config may set (functions, which stay on the JS side): `hooks.*`, `retry.*`. */
const HOOKS = ["beforeAttempt"];
const RETRY_HOOKS = ["shouldRetry", "delay"];

/**
 * The user's config as plain data the engine can read without anything throwing, and what stays
 * on the JS side: the transport, the hooks (functions), the coordinator, and the initial state (its
 * own copy, pkg/state.js): none of them is configuration, so none is in the fingerprint. Throws
 * ConfigError for what cannot be read or is not an object; everything else is checked by the
 * engine.
 */
export function readConfig(config) {
  if (config === undefined || config === null) {
    return { data: Object.create(null), transport: null, hooks: {}, coordinator: null, initialState: null };
  }
  let kind;
  try {
    kind = typeof config === "object" && !Array.isArray(config) ? "object" : "other";
  } catch (err) {
    throw unreadable("config", err, configError);
  }
  if (kind !== "object") throw configError("config", config, "an object");
  const data = copy(config, "", 0, { ...CONFIG, keep: "initialState" });
  const initialState = data.initialState ?? null;
  delete data.initialState;
  const transport = data.transport ?? null;
  delete data.transport;
  if (transport !== null && typeof transport !== "function") {
    throw configError("transport", transport, "a fetch-like function");
  }
  const coordinator = data.coordinator ?? null;
  delete data.coordinator;
  if (coordinator !== null) {
    let lease;
    try {
      lease = typeof coordinator === "object" || typeof coordinator === "function" ? coordinator.lease : undefined;
    } catch (err) {
      throw unreadable("coordinator.lease", err, configError);
    }
    if (typeof lease !== "function") throw configError("coordinator", coordinator, "an object with a lease(request) method");
  }
  const given = data.hooks ?? null;
  delete data.hooks;
  const hooks = {};
  if (given !== null) {
    if (typeof given !== "object" || Array.isArray(given)) throw configError("hooks", given, "an object of functions");
    for (const [k, v] of Object.entries(given)) {
      if (!HOOKS.includes(k)) throw configError(`hooks.${k}`, v, `no such hook; known hooks: ${HOOKS.join(", ")}`);
      if (v != null && typeof v !== "function") throw configError(`hooks.${k}`, v, "a function");
      if (v != null) hooks[k] = v;
    }
  }
  const retry = data.retry;
  if (retry !== null && typeof retry === "object" && !Array.isArray(retry)) {
    for (const k of RETRY_HOOKS) {
      if (!(k in retry)) continue;
      const v = retry[k];
      delete retry[k];
      if (v != null && typeof v !== "function") throw configError(`retry.${k}`, v, "a function");
      if (v != null) hooks[k] = v;
    }
  }
  return { data, transport, hooks, coordinator, initialState };
}

/** Appends plain data to a tape, with the engine's tags (`T`, pkg/boundary.js). */
export function encode(value, T, out = []) {
  switch (typeof value) {
    case "number":
      out.push(T.number, value);
      break;
    case "string":
      str(value, T.string, out);
      break;
    case "boolean":
      out.push(value ? T.true : T.false);
      break;
    case "object":
      if (value === null) out.push(T.null);
      else if (Array.isArray(value)) {
        out.push(T.list, value.length);
        for (const item of value) encode(item, T, out);
      } else {
        const keys = Object.keys(value).filter((k) => value[k] !== undefined);
        out.push(T.object, keys.length);
        for (const k of keys) {
          str(k, T.string, out);
          encode(value[k], T, out);
        }
      }
      break;
    default:
      // undefined (an array's hole), a function, a bigint, a symbol: what it is, for messages.
      str(show(value), T.other, out);
  }
  return out;
}

function str(s, tag, out) {
  out.push(tag, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
}

// The public API shared by every runtime entry (node.js, workerd.js, browser.js). Each entry only
// says how to get the compiled wasm module; the module is instantiated lazily on the first
// createFetch() call, so importing ballast does no work at module scope (Workers forbid it).

import { initSync, Client, lastPanic, eventKinds } from "./gen/ballast.js";
import { makeDriver, now } from "./driver.js";

export class ConfigError extends Error {
  constructor(path, value, allowed, message) {
    super(message);
    this.name = "ConfigError";
    this.path = path;
    this.value = value;
    this.allowed = allowed;
  }
}

export class BallastError extends Error {
  constructor(code, reason, message, cause, attempts) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "BallastError";
    this.code = code;
    this.reason = reason;
    this.attempts = attempts ?? [];
  }
}


function describe(value) {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  return String(value);
}

// A trap in wasm ("unreachable") means a Rust panic: report it as a BallastError with its message.
function internal(err) {
  if (typeof WebAssembly !== "undefined" && err instanceof WebAssembly.RuntimeError) {
    const detail = lastPanicSafe() ?? err.message;
    return new BallastError("INTERNAL", "internal", `ballast: internal error: ${detail}`, err, []);
  }
  return err;
}

// The note of the last Rust panic (UTF-8 bytes), as text; undefined when there is none.
function lastPanicSafe() {
  try {
    const note = lastPanic();
    return note === undefined ? undefined : new TextDecoder().decode(note);
  } catch {
    return undefined;
  }
}

// The config errors checked here, before the engine sees the config (same message as the engine's).
function configError(path, value, allowed) {
  const message = `invalid ballast config: ${path} = ${describe(value)} (allowed: ${allowed})`;
  return new ConfigError(path, value, allowed, message);
}

const hooksBase = {
  configError: (path, value, allowed, message) => new ConfigError(path, value, allowed, message),
  ballastError: (code, reason, message, cause, attempts) =>
    new BallastError(code, reason, message, cause, attempts),
};

export function bind(getModule) {
  let ready = false;
  // Event kinds in listening-mask bit order, read from the engine once it is instantiated.
  let EVENTS = [];
  // Give-up reasons in the engine's index order (src/wasm/tasks.rs).
  let REASONS = [];

  return function createFetch(config) {
    if (config != null && (typeof config !== "object" || Array.isArray(config))) {
      throw configError("config", config, "an object");
    }
    const { transport = null, ...rest } = config ?? {};
    if (transport !== null && typeof transport !== "function") {
      throw configError("transport", transport, "a fetch-like function");
    }
    if (!ready) {
      initSync({ module: getModule() });
      EVENTS = eventKinds().split(",");
      REASONS = Client.giveUpReasons().split(",");
      ready = true;
    }

    const listeners = new Map(EVENTS.map((t) => [t, new Set()]));
    let driver = null;
    const hooks = {
      ...hooksBase,
      granted: (ticket) => driver.granted(ticket),
      emit(type, payload) {
        for (const listener of [...listeners.get(type)]) {
          try {
            listener(payload);
          } catch (err) {
            console.error(`ballast: a "${type}" listener threw`, err);
          }
        }
      },
    };
    let client;
    try {
      client = new Client(rest, hooks);
      driver = makeDriver(client, transport, REASONS, internal);
    } catch (err) {
      throw internal(err);
    }

    const wrapped = driver.call;
    wrapped.snapshot = () => {
      try {
        return client.snapshot(now());
      } catch (err) {
        throw internal(err);
      }
    };
    wrapped.on = (type, listener) => {
      if (!listeners.has(type)) {
        throw new TypeError(`ballast: unknown event "${type}"; known events: ${EVENTS.join(", ")}`);
      }
      if (typeof listener !== "function") {
        throw new TypeError(`ballast: the "${type}" listener must be a function`);
      }
      const set = listeners.get(type);
      set.add(listener);
      const sync = () =>
        client.setListening(EVENTS.reduce((m, t, i) => (listeners.get(t).size ? m | (1 << i) : m), 0));
      sync();
      return () => {
        set.delete(listener);
        sync();
      };
    };
    return wrapped;
  };
}

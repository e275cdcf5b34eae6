// The public API shared by every runtime entry (node.js, deno.js, workerd.js, browser.js). Each
// entry only says how to get the compiled wasm module; it is instantiated on the first
// createFetch() call, so importing ballast does no work at module scope (Workers forbid it).

import { ConfigError, configError, readConfig, encode, valueAt } from "./config.js";
import { hosts } from "./host.js";
import { Listeners } from "./listeners.js";
import { Executor, BallastError, internalError } from "./executor.js";

export { ConfigError, BallastError };

/**
 * `createFetch` bound to a way of getting the wasm module. For tests: `instantiate` replaces the
 * generated glue's (to make the engine fault on purpose), `clock` the real clock and timers.
 */
export function bind(getModule, { instantiate, clock } = {}) {
  const host = hosts(getModule, instantiate);

  return function createFetch(config) {
    const { data, transport, hooks: userHooks, coordinator } = readConfig(config);
    const listeners = new Listeners(host().boundary.events);
    const hooks = {
      configError: (path, allowed, masked) => configError(path, masked ?? valueAt(data, path), allowed),
    };
    let ex = null;

    /** A client of the current instance, with its executor. */
    const open = () => {
      const h = host();
      let client;
      try {
        client = new h.Client(encode(data, h.boundary.T), hooks);
        client.setListening(listeners.mask());
        const consult = (userHooks.shouldRetry ? 1 : 0) | (userHooks.delay ? 2 : 0);
        if (consult !== 0) client.setConsult(consult);
        if (coordinator !== null && !client.setShared()) {
          client.free();
          throw configError("coordinator", coordinator, "nothing in a browser: the browser build has no shared retry budget (coordinators are for Workers, Deno and Node)");
        }
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        h.fault();
        throw internalError(h, err);
      }
      return new Executor({ host: h, client, transport, hooks: userHooks, coordinator, listeners, onFault: recover, clock });
    };

    /** The executor faulted (pkg/host.js): the client starts over on a fresh instance. */
    function recover(error) {
      let recovered = true;
      try {
        ex = open();
      } catch {
        recovered = false; // the dead executor stays: every call fails at once with INTERNAL
      }
      listeners.emit("internal-error", { message: error.message, recovered });
    }

    ex = open();
    const wrapped = (input, init) => ex.call(input, init);
    wrapped.snapshot = () => ex.snapshot();
    wrapped.on = (type, listener) => {
      if (!listeners.has(type)) {
        throw new TypeError(`ballast: unknown event "${type}"; known events: ${listeners.kinds.join(", ")}`);
      }
      if (typeof listener !== "function") {
        throw new TypeError(`ballast: the "${type}" listener must be a function`);
      }
      ex.setListening(listeners.add(type, listener));
      let on = true;
      return () => {
        if (on) ex.setListening(listeners.delete(type, listener));
        on = false;
      };
    };
    return wrapped;
  };
}

// The public API shared by every runtime entry (node.js, deno.js, workerd.js, browser.js). Each
// entry only says how to get the compiled wasm module; it is instantiated on the first
// createFetch() call, so importing ballast does no work at module scope (Workers forbid it).

import { ConfigError, configError, readConfig } from "./config.js";
import { hosts } from "./host.js";
import { Listeners } from "./listeners.js";
import { makeDriver, now, BallastError, internalError } from "./driver.js";

export { ConfigError, BallastError };

/**
 * `createFetch` bound to a way of getting the wasm module. `instantiate` replaces the generated
 * glue's (tests use it to make the engine fault on purpose).
 */
export function bind(getModule, { instantiate } = {}) {
  const host = hosts(getModule, instantiate);

  return function createFetch(config) {
    const { data, transport } = readConfig(config);
    const listeners = new Listeners(host().events);
    let drv = null;
    let mask = 0;

    /** A client of the current instance, with its driver. */
    const open = () => {
      const h = host();
      let opened = null;
      const hooks = {
        configError,
        ballastError: (code, reason, message, cause, attempts) =>
          new BallastError(code, reason, message, cause, attempts),
        granted: (ticket) => opened.granted(ticket),
        emit: (type, payload) => listeners.emit(type, payload),
      };
      let client;
      try {
        client = new h.Client(data, hooks);
        client.setListening(mask);
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        h.fault();
        throw internalError(h, err);
      }
      opened = makeDriver({ host: h, client, transport, listeners, onFault: recover });
      return opened;
    };

    /** The current driver faulted (pkg/host.js): the client starts over on a fresh instance. */
    function recover(error) {
      let recovered = true;
      try {
        drv = open();
      } catch {
        recovered = false; // the dead driver stays: every call fails at once with INTERNAL
      }
      listeners.emit("internal-error", { message: error.message, recovered });
    }

    drv = open();
    const wrapped = (input, init) => drv.call(input, init);
    wrapped.snapshot = () => {
      const d = drv;
      let snap;
      try {
        snap = d.client.snapshot(now());
      } catch (err) {
        throw d.fault(err);
      } finally {
        listeners.flush();
      }
      return snap;
    };
    wrapped.on = (type, listener) => {
      if (!listeners.has(type)) {
        throw new TypeError(`ballast: unknown event "${type}"; known events: ${listeners.kinds.join(", ")}`);
      }
      if (typeof listener !== "function") {
        throw new TypeError(`ballast: the "${type}" listener must be a function`);
      }
      const sync = (m) => {
        mask = m;
        const d = drv;
        try {
          d.client.setListening(mask);
        } catch (err) {
          d.fault(err);
        }
      };
      sync(listeners.add(type, listener));
      let on = true;
      return () => {
        if (on) sync(listeners.delete(type, listener));
        on = false;
      };
    };
    return wrapped;
  };
}

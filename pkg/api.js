// The public API shared by every runtime entry (node.js, deno.js, workerd.js, browser.js). Each
// entry only says how to get the compiled wasm module; it is instantiated on the first
// createFetch() call, so importing ballast does no work at module scope (Workers forbid it).

import { ConfigError, configError, copy, readConfig, encode, valueAt } from "./config.js";
import { hosts } from "./host.js";
import { Listeners } from "./listeners.js";
import { Executor, BallastError, internalError } from "./executor.js";
import { firstCall, secondCall } from "./pitfall.js";
// The class only: the state's reader comes from the server entries (`server` below), so a
// browser bundle, whose build has no state snapshots, does not carry it.
import { StateError } from "./state.js";

export { ConfigError, BallastError, StateError };

const isStateError = (err) => err instanceof StateError;

/** What the browsers' build leaves out (Cargo.toml's `server`), and where to find it. */
const SERVERS = "(they are for Workers, Deno and Node)";
const NO_COORDINATOR = `nothing in a browser: the browser build has no shared retry budget ${SERVERS}`;
const NO_STATE = `nothing in a browser: the browser build has no state snapshots ${SERVERS}`;
const NO_SET_ROUTES = "nothing in a browser: the browser build cannot replace routes (setRoutes is for Workers, Deno and Node)";

/**
 * `createFetch` bound to a way of getting the wasm module. `server`: pkg/server.js (the state's
 * reader and the executor that leases and carries state), which the server entries pass with their
 * build (Cargo.toml's `server`); without it, or with the browsers' build, exportState, mergeState,
 * initialState and setRoutes are refused. `executor`: the executor class, if not the one `server`
 * names (Workers': pkg/workers-executor.js). For tests:
 * `instantiate` replaces the generated glue's (to make the engine fault on purpose), `clock` the
 * real clock and timers.
 */
export function bind(getModule, { instantiate, clock, server = null, executor = server?.Executor ?? Executor } = {}) {
  const host = hosts(getModule, instantiate);

  return function createFetch(config) {
    const { data, transport, hooks: userHooks, coordinator, initialState } = readConfig(config);
    const listeners = new Listeners(host().boundary.events);
    /** The entry and build have what the browsers' leave out: coordinators, state snapshots, setRoutes. */
    const stateful = server !== null && host().boundary.features.has("server");
    if (coordinator !== null && !stateful) throw configError("coordinator", coordinator, NO_COORDINATOR);
    if (initialState !== null && !stateful) throw configError("initialState", initialState, NO_STATE);
    /** Throws in the browsers' build, which has no state snapshots. */
    const needState = (what) => {
      if (!stateful) throw new StateError("state", undefined, NO_STATE, `ballast: ${what}: the browser build has no state snapshots ${SERVERS}`);
    };
    /** What the engine's errors name paths of: the config (or the routes being set), a state. */
    let names = data;
    let state = null;
    const hooks = {
      configError: (path, allowed, masked) => configError(path, masked ?? valueAt(names, path), allowed),
      stateError: (path, shown, allowed) => server.stateErrorAt(state, path, shown, allowed),
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
        if (coordinator !== null) client.setShared();
      } catch (err) {
        if (err instanceof ConfigError) throw err;
        h.fault();
        throw internalError(h, err);
      }
      return new executor({ host: h, client, transport, hooks: userHooks, coordinator, listeners, onFault: recover, clock });
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

    // The initial state is checked now and merged on first use: merging reads the clock, which
    // a Worker must not do at module scope (nor does its clock run there).
    let pending = null;
    let initial = null;
    if (initialState !== null) {
      pending = encode(
        server.readState(initialState, (s) => (state = initial = s)),
        ex.b.T,
      );
      ex.mergeState(pending, hooks, isStateError, false);
    }
    const settle = () => {
      if (pending === null) return;
      const tape = pending;
      pending = null;
      state = initial;
      initial = null;
      try {
        ex.mergeState(tape, hooks, isStateError);
      } catch (err) {
        // Only the clock is left to refuse it (a state from more than a day ahead); a fault has
        // already started the client over.
        if (err instanceof StateError) console.warn(`ballast: initialState was not merged: ${err.message}`);
      }
    };

    // A client is meant to serve many calls (pkg/pitfall.js): its first two are counted.
    let calls = 0;
    let single = null;
    const wrapped = (input, init) => {
      if (calls < 2) {
        calls += 1;
        if (calls === 1) single = firstCall();
        else secondCall(single);
      }
      if (pending !== null) settle();
      return ex.call(input, init);
    };
    wrapped.snapshot = () => {
      settle();
      return ex.snapshot();
    };
    wrapped.exportState = () => {
      needState("exportState()");
      settle();
      return ex.exportState();
    };
    wrapped.mergeState = (given) => {
      needState("mergeState()");
      settle();
      const lists = server.readState(given, (s) => (state = s));
      return ex.mergeState(encode(lists, ex.b.T), hooks, isStateError);
    };
    wrapped.setRoutes = (routes) => {
      if (!stateful) throw configError("routes", routes, NO_SET_ROUTES);
      settle();
      if (routes === undefined) throw configError("routes", routes, "an array of routes ([] for none)");
      const copied = copy(routes, "routes", 1);
      names = { routes: copied };
      try {
        ex.setRoutes(encode(names, ex.b.T), hooks);
      } finally {
        names = data;
      }
      data.routes = copied; // a client that starts over (pkg/host.js) runs these routes too
    };
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

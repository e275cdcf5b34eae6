// The join of two state snapshots without a client (docs/state.md): what a coordinator's store
// does with the states its clients push (cloudflare.js, deno-kv.js). Servers only: the browsers'
// build refuses it, and no browser entry imports this module.
//
// Why an instance of its own: a store (a Durable Object, a Deno KV writer) may hold no client at
// all, and a client's instance is replaced when it faults (pkg/host.js); this one is made on the
// first join and replaced the same way.

import { encode } from "./config.js";
import { hosts } from "./host.js";
import { readState, stateErrorAt, StateError } from "./state.js";

/** `err` (a StateError of one of the two states) with its path under `which` ("a" or "b"). */
function under(which, err) {
  const path = err.path === "state" ? which : `${which}.${err.path}`;
  return new StateError(path, err.value, err.allowed, err.message.replace(`state: ${err.path} =`, `state: ${path} =`));
}

/**
 * `joinStates(a, b)` bound to a way of getting the wasm module (the server build): the join of
 * two plain states of one config (what `exportState()` returns, or an earlier join), as a plain
 * state. Commutative, associative and idempotent. Throws a StateError whose path starts with
 * `a.` or `b.` for a state it cannot take (`b.fingerprint`: states of different configs).
 */
export function joiner(getModule) {
  const host = hosts(getModule);
  /** The client each instance's joins go through (a default config: it takes no part). */
  const clients = new WeakMap();
  return function joinStates(a, b) {
    const copies = {};
    const read = (state, which) => {
      try {
        return readState(state, (c) => (copies[which] = c));
      } catch (err) {
        throw err instanceof StateError ? under(which, err) : err;
      }
    };
    const lists = [read(a, "a"), read(b, "b")];
    const h = host();
    const hooks = {
      stateError: (path, shown, allowed) => stateErrorAt(copies, path, shown, allowed),
      configError: () => new TypeError("ballast: internal: a join has no config"),
    };
    let tape;
    try {
      // Through a client's mergeState, which takes a list of two states as a join and leaves the
      // client alone (src/wasm/mod.rs says why there is no export of its own).
      clients.get(h) ?? clients.set(h, new h.Client(encode({}, h.boundary.T), hooks));
      tape = clients.get(h).mergeState(encode(lists, h.boundary.T), 0, Date.now(), hooks, false);
    } catch (err) {
      // A refusal is returned by the engine (nothing unwound through its frames); anything else
      // is a fault, and the next join gets a fresh instance.
      if (err instanceof StateError) throw err;
      h.fault();
      throw err;
    }
    return h.boundary.decode(tape)[0];
  };
}

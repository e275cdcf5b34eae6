// ballast-fetch/deno-kv: the retry budget shared by several Deno processes or isolates, on Deno KV
// (docs/shared-budget.md).
//
// One bucket per group and config (coordinator.js: the arithmetic of src/core/budget.rs, its
// reserve counted once for everyone) under one key, changed with an atomic operation that checks the versionstamp
// it read (retried when another client wrote in between); the tokens granted are added up with
// `sum` on a counter key next to it. The clients' engines never wait on it (src/core/lease.rs).
//
// It carries the group's route state too (docs/state.md): one merged state per config
// fingerprint under its own key, which `shareState` clients read when they start and push
// their own into (joined with what is there, written with the same versionstamp check).

import { answer } from "./coordinator.js";
import { stateSharing, PUSH_EVERY_MS } from "./share-state.js";

/** How often a lease is tried again when other clients keep writing the bucket in between. */
const ATTEMPTS = 32;

/**
 * A coordinator (the `coordinator` config option) on `kv` (`await Deno.openKv(path)`): the
 * bucket of the clients of config `fingerprint` is at `[...prefix, group, fingerprint]`, the
 * tokens granted so far (a `Deno.KvU64`) at `[...prefix, group, fingerprint, "granted"]`. A
 * deploy that changes the config gives the new clients a bucket of their own. The group's route
 * state of each config is at `[...prefix, group, "state", fingerprint]` (`shareState`).
 */
export function kvCoordinator(kv, { group = "default", prefix = ["ballast", "budget"] } = {}) {
  if (kv === null || typeof kv !== "object" || typeof kv.atomic !== "function") {
    throw new TypeError("ballast: kvCoordinator needs a Deno.Kv (await Deno.openKv(path))");
  }
  if (typeof group !== "string" || group === "") throw new TypeError("ballast: kvCoordinator's group must be a non-empty string");
  const stateKey = (fingerprint) => [...prefix, group, "state", fingerprint];
  return {
    async lease(request) {
      const fingerprint = typeof request?.fingerprint === "string" ? request.fingerprint : "";
      const key = [...prefix, group, fingerprint];
      const granted = [...key, "granted"];
      for (let i = 0; i < ATTEMPTS; i++) {
        const cur = await kv.get(key);
        const { bucket, response } = answer(cur.value ?? undefined, request, Date.now());
        const op = kv.atomic().check(cur).set(key, bucket);
        if (response.granted > 0) op.sum(granted, BigInt(response.granted));
        if ((await op.commit()).ok) return response;
      }
      throw new Error(`ballast: the Deno KV bucket ${JSON.stringify(key)} changed under every one of ${ATTEMPTS} attempts`);
    },
    /** The group's merged state for config `fingerprint` (the state's), or null. */
    async pullState(fingerprint) {
      return (await kv.get(stateKey(fingerprint))).value ?? null;
    },
    /** Joins `state` into the group's state of its config. */
    async pushState(state) {
      // Checked alone first: a state that cannot be taken is refused, whatever the store holds.
      const given = await joinStates(state, state);
      const key = stateKey(given.fingerprint);
      for (let i = 0; i < ATTEMPTS; i++) {
        const cur = await kv.get(key);
        let joined = given;
        try {
          if (cur.value != null) joined = await joinStates(cur.value, given);
        } catch {
          // what it held cannot be read (a format from another version): the new state replaces it
        }
        if ((await kv.atomic().check(cur).set(key, joined).commit()).ok) return;
      }
      throw new Error(`ballast: the Deno KV state ${JSON.stringify(key)} changed under every one of ${ATTEMPTS} attempts`);
    },
  };
}

/**
 * `api` (a client of `createFetch`) sharing its route state through `coordinator` (a
 * kvCoordinator): it reads the group's state at once (a Deno process may do I/O at startup) and
 * merges it when it arrives,
 * and pushes its own after calls, at most every `pushEveryMs` (default 10 s), in the background.
 * Returns the wrapped fetch, with `api`'s methods.
 */
export function shareState(api, coordinator, { pushEveryMs = PUSH_EVERY_MS } = {}) {
  if (typeof coordinator?.pullState !== "function" || typeof coordinator?.pushState !== "function") {
    throw new TypeError("ballast: shareState needs a coordinator that carries state (kvCoordinator)");
  }
  const sharing = stateSharing(api, coordinator, { pushEveryMs });
  sharing.start();
  return sharing.fetch;
}

/**
 * The join of two states of one config without a client (join.js), for a store of your own:
 * loaded on first use (the server build, imported as Deno does).
 */
export async function joinStates(a, b) {
  return (await import("./join-deno.js")).joinStates(a, b);
}

// ballast-fetch/cloudflare: the retry budget shared by every isolate of a Worker, on a Durable
// Object (docs/shared-budget.md).
//
// Why: each isolate of a Worker is a client with its own budget, and a popular Worker runs as
// thousands of isolates, so their reserves add up against an origin that is down. Here one
// Durable Object per origin group (its name is the group: one object per group, not one global
// object) holds the group's bucket (coordinator.js), and each isolate's client leases retry
// tokens from it in small batches, in the background (src/core/lease.rs). An isolate never waits
// on the object: a late or failed lease puts it on its local budget with a small reserve.
//
// Workers forbid I/O, timers and random values at module scope, and `env` arrives with the first
// request, so `sharedFetch` builds the client at module scope and binds it to the namespace on
// first use (`use(env, ctx)`); each request's `ctx` keeps the lease calls started under it alive
// (`ctx.waitUntil`).
//
// The object also holds the group's route state (docs/state.md): one merged state per config
// fingerprint, which each client reads on its first use and pushes its own into, in the
// background (share-state.js). With Workers KV (`stateKv`), a new isolate reads the state there
// first, and the object copies it there at most once a minute.

import wasmModule from "./gen/ballast_fast_bg.wasm";
import { createFetch } from "./workerd.js";
import { answer } from "./coordinator.js";
import { joiner } from "./join.js";
import { StateError } from "./state.js";
import { stateSharing, PUSH_EVERY_MS } from "./share-state.js";

export * from "./public.js";
export { createFetch };

/** The join of two states without a client (join.js), on the server build. */
export const joinStates = joiner(() => wasmModule);

/** How often the object copies a group's state to Workers KV at most: KV's own staleness. */
const KV_EVERY_MS = 60_000;

/** The Workers KV key of a group's state for config `fingerprint`. */
export const stateKvKey = (group, fingerprint) => `ballast:state:${group}:${fingerprint}`;

const json = (value, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

/**
 * The Durable Object class holding one group's bucket. Export it from the Worker that owns the
 * namespace, and bind the namespace as `BALLAST_BUDGET` (or the `binding` given to sharedFetch).
 * It answers `POST` with a JSON lease request `{ fingerprint, budget, deposits, want }` with
 * `{ granted, ttlMs }`, or 400 `{ error }` naming what was wrong. At `/state` it holds the
 * group's route state: `GET /state?fingerprint=F` answers the merged state of config F (or
 * `null`), `POST /state` joins the state in the body into it (`?group=G&kv=BINDING`: and copies
 * the result to that Workers KV namespace at most once a minute).
 */
export class BallastBudget {
  constructor(state, env) {
    this.state = state;
    this.env = env;
    /** Buckets read or written so far, by config fingerprint. */
    this.buckets = new Map();
    /** When each fingerprint's state was last copied to Workers KV. */
    this.copied = new Map();
  }

  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/state") return this.routeState(request, url);
    let body;
    try {
      body = await request.json();
    } catch {
      return json({ error: "ballast coordinator: the lease request's body must be JSON" }, 400);
    }
    try {
      // One bucket per config: during a deploy that changes the config, the old isolates and the
      // new each have theirs (a reserve each until the old ones are gone) instead of one refusing
      // the other, which would leave the new config degraded for good.
      const fingerprint = typeof body?.fingerprint === "string" ? body.fingerprint : "";
      const key = `bucket:${fingerprint}`;
      if (!this.buckets.has(key)) this.buckets.set(key, (await this.state.storage.get(key)) ?? undefined);
      const { bucket, response } = answer(this.buckets.get(key), body, Date.now());
      this.buckets.set(key, bucket);
      // Not awaited: the object's output gate holds the response until the write is durable.
      this.state.storage.put(key, bucket);
      return json(response);
    } catch (err) {
      return json({ error: err instanceof Error ? err.message : String(err) }, 400);
    }
  }

  /** `/state`: the group's merged route state per config fingerprint. */
  async routeState(request, url) {
    if (request.method === "GET") {
      const fingerprint = url.searchParams.get("fingerprint") ?? "";
      return json((await this.state.storage.get(`state:${fingerprint}`)) ?? null);
    }
    let given;
    try {
      given = await request.json();
    } catch {
      return json({ error: "ballast coordinator: the state's body must be JSON" }, 400);
    }
    let joined;
    try {
      // Checked alone first: a state this object cannot take is refused, whatever it holds.
      joined = joinStates(given, given);
    } catch (err) {
      return json({ error: err instanceof Error ? err.message : String(err), path: err?.path }, 400);
    }
    const key = `state:${joined.fingerprint}`;
    const stored = await this.state.storage.get(key);
    if (stored != null) {
      try {
        joined = joinStates(stored, joined);
      } catch (err) {
        // What it held cannot be read (a format from another version): the new state replaces it.
        if (!(err instanceof StateError)) throw err;
      }
    }
    this.state.storage.put(key, joined);
    const kv = this.env?.[url.searchParams.get("kv") ?? ""];
    const group = url.searchParams.get("group");
    const now = Date.now();
    if (kv != null && typeof kv.put === "function" && group && now - (this.copied.get(key) ?? -Infinity) >= KV_EVERY_MS) {
      this.copied.set(key, now);
      try {
        await kv.put(stateKvKey(group, joined.fingerprint), JSON.stringify(joined));
      } catch {
        this.copied.delete(key); // tried again on the next push
      }
    }
    return json({ fingerprint: joined.fingerprint, isolates: joined.isolates.length });
  }
}

/** Keeps `p` alive past the response with a request's `waitUntil`, if it has one and is not over. */
function keepAlive(waitUntil, p) {
  try {
    waitUntil?.(p.catch(() => {}));
  } catch {
    // that request is over: the call still settles while the isolate lives
  }
  return p;
}

/** A request to the object named `group`, from a new stub (see `lease`); `waitUntil` keeps it alive. */
function callObject(namespace, group, path, init, waitUntil) {
  // A new stub per call: a stub is an I/O object of the request that made it, and workerd
  // refuses its use from any other request ("Cannot perform I/O on behalf of a different
  // request"), so one kept from the first request would fail every call after it.
  const p = namespace
    .get(namespace.idFromName(group))
    .fetch(`https://ballast-budget${path}`, init)
    .then(async (res) => {
      const v = await res.json();
      if (!res.ok) throw new Error(v?.error ?? `ballast: the budget object answered ${res.status}`);
      return v;
    });
  return keepAlive(waitUntil, p);
}

/**
 * A coordinator (the `coordinator` config option) that leases from the Durable Object named
 * `group` in namespace `namespace`. `waitUntil(promise)`, if given, is called with each lease
 * call (a request's `ctx.waitUntil`).
 */
export function durableObjectCoordinator(namespace, group, waitUntil) {
  if (namespace === null || typeof namespace !== "object" || typeof namespace.idFromName !== "function") {
    throw new TypeError("ballast: the coordinator needs a Durable Object namespace binding (env.BALLAST_BUDGET)");
  }
  const post = (body) => ({ method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return {
    lease(request) {
      return callObject(namespace, group, "/lease", post(request), waitUntil);
    },
    /** The group's merged state for config `fingerprint`, or null. */
    pullState(fingerprint) {
      return callObject(namespace, group, `/state?${new URLSearchParams({ fingerprint })}`, undefined, waitUntil);
    },
    /** Joins `state` into the group's; `kv`: a Workers KV binding's name the object copies it to. */
    pushState(state, kv) {
      const q = kv ? `?${new URLSearchParams({ group, kv })}` : "";
      return callObject(namespace, group, `/state${q}`, post(state), waitUntil);
    },
  };
}

/**
 * One client per isolate, sharing its retry budget and its route state through the Durable
 * Object: call at module scope; in the handler, `api.use(env, ctx)` returns the wrapped fetch
 * (bound to the namespace on the first call). `group`: the Durable Object's name, one per origin
 * group (default "default"); `binding`: the namespace's name in `env` (default "BALLAST_BUDGET");
 * `state`: share route state too (default true); `pushEveryMs`: how often a client pushes its
 * state at most; `stateKv`: a Workers KV namespace's name in `env` that new isolates read the
 * state from first.
 */
export function sharedFetch(
  config = {},
  { group = "default", binding = "BALLAST_BUDGET", state = true, pushEveryMs = PUSH_EVERY_MS, stateKv = null } = {},
) {
  if (typeof group !== "string" || group === "") throw new TypeError("ballast: sharedFetch's group must be a non-empty string");
  if (stateKv !== null && (typeof stateKv !== "string" || stateKv === "")) throw new TypeError("ballast: sharedFetch's stateKv must be a binding's name");
  let inner = null;
  let ctx = null;
  let env = null;
  const unbound = () => Promise.reject(new Error("ballast: sharedFetch is not bound yet (api.use(env, ctx))"));
  const waitUntil = (p) => ctx?.waitUntil(p);
  const coordinator = {
    lease(request) {
      return inner === null ? unbound() : inner.lease(request);
    },
  };
  const store = {
    pullState(fingerprint) {
      if (inner === null) return unbound();
      const kv = stateKv === null ? null : env?.[stateKv];
      if (kv == null || typeof kv.get !== "function") return inner.pullState(fingerprint);
      // Workers KV first: cheap, and read-mostly as a state is; the object when KV has none.
      return keepAlive(
        waitUntil,
        Promise.resolve(kv.get(stateKvKey(group, fingerprint), "json"))
          .catch(() => null)
          .then((s) => s ?? inner.pullState(fingerprint)),
      );
    },
    pushState(s) {
      return inner === null ? unbound() : inner.pushState(s, stateKv);
    },
  };
  const api = createFetch({ ...config, coordinator });
  const sharing = state ? stateSharing(api, store, { pushEveryMs, startOnCall: false }) : null;
  const shared = sharing?.fetch ?? api;
  shared.use = (e, c) => {
    ctx = c ?? null;
    if (inner === null) {
      const ns = e?.[binding];
      if (ns == null || typeof ns.idFromName !== "function") {
        throw new TypeError(`ballast: env.${binding} is not a Durable Object namespace (wrangler: durable_objects.bindings, class_name "BallastBudget")`);
      }
      env = e;
      inner = durableObjectCoordinator(ns, group, waitUntil);
      sharing?.start();
    }
    return shared;
  };
  return shared;
}

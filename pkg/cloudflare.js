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

import { createFetch } from "./workerd.js";
import { answer } from "./coordinator.js";

export * from "./public.js";
export { createFetch };

const json = (value, status = 200) =>
  new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json" } });

/**
 * The Durable Object class holding one group's bucket. Export it from the Worker that owns the
 * namespace, and bind the namespace as `BALLAST_BUDGET` (or the `binding` given to sharedFetch).
 * It answers `POST` with a JSON lease request `{ fingerprint, budget, deposits, want }` with
 * `{ granted, ttlMs }`, or 400 `{ error }` naming what was wrong.
 */
export class BallastBudget {
  constructor(state) {
    this.state = state;
    /** Buckets read or written so far, by config fingerprint. */
    this.buckets = new Map();
  }

  async fetch(request) {
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
  let id = null;
  return {
    lease(request) {
      id ??= namespace.idFromName(group);
      // A new stub per lease: a stub is an I/O object of the request that made it, and workerd
      // refuses its use from any other request ("Cannot perform I/O on behalf of a different
      // request"), so one kept from the first request would fail every lease after it.
      const p = namespace
        .get(id)
        .fetch("https://ballast-budget/lease", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(request),
        })
        .then(async (res) => {
          const v = await res.json();
          if (!res.ok) throw new Error(v?.error ?? `ballast: the budget object answered ${res.status}`);
          return v;
        });
      try {
        waitUntil?.(p.catch(() => {}));
      } catch {
        // that request is over: the lease still settles while the isolate lives
      }
      return p;
    },
  };
}

/**
 * One client per isolate, sharing its retry budget through the Durable Object: call at module
 * scope; in the handler, `api.use(env, ctx)` returns the wrapped fetch (bound to the namespace on
 * the first call). `group`: the Durable Object's name, one per origin group (default "default");
 * `binding`: the namespace's name in `env` (default "BALLAST_BUDGET").
 */
export function sharedFetch(config = {}, { group = "default", binding = "BALLAST_BUDGET" } = {}) {
  if (typeof group !== "string" || group === "") throw new TypeError("ballast: sharedFetch's group must be a non-empty string");
  let inner = null;
  let ctx = null;
  const coordinator = {
    lease(request) {
      if (inner === null) return Promise.reject(new Error("ballast: sharedFetch is not bound yet (api.use(env, ctx))"));
      return inner.lease(request);
    },
  };
  const api = createFetch({ ...config, coordinator });
  api.use = (env, c) => {
    if (inner === null) {
      const ns = env?.[binding];
      if (ns == null || typeof ns.idFromName !== "function") {
        throw new TypeError(`ballast: env.${binding} is not a Durable Object namespace (wrangler: durable_objects.bindings, class_name "BallastBudget")`);
      }
      inner = durableObjectCoordinator(ns, group, (p) => ctx?.waitUntil(p));
    }
    ctx = c ?? null;
    return api;
  };
  return api;
}

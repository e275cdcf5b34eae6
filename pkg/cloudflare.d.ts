// ballast-fetch/cloudflare: the retry budget shared by every isolate of a Worker, on a Durable
// Object (docs/shared-budget.md).
import type { BallastConfig, BallastFetch, BallastState, Coordinator } from "./index.js";

export * from "./index.js";

/** The Durable Object namespace binding's shape ballast uses. */
export interface BudgetNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/**
 * The join of two states of one config without a client (what a store does with the states its
 * clients push): commutative, associative and idempotent. Server build only.
 * @throws {StateError} for a state it cannot take; the path starts with `a.` or `b.`
 * (`b.fingerprint`: the two are of different configs).
 */
export declare function joinStates(a: BallastState, b: BallastState): BallastState;

/** The Workers KV key the object copies a group's state of config `fingerprint` to. */
export declare function stateKvKey(group: string, fingerprint: string): string;

/**
 * The Durable Object class holding one origin group's retry bucket and route state (the object's
 * name is the group). Export it from your Worker and bind its namespace (default name `BALLAST_BUDGET`):
 * wrangler.json `durable_objects.bindings: [{ name: "BALLAST_BUDGET", class_name: "BallastBudget" }]`
 * and a `migrations` entry with `new_sqlite_classes: ["BallastBudget"]`. At `/state` it keeps
 * one merged {@link BallastState} per config fingerprint: `GET /state?fingerprint=F` reads it
 * (`null` if none), `POST /state` joins a state into it.
 */
export declare class BallastBudget {
  constructor(state: unknown, env?: unknown);
  fetch(request: Request): Promise<Response>;
}

/** A coordinator that also carries the group's route state. */
export interface StateCoordinator extends Coordinator {
  /** The group's merged state of config `fingerprint` (a state's fingerprint), or null. */
  pullState(fingerprint: string): Promise<BallastState | null>;
  /** Joins `state` into the group's; `kv`: a Workers KV binding's name the object copies it to. */
  pushState(state: BallastState, kv?: string | null): Promise<unknown>;
}

/** A coordinator that leases from the object named `group`; `waitUntil` keeps each call alive. */
export declare function durableObjectCoordinator(
  namespace: BudgetNamespace,
  group: string,
  waitUntil?: (promise: Promise<unknown>) => void,
): StateCoordinator;

/** What {@link sharedFetch} returns: a ballast fetch that must be bound with `use` first. */
export interface SharedFetch extends BallastFetch {
  /**
   * Binds the client to `env[binding]` on the first call, and to this request's `ctx` (its
   * `waitUntil` keeps lease calls alive); returns the client itself.
   */
  use(env: Record<string, unknown>, ctx?: { waitUntil(promise: Promise<unknown>): void }): SharedFetch;
}

/** How {@link sharedFetch} shares: the object, the route state, Workers KV. */
export interface SharedFetchOptions {
  /** The object's name: one per origin group (default `"default"`). */
  group?: string;
  /** The Durable Object namespace's name in `env` (default `"BALLAST_BUDGET"`). */
  binding?: string;
  /**
   * Share route state through the object too (default `true`): on its first use the client reads
   * the group's merged state and merges it when it arrives; after calls it pushes its own, at
   * most every {@link SharedFetchOptions.pushEveryMs}. Both in the background
   * (`ctx.waitUntil`): no call waits on them, and a failed one is dropped.
   */
  state?: boolean;
  /** How often a client pushes its state at most, in ms (default `10000`; `0`: after every call). */
  pushEveryMs?: number;
  /**
   * A Workers KV namespace's name in `env` that a new isolate reads the group's state from first
   * (the object when KV has none), and that the object copies the state to at most once a
   * minute. KV is eventually consistent: what an isolate reads there may be about 60 s old
   * (states fade on their own, so a stale one does little harm). Bind the same namespace in
   * the Worker that owns the object.
   */
  stateKv?: string | null;
}

/**
 * One client per isolate with its retry budget and its route state shared through the Durable
 * Object: create it at module scope, and call `api.use(env, ctx)` in the handler.
 */
export declare function sharedFetch(
  config?: Omit<BallastConfig, "coordinator" | "initialState">,
  options?: SharedFetchOptions,
): SharedFetch;

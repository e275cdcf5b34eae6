// ballast-fetch/cloudflare: the retry budget shared by every isolate of a Worker, on a Durable
// Object (docs/shared-budget.md).
import type { BallastConfig, BallastFetch, Coordinator } from "./index.js";

export * from "./index.js";

/** The Durable Object namespace binding's shape ballast uses. */
export interface BudgetNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(input: string, init?: RequestInit): Promise<Response> };
}

/**
 * The Durable Object class holding one origin group's retry bucket (the object's name is the
 * group). Export it from your Worker and bind its namespace (default name `BALLAST_BUDGET`):
 * wrangler.json `durable_objects.bindings: [{ name: "BALLAST_BUDGET", class_name: "BallastBudget" }]`
 * and a `migrations` entry with `new_sqlite_classes: ["BallastBudget"]`.
 */
export declare class BallastBudget {
  constructor(state: unknown, env?: unknown);
  fetch(request: Request): Promise<Response>;
}

/** A coordinator that leases from the object named `group`; `waitUntil` keeps each call alive. */
export declare function durableObjectCoordinator(
  namespace: BudgetNamespace,
  group: string,
  waitUntil?: (promise: Promise<unknown>) => void,
): Coordinator;

/** What {@link sharedFetch} returns: a ballast fetch that must be bound with `use` first. */
export interface SharedFetch extends BallastFetch {
  /**
   * Binds the client to `env[binding]` on the first call, and to this request's `ctx` (its
   * `waitUntil` keeps lease calls alive); returns the client itself.
   */
  use(env: Record<string, unknown>, ctx?: { waitUntil(promise: Promise<unknown>): void }): SharedFetch;
}

/**
 * One client per isolate with its retry budget shared through the Durable Object: create it at
 * module scope, and call `api.use(env, ctx)` in the handler.
 * @param options.group The object's name: one per origin group (default `"default"`).
 * @param options.binding The namespace's name in `env` (default `"BALLAST_BUDGET"`).
 */
export declare function sharedFetch(
  config?: Omit<BallastConfig, "coordinator">,
  options?: { group?: string; binding?: string },
): SharedFetch;

// ballast-fetch/deno-kv: the retry budget and the route state shared by several Deno processes,
// on Deno KV (docs/shared-budget.md, docs/state.md).
import type { BallastFetch, BallastState, Coordinator } from "./index.js";

/** A coordinator that also carries the group's route state. */
export interface KvCoordinator extends Coordinator {
  /** The group's merged state of config `fingerprint` (a state's fingerprint), or null. */
  pullState(fingerprint: string): Promise<BallastState | null>;
  /** Joins `state` into the group's state of its config (a versionstamp check, retried). */
  pushState(state: BallastState): Promise<void>;
}

/**
 * A coordinator (the `coordinator` config option) on a Deno KV store (`await Deno.openKv(path)`):
 * one bucket per `group` and config at `[...prefix, group, fingerprint]`, changed atomically (a
 * versionstamp check, retried), the tokens granted summed at `[...prefix, group, fingerprint,
 * "granted"]`; the group's route state of each config at `[...prefix, group, "state",
 * fingerprint]` (see {@link shareState}).
 */
export declare function kvCoordinator(
  kv: unknown,
  options?: { group?: string; prefix?: unknown[] },
): KvCoordinator;

/**
 * `api` sharing its route state through `coordinator`: it reads the group's merged state at once
 * and merges it when it arrives, and after calls pushes its own (joined into the stored one), at
 * most every `pushEveryMs` (default `10000`; `0`: after every call). Both in the background: no
 * call waits on them, and a failed one is dropped. A Deno KV value holds at most 64 KiB: a state
 * larger than that (many routes) is not stored.
 * @returns The wrapped fetch, with `api`'s methods.
 */
export declare function shareState<F extends BallastFetch>(
  api: F,
  coordinator: Pick<KvCoordinator, "pullState" | "pushState">,
  options?: { pushEveryMs?: number },
): F;

/** The join of two states of one config without a client (as `ballast-fetch/cloudflare`'s). */
export declare function joinStates(a: BallastState, b: BallastState): Promise<BallastState>;

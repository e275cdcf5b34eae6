// ballast-fetch/deno-kv: the retry budget shared by several Deno processes, on Deno KV
// (docs/shared-budget.md).
import type { Coordinator } from "./index.js";

/**
 * A coordinator (the `coordinator` config option) on a Deno KV store (`await Deno.openKv(path)`):
 * one bucket per `group` at `[...prefix, group]`, changed atomically (a versionstamp check,
 * retried), the tokens granted summed at `[...prefix, group, "granted"]`.
 */
export declare function kvCoordinator(
  kv: unknown,
  options?: { group?: string; prefix?: unknown[] },
): Coordinator;

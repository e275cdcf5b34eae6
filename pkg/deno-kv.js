// ballast-fetch/deno-kv: the retry budget shared by several Deno processes or isolates, on Deno KV
// (docs/shared-budget.md).
//
// One bucket per group (coordinator.js: the arithmetic of src/core/budget.rs, its reserve counted
// once for everyone) under one key, changed with an atomic operation that checks the versionstamp
// it read (retried when another client wrote in between); the tokens granted are added up with
// `sum` on a counter key next to it. The clients' engines never wait on it (src/core/lease.rs).

import { answer } from "./coordinator.js";

/** How often a lease is tried again when other clients keep writing the bucket in between. */
const ATTEMPTS = 32;

/**
 * A coordinator (the `coordinator` config option) on `kv` (`await Deno.openKv(path)`): the
 * bucket is at `[...prefix, group]`, the tokens granted so far (a `Deno.KvU64`) at
 * `[...prefix, group, "granted"]`. Clients of a group must share one config.
 */
export function kvCoordinator(kv, { group = "default", prefix = ["ballast", "budget"] } = {}) {
  if (kv === null || typeof kv !== "object" || typeof kv.atomic !== "function") {
    throw new TypeError("ballast: kvCoordinator needs a Deno.Kv (await Deno.openKv(path))");
  }
  if (typeof group !== "string" || group === "") throw new TypeError("ballast: kvCoordinator's group must be a non-empty string");
  const key = [...prefix, group];
  const granted = [...prefix, group, "granted"];
  return {
    async lease(request) {
      for (let i = 0; i < ATTEMPTS; i++) {
        const cur = await kv.get(key);
        const { bucket, response } = answer(cur.value ?? undefined, request, Date.now());
        const op = kv.atomic().check(cur).set(key, bucket);
        if (response.granted > 0) op.sum(granted, BigInt(response.granted));
        if ((await op.commit()).ok) return response;
      }
      throw new Error(`ballast: the Deno KV bucket ${JSON.stringify(key)} changed under every one of ${ATTEMPTS} attempts`);
    },
  };
}

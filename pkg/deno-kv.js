// ballast-fetch/deno-kv: the retry budget shared by several Deno processes or isolates, on Deno KV
// (docs/shared-budget.md).
//
// One bucket per group and config (coordinator.js: the arithmetic of src/core/budget.rs, its
// reserve counted once for everyone) under one key, changed with an atomic operation that checks the versionstamp
// it read (retried when another client wrote in between); the tokens granted are added up with
// `sum` on a counter key next to it. The clients' engines never wait on it (src/core/lease.rs).

import { answer } from "./coordinator.js";

/** How often a lease is tried again when other clients keep writing the bucket in between. */
const ATTEMPTS = 32;

/**
 * A coordinator (the `coordinator` config option) on `kv` (`await Deno.openKv(path)`): the
 * bucket of the clients of config `fingerprint` is at `[...prefix, group, fingerprint]`, the
 * tokens granted so far (a `Deno.KvU64`) at `[...prefix, group, fingerprint, "granted"]`. A
 * deploy that changes the config gives the new clients a bucket of their own.
 */
export function kvCoordinator(kv, { group = "default", prefix = ["ballast", "budget"] } = {}) {
  if (kv === null || typeof kv !== "object" || typeof kv.atomic !== "function") {
    throw new TypeError("ballast: kvCoordinator needs a Deno.Kv (await Deno.openKv(path))");
  }
  if (typeof group !== "string" || group === "") throw new TypeError("ballast: kvCoordinator's group must be a non-empty string");
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
  };
}

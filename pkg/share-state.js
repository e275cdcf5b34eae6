// Route state shared through a coordinator's store (docs/state.md, "Shared by the coordinator"):
// a client reads the group's merged state on its first use and merges it when it arrives, and
// pushes its own export after calls, at most every `pushEveryMs`. The store joins what is pushed
// into what it holds (join.js). Used by cloudflare.js (a Durable Object, Workers KV) and
// deno-kv.js (Deno KV). Servers only.
//
// Nothing here makes a call wait: the read and the pushes run beside the calls, and a store that
// fails or is slow costs only what the state would have brought (fail open). A read that arrives
// late is still merged: states carry wall-clock times, and what is stale in them fades on its own.

/** How often a client pushes its state by default: about the retry budget's window (10 s). */
export const PUSH_EVERY_MS = 10_000;
/** A push in flight for this long no longer holds the next one back (a store that never answers). */
const STUCK_MS = 60_000;

/**
 * `api` wrapped so that it shares its state through `store` (`{ pullState(fingerprint),
 * pushState(state) }`, each returning a promise): `{ fetch, start }`, the wrapped fetch (with
 * `api`'s methods) and what starts the first read. `startOnCall`: the first call starts it too
 * (a store that is bound later, as sharedFetch's, starts it itself).
 */
export function stateSharing(api, store, { pushEveryMs = PUSH_EVERY_MS, startOnCall = true } = {}) {
  if (!(typeof pushEveryMs === "number" && pushEveryMs >= 0)) {
    throw new TypeError(`ballast: pushEveryMs must be a number of milliseconds, 0 or more (got ${String(pushEveryMs)})`);
  }
  let started = false;
  let last = -Infinity;
  let pushing = false;
  const quietly = (fn) => {
    try {
      return Promise.resolve(fn()).catch(() => null);
    } catch {
      return Promise.resolve(null);
    }
  };
  const start = () => {
    if (started) return;
    started = true;
    // The state's fingerprint leaves the routes out: clients with other routes still share.
    quietly(() => store.pullState(api.exportState().fingerprint)).then((state) => {
      if (state == null) return;
      try {
        api.mergeState(state);
      } catch {
        // a state this client cannot take (another version, a clock far ahead) brings nothing
      }
    });
  };
  const push = () => {
    const now = Date.now();
    if (now - last < pushEveryMs || (pushing && now - last < STUCK_MS)) return;
    pushing = true;
    last = now;
    quietly(() => store.pushState(api.exportState())).then(() => {
      if (last === now) pushing = false;
    });
  };
  const fetch = (input, init) => {
    if (startOnCall) start();
    const p = api(input, init);
    p.then(push, push);
    return p;
  };
  for (const [k, v] of Object.entries(api)) fetch[k] = v;
  return { fetch, start };
}

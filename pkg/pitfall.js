// One warning for the misuse that defeats ballast: a client per request. A client learns what
// protects the origin (its retry budget, its routes' scores) from the calls it serves, so a
// client created for one call starts with a full budget and no history every time: an outage then
// meets every retry a fresh client allows, as if there were no budget at all.
//
// The sign: many clients, each serving a single call, within a short time. Counted per process or
// isolate (this module's state), warned about once. Nothing runs at module scope (Workers forbid
// timers, random values and I/O there): the clock is read in a client's first call.

/** Clients that served one call and no second within `WINDOW_MS`: this many is the sign. */
const MANY = 32;
const WINDOW_MS = 60_000;

export const PITFALL_MESSAGE =
  `ballast: ${MANY} clients were created within a minute and each served a single call. A client ` +
  "learns from the calls it serves (its retry budget, its routes' scores), so a client per request " +
  "starts from nothing every time and cannot hold retries back when the origin is down. Create one " +
  "client per module or isolate, at module scope, and reuse it. (This warning is shown once.)";

let warned = false;
/** The first calls of clients that have not made a second, oldest first: entry -> when. */
const singles = new Map();

/** A client made its first call: returns its entry (for `secondCall`), or null once warned. */
export function firstCall() {
  if (warned) return null;
  const now = Date.now();
  for (const [entry, at] of singles) {
    if (now - at < WINDOW_MS) break;
    singles.delete(entry);
  }
  const entry = {};
  singles.set(entry, now);
  if (singles.size >= MANY) {
    warned = true;
    singles.clear();
    console.warn(PITFALL_MESSAGE);
  }
  return entry;
}

/** The client of `entry` made a second call: it is reused, as it should be. */
export function secondCall(entry) {
  if (entry !== null) singles.delete(entry);
}

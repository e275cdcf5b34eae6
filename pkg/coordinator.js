// The coordinator's retry budget: one bucket that many clients lease retry tokens from
// (docs/shared-budget.md), kept as plain data so a Durable Object (cloudflare.js) or Deno KV
// (deno-kv.js) can store it.
//
// It mirrors src/core/budget.rs (Finagle's RetryBudget, tower's TpsBudget), the budget each
// client keeps when it is not shared: deposits live in ten slots of ttl/10 and expire with their
// slot; a retry costs 1/ratio deposits (rounded up); the reserve is minPerSec x ttl. Amounts are
// integers (a deposit is 1000 units). What changes is where it lives: the reserve is counted once
// for every client, however many there are, and a lease grants min(want, available) tokens at
// once. tests/js/coordinator.test.mjs replays a sequence that tests/shared.rs computed with
// budget.rs, and compares every grant.

const SLOTS = 10;
const UNIT = 1000;
/** The most tokens one lease may ask for, and the most deposits one may report. */
const MAX_WANT = 1024;
const MAX_DEPOSITS = 1_000_000;

const fail = (what) => {
  throw new TypeError(`ballast coordinator: ${what}`);
};

const count = (v, name, max) => {
  if (!Number.isInteger(v) || v < 0 || v > max) fail(`${name} must be an integer from 0 to ${max} (got ${JSON.stringify(v) ?? String(v)})`);
  return v;
};

/**
 * A lease request as it arrived (parsed JSON, or an object): checked, with an error that names
 * what is wrong. `{ fingerprint, budget: { ratio, minPerSec, ttlMs }, deposits, want }`.
 */
export function checkRequest(r) {
  if (r === null || typeof r !== "object" || Array.isArray(r)) fail("a lease request must be an object");
  if (typeof r.fingerprint !== "string" || r.fingerprint === "") fail("fingerprint must be a non-empty string");
  const b = r.budget;
  if (b === null || typeof b !== "object") fail("budget must be an object { ratio, minPerSec, ttlMs }");
  if (!(typeof b.ratio === "number" && b.ratio >= 0 && b.ratio <= 10)) fail("budget.ratio must be a number from 0 to 10");
  if (!(typeof b.minPerSec === "number" && b.minPerSec >= 0 && b.minPerSec < Infinity)) fail("budget.minPerSec must be a number, 0 or more");
  if (!(typeof b.ttlMs === "number" && b.ttlMs >= 1000 && b.ttlMs < Infinity)) fail("budget.ttlMs must be a number of milliseconds, 1000 or more");
  return {
    fingerprint: r.fingerprint,
    budget: { ratio: b.ratio, minPerSec: b.minPerSec, ttlMs: b.ttlMs },
    deposits: count(r.deposits, "deposits", MAX_DEPOSITS),
    want: count(r.want, "want", MAX_WANT),
  };
}

/** A new bucket for clients of config `fingerprint` with budget `{ ratio, minPerSec, ttlMs }`. */
export function newBucket(fingerprint, { ratio, minPerSec, ttlMs }) {
  const withdraw = ratio <= 0 ? UNIT : Math.max(1, Math.ceil(UNIT / ratio));
  return {
    fingerprint,
    ttlMs,
    slotMs: ttlMs / SLOTS,
    deposit: ratio <= 0 ? 0 : UNIT,
    withdraw,
    reserve: Math.trunc(minPerSec * (ttlMs / 1000) * withdraw),
    slots: new Array(SLOTS).fill(0),
    generation: 0,
  };
}

/** Clears the slots that have outlived the window (budget.rs `expire`). */
function expire(b, now) {
  const generation = Math.floor(Math.max(now, 0) / b.slotMs);
  const behind = generation - b.generation;
  if (behind <= 0) return;
  for (let i = 1; i <= Math.min(behind, SLOTS); i++) b.slots[(b.generation + i) % SLOTS] = 0;
  b.generation = generation;
}

/**
 * Takes a checked request's deposits, then grants up to `want` retries: what a client may spend
 * before `ttlMs` has passed. Changes `b`; `now` in ms (any clock that does not go backwards).
 */
export function lease(b, { deposits, want }, now) {
  expire(b, now);
  const cur = b.generation % SLOTS;
  b.slots[cur] += deposits * b.deposit;
  let sum = b.reserve;
  for (const s of b.slots) sum += s;
  const granted = Math.max(0, Math.min(want, Math.floor(sum / b.withdraw)));
  b.slots[cur] -= granted * b.withdraw;
  return granted;
}

/**
 * Answers a lease request on the bucket `stored` (undefined: none yet): `{ bucket, response }`,
 * the bucket to store and `{ granted, ttlMs }`. A request of another config (its fingerprint)
 * than the bucket's is refused with an error: clients of one group must share one config.
 */
export function answer(stored, request, now) {
  const r = checkRequest(request);
  const b = stored ?? newBucket(r.fingerprint, r.budget);
  if (b.fingerprint !== r.fingerprint) {
    fail(`this group's bucket is for config ${b.fingerprint}, not ${r.fingerprint}: clients sharing a budget must have the same config (or use another group)`);
  }
  const granted = lease(b, r, now);
  return { bucket: b, response: { granted, ttlMs: b.ttlMs } };
}

// The clients under test. Every client is a fresh instance per run (ballast's budget and metrics
// are per client). `call(url)` performs one task end to end (request, retries, JSON body read) and
// resolves `{ ok }` (a final 2xx) or rejects; a failed task is one that rejects or ends non-2xx.
//
// Two rows per peer:
//   "defaults": the library as its README shows it, no options (p-retry and cockatiel wrap the
//               global fetch and throw on a non-2xx response, as their fetch examples do);
//   "≈ ballast": the closest settings to ballast's defaults the library has (scenarios.mjs).

import ky from "ky";
import { ofetch } from "ofetch";
import pRetry from "p-retry";
import {
  ExponentialBackoff,
  TimeoutStrategy,
  fullJitterGenerator,
  handleAll,
  retry,
  timeout,
  wrap,
} from "cockatiel";
import { createFetch } from "../pkg/node.js";
import { EQUIVALENT as EQ } from "./scenarios.mjs";
import { fetchWithTimeout } from "./lib/pairs.mjs";

class HttpStatusError extends Error {
  constructor(status) {
    super(`HTTP ${status}`);
    this.status = status;
  }
}

const OK = { ok: true };
const NOT_OK = { ok: false };

async function readJson(r) {
  await r.json();
  return r.ok ? OK : NOT_OK;
}

/** fetch that throws on a non-2xx (what p-retry's and cockatiel's fetch examples do). */
async function fetchOrThrow(url, init) {
  const r = await fetch(url, init);
  if (!r.ok) {
    await r.arrayBuffer();
    throw new HttpStatusError(r.status);
  }
  await r.json();
  return OK;
}

/** fetch that throws only on a status ballast would retry, with a per-attempt timeout. */
async function fetchRetryable(url, signal) {
  const r = await fetch(url, { signal });
  if (EQ.statuses.includes(r.status)) {
    await r.arrayBuffer();
    throw new HttpStatusError(r.status);
  }
  return readJson(r);
}

const fullJitter = (n) => Math.random() * Math.min(EQ.capMs, EQ.baseMs * 2 ** n);

/**
 * @param {{ ballast?: object, pRetryTimeScale?: number }} opts ballast: the ballast config for this
 *   scenario; pRetryTimeScale: factor on p-retry's default minTimeout (1 = its real defaults).
 */
export function makeClients({ ballast = {}, pRetryTimeScale = 1, diagnostics = false } = {}) {
  // Diagnostic rows (overhead benchmark only): what passing an AbortSignal to fetch costs by
  // itself (ballast gives an attempt one when a timeout or hedging may abort it); the least any
  // wrapper that enforces a timeout must do (a signal, plus a timer that aborts it, cleared when
  // the response arrives), which is the floor for ballast's defaults; and ballast with both
  // timeouts off (then it passes no signal of its own; the client keeps its one timer).
  const diag = !diagnostics
    ? []
    : [
        {
          id: "fetch-signal",
          label: "raw fetch + AbortController signal",
          peer: "fetch",
          mode: "diagnostic",
          make: () => async (url) => readJson(await fetch(url, { signal: new AbortController().signal })),
        },
        {
          id: "fetch-deadline",
          label: "raw fetch + signal + timer (the least a timeout costs)",
          peer: "fetch",
          mode: "diagnostic",
          make: () => (url) => fetchWithTimeout(url, readJson),
        },
        {
          id: "ballast-notimers",
          label: "ballast, timeouts null (no signal of its own)",
          peer: "ballast",
          mode: "diagnostic",
          make: () => {
            const f = createFetch({ ...ballast, timeout: { attemptMs: null, totalMs: null } });
            return async (url) => readJson(await f(url));
          },
        },
      ];
  return [
    {
      id: "fetch",
      label: "raw fetch",
      peer: "fetch",
      mode: "baseline",
      make: () => async (url) => readJson(await fetch(url)),
    },
    ...diag,
    {
      id: "ballast",
      label: "ballast",
      peer: "ballast",
      mode: "defaults",
      make: () => {
        const f = createFetch(ballast);
        return async (url) => readJson(await f(url));
      },
    },
    {
      id: "ky",
      label: "ky",
      peer: "ky",
      mode: "defaults",
      make: () => async (url) => {
        await ky(url).json();
        return OK;
      },
    },
    {
      id: "ky-eq",
      label: "ky ≈ ballast",
      peer: "ky",
      mode: "equivalent",
      make: () => {
        const k = ky.create({
          retry: {
            limit: EQ.attempts - 1,
            statusCodes: EQ.statuses,
            afterStatusCodes: EQ.retryAfterStatuses,
            maxRetryAfter: EQ.maxRetryAfterMs,
            backoffLimit: EQ.capMs,
            delay: (n) => EQ.baseMs * 2 ** (n - 1),
            jitter: true, // full jitter
          },
          timeout: EQ.attemptMs,
          // throwHttpErrors stays true: ky only retries a status through its HTTPError.
        });
        return async (url) => {
          await k(url).json();
          return OK;
        };
      },
    },
    {
      id: "ofetch",
      label: "ofetch",
      peer: "ofetch",
      mode: "defaults",
      make: () => async (url) => {
        await ofetch(url);
        return OK;
      },
    },
    {
      id: "ofetch-eq",
      label: "ofetch ≈ ballast",
      peer: "ofetch",
      mode: "equivalent",
      make: () => {
        const retries = EQ.attempts - 1;
        const o = ofetch.create({
          retry: retries,
          // options.retry counts down: 2 before the first retry, 1 before the second.
          retryDelay: (ctx) => fullJitter(retries - ctx.options.retry),
          retryStatusCodes: EQ.statuses,
          timeout: EQ.attemptMs,
        });
        return async (url) => {
          await o(url);
          return OK;
        };
      },
    },
    {
      id: "p-retry",
      label: "p-retry",
      peer: "p-retry",
      mode: "defaults",
      make: () => {
        const opts = pRetryTimeScale === 1 ? {} : { minTimeout: 1000 * pRetryTimeScale };
        return (url) => pRetry(() => fetchOrThrow(url), opts);
      },
    },
    {
      id: "p-retry-eq",
      label: "p-retry ≈ ballast",
      peer: "p-retry",
      mode: "equivalent",
      make: () => {
        const opts = {
          retries: EQ.attempts - 1,
          factor: 2,
          minTimeout: EQ.baseMs,
          maxTimeout: EQ.capMs,
          randomize: true, // x U(1, 2): p-retry has no full jitter
          maxRetryTime: EQ.totalMs,
        };
        return (url) => pRetry(() => fetchRetryable(url, AbortSignal.timeout(EQ.attemptMs)), opts);
      },
    },
    {
      id: "cockatiel",
      label: "cockatiel",
      peer: "cockatiel",
      mode: "defaults",
      make: () => {
        // The README's first example; cockatiel's bare retry() defaults retry forever with no delay.
        const policy = retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() });
        return (url) => policy.execute(() => fetchOrThrow(url));
      },
    },
    {
      id: "cockatiel-eq",
      label: "cockatiel ≈ ballast",
      peer: "cockatiel",
      mode: "equivalent",
      make: () => {
        const policy = wrap(
          timeout(EQ.totalMs, TimeoutStrategy.Aggressive),
          retry(handleAll, {
            maxAttempts: EQ.attempts - 1, // cockatiel counts retries
            backoff: new ExponentialBackoff({
              initialDelay: EQ.baseMs,
              maxDelay: EQ.capMs,
              generator: fullJitterGenerator,
            }),
          }),
          timeout(EQ.attemptMs, TimeoutStrategy.Aggressive),
        );
        return (url) => policy.execute(({ signal }) => fetchRetryable(url, signal));
      },
    },
  ];
}

/** A ballast client with a given config (extra rows of a scenario). */
export function ballastClient(id, label, config) {
  return {
    id,
    label,
    peer: "ballast",
    mode: "variant",
    make: () => {
      const f = createFetch(config);
      return async (url) => readJson(await f(url));
    },
  };
}

/** A task against `primary` that falls back to `mirror` by hand when it does not end 2xx. */
export function withFallback(call, primary, mirror) {
  return async () => {
    try {
      const r = await call(primary);
      if (r?.ok) return r;
    } catch {
      // fall through to the mirror
    }
    return call(mirror);
  };
}

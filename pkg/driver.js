// The attempt loop of one wrapped call: it carries out the engine's decisions (src/wasm/tasks.rs)
// with JS promises, timers and signals. The engine decides everything (slots, routes, hedges,
// retries, budgets, give-ups); this file only waits and sends. Hand-written, runtime-neutral:
// only globals that Node >= 20, Deno, workerd and browsers all have, looked up at call time, never
// `window`. Nothing here runs at module scope.
//
// Every wait races the caller's signal and the task deadline, so an abort or the deadline ends
// the call promptly even mid-sleep or in the queue. Up to two attempts fly at once (the original
// and a hedge); the first good response wins and the other is aborted. Whatever a call waits on
// (its attempts, timers, the caller's abort, a queue grant) posts into the call's one inbox, and
// the loop takes events from it in order; an event for something the loop has moved past (a timer
// since re-armed, an attempt since dropped) is ignored.
//
// Why an attempt gets an AbortController only when something may abort it (an attempt timeout,
// the deadline, or hedging): on Node, handing fetch a signal costs more than everything else
// ballast does per call (undici registers a WeakRef, a FinalizationRegistry entry and a listener
// per request), so with timeouts off a call carries exactly the caller's signal, as raw fetch
// would. When an attempt has its own controller, it is a fresh one per attempt (unlike ofetch's
// bug of retrying under an already-aborted signal), joined with the caller's by AbortSignal.any
// so the caller's abort still reaches the body after the call settles.
//
// Why one alarm: the attempt timeout and the deadline share one timer, armed before each wait for
// whichever comes first, so a call with both timeouts set makes one timer, not two. Every timer
// and listener is cleared when the call settles, so nothing outlives it.

const BODY_NONE = 0;
const BODY_REPLAYABLE = 1;
const BODY_STREAM = 2;

// Outcomes for client.attemptFinished (src/wasm/tasks.rs).
const OUT_RESPONSE = 0;
const OUT_NETWORK = 1;
const OUT_TIMEOUT = 2;
// Its answers other than a retry delay (>= 0); a give-up is GIVE_UP - reason index.
const WAIT = -1;
const DONE = -2;
const GIVE_UP = -10;

// Inbox event kinds.
const SETTLED = 0;
const ALARM = 1;
const HEDGE = 2;
const ABORT = 3;
const GRANT = 4;
const QUEUE_TIMEOUT = 5;
const WOKE = 6;

export function now() {
  const p = globalThis.performance;
  return p && typeof p.now === "function" ? p.now() : Date.now();
}

function bodyKind(body) {
  if (body == null) return BODY_NONE;
  if (typeof body === "string" || body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    return BODY_REPLAYABLE;
  }
  if (typeof ReadableStream === "function" && body instanceof ReadableStream) return BODY_STREAM;
  if (typeof body.getReader === "function" || typeof body.pipe === "function") return BODY_STREAM;
  if (typeof body[Symbol.asyncIterator] === "function") return BODY_STREAM;
  // Blob, URLSearchParams, FormData, and anything fetch stringifies: all can be sent again.
  return BODY_REPLAYABLE;
}

// What the engine needs to know about a call. Throws (like fetch would) on bad headers.
function describe(input, init) {
  const req = typeof Request === "function" && input instanceof Request ? input : null;
  const method = String((init && init.method) || (req && req.method) || "GET").toUpperCase();
  // Parsed only when there are headers (a Headers per call is measurable): invalid ones then throw
  // here, up front, instead of failing every attempt as a network error.
  const given = (init && init.headers) || (req && req.headers);
  const keyed = given ? new Headers(given).has("idempotency-key") : false;
  let body = BODY_NONE;
  if (init && init.body != null) body = bodyKind(init.body);
  else if (req && req.body != null) body = BODY_REPLAYABLE; // sent as a clone per attempt
  return {
    method,
    url: req ? req.url : String(input),
    flags: (keyed ? 1 : 0) | (body << 1),
    signal: (init && init.signal) || (req && req.signal) || null,
    isRequest: req !== null,
  };
}

function abortReason(signal) {
  return signal.reason !== undefined
    ? signal.reason
    : new DOMException("This operation was aborted", "AbortError");
}

// The signal an attempt runs under: the caller's alone when ballast has no controller for it;
// else the controller's, joined with the caller's by AbortSignal.any, which holds its sources
// weakly, so the caller's abort still reaches the body after the call settles without a listener
// per call piling up on a long-lived caller signal.
function attemptSignal(callerSignal, controller) {
  if (controller === null) return callerSignal;
  if (callerSignal === null) return controller.signal;
  if (typeof AbortSignal.any === "function") {
    return AbortSignal.any([callerSignal, controller.signal]);
  }
  callerSignal.addEventListener("abort", () => controller.abort(callerSignal.reason), { once: true });
  return controller.signal;
}

const CREDENTIAL_HEADERS = ["authorization", "cookie", "proxy-authorization"];

// One attempt. A Request input is cloned so its body can be sent again. `url` (a string) replaces
// the target when routing chose a route; `strip` drops credentials for a cross-origin failover.
// Without a controller of ours, input / init go as they came, with the caller's signal, exactly as
// the caller would have called fetch.
function send(transport, input, init, d, controller, url, strip) {
  try {
    const f = typeof transport === "function" ? transport : globalThis.fetch;
    if (url === undefined && !strip) {
      const target = d.isRequest ? input.clone() : input;
      if (controller === null) return Promise.resolve(init == null ? f(target) : f(target, init));
      const signal = attemptSignal(d.signal, controller);
      const attemptInit = init ? Object.assign({}, init, { signal }) : { signal };
      return Promise.resolve(f(target, attemptInit));
    }
    let attemptInit;
    if (d.isRequest) {
      const c = input.clone();
      attemptInit = {
        method: c.method,
        headers: c.headers,
        body: c.body,
        redirect: c.redirect,
        credentials: c.credentials,
        cache: c.cache,
        mode: c.mode,
        referrer: c.referrer,
        referrerPolicy: c.referrerPolicy,
        integrity: c.integrity,
        keepalive: c.keepalive,
      };
      if (c.body) attemptInit.duplex = "half";
      if (init) Object.assign(attemptInit, init);
    } else {
      attemptInit = Object.assign({}, init);
    }
    const headers = new Headers(attemptInit.headers);
    if (strip) {
      for (const h of CREDENTIAL_HEADERS) headers.delete(h);
      attemptInit.credentials = "omit";
    }
    attemptInit.headers = headers;
    const signal = attemptSignal(d.signal, controller);
    if (signal !== null) attemptInit.signal = signal;
    const target = url === undefined ? (d.isRequest ? input.url : input) : url;
    return Promise.resolve(f(target, attemptInit));
  } catch (err) {
    return Promise.reject(err);
  }
}

function isResponse(value) {
  return (
    value != null &&
    typeof value.status === "number" &&
    value.headers != null &&
    typeof value.headers.get === "function"
  );
}

// Frees the connection of a response we will not return (before a retry).
function discard(response) {
  try {
    const body = response.body;
    if (body && !body.locked && typeof body.cancel === "function") body.cancel().catch(() => {});
  } catch {
    // nothing to free
  }
}

function describeValue(v) {
  if (v == null) return String(v);
  if (typeof v === "object" && "message" in v) return `${v.name || "Error"}: ${v.message}`;
  return String(v);
}

/**
 * The wrapped fetch of one client: `client` is the wasm Client, `transport` the user's (or null
 * for the global fetch), `reasons` the engine's give-up reasons in index order, `internal` turns
 * a wasm trap into a BallastError. Returns the call and `granted(ticket)`, which the client's
 * hooks call when a queued attempt gets its slot.
 */
export function makeDriver(client, transport, reasons, internal) {
  // Queue tickets to the inbox of the call waiting for each.
  const waiters = new Map();
  const granted = (ticket) => {
    const post = waiters.get(ticket);
    if (post !== undefined) post({ k: GRANT, ticket });
  };
  const [attemptMs, totalMs, queueTimeoutMs, hedging] = client.settings();
  const timed = !Number.isNaN(attemptMs) || !Number.isNaN(totalMs) || hedging === 1;
  const R_MAX_ATTEMPTS = reasons.indexOf("max-attempts");
  const R_DEADLINE = reasons.indexOf("deadline");
  const R_ABORTED = reasons.indexOf("aborted");
  const R_INVALID = reasons.indexOf("invalid-response");
  const R_QUEUE_FULL = reasons.indexOf("queue-full");
  const R_QUEUE_TIMEOUT = reasons.indexOf("queue-timeout");

  async function call(input, init) {
    const d = describe(input, init);
    const signal = d.signal;
    if (signal !== null && signal.aborted === true) throw abortReason(signal);
    let t = now();
    const h = client.begin(d.method, d.url, d.flags, t);
    const deadlineAt = Number.isNaN(totalMs) ? NaN : t + totalMs;

    // The inbox: sources post events; `next()` takes the oldest, or waits for one.
    const queue = [];
    let wake = null;
    const post = (ev) => {
      if (wake === null) queue.push(ev);
      else {
        const w = wake;
        wake = null;
        w(ev);
      }
    };
    const next = () => (queue.length > 0 ? queue.shift() : new Promise((r) => (wake = r)));

    // The alarm: the deadline or the earliest attempt timeout. `alarmFor` is the flight whose
    // timeout it is set for, or null for the deadline.
    let alarm = null;
    let alarmAt = NaN;
    let alarmFor = null;
    let alarmGen = 0;
    const disarm = () => {
      if (alarm !== null) clearTimeout(alarm);
      alarm = null;
      alarmAt = NaN;
      alarmFor = null;
      alarmGen++; // an alarm event already posted is stale now
    };
    const arm = (flights) => {
      let at = deadlineAt;
      let target = null;
      for (const f of flights) {
        if (!Number.isNaN(f.timeoutAt) && (Number.isNaN(at) || f.timeoutAt < at)) {
          at = f.timeoutAt;
          target = f;
        }
      }
      if (alarm !== null && at === alarmAt && target === alarmFor) return;
      disarm();
      if (Number.isNaN(at)) return;
      alarmAt = at;
      alarmFor = target;
      const gen = alarmGen;
      alarm = setTimeout(() => post({ k: ALARM, gen }), at - t);
    };
    let onAbort = null;
    if (signal !== null) {
      onAbort = () => post({ k: ABORT });
      signal.addEventListener("abort", onAbort);
    }
    let hedgeTimer = null;
    let other = null; // a sleep or queue timer
    let sleeps = 0; // generations of `other` as a sleep
    let ticket = 0;
    const errIds = [];
    const errs = [];
    let flights = [];

    const launch = (hedge) => {
      const plan = client.attemptStarted(h, hedge, t);
      const url = plan & 2 ? client.planUrl() : undefined;
      const controller = timed ? new AbortController() : null;
      const f = { id: plan >>> 2, controller, timeoutAt: Number.isNaN(attemptMs) ? NaN : t + attemptMs };
      send(transport, input, init, d, controller, url, (plan & 1) === 1).then(
        (v) => post({ k: SETTLED, f, ok: true, v }),
        (v) => post({ k: SETTLED, f, ok: false, v }),
      );
      flights.push(f);
    };
    const abortFlights = (reason) => {
      for (const f of flights) if (f.controller !== null) f.controller.abort(reason);
      flights = [];
    };
    // The caller aborted or the deadline passed: the task ends; what the call rejects with.
    const stop = (aborted) => {
      client.cancel(h, aborted ? R_ABORTED : R_DEADLINE, t);
      return aborted ? abortReason(signal) : new DOMException(client.timeoutMessage(0), "TimeoutError");
    };
    const fail = (reason, code) => client.error(h, reason, code, errIds, errs);

    let ok = false;
    let result;
    let trapped = false;
    try {
      task: for (;;) {
        // A new attempt: every attempt, retries included, needs a concurrency slot first.
        const admitted = client.admit(h, t);
        if (admitted === -1) {
          result = fail(R_QUEUE_FULL, "SHED");
          break task;
        }
        if (admitted > 0) {
          ticket = admitted;
          waiters.set(ticket, post);
          other = setTimeout(() => post({ k: QUEUE_TIMEOUT, ticket }), queueTimeoutMs);
          arm([]);
          let ev;
          do ev = await next();
          while (!(ev.k === ABORT || (ev.k === ALARM && ev.gen === alarmGen) || ((ev.k === GRANT || ev.k === QUEUE_TIMEOUT) && ev.ticket === ticket)));
          t = now();
          waiters.delete(ticket);
          clearTimeout(other);
          other = null;
          if (ev.k === ABORT || ev.k === ALARM) {
            disarm();
            result = stop(ev.k === ABORT);
            break task;
          }
          if (ev.k === QUEUE_TIMEOUT && client.queueTimeout(h, t)) {
            result = fail(R_QUEUE_TIMEOUT, "SHED");
            break task;
          }
        }
        launch(false);
        const hd = client.hedgeDelay(h, t);
        if (!Number.isNaN(hd)) hedgeTimer = setTimeout(() => post({ k: HEDGE }), hd);

        // Wait for the attempt(s) of this round.
        for (;;) {
          arm(flights);
          const ev = await next();
          let f = null;
          let outcome;
          let status = 0;
          let retryAfter;
          let response = null;
          if (ev.k === SETTLED) {
            if (!flights.includes(ev.f)) continue; // aborted earlier
            t = now();
            f = ev.f;
            if (!ev.ok) {
              if (signal !== null && signal.aborted === true) {
                result = stop(true);
                abortFlights(result);
                break task;
              }
              errIds.push(f.id);
              errs.push(ev.v);
              outcome = OUT_NETWORK;
            } else if (isResponse(ev.v)) {
              response = ev.v;
              outcome = OUT_RESPONSE;
              status = Math.min(Math.max(Number(response.status) || 0, 0), 999);
              // Read only where the engine honours it: a header lookup per response is
              // measurable on the hot path.
              if (status === 429 || status === 503) {
                const v = response.headers.get("retry-after");
                retryAfter = v == null ? undefined : String(v);
              }
            } else {
              errIds.push(f.id);
              errs.push(new TypeError(`ballast: the transport resolved with ${describeValue(ev.v)} instead of a Response`));
              flights.splice(flights.indexOf(f), 1);
              client.cancel(h, R_INVALID, t);
              abortFlights(undefined);
              result = fail(R_INVALID, "INVALID_RESPONSE");
              break task;
            }
          } else if (ev.k === ALARM) {
            if (ev.gen !== alarmGen) continue; // re-armed since
            t = now();
            const target = alarmFor;
            alarm = null; // rang: nothing to clear
            disarm();
            if (target === null) {
              result = stop(false);
              abortFlights(result);
              break task;
            }
            f = target;
            const err = new DOMException(client.timeoutMessage(1), "TimeoutError");
            if (f.controller !== null) f.controller.abort(err);
            errIds.push(f.id);
            errs.push(err);
            outcome = OUT_TIMEOUT;
          } else if (ev.k === ABORT) {
            t = now();
            result = stop(true);
            abortFlights(result);
            break task;
          } else if (ev.k === HEDGE) {
            hedgeTimer = null;
            t = now();
            if (client.tryHedge(h, t)) launch(true);
            continue;
          } else {
            continue; // a stale sleep or queue event
          }
          flights.splice(flights.indexOf(f), 1);
          const timedOut = outcome === OUT_TIMEOUT;
          const decision = client.attemptFinished(h, f.id, outcome, status, retryAfter, t);
          if (decision === WAIT) {
            if (response !== null) discard(response);
            continue;
          }
          if (decision >= 0) {
            if (response !== null) discard(response);
            if (hedgeTimer !== null) clearTimeout(hedgeTimer);
            hedgeTimer = null;
            const gen = ++sleeps;
            other = setTimeout(() => post({ k: WOKE, gen }), decision);
            arm([]);
            let ev2;
            do ev2 = await next();
            while (!(ev2.k === ABORT || (ev2.k === ALARM && ev2.gen === alarmGen) || (ev2.k === WOKE && ev2.gen === gen)));
            t = now();
            clearTimeout(other);
            other = null;
            if (ev2.k === WOKE) continue task;
            disarm();
            result = stop(ev2.k === ABORT);
            break task;
          }
          if (response !== null) {
            // The winner (done, or given up on with this response): the other attempt, if any,
            // lost the race.
            for (const o of flights) client.abandon(h, o.id, t);
            abortFlights(undefined);
            ok = true;
            result = response;
            break task;
          }
          const reason = decision === DONE ? R_MAX_ATTEMPTS : GIVE_UP - decision;
          result = fail(reason, decision === DONE || !timedOut ? "NETWORK" : "ATTEMPT_TIMEOUT");
          break task;
        }
      }
    } catch (err) {
      // After a wasm trap (a Rust panic) the engine is unusable: no `finish`, and the caller gets
      // a BallastError with code INTERNAL.
      trapped = typeof WebAssembly !== "undefined" && err instanceof WebAssembly.RuntimeError;
      throw internal(err);
    } finally {
      disarm();
      if (hedgeTimer !== null) clearTimeout(hedgeTimer);
      if (other !== null) clearTimeout(other);
      if (ticket !== 0) waiters.delete(ticket);
      if (onAbort !== null) signal.removeEventListener("abort", onAbort);
      if (!trapped) client.finish(h, t);
    }
    if (ok) return result;
    throw result;
  }
  return { call, granted };
}

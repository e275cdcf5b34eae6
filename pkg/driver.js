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

import { inListener, probeStack } from "./listeners.js";

export class BallastError extends Error {
  constructor(code, reason, message, cause, attempts) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "BallastError";
    this.code = code;
    this.reason = reason;
    this.attempts = attempts ?? [];
  }
}

/** The INTERNAL error for an exception from a call into `host`'s wasm (a trap: with its note). */
export function internalError(host, err) {
  const note = err instanceof WebAssembly.RuntimeError ? host.panicNote() : undefined;
  const detail = note ?? describeValue(err);
  return new BallastError("INTERNAL", "internal", `ballast: internal error: ${detail}`, err, []);
}

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

// A plain GET of a string URL, the most common call, described without looking further.
const plainGet = (url) => ({ method: "GET", url, flags: 0, signal: null, isRequest: false });

/** Whether `s` is an AbortSignal (of any realm: its brand, as fetch checks, not its prototype). */
function isSignal(s) {
  return (
    (typeof AbortSignal === "function" && s instanceof AbortSignal) ||
    Object.prototype.toString.call(s) === "[object AbortSignal]"
  );
}

// What the engine needs to know about a call. Throws a TypeError, as fetch would, on an init that
// is not an object, a signal that is not an AbortSignal, or bad headers: before any task starts.
function describe(input, init) {
  if (init == null && typeof input === "string") return plainGet(input);
  if (init != null && typeof init !== "object" && typeof init !== "function") {
    throw new TypeError("ballast: the second argument (init) must be an object (a RequestInit)");
  }
  const req = typeof Request === "function" && input instanceof Request ? input : null;
  const method = String((init && init.method) || (req && req.method) || "GET").toUpperCase();
  // Parsed only when there are headers (a Headers per call is measurable): invalid ones then throw
  // here, up front, instead of failing every attempt as a network error.
  const given = (init && init.headers) || (req && req.headers);
  const keyed = given ? new Headers(given).has("idempotency-key") : false;
  let body = BODY_NONE;
  if (init && init.body != null) body = bodyKind(init.body);
  else if (req && req.body != null) body = BODY_REPLAYABLE; // sent as a clone per attempt
  const signal = (init && init.signal) || (req && req.signal) || null;
  if (signal !== null && !isSignal(signal)) {
    throw new TypeError(`ballast: init.signal must be an AbortSignal, not ${describeValue(signal)}`);
  }
  return {
    method,
    url: req ? req.url : String(input),
    flags: (keyed ? 1 : 0) | (body << 1),
    signal,
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

// How an error (or a non-Response value) reads in a message: `Name: message`, else as a string.
// Never throws (a value whose getters or toString throw is "an unreadable value").
function describeValue(v) {
  try {
    if (v == null) return String(v);
    if (typeof v === "object" && "message" in v) return `${v.name || "Error"}: ${v.message}`;
    if (typeof v === "object" || typeof v === "function") return Object.prototype.toString.call(v);
    return String(v);
  } catch {
    return "an unreadable value";
  }
}

/**
 * The wrapped fetch of one client: `client` is the wasm Client on `host`'s instance, `transport`
 * the user's (or null for the global fetch), `listeners` its event listeners, and `onFault(error)`
 * what to do when a call into the wasm throws (pkg/host.js): the client is then replaced. Returns
 * the call, `granted(ticket)` (the client's hooks call it when a queued attempt gets its slot),
 * `fault(err)`, and the client.
 */
export function makeDriver({ host, client, transport, listeners, onFault }) {
  const reasons = host.reasons;
  const [attemptMs, totalMs, queueTimeoutMs, hedging] = client.settings();
  const drv = {
    client,
    transport,
    listeners,
    /** This driver's client faulted: it is replaced, and whatever still runs here ends. */
    dead: false,
    /** An exception from a call into the wasm: the INTERNAL error to end with (and, the first
     * time, the client is replaced). */
    fault(err) {
      host.fault();
      const error = internalError(host, err);
      if (!drv.dead) {
        drv.dead = true;
        onFault(error);
      }
      return error;
    },
    attemptMs,
    totalMs,
    queueTimeoutMs,
    timed: !Number.isNaN(attemptMs) || !Number.isNaN(totalMs) || hedging === 1,
    hedging: hedging === 1,
    // Queue tickets to the call waiting for each.
    waiters: new Map(),
    R_MAX_ATTEMPTS: reasons.indexOf("max-attempts"),
    R_DEADLINE: reasons.indexOf("deadline"),
    R_ABORTED: reasons.indexOf("aborted"),
    R_INVALID: reasons.indexOf("invalid-response"),
    R_QUEUE_FULL: reasons.indexOf("queue-full"),
    R_QUEUE_TIMEOUT: reasons.indexOf("queue-timeout"),
  };
  for (const [k, v] of Object.entries(drv)) {
    if (k.startsWith("R_") && v < 0) throw new Error(`ballast: internal: the engine names no give-up reason for ${k}`);
  }
  const granted = (ticket) => {
    const c = drv.waiters.get(ticket);
    if (c !== undefined) c.post({ k: GRANT, ticket });
  };
  const call = (input, init) => {
    let d;
    try {
      if (drv.dead) throw internalError(host, new Error("this client's wasm instance faulted"));
      // A call from a listener may be deep in a recursion: the stack must not run out mid-step.
      if (inListener()) probeStack();
      d = describe(input, init);
      if (d.signal !== null && d.signal.aborted === true) throw abortReason(d.signal);
    } catch (err) {
      return Promise.reject(err);
    }
    let c;
    try {
      const t = now();
      // GET goes as undefined: no method string to copy into the engine on the common path.
      const h = client.begin(d.method === "GET" ? undefined : d.method, d.url, d.flags, t);
      c = new Call(drv, input, init, d, h, t);
    } catch (err) {
      const error = drv.fault(err);
      listeners.flush();
      return Promise.reject(error);
    }
    return c.run();
  };
  return { call, granted, fault: drv.fault, client, get dead() { return drv.dead; } };
}

/** One call: its attempts, its inbox and the timers and listener it owns until it settles. */
class Call {
  constructor(drv, input, init, d, h, t) {
    this.drv = drv;
    this.input = input;
    this.init = init;
    this.d = d;
    this.h = h;
    /** The clock reading of the current step. */
    this.t = t;
    this.deadlineAt = Number.isNaN(drv.totalMs) ? NaN : t + drv.totalMs;
    // The inbox: sources post events; `next()` takes the oldest, or waits for one.
    this.queue = [];
    this.wake = null;
    // The alarm: the deadline or the earliest attempt timeout. `alarmFor` is the flight whose
    // timeout it is set for, or null for the deadline.
    this.alarm = null;
    this.alarmAt = NaN;
    this.alarmFor = null;
    this.alarmGen = 0;
    this.hedgeTimer = null;
    this.other = null; // a sleep or queue timer
    this.sleeps = 0; // generations of `other` as a sleep
    this.ticket = 0;
    this.flights = [];
    // Errors of attempts that ended without a response: attempt ids and what they failed with.
    this.errIds = null;
    this.errs = null;
    this.onAbort = null;
    if (d.signal !== null) {
      this.onAbort = () => this.post({ k: ABORT });
      d.signal.addEventListener("abort", this.onAbort);
    }
  }

  post(ev) {
    if (this.wake === null) this.queue.push(ev);
    else {
      const w = this.wake;
      this.wake = null;
      w(ev);
    }
  }

  /** The next event; first, what the steps so far queued for listeners is delivered. */
  next() {
    this.drv.listeners.flush();
    return this.queue.length > 0 ? this.queue.shift() : new Promise((r) => (this.wake = r));
  }

  disarm() {
    if (this.alarm !== null) clearTimeout(this.alarm);
    this.alarm = null;
    this.alarmAt = NaN;
    this.alarmFor = null;
    this.alarmGen++; // an alarm event already posted is stale now
  }

  /** Sets the alarm for the deadline or the earliest attempt timeout of `flights`. */
  arm(flights) {
    let at = this.deadlineAt;
    let target = null;
    for (const f of flights) {
      if (!Number.isNaN(f.timeoutAt) && (Number.isNaN(at) || f.timeoutAt < at)) {
        at = f.timeoutAt;
        target = f;
      }
    }
    if (this.alarm !== null && at === this.alarmAt && target === this.alarmFor) return;
    this.disarm();
    if (Number.isNaN(at)) return;
    this.alarmAt = at;
    this.alarmFor = target;
    const gen = this.alarmGen;
    this.alarm = setTimeout(() => this.post({ k: ALARM, gen }), at - this.t);
  }

  /** Sends one attempt as the engine planned it (`plan`: see `attemptStarted` in tasks.rs). */
  launch(plan) {
    const drv = this.drv;
    const url = plan & 2 ? drv.client.planUrl() : undefined;
    const controller = drv.timed ? new AbortController() : null;
    const f = {
      id: plan >>> 2,
      controller,
      timeoutAt: Number.isNaN(drv.attemptMs) ? NaN : this.t + drv.attemptMs,
    };
    send(drv.transport, this.input, this.init, this.d, controller, url, (plan & 1) === 1).then(
      (v) => this.post({ k: SETTLED, f, ok: true, v }),
      (v) => this.post({ k: SETTLED, f, ok: false, v }),
    );
    this.flights.push(f);
  }

  /** Aborts every attempt still in flight with `reason` and forgets them. */
  abortFlights(reason) {
    for (const f of this.flights) if (f.controller !== null) f.controller.abort(reason);
    this.flights = [];
  }

  /** The caller aborted or the deadline passed: ends the task; what the call rejects with. */
  stop(aborted) {
    const drv = this.drv;
    drv.client.cancel(this.h, aborted ? drv.R_ABORTED : drv.R_DEADLINE, this.t);
    const err = aborted
      ? abortReason(this.d.signal)
      : new DOMException(drv.client.timeoutMessage(0), "TimeoutError");
    this.abortFlights(err);
    return err;
  }

  fail(reason, code) {
    const errs = this.errs ?? [];
    const cause = errs.length === 0 ? "" : describeValue(errs.at(-1));
    return this.drv.client.error(this.h, reason, code, this.errIds ?? [], errs, cause);
  }

  /** Attempt `id` ended without a response, with `err`. */
  failed(id, err) {
    if (this.errIds === null) {
      this.errIds = [];
      this.errs = [];
    }
    this.errIds.push(id);
    this.errs.push(err);
  }

  /** The task: resolves with the response or rejects with the error. Always frees everything. */
  async run() {
    const client = this.drv.client;
    let faulted = false;
    let end; // [true, response] or [false, error]
    try {
      task: for (;;) {
        // A new attempt: every attempt, retries included, needs a concurrency slot first.
        let plan = client.admitAndStart(this.h, this.t);
        if (plan === -1) {
          end = [false, this.fail(this.drv.R_QUEUE_FULL, "SHED")];
          break;
        }
        if (plan < -1) {
          const ended = await this.queued(-1 - plan);
          if (ended !== null) {
            end = [false, ended];
            break;
          }
          plan = client.attemptStarted(this.h, false, this.t);
        }
        this.launch(plan);
        if (this.drv.hedging) {
          const hd = client.hedgeDelay(this.h, this.t);
          if (!Number.isNaN(hd)) this.hedgeTimer = setTimeout(() => this.post({ k: HEDGE }), hd);
        }
        // Wait for the attempt(s) of this round.
        for (;;) {
          this.arm(this.flights);
          const step = this.settled(await this.next());
          if (step === null) continue; // nothing decided yet
          if (typeof step !== "number") {
            end = step;
            break task;
          }
          const stopped = await this.sleep(step); // the backoff, then the next attempt
          if (stopped === null) continue task;
          end = stopped;
          break task;
        }
      }
    } catch (err) {
      // An exception from a step (pkg/host.js): the engine did not finish it, so no `finish`;
      // the client is replaced and this call ends with INTERNAL.
      faulted = true;
      end = [false, this.drv.fault(err)];
    } finally {
      this.disarm();
      if (this.hedgeTimer !== null) clearTimeout(this.hedgeTimer);
      if (this.other !== null) clearTimeout(this.other);
      if (this.ticket !== 0) this.drv.waiters.delete(this.ticket);
      if (this.onAbort !== null) this.d.signal.removeEventListener("abort", this.onAbort);
      if (!faulted) {
        try {
          this.drv.client.finish(this.h, this.t);
        } catch (err) {
          end = [false, this.drv.fault(err)];
        }
      }
      this.drv.listeners.flush();
    }
    if (end[0]) return end[1];
    throw end[1];
  }

  /** Waits in the concurrency queue: null once a slot is granted, else the error to end with. */
  async queued(ticket) {
    const drv = this.drv;
    this.ticket = ticket;
    drv.waiters.set(ticket, this);
    this.other = setTimeout(() => this.post({ k: QUEUE_TIMEOUT, ticket }), drv.queueTimeoutMs);
    this.arm([]);
    let ev;
    do ev = await this.next();
    while (
      !(
        ev.k === ABORT ||
        (ev.k === ALARM && ev.gen === this.alarmGen) ||
        ((ev.k === GRANT || ev.k === QUEUE_TIMEOUT) && ev.ticket === ticket)
      )
    );
    this.t = now();
    drv.waiters.delete(ticket);
    this.ticket = 0;
    clearTimeout(this.other);
    this.other = null;
    if (ev.k === ABORT || ev.k === ALARM) return this.stop(ev.k === ABORT);
    if (ev.k === QUEUE_TIMEOUT && drv.client.queueTimeout(this.h, this.t)) {
      return this.fail(drv.R_QUEUE_TIMEOUT, "SHED");
    }
    return null;
  }

  /**
   * Handles one event while attempts fly: null to keep waiting, a backoff (ms) before the next
   * attempt, or how the call ends (`[ok, value]`).
   */
  settled(ev) {
    const drv = this.drv;
    const flights = this.flights;
    let f;
    let outcome;
    let status = 0;
    let retryAfter;
    let response = null;
    if (ev.k === SETTLED) {
      f = ev.f;
      if (!flights.includes(f)) return null; // aborted earlier
      this.t = now();
      if (!ev.ok) {
        const signal = this.d.signal;
        if (signal !== null && signal.aborted === true) return [false, this.stop(true)];
        this.failed(f.id, ev.v);
        outcome = OUT_NETWORK;
      } else if (isResponse(ev.v)) {
        response = ev.v;
        outcome = OUT_RESPONSE;
        status = Math.min(Math.max(Number(response.status) || 0, 0), 999);
        // Read only where the engine honours it: a header lookup per response is measurable.
        if (status === 429 || status === 503) {
          const v = response.headers.get("retry-after");
          retryAfter = v == null ? undefined : String(v);
        }
      } else {
        this.failed(
          f.id,
          new TypeError(`ballast: the transport resolved with ${describeValue(ev.v)} instead of a Response`),
        );
        flights.splice(flights.indexOf(f), 1);
        drv.client.cancel(this.h, drv.R_INVALID, this.t);
        this.abortFlights(undefined);
        return [false, this.fail(drv.R_INVALID, "INVALID_RESPONSE")];
      }
    } else if (ev.k === ALARM) {
      if (ev.gen !== this.alarmGen) return null; // re-armed since
      this.t = now();
      f = this.alarmFor;
      this.alarm = null; // rang: nothing to clear
      this.disarm();
      if (f === null) return [false, this.stop(false)];
      const err = new DOMException(drv.client.timeoutMessage(1), "TimeoutError");
      if (f.controller !== null) f.controller.abort(err);
      this.failed(f.id, err);
      outcome = OUT_TIMEOUT;
    } else if (ev.k === ABORT) {
      this.t = now();
      return [false, this.stop(true)];
    } else if (ev.k === HEDGE) {
      this.hedgeTimer = null;
      this.t = now();
      if (drv.client.tryHedge(this.h, this.t)) this.launch(drv.client.attemptStarted(this.h, true, this.t));
      return null;
    } else {
      return null; // a stale sleep or queue event
    }

    flights.splice(flights.indexOf(f), 1);
    const decision = drv.client.attemptFinished(this.h, f.id, outcome, status, retryAfter, this.t);
    if (decision === WAIT) {
      if (response !== null) discard(response);
      return null;
    }
    if (decision >= 0) {
      if (response !== null) discard(response);
      return decision;
    }
    if (response !== null) {
      // The winner (done, or given up on with this response): the other attempt, if any, lost.
      for (const o of flights) drv.client.abandon(this.h, o.id, this.t);
      this.abortFlights(undefined);
      return [true, response];
    }
    if (decision === DONE) return [false, this.fail(drv.R_MAX_ATTEMPTS, "NETWORK")];
    return [false, this.fail(GIVE_UP - decision, outcome === OUT_TIMEOUT ? "ATTEMPT_TIMEOUT" : "NETWORK")];
  }

  /** The backoff before the next attempt: null, or how the call ends if it stops meanwhile. */
  async sleep(ms) {
    if (this.hedgeTimer !== null) clearTimeout(this.hedgeTimer);
    this.hedgeTimer = null;
    const gen = ++this.sleeps;
    this.other = setTimeout(() => this.post({ k: WOKE, gen }), ms);
    this.arm([]);
    let ev;
    do ev = await this.next();
    while (!(ev.k === ABORT || (ev.k === ALARM && ev.gen === this.alarmGen) || (ev.k === WOKE && ev.gen === gen)));
    this.t = now();
    clearTimeout(this.other);
    this.other = null;
    if (ev.k === WOKE) return null;
    this.disarm();
    return [false, this.stop(ev.k === ABORT)];
  }
}

// The JS executor: carries out what the engine decides, for one client. The engine owns every
// call (src/core/engine/): it says when to start an attempt, when to abort one and how a call
// settles, and when it wants to be woken. This side performs those actions with `fetch` (or the
// user's transport), reports back what each attempt did, and keeps a single timer armed at the
// instant the engine asks for: no timer per call, none per attempt. (Workers need one per call:
// pkg/workers-executor.js.)
//
// Why a fresh AbortController per attempt, and only when something may abort it (an attempt
// timeout, the deadline, or hedging): an attempt that ran out must not share a signal with the
// next one (ofetch's bug of retrying under an already-aborted signal), and on Node handing fetch a
// signal costs undici more than everything else ballast does per call, so with timeouts off a call
// carries exactly the caller's signal, as raw fetch would.

import { inListener, probeStack } from "./listeners.js";
import {
  abortReason,
  describe,
  describeValue,
  discard,
  failureKind,
  initOf,
  isResponse,
  send,
} from "./request.js";

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

/** The monotonic clock, looked up on first use (Node defines `performance` as a global getter). */
let clockNow = null;

export function now() {
  if (clockNow === null) {
    const p = globalThis.performance;
    clockNow = p && typeof p.now === "function" ? () => p.now() : Date.now;
  }
  return clockNow();
}

/** The real clock and timers (tests pass a virtual clock of the same shape). */
export const REAL_CLOCK = Object.freeze({
  now,
  wall: () => Date.now(),
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (timer) => clearTimeout(timer),
});

const timeoutError = (which, ms) => new DOMException(`ballast: timeout.${which} (${ms} ms) elapsed`, "TimeoutError");

/** Lets a timer keep, or not keep, a Node / Bun / Deno process alive. */
function setRef(timer, on) {
  if (typeof timer === "object" && timer !== null && typeof timer.ref === "function") {
    if (on) timer.ref();
    else timer.unref();
  } else if (typeof Deno === "object" && typeof Deno.unrefTimer === "function") {
    if (on) Deno.refTimer(timer);
    else Deno.unrefTimer(timer);
  }
}

/**
 * A promise rejected with `err` once the current job is done: the caller has attached its
 * handlers by then, and the rejection runs on a fresh stack (a call made deep in a recursion of
 * listeners must not find the stack exhausted when its promise settles).
 */
function later(err) {
  return new Promise((_, reject) => queueMicrotask(() => reject(err)));
}

/**
 * The calls in progress by their id's slot. An id is the engine's slot number plus its generation
 * times 2^32 (src/core/tasks.rs), so from a call's second use of a slot on it is not a small
 * integer, and a Map keyed by such numbers kept what it had held alive across minor collections:
 * with a few calls in flight, every call's objects were promoted to the old generation and
 * collected there. An array indexed by slot holds only the calls in progress.
 */
class CallTable {
  constructor() {
    this.slots = [];
    this.size = 0;
  }

  get(task) {
    const c = this.slots[task % 4294967296];
    return c != null && c.task === task ? c : undefined;
  }

  set(task, call) {
    const i = task % 4294967296;
    if (this.slots[i] == null) this.size++;
    this.slots[i] = call;
  }

  delete(task) {
    const i = task % 4294967296;
    const c = this.slots[i];
    if (c == null || c.task !== task) return false;
    this.slots[i] = null;
    this.size--;
    return true;
  }

  /** The calls in progress. */
  values() {
    return this.slots.filter((c) => c != null);
  }
}

/** One call in progress, as far as JS is concerned: its promise, attempts and errors. */
class Call {
  constructor(ex, task, input, init, d) {
    this.ex = ex;
    /** A FormData body, encoded once for every attempt (`encodedOnce`). */
    this.encoded = undefined;
    this.task = task;
    this.input = input;
    this.init = init;
    this.d = d;
    /**
     * Attempts in flight and their AbortControllers (null when nothing may abort one): the first
     * in these two fields (-1: none), any other (a hedge racing it) in `moreFlights`: a call has
     * one in flight at a time, two while a hedge races it, so only a hedged call makes a Map
     * (`fly`, `flying`, `land`).
     */
    this.flight = -1;
    this.flightController = null;
    this.moreFlights = null;
    /** Responses that arrived, by attempt, until the step that received them is over. */
    this.response = null;
    this.responseOf = 0;
    /** The response the retry hooks are deciding on (`consult`), freed if the call ends first. */
    this.held = null;
    /** Errors of attempts that failed without a response, by attempt; the last is the cause. */
    this.errors = null;
    this.lastError = undefined;
    /** Still inside `call()`: a settlement then waits for the current job to end (`later`). */
    this.beginning = true;
    /** Its own timer, when the executor keeps one per call (pkg/workers-executor.js). */
    this.timer = null;
    this.timerAt = Infinity;
    this.promise = new Promise((resolve, reject) => {
      this.settleOk = resolve;
      this.settleErr = reject;
    });
    if (d.signal !== null) ex.watch(this);
  }

  resolve(v) {
    if (this.beginning) queueMicrotask(() => this.settleOk(v));
    else this.settleOk(v);
  }

  reject(e) {
    if (this.beginning) queueMicrotask(() => this.settleErr(e));
    else this.settleErr(e);
  }

  /**
   * Attempt `attempt` is in flight, aborted through `controller` (null: nothing may abort it);
   * again for one listed already (a deferred attempt going out) replaces its controller.
   */
  fly(attempt, controller) {
    const more = this.moreFlights;
    if (more !== null && more.has(attempt)) {
      more.set(attempt, controller);
    } else if (this.flight === -1 || this.flight === attempt) {
      this.flight = attempt;
      this.flightController = controller;
    } else {
      (this.moreFlights ??= new Map()).set(attempt, controller);
    }
  }

  flying(attempt) {
    return this.flight === attempt || (this.moreFlights !== null && this.moreFlights.has(attempt));
  }

  /** Attempt `attempt` is no longer in flight: its controller (undefined if it was not). */
  land(attempt) {
    if (this.flight === attempt) {
      const c = this.flightController;
      this.flight = -1;
      this.flightController = null;
      return c;
    }
    const more = this.moreFlights;
    if (more === null) return undefined;
    const c = more.get(attempt); // a listed flight's controller is one or null, never undefined
    more.delete(attempt);
    return c;
  }

  failed(attempt, err) {
    (this.errors ??= new Map()).set(attempt, err);
    this.lastError = err;
  }

  /** The call is over (settled, or lost to a fault): nothing of it is left behind. */
  close() {
    if (this.held !== null) discard(this.held);
    this.held = null;
    if (this.d.signal !== null) this.ex.unwatch(this);
    const first = this.flightController; // null when no flight is in the fields
    const more = this.moreFlights;
    this.flight = -1;
    this.flightController = null;
    this.moreFlights = null;
    if (first !== null) first.abort();
    if (more !== null) for (const c of more.values()) if (c !== null) c.abort();
    this.ex.calls.delete(this.task);
    if (this.timer !== null) {
      try {
        this.ex.clock.clear(this.timer);
      } catch {
        // a timer of another request's context: it fires into a call that is over, harmlessly
      }
      this.timer = null;
    }
  }
}

/**
 * `snapshot().config` from the engine's `fingerprint, [path, value]...`: the paths
 * (`retry.backoff.baseMs`, `routes[0].url`; `routes` is the count) become nested objects.
 */
function configInfo([fingerprint, ...entries]) {
  const effective = {};
  for (const [path, value] of entries) {
    const keys = path.replace(/\[(\d+)\]/g, ".$1").split(".");
    const last = keys.pop();
    let o = effective;
    for (let i = 0; i < keys.length; i++) o = o[keys[i]] ??= /^\d/.test(keys[i + 1] ?? last) ? [] : {};
    o[last] = path === "routes" ? [] : value;
  }
  const freeze = (v) => {
    if (v !== null && typeof v === "object") Object.values(Object.freeze(v)).forEach(freeze);
    return v;
  };
  return freeze({ fingerprint, effective });
}

/**
 * A FormData body as bytes, encoded once per call and sent as they are on every attempt: fetch
 * draws a new multipart boundary each time it encodes one, so a retry (of a POST with an
 * Idempotency-Key, say) would otherwise not send the same bytes. Its content type, with that
 * boundary, goes with it, unless the caller set one.
 */
function encodedOnce(call) {
  call.encoded ??= (async () => {
    const r = new Response(call.init.body);
    const body = new Uint8Array(await r.arrayBuffer());
    const headers = new Headers(call.init.headers);
    if (!headers.has("content-type")) headers.set("content-type", r.headers.get("content-type"));
    return { ...call.init, body, headers };
  })();
  return call.encoded;
}

/** `hooks.beforeAttempt`'s failure, as the attempt's error (kind `hook`), named for the hook. */
function hookError(err) {
  const e = new TypeError(`ballast: hooks.beforeAttempt failed: ${describeValue(err)}`, { cause: err });
  e.ballastHook = true;
  return e;
}

/**
 * A stream body the transport failed before reading: cancelled (with the transport's error), so
 * its source learns nobody will read it and frees what it holds. A stream is sent once, so no
 * attempt will read it after this one. A body the transport started reading is the transport's.
 */
function cancelUnread(body, reason) {
  try {
    if (typeof ReadableStream === "function" && body instanceof ReadableStream) {
      if (!body.locked) body.cancel(reason).catch(() => {});
    } else if (body != null && typeof body.destroy === "function" && body.readableDidRead === false) {
      body.destroy(); // a Node stream nothing has read from
    }
  } catch {
    // a body that cannot be cancelled: nothing to free
  }
}

export class Executor {
  /**
   * `client`: the wasm Client on `host`'s instance; `transport`: the user's, or null for the
   * global fetch; `coordinator`: the user's (shared retry budget, `lease(request)`), or null;
   * `listeners`: the client's event listeners; `onFault(error)`: what to do when a
   * call into the wasm throws (pkg/host.js), which replaces this executor's client.
   */
  constructor({ host, client, transport, hooks = {}, coordinator = null, listeners, onFault, clock = REAL_CLOCK }) {
    this.host = host;
    this.b = host.boundary;
    this.client = client;
    this.transport = transport;
    this.coordinator = coordinator;
    this.beforeAttempt = hooks.beforeAttempt ?? null;
    this.shouldRetry = hooks.shouldRetry ?? null;
    this.delay = hooks.delay ?? null;
    this.listeners = listeners;
    this.onFault = onFault;
    this.clock = clock;
    const [attemptMs, totalMs, hedging] = client.settings();
    this.attemptMs = attemptMs;
    this.totalMs = totalMs;
    this.timed = !Number.isNaN(attemptMs) || !Number.isNaN(totalMs) || hedging === 1;
    this.calls = new CallTable();
    /**
     * Caller signals -> the calls in progress under each. One abort listener per signal, however
     * many calls share it: a listener per call made Node warn of a leak (MaxListenersExceeded)
     * from 11 concurrent calls on one signal, where 11 raw fetch calls print nothing.
     */
    this.watched = new Map();
    /** Step outputs by nesting depth (`take`), and the current depth. */
    this.outs = [];
    this.depth = 0;
    this.timer = null;
    this.timerAt = Infinity;
    this.timerRef = false;
    this.dead = false;
    this.wake = () => {
      this.timer = null;
      this.timerAt = Infinity;
      this.step(() => this.client.timeout(this.clock.now()));
    };
  }

  /** Aborts `call` when its caller's signal aborts (`close` stops it). */
  watch(call) {
    const signal = call.d.signal;
    let calls = this.watched.get(signal);
    if (calls === undefined) {
      calls = new Set();
      calls.onAbort = () => {
        for (const c of [...calls]) this.step(() => this.client.abort(c.task, this.clock.now()), null, c);
      };
      signal.addEventListener("abort", calls.onAbort);
      this.watched.set(signal, calls);
    }
    calls.add(call);
  }

  unwatch(call) {
    const signal = call.d.signal;
    const calls = this.watched.get(signal);
    if (calls === undefined || !calls.delete(call) || calls.size > 0) return;
    signal.removeEventListener("abort", calls.onAbort);
    this.watched.delete(signal);
  }

  /** The wrapped fetch. */
  call(input, init) {
    let d;
    try {
      if (this.dead) throw internalError(this.host, new Error("this client's wasm instance faulted"));
      // A call from a listener may be deep in a recursion: the stack must not run out mid-step.
      if (inListener()) probeStack();
      d = describe(input, init);
      if (d.signal !== null && d.signal.aborted === true) throw abortReason(d.signal);
    } catch (err) {
      return later(err);
    }
    let call = null;
    this.step(
      // GET goes as undefined: no method string to copy into the engine on the common path.
      () => this.client.begin(d.method === "GET" ? undefined : d.method, d.url, d.flags, this.clock.now()),
      (out) => {
        call = new Call(this, out[this.b.H_TASK], input, init, d);
        this.calls.set(call.task, call);
        this.opened(call);
      },
    );
    if (call === null) return later(this.faultError);
    call.beginning = false;
    this.begun(call);
    return call.promise;
  }

  /** The begin step has made `call` (what follows in that step is the call's own). */
  opened(call) {}

  /** `call()` has begun `call`, which may have settled already. */
  begun(call) {}

  /**
   * Runs one input (`input()` returns where the step's output is), carries out the actions,
   * delivers the events after the step, and re-arms the timer; `begun(out)` first sees the output
   * (`begin`'s, for the call's id); `owner` is the call the step is for, if it is for one. An
   * exception from the wasm is a fault.
   */
  step(input, begun = null, owner = null) {
    if (this.dead) return;
    const depth = this.depth++;
    try {
      this.run(input, begun, depth);
    } finally {
      this.depth--;
    }
  }

  /**
   * A step's output, copied from the module's memory at `ptr` into this executor's buffer for
   * `depth`: a step can run while another's actions are carried out (an abort listener that calls
   * again), and each level keeps its own, so no step allocates for its output.
   */
  take(ptr, depth) {
    return (this.outs[depth] = this.host.copyOut(ptr, this.outs[depth]));
  }

  run(input, begun, depth) {
    let out;
    let detail = null;
    let events = null;
    try {
      out = this.take(input(), depth);
      if (begun !== null) begun(out);
      const pending = out[this.b.H_PENDING];
      if (pending & this.b.PENDING_DETAIL) detail = this.b.decode(this.client.detail());
      if (pending & this.b.PENDING_EVENTS) events = this.b.decodeEvents(this.client.events());
    } catch (err) {
      this.fault(err);
      return;
    }
    this.apply(out, detail);
    if (events !== null) for (const [kind, payload] of events) this.emit(kind, payload);
    this.rearm(out[this.b.H_TIMEOUT]);
    if (out[this.b.H_PENDING] & this.b.PENDING_LEASE && this.coordinator !== null) this.lease();
    this.listeners.flush();
  }

  /** Leases retry tokens from the coordinator: a server build's (pkg/server-executor.js). */
  lease() {}

  /** Delivers an event the engine queued (to listeners, after the step). */
  emit(kind, payload) {
    this.listeners.emit(kind, payload);
  }

  apply(out, detail) {
    const b = this.b;
    const n = out[b.H_COUNT];
    for (let k = 0, at = b.HEADER; k < n; k++, at += b.WIDTH) {
      const call = this.calls.get(out[at + b.F_TASK]);
      if (call === undefined) continue;
      const kind = out[at + b.F_KIND];
      const attempt = out[at + b.F_ATTEMPT];
      if (kind === b.CONSULT) {
        this.consult(call, attempt, out[at + b.F_ARG0] === 1, out[at + b.F_ARG1]);
      } else if (kind === b.START) {
        const urlAt = out[at + b.F_ARG2];
        this.start(call, attempt, urlAt < 0 ? undefined : detail[urlAt], out[at + b.F_ARG1]);
      } else if (kind === b.ABORT) {
        const controller = call.land(attempt);
        const reason = out[at + b.F_ARG0];
        let err;
        if (reason === b.ABORT_ATTEMPT_TIMEOUT) {
          err = timeoutError("attemptMs", this.attemptMs);
          call.failed(attempt, err);
        } else if (reason === b.ABORT_DEADLINE) {
          err = timeoutError("totalMs", this.totalMs);
        } else if (reason === b.ABORT_CALLER) {
          err = abortReason(call.d.signal);
        }
        if (controller != null) controller.abort(err);
      } else {
        call.close();
        if (kind === b.SETTLE_RESPONSE && call.responseOf === attempt) {
          const res = call.response;
          call.response = null;
          call.resolve(res);
        } else if (kind === b.SETTLE_ABORTED) {
          call.reject(abortReason(call.d.signal));
        } else if (kind === b.SETTLE_DEADLINE) {
          call.reject(timeoutError("totalMs", this.totalMs));
        } else if (kind === b.SETTLE_FAILED) {
          const f = detail[out[at + b.F_ARG0]];
          for (const r of f.attempts) if (call.errors?.has(r.attempt)) r.error = call.errors.get(r.attempt);
          call.reject(new BallastError(f.code, f.reason, f.message, call.lastError, f.attempts));
        }
      }
    }
  }

  /** Sends attempt `attempt` of `call` (to `url` when routed; `flags`: strip, hedge). */
  start(call, attempt, url, flags) {
    const controller = this.timed ? new AbortController() : null;
    call.fly(attempt, controller);
    const strip = (flags & this.b.STRIP) !== 0;
    const go = (init) =>
      this.beforeAttempt === null
        ? send(this.transport, call.input, init, call.d, controller, url, strip)
        : this.hooked(call, attempt, init, controller, url, strip, (flags & this.b.HEDGE) !== 0);
    const form = call.init != null && typeof FormData === "function" && call.init.body instanceof FormData;
    (form && this.mayRetry(call.d) ? encodedOnce(call).then(go) : go(call.init)).then(
      (v) => this.answered(call, attempt, url, true, v),
      (v) => this.answered(call, attempt, url, false, v),
    );
  }

  /**
   * An attempt through `hooks.beforeAttempt`: the hook gets the attempt's Request (its route's URL,
   * the caller's headers and body) and may return another (a refreshed token, say), or a promise
   * of one; nothing keeps this one. Credentials are stripped after it, as the route says. A hook
   * that throws, rejects or returns something else fails the attempt (kind `hook`), which is not
   * retried: the call rejects with a BallastError, code HOOK, whose message names the hook.
   */
  async hooked(call, attempt, init, controller, url, strip, hedge) {
    const target = url ?? (call.d.isRequest ? call.input.url : String(call.input));
    let request;
    try {
      const base = call.d.isRequest ? call.input.clone() : init;
      const given = base != null && base.body != null ? { ...initOf(base), duplex: "half" } : base && initOf(base);
      const built = new Request(target, given ?? undefined);
      const out = await this.beforeAttempt(built, { attempt, hedge, url: target });
      request = out === undefined ? built : out;
    } catch (err) {
      throw hookError(err);
    }
    if (!(typeof Request === "function" && request instanceof Request)) {
      throw hookError(new TypeError(`it returned ${describeValue(request)}, not a Request or undefined`));
    }
    return send(this.transport, request, undefined, { ...call.d, isRequest: true }, controller, undefined, strip);
  }

  /**
   * The engine asks the retry hooks how `call` goes on after attempt `attempt` (`retry`: its own
   * verdict; `delayMs`: the wait it would take). They run after this step, never inside one, and
   * may return promises; their answer goes back as the `verdict` input, and the engine applies
   * its own limits after it (attempts, deadline, budget). The attempt's response is held
   * meanwhile, and freed unless the call settles with it (`close` frees it if the call ends first:
   * the deadline, the caller's abort).
   */
  consult(call, attempt, retry, delayMs) {
    const response = call.responseOf === attempt ? call.response : null;
    if (response !== null) call.response = null; // held: the step must not free it
    call.held = response;
    const info = {
      attempt,
      retry,
      status: response?.status,
      response: response ?? undefined,
      error: response === null ? call.errors?.get(attempt) : undefined,
      method: call.d.method,
      url: call.d.url,
    };
    Promise.resolve()
      .then(() => this.ask(info, delayMs))
      .then((v) => {
        if (this.calls.get(call.task) !== call) return; // over meanwhile: `close` freed the response
        const res = call.held;
        call.held = null;
        if (res !== null) {
          call.response = res;
          call.responseOf = attempt;
        }
        if (v.threw !== undefined) call.failed(attempt, v.cause);
        this.step(() => this.client.verdict(call.task, attempt, v.retry, v.delay, v.threw, this.clock.now()), null, call);
        if (res !== null && call.response === res) {
          call.response = null; // retried: free its connection
          discard(res);
        }
      });
  }

  /**
   * Runs the retry hooks on `info`: `{ retry: 1 | 0 | -1 (the engine's verdict), delay (NaN: the
   * engine's) }`, or `{ threw, cause }` when one throws, rejects or returns what it may not.
   */
  async ask(info, delayMs) {
    let name = "retry.shouldRetry";
    try {
      let retry = -1;
      if (this.shouldRetry !== null) {
        const r = await this.shouldRetry(info);
        if (r !== true && r !== false && r !== undefined) {
          throw new TypeError(`it returned ${describeValue(r)}, not true, false or undefined`);
        }
        if (r !== undefined) retry = r ? 1 : 0;
      }
      let delay = NaN;
      if (this.delay !== null && (retry === -1 ? info.retry : retry === 1)) {
        name = "retry.delay";
        const d = await this.delay({ ...info, delayMs });
        if (d !== undefined && !(typeof d === "number" && d >= 0 && d < Infinity)) {
          throw new TypeError(`it returned ${describeValue(d)}, not a number of milliseconds (0 or more) or undefined`);
        }
        if (d !== undefined) delay = d;
      }
      return { retry, delay };
    } catch (err) {
      const cause = new TypeError(`ballast: ${name} failed: ${describeValue(err)}`, { cause: err });
      return { retry: -1, delay: NaN, threw: `${name} failed: ${describeValue(err)}`, cause };
    }
  }

  /** Whether the engine may retry a call so described (its method, or an Idempotency-Key). */
  mayRetry(d) {
    let retry;
    try {
      retry = this.snapshotConfig().effective.retry;
    } catch {
      // The engine faulted reading its config: encode anyway (always correct, only not needed
      // for a call that is never retried); the fault shows on the next call into it.
      return true;
    }
    return retry.maxAttempts > 1 && ((d.flags & 1) !== 0 || retry.methods.includes(d.method));
  }

  /** The client's config info (`snapshot().config`), read once. */
  snapshotConfig() {
    this.config ??= configInfo(this.b.decode(this.client.configInfo()));
    return this.config;
  }

  /** Attempt `attempt` of `call` settled (its promise): reports it to the engine. */
  answered(call, attempt, url, ok, v) {
    if (this.calls.get(call.task) !== call || call.land(attempt) === undefined) {
      if (ok && isResponse(v)) discard(v); // over already (timed out, lost a race, aborted)
      return;
    }
    const task = call.task;
    const signal = call.d.signal;
    if (!ok && signal !== null && signal.aborted === true) {
      this.step(() => this.client.abort(task, this.clock.now()), null, call);
      return;
    }
    const t = this.clock.now();
    if (ok && isResponse(v)) {
      const status = Math.min(Math.max(Number(v.status) || 0, 0), 999);
      // The first header that says how long to wait (Retry-After, then the rate-limit ones, in
      // the engine's order), read only where the engine may honour it (a status it may retry):
      // header lookups per response are measurable.
      let kind = 0;
      let wait;
      if (status >= 400) {
        const names = this.b.WAIT_HEADERS;
        for (; kind < names.length; kind++) {
          const h = v.headers.get(names[kind]);
          if (h != null) {
            wait = String(h);
            break;
          }
        }
      }
      call.response = v;
      call.responseOf = attempt;
      // The wall clock only dates an HTTP-date in a wait header: not read without one.
      const wall = wait === undefined ? 0 : this.clock.wall();
      this.step(() => this.client.response(task, attempt, status, kind, wait, t, wall), null, call);
      if (call.response === v) {
        call.response = null; // not what the call settled with: free its connection
        discard(v);
      }
      return;
    }
    let kind;
    let err = v;
    if (ok) {
      kind = this.b.FAIL_INVALID_RESPONSE;
      err = new TypeError(`ballast: the transport resolved with ${describeValue(v)} instead of a Response`);
    } else {
      const target = url ?? (call.d.isRequest ? call.input.url : String(call.input));
      const k = v?.ballastHook === true ? "hook" : failureKind(v, target, call.d.method);
      kind =
        k === "hook"
          ? this.b.FAIL_HOOK
          : k === "permission-denied"
            ? this.b.FAIL_PERMISSION
            : k === "invalid-request"
              ? this.b.FAIL_INVALID_REQUEST
              : this.b.FAIL_NETWORK;
    }
    call.failed(attempt, err);
    if (!ok) cancelUnread(call.init?.body, v);
    const detail = describeValue(err);
    this.step(() => this.client.failure(task, attempt, kind, detail, t), null, call);
  }

  /** After a step: the engine's next wake-up is `at` (-1: none). */
  rearm(at) {
    this.arm(at);
  }

  /** Keeps the one timer armed at or before `at` (-1: nothing wanted). */
  arm(at) {
    if (at >= 0 && at < this.timerAt) {
      if (this.timer !== null) this.clock.clear(this.timer);
      this.timerAt = at;
      this.timer = this.clock.set(this.wake, Math.max(0, at - this.clock.now()));
      this.timerRef = true;
    }
    // A timer that fires with nothing to do is harmless, but must not keep a process alive
    // when no call is waiting on it.
    const want = this.calls.size > 0;
    if (this.timer !== null && this.timerRef !== want) {
      setRef(this.timer, want);
      this.timerRef = want;
    }
  }

  /** The wasm threw: the instance is retired, every call of this executor ends with INTERNAL. */
  fault(err) {
    this.host.fault();
    const error = internalError(this.host, err);
    this.faultError = error;
    if (this.dead) return error;
    this.dead = true;
    if (this.timer !== null) this.clock.clear(this.timer);
    this.timer = null;
    for (const call of [...this.calls.values()]) {
      call.close();
      call.reject(error);
    }
    this.onFault(error);
    this.listeners.flush();
    return error;
  }

  /** The client's snapshot (decoded), or throws the INTERNAL error after a fault. */
  snapshot() {
    if (this.dead) throw this.faultError;
    let s;
    try {
      s = this.b.decode(this.client.snapshot(this.clock.now()))[0];
      // Read once, frozen, shared by every snapshot until the routes change.
      this.snapshotConfig();
    } catch (err) {
      throw this.fault(err);
    }
    s.config = this.config;
    return s;
  }

  setListening(mask) {
    if (this.dead) return;
    try {
      this.client.setListening(mask);
    } catch (err) {
      this.fault(err);
    }
  }
}

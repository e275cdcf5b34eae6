// Small JS helpers for the Rust driver (src/wasm). Hand-written, runtime-neutral: only globals that
// Node >= 20, Deno, workerd and browsers all have, always looked up at call time, never `window`.
// Nothing here runs at module scope.

const BODY_NONE = 0;
const BODY_REPLAYABLE = 1;
const BODY_STREAM = 2;

export function now() {
  const p = globalThis.performance;
  return p && typeof p.now === "function" ? p.now() : Date.now();
}

export function wallNow() {
  return Date.now();
}

export function randomSeed() {
  return Math.floor(Math.random() * 9007199254740991);
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
export function describe(input, init) {
  const req = typeof Request === "function" && input instanceof Request ? input : null;
  const method = String((init && init.method) || (req && req.method) || "GET").toUpperCase();
  // Parsed only when there are headers (a Headers per call is measurable): invalid ones then throw
  // here, up front, instead of failing every attempt as a network error.
  const given = (init && init.headers) || (req && req.headers);
  const headers = given ? new Headers(given) : null;
  let body = BODY_NONE;
  if (init && init.body != null) body = bodyKind(init.body);
  else if (req && req.body != null) body = BODY_REPLAYABLE; // sent as a clone per attempt
  const signal = (init && init.signal) || (req && req.signal) || null;
  return {
    method,
    url: req ? req.url : String(input),
    idempotencyKey: headers !== null && headers.has("idempotency-key"),
    body,
    signal,
    isRequest: req !== null,
  };
}

export function isAborted(signal) {
  return signal != null && signal.aborted === true;
}

export function abortReason(signal) {
  return signal.reason !== undefined
    ? signal.reason
    : new DOMException("This operation was aborted", "AbortError");
}

export function timeoutError(message) {
  return new DOMException(message, "TimeoutError");
}

export function newController() {
  return new AbortController();
}

export function abortController(controller, reason) {
  controller.abort(reason);
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
// `controller` is the attempt's own (or null); without one, input / init go as they came, with
// the caller's signal, exactly as the caller would have called fetch.
export function send(transport, input, init, callerSignal, controller, isRequest, url, strip) {
  try {
    const f = typeof transport === "function" ? transport : globalThis.fetch;
    if (url === undefined && !strip) {
      const target = isRequest ? input.clone() : input;
      if (controller === null) return Promise.resolve(init == null ? f(target) : f(target, init));
      const signal = attemptSignal(callerSignal, controller);
      const attemptInit = init ? Object.assign({}, init, { signal }) : { signal };
      return Promise.resolve(f(target, attemptInit));
    }
    let attemptInit;
    if (isRequest) {
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
    const signal = attemptSignal(callerSignal, controller);
    if (signal !== null) attemptInit.signal = signal;
    const target = url === undefined ? (isRequest ? input.url : input) : url;
    return Promise.resolve(f(target, attemptInit));
  } catch (err) {
    return Promise.reject(err);
  }
}

export function isResponse(value) {
  return (
    value != null &&
    typeof value.status === "number" &&
    value.headers != null &&
    typeof value.headers.get === "function"
  );
}

export function status(response) {
  return response.status;
}

export function retryAfter(response) {
  const v = response.headers.get("retry-after");
  return v == null ? undefined : String(v);
}

// Frees the connection of a response we will not return (before a retry).
export function discard(response) {
  try {
    const body = response.body;
    if (body && !body.locked && typeof body.cancel === "function") body.cancel().catch(() => {});
  } catch {
    // nothing to free
  }
}

// The timer, promise and listener helpers call the driver's one shared callback with the key of
// the slot that waits (src/wasm/timer.rs): (key, value, ok).
export function setTimer(callback, ms, key) {
  return setTimeout(() => callback(key, undefined, true), ms);
}

export function clearTimer(id) {
  clearTimeout(id);
}

export function onSettle(promise, callback, key) {
  promise.then(
    (value) => callback(key, value, true),
    (err) => callback(key, err, false),
  );
}

export function onAbort(signal, callback, key) {
  const listener = () => callback(key, undefined, true);
  signal.addEventListener("abort", listener);
  return listener;
}

export function offAbort(signal, listener) {
  signal.removeEventListener("abort", listener);
}

export function describeError(err) {
  if (err == null) return String(err);
  if (typeof err === "object" && "message" in err) return `${err.name || "Error"}: ${err.message}`;
  return String(err);
}

// One call's request, as the caller gave it: what the engine needs to know about it
// (`describe`), sending one attempt of it (`send`: a fresh signal per attempt, the body sent again,
// the caller's credentials left out where the engine says), and what a failure means (`failureKind`).
// Runtime-neutral: only globals that Node >= 20, Deno, Bun, workerd and browsers all have, looked
// up at call time, never `window`. Nothing here runs at module scope.

const BODY_NONE = 0;
const BODY_REPLAYABLE = 1;
const BODY_STREAM = 2;

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
export const plainGet = (url) => ({ method: "GET", url, flags: 0, signal: null, isRequest: false });

/** Whether `s` is an AbortSignal (of any realm: its brand, as fetch checks, not its prototype). */
function isSignal(s) {
  return (
    (typeof AbortSignal === "function" && s instanceof AbortSignal) ||
    Object.prototype.toString.call(s) === "[object AbortSignal]"
  );
}

// What the engine needs to know about a call. Throws a TypeError, as fetch would, on an init that
// is not an object, a signal that is not an AbortSignal, or bad headers: before any task starts.
export function describe(input, init) {
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

export function abortReason(signal) {
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

const INIT_FIELDS = ["method", "headers", "body", "redirect", "credentials", "cache", "mode", "referrer", "referrerPolicy", "integrity", "keepalive"];

/** The RequestInit fields `x` sets (an init, or a Request read as one). */
export function initOf(x) {
  const out = {};
  for (const k of INIT_FIELDS) if (x[k] !== undefined) out[k] = x[k];
  return out;
}

// One attempt. A Request input is cloned so its body can be sent again. `url` (a string) replaces
// the target when routing chose a route; `strip` drops credentials for a cross-origin failover.
// Without a controller of ours, input / init go as they came, with the caller's signal, exactly as
// the caller would have called fetch.
export function send(transport, input, init, d, controller, url, strip) {
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
      attemptInit = initOf(c);
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

export function isResponse(value) {
  return (
    value != null &&
    typeof value.status === "number" &&
    value.headers != null &&
    typeof value.headers.get === "function"
  );
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

// How an error (or a non-Response value) reads in a message: `Name: message`, else as a string.
// Never throws (a value whose getters or toString throw is "an unreadable value").
export function describeValue(v) {
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
 * What a transport's rejection means for retrying: "permission-denied" (the runtime refused:
 * Deno without `--allow-net`, a browser's security policy), "invalid-request" (`fetch` refused the
 * request before any I/O: an invalid URL or method, a scheme other than http(s)), else "network"
 * (retried). A browser reports a CORS refusal as a network failure: it cannot be told apart.
 * Runs only on a failure, so its checks cost nothing on the common path.
 */
export function failureKind(err, target, method) {
  let name;
  try {
    name = err?.name;
  } catch {
    name = undefined;
  }
  if (name === "NotCapable" || name === "PermissionDenied" || name === "SecurityError") {
    return "permission-denied";
  }
  let url;
  try {
    url = new Request(target, { method });
  } catch {
    return "invalid-request";
  }
  const scheme = new URL(url.url).protocol;
  return scheme === "http:" || scheme === "https:" ? "network" : "invalid-request";
}

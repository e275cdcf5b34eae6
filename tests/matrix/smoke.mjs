// Runtime-neutral smoke scenario for the ballast package matrix (tests/matrix/run.mjs).
//
// Copied verbatim into every fixture (Node, Deno, workerd, Vite page, plain module page) and called
// from the fixture's entry after `import { createFetch, ConfigError } from "ballast-fetch"`.
// Uses only web-standard globals (fetch, Response, JSON, Math, Date) so it runs everywhere.
//
// Returns a JSON-able `{ ok, checks: { name: bool }, details }`. Never throws: an unexpected error in a
// step is recorded in `details.errors` and fails the checks that depend on it.

/**
 * @param {Function} createFetch  the package's createFetch export
 * @param {Function} ConfigError  the package's ConfigError export
 * @param {string} originUrl      loopback fault origin, e.g. "http://127.0.0.1:41234"
 * @param {string} [label]        runtime name, used to make origin keys unique
 */
export async function smoke(createFetch, ConfigError, originUrl, label = "rt") {
  const checks = {};
  const details = { label, origin: originUrl, errors: [] };
  const origin = String(originUrl || "").replace(/\/+$/, "");
  const rand = () =>
    typeof crypto !== "undefined" && typeof crypto.randomUUID === "function"
      ? crypto.randomUUID().slice(0, 8)
      : Math.random().toString(36).slice(2, 10);
  const tag = `${label}-${Date.now().toString(36)}-${rand()}`;
  const key1 = `${tag}-seq`;
  const key2 = `${tag}-post`;
  details.keys = { key1, key2 };

  const err = (step, e) => {
    details.errors.push({
      step,
      name: e && e.name,
      message: e && e.message !== undefined ? String(e.message) : String(e),
      stack: e && e.stack ? String(e.stack).split("\n").slice(0, 8).join("\n") : undefined,
    });
  };
  // Hit counter is read with the runtime's own fetch so it does not go through ballast.
  const hits = async (key) => {
    const r = await fetch(`${origin}/hits?key=${encodeURIComponent(key)}`);
    const body = await r.json();
    return body.hits;
  };

  if (!origin) {
    err("args", new Error("no origin URL given"));
  }

  let f = null;
  const retryEvents = [];
  try {
    f = createFetch({ retry: { maxAttempts: 3, backoff: { kind: "full", baseMs: 5, capMs: 20 } } });
    details.fetchType = typeof f;
    f.on("retry", (ev) => {
      // Keep a plain copy; do not hold on to anything runtime-specific.
      retryEvents.push(ev && typeof ev === "object" ? { ...ev } : ev);
    });
  } catch (e) {
    err("createFetch", e);
  }

  // (a) 503, 503, 200 -> resolves 200 after 3 attempts.
  checks.retry_resolves_200 = false;
  checks.retry_hits_3 = false;
  if (f) {
    try {
      const t0 = Date.now();
      const r = await f(`${origin}/seq?key=${encodeURIComponent(key1)}&codes=503,503,200`);
      details.seqStatus = r.status;
      details.seqMs = Date.now() - t0;
      await r.text();
      checks.retry_resolves_200 = r.status === 200;
    } catch (e) {
      err("seq", e);
    }
    try {
      details.seqHits = await hits(key1);
      checks.retry_hits_3 = details.seqHits === 3;
    } catch (e) {
      err("seq-hits", e);
    }
  }

  // (b) snapshot after (a): retries === 2 and it serialises.
  checks.snapshot_retries_2 = false;
  checks.snapshot_json = false;
  if (f) {
    try {
      const snap = f.snapshot();
      details.snapshotRetries = snap && snap.retries;
      checks.snapshot_retries_2 = snap != null && snap.retries === 2;
      const json = JSON.stringify(snap);
      const back = JSON.parse(json);
      details.snapshot = back;
      checks.snapshot_json = typeof json === "string" && back != null && back.retries === snap.retries;
    } catch (e) {
      err("snapshot", e);
    }
  }

  // (c) POST is not retryable by default: one attempt, resolves with the 503.
  checks.post_503_resolves = false;
  checks.post_hits_1 = false;
  if (f) {
    try {
      const r = await f(`${origin}/status/503?key=${encodeURIComponent(key2)}`, { method: "POST", body: "x" });
      details.postStatus = r.status;
      await r.text();
      checks.post_503_resolves = r.status === 503;
    } catch (e) {
      err("post", e);
    }
    try {
      details.postHits = await hits(key2);
      checks.post_hits_1 = details.postHits === 1;
    } catch (e) {
      err("post-hits", e);
    }
  }

  // (d) invalid config -> ConfigError with a path.
  checks.config_error_path = false;
  try {
    createFetch({ budget: { ratio: -1 } });
    details.configError = "did not throw";
  } catch (e) {
    details.configError = {
      name: e && e.name,
      path: e && e.path,
      message: e && e.message,
      instanceofConfigError: typeof ConfigError === "function" && e instanceof ConfigError,
    };
    checks.config_error_path =
      typeof ConfigError === "function" && e instanceof ConfigError && e.path === "budget.ratio";
  }

  // (e) the "retry" listener saw exactly the 2 retries of (a) (and none for the POST).
  details.retryEvents = retryEvents.map((ev) =>
    ev && typeof ev === "object"
      ? { attempt: ev.attempt, delayMs: ev.delayMs, reason: ev.reason, method: ev.method }
      : ev
  );
  checks.retry_events_2 = retryEvents.length === 2;

  const ok = Object.values(checks).length > 0 && Object.values(checks).every((v) => v === true);
  if (details.errors.length === 0) delete details.errors;
  return { ok, checks, details };
}

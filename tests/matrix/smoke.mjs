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

  // (f) credentials stay with the addressed origin. The primary route (localhost: another origin
  // than 127.0.0.1 on the same server) always answers 503; the fallback (127.0.0.1) serves. The
  // primary is ejected after 5 failures and the fallback then serves first attempts too: it must
  // never see the caller's Authorization, nor (in a browser, with credentials: "include") the
  // page's cookie for its host.
  checks.credentials_kept_from_fallback = false;
  checks.credentials_reach_addressed_origin = false;
  checks.credentials_stripped_counted = false;
  let fc = null;
  const other = origin.replace("//127.0.0.1", "//localhost");
  const routed = {
    retry: { maxAttempts: 3, backoff: { kind: "full", baseMs: 1, capMs: 5 } },
    budget: { ratio: 2, minPerSec: 100 },
    routing: { switchBudget: { ratio: 2, minPerSec: 100 } },
    routes: [
      { name: "primary", url: `${other}/status/503` },
      { name: "fallback", url: origin, fallback: true },
    ],
  };
  try {
    const browser = typeof document !== "undefined";
    if (browser) document.cookie = "ballast_smoke=1; path=/";
    fc = createFetch(routed);
    const base = `${tag}-cred`;
    const logged = [];
    for (let i = 0; i < 8; i++) {
      const r = await fc(`/echo?key=${base}-${i}`, {
        headers: { authorization: "Bearer smoke" },
        credentials: "include",
      });
      await r.text();
      const log = await (await fetch(`${origin}/log?key=${encodeURIComponent(`${base}-${i}`)}`)).json();
      logged.push(...log.map((e) => e.headers));
    }
    const onPrimary = logged.filter((h) => String(h.host).startsWith("localhost"));
    const onFallback = logged.filter((h) => String(h.host).startsWith("127.0.0.1"));
    let control = "not a browser";
    if (browser) {
      // The cookie would reach the fallback's host if ballast did not omit it.
      const echo = await (await fetch(`${origin}/echo?key=${base}-control`, { credentials: "include" })).json();
      control = String(echo.headers.cookie || "");
    }
    details.credentials = {
      primaryAttempts: onPrimary.length,
      fallbackAttempts: onFallback.length,
      fallbackHeaders: onFallback.map((h) => ({ authorization: h.authorization, cookie: h.cookie })),
      cookieControl: control,
    };
    checks.credentials_kept_from_fallback =
      onFallback.length === 8 &&
      onFallback.every((h) => h.authorization === undefined && h.cookie === undefined) &&
      (!browser || control.includes("ballast_smoke=1"));
    checks.credentials_reach_addressed_origin =
      onPrimary.length >= 5 && onPrimary.every((h) => h.authorization === "Bearer smoke");
    const stripped = fc.snapshot().routes.find((r) => r.name === "fallback");
    checks.credentials_stripped_counted = stripped && stripped.credentialsStripped === onFallback.length;
  } catch (e) {
    err("credentials", e);
  }

  // (h) state snapshots: exportState -> JSON -> initialState. (f) ejected the primary; a client
  // started from its state keeps it ejected: its first call goes to the fallback, none to the
  // primary, and its own export carries both clients' contributions. In a page (the browsers'
  // build, which has no state snapshots): both refused, saying why.
  checks.state_round_trips = false;
  if (fc && typeof document !== "undefined") {
    const refused = (f) => {
      try {
        f();
        return "not refused";
      } catch (e) {
        return `${e.name}: ${e.message}`;
      }
    };
    const exported = refused(() => fc.exportState());
    const initial = refused(() => createFetch({ ...routed, initialState: { v: 1 } }));
    details.state = { exported, initial };
    checks.state_round_trips =
      exported.startsWith("StateError") &&
      exported.includes("browser build has no state snapshots") &&
      initial.startsWith("ConfigError") &&
      initial.includes("initialState");
  } else if (fc) {
    try {
      const saved = JSON.stringify(fc.exportState());
      const fresh = createFetch({ ...routed, initialState: JSON.parse(saved) });
      const key = `${tag}-state`;
      const r = await fresh(`/echo?key=${key}`);
      await r.text();
      const log = await (await fetch(`${origin}/log?key=${encodeURIComponent(key)}`)).json();
      const primary = fresh.snapshot().routes.find((x) => x.name === "primary");
      const back = fresh.exportState();
      details.state = {
        bytes: saved.length,
        status: r.status,
        hosts: log.map((e) => e.headers.host),
        primary: primary && { state: primary.state, ejections: primary.ejections, attempts: primary.attempts },
        isolates: back.isolates.length,
      };
      checks.state_round_trips =
        r.status === 200 &&
        log.length === 1 &&
        String(log[0].headers.host).startsWith("127.0.0.1") &&
        primary.state === "ejected" &&
        primary.attempts === 0 &&
        back.isolates.length === 2 &&
        back.v === 1;
    } catch (e) {
      err("state", e);
    }
  }

  // (g) a request that cannot succeed is not retried: one attempt, no budget spent.
  checks.not_retryable_invalid_url = false;
  try {
    const fr = createFetch({ retry: { maxAttempts: 4, backoff: { kind: "full", baseMs: 50, capMs: 100 } } });
    const outcomes = [];
    for (const url of ["http://[::1/x", "ftp://127.0.0.1/x"]) {
      try {
        await fr(url);
        outcomes.push("resolved");
      } catch (e) {
        outcomes.push(`${e.code}/${e.reason}/${e.attempts && e.attempts.length}`);
      }
    }
    const s = fr.snapshot();
    details.notRetryable = { outcomes, retries: s.retries, balance: s.budget.balance };
    checks.not_retryable_invalid_url =
      outcomes.every((o) => o === "INVALID_REQUEST/not-retryable/1") && s.retries === 0 && s.budget.balance === 10;
  } catch (e) {
    err("not-retryable", e);
  }

  const ok = Object.values(checks).length > 0 && Object.values(checks).every((v) => v === true);
  if (details.errors.length === 0) delete details.errors;
  return { ok, checks, details };
}

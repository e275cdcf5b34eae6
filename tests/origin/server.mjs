// Fault-injecting HTTP origin for ballast tests (Node 20+, node:http only, no dependencies).
//
// Library use:
//   import { startOrigin } from "./tests/origin/server.mjs";
//   const origin = await startOrigin();           // { url, port, hits, inFlight, ... }
//   await fetch(`${origin.url}/seq?key=a&codes=503,200`);
//   await origin.close();
//
// CLI use (for Deno / workerd / browser tests running in another process):
//   node tests/origin/server.mjs [--port N] [--no-stdin]
//   -> prints exactly one line `{"url":"http://127.0.0.1:PORT"}` on stdout, then serves until
//      SIGTERM / SIGINT or until stdin closes (disable the stdin watch with --no-stdin, e.g. when
//      started in the background with stdin at /dev/null).
//
// See tests/origin/README.md for the endpoint table.

import http from "node:http";
import { pathToFileURL } from "node:url";

const HOST = "127.0.0.1";
/** Largest request body kept in the per-key request log. */
const MAX_LOGGED_BODY = 1 << 20;

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers": "*",
};

/**
 * CORS headers for `req`: a page's request (it carries `Origin`) gets that origin back with
 * `Access-Control-Allow-Credentials`, so `credentials: "include"` works from a test page (browsers
 * refuse `*` for credentialed requests); other clients get `*`.
 */
function corsFor(req) {
  const origin = req?.headers.origin;
  if (origin === undefined) return CORS;
  return {
    "access-control-allow-origin": origin,
    "access-control-allow-credentials": "true",
    "access-control-expose-headers": "*",
    vary: "Origin",
  };
}

// ---- deterministic PRNG (mulberry32) for /flaky -------------------------------------------------

function hashString(s) {
  // FNV-1a 32-bit
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- helpers ------------------------------------------------------------------------------------

function intParam(params, name, dflt) {
  const raw = params.get(name);
  if (raw === null || raw === "") return dflt;
  const n = Number(raw);
  return Number.isFinite(n) ? n : dflt;
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    let size = 0;
    req.on("data", (c) => {
      size += c.length;
      if (size <= MAX_LOGGED_BODY) chunks.push(c);
    });
    const done = () => resolve(Buffer.concat(chunks));
    req.on("end", done);
    req.on("error", done);
    req.on("close", done);
  });
}

/**
 * Checks a whole-origin fault: `null` (none) or `{ status?, reset?, delayMs? }` (at least one).
 * `delayMs` waits before the rest applies: then `reset` destroys the socket, `status` answers with
 * that code, and with neither the request is served normally. Throws a TypeError when invalid.
 * @returns {null | { status?: number, reset?: true, delayMs?: number }}
 */
export function normalizeFault(fault) {
  if (fault === null || fault === undefined) return null;
  if (typeof fault !== "object" || Array.isArray(fault)) {
    throw new TypeError(`fault must be null or an object, got ${JSON.stringify(fault)}`);
  }
  const out = {};
  for (const [k, v] of Object.entries(fault)) {
    if (k === "status") {
      if (!Number.isInteger(v) || v < 200 || v > 599) throw new TypeError(`fault.status must be an integer 200..599, got ${JSON.stringify(v)}`);
      out.status = v;
    } else if (k === "reset") {
      if (typeof v !== "boolean") throw new TypeError(`fault.reset must be a boolean, got ${JSON.stringify(v)}`);
      if (v) out.reset = true;
    } else if (k === "delayMs") {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new TypeError(`fault.delayMs must be a number >= 0, got ${JSON.stringify(v)}`);
      out.delayMs = v;
    } else {
      throw new TypeError(`unknown fault key ${JSON.stringify(k)} (known: status, reset, delayMs)`);
    }
  }
  if (out.status !== undefined && out.reset) throw new TypeError("fault.status and fault.reset are exclusive");
  return Object.keys(out).length ? out : null;
}

/**
 * Start the origin.
 * @param {{ port?: number }} [opts]
 */
export async function startOrigin({ port = 0 } = {}) {
  /** key -> number of counted requests */
  const hitCounts = new Map();
  /** key -> [{ t, method, url, headers, body: Buffer }] */
  const logs = new Map();
  /** key -> PRNG for /flaky */
  const flakyRngs = new Map();
  /** key -> PRNG for /tail */
  const tailRngs = new Map();
  /** Whole-origin fault (see normalizeFault), applied to every counted request. */
  let fault = null;
  let totalHits = 0;
  /** key -> { busy, waiting } for /capacity */
  const lanes = new Map();
  let inFlight = 0;
  let maxInFlight = 0;
  const sockets = new Set();
  const timers = new Set();

  function later(fn, ms) {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  }
  function cancel(t) {
    clearTimeout(t);
    timers.delete(t);
  }

  function send(res, status, body, headers = {}) {
    if (res.destroyed || res.writableEnded) return;
    const isJson = body !== undefined && typeof body !== "string" && !Buffer.isBuffer(body);
    const payload =
      body === undefined ? "" : isJson ? JSON.stringify(body) : body;
    const h = { ...corsFor(res.req), "cache-control": "no-store", ...headers };
    if (payload !== "" && !("content-type" in h)) {
      h["content-type"] = isJson ? "application/json" : "text/plain; charset=utf-8";
    }
    // 1xx/204/304 must not carry a body
    const bodyless = status < 200 || status === 204 || status === 304;
    if (!bodyless) h["content-length"] = String(Buffer.byteLength(payload));
    res.writeHead(status, h);
    res.end(bodyless ? undefined : payload);
  }

  function statsFor(key) {
    const entries = logs.get(key) ?? [];
    return {
      hits: hitCounts.get(key) ?? 0,
      times: entries.map((e) => e.t),
      inFlight,
      maxInFlight,
    };
  }

  /** On a non-2xx: `ra` as Retry-After, and each `wh=name:value` as a header (rate-limit ones). */
  function withRetryAfter(params, status) {
    if (status >= 200 && status <= 299) return {};
    const out = {};
    const ra = params.get("ra");
    if (ra !== null) out["retry-after"] = ra;
    for (const h of params.getAll("wh")) {
      const i = h.indexOf(":");
      if (i > 0) out[h.slice(0, i)] = h.slice(i + 1);
    }
    return out;
  }

  async function handle(req, res) {
    const url = new URL(req.url ?? "/", `http://${HOST}`);
    const path = url.pathname;
    const params = url.searchParams;

    // CORS preflight: answered, never counted.
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      req.resume();
      send(res, 204, undefined, {
        // Listed, not `*`: for a credentialed request `*` is a literal name, and `Authorization`
        // is never covered by it.
        "access-control-allow-headers": req.headers["access-control-request-headers"] ?? "*",
        "access-control-allow-methods": "*",
        "access-control-max-age": "600",
      });
      return;
    }

    // Stats endpoints: not counted.
    if (path === "/hits") {
      req.resume();
      send(res, 200, { hits: hitCounts.get(params.get("key") ?? "") ?? 0 });
      return;
    }
    if (path === "/stats") {
      req.resume();
      send(res, 200, statsFor(params.get("key") ?? ""));
      return;
    }
    if (path === "/log") {
      req.resume();
      const entries = logs.get(params.get("key") ?? "") ?? [];
      send(
        res,
        200,
        entries.map((e) => ({
          t: e.t,
          method: e.method,
          url: e.url,
          headers: e.headers,
          bodyBase64: e.body.toString("base64"),
        })),
      );
      return;
    }
    if (path === "/reset-stats") {
      req.resume();
      resetStats();
      send(res, 200, { ok: true });
      return;
    }

    if (path === "/fault") {
      // GET: the current fault. POST/PUT: set it from the JSON body (`null` clears it).
      const raw = (await readBody(req)).toString("utf8").trim();
      if (req.method === "GET" || req.method === "HEAD") {
        send(res, 200, { fault });
        return;
      }
      try {
        fault = normalizeFault(raw === "" ? null : JSON.parse(raw));
      } catch (err) {
        send(res, 400, { error: String(err?.message ?? err) });
        return;
      }
      send(res, 200, { fault });
      return;
    }

    // Counted request.
    const key = params.get("key") ?? "";
    const t = Date.now();
    const n = (hitCounts.get(key) ?? 0) + 1; // this request is the n-th hit for key
    hitCounts.set(key, n);
    totalHits++;
    inFlight++;
    if (inFlight > maxInFlight) maxInFlight = inFlight;
    let counted = true;
    const release = () => {
      if (counted) {
        counted = false;
        inFlight--;
      }
    };
    // "close" fires once the response is finished or the connection went away (abort, reset, close()).
    res.on("close", release);

    const entry = { t, method: req.method, url: req.url, headers: { ...req.headers }, body: Buffer.alloc(0) };
    if (!logs.has(key)) logs.set(key, []);
    logs.get(key).push(entry);

    // The fault in force when the request arrived (hits and the log count it like any other).
    const faultNow = fault;

    entry.body = await readBody(req);
    if (res.destroyed) return;

    if (faultNow) {
      if (faultNow.delayMs) {
        const gone = await new Promise((resolve) => {
          const timer = later(() => resolve(false), faultNow.delayMs);
          res.on("close", () => {
            cancel(timer);
            resolve(true);
          });
        });
        if (gone || res.destroyed) return;
      }
      if (faultNow.reset) {
        req.socket.destroy();
        release();
        return;
      }
      if (faultNow.status !== undefined) {
        send(res, faultNow.status, { fault: true, status: faultNow.status });
        return;
      }
    }

    // `/.../echo` echoes under any base path (but `/status/CODE/...`), so routes with base paths
    // can be told apart.
    switch (path.endsWith("/echo") && !path.startsWith("/status/") ? "/echo" : path) {
      case "/ok":
        send(res, 200, { ok: true });
        return;

      case "/seq": {
        const codes = (params.get("codes") ?? "200")
          .split(",")
          .map((c) => Number(c.trim()))
          .filter((c) => Number.isInteger(c));
        const list = codes.length ? codes : [200];
        const status = list[Math.min(n, list.length) - 1];
        send(res, status, { seq: n, status }, withRetryAfter(params, status));
        return;
      }

      case "/reset": {
        const times = params.get("times");
        if (times === null || n <= Number(times)) {
          req.socket.destroy();
          release();
          return;
        }
        send(res, 200, { ok: true, hit: n });
        return;
      }

      case "/hang":
        // Never respond; released when the client goes away or close() destroys the socket.
        return;

      case "/slow": {
        const ms = intParam(params, "ms", 1000);
        const timer = later(() => send(res, 200, { ok: true, waitedMs: ms }), ms);
        res.on("close", () => cancel(timer));
        return;
      }

      case "/capacity": {
        // Serves at most n requests of this key at once, each taking ms; the rest wait in the
        // server's own FIFO, so latency grows with the backlog (a real overloaded origin).
        const n = Math.max(1, intParam(params, "n", 4));
        const ms = intParam(params, "ms", 50);
        const key = params.get("key") ?? "";
        let lane = lanes.get(key);
        if (!lane) lanes.set(key, (lane = { busy: 0, waiting: [], maxOpen: 0 }));
        const track = () => (lane.maxOpen = Math.max(lane.maxOpen, lane.busy + lane.waiting.length));
        let done = false;
        const finish = () => {
          if (done) return;
          done = true;
          lane.busy--;
          const next = lane.waiting.shift();
          if (next) next();
        };
        const serve = () => {
          if (res.destroyed) return finish_waiting();
          lane.busy++;
          const timer = later(() => {
            send(res, 200, { ok: true });
            finish();
          }, ms);
          res.on("close", () => {
            cancel(timer);
            finish();
          });
        };
        const finish_waiting = () => {
          const next = lane.waiting.shift();
          if (next && lane.busy < n) next();
        };
        if (lane.busy < n) {
          serve();
          track();
        } else {
          lane.waiting.push(serve);
          track();
          res.on("close", () => {
            const i = lane.waiting.indexOf(serve);
            if (i >= 0) lane.waiting.splice(i, 1);
          });
        }
        return;
      }

      case "/slow-body": {
        const chunks = intParam(params, "chunks", 5);
        const ms = intParam(params, "ms", 100);
        res.writeHead(200, { ...corsFor(req), "cache-control": "no-store", "content-type": "text/plain; charset=utf-8" });
        res.flushHeaders();
        let i = 0;
        let timer;
        const next = () => {
          if (res.destroyed) return;
          if (i >= chunks) {
            res.end();
            return;
          }
          res.write(`chunk-${i}\n`);
          i++;
          timer = later(next, ms);
        };
        res.on("close", () => cancel(timer));
        if (chunks <= 0) res.end();
        else timer = later(next, ms);
        return;
      }

      case "/echo": {
        // Credential headers exactly as received: Node keeps only the first of duplicate
        // authorization / proxy-authorization headers, so take them from the raw list.
        const headers = { ...req.headers };
        for (const name of ["authorization", "cookie", "proxy-authorization"]) {
          const values = [];
          for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
            if (req.rawHeaders[i].toLowerCase() === name) values.push(req.rawHeaders[i + 1]);
          }
          if (values.length) headers[name] = values.join(name === "cookie" ? "; " : ", ");
        }
        send(res, 200, {
          method: req.method,
          url: req.url,
          headers,
          body: entry.body.toString("utf8"),
        });
        return;
      }

      case "/tail": {
        // With probability p (deterministic per seed and key) wait ms before answering, else at once.
        const p = intParam(params, "p", 0.05);
        const ms = intParam(params, "ms", 500);
        const seed = params.get("seed") ?? "0";
        let rng = tailRngs.get(key);
        if (!rng) {
          rng = mulberry32(hashString(`tail\u0000${seed}\u0000${key}`));
          tailRngs.set(key, rng);
        }
        const slow = rng() < p;
        if (!slow) {
          send(res, 200, { tail: n, slow: false });
          return;
        }
        const timer = later(() => send(res, 200, { tail: n, slow: true, waitedMs: ms }), ms);
        res.on("close", () => cancel(timer));
        return;
      }

      case "/flaky": {
        const p = intParam(params, "p", 0.1);
        const seed = params.get("seed") ?? "0";
        let rng = flakyRngs.get(key);
        if (!rng) {
          rng = mulberry32(hashString(`${seed}\u0000${key}`));
          flakyRngs.set(key, rng);
        }
        const status = rng() < p ? 503 : 200;
        send(res, status, { flaky: n, status }, withRetryAfter(params, status));
        return;
      }

      default: {
        // `/status/CODE/anything`: a route whose base path is `/status/503` always fails.
        const m = /^\/status\/(\d{3})(?:\/.*)?$/.exec(path);
        if (m) {
          const status = Number(m[1]);
          send(res, status, { status }, withRetryAfter(params, status));
          return;
        }
        send(res, 404, { error: "not found", path });
      }
    }
  }

  function resetStats() {
    hitCounts.clear();
    logs.clear();
    flakyRngs.clear();
    tailRngs.clear();
    totalHits = 0;
    maxInFlight = inFlight;
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  // A client that resets mid-request must not crash the origin.
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = server.address().port;

  let closing;
  return {
    url: `http://${HOST}:${actualPort}`,
    port: actualPort,
    /** Counted requests carrying ?key=K (no argument: total across keys). */
    hits: (key) => (key === undefined ? totalHits : hitCounts.get(String(key)) ?? 0),
    /** Arrival timestamps (Date.now()) of the counted requests for key. */
    hitTimes: (key) => (logs.get(String(key)) ?? []).map((e) => e.t),
    /** Request log for key: [{ t, method, url, headers, body: Buffer }]. */
    requests: (key) => (logs.get(String(key)) ?? []).slice(),
    inFlight: () => inFlight,
    /** Most requests of a /capacity key open at once (served + waiting in the server's FIFO),
     *  counted synchronously when a response is sent, so no client/server race. */
    maxOpen: (key) => lanes.get(key)?.maxOpen ?? 0,
    maxInFlight: () => maxInFlight,
    resetStats,
    /** Whole-origin fault for every counted request: null | { status } | { reset: true } |
     *  { delayMs } (delayMs may be combined with status or reset). Not cleared by resetStats. */
    setFault(f) {
      fault = normalizeFault(f);
    },
    fault: () => fault,
    close() {
      closing ??= new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        sockets.clear();
        server.closeAllConnections?.();
      });
      return closing;
    },
  };
}

// ---- CLI ----------------------------------------------------------------------------------------

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;

if (isMain) {
  const args = process.argv.slice(2);
  let port = 0;
  let watchStdin = true;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--port") port = Number(args[++i]);
    else if (args[i].startsWith("--port=")) port = Number(args[i].slice("--port=".length));
    else if (args[i] === "--no-stdin") watchStdin = false;
    else {
      process.stderr.write(`unknown argument: ${args[i]}\nusage: node server.mjs [--port N] [--no-stdin]\n`);
      process.exit(2);
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`invalid --port\n`);
    process.exit(2);
  }
  const origin = await startOrigin({ port });
  process.stdout.write(JSON.stringify({ url: origin.url }) + "\n");
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await origin.close();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  if (watchStdin) {
    process.stdin.on("end", stop);
    process.stdin.on("close", stop);
    process.stdin.on("error", stop);
    process.stdin.resume();
  }
}

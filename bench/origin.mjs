// Lean loopback origin for the benchmarks (node:http only). Runs in its own process so the client
// being measured does not share an event loop with the server.
//
//   node bench/origin.mjs [--port N]
//   -> stdout: {"url":"http://127.0.0.1:PORT"} (one line); serves until stdin closes or SIGTERM.
//
// Endpoints (every counted endpoint takes ?key=K; hits are counted per key):
//   /json                               200, a small JSON body (the overhead benchmark; counted only
//                                        when it has a query, e.g. /json?key=mirror)
//   /outage?key=K                        503 always (full outage)
//   /flaky?key=K&p=0.1&seed=S           503 with probability p, else 200 JSON. The n-th hit on key K
//                                        draws the n-th number of a mulberry32(seed) stream, so every
//                                        client sees the same sequence of outcomes.
//   /tail?key=K&p=0.05&ms=500&seed=S    like /flaky, but the unlucky hit waits `ms` and then 200s
//   /limited?key=K&n=8&ms=20            at most n requests of key K in service at once, each takes
//                                        `ms`; the rest wait in a FIFO backlog (an overloaded server:
//                                        latency grows with the backlog)
//   /stats?key=K                         {"hits":n,"maxInFlight":n} (not counted; maxInFlight is the
//                                        most /limited requests of K open at once, backlog included)
//   /reset                               clears every counter (not counted)

import http from "node:http";
import { mulberry32 } from "../tests/origin/server.mjs";

const BODY = JSON.stringify({ id: 42, name: "ballast", ok: true, tags: ["a", "b"], n: 3.5 });
const JSON_HEADERS = { "content-type": "application/json", "content-length": Buffer.byteLength(BODY) };
const UNAVAILABLE = JSON.stringify({ error: "unavailable" });
const UNAVAILABLE_HEADERS = {
  "content-type": "application/json",
  "content-length": Buffer.byteLength(UNAVAILABLE),
};

const keys = new Map(); // key -> { hits, maxInFlight, rng, and /limited state }
function stat(key) {
  let s = keys.get(key);
  if (!s) {
    s = { hits: 0, maxInFlight: 0, rng: null };
    keys.set(key, s);
  }
  return s;
}

const ok = (res) => res.writeHead(200, JSON_HEADERS).end(BODY);
const unavailable = (res) => res.writeHead(503, UNAVAILABLE_HEADERS).end(UNAVAILABLE);

function handle(req, res) {
  if (req.url === "/json") return ok(res); // the overhead benchmark's hot path: nothing counted
  const q = req.url.indexOf("?");
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : req.url.slice(q + 1));
  const key = params.get("key") ?? "";
  const num = (name, dflt) => {
    const v = Number(params.get(name));
    return params.has(name) && Number.isFinite(v) ? v : dflt;
  };
  if (path === "/stats") {
    const s = stat(key);
    const body = JSON.stringify({ hits: s.hits, maxInFlight: s.maxInFlight });
    return res.writeHead(200, { "content-type": "application/json" }).end(body);
  }
  if (path === "/reset") {
    keys.clear();
    return res.writeHead(200).end("{}");
  }
  const s = stat(key);
  s.hits++;
  switch (path) {
    case "/json":
      return ok(res);
    case "/outage":
      return unavailable(res);
    case "/flaky": {
      s.rng ??= mulberry32(num("seed", 1));
      return s.rng() < num("p", 0.1) ? unavailable(res) : ok(res);
    }
    case "/tail": {
      s.rng ??= mulberry32(num("seed", 1));
      if (s.rng() < num("p", 0.05)) {
        const t = setTimeout(() => ok(res), num("ms", 500));
        res.on("close", () => clearTimeout(t));
        return undefined;
      }
      return ok(res);
    }
    case "/limited": {
      // n workers, FIFO backlog (like a server's accept queue); a client that gave up leaves it.
      s.queue ??= [];
      s.busy ??= 0;
      const n = num("n", 8);
      const serviceMs = num("ms", 20);
      s.open = (s.open ?? 0) + 1;
      s.maxInFlight = Math.max(s.maxInFlight, s.open);
      let state = "waiting"; // -> serving -> done
      const next = () => {
        while (s.busy < n && s.queue.length) s.queue.shift()();
      };
      const serve = () => {
        if (state !== "waiting") return;
        state = "serving";
        s.busy++;
        const t = setTimeout(() => finish(true), serviceMs);
        res.on("close", () => clearTimeout(t));
      };
      const finish = (send) => {
        if (state === "done") return;
        if (state === "serving") s.busy--;
        state = "done";
        s.open--;
        if (send) ok(res);
        next();
      };
      res.on("close", () => finish(false));
      s.queue.push(serve);
      next();
      return undefined;
    }
    default:
      return res.writeHead(404).end();
  }
}

const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const server = http.createServer({ keepAliveTimeout: 60_000 }, handle);
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}` })}\n`);
});
const stop = () => {
  server.closeAllConnections?.();
  server.close();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();

// Workers' rule, held by the Workers executor (pkg/workers-executor.js) in every schedule: a timer
// and an I/O object (a fetch, its AbortController) belong to the request whose code made them; a
// timer fires only in that request and never once it is over, and nothing aborts another
// request's fetch. Miniflare (tests/js/workers-timers.test.mjs) shows the executor in real workerd,
// where instants race; here the same executor runs on a virtual clock, with the request a piece
// of code runs for tracked by AsyncLocalStorage (which, like workerd, hands it on to the timers
// and promise reactions that code sets up), so a schedule where two timers come due at one
// instant is played exactly and any breach of the rule is recorded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { AsyncLocalStorage } from "node:async_hooks";
import { bind } from "../../pkg/api.js";
import * as server from "../../pkg/server.js";
import { WorkersExecutor } from "../../pkg/workers-executor.js";
import { VirtualClock } from "./helpers.mjs";

const module = new WebAssembly.Module(readFileSync(new URL("../../pkg/gen/ballast_fast_bg.wasm", import.meta.url)));

/** A virtual clock whose timers belong to the request that set them (`requests.current()`). */
class RequestClock extends VirtualClock {
  constructor(requests) {
    super();
    this.requests = requests;
  }
  timer(at, fn) {
    return { ...super.timer(at, fn), owner: this.requests.current() };
  }
  /** The test's own timer: `fn` starts requests (it runs outside any). */
  schedule(ms, fn) {
    this.timers.push({ ...super.timer(this.t + ms, fn), test: true });
  }
  /** Each timer in its request, none of a request that is over. */
  fire(next) {
    if (next.test) next.fn();
    else if (next.owner === undefined) this.requests.breach(`a timer set outside any request fired at ${this.t}`);
    else if (!this.requests.alive.has(next.owner)) this.requests.breach(`${next.owner}'s timer was due at ${this.t}, after ${next.owner} was over`);
    else this.requests.als.run(next.owner, next.fn);
  }
}

/** The requests of a Worker: which one code runs for, which are still going, what broke the rule. */
class Requests {
  als = new AsyncLocalStorage();
  alive = new Set();
  breaches = [];
  current = () => this.als.getStore();
  breach(what) {
    this.breaches.push(what);
  }
  /** Runs `work` as request `name`, which is over once `work` has settled. */
  serve(name, work) {
    this.alive.add(name);
    return this.als.run(name, async () => {
      try {
        return await work();
      } finally {
        this.alive.delete(name);
      }
    });
  }
}

/**
 * A transport on the virtual clock: `/ok` answers 200 after 10 ms, `/down` 503, `/hang` never. It records a
 * fetch made outside its call's request and an abort that comes from another request.
 */
function transport(clock, requests, attempts) {
  return (input, init) => {
    const owner = requests.current();
    const url = String(input);
    attempts.push({ url, owner });
    return new Promise((resolve, reject) => {
      init?.signal?.addEventListener("abort", () => {
        const by = requests.current();
        if (by !== owner) requests.breach(`${by ?? "no request"} aborted ${owner}'s fetch of ${url}`);
        reject(init.signal.reason);
      });
      if (url.endsWith("/ok")) clock.set(() => resolve(new Response("ok")), 10);
      if (url.endsWith("/down")) clock.set(() => resolve(new Response("down", { status: 503 })), 10);
    });
  };
}

test("a lease's timeout and another request's attempt timeout, due at one instant: each request wakes only its own call", async () => {
  const requests = new Requests();
  const clock = new RequestClock(requests);
  const attempts = [];
  const leases = [];
  const createFetch = bind(() => module, { clock, server, executor: WorkersExecutor });
  const api = createFetch({
    transport: transport(clock, requests, attempts),
    // A coordinator that never answers: the engine gives its lease up after its own timeout.
    coordinator: { lease: (r) => (leases.push({ at: clock.t, by: requests.current(), ...r }), new Promise(() => {})) },
    retry: { maxAttempts: 1 },
    timeout: { attemptMs: 200, totalMs: 5000 },
  });
  const coordinator = [];
  api.on("coordinator", (e) => coordinator.push({ ...e, at: clock.t, in: requests.current() }));

  // At 1000, request a's call asks for the first lease, with the engine's next wake-up at its
  // attempt's timeout (1200); it answers at 1010, and request a goes on until 1500. Request b,
  // also at 1000: its attempt hangs and times out at 1200, the same instant. The lease is given
  // up at 1250, when no call is in progress; request c's call, at 1300, is the next to see it.
  const a = requests.serve("a", async () => {
    const res = await api("http://origin.test/ok");
    await new Promise((r) => clock.set(r, 490));
    return res.status;
  });
  const later = (ms, name, url) =>
    new Promise((r) => clock.schedule(ms, () => r(requests.serve(name, () => api(url).then((res) => res.status, (err) => err.code)))));
  const b = later(0, "b", "http://origin.test/hang");
  const c = later(300, "c", "http://origin.test/ok");
  await clock.run();

  assert.deepEqual(requests.breaches, []);
  assert.deepEqual([await a, await b, await c], [200, "ATTEMPT_TIMEOUT", 200]);
  assert.deepEqual(leases.map((l) => [l.at, l.by]), [[1000, "a"]], "one lease request, from request a");
  assert.deepEqual(coordinator, [{ state: "degraded", reason: "timeout", at: 1300, in: "c" }]);
  assert.deepEqual(attempts.map((x) => [new URL(x.url).pathname, x.owner]), [["/ok", "a"], ["/hang", "b"], ["/ok", "c"]]);
});

test("a lease asked in one call's request is timed by the other calls in progress, each in its own request", async () => {
  const requests = new Requests();
  const clock = new RequestClock(requests);
  const leases = [];
  const createFetch = bind(() => module, { clock, server, executor: WorkersExecutor });
  const api = createFetch({
    transport: transport(clock, requests, []),
    // The first lease is granted at once; the coordinator never answers the next.
    coordinator: {
      lease: (r) => {
        leases.push([clock.t, requests.current()]);
        return leases.length === 1 ? { granted: r.want, ttlMs: 60_000 } : new Promise(() => {});
      },
    },
    retry: { maxAttempts: 4, backoff: { baseMs: 100, capMs: 100 } },
    timeout: { attemptMs: 5000, totalMs: 20000 },
  });
  const coordinator = [];
  api.on("coordinator", (e) => coordinator.push({ ...e, at: clock.t, in: requests.current() }));
  // Request x's call, from 1000, is answered 503 four times, 100 ms apart; its retries spend the
  // first grant down to a quarter, so one of its own steps asks for more. Request y's call, from
  // 1050, hangs until its attempt times out at 6050.
  const x = requests.serve("x", () => api("http://origin.test/down").then((res) => res.status));
  const y = new Promise((r) =>
    clock.schedule(50, () => r(requests.serve("y", () => api("http://origin.test/hang").catch((err) => err.code)))),
  );
  await clock.run();

  assert.deepEqual(requests.breaches, []);
  assert.deepEqual([await x, await y], [503, "ATTEMPT_TIMEOUT"]);
  const [first, second] = leases;
  assert.deepEqual([first, second[1]], [[1000, "x"], "x"]);
  // x is over by the time that lease is late; y, in progress, notices it on time.
  assert.deepEqual(coordinator[0], { state: "degraded", reason: "timeout", at: second[0] + 250, in: "y" });
});

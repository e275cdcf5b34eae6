// Nothing stays in the wasm heap per call: once a client is warm, 20,000 more calls of every kind
// (successes, retries, Retry-After, network errors, give-ups, queueing, two routes that both see
// failures, hedges, every event subscribed, snapshots) grow the module's memory by at most two
// 64 KiB pages. Its state is bounded but not all there at once: windows of time slots fill as the
// slots pass (measured: +1 page in the first 10 s, +1 more by 50 s, then flat through 150 s and
// 225,000 calls, with talc as with dlmalloc before it). Leaking one 8-byte allocation per call
// (16 bytes with the allocator's header) grows it by 5 pages here and fails the test; an allocator
// (talc, src/wasm/panic.rs) that fragmented under this mix would show as growth the same way.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startOrigin } from "../origin/server.mjs";
import { FAST, instrumented } from "./helpers.mjs";

let A;
let B;
before(async () => {
  A = await startOrigin();
  B = await startOrigin();
});
after(async () => {
  await A.close();
  await B.close();
});

const PATHS = [
  () => `/ok?key=heap-ok`,
  (i) => `/flaky?key=heap-flaky&p=0.3&seed=${i % 7}`,
  (i) => `/reset?key=heap-reset-${i}&times=1`,
  () => `/reset?key=heap-down`,
  () => `/slow?ms=6&key=heap-slow`,
  (i) => `/seq?key=heap-ra-${i}&codes=429,200&ra=0`,
  () => `/status/404?key=heap-404`,
];

test("20,000 more calls of every kind grow the wasm memory by at most two pages once warm", async () => {
  const { createFetch, instances } = await instrumented();
  const f = createFetch({
    retry: { maxAttempts: 3, backoff: FAST },
    budget: { ratio: 0.5, minPerSec: 50 },
    timeout: { attemptMs: 2000, totalMs: 5000 },
    concurrency: { limit: 12, queue: 8, queueTimeoutMs: 200 },
    routes: [
      { name: "a", url: A.url },
      { name: "b", url: B.url },
    ],
    hedge: { afterMs: 4, maxExtraLoad: 0.2 },
  });
  const counts = new Map();
  const kinds = ["retry", "giveup", "shed", "pressure", "attempt", "eject", "restore", "fallback", "fallback-default", "hedge"];
  const offs = kinds.map((k) => f.on(k, () => counts.set(k, (counts.get(k) ?? 0) + 1)));
  assert.equal(instances.length, 1);
  const memory = instances[0].exports.memory; // the instance createFetch made
  const outcomes = new Map();

  async function calls(n) {
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        try {
          const res = await f(PATHS[i % PATHS.length](i));
          await res.text();
          outcomes.set(res.status, (outcomes.get(res.status) ?? 0) + 1);
        } catch (err) {
          const k = err.code ?? err.name;
          outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
        }
        if (i % 50 === 0) f.snapshot();
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    // Sixteen workers keep the limit's queue occupied, and hedges never queue: so hedges get a
    // phase of their own, four slow calls at a time, each outliving the hedge delay.
    let left = Math.ceil(n / 100);
    const hedged = async () => {
      while (left-- > 0) await (await f(`/slow?ms=25&key=heap-hedge`)).text();
    };
    await Promise.all(Array.from({ length: 4 }, hedged));
  }

  await calls(2500);
  const warm = memory.buffer.byteLength;
  await calls(20_000);
  const grown = memory.buffer.byteLength - warm;
  for (const off of offs) off();

  // The mix did exercise what it claims to.
  const s = f.snapshot();
  for (const k of ["retry", "giveup", "attempt", "hedge"]) assert.ok(counts.get(k) > 0, `${k} events: ${counts.get(k)}`);
  assert.ok(outcomes.get(200) > 0 && outcomes.get(404) > 0, JSON.stringify([...outcomes]));
  assert.ok(outcomes.get("NETWORK") > 0, `network give-ups: ${JSON.stringify([...outcomes])}`);
  assert.ok(s.hedges.sent > 0 && s.tasks >= 22_500, JSON.stringify({ tasks: s.tasks, hedges: s.hedges }));
  assert.ok(grown <= 2 * 65536, `the wasm memory grew by ${grown} bytes after warm-up (${warm} bytes)`);
});

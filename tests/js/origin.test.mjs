// Self-check of the fault-injecting origin (tests/origin/server.mjs) using plain global fetch.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, sleep, waitFor, rejection } from "./helpers.mjs";

let origin;
before(async () => {
  origin = await startOrigin();
});
after(async () => {
  await origin.close();
});

const u = (p) => `${origin.url}${p}`;

test("startOrigin resolves the documented shape", () => {
  assert.match(origin.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(typeof origin.port, "number");
  assert.ok(origin.port > 0);
  for (const fn of ["hits", "inFlight", "maxInFlight", "resetStats", "close"]) {
    assert.equal(typeof origin[fn], "function", fn);
  }
});

test("/ok returns 200 JSON with CORS headers and counts hits per key", async () => {
  const key = uniqueKey();
  const res = await fetch(u(`/ok?key=${key}`));
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true });
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.equal(res.headers.get("access-control-expose-headers"), "*");
  assert.equal(origin.hits(key), 1);
  await (await fetch(u(`/ok?key=${key}`))).text();
  assert.equal(origin.hits(key), 2);
  assert.equal(origin.hits(uniqueKey()), 0);
});

test("/hits over HTTP reports the count and is not itself counted", async () => {
  const key = uniqueKey();
  await (await fetch(u(`/ok?key=${key}`))).text();
  const a = await (await fetch(u(`/hits?key=${key}`))).json();
  const b = await (await fetch(u(`/hits?key=${key}`))).json();
  assert.deepEqual(a, { hits: 1 });
  assert.deepEqual(b, { hits: 1 });
  assert.equal(origin.hits(key), 1);
});

test("CORS preflight is answered 204 and not counted; a plain OPTIONS is counted", async () => {
  const key = uniqueKey();
  const pre = await fetch(u(`/seq?key=${key}&codes=503`), {
    method: "OPTIONS",
    headers: { "access-control-request-method": "PUT", "access-control-request-headers": "idempotency-key" },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  assert.equal(pre.headers.get("access-control-allow-headers"), "idempotency-key", "the requested headers, listed");
  assert.equal(pre.headers.get("access-control-allow-methods"), "*");
  assert.equal(origin.hits(key), 0);
  const plain = await fetch(u(`/seq?key=${key}&codes=503`), { method: "OPTIONS" });
  await plain.text();
  assert.equal(plain.status, 503);
  assert.equal(origin.hits(key), 1);
});

test("/status/CODE returns the code and Retry-After verbatim", async () => {
  const r1 = await fetch(u(`/status/503?ra=7`));
  await r1.text();
  assert.equal(r1.status, 503);
  assert.equal(r1.headers.get("retry-after"), "7");
  const date = new Date(Date.now() + 5000).toUTCString();
  const r2 = await fetch(u(`/status/429?ra=${encodeURIComponent(date)}`));
  await r2.text();
  assert.equal(r2.status, 429);
  assert.equal(r2.headers.get("retry-after"), date);
  const r3 = await fetch(u(`/status/204`));
  assert.equal(r3.status, 204);
  assert.equal(r3.headers.get("retry-after"), null);
});

test("/seq serves the codes in order per key, last one repeating, ra on non-2xx only", async () => {
  const key = uniqueKey();
  const statuses = [];
  const ras = [];
  for (let i = 0; i < 5; i++) {
    const r = await fetch(u(`/seq?key=${key}&codes=503,429,200,500&ra=0`), { method: i % 2 ? "PUT" : "GET" });
    await r.text();
    statuses.push(r.status);
    ras.push(r.headers.get("retry-after"));
  }
  assert.deepEqual(statuses, [503, 429, 200, 500, 500]);
  assert.deepEqual(ras, ["0", "0", null, "0", "0"]);
  assert.equal(origin.hits(key), 5);
  // keys are independent
  const other = await fetch(u(`/seq?key=${uniqueKey()}&codes=503,429,200,500`));
  await other.text();
  assert.equal(other.status, 503);
});

test("/reset?times=N resets N times then 200; without times always resets", async () => {
  const key = uniqueKey();
  for (let i = 0; i < 2; i++) {
    const err = await rejection(fetch(u(`/reset?key=${key}&times=2`)));
    assert.equal(err.name, "TypeError");
  }
  const ok = await fetch(u(`/reset?key=${key}&times=2`));
  await ok.text();
  assert.equal(ok.status, 200);
  assert.equal(origin.hits(key), 3);

  const key2 = uniqueKey();
  for (let i = 0; i < 3; i++) await rejection(fetch(u(`/reset?key=${key2}`)));
  assert.equal(origin.hits(key2), 3);
  await waitFor(() => origin.inFlight() === 0);
  assert.equal(origin.inFlight(), 0);
});

test("/hang never responds, is in flight, and is released on client abort", async () => {
  const key = uniqueKey();
  const ac = new AbortController();
  const p = fetch(u(`/hang?key=${key}`), { signal: ac.signal });
  await waitFor(() => origin.hits(key) === 1);
  const raced = await Promise.race([p.then(() => "settled", () => "settled"), sleep(150).then(() => "pending")]);
  assert.equal(raced, "pending");
  assert.ok(origin.inFlight() >= 1);
  ac.abort();
  const err = await rejection(p);
  assert.equal(err.name, "AbortError");
  assert.equal(await waitFor(() => origin.inFlight() === 0), true);
});

test("/slow?ms=M delays the headers", async () => {
  const t0 = Date.now();
  const r = await fetch(u(`/slow?ms=150`));
  const dt = Date.now() - t0;
  await r.text();
  assert.equal(r.status, 200);
  assert.ok(dt >= 140, `headers after ${dt} ms`);
});

test("/slow-body sends headers at once then N chunks M ms apart", async () => {
  const t0 = Date.now();
  const r = await fetch(u(`/slow-body?chunks=4&ms=40`));
  const tHeaders = Date.now() - t0;
  assert.equal(r.status, 200);
  const text = await r.text();
  const tBody = Date.now() - t0;
  assert.equal(text, "chunk-0\nchunk-1\nchunk-2\nchunk-3\n");
  assert.ok(tHeaders < tBody, `headers ${tHeaders} ms, body ${tBody} ms`);
  assert.ok(tBody >= 150, `body complete after ${tBody} ms`);
});

test("/echo returns method, url, headers and body text", async () => {
  const r = await fetch(u(`/echo?x=1`), {
    method: "PATCH",
    headers: { "x-test": "yes", "content-type": "text/plain" },
    body: "hello body",
  });
  const j = await r.json();
  assert.equal(j.method, "PATCH");
  assert.equal(j.url, "/echo?x=1");
  assert.equal(j.headers["x-test"], "yes");
  assert.equal(j.body, "hello body");
});

test("request log keeps bodies and arrival times per key", async () => {
  const key = uniqueKey();
  await (await fetch(u(`/seq?key=${key}&codes=503,200`), { method: "PUT", body: "one" })).text();
  await (await fetch(u(`/seq?key=${key}&codes=503,200`), { method: "PUT", body: new Uint8Array([0, 255, 7]) })).text();
  const reqs = origin.requests(key);
  assert.equal(reqs.length, 2);
  assert.equal(reqs[0].body.toString(), "one");
  assert.deepEqual([...reqs[1].body], [0, 255, 7]);
  const times = origin.hitTimes(key);
  assert.equal(times.length, 2);
  assert.ok(times[1] >= times[0]);
  const log = await (await fetch(u(`/log?key=${key}`))).json();
  assert.equal(log.length, 2);
  assert.equal(Buffer.from(log[1].bodyBase64, "base64").toString("hex"), "00ff07");
  assert.equal(origin.hits(key), 2);
});

test("/flaky is deterministic per seed and key, and p is respected", async () => {
  const run = async (key, seed) => {
    const out = [];
    for (let i = 0; i < 60; i++) {
      const r = await fetch(u(`/flaky?key=${key}&p=0.3&seed=${seed}`));
      await r.text();
      out.push(r.status);
    }
    return out;
  };
  const a = await run(uniqueKey("flakyA"), 42);
  // same key name and seed after resetStats gives the same sequence
  const keyB = uniqueKey("flakyB");
  const b1 = await run(keyB, 42);
  const b2 = await run(`${keyB}-other`, 42);
  origin.resetStats();
  const b1again = await run(keyB, 42);
  assert.deepEqual(b1again, b1);
  for (const seq of [a, b1, b2]) {
    assert.ok(seq.every((s) => s === 200 || s === 503));
    const fails = seq.filter((s) => s === 503).length;
    assert.ok(fails > 3 && fails < 40, `fails ${fails}/60 with p=0.3`);
  }
  const never = await (await fetch(u(`/flaky?key=${uniqueKey()}&p=0&seed=1`))).status;
  const always = await (await fetch(u(`/flaky?key=${uniqueKey()}&p=1&seed=1`))).status;
  assert.equal(never, 200);
  assert.equal(always, 503);
});

test("inFlight / maxInFlight track concurrent requests; resetStats clears", async () => {
  origin.resetStats();
  await waitFor(() => origin.inFlight() === 0);
  const ps = [];
  for (let i = 0; i < 8; i++) ps.push(fetch(u(`/slow?ms=100&key=${uniqueKey()}`)).then((r) => r.text()));
  await waitFor(() => origin.inFlight() === 8);
  assert.equal(origin.inFlight(), 8);
  await Promise.all(ps);
  await waitFor(() => origin.inFlight() === 0);
  assert.equal(origin.inFlight(), 0);
  assert.ok(origin.maxInFlight() >= 8);
  origin.resetStats();
  assert.equal(origin.maxInFlight(), 0);
  assert.equal(origin.hits(), 0);
});

test("close() destroys hanging requests so nothing hangs", async () => {
  const o2 = await startOrigin();
  const p = fetch(`${o2.url}/hang?key=x`);
  await waitFor(() => o2.hits("x") === 1);
  const t0 = Date.now();
  await o2.close();
  const err = await rejection(p);
  assert.equal(err.name, "TypeError");
  assert.ok(Date.now() - t0 < 1000);
});

test("CLI prints one JSON line with the url and exits when stdin closes / on SIGTERM", async () => {
  const serverPath = fileURLToPath(new URL("../origin/server.mjs", import.meta.url));
  const startCli = async (args = []) => {
    const child = spawn(process.execPath, [serverPath, ...args], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => (out += d));
    const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    await waitFor(() => out.includes("\n"), { timeoutMs: 5000 });
    return { child, exited, out: () => out };
  };

  const a = await startCli();
  const line = a.out();
  assert.equal(line.split("\n").length, 2, `stdout: ${JSON.stringify(line)}`);
  const { url } = JSON.parse(line);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const r = await fetch(`${url}/ok`);
  assert.deepEqual(await r.json(), { ok: true });
  a.child.stdin.end();
  const ea = await a.exited;
  assert.equal(ea.code, 0);

  const b = await startCli(["--no-stdin"]);
  const { url: urlB } = JSON.parse(b.out());
  assert.equal((await fetch(`${urlB}/ok`)).status, 200);
  b.child.kill("SIGTERM");
  const eb = await b.exited;
  assert.equal(eb.code, 0);
  assert.equal(b.out().split("\n").filter(Boolean).length, 1);
});

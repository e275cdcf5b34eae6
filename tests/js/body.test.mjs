// Request bodies (stream vs replayable) and input forms (string, URL, Request).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { uniqueKey, collect, FAST } from "./helpers.mjs";

let origin;
const u = (p) => `${origin.url}${p}`;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

const stripBoundary = (ct) => (ct ?? "").replace(/boundary=.*$/, "boundary=X");

test("a ReadableStream body is sent once against a 503: giveup reason stream-body", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const giveups = collect(f, "giveup");
  const retries = collect(f, "retry");
  const key = uniqueKey("stream");
  const enc = new TextEncoder();
  const body = new ReadableStream({
    start(c) {
      c.enqueue(enc.encode("streamed "));
      c.enqueue(enc.encode("body"));
      c.close();
    },
  });
  const res = await f(u(`/seq?key=${key}&codes=503,200`), { method: "PUT", body, duplex: "half" });
  assert.equal(res.status, 503);
  await res.text();
  assert.equal(origin.hits(key), 1);
  assert.equal(origin.requests(key)[0].body.toString(), "streamed body");
  assert.equal(retries.length, 0);
  assert.equal(giveups.length, 1);
  assert.equal(giveups[0].reason, "stream-body");
  assert.equal(f.snapshot().giveups["stream-body"], 1);
});

const bodyKinds = [
  ["string", () => "hello, wörld ✓"],
  ["Uint8Array", () => new Uint8Array([0, 1, 2, 127, 128, 255])],
  ["ArrayBuffer", () => new Uint8Array([9, 8, 7, 0, 255]).buffer],
  ["DataView", () => new DataView(new Uint8Array([5, 6, 7]).buffer)],
  ["URLSearchParams", () => new URLSearchParams({ a: "1", b: "two words", c: "ü" })],
  ["Blob", () => new Blob(["blob-", new Uint8Array([0, 200]), "-data"], { type: "application/x-test-blob" })],
  [
    "FormData",
    () => {
      const fd = new FormData();
      fd.append("field", "value ✓");
      fd.append("file", new Blob(["file contents"], { type: "text/plain" }), "a.txt");
      return fd;
    },
  ],
];

for (const [name, make] of bodyKinds) {
  test(`a ${name} body is replayed identically on retry`, async () => {
    // reference: what plain fetch sends for this body
    const refKey = uniqueKey(`ref-${name}`);
    await (await fetch(u(`/echo?key=${refKey}`), { method: "PUT", body: make() })).text();
    const ref = origin.requests(refKey)[0];

    const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
    const key = uniqueKey(`replay-${name}`);
    const res = await f(u(`/seq?key=${key}&codes=503,200`), { method: "PUT", body: make() });
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(origin.hits(key), 2);
    const [first, second] = origin.requests(key);
    assert.ok(first.body.length > 0, "body sent on the first attempt");
    assert.equal(second.headers["content-length"], first.headers["content-length"]);
    assert.equal(stripBoundary(first.headers["content-type"]), stripBoundary(ref.headers["content-type"]));
    if (name === "FormData") {
      // fetch picks a fresh multipart boundary each time it serialises a FormData: ballast encodes
      // it once, so every attempt sends the same bytes with the same boundary (an Idempotency-Key
      // server comparing bodies sees one request); the body is what fetch sends, up to the boundary.
      assert.ok(first.body.equals(second.body), "FormData: the retry sends the first attempt's bytes");
      assert.equal(second.headers["content-type"], first.headers["content-type"]);
      const normalise = (r) => {
        const boundary = /boundary=(.*)$/.exec(r.headers["content-type"])?.[1];
        const text = r.body.toString("latin1");
        assert.ok(boundary && text.includes(`--${boundary}\r\n`), "body uses the header's boundary");
        return text.replaceAll(boundary, "BOUNDARY");
      };
      assert.equal(normalise(second), normalise(first), "FormData: retry body differs from the first attempt's");
      assert.equal(normalise(first), normalise(ref), "FormData: body differs from what fetch sends");
      assert.ok(first.body.toString().includes("value ✓"));
      assert.ok(first.body.toString().includes("file contents"));
    } else {
      assert.ok(first.body.equals(second.body), `${name}: retry body differs from the first attempt's`);
      assert.equal(second.headers["content-type"], first.headers["content-type"]);
      assert.ok(first.body.equals(ref.body), `${name}: body differs from what fetch sends`);
    }
  });
}

test("a FormData POST with an Idempotency-Key sends the same bytes on every attempt", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const key = uniqueKey("form-post");
  const fd = new FormData();
  fd.append("order", "42");
  fd.append("file", new Blob(["receipt"], { type: "text/plain" }), "r.txt");
  const res = await f(u(`/seq?key=${key}&codes=503,503,200`), { method: "POST", body: fd, headers: { "idempotency-key": "k-42" } });
  assert.equal(res.status, 200);
  await res.text();
  const reqs = origin.requests(key);
  assert.equal(reqs.length, 3);
  for (const r of reqs.slice(1)) {
    assert.ok(r.body.equals(reqs[0].body), "same bytes");
    assert.equal(r.headers["content-type"], reqs[0].headers["content-type"]);
  }
  assert.match(reqs[0].headers["content-type"], /^multipart\/form-data; boundary=/);
});

test("a stream body is cancelled when the transport fails before reading it", async () => {
  let cancelled = null;
  const body = new ReadableStream({
    pull(c) {
      c.enqueue(new TextEncoder().encode("never read"));
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  const boom = new TypeError("connect refused before the body");
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST }, transport: () => Promise.reject(boom) });
  await assert.rejects(f("http://127.0.0.1:9/upload", { method: "PUT", body, duplex: "half" }), (e) => e.name === "BallastError");
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(cancelled, boom, "the stream's source was told, with the transport's error");
  // A transport that read the body (the stream is locked): left alone.
  let cancelled2 = false;
  const read = new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1])); c.close(); }, cancel() { cancelled2 = true; } });
  const g = createFetch({ transport: async (_u, init) => { init.body.getReader(); throw new TypeError("reset mid-body"); } });
  await assert.rejects(g("http://127.0.0.1:9/upload", { method: "PUT", body: read, duplex: "half" }));
  assert.equal(cancelled2, false);
});

test("input forms: string, URL and Request all work", async () => {
  // Query strings kept in events (redacted by default), so the URLs can be compared whole.
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST }, redact: { query: false } });
  const retries = collect(f, "retry");

  const k1 = uniqueKey("instr");
  const r1 = await f(u(`/seq?key=${k1}&codes=503,200`));
  assert.equal(r1.status, 200);
  await r1.text();
  assert.equal(origin.hits(k1), 2);

  const k2 = uniqueKey("inurl");
  const url2 = new URL(u(`/seq?key=${k2}&codes=503,200`));
  const r2 = await f(url2);
  assert.equal(r2.status, 200);
  await r2.text();
  assert.equal(origin.hits(k2), 2);

  const k3 = uniqueKey("inreq");
  const url3 = u(`/seq?key=${k3}&codes=503,200`);
  const r3 = await f(new Request(url3, { headers: { "x-from-request": "yes" } }));
  assert.equal(r3.status, 200);
  await r3.text();
  assert.equal(origin.hits(k3), 2);
  for (const r of origin.requests(k3)) assert.equal(r.headers["x-from-request"], "yes");

  assert.deepEqual(
    retries.map((e) => e.url),
    [u(`/seq?key=${k1}&codes=503,200`), url2.href, url3],
  );
});

test("a Request with a body (PUT, 503 then 200) is replayed with the same body and headers", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const key = uniqueKey("reqbody");
  const req = new Request(u(`/seq?key=${key}&codes=503,200`), {
    method: "PUT",
    headers: { "content-type": "application/json", "x-trace": "t1" },
    body: JSON.stringify({ hello: "world" }),
  });
  const res = await f(req);
  assert.equal(res.status, 200);
  await res.text();
  assert.equal(origin.hits(key), 2);
  const reqs = origin.requests(key);
  for (const r of reqs) {
    assert.equal(r.method, "PUT");
    assert.equal(r.headers["content-type"], "application/json");
    assert.equal(r.headers["x-trace"], "t1");
    assert.equal(r.body.toString(), '{"hello":"world"}');
  }
});

test("a POST Request is not retried by default", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: FAST } });
  const giveups = collect(f, "giveup");
  const key = uniqueKey("reqpost");
  const res = await f(new Request(u(`/seq?key=${key}&codes=503,200`), { method: "POST", body: "x" }));
  assert.equal(res.status, 503);
  await res.text();
  assert.equal(origin.hits(key), 1);
  assert.equal(giveups[0]?.reason, "method-not-retryable");
});

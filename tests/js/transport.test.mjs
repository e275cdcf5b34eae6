// The `transport` option.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createFetch, BallastError } from "../../pkg/node.js";
import { FAST, collect, rejection } from "./helpers.mjs";

const urlOf = (input) => (typeof input === "string" ? input : input instanceof URL ? input.href : input.url);

test("a custom transport is used instead of global fetch", async () => {
  const calls = [];
  const transport = async (input, init) => {
    calls.push({ input, init });
    return new Response("from-transport", { status: 200, headers: { "x-transport": "1" } });
  };
  const f = createFetch({ transport, retry: { backoff: FAST } });
  // .invalid never resolves: only the transport can answer this
  const res = await f("http://ballast.invalid/x?y=1", { headers: { "x-req": "r" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-transport"), "1");
  assert.equal(await res.text(), "from-transport");
  assert.equal(calls.length, 1);
  assert.equal(urlOf(calls[0].input), "http://ballast.invalid/x?y=1");
  const sentHeaders = new Headers(calls[0].init?.headers ?? (calls[0].input instanceof Request ? calls[0].input.headers : undefined));
  assert.equal(sentHeaders.get("x-req"), "r");
});

test("retries go through the transport too", async () => {
  let n = 0;
  const transport = async () => {
    n++;
    return new Response(`attempt ${n}`, { status: n < 3 ? 503 : 200 });
  };
  const f = createFetch({ transport, retry: { maxAttempts: 3, backoff: FAST } });
  const retries = collect(f, "retry");
  const res = await f("http://ballast.invalid/retry");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "attempt 3");
  assert.equal(n, 3);
  assert.deepEqual(
    retries.map((e) => [e.attempt, e.reason]),
    [
      [2, "status-503"],
      [3, "status-503"],
    ],
  );
});

test("a transport that throws is a network error; cause is the thrown error", async () => {
  const thrown = [];
  const transport = async () => {
    const e = new TypeError(`boom ${thrown.length}`);
    thrown.push(e);
    throw e;
  };
  const f = createFetch({ transport, retry: { maxAttempts: 2, backoff: FAST } });
  const err = await rejection(f("http://ballast.invalid/throws"));
  assert.ok(err instanceof BallastError);
  assert.equal(err.code, "NETWORK");
  assert.equal(thrown.length, 2);
  assert.equal(err.cause, thrown[1], "cause is the last underlying error");
  assert.deepEqual(
    err.attempts.map((a) => a.outcome),
    ["error", "error"],
  );
});

test("a transport returning a non-Response rejects with BallastError INVALID_RESPONSE", async () => {
  for (const bogus of [{ status: 200 }, undefined, "ok", null]) {
    const f = createFetch({ transport: async () => bogus, retry: { maxAttempts: 2, backoff: FAST } });
    const err = await rejection(f("http://ballast.invalid/bogus"));
    assert.ok(err instanceof BallastError, `for ${String(bogus)}: got ${err?.name}: ${err?.message}`);
    assert.equal(err.name, "BallastError");
    assert.equal(err.code, "INVALID_RESPONSE", `for ${JSON.stringify(bogus)}`);
  }
  // a synchronous (non-promise) non-Response too
  const f = createFetch({ transport: () => 42 });
  const err = await rejection(f("http://ballast.invalid/sync"));
  assert.ok(err instanceof BallastError);
  assert.equal(err.code, "INVALID_RESPONSE");
});

test("an invalid header rejects at once with fetch's TypeError and never reaches the transport", async () => {
  let calls = 0;
  const f = createFetch({ transport: async () => (calls++, new Response("x")), retry: { backoff: FAST } });
  for (const headers of [{ "bad header": "x" }, [["x-ok", "a\nb"]]]) {
    const err = await rejection(f("http://ballast.invalid/h", { headers }));
    assert.equal(err.name, "TypeError", String(err));
  }
  assert.equal(calls, 0);
  // Headers that are fine, and none at all, go through.
  assert.equal((await f("http://ballast.invalid/h", { headers: { "x-ok": "1" } })).status, 200);
  assert.equal((await f("http://ballast.invalid/h")).status, 200);
  assert.equal(calls, 2);
});

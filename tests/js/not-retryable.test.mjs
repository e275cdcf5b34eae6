// Failures that cannot succeed are not retried: an invalid URL or method, a scheme fetch does not
// speak, or a permission the runtime refused end after one attempt with a BallastError that says
// so, and spend nothing of the retry budget. An invalid header is refused before anything starts,
// as fetch would. (Deno without --allow-net: tests/matrix/run.mjs; browsers: tests/matrix/smoke.mjs.)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createFetch, BallastError } from "../../pkg/node.js";
import { startOrigin } from "../origin/server.mjs";
import { collect, rejection } from "./helpers.mjs";

let origin;
before(async () => {
  origin = await startOrigin();
});
after(() => origin.close());

const cases = [
  ["an invalid URL", "http://[::1/items", "INVALID_REQUEST"],
  ["a host with a space (Node)", "http://exa mple.com/items", "INVALID_REQUEST"],
  ["a relative URL with no base (Node)", "/items", "INVALID_REQUEST"],
  ["a scheme fetch does not speak", "ftp://127.0.0.1/x", "INVALID_REQUEST"],
  ["user-info in the URL", "http://user:secret@127.0.0.1:9/x", "INVALID_REQUEST"],
];

for (const [what, url, code] of cases) {
  test(`${what}: one attempt, ${code}, no budget spent`, async () => {
    const f = createFetch({ retry: { maxAttempts: 4, backoff: { baseMs: 1, capMs: 2 } } });
    const retries = collect(f, "retry");
    const err = await rejection(f(url));
    assert.ok(err instanceof BallastError, String(err));
    assert.equal(err.code, code);
    assert.equal(err.reason, "not-retryable");
    assert.equal(err.attempts.length, 1);
    assert.ok(err.cause instanceof TypeError, "the cause is fetch's own error");
    assert.equal(retries.length, 0);
    const s = f.snapshot();
    assert.deepEqual([s.attempts, s.retries, s.budget.exhausted, s.budget.balance], [1, 0, 0, 10]);
    assert.deepEqual(s.giveups, { "not-retryable": 1 });
  });
}

test("an invalid method: refused the same way", async () => {
  const f = createFetch();
  const err = await rejection(f(`${origin.url}/ok`, { method: "GE T" }));
  assert.equal(err.code, "INVALID_REQUEST");
  assert.equal(err.attempts.length, 1);
});

test("an invalid header is a TypeError before any task starts, as fetch's own", async () => {
  const f = createFetch();
  const err = await rejection(f(`${origin.url}/ok`, { headers: { "bad header": "x" } }));
  assert.ok(err instanceof TypeError);
  assert.equal(f.snapshot().tasks, 0);
});

test("a real network error is still retried", async () => {
  const f = createFetch({ retry: { maxAttempts: 3, backoff: { baseMs: 1, capMs: 2 } } });
  const err = await rejection(f("http://127.0.0.1:9/nothing-listens-here"));
  assert.equal(err.code, "NETWORK");
  assert.equal(err.attempts.length, 3);
});

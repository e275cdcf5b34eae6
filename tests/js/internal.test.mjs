// A Rust panic in the wasm build (no_std, src/wasm/panic.rs) traps and leaves a note saying where
// it happened, which pkg/api.js puts in the INTERNAL BallastError's message. The public API gives
// no way to make the engine panic, so this drives the generated bindings directly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createFetch } from "../../pkg/node.js";
import { Client, lastPanic } from "../../pkg/gen/ballast.js";

const hooks = { emit() {}, granted() {}, configError: Error, ballastError: Error };

test("a panic traps and leaves a note with its location and message, read once", () => {
  createFetch(); // instantiates the module
  const client = new Client({}, hooks);
  assert.equal(lastPanic(), undefined);
  assert.throws(() => client.finish(12345, 0), WebAssembly.RuntimeError);
  const note = new TextDecoder().decode(lastPanic());
  assert.match(
    note,
    /^panicked at src\/wasm\/tasks\.rs:\d+:\d+: ballast: the driver used a task handle after finish$/,
  );
  assert.equal(lastPanic(), undefined, "the note is taken");
});

test("the module keeps serving other clients after a panic", async () => {
  const broken = new Client({}, hooks);
  assert.throws(() => broken.finish(7, 0), WebAssembly.RuntimeError);
  lastPanic();
  const f = createFetch({ transport: async () => new Response("ok") });
  assert.equal(await (await f("http://127.0.0.1:9/x")).text(), "ok");
});

test("a panic inside a call rejects it with BallastError INTERNAL carrying the note", async () => {
  // The public API cannot make the engine panic; a Client method patched to pass a bad handle can.
  const finish = Client.prototype.finish;
  Client.prototype.finish = function (_h, now) {
    return finish.call(this, 4242, now);
  };
  try {
    const f = createFetch({ transport: async () => new Response("ok") });
    const err = await f("http://127.0.0.1:9/x").then(
      () => assert.fail("the call should reject"),
      (e) => e,
    );
    assert.equal(err.name, "BallastError");
    assert.equal(err.code, "INTERNAL");
    assert.match(
      err.message,
      /^ballast: internal error: panicked at src\/wasm\/tasks\.rs:\d+:\d+: ballast: the driver used a task handle after finish$/,
    );
    assert.ok(err.cause instanceof WebAssembly.RuntimeError);
  } finally {
    Client.prototype.finish = finish;
  }
});

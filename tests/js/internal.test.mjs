// When the engine faults anyway. A Rust panic in the wasm build (no_std, src/wasm/panic.rs) traps
// and leaves a note saying where it happened, which the INTERNAL BallastError carries. The damage
// stays with one client (pkg/host.js): the stack pointer is reset, so the other clients of the
// instance keep working; the instance is retired, so new clients get a fresh one; the client that
// faulted starts over on a fresh instance, with its state reset, and says so in an
// "internal-error" event. Nothing a caller passes makes the engine panic, so these tests use the
// module's self-test export (`selfTestPanic`) from inside a patched step (tests/js/helpers.mjs,
// `instrumented`).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { instantiate } from "../../pkg/gen/ballast.js";
import { collect, instrumented } from "./helpers.mjs";

const module = new WebAssembly.Module(readFileSync(new URL("../../pkg/gen/ballast_fast_bg.wasm", import.meta.url)));
const ok = async () => new Response("ok");
const NOTE = /^panicked at src\/wasm\/mod\.rs:\d+:\d+: ballast: self-test panic$/;

test("a panic traps and leaves a note with its location and message, read once", () => {
  const b = instantiate(module);
  assert.equal(b.lastPanic(), undefined);
  assert.throws(() => b.selfTestPanic(3), WebAssembly.RuntimeError);
  assert.match(new TextDecoder().decode(b.lastPanic()), NOTE);
  assert.equal(b.lastPanic(), undefined, "the note is taken");
});

test("a trap leaves the stack pointer low (wasm does not unwind)", () => {
  const b = instantiate(module);
  const sp = b.exports.__stack_pointer;
  const rest = sp.value;
  assert.throws(() => b.selfTestPanic(50), WebAssembly.RuntimeError);
  assert.ok(sp.value < rest, `the trap left the stack pointer at ${sp.value} (rests at ${rest})`);
});

test("a trap in one client's step: that call rejects INTERNAL with the note, the client recovers on a fresh instance and says so, other clients keep working, new clients get a fresh instance", async () => {
  let armed = false;
  const { createFetch, instances } = await instrumented((b, n) => {
    if (n !== 0) return;
    const response = b.Client.prototype.response;
    b.Client.prototype.response = function (...args) {
      if (armed) {
        armed = false;
        b.selfTestPanic(50); // a panic 50 frames deep inside the step
      }
      return response.apply(this, args);
    };
  });
  const victim = createFetch({ transport: ok, seed: 1 });
  const bystander = createFetch({ transport: ok });
  const internal = collect(victim, "internal-error");
  for (let i = 0; i < 3; i++) await (await victim("http://x/warm")).text();
  assert.equal(victim.snapshot().tasks, 3);
  const rest = instances[0].exports.__stack_pointer.value; // between calls

  armed = true;
  const err = await victim("http://x/boom").then(() => assert.fail("the call should reject"), (e) => e);
  assert.equal(err.name, "BallastError");
  assert.equal(err.code, "INTERNAL");
  assert.match(err.message, /^ballast: internal error: panicked at src\/wasm\/mod\.rs:\d+:\d+: ballast: self-test panic$/);
  assert.ok(err.cause instanceof WebAssembly.RuntimeError);

  assert.equal(internal.length, 1, "one internal-error event");
  assert.equal(internal[0].recovered, true);
  assert.equal(internal[0].message, err.message);
  assert.equal(instances.length, 2, "a fresh instance was made for the victim");
  // The victim works again, from a fresh state.
  assert.equal(await (await victim("http://x/after")).text(), "ok");
  assert.equal(victim.snapshot().tasks, 1, "state reset: only the call since the fault");
  // The bystander stayed on the first instance, whose stack pointer was put back.
  assert.equal(instances[0].exports.__stack_pointer.value, rest, "the stack pointer is back at rest");
  for (let i = 0; i < 200; i++) assert.equal(await (await bystander("http://x/b")).text(), "ok");
  assert.equal(instances[0].exports.__stack_pointer.value, rest);
  assert.equal(bystander.snapshot().tasks, 200);
  // New clients go to the fresh instance.
  const fresh = createFetch({ transport: ok });
  assert.equal(await (await fresh("http://x/new")).text(), "ok");
  assert.equal(instances.length, 2, "no third instance: the retired one is not used for new clients");
});

test("the calls in flight on the faulted client reject with INTERNAL too; nothing of theirs is left behind", async () => {
  let armed = false;
  const { createFetch } = await instrumented((b) => {
    const response = b.Client.prototype.response;
    b.Client.prototype.response = function (...args) {
      if (armed) {
        armed = false;
        b.selfTestPanic(5);
      }
      return response.apply(this, args);
    };
  });
  const gates = [];
  const f = createFetch({ transport: () => new Promise((r) => gates.push(() => r(new Response("ok")))) });
  const calls = [f("http://x/1"), f("http://x/2"), f("http://x/3")].map((p) => p.then(() => "ok", (e) => e.code));
  armed = true;
  gates[0]();
  assert.deepEqual(await Promise.all(calls), ["INTERNAL", "INTERNAL", "INTERNAL"]);
  gates[1]();
  gates[2]();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(f.snapshot().activeTasks, 0, "the fresh client has nothing in progress");
});

// The wasm instance clients run on, and what happens when it faults.
//
// Why instances can be replaced: wasm has no unwinding. When a JS exception passes through wasm
// frames, or the engine traps (a Rust panic), the frames are abandoned where they stood: the
// shadow stack pointer stays lowered, and whatever the interrupted step held (its client's engine
// borrow) stays held. Left alone, a few hundred such faults exhaust the stack that every client
// of the instance shares. So after any exception from a wasm call:
// - the stack pointer goes back to where it rests between calls (the build exports it), so the
//   other clients of the instance keep working;
// - the instance is retired: clients created from then on get a fresh one;
// - the client whose step faulted recovers on a fresh instance with its state reset (its driver,
//   pkg/executor.js, does that and says so in an "internal-error" event).
// Nothing here runs at module scope: Workers forbid instantiating there.

import { instantiate as generated } from "./gen/ballast.js";
import { Boundary } from "./boundary.js";

export class Host {
  constructor(bindings) {
    this.bindings = bindings;
    this.Client = bindings.Client;
    this.stackPointer = bindings.exports.__stack_pointer;
    /** Where the stack pointer rests between calls (nothing of the engine runs then). */
    this.rest = this.stackPointer.value;
    this.retired = false;
    /** The engine's names (actions, reasons, event kinds, schemas), read once. */
    this.boundary = new Boundary(bindings.boundary());
    this.memory = bindings.exports.memory;
    this.f64 = new Float64Array(this.memory.buffer);
  }

  /**
   * A step's output, copied out of the module's memory at `ptr` (what each input of a Client
   * returns): its header, then as many actions as the header says, into `buf` when it fits (the
   * caller keeps it for the next step, so a step allocates nothing), else into a new array.
   * Returns the array it copied into.
   */
  copyOut(ptr, buf) {
    const mem = this.view();
    const b = this.boundary;
    const at = ptr / 8;
    const n = b.HEADER + mem[at + b.H_COUNT] * b.WIDTH;
    const out = buf !== undefined && buf.length >= n ? buf : new Float64Array(Math.max(n, 64));
    for (let i = 0; i < n; i++) out[i] = mem[at + i];
    return out;
  }

  /** The module's memory as numbers; made again after the memory grew (which empties the old). */
  view() {
    if (this.f64.length === 0) this.f64 = new Float64Array(this.memory.buffer);
    return this.f64;
  }

  /** After an exception from a wasm call: resets the stack and retires the instance. */
  fault() {
    this.stackPointer.value = this.rest;
    this.retired = true;
  }

  /** The note of the last Rust panic, as text (undefined when there is none). */
  panicNote() {
    try {
      const note = this.bindings.lastPanic();
      return note === undefined ? undefined : new TextDecoder().decode(note);
    } catch {
      return undefined;
    }
  }
}

/**
 * The current host for `getModule()` (a compiled WebAssembly.Module, or the bytes of one), made on
 * first use and again after the current one was retired. `instantiate` is the generated glue's,
 * or a test's wrapper around it.
 */
export function hosts(getModule, instantiate = generated) {
  let module = null;
  let current = null;
  return () => {
    if (current === null || current.retired) {
      if (module === null) {
        const m = getModule();
        module = m instanceof WebAssembly.Module ? m : new WebAssembly.Module(m);
      }
      current = new Host(instantiate(module));
    }
    return current;
  };
}

// Event listeners of one client, and when they run.
//
// Why events are queued and delivered later: the engine produces them in the middle of a step,
// with its state borrowed. A listener run there could not call the same client (the borrow is
// held), and a listener's exception would pass through wasm frames (pkg/host.js says why that is
// a fault). So the engine only queues them (`emit`), and the driver delivers them (`flush`) once
// the step has returned: a listener may call the client again, and its exception stays in JS.

let depth = 0;

/** Whether a listener is running now (on any client): a call made from it may be deep in a recursion. */
export const inListener = () => depth > 0;

/**
 * Throws a RangeError, before the engine is entered, when the JS stack could not take one more
 * engine step. A listener that calls the client, whose call emits an event, whose listener calls
 * the client again, recurses without bound; the stack must run out in JS, never mid-step.
 */
export function probeStack() {
  descend(2048);
}
function descend(n) {
  return n === 0 ? 0 : descend(n - 1) + 1;
}

function report(type, err) {
  try {
    console.error(`ballast: a "${type}" listener threw`, err);
  } catch {
    // A console that throws (test set-ups that fail on console output do) must not reach the call.
  }
}

export class Listeners {
  constructor(kinds) {
    this.sets = new Map(kinds.map((k) => [k, new Set()]));
    this.kinds = kinds;
    this.queue = [];
  }

  has(type) {
    return this.sets.has(type);
  }

  /** Adds a listener; returns the bit mask of the kinds that have listeners now. */
  add(type, fn) {
    this.sets.get(type).add(fn);
    return this.mask();
  }

  delete(type, fn) {
    this.sets.get(type).delete(fn);
    return this.mask();
  }

  /** Bit i set when `kinds[i]` has a listener: the engine builds no event nobody listens to. */
  mask() {
    let m = 0;
    for (let i = 0; i < this.kinds.length; i++) if (this.sets.get(this.kinds[i]).size > 0) m |= 1 << i;
    return m;
  }

  /** Queues an event (called by the engine inside a step: it only queues). */
  emit(type, payload) {
    this.queue.push(type, payload);
  }

  /**
   * Delivers the queued events, in order. Never throws: a listener that throws is reported, and
   * if the stack runs out here (a deep recursion through listeners) the rest of the batch is
   * dropped rather than thrown into the call that flushed it.
   */
  flush() {
    if (this.queue.length === 0) return;
    const q = this.queue;
    this.queue = [];
    depth++;
    try {
      for (let i = 0; i < q.length; i += 2) {
        const set = this.sets.get(q[i]);
        if (set === undefined || set.size === 0) continue;
        for (const fn of [...set]) {
          try {
            fn(q[i + 1]);
          } catch (err) {
            report(q[i], err);
          }
        }
      }
    } catch (err) {
      report("(any)", err);
    } finally {
      depth--;
    }
  }
}

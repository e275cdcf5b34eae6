// The executor for Cloudflare Workers (workerd). A Worker's timers and I/O belong to the request
// whose code started them: a timer never fires once that request is over, and a request waiting
// on nothing of its own is cancelled as hung. So here, unlike elsewhere (pkg/executor.js):
//
// - Each call keeps a timer of its own, set in its own request after each of its own steps, at
//   the instant the engine wants it woken (`wakeOf`); it wakes only that call's timers
//   (`timeoutOf`). With one timer per client, a call could wait on a timer a finished request had
//   set, and a timer could wake another request's calls and abort their fetches from the wrong
//   request. The client keeps none: a lease's timeout is timed by the calls' own (`leaseTimer`).
// - An attempt that another call's step started (a queued call admitted when that call ended and
//   freed its slot, or a leased retry whose lease answer came in) is not sent from that step. The
//   call settles a promise whose reaction it set up in its own request, and workerd runs the
//   reaction there: it sends the attempt and sets the call's timer.

import { ServerExecutor } from "./server-executor.js";

export class WorkersExecutor extends ServerExecutor {
  constructor(options) {
    super(options);
    /** The call whose request the current step runs in, or null (see `start`). */
    this.context = null;
  }

  opened(call) {
    this.context = call;
  }

  begun(call) {
    if (this.calls.get(call.task) !== call) return; // settled in its begin step
    /** Attempts another call's step started for it: attempt -> [url, flags] (`start`). */
    call.deferred = null;
    call.resume = this.resumer(call);
    this.armOwn(call);
  }

  step(input, begun = null, owner = null) {
    const outer = this.context;
    this.context = owner;
    try {
      super.step(input, begun, owner);
    } finally {
      this.context = outer;
    }
    if (owner !== null) this.armOwn(owner);
  }

  /** The calls keep their own timers (`armOwn`); the client keeps none. */
  rearm() {}

  start(call, attempt, url, flags) {
    if (call === this.context) {
      super.start(call, attempt, url, flags);
      return;
    }
    // Until it goes out, nothing may abort it: the flight is listed without a controller, and an
    // abort meanwhile removes it, so `resumer` sends only what is still listed.
    call.fly(attempt, null);
    (call.deferred ??= new Map()).set(attempt, [url, flags]);
    call.resume();
  }

  /**
   * A function that, called from any request, sends `call`'s deferred attempts and sets its timer
   * again from the request this is made in (the call's own: its begin, or an earlier run of this
   * reaction).
   */
  resumer(call) {
    let resolve;
    new Promise((r) => (resolve = r)).then(() => {
      if (this.dead || this.calls.get(call.task) !== call) return;
      call.resume = this.resumer(call);
      const deferred = call.deferred;
      call.deferred = null;
      if (deferred !== null) {
        for (const [attempt, [url, flags]] of deferred) {
          if (call.flying(attempt)) super.start(call, attempt, url, flags);
        }
      }
      this.armOwn(call);
    });
    return resolve;
  }

  /**
   * A lease's timeout is the client's, and no request owns a client timer here: the calls in
   * progress set their own again (a call's wake-up includes the lease's, `wakeOf`), each from its
   * own request. With none in progress, nothing waits on the lease, and the next call's first
   * wake-up finds its timeout due.
   */
  leaseTimer(at) {
    for (const call of this.calls.values()) if (call.timerAt > at) call.resume?.();
  }

  /**
   * Keeps `call`'s own timer at the instant it wants to be woken, set from its own request (this
   * runs after a step of its own). A later instant keeps the earlier timer, which then finds
   * nothing due and sets the next.
   */
  armOwn(call) {
    if (this.dead || this.calls.get(call.task) !== call) return;
    const at = this.client.wakeOf(call.task);
    if (at < 0 || at >= call.timerAt) return;
    if (call.timer !== null) this.clock.clear(call.timer);
    call.timerAt = at;
    call.timer = this.clock.set(() => {
      call.timer = null;
      call.timerAt = Infinity;
      if (this.calls.get(call.task) === call) this.step(() => this.client.timeoutOf(call.task, this.clock.now()), null, call);
    }, Math.max(0, at - this.clock.now()));
  }
}

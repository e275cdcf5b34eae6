// The executor of the server builds (Node, Deno, Workers: Cargo.toml's `server`). On top of what
// every executor does (pkg/executor.js), it leases retry tokens from a coordinator (a budget
// shared across isolates) and carries state snapshots and new routes in and out of the engine.
// The browsers' build has none of these, so a browser bundle does not carry this module.

import { ConfigError, show } from "./config.js";
import { Executor } from "./executor.js";

export class ServerExecutor extends Executor {
  /**
   * The engine wants retry tokens leased (src/core/lease.rs): asks the coordinator in the
   * background and reports its answer. Nothing waits for it: the engine times the request
   * itself (`leaseTimer` sees that something wakes it then) and drops an answer that comes after
   * that.
   */
  lease() {
    let r;
    try {
      r = this.client.lease(this.clock.now());
    } catch (err) {
      this.fault(err);
      return;
    }
    if (r.length === 0) return;
    const [id, deposits, want, until] = r;
    this.leaseTimer(until);
    let p;
    try {
      const { fingerprint, effective } = this.snapshotConfig();
      const { ratio, minPerSec, ttlMs } = effective.budget;
      p = Promise.resolve(this.coordinator.lease({ fingerprint, budget: { ratio, minPerSec, ttlMs }, deposits, want }));
    } catch (err) {
      p = Promise.reject(err);
    }
    // `error`: why it failed, for the "coordinator" event this answer may cause (`emit`).
    const answer = (granted, ttl, error) => {
      this.leaseError = error;
      try {
        this.step(() => this.client.leased(id, granted, ttl, this.clock.now()));
      } finally {
        this.leaseError = undefined;
      }
    };
    p.then(
      (v) => {
        const granted = v?.granted;
        const ttl = v?.ttlMs;
        if (Number.isInteger(granted) && granted >= 0 && typeof ttl === "number" && ttl > 0) answer(granted, ttl);
        else answer(-1, 0, new TypeError(`ballast: coordinator.lease resolved with ${show(v)}, not { granted, ttlMs }`));
      },
      (err) => answer(-1, 0, err),
    );
  }

  /** A lease request went out: the engine's next wake-up is now `at`, which may be its timeout. */
  leaseTimer(at) {
    this.arm(at);
  }

  /**
   * A "coordinator" event that a failed lease caused carries what failed (`error`): the engine
   * knows only that it failed, and a coordinator of the user's own needs to say why.
   */
  emit(kind, payload) {
    if (kind === "coordinator" && payload.reason === "error" && this.leaseError !== undefined) payload.error = this.leaseError;
    super.emit(kind, payload);
  }

  /**
   * A call into the client outside a step (a state, the routes): what `fn(client)` returns. An
   * error `passes(err)` says the engine reports on purpose (it returned it: nothing unwound
   * through its frames) is thrown as it is; any other exception is a fault.
   */
  direct(fn, passes = () => false) {
    if (this.dead) throw this.faultError;
    try {
      return fn(this.client);
    } catch (err) {
      if (passes(err)) throw err;
      throw this.fault(err);
    }
  }

  /** The client's state snapshot (decoded). */
  exportState() {
    return this.direct((c) => this.b.decode(c.exportState(this.clock.now(), this.clock.wall()))[0]);
  }

  /**
   * Merges a state (a tape of the lists pkg/state.js makes): what the merge did, or the
   * StateError `hooks` builds. With `apply` false it is only checked (the clock aside).
   */
  mergeState(tape, hooks, isStateError, apply = true) {
    const now = this.clock.now();
    const wall = this.clock.wall();
    return this.direct((c) => this.b.decode(c.mergeState(tape, now, wall, hooks, apply))[0], isStateError);
  }

  /** Runs the routes of `tape` (`{ routes }`), or throws their ConfigError. */
  setRoutes(tape, hooks) {
    this.direct((c) => c.setRoutes(tape, this.clock.now(), hooks), (err) => err instanceof ConfigError);
    this.config = null; // snapshot().config names the new routes
  }
}

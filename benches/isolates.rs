//! Scaling past one machine, by simulation on the same engine: a popular Worker's traffic spread
//! over 1 to 10,000 isolates during a full outage of its origin, each isolate with its own budget
//! (local) or leasing retries from one coordinator (shared, `core::lease`). Prints, per isolate
//! count, the retries and amplification of each, and the coordinator's own request rate: the
//! figure that says where one coordinator stops being enough.
//!
//! Every isolate is an engine on its own virtual-time executor, run in lockstep; the coordinator
//! is `RetryBudget` granting `min(want, available)` after taking the reported deposits (what
//! `pkg/coordinator.js` does), answering after a round trip. Counts, not timings: the run is
//! deterministic, and the same on any machine.
//!
//!   cargo bench --bench isolates [-- --quick]
//!
//! Under `cargo test` (no `--bench` argument) it runs 1 and 10 isolates only, as a check that it
//! still runs.

use ballast_fetch::core::budget::RetryBudget;
use ballast_fetch::core::lease::LeaseRequest;
use ballast_fetch::core::policy::{BodyKind, RequestMeta};
use ballast_fetch::core::{Config, Engine, Start};
use ballast_fetch::virtual_time::{Executor, Reply, Seen};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

/// Calls per second the Worker serves, whatever the number of isolates it runs as.
const RATE: f64 = 1_000.0;
/// How long the outage lasts, in seconds.
const OUTAGE_S: f64 = 20.0;
/// The coordinator's round trip (a Durable Object in the same region), ms.
const ROUND_TRIP_MS: f64 = 5.0;
/// The lockstep tick, ms.
const TICK_MS: f64 = 50.0;

type Origin = Box<dyn FnMut(&Start, &str, f64) -> (f64, Reply)>;

struct Totals {
    calls: Rc<Cell<u64>>,
    attempts: Rc<Cell<u64>>,
    leases: Rc<Cell<u64>>,
}

fn run(isolates: usize, shared: bool) -> (u64, u64, u64) {
    let cfg = Config::default()
        .validated()
        .expect("the defaults are valid");
    let b = &cfg.budget;
    let bucket = Rc::new(RefCell::new(RetryBudget::new(
        b.ratio,
        b.min_per_sec,
        b.ttl_ms,
    )));
    let t = Totals {
        calls: Rc::default(),
        attempts: Rc::default(),
        leases: Rc::default(),
    };
    let mut execs: Vec<Executor<Origin>> = (0..isolates)
        .map(|i| {
            let origin: Origin = Box::new(|_, _, _| (2.0, Reply::Status(503)));
            let (calls, attempts) = (t.calls.clone(), t.attempts.clone());
            let ex = Executor::new(Engine::new(cfg.clone(), i as u64 + 1), origin)
                .lean()
                .watch(move |_, seen| match seen {
                    Seen::Started(..) => attempts.set(attempts.get() + 1),
                    Seen::Settled { .. } => calls.set(calls.get() + 1),
                    _ => {}
                });
            if !shared {
                return ex;
            }
            let (bucket, leases) = (bucket.clone(), t.leases.clone());
            ex.coordinate(move |r: &LeaseRequest, now| {
                leases.set(leases.get() + 1);
                let mut bucket = bucket.borrow_mut();
                for _ in 0..r.deposits {
                    bucket.deposit(now);
                }
                let mut granted = 0;
                while granted < r.want && bucket.withdraw(now) {
                    granted += 1;
                }
                (ROUND_TRIP_MS, Some((granted, 10_000.0)))
            })
        })
        .collect();
    // Calls arrive at RATE in all, spread evenly over the isolates (each its own share, phased).
    let every = isolates as f64 * 1_000.0 / RATE;
    let mut next: Vec<f64> = (0..isolates).map(|i| i as f64 * 1_000.0 / RATE).collect();
    let mut key = 0;
    let mut now = 0.0;
    while now < OUTAGE_S * 1_000.0 {
        now += TICK_MS;
        for (i, ex) in execs.iter_mut().enumerate() {
            while next[i] < now && next[i] < OUTAGE_S * 1_000.0 {
                ex.call_at(next[i], key, meta());
                key += 1;
                next[i] += every;
            }
            ex.run_until(now);
        }
    }
    for ex in &mut execs {
        ex.run_until(now + 60_000.0);
    }
    (t.calls.get(), t.attempts.get(), t.leases.get())
}

fn meta() -> RequestMeta {
    RequestMeta {
        method: "GET".into(),
        url: "http://origin.test/items".into(),
        has_idempotency_key: false,
        body: BodyKind::None,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let counts: &[usize] = if !args.iter().any(|a| a == "--bench") {
        &[1, 10]
    } else if args.iter().any(|a| a == "--quick") {
        &[1, 10, 100]
    } else {
        &[1, 10, 100, 1_000, 10_000]
    };
    println!(
        "Full outage of {OUTAGE_S} s, {RATE} calls/s in all, default config (4 attempts, budget \
         ratio 0.2, reserve 1 retry/s over 10 s); coordinator round trip {ROUND_TRIP_MS} ms.\n"
    );
    println!("| isolates | calls | local: retries | local: amplification | shared: retries | shared: amplification | coordinator requests/s |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &n in counts {
        let (calls, local_attempts, _) = run(n, false);
        let (shared_calls, shared_attempts, leases) = run(n, true);
        assert_eq!(calls, shared_calls, "the same calls either way");
        println!(
            "| {n} | {calls} | {} | {:.2}x | {} | {:.2}x | {:.0} |",
            local_attempts - calls,
            local_attempts as f64 / calls as f64,
            shared_attempts - calls,
            shared_attempts as f64 / calls as f64,
            leases as f64 / OUTAGE_S,
        );
    }
}

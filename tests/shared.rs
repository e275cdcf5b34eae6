//! Leased retries (`core::lease`) as many clients see them: several engines, each with its own
//! virtual-time executor run in lockstep, lease retry tokens from one coordinator modelled here
//! on `RetryBudget` (what `pkg/coordinator.js` mirrors), against an origin in full outage. Also
//! the sequence that checks the JS bucket against `RetryBudget` (`tests/fixtures/coordinator-bucket.json`).

mod common;

use ballast_fetch::core::budget::RetryBudget;
use ballast_fetch::core::lease::{LeaseRequest, DEGRADED_RESERVE};
use ballast_fetch::core::{Config, Event};
use ballast_fetch::virtual_time::{Executor, Reply};
use common::{exec, get, scripted, Scripted};
use std::cell::RefCell;
use std::rc::Rc;

/// The coordinator's bucket: a `RetryBudget` granting `min(want, available)` after taking the
/// reported deposits (what `pkg/coordinator.js` does).
struct Bucket(RetryBudget);

impl Bucket {
    fn lease(&mut self, r: &LeaseRequest, now: f64) -> u32 {
        for _ in 0..r.deposits {
            self.0.deposit(now);
        }
        let mut granted = 0;
        while granted < r.want && self.0.withdraw(now) {
            granted += 1;
        }
        granted
    }
}

fn outage() -> Scripted {
    scripted(|_| (2.0, Reply::Status(503)))
}

/// How the coordinator behaves.
#[derive(Clone, Copy, PartialEq)]
enum Coord {
    /// Each client its own budget (no coordinator).
    Local,
    /// Answers after 3 ms.
    Shared,
    /// Never answers.
    Silent,
    /// Fails at once.
    Failing,
}

struct Run {
    retries: u64,
    calls: u64,
    execs: Vec<Executor<Scripted>>,
}

/// `clients` engines with the default budget (deposits on success: none in an outage, so only
/// the reserve allows retries), each calling every 50 ms for `secs` seconds.
fn run(clients: usize, coord: Coord, secs: f64) -> Run {
    let cfg = Config::default();
    let b = &cfg.budget;
    let bucket = Rc::new(RefCell::new(Bucket(RetryBudget::new(
        b.ratio,
        b.min_per_sec,
        b.ttl_ms,
    ))));
    let mut execs: Vec<_> = (0..clients)
        .map(|i| {
            let ex = exec(cfg.clone(), i as u64 + 1, outage());
            let bucket = bucket.clone();
            match coord {
                Coord::Local => ex,
                Coord::Shared => ex.coordinate(move |r, now| {
                    (3.0, Some((bucket.borrow_mut().lease(r, now), 10_000.0)))
                }),
                Coord::Silent => ex.coordinate(|_, _| (f64::INFINITY, None)),
                Coord::Failing => ex.coordinate(|_, _| (0.0, None)),
            }
        })
        .collect();
    let mut key = 0;
    let mut t = 0.0;
    while t < secs * 1000.0 {
        for (i, ex) in execs.iter_mut().enumerate() {
            ex.call_at(t + i as f64, key, get("http://o/x"));
            key += 1;
        }
        t += 50.0;
        for ex in &mut execs {
            ex.run_until(t);
        }
    }
    for ex in &mut execs {
        ex.run_until(t + 60_000.0);
    }
    let (mut retries, mut calls) = (0, 0);
    for ex in &execs {
        for c in ex.calls.values() {
            calls += 1;
            retries += c.starts.len() as u64 - 1;
            assert!(c.settled.is_some(), "every call settled");
        }
    }
    Run {
        retries,
        calls,
        execs,
    }
}

#[test]
fn shared_retries_stay_near_one_reserve_while_local_ones_grow_with_the_clients() {
    let reserve = 10; // minPerSec 1 x ttl 10 s
    for clients in [1, 4, 16] {
        let local = run(clients, Coord::Local, 9.0);
        let shared = run(clients, Coord::Shared, 9.0);
        println!(
            "{clients} clients: local {} retries, shared {} ({} calls each)",
            local.retries, shared.retries, local.calls
        );
        assert_eq!(local.retries, reserve * clients as u64);
        assert!(
            shared.retries <= reserve + 2,
            "{clients} clients shared {} retries",
            shared.retries
        );
        assert!(shared.retries >= reserve / 2, "the reserve is used");
        for ex in &shared.execs {
            let s = ex.engine.snapshot(ex.now());
            assert_eq!(s.budget.mode, "shared");
        }
    }
}

#[test]
fn the_pressure_signal_sees_leased_retries_drain_the_budget_as_local_ones_do() {
    // One client in an outage: its retries use up the reserve whether it is its own or leased.
    let drain = |coord| {
        let r = run(1, coord, 9.0);
        let ex = &r.execs[0];
        let p = ex.engine.snapshot(ex.now()).pressure; // as last evaluated, in the outage
        (r.retries, p.components.budget_drain)
    };
    let (local_retries, local) = drain(Coord::Local);
    let (shared_retries, shared) = drain(Coord::Shared);
    assert!(
        local > 0.5,
        "local: drain {local} after {local_retries} retries"
    );
    assert!(
        shared > 0.5,
        "shared: drain {shared} after {shared_retries} retries (was 0: leased retries were not counted)"
    );
}

#[test]
fn a_silent_coordinator_degrades_every_client_and_nothing_waits_for_it() {
    for coord in [Coord::Silent, Coord::Failing] {
        let clients = 4;
        let r = run(clients, coord, 3.0);
        let degraded_reserve = (10.0 * DEGRADED_RESERVE) as u64;
        assert!(
            r.retries <= degraded_reserve * clients as u64,
            "conservative local reserve: {} retries",
            r.retries
        );
        for ex in &r.execs {
            let s = ex.engine.snapshot(ex.now());
            assert_eq!(s.budget.mode, "degraded");
            let ev: Vec<_> = ex
                .events
                .iter()
                .filter_map(|(_, e)| match e {
                    Event::Coordinator(c) => Some((c.state, c.reason)),
                    _ => None,
                })
                .collect();
            let why = if coord == Coord::Silent {
                "timeout"
            } else {
                "error"
            };
            assert_eq!(ev, [("degraded", why)], "one event, not one per retry");
            // Every call ended within its attempts' time, with no wait on the coordinator.
            for c in ex.calls.values() {
                let (at, _) = c.settled.as_ref().unwrap();
                let last = c.starts.last().unwrap().0;
                assert!(
                    at - last <= 2.0 + 1e-9,
                    "settled {} after its last start",
                    at - last
                );
                assert!(c.starts[0].0 == c.began, "a first attempt never waits");
            }
        }
    }
}

#[test]
fn a_recovered_coordinator_returns_clients_to_shared_mode() {
    let cfg = Config::default();
    let up = Rc::new(RefCell::new(false));
    let flag = up.clone();
    let mut ex = exec(cfg, 1, outage()).coordinate(move |r, _| {
        if *flag.borrow() {
            (1.0, Some((r.want, 10_000.0)))
        } else {
            (0.0, None)
        }
    });
    ex.call_at(0.0, 0, get("http://o/x"));
    ex.run_until(100.0);
    assert_eq!(ex.engine.snapshot(100.0).budget.mode, "degraded");
    *up.borrow_mut() = true;
    ex.run_until(5_000.0); // the backoff (1 s) is over: asked again, granted
    let s = ex.engine.snapshot(5_000.0);
    assert_eq!(s.budget.mode, "shared");
    assert!(s.budget.leased > 0);
    let states: Vec<_> = ex
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Coordinator(c) => Some(c.state),
            _ => None,
        })
        .collect();
    assert_eq!(states, ["degraded", "shared"]);
    ex.call_at(5_000.0, 1, get("http://o/x"));
    ex.run_until(6_000.0);
    let max = Config::default().retry.max_attempts as usize;
    assert_eq!(
        ex.calls[&1].starts.len(),
        max,
        "leased tokens pay for its retries"
    );
}

/// The sequence `tests/js/coordinator.test.mjs` replays on the JS bucket: `[t, deposits, want,
/// granted]` per lease, `granted` from `RetryBudget`. `BLESS=1` writes it.
#[test]
fn the_js_buckets_sequence_matches_retry_budget() {
    let mut rng = fastrand::Rng::with_seed(21);
    let mut out = String::from("[\n");
    let budgets = [
        (0.2, 1.0, 10_000.0),
        (0.1, 0.5, 3_000.0),
        (0.0, 2.0, 1_000.0),
    ];
    for (bi, (ratio, mps, ttl)) in budgets.into_iter().enumerate() {
        let mut b = Bucket(RetryBudget::new(ratio, mps, ttl));
        let mut t = 0.0;
        out.push_str(&format!(
            "  {{ \"budget\": {{ \"ratio\": {ratio}, \"minPerSec\": {mps}, \"ttlMs\": {ttl} }}, \"ops\": ["
        ));
        for i in 0..400 {
            t += (rng.u32(0..400) as f64) * if rng.u8(0..10) == 0 { 20.0 } else { 1.0 };
            let r = LeaseRequest {
                id: 0,
                deposits: rng.u32(0..30),
                want: rng.u32(0..12),
            };
            let g = b.lease(&r, t);
            let sep = if i == 0 { "" } else { "," };
            out.push_str(&format!("{sep}[{t},{},{},{g}]", r.deposits, r.want));
        }
        out.push_str(if bi == budgets.len() - 1 {
            "] }\n"
        } else {
            "] },\n"
        });
    }
    out.push_str("]\n");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/coordinator-bucket.json"
    );
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(path, &out).unwrap();
    }
    let have = std::fs::read_to_string(path).expect("the fixture (BLESS=1 writes it)");
    assert!(
        have == out,
        "tests/fixtures/coordinator-bucket.json is stale: BLESS=1"
    );
}

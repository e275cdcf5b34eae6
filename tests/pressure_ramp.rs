//! The pressure signal's lead time, in a deterministic ramp: offered load rises linearly past the
//! origin's capacity, and the pressure level must cross its warning threshold measurably before
//! the task failure rate passes 1%.
//!
//! The virtual-time executor drives the real engine against a model of a server. The origin has 8
//! workers and a FIFO queue; each request takes 20 ms (+/- 20%), so capacity is about 400 req/s.
//! Like a real server with a bounded queue it answers 503 at once when a request would wait more
//! than 250 ms. Arrivals are Poisson, ramping from 100 to 800 req/s over 120 s (capacity is passed
//! at about t = 51 s). The client uses ballast's defaults (4 attempts, budget 0.2, full jitter),
//! without a concurrency limit so the origin sees the full ramp.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

mod common;

use ballast_fetch::core::config::BackoffKind;
use ballast_fetch::core::events::bit;
use ballast_fetch::core::pressure::State;
use ballast_fetch::core::{Config, Engine, Event, Settlement, Start};
use ballast_fetch::virtual_time::{Executor, Origin, Reply};
use std::collections::HashMap;

const WORKERS: usize = 8;
const SERVICE_MS: f64 = 20.0;
const MAX_ORIGIN_WAIT_MS: f64 = 250.0;
const RAMP_MS: f64 = 120_000.0;

/// The origin: FIFO over the earliest-free worker; 503 at once past the queue bound. Records the
/// status of every attempt, to tell a call that got a 200 from one that gave up with a 503.
struct Server {
    rng: fastrand::Rng,
    workers: [f64; WORKERS],
    statuses: HashMap<(u64, u32), u16>,
}

impl Origin for Server {
    fn serve(&mut self, start: &Start, _url: &str, t: f64) -> (f64, Reply) {
        let (i, free) = self
            .workers
            .iter()
            .copied()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        let begin = free.max(t);
        let (latency, status) = if begin - t > MAX_ORIGIN_WAIT_MS {
            (1.0, 503)
        } else {
            let done = begin + SERVICE_MS * (0.8 + 0.4 * self.rng.f64());
            self.workers[i] = done;
            (done - t, 200)
        };
        self.statuses
            .insert((start.task.to_bits(), start.attempt), status);
        (latency, Reply::Status(status))
    }
}

struct Run {
    warn_at: Option<f64>,
    fail_at: Option<f64>,
    level_at_30s: f64,
    states: Vec<(f64, State)>,
}

fn run(seed: u64) -> Run {
    let mut cfg = Config::default();
    cfg.concurrency.limit = None;
    cfg.retry.backoff.kind = BackoffKind::Full;
    let mut engine = Engine::new(cfg.validated().unwrap(), seed);
    engine.set_listening(bit("pressure"));
    let server = Server {
        // Service times from their own stream, so the arrivals do not depend on them.
        rng: fastrand::Rng::with_seed(seed ^ 0x5EED),
        workers: [0.0; WORKERS],
        statuses: HashMap::new(),
    };
    let mut ex = Executor::new(engine, server);
    // Poisson arrivals, the rate ramping from 100 to 800 req/s.
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut t, mut key) = (0.0, 0u64);
    loop {
        let rate = 100.0 + 700.0 * t / RAMP_MS; // req/s
        t += -(1.0 - rng.f64()).ln() * 1000.0 / rate;
        if t > RAMP_MS {
            break;
        }
        ex.call_at(t, key, common::get("sim://origin/"));
        key += 1;
    }
    ex.run_until(30_000.0);
    let level_at_30s = ex.engine.snapshot(30_000.0).pressure.level.max(1e-9);
    ex.run_until(RAMP_MS);

    let states: Vec<(f64, State)> = ex
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Pressure(p) => Some((*t, p.state)),
            _ => None,
        })
        .collect();
    let warn_at = states
        .iter()
        .find(|(_, s)| *s != State::Ok)
        .map(|(t, _)| *t);
    // Completions per second: (ok, failed). A call that gave up with a 503 in hand settles with
    // that response: it failed all the same.
    let mut per_sec: Vec<(u32, u32)> = vec![(0, 0); (RAMP_MS / 1000.0) as usize + 60];
    for c in ex.calls.values() {
        let Some((at, s)) = &c.settled else { continue };
        let ok = match s {
            Settlement::Response { attempt } => {
                ex.origin.statuses[&(c.task.to_bits(), *attempt)] == 200
            }
            _ => false,
        };
        let slot = &mut per_sec[(at / 1000.0) as usize];
        if ok {
            slot.0 += 1
        } else {
            slot.1 += 1
        }
    }
    // The failure rate over a sliding 5 s window first passes 1%.
    let mut fail_at = None;
    for end in 5..per_sec.len() {
        let (ok, failed) = per_sec[end - 5..end]
            .iter()
            .fold((0, 0), |a, s| (a.0 + s.0, a.1 + s.1));
        if ok + failed >= 100 && failed as f64 / (ok + failed) as f64 > 0.01 {
            fail_at = Some(end as f64 * 1000.0);
            break;
        }
    }
    Run {
        warn_at,
        fail_at,
        level_at_30s,
        states,
    }
}

#[test]
fn pressure_warns_before_failures_pass_one_percent() {
    for seed in [1, 2, 3] {
        let r = run(seed);
        let warn = r.warn_at.expect("pressure reached warn");
        let fail = r.fail_at.expect("the ramp did overload the origin");
        let lead = fail - warn;
        println!(
            "seed {seed}: pressure warn at {:.1} s, failure rate > 1% at {:.1} s: lead {:.1} s; \
             level at 30 s (below capacity) {:.3}; transitions {:?}",
            warn / 1000.0,
            fail / 1000.0,
            lead / 1000.0,
            r.level_at_30s,
            r.states
                .iter()
                .map(|(t, s)| format!("{:.1}s {:?}", t / 1000.0, s))
                .collect::<Vec<_>>()
        );
        assert!(
            r.level_at_30s < 0.5,
            "no warning while load is well below capacity"
        );
        assert!(
            lead >= 2_000.0,
            "warning must lead the 1% failure point by >= 2 s, led by {lead} ms"
        );
    }
}

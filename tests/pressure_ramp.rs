//! The pressure signal's lead time, in a deterministic ramp: offered load rises linearly past the
//! origin's capacity, and the pressure level must cross its warning threshold measurably before
//! the task failure rate passes 1%.
//!
//! A small discrete-event simulation in virtual time drives the real engine. The origin has 8
//! workers and a FIFO queue; each request takes 20 ms (+/- 20%), so capacity is about 400 req/s.
//! Like a real server with a bounded queue it answers 503 at once when a request would wait more
//! than 250 ms. Arrivals are Poisson, ramping from 100 to 800 req/s over 120 s (capacity is passed
//! at about t = 51 s). The client uses ballast's defaults (3 attempts, budget 0.1, full jitter),
//! without a concurrency limit so the origin sees the full ramp.

use ballast_fetch::core::config::BackoffKind;
use ballast_fetch::core::pressure::State;
use ballast_fetch::core::{
    Admit, BodyKind, Config, Decision, Engine, Event, Outcome, RequestMeta, Task,
};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

const WORKERS: usize = 8;
const SERVICE_MS: f64 = 20.0;
const MAX_ORIGIN_WAIT_MS: f64 = 250.0;
const RAMP_MS: f64 = 120_000.0;

enum Ev {
    Arrival,
    Send(u64),
    Done(u64, Outcome),
}

struct Sim {
    now: f64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    pending: HashMap<u64, Ev>,
    rng: fastrand::Rng,
    workers: [f64; WORKERS],
}

impl Sim {
    fn at(&mut self, t: f64, ev: Ev) {
        self.seq += 1;
        self.queue.push(Reverse(((t * 1000.0) as u64, self.seq)));
        self.pending.insert(self.seq, ev);
    }

    /// The origin: FIFO over the earliest-free worker; 503 at once past the queue bound.
    fn origin(&mut self, t: f64) -> (f64, Outcome) {
        let (i, free) = self
            .workers
            .iter()
            .copied()
            .enumerate()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        let start = free.max(t);
        if start - t > MAX_ORIGIN_WAIT_MS {
            return (t + 1.0, resp(503));
        }
        let done = start + SERVICE_MS * (0.8 + 0.4 * self.rng.f64());
        self.workers[i] = done;
        (done, resp(200))
    }
}

fn resp(status: u16) -> Outcome {
    Outcome::Response {
        status,
        retry_after_ms: None,
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
    engine.set_listening(ballast_fetch::core::events::bit("pressure"));
    let mut sim = Sim {
        now: 0.0,
        seq: 0,
        queue: BinaryHeap::new(),
        pending: HashMap::new(),
        rng: fastrand::Rng::with_seed(seed),
        workers: [0.0; WORKERS],
    };
    let mut tasks: HashMap<u64, Task> = HashMap::new();
    let mut flights: HashMap<u64, u32> = HashMap::new();
    let mut next_task = 0u64;
    // Completions per second: (ok, failed).
    let mut per_sec: Vec<(u32, u32)> = vec![(0, 0); (RAMP_MS / 1000.0) as usize + 60];
    let mut out = Run {
        warn_at: None,
        fail_at: None,
        level_at_30s: 0.0,
        states: vec![],
    };
    sim.at(0.0, Ev::Arrival);
    while let Some(Reverse((t, id))) = sim.queue.pop() {
        sim.now = t as f64 / 1000.0;
        let now = sim.now;
        if now > RAMP_MS {
            break;
        }
        match sim.pending.remove(&id).unwrap() {
            Ev::Arrival => {
                let rate = 100.0 + 700.0 * now / RAMP_MS; // req/s
                let gap = -(1.0 - sim.rng.f64()).ln() * 1000.0 / rate;
                sim.at(now + gap, Ev::Arrival);
                let meta = RequestMeta {
                    method: "GET".into(),
                    url: "sim://origin/".into(),
                    has_idempotency_key: false,
                    body: BodyKind::None,
                };
                next_task += 1;
                tasks.insert(next_task, engine.begin(meta, now));
                sim.at(now, Ev::Send(next_task));
            }
            Ev::Send(k) => {
                let task = tasks.get_mut(&k).unwrap();
                assert_eq!(engine.admit(task, now), Admit::Now);
                let id = engine.attempt_started(task, false, now).id;
                flights.insert(k, id);
                let (done, outcome) = sim.origin(now);
                // ballast's default attempt timeout (10 s) never fires here: waits are bounded.
                sim.at(done, Ev::Done(k, outcome));
            }
            Ev::Done(k, outcome) => {
                let ok = matches!(outcome, Outcome::Response { status: 200, .. });
                let mut task = tasks.remove(&k).unwrap();
                match engine.attempt_finished(&mut task, flights[&k], outcome, now) {
                    Decision::Retry { delay_ms } => {
                        tasks.insert(k, task);
                        sim.at(now + delay_ms, Ev::Send(k));
                    }
                    _ => {
                        engine.finish(&mut task, now);
                        let slot = &mut per_sec[(now / 1000.0) as usize];
                        if ok {
                            slot.0 += 1
                        } else {
                            slot.1 += 1
                        }
                    }
                }
                for ev in engine.take_events() {
                    if let Event::Pressure(p) = ev {
                        out.states.push((now, p.state));
                        if p.state != State::Ok && out.warn_at.is_none() {
                            out.warn_at = Some(now);
                        }
                    }
                }
            }
        }
        if out.level_at_30s == 0.0 && now >= 30_000.0 {
            out.level_at_30s = engine.snapshot(now).pressure.level.max(1e-9);
        }
    }
    // The failure rate over a sliding 5 s window first passes 1%.
    for end in 5..per_sec.len() {
        let (ok, failed) = per_sec[end - 5..end]
            .iter()
            .fold((0, 0), |a, s| (a.0 + s.0, a.1 + s.1));
        if ok + failed >= 100 && failed as f64 / (ok + failed) as f64 > 0.01 {
            out.fail_at = Some(end as f64 * 1000.0);
            break;
        }
    }
    out
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

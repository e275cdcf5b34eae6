//! The engine's decisions in virtual time: no I/O, no clock, a seeded RNG. Each test plays the
//! role of the driver against a scripted origin.

mod common;

use ballast_fetch::core::config::BackoffKind;
use ballast_fetch::core::config::LimitSetting;
use ballast_fetch::core::{
    Admit, BodyKind, Config, Decision, Engine, Event, GiveUpReason, Outcome, RequestMeta, Task,
};
use common::{request, resp};

const ALL_EVENTS: u32 = 0b11111;

fn engine(c: Config, seed: u64) -> Engine {
    let mut e = Engine::new(c, seed);
    e.set_listening(ALL_EVENTS);
    e
}

fn meta(method: &str) -> RequestMeta {
    request(method, "http://origin.test/items")
}

fn cfg() -> Config {
    let mut c = Config::default();
    c.retry.backoff.kind = BackoffKind::Exponential;
    c.retry.backoff.base_ms = 100.0;
    c.validated().unwrap()
}

/// Runs one task to the end against `origin` (attempt number -> outcome), each attempt taking
/// `attempt_ms` of virtual time. Returns the decisions and the time at the end.
fn run(
    e: &mut Engine,
    t0: f64,
    attempt_ms: f64,
    mut origin: impl FnMut(usize) -> Outcome,
) -> (Vec<Decision>, f64, Task) {
    let mut now = t0;
    let mut task = e.begin(meta("GET"), now);
    let mut out = vec![];
    for n in 0.. {
        assert_eq!(e.admit(&mut task, now), Admit::Now);
        let id_task = e.attempt_started(&mut task, false, now).id;
        now += attempt_ms;
        let d = e.attempt_finished(&mut task, id_task, origin(n), now);
        out.push(d.clone());
        match d {
            Decision::Retry { delay_ms } => now += delay_ms,
            _ => break,
        }
    }
    e.finish(&mut task, now);
    (out, now, task)
}

#[test]
fn retries_503_with_exponential_backoff_then_succeeds() {
    let mut e = engine(cfg(), 1);
    let (d, end, task) = run(&mut e, 0.0, 10.0, |n| resp(if n < 2 { 503 } else { 200 }));
    assert_eq!(
        d,
        vec![
            Decision::Retry { delay_ms: 100.0 },
            Decision::Retry { delay_ms: 200.0 },
            Decision::Done
        ]
    );
    assert_eq!(end, 330.0);
    assert_eq!(task.attempts().len(), 3);
    let s = e.snapshot(end);
    assert_eq!((s.tasks, s.attempts, s.retries, s.in_flight), (1, 3, 2, 0));
    assert_eq!(s.retry_density, 2.0);
    let kinds: Vec<_> = e
        .take_events()
        .iter()
        .map(|ev| ev.kind())
        .filter(|k| *k != "attempt")
        .collect();
    assert_eq!(kinds, vec!["retry", "retry"]);
}

#[test]
fn last_503_gives_up_with_max_attempts() {
    let mut e = engine(cfg(), 1);
    let (d, _, _) = run(&mut e, 0.0, 1.0, |_| resp(503));
    assert_eq!(d.last(), Some(&Decision::GiveUp(GiveUpReason::MaxAttempts)));
    assert_eq!(d.len(), 4, "the default retry.maxAttempts is 4");
}

#[test]
fn non_retryable_status_is_done_at_once() {
    let mut e = engine(cfg(), 1);
    let (d, _, _) = run(&mut e, 0.0, 1.0, |_| resp(404));
    assert_eq!(d, vec![Decision::Done]);
    assert!(e.take_events().iter().all(|ev| ev.kind() == "attempt"));
}

#[test]
fn retry_after_is_honoured_on_429_and_503_and_clamped() {
    let mut c = cfg();
    c.retry.max_retry_after_ms = 1_500.0;
    let mut e = engine(c, 1);
    let ra = |status, ms| Outcome::Response {
        status,
        retry_after_ms: Some(ms),
    };
    let mut t = e.begin(meta("GET"), 0.0);
    let id_t = e.attempt_started(&mut t, false, 0.0).id;
    assert_eq!(
        e.attempt_finished(&mut t, id_t, ra(503, 1_000.0), 1.0),
        Decision::Retry { delay_ms: 1_000.0 }
    );
    let id_t = e.attempt_started(&mut t, false, 1_001.0).id;
    assert_eq!(
        e.attempt_finished(&mut t, id_t, ra(429, 60_000.0), 1_002.0),
        Decision::Retry { delay_ms: 1_500.0 },
        "clamped to maxRetryAfterMs"
    );
    // On a 500 the header is ignored: the backoff applies.
    let mut t = e.begin(meta("GET"), 0.0);
    let id_t = e.attempt_started(&mut t, false, 0.0).id;
    assert_eq!(
        e.attempt_finished(&mut t, id_t, ra(500, 9_000.0), 1.0),
        Decision::Retry { delay_ms: 100.0 }
    );
}

#[test]
fn a_wait_past_the_deadline_gives_up_at_once() {
    let mut c = cfg();
    c.timeout.total_ms = Some(500.0);
    let mut e = engine(c, 1);
    let mut t = e.begin(meta("GET"), 0.0);
    let id_t = e.attempt_started(&mut t, false, 0.0).id;
    let d = e.attempt_finished(
        &mut t,
        id_t,
        Outcome::Response {
            status: 503,
            retry_after_ms: Some(5_000.0),
        },
        10.0,
    );
    assert_eq!(d, Decision::GiveUp(GiveUpReason::Deadline));
    assert_eq!(
        e.snapshot(10.0).budget.exhausted,
        0,
        "no token spent on a give-up"
    );
}

#[test]
fn post_and_stream_bodies_are_not_retried() {
    let mut e = engine(cfg(), 1);
    let mut t = e.begin(meta("POST"), 0.0);
    let id_t = e.attempt_started(&mut t, false, 0.0).id;
    assert_eq!(
        e.attempt_finished(&mut t, id_t, resp(503), 1.0),
        Decision::GiveUp(GiveUpReason::MethodNotRetryable)
    );
    let mut m = meta("PUT");
    m.body = BodyKind::Stream;
    let mut t = e.begin(m, 0.0);
    let id_t = e.attempt_started(&mut t, false, 0.0).id;
    assert_eq!(
        e.attempt_finished(&mut t, id_t, Outcome::NetworkError, 1.0),
        Decision::GiveUp(GiveUpReason::StreamBody)
    );
    let mut m = meta("POST");
    m.has_idempotency_key = true;
    let mut t = e.begin(m, 0.0);
    let id_t = e.attempt_started(&mut t, false, 0.0).id;
    assert!(matches!(
        e.attempt_finished(&mut t, id_t, resp(503), 1.0),
        Decision::Retry { .. }
    ));
}

#[test]
fn network_errors_and_timeouts_are_retried() {
    let mut e = engine(cfg(), 1);
    let (d, _, _) = run(&mut e, 0.0, 1.0, |n| match n {
        0 => Outcome::NetworkError,
        1 => Outcome::Timeout,
        _ => resp(200),
    });
    assert_eq!(d.len(), 3);
    let reasons: Vec<String> = e
        .take_events()
        .into_iter()
        .filter_map(|ev| match ev {
            Event::Retry(r) => Some(r.reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons, vec!["network", "attempt-timeout"]);
}

/// The outage case in virtual time: 1000 tasks, always 503, ratio 0.1 -> the origin sees at
/// most 1.1 x 1000 + reserve attempts, and the refused retries are counted.
#[test]
fn outage_amplification_is_bounded_by_the_budget() {
    let mut e = engine(cfg(), 7);
    let mut attempts = 0usize;
    for i in 0..1000 {
        let (d, _, _) = run(&mut e, i as f64, 0.0, |_| {
            attempts += 1;
            resp(503)
        });
        assert!(!d.is_empty());
    }
    let reserve = 10;
    assert!(
        attempts <= 1100 + reserve,
        "attempts {attempts} > 1.1 x 1000 + {reserve}"
    );
    let s = e.snapshot(1000.0);
    assert!(s.budget.exhausted > 0);
    assert_eq!(s.attempts as usize, attempts);
    assert_eq!(
        s.giveups.get("budget-exhausted").copied(),
        Some(s.budget.exhausted)
    );
}

#[test]
fn cancel_records_the_attempt_and_the_reason() {
    let mut e = engine(cfg(), 1);
    let mut t = e.begin(meta("GET"), 0.0);
    e.attempt_started(&mut t, false, 0.0);
    e.cancel(&mut t, GiveUpReason::Aborted, 5.0);
    e.finish(&mut t, 5.0);
    assert_eq!(t.attempts()[0].outcome, "aborted");
    let s = e.snapshot(5.0);
    assert_eq!(s.giveups.get("aborted").copied(), Some(1));
    assert_eq!(s.in_flight, 0);
}

#[test]
fn same_seed_same_schedule() {
    let delays = |seed| {
        let mut c = Config::default().validated().unwrap();
        c.retry.max_attempts = 10;
        let mut e = engine(c, seed);
        let (d, _, _) = run(&mut e, 0.0, 1.0, |_| resp(503));
        d
    };
    assert_eq!(delays(42), delays(42));
    assert_ne!(delays(42), delays(43));
}

#[test]
fn recycled_tasks_start_empty_and_decide_the_same() {
    // Each task fails twice, then succeeds (while the retry budget lasts); with recycling the
    // next task gets the emptied lists of the last one.
    let play = |recycle: bool| {
        let mut e = engine(cfg(), 7);
        let mut log = vec![];
        let mut now = 0.0;
        for _ in 0..50 {
            let (d, end, task) = run(&mut e, now, 3.0, |n| resp(if n < 2 { 503 } else { 200 }));
            assert_eq!(task.attempts().len(), d.len());
            log.push((d, end));
            now = end + 1.0;
            if recycle {
                e.recycle(task);
            }
            let fresh = e.begin(meta("GET"), now);
            assert!(
                fresh.attempts().is_empty(),
                "a new task starts with no attempts"
            );
            e.finish(&mut { fresh }, now);
        }
        (log, e.snapshot(now).attempts)
    };
    assert_eq!(play(true), play(false));
}

#[test]
fn memory_stays_bounded_over_many_tasks() {
    let mut e = engine(cfg(), 3);
    for i in 0..200_000u64 {
        let now = i as f64 * 0.5;
        let (_, _, _) = run(&mut e, now, (i % 97) as f64, |n| {
            resp(if n == 0 && i % 10 == 0 { 503 } else { 200 })
        });
        if i % 1000 == 0 {
            e.take_events();
        }
    }
    let s = e.snapshot(100_000.0);
    assert_eq!(s.tasks, 200_000);
    assert!(s.latency.p99 >= s.latency.p50);
}

fn limited(limit: u32, queue: u32, queue_timeout_ms: f64) -> Engine {
    let mut c = cfg();
    c.concurrency.limit = Some(LimitSetting::Fixed(limit as f64));
    c.concurrency.queue = queue as f64;
    c.concurrency.queue_timeout_ms = queue_timeout_ms;
    engine(c.validated().unwrap(), 1)
}

#[test]
fn attempts_beyond_the_limit_queue_then_get_granted_in_order() {
    let mut e = limited(1, 2, 1_000.0);
    let mut a = e.begin(meta("GET"), 0.0);
    let mut b = e.begin(meta("GET"), 0.0);
    let mut c = e.begin(meta("GET"), 0.0);
    assert_eq!(e.admit(&mut a, 0.0), Admit::Now);
    let id_a = e.attempt_started(&mut a, false, 0.0).id;
    let Admit::Queued(tb) = e.admit(&mut b, 1.0) else {
        panic!()
    };
    let Admit::Queued(tc) = e.admit(&mut c, 2.0) else {
        panic!()
    };
    let mut d = e.begin(meta("GET"), 3.0);
    assert_eq!(
        e.admit(&mut d, 3.0),
        Admit::Shed(ballast_fetch::core::ShedReason::QueueFull)
    );
    assert_eq!(
        e.attempt_finished(&mut a, id_a, resp(200), 11.0),
        Decision::Done
    );
    assert_eq!(e.take_granted(), vec![tb]);
    e.attempt_started(&mut b, false, 11.0);
    // c times out while b is in flight: shed, and the queue-wait is measured apart.
    assert_eq!(
        e.queue_timeout(&mut c, 1_002.0),
        Some(GiveUpReason::QueueTimeout)
    );
    assert_eq!(tc, tb + 1);
    let s = e.snapshot(1_002.0);
    assert_eq!((s.in_flight, s.queued, s.limit), (1, 0, Some(1)));
    assert_eq!(s.shed.total, 2);
    assert_eq!(s.shed.by_reason.get("queue-full"), Some(&1));
    assert_eq!(s.queue_wait.count, 2);
    assert!(s.queue_wait.max >= 999.0);
    let sheds = e
        .take_events()
        .into_iter()
        .filter(|ev| ev.kind() == "shed")
        .count();
    assert_eq!(sheds, 2);
}

#[test]
fn retries_pass_through_the_limiter_and_aborts_free_slots() {
    let mut e = limited(1, 0, 1_000.0);
    let mut a = e.begin(meta("GET"), 0.0);
    assert_eq!(e.admit(&mut a, 0.0), Admit::Now);
    let id_a = e.attempt_started(&mut a, false, 0.0).id;
    let mut b = e.begin(meta("GET"), 0.0);
    // The only slot is taken and there is no queue: b is shed at once.
    assert!(matches!(e.admit(&mut b, 0.0), Admit::Shed(_)));
    assert!(matches!(
        e.attempt_finished(&mut a, id_a, resp(503), 5.0),
        Decision::Retry { .. }
    ));
    // The retry asks again; the slot was given back when the attempt ended.
    assert_eq!(e.admit(&mut a, 200.0), Admit::Now);
    e.attempt_started(&mut a, false, 200.0);
    e.cancel(&mut a, GiveUpReason::Aborted, 201.0);
    e.finish(&mut a, 201.0);
    assert_eq!(e.snapshot(201.0).in_flight, 0);
}

#[test]
fn a_grant_to_an_aborted_task_is_passed_on() {
    let mut e = limited(1, 4, 1_000.0);
    let mut a = e.begin(meta("GET"), 0.0);
    let mut b = e.begin(meta("GET"), 0.0);
    let mut c = e.begin(meta("GET"), 0.0);
    e.admit(&mut a, 0.0);
    let id_a = e.attempt_started(&mut a, false, 0.0).id;
    let Admit::Queued(_) = e.admit(&mut b, 0.0) else {
        panic!()
    };
    let Admit::Queued(tc) = e.admit(&mut c, 0.0) else {
        panic!()
    };
    e.attempt_finished(&mut a, id_a, resp(200), 1.0); // grants b
                                                      // b was aborted before it used its grant: finishing it passes the slot to c.
    e.cancel(&mut b, GiveUpReason::Aborted, 2.0);
    e.finish(&mut b, 2.0);
    assert!(e.take_granted().contains(&tc));
    assert_eq!(e.snapshot(2.0).in_flight, 1);
}

/// Memory is bounded: the engine holds no more after 10 million tasks than it did after the first
/// hundred thousand (one task every 10 ms of virtual time, so windows roll over all along). The
/// footprint is sampled every 997 tasks (so at every phase of the window); its maximum must not grow.
#[test]
fn engine_state_does_not_grow_with_tasks() {
    let mut e = engine(cfg(), 9);
    let max_footprint = |e: &mut Engine, from: u64, to: u64| {
        let mut max = 0;
        for i in from..to {
            let now = i as f64 * 10.0;
            run(e, now, (i % 251) as f64 * 0.7, |n| {
                resp(if n == 0 && i % 7 == 0 { 503 } else { 200 })
            });
            e.take_events();
            if i % 997 == 0 {
                max = max.max(e.footprint(now));
            }
        }
        max
    };
    let early = max_footprint(&mut e, 0, 100_000);
    let late = max_footprint(&mut e, 100_000, 10_000_000);
    assert!(early > 0);
    assert!(late <= early, "footprint grew from {early} to {late} bytes");
    assert_eq!(e.snapshot(1e8).tasks, 10_000_000);
}

//! The engine's decisions in virtual time: no I/O, no clock, a seeded RNG. Each test runs calls
//! through the virtual-time executor against a scripted origin; the engine owns every wait
//! (backoff, attempt timeouts, the deadline, hedges, the queue), so these cover what only the JS
//! side could test before.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

mod common;

use ballast_fetch::core::config::{BackoffKind, HedgeConfig, LimitSetting};
use ballast_fetch::core::{
    AbortReason, AttemptOutcome, BodyKind, Config, ErrorCode, Event, Failure, GiveUpReason,
    Settlement,
};
use ballast_fetch::virtual_time::{Executor, Reply};
use common::{exec, get, request, response_of, scripted, Scripted};

const URL: &str = "http://origin.test/items";

fn cfg() -> Config {
    let mut c = Config::default();
    c.retry.backoff.kind = BackoffKind::Exponential;
    c.retry.backoff.base_ms = 100.0;
    c
}

fn status(s: u16) -> Reply {
    Reply::Status(s)
}

fn failed(s: Option<&Settlement>) -> (ErrorCode, GiveUpReason, String) {
    match s {
        Some(Settlement::Failed(f)) => (f.code, f.reason, f.message().clone()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn retries(ex: &Executor<Scripted>) -> Vec<(u32, f64, String)> {
    ex.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Retry(r) => Some((
                r.attempt,
                r.delay_ms,
                match r.reason {
                    ballast_fetch::core::events::RetryCause::Status(s) => format!("status-{s}"),
                    ballast_fetch::core::events::RetryCause::Network => "network".into(),
                    ballast_fetch::core::events::RetryCause::AttemptTimeout => {
                        "attempt-timeout".into()
                    }
                },
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn retries_503_with_exponential_backoff_then_succeeds() {
    let mut ex = exec(
        cfg(),
        1,
        scripted(|n| (10.0, status(if n < 3 { 503 } else { 200 }))),
    );
    let c = ex.call(get(URL));
    assert_eq!(response_of(c.settlement()), Some(3));
    let starts: Vec<f64> = c.starts.iter().map(|(t, _)| *t).collect();
    assert_eq!(starts, [0.0, 110.0, 320.0], "backoff 100 then 200 ms");
    assert_eq!(c.settled.as_ref().unwrap().0, 330.0);
    let s = ex.engine.snapshot(330.0);
    assert_eq!((s.tasks, s.attempts, s.retries, s.in_flight), (1, 3, 2, 0));
    assert_eq!(s.retry_density, 2.0);
    assert_eq!(
        retries(&ex),
        [
            (2, 100.0, "status-503".into()),
            (3, 200.0, "status-503".into())
        ]
    );
}

#[test]
fn last_503_resolves_with_it_and_gives_up_with_max_attempts() {
    let mut ex = exec(cfg(), 1, scripted(|_| (1.0, status(503))));
    let c = ex.call(get(URL));
    assert_eq!(
        response_of(c.settlement()),
        Some(4),
        "the default retry.maxAttempts is 4"
    );
    let giveups: Vec<_> = ex
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::GiveUp(g) => Some((g.reason, g.attempts)),
            _ => None,
        })
        .collect();
    assert_eq!(giveups, [(GiveUpReason::MaxAttempts, 4)]);
}

#[test]
fn a_status_that_is_not_retried_settles_at_once() {
    let mut ex = exec(cfg(), 1, scripted(|_| (1.0, status(404))));
    let c = ex.call(get(URL));
    assert_eq!(response_of(c.settlement()), Some(1));
    assert!(ex.events.iter().all(|(_, e)| e.kind() == "attempt"));
}

#[test]
fn retry_after_is_honoured_on_every_retried_status_and_clamped() {
    let mut c = cfg();
    c.retry.max_retry_after_ms = 1_500.0;
    let replies = [
        Reply::RetryAfter(503, "1".into()),
        Reply::RetryAfter(429, "60".into()),
        Reply::RetryAfter(500, "0".into()),
        status(200),
    ];
    let mut ex = exec(
        c,
        1,
        scripted(move |n| (1.0, replies[n as usize - 1].clone())),
    );
    let call = ex.call(get(URL));
    assert_eq!(response_of(call.settlement()), Some(4));
    let delays: Vec<f64> = retries(&ex).iter().map(|r| r.1).collect();
    assert_eq!(delays, [1_000.0, 1_500.0, 0.0], "clamped; a 500's too");
}

#[test]
fn a_413_is_retried_only_when_it_says_when() {
    // With Retry-After: retried after it, as ky does.
    let replies = [Reply::RetryAfter(413, "2".into()), status(200)];
    let mut ex = exec(
        cfg(),
        1,
        scripted(move |n| (1.0, replies[n as usize - 1].clone())),
    );
    let call = ex.call(get(URL));
    assert_eq!(response_of(call.settlement()), Some(2));
    assert_eq!(
        retries(&ex).iter().map(|r| r.1).collect::<Vec<_>>(),
        [2_000.0]
    );
    // Without: the 413 is the answer.
    let mut ex = exec(cfg(), 1, scripted(|_| (1.0, status(413))));
    let call = ex.call(get(URL));
    assert_eq!(response_of(call.settlement()), Some(1));
    assert!(retries(&ex).is_empty());
    // A status that is not retried stays so, Retry-After or not.
    let mut ex = exec(
        cfg(),
        1,
        scripted(|_| (1.0, Reply::RetryAfter(404, "1".into()))),
    );
    let call = ex.call(get(URL));
    assert_eq!(response_of(call.settlement()), Some(1));
    assert!(retries(&ex).is_empty());
}

#[test]
fn an_http_date_retry_after_is_read_against_the_wall_clock_passed_in() {
    let mut e = common::engine(cfg(), 1);
    let t = e.begin(get(URL), 0.0);
    let Some(ballast_fetch::core::Action::Start(s)) = e.poll_action() else {
        panic!()
    };
    // Wall clock: 2015-10-21T07:28:00Z; the header says 3 s later.
    let wall = 1_445_412_480_000.0;
    e.handle_response(
        t,
        s.attempt,
        503,
        Some("Wed, 21 Oct 2015 07:28:03 GMT"),
        5.0,
        wall,
    );
    let delay = std::iter::from_fn(|| e.poll_event()).find_map(|ev| match ev {
        Event::Retry(r) => Some(r.delay_ms),
        _ => None,
    });
    assert_eq!(delay, Some(3_000.0), "the retry waits until the date");
    e.handle_timeout(3_004.0);
    assert_eq!(e.poll_action(), None, "not before");
    e.handle_timeout(3_005.0);
    assert!(matches!(
        e.poll_action(),
        Some(ballast_fetch::core::Action::Start(_))
    ));
}

#[test]
fn a_retry_after_past_the_deadline_gives_up_at_once_with_the_response() {
    let mut c = cfg();
    c.timeout.total_ms = Some(500.0);
    let mut ex = exec(
        c,
        1,
        scripted(|_| (10.0, Reply::RetryAfter(503, "5".into()))),
    );
    let call = ex.call(get(URL));
    assert_eq!(
        response_of(call.settlement()),
        Some(1),
        "resolves with the 503 in hand"
    );
    assert_eq!(
        call.settled.as_ref().unwrap().0,
        10.0,
        "at once, not after the deadline"
    );
    let s = ex.engine.snapshot(10.0);
    assert_eq!(s.giveups.get("deadline"), Some(&1));
    assert_eq!(s.budget.exhausted, 0, "no token spent on a give-up");
}

#[test]
fn post_and_stream_bodies_are_not_retried_unless_keyed() {
    let mut ex = exec(
        cfg(),
        1,
        scripted(|n| (1.0, if n == 1 { status(503) } else { status(200) })),
    );
    assert_eq!(
        response_of(ex.call(request("POST", URL)).settlement()),
        Some(1)
    );
    let mut m = request("PUT", URL);
    m.body = BodyKind::Stream;
    ex.origin = scripted(|_| (1.0, Reply::Fail(Failure::Network)));
    let (code, reason, _) = failed(ex.call(m).settlement());
    assert_eq!(
        (code, reason),
        (ErrorCode::Network, GiveUpReason::StreamBody)
    );
    let mut m = request("POST", URL);
    m.has_idempotency_key = true;
    ex.origin = scripted(|n| (1.0, if n == 1 { status(503) } else { status(200) }));
    assert_eq!(response_of(ex.call(m).settlement()), Some(2));
}

#[test]
fn network_errors_and_attempt_timeouts_are_retried() {
    let mut c = cfg();
    c.timeout.attempt_ms = Some(50.0);
    let mut ex = exec(
        c,
        1,
        scripted(|n| match n {
            1 => (1.0, Reply::Fail(Failure::Network)),
            2 => (0.0, Reply::Hang),
            _ => (1.0, status(200)),
        }),
    );
    let call = ex.call(get(URL));
    assert_eq!(response_of(call.settlement()), Some(3));
    let reasons: Vec<String> = retries(&ex).into_iter().map(|r| r.2).collect();
    assert_eq!(reasons, ["network", "attempt-timeout"]);
    let outcomes: Vec<AttemptOutcome> = call_attempt_outcomes(&ex);
    assert_eq!(
        outcomes,
        [
            AttemptOutcome::Error,
            AttemptOutcome::Timeout,
            AttemptOutcome::Response
        ]
    );
}

fn call_attempt_outcomes(ex: &Executor<Scripted>) -> Vec<AttemptOutcome> {
    ex.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Attempt(a) => Some(a.outcome),
            _ => None,
        })
        .collect()
}

#[test]
fn failures_that_cannot_succeed_end_after_one_attempt_and_spend_no_budget() {
    for (failure, code) in [
        (Failure::InvalidRequest, ErrorCode::InvalidRequest),
        (Failure::PermissionDenied, ErrorCode::PermissionDenied),
        (Failure::InvalidResponse, ErrorCode::InvalidResponse),
    ] {
        let mut ex = exec(cfg(), 1, scripted(move |_| (1.0, Reply::Fail(failure))));
        let call = ex.call(get(URL));
        let (c, reason, message) = failed(call.settlement());
        assert_eq!(c, code);
        assert_eq!(call.starts.len(), 1, "{failure:?}: one attempt");
        let want = if failure == Failure::InvalidResponse {
            GiveUpReason::InvalidResponse
        } else {
            GiveUpReason::NotRetryable
        };
        assert_eq!(reason, want);
        assert!(message.contains(code.as_str()), "{message}");
        let s = ex.engine.snapshot(ex.now());
        assert_eq!((s.retries, s.budget.exhausted), (0, 0));
        assert_eq!(
            s.budget.balance, 10,
            "{failure:?}: the budget's reserve untouched"
        );
    }
}

#[test]
fn attempt_timeout_versus_deadline() {
    // Attempt timeout 100 ms, deadline 250 ms: two attempts time out, the third is cut by the
    // deadline, which settles the call with a TimeoutError, not ATTEMPT_TIMEOUT.
    let mut c = cfg();
    c.timeout.attempt_ms = Some(100.0);
    c.timeout.total_ms = Some(250.0);
    c.retry.backoff.base_ms = 10.0;
    let mut ex = exec(c, 1, scripted(|_| (0.0, Reply::Hang)));
    let call = ex.call(get(URL));
    assert_eq!(call.settlement(), Some(&Settlement::Deadline));
    assert_eq!(
        call.settled.as_ref().unwrap().0,
        250.0,
        "exactly at the deadline"
    );
    assert_eq!(call.starts.len(), 3);
    assert_eq!(
        call_attempt_outcomes(&ex),
        [AttemptOutcome::Timeout; 3],
        "the last one recorded as cut by the deadline"
    );
    assert!(
        ex.engine.poll_timeout().is_none(),
        "no timer outlives the call"
    );
    // With the deadline further out, the last attempt timeout ends it as ATTEMPT_TIMEOUT.
    let mut c = cfg();
    c.timeout.attempt_ms = Some(100.0);
    c.retry.max_attempts = 2;
    c.retry.backoff.base_ms = 10.0;
    let mut ex = exec(c, 1, scripted(|_| (0.0, Reply::Hang)));
    let (code, reason, _) = failed(ex.call(get(URL)).settlement());
    assert_eq!(
        (code, reason),
        (ErrorCode::AttemptTimeout, GiveUpReason::MaxAttempts)
    );
}

#[test]
fn an_abort_during_a_backoff_sleep_ends_the_call_at_once() {
    let mut c = cfg();
    c.retry.backoff.base_ms = 5_000.0;
    c.retry.backoff.cap_ms = 5_000.0;
    let mut ex = exec(c, 1, scripted(|_| (10.0, status(503))));
    ex.call_at(0.0, 1, get(URL));
    ex.abort_at(1_000.0, 1);
    ex.run();
    let call = &ex.calls[&1];
    assert_eq!(call.settled, Some((1_000.0, Settlement::Aborted)));
    assert_eq!(call.starts.len(), 1, "the retry was never sent");
    let s = ex.engine.snapshot(1_000.0);
    assert_eq!((s.retries, s.attempts, s.active_tasks), (0, 1, 0));
    assert_eq!(s.giveups.get("aborted"), Some(&1));
    assert_eq!(ex.engine.poll_timeout(), None, "no timer outlives the call");
}

#[test]
fn an_abort_mid_attempt_aborts_it_and_records_it() {
    let mut ex = exec(cfg(), 1, scripted(|_| (0.0, Reply::Hang)));
    ex.call_at(0.0, 1, get(URL));
    ex.abort_at(5.0, 1);
    ex.run();
    assert_eq!(ex.calls[&1].settled, Some((5.0, Settlement::Aborted)));
    assert_eq!(call_attempt_outcomes(&ex), [AttemptOutcome::Aborted]);
    let s = ex.engine.snapshot(5.0);
    assert_eq!((s.in_flight, s.giveups.get("aborted")), (0, Some(&1)));
}

#[test]
fn the_hedge_race_keeps_the_winner_aborts_the_loser_and_charges_the_budget_once() {
    let mut c = cfg();
    c.hedge = Some(HedgeConfig {
        after_ms: Some(50.0),
        percentile: None,
        max_extra_load: 0.5,
    });
    // The original takes 500 ms, the hedge 20 ms.
    let mut ex = exec(
        c,
        1,
        scripted(|n| (if n == 1 { 500.0 } else { 20.0 }, status(200))),
    );
    let aborted = std::rc::Rc::new(std::cell::RefCell::new(vec![]));
    let seen = aborted.clone();
    ex = ex.check(move |_, step| seen.borrow_mut().extend(step.aborted.iter().copied()));
    let call = ex.call(get(URL));
    assert_eq!(response_of(call.settlement()), Some(2), "the hedge won");
    assert_eq!(call.settled.as_ref().unwrap().0, 70.0);
    assert_eq!(
        call.starts
            .iter()
            .map(|(t, s)| (*t, s.hedge))
            .collect::<Vec<_>>(),
        [(0.0, false), (50.0, true)]
    );
    assert_eq!(
        *aborted.borrow(),
        [(call.task, 1)],
        "the original is aborted"
    );
    let s = ex.engine.snapshot(70.0);
    assert_eq!((s.hedges.sent, s.hedges.won, s.retries), (1, 1, 0));
    assert_eq!(
        s.budget.balance, 10,
        "a hedge spends the hedge budget, not the retry budget"
    );
    assert_eq!(s.in_flight, 0, "both slots given back");
}

#[test]
fn a_failed_hedge_waits_for_the_original() {
    let mut c = cfg();
    c.hedge = Some(HedgeConfig {
        after_ms: Some(50.0),
        percentile: None,
        max_extra_load: 0.5,
    });
    let mut ex = exec(
        c,
        1,
        scripted(|n| {
            if n == 1 {
                (200.0, status(200))
            } else {
                (10.0, status(503))
            }
        }),
    );
    let call = ex.call(get(URL));
    assert_eq!(response_of(call.settlement()), Some(1));
    assert_eq!(call.settled.as_ref().unwrap().0, 200.0);
}

fn limited(limit: u32, queue: u32, queue_timeout_ms: f64) -> Config {
    let mut c = cfg();
    c.concurrency.limit = Some(LimitSetting::Fixed(f64::from(limit)));
    c.concurrency.queue = f64::from(queue);
    c.concurrency.queue_timeout_ms = queue_timeout_ms;
    c
}

#[test]
fn calls_beyond_the_limit_queue_in_order_then_time_out_or_are_shed() {
    // One slot, two queue places. a holds the slot 10 ms, b then 2 s; c times out in the queue
    // after 1 s; d finds the queue full.
    let latency = |start: &ballast_fetch::core::Start, _: &str, _: f64| {
        (
            if start.task.to_bits() == 1 {
                2_000.0
            } else {
                10.0
            },
            Reply::Status(200),
        )
    };
    let mut ex = Executor::new(
        common::engine(limited(1, 2, 1_000.0), 1),
        Box::new(latency) as Scripted,
    );
    for key in 0..4 {
        ex.call_at(0.0, key, get(URL));
    }
    ex.run();
    let settled = |k: u64| ex.calls[&k].settled.clone().unwrap();
    assert_eq!(settled(0), (10.0, Settlement::Response { attempt: 1 }));
    assert_eq!(
        settled(1),
        (2_010.0, Settlement::Response { attempt: 1 }),
        "granted at 10 ms"
    );
    let (t, s) = settled(2);
    assert_eq!(t, 1_000.0);
    assert_eq!(failed(Some(&s)).1, GiveUpReason::QueueTimeout);
    let (t, s) = settled(3);
    assert_eq!(t, 0.0);
    let (code, reason, message) = failed(Some(&s));
    assert_eq!((code, reason), (ErrorCode::Shed, GiveUpReason::QueueFull));
    assert!(
        message.ends_with("(SHED; gave up: queue-full)"),
        "{message}"
    );
    let s = ex.engine.snapshot(2_010.0);
    assert_eq!((s.in_flight, s.queued, s.limit), (0, 0, Some(1)));
    assert_eq!(s.shed.total, 2);
    assert_eq!(s.queue_wait.count, 2, "b waited 10 ms, c 1 s");
    assert!(s.queue_wait.max >= 990.0);
    let sheds = ex.events.iter().filter(|(_, e)| e.kind() == "shed").count();
    assert_eq!(sheds, 2);
}

#[test]
fn retries_pass_through_the_limiter_and_an_aborted_queued_call_passes_its_slot_on() {
    let mut ex = exec(
        limited(1, 4, 10_000.0),
        1,
        scripted(|_| (100.0, status(200))),
    );
    ex.call_at(0.0, 0, get(URL));
    ex.call_at(0.0, 1, get(URL));
    ex.call_at(0.0, 2, get(URL));
    ex.abort_at(50.0, 1); // queued behind 0
    ex.run();
    assert_eq!(ex.calls[&1].settled, Some((50.0, Settlement::Aborted)));
    assert_eq!(
        ex.calls[&2].settled.as_ref().unwrap().0,
        200.0,
        "2 got the slot 1 gave up"
    );
    assert_eq!(ex.engine.snapshot(200.0).in_flight, 0);
}

#[test]
fn outage_amplification_is_bounded_by_the_budget() {
    // 1000 calls, always 503, ratio 0.1 deposited per task: at most 1.1 x 1000 + the reserve.
    let mut c = cfg();
    c.budget.ratio = 0.1;
    c.budget.deposit_on = ballast_fetch::core::config::DepositOn::Task;
    let mut ex = exec(c, 7, scripted(|_| (0.0, status(503))));
    for i in 0..1000u64 {
        ex.call_at(i as f64, i, get(URL));
    }
    ex.run();
    let s = ex.engine.snapshot(ex.now());
    assert!(
        s.attempts <= 1_110,
        "attempts {} > 1.1 x 1000 + 10",
        s.attempts
    );
    assert!(s.budget.exhausted > 0);
    assert_eq!(
        s.giveups.get("budget-exhausted").copied(),
        Some(s.budget.exhausted)
    );
}

#[test]
fn same_seed_same_schedule() {
    let delays = |seed| {
        let mut c = Config::default();
        c.retry.max_attempts = 10;
        let mut ex = exec(c, seed, scripted(|_| (1.0, status(503))));
        ex.call(get(URL));
        retries(&ex)
    };
    assert_eq!(delays(42), delays(42));
    assert_ne!(delays(42), delays(43));
}

#[test]
fn snapshots_change_nothing() {
    // Two identical runs, one polling snapshot() every millisecond: same events, same state.
    let play = |poll: bool| {
        let mut ex = exec(
            cfg(),
            3,
            scripted(|n| (40.0, status(if n % 3 == 0 { 200 } else { 503 }))),
        );
        for i in 0..300u64 {
            ex.call_at(i as f64 * 20.0, i, get(URL));
        }
        let mut last = None;
        for t in 0..8_000 {
            ex.run_until(f64::from(t));
            if poll {
                last = Some(ex.engine.snapshot(f64::from(t)));
            }
        }
        ex.run();
        let _ = last;
        (
            format!("{:?}", ex.events),
            format!("{:?}", ex.engine.snapshot(ex.now())),
        )
    };
    assert_eq!(play(true), play(false));
}

#[test]
fn pressure_is_evaluated_on_its_timer_while_calls_are_in_progress() {
    // Every attempt hangs: no attempt ever ends, yet the pressure is evaluated once a second.
    let mut c = cfg();
    c.timeout.attempt_ms = None;
    c.timeout.total_ms = None;
    let mut ex = exec(c, 1, scripted(|_| (0.0, Reply::Hang)));
    ex.call_at(0.0, 0, get(URL));
    ex.run_until(3_500.0);
    assert_eq!(
        ex.engine.poll_timeout(),
        Some(4_000.0),
        "the pressure tick, every second"
    );
    ex.abort_at(3_600.0, 0);
    ex.run();
    assert!(
        ex.engine.poll_timeout().is_none(),
        "no timer once nothing is in progress"
    );
}

#[test]
fn memory_stays_bounded_over_many_calls() {
    let mut c = cfg();
    c.timeout.attempt_ms = Some(30_000.0);
    let mut ex = exec(
        c,
        9,
        scripted(|n| (7.0, status(if n == 1 { 503 } else { 200 }))),
    );
    let mut max_early = 0;
    let mut max_late = 0;
    for i in 0..300_000u64 {
        ex.call_at(i as f64 * 2.0, i, get(URL));
        if i % 1000 == 999 {
            ex.run_until(i as f64 * 2.0);
            ex.events.clear();
            ex.calls.retain(|_, c| c.settled.is_none());
            let f = ex.engine.footprint(ex.now());
            if i < 50_000 {
                max_early = max_early.max(f);
            } else {
                max_late = max_late.max(f);
            }
        }
    }
    ex.run();
    assert!(
        max_late <= max_early,
        "footprint grew from {max_early} to {max_late} bytes"
    );
    assert_eq!(ex.engine.snapshot(ex.now()).tasks, 300_000);
    let _ = AbortReason::HedgeLost;
}

#[test]
fn per_call_timeouts_wake_only_their_own_call() {
    // Two calls in backoff at different instants: each one's wake-up (`poll_timeout_of`) is its
    // own, and `handle_timeout_of` carries out its timers alone, as an executor with a timer per
    // call (Workers) needs.
    let mut c = cfg();
    c.retry.backoff.base_ms = 100.0;
    let mut e = common::engine(c, 1);
    let start = |e: &mut ballast_fetch::core::Engine, at: f64| {
        let t = e.begin(get(URL), at);
        let Some(ballast_fetch::core::Action::Start(s)) = e.poll_action() else {
            panic!("a first attempt")
        };
        e.handle_response(t, s.attempt, 503, None, at + 1.0, 0.0);
        while e.poll_action().is_some() {}
        t
    };
    let a = start(&mut e, 0.0);
    let b = start(&mut e, 50.0);
    let (wa, wb) = (e.poll_timeout_of(a).unwrap(), e.poll_timeout_of(b).unwrap());
    assert!(wa < wb, "a's backoff ends first: {wa} vs {wb}");
    assert_eq!(e.poll_timeout(), Some(wa), "the client's earliest is a's");
    // b's wake-up at a's instant: nothing of b's is due, and a's retry waits for a's own.
    e.handle_timeout_of(b, wa);
    assert_eq!(e.poll_action(), None);
    e.handle_timeout_of(a, wa);
    match e.poll_action() {
        Some(ballast_fetch::core::Action::Start(s)) => assert_eq!(s.task, a),
        other => panic!("a's retry, not {other:?}"),
    }
    e.handle_timeout_of(b, wb);
    match e.poll_action() {
        Some(ballast_fetch::core::Action::Start(s)) => assert_eq!(s.task, b),
        other => panic!("b's retry, not {other:?}"),
    }
    // The shared queue still holds their entries: stale now, they start nothing again.
    e.handle_timeout(wb + 1.0);
    assert_eq!(e.poll_action(), None);
}

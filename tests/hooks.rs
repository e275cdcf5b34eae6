//! The retry hooks (`retry.shouldRetry`, `retry.delay`) as the engine sees them: it asks before a
//! call retries or gives up (`Action::Consult`), waits for the answer (`handle_verdict`), and
//! applies its own limits after it. Driven by the virtual-time executor with hooks written in
//! Rust, which may answer late (an asynchronous hook) or throw.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

mod common;

use ballast_fetch::core::config::BackoffKind;
use ballast_fetch::core::events::RetryEvent;
use ballast_fetch::core::{
    Config, ErrorCode, Event, Failure, GiveUpReason, RetryHooks, Settlement, Verdict,
};
use ballast_fetch::virtual_time::{Asked, Executor, Reply};
use common::{exec, get, request, response_of, scripted, Scripted};
use std::cell::RefCell;
use std::rc::Rc;

const URL: &str = "http://origin.test/items";

const BOTH: RetryHooks = RetryHooks {
    should_retry: true,
    delay: true,
};
const SHOULD_RETRY: RetryHooks = RetryHooks {
    should_retry: true,
    delay: false,
};

fn cfg() -> Config {
    let mut c = Config::default();
    c.retry.backoff.kind = BackoffKind::Exponential;
    c.retry.backoff.base_ms = 100.0;
    c
}

fn answer(retry: Option<bool>, delay_ms: Option<f64>) -> Verdict {
    Verdict::Answer { retry, delay_ms }
}

/// An executor whose hooks answer at once with `f(asked)`; every question is kept in the list.
fn hooked(
    c: Config,
    hooks: RetryHooks,
    origin: Scripted,
    mut f: impl FnMut(&Asked) -> Verdict + 'static,
) -> (Executor<Scripted>, Rc<RefCell<Vec<Asked>>>) {
    let asked = Rc::new(RefCell::new(Vec::new()));
    let log = asked.clone();
    let ex = exec(c, 1, origin).consult(hooks, move |a, _| {
        log.borrow_mut().push(a.clone());
        (0.0, f(a))
    });
    (ex, asked)
}

/// `hooked` with `retry.shouldRetry`, against an origin that answers every attempt with a 503.
fn on_503s(
    c: Config,
    f: impl FnMut(&Asked) -> Verdict + 'static,
) -> (Executor<Scripted>, Rc<RefCell<Vec<Asked>>>) {
    hooked(c, SHOULD_RETRY, scripted(|_| (10.0, Reply::Status(503))), f)
}

/// The code, reason and message of a call that failed.
fn failed(s: Option<&Settlement>) -> (ErrorCode, GiveUpReason, String) {
    match s {
        Some(Settlement::Failed(f)) => (f.code, f.reason, f.message()),
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn retry_events(ex: &Executor<Scripted>) -> Vec<RetryEvent> {
    ex.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Retry(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

fn give_ups(ex: &Executor<Scripted>) -> Vec<GiveUpReason> {
    ex.events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::GiveUp(g) => Some(g.reason),
            _ => None,
        })
        .collect()
}

fn starts(c: &ballast_fetch::virtual_time::CallRecord) -> Vec<f64> {
    c.starts.iter().map(|(t, _)| *t).collect()
}

#[test]
fn a_hook_that_leaves_the_verdict_to_the_engine_changes_nothing() {
    let origin = || scripted(|n| (10.0, Reply::Status(if n < 3 { 503 } else { 200 })));
    let mut plain = exec(cfg(), 1, origin());
    let p = plain.call(get(URL));
    let (mut ex, asked) = hooked(cfg(), BOTH, origin(), |_| answer(None, None));
    let h = ex.call(get(URL));
    assert_eq!(starts(&h), starts(&p));
    assert_eq!(h.settled, p.settled);
    let asked = asked.borrow();
    assert_eq!(asked.len(), 2, "asked after each 503, not after the 200");
    assert!(asked.iter().all(|a| a.retry));
    assert_eq!(
        asked.iter().map(|a| a.delay_ms).collect::<Vec<_>>(),
        [100.0, 200.0],
        "the wait the engine would take"
    );
    let sources: Vec<_> = retry_events(&ex).iter().map(|r| r.source).collect();
    assert_eq!(sources, ["backoff", "backoff"]);
}

#[test]
fn should_retry_false_stops_with_the_response_in_hand_and_spends_no_budget() {
    let (mut ex, _) = on_503s(cfg(), |_| answer(Some(false), None));
    let before = ex.engine.snapshot(0.0).budget.balance;
    let c = ex.call(get(URL));
    assert_eq!(response_of(c.settlement()), Some(1));
    assert_eq!(c.starts.len(), 1);
    assert_eq!(give_ups(&ex), [GiveUpReason::Declined]);
    let s = ex.engine.snapshot(ex.now());
    assert_eq!(s.retries, 0);
    assert!(s.budget.balance >= before, "no token withdrawn");
}

#[test]
fn should_retry_false_on_a_network_error_rejects_with_it_reason_declined() {
    let (mut ex, _) = hooked(
        cfg(),
        SHOULD_RETRY,
        scripted(|_| (10.0, Reply::Fail(Failure::Network))),
        |_| answer(Some(false), None),
    );
    let c = ex.call(get(URL));
    let (code, reason, message) = failed(c.settlement());
    assert_eq!((code, reason), (ErrorCode::Network, GiveUpReason::Declined));
    assert!(message.contains("gave up: declined"), "{message}");
}

#[test]
fn should_retry_true_retries_a_status_the_engine_would_not() {
    let (mut ex, asked) = hooked(
        cfg(),
        SHOULD_RETRY,
        scripted(|n| (10.0, Reply::Status(if n == 1 { 404 } else { 200 }))),
        |a| answer(Some(true).filter(|_| !a.retry), None),
    );
    let c = ex.call(get(URL));
    assert_eq!(response_of(c.settlement()), Some(2));
    assert_eq!(starts(&c), [0.0, 110.0], "after the engine's backoff");
    assert_eq!(asked.borrow().len(), 1);
    assert!(
        !asked.borrow()[0].retry,
        "the engine's own verdict: do not retry a 404"
    );
    assert_eq!(retry_events(&ex)[0].source, "backoff");
}

#[test]
fn without_should_retry_only_what_the_engine_retries_is_asked_about() {
    let (mut ex, asked) = hooked(
        cfg(),
        RetryHooks {
            should_retry: false,
            delay: true,
        },
        scripted(|_| (10.0, Reply::Status(404))),
        |_| answer(None, Some(5.0)),
    );
    let c = ex.call(get(URL));
    assert_eq!(response_of(c.settlement()), Some(1));
    assert!(asked.borrow().is_empty());
}

#[test]
fn successes_are_never_asked_about() {
    let (mut ex, asked) = hooked(
        cfg(),
        BOTH,
        scripted(|_| (10.0, Reply::Status(200))),
        |_| answer(Some(true), None),
    );
    for _ in 0..3 {
        let c = ex.call(get(URL));
        assert_eq!(response_of(c.settlement()), Some(1));
    }
    assert!(asked.borrow().is_empty());
}

#[test]
fn delay_sets_the_wait_which_is_still_clamped_and_named_in_the_retry_event() {
    let mut c = cfg();
    c.retry.max_retry_after_ms = 1_000.0;
    let waits = [40.0, 1e9];
    let mut i = 0;
    let (mut ex, _) = hooked(
        c,
        BOTH,
        scripted(|n| (10.0, Reply::Status(if n < 3 { 503 } else { 200 }))),
        move |_| {
            i += 1;
            answer(None, Some(waits[i - 1]))
        },
    );
    let call = ex.call(get(URL));
    assert_eq!(response_of(call.settlement()), Some(3));
    assert_eq!(
        starts(&call),
        [0.0, 50.0, 1_060.0],
        "40 ms, then 1e9 clamped to retry.maxRetryAfterMs"
    );
    let r = retry_events(&ex);
    assert_eq!(
        r.iter().map(|r| (r.delay_ms, r.source)).collect::<Vec<_>>(),
        [(40.0, "hook"), (1_000.0, "hook")]
    );
}

#[test]
fn a_wait_past_the_deadline_gives_up_at_once() {
    let mut c = cfg();
    c.timeout.total_ms = Some(500.0);
    let (mut ex, _) = hooked(c, BOTH, scripted(|_| (10.0, Reply::Status(503))), |_| {
        answer(Some(true), Some(800.0))
    });
    let call = ex.call(get(URL));
    assert_eq!(response_of(call.settlement()), Some(1));
    assert_eq!(
        call.settled.as_ref().unwrap().0,
        10.0,
        "no waiting for nothing"
    );
    assert_eq!(give_ups(&ex), [GiveUpReason::Deadline]);
}

#[test]
fn a_hook_never_buys_more_than_the_attempt_cap_or_the_budget() {
    // Always "retry": three attempts (retry.maxAttempts), asked twice: after the third there is
    // nothing left to ask about.
    let mut three = cfg();
    three.retry.max_attempts = 3;
    let (mut ex, asked) = on_503s(three, |_| answer(Some(true), None));
    let c = ex.call(get(URL));
    assert_eq!((c.starts.len(), asked.borrow().len()), (3, 2));
    assert_eq!(give_ups(&ex), [GiveUpReason::MaxAttempts]);

    // An empty budget: "retry" is answered, the budget says no.
    let mut b = cfg();
    b.budget.ratio = 0.0;
    b.budget.min_per_sec = 0.0;
    let (mut ex, asked) = on_503s(b, |_| answer(Some(true), None));
    let c = ex.call(get(URL));
    assert_eq!((c.starts.len(), asked.borrow().len()), (1, 1));
    assert_eq!(give_ups(&ex), [GiveUpReason::BudgetExhausted]);
}

#[test]
fn a_request_that_may_not_be_sent_twice_is_never_asked_about() {
    let (mut ex, asked) = on_503s(cfg(), |_| answer(Some(true), None));
    let c = ex.call(request("POST", URL));
    assert_eq!(c.starts.len(), 1);
    assert!(asked.borrow().is_empty());
    assert_eq!(give_ups(&ex), [GiveUpReason::MethodNotRetryable]);
}

#[test]
fn a_hook_that_throws_ends_the_call_with_code_hook_naming_it() {
    let (mut ex, _) = on_503s(cfg(), |_| {
        Verdict::Threw("retry.shouldRetry threw Error: boom".into())
    });
    let c = ex.call(get(URL));
    let (code, reason, m) = failed(c.settlement());
    assert_eq!((code, reason), (ErrorCode::Hook, GiveUpReason::HookFailed));
    assert!(
        m.contains("(HOOK; gave up: hook-failed): retry.shouldRetry threw Error: boom"),
        "{m}"
    );
    assert_eq!(ex.engine.active(), 0);
    // The engine goes on as before.
    let (mut ok, _) = hooked(
        cfg(),
        SHOULD_RETRY,
        scripted(|_| (10.0, Reply::Status(200))),
        |_| answer(None, None),
    );
    assert_eq!(response_of(ok.call(get(URL)).settlement()), Some(1));
}

#[test]
fn a_slow_hook_cannot_hold_a_call_past_its_deadline_and_its_late_answer_is_ignored() {
    let mut c = cfg();
    c.timeout.total_ms = Some(300.0);
    let mut ex = exec(c, 1, scripted(|_| (10.0, Reply::Status(503))))
        .consult(SHOULD_RETRY, |_, _| (5_000.0, answer(Some(true), None)));
    let call = ex.call(get(URL));
    assert_eq!(call.settled, Some((300.0, Settlement::Deadline)));
    assert_eq!(call.starts.len(), 1, "the late answer started nothing");
    assert_eq!(ex.engine.active(), 0);
    let s = ex.engine.snapshot(ex.now());
    assert_eq!(
        (s.in_flight, s.queued),
        (0, 0),
        "waiting on a hook holds no slot"
    );
}

#[test]
fn the_caller_can_abort_while_a_hook_decides() {
    let mut ex = exec(cfg(), 1, scripted(|_| (10.0, Reply::Status(503))))
        .consult(SHOULD_RETRY, |_, _| (1_000.0, answer(Some(true), None)));
    ex.call_at(0.0, 7, get(URL));
    ex.abort_at(100.0, 7);
    ex.run();
    let call = &ex.calls[&7];
    assert_eq!(call.settled, Some((100.0, Settlement::Aborted)));
    assert_eq!(call.starts.len(), 1);
}

#[test]
fn an_answer_for_another_attempt_or_call_is_ignored() {
    let (mut ex, _) = hooked(
        cfg(),
        SHOULD_RETRY,
        scripted(|_| (10.0, Reply::Status(200))),
        |_| answer(None, None),
    );
    let c = ex.call(get(URL));
    // The call is over: answers about it change nothing and panic nowhere.
    ex.engine
        .handle_verdict(c.task, 1, answer(Some(true), None), 50.0);
    ex.engine
        .handle_verdict(c.task, 9, Verdict::Threw("x".into()), 50.0);
    assert!(ex.engine.poll_action().is_none());
}

#[test]
fn a_hook_failure_before_an_attempt_is_not_retried_and_blames_no_route() {
    let mut ex = exec(cfg(), 1, scripted(|_| (0.0, Reply::Fail(Failure::Hook))));
    let c = ex.call(get(URL));
    let (code, reason, _) = failed(c.settlement());
    assert_eq!((code, reason), (ErrorCode::Hook, GiveUpReason::HookFailed));
    assert_eq!(c.starts.len(), 1);
}

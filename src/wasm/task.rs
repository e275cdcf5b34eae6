//! One call of the wrapped fetch: the attempt loop that carries out the engine's decisions.
//!
//! Every wait races against the caller's signal and the task deadline, so an abort or the deadline
//! ends the call promptly even mid-sleep or in the queue. Up to two attempts fly at once (the
//! original and a hedge); the first good response wins and the other is aborted.
//!
//! Why the attempt gets an `AbortController` only when something may abort it (an attempt timeout,
//! the deadline, or hedging): on Node, handing `fetch` a signal costs more than everything else
//! ballast does per call (undici registers a WeakRef, a FinalizationRegistry entry and a listener
//! per request), so with timeouts off a call carries exactly the caller's signal, as raw `fetch`
//! would. When an attempt does get its own controller, a fresh one per attempt (unlike ofetch's bug
//! of retrying under an already-aborted signal), combined with the caller's signal by
//! `AbortSignal.any` so the caller's abort still reaches the body after the call settles.
//!
//! Why one timer: the attempt timeout and the deadline share a single `Alarm`, armed just before
//! each wait for whichever comes first, so a call with both timeouts set makes one timer, not two.
//! Timers and listeners live in `Sleep` / `AbortWait` values that clean up when dropped, so nothing
//! outlives the call.

use super::js;
use super::timer::{poll_opt, AbortWait, Settled, Sleep};
use super::Inner;
use crate::core::config::fmt_num;
use crate::core::{Admit, BodyKind, Decision, GiveUpReason, Outcome, Plan, RequestMeta, Task};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use wasm_bindgen::prelude::*;

/// One attempt in flight.
struct Flight {
    id: u32,
    fut: Settled,
    /// Ours to abort (timeout, deadline, lost hedge race); `None` when nothing of ours can.
    controller: Option<JsValue>,
    /// When `timeout.attemptMs` runs out for this attempt.
    timeout_at: Option<f64>,
}

/// What the alarm is set for.
#[derive(Clone, Copy, PartialEq)]
enum Target {
    Deadline,
    /// The attempt timeout of the flight with this id.
    Flight(u32),
}

/// The one timer of a call: the deadline or the earliest attempt timeout, whichever comes first.
#[derive(Default)]
struct Alarm {
    sleep: Option<Sleep>,
    target: Option<(f64, Target)>,
}

impl Alarm {
    /// Sets the alarm for `want` unless it is already set for exactly that.
    fn arm(&mut self, want: Option<(f64, Target)>, now: f64) {
        if self.target == want && (self.sleep.is_some() || want.is_none()) {
            return;
        }
        self.sleep = None;
        self.target = want;
        if let Some((at, _)) = want {
            self.sleep = Some(Sleep::new(at - now));
        }
    }

    /// Resolves with the target when the alarm rings, and disarms it.
    fn poll_ring(&mut self, cx: &mut std::task::Context<'_>) -> Poll<Target> {
        if poll_opt(&mut self.sleep, cx).is_ready() {
            self.sleep = None;
            if let Some((_, t)) = self.target.take() {
                return Poll::Ready(t);
            }
        }
        Poll::Pending
    }
}

/// The earliest of the deadline and the flights' attempt timeouts (the deadline wins a tie).
fn next_alarm(deadline_at: Option<f64>, flights: &[Flight]) -> Option<(f64, Target)> {
    let mut best = deadline_at.map(|d| (d, Target::Deadline));
    for f in flights {
        if let Some(t) = f.timeout_at {
            if best.is_none_or(|(b, _)| t < b) {
                best = Some((t, Target::Flight(f.id)));
            }
        }
    }
    best
}

enum Wake {
    /// Flight `i` settled.
    Settled(usize, Result<JsValue, JsValue>),
    /// Flight `i` hit `timeout.attemptMs`.
    AttemptTimeout(usize),
    Hedge,
    Abort,
    Deadline,
}

/// Waits for any flight, the alarm (deadline or an attempt timeout), the hedge timer or the
/// caller's abort.
async fn wait_flights(
    flights: &mut [Flight],
    hedge: &mut Option<Sleep>,
    abort: &mut AbortWait,
    alarm: &mut Alarm,
) -> Wake {
    poll_fn(|cx| {
        for (i, f) in flights.iter_mut().enumerate() {
            if let Poll::Ready(r) = Pin::new(&mut f.fut).poll(cx) {
                return Poll::Ready(Wake::Settled(i, r));
            }
        }
        if Pin::new(&mut *abort).poll(cx).is_ready() {
            return Poll::Ready(Wake::Abort);
        }
        if let Poll::Ready(t) = alarm.poll_ring(cx) {
            return Poll::Ready(match t {
                Target::Deadline => Wake::Deadline,
                Target::Flight(id) => match flights.iter().position(|f| f.id == id) {
                    Some(i) => Wake::AttemptTimeout(i),
                    // Stale (cannot happen: the alarm is re-armed for the current flights
                    // before every wait): ignored.
                    None => return Poll::Pending,
                },
            });
        }
        if poll_opt(hedge, cx).is_ready() {
            return Poll::Ready(Wake::Hedge);
        }
        Poll::Pending
    })
    .await
}

/// Waits for `op`, the abort or the deadline (the alarm, armed for the deadline only):
/// `Ok(output of op)`, or `Err(aborted)` where `aborted` is false for the deadline.
async fn wait_or_stop<F: Future + Unpin>(
    op: &mut F,
    abort: &mut AbortWait,
    alarm: &mut Alarm,
) -> Result<F::Output, bool> {
    poll_fn(|cx| {
        if let Poll::Ready(out) = Pin::new(&mut *op).poll(cx) {
            return Poll::Ready(Ok(out));
        }
        if Pin::new(&mut *abort).poll(cx).is_ready() {
            return Poll::Ready(Err(true));
        }
        if alarm.poll_ring(cx).is_ready() {
            return Poll::Ready(Err(false));
        }
        Poll::Pending
    })
    .await
}

/// What a call needs besides the engine: its input, signals and timers.
struct Call {
    inner: Rc<Inner>,
    input: JsValue,
    init: JsValue,
    is_request: bool,
    signal: Option<JsValue>,
    attempt_ms: Option<f64>,
    total_ms: Option<f64>,
    /// Whether attempts need a controller of their own (see the module docs).
    own_controller: bool,
}

impl Call {
    /// Sends one attempt as the engine planned it.
    fn launch(&self, plan: &Plan, now: f64) -> Flight {
        // Without a controller of ours, `input` / `init` carry the caller's signal unchanged.
        let controller = self.own_controller.then(js::new_controller);
        let url = plan
            .url
            .as_deref()
            .map(JsValue::from_str)
            .unwrap_or(JsValue::UNDEFINED);
        let promise = js::send(
            &self.inner.transport,
            &self.input,
            &self.init,
            self.signal.as_ref().unwrap_or(&JsValue::NULL),
            controller.as_ref().unwrap_or(&JsValue::NULL),
            self.is_request,
            &url,
            plan.strip_credentials,
        );
        Flight {
            id: plan.id,
            fut: Settled::new(&promise),
            controller,
            timeout_at: self.attempt_ms.map(|ms| now + ms),
        }
    }

    /// The caller aborted (`aborted`) or the total deadline passed: ends the task in the engine
    /// and returns what the call rejects with (the signal's reason, or a `TimeoutError`).
    fn stop(&self, task: &mut Task, aborted: bool, now: f64) -> JsValue {
        let reason = if aborted {
            GiveUpReason::Aborted
        } else {
            GiveUpReason::Deadline
        };
        self.inner.engine(false).cancel(task, reason, now);
        if aborted {
            js::abort_reason(self.signal.as_ref().unwrap_or(&JsValue::NULL))
        } else {
            js::timeout_error(&format!(
                "ballast: timeout.totalMs ({} ms) elapsed",
                fmt_num(self.total_ms.unwrap_or(0.0))
            ))
        }
    }
}

pub async fn run(inner: Rc<Inner>, input: JsValue, init: JsValue) -> Result<JsValue, JsValue> {
    let d = js::describe(&input, &init)?;
    let signal = Some(d.signal()).filter(|s| !s.is_null() && !s.is_undefined());
    if let Some(s) = &signal {
        if js::is_aborted(s) {
            return Err(js::abort_reason(s));
        }
    }
    let meta = RequestMeta {
        method: d.method(),
        url: d.url(),
        has_idempotency_key: d.idempotency_key(),
        body: match d.body() {
            0 => BodyKind::None,
            2 => BodyKind::Stream,
            _ => BodyKind::Replayable,
        },
    };
    // One clock reading per step: the engine's steps between two awaits happen at one instant.
    let started = js::now();
    let (mut task, attempt_ms, total_ms, queue_timeout_ms, hedging) = {
        let mut e = inner.engine(true);
        let t = e.begin(meta, started);
        let c = e.config();
        (
            t,
            c.timeout.attempt_ms,
            c.timeout.total_ms,
            c.concurrency.queue_timeout_ms,
            c.hedge.is_some(),
        )
    };
    let call = Call {
        inner: inner.clone(),
        input,
        init,
        is_request: d.is_request(),
        signal,
        attempt_ms,
        total_ms,
        own_controller: attempt_ms.is_some() || total_ms.is_some() || hedging,
    };
    let deadline_at = task.deadline_ms();
    let mut alarm = Alarm::default();
    let mut abort = AbortWait::new(call.signal.clone());
    // Errors of attempts that ended without a response, by attempt number.
    let mut errors: Vec<(u32, JsValue)> = Vec::new();
    let mut flights: Vec<Flight> = Vec::new();

    let mut now = started;
    let result = 'task: loop {
        // A new attempt: every attempt, retries included, needs a concurrency slot first.
        let admitted = inner.engine(false).admit(&mut task, now);
        inner.after();
        match admitted {
            Admit::Now => {}
            Admit::Shed(_) => {
                let r = GiveUpReason::QueueFull;
                break Err(error_for(&inner, &task, r, "SHED", &errors));
            }
            Admit::Queued(ticket) => {
                let mut grant = inner.wait_for(ticket);
                let mut queue_timer = Sleep::new(queue_timeout_ms);
                let mut waiting = GrantOrTimeout {
                    grant: &mut grant,
                    timer: &mut queue_timer,
                };
                alarm.arm(next_alarm(deadline_at, &[]), now);
                let waited = wait_or_stop(&mut waiting, &mut abort, &mut alarm).await;
                now = js::now();
                inner.forget(ticket);
                match waited {
                    Err(aborted) => break Err(call.stop(&mut task, aborted, now)),
                    Ok(true) => {
                        let shed = inner.engine(false).queue_timeout(&mut task, now);
                        inner.after();
                        if let Some(r) = shed {
                            break Err(error_for(&inner, &task, r, "SHED", &errors));
                        }
                    }
                    Ok(false) => {}
                }
            }
        }
        let plan = inner.engine(false).attempt_started(&mut task, false, now);
        inner.after();
        flights.push(call.launch(&plan, now));
        let mut hedge = inner
            .engine(false)
            .hedge_delay(&mut task, now)
            .map(Sleep::new);

        // Wait for the attempt(s) of this round.
        loop {
            alarm.arm(next_alarm(deadline_at, &flights), now);
            let woke = wait_flights(&mut flights, &mut hedge, &mut abort, &mut alarm).await;
            now = js::now();
            let (i, outcome, response) = match woke {
                Wake::Abort | Wake::Deadline => {
                    let err = call.stop(&mut task, matches!(woke, Wake::Abort), now);
                    abort_flights(&mut flights, &err);
                    break 'task Err(err);
                }
                Wake::Hedge => {
                    hedge = None;
                    if inner.engine(false).try_hedge(&mut task, now) {
                        let plan = inner.engine(false).attempt_started(&mut task, true, now);
                        inner.after();
                        flights.push(call.launch(&plan, now));
                    }
                    continue;
                }
                Wake::AttemptTimeout(i) => {
                    let err = js::timeout_error(&format!(
                        "ballast: timeout.attemptMs ({} ms) elapsed",
                        fmt_num(attempt_ms.unwrap_or(0.0))
                    ));
                    if let Some(c) = &flights[i].controller {
                        js::abort_controller(c, &err);
                    }
                    errors.push((flights[i].id, err));
                    (i, Outcome::Timeout, None)
                }
                Wake::Settled(i, Ok(r)) if js::is_response(&r) => {
                    let status = js::status(&r).clamp(0.0, 999.0) as u16;
                    // Read only where the engine honours it (429, 503): a header lookup per
                    // response is measurable on the hot path.
                    let retry_after_ms = crate::core::retry_after::applies_to(status)
                        .then(|| js::retry_after(&r))
                        .flatten()
                        .and_then(|v| crate::core::retry_after::parse(&v, js::wall_now()));
                    (
                        i,
                        Outcome::Response {
                            status,
                            retry_after_ms,
                        },
                        Some(r),
                    )
                }
                Wake::Settled(i, Ok(other)) => {
                    let msg = format!(
                        "ballast: the transport resolved with {} instead of a Response",
                        js::describe_error(&other)
                    );
                    errors.push((flights[i].id, js_sys::TypeError::new(&msg).into()));
                    flights.remove(i);
                    inner
                        .engine(false)
                        .cancel(&mut task, GiveUpReason::InvalidResponse, now);
                    abort_flights(&mut flights, &JsValue::UNDEFINED);
                    let r = GiveUpReason::InvalidResponse;
                    break 'task Err(error_for(&inner, &task, r, "INVALID_RESPONSE", &errors));
                }
                Wake::Settled(i, Err(e)) => {
                    if call.signal.as_ref().is_some_and(js::is_aborted) {
                        let err = call.stop(&mut task, true, now);
                        abort_flights(&mut flights, &err);
                        break 'task Err(err);
                    }
                    errors.push((flights[i].id, e));
                    (i, Outcome::NetworkError, None)
                }
            };
            let flight = flights.remove(i);
            let timed_out = outcome == Outcome::Timeout;
            let decision = inner
                .engine(false)
                .attempt_finished(&mut task, flight.id, outcome, now);
            inner.after();
            match (decision, response) {
                (Decision::Wait, r) => {
                    if let Some(r) = r {
                        js::discard(&r);
                    }
                    continue;
                }
                (Decision::Done | Decision::GiveUp(_), Some(r)) => {
                    // The winner: the other attempt still in flight, if any, lost the race.
                    for f in &flights {
                        inner.engine(false).abandon(&mut task, f.id, now);
                    }
                    abort_flights(&mut flights, &JsValue::UNDEFINED);
                    break 'task Ok(r);
                }
                (Decision::GiveUp(reason), None) => {
                    let code = if timed_out {
                        "ATTEMPT_TIMEOUT"
                    } else {
                        "NETWORK"
                    };
                    break 'task Err(error_for(&inner, &task, reason, code, &errors));
                }
                (Decision::Done, None) => {
                    let r = GiveUpReason::MaxAttempts;
                    break 'task Err(error_for(&inner, &task, r, "NETWORK", &errors));
                }
                (Decision::Retry { delay_ms }, response) => {
                    if let Some(r) = response {
                        js::discard(&r);
                    }
                    let mut sleep = Sleep::new(delay_ms);
                    alarm.arm(next_alarm(deadline_at, &[]), now);
                    let slept = wait_or_stop(&mut sleep, &mut abort, &mut alarm).await;
                    now = js::now();
                    if let Err(aborted) = slept {
                        break 'task Err(call.stop(&mut task, aborted, now));
                    }
                    continue 'task;
                }
            }
        }
    };
    drop(alarm);
    drop(abort);
    inner.engine(false).finish(&mut task, now);
    inner.after();
    result
}

/// Aborts every attempt still in flight with `reason` and drops them (and their timers).
fn abort_flights(flights: &mut Vec<Flight>, reason: &JsValue) {
    for f in flights.drain(..) {
        if let Some(c) = &f.controller {
            js::abort_controller(c, reason);
        }
    }
}

/// A queued attempt's wait: `false` when a slot is granted, `true` when its queue timeout passes.
struct GrantOrTimeout<'a> {
    grant: &'a mut super::timer::Grant,
    timer: &'a mut Sleep,
}

impl Future for GrantOrTimeout<'_> {
    type Output = bool;
    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<bool> {
        if Pin::new(&mut *self.grant).poll(cx).is_ready() {
            return Poll::Ready(false);
        }
        if Pin::new(&mut *self.timer).poll(cx).is_ready() {
            return Poll::Ready(true);
        }
        Poll::Pending
    }
}

/// A `BallastError` for a task that ended without a response.
fn error_for(
    inner: &Inner,
    task: &Task,
    reason: GiveUpReason,
    code: &str,
    errors: &[(u32, JsValue)],
) -> JsValue {
    let attempts = js_sys::Array::new();
    for rec in task.attempts() {
        let o = super::to_js::attempt_record(rec);
        if let Some((_, e)) = errors.iter().find(|(id, _)| *id == rec.attempt) {
            let _ = js_sys::Reflect::set(&o, &JsValue::from_str("error"), e);
        }
        attempts.push(&o);
    }
    let cause = errors
        .last()
        .map(|(_, e)| e.clone())
        .unwrap_or(JsValue::UNDEFINED);
    let meta = task.meta();
    let message = format!(
        "ballast: {} {} failed after {} attempt{} ({}; gave up: {}): {}",
        meta.method,
        meta.url,
        task.attempts().len(),
        if task.attempts().len() == 1 { "" } else { "s" },
        code,
        reason.as_str(),
        js::describe_error(&cause),
    );
    inner
        .hooks
        .ballast_error(code, reason.as_str(), &message, &cause, attempts.into())
}

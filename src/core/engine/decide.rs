//! What happens after an attempt: a response that is not retried settles the call; otherwise the
//! call waits for its other attempt, retries (how soon), or gives up.
//!
//! The checks come cheapest and most certain first, and the budget last, so that a call which
//! would give up anyway never spends a token: a status that is not retried settles the call;
//! another attempt still in flight: wait for it; method or body not replayable; attempts used up;
//! the wait (backoff, or a response's `Retry-After`, clamped) would pass the deadline (a fallback
//! route, if any, serves at once instead); the retry budget is empty (likewise).
//!
//! With retry hooks (`Engine::set_consult`) the engine asks before that last part: once the call
//! could retry at all (nothing else in flight, the request replayable, attempts left), it says
//! what it would do (`Action::Consult`) and waits for the answer (`handle_verdict`). The hooks
//! can decline a retry, ask for one on a failure the engine would not retry (any status from 400
//! up, with `retry.shouldRetry`), and set the wait; the deadline, the clamp and the budget still
//! apply after them, so a hook can never buy more retries than the engine would allow. While it
//! waits the call holds no slot, and its deadline and the caller's abort still end it.

use super::*;
use crate::core::action::Verdict;
use crate::core::call::{Consulted, Ended};

/// What a call does after an attempt that did not settle it.
enum Next {
    /// Another attempt is still in flight: wait for it.
    Wait,
    /// Sleep this long, then the next attempt.
    Retry(f64),
    /// Stop: with this attempt's response if it had one, else with an error.
    GiveUp(GiveUpReason),
}

impl Engine {
    /// Attempt `attempt` ended. Returns whether the call goes on.
    pub(super) fn attempt_ended(
        &mut self,
        id: TaskId,
        call: &mut Call,
        attempt: u32,
        ended: Ended,
        now: f64,
    ) -> bool {
        let Some(flight) = call.flight(attempt) else {
            return true; // over already (timed out, lost, aborted): nothing to do
        };
        let hedge = flight.hedge;
        let status = match ended {
            Ended::Response { status, .. } => Some(status),
            _ => None,
        };
        let (outcome, retryable) = match &ended {
            Ended::Response {
                status,
                retry_after_ms,
                ..
            } => (
                AttemptOutcome::Response,
                self.cfg.retry.statuses.contains(status)
                    || (*status == retry_after::RETRIED_WITH_RETRY_AFTER
                        && retry_after_ms.is_some()),
            ),
            Ended::Failed(_) => (AttemptOutcome::Error, true),
            Ended::Timeout => (AttemptOutcome::Timeout, true),
        };
        let verdict = match ended {
            // The route is not to blame for what the transport, the request or a hook did.
            Ended::Failed(Failure::InvalidRequest | Failure::PermissionDenied | Failure::Hook) => {
                None
            }
            _ => Some(!retryable),
        };
        self.end_flight(call, attempt, outcome, status, verdict, now);
        self.eval_pressure(now);
        if let Ended::Failed(
            f @ (Failure::InvalidResponse
            | Failure::InvalidRequest
            | Failure::PermissionDenied
            | Failure::Hook),
        ) = ended
        {
            let reason = match f {
                Failure::InvalidResponse => GiveUpReason::InvalidResponse,
                Failure::Hook => GiveUpReason::HookFailed,
                _ => GiveUpReason::NotRetryable,
            };
            self.abort_all(id, call, AbortReason::CallEnded, now);
            self.give_up_event(call, reason);
            self.settle_failed(id, call, f.code(), reason, now);
            return false;
        }
        if self.hooks.any() && self.may_consult(call, &ended, retryable) {
            let delay_ms = self.proposed_delay(call, &ended);
            call.hedge_at = None;
            call.phase = Phase::Consult;
            call.consult = Some(Consulted {
                attempt,
                ended,
                hedge,
                retry: retryable,
                delay_ms,
            });
            self.actions.push(Action::Consult {
                task: id,
                attempt,
                retry: retryable,
                delay_ms,
            });
            return true;
        }
        if !retryable {
            return self.keep(id, call, attempt, hedge, now);
        }
        let next = self.next(call, &ended, now);
        self.go_on(id, call, attempt, ended, next, now)
    }

    /// The retry hooks answered on attempt `attempt` of the call (`Action::Consult`). Returns
    /// whether the call goes on.
    pub(super) fn verdict(
        &mut self,
        id: TaskId,
        call: &mut Call,
        attempt: u32,
        verdict: Verdict,
        now: f64,
    ) -> bool {
        let Some(c) = call.consult.take_if(|c| c.attempt == attempt) else {
            return true; // not what the call waits for: an answer for an earlier attempt
        };
        call.phase = Phase::Attempts;
        let (retry, delay_ms) = match verdict {
            Verdict::Threw(detail) => {
                call.last_error = Some(Cause::Host(detail));
                self.give_up_event(call, GiveUpReason::HookFailed);
                self.settle_failed(id, call, ErrorCode::Hook, GiveUpReason::HookFailed, now);
                return false;
            }
            Verdict::Answer { retry, delay_ms } => (retry.unwrap_or(c.retry), delay_ms),
        };
        let next = match (retry, c.retry) {
            (false, false) => return self.keep(id, call, attempt, c.hedge, now),
            (false, true) => Next::GiveUp(GiveUpReason::Declined),
            (true, _) => {
                let hooked = delay_ms.filter(|d| *d >= 0.0);
                let delay = match hooked {
                    Some(d) => d.min(self.cfg.retry.max_retry_after_ms),
                    None => c.delay_ms,
                };
                self.retry_in(call, &c.ended, delay, hooked.is_some(), now)
            }
        };
        self.go_on(id, call, attempt, c.ended, next, now)
    }

    /// Whether to ask the hooks about this end of the call's last attempt: only where the call
    /// could retry at all, and (besides what the engine retries) on a status from 400 up when
    /// `retry.shouldRetry` may widen what is retried.
    fn may_consult(&self, call: &Call, ended: &Ended, retryable: bool) -> bool {
        let candidate = retryable
            || (self.hooks.should_retry
                && matches!(ended, Ended::Response { status, .. } if *status >= 400));
        candidate
            && call.flights.is_empty()
            && call.eligible.is_ok()
            && call.attempts.len() < self.cfg.retry.max_attempts as usize
    }

    /// The call settles with attempt `attempt`'s response, a status that is not retried: it won
    /// (a hedge's win is counted), its other attempt is aborted.
    fn keep(&mut self, id: TaskId, call: &mut Call, attempt: u32, hedge: bool, now: f64) -> bool {
        if hedge {
            self.hedges.won += 1;
        }
        if self.cfg.budget.deposit_on == DepositOn::Success {
            self.deposit(now);
        }
        self.abort_all(id, call, AbortReason::HedgeLost, now);
        self.settle(id, call, Settlement::Response { attempt }, now);
        false
    }

    /// Carries out `next` for the call whose attempt `attempt` ended so. Returns whether the call
    /// goes on.
    fn go_on(
        &mut self,
        id: TaskId,
        call: &mut Call,
        attempt: u32,
        ended: Ended,
        next: Next,
        now: f64,
    ) -> bool {
        match next {
            Next::Wait => true,
            Next::Retry(delay_ms) => {
                call.hedge_at = None;
                if delay_ms <= 0.0 {
                    return self.admit(id, call, now);
                }
                call.phase = Phase::Backoff(now + delay_ms);
                self.timers.set(now + delay_ms, Timer::Backoff(id));
                true
            }
            Next::GiveUp(reason) => {
                self.give_up_event(call, reason);
                match ended {
                    Ended::Response { .. } => {
                        self.settle(id, call, Settlement::Response { attempt }, now)
                    }
                    Ended::Timeout => {
                        self.settle_failed(id, call, ErrorCode::AttemptTimeout, reason, now)
                    }
                    Ended::Failed(f) => self.settle_failed(id, call, f.code(), reason, now),
                }
                false
            }
        }
    }

    /// After a retryable failure of the call's last attempt in flight: retry (and how soon), or
    /// give up. The order of checks is in the module docs.
    fn next(&mut self, call: &mut Call, ended: &Ended, now: f64) -> Next {
        if !call.flights.is_empty() {
            return Next::Wait;
        }
        if let Err(r) = call.eligible {
            return Next::GiveUp(r);
        }
        if call.attempts.len() >= self.cfg.retry.max_attempts as usize {
            return Next::GiveUp(GiveUpReason::MaxAttempts);
        }
        let delay_ms = self.proposed_delay(call, ended);
        self.retry_in(call, ended, delay_ms, false, now)
    }

    /// The wait before the call's next attempt: the response's `Retry-After` (clamped), else the
    /// backoff.
    fn proposed_delay(&mut self, call: &Call, ended: &Ended) -> f64 {
        match ended {
            Ended::Response {
                retry_after_ms: Some(ra),
                ..
            } => ra.min(self.cfg.retry.max_retry_after_ms),
            _ => backoff::delay_ms(
                &self.cfg.retry.backoff,
                call.attempts.len() as u32 - 1,
                call.prev_delay_ms,
                &mut self.rng,
            ),
        }
    }

    /// Retries after `delay_ms` (`hooked`: the `retry.delay` hook's) unless that would pass the
    /// deadline or the budget is empty (a fallback route, if any, serves at once instead).
    fn retry_in(
        &mut self,
        call: &mut Call,
        ended: &Ended,
        mut delay_ms: f64,
        hooked: bool,
        now: f64,
    ) -> Next {
        let n = call.attempts.len() as u32;
        let routed = call.remainder.is_some();
        if let Some(deadline) = call.deadline_ms {
            if now + delay_ms >= deadline {
                if !(routed && self.routing.has_fallback(now)) {
                    return Next::GiveUp(GiveUpReason::Deadline);
                }
                // A fallback is another origin: serve from it at once instead of waiting.
                call.forced_fallback = Some(FallbackReason::Deadline);
                delay_ms = 0.0;
            }
        }
        if call.forced_fallback.is_none() && !self.withdraw(now) {
            if !(routed && self.routing.has_fallback(now)) {
                return Next::GiveUp(GiveUpReason::BudgetExhausted);
            }
            // The budget protects the primaries; the fallback is not the origin being spared.
            call.forced_fallback = Some(FallbackReason::BudgetExhausted);
            delay_ms = 0.0;
        }
        call.prev_delay_ms = delay_ms;
        if self.wants(const { bit("retry") }) {
            let reason = match ended {
                Ended::Response { status, .. } => RetryCause::Status(*status),
                Ended::Failed(_) => RetryCause::Network,
                Ended::Timeout => RetryCause::AttemptTimeout,
            };
            let source = match ended {
                _ if hooked => "hook",
                Ended::Response {
                    retry_after_ms: Some(_),
                    wait_header: Some(h),
                    ..
                } => h,
                _ => "backoff",
            };
            let ev = Event::Retry(RetryEvent {
                attempt: n + 1,
                delay_ms,
                reason,
                source,
                method: String::from(&*call.meta.method),
                url: self.shown_url(&call.meta),
            });
            self.events.push(ev);
        }
        Next::Retry(delay_ms)
    }
}

//! What happens after an attempt: a response that is not retried settles the call; otherwise the
//! call waits for its other attempt, retries (how soon), or gives up.
//!
//! The checks come cheapest and most certain first, and the budget last, so that a call which
//! would give up anyway never spends a token: a status that is not retried settles the call;
//! another attempt still in flight: wait for it; method or body not replayable; attempts used up;
//! the wait (backoff, or a response's `Retry-After`, clamped) would pass the deadline (a fallback
//! route, if any, serves at once instead); the retry budget is empty (likewise).

use super::*;

/// How an attempt ended, inside the engine.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Ended {
    /// A response arrived. `retry_after_ms` is the wait its `Retry-After` (or a rate-limit header:
    /// `wait_header` names it) asks for, if any.
    Response {
        status: u16,
        retry_after_ms: Option<f64>,
        wait_header: Option<&'static str>,
    },
    Failed(Failure),
    /// `timeout.attemptMs` ran out.
    Timeout,
}

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
            // The route is not to blame for what the transport or the request did.
            Ended::Failed(Failure::InvalidRequest | Failure::PermissionDenied) => None,
            _ => Some(!retryable),
        };
        self.end_flight(call, attempt, outcome, status, verdict, now);
        self.eval_pressure(now);
        if let Ended::Failed(
            f @ (Failure::InvalidResponse | Failure::InvalidRequest | Failure::PermissionDenied),
        ) = ended
        {
            let reason = match f {
                Failure::InvalidResponse => GiveUpReason::InvalidResponse,
                _ => GiveUpReason::NotRetryable,
            };
            self.abort_all(id, call, AbortReason::CallEnded, now);
            self.give_up_event(call, reason);
            self.settle_failed(id, call, f.code(), reason, now);
            return false;
        }
        if !retryable {
            if hedge {
                self.hedges.won += 1;
            }
            if self.cfg.budget.deposit_on == DepositOn::Success {
                self.budget.deposit(now);
            }
            self.abort_all(id, call, AbortReason::HedgeLost, now);
            self.settle(id, call, Settlement::Response { attempt }, now);
            return false;
        }
        match self.next(call, &ended, now) {
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
        let n = call.attempts.len() as u32;
        if n >= self.cfg.retry.max_attempts {
            return Next::GiveUp(GiveUpReason::MaxAttempts);
        }
        let mut delay_ms = match ended {
            Ended::Response {
                retry_after_ms: Some(ra),
                ..
            } => ra.min(self.cfg.retry.max_retry_after_ms),
            _ => backoff::delay_ms(
                &self.cfg.retry.backoff,
                n - 1,
                call.prev_delay_ms,
                &mut self.rng,
            ),
        };
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
        if call.forced_fallback.is_none() && !self.budget.withdraw(now) {
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
            self.events.push_back(ev);
        }
        Next::Retry(delay_ms)
    }
}

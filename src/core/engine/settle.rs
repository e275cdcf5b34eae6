//! How a call ends: what it still holds is freed, its give-up is recorded, and the executor is
//! asked to settle it (with a response, an abort, the deadline, or a `BallastError`).

use super::*;

impl Engine {
    /// The call ends outside the normal flow (the caller aborted, the deadline ran out): aborts
    /// its attempts, frees its queue place, settles it. Returns false (the call is over).
    pub(super) fn end(
        &mut self,
        id: TaskId,
        call: &mut Call,
        reason: GiveUpReason,
        settlement: Settlement,
        now: f64,
    ) -> bool {
        let abort = match reason {
            GiveUpReason::Deadline => AbortReason::Deadline,
            _ => AbortReason::CallerAbort,
        };
        self.abort_all(id, call, abort, now);
        self.give_up_event(call, reason);
        self.settle(id, call, settlement, now);
        false
    }

    pub(super) fn give_up_event(&mut self, call: &Call, reason: GiveUpReason) {
        self.metrics.gave_up(reason.as_str());
        if self.wants(const { bit("giveup") }) {
            let ev = Event::GiveUp(GiveUpEvent {
                reason,
                attempts: call.attempts.len() as u32,
                method: String::from(&*call.meta.method),
                url: self.shown_url(&call.meta),
            });
            self.events.push(ev);
        }
    }

    pub(super) fn settle_failed(
        &mut self,
        id: TaskId,
        call: &mut Call,
        code: ErrorCode,
        reason: GiveUpReason,
        now: f64,
    ) {
        // The call ends here: what the failure reports moves out of it.
        let failed = Failed {
            code,
            reason,
            attempts: Vec::new(),
            method: core::mem::take(&mut call.meta.method),
            url: core::mem::take(&mut call.meta.url),
            cause: call.last_error.take(),
            show_query: !self.cfg.redact.query,
        };
        // A report the executor gave back (`reuse`) keeps its box, and its emptied list of
        // attempts goes to the call, which is recycled with it.
        let spare = if REUSES_REPORTS {
            self.spare_failed.pop()
        } else {
            None
        };
        let failed = match spare {
            Some(mut b) => {
                *b = Failed {
                    attempts: take_attempts(&mut call.attempts, core::mem::take(&mut b.attempts)),
                    ..failed
                };
                b
            }
            None => Box::new(Failed {
                attempts: take_attempts(&mut call.attempts, Vec::new()),
                ..failed
            }),
        };
        self.settle(id, call, Settlement::Failed(failed), now);
    }

    /// The call is over: frees what it still holds, records it, and asks the executor to settle.
    pub(super) fn settle(&mut self, id: TaskId, call: &mut Call, settlement: Settlement, now: f64) {
        if let Phase::Queued(_) = call.phase {
            if self.limiter.leave(id.to_bits(), now).is_none() {
                self.release_slot(None, now); // granted but never used: give it back
            }
        }
        // An attempt was sent (`attempts` may have moved into a `Failed` by now).
        if call.remainder.is_some() && call.next_id > 1 {
            let mut notices = Vec::new();
            self.routing
                .task_finished(call.served_by_fallback, now, &mut notices);
            self.notices(notices);
        }
        // A call of one attempt lasted as long as it: its sample is the attempt's, worked out once.
        let latency = (now - call.start_ms).max(0.0);
        let sample = match self.last_sample {
            Some(s) if s.value().to_bits() == latency.to_bits() => s,
            _ => Sample::from(latency),
        };
        if KEEPS_TASK_SAMPLE {
            self.last_task_sample = Some(sample);
        }
        self.metrics.task_finished(sample, now);
        self.actions.push(Action::Settle {
            task: id,
            settlement,
        });
    }
}

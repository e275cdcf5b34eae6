//! Attempts: a slot from the limiter (or a place in its queue, or shed), a route, the timers an
//! attempt sets, and what ending one does to the slot, the route and the metrics.

use super::*;

impl Engine {
    /// Asks for a concurrency slot for the call's next attempt and starts it, queues it, or sheds
    /// the call. Returns whether the call goes on.
    pub(super) fn admit(&mut self, id: TaskId, call: &mut Call, now: f64) -> bool {
        match self.limiter.acquire(id.to_bits(), now) {
            Admit::Now => {
                self.start(id, call, false, true, now);
                true
            }
            Admit::Queued => {
                call.phase = Phase::Queued(now);
                let at = now + self.cfg.concurrency.queue_timeout_ms;
                self.timers.set(at, Timer::QueueTimeout(id));
                true
            }
            Admit::Shed(reason) => {
                self.shed(call, reason, 0.0);
                self.settle_failed(id, call, ErrorCode::Shed, reason.give_up(), now);
                false
            }
        }
    }

    /// Starts the attempts of calls whose queued attempt was granted a slot.
    pub(super) fn grants(&mut self, now: f64) {
        while self.limiter.has_granted() {
            for (ticket, waited) in self.limiter.take_granted() {
                let id = TaskId::from_bits(ticket);
                let queued = matches!(self.calls.get(id).map(|c| c.phase), Some(Phase::Queued(_)));
                let Some(mut call) = queued.then(|| self.calls.take(id)).flatten() else {
                    // Its call is gone: hand the slot on.
                    self.release_slot(None, now);
                    continue;
                };
                self.metrics.queue_wait(waited, now);
                self.pressure.queue_wait(waited, now);
                call.phase = Phase::Attempts;
                self.start(id, &mut call, false, true, now);
                self.calls.restore(id, call);
            }
        }
    }

    /// The queued attempt waited `concurrency.queueTimeoutMs`: the call is shed.
    pub(super) fn queue_timeout(&mut self, id: TaskId, call: &mut Call, now: f64) -> bool {
        let Some(waited) = self.limiter.leave(id.to_bits(), now) else {
            return true; // granted meanwhile: `grants` starts it
        };
        // Out of the queue, and holding no slot: `settle` must not give one back for it.
        call.phase = Phase::Attempts;
        self.metrics.queue_wait(waited, now);
        self.pressure.queue_wait(waited, now);
        self.shed(call, ShedReason::QueueTimeout, waited);
        self.settle_failed(id, call, ErrorCode::Shed, GiveUpReason::QueueTimeout, now);
        false
    }

    pub(super) fn shed(&mut self, call: &Call, reason: ShedReason, waited_ms: f64) {
        self.metrics.shed(reason.as_str());
        if self.wants(const { bit("shed") }) {
            let ev = Event::Shed(ShedEvent {
                reason,
                attempt: call.attempts.len() as u32 + 1,
                waited_ms,
                queued: self.limiter.queued() as u32,
                in_flight: self.limiter.in_flight(),
                limit: self.limiter.limit(),
                method: String::from(&*call.meta.method),
                url: self.shown_url(&call.meta),
            });
            self.events.push(ev);
        }
    }

    /// Sends the call's next attempt (it holds a slot if `holding`): picks its route, sets its
    /// timers, and asks the executor to start it.
    pub(super) fn start(
        &mut self,
        id: TaskId,
        call: &mut Call,
        hedge: bool,
        holding: bool,
        now: f64,
    ) {
        let attempt = call.next_id;
        call.next_id += 1;
        let pick = call
            .remainder
            .is_some()
            .then(|| self.pick(call, hedge, now));
        let mut start = Start {
            task: id,
            attempt,
            url: None,
            route: None,
            strip_credentials: false,
            hedge,
        };
        if let (Some(p), Some(rem)) = (pick, call.remainder) {
            let r = &self.routing.routes[p.route];
            if self.urls {
                let (slash, rest) = rem.parts(&call.meta.url);
                start.url = Some(cat!(r.url, slash, rest));
            }
            start.route = Some(p.route);
            let addressed = match &call.addressed {
                Some(origin) => origin,
                None => &self.routing.routes[0].origin,
            };
            // The same string when the route is the first one: equal without comparing.
            start.strip_credentials = !core::ptr::eq(addressed, &r.origin)
                && *addressed != r.origin
                && !r.forward_credentials;
            if start.strip_credentials {
                self.routing.routes[p.route].credentials_stripped += 1;
            }
            self.routing.attempt_started(p.route, p.probe);
            match p.fallback {
                Some(reason) => {
                    call.served_by_fallback = true;
                    if self.wants(const { bit("fallback") }) {
                        let from = call
                            .failed_routes
                            .last()
                            .map(|i| self.routing.routes[*i].name.as_ref().to_owned());
                        let ev = Event::Fallback(FallbackEvent {
                            reason,
                            route: self.routing.routes[p.route].name.as_ref().to_owned(),
                            from,
                            method: String::from(&*call.meta.method),
                            url: self.shown_url(&call.meta),
                        });
                        self.events.push(ev);
                    }
                }
                None => call.served_by_fallback = false,
            }
        }
        if hedge {
            self.hedges.sent += 1;
            if self.wants(const { bit("hedge") }) {
                let name =
                    |i: Option<usize>| i.map(|i| self.routing.routes[i].name.as_ref().to_owned());
                let ev = Event::Hedge(HedgeEvent {
                    route: name(pick.map(|p| p.route)),
                    from: name(call.flights.first().and_then(|f| f.route)),
                    after_ms: call.hedge_after_ms,
                    method: String::from(&*call.meta.method),
                    url: self.shown_url(&call.meta),
                });
                self.events.push(ev);
            }
        } else if attempt > 1 {
            // Counted when sent, not when decided: a call aborted or out of time during its
            // backoff never sends the retry it was granted.
            self.metrics.retried(now);
            self.pressure.retry(now);
        }
        self.metrics.attempt_started();
        let timeout_at = self.cfg.timeout.attempt_ms.map(|t| now + t);
        if let Some(at) = timeout_at {
            self.timers.set(at, Timer::AttemptTimeout(id, attempt));
        }
        call.flights.push(Flight {
            id: attempt,
            route: pick.map(|p| p.route),
            probe: pick.is_some_and(|p| p.probe),
            hedge,
            start: now,
            holding,
            timeout_at,
        });
        self.actions.push(Action::Start(start));
        if !hedge {
            call.hedge_at = None;
            if let Some(after) = self.hedge_delay(call, now) {
                call.hedge_after_ms = after;
                call.hedge_at = Some(now + after);
                self.timers.set(now + after, Timer::Hedge(id));
            }
        }
    }

    /// The route for the call's next attempt.
    pub(super) fn pick(&mut self, call: &mut Call, hedge: bool, now: f64) -> Pick {
        if hedge {
            let current = call.flights.first().and_then(|f| f.route).unwrap_or(0);
            let route = self.routing.pick_hedge(current, now, &mut self.rng);
            Pick {
                route,
                probe: false,
                fallback: None,
            }
        } else if call.attempts.is_empty() && call.flights.is_empty() {
            self.routing.pick_first(now, &mut self.rng)
        } else {
            let forced = call.forced_fallback.take();
            self.routing
                .pick_retry(&call.failed_routes, forced, now, &mut self.rng)
        }
    }

    /// When to hedge the call's only attempt in flight, if hedging applies to it.
    pub(super) fn hedge_delay(&self, call: &Call, now: f64) -> Option<f64> {
        let h = self.cfg.hedge.as_ref()?;
        if call.eligible.is_err() || call.flights.len() != 1 {
            return None;
        }
        if let Some(ms) = h.after_ms {
            return Some(ms);
        }
        let q = h.percentile? / 100.0;
        let route = call.flights[0].route?;
        let (v, n) = self.routing.routes[route].latency_quantile(q, now);
        (n >= 20).then_some(v)
    }

    /// The hedge timer fired: sends a hedge if the attempt cap, the hedge budget and a free slot
    /// allow (hedges never queue).
    pub(super) fn hedge(&mut self, id: TaskId, call: &mut Call, now: f64) -> bool {
        call.hedge_at = None;
        if call.flights.len() != 1 || call.used() >= self.cfg.retry.max_attempts as usize {
            return true;
        }
        let Some(hb) = &mut self.hedge_budget else {
            return true;
        };
        if !hb.withdraw(now) {
            self.hedges.budget_exhausted += 1;
            return true;
        }
        if self.limiter.try_acquire_now() {
            self.start(id, call, true, true, now);
        }
        true
    }

    /// Asks the executor to abort attempt `attempt` of `id`.
    pub(super) fn abort_flight(&mut self, id: TaskId, attempt: u32, reason: AbortReason) {
        self.actions.push(Action::Abort {
            task: id,
            attempt,
            reason,
        });
    }

    /// Ends attempt `attempt`: frees its slot, tells its route (`verdict`: Some(ok) for a real
    /// outcome, None for one that says nothing about the route), records it.
    pub(super) fn end_flight(
        &mut self,
        call: &mut Call,
        attempt: u32,
        outcome: AttemptOutcome,
        status: Option<u16>,
        verdict: Option<bool>,
        now: f64,
    ) -> Option<Flight> {
        let pos = call.flights.iter().position(|f| f.id == attempt)?;
        // At most two are in flight, so the other keeps its place as `remove` would keep it,
        // without shifting the list.
        let f = call.flights.swap_remove(pos);
        let duration_ms = (now - f.start).max(0.0);
        // Attempts often last the same (every one that ran out its `timeout.attemptMs`): the
        // bucket of the last duration is not worked out again.
        let sample = match self.last_sample {
            Some(s) if s.value().to_bits() == duration_ms.to_bits() => s,
            _ => Sample::from(duration_ms),
        };
        self.last_sample = Some(sample);
        if f.holding {
            self.release_slot(verdict.map(|_| duration_ms), now);
        }
        if let Some(r) = f.route {
            let mut notices = Vec::new();
            match verdict {
                Some(ok) => {
                    self.routing
                        .attempt_finished(r, f.probe, ok, sample, now, &mut notices);
                    if !ok {
                        call.failed_routes.retain(|x| *x != r);
                        call.failed_routes.push(r);
                    }
                }
                None => self.routing.attempt_abandoned(r, f.probe),
            }
            self.notices(notices);
        }
        self.metrics.attempt_finished(sample, now);
        self.pressure.attempt(sample, now);
        let route = f.route.map(|r| self.routing.routes[r].name.clone());
        call.attempts.push(AttemptRecord {
            attempt: f.id,
            outcome,
            status,
            duration_ms,
            route,
        });
        if self.wants(const { bit("attempt") }) {
            let ev = Event::Attempt(AttemptEvent {
                attempt: f.id,
                outcome,
                status,
                duration_ms,
                method: String::from(&*call.meta.method),
                url: self.shown_url(&call.meta),
            });
            self.events.push(ev);
        }
        Some(f)
    }

    /// Aborts every attempt still in flight (`reason` says why), recording each. A hedge's loser
    /// counts in its route's latency as the time it had waited (see `abandoned`).
    pub(super) fn abort_all(&mut self, id: TaskId, call: &mut Call, reason: AbortReason, now: f64) {
        let outcome = match reason {
            AbortReason::Deadline | AbortReason::AttemptTimeout => AttemptOutcome::Timeout,
            _ => AttemptOutcome::Aborted,
        };
        while let Some(attempt) = call.flights.first().map(|f| f.id) {
            self.abort_flight(id, attempt, reason);
            let lost = self.end_flight(call, attempt, outcome, None, None, now);
            if reason == AbortReason::HedgeLost {
                self.abandoned(lost, now);
            }
        }
    }

    /// When the original lost to its hedge, its route records how long it had waited, a lower
    /// bound of its latency. Left out, the slow originals a hedge beats vanish from the route's
    /// latency window, its high quantiles drift down, and percentile hedging fires ever earlier
    /// until the hedge budget runs dry and the tail comes back.
    pub(super) fn abandoned(&mut self, lost: Option<Flight>, now: f64) {
        if let Some(Flight {
            hedge: false,
            route: Some(r),
            start,
            ..
        }) = lost
        {
            self.routing.routes[r].record_latency((now - start).max(0.0), now);
        }
    }

    /// Gives back a slot; the limiter hands free slots to queued calls (`grants` starts them).
    pub(super) fn release_slot(&mut self, rtt_ms: Option<f64>, now: f64) {
        self.limiter.release(rtt_ms, now);
    }
}

//! Concurrency limit with a bounded FIFO queue: backpressure that sheds instead of amplifying.
//!
//! Why: when an origin slows down, a client that keeps sending piles more work onto it, and every
//! extra request in flight makes every other one slower. A limit on attempts in flight, with a
//! short bounded queue in front of it, turns overload into fast, explicit rejections (`SHED`) that
//! the caller can handle, instead of a growing backlog of requests that will time out anyway.
//! Every attempt passes through here, first attempts and retries alike (and hedges, later), so
//! shedding really reduces load. Queue wait is measured apart from request time.
//!
//! The limit is fixed, or adaptive (`limit: "adaptive"`, see `adaptive.rs`). A queued attempt
//! waits under a ticket the engine gives it (its call's id); when a slot frees, the ticket is
//! granted and the engine starts that call's attempt. Queue timeouts are the engine's timers.

use crate::core::adaptive::Gradient;
use crate::core::fifo::Fifo;
use crate::prelude::*;

/// A queued attempt's place in line: the engine names it (by its call's id).
pub type Ticket = u64;

#[derive(Debug, Clone, PartialEq)]
pub enum Admit {
    /// A slot is taken: send now.
    Now,
    /// Wait for the ticket to be granted (or for the queue timeout).
    Queued,
    /// Rejected at once.
    Shed(ShedReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShedReason {
    QueueFull,
    QueueTimeout,
}

impl ShedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ShedReason::QueueFull => "queue-full",
            ShedReason::QueueTimeout => "queue-timeout",
        }
    }
}

#[derive(Debug, Clone)]
enum Limit {
    Unlimited,
    Fixed(u32),
    Adaptive(Gradient),
}

#[derive(Debug, Clone)]
pub struct Limiter {
    limit: Limit,
    in_flight: u32,
    queue: Fifo<(Ticket, f64)>,
    max_queue: usize,
    /// Tickets granted since the engine last collected them.
    granted: Vec<(Ticket, f64)>,
}

impl Limiter {
    pub fn unlimited() -> Self {
        Self::with(Limit::Unlimited, 0)
    }

    pub fn fixed(limit: u32, max_queue: usize) -> Self {
        Self::with(Limit::Fixed(limit.max(1)), max_queue)
    }

    pub fn adaptive(g: Gradient, max_queue: usize) -> Self {
        Self::with(Limit::Adaptive(g), max_queue)
    }

    fn with(limit: Limit, max_queue: usize) -> Self {
        Limiter {
            limit,
            in_flight: 0,
            queue: Fifo::default(),
            max_queue,
            granted: Vec::new(),
        }
    }

    /// The current limit, `None` when unlimited.
    pub fn limit(&self) -> Option<u32> {
        match &self.limit {
            Limit::Unlimited => None,
            Limit::Fixed(n) => Some(*n),
            Limit::Adaptive(g) => Some(g.limit()),
        }
    }

    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    fn has_room(&self) -> bool {
        self.limit().is_none_or(|l| self.in_flight < l)
    }

    /// Asks for a slot; if none is free, `ticket` waits in line. FIFO: a newcomer never
    /// overtakes a queued attempt.
    pub fn acquire(&mut self, ticket: Ticket, now: f64) -> Admit {
        if self.queue.is_empty() && self.has_room() {
            self.in_flight += 1;
            return Admit::Now;
        }
        if self.queue.len() >= self.max_queue {
            return Admit::Shed(ShedReason::QueueFull);
        }
        self.queue.push((ticket, now));
        Admit::Queued
    }

    /// Takes a slot only if one is free and nobody is queued (hedges never wait in line).
    pub fn try_acquire_now(&mut self) -> bool {
        if self.queue.is_empty() && self.has_room() {
            self.in_flight += 1;
            true
        } else {
            false
        }
    }

    /// A slot is given back. `rtt_ms` (the attempt's latency, if it was sent) feeds the
    /// adaptive limit.
    pub fn release(&mut self, rtt_ms: Option<f64>, now: f64) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let in_flight = self.in_flight;
        if let (Limit::Adaptive(g), Some(rtt)) = (&mut self.limit, rtt_ms) {
            g.sample(rtt, in_flight + 1, now);
        }
        self.grant(now);
    }

    /// Hands free slots to the head of the queue.
    fn grant(&mut self, now: f64) {
        while self.has_room() {
            let Some((t, since)) = self.queue.pop() else {
                break;
            };
            self.in_flight += 1;
            self.granted.push((t, now - since));
        }
    }

    /// Tickets granted since the last call, with how long each waited (ms).
    pub fn take_granted(&mut self) -> Vec<(Ticket, f64)> {
        core::mem::take(&mut self.granted)
    }

    pub fn has_granted(&self) -> bool {
        !self.granted.is_empty()
    }

    /// Removes a ticket that is still queued (its wait timed out, or the task was aborted).
    /// Returns how long it waited, or `None` if it was not queued (already granted).
    pub fn leave(&mut self, ticket: Ticket, now: f64) -> Option<f64> {
        self.queue
            .take_first(|(t, _)| *t == ticket)
            .map(|(_, since)| now - since)
    }

    /// Bytes of heap this limiter holds (for the memory-bound tests).
    pub fn footprint(&self) -> usize {
        self.queue.footprint() + self.granted.capacity() * core::mem::size_of::<(Ticket, f64)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_queue_then_shed_when_full() {
        let mut l = Limiter::fixed(2, 2);
        assert_eq!(l.acquire(1, 0.0), Admit::Now);
        assert_eq!(l.acquire(2, 0.0), Admit::Now);
        assert_eq!(l.acquire(3, 1.0), Admit::Queued);
        assert_eq!(l.acquire(4, 2.0), Admit::Queued);
        assert_eq!(l.acquire(5, 3.0), Admit::Shed(ShedReason::QueueFull));
        l.release(Some(10.0), 5.0);
        assert_eq!(l.take_granted(), vec![(3, 4.0)]);
        assert_eq!((l.in_flight(), l.queued()), (2, 1));
    }

    #[test]
    fn leaving_the_queue_and_late_leave() {
        let mut l = Limiter::fixed(1, 4);
        assert_eq!(l.acquire(1, 0.0), Admit::Now);
        assert_eq!(l.acquire(2, 0.0), Admit::Queued);
        assert_eq!(l.acquire(3, 1.0), Admit::Queued);
        assert_eq!(l.leave(2, 7.0), Some(7.0));
        l.release(Some(1.0), 8.0);
        assert_eq!(l.take_granted(), vec![(3, 7.0)]);
        assert_eq!(l.leave(3, 9.0), None, "already granted");
    }

    #[test]
    fn newcomers_do_not_overtake_the_queue() {
        let mut l = Limiter::fixed(1, 4);
        l.acquire(1, 0.0);
        assert_eq!(l.acquire(2, 0.0), Admit::Queued);
        l.release(Some(1.0), 1.0); // grants the queued one
        assert_eq!(l.acquire(3, 1.0), Admit::Queued);
    }

    #[test]
    fn unlimited_never_queues() {
        let mut l = Limiter::unlimited();
        for i in 0..10_000 {
            assert_eq!(l.acquire(i, 0.0), Admit::Now);
        }
        assert_eq!(l.limit(), None);
    }
}

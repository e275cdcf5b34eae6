//! The engine's timer queue: every instant at which it wants to be woken.
//!
//! Why the engine keeps its own timers: a call's deadline, its attempt timeouts, backoff sleeps,
//! hedge delays and queue timeouts are decisions, so they belong with the decisions, and an
//! executor then needs a single timer armed at `poll_timeout()`, whatever it runs on (a JS timer,
//! or virtual time in tests and the simulator).
//!
//! Timers are not cancelled: the engine checks, when one comes up, that what it was set for still
//! holds (the call is still waiting, the attempt still in flight), and ignores it otherwise. Stale
//! entries are dropped as they surface, and the heap is rebuilt without them when they outnumber
//! the live ones, so its size stays bounded by the calls in progress.

use crate::core::tasks::TaskId;
use alloc::collections::BinaryHeap;
use core::cmp::Ordering;

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timer {
    /// The call's `timeout.totalMs`.
    Deadline(TaskId),
    /// `timeout.attemptMs` of one attempt.
    AttemptTimeout(TaskId, u32),
    /// The end of a backoff sleep: the next attempt.
    Backoff(TaskId),
    /// Send a hedge for the call's only attempt.
    Hedge(TaskId),
    /// `concurrency.queueTimeoutMs` of a queued attempt.
    QueueTimeout(TaskId),
    /// Evaluate the pressure signal (once a second while calls are in progress).
    Pressure,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    at: f64,
    seq: u64,
    timer: Timer,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    /// Reversed, so the heap's top is the earliest; equal instants in the order they were set.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .at
            .total_cmp(&self.at)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Entry>,
    seq: u64,
}

impl Timers {
    pub fn set(&mut self, at: f64, timer: Timer) {
        self.seq += 1;
        self.heap.push(Entry {
            at,
            seq: self.seq,
            timer,
        });
    }

    /// The earliest timer, stale or not (`wanted` tells which are live).
    pub fn peek(&self) -> Option<(f64, Timer)> {
        self.heap.peek().map(|e| (e.at, e.timer))
    }

    /// Removes the earliest timer if it is due at `now`.
    pub fn pop_due(&mut self, now: f64) -> Option<(f64, Timer)> {
        if self.heap.peek()?.at > now {
            return None;
        }
        self.heap.pop().map(|e| (e.at, e.timer))
    }

    /// Drops the earliest timer (a stale one the engine found at the top).
    pub fn pop(&mut self) {
        self.heap.pop();
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Keeps only the timers `wanted` says are live, when the stale ones outnumber `live_bound`
    /// (an upper bound of the live ones) enough to be worth a rebuild.
    pub fn compact(&mut self, live_bound: usize, wanted: impl Fn(f64, Timer) -> bool) {
        if self.heap.len() <= 2 * live_bound + 64 {
            return;
        }
        let entries = core::mem::take(&mut self.heap).into_vec();
        self.heap = entries
            .into_iter()
            .filter(|e| wanted(e.at, e.timer))
            .collect();
    }

    /// Heap bytes held (memory-bound tests).
    pub fn footprint(&self) -> usize {
        self.heap.capacity() * core::mem::size_of::<Entry>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_equal_instants_in_the_order_set() {
        let mut t = Timers::default();
        let a = TaskId::from_bits(1);
        t.set(20.0, Timer::Deadline(a));
        t.set(10.0, Timer::Backoff(a));
        t.set(10.0, Timer::Hedge(a));
        assert_eq!(t.peek(), Some((10.0, Timer::Backoff(a))));
        assert_eq!(t.pop_due(9.0), None);
        assert_eq!(t.pop_due(10.0), Some((10.0, Timer::Backoff(a))));
        assert_eq!(t.pop_due(10.0), Some((10.0, Timer::Hedge(a))));
        assert_eq!(t.pop_due(15.0), None);
        assert_eq!(t.pop_due(25.0), Some((20.0, Timer::Deadline(a))));
        assert!(t.is_empty());
    }

    #[test]
    fn compaction_keeps_only_the_live() {
        let mut t = Timers::default();
        for i in 0..1000u32 {
            t.set(
                f64::from(i),
                Timer::Deadline(TaskId::from_bits(u64::from(i))),
            );
        }
        t.compact(10, |_, timer| {
            timer == Timer::Deadline(TaskId::from_bits(7))
        });
        assert_eq!(t.len(), 1);
        assert_eq!(t.peek(), Some((7.0, Timer::Deadline(TaskId::from_bits(7)))));
        t.compact(1000, |_, _| false);
        assert_eq!(t.len(), 1, "below the bound: no rebuild");
    }
}

//! The engine's timer queue: every instant at which it wants to be woken.
//!
//! Why the engine keeps its own timers: a call's deadline, its attempt timeouts, backoff sleeps,
//! hedge delays and queue timeouts are decisions, so they belong with the decisions, and an
//! executor then needs a single timer armed at `poll_timeout()`, whatever it runs on (a JS timer,
//! or virtual time in tests and the simulator).
//!
//! Timers are not cancelled: the engine checks, when one comes up, that what it was set for still
//! holds (the call is still waiting, the attempt still in flight), and ignores it otherwise. Stale
//! entries are dropped as they surface, and the queue is rebuilt without them when they outnumber
//! the live ones, so its size stays bounded by the calls in progress.

use crate::core::fifo::Fifo;
use crate::core::math::{from_order_key, order_key};
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
    /// A lease request is late, or (degraded) the coordinator may be asked again (`lease.rs`).
    Lease,
}

/// A timer: its instant (as `math::order_key`: entries compare integers), the order it was set
/// in, and what it is for.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key: u64,
    seq: u64,
    timer: Timer,
}

impl Entry {
    fn at(&self) -> f64 {
        from_order_key(self.key)
    }

    /// Whether it comes up before `other`: the earlier instant, then the one set first.
    fn before(&self, other: &Entry) -> bool {
        self.cmp(other).is_gt()
    }
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
            .key
            .cmp(&self.key)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// Whether the engine keeps timers set in order of their instants in a run beside the heap
/// (`Timers`): the simulator does, whose heap would hold thousands of attempt timeouts. The fetch
/// path does not: a client's timers are far fewer, and its code stays small (`Timers<false>`
/// compiles to the heap alone).
pub const ENGINE_RUN: bool = !cfg!(feature = "binding");

/// The timers: each comes up at its instant, equal instants in the order they were set.
///
/// With `RUN`, a timer set no earlier than the run's last one joins the run, which gives up its
/// earliest at no cost; the others go to the heap, whose every removal sifts through all its
/// levels. Timers of one kind are set a fixed delay from a clock that only moves forward (every
/// attempt's timeout, every call's deadline), so in the order of their instants: the first kind
/// set fills the run, and the heap holds the rest. The earliest timer is the earlier of the run's
/// first and the heap's top.
#[derive(Default)]
pub struct Timers<const RUN: bool> {
    heap: BinaryHeap<Entry>,
    /// Timers in the order they come up (`RUN`).
    run: Fifo<Entry>,
    seq: u64,
}

impl<const RUN: bool> Timers<RUN> {
    pub fn set(&mut self, at: f64, timer: Timer) {
        self.seq += 1;
        let e = Entry {
            key: order_key(at),
            seq: self.seq,
            timer,
        };
        if RUN && self.run.back().is_none_or(|last| last.key <= e.key) {
            self.run.push(e);
        } else {
            self.heap.push(e);
        }
    }

    /// The earliest timer, and whether it is the run's.
    fn earliest(&self) -> Option<(&Entry, bool)> {
        let top = self.heap.peek();
        if !RUN {
            return top.map(|e| (e, false));
        }
        match (self.run.front(), top) {
            (Some(r), Some(h)) if h.before(r) => Some((h, false)),
            (Some(r), _) => Some((r, true)),
            (None, h) => h.map(|e| (e, false)),
        }
    }

    /// Takes the earliest timer out.
    fn take(&mut self) -> Option<Entry> {
        match self.earliest()? {
            (_, true) => self.run.pop(),
            (_, false) => self.heap.pop(),
        }
    }

    /// The earliest timer, stale or not (`wanted` tells which are live).
    pub fn peek(&self) -> Option<(f64, Timer)> {
        self.earliest().map(|(e, _)| (e.at(), e.timer))
    }

    /// Removes the earliest timer if it is due at `now`.
    pub fn pop_due(&mut self, now: f64) -> Option<(f64, Timer)> {
        let (e, run) = self.earliest()?;
        let at = e.at();
        if at > now {
            return None;
        }
        let e = if run { self.run.pop() } else { self.heap.pop() };
        e.map(|e| (at, e.timer))
    }

    /// Drops the earliest timer (a stale one the engine found at the top).
    pub fn pop(&mut self) {
        self.take();
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.run.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps only the timers `wanted` says are live, when the stale ones outnumber `live_bound`
    /// (an upper bound of the live ones) enough to be worth a rebuild.
    pub fn compact(&mut self, live_bound: usize, wanted: impl Fn(f64, Timer) -> bool) {
        if self.len() <= 2 * live_bound + 64 {
            return;
        }
        let entries = core::mem::take(&mut self.heap).into_vec();
        self.heap = entries
            .into_iter()
            .filter(|e| wanted(e.at(), e.timer))
            .collect();
        if RUN {
            self.run.retain(|e| wanted(e.at(), e.timer));
        }
    }

    /// Heap bytes held (memory-bound tests).
    pub fn footprint(&self) -> usize {
        self.heap.capacity() * core::mem::size_of::<Entry>() + self.run.footprint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn earliest_first<const RUN: bool>() {
        let mut t = Timers::<RUN>::default();
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
    fn earliest_first_and_equal_instants_in_the_order_set() {
        earliest_first::<false>();
        earliest_first::<true>();
    }

    /// Timers set as the engine sets them (fixed delays from a clock that moves forward, and
    /// random ones), some dropped as stale, come up in the same order with a run as without.
    #[test]
    fn a_run_keeps_the_heap_order() {
        let mut rng = fastrand::Rng::with_seed(3);
        let (mut plain, mut run) = (Timers::<false>::default(), Timers::<true>::default());
        let mut now = 0.0;
        for i in 0..20_000u64 {
            let id = TaskId::from_bits(i);
            let at = match rng.u8(..5) {
                0 => now + 10_000.0,
                1 => now + 30_000.0,
                2 => now + 1_000.0,
                3 => now + rng.f64() * 500.0,
                _ => now + [0.0, 1.0][rng.usize(..2)],
            };
            plain.set(at, Timer::Deadline(id));
            run.set(at, Timer::Deadline(id));
            now += rng.f64() * 3.0;
            if rng.u8(..4) == 0 {
                assert_eq!(plain.peek(), run.peek());
                plain.pop();
                run.pop();
            }
            while let Some(due) = plain.pop_due(now) {
                assert_eq!(run.pop_due(now), Some(due));
            }
            if i % 5_000 == 0 {
                let wanted = |_: f64, t: Timer| t != Timer::Deadline(TaskId::from_bits(i / 2));
                plain.compact(0, wanted);
                run.compact(0, wanted);
            }
            assert_eq!(plain.len(), run.len());
        }
        while let Some(due) = plain.pop_due(f64::INFINITY) {
            assert_eq!(run.pop_due(f64::INFINITY), Some(due));
        }
        assert!(run.is_empty());
    }

    #[test]
    fn compaction_keeps_only_the_live() {
        let mut t = Timers::<ENGINE_RUN>::default();
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

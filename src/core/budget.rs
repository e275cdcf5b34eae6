//! The retry budget: a token bucket over a sliding window, shared by every task of a client.
//!
//! Why a budget and not only "3 attempts": a fixed per-request retry count multiplies load by the
//! attempt count exactly when the origin is least able to take it (a full outage with 3 attempts is
//! 3x the traffic). A budget caps retries to a *share* of real traffic: every task deposits, every
//! retry withdraws `1 / ratio` deposits, so over the window at most `ratio x tasks` retries happen,
//! plus a small reserve (`minPerSec x ttl`) so that a quiet client can still retry a one-off blip.
//!
//! This is the model of Finagle's `RetryBudget` and tower's `TpsBudget`: deposits live in ten
//! slots of `ttl / 10` and expire with their slot, so the budget reflects *recent* traffic, not
//! all-time traffic. Amounts are integers (a deposit is 1000 units) so there is no float drift.
//! Withdrawals are charged to the current slot and may drive it negative; they expire with it.

#[cfg(target_arch = "wasm32")]
use crate::core::math::F64Ext;
use crate::core::window::{generation_of, next_at};
use alloc::vec::Vec;
const SLOTS: usize = 10;
const UNIT: i64 = 1000;

#[derive(Debug, Clone)]
pub struct RetryBudget {
    slots: [i64; SLOTS],
    /// Deposits alone per slot (for `drain`).
    deposits: [i64; SLOTS],
    /// Generation (time / slot length) of the current slot.
    generation: i64,
    /// Below this instant the generation is still `generation` (`window::next_at`).
    until: f64,
    slot_ms: f64,
    deposit: i64,
    withdraw: i64,
    reserve: i64,
    exhausted: u64,
    /// Other isolates' spending of their reserves (`core::state`): when each reported it (this
    /// client's monotonic time) and how many retries. Empty unless a state was merged.
    shared: Vec<(f64, f64)>,
}

impl RetryBudget {
    /// `ratio` in [0, 10], `min_per_sec` >= 0, `ttl_ms` >= 1000 (validated by `Config`).
    pub fn new(ratio: f64, min_per_sec: f64, ttl_ms: f64) -> Self {
        let (deposit, withdraw) = if ratio <= 0.0 {
            (0, UNIT)
        } else {
            // Rounded up, so the effective ratio never exceeds the configured one.
            (UNIT, ((UNIT as f64 / ratio).ceil() as i64).max(1))
        };
        let reserve = (min_per_sec * (ttl_ms / 1000.0) * withdraw as f64) as i64;
        RetryBudget {
            slots: [0; SLOTS],
            deposits: [0; SLOTS],
            generation: 0,
            until: next_at(0, ttl_ms / SLOTS as f64),
            slot_ms: ttl_ms / SLOTS as f64,
            deposit,
            withdraw,
            reserve,
            exhausted: 0,
            shared: Vec::new(),
        }
    }

    /// Other isolates' reserve spending, `(when, retries)`, in place of what was set before. A
    /// fleet then has one reserve, not one per isolate: what the others spent comes out of this
    /// client's reserve, in full when they report it and fading to nothing over the window (their
    /// withdrawals expire as this client's do).
    pub fn set_shared(&mut self, shared: Vec<(f64, f64)>) {
        self.shared = shared;
    }

    /// The reserve at `now`, less what other isolates spent of theirs.
    fn reserve_at(&self, now_ms: f64) -> i64 {
        if self.shared.is_empty() {
            return self.reserve;
        }
        let ttl = self.slot_ms * SLOTS as f64;
        let spent: f64 = self
            .shared
            .iter()
            .map(|(at, retries)| (1.0 - (now_ms - at) / ttl).clamp(0.0, 1.0) * retries)
            .sum();
        (self.reserve - (spent * self.withdraw as f64) as i64).max(0)
    }

    /// Retries of the reserve this client spent over the window at `now_ms`: its withdrawals
    /// beyond what its deposits paid for. Reads only.
    pub fn reserve_spent(&self, now_ms: f64) -> f64 {
        let live = self.live(now_ms);
        (-live).max(0) as f64 / self.withdraw as f64
    }

    /// The sum of the slots still inside the window at `now_ms`. Reads only.
    fn live(&self, now_ms: f64) -> i64 {
        let now = ((now_ms.max(0.0) / self.slot_ms).floor() as i64).max(self.generation);
        let from = (self.generation - SLOTS as i64 + 1).max(now - SLOTS as i64 + 1);
        (from..=self.generation)
            .map(|g| self.slots[g.rem_euclid(SLOTS as i64) as usize])
            .sum()
    }

    /// Clears slots whose deposits have outlived the window. Time going backwards is ignored.
    fn expire(&mut self, now_ms: f64) {
        if now_ms < self.until {
            return; // still the current slot's time (or earlier)
        }
        let generation = generation_of(now_ms, self.slot_ms);
        let behind = generation - self.generation;
        if behind <= 0 {
            return;
        }
        let clear = behind.min(SLOTS as i64) as usize;
        for i in 1..=clear {
            let idx = (self.generation as usize + i) % SLOTS;
            self.slots[idx] = 0;
            self.deposits[idx] = 0;
        }
        self.generation = generation;
        self.until = next_at(generation, self.slot_ms);
    }

    fn current(&mut self) -> &mut i64 {
        &mut self.slots[self.generation as usize % SLOTS]
    }

    /// What the window holds at `now_ms`, after `expire`.
    fn sum(&self, now_ms: f64) -> i64 {
        self.reserve_at(now_ms) + self.slots.iter().sum::<i64>()
    }

    /// A task started: it earns the client a share of a retry.
    pub fn deposit(&mut self, now_ms: f64) {
        self.expire(now_ms);
        let d = self.deposit;
        *self.current() += d;
        self.deposits[self.generation as usize % SLOTS] += d;
    }

    /// Share of what the window holds (deposits + reserve) that retries have withdrawn, in [0, 1].
    pub fn drain(&mut self, now_ms: f64) -> f64 {
        self.expire(now_ms);
        let total = self.reserve + self.deposits.iter().sum::<i64>();
        if total <= 0 {
            return 0.0;
        }
        (1.0 - self.sum(now_ms) as f64 / total as f64).clamp(0.0, 1.0)
    }

    /// Asks for one retry. On `false` the retry must not happen; it is counted as exhausted.
    pub fn withdraw(&mut self, now_ms: f64) -> bool {
        self.expire(now_ms);
        if self.sum(now_ms) < self.withdraw {
            self.exhausted += 1;
            return false;
        }
        let w = self.withdraw;
        *self.current() -= w;
        true
    }

    /// A retry paid for elsewhere (shared mode: a token leased from the coordinator), counted in
    /// this window as a withdrawal and never refused, so that `drain` still says how much of
    /// this client's traffic its retries take, as it does in local mode.
    pub fn charge(&mut self, now_ms: f64) {
        self.expire(now_ms);
        let w = self.withdraw;
        *self.current() -= w;
    }

    /// Whole retries available at `now_ms`. Reads only: slots past the window are left out, not
    /// cleared.
    pub fn balance(&self, now_ms: f64) -> u64 {
        ((self.reserve_at(now_ms) + self.live(now_ms)).max(0) / self.withdraw) as u64
    }

    /// The reserve expressed in retries (`minPerSec x ttl`).
    pub fn reserve_retries(&self) -> u64 {
        (self.reserve / self.withdraw) as u64
    }

    /// How many retries were refused since creation.
    pub fn exhausted(&self) -> u64 {
        self.exhausted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frozen_time_matches_finagle_bound() {
        // Finagle's own test: 10,000 deposits at frozen time, retries == n * pct + reserve (+/- 1).
        let mut b = RetryBudget::new(0.2, 10.0, 10_000.0);
        for _ in 0..10_000 {
            b.deposit(0.0);
        }
        let mut retries = 0;
        while b.withdraw(0.0) {
            retries += 1;
        }
        assert_eq!(retries, 2_000 + 100);
        assert_eq!(b.exhausted(), 1);
    }

    #[test]
    fn deposits_expire_after_ttl() {
        let mut b = RetryBudget::new(0.5, 0.0, 1_000.0);
        for _ in 0..10 {
            b.deposit(0.0);
        }
        assert_eq!(b.balance(0.0), 5);
        assert_eq!(b.balance(999.0), 5);
        assert_eq!(b.balance(1_000.0), 0, "the slot of t=0 expired");
        assert!(!b.withdraw(1_000.0));
    }

    #[test]
    fn reserve_refills_as_withdrawals_expire() {
        let mut b = RetryBudget::new(0.1, 1.0, 10_000.0);
        assert_eq!(b.reserve_retries(), 10);
        let mut n = 0;
        while b.withdraw(0.0) {
            n += 1;
        }
        assert_eq!(n, 10);
        assert!(b.withdraw(10_000.0), "withdrawals expire with their slot");
    }

    #[test]
    fn zero_ratio_allows_only_the_reserve() {
        let mut b = RetryBudget::new(0.0, 0.0, 10_000.0);
        for _ in 0..100 {
            b.deposit(0.0);
        }
        assert!(!b.withdraw(0.0));
    }

    proptest! {
        /// Over any schedule inside one window the budget never allows more than
        /// `ratio x tasks + reserve` retries (the property).
        #[test]
        fn never_more_than_ratio_times_tasks_plus_reserve(
            ratio in 0.0f64..2.0,
            min_per_sec in 0.0f64..20.0,
            ops in proptest::collection::vec((any::<bool>(), 0.0f64..999.0), 0..3000),
        ) {
            let ttl = 10_000.0;
            let mut b = RetryBudget::new(ratio, min_per_sec, ttl);
            let reserve = (min_per_sec * ttl / 1000.0).floor();
            let (mut tasks, mut retries) = (0u64, 0u64);
            let mut now = 0.0;
            for (is_task, dt) in ops {
                now += dt / 1000.0; // all within the first second: nothing expires
                if is_task { b.deposit(now); tasks += 1; } else if b.withdraw(now) { retries += 1; }
            }
            let bound = ratio * tasks as f64 + reserve + 1.0;
            prop_assert!((retries as f64) <= bound, "retries {} > bound {}", retries, bound);
        }

        /// Over long schedules, retries in any ttl-long window stay within the bound for that window.
        #[test]
        fn long_runs_stay_within_rate(
            ops in proptest::collection::vec((any::<bool>(), 0.0f64..500.0), 0..4000),
        ) {
            let (ratio, mps, ttl) = (0.1, 1.0, 10_000.0);
            let mut b = RetryBudget::new(ratio, mps, ttl);
            let mut now = 0.0;
            let (mut tasks, mut retries) = (0u64, 0u64);
            for (is_task, dt) in ops {
                now += dt;
                if is_task { b.deposit(now); tasks += 1; } else if b.withdraw(now) { retries += 1; }
            }
            // Each window of ttl contributes at most its deposits' share plus one reserve.
            let windows = (now / ttl).floor() + 1.0;
            let bound = ratio * tasks as f64 + windows * (mps * ttl / 1000.0) * 2.0 + 1.0;
            prop_assert!((retries as f64) <= bound);
        }
    }
}

//! The client's side of leased retries (the module above says why and how): the tokens it holds,
//! its request in flight, and its mode.

use super::*;
use crate::core::budget::RetryBudget;
use crate::core::fifo::Fifo;

#[derive(Debug, Clone, Copy)]
struct Pending {
    id: u32,
    /// When the answer is late.
    until: f64,
    /// The deposits it reported (counted again if it fails).
    deposits: u32,
    want: u32,
}

#[derive(Debug, Clone)]
pub struct Lease {
    mode: Mode,
    /// Leased tokens in batches, by when they expire (earliest first).
    batches: Fifo<(f64, u32)>,
    held: u32,
    unreported: u32,
    /// Retries taken since the last request.
    used: u32,
    pending: Option<Pending>,
    next_id: u32,
    /// No request before this instant (a short grant; degraded: the backoff).
    quiet_until: f64,
    backoff_ms: f64,
    /// A request is wanted.
    ask: bool,
    /// Degraded mode's budget (deposits go to it in both modes, so it knows recent traffic).
    local: RetryBudget,
    ttl_ms: f64,
    exhausted: u64,
}

impl Lease {
    /// For a budget of `ratio`, `min_per_sec` and `ttl_ms` (the client's config).
    pub fn new(ratio: f64, min_per_sec: f64, ttl_ms: f64) -> Self {
        Lease {
            mode: Mode::Shared,
            batches: Fifo::default(),
            held: 0,
            unreported: 0,
            used: 0,
            pending: None,
            next_id: 1,
            quiet_until: f64::NEG_INFINITY,
            backoff_ms: BACKOFF_MS,
            ask: true,
            local: RetryBudget::new(ratio, min_per_sec * DEGRADED_RESERVE, ttl_ms),
            ttl_ms,
            exhausted: 0,
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether a request is wanted now (`poll` gives it).
    pub fn wants(&self) -> bool {
        self.ask && self.pending.is_none()
    }

    fn expire(&mut self, now: f64) {
        while let Some(&(at, n)) = self.batches.front() {
            if at > now {
                break;
            }
            self.held -= n;
            self.batches.pop();
        }
    }

    fn want(&self) -> u32 {
        (self.used.saturating_mul(2)).clamp(MIN_WANT, MAX_WANT)
    }

    /// Whether a request is wanted (shared mode: few tokens held, or much to report).
    fn check(&mut self, now: f64) {
        self.expire(now);
        if self.mode == Mode::Shared && now >= self.quiet_until {
            self.ask |= self.held * 4 <= self.want() || self.unreported >= REPORT_EVERY;
        }
    }

    /// A deposit (the client's budget took one): reported with the next request.
    pub fn deposit(&mut self, now: f64) {
        self.unreported = self.unreported.saturating_add(1);
        self.local.deposit(now);
        self.check(now);
    }

    /// Asks for one retry: a leased token, or in degraded mode one of the local budget.
    pub fn withdraw(&mut self, now: f64) -> bool {
        self.expire(now);
        let ok = if let Some(front) = self.batches.front_mut() {
            front.1 -= 1;
            if front.1 == 0 {
                self.batches.pop();
            }
            self.held -= 1;
            true
        } else {
            self.mode == Mode::Degraded && self.local.withdraw(now)
        };
        if ok {
            self.used = self.used.saturating_add(1);
        } else {
            self.exhausted += 1;
        }
        self.check(now);
        ok
    }

    /// The request to send now, if one is wanted; the engine wakes at its `until` to time it.
    pub fn poll(&mut self, now: f64) -> Option<(LeaseRequest, f64)> {
        if !self.wants() {
            return None;
        }
        self.ask = false;
        let want = self.want().saturating_sub(self.held);
        let r = LeaseRequest {
            id: self.next_id,
            deposits: core::mem::take(&mut self.unreported),
            want,
        };
        self.next_id = self.next_id.wrapping_add(1);
        self.used = 0;
        let until = now + TIMEOUT_MS;
        self.pending = Some(Pending {
            id: r.id,
            until,
            deposits: r.deposits,
            want,
        });
        Some((r, until))
    }

    /// The answer to request `id`: `Some((granted, ttl_ms))`, or `None` for a failure. Ignored
    /// unless it is the request in flight (one past its timeout is not).
    pub fn answer(&mut self, id: u32, answer: Option<(u32, f64)>, now: f64) -> Option<Change> {
        let p = self.pending.filter(|p| p.id == id)?;
        self.pending = None;
        let Some((granted, ttl_ms)) = answer else {
            return self.degrade(p, now, "error");
        };
        if granted > 0 {
            let ttl = if ttl_ms > 0.0 {
                ttl_ms.min(self.ttl_ms)
            } else {
                0.0
            };
            self.batches.push((now + ttl, granted));
            self.held += granted;
        }
        if granted < p.want {
            self.quiet_until = now + self.ttl_ms / 10.0;
        }
        self.backoff_ms = BACKOFF_MS;
        self.check(now);
        if self.mode == Mode::Degraded {
            self.mode = Mode::Shared;
            return Some((Mode::Shared, "granted"));
        }
        None
    }

    fn degrade(&mut self, p: Pending, now: f64, reason: &'static str) -> Option<Change> {
        self.unreported = self.unreported.saturating_add(p.deposits);
        self.ask = false; // what was wanted meanwhile waits for the backoff
        self.quiet_until = now + self.backoff_ms;
        self.backoff_ms = (self.backoff_ms * 2.0).min(MAX_BACKOFF_MS);
        let was = self.mode;
        self.mode = Mode::Degraded;
        (was == Mode::Shared).then_some((Mode::Degraded, reason))
    }

    /// The instant the lease's timer is wanted at: the request's timeout, or (degraded) the end
    /// of the backoff.
    pub fn timer(&self) -> Option<f64> {
        match (self.pending, self.mode) {
            (Some(p), _) => Some(p.until),
            (None, Mode::Degraded) if !self.ask => Some(self.quiet_until),
            _ => None,
        }
    }

    /// The lease's timer fired at `now`: the request in flight is late, or the backoff is over.
    pub fn timeout(&mut self, now: f64) -> Option<Change> {
        if let Some(p) = self.pending {
            if now >= p.until {
                self.pending = None;
                return self.degrade(p, now, "timeout");
            }
            return None;
        }
        if self.mode == Mode::Degraded && now >= self.quiet_until {
            self.ask = true;
        }
        None
    }

    /// Whole retries available at `now`: leased tokens, and in degraded mode the local budget's.
    pub fn balance(&self, now: f64) -> u64 {
        let local = match self.mode {
            Mode::Degraded => self.local.balance(now),
            Mode::Shared => 0,
        };
        self.leased(now) + local
    }

    /// Leased tokens not expired at `now`.
    pub fn leased(&self, now: f64) -> u64 {
        let expired: u32 = self
            .batches
            .iter()
            .take_while(|b| b.0 <= now)
            .map(|b| b.1)
            .sum();
        u64::from(self.held - expired)
    }

    /// Retries refused in shared or degraded mode.
    pub fn exhausted(&self) -> u64 {
        self.exhausted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease() -> Lease {
        Lease::new(0.2, 1.0, 10_000.0)
    }

    #[test]
    fn a_retry_without_a_leased_token_is_refused_and_a_lease_is_wanted() {
        let mut l = lease();
        assert!(l.wants(), "a fresh client wants its first batch");
        assert!(!l.withdraw(0.0));
        assert_eq!(l.exhausted(), 1);
        let (r, until) = l.poll(0.0).unwrap();
        assert_eq!((r.want, r.deposits, until), (MIN_WANT, 0, TIMEOUT_MS));
        assert!(l.poll(0.0).is_none(), "one request in flight at a time");
        assert_eq!(l.answer(r.id, Some((4, 10_000.0)), 5.0), None);
        for _ in 0..4 {
            assert!(l.withdraw(6.0));
        }
        assert!(!l.withdraw(6.0));
    }

    #[test]
    fn deposits_are_reported_once_and_again_after_a_failure() {
        let mut l = lease();
        for _ in 0..3 {
            l.deposit(0.0);
        }
        let (r, _) = l.poll(0.0).unwrap();
        assert_eq!(r.deposits, 3);
        assert!(
            !l.withdraw(5.0),
            "no token yet: wanted again, once the answer is in"
        );
        assert_eq!(l.answer(r.id, None, 10.0), Some((Mode::Degraded, "error")));
        assert!(!l.wants(), "degraded: not before the backoff");
        l.deposit(20.0);
        assert_eq!(l.timer(), Some(10.0 + BACKOFF_MS));
        assert!(
            l.poll(20.0).is_none(),
            "degraded: asks again after the backoff"
        );
        l.timeout(10.0 + BACKOFF_MS);
        let (r, _) = l.poll(10.0 + BACKOFF_MS).unwrap();
        assert_eq!(r.deposits, 4, "the failed report's deposits go again");
    }

    #[test]
    fn a_late_answer_degrades_and_is_dropped_then_a_grant_restores_shared_mode() {
        let mut l = lease();
        let (r, until) = l.poll(0.0).unwrap();
        assert_eq!(l.timeout(until - 1.0), None);
        assert_eq!(l.timeout(until), Some((Mode::Degraded, "timeout")));
        assert_eq!(l.answer(r.id, Some((4, 10_000.0)), until + 1.0), None);
        assert_eq!(l.leased(until + 1.0), 0, "a late grant is dropped");
        // Degraded: the local budget's reserve is a tenth of minPerSec x ttl (1 retry here).
        assert!(l.withdraw(until + 2.0));
        assert!(!l.withdraw(until + 2.0));
        let again = until + BACKOFF_MS;
        assert_eq!(l.timer(), Some(again));
        l.timeout(again);
        let (r, _) = l.poll(again).unwrap();
        assert_eq!(
            l.answer(r.id, Some((2, 10_000.0)), again + 5.0),
            Some((Mode::Shared, "granted"))
        );
        assert_eq!(l.mode(), Mode::Shared);
        assert_eq!(l.balance(again + 5.0), 2);
    }

    #[test]
    fn backoff_doubles_while_the_coordinator_keeps_failing() {
        let mut l = lease();
        let mut now = 0.0;
        let mut waits = Vec::new();
        for _ in 0..7 {
            let (r, _) = l.poll(now).unwrap();
            l.answer(r.id, None, now);
            let at = l.timer().unwrap();
            waits.push(at - now);
            now = at;
            l.timeout(now);
        }
        assert_eq!(
            waits,
            [1_000.0, 2_000.0, 4_000.0, 8_000.0, 16_000.0, 30_000.0, 30_000.0]
        );
    }

    #[test]
    fn tokens_expire_and_ttl_is_capped_by_the_budgets() {
        let mut l = lease();
        let (r, _) = l.poll(0.0).unwrap();
        l.answer(r.id, Some((4, 60_000.0)), 0.0);
        assert_eq!(l.leased(9_999.0), 4);
        assert_eq!(l.leased(10_000.0), 0, "capped at the budget's ttl");
        assert!(!l.withdraw(10_000.0));
        assert!(l.wants());
    }

    #[test]
    fn batches_grow_with_retries_and_short_grants_quiet_the_client() {
        let mut l = lease();
        let (r, _) = l.poll(0.0).unwrap();
        l.answer(r.id, Some((4, 10_000.0)), 0.0);
        for _ in 0..4 {
            assert!(l.withdraw(1.0));
        }
        let (r, _) = l.poll(1.0).unwrap();
        assert_eq!(r.want, 8, "twice the retries taken since the last request");
        assert_eq!(l.answer(r.id, Some((1, 10_000.0)), 2.0), None);
        assert!(l.withdraw(3.0));
        assert!(
            !l.wants(),
            "a short grant: not again before the window moves"
        );
        assert!(!l.withdraw(3.0));
        l.deposit(1_002.0);
        assert!(l.wants());
    }

    #[test]
    fn many_deposits_are_reported_without_retries() {
        let mut l = lease();
        let (r, _) = l.poll(0.0).unwrap();
        l.answer(r.id, Some((MAX_WANT, 10_000.0)), 0.0);
        for _ in 0..REPORT_EVERY - 1 {
            l.deposit(1.0);
        }
        assert!(!l.wants());
        l.deposit(1.0);
        assert!(l.wants());
        assert_eq!(l.poll(1.0).unwrap().0.deposits, REPORT_EVERY);
    }
}

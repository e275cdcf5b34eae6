//! A sliding window of time slots: the last `SLOTS x slot_ms` of anything that merges.
//!
//! Why slots rather than a decaying average: a window answers "what happened in the last minute"
//! exactly enough for dashboards, forgets old behaviour completely (a morning outage must not
//! colour the afternoon's retry density), and its memory is fixed: `SLOTS` values, whatever the
//! traffic. Time is passed in; a gap longer than the window clears everything.

use crate::prelude::*;
pub const SLOTS: usize = 6;

#[derive(Debug, Clone)]
pub struct Window<T> {
    slots: Vec<T>,
    generation: i64,
    slot_ms: f64,
}

impl<T: Default + Clone> Window<T> {
    pub fn new(span_ms: f64) -> Self {
        Window {
            slots: vec![T::default(); SLOTS],
            generation: 0,
            slot_ms: span_ms / SLOTS as f64,
        }
    }

    fn advance(&mut self, now_ms: f64) {
        let generation = (now_ms.max(0.0) / self.slot_ms).floor() as i64;
        let behind = generation - self.generation;
        if behind <= 0 {
            return;
        }
        for i in 1..=behind.min(SLOTS as i64) {
            let idx = (self.generation + i) as usize % SLOTS;
            self.slots[idx] = T::default();
        }
        self.generation = generation;
    }

    /// The slot for `now_ms`, after expiring old ones.
    pub fn current(&mut self, now_ms: f64) -> &mut T {
        self.advance(now_ms);
        &mut self.slots[self.generation as usize % SLOTS]
    }

    /// Every slot still inside the window at `now_ms`, oldest first. Reads only: slots that have
    /// expired are skipped, not cleared (that waits for the next `current`), so a snapshot never
    /// changes what it observes.
    pub fn live(&self, now_ms: f64) -> impl Iterator<Item = &T> {
        let newest = self.generation;
        let now = ((now_ms.max(0.0) / self.slot_ms).floor() as i64).max(newest);
        let from = (newest - SLOTS as i64 + 1).max(now - SLOTS as i64 + 1);
        (from..=newest).map(move |g| &self.slots[g.rem_euclid(SLOTS as i64) as usize])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_after_the_span() {
        let mut w: Window<u64> = Window::new(60_000.0);
        *w.current(0.0) += 5;
        *w.current(30_000.0) += 1;
        assert_eq!(w.live(59_999.0).sum::<u64>(), 6);
        assert_eq!(w.live(60_000.0).sum::<u64>(), 1);
        assert_eq!(w.live(1e9).sum::<u64>(), 0);
    }

    #[test]
    fn time_going_backwards_keeps_the_current_slot() {
        let mut w: Window<u64> = Window::new(60_000.0);
        *w.current(20_000.0) += 1;
        *w.current(5_000.0) += 1;
        assert_eq!(w.live(20_000.0).sum::<u64>(), 2);
    }
}

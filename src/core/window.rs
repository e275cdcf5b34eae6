//! A sliding window of time slots: the last `SLOTS x slot_ms` of anything that merges.
//!
//! Why slots rather than a decaying average: a window answers "what happened in the last minute"
//! exactly enough for dashboards, forgets old behaviour completely (a morning outage must not
//! colour the afternoon's retry density), and its memory is fixed: `SLOTS` values, whatever the
//! traffic. Time is passed in; a gap longer than the window clears everything.

use crate::prelude::*;
pub const SLOTS: usize = 6;

/// What a slot becomes when it expires: empty, as `Default` makes it. A slot that allocates (a
/// sketch's counters) keeps its allocation for its next use instead of giving it back.
pub trait Reset: Default {
    fn reset(&mut self) {
        *self = Self::default();
    }
}

impl Reset for u64 {}

#[derive(Debug, Clone)]
pub struct Window<T> {
    slots: Vec<T>,
    generation: i64,
    slot_ms: f64,
    /// Below this instant the generation is still `generation` (so `advance` has nothing to do):
    /// the first `f64` whose generation is the next one, found exactly (`next_at`).
    until: f64,
}

/// The generation (slot number) of `now_ms` for slots of `slot_ms`.
pub(crate) fn generation_of(now_ms: f64, slot_ms: f64) -> i64 {
    (now_ms.max(0.0) / slot_ms).floor() as i64
}

/// The least `f64` at which the generation passes `generation`, or at most it: instants below it
/// are of `generation` or earlier. `generation_of` never decreases as time grows, so this holds
/// when the `f64` just below the returned one is not past `generation`, which is checked
/// rather than assumed from the division's rounding.
pub(crate) fn next_at(generation: i64, slot_ms: f64) -> f64 {
    let mut at = (generation + 1) as f64 * slot_ms;
    if !(at > 0.0 && at.is_finite()) {
        return f64::NEG_INFINITY; // no shortcut
    }
    loop {
        let below = f64::from_bits(at.to_bits() - 1);
        if below <= 0.0 || generation_of(below, slot_ms) <= generation {
            return at;
        }
        at = below;
    }
}

impl<T: Reset + Clone> Window<T> {
    pub fn new(span_ms: f64) -> Self {
        let slot_ms = span_ms / SLOTS as f64;
        Window {
            slots: vec![T::default(); SLOTS],
            generation: 0,
            slot_ms,
            until: next_at(0, slot_ms),
        }
    }

    #[cfg_attr(not(feature = "binding"), inline)]
    fn advance(&mut self, now_ms: f64) {
        if now_ms >= self.until {
            self.advance_to(now_ms);
        } // else still the current generation (or earlier)
    }

    fn advance_to(&mut self, now_ms: f64) {
        let generation = generation_of(now_ms, self.slot_ms);
        let behind = generation - self.generation;
        if behind <= 0 {
            return;
        }
        for i in 1..=behind.min(SLOTS as i64) {
            let idx = (self.generation + i) as usize % SLOTS;
            self.slots[idx].reset();
        }
        self.generation = generation;
        self.until = next_at(generation, self.slot_ms);
    }

    /// The slot for `now_ms`, after expiring old ones.
    #[cfg_attr(not(feature = "binding"), inline)]
    pub fn current(&mut self, now_ms: f64) -> &mut T {
        self.advance(now_ms);
        &mut self.slots[self.generation as usize % SLOTS]
    }

    /// Every slot, when all of them are inside the window at `now_ms` (no time has passed since
    /// the current slot began): what `live` gives then, in another order, without working out
    /// which. For sums, whose order does not matter.
    pub fn all_live(&self, now_ms: f64) -> Option<&[T]> {
        (now_ms < self.until).then_some(&self.slots[..])
    }

    /// The generation `live` counts back from at `now_ms`: the current one, or a later one that
    /// time has reached without a write.
    pub fn generation_at(&self, now_ms: f64) -> i64 {
        generation_of(now_ms, self.slot_ms).max(self.generation)
    }

    pub fn slot_ms(&self) -> f64 {
        self.slot_ms
    }

    /// `live`, with each slot's generation.
    pub fn live_at(&self, now_ms: f64) -> impl Iterator<Item = (i64, &T)> {
        let newest = self.generation;
        let from = (newest - SLOTS as i64 + 1).max(self.generation_at(now_ms) - SLOTS as i64 + 1);
        (from..=newest).map(move |g| (g, &self.slots[g.rem_euclid(SLOTS as i64) as usize]))
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

//! The engine's side of state snapshots (`core::state` has the format, the merge and why): the
//! contribution it exports of its own, the others' it keeps, and what they change in it.
//!
//! Times cross in wall-clock ms. The offset between the two clocks (`wall - now`) is taken at the
//! first export or merge and kept while the clocks agree with it within `DRIFT_MS`: a time then
//! goes out and comes back in as the same number, and a wall clock stepped further than that
//! moves the offset with it.

use super::*;
use crate::core::config::{fingerprint_without_routes, MAX_MS};
use crate::core::print::quoted;
use crate::core::route::{Change, Route, LONG_MS};
use crate::core::state::{
    isolate_id, Health, Isolate, Merged, RouteCounts, RouteHealth, Slot, State, StateError,
};

/// How far the two clocks may move apart before the offset between them is taken again.
const DRIFT_MS: f64 = 1_000.0;
/// A route's long-window slot, in the state as in `Route`.
const SLOT_MS: f64 = LONG_MS / crate::core::window::SLOTS as f64;

/// What the engine shares: its isolate id, the clocks' offset, and what it holds of others.
pub(super) struct Shared {
    isolate: u64,
    epoch: Option<f64>,
    /// Canonical (`State::canonical`), and never holding a contribution of this client's own.
    others: State,
}

impl Shared {
    pub(super) fn new(seed: u64) -> Self {
        Shared {
            isolate: isolate_id(seed),
            epoch: None,
            others: State::default(),
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A route's change in wall-clock time (`epoch`: `wall - now`), with its ejections so far.
fn health_of(r: &Route, epoch: f64) -> Option<Health> {
    let wall = |t: f64| (t + epoch).round().max(0.0);
    r.change().map(|c| match c {
        // The duration is rounded on its own, so an ejection of `maxMs` stays one.
        Change::Ejected { at, until } => Health {
            at: wall(at),
            until: wall(at) + (until - at).round().clamp(0.0, MAX_MS),
            ejections: r.ejections,
        },
        Change::Restored { at } => Health {
            at: wall(at),
            until: 0.0,
            ejections: r.ejections,
        },
    })
}

impl Engine {
    /// Sets this client's isolate id from `seed` (`state::isolate_id`: below 2^53). Each client
    /// needs its own (the wasm binding draws a random seed); engines made with one seed otherwise
    /// have one id.
    pub fn set_isolate(&mut self, seed: u64) {
        self.shared.isolate = isolate_id(seed);
    }

    pub fn isolate(&self) -> u64 {
        self.shared.isolate
    }

    /// `wall - now` (module docs).
    fn epoch(&mut self, now: f64, wall: f64) -> f64 {
        let off = wall - now;
        match self.shared.epoch {
            Some(e) if !off.is_finite() || (off - e).abs() <= DRIFT_MS => e,
            _ if !off.is_finite() => 0.0,
            _ => {
                self.shared.epoch = Some(off);
                off
            }
        }
    }

    /// How long what a state says can matter: counts until they leave the long window, a change
    /// until the longest ejection it can start is over.
    fn horizon(&self) -> f64 {
        LONG_MS + self.cfg.routing.ejection.max_ms
    }

    /// What this client knows that others of its config can use, joined with what it holds of
    /// theirs (`core::state`). Changes nothing the engine decides with.
    pub fn export_state(&mut self, now: f64, wall: f64) -> State {
        let epoch = self.epoch(now, wall);
        let at = (now + epoch).round().max(0.0);
        let mut own = State {
            fingerprint: fingerprint_without_routes(&mut self.cfg),
            routes: Vec::new(),
            isolates: Vec::new(),
        };
        let mut counts = Vec::new();
        for r in &self.routing.routes {
            let (name, url) = (String::from(&*r.name), r.url.clone());
            let mut slots = Vec::new();
            for (start, ok, failed) in r.long_slots(now) {
                let start = (start + epoch).round().min(at).max(0.0);
                slots.push(Slot { start, ok, failed });
            }
            own.routes.push(RouteHealth {
                name: name.clone(),
                url: url.clone(),
                health: health_of(r, epoch),
            });
            counts.push(RouteCounts { name, url, slots });
        }
        let reserve = round3(self.budget.reserve_spent(now));
        // A contribution that says nothing (a client that has not called yet) is left out.
        if reserve > 0.0 || counts.iter().any(|c| !c.slots.is_empty()) {
            own.isolates.push(Isolate {
                id: self.shared.isolate,
                at,
                reserve,
                routes: counts,
            });
        }
        own.absorb(self.shared.others.clone(), at - self.horizon());
        own
    }

    /// Whether `state` may be merged: this config's, and every value in range (`State::check`,
    /// against `wall`). Changes nothing.
    pub fn check_state(&mut self, state: &State, wall: f64) -> Result<(), StateError> {
        let ours = fingerprint_without_routes(&mut self.cfg);
        if state.fingerprint != ours {
            let allowed = cat!(
                quoted(&ours),
                ", the fingerprint of this client's config without its routes (a state from \
                 another config is not merged)"
            );
            return Err(StateError::new(
                "fingerprint",
                quoted(&state.fingerprint),
                &allowed,
            ));
        }
        state.check(wall)
    }

    /// Takes another client's state (`core::state`): checked whole first (`check_state`), so a
    /// state that is refused changes nothing. It joins what the client holds (its own
    /// contribution aside: the client knows better), and the routes and the budget follow what
    /// the whole says. Merging in any order, any number of times, ends the same.
    pub fn merge_state(
        &mut self,
        mut state: State,
        now: f64,
        wall: f64,
    ) -> Result<Merged, StateError> {
        self.check_state(&state, wall)?;
        let epoch = self.epoch(now, wall);
        let mut ignored: Vec<String> = Vec::new();
        for (name, url) in state.table() {
            let known = self
                .routing
                .routes
                .iter()
                .any(|r| *r.name == *name && r.url == url);
            if !known && !ignored.iter().any(|n| n == name) {
                ignored.push(name.into());
            }
        }
        // Its own contribution is left out before joining, not after: a contribution that takes
        // a place among the latest and then goes would leave the result short by one.
        let me = self.shared.isolate;
        state.isolates.retain(|i| i.id != me);
        let from = now + epoch - self.horizon();
        self.shared.others.absorb(state, from);
        self.follow_others(now);
        Ok(Merged {
            isolates: self.shared.others.isolates.len(),
            ignored,
        })
    }

    /// Brings the routes and the budget in line with what the client holds of others, whatever
    /// order it came in: a route takes its latest change when that is later than its own (with
    /// its count of ejections); the others' slots count in its long window, but for those from
    /// before its latest restore (forgiven with it); the reserve they spent comes out of the
    /// budget's.
    pub(super) fn follow_others(&mut self, now: f64) {
        let epoch = self.shared.epoch.unwrap_or(0.0);
        let others = &self.shared.others;
        let mut slots = Vec::new();
        for r in &mut self.routing.routes {
            let (name, url) = (r.name.clone(), r.url.clone());
            let own = health_of(r, epoch);
            let mut latest = own;
            if let Some(h) = others.health(&name, &url) {
                if own.is_none_or(|own| h.order(&own).is_gt()) {
                    r.ejections = h.ejections;
                    r.adopt(if h.is_restore() {
                        Change::Restored { at: h.at - epoch }
                    } else {
                        Change::Ejected {
                            at: h.at - epoch,
                            until: h.until - epoch,
                        }
                    });
                    latest = Some(h);
                }
            }
            let forgiven = latest
                .filter(Health::is_restore)
                .map_or(f64::NEG_INFINITY, |h| h.at);
            slots.clear();
            for i in &others.isolates {
                for s in i.slots(&name, &url) {
                    if s.start + SLOT_MS > forgiven {
                        slots.push((s.start - epoch, s.ok, s.failed));
                    }
                }
            }
            r.set_remote(&slots, now);
        }
        let mut spent = Vec::new();
        for i in &others.isolates {
            if i.reserve > 0.0 {
                spent.push((i.at - epoch, i.reserve));
            }
        }
        self.budget.set_shared(spent);
    }
}

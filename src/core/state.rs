//! State snapshots: what a client has learnt that other clients of the same config can use, as
//! plain data, and how two snapshots merge.
//!
//! Why: a client learns slowly what its routes are worth (a long window of outcomes behind each
//! score) and what its retries cost the origin (the budget), and all of it goes when its process
//! or isolate goes. Edge isolates are recycled after seconds or minutes and a popular Worker runs
//! as many at once, so each new one starts from nothing, and each spends a reserve of retries of
//! its own: a fleet retries against an origin that is down as many times more as it has
//! isolates. A state carries what is worth keeping from one client to the next: each route's
//! long-window counts and its last ejection or restore (in wall-clock time: a monotonic clock
//! means nothing in another isolate), and how much of its budget's reserve the client spent.
//!
//! # Merging
//!
//! A state has two parts, each merged its own way, and a pair of join-semilattices is one:
//! - **Contributions**, one per isolate (a random id per client): the counts its routes' long
//!   windows held and the reserve it had spent, stamped with when it exported (`at`). Merging
//!   keeps, for each isolate, the contribution that comes last in one total order (`at`, then the
//!   id, then the content), and of those the `MAX_ISOLATES` that come last. A map of
//!   last-writer-wins registers trimmed to the top of the same total order is a join-semilattice.
//!   Nothing is added up across contributions while merging, so one merged twice counts once.
//! - **Route health**, one register per route: its latest ejection or restore, whoever saw it.
//!   Merging keeps the later (a last-writer-wins register), so a change outlives the
//!   contribution of the isolate that saw it.
//!
//! So merging is commutative, associative and idempotent (a state-based CRDT): clients and
//! coordinators may merge in any order, any number of times, and end with the same state. What a
//! client does with a state depends on the merged whole, never on the order it came in
//! (`engine/state.rs`): the others' counts join its own in each route's long window and expire as
//! its own do, a route takes the latest change when it is later than its own, and the reserve the
//! others spent comes out of its own, fading over the budget's window. Contributions and changes
//! that can no longer matter are dropped by their time, which commutes with merging.
//!
//! Routes are matched by identity, their name and URL: a state may name routes a client lacks
//! (they are carried along, unused), and a client's routes a state does not name are untouched.
//! The config fingerprint a state carries leaves the routes out for that reason
//! (`config::fingerprint_without_routes`): clients whose route sets differ share all the same.

use crate::core::config::MAX_MS;
use crate::core::print::{fmt_num, quoted};
use crate::core::sort::sort_by;
use crate::core::value::Value;
use crate::prelude::*;
use core::cmp::Ordering;

/// The version of the format this code reads and writes.
pub const VERSION: f64 = 1.0;
/// The most contributions a state keeps: the latest.
pub const MAX_ISOLATES: usize = 32;
/// The most contributions a state given to a client may list (it keeps `MAX_ISOLATES`).
pub const MAX_INPUT: usize = 1024;
/// The most slots a route's long window has, counting the one it is filling.
pub const MAX_SLOTS: usize = crate::core::window::SLOTS + 1;
/// How far ahead of a client's wall clock a contribution's time may be (clocks disagree a little;
/// a contribution from much further ahead would outrank every later one).
pub const AHEAD_MS: f64 = 86_400_000.0;
/// Ids, counts and times are integers below 2^53: they cross to JS as numbers.
const MAX_INT: f64 = 9_007_199_254_740_991.0;

/// A state snapshot: the config it belongs to, its routes' health and the contributions of
/// isolates.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    /// The config's fingerprint without its routes.
    pub fingerprint: String,
    /// Routes and their latest ejection or restore, in order of identity.
    pub routes: Vec<RouteHealth>,
    /// In order of id.
    pub isolates: Vec<Isolate>,
}

/// A route by identity, with its latest ejection or restore if any (a state's canonical form
/// lists only routes with one).
#[derive(Debug, Clone, PartialEq)]
pub struct RouteHealth {
    pub name: String,
    pub url: String,
    pub health: Option<Health>,
}

/// What one isolate knew when it exported (wall-clock ms since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Isolate {
    /// Random, drawn once per client; below 2^53.
    pub id: u64,
    /// When it exported.
    pub at: f64,
    /// Retries of its budget's reserve it had spent over the budget's window (`budget.ttlMs`)
    /// when it exported.
    pub reserve: f64,
    /// Its routes' long-window counts, by identity.
    pub routes: Vec<RouteCounts>,
}

/// One route's long-window slots that counted something, as an isolate knew them.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteCounts {
    pub name: String,
    pub url: String,
    pub slots: Vec<Slot>,
}

/// A route's ejection (at `at`, until `until`) or restore (`until` 0, at `at`), and how often it
/// had been ejected then.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    pub at: f64,
    pub until: f64,
    pub ejections: u32,
}

impl Health {
    pub fn is_restore(&self) -> bool {
        self.until == 0.0
    }

    /// The total order of changes: the later wins, ties broken by the rest.
    pub fn order(&self, o: &Health) -> Ordering {
        self.at
            .total_cmp(&o.at)
            .then(self.until.total_cmp(&o.until))
            .then(self.ejections.cmp(&o.ejections))
    }
}

/// Attempts a route answered (`ok`) and failed in one slot of its long window, which began at
/// `start`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Slot {
    pub start: f64,
    pub ok: u64,
    pub failed: u64,
}

/// What a merge did: how many contributions the client now holds, and the routes (by name) the
/// state named that the client lacks.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Merged {
    pub isolates: usize,
    pub ignored: Vec<String>,
}

/// A state that cannot be taken: the path of what is wrong (`isolates[2].at`), its value and
/// what is allowed there. Nothing of it was merged.
#[derive(Debug, Clone, PartialEq)]
pub struct StateError {
    pub path: String,
    pub value: String,
    pub allowed: String,
}

impl StateError {
    pub fn new(path: &str, value: String, allowed: &str) -> Self {
        StateError {
            path: path.into(),
            value,
            allowed: allowed.into(),
        }
    }

    /// `invalid ballast state: <path> = <value> (allowed: <allowed>)`.
    pub fn message(&self) -> String {
        crate::core::print::invalid("state", &self.path, &self.value, &self.allowed)
    }
}

/// A wall-clock time as states carry them: whole ms since the epoch, below 2^53.
fn time(t: f64) -> bool {
    (0.0..=MAX_INT).contains(&t) && t.fract() == 0.0
}

fn list(v: &Value) -> Option<&[Value]> {
    match v {
        Value::List(items) => Some(items),
        _ => None,
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    v?.as_f64()
}

fn text(v: Option<&Value>) -> Option<String> {
    v?.as_str().map(String::from)
}

/// `isolates[i].routes[j]` and what follows, from the heads of its parts and their indexes.
fn path(heads: &[&str], indexes: &[usize], tail: &str) -> String {
    let mut out = String::new();
    for (h, i) in heads.iter().zip(indexes) {
        out.push_str(h);
        out.push_str(&cat!(*i));
    }
    out.push_str(tail);
    out
}

impl State {
    /// A state from the lists `pkg/state.js` makes of a state it has checked the shape of
    /// (`[fingerprint, routes, isolates]`: a route `[name, url]`, or `[name, url, at, until,
    /// ejections]` with a change; a contribution `[id, at, reserve, counts]`, its counts
    /// `[route index, start, ok, failed, start, ...]`); `None` for anything else. Values are
    /// taken as they are: `check` says whether they are in range.
    pub fn from_lists(v: &Value) -> Option<State> {
        let [fp, routes, isolates] = list(v)? else {
            return None;
        };
        let mut s = State {
            fingerprint: text(Some(fp))?,
            ..State::default()
        };
        for r in list(routes)? {
            let r = list(r)?;
            let health = match r.get(2..) {
                Some([at, until, n]) => Some(Health {
                    at: num(Some(at))?,
                    until: num(Some(until))?,
                    ejections: num(Some(n))? as u32,
                }),
                _ => None,
            };
            s.routes.push(RouteHealth {
                name: text(r.first())?,
                url: text(r.get(1))?,
                health,
            });
        }
        for i in list(isolates)? {
            let [id, at, reserve, counts] = list(i)? else {
                return None;
            };
            let mut iso = Isolate {
                id: num(Some(id))? as u64,
                at: num(Some(at))?,
                reserve: num(Some(reserve))?,
                routes: Vec::new(),
            };
            for c in list(counts)? {
                let c = list(c)?;
                let r = s.routes.get(num(c.first())? as usize)?;
                let mut slots = Vec::new();
                for x in c.get(1..)?.chunks(3) {
                    slots.push(Slot {
                        start: num(x.first())?,
                        ok: num(x.get(1))? as u64,
                        failed: num(x.get(2))? as u64,
                    });
                }
                iso.routes.push(RouteCounts {
                    name: r.name.clone(),
                    url: r.url.clone(),
                    slots,
                });
            }
            s.isolates.push(iso);
        }
        Some(s)
    }

    /// Every value in range (a state built in Rust is checked as one from JS): times in whole ms
    /// and not negative, none more than a day ahead of `wall` (infinity: no limit), an ejection
    /// at most an hour long, a route's slots no later than their contribution, no route twice in
    /// a contribution nor a slot twice in a route, at most `MAX_INPUT` routes and contributions.
    pub fn check(&self, wall: f64) -> Result<(), StateError> {
        match self.problem(wall) {
            None => Ok(()),
            Some((path, value, allowed)) => Err(StateError::new(&path, value, allowed)),
        }
    }

    /// The first value out of range (`check`): its path, the value, what is allowed.
    fn problem(&self, wall: f64) -> Option<(String, String, &'static str)> {
        const CLOCK: &str = "a wall-clock time in whole ms, at most a day ahead of this client's";
        const BEFORE: &str = "a time in whole ms, no later than the isolate's `at`";
        const MANY: &str = "an array of at most 1024 items";
        const ROUTES: &[&str] = &["routes["];
        const ISOLATES: &[&str] = &["isolates[", "].routes[", "].slots["];
        let ahead = wall + AHEAD_MS;
        let n = |x: f64| Some(fmt_num(x));
        let (mut routes, mut isolates) = (self.routes.iter(), self.isolates.iter());
        if routes.len() > MAX_INPUT || isolates.len() > MAX_INPUT {
            let what = if routes.len() > MAX_INPUT {
                "routes"
            } else {
                "isolates"
            };
            return Some((what.into(), "a longer array".into(), MANY));
        }
        for (i, r) in routes.by_ref().enumerate() {
            let Some(h) = &r.health else { continue };
            let problem = if !(time(h.at) && h.at <= ahead) {
                Some(("].health[0]", n(h.at), CLOCK))
            } else if !(h.until == 0.0
                || (time(h.until) && h.until >= h.at && h.until <= h.at + MAX_MS))
            {
                let until =
                    "0 (restored), or when the ejection ends: at most an hour after it began";
                Some(("].health[1]", n(h.until), until))
            } else {
                None
            };
            if let Some((tail, v, allowed)) = problem {
                return Some((path(ROUTES, &[i], tail), v?, allowed));
            }
        }
        for (i, iso) in isolates.by_ref().enumerate() {
            let problem = if !(time(iso.at) && iso.at <= ahead) {
                Some(("].at", n(iso.at), CLOCK))
            } else if !(iso.reserve >= 0.0 && iso.reserve <= MAX_INT) {
                Some(("].reserve", n(iso.reserve), "a number >= 0"))
            } else {
                None
            };
            if let Some((tail, v, allowed)) = problem {
                return Some((path(ISOLATES, &[i], tail), v?, allowed));
            }
            for (j, r) in iso.routes.iter().enumerate() {
                let twice = iso.routes[..j]
                    .iter()
                    .any(|o| o.name == r.name && o.url == r.url);
                let problem = if twice {
                    Some((
                        "].route",
                        quoted(&r.name),
                        "a route no other entry of this isolate names",
                    ))
                } else if r.slots.len() > MAX_SLOTS {
                    Some(("].slots", cat!(r.slots.len(), " slots"), "at most 7 slots"))
                } else {
                    None
                };
                if let Some((tail, v, allowed)) = problem {
                    return Some((path(ISOLATES, &[i, j], tail), v, allowed));
                }
                for (k, s) in r.slots.iter().enumerate() {
                    let allowed = if !(time(s.start) && s.start <= iso.at) {
                        BEFORE
                    } else if r.slots.iter().take(k).any(|o| o.start == s.start) {
                        "a start no other slot of this route has"
                    } else {
                        continue;
                    };
                    return Some((
                        path(ISOLATES, &[i, j, k], "][0]"),
                        fmt_num(s.start),
                        allowed,
                    ));
                }
            }
        }
        None
    }

    /// The merge of two states of one config (the join: module docs), in the canonical form
    /// (`canonical`) whatever the form of the two.
    pub fn join(mut self, other: State) -> State {
        self.absorb(other, f64::NEG_INFINITY);
        self
    }

    /// The join of two stored states without a client (a coordinator's store): each checked
    /// (`check`, `wall` as there), and of one config. An error's path starts with the state at
    /// fault, `a.` or `b.` (`b.fingerprint` when the configs differ): a store that refuses a
    /// state keeps its own.
    pub fn join_checked(a: State, b: State, wall: f64) -> Result<State, StateError> {
        let at = |which: &str, e: StateError| StateError {
            path: cat!(which, ".", e.path),
            ..e
        };
        a.check(wall).map_err(|e| at("a", e))?;
        b.check(wall).map_err(|e| at("b", e))?;
        if a.fingerprint != b.fingerprint {
            let allowed = cat!(
                quoted(&a.fingerprint),
                ", the fingerprint of the first state (states of different configs are kept apart)"
            );
            return Err(StateError::new(
                "b.fingerprint",
                quoted(&b.fingerprint),
                &allowed,
            ));
        }
        Ok(a.join(b))
    }

    /// Joins `other` into this state, then drops what is from `from` or earlier (`canonical`).
    pub fn absorb(&mut self, other: State, from: f64) {
        self.routes.extend(other.routes);
        self.isolates.extend(other.isolates);
        self.canonical(from);
    }

    /// The canonical form, without what can no longer matter (its time is `from` or earlier:
    /// dropping by time commutes with merging): routes with a change, one per identity (its
    /// latest change), in order; contributions each normalised (`Isolate::normalise`), one per id
    /// (the last in their order), the `MAX_ISOLATES` last, in order of id.
    pub fn canonical(&mut self, from: f64) {
        // By identity, the latest change first: the first of each identity is kept.
        sort_by(&mut self.routes, |a, b| {
            let by = (&a.name, &a.url).cmp(&(&b.name, &b.url));
            by.is_lt() || (by.is_eq() && later(&a.health, &b.health))
        });
        let mut routes: Vec<RouteHealth> = Vec::new();
        for r in core::mem::take(&mut self.routes) {
            let seen = routes
                .last()
                .is_some_and(|k| k.name == r.name && k.url == r.url);
            if r.health.is_some_and(|h| h.at > from) && !seen {
                routes.push(r);
            }
        }
        self.routes = routes;
        // By id, the last in the order first: the first of each id is kept.
        for i in &mut self.isolates {
            i.normalise();
        }
        let by_id = |a: &Isolate, b: &Isolate| a.id < b.id;
        sort_by(&mut self.isolates, |a, b| {
            a.id < b.id || (a.id == b.id && a.order(b).is_gt())
        });
        let mut kept: Vec<Isolate> = Vec::new();
        for i in core::mem::take(&mut self.isolates) {
            if i.at > from && kept.last().is_none_or(|k| k.id != i.id) {
                kept.push(i);
            }
        }
        if kept.len() > MAX_ISOLATES {
            sort_by(&mut kept, |a, b| a.order(b).is_gt());
            kept.truncate(MAX_ISOLATES);
            sort_by(&mut kept, by_id);
        }
        self.isolates = kept;
    }

    /// The change for route (`name`, `url`), if there is one.
    pub fn health(&self, name: &str, url: &str) -> Option<Health> {
        self.routes
            .iter()
            .find(|r| r.name == name && r.url == url)
            .and_then(|r| r.health)
    }

    /// Every route the state names (with a change or counts), once each, in order of identity:
    /// the `routes` of its plain form, which its contributions name by index.
    pub fn table(&self) -> Vec<(&str, &str)> {
        let mut all: Vec<(&str, &str)> = Vec::new();
        for r in &self.routes {
            all.push((&r.name, &r.url));
        }
        for i in &self.isolates {
            for r in &i.routes {
                all.push((&r.name, &r.url));
            }
        }
        sort_by(&mut all, |a, b| a < b);
        all.dedup();
        all
    }
}

/// Where route `r` is in `table` (`State::table`).
pub fn index_in(table: &[(&str, &str)], r: &RouteCounts) -> usize {
    table
        .binary_search(&(r.name.as_str(), r.url.as_str()))
        .unwrap_or(0)
}

/// Whether change `a` comes after `b` (a change after none).
fn later(a: &Option<Health>, b: &Option<Health>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.order(b).is_gt(),
        (a, b) => a.is_some() && b.is_none(),
    }
}

impl Isolate {
    /// Routes in order of identity, each one's slots in order of start; slots that counted
    /// nothing or that had left the long window when it exported, and routes left with none,
    /// are dropped.
    pub fn normalise(&mut self) {
        let from = self.at - crate::core::route::LONG_MS;
        for r in &mut self.routes {
            r.slots
                .retain(|s| (s.ok > 0 || s.failed > 0) && s.start > from);
            sort_by(&mut r.slots, |a, b| a.start < b.start);
        }
        self.routes.retain(|r| !r.slots.is_empty());
        sort_by(&mut self.routes, |a, b| {
            (&a.name, &a.url) < (&b.name, &b.url)
        });
    }

    /// The total order of contributions: by `at`, then id, then content (normalised).
    pub fn order(&self, o: &Isolate) -> Ordering {
        let mut c = self
            .at
            .total_cmp(&o.at)
            .then(self.id.cmp(&o.id))
            .then(self.reserve.total_cmp(&o.reserve))
            .then(self.routes.len().cmp(&o.routes.len()));
        for (a, b) in self.routes.iter().zip(&o.routes) {
            c = c
                .then_with(|| (&a.name, &a.url).cmp(&(&b.name, &b.url)))
                .then(a.slots.len().cmp(&b.slots.len()));
            for (x, y) in a.slots.iter().zip(&b.slots) {
                c = c
                    .then(x.start.total_cmp(&y.start))
                    .then(x.ok.cmp(&y.ok))
                    .then(x.failed.cmp(&y.failed));
            }
        }
        c
    }

    /// The slots for route (`name`, `url`), if it has counts for it.
    pub fn slots(&self, name: &str, url: &str) -> &[Slot] {
        self.routes
            .iter()
            .find(|r| r.name == name && r.url == url)
            .map_or(&[], |r| &r.slots)
    }
}

/// An isolate id from a seed (SplitMix64's finaliser), below 2^53: where no source of entropy is
/// at hand (native tests, the simulator); the wasm binding draws a random one.
pub fn isolate_id(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) & (MAX_INT as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(id: u64, at: f64) -> Isolate {
        Isolate {
            id,
            at,
            reserve: 0.0,
            routes: vec![RouteCounts {
                name: "a".into(),
                url: "http://a".into(),
                slots: vec![Slot {
                    start: at - 1.0,
                    ok: id,
                    failed: 1,
                }],
            }],
        }
    }

    fn state(isolates: Vec<Isolate>) -> State {
        State {
            fingerprint: "f".into(),
            routes: Vec::new(),
            isolates,
        }
    }

    #[test]
    fn keeps_the_latest_per_isolate_and_the_latest_isolates() {
        let a = state(vec![iso(1, 10.0), iso(2, 20.0)]);
        let b = state(vec![iso(1, 30.0), iso(2, 5.0)]);
        let j = a.join(b);
        assert_eq!(
            j.isolates.iter().map(|i| (i.id, i.at)).collect::<Vec<_>>(),
            [(1, 30.0), (2, 20.0)]
        );
        let many = state((0..100).map(|i| iso(i, 1000.0 + i as f64)).collect());
        let j = many.join(State::default());
        assert_eq!(j.isolates.len(), MAX_ISOLATES);
        assert_eq!(j.isolates[0].id, 100 - MAX_ISOLATES as u64);
        assert_eq!(j.clone().join(j.clone()), j);
    }

    #[test]
    fn ids_are_below_2_53() {
        for s in [0, 1, u64::MAX] {
            assert!(isolate_id(s) as f64 <= MAX_INT);
        }
        assert_ne!(isolate_id(1), isolate_id(2));
    }
}

//! State snapshots (`core::state`): merging is commutative, associative and idempotent, for
//! states alone and for what an engine does with them; a state that cannot be taken is refused
//! with an error naming what is wrong, and changes nothing; and in virtual time, a client started
//! from another's state begins where that one was (an ejected primary stays avoided, a flapping
//! route keeps its low score, a spent reserve is not spent again).

mod common;

use ballast_fetch::core::config::RouteConfig;
use ballast_fetch::core::state::{
    Health, Isolate, RouteCounts, RouteHealth, Slot, State, StateError, MAX_ISOLATES,
};
use ballast_fetch::core::value::Value;
use ballast_fetch::core::{Config, Start};
use ballast_fetch::virtual_time::{Executor, Reply};
use common::{get, settle, Scripted};
use proptest::prelude::*;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// The wall clock when a client's virtual clock reads 0.
const WALL: f64 = 1_700_000_000_000.0;
const ROUTES: [(&str, &str); 3] = [
    ("primary", "http://a"),
    ("secondary", "http://b"),
    ("mirror", "http://m"),
];

fn config() -> Config {
    let route = |(name, url): (&str, &str)| RouteConfig::new(name, url);
    let mut c = Config {
        routes: vec![route(ROUTES[0]), route(ROUTES[1])],
        ..Config::default()
    };
    c.retry.backoff.base_ms = 1.0;
    c.retry.backoff.cap_ms = 1.0;
    c.routing.ejection.consecutive_failures = 3.0;
    c.routing.ejection.base_ms = 60_000.0;
    c
}

/// Hosts' statuses (200 unless set), changeable between calls.
type Statuses = Rc<RefCell<BTreeMap<String, u16>>>;

/// A client in virtual time whose routes answer in 5 ms with the status `statuses` gives their
/// host, and whose wall clock is `wall0 + now`.
struct Client {
    ex: Executor<Scripted>,
    statuses: Statuses,
    wall0: f64,
}

impl Client {
    fn new(c: Config, seed: u64, wall0: f64) -> Self {
        let statuses: Statuses = Rc::default();
        let st = statuses.clone();
        let origin: Scripted = Box::new(move |_: &Start, url: &str, _| {
            let host = url
                .trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap_or("");
            let status = st.borrow().get(host).copied().unwrap_or(200);
            (5.0, Reply::Status(status))
        });
        Client {
            ex: Executor::new(common::engine(c, seed), origin),
            statuses,
            wall0,
        }
    }

    fn set(&self, host: &str, status: u16) {
        self.statuses.borrow_mut().insert(host.into(), status);
    }

    fn wall(&self) -> f64 {
        self.wall0 + self.ex.now()
    }

    /// One call of `/x`, run until it settles; the hosts its attempts went to.
    fn call(&mut self) -> Vec<String> {
        let key = self.ex.calls.keys().next_back().map_or(0, |k| k + 1);
        self.ex.call_at(self.ex.now(), key, get("/x"));
        settle(&mut self.ex, key);
        let c = &self.ex.calls[&key];
        c.starts
            .iter()
            .map(|(_, s)| s.url.clone().unwrap_or_default()[7..8].to_string())
            .collect()
    }

    fn wait(&mut self, ms: f64) {
        let t = self.ex.now() + ms;
        self.ex.run_until(t);
    }

    fn export(&mut self) -> State {
        let (now, wall) = (self.ex.now(), self.wall());
        self.ex.engine.export_state(now, wall)
    }

    fn merge(&mut self, s: &State) -> Result<ballast_fetch::core::state::Merged, StateError> {
        let (now, wall) = (self.ex.now(), self.wall());
        self.ex.engine.merge_state(s.clone(), now, wall)
    }

    fn route(&self, name: &str) -> ballast_fetch::core::routing::RouteSnapshot {
        let s = self.ex.engine.snapshot(self.ex.now());
        s.routes.into_iter().find(|r| r.name == name).unwrap()
    }
}

/// A client with some history: the primary failed a third of the time for two minutes.
fn seasoned(seed: u64) -> Client {
    let mut c = Client::new(config(), seed, WALL);
    for i in 0..40 {
        c.set("a", if i % 3 == 0 { 503 } else { 200 });
        c.call();
        c.wait(3_000.0);
    }
    c
}

// ---- random states ------------------------------------------------------------------------

/// Contributions' times: ten minutes after `WALL`, a few seconds apart (so that they tie).
fn at(t: u32) -> f64 {
    WALL + 600_000.0 + f64::from(t) * 1_000.0
}

fn health() -> impl Strategy<Value = Health> {
    (0u32..6, 0u32..4, any::<bool>(), 0u32..6).prop_map(|(t, n, restore, d)| {
        let h = at(t);
        Health {
            at: h,
            until: if restore {
                0.0
            } else {
                h + f64::from(d) * 60_000.0
            },
            ejections: n,
        }
    })
}

fn route_health() -> impl Strategy<Value = RouteHealth> {
    (0usize..3, proptest::option::weighted(0.8, health())).prop_map(|(w, health)| RouteHealth {
        name: ROUTES[w].0.into(),
        url: ROUTES[w].1.into(),
        health,
    })
}

fn route_counts(at: f64, which: usize) -> impl Strategy<Value = RouteCounts> {
    let (name, url) = ROUTES[which];
    proptest::collection::btree_map(0u32..8, (0u64..20, 0u64..20), 0..5).prop_map(move |slots| {
        RouteCounts {
            name: name.into(),
            url: url.into(),
            slots: slots
                .into_iter()
                .map(|(k, (ok, failed))| Slot {
                    start: at - f64::from(k) * 90_000.0,
                    ok,
                    failed,
                })
                .collect(),
        }
    })
}

/// A contribution: ids and times from small ranges, so that states share isolates and tie.
fn isolate() -> impl Strategy<Value = Isolate> {
    (0u64..48, 0u32..6, 0u32..4, 0usize..8).prop_flat_map(|(id, t, reserve, mask)| {
        let at = at(t);
        let which: Vec<usize> = (0..3).filter(|i| mask & (1 << i) != 0).collect();
        let routes: Vec<_> = which.into_iter().map(|w| route_counts(at, w)).collect();
        routes.prop_map(move |routes| Isolate {
            id,
            at,
            reserve: f64::from(reserve) * 0.5,
            routes,
        })
    })
}

fn state() -> impl Strategy<Value = State> {
    (
        proptest::collection::vec(route_health(), 0..5),
        proptest::collection::vec(isolate(), 0..40),
    )
        .prop_map(|(routes, isolates)| State {
            fingerprint: String::new(),
            routes,
            isolates,
        })
}

/// `s` tagged for `c`'s config.
fn tagged(mut s: State, c: &mut Client) -> State {
    s.fingerprint = c.export().fingerprint;
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn join_is_commutative_associative_and_idempotent(a in state(), b in state(), c in state()) {
        prop_assert_eq!(a.clone().join(b.clone()), b.clone().join(a.clone()));
        prop_assert_eq!(
            a.clone().join(b.clone()).join(c.clone()),
            a.clone().join(b.clone().join(c.clone()))
        );
        let n = a.clone().join(State::default());
        prop_assert_eq!(a.clone().join(a.clone()), n.clone());
        prop_assert_eq!(n.clone().join(n.clone()), n.clone());
        prop_assert!(n.isolates.len() <= MAX_ISOLATES);
        // Plain data and back: what crosses to JS reads as it was.
        // As plain lists (what pkg/state.js hands the engine) and back.
        let back = State::from_lists(&lists(&n)).map(|s| s.join(State::default()));
        prop_assert_eq!(back, Some(n.clone()));
        prop_assert_eq!(n.check(WALL + 3_600_000.0), Ok(()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// What an engine does with states depends on the states, not on the order they came in
    /// nor how often: its export and its snapshot end the same.
    #[test]
    fn an_engine_merging_in_any_order_ends_the_same(a in state(), b in state(), later in 0u32..4) {
        // Merged when the states are young, old, or too old to matter (then they are dropped).
        let client = || {
            let mut c = seasoned(1);
            c.wait(f64::from(later) * 600_000.0);
            c
        };
        let mut x = client();
        let (a, b) = (tagged(a, &mut x), tagged(b, &mut x));
        let mut y = client();
        let mut z = client();
        let mut w = client();
        x.merge(&a).unwrap();
        x.merge(&b).unwrap();
        y.merge(&b).unwrap();
        y.merge(&a).unwrap();
        for s in [&a, &b, &a, &b, &b] {
            z.merge(s).unwrap();
        }
        w.merge(&a.clone().join(b.clone())).unwrap();
        let now = x.ex.now();
        let ex = x.export();
        for other in [&mut y, &mut z, &mut w] {
            prop_assert_eq!(other.export(), ex.clone());
            prop_assert_eq!(other.ex.engine.snapshot(now), x.ex.engine.snapshot(now));
        }
        // And the clients go on alike.
        for c in [&mut x, &mut y] {
            c.wait(30_000.0);
            c.call();
        }
        prop_assert_eq!(y.export(), x.export());
    }

    /// A state that cannot be taken changes nothing: the export and the snapshot are as before.
    #[test]
    fn a_refused_state_changes_nothing(s in state(), bad in 0usize..8, at in any::<prop::sample::Index>()) {
        let mut c = seasoned(2);
        let s = tagged(s, &mut c);
        c.merge(&s).unwrap();
        let (before, snap) = (c.export(), c.ex.engine.snapshot(c.ex.now()));
        let mut bent = s.clone().join(State::default());
        corrupt(&mut bent, bad, at);
        let (now, wall) = (c.ex.now(), c.wall());
        let got = c.ex.engine.merge_state(bent, now, wall);
        prop_assert!(got.is_err(), "corruption {} was taken", bad);
        prop_assert_eq!(c.export(), before);
        prop_assert_eq!(c.ex.engine.snapshot(c.ex.now()), snap);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A store's join (`State::join_checked`, no client): the join of two states it can take;
    /// for one it cannot, an error whose path names the state at fault, `a.` or `b.`.
    #[test]
    fn a_stores_join_checks_both_and_names_the_one_at_fault(
        a in state(), b in state(), bad in 0usize..8, at in any::<prop::sample::Index>(), first in any::<bool>()
    ) {
        let wall = WALL + 3_600_000.0;
        let (a, b) = (a.join(State::default()), b.join(State::default()));
        prop_assert_eq!(State::join_checked(a.clone(), b.clone(), wall), Ok(a.clone().join(b.clone())));
        let mut bent = b.clone();
        corrupt(&mut bent, bad, at);
        let (x, y, which) = if first { (bent, a, "a.") } else { (a, bent, "b.") };
        let e = State::join_checked(x, y, wall).unwrap_err();
        // Another config is named on the second state, whichever was bent.
        let expect = if e.path.ends_with("fingerprint") { "b." } else { which };
        prop_assert!(e.path.starts_with(expect), "corruption {}: {:?}", bad, e);
    }
}

#[test]
fn a_stores_join_keeps_states_of_other_configs_apart() {
    let s = State {
        fingerprint: "0123456789ab".into(),
        ..State::default()
    };
    let other = State {
        fingerprint: "ba9876543210".into(),
        ..State::default()
    };
    let e = State::join_checked(s.clone(), other, WALL).unwrap_err();
    assert_eq!(
        (e.path.as_str(), e.value.as_str()),
        ("b.fingerprint", "\"ba9876543210\"")
    );
    assert!(e.allowed.contains("\"0123456789ab\""), "{e:?}");
    assert_eq!(State::join_checked(s.clone(), s.clone(), WALL), Ok(s));
}

/// `s` as the lists `pkg/state.js` makes of a state (`State::from_lists`).
fn lists(s: &State) -> Value {
    let num = Value::Num;
    let text = |t: &str| Value::Str(t.into());
    let table = s.table();
    let routes = table
        .iter()
        .map(|(n, u)| {
            let mut r = vec![text(n), text(u)];
            if let Some(h) = s.health(n, u) {
                r.extend([num(h.at), num(h.until), num(f64::from(h.ejections))]);
            }
            Value::List(r)
        })
        .collect();
    let isolates = s
        .isolates
        .iter()
        .map(|i| {
            let counts = i
                .routes
                .iter()
                .map(|r| {
                    let mut c = vec![num(ballast_fetch::core::state::index_in(&table, r) as f64)];
                    for x in &r.slots {
                        c.extend([num(x.start), num(x.ok as f64), num(x.failed as f64)]);
                    }
                    Value::List(c)
                })
                .collect();
            Value::List(vec![
                num(i.id as f64),
                num(i.at),
                num(i.reserve),
                Value::List(counts),
            ])
        })
        .collect();
    Value::List(vec![
        text(&s.fingerprint),
        Value::List(routes),
        Value::List(isolates),
    ])
}

/// One way in `bad` of breaking a state (at a place `at` picks where there is a choice).
fn corrupt(s: &mut State, bad: usize, at: prop::sample::Index) {
    if bad == 0 || s.isolates.is_empty() {
        s.fingerprint = "another".into();
        return;
    }
    let k = at.index(s.isolates.len());
    let iso = &mut s.isolates[k];
    let first = iso.at;
    match (bad, iso.routes.first_mut()) {
        (1, _) => iso.at = f64::NAN,
        (2, _) => iso.at = WALL * 10.0,
        (3, _) => iso.reserve = -1.0,
        (4, _) => iso.at += 0.5,
        (5, Some(r)) => r.slots[0].start = first + 1.0,
        (6, Some(r)) => r.slots.push(r.slots[0]),
        (_, Some(r)) => {
            let r = r.clone();
            iso.routes.push(r)
        }
        (_, None) => iso.at = -1.0,
    }
}

// ---- errors ---------------------------------------------------------------------------------

#[test]
fn every_kind_of_bad_state_is_named() {
    let mut c = seasoned(3);
    c.set("a", 503);
    while c.route("primary").state != "ejected" {
        c.call();
    }
    // Shapes are checked where a state is read (pkg/state.js, tests/js/state.test.mjs); the
    // engine refuses another config and values out of range.
    let (now, wall) = (c.ex.now(), c.wall());
    let s = c.export();
    let merge =
        |c: &mut Client, s: &State| c.ex.engine.merge_state(s.clone(), now, wall).unwrap_err();
    let mut other = s.clone();
    other.fingerprint = "0123456789ab".into();
    let e = merge(&mut c, &other);
    assert_eq!(
        (e.path.as_str(), e.value.as_str()),
        ("fingerprint", "\"0123456789ab\"")
    );
    assert!(e.allowed.contains("without its routes"), "{e:?}");
    type Bend = fn(&mut State);
    let checks: &[(Bend, &str, &str)] = &[
        (
            |s| s.isolates[0].at = f64::NAN,
            "isolates[0].at",
            "a wall-clock time in whole ms",
        ),
        (
            |s| s.isolates[0].at += 2.0 * 86_400_000.0,
            "isolates[0].at",
            "a wall-clock time in whole ms, at most a day ahead",
        ),
        (
            |s| s.isolates[0].at += 0.5,
            "isolates[0].at",
            "a wall-clock time in whole ms",
        ),
        (
            |s| s.isolates[0].reserve = f64::INFINITY,
            "isolates[0].reserve",
            "a number >= 0",
        ),
        (
            |s| {
                let r = s.isolates[0].routes[0].clone();
                s.isolates[0].routes.insert(1, r)
            },
            "isolates[0].routes[1].route",
            "a route no other entry of this isolate names",
        ),
        (
            |s| s.routes[0].health.as_mut().unwrap().until += 7_200_000.0,
            "routes[0].health[1]",
            "0 (restored), or when the ejection ends",
        ),
        (
            |s| s.routes[0].health.as_mut().unwrap().at = -1.0,
            "routes[0].health[0]",
            "a wall-clock time in whole ms",
        ),
        (
            |s| s.isolates[0].routes[0].slots[0].start = s.isolates[0].at + 1.0,
            "isolates[0].routes[0].slots[0][0]",
            "a time in whole ms, no later than the isolate's `at`",
        ),
        (
            |s| {
                let sl = s.isolates[0].routes[0].slots[0];
                s.isolates[0].routes[0].slots.insert(1, sl)
            },
            "isolates[0].routes[0].slots[1][0]",
            "a start no other slot of this route has",
        ),
        (
            |s| {
                s.isolates[0].routes[0].slots = vec![
                    Slot {
                        start: 1.0,
                        ok: 1,
                        failed: 0
                    };
                    9
                ]
            },
            "isolates[0].routes[0].slots",
            "at most 7 slots",
        ),
    ];
    // A state with this client's own contribution under another id, so that it is merged.
    let mut base = s.clone();
    base.isolates[0].id = 1;
    assert!(base.routes[0].health.is_some() && !base.isolates[0].routes[0].slots.is_empty());
    for (bend, path, allowed) in checks {
        let mut s = base.clone();
        bend(&mut s);
        let e = merge(&mut c, &s);
        assert_eq!(e.path, *path, "{e:?}");
        assert!(e.allowed.starts_with(allowed), "{e:?}");
    }
}

// ---- in virtual time ------------------------------------------------------------------------

#[test]
fn a_client_started_from_a_state_keeps_the_primary_ejected() {
    let mut a = Client::new(config(), 1, WALL);
    a.set("a", 503);
    while a.route("primary").state != "ejected" {
        a.call();
    }
    let state = a.export();
    let ejected = state.health("primary", "http://a").unwrap();
    assert_eq!(ejected.until - ejected.at, 60_000.0);
    // Another isolate, a few seconds later by the wall clock, whose own clock began elsewhere.
    let later = WALL + a.ex.now() + 5_000.0;
    let mut b = Client::new(config(), 2, later);
    b.wait(1_000.0);
    let merged = b.merge(&state).unwrap();
    assert_eq!((merged.isolates, merged.ignored.len()), (1, 0));
    assert_eq!(b.route("primary").state, "ejected");
    assert_eq!(b.route("primary").ejections, 1);
    // The primary is avoided until the ejection ends by the wall clock, then probed.
    for _ in 0..20 {
        assert_eq!(b.call(), ["b"]);
        b.wait(2_000.0);
    }
    let until = ejected.until - later;
    b.wait(until - b.ex.now());
    assert_eq!(
        b.call(),
        ["a"],
        "the first call after the ejection probes the primary"
    );
    // A client without the state sends to the primary from the start.
    let mut fresh = Client::new(config(), 2, later);
    fresh.set("a", 503);
    let first: Vec<Vec<String>> = (0..6).map(|_| fresh.call()).collect();
    assert!(first.iter().any(|hosts| hosts[0] == "a"), "{first:?}");
}

#[test]
fn long_term_scores_carry_over_and_a_restore_forgives() {
    let mut a = seasoned(1);
    let state = a.export();
    let mut b = Client::new(config(), 2, WALL + a.ex.now());
    let fresh = b.route("primary").score;
    b.merge(&state).unwrap();
    let (p, s) = (b.route("primary"), b.route("secondary"));
    assert!(p.score < fresh && p.score < s.score, "{p:?} vs {s:?}");
    assert!(p.success_rate < 0.9, "{p:?}");
    assert_eq!(
        p.success_rate,
        a.route("primary").success_rate,
        "the same counts in the long window"
    );
    // The counts expire with the long window, as the client's own do.
    b.wait(601_000.0);
    assert_eq!(b.route("primary").success_rate, 1.0);

    // A restore seen elsewhere forgives what came before it.
    let mut c = Client::new(config(), 3, WALL + a.ex.now());
    c.merge(&state).unwrap();
    let mut restored = state.clone();
    restored.isolates.clear();
    restored.routes = vec![RouteHealth {
        name: "primary".into(),
        url: "http://a".into(),
        health: Some(Health {
            at: state.isolates[0].at + 1_000.0,
            until: 0.0,
            ejections: 1,
        }),
    }];
    c.wait(2_000.0);
    c.merge(&restored).unwrap();
    assert_eq!(c.route("primary").success_rate, 1.0);
    assert_eq!(c.route("primary").ejections, 1);
}

#[test]
fn a_reserve_spent_elsewhere_is_not_spent_again() {
    let mut c = config();
    c.budget.min_per_sec = 1.0; // 10 retries in reserve over 10 s
    c.retry.max_attempts = 2;
    c.routes.clear();
    let mut a = Client::new(c.clone(), 1, WALL);
    a.set("origin", 503);
    let call = |x: &mut Client| {
        let key = x.ex.calls.keys().next_back().map_or(0, |k| k + 1);
        x.ex.call_at(x.ex.now(), key, get("http://origin/x"));
        settle(&mut x.ex, key);
        x.ex.calls[&key].starts.len()
    };
    let tries: usize = (0..20).map(|_| call(&mut a)).sum();
    assert_eq!(tries, 30, "20 calls, 10 retries: the reserve");
    let state = a.export();
    assert_eq!(state.isolates[0].reserve, 10.0);
    let mut b = Client::new(c.clone(), 2, WALL + a.ex.now());
    b.set("origin", 503);
    b.merge(&state).unwrap();
    assert_eq!(b.ex.engine.snapshot(0.0).budget.balance, 0);
    let tries: usize = (0..5).map(|_| call(&mut b)).sum();
    assert_eq!(tries, 5, "no retry: the fleet's reserve is spent");
    // It fades over the budget's window.
    b.wait(5_000.0);
    let half = b.ex.engine.snapshot(b.ex.now()).budget.balance;
    assert!((4..=6).contains(&half), "{half}");
    b.wait(5_000.0);
    assert_eq!(b.ex.engine.snapshot(b.ex.now()).budget.balance, 10);
}

#[test]
fn routes_are_matched_by_identity_and_the_others_are_carried() {
    let mut a = seasoned(1);
    let mut state = a.export();
    // The same state from a client whose secondary is another URL, and which has a mirror.
    for r in &mut state.isolates[0].routes {
        if r.name == "secondary" {
            r.url = "http://elsewhere".into();
        }
    }
    let at = state.isolates[0].at;
    state.isolates[0].routes.push(RouteCounts {
        name: "mirror".into(),
        url: "http://m".into(),
        slots: vec![Slot {
            start: at - 1.0,
            ok: 3,
            failed: 0,
        }],
    });
    let mut b = Client::new(config(), 2, WALL + a.ex.now());
    let merged = b.merge(&state).unwrap();
    assert_eq!(merged.ignored, ["mirror", "secondary"]);
    assert_eq!(b.route("secondary").success_rate, 1.0);
    assert!(b.route("primary").success_rate < 1.0);
    // What the client does not use it passes on.
    let out = b.export();
    assert_eq!(
        out.table(),
        [
            ("mirror", "http://m"),
            ("primary", "http://a"),
            ("secondary", "http://elsewhere")
        ]
    );
    // Its own contribution is never taken back from a state.
    let own = b.export();
    let before = b.export();
    b.merge(&own).unwrap();
    assert_eq!(b.export(), before);
}

#[test]
fn lists_that_are_not_a_state_are_none() {
    let n = |x: f64| Value::Num(x);
    let t = |x: &str| Value::Str(x.into());
    let l = Value::List;
    let good = l(vec![
        t("f"),
        l(vec![l(vec![t("a"), t("http://a")])]),
        l(vec![]),
    ]);
    assert!(State::from_lists(&good).is_some());
    for bad in [
        Value::Null,
        l(vec![t("f"), l(vec![])]),
        l(vec![n(1.0), l(vec![]), l(vec![])]),
        l(vec![t("f"), l(vec![l(vec![t("a")])]), l(vec![])]),
        // A contribution naming a route the list does not have.
        l(vec![
            t("f"),
            l(vec![]),
            l(vec![l(vec![
                n(1.0),
                n(2.0),
                n(0.0),
                l(vec![l(vec![n(0.0)])]),
            ])]),
        ]),
        // A slot of two numbers.
        l(vec![
            t("f"),
            l(vec![l(vec![t("a"), t("http://a")])]),
            l(vec![l(vec![
                n(1.0),
                n(2.0),
                n(0.0),
                l(vec![l(vec![n(0.0), n(1.0), n(1.0)])]),
            ])]),
        ]),
    ] {
        assert_eq!(State::from_lists(&bad), None, "{bad:?}");
    }
}

//! Routes in virtual time: ejection and its growth, probing and restore, the switch budget,
//! fallbacks with reasons and the fallback-default flip, the hedge budget and percentile hedging,
//! credentials and URL resolution. Each test runs calls through the virtual-time executor against
//! routes that answer 200 or 503 as the test says; the engine owns every wait.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

mod common;

use ballast_fetch::core::config::{HedgeConfig, RouteConfig};
use ballast_fetch::core::routing::{EjectReason, FallbackReason, RestoreReason};
use ballast_fetch::core::{Config, Event, RequestMeta, Settlement, Start};
use ballast_fetch::virtual_time::{Executor, Reply};
use common::{get, response_of, settle, Scripted};
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

fn route(name: &str, url: &str, fallback: bool) -> RouteConfig {
    RouteConfig {
        name: name.into(),
        url: url.into(),
        weight: 1.0,
        fallback,
        forward_credentials: false,
    }
}

fn config(routes: Vec<RouteConfig>) -> Config {
    let mut c = Config {
        routes,
        ..Default::default()
    };
    c.retry.backoff.base_ms = 1.0;
    c.retry.backoff.cap_ms = 1.0;
    c.budget.ratio = 10.0; // retries are not what these tests are about
    c.routing.ejection.consecutive_failures = 3.0;
    c.routing.ejection.base_ms = 1_000.0;
    c.routing.ejection.max_ms = 2_500.0;
    c.routing.switch_budget.ratio = 10.0;
    c
}

/// Host of a URL ("http://a/x" -> "a").
fn host(url: &str) -> String {
    url.trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string()
}

/// Which hosts answer 200 (the others 503), changeable between calls.
type Up = Rc<RefCell<Box<dyn Fn(&str) -> bool>>>;

/// An executor over routes that answer in 5 ms: 200 from a host `up` says is up, else 503.
/// `statuses` records what each attempt was answered.
struct Routes {
    ex: Executor<Scripted>,
    up: Up,
    statuses: Rc<RefCell<BTreeMap<(u64, u32), u16>>>,
}

impl Routes {
    fn new(c: Config) -> Self {
        let up: Up = Rc::new(RefCell::new(Box::new(|_: &str| true)));
        let statuses = Rc::new(RefCell::new(BTreeMap::new()));
        let (u, st) = (up.clone(), statuses.clone());
        let origin: Scripted = Box::new(move |s: &Start, url: &str, _| {
            let status = if (u.borrow())(&host(url)) { 200 } else { 503 };
            st.borrow_mut()
                .insert((s.task.to_bits(), s.attempt), status);
            (5.0, Reply::Status(status))
        });
        Routes {
            ex: Executor::new(common::engine(c, 7), origin),
            up,
            statuses,
        }
    }

    fn set_up(&self, f: impl Fn(&str) -> bool + 'static) {
        *self.up.borrow_mut() = Box::new(f);
    }

    fn now(&self) -> f64 {
        self.ex.now()
    }

    /// Lets `ms` of virtual time pass.
    fn wait(&mut self, ms: f64) {
        let t = self.ex.now() + ms;
        self.ex.run_until(t);
    }

    /// Makes one call of `meta` now and runs until it settles. Returns the hosts attempted, in
    /// order, and whether the call got a 200.
    fn call_meta(&mut self, meta: RequestMeta) -> (Vec<String>, bool) {
        let key = self.ex.calls.keys().next_back().map_or(0, |k| k + 1);
        self.ex.call_at(self.ex.now(), key, meta);
        settle(&mut self.ex, key);
        let c = &self.ex.calls[&key];
        let hosts = c
            .starts
            .iter()
            .map(|(_, s)| host(s.url.as_deref().unwrap_or(&c.url)))
            .collect();
        let ok = response_of(c.settlement())
            .is_some_and(|a| self.statuses.borrow()[&(c.task.to_bits(), a)] == 200);
        (hosts, ok)
    }

    fn call(&mut self, path: &str) -> (Vec<String>, bool) {
        self.call_meta(get(path))
    }

    /// The events since the last call of this, of `kind`.
    fn events(&mut self, kind: &str) -> Vec<Event> {
        self.take_events()
            .into_iter()
            .filter(|ev| ev.kind() == kind)
            .collect()
    }

    fn take_events(&mut self) -> Vec<Event> {
        self.ex.events.drain(..).map(|(_, e)| e).collect()
    }

    fn state_of(&self, name: &str) -> &'static str {
        self.ex
            .engine
            .snapshot(self.now())
            .routes
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.state)
            .unwrap()
    }
}

fn ejects(evs: &[Event]) -> Vec<(String, EjectReason, u32, f64)> {
    evs.iter()
        .filter_map(|ev| match ev {
            Event::Eject(e) => Some((e.route.clone(), e.reason, e.ejections, e.duration_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn ejection_grows_probing_restores_and_traffic_returns() {
    let mut r = Routes::new(config(vec![
        route("a", "http://a", false),
        route("b", "http://b", false),
    ]));
    // Outage of a: every call still succeeds (retries move to b); a is ejected after 3 in a row.
    r.set_up(|h| h != "a");
    let mut a_hits = 0;
    for _ in 0..200 {
        let (hosts, ok) = r.call("/x");
        assert!(ok);
        a_hits += hosts.iter().filter(|h| *h == "a").count();
        if r.state_of("a") == "ejected" {
            break;
        }
    }
    assert_eq!(r.state_of("a"), "ejected");
    assert!(a_hits <= 3 + 20, "a was hit {a_hits} times before ejection");
    let first = ejects(&r.events("eject"));
    assert_eq!(
        first[0],
        ("a".into(), EjectReason::ConsecutiveFailures, 1, 1_000.0)
    );
    assert_eq!(first[0].1.as_str(), "consecutive-failures");

    // Still down when the ejection ends: the probe fails, ejection 2 lasts 2 x base.
    r.wait(1_000.0);
    assert_eq!(r.state_of("a"), "probing");
    let (hosts, ok) = r.call("/x");
    assert!(
        ok && hosts[0] == "a",
        "the first call after the ejection probes a: {hosts:?}"
    );
    let second = ejects(&r.events("eject"));
    assert_eq!(
        second[0],
        ("a".into(), EjectReason::ProbeFailed, 2, 2_000.0)
    );
    assert_eq!(second[0].1.as_str(), "probe-failed");

    // Third ejection is capped at maxMs (2.5 s, not 3 s).
    r.wait(2_000.0);
    r.call("/x");
    let third = ejects(&r.events("eject"));
    assert_eq!((third[0].2, third[0].3), (3, 2_500.0));

    // a recovers: 3 successful probes (the default) restore it, and traffic returns.
    r.wait(2_500.0);
    r.set_up(|_| true);
    for _ in 0..3 {
        let (hosts, _) = r.call("/x");
        assert_eq!(hosts, vec!["a"], "probes go to a, one at a time");
    }
    let restores: Vec<_> = r
        .events("restore")
        .into_iter()
        .filter_map(|ev| match ev {
            Event::Restore(x) => Some((x.route, x.reason)),
            _ => None,
        })
        .collect();
    assert_eq!(restores[0], ("a".into(), RestoreReason::ProbesSucceeded));
    assert_eq!(restores[0].1.as_str(), "probes-succeeded");
    assert_eq!(r.state_of("a"), "healthy");
    let a_after = (0..100).filter(|_| r.call("/x").0[0] == "a").count();
    assert!(a_after >= 25, "a serves again: {a_after} of 100");
}

#[test]
fn low_success_rate_ejects_with_its_reason() {
    // One route, so P2C cannot steer around it: only the success-rate rule can act.
    let mut c = config(vec![route("a", "http://a", false)]);
    c.routing.ejection.consecutive_failures = 1000.0; // only the success-rate rule applies
    c.routing.ejection.min_requests = 5.0;
    c.routing.ejection.interval_ms = 500.0;
    let mut r = Routes::new(c);
    // a fails every other call: 50% < minSuccessRate 0.8.
    let n = Rc::new(Cell::new(0u32));
    let calls = n.clone();
    r.set_up(move |h| h != "a" || calls.get() % 2 == 0);
    for i in 1..=300u32 {
        n.set(i);
        r.call("/x");
        r.wait(10.0);
    }
    let ejects = ejects(&r.events("eject"));
    assert!(!ejects.is_empty());
    assert_eq!(
        (ejects[0].0.as_str(), ejects[0].1),
        ("a", EjectReason::LowSuccessRate)
    );
    assert_eq!(ejects[0].1.as_str(), "low-success-rate");
}

#[test]
fn at_most_max_percent_ejected_but_always_one() {
    let mut c = config(vec![
        route("a", "http://a", false),
        route("b", "http://b", false),
    ]);
    c.routing.ejection.max_percent = 10.0; // 10% of 2 routes rounds to 0: one may still go
    let mut r = Routes::new(c);
    r.set_up(|_| false);
    for _ in 0..50 {
        r.call("/x");
    }
    let s = r.ex.engine.snapshot(r.now());
    let ejected = s.routes.iter().filter(|r| r.state != "healthy").count();
    assert_eq!(ejected, 1, "{:?}", s.routes);
}

#[test]
fn switch_budget_exhaustion_keeps_retries_on_the_same_route() {
    // Both routes down (and never ejected): every retry wants to switch to the other one.
    let mut c = config(vec![
        route("a", "http://a", false),
        route("b", "http://b", false),
    ]);
    c.routing.switch_budget.ratio = 0.0;
    c.routing.switch_budget.min_per_sec = 0.2; // reserve: 2 switches per 10 s
    c.routing.ejection.consecutive_failures = 1000.0;
    let mut r = Routes::new(c);
    r.set_up(|_| false);
    let mut stayed = 0;
    for _ in 0..60 {
        let (hosts, _) = r.call("/x");
        if hosts.len() > 1 && hosts[0] == hosts[1] {
            stayed += 1;
        }
    }
    assert!(r.now() < 10_000.0, "one switch-budget window: {}", r.now());
    let s = r.ex.engine.snapshot(r.now());
    assert_eq!(s.switches.total, 2, "only the reserve was spent");
    assert!(s.switches.denied > 0 && stayed > 0, "{:?}", s.switches);
}

#[test]
fn fallback_serves_only_with_a_reason_and_the_default_flip_is_noticed() {
    let mut r = Routes::new(config(vec![
        route("a", "http://a", false),
        route("fb", "http://fb", true),
    ]));
    for _ in 0..30 {
        assert_eq!(r.call("/x").0, vec!["a"]);
    }
    assert_eq!(r.ex.engine.snapshot(r.now()).fallback.total, 0);
    r.take_events();

    // a goes down: all-primaries-failed, then primary-ejected once a is out.
    r.set_up(|h| h != "a");
    for _ in 0..40 {
        assert!(r.call("/x").1);
    }
    let evs = r.take_events();
    let reasons: Vec<FallbackReason> = evs
        .iter()
        .filter_map(|ev| match ev {
            Event::Fallback(f) => Some(f.reason),
            _ => None,
        })
        .collect();
    assert!(
        reasons.contains(&FallbackReason::AllPrimariesFailed),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&FallbackReason::PrimaryEjected),
        "{reasons:?}"
    );
    let flips: Vec<bool> = evs
        .iter()
        .filter_map(|ev| match ev {
            Event::FallbackDefault(f) => Some(f.is_default),
            _ => None,
        })
        .collect();
    assert_eq!(flips, vec![true]);
    let fb = r.ex.engine.snapshot(r.now()).fallback;
    assert!(fb.active && fb.is_default && fb.share > 0.5, "{fb:?}");
    assert!(fb.active_for_ms > 0.0);
    assert_eq!(fb.total, fb.by_reason.values().sum::<u64>());

    // a recovers; after its probes traffic returns and the flip goes back.
    r.set_up(|_| true);
    r.wait(5_000.0);
    for _ in 0..100 {
        r.call("/x");
        r.wait(500.0);
    }
    let flips: Vec<bool> = r
        .events("fallback-default")
        .into_iter()
        .filter_map(|ev| match ev {
            Event::FallbackDefault(f) => Some(f.is_default),
            _ => None,
        })
        .collect();
    assert_eq!(flips, vec![false]);
    let fb = r.ex.engine.snapshot(r.now()).fallback;
    assert!(
        !fb.active && !fb.is_default && fb.active_for_ms == 0.0,
        "{fb:?}"
    );
}

#[test]
fn a_wait_past_the_deadline_goes_to_fallback_at_once() {
    let mut c = config(vec![
        route("a", "http://a", false),
        route("fb", "http://fb", true),
    ]);
    c.timeout.total_ms = Some(1_000.0);
    // a answers 503 with Retry-After: 5 s (past the deadline) after 10 ms; fb answers 200.
    let origin: Scripted = Box::new(|_: &Start, url: &str, _| match host(url).as_str() {
        "a" => (10.0, Reply::RetryAfter(503, "5".into())),
        _ => (10.0, Reply::Status(200)),
    });
    let mut ex = Executor::new(common::engine(c, 7), origin);
    let call = ex.call(get("/x"));
    let starts: Vec<(f64, String)> = call
        .starts
        .iter()
        .map(|(t, s)| (*t, host(s.url.as_deref().unwrap())))
        .collect();
    assert_eq!(starts, [(0.0, "a".into()), (10.0, "fb".into())], "at once");
    assert_eq!(response_of(call.settlement()), Some(2));
    let retries: Vec<f64> = ex
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Retry(r) => Some(r.delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(retries, [0.0]);
    let fallbacks: Vec<_> = ex
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Fallback(f) => Some((f.reason, f.from.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(fallbacks, [(FallbackReason::Deadline, Some("a".into()))]);
    assert_eq!(fallbacks[0].0.as_str(), "deadline");
}

#[test]
fn retry_budget_exhausted_goes_to_fallback() {
    let mut c = config(vec![
        route("a", "http://a", false),
        route("fb", "http://fb", true),
    ]);
    c.budget.ratio = 0.0;
    c.budget.min_per_sec = 0.0;
    let mut r = Routes::new(c);
    r.set_up(|h| h != "a");
    let (hosts, ok) = r.call("/x");
    assert_eq!((hosts, ok), (vec!["a".to_string(), "fb".to_string()], true));
    let fallbacks: Vec<FallbackReason> = r
        .events("fallback")
        .into_iter()
        .filter_map(|ev| match ev {
            Event::Fallback(f) => Some(f.reason),
            _ => None,
        })
        .collect();
    assert_eq!(fallbacks, [FallbackReason::BudgetExhausted]);
    assert_eq!(fallbacks[0].as_str(), "budget-exhausted");
}

#[test]
fn credentials_are_dropped_across_origins_unless_forwarded() {
    let mut c = config(vec![
        route("a", "http://a", false),
        route("b", "http://b/base", false),
        route("fb", "http://fb", true),
    ]);
    c.routes[2].forward_credentials = true;
    c.routing.ejection.consecutive_failures = 1000.0;
    let mut r = Routes::new(c);
    r.set_up(|_| false);
    // Absolute URL addressing route a: a keeps credentials, b (other origin) drops them.
    let key = 0;
    r.ex.call_at(0.0, key, get("http://a/items?id=1"));
    settle(&mut r.ex, key);
    let starts = &r.ex.calls[&key].starts;
    assert!(starts.len() >= 3, "{starts:?}");
    for (_, s) in starts {
        match s.url.as_deref().unwrap() {
            "http://a/items?id=1" => assert!(!s.strip_credentials),
            "http://b/base/items?id=1" => {
                assert!(
                    s.strip_credentials,
                    "cross-origin failover drops credentials"
                )
            }
            "http://fb/items?id=1" => {
                assert!(!s.strip_credentials, "forwardCredentials keeps them")
            }
            other => panic!("unexpected url {other}"),
        }
    }
    let stripped = starts.iter().filter(|(_, s)| s.strip_credentials).count() as u64;
    let snap = r.ex.engine.snapshot(r.now());
    let counted: Vec<u64> = snap.routes.iter().map(|r| r.credentials_stripped).collect();
    assert_eq!((counted[0], counted[1], counted[2]), (0, stripped, 0));
    // Unrelated absolute URLs pass through, never rerouted.
    r.ex.call_at(r.now(), 1, get("http://elsewhere/x"));
    settle(&mut r.ex, 1);
    let (_, s) = &r.ex.calls[&1].starts[0];
    assert_eq!(
        (s.url.as_deref(), s.route, s.strip_credentials),
        (None, None, false)
    );
}

/// For a path, the addressed origin is the first configured route's, whichever route a call
/// starts on: the others' origins get credentials only with `forwardCredentials`.
#[test]
fn path_calls_address_the_first_routes_origin_whichever_route_serves_first() {
    let mut c = config(vec![
        route("a", "http://a/v1", false),
        route("a2", "http://a/v2", false),
        route("b", "http://b", false),
        route("trusted", "http://t", false),
    ]);
    c.routes[3].forward_credentials = true;
    c.routing.ejection.consecutive_failures = 1000.0;
    c.retry.max_attempts = 3;
    let mut r = Routes::new(c);
    r.set_up(|_| false);
    let mut first_on = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let key = r.ex.calls.len() as u64;
        r.ex.call_at(r.now(), key, get("/items"));
        settle(&mut r.ex, key);
        for (i, (_, s)) in r.ex.calls[&key].starts.iter().enumerate() {
            let url = s.url.as_deref().unwrap();
            let h = host(url);
            let route = url.rsplit('/').nth(1).unwrap().to_string();
            if i == 0 {
                first_on.insert(if h == "a" { route } else { h.clone() });
            }
            assert_eq!(s.strip_credentials, h == "b", "attempt {} on {url}", i + 1);
        }
    }
    let all: Vec<&str> = first_on.iter().map(String::as_str).collect();
    assert_eq!(
        all,
        ["b", "t", "v1", "v2"],
        "every route served first attempts"
    );
    let stripped: Vec<u64> =
        r.ex.engine
            .snapshot(r.now())
            .routes
            .iter()
            .map(|r| r.credentials_stripped)
            .collect();
    assert_eq!(stripped[..2], [0, 0]);
    assert!(stripped[2] > 0);
    assert_eq!(stripped[3], 0);
    let to_b =
        r.ex.calls
            .values()
            .flat_map(|c| &c.starts)
            .filter(|(_, s)| s.route == Some(2))
            .count() as u64;
    assert_eq!(stripped[2], to_b, "every attempt sent to b is counted");
}

#[test]
fn hedges_stay_within_their_budget() {
    let mut c = config(vec![
        route("a", "http://a", false),
        route("b", "http://b", false),
    ]);
    c.hedge = Some(HedgeConfig {
        after_ms: Some(50.0),
        percentile: None,
        max_extra_load: 0.05,
    });
    // The calls overlap (one every 4 ms, each up to 500 ms): without a limit every hedge the
    // budget allows finds a slot, so the budget is the only thing that bounds them.
    c.concurrency.limit = None;
    // Every first attempt is slow (500 ms): the hedge timer always fires. Hedges answer in 10 ms.
    let origin: Scripted =
        Box::new(|s: &Start, _: &str, _| (if s.hedge { 10.0 } else { 500.0 }, Reply::Status(200)));
    let mut ex = Executor::new(common::engine(c, 7), origin);
    let tasks = 2_000u64;
    for i in 0..tasks {
        ex.call_at(i as f64 * 4.0, i, get("/x")); // 8 s in all: one budget window, one reserve
    }
    ex.run();
    let mut hedged = 0;
    for c in ex.calls.values() {
        let starts = &c.starts;
        match starts.as_slice() {
            [(t0, first), (t1, h)] => {
                hedged += 1;
                assert!(h.hedge && !first.hedge);
                assert_eq!(*t1 - *t0, 50.0, "hedged after 50 ms");
                assert_ne!(h.route, first.route, "the hedge goes to the other route");
                assert_eq!(response_of(c.settlement()), Some(2));
                assert_eq!(c.settled.as_ref().unwrap().0, t1 + 10.0);
            }
            [_] => assert_eq!(response_of(c.settlement()), Some(1)),
            other => panic!("{other:?}"),
        }
    }
    let s = ex.engine.snapshot(ex.now());
    assert!(
        hedged as f64 <= 0.05 * tasks as f64 + 10.0 + 1.0,
        "hedged {hedged}"
    );
    assert!(hedged > 50);
    assert_eq!((s.hedges.sent, s.hedges.won), (hedged, hedged));
    assert!(s.hedges.budget_exhausted > 0);
    assert_eq!(s.in_flight, 0, "the losers released their slots");
}

/// Percentile hedging hedges the slowest calls, as many as the percentile says: with a tail of 3%
/// of responses at 500 ms, hedging at the p95 hedges about 5% of calls. The originals a hedge
/// beat must count in the route's latency window (as the time they had waited): left out, the
/// window holds only the calls that were fast anyway, its p95 drifts down into them, and here
/// about 8% of calls get hedged.
#[test]
fn percentile_hedging_hedges_the_share_it_names() {
    let mut c = config(vec![route("a", "http://a", false)]);
    c.hedge = Some(HedgeConfig {
        after_ms: None,
        percentile: Some(95.0),
        max_extra_load: 1.0, // the budget is not what this test is about
    });
    let mut rng = fastrand::Rng::with_seed(11);
    // Each attempt, original or hedge, draws its latency when it is sent.
    let origin: Scripted = Box::new(move |_: &Start, _: &str, _| {
        let latency = if rng.f64() < 0.03 {
            500.0
        } else {
            5.0 + 10.0 * rng.f64()
        };
        (latency, Reply::Status(200))
    });
    let mut ex = Executor::new(common::engine(c, 7), origin);
    let (mut now, mut hedged, mut measured) = (0.0, 0, 0);
    for i in 0..6_000u64 {
        // One call at a time: the next starts 1 ms after the last settled.
        ex.call_at(now, i, get("/x"));
        settle(&mut ex, i);
        let call = &ex.calls[&i];
        let (end, settlement) = call.settled.clone().unwrap();
        assert!(matches!(settlement, Settlement::Response { .. }));
        assert!(call.starts.len() <= 2);
        if i >= 1_000 {
            measured += 1;
            if call.starts.len() == 2 {
                hedged += 1;
            }
        }
        now = end + 1.0;
    }
    let share = hedged as f64 / measured as f64;
    assert!(
        (0.04..=0.065).contains(&share),
        "hedged {:.1}% of calls",
        share * 100.0
    );
}

#[test]
fn a_failed_hedge_waits_for_the_original() {
    let mut c = config(vec![
        route("a", "http://a", false),
        route("b", "http://b", false),
    ]);
    c.hedge = Some(HedgeConfig {
        after_ms: Some(10.0),
        percentile: None,
        max_extra_load: 1.0,
    });
    // The original answers 200 at 30 ms; the hedge, sent at 10 ms, 503 at 20 ms.
    let origin: Scripted = Box::new(|s: &Start, _: &str, _| {
        if s.hedge {
            (10.0, Reply::Status(503))
        } else {
            (30.0, Reply::Status(200))
        }
    });
    let mut ex = Executor::new(common::engine(c, 7), origin);
    let call = ex.call(get("/x"));
    let starts: Vec<(f64, bool)> = call.starts.iter().map(|(t, s)| (*t, s.hedge)).collect();
    assert_eq!(starts, [(0.0, false), (10.0, true)]);
    assert_eq!(
        call.settled,
        Some((30.0, Settlement::Response { attempt: 1 }))
    );
    let s = ex.engine.snapshot(30.0);
    assert_eq!((s.hedges.sent, s.hedges.won), (1, 0));
}

#[test]
fn paths_resolve_against_the_route_base() {
    let origin: Scripted = Box::new(|_: &Start, _: &str, _| (1.0, Reply::Status(200)));
    let mut ex = Executor::new(
        common::engine(config(vec![route("b", "http://b/base/", false)]), 7),
        origin,
    );
    let mut first_url = |input: &str| ex.call(get(input)).starts[0].1.url.clone();
    for (input, want) in [
        ("/items?id=1", "http://b/base/items?id=1"),
        ("items", "http://b/base/items"),
        ("http://b/base/x?y=1", "http://b/base/x?y=1"),
        ("http://b/base", "http://b/base"),
    ] {
        assert_eq!(first_url(input).as_deref(), Some(want), "{input}");
    }
    // "http://b/basement" is not under "http://b/base": not routed.
    assert_eq!(first_url("http://b/basement"), None);
    // The route URL's length falls inside a multi-byte character: not routed, and no panic.
    for other in [
        "http://b/bas\u{e9}",
        "http://b/bas\u{e9}/x",
        "http://\u{e9}/base/",
    ] {
        assert_eq!(first_url(other), None, "{other}");
    }
}

/// An origin that answers each host after its own delay, with its own status (200 unless set).
fn hosts_origin(answers: Rc<RefCell<BTreeMap<String, (f64, u16)>>>) -> Scripted {
    Box::new(move |_: &Start, url: &str, _| {
        let (ms, status) = answers
            .borrow()
            .get(&host(url))
            .copied()
            .unwrap_or((5.0, 200));
        (ms, Reply::Status(status))
    })
}

#[test]
fn replacing_routes_keeps_what_remains_and_the_calls_in_flight() {
    let answers = Rc::new(RefCell::new(BTreeMap::new()));
    // a answers 503 after 50 ms, b 200 after 50 ms: calls are in flight on both when the
    // routes change under them.
    answers.borrow_mut().insert("a".into(), (50.0, 503));
    answers.borrow_mut().insert("b".into(), (50.0, 200));
    let c = config(vec![
        route("a", "http://a", false),
        route("b", "http://b", false),
    ]);
    let mut ex = Executor::new(common::engine(c, 7), hosts_origin(answers.clone()));
    for key in 0..20 {
        ex.call_at(0.0, key, get("/x"));
    }
    ex.run_until(10.0);
    let on = |ex: &Executor<Scripted>, h: &str| {
        ex.calls
            .values()
            .filter(|c| {
                c.starts
                    .iter()
                    .any(|(_, s)| host(s.url.as_deref().unwrap()) == h)
            })
            .count()
    };
    let (on_a, on_b) = (on(&ex, "a"), on(&ex, "b"));
    assert!(on_a > 0 && on_b > 0, "in flight on both: {on_a}, {on_b}");
    let before = ex.engine.config().clone();
    // b moves to the front with another weight, a goes, c comes.
    let mut b = route("b", "http://b", false);
    b.weight = 3.0;
    ex.engine
        .set_routes(vec![b, route("c", "http://c", false)], 10.0);
    ex.run();
    let s = ex.engine.snapshot(ex.now());
    let names: Vec<&str> = s.routes.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["b", "c"]);
    // b kept its record: every attempt sent to it, before and after the change.
    let sent_to_b = ex
        .calls
        .values()
        .flat_map(|c| &c.starts)
        .filter(|(_, s)| host(s.url.as_deref().unwrap()) == "b")
        .count() as u64;
    assert_eq!(s.routes[0].attempts, sent_to_b);
    // Every call settled with a 200: those whose attempt on a failed were retried on the new
    // routes, never on a again.
    for (key, c) in &ex.calls {
        assert!(response_of(c.settlement()).is_some(), "call {key}: {c:?}");
        let hosts: Vec<String> = c
            .starts
            .iter()
            .map(|(_, s)| host(s.url.as_deref().unwrap()))
            .collect();
        assert!(!hosts[1..].contains(&"a".to_string()), "{hosts:?}");
    }
    assert_eq!(
        s.routes.iter().map(|r| r.attempts).sum::<u64>(),
        s.attempts - on_a as u64
    );
    // The config names the new routes.
    let after = ex.engine.config();
    assert_eq!(after.routes[0].weight, 3.0);
    assert_ne!(
        ballast_fetch::core::config::fingerprint(&before),
        ballast_fetch::core::config::fingerprint(after)
    );
}

#[test]
fn a_route_that_remains_stays_ejected_wherever_it_moves() {
    let mut r = Routes::new(config(vec![
        route("a", "http://a", false),
        route("b", "http://b", false),
    ]));
    r.set_up(|h| h != "a");
    while r.state_of("a") != "ejected" {
        r.call("/x");
    }
    let now = r.now();
    r.ex.engine.set_routes(
        vec![
            route("c", "http://c", false),
            route("a", "http://a", false),
            route("b", "http://b", false),
        ],
        now,
    );
    assert_eq!(r.state_of("a"), "ejected");
    assert_eq!(r.ex.engine.snapshot(now).routes[1].ejections, 1);
    for _ in 0..30 {
        let (hosts, ok) = r.call("/x");
        assert!(ok && hosts[0] != "a", "{hosts:?}");
    }
    // A route whose URL changed is another route: it starts afresh.
    let now = r.now();
    r.ex.engine
        .set_routes(vec![route("a", "http://a2", false)], now);
    assert_eq!(r.state_of("a"), "healthy");
}

#[test]
fn without_routes_a_call_in_progress_goes_where_it_was_called() {
    let answers = Rc::new(RefCell::new(BTreeMap::new()));
    answers.borrow_mut().insert("a".into(), (50.0, 503));
    let c = config(vec![route("a", "http://a", false)]);
    let mut ex = Executor::new(common::engine(c, 7), hosts_origin(answers));
    ex.call_at(0.0, 0, get("http://a/x"));
    ex.call_at(0.0, 1, get("http://other/y"));
    ex.run_until(10.0);
    ex.engine.set_routes(Vec::new(), 10.0);
    ex.run();
    let call = &ex.calls[&0];
    assert_eq!(call.starts[0].1.route, Some(0));
    // The retry is not routed: the caller's URL as is, which goes to a again.
    assert!(call.starts.len() > 1);
    for (_, s) in &call.starts[1..] {
        assert_eq!((s.route, s.url.as_deref()), (None, None));
    }
    assert!(ex.calls[&1].settled.is_some());
    assert!(ex.engine.snapshot(ex.now()).routes.is_empty());
}

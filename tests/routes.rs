//! Routes in virtual time: ejection and its growth, probing and restore, the switch budget,
//! fallbacks with reasons and the fallback-default flip, the hedge budget, credentials and URL
//! resolution. Each test drives the engine the way the wasm driver does, against scripted routes.

mod common;

use ballast_fetch::core::config::{HedgeConfig, RouteConfig};
use ballast_fetch::core::events::KINDS;
use ballast_fetch::core::{
    Admit, Config, Decision, Engine, Event, Outcome, Plan, RequestMeta, Task,
};
use common::{request, resp};

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

fn engine(c: Config) -> Engine {
    let mut e = Engine::new(c.validated().unwrap(), 7);
    e.set_listening((1 << KINDS.len()) - 1);
    e
}

fn get(url: &str) -> RequestMeta {
    request("GET", url)
}

/// Host of a planned URL ("http://a/x" -> "a").
fn host(plan: &Plan) -> String {
    let u = plan.url.as_deref().unwrap_or("");
    u.trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string()
}

/// Runs one task; `up(host)` says whether that host answers 200 (else 503). Returns the hosts
/// attempted, in order, and whether the task got a 200.
fn call(
    e: &mut Engine,
    now: &mut f64,
    path: &str,
    up: &dyn Fn(&str) -> bool,
) -> (Vec<String>, bool) {
    let mut t: Task = e.begin(get(path), *now);
    let mut hosts = vec![];
    loop {
        assert_eq!(e.admit(&mut t, *now), Admit::Now);
        let plan = e.attempt_started(&mut t, false, *now);
        let h = host(&plan);
        *now += 5.0;
        let ok = up(&h);
        hosts.push(h);
        match e.attempt_finished(&mut t, plan.id, resp(if ok { 200 } else { 503 }), *now) {
            Decision::Retry { delay_ms } => *now += delay_ms,
            Decision::Done => {
                e.finish(&mut t, *now);
                return (hosts, true);
            }
            _ => {
                e.finish(&mut t, *now);
                return (hosts, false);
            }
        }
    }
}

fn events(e: &mut Engine, kind: &str) -> Vec<Event> {
    e.take_events()
        .into_iter()
        .filter(|ev| ev.kind() == kind)
        .collect()
}

fn state_of(e: &mut Engine, now: f64, name: &str) -> String {
    e.snapshot(now)
        .routes
        .iter()
        .find(|r| r.name == name)
        .map(|r| r.state.to_string())
        .unwrap()
}

#[test]
fn ejection_grows_probing_restores_and_traffic_returns() {
    let mut e = engine(config(vec![
        route("a", "http://a", false),
        route("b", "http://b", false),
    ]));
    let mut now = 0.0;
    let a_down = |h: &str| h != "a";
    // Outage of a: every call still succeeds (retries move to b); a is ejected after 3 in a row.
    let mut a_hits = 0;
    for _ in 0..200 {
        let (hosts, ok) = call(&mut e, &mut now, "/x", &a_down);
        assert!(ok);
        a_hits += hosts.iter().filter(|h| *h == "a").count();
        if state_of(&mut e, now, "a") == "ejected" {
            break;
        }
    }
    assert_eq!(state_of(&mut e, now, "a"), "ejected");
    assert!(a_hits <= 3 + 20, "a was hit {a_hits} times before ejection");
    let ejects = events(&mut e, "eject");
    let Event::Eject(first) = &ejects[0] else {
        panic!()
    };
    assert_eq!(
        (first.reason, first.ejections, first.duration_ms),
        ("consecutive-failures", 1, 1_000.0)
    );

    // Still down when the ejection ends: the probe fails, ejection 2 lasts 2 x base.
    now += 1_000.0;
    assert_eq!(state_of(&mut e, now, "a"), "probing");
    let (hosts, ok) = call(&mut e, &mut now, "/x", &a_down);
    assert!(
        ok && hosts[0] == "a",
        "the first call after the ejection probes a: {hosts:?}"
    );
    let Event::Eject(second) = &events(&mut e, "eject")[0] else {
        panic!()
    };
    assert_eq!(
        (second.reason, second.ejections, second.duration_ms),
        ("probe-failed", 2, 2_000.0)
    );

    // Third ejection is capped at maxMs (2.5 s, not 3 s).
    now += 2_000.0;
    call(&mut e, &mut now, "/x", &a_down);
    let Event::Eject(third) = &events(&mut e, "eject")[0] else {
        panic!()
    };
    assert_eq!((third.ejections, third.duration_ms), (3, 2_500.0));

    // a recovers: 3 successful probes (the default) restore it, and traffic returns.
    now += 2_500.0;
    let all_up = |_: &str| true;
    for _ in 0..3 {
        let (hosts, _) = call(&mut e, &mut now, "/x", &all_up);
        assert_eq!(hosts, vec!["a"], "probes go to a, one at a time");
    }
    let Event::Restore(r) = &events(&mut e, "restore")[0] else {
        panic!()
    };
    assert_eq!((r.route.as_str(), r.reason), ("a", "probes-succeeded"));
    assert_eq!(state_of(&mut e, now, "a"), "healthy");
    let a_after = (0..100)
        .filter(|_| call(&mut e, &mut now, "/x", &all_up).0[0] == "a")
        .count();
    assert!(a_after >= 25, "a serves again: {a_after} of 100");
}

#[test]
fn low_success_rate_ejects_with_its_reason() {
    // One route, so P2C cannot steer around it: only the success-rate rule can act.
    let mut c = config(vec![route("a", "http://a", false)]);
    c.routing.ejection.consecutive_failures = 1000.0; // only the success-rate rule applies
    c.routing.ejection.min_requests = 5.0;
    c.routing.ejection.interval_ms = 500.0;
    let mut e = engine(c);
    let mut now = 0.0;
    // a fails every other call: 50% < minSuccessRate 0.8.
    for n in 1..=300u32 {
        let flaky = move |h: &str| h != "a" || n % 2 == 0;
        call(&mut e, &mut now, "/x", &flaky);
        now += 10.0;
    }
    let ejects = events(&mut e, "eject");
    assert!(!ejects.is_empty());
    let Event::Eject(ev) = &ejects[0] else {
        panic!()
    };
    assert_eq!((ev.route.as_str(), ev.reason), ("a", "low-success-rate"));
}

#[test]
fn at_most_max_percent_ejected_but_always_one() {
    let mut c = config(vec![
        route("a", "http://a", false),
        route("b", "http://b", false),
    ]);
    c.routing.ejection.max_percent = 10.0; // 10% of 2 routes rounds to 0: one may still go
    let mut e = engine(c);
    let mut now = 0.0;
    let down = |_: &str| false;
    for _ in 0..50 {
        call(&mut e, &mut now, "/x", &down);
    }
    let s = e.snapshot(now);
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
    let mut e = engine(c);
    let mut now = 0.0;
    let down = |_: &str| false;
    let mut stayed = 0;
    for _ in 0..60 {
        let (hosts, _) = call(&mut e, &mut now, "/x", &down);
        if hosts.len() > 1 && hosts[0] == hosts[1] {
            stayed += 1;
        }
    }
    let s = e.snapshot(now);
    assert_eq!(s.switches.total, 2, "only the reserve was spent");
    assert!(s.switches.denied > 0 && stayed > 0, "{:?}", s.switches);
}

#[test]
fn fallback_serves_only_with_a_reason_and_the_default_flip_is_noticed() {
    let mut e = engine(config(vec![
        route("a", "http://a", false),
        route("fb", "http://fb", true),
    ]));
    let mut now = 0.0;
    let up = |_: &str| true;
    for _ in 0..30 {
        assert_eq!(call(&mut e, &mut now, "/x", &up).0, vec!["a"]);
    }
    assert_eq!(e.snapshot(now).fallback.total, 0);
    events(&mut e, "fallback");

    // a goes down: all-primaries-failed, then primary-ejected once a is out.
    let a_down = |h: &str| h != "a";
    for _ in 0..40 {
        assert!(call(&mut e, &mut now, "/x", &a_down).1);
    }
    let evs = e.take_events();
    let reasons: Vec<&str> = evs
        .iter()
        .filter_map(|ev| match ev {
            Event::Fallback(f) => Some(f.reason),
            _ => None,
        })
        .collect();
    assert!(reasons.contains(&"all-primaries-failed"), "{reasons:?}");
    assert!(reasons.contains(&"primary-ejected"), "{reasons:?}");
    let flips: Vec<bool> = evs
        .iter()
        .filter_map(|ev| match ev {
            Event::FallbackDefault(f) => Some(f.is_default),
            _ => None,
        })
        .collect();
    assert_eq!(flips, vec![true]);
    let fb = e.snapshot(now).fallback;
    assert!(fb.active && fb.is_default && fb.share > 0.5, "{fb:?}");
    assert!(fb.active_for_ms > 0.0);
    assert_eq!(fb.total, fb.by_reason.values().sum::<u64>());

    // a recovers; after its probes traffic returns and the flip goes back.
    now += 5_000.0;
    for _ in 0..100 {
        call(&mut e, &mut now, "/x", &up);
        now += 500.0;
    }
    let flips: Vec<bool> = events(&mut e, "fallback-default")
        .into_iter()
        .filter_map(|ev| match ev {
            Event::FallbackDefault(f) => Some(f.is_default),
            _ => None,
        })
        .collect();
    assert_eq!(flips, vec![false]);
    let fb = e.snapshot(now).fallback;
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
    let mut e = engine(c);
    let mut t = e.begin(get("/x"), 0.0);
    e.admit(&mut t, 0.0);
    let p = e.attempt_started(&mut t, false, 0.0);
    let ra = Outcome::Response {
        status: 503,
        retry_after_ms: Some(5_000.0),
    };
    assert_eq!(
        e.attempt_finished(&mut t, p.id, ra, 10.0),
        Decision::Retry { delay_ms: 0.0 }
    );
    e.admit(&mut t, 10.0);
    let p = e.attempt_started(&mut t, false, 10.0);
    assert_eq!(host(&p), "fb");
    let Event::Fallback(f) = &events(&mut e, "fallback")[0] else {
        panic!()
    };
    assert_eq!((f.reason, f.from.as_deref()), ("deadline", Some("a")));
}

#[test]
fn retry_budget_exhausted_goes_to_fallback() {
    let mut c = config(vec![
        route("a", "http://a", false),
        route("fb", "http://fb", true),
    ]);
    c.budget.ratio = 0.0;
    c.budget.min_per_sec = 0.0;
    let mut e = engine(c);
    let mut now = 0.0;
    let (hosts, ok) = call(&mut e, &mut now, "/x", &|h: &str| h != "a");
    assert_eq!((hosts, ok), (vec!["a".to_string(), "fb".to_string()], true));
    let Event::Fallback(f) = &events(&mut e, "fallback")[0] else {
        panic!()
    };
    assert_eq!(f.reason, "budget-exhausted");
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
    let mut e = engine(c);
    // Absolute URL addressing route a: a keeps credentials, b (other origin) drops them.
    let mut t = e.begin(get("http://a/items?id=1"), 0.0);
    let mut seen = vec![];
    for _ in 0..3 {
        e.admit(&mut t, 0.0);
        let p = e.attempt_started(&mut t, false, 0.0);
        seen.push((p.url.clone().unwrap(), p.strip_credentials));
        if e.attempt_finished(&mut t, p.id, resp(503), 1.0)
            == Decision::GiveUp(ballast_fetch::core::GiveUpReason::MaxAttempts)
        {
            break;
        }
    }
    for (url, strip) in &seen {
        match url.as_str() {
            "http://a/items?id=1" => assert!(!strip),
            "http://b/base/items?id=1" => assert!(strip, "cross-origin failover drops credentials"),
            "http://fb/items?id=1" => assert!(!strip, "forwardCredentials keeps them"),
            other => panic!("unexpected url {other}"),
        }
    }
    // Unrelated absolute URLs pass through, never rerouted.
    let mut t = e.begin(get("http://elsewhere/x"), 0.0);
    e.admit(&mut t, 0.0);
    let p = e.attempt_started(&mut t, false, 0.0);
    assert_eq!((p.url, p.strip_credentials), (None, false));
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
    let mut e = engine(c);
    let mut first_on = std::collections::BTreeSet::new();
    let mut now = 0.0;
    for _ in 0..200 {
        let mut t = e.begin(get("/items"), now);
        for i in 0..3 {
            e.admit(&mut t, now);
            let p = e.attempt_started(&mut t, false, now);
            let h = host(&p);
            let route = p
                .url
                .as_deref()
                .unwrap()
                .rsplit('/')
                .nth(1)
                .unwrap()
                .to_string();
            if i == 0 {
                first_on.insert(if h == "a" { route } else { h.clone() });
            }
            assert_eq!(
                p.strip_credentials,
                h == "b",
                "attempt {} on {:?}",
                i + 1,
                p.url
            );
            now += 1.0;
            match e.attempt_finished(&mut t, p.id, resp(503), now) {
                Decision::Retry { .. } => {}
                _ => break,
            }
        }
        e.finish(&mut t, now);
    }
    let all: Vec<&str> = first_on.iter().map(String::as_str).collect();
    assert_eq!(
        all,
        ["b", "t", "v1", "v2"],
        "every route served first attempts"
    );
    let stripped: Vec<u64> = e
        .snapshot(now)
        .routes
        .iter()
        .map(|r| r.credentials_stripped)
        .collect();
    assert_eq!(stripped[..2], [0, 0]);
    assert!(stripped[2] > 0);
    assert_eq!(stripped[3], 0);
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
    let mut e = engine(c);
    let mut hedged = 0;
    let tasks = 2_000;
    for i in 0..tasks {
        let now = i as f64 * 4.0; // 8 s in all: one budget window, one reserve (1/s x 10 s)
        let mut t = e.begin(get("/x"), now);
        e.admit(&mut t, now);
        let first = e.attempt_started(&mut t, false, now);
        assert_eq!(e.hedge_delay(&mut t, now), Some(50.0));
        // Every first attempt is slow: the hedge timer always fires.
        if e.try_hedge(&mut t, now + 50.0) {
            hedged += 1;
            let h = e.attempt_started(&mut t, true, now + 50.0);
            assert_ne!(host(&h), host(&first), "the hedge goes to the other route");
            assert_eq!(
                e.attempt_finished(&mut t, h.id, resp(200), now + 60.0),
                Decision::Done
            );
            e.abandon(&mut t, first.id, now + 60.0);
        } else {
            e.attempt_finished(&mut t, first.id, resp(200), now + 500.0);
        }
        e.finish(&mut t, now + 500.0);
    }
    let s = e.snapshot(tasks as f64 * 4.0);
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
    let mut e = engine(c);
    let mut rng = fastrand::Rng::with_seed(11);
    let mut latency = || {
        if rng.f64() < 0.03 {
            500.0
        } else {
            5.0 + 10.0 * rng.f64()
        }
    };
    let (mut now, mut hedged, mut measured) = (0.0, 0, 0);
    for i in 0..6_000 {
        let mut t = e.begin(get("/x"), now);
        assert_eq!(e.admit(&mut t, now), Admit::Now);
        let first = e.attempt_started(&mut t, false, now);
        let slow = latency();
        let mut end = now + slow;
        match e.hedge_delay(&mut t, now) {
            Some(after) if after < slow => {
                assert!(e.try_hedge(&mut t, now + after));
                let h = e.attempt_started(&mut t, true, now + after);
                let hedge_end = now + after + latency();
                if i >= 1_000 {
                    hedged += 1;
                }
                let (win, lose) = if hedge_end < end {
                    end = hedge_end;
                    (h.id, first.id)
                } else {
                    (first.id, h.id)
                };
                assert_eq!(
                    e.attempt_finished(&mut t, win, resp(200), end),
                    Decision::Done
                );
                e.abandon(&mut t, lose, end);
            }
            _ => {
                let d = e.attempt_finished(&mut t, first.id, resp(200), end);
                assert_eq!(d, Decision::Done);
            }
        }
        e.finish(&mut t, end);
        if i >= 1_000 {
            measured += 1;
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
    let mut e = engine(c);
    let mut t = e.begin(get("/x"), 0.0);
    e.admit(&mut t, 0.0);
    let first = e.attempt_started(&mut t, false, 0.0);
    assert!(e.try_hedge(&mut t, 10.0));
    let h = e.attempt_started(&mut t, true, 10.0);
    assert_eq!(
        e.attempt_finished(&mut t, h.id, resp(503), 20.0),
        Decision::Wait
    );
    assert_eq!(
        e.attempt_finished(&mut t, first.id, resp(200), 30.0),
        Decision::Done
    );
    assert_eq!(e.snapshot(30.0).hedges.won, 0);
}

#[test]
fn paths_resolve_against_the_route_base() {
    let mut e = engine(config(vec![route("b", "http://b/base/", false)]));
    for (input, want) in [
        ("/items?id=1", "http://b/base/items?id=1"),
        ("items", "http://b/base/items"),
        ("http://b/base/x?y=1", "http://b/base/x?y=1"),
        ("http://b/base", "http://b/base"),
    ] {
        let mut t = e.begin(get(input), 0.0);
        e.admit(&mut t, 0.0);
        assert_eq!(
            e.attempt_started(&mut t, false, 0.0).url.as_deref(),
            Some(want),
            "{input}"
        );
    }
    // "http://b/basement" is not under "http://b/base": not routed.
    let mut t = e.begin(get("http://b/basement"), 0.0);
    e.admit(&mut t, 0.0);
    assert_eq!(e.attempt_started(&mut t, false, 0.0).url, None);
    // The route URL's length falls inside a multi-byte character: not routed, and no panic.
    for other in [
        "http://b/bas\u{e9}",
        "http://b/bas\u{e9}/x",
        "http://\u{e9}/base/",
    ] {
        let mut t = e.begin(get(other), 0.0);
        e.admit(&mut t, 0.0);
        assert_eq!(e.attempt_started(&mut t, false, 0.0).url, None, "{other}");
    }
}

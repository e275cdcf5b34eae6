//! Named scenarios: the forces production brings back that tests remove.
//!
//! `metastable` reproduces the retry storm of Bronson et al. (HotOS 2021) and Huang et al. (OSDI
//! 2022), after Brooker's "simple collapse" simulation: service time 1 s + 10 ms per request in
//! service, a client timeout of 3 s, 3 tries without backoff, load ramping to 30 calls/s with a
//! 10 s spike to 90. The spike ends, yet with blind retries the server stays collapsed: every timed-out
//! request it keeps working on, and every retry the timeout sends, keeps it above its capacity.

use crate::prelude::*;
use crate::sim::scenario::*;

fn route(name: &str, median_ms: f64, p99_ms: f64, error_rate: f64) -> RouteModel {
    RouteModel {
        name: name.into(),
        fallback: false,
        weight: 1.0,
        error_rate,
        latency: Latency {
            median_ms,
            p99_ms,
            tail: None,
        },
        capacity: None,
        events: Vec::new(),
    }
}

fn fallback(name: &str) -> RouteModel {
    RouteModel {
        fallback: true,
        ..route(name, 60.0, 250.0, 0.001)
    }
}

fn poisson(rate: f64) -> Arrival {
    Arrival::Poisson {
        rate,
        start_ms: 0.0,
        end_ms: None,
    }
}

fn scenario(name: &str, description: &str, duration_ms: f64) -> Scenario {
    Scenario {
        name: name.into(),
        description: description.into(),
        duration_ms,
        client_timeout_ms: None,
        arrivals: Vec::new(),
        routes: Vec::new(),
        correlated: Vec::new(),
        trigger_end_ms: None,
    }
}

/// Every preset, by name, in the order the page lists them.
pub fn all() -> Vec<Scenario> {
    vec![
        burst(),
        primary_outage(),
        brownout_tail(),
        throttle_storm(),
        slow_drift(),
        overload_ramp(),
        metastable(),
    ]
}

pub fn by_name(name: &str) -> Option<Scenario> {
    all().into_iter().find(|s| s.name == name)
}

pub fn burst() -> Scenario {
    let mut s = scenario(
        "burst",
        "A tenfold burst for 10 s on a primary that serves 50 at once before it slows and fails.",
        60_000.0,
    );
    s.arrivals = vec![
        poisson(40.0),
        Arrival::Burst {
            rate: 400.0,
            start_ms: 20_000.0,
            duration_ms: 10_000.0,
        },
    ];
    let mut p = route("primary", 40.0, 200.0, 0.005);
    p.capacity = Some(Capacity {
        limit: 50.0,
        latency_per_request_ms: 4.0,
        error_per_request: 0.01,
    });
    s.routes = vec![p, fallback("mirror")];
    s.trigger_end_ms = Some(30_000.0);
    s
}

pub fn primary_outage() -> Scenario {
    let mut s = scenario(
        "primary-outage",
        "The primary answers 503 to everything for 60 s; a fallback mirror is there.",
        150_000.0,
    );
    s.arrivals = vec![poisson(50.0)];
    let mut p = route("primary", 40.0, 200.0, 0.002);
    p.events = vec![RouteEvent::Outage {
        start_ms: 30_000.0,
        duration_ms: 60_000.0,
        status: 503,
        network: false,
    }];
    s.routes = vec![p, fallback("mirror")];
    s.trigger_end_ms = Some(90_000.0);
    s
}

pub fn brownout_tail() -> Scenario {
    let mut s = scenario(
        "brownout-tail",
        "A heavy latency tail (2% at 2 s) all along, and a 40 s brownout: 20% errors, 3x latency.",
        120_000.0,
    );
    s.arrivals = vec![poisson(60.0)];
    let mut p = route("primary", 30.0, 150.0, 0.005);
    p.latency.tail = Some(Tail {
        p: 0.02,
        ms: 2_000.0,
    });
    p.events = vec![RouteEvent::Brownout {
        start_ms: 40_000.0,
        duration_ms: 40_000.0,
        error_rate: 0.2,
        latency_factor: 3.0,
    }];
    let mut secondary = route("secondary", 45.0, 220.0, 0.005);
    secondary.latency.tail = Some(Tail {
        p: 0.02,
        ms: 2_000.0,
    });
    s.routes = vec![p, secondary];
    s.trigger_end_ms = Some(80_000.0);
    s
}

pub fn throttle_storm() -> Scenario {
    let mut s = scenario(
        "throttle-storm",
        "The origin rate-limits to 50 requests/s for 30 s (429 with Retry-After: 2) while 80 calls/s arrive.",
        90_000.0,
    );
    s.arrivals = vec![poisson(80.0)];
    let mut p = route("primary", 35.0, 180.0, 0.002);
    p.events = vec![RouteEvent::Throttle {
        start_ms: 20_000.0,
        duration_ms: 30_000.0,
        limit_per_sec: 50.0,
        retry_after_s: 2.0,
    }];
    s.routes = vec![p];
    s.trigger_end_ms = Some(50_000.0);
    s
}

pub fn slow_drift() -> Scenario {
    let mut s = scenario(
        "slow-drift",
        "The primary's latency drifts to 6x over 2 minutes, as a leaking cache would make it.",
        180_000.0,
    );
    s.arrivals = vec![poisson(40.0)];
    let mut p = route("primary", 40.0, 200.0, 0.003);
    p.capacity = Some(Capacity {
        limit: 60.0,
        latency_per_request_ms: 1.0,
        error_per_request: 0.005,
    });
    p.events = vec![RouteEvent::Drift {
        start_ms: 30_000.0,
        duration_ms: 120_000.0,
        to_factor: 6.0,
    }];
    s.routes = vec![p, route("secondary", 60.0, 260.0, 0.003)];
    s
}

pub fn overload_ramp() -> Scenario {
    let mut s = scenario(
        "overload-ramp",
        "Load ramps from 50 to 400 calls/s over 2 minutes past a primary that serves 100 at once.",
        150_000.0,
    );
    s.arrivals = vec![Arrival::Ramp {
        from: 50.0,
        to: 400.0,
        start_ms: 0.0,
        end_ms: 120_000.0,
        hold_ms: Some(150_000.0),
    }];
    let mut p = route("primary", 50.0, 250.0, 0.002);
    p.capacity = Some(Capacity {
        limit: 100.0,
        latency_per_request_ms: 2.0,
        error_per_request: 0.01,
    });
    s.routes = vec![p, fallback("mirror")];
    s
}

pub fn metastable() -> Scenario {
    let mut s = scenario(
        "metastable",
        "Brooker's simple collapse: service 1 s + 10 ms per request in service, client timeout 3 s, \
         load ramping to 30/s and a 10 s spike to 90/s. Without retries 30/s is served in 1.4 s; \
         does the system come back once the spike ends?",
        120_000.0,
    );
    s.client_timeout_ms = Some(3_000.0);
    s.arrivals = vec![
        Arrival::Ramp {
            from: 0.0,
            to: 30.0,
            start_ms: 0.0,
            end_ms: 10_000.0,
            hold_ms: Some(120_000.0),
        },
        Arrival::Burst {
            rate: 60.0,
            start_ms: 40_000.0,
            duration_ms: 10_000.0,
        },
    ];
    let mut p = route("primary", 1_000.0, 1_000.0, 0.0);
    p.capacity = Some(Capacity {
        limit: 1_000_000.0,
        latency_per_request_ms: 10.0,
        error_per_request: 0.0,
    });
    s.routes = vec![p];
    s.trigger_end_ms = Some(50_000.0);
    s
}

//! The routes of a scenario, as an origin the virtual-time executor sends attempts to: how each
//! answers at a given instant, and how it slows down and fails as it gets busy.
//!
//! A request stays in service until its latency has passed, even when the client has given up
//! on it (the server does not know): that wasted work is what keeps a retry storm going after
//! its trigger is gone.

use crate::core::action::{Failure, Start};
use crate::core::math;
use crate::prelude::*;
use crate::sim::rng::Wy;
use crate::sim::scenario::{Correlated, RouteEvent, RouteModel};
use crate::virtual_time::{from_order_key, order_key, Origin, Reply};
use alloc::collections::BinaryHeap;
use core::cmp::Reverse;

/// z of the 99th percentile of the standard normal.
const Z99: f64 = 2.326_347_874;
/// How long a refused or throttled request takes to be answered.
const FAST_MS: f64 = 1.0;

/// When a request in service is done, as an integer ordered as the instants are
/// (`virtual_time::order_key`): the heap compares integers.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Done(u64);

pub struct Routes {
    models: Vec<RouteModel>,
    /// Per route, the correlated failures that include it.
    correlated: Vec<Vec<Correlated>>,
    /// Per route, when each request in service is done.
    busy: Vec<BinaryHeap<Reverse<Done>>>,
    /// Per route, the log-normal's `sigma` (from median and p99).
    sigma: Vec<f64>,
    rng: Wy,
    /// Per route, a rate limit's bucket: tokens, and when it was last filled (full at the start
    /// of a throttle: `f64::NEG_INFINITY`).
    buckets: Vec<(f64, f64)>,
    /// Every request each route answered, for the summary.
    pub hits: Vec<u64>,
}

impl Routes {
    /// `models` in the config's route order (the executor's `Start::route` indexes it).
    pub fn new(models: Vec<RouteModel>, correlated: &[Correlated], seed: u64) -> Self {
        let n = models.len();
        Routes {
            correlated: models
                .iter()
                .map(|m| {
                    correlated
                        .iter()
                        .filter(|c| c.routes.contains(&m.name))
                        .cloned()
                        .collect()
                })
                .collect(),
            sigma: models
                .iter()
                .map(|m| {
                    let ratio = m.latency.p99_ms / m.latency.median_ms.max(1e-9);
                    if ratio > 1.0 {
                        math::ln(ratio) / Z99
                    } else {
                        0.0
                    }
                })
                .collect(),
            busy: (0..n).map(|_| BinaryHeap::new()).collect(),
            hits: vec![0; n],
            buckets: vec![(0.0, f64::NEG_INFINITY); n],
            models,
            rng: Wy::with_seed(seed),
        }
    }

    /// Requests route `r` is serving at `now`.
    pub fn in_service(&mut self, r: usize, now: f64) -> usize {
        let heap = &mut self.busy[r];
        while heap
            .peek()
            .is_some_and(|Reverse(d)| from_order_key(d.0) <= now)
        {
            heap.pop();
        }
        heap.len()
    }

    /// Whether route `r` is down (an outage) at `t`.
    pub fn down(&self, r: usize, t: f64) -> bool {
        self.models.get(r).is_some_and(|m| {
            m.events
                .iter()
                .any(|e| matches!(e, RouteEvent::Outage { .. }) && e.covers(t))
        })
    }

    /// A standard normal draw (Box-Muller).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.rng.f64();
        let v = self.rng.f64();
        (-2.0 * math::ln(u)).sqrt() * libm::cos(2.0 * core::f64::consts::PI * v)
    }
}

impl Origin for Routes {
    fn serve(&mut self, start: &Start, _url: &str, now: f64) -> (f64, Reply) {
        let r = start.route.unwrap_or(0).min(self.models.len() - 1);
        self.hits[r] += 1;
        let in_service = self.in_service(r, now) as f64;
        // Every draw is made whatever the conditions, so a run's draws do not shift with them.
        let (z, tail_draw, error_draw) = (self.normal(), self.rng.f64(), self.rng.f64());
        let m = &self.models[r];
        let mut error = m.error_rate;
        let mut factor = 1.0;
        for e in m.events.iter().filter(|e| e.covers(now)) {
            match *e {
                RouteEvent::Outage {
                    status, network, ..
                } => {
                    return if network {
                        (FAST_MS, Reply::Fail(Failure::Network))
                    } else {
                        (FAST_MS, Reply::Status(status))
                    };
                }
                RouteEvent::Brownout {
                    error_rate,
                    latency_factor,
                    ..
                } => {
                    error = error.max(error_rate);
                    factor *= latency_factor;
                }
                RouteEvent::Throttle {
                    limit_per_sec,
                    retry_after_s,
                    ..
                } => {
                    let bucket = &mut self.buckets[r];
                    let elapsed = (now - bucket.1).max(0.0);
                    bucket.0 = (bucket.0 + elapsed * limit_per_sec / 1000.0).min(limit_per_sec);
                    bucket.1 = now;
                    if bucket.0 < 1.0 {
                        let ra = cat!(retry_after_s.ceil() as u64);
                        return (FAST_MS, Reply::RetryAfter(429, ra));
                    }
                    bucket.0 -= 1.0;
                }
                RouteEvent::Drift {
                    start_ms,
                    duration_ms,
                    to_factor,
                } => {
                    let progress = ((now - start_ms) / duration_ms.max(1e-9)).clamp(0.0, 1.0);
                    factor *= 1.0 + (to_factor - 1.0) * progress;
                }
            }
        }
        for c in &self.correlated[r] {
            if now >= c.start_ms && now < c.start_ms + c.duration_ms {
                error = error.max(c.error_rate);
                factor *= c.latency_factor;
            }
        }
        let mut latency = m.latency.median_ms * math::exp(self.sigma[r] * z);
        if let Some(t) = &m.latency.tail {
            if tail_draw < t.p {
                latency = t.ms;
            }
        }
        latency *= factor;
        if let Some(c) = &m.capacity {
            latency += c.latency_per_request_ms * in_service;
            if in_service >= c.limit {
                error += c.error_per_request * (in_service - c.limit + 1.0);
            }
        }
        let latency = latency.max(0.0);
        self.busy[r].push(Reverse(Done(order_key(now + latency))));
        let reply = if error_draw < error {
            Reply::Status(503)
        } else {
            Reply::Status(200)
        };
        (latency, reply)
    }
}

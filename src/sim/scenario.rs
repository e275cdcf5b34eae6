//! The scenario language: what load arrives, and how each route answers over time.
//!
//! A scenario is plain data (JSON in files and in the page). Every duration is in milliseconds
//! from the start of the run. Invalid scenarios get an error naming the path of the bad field,
//! as config errors do (`validate`, and serde's own for types and unknown fields in the tools).

use crate::prelude::*;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct Scenario {
    /// Shown in the page and in `rehearse` tables.
    #[cfg_attr(feature = "serde", serde(default))]
    pub name: String,
    #[cfg_attr(feature = "serde", serde(default))]
    pub description: String,
    /// How long the run lasts (options may override it).
    pub duration_ms: f64,
    /// The client's per-attempt timeout, for the policies `naive` and `ballast` (a config passed
    /// as the policy keeps its own).
    #[cfg_attr(feature = "serde", serde(default))]
    pub client_timeout_ms: Option<f64>,
    /// Where calls come from; several sources add up.
    pub arrivals: Vec<Arrival>,
    /// The routes, primary first; `naive` uses only the first.
    pub routes: Vec<RouteModel>,
    /// Failures that hit several routes at once.
    #[cfg_attr(feature = "serde", serde(default))]
    pub correlated: Vec<Correlated>,
    /// When the trigger of a metastable failure ends (the summary measures recovery from here).
    #[cfg_attr(feature = "serde", serde(default))]
    pub trigger_end_ms: Option<f64>,
}

/// A source of calls.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        tag = "kind",
        rename_all = "camelCase",
        rename_all_fields = "camelCase",
        deny_unknown_fields
    )
)]
pub enum Arrival {
    /// `rate` calls per second, evenly spaced.
    Steady {
        rate: f64,
        #[cfg_attr(feature = "serde", serde(default))]
        start_ms: f64,
        #[cfg_attr(feature = "serde", serde(default))]
        end_ms: Option<f64>,
    },
    /// A Poisson process at `rate` per second.
    Poisson {
        rate: f64,
        #[cfg_attr(feature = "serde", serde(default))]
        start_ms: f64,
        #[cfg_attr(feature = "serde", serde(default))]
        end_ms: Option<f64>,
    },
    /// A Poisson burst: `rate` per second from `start_ms` for `duration_ms`.
    Burst {
        rate: f64,
        start_ms: f64,
        duration_ms: f64,
    },
    /// A Poisson process whose rate moves linearly from `from` to `to` between the two instants
    /// (and holds `to` after, until `hold_ms` if given).
    Ramp {
        from: f64,
        to: f64,
        start_ms: f64,
        end_ms: f64,
        #[cfg_attr(feature = "serde", serde(default))]
        hold_ms: Option<f64>,
    },
    /// A Poisson process whose rate swings around `mean` by `amplitude` over `period_ms`.
    Diurnal {
        mean: f64,
        amplitude: f64,
        period_ms: f64,
    },
}

/// One route's behaviour.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct RouteModel {
    pub name: String,
    /// Serves only when the primaries cannot (ballast's `fallback: true`).
    #[cfg_attr(feature = "serde", serde(default))]
    pub fallback: bool,
    /// Share of traffic among healthy routes (ballast's `weight`).
    #[cfg_attr(feature = "serde", serde(default = "one"))]
    pub weight: f64,
    /// Probability of a 503 in normal times.
    #[cfg_attr(feature = "serde", serde(default))]
    pub error_rate: f64,
    pub latency: Latency,
    #[cfg_attr(feature = "serde", serde(default))]
    pub capacity: Option<Capacity>,
    /// What happens to it over time.
    #[cfg_attr(feature = "serde", serde(default))]
    pub events: Vec<RouteEvent>,
}

#[cfg(feature = "serde")]
fn one() -> f64 {
    1.0
}

/// A latency distribution: log-normal between its median and p99, plus a heavy tail.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct Latency {
    pub median_ms: f64,
    pub p99_ms: f64,
    /// With probability `p`, the answer takes `ms` instead.
    #[cfg_attr(feature = "serde", serde(default))]
    pub tail: Option<Tail>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct Tail {
    pub p: f64,
    pub ms: f64,
}

/// How a route degrades with the requests it is serving at once (they count until they are done,
/// even when the client has given up on them: the server keeps working).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct Capacity {
    /// Requests it serves at once before errors climb.
    pub limit: f64,
    /// Latency added per request in service (Brooker's "10 ms per concurrent request").
    #[cfg_attr(feature = "serde", serde(default))]
    pub latency_per_request_ms: f64,
    /// Above `limit`, the probability of a 503 grows by this per request beyond it.
    #[cfg_attr(feature = "serde", serde(default))]
    pub error_per_request: f64,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(
        tag = "kind",
        rename_all = "camelCase",
        rename_all_fields = "camelCase",
        deny_unknown_fields
    )
)]
pub enum RouteEvent {
    /// Down: every request fails (`network: true`) or answers `status`.
    Outage {
        start_ms: f64,
        duration_ms: f64,
        #[cfg_attr(feature = "serde", serde(default = "status_503"))]
        status: u16,
        #[cfg_attr(feature = "serde", serde(default))]
        network: bool,
    },
    /// Degraded: this error rate, latency multiplied by `latency_factor`.
    Brownout {
        start_ms: f64,
        duration_ms: f64,
        error_rate: f64,
        #[cfg_attr(feature = "serde", serde(default = "one"))]
        latency_factor: f64,
    },
    /// Rate limiting, as APIs do it: a token bucket that admits `limit_per_sec` requests per
    /// second (bursts up to a second's worth); the rest are answered 429 with
    /// `Retry-After: retry_after_s`, and a refused request takes no token, so retrying at once
    /// only meets another 429.
    Throttle {
        start_ms: f64,
        duration_ms: f64,
        limit_per_sec: f64,
        retry_after_s: f64,
    },
    /// Latency drifting: multiplied by a factor that grows linearly to `to_factor`.
    Drift {
        start_ms: f64,
        duration_ms: f64,
        to_factor: f64,
    },
}

#[cfg(feature = "serde")]
fn status_503() -> u16 {
    503
}

/// A failure that hits several routes at once (a shared dependency).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(rename_all = "camelCase", deny_unknown_fields)
)]
pub struct Correlated {
    pub start_ms: f64,
    pub duration_ms: f64,
    /// Route names.
    pub routes: Vec<String>,
    pub error_rate: f64,
    #[cfg_attr(feature = "serde", serde(default = "one"))]
    pub latency_factor: f64,
}

/// A scenario that cannot run: the path of the bad field and what is allowed.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioError {
    pub path: String,
    pub allowed: String,
}

impl ScenarioError {
    pub fn message(&self) -> String {
        cat!(
            "invalid scenario: ",
            self.path,
            " (allowed: ",
            self.allowed,
            ")"
        )
    }
}

/// The longest run a scenario may ask for: a day.
pub const MAX_DURATION_MS: f64 = 86_400_000.0;

struct Check(Option<ScenarioError>);

impl Check {
    fn range(&mut self, path: &dyn Fn() -> String, v: f64, lo: f64, hi: f64, allowed: &str) {
        if self.0.is_none() && !(v.is_finite() && v >= lo && v <= hi) {
            self.0 = Some(ScenarioError {
                path: path(),
                allowed: allowed.into(),
            });
        }
    }
}

impl Scenario {
    /// Checks every number's range and every name; the first problem names its path.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let mut ck = Check(None);
        let ms = "a number of ms in [0, 86400000]";
        let rate = "calls per second in [0, 1000000]";
        let p = "a probability in [0, 1]";
        ck.range(
            &|| "durationMs".into(),
            self.duration_ms,
            1.0,
            MAX_DURATION_MS,
            ms,
        );
        if let Some(t) = self.client_timeout_ms {
            ck.range(
                &|| "clientTimeoutMs".into(),
                t,
                1.0,
                3_600_000.0,
                "a number of ms in [1, 3600000]",
            );
        }
        if self.arrivals.is_empty() && ck.0.is_none() {
            ck.0 = Some(ScenarioError {
                path: "arrivals".into(),
                allowed: "at least one source of calls".into(),
            });
        }
        for (i, a) in self.arrivals.iter().enumerate() {
            let at = |f: &str| cat!("arrivals[", i, "].", f);
            match a {
                Arrival::Steady {
                    rate: r,
                    start_ms,
                    end_ms,
                }
                | Arrival::Poisson {
                    rate: r,
                    start_ms,
                    end_ms,
                } => {
                    ck.range(&|| at("rate"), *r, 0.0, 1e6, rate);
                    ck.range(&|| at("startMs"), *start_ms, 0.0, MAX_DURATION_MS, ms);
                    if let Some(e) = end_ms {
                        ck.range(
                            &|| at("endMs"),
                            *e,
                            *start_ms,
                            MAX_DURATION_MS,
                            "a number of ms >= startMs",
                        );
                    }
                }
                Arrival::Burst {
                    rate: r,
                    start_ms,
                    duration_ms,
                } => {
                    ck.range(&|| at("rate"), *r, 0.0, 1e6, rate);
                    ck.range(&|| at("startMs"), *start_ms, 0.0, MAX_DURATION_MS, ms);
                    ck.range(&|| at("durationMs"), *duration_ms, 0.0, MAX_DURATION_MS, ms);
                }
                Arrival::Ramp {
                    from,
                    to,
                    start_ms,
                    end_ms,
                    hold_ms,
                } => {
                    ck.range(&|| at("from"), *from, 0.0, 1e6, rate);
                    ck.range(&|| at("to"), *to, 0.0, 1e6, rate);
                    ck.range(&|| at("startMs"), *start_ms, 0.0, MAX_DURATION_MS, ms);
                    ck.range(
                        &|| at("endMs"),
                        *end_ms,
                        *start_ms,
                        MAX_DURATION_MS,
                        "a number of ms >= startMs",
                    );
                    if let Some(h) = hold_ms {
                        ck.range(
                            &|| at("holdMs"),
                            *h,
                            *end_ms,
                            MAX_DURATION_MS,
                            "a number of ms >= endMs",
                        );
                    }
                }
                Arrival::Diurnal {
                    mean,
                    amplitude,
                    period_ms,
                } => {
                    ck.range(&|| at("mean"), *mean, 0.0, 1e6, rate);
                    ck.range(
                        &|| at("amplitude"),
                        *amplitude,
                        0.0,
                        *mean,
                        "calls per second in [0, mean]",
                    );
                    ck.range(&|| at("periodMs"), *period_ms, 1.0, MAX_DURATION_MS, ms);
                }
            }
        }
        if self.routes.is_empty() && ck.0.is_none() {
            ck.0 = Some(ScenarioError {
                path: "routes".into(),
                allowed: "at least one route".into(),
            });
        }
        if !self.routes.is_empty() && self.routes.iter().all(|r| r.fallback) && ck.0.is_none() {
            ck.0 = Some(ScenarioError {
                path: "routes".into(),
                allowed: "at least one route without fallback: true".into(),
            });
        }
        for (i, r) in self.routes.iter().enumerate() {
            let at = |f: &str| cat!("routes[", i, "].", f);
            if (r.name.trim().is_empty() || self.routes[..i].iter().any(|o| o.name == r.name))
                && ck.0.is_none()
            {
                ck.0 = Some(ScenarioError {
                    path: at("name"),
                    allowed: "a non-empty name no other route has".into(),
                });
            }
            ck.range(
                &|| at("weight"),
                r.weight,
                0.001,
                1e6,
                "a number in [0.001, 1000000]",
            );
            ck.range(&|| at("errorRate"), r.error_rate, 0.0, 1.0, p);
            ck.range(
                &|| at("latency.medianMs"),
                r.latency.median_ms,
                0.0,
                3_600_000.0,
                ms,
            );
            ck.range(
                &|| at("latency.p99Ms"),
                r.latency.p99_ms,
                r.latency.median_ms,
                3_600_000.0,
                "a number of ms >= latency.medianMs",
            );
            if let Some(t) = &r.latency.tail {
                ck.range(&|| at("latency.tail.p"), t.p, 0.0, 1.0, p);
                ck.range(&|| at("latency.tail.ms"), t.ms, 0.0, 3_600_000.0, ms);
            }
            if let Some(c) = &r.capacity {
                ck.range(
                    &|| at("capacity.limit"),
                    c.limit,
                    1.0,
                    1e6,
                    "a number in [1, 1000000]",
                );
                ck.range(
                    &|| at("capacity.latencyPerRequestMs"),
                    c.latency_per_request_ms,
                    0.0,
                    60_000.0,
                    "a number of ms in [0, 60000]",
                );
                ck.range(
                    &|| at("capacity.errorPerRequest"),
                    c.error_per_request,
                    0.0,
                    1.0,
                    p,
                );
            }
            for (j, e) in r.events.iter().enumerate() {
                let at = |f: &str| cat!("routes[", i, "].events[", j, "].", f);
                let (start, duration) = e.window();
                ck.range(&|| at("startMs"), start, 0.0, MAX_DURATION_MS, ms);
                ck.range(&|| at("durationMs"), duration, 0.0, MAX_DURATION_MS, ms);
                match e {
                    RouteEvent::Outage { status, .. } => ck.range(
                        &|| at("status"),
                        f64::from(*status),
                        100.0,
                        599.0,
                        "an HTTP status in [100, 599]",
                    ),
                    RouteEvent::Brownout {
                        error_rate,
                        latency_factor,
                        ..
                    } => {
                        ck.range(&|| at("errorRate"), *error_rate, 0.0, 1.0, p);
                        ck.range(
                            &|| at("latencyFactor"),
                            *latency_factor,
                            0.0,
                            1000.0,
                            "a factor in [0, 1000]",
                        );
                    }
                    RouteEvent::Throttle {
                        limit_per_sec,
                        retry_after_s,
                        ..
                    } => {
                        ck.range(
                            &|| at("limitPerSec"),
                            *limit_per_sec,
                            0.0,
                            1e6,
                            "requests per second in [0, 1000000]",
                        );
                        ck.range(
                            &|| at("retryAfterS"),
                            *retry_after_s,
                            0.0,
                            3600.0,
                            "seconds in [0, 3600]",
                        );
                    }
                    RouteEvent::Drift { to_factor, .. } => ck.range(
                        &|| at("toFactor"),
                        *to_factor,
                        0.0,
                        1000.0,
                        "a factor in [0, 1000]",
                    ),
                }
            }
        }
        for (i, c) in self.correlated.iter().enumerate() {
            let at = |f: &str| cat!("correlated[", i, "].", f);
            ck.range(&|| at("startMs"), c.start_ms, 0.0, MAX_DURATION_MS, ms);
            ck.range(
                &|| at("durationMs"),
                c.duration_ms,
                0.0,
                MAX_DURATION_MS,
                ms,
            );
            ck.range(&|| at("errorRate"), c.error_rate, 0.0, 1.0, p);
            ck.range(
                &|| at("latencyFactor"),
                c.latency_factor,
                0.0,
                1000.0,
                "a factor in [0, 1000]",
            );
            for (j, name) in c.routes.iter().enumerate() {
                if !self.routes.iter().any(|r| r.name == *name) && ck.0.is_none() {
                    ck.0 = Some(ScenarioError {
                        path: cat!("correlated[", i, "].routes[", j, "]"),
                        allowed: "the name of a route of this scenario".into(),
                    });
                }
            }
        }
        if let Some(t) = self.trigger_end_ms {
            ck.range(&|| "triggerEndMs".into(), t, 0.0, MAX_DURATION_MS, ms);
        }
        match ck.0 {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl RouteEvent {
    /// When it starts, and how long it lasts.
    pub fn window(&self) -> (f64, f64) {
        match self {
            RouteEvent::Outage {
                start_ms,
                duration_ms,
                ..
            }
            | RouteEvent::Brownout {
                start_ms,
                duration_ms,
                ..
            }
            | RouteEvent::Throttle {
                start_ms,
                duration_ms,
                ..
            }
            | RouteEvent::Drift {
                start_ms,
                duration_ms,
                ..
            } => (*start_ms, *duration_ms),
        }
    }

    pub fn covers(&self, t: f64) -> bool {
        let (s, d) = self.window();
        t >= s && t < s + d
    }
}

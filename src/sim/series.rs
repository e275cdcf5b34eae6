//! What a run shows, second by second: the series the demo's charts draw (its format is
//! `www/src/series.js`'s `Point`, `Event` and `Task`), and the summary `rehearse` judges.
//!
//! Counters count what happened during a second (from what the executor carried out); gauges are
//! read at its end from the engine's snapshot, which only reads.

use crate::core::action::{AbortReason, Settlement};
use crate::core::engine::Gauges;
use crate::core::events::Event;
use crate::core::sketch::{Sample, Sketch};
use crate::core::tasks::TaskId;
use crate::core::window::Reset;
use crate::prelude::*;
use crate::virtual_time::Seen;
use alloc::collections::BTreeMap;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// One second.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct Point {
    /// Seconds since the start, at the end of this second.
    pub t: f64,
    pub offered: u64,
    pub attempts: u64,
    pub by_route: BTreeMap<String, u64>,
    pub retries: u64,
    pub retry_density: f64,
    pub successes: u64,
    pub failures: u64,
    pub shed: u64,
    pub fallbacks: BTreeMap<String, u64>,
    pub latency_p50: Option<f64>,
    pub latency_p99: Option<f64>,
    pub queue_wait_p99: Option<f64>,
    pub in_flight: Option<u32>,
    pub queued: Option<u32>,
    pub budget: Option<u64>,
    pub pressure: Option<f64>,
    pub pressure_state: Option<String>,
    pub routes: Option<Vec<RoutePoint>>,
    pub outage: bool,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct RoutePoint {
    pub name: String,
    pub state: String,
    pub score: f64,
}

/// One discrete thing at its own time (fractional seconds).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize))]
pub struct TimelineEvent {
    pub t: f64,
    #[cfg_attr(feature = "serde", serde(rename = "type"))]
    pub kind: String,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub reason: Option<String>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub route: Option<String>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub from: Option<String>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub detail: Option<String>,
}

/// One call, for the per-task raster.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TaskTrace {
    pub id: u64,
    /// Seconds since the start, when the call began.
    pub t: f64,
    /// `ok`, `failed`, `shed`, or `None` while running.
    pub result: Option<String>,
    pub attempts: Vec<AttemptTrace>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct AttemptTrace {
    /// Ms after the call began.
    pub at: f64,
    pub ms: Option<f64>,
    pub route: Option<String>,
    /// `ok`, `status`, `network`, `timeout`, `aborted`, or `None` while running.
    pub outcome: Option<String>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub status: Option<u16>,
}

/// Which calls to trace for the raster: those that began in `[from_ms, to_ms)`, at most `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub from_ms: f64,
    pub to_ms: f64,
    pub max: usize,
}

/// Collects a run as it happens (the executor's watch) and at each second's end.
pub struct Collector {
    route_names: Vec<String>,
    /// Attempts per route during the current second (`Point::by_route` when it closes).
    by_route: Vec<u64>,
    /// Gauges are only meaningful for a policy with budgets, routes and pressure.
    gauges: bool,
    cur: Point,
    latency: Sketch,
    pub all_latency: Sketch,
    pub points: Vec<Point>,
    pub events: Vec<TimelineEvent>,
    /// The last answer the engine received: the status a `Response` settlement resolves with.
    last_answer: Option<(TaskId, u32, Option<u16>)>,
    /// The last settled call's latency, with its sketch bucket.
    last_latency: Option<Sample>,
    trace: Option<Trace>,
    traced: BTreeMap<u64, TaskTrace>,
    trace_keys: BTreeMap<TaskId, (u64, f64)>,
    /// Counters of the last snapshot, to turn them into per-second counts.
    last_shed: u64,
    last_fallbacks: BTreeMap<String, u64>,
    pub totals: Totals,
}

/// Totals over the run.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Totals {
    pub offered: u64,
    pub attempts: u64,
    pub retries: u64,
    pub successes: u64,
    pub failures: u64,
    pub shed: u64,
}

impl Collector {
    pub fn new(route_names: Vec<String>, gauges: bool, trace: Option<Trace>) -> Self {
        Collector {
            by_route: vec![0; route_names.len()],
            route_names,
            gauges,
            cur: Point::default(),
            latency: Sketch::default(),
            all_latency: Sketch::default(),
            points: Vec::new(),
            events: Vec::new(),
            last_answer: None,
            last_latency: None,
            trace,
            traced: BTreeMap::new(),
            trace_keys: BTreeMap::new(),
            last_shed: 0,
            last_fallbacks: BTreeMap::new(),
            totals: Totals::default(),
        }
    }

    /// A call began (arrivals are fed by the simulator, which knows when).
    pub fn began(&mut self, key: u64, now: f64) {
        self.cur.offered += 1;
        self.totals.offered += 1;
        if let Some(tr) = &self.trace {
            if now >= tr.from_ms && now < tr.to_ms && self.traced.len() < tr.max {
                self.traced.insert(
                    key,
                    TaskTrace {
                        id: key,
                        t: now / 1000.0,
                        result: None,
                        attempts: Vec::new(),
                    },
                );
            }
        }
    }

    /// What the executor carried out.
    pub fn seen(&mut self, now: f64, seen: Seen<'_>) {
        match seen {
            Seen::Started(key, start) => {
                self.cur.attempts += 1;
                self.totals.attempts += 1;
                // A client without routes sends every attempt to the first (as `Routes` serves it).
                let r = start.route.unwrap_or(0);
                if let Some(n) = self.by_route.get_mut(r) {
                    *n += 1;
                }
                if start.attempt > 1 && !start.hedge {
                    self.cur.retries += 1;
                    self.totals.retries += 1;
                }
                if let Some(t) = self.traced.get_mut(&key) {
                    let began = t.t * 1000.0;
                    let route = self.route_names.get(r).cloned();
                    t.attempts.push(AttemptTrace {
                        at: now - began,
                        ms: None,
                        route,
                        outcome: None,
                        status: None,
                    });
                    self.trace_keys.insert(start.task, (key, began));
                }
            }
            Seen::Answered(task, attempt, status) => {
                self.last_answer = Some((task, attempt, status));
                self.trace_attempt(task, attempt, now, |a| {
                    a.outcome = Some(match status {
                        Some(s) if s < 400 => "ok".into(),
                        Some(_) => "status".into(),
                        None => "network".into(),
                    });
                    a.status = status;
                });
            }
            Seen::Aborted(task, attempt, reason) => {
                self.trace_attempt(task, attempt, now, |a| {
                    a.outcome = Some(
                        if reason == AbortReason::AttemptTimeout || reason == AbortReason::Deadline
                        {
                            "timeout".into()
                        } else {
                            "aborted".into()
                        },
                    );
                });
            }
            Seen::Settled {
                key,
                began,
                settlement,
                latency: known,
            } => {
                let ok = match settlement {
                    Settlement::Response { attempt } => matches!(
                        self.last_answer,
                        Some((_, a, Some(s))) if a == *attempt && (200..300).contains(&s)
                    ),
                    _ => false,
                };
                let shed = matches!(settlement, Settlement::Failed(f) if f.code == crate::core::ErrorCode::Shed);
                if ok {
                    self.cur.successes += 1;
                    self.totals.successes += 1;
                } else if !shed {
                    self.cur.failures += 1;
                    self.totals.failures += 1;
                }
                if !shed {
                    // Calls often last the same (every one that ran out all its attempts'
                    // timeouts): the bucket of the last latency is not worked out again.
                    let latency = now - began;
                    // The engine has worked out the bucket of this call's latency (or of the
                    // last one's) already.
                    let same = |s: &Sample| s.value().to_bits() == latency.to_bits();
                    let sample = match (known.filter(same), self.last_latency.filter(same)) {
                        (Some(s), _) | (None, Some(s)) => s,
                        (None, None) => Sample::from(latency),
                    };
                    self.last_latency = Some(sample);
                    self.latency.add_sample(sample);
                    self.all_latency.add_sample(sample);
                }
                if let Some(t) = self.traced.get_mut(&key) {
                    t.result = Some(
                        (if ok {
                            "ok"
                        } else if shed {
                            "shed"
                        } else {
                            "failed"
                        })
                        .into(),
                    );
                }
            }
            Seen::Event(ev) => self.event(now, ev),
        }
    }

    fn trace_attempt(
        &mut self,
        task: TaskId,
        attempt: u32,
        now: f64,
        f: impl FnOnce(&mut AttemptTrace),
    ) {
        let Some((key, began)) = self.trace_keys.get(&task).copied() else {
            return;
        };
        if let Some(t) = self.traced.get_mut(&key) {
            if let Some(a) = t.attempts.get_mut(attempt as usize - 1) {
                if a.outcome.is_none() {
                    a.ms = Some(now - began - a.at);
                    f(a);
                }
            }
        }
    }

    fn event(&mut self, now: f64, ev: &Event) {
        let t = now / 1000.0;
        let e = |kind: &str| TimelineEvent {
            t,
            kind: kind.into(),
            reason: None,
            route: None,
            from: None,
            detail: None,
        };
        let out = match ev {
            Event::Eject(x) => TimelineEvent {
                reason: Some(x.reason.as_str().into()),
                route: Some(x.route.clone()),
                detail: Some(cat!("ejected for ", (x.duration_ms / 1000.0) as u64, " s")),
                ..e("eject")
            },
            Event::Restore(x) => TimelineEvent {
                reason: Some(x.reason.as_str().into()),
                route: Some(x.route.clone()),
                ..e("restore")
            },
            Event::Pressure(x) => TimelineEvent {
                reason: Some(x.state.as_str().into()),
                detail: Some(cat!("level ", (x.level * 100.0) as u64, "%")),
                ..e("pressure")
            },
            Event::FallbackDefault(x) => TimelineEvent {
                reason: Some(
                    (if x.is_default {
                        "became-default"
                    } else {
                        "no-longer-default"
                    })
                    .into(),
                ),
                detail: Some(cat!("share ", (x.share * 100.0) as u64, "%")),
                ..e("fallback-default")
            },
            _ => return,
        };
        self.events.push(out);
    }

    /// Closes second `t` (in seconds) with the engine's gauges at its end.
    pub fn second(&mut self, t: f64, snap: &Gauges<'_>, outage: bool) {
        let mut p = core::mem::take(&mut self.cur);
        for (r, n) in self.by_route.iter_mut().enumerate() {
            if *n > 0 {
                *p.by_route.entry(self.route_names[r].clone()).or_default() += *n;
                *n = 0;
            }
        }
        p.t = t;
        p.outage = outage;
        p.retry_density = if p.offered > 0 {
            p.retries as f64 / p.offered as f64
        } else {
            0.0
        };
        if self.latency.count() > 0 {
            p.latency_p50 = Some(round(self.latency.quantile(0.5)));
            p.latency_p99 = Some(round(self.latency.quantile(0.99)));
        }
        self.latency.reset();
        p.shed = snap.shed - self.last_shed;
        self.last_shed = snap.shed;
        self.totals.shed += p.shed;
        for (reason, n) in snap.fallbacks.iter() {
            let before = self.last_fallbacks.get(reason).copied().unwrap_or(0);
            if n > before {
                p.fallbacks.insert(reason.into(), n - before);
                self.events.push(TimelineEvent {
                    t,
                    kind: "fallback".into(),
                    reason: Some(reason.into()),
                    route: None,
                    from: None,
                    detail: Some(cat!("x", n - before)),
                });
            }
            self.last_fallbacks.insert(reason.into(), n);
        }
        if self.gauges {
            p.queue_wait_p99 = (snap.queue_wait_count > 0).then_some(snap.queue_wait_p99);
            p.in_flight = Some(snap.in_flight);
            p.queued = Some(snap.queued);
            p.budget = Some(snap.budget);
            p.pressure = Some(snap.pressure.level);
            p.pressure_state = Some(snap.pressure.state.as_str().into());
            p.routes = Some(
                snap.routes
                    .iter()
                    .map(|&(name, state, score)| RoutePoint {
                        name: name.into(),
                        state: state.into(),
                        score,
                    })
                    .collect(),
            );
        }
        self.points.push(p);
    }

    /// The traced calls, in order.
    pub fn tasks(&mut self) -> Vec<TaskTrace> {
        core::mem::take(&mut self.traced).into_values().collect()
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

//! Values on a tape: the snapshot, events and a failed call's detail, as tagged numbers.

use super::*;
use crate::core::state::{index_in, Merged, State};

/// A tape of tagged values (module docs). Strings go as their UTF-16 code units, so a whole
/// batch crosses to JS as one array of numbers.
#[derive(Default)]
pub struct Tape {
    pub nums: Vec<f64>,
}

impl Tape {
    pub fn clear(&mut self) {
        self.nums.clear();
    }

    pub fn num(&mut self, v: f64) {
        self.nums.extend([NUMBER, v]);
    }

    pub fn str(&mut self, s: &str) {
        let at = self.nums.len();
        self.nums.extend([STRING, 0.0]);
        let mut n = 0.0;
        for unit in s.encode_utf16() {
            self.nums.push(f64::from(unit));
            n += 1.0;
        }
        self.nums[at + 1] = n;
    }

    pub fn bool(&mut self, b: bool) {
        self.nums.push(if b { TRUE } else { FALSE });
    }

    pub fn null(&mut self) {
        self.nums.push(NULL);
    }

    /// A field left out of its object (JS: the key is not set).
    pub fn absent(&mut self) {
        self.nums.push(ABSENT);
    }

    pub fn opt_num(&mut self, v: Option<f64>, missing: fn(&mut Self)) {
        match v {
            Some(v) => self.num(v),
            None => missing(self),
        }
    }

    pub fn opt_str(&mut self, v: Option<&str>, missing: fn(&mut Self)) {
        match v {
            Some(v) => self.str(v),
            None => missing(self),
        }
    }

    /// A record of schema `schema`: its fields follow, in the schema's order.
    pub fn record(&mut self, schema: usize) {
        self.nums.extend([RECORD, schema as f64]);
    }

    /// A list of `n` values, which follow.
    pub fn list(&mut self, n: usize) {
        self.nums.extend([LIST, n as f64]);
    }

    /// Counts by name (a JS object of numbers): `n` pairs of a name and a number follow.
    pub fn counts(&mut self, c: &Counts) {
        self.nums.extend([COUNTS, c.len() as f64]);
        for (k, v) in c.iter() {
            self.str(k);
            self.num(v as f64);
        }
    }

    fn strs(&mut self, items: &[&str]) {
        self.list(items.len());
        for s in items {
            self.str(s);
        }
    }

    fn quantiles(&mut self, q: &Quantiles) {
        self.record(const { schema("quantiles") });
        for v in [q.p50, q.p95, q.p99, q.max, q.count as f64] {
            self.num(v);
        }
    }

    fn pressure(&mut self, p: &PressureSnapshot) {
        self.record(const { schema("pressure-snapshot") });
        self.num(p.level);
        self.str(p.state.as_str());
        self.num(p.trend);
        self.strs(&p.drivers);
        let c = &p.components;
        self.record(const { schema("components") });
        for v in [
            c.tail_latency,
            c.queue_wait,
            c.retry_density,
            c.budget_drain,
        ] {
            self.num(v);
        }
    }

    fn route(&mut self, r: &RouteSnapshot) {
        self.record(const { schema("route") });
        self.str(&r.name);
        self.str(r.state);
        self.num(r.score);
        self.num(r.success_rate);
        self.record(const { schema("route-latency") });
        for v in [r.latency.p50, r.latency.p95, r.latency.p99] {
            self.num(v);
        }
        self.num(r.variance);
        self.num(r.attempts as f64);
        self.num(r.failures as f64);
        self.num(f64::from(r.ejections));
        self.num(r.credentials_stripped as f64);
    }

    /// What `fetch.snapshot()` returns.
    pub fn snapshot(&mut self, s: &Snapshot) {
        self.record(const { schema("snapshot") });
        self.num(s.tasks as f64);
        self.num(s.active_tasks as f64);
        self.num(f64::from(s.in_flight));
        self.num(f64::from(s.queued));
        self.opt_num(s.limit.map(f64::from), Self::null);
        self.num(s.attempts as f64);
        self.num(s.retries as f64);
        self.num(s.retry_density);
        self.num(s.window_ms);
        self.counts(&s.giveups);
        self.record(const { schema("shed-snapshot") });
        self.num(s.shed.total as f64);
        self.counts(&s.shed.by_reason);
        self.record(const { schema("budget") });
        let b = &s.budget;
        for v in [b.balance, b.exhausted, b.reserve] {
            self.num(v as f64);
        }
        self.str(b.mode);
        self.num(b.leased as f64);
        self.quantiles(&s.latency);
        self.quantiles(&s.attempt_latency);
        self.quantiles(&s.queue_wait);
        self.pressure(&s.pressure);
        self.list(s.routes.len());
        for r in &s.routes {
            self.route(r);
        }
        let f = &s.fallback;
        self.record(const { schema("fallback-snapshot") });
        self.num(f.total as f64);
        self.counts(&f.by_reason);
        self.bool(f.active);
        self.num(f.active_for_ms);
        self.num(f.share);
        self.bool(f.is_default);
        self.record(const { schema("switches") });
        self.num(s.switches.total as f64);
        self.num(s.switches.denied as f64);
        self.record(const { schema("hedges") });
        let h = &s.hedges;
        for v in [h.sent, h.won, h.budget_exhausted] {
            self.num(v as f64);
        }
    }

    fn attempt_record(&mut self, r: &AttemptRecord) {
        self.record(const { schema("attempt-record") });
        self.num(f64::from(r.attempt));
        self.str(r.outcome.as_str());
        self.opt_num(r.status.map(f64::from), Self::absent);
        self.num(r.duration_ms);
        self.opt_str(r.route.as_deref(), Self::absent);
    }

    /// A failed call: the BallastError's code, reason, message and attempts.
    pub fn failed(&mut self, f: &Failed) {
        self.record(const { schema("failed") });
        self.str(f.code.as_str());
        self.str(f.reason.as_str());
        self.str(&f.message());
        self.list(f.attempts.len());
        for r in &f.attempts {
            self.attempt_record(r);
        }
    }

    /// An event's payload (the record is named after the event's kind).
    pub fn event(&mut self, ev: &Event) {
        self.record(schema_of(ev.kind()));
        match ev {
            Event::Retry(e) => {
                self.num(f64::from(e.attempt));
                self.num(e.delay_ms);
                match e.reason {
                    RetryCause::Status(s) => self.str(&cat!("status-", s)),
                    RetryCause::Network => self.str("network"),
                    RetryCause::AttemptTimeout => self.str("attempt-timeout"),
                }
                self.str(e.source);
                self.str(&e.method);
                self.str(&e.url);
            }
            Event::GiveUp(e) => {
                self.str(e.reason.as_str());
                self.num(f64::from(e.attempts));
                self.str(&e.method);
                self.str(&e.url);
            }
            Event::Shed(e) => {
                self.str(e.reason.as_str());
                self.num(f64::from(e.attempt));
                self.num(e.waited_ms);
                self.num(f64::from(e.queued));
                self.num(f64::from(e.in_flight));
                self.opt_num(e.limit.map(f64::from), Self::null);
                self.str(&e.method);
                self.str(&e.url);
            }
            Event::Pressure(e) => {
                self.str(e.state.as_str());
                self.str(e.previous.as_str());
                self.num(e.level);
                self.strs(&e.drivers);
            }
            Event::Attempt(e) => {
                self.num(f64::from(e.attempt));
                self.str(e.outcome.as_str());
                self.opt_num(e.status.map(f64::from), Self::absent);
                self.num(e.duration_ms);
                self.str(&e.method);
                self.str(&e.url);
            }
            Event::Eject(e) => {
                self.str(&e.route);
                self.str(e.reason.as_str());
                self.num(f64::from(e.ejections));
                self.num(e.duration_ms);
            }
            Event::Restore(e) => {
                self.str(&e.route);
                self.str(e.reason.as_str());
                self.num(e.ejected_for_ms);
            }
            Event::Fallback(e) => {
                self.str(e.reason.as_str());
                self.str(&e.route);
                self.opt_str(e.from.as_deref(), Self::null);
                self.str(&e.method);
                self.str(&e.url);
            }
            Event::FallbackDefault(e) => {
                self.bool(e.is_default);
                self.num(e.share);
            }
            Event::Hedge(e) => {
                self.opt_str(e.route.as_deref(), Self::null);
                self.opt_str(e.from.as_deref(), Self::null);
                self.num(e.after_ms);
                self.str(&e.method);
                self.str(&e.url);
            }
            Event::Coordinator(e) => {
                self.str(e.state);
                self.str(e.reason);
            }
        }
    }
}

impl Tape {
    /// A state snapshot (`core::state`): its routes listed once, in order, with their changes,
    /// and each contribution's counts naming theirs by index.
    pub fn state(&mut self, s: &State) {
        let table = s.table();
        self.record(const { schema("state") });
        self.num(crate::core::state::VERSION);
        self.str(&s.fingerprint);
        self.list(table.len());
        for (name, url) in &table {
            self.record(const { schema("state-route") });
            self.str(name);
            self.str(url);
            match s.health(name, url) {
                Some(h) => {
                    self.list(3);
                    self.num(h.at);
                    self.num(h.until);
                    self.num(f64::from(h.ejections));
                }
                None => self.null(),
            }
        }
        self.list(s.isolates.len());
        for i in &s.isolates {
            self.record(const { schema("state-isolate") });
            self.num(i.id as f64);
            self.num(i.at);
            self.num(i.reserve);
            self.list(i.routes.len());
            for r in &i.routes {
                self.record(const { schema("state-counts") });
                self.num(index_in(&table, r) as f64);
                self.list(r.slots.len());
                for sl in &r.slots {
                    self.list(3);
                    self.num(sl.start);
                    self.num(sl.ok as f64);
                    self.num(sl.failed as f64);
                }
            }
        }
    }

    /// What a merge did (`Engine::merge_state`).
    pub fn merged(&mut self, m: &Merged) {
        self.record(const { schema("state-merged") });
        self.num(m.isolates as f64);
        self.strs(&m.ignored.iter().map(String::as_str).collect::<Vec<_>>());
    }
}

/// The canonical form of a config as `[path, value]` pairs (`config::canonical::walk`), which
/// JS turns into `snapshot().config.effective`.
impl Sink for Tape {
    fn path(&mut self, head: &str, route: Option<(usize, &str)>) {
        self.list(2);
        match route {
            Some((i, key)) => self.str(&cat!(head, "[", i, "].", key)),
            None => self.str(head),
        }
    }
    fn null(&mut self) {
        Tape::null(self)
    }
    fn bool(&mut self, b: bool) {
        Tape::bool(self, b)
    }
    fn num(&mut self, n: f64) {
        Tape::num(self, n)
    }
    fn str(&mut self, s: &str) {
        Tape::str(self, s)
    }
    fn list(&mut self, n: usize, _strings: bool) {
        Tape::list(self, n)
    }
}

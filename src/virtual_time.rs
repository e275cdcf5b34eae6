//! The virtual-time executor: drives the engine with a clock that only moves when nothing else
//! is left to happen now, against an origin written in Rust.
//!
//! Why: the engine owns the whole call (`core::engine`), so any executor that carries out its
//! actions and wakes it at `poll_timeout` runs exactly what ships. This one does so in virtual
//! time: a ten-minute outage takes milliseconds, and a run is reproducible from its seed. Every
//! native test drives the engine through it, and so does the simulator.
//!
//! Events due at the same instant (an answer, a caller's abort, an engine timer) happen in an
//! order drawn from the executor's seed, so a test can explore the interleavings the real world
//! produces; with seed 0 they happen in the order they were scheduled, engine timers last.

use crate::core::action::{AbortReason, Action, Failure, Settlement, Start, Verdict};
use crate::core::events::Event;
use crate::core::lease::LeaseRequest;
use crate::core::policy::RequestMeta;
use crate::core::sketch::Sample;
use crate::core::tasks::TaskId;
use crate::core::{Engine, RetryHooks};
use crate::prelude::*;
use alloc::collections::{BTreeMap, BinaryHeap};
use core::cmp::Ordering;

/// How an origin answers an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Response headers with this status.
    Status(u16),
    /// A status with a `Retry-After` header (its raw value).
    RetryAfter(u16, String),
    /// No response.
    Fail(Failure),
    /// Never answers (until the attempt is aborted).
    Hang,
}

/// What the executor asks an origin.
pub trait Origin {
    /// Attempt `start` of a call to `url` (the route's URL when routed, else the call's) arrives
    /// at `now`: when it answers (ms from now) and how.
    fn serve(&mut self, start: &Start, url: &str, now: f64) -> (f64, Reply);
    /// The attempt was aborted before it answered (a capacity model frees its place).
    fn aborted(&mut self, _start: &Start, _now: f64) {}
}

impl<F: FnMut(&Start, &str, f64) -> (f64, Reply)> Origin for F {
    fn serve(&mut self, start: &Start, url: &str, now: f64) -> (f64, Reply) {
        self(start, url, now)
    }
}

/// A call the executor made, by the caller's key.
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    pub task: TaskId,
    /// The URL the caller called.
    pub url: String,
    pub began: f64,
    /// How and when it settled, once it has.
    pub settled: Option<(f64, Settlement)>,
    /// Every attempt started for it: `(when, start)`.
    pub starts: Vec<(f64, Start)>,
}

enum Ev {
    Call {
        key: u64,
        meta: RequestMeta,
    },
    Answer {
        task: TaskId,
        attempt: u32,
        reply: Reply,
    },
    Abort {
        key: u64,
    },
    Verdict {
        task: TaskId,
        attempt: u32,
        verdict: Verdict,
    },
    Lease {
        id: u32,
        answer: Option<(u32, f64)>,
    },
}

/// What the engine asks the retry hooks (`Action::Consult`), with the caller's key for the call.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    pub key: u64,
    pub attempt: u32,
    /// The engine's own verdict.
    pub retry: bool,
    /// The wait the engine would retry after.
    pub delay_ms: f64,
}

/// Retry hooks written in Rust (`Executor::consult`): asked at `now`, when they answer (ms from
/// now: a hook may be asynchronous) and what.
pub type Consultant = Box<dyn FnMut(&Asked, f64) -> (f64, Verdict)>;

/// A coordinator of leased retries written in Rust (`Executor::coordinate`): asked at `now`,
/// when it answers (ms from now; `f64::INFINITY`: never) and what (`Some((granted, ttl_ms))`, or
/// `None` for a failure).
pub type Coordinator = Box<dyn FnMut(&LeaseRequest, f64) -> (f64, Option<(u32, f64)>)>;

/// A heap entry: when (`at`, as `order_key`), in which order among equals, and which of
/// `Executor::evs` happens. The event itself stays in its slot, so sifting the heap moves a few
/// words, not a request, and compares integers.
struct Queued {
    at: u64,
    order: u64,
    ev: u32,
}

pub(crate) use crate::core::math::{from_order_key, order_key};

impl PartialEq for Queued {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Queued {}
impl PartialOrd for Queued {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Queued {
    fn cmp(&self, o: &Self) -> Ordering {
        o.at.cmp(&self.at).then_with(|| o.order.cmp(&self.order))
    }
}

/// A call in progress: the caller's key, when it began, its attempts in flight.
#[derive(Default)]
struct Live {
    /// `None`: no call in this slot.
    task: Option<TaskId>,
    key: u64,
    began: f64,
    /// The attempts in flight: the engine sends at most two at once (an attempt and its hedge),
    /// kept here so that a call in a new slot allocates nothing for them; `more` holds any
    /// beyond two.
    flights: [Option<Start>; 2],
    more: Vec<Start>,
}

impl Live {
    fn add_flight(&mut self, start: Start) {
        match self.flights.iter_mut().find(|s| s.is_none()) {
            Some(free) => *free = Some(start),
            None => self.more.push(start),
        }
    }

    fn take_flight(&mut self, attempt: u32) -> Option<Start> {
        if let Some(s) = self
            .flights
            .iter_mut()
            .find(|s| s.as_ref().is_some_and(|s| s.attempt == attempt))
        {
            return s.take();
        }
        let i = self.more.iter().position(|s| s.attempt == attempt)?;
        Some(self.more.swap_remove(i))
    }

    /// Drops every attempt in flight; returns how many there were.
    fn clear_flights(&mut self) -> usize {
        let n = self.flights.iter().flatten().count() + self.more.len();
        self.flights = [None, None];
        self.more.clear();
        n
    }
}

/// An invariant check, called after every step.
pub type Check = Box<dyn FnMut(&Engine, &Step)>;

/// What a watcher sees, as it happens (the simulator aggregates these instead of keeping records).
pub enum Seen<'a> {
    /// Attempt `start` of call `key`.
    Started(u64, &'a Start),
    /// An attempt's answer reached the engine: a status, or `None` for a failure.
    Answered(TaskId, u32, Option<u16>),
    Aborted(TaskId, u32, AbortReason),
    Settled {
        key: u64,
        began: f64,
        settlement: &'a Settlement,
        /// The engine's sample of a call's latency, with its sketch bucket: this call's when its
        /// value is the latency (`Engine::last_task_sample`; it may be a later call's).
        latency: Option<Sample>,
    },
    Event(&'a Event),
}

/// Called with everything the executor carries out and every event, with the time.
pub type Watch = Box<dyn FnMut(f64, Seen<'_>)>;

pub struct Executor<O: Origin> {
    pub engine: Engine,
    pub origin: O,
    now: f64,
    queue: BinaryHeap<Queued>,
    /// What the queue's entries name, by slot; `free_evs` lists the empty slots.
    evs: Vec<Option<Ev>>,
    free_evs: Vec<u32>,
    seq: u64,
    /// Draws the order of simultaneous events; `None`: the order they were scheduled in.
    shuffle: Option<fastrand::Rng>,
    /// Calls by the caller's key (unless `lean`), and the calls in progress by key.
    pub calls: BTreeMap<u64, CallRecord>,
    by_key: BTreeMap<u64, TaskId>,
    /// `by_key` is kept (from the first `abort_at` on: only an abort looks a call up by key).
    by_key_kept: bool,
    /// The calls in progress by their id's slot (`TaskId::slot`); a slot's lists are kept for
    /// the next call in it.
    live: Vec<Live>,
    /// Attempts in flight, over all calls.
    in_flight: usize,
    /// Keeps `calls` and `events` (off with `lean`).
    record: bool,
    watch: Option<Watch>,
    /// Every event, with when it was polled.
    pub events: Vec<(f64, Event)>,
    /// Called after every step with the executor's view (invariant checks).
    check: Option<Check>,
    /// What the current step did (kept for `check`).
    step: Step,
    /// The retry hooks, if any (`consult`).
    consultant: Option<Consultant>,
    /// The coordinator of leased retries, if any (`coordinate`).
    coordinator: Option<Coordinator>,
}

/// What one step did, for invariant checks.
#[derive(Debug, Default)]
pub struct Step {
    pub now: f64,
    pub started: Vec<Start>,
    pub settled: Vec<(TaskId, Settlement)>,
    pub aborted: Vec<(TaskId, u32)>,
    /// The attempt whose answer (response or failure) the engine was given in this step.
    pub answered: Option<(TaskId, u32)>,
    /// Attempts in flight after the step.
    pub in_flight: usize,
}

impl<O: Origin> Executor<O> {
    pub fn new(engine: Engine, origin: O) -> Self {
        Executor {
            engine,
            origin,
            now: 0.0,
            queue: BinaryHeap::new(),
            evs: Vec::new(),
            free_evs: Vec::new(),
            seq: 0,
            shuffle: None,
            calls: BTreeMap::new(),
            by_key: BTreeMap::new(),
            by_key_kept: false,
            live: Vec::new(),
            in_flight: 0,
            record: true,
            watch: None,
            events: Vec::new(),
            check: None,
            step: Step::default(),
            consultant: None,
            coordinator: None,
        }
    }

    /// Gives the engine retry hooks (`Engine::set_consult`): `hooks` says which, `answer` how
    /// they answer.
    pub fn consult(
        mut self,
        hooks: RetryHooks,
        answer: impl FnMut(&Asked, f64) -> (f64, Verdict) + 'static,
    ) -> Self {
        self.engine.set_consult(hooks);
        self.consultant = Some(Box::new(answer));
        self
    }

    /// Puts the engine in shared mode (`Engine::set_shared`) with `answer` as its coordinator.
    pub fn coordinate(
        mut self,
        answer: impl FnMut(&LeaseRequest, f64) -> (f64, Option<(u32, f64)>) + 'static,
    ) -> Self {
        self.engine.set_shared();
        self.coordinator = Some(Box::new(answer));
        self
    }

    /// Simultaneous events in an order drawn from `seed` (0: the order they were scheduled).
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle = (seed != 0).then(|| fastrand::Rng::with_seed(seed));
        self
    }

    /// Keeps no records of calls and events (`calls`, `events` stay empty): for long runs, with a
    /// `watch` to aggregate what happens.
    pub fn lean(mut self) -> Self {
        self.record = false;
        self
    }

    /// Calls `watch` with every start, abort, settlement and event.
    pub fn watch(mut self, watch: impl FnMut(f64, Seen<'_>) + 'static) -> Self {
        self.watch = Some(Box::new(watch));
        self
    }

    /// Calls `check` after every step.
    pub fn check(mut self, check: impl FnMut(&Engine, &Step) + 'static) -> Self {
        self.check = Some(Box::new(check));
        self
    }

    pub fn now(&self) -> f64 {
        self.now
    }

    /// The place of the next event among those at its instant (`shuffle`).
    fn next_order(&mut self) -> u64 {
        self.seq += 1;
        match &mut self.shuffle {
            Some(rng) => rng.u64(..),
            None => self.seq,
        }
    }

    fn push(&mut self, at: f64, ev: Ev) {
        let order = self.next_order();
        let slot = match self.free_evs.pop() {
            Some(i) => {
                self.evs[i as usize] = Some(ev);
                i
            }
            None => {
                self.evs.push(Some(ev));
                (self.evs.len() - 1) as u32
            }
        };
        self.queue.push(Queued {
            at: order_key(at),
            order,
            ev: slot,
        });
    }

    /// Takes the earliest queued event out of the queue.
    fn pop(&mut self) -> Option<Ev> {
        let q = self.queue.pop()?;
        self.free_evs.push(q.ev);
        self.evs[q.ev as usize].take()
    }

    /// The caller makes a call at `at` (the key names it in `calls`).
    pub fn call_at(&mut self, at: f64, key: u64, meta: RequestMeta) {
        self.push(at.max(self.now), Ev::Call { key, meta });
    }

    /// The caller makes a call now, before anything else due now happens: what `call_at(now)`
    /// does when nothing else is due at `now` (after `run_until(now)`), without queueing it.
    /// Simultaneous events drawn in a shuffled order (`shuffle`) queue it as `call_at` does.
    pub fn call_now(&mut self, key: u64, meta: RequestMeta) {
        if self.shuffle.is_some() {
            self.call_at(self.now, key, meta);
            return;
        }
        self.seq += 1; // as `push` counts it, so later events keep their order
        self.begin_step();
        self.input(Ev::Call { key, meta });
        self.after();
    }

    /// The caller aborts call `key` at `at`.
    pub fn abort_at(&mut self, at: f64, key: u64) {
        if !self.by_key_kept {
            // From now on calls are found by key: the ones in progress are listed now.
            self.by_key_kept = true;
            for l in &self.live {
                if let Some(task) = l.task {
                    self.by_key.insert(l.key, task);
                }
            }
        }
        self.push(at.max(self.now), Ev::Abort { key });
    }

    /// Makes a call now and runs until nothing is left to happen; returns its record.
    pub fn call(&mut self, meta: RequestMeta) -> CallRecord {
        let key = self.calls.keys().next_back().map_or(0, |k| k + 1);
        self.call_at(self.now, key, meta);
        self.run();
        self.calls[&key].clone()
    }

    /// Runs until nothing is left to happen (no event queued, no engine timer set).
    pub fn run(&mut self) {
        self.run_until(f64::INFINITY);
    }

    /// Runs every event and timer due up to `end`; the clock then reads `end` (if finite).
    pub fn run_until(&mut self, end: f64) {
        loop {
            let timer = self.engine.poll_timeout();
            let event = self.queue.peek().map(|q| from_order_key(q.at));
            let next = match (timer, event) {
                (Some(t), Some(e)) => t.min(e),
                (Some(t), None) => t,
                (None, Some(e)) => e,
                (None, None) => break,
            };
            if next > end {
                break;
            }
            self.now = self.now.max(next);
            let timer_first = match (timer, event) {
                (Some(t), Some(e)) if t == e => match &mut self.shuffle {
                    Some(rng) => rng.bool(),
                    None => false,
                },
                (Some(t), _) => t == next,
                _ => false,
            };
            self.begin_step();
            if timer_first {
                self.engine.handle_timeout(self.now);
            } else if let Some(ev) = self.pop() {
                self.input(ev);
            }
            self.after();
        }
        if end.is_finite() {
            self.now = self.now.max(end);
        }
    }

    /// Completes a step: carries out what the engine decided, then the check.
    /// Starts a step: `step` records it (only for a check, which sees it after the step).
    fn begin_step(&mut self) {
        if self.check.is_some() {
            self.step = Step {
                now: self.now,
                ..Step::default()
            };
        }
    }

    /// Completes a step: carries out what the engine decided, then the check.
    fn after(&mut self) {
        // What a step did is kept only for a check.
        let keep = self.check.is_some();
        self.drain(keep);
        if let Some(check) = &mut self.check {
            self.step.in_flight = self.in_flight;
            check(&self.engine, &self.step);
        }
    }

    fn input(&mut self, ev: Ev) {
        let now = self.now;
        match ev {
            Ev::Call { key, meta } => {
                let url = self.record.then(|| meta.url.to_string());
                let task = self.engine.begin(meta, now);
                let slot = task.slot();
                if self.live.len() <= slot {
                    self.live.resize_with(slot + 1, Live::default);
                }
                // `begin` may already have settled it (shed): then `drain` clears the slot.
                let l = &mut self.live[slot];
                l.task = Some(task);
                l.key = key;
                l.began = now;
                if self.by_key_kept {
                    self.by_key.insert(key, task);
                }
                if let Some(url) = url {
                    self.calls.insert(
                        key,
                        CallRecord {
                            task,
                            url,
                            began: now,
                            settled: None,
                            starts: Vec::new(),
                        },
                    );
                }
            }
            Ev::Answer {
                task,
                attempt,
                reply,
            } => {
                if self.take_flight(task, attempt).is_none() {
                    return; // aborted meanwhile: the executor drops what it answers
                }
                self.step.answered = Some((task, attempt));
                if let Some(w) = &mut self.watch {
                    let status = match &reply {
                        Reply::Status(s) | Reply::RetryAfter(s, _) => Some(*s),
                        _ => None,
                    };
                    w(now, Seen::Answered(task, attempt, status));
                }
                match reply {
                    Reply::Status(status) => self
                        .engine
                        .handle_response(task, attempt, status, None, now, now),
                    Reply::RetryAfter(status, value) => {
                        self.engine
                            .handle_response(task, attempt, status, Some(&value), now, now)
                    }
                    Reply::Fail(f) => {
                        self.engine
                            .handle_failure(task, attempt, f, "TypeError: fetch failed", now)
                    }
                    Reply::Hang => {}
                }
            }
            Ev::Abort { key } => {
                if let Some(task) = self.by_key.get(&key).copied() {
                    self.engine.handle_abort(task, now);
                }
            }
            Ev::Verdict {
                task,
                attempt,
                verdict,
            } => self.engine.handle_verdict(task, attempt, verdict, now),
            Ev::Lease { id, answer } => self.engine.handle_lease(id, answer, now),
        }
    }

    /// Carries out the engine's actions and collects its events (`keep`: into `step` too).
    fn drain(&mut self, keep: bool) {
        let now = self.now;
        while let Some(action) = self.engine.poll_action() {
            match action {
                Action::Start(start) => {
                    let key = self.live(start.task).map_or(0, |l| l.key);
                    let (latency, reply) = match (&start.url, self.calls.get(&key)) {
                        (Some(url), _) => self.origin.serve(&start, url, now),
                        (None, Some(c)) => self.origin.serve(&start, &c.url, now),
                        (None, None) => self.origin.serve(&start, "", now),
                    };
                    let at = now + latency.max(0.0);
                    // An answer due after the attempt's timeout would find it aborted, and be
                    // dropped: it is not queued (its place in the order is still taken, so
                    // the events after it keep theirs).
                    let overtaken = self
                        .engine
                        .config()
                        .timeout
                        .attempt_ms
                        .is_some_and(|t| at > now + t);
                    if reply == Reply::Hang {
                        // never answers
                    } else if overtaken {
                        self.next_order();
                    } else {
                        self.push(
                            at,
                            Ev::Answer {
                                task: start.task,
                                attempt: start.attempt,
                                reply,
                            },
                        );
                    }
                    if let Some(w) = &mut self.watch {
                        w(now, Seen::Started(key, &start));
                    }
                    if let Some(c) = self.calls.get_mut(&key) {
                        c.starts.push((now, start.clone()));
                    }
                    if keep {
                        self.step.started.push(start.clone());
                    }
                    if let Some(l) = self.live_mut(start.task) {
                        l.add_flight(start);
                        self.in_flight += 1;
                    }
                }
                Action::Abort {
                    task,
                    attempt,
                    reason,
                } => {
                    if let Some(start) = self.take_flight(task, attempt) {
                        self.origin.aborted(&start, now);
                    }
                    if let Some(w) = &mut self.watch {
                        w(now, Seen::Aborted(task, attempt, reason));
                    }
                    if keep {
                        self.step.aborted.push((task, attempt));
                    }
                }
                Action::Consult {
                    task,
                    attempt,
                    retry,
                    delay_ms,
                } => {
                    let asked = Asked {
                        key: self.live(task).map_or(0, |l| l.key),
                        attempt,
                        retry,
                        delay_ms,
                    };
                    let (after, verdict) = match &mut self.consultant {
                        Some(answer) => answer(&asked, now),
                        None => (
                            0.0,
                            Verdict::Answer {
                                retry: None,
                                delay_ms: None,
                            },
                        ),
                    };
                    let ev = Ev::Verdict {
                        task,
                        attempt,
                        verdict,
                    };
                    self.push(now + after.max(0.0), ev);
                }
                Action::Settle { task, settlement } => {
                    if let Some(l) = self.live_mut(task) {
                        let (key, began) = (l.key, l.began);
                        let gone = l.clear_flights();
                        l.task = None;
                        self.in_flight -= gone;
                        self.by_key.remove(&key);
                        if let Some(w) = &mut self.watch {
                            w(
                                now,
                                Seen::Settled {
                                    key,
                                    began,
                                    settlement: &settlement,
                                    latency: self.engine.last_task_sample(),
                                },
                            );
                        }
                        if let Some(c) = self.calls.get_mut(&key) {
                            c.settled = Some((now, settlement.clone()));
                        }
                    }
                    if keep {
                        self.step.settled.push((task, settlement));
                    } else {
                        self.engine.reuse(settlement);
                    }
                }
            }
        }
        if let Some(c) = &mut self.coordinator {
            if let Some(r) = self.engine.poll_lease(now) {
                let (after, answer) = c(&r, now);
                if after.is_finite() {
                    self.push(now + after.max(0.0), Ev::Lease { id: r.id, answer });
                }
            }
        }
        while let Some(ev) = self.engine.poll_event() {
            if let Some(w) = &mut self.watch {
                w(now, Seen::Event(&ev));
            }
            if self.record {
                self.events.push((now, ev));
            }
        }
    }
}

impl<O: Origin> Executor<O> {
    fn live(&self, task: TaskId) -> Option<&Live> {
        self.live.get(task.slot()).filter(|l| l.task == Some(task))
    }

    fn live_mut(&mut self, task: TaskId) -> Option<&mut Live> {
        self.live
            .get_mut(task.slot())
            .filter(|l| l.task == Some(task))
    }

    /// Removes attempt `attempt` of `task` from the attempts in flight.
    fn take_flight(&mut self, task: TaskId, attempt: u32) -> Option<Start> {
        let l = self.live_mut(task)?;
        let start = l.take_flight(attempt)?;
        self.in_flight -= 1;
        Some(start)
    }
}

impl CallRecord {
    /// The settlement, if the call has settled.
    pub fn settlement(&self) -> Option<&Settlement> {
        self.settled.as_ref().map(|(_, s)| s)
    }
}

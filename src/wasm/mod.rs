//! The thin binding: the engine's inputs and outputs exported to the JS executor
//! (`pkg/executor.js`), which performs every action (fetch, abort, settle) and keeps one timer per
//! client armed where the engine asks.
//!
//! Each input writes the step's output as numbers (`boundary::StepOut`: the next timeout and the
//! actions, fixed width) into one buffer the client keeps, and returns where it is in the
//! module's memory: JS copies it out from there (`pkg/host.js`), so a step allocates nothing on
//! either side and costs no second call to free what it returned. What the actions refer to (a
//! routed URL, a failed call's detail) and the events wait in tapes that JS fetches only when the
//! header says so. Nothing calls back into JS
//! during a step, so a step never runs user code and a user's exception never crosses wasm frames
//! (`pkg/host.js` says why that matters). Nothing runs at module scope: Workers forbid timers,
//! random values and I/O there, so the RNG is seeded on the first call, not at construction.

use crate::prelude::*;
mod js;
mod panic;

use crate::boundary::{StepOut, Tape};
use crate::core::redact::mask_user_info;
use crate::core::state::{State, StateError};
use crate::core::value::Value;
use crate::core::{BodyKind, Engine, Failure, RequestMeta, RetryHooks, TaskId, Verdict};
use alloc::borrow::Cow;
use js::Hooks;
use wasm_bindgen::prelude::*;

/// The message of the last Rust panic, so the npm entry can turn an opaque `unreachable` trap into
/// a `BallastError` with code `INTERNAL` that says what went wrong. UTF-8 bytes, which JS decodes.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<Vec<u8>> {
    panic::take_note()
}

/// Panics with a literal message, `depth` frames deep, each frame holding a buffer on the shadow
/// stack: a panic there leaves the stack pointer lowered, as a real one would. Only the package's
/// containment tests call it (`tests/js/internal.test.mjs`): a fault in one client's step must
/// leave the other clients working.
#[wasm_bindgen(js_name = selfTestPanic)]
pub fn self_test_panic(depth: u32) {
    deep(depth);
}

#[inline(never)]
fn deep(n: u32) {
    let buf = [n as u8; 64];
    core::hint::black_box(&buf);
    if n == 0 {
        panic!("ballast: self-test panic");
    }
    deep(n - 1);
    core::hint::black_box(&buf);
}

/// The boundary's names (`boundary::describe`), read once by `pkg/boundary.js`.
#[wasm_bindgen]
pub fn boundary() -> String {
    crate::boundary::describe()
}

/// Why the browsers' build refuses a state and new routes (`pkg/api.js` says so before the
/// calls get here).
const NO_STATE: &str = "nothing in a browser: the browser build has no state snapshots (they are for Workers, Deno and Node)";
const NO_SET_ROUTES: &str = "nothing in a browser: the browser build cannot replace routes (setRoutes is for Workers, Deno and Node)";

/// One wrapped fetch's engine.
#[wasm_bindgen]
pub struct Client {
    engine: Engine,
    seeded: bool,
    /// It has drawn its random isolate id (`core::state`), on its first export or merge.
    identified: bool,
    out: StepOut,
}

/// The value at a path like `routes[2].url`.
fn value_at<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = root;
    for seg in path.split('.') {
        let (key, index) = match seg.split_once('[') {
            Some((k, i)) => (k, crate::core::text::digits(i.trim_end_matches(']'))),
            None => (seg, None),
        };
        cur = cur.get(key)?;
        if let (Some(i), Value::List(items)) = (index, cur) {
            cur = items.get(usize::try_from(i).ok()?)?;
        }
    }
    Some(cur)
}

fn task_of(id: f64) -> TaskId {
    TaskId::from_bits(id as u64)
}

/// `f64::NAN` for "none".
fn or_nan(v: Option<f64>) -> f64 {
    v.unwrap_or(f64::NAN)
}

/// A config off a tape, read and checked; its first problem as the `ConfigError` `hooks` builds.
fn read_config(tape: &[f64], hooks: &Hooks) -> Result<crate::core::Config, JsValue> {
    let Some(value) = crate::boundary::read_value(tape) else {
        return Err(JsValue::from_str(
            "ballast: internal: the config tape is malformed",
        ));
    };
    crate::core::config::read(&value).map_err(|err| {
        let masked = match value_at(&value, &err.path) {
            Some(Value::Str(s)) if mask_user_info(s) != *s => Some(mask_user_info(s)),
            _ => None,
        };
        hooks.config_error(&err.path, &err.allowed, masked)
    })
}

impl Client {
    /// Draws the client's isolate id on its first export or merge (inside a call: Workers refuse
    /// random values at module scope).
    fn identify(&mut self) {
        if !self.identified {
            self.identified = true;
            self.engine.set_isolate(js::random_seed());
        }
    }

    /// The output of the input just given to the engine (one copy of this loop for every
    /// input, not one inlined into each): its address in the module's memory, valid until the
    /// next input (the header says how many numbers follow it).
    #[inline(never)]
    fn step(&mut self, task: Option<TaskId>) -> usize {
        self.out.begin(task);
        while let Some(a) = self.engine.poll_action() {
            self.out.action(&a);
        }
        let events = self.engine.has_output();
        let timeout = self.engine.poll_timeout();
        self.out.finish(timeout, events, self.engine.wants_lease());
        self.out.nums.as_ptr() as usize
    }
}

#[wasm_bindgen]
impl Client {
    /// `config` is the user's config as a tape of plain data (`pkg/config.js` copies and encodes
    /// it); `hooks` builds the `ConfigError`, whose value the npm entry renders from its copy
    /// (`masked`: the value with a URL's user-info hidden, when it had one).
    #[wasm_bindgen(constructor)]
    pub fn new(config: Vec<f64>, hooks: Hooks) -> Result<Client, JsValue> {
        let cfg = read_config(&config, &hooks)?;
        let seeded = cfg.seed.is_some();
        let seed = cfg.seed.unwrap_or(0.0) as u64;
        Ok(Client {
            engine: Engine::new(cfg, seed),
            seeded,
            identified: false,
            out: StepOut::default(),
        })
    }

    /// What the executor needs of the config: `[timeout.attemptMs, timeout.totalMs, hedging]`
    /// (NaN for `null`; hedging 1 or 0), for its abort controllers and timeout messages.
    pub fn settings(&self) -> Vec<f64> {
        let c = self.engine.config();
        vec![
            or_nan(c.timeout.attempt_ms),
            or_nan(c.timeout.total_ms),
            f64::from(u8::from(c.hedge.is_some())),
        ]
    }

    /// A call begins. `method` is upper-case, `undefined` for `GET` (no string crosses on the
    /// common path); `flags`: bit 0 an `Idempotency-Key` header, bits 1-2 the body (0 none,
    /// 1 replayable, 2 a stream).
    pub fn begin(&mut self, method: Option<String>, url: String, flags: u32, now: f64) -> usize {
        if !self.seeded {
            self.seeded = true;
            let seed = self
                .engine
                .config()
                .seed
                .map_or_else(js::random_seed, |s| s as u64);
            self.engine.reseed(seed);
        }
        let meta = RequestMeta {
            method: method.map_or(Cow::Borrowed("GET"), Cow::Owned),
            url: Cow::Owned(url),
            has_idempotency_key: flags & 1 != 0,
            body: match (flags >> 1) & 3 {
                0 => BodyKind::None,
                2 => BodyKind::Stream,
                _ => BodyKind::Replayable,
            },
        };
        let id = self.engine.begin(meta, now);
        self.step(Some(id))
    }

    /// Attempt `attempt` of `task` got its response headers: `wait` is the value of the first
    /// header that says how long to wait (`wait_kind` indexes the boundary's "wait-headers", which
    /// JS reads in that order: `Retry-After` first), `wall` the wall clock (ms since the epoch;
    /// JS reads it only when there is such a header, which may be an HTTP-date).
    // One argument per input the engine takes: numbers and a string cross wasm-bindgen without
    // an allocation, which a struct per response would need.
    #[allow(clippy::too_many_arguments)]
    pub fn response(
        &mut self,
        task: f64,
        attempt: u32,
        status: u16,
        wait_kind: u32,
        wait: Option<String>,
        now: f64,
        wall: f64,
    ) -> usize {
        let task = task_of(task);
        let wait = wait.as_deref().map(|v| (wait_kind as usize, v));
        self.engine
            .handle_response_waiting(task, attempt, status, wait, now, wall);
        self.step(None)
    }

    /// Attempt `attempt` of `task` failed without a response: `kind` indexes `Failure::ALL`,
    /// `detail` describes the error (for the message).
    pub fn failure(&mut self, task: f64, attempt: u32, kind: u32, detail: &str, now: f64) -> usize {
        let f = Failure::ALL
            .get(kind as usize)
            .copied()
            .unwrap_or(Failure::Network);
        self.engine
            .handle_failure(task_of(task), attempt, f, detail, now);
        self.step(None)
    }

    /// The retry hooks answered about attempt `attempt` of `task` (a `consult` action): `retry`
    /// 1 retry, 0 do not, -1 as the engine would; `delay` the wait they set (NaN: the engine's);
    /// `threw`: a hook failed, as this text says (then the rest is not read).
    pub fn verdict(
        &mut self,
        task: f64,
        attempt: u32,
        retry: i32,
        delay: f64,
        threw: Option<String>,
        now: f64,
    ) -> usize {
        let verdict = match threw {
            Some(text) => Verdict::Threw(text),
            None => Verdict::Answer {
                retry: (retry >= 0).then_some(retry == 1),
                delay_ms: (!delay.is_nan()).then_some(delay),
            },
        };
        self.engine
            .handle_verdict(task_of(task), attempt, verdict, now);
        self.step(None)
    }

    /// The caller aborted `task`.
    pub fn abort(&mut self, task: f64, now: f64) -> usize {
        self.engine.handle_abort(task_of(task), now);
        self.step(None)
    }

    /// The instant the last step asked to be woken at has come.
    pub fn timeout(&mut self, now: f64) -> usize {
        self.engine.handle_timeout(now);
        self.step(None)
    }

    /// The instant call `task` wants to be woken at (`Engine::poll_timeout_of`), or -1: for an
    /// executor that keeps a timer per call, where a timer belongs to the request that set it
    /// (Workers). -1 in the browsers' build, which has no such executor.
    #[wasm_bindgen(js_name = wakeOf)]
    pub fn wake_of(&self, task: f64) -> f64 {
        if !cfg!(feature = "server") {
            return -1.0;
        }
        self.engine.poll_timeout_of(task_of(task)).unwrap_or(-1.0)
    }

    /// Call `task`'s wake-up has come (`Engine::handle_timeout_of`: its timers only).
    #[wasm_bindgen(js_name = timeoutOf)]
    pub fn timeout_of(&mut self, task: f64, now: f64) -> usize {
        if cfg!(feature = "server") {
            self.engine.handle_timeout_of(task_of(task), now);
        } else {
            self.engine.handle_timeout(now);
        }
        self.step(None)
    }

    /// What the last step's actions refer to: a tape of values (a routed URL, a failed call's
    /// detail), in the order the actions name them.
    pub fn detail(&self) -> Vec<f64> {
        self.out.detail.nums.clone()
    }

    /// The events queued since the last call: a tape of one record per event.
    pub fn events(&mut self) -> Vec<f64> {
        let mut t = Tape::default();
        while let Some(ev) = self.engine.poll_event() {
            t.event(&ev);
        }
        t.nums
    }

    /// The config this client runs, as a tape: its fingerprint, then its canonical form (every
    /// field, defaults filled in) as `[path, value]` pairs. JS reads it once and reports it in
    /// `snapshot().config`.
    #[wasm_bindgen(js_name = configInfo)]
    pub fn config_info(&mut self) -> Vec<f64> {
        let c = self.engine.config_mut();
        let mut t = Tape::default();
        t.str(&crate::core::config::fingerprint_mut(c));
        crate::core::config::canonical::walk(c, &mut t);
        t.nums
    }

    /// Counters and windowed figures at `now`, as a tape (one `snapshot` record). Reads only.
    pub fn snapshot(&self, now: f64) -> Vec<f64> {
        let mut t = Tape::default();
        t.snapshot(&self.engine.snapshot(now));
        t.nums
    }

    /// Which retry hooks the client has: bit 0 `retry.shouldRetry`, bit 1 `retry.delay`.
    #[wasm_bindgen(js_name = setConsult)]
    pub fn set_consult(&mut self, mask: u32) {
        self.engine.set_consult(RetryHooks {
            should_retry: mask & 1 != 0,
            delay: mask & 2 != 0,
        });
    }

    /// Shared mode (`core::lease`): retries spend tokens leased from the executor's coordinator.
    /// The browsers' build has none (`pkg/api.js` refuses a coordinator there first).
    #[wasm_bindgen(js_name = setShared)]
    pub fn set_shared(&mut self) {
        self.engine.set_shared();
    }

    /// The lease request a step's header said waits: `[id, deposits, want, timeout]` (the
    /// engine's timer for its answer is then at `timeout`), or nothing.
    pub fn lease(&mut self, now: f64) -> Vec<f64> {
        match self.engine.poll_lease(now) {
            Some(r) => vec![
                f64::from(r.id),
                f64::from(r.deposits),
                f64::from(r.want),
                self.engine.poll_timeout().unwrap_or(-1.0),
            ],
            None => Vec::new(),
        }
    }

    /// The coordinator answered lease request `id`: `granted` tokens for `ttl` ms, or `granted`
    /// -1 when it failed.
    pub fn leased(&mut self, id: u32, granted: f64, ttl: f64, now: f64) -> usize {
        let answer = (granted >= 0.0).then_some((granted as u32, ttl));
        self.engine.handle_lease(id, answer, now);
        self.step(None)
    }

    /// A state snapshot (`core::state`) as a tape (one `state` record), at `now` and `wall`. An
    /// empty tape in the browsers' build, which has no state snapshots (`server`, Cargo.toml):
    /// there the code below is dead, and the linker drops `core::state` with it.
    #[wasm_bindgen(js_name = exportState)]
    pub fn export_state(&mut self, now: f64, wall: f64) -> Vec<f64> {
        let mut t = Tape::default();
        if cfg!(feature = "server") {
            self.identify();
            t.state(&self.engine.export_state(now, wall));
        }
        t.nums
    }

    /// Merges a state (`state`: a tape of the lists `pkg/state.js` makes of it); a tape of one
    /// `state-merged` record. With `apply` false it is only checked (the clock aside: `now` and
    /// `wall` unused), and the tape is empty. A state that cannot be taken throws the
    /// `StateError` `hooks` builds, and changes nothing.
    ///
    /// A list of two states is a store's join instead (`pkg/join.js`): `State::join_checked` at
    /// `wall`, this client untouched, a tape of one `state` record. It comes through here rather
    /// than through an export of its own because both builds share one JS glue: a new export
    /// would add its glue to every browser bundle, for a join no browser makes.
    #[wasm_bindgen(js_name = mergeState)]
    pub fn merge_state(
        &mut self,
        state: Vec<f64>,
        now: f64,
        wall: f64,
        hooks: &Hooks,
        apply: bool,
    ) -> Result<Vec<f64>, JsValue> {
        if !cfg!(feature = "server") {
            return Err(hooks.state_error("", "a state", NO_STATE));
        }
        let malformed = || JsValue::from_str("ballast: internal: the state tape is malformed");
        let v = crate::boundary::read_value(&state).ok_or_else(malformed)?;
        let err = |e: StateError| hooks.state_error(&e.path, &e.value, &e.allowed);
        let mut t = Tape::default();
        if let Value::List(two) = &v {
            if let [a, b] = two.as_slice() {
                let read = |x: &Value| State::from_lists(x).ok_or_else(malformed);
                t.state(&State::join_checked(read(a)?, read(b)?, wall).map_err(err)?);
                return Ok(t.nums);
            }
        }
        let s = State::from_lists(&v).ok_or_else(malformed)?;
        if apply {
            self.identify();
            t.merged(&self.engine.merge_state(s, now, wall).map_err(err)?);
        } else {
            self.engine.check_state(&s, f64::INFINITY).map_err(err)?;
        }
        Ok(t.nums)
    }

    /// Runs the routes of `config` (a tape of plain data: `{ routes }`), read and checked as a
    /// config is (the same `ConfigError`s), from `now` on.
    #[wasm_bindgen(js_name = setRoutes)]
    pub fn set_routes(&mut self, config: Vec<f64>, now: f64, hooks: &Hooks) -> Result<(), JsValue> {
        if !cfg!(feature = "server") {
            return Err(hooks.config_error("routes", NO_SET_ROUTES, None));
        }
        let cfg = read_config(&config, hooks)?;
        self.engine.set_routes(cfg.routes, now);
        Ok(())
    }

    /// Which event kinds have listeners (bit i = `core::events::KINDS[i]`), so no event is
    /// built for kinds nobody listens to.
    #[wasm_bindgen(js_name = setListening)]
    pub fn set_listening(&mut self, mask: u32) {
        self.engine.set_listening(mask);
    }
}

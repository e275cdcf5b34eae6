//! The thin driver: binds the sans-IO engine to JS.
//!
//! The engine's steps are exported one by one (`tasks.rs`) to the attempt loop in
//! `pkg/driver.js`, which calls the *global* `fetch` (looked up at call time, never `window`) or
//! the user's `transport` and owns every timer and listener. This side reads config by hand
//! (`read.rs`) and hands events and snapshots to JS as plain objects (`to_js.rs`). Nothing runs at
//! module scope: Workers forbid timers, random values and I/O there, so the RNG is seeded on the
//! first call, not at construction.

use crate::prelude::*;
mod config;
mod js;
mod panic;
mod read;
mod tasks;
mod to_js;

use crate::core::{Engine, Task};
use core::cell::{Cell, RefCell, RefMut};
use js::Hooks;
use wasm_bindgen::prelude::*;

/// The message of the last Rust panic, so the npm entry can turn an opaque `unreachable` trap into
/// a `BallastError` with code `INTERNAL` that says what went wrong. UTF-8 bytes, which JS decodes:
/// checking them here would inline `str::from_utf8` (0.9 KB of wasm) for a message read once.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<Vec<u8>> {
    panic::take_note()
}

/// The event kinds listeners can subscribe to, comma-separated, in listening-mask bit order
/// (`core::events::KINDS`), so the JS side never keeps its own copy.
#[wasm_bindgen(js_name = eventKinds)]
pub fn event_kinds() -> String {
    join(&crate::core::events::KINDS, ",")
}

/// `parts.join(sep)` without `join`'s generic, separator-specialised copy loop: one small
/// non-generic function instead of ~1.2 KB of wasm per element type.
pub(crate) fn join(parts: &[&str], sep: &str) -> String {
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(p);
    }
    out
}

pub(crate) struct Inner {
    engine: RefCell<Engine>,
    seeded: Cell<bool>,
    hooks: Hooks,
    /// Tasks between `begin` and `finish`, by handle (`tasks.rs`); `free` lists unused handles.
    tasks: RefCell<Vec<Option<Task>>>,
    free: RefCell<Vec<u32>>,
    /// The URL of the attempt just planned, when routing chose one (`planUrl`).
    plan_url: RefCell<Option<String>>,
}

impl Inner {
    /// Borrows the engine; `seed` seeds the RNG on first use (never at module scope).
    fn engine(&self, seed: bool) -> RefMut<'_, Engine> {
        let mut e = self.engine.borrow_mut();
        if seed && !self.seeded.get() {
            self.seeded.set(true);
            let s = e.config().seed.unwrap_or_else(js::random_seed);
            e.reseed(s as u64);
        }
        e
    }

    /// Tells the JS driver which queued attempts were granted a slot and hands queued events to
    /// JS listeners, after the engine borrow is released (a listener may call `snapshot()` or
    /// start another call).
    fn after(&self) {
        if !self.engine.borrow().has_output() {
            return;
        }
        let (events, granted) = {
            let mut e = self.engine.borrow_mut();
            (e.take_events(), e.take_granted())
        };
        for t in granted {
            self.hooks.granted(t as f64);
        }
        for ev in events {
            self.hooks.emit(ev.kind(), to_js::event(&ev));
        }
    }
}

/// One wrapped fetch's engine (budget, RNG, metrics) and its tasks. The attempt loop, with its
/// transport, timers and signals, is `pkg/driver.js`.
#[wasm_bindgen]
pub struct Client {
    inner: Inner,
}

#[wasm_bindgen]
impl Client {
    /// `config` is a plain object (without `transport`), `hooks` the npm entry's hook object.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, hooks: Hooks) -> Result<Client, JsValue> {
        let cfg = config::parse(&config, &hooks)?;
        let seeded = cfg.seed.is_some();
        let seed = cfg.seed.unwrap_or(0.0) as u64;
        Ok(Client {
            inner: Inner {
                engine: RefCell::new(Engine::new(cfg, seed)),
                seeded: Cell::new(seeded),
                hooks,
                tasks: RefCell::new(Vec::new()),
                free: RefCell::new(Vec::new()),
                plan_url: RefCell::new(None),
            },
        })
    }

    /// A plain, JSON-serialisable snapshot of counters and windowed figures.
    pub fn snapshot(&self, now: f64) -> JsValue {
        let snap = self.inner.engine.borrow_mut().snapshot(now);
        to_js::snapshot_of(&snap)
    }

    /// Which event kinds have listeners (bit i = `core::events::KINDS[i]`), so no event is
    /// built for kinds nobody listens to.
    #[wasm_bindgen(js_name = setListening)]
    pub fn set_listening(&self, mask: u32) {
        self.inner.engine.borrow_mut().set_listening(mask);
    }
}

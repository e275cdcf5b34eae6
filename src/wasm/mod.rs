//! The thin driver: binds the sans-IO engine to JS.
//!
//! It calls the *global* `fetch` (looked up at call time, never `window`) or the user's
//! `transport`, sleeps with timers that are cleared on drop, and converts config, events and
//! snapshots with serde-wasm-bindgen. Nothing runs at module scope: Workers forbid timers, random
//! values and I/O there, so the RNG is seeded on the first call, not at construction.

mod config;
mod js;
mod task;
mod timer;

use crate::core::Engine;
use js::Hooks;
use std::cell::{RefCell, RefMut};
use std::rc::Rc;
use wasm_bindgen::prelude::*;

thread_local! {
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The message of the last Rust panic, so the npm entry can turn an opaque `unreachable` trap into
/// a `BallastError` with code `INTERNAL` that says what went wrong.
#[wasm_bindgen(js_name = lastPanic)]
pub fn last_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow_mut().take())
}

fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
        }));
    });
}

/// Event kinds listeners can subscribe to; bit i of the listener mask is `EVENT_KINDS[i]`.
const EVENT_KINDS: [&str; 2] = ["retry", "giveup"];

pub(crate) struct Inner {
    engine: RefCell<Engine>,
    seeded: std::cell::Cell<bool>,
    listening: std::cell::Cell<u32>,
    hooks: Hooks,
    transport: JsValue,
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

    /// Hands queued events to JS listeners, after the engine borrow is released (a listener may
    /// call `snapshot()` or start another call).
    fn deliver_events(&self) {
        if !self.engine.borrow().has_events() {
            return;
        }
        let events = self.engine.borrow_mut().take_events();
        let mask = self.listening.get();
        let ser = serde_wasm_bindgen::Serializer::json_compatible();
        for ev in events {
            let kind = ev.kind();
            let bit = EVENT_KINDS.iter().position(|k| *k == kind).unwrap_or(31);
            if mask & (1 << bit) == 0 {
                continue;
            }
            let payload = match &ev {
                crate::core::Event::Retry(e) => serde::Serialize::serialize(e, &ser),
                crate::core::Event::GiveUp(e) => serde::Serialize::serialize(e, &ser),
            };
            if let Ok(p) = payload {
                self.hooks.emit(kind, p);
            }
        }
    }
}

/// One wrapped fetch: its engine (budget, RNG, metrics) and its transport.
#[wasm_bindgen]
pub struct Client {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl Client {
    /// `config` is a plain object (without `transport`), `hooks` the npm entry's hook object,
    /// `transport` a fetch-like function or `null` for the global `fetch`.
    #[wasm_bindgen(constructor)]
    pub fn new(config: JsValue, hooks: Hooks, transport: JsValue) -> Result<Client, JsValue> {
        install_panic_hook();
        let cfg = config::parse(&config, &hooks)?;
        let seeded = cfg.seed.is_some();
        let seed = cfg.seed.unwrap_or(0.0) as u64;
        Ok(Client {
            inner: Rc::new(Inner {
                engine: RefCell::new(Engine::new(cfg, seed)),
                seeded: std::cell::Cell::new(seeded),
                listening: std::cell::Cell::new(0),
                hooks,
                transport,
            }),
        })
    }

    /// Runs one task; resolves with the final `Response` or rejects (see the README).
    pub fn fetch(&self, input: JsValue, init: JsValue) -> js_sys::Promise {
        let inner = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(task::run(inner, input, init))
    }

    /// A plain, JSON-serialisable snapshot of counters and windowed figures.
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        let snap = self.inner.engine.borrow_mut().snapshot(js::now());
        let ser = serde_wasm_bindgen::Serializer::json_compatible();
        serde::Serialize::serialize(&snap, &ser).map_err(JsValue::from)
    }

    /// Which event kinds have listeners (bit i = `EVENT_KINDS[i]`), so no payload is built for
    /// events nobody listens to.
    #[wasm_bindgen(js_name = setListening)]
    pub fn set_listening(&self, mask: u32) {
        self.inner.listening.set(mask);
    }
}

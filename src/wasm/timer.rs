//! Futures over JS timers, promises and abort signals that clean up after themselves.
//!
//! Why this matters: a Worker or a test runner notices a timer left behind, and a long-lived
//! `AbortSignal` with a listener per call leaks. Dropping a `Sleep` clears its timer; dropping an
//! `AbortWait` removes its listener; dropping a `Settled` forgets its promise. The task loop holds
//! them only while it waits, so when a call settles, every timer and listener it made is gone.
//!
//! Why one shared callback instead of a `Closure` per wait: every wasm-bindgen `Closure` is a new
//! JS function registered with a FinalizationRegistry, about a microsecond each on Node, and a call
//! used to make four (a timer, the attempt's promise twice, the abort listener). Instead every
//! wait takes a numbered slot here, and the JS side calls the one `CALLBACK` with the slot's key.
//! A key carries the slot's generation, so a late callback for a slot since freed (a promise that
//! settles after its call ended) finds nothing and is ignored.

use super::js;
use js_sys::{Function, Promise};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A one-shot signal: set once, wakes its waiter.
#[derive(Default)]
pub struct Flag {
    set: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Flag {
    pub fn fire(&self) {
        self.set.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.set.get() {
            Poll::Ready(())
        } else {
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// What a slot receives: its flag fires, with the settled value of a promise.
#[derive(Default)]
struct Slot {
    flag: Flag,
    value: RefCell<Option<Result<JsValue, JsValue>>>,
}

/// Live slots by index; `gens[i]` counts reuses of index `i`.
#[derive(Default)]
struct Slots {
    live: Vec<Option<Rc<Slot>>>,
    gens: Vec<u32>,
    free: Vec<usize>,
}

/// A slot's key as JS sees it: index + generation x 2^32 (exact in an f64).
fn key_of(index: usize, gen: u32) -> f64 {
    index as f64 + gen as f64 * 4_294_967_296.0
}

thread_local! {
    static SLOTS: RefCell<Slots> = RefCell::default();
    /// Made on first use (never at module scope) and kept for the life of the instance.
    static CALLBACK: Closure<dyn FnMut(f64, JsValue, bool)> = Closure::new(ring);
}

/// Called by JS when the slot `key` is due: a timer ran out, a signal aborted, or a promise
/// settled with `value` (`ok` false when it rejected).
fn ring(key: f64, value: JsValue, ok: bool) {
    let index = (key % 4_294_967_296.0) as usize;
    let gen = (key / 4_294_967_296.0) as u32;
    let slot = SLOTS.with(|s| {
        let s = s.borrow();
        match (s.live.get(index), s.gens.get(index)) {
            (Some(Some(slot)), Some(&g)) if g == gen => Some(slot.clone()),
            _ => None,
        }
    });
    if let Some(slot) = slot {
        *slot.value.borrow_mut() = Some(if ok { Ok(value) } else { Err(value) });
        slot.flag.fire();
    }
}

/// A registered slot; frees itself when dropped.
struct Registered {
    index: usize,
    key: f64,
    slot: Rc<Slot>,
}

impl Registered {
    fn new() -> Registered {
        let slot = Rc::new(Slot::default());
        let (index, key) = SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            let index = match s.free.pop() {
                Some(i) => {
                    s.gens[i] = s.gens[i].wrapping_add(1);
                    s.live[i] = Some(slot.clone());
                    i
                }
                None => {
                    s.live.push(Some(slot.clone()));
                    s.gens.push(0);
                    s.live.len() - 1
                }
            };
            (index, key_of(index, s.gens[index]))
        });
        Registered { index, key, slot }
    }

    fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        self.slot.flag.poll(cx)
    }

    fn fired(&self) -> bool {
        self.slot.flag.set.get()
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        SLOTS.with(|s| {
            let mut s = s.borrow_mut();
            s.live[self.index] = None;
            s.free.push(self.index);
        });
    }
}

/// Runs `f` with the shared JS callback.
fn with_callback<R>(f: impl FnOnce(&Function) -> R) -> R {
    CALLBACK.with(|c| f(c.as_ref().unchecked_ref()))
}

/// Resolves after `ms`; clears its timer when dropped.
pub struct Sleep {
    reg: Registered,
    id: JsValue,
}

impl Sleep {
    pub fn new(ms: f64) -> Sleep {
        let reg = Registered::new();
        let id = with_callback(|cb| js::set_timer(cb, ms.max(0.0), reg.key));
        Sleep { reg, id }
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.reg.poll(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if !self.reg.fired() {
            js::clear_timer(&self.id);
        }
    }
}

/// Resolves with the outcome of a JS promise (what `JsFuture` does, without two closures each).
pub struct Settled {
    reg: Registered,
}

impl Settled {
    pub fn new(promise: &Promise) -> Settled {
        let reg = Registered::new();
        with_callback(|cb| js::on_settle(promise, cb, reg.key));
        Settled { reg }
    }
}

impl Future for Settled {
    type Output = Result<JsValue, JsValue>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.reg.poll(cx) {
            Poll::Ready(()) => match self.reg.slot.value.borrow_mut().take() {
                Some(v) => Poll::Ready(v),
                // Polled again after it returned its value: it stays settled, with nothing new.
                None => Poll::Pending,
            },
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Resolves when the signal aborts (never, without a signal); removes its listener when dropped.
pub struct AbortWait {
    /// The slot, the signal and the JS listener added to it; `None` without a signal.
    listening: Option<(Registered, JsValue, JsValue)>,
}

impl AbortWait {
    pub fn new(signal: Option<JsValue>) -> AbortWait {
        let listening = signal.map(|s| {
            let reg = Registered::new();
            let listener = with_callback(|cb| js::on_abort(&s, cb, reg.key));
            (reg, s, listener)
        });
        AbortWait { listening }
    }
}

impl Future for AbortWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &self.listening {
            Some((reg, _, _)) => reg.poll(cx),
            None => Poll::Pending,
        }
    }
}

impl Drop for AbortWait {
    fn drop(&mut self) {
        if let Some((_, s, listener)) = &self.listening {
            js::off_abort(s, listener);
        }
    }
}

/// Polls an optional future: `None` never completes.
pub fn poll_opt<F: Future + Unpin>(f: &mut Option<F>, cx: &mut Context<'_>) -> Poll<F::Output> {
    match f {
        Some(f) => Pin::new(f).poll(cx),
        None => Poll::Pending,
    }
}

/// Resolves when its flag fires (a concurrency slot was granted to this ticket).
pub struct Grant {
    pub flag: Rc<Flag>,
}

impl Future for Grant {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.flag.poll(cx)
    }
}

//! Futures over JS timers and abort signals that clean up after themselves.
//!
//! Why this matters: a Worker or a test runner notices a timer left behind, and a long-lived
//! `AbortSignal` with a listener per call leaks. Dropping a `Sleep` clears its timer; dropping an
//! `AbortWait` removes its listener. The task loop holds them only while it waits, so when a call
//! settles, every timer and listener it made is gone.

use super::js;
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

/// Resolves after `ms`; clears its timer when dropped.
pub struct Sleep {
    flag: Rc<Flag>,
    id: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Sleep {
    pub fn new(ms: f64) -> Sleep {
        let flag = Rc::new(Flag::default());
        let f = flag.clone();
        let callback = Closure::<dyn FnMut()>::new(move || f.fire());
        let id = js::set_timer(callback.as_ref().unchecked_ref(), ms.max(0.0));
        Sleep {
            flag,
            id,
            _callback: callback,
        }
    }
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.flag.poll(cx)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if !self.flag.set.get() {
            js::clear_timer(&self.id);
        }
    }
}

/// Resolves when the signal aborts (never, without a signal); removes its listener when dropped.
pub struct AbortWait {
    flag: Rc<Flag>,
    signal: Option<JsValue>,
    listener: Option<Closure<dyn FnMut()>>,
}

impl AbortWait {
    pub fn new(signal: Option<JsValue>) -> AbortWait {
        let flag = Rc::new(Flag::default());
        let listener = signal.as_ref().map(|s| {
            let f = flag.clone();
            let cb = Closure::<dyn FnMut()>::new(move || f.fire());
            js::on_abort(s, cb.as_ref().unchecked_ref());
            cb
        });
        AbortWait {
            flag,
            signal,
            listener,
        }
    }
}

impl Future for AbortWait {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.flag.poll(cx)
    }
}

impl Drop for AbortWait {
    fn drop(&mut self) {
        if let (Some(s), Some(cb)) = (&self.signal, &self.listener) {
            js::off_abort(s, cb.as_ref().unchecked_ref());
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

//! The wasm build's allocator and panic handler (the crate is `no_std` there; see `lib.rs`).
//!
//! A panic is a bug in ballast. The handler notes where it happened and traps; `pkg/api.js` turns
//! the trap into a `BallastError` with code `INTERNAL` whose message carries this note (read with
//! `lastPanic`). The note is written into a fixed buffer, without allocating (the panic may have
//! come from the allocator) and without `core::fmt` (formatting the message would keep every
//! `Debug` impl a panic site names in the module): the location, and the message when it is a
//! literal, as `panic!("...")` and `Option::unwrap` give (`expect` formats its message, so the
//! engine's own checks use `panic!` with a literal).

use core::cell::UnsafeCell;
#[cfg(not(any(test, feature = "std")))]
use core::panic::PanicInfo;

/// talc, not dlmalloc (what std uses on wasm32): smaller, and as fast per call (bench/RESULTS.md).
/// `TalckWasm` grows the heap with `memory.grow`; under a long mixed load it levels off
/// (`tests/js/heap.test.mjs`).
#[global_allocator]
// SAFETY: wasm32-unknown-unknown without the atomics feature is single-threaded, which is what
// `new_global`'s lock (none) requires.
static ALLOC: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };

const CAP: usize = 512;

/// The last panic's note. wasm32-unknown-unknown without the atomics feature is single-threaded,
/// and nothing else touches the buffer while the handler runs.
struct Note(UnsafeCell<([u8; CAP], usize)>);
unsafe impl Sync for Note {}
static NOTE: Note = Note(UnsafeCell::new(([0; CAP], 0)));

#[cfg(not(any(test, feature = "std")))]
#[panic_handler]
fn on_panic(info: &PanicInfo) -> ! {
    // SAFETY: single-threaded (see `Note`); no reference to the buffer outlives this function.
    let (buf, len) = unsafe { &mut *NOTE.0.get() };
    let mut w = Writer { buf, len: 0 };
    w.push("panicked");
    if let Some(l) = info.location() {
        w.push(" at ");
        w.push(l.file());
        w.push(":");
        w.num(l.line());
        w.push(":");
        w.num(l.column());
    }
    if let Some(m) = info.message().as_str() {
        w.push(": ");
        w.push(m);
    }
    *len = w.len;
    core::arch::wasm32::unreachable()
}

/// The last panic's note (UTF-8), once (`None` when there was none since the last call).
pub(crate) fn take_note() -> Option<alloc::vec::Vec<u8>> {
    // SAFETY: as in `on_panic`; called from JS after the trap, never during the handler.
    let (buf, len) = unsafe { &mut *NOTE.0.get() };
    if *len == 0 {
        return None;
    }
    let note = buf[..*len].to_vec();
    *len = 0;
    Some(note)
}

#[cfg(not(any(test, feature = "std")))]
struct Writer<'a> {
    buf: &'a mut [u8; CAP],
    len: usize,
}

#[cfg(not(any(test, feature = "std")))]
impl Writer<'_> {
    /// Whole characters only, so the note stays valid UTF-8 when it is cut at `CAP`.
    fn push(&mut self, s: &str) {
        let mut n = s.len().min(CAP - self.len);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.bytes(&s.as_bytes()[..n]);
    }

    fn bytes(&mut self, s: &[u8]) {
        for &b in s {
            if self.len == CAP {
                return;
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    fn num(&mut self, n: u32) {
        self.bytes(crate::core::text::decimal(u64::from(n), &mut [0; 20]));
    }
}

//! ballast's tools build: the simulator, `rehearse`, and the drift tools (fingerprint, diff,
//! lint), as a wasm module of their own (`ballast-fetch/sim` and `ballast-fetch/drift` in the npm
//! package), so an app that only wraps fetch never downloads them.
//!
//! The simulator itself is the engine crate's (`ballast_fetch::sim`, on the very engine users
//! ship); this crate is its front door from plain data: scenarios, options and configs come in
//! as JSON or JS values (`input`, with the path of every bad field), runs go out as plain data,
//! and `rehearse` judges a config against scenarios next to the naive policy. Those parts are
//! ordinary Rust, tested natively; `wasm` binds them to JS with serde-wasm-bindgen, paces
//! playback with gloo-timers (`play`), draws the per-call raster into a canvas with web-sys
//! (`raster`), and seeds with getrandom.

pub mod diff;
pub mod input;
pub mod lint;
pub mod rehearse;
pub mod schema;

#[cfg(target_arch = "wasm32")]
mod drift;
#[cfg(target_arch = "wasm32")]
mod play;
#[cfg(target_arch = "wasm32")]
mod raster;
#[cfg(target_arch = "wasm32")]
mod wasm;

/// talc, not dlmalloc (std's on wasm32): the simulator allocates and frees a call's box and
/// lists for thousands of calls in progress, and talc's free lists take less per call there.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
// SAFETY: wasm32-unknown-unknown without the atomics feature is single-threaded, which is what
// `new_global`'s lock (none) requires.
static ALLOC: talc::TalckWasm = unsafe { talc::TalckWasm::new_global() };

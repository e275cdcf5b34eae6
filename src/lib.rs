//! ballast: a resilience layer for `fetch`.
//!
//! `core` is the sans-IO engine (budgets, backoff, Retry-After, metrics); `wasm` binds it to the
//! JS `fetch` of whatever runtime loads the module. See README.md for the design.
//!
//! The wasm build is `no_std` (core + alloc): std's panic machinery (the hook, payload formatting
//! and the `Debug` impls it reaches) was 18 KB of the 138 KB module, and nothing in a browser or
//! worker can read what it prints. Native builds (tests, benches, the simulator) keep std.

#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

pub mod core;

#[cfg(target_arch = "wasm32")]
mod wasm;

/// What the std prelude gives and `no_std` does not, for every module of the crate. `format!` is
/// left out on purpose: messages are built with `cat!` (see `core::text`).
#[doc(hidden)]
pub mod prelude {
    pub use crate::cat;
    pub use crate::core::math::F64Ext;
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

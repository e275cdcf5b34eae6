//! ballast: a resilience layer for `fetch`.
//!
//! `core` is the sans-IO engine (it owns every call: budgets, backoff, deadlines, routes, the
//! limiter, metrics); `virtual_time` drives it in virtual time (tests, the simulator);
//! `boundary` declares what crosses to JS; `wasm` binds it to the JS executor of whatever runtime
//! loads the module. ARCHITECTURE.md has the map.
//!
//! The wasm build is `no_std` (core + alloc): std's panic machinery (the hook, payload formatting
//! and the `Debug` impls it reaches) is a large share of a module this size, and nothing in a
//! browser or worker can read what it prints. Native builds (tests, benches) keep std.

// The lib's own tests link std on wasm too (`wasm-pack test`): std brings the panic handler then,
// and `wasm/panic.rs` leaves its own out, as it does with the `std` feature (Cargo.toml).
#![cfg_attr(all(target_arch = "wasm32", not(test)), no_std)]
// With std in the build, std's inherent float methods shadow `F64Ext`'s, so its imports go unused.
#![cfg_attr(
    all(target_arch = "wasm32", any(test, feature = "std")),
    allow(unused_imports)
)]

extern crate alloc;

pub mod boundary;
pub mod core;
pub mod sim;
pub mod virtual_time;

#[cfg(all(target_arch = "wasm32", feature = "binding"))]
mod wasm;

/// What the std prelude gives and `no_std` does not, for every module of the crate. `format!` is
/// left out on purpose: messages are built with `cat!` (see `core::text`).
#[doc(hidden)]
pub mod prelude {
    pub use crate::cat;
    pub use crate::core::math::F64Ext;
    pub use alloc::borrow::ToOwned;
    pub use alloc::boxed::Box;
    pub use alloc::rc::Rc;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec;
    pub use alloc::vec::Vec;
}

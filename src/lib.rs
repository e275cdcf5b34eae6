//! ballast: a resilience layer for `fetch`.
//!
//! `core` is the sans-IO engine (budgets, backoff, Retry-After, metrics); `wasm` binds it to the
//! JS `fetch` of whatever runtime loads the module. See README.md for the design.

pub mod core;

#[cfg(target_arch = "wasm32")]
mod wasm;

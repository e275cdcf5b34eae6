//! The sans-IO engine. Pure Rust and deterministic: time comes in as an argument (ms, monotonic),
//! randomness from a seeded RNG. No JS bindings, clocks or I/O live here, so the same code runs in
//! every JS runtime through `crate::wasm` and natively in tests and the simulator.

pub mod action;
pub mod adaptive;
pub mod backoff;
pub mod budget;
pub mod call;
pub mod config;
pub mod counts;
pub mod engine;
pub mod events;
pub mod fifo;
pub mod fnv;
pub mod lease;
pub mod limiter;
pub mod math;
pub mod metrics;
pub mod policy;
pub mod pressure;
pub mod print;
pub mod redact;
pub mod retry_after;
pub mod route;
pub mod routing;
pub mod sketch;
pub mod sort;
pub mod state;
pub mod tasks;
pub mod text;
pub mod timers;
pub mod url;
pub mod value;
pub mod window;

pub use action::{
    AbortReason, Action, Cause, ErrorCode, Failed, Failure, Settlement, Start, Verdict,
};
pub use call::{AttemptOutcome, AttemptRecord};
pub use config::{Config, ConfigError};
pub use engine::{Engine, RetryHooks};
pub use events::Event;
pub use limiter::ShedReason;
pub use policy::{BodyKind, GiveUpReason, RequestMeta};
pub use tasks::TaskId;

//! The sans-IO engine. Pure Rust and deterministic: time comes in as an argument (ms, monotonic),
//! randomness from a seeded RNG. No JS bindings, clocks or I/O live here, so the same code runs in
//! every JS runtime through `crate::wasm` and natively in tests and the simulator.

pub mod adaptive;
pub mod backoff;
pub mod budget;
pub mod config;
pub mod counts;
pub mod engine;
pub mod events;
pub mod limiter;
pub mod math;
pub mod metrics;
pub mod policy;
pub mod pressure;
pub mod redact;
pub mod retry_after;
pub mod route;
pub mod routing;
pub mod sketch;
pub mod sort;
pub mod text;
pub mod window;

pub use config::{Config, ConfigError};
pub use engine::{Decision, Engine, Outcome, Plan, Task};
pub use events::Event;
pub use limiter::{Admit, ShedReason, Ticket};
pub use policy::{BodyKind, GiveUpReason, RequestMeta};

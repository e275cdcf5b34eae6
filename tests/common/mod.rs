//! Helpers shared by the engine's integration tests: they drive the engine through the virtual-time
//! executor (`ballast_fetch::virtual_time`), the same way the JS executor does in every runtime.
#![allow(dead_code)]

use ballast_fetch::core::{BodyKind, Config, Engine, RequestMeta, Settlement, Start};
use ballast_fetch::virtual_time::{Executor, Reply};

/// A request with no body.
pub fn request(method: &str, url: &str) -> RequestMeta {
    RequestMeta {
        method: method.to_string().into(),
        url: url.to_string().into(),
        has_idempotency_key: false,
        body: BodyKind::None,
    }
}

pub fn get(url: &str) -> RequestMeta {
    request("GET", url)
}

/// Every event kind listened to.
pub const ALL_EVENTS: u32 = u32::MAX;

/// An engine for `cfg` (validated here), listening to every event.
pub fn engine(cfg: Config, seed: u64) -> Engine {
    let mut e = Engine::new(cfg.validated().expect("a valid config"), seed);
    e.set_listening(ALL_EVENTS);
    e
}

/// An origin from a closure of the attempt number (1 for the first) to (latency, reply).
pub type Scripted = Box<dyn FnMut(&Start, &str, f64) -> (f64, Reply)>;

pub fn scripted(mut f: impl FnMut(u32) -> (f64, Reply) + 'static) -> Scripted {
    Box::new(move |s: &Start, _: &str, _: f64| f(s.attempt))
}

pub fn exec(cfg: Config, seed: u64, origin: Scripted) -> Executor<Scripted> {
    Executor::new(engine(cfg, seed), origin)
}

/// The attempt a call settled with a response of, if it did.
pub fn response_of(s: Option<&Settlement>) -> Option<u32> {
    match s {
        Some(Settlement::Response { attempt }) => Some(*attempt),
        _ => None,
    }
}

/// Runs until call `key` has settled, in steps of 1 ms of virtual time, and no further: unlike
/// `Executor::run`, the clock does not go on to the pressure tick (up to a second later), so calls
/// made one after the other follow each other as closely as the engine lets them.
pub fn settle<O: ballast_fetch::virtual_time::Origin>(ex: &mut Executor<O>, key: u64) {
    for _ in 0..10_000_000 {
        if ex.calls.get(&key).is_some_and(|c| c.settled.is_some()) {
            return;
        }
        let t = ex.now() + 1.0;
        ex.run_until(t);
    }
    panic!("call {key} did not settle");
}

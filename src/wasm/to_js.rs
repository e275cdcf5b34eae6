//! Snapshots, events and attempt records as plain JS objects (shapes: `pkg/index.d.ts`).
//!
//! Why by hand and not with serde-wasm-bindgen: the generic serialiser (plus serde's derives in
//! the core) cost ~13 KB of wasm and half of `snapshot()`'s time, for a dozen fixed shapes.
//! Here each object is one call into `objects.js` with positional numbers and strings: the keys
//! live in JS source, not in the wasm, and no key is set through `Reflect` one at a time. The core
//! stays serde-free; this module only reads its structs' fields. Counters (`u64`) become numbers,
//! as before (they stay far below 2^53). Measured against `Object::new` + `Reflect::set` per key:
//! that was ~0.5 KB larger and ~35 µs per snapshot instead of ~5.

use super::join;
use crate::core::counts::Counts;
use crate::core::engine::AttemptRecord;
use crate::core::metrics::{Quantiles, Snapshot};
use crate::core::pressure::PressureSnapshot;
use crate::core::Event;
use crate::prelude::*;
use js_sys::Array;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/wasm/objects.js")]
extern "C" {
    fn map(keys: &str, values: &[f64]) -> JsValue;
    fn quantiles(p50: f64, p95: f64, p99: f64, max: f64, count: f64) -> JsValue;
    #[allow(clippy::too_many_arguments)]
    fn pressure(
        level: f64,
        state: &str,
        trend: f64,
        drivers: &str,
        tail_latency: f64,
        queue_wait: f64,
        retry_density: f64,
        budget_drain: f64,
    ) -> JsValue;
    #[allow(clippy::too_many_arguments)]
    fn route(
        name: &str,
        state: &str,
        score: f64,
        success_rate: f64,
        p50: f64,
        p95: f64,
        p99: f64,
        variance: f64,
        attempts: f64,
        failures: f64,
        ejections: u32,
        credentials_stripped: f64,
    ) -> JsValue;
    #[allow(clippy::too_many_arguments)]
    fn snapshot(
        numbers: &[f64],
        giveups: JsValue,
        shed_by_reason: JsValue,
        latency: JsValue,
        attempt_latency: JsValue,
        queue_wait: JsValue,
        pressure: JsValue,
        routes: Array,
        fallback_by_reason: JsValue,
        fallback_active: bool,
        fallback_is_default: bool,
    ) -> JsValue;
    #[wasm_bindgen(js_name = attemptRecord)]
    fn attempt_record_js(
        attempt: u32,
        outcome: &str,
        status: Option<u16>,
        duration_ms: f64,
        route: Option<&str>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = retryEvent)]
    fn retry_event(attempt: u32, delay_ms: f64, reason: &str, method: &str, url: &str) -> JsValue;
    #[wasm_bindgen(js_name = giveUpEvent)]
    fn give_up_event(reason: &str, attempts: u32, method: &str, url: &str) -> JsValue;
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = shedEvent)]
    fn shed_event(
        reason: &str,
        attempt: u32,
        waited_ms: f64,
        queued: u32,
        in_flight: u32,
        limit: Option<u32>,
        method: &str,
        url: &str,
    ) -> JsValue;
    #[wasm_bindgen(js_name = pressureEvent)]
    fn pressure_event(state: &str, previous: &str, level: f64, drivers: &str) -> JsValue;
    #[wasm_bindgen(js_name = attemptEvent)]
    fn attempt_event(
        attempt: u32,
        outcome: &str,
        status: Option<u16>,
        duration_ms: f64,
        method: &str,
        url: &str,
    ) -> JsValue;
    #[wasm_bindgen(js_name = ejectEvent)]
    fn eject_event(route: &str, reason: &str, ejections: u32, duration_ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = restoreEvent)]
    fn restore_event(route: &str, reason: &str, ejected_for_ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = fallbackEvent)]
    fn fallback_event(
        reason: &str,
        route: &str,
        from: Option<&str>,
        method: &str,
        url: &str,
    ) -> JsValue;
    #[wasm_bindgen(js_name = fallbackDefaultEvent)]
    fn fallback_default_event(is_default: bool, share: f64) -> JsValue;
    #[wasm_bindgen(js_name = hedgeEvent)]
    fn hedge_event(
        route: Option<&str>,
        from: Option<&str>,
        after_ms: f64,
        method: &str,
        url: &str,
    ) -> JsValue;
}

/// A map of counters as an object, keys in the map's (sorted) order. Keys are the core's reason
/// strings, which never contain a comma.
fn counts(m: &Counts) -> JsValue {
    let keys: Vec<&str> = m.iter().map(|(k, _)| k).collect();
    let values: Vec<f64> = m.values().map(|v| *v as f64).collect();
    map(&join(&keys, ","), &values)
}

fn quants(q: &Quantiles) -> JsValue {
    quantiles(q.p50, q.p95, q.p99, q.max, q.count as f64)
}

fn pressure_of(p: &PressureSnapshot) -> JsValue {
    let c = &p.components;
    pressure(
        p.level,
        p.state.as_str(),
        p.trend,
        &join(&p.drivers, ","),
        c.tail_latency,
        c.queue_wait,
        c.retry_density,
        c.budget_drain,
    )
}

/// What `fetch.snapshot()` returns.
pub fn snapshot_of(s: &Snapshot) -> JsValue {
    let routes = Array::new();
    for r in &s.routes {
        routes.push(&route(
            &r.name,
            r.state,
            r.score,
            r.success_rate,
            r.latency.p50,
            r.latency.p95,
            r.latency.p99,
            r.variance,
            r.attempts as f64,
            r.failures as f64,
            r.ejections,
            r.credentials_stripped as f64,
        ));
    }
    let numbers = [
        s.tasks as f64,
        s.active_tasks as f64,
        s.in_flight as f64,
        s.queued as f64,
        s.limit.map_or(f64::NAN, f64::from),
        s.attempts as f64,
        s.retries as f64,
        s.retry_density,
        s.window_ms,
        s.shed.total as f64,
        s.budget.balance as f64,
        s.budget.exhausted as f64,
        s.budget.reserve as f64,
        s.switches.total as f64,
        s.switches.denied as f64,
        s.hedges.sent as f64,
        s.hedges.won as f64,
        s.hedges.budget_exhausted as f64,
        s.fallback.total as f64,
        s.fallback.active_for_ms,
        s.fallback.share,
    ];
    snapshot(
        &numbers,
        counts(&s.giveups),
        counts(&s.shed.by_reason),
        quants(&s.latency),
        quants(&s.attempt_latency),
        quants(&s.queue_wait),
        pressure_of(&s.pressure),
        routes,
        counts(&s.fallback.by_reason),
        s.fallback.active,
        s.fallback.is_default,
    )
}

/// One entry of `BallastError.attempts` (without `error`, which the driver adds).
pub fn attempt_record(r: &AttemptRecord) -> JsValue {
    attempt_record_js(
        r.attempt,
        r.outcome,
        r.status,
        r.duration_ms,
        r.route.as_deref(),
    )
}

/// The payload of a listener event.
pub fn event(ev: &Event) -> JsValue {
    match ev {
        Event::Retry(e) => retry_event(e.attempt, e.delay_ms, &e.reason, &e.method, &e.url),
        Event::GiveUp(e) => give_up_event(e.reason, e.attempts, &e.method, &e.url),
        Event::Shed(e) => shed_event(
            e.reason,
            e.attempt,
            e.waited_ms,
            e.queued,
            e.in_flight,
            e.limit,
            &e.method,
            &e.url,
        ),
        Event::Pressure(e) => pressure_event(
            e.state.as_str(),
            e.previous.as_str(),
            e.level,
            &join(&e.drivers, ","),
        ),
        Event::Attempt(e) => attempt_event(
            e.attempt,
            e.outcome,
            e.status,
            e.duration_ms,
            &e.method,
            &e.url,
        ),
        Event::Eject(e) => eject_event(&e.route, e.reason, e.ejections, e.duration_ms),
        Event::Restore(e) => restore_event(&e.route, e.reason, e.ejected_for_ms),
        Event::Fallback(e) => {
            fallback_event(e.reason, &e.route, e.from.as_deref(), &e.method, &e.url)
        }
        Event::FallbackDefault(e) => fallback_default_event(e.is_default, e.share),
        Event::Hedge(e) => hedge_event(
            e.route.as_deref(),
            e.from.as_deref(),
            e.after_ms,
            &e.method,
            &e.url,
        ),
    }
}

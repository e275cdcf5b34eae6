//! The engine's per-call decision path, natively (divan): begin, start the attempt, its response,
//! retries as decided (the backoff timer fired through `poll_timeout`/`handle_timeout`), settle;
//! and the cost of `snapshot()`. Driven through the engine's API directly, as an executor drives
//! it (drain `poll_action`, arm the timer at `poll_timeout`, fire it when due), without the
//! virtual-time executor's bookkeeping, so what is measured is the engine. Virtual time advances
//! 10 us per call, so the windows, sketches, the budget's slots and the timer queue turn over as
//! they would under ~100k calls/s.
//!
//!   cargo bench --bench engine            (bench/run.mjs runs it and reads the table)

use ballast_fetch::core::config::{DepositOn, LimitSetting};
use ballast_fetch::core::{Action, BodyKind, Config, Engine, RequestMeta, Settlement};
use divan::{black_box, Bencher};

fn main() {
    divan::main();
}

fn meta() -> RequestMeta {
    RequestMeta {
        method: "GET".into(),
        url: "https://api.example.com/items?id=42".into(),
        has_idempotency_key: false,
        body: BodyKind::None,
    }
}

const OK: u16 = 200;
const UNAVAILABLE: u16 = 503;

fn engine(edit: impl FnOnce(&mut Config)) -> Engine {
    let mut cfg = Config::default();
    // Backoff of at most a few microseconds: retries take their real path (a backoff timer set,
    // then fired) while virtual time stays as dense as for calls without retries.
    cfg.retry.backoff.base_ms = 0.001;
    edit(&mut cfg);
    Engine::new(cfg.validated().expect("valid config"), 7)
}

/// What an executor does after every input: fire the engine's timer if it is due (it would be
/// armed at `poll_timeout`).
fn timers(e: &mut Engine, now: f64) {
    if e.poll_timeout().is_some_and(|at| at <= now) {
        e.handle_timeout(now);
    }
}

/// One call: begin, each attempt answered 5 us later with the next of `statuses`, retries after
/// their backoff timer, until it settles.
fn call(e: &mut Engine, now: &mut f64, statuses: &[u16]) -> Settlement {
    let task = e.begin(meta(), *now);
    let mut answers = statuses.iter();
    loop {
        let mut started = None;
        while let Some(action) = e.poll_action() {
            match action {
                Action::Start(s) => started = Some(s.attempt),
                Action::Settle { settlement, .. } => {
                    timers(e, *now);
                    return settlement;
                }
                // No retry hooks here: nothing aborts, nothing asks.
                Action::Abort { .. } | Action::Consult { .. } => {}
            }
        }
        timers(e, *now);
        match started {
            Some(attempt) => {
                *now += 0.005;
                let status = *answers.next().expect("more attempts than statuses");
                e.handle_response(task, attempt, status, None, *now, 0.0);
            }
            None => {
                // Sleeping before a retry: the backoff timer is the next one due.
                let at = e.poll_timeout().expect("a timer");
                *now = now.max(at);
                e.handle_timeout(*now);
            }
        }
    }
}

fn run(b: Bencher, mut e: Engine, statuses: &'static [u16]) {
    let mut now = 0.0;
    b.bench_local(|| {
        now += 0.01;
        black_box(call(&mut e, &mut now, black_box(statuses)))
    });
}

/// Defaults (fixed limit 64, budget 0.2): one attempt, 200.
#[divan::bench]
fn task_ok(b: Bencher) {
    run(b, engine(|_| {}), &[OK]);
}

/// Without the concurrency limiter (`concurrency.limit: null`): what the limiter costs.
#[divan::bench]
fn task_ok_unlimited(b: Bencher) {
    run(b, engine(|c| c.concurrency.limit = None), &[OK]);
}

/// With the adaptive (Gradient2) limit.
#[divan::bench]
fn task_ok_adaptive(b: Bencher) {
    run(
        b,
        engine(|c| c.concurrency.limit = Some(LimitSetting::Adaptive)),
        &[OK],
    );
}

/// 503, retry (backoff drawn, budget withdrawn, backoff timer), then 200. Budget ratio 10 so it
/// never runs dry.
#[divan::bench]
fn task_503_retry_ok(b: Bencher) {
    run(b, engine(|c| c.budget.ratio = 10.0), &[UNAVAILABLE, OK]);
}

/// 503 three times with `retry.maxAttempts: 3`: gives up with max-attempts (settling with the
/// last 503). Every call deposits (`depositOn: "task"`) and the ratio is 10, so the budget never
/// runs dry and the whole path (3 attempts, 2 retries) runs.
#[divan::bench]
fn task_503_give_up(b: Bencher) {
    run(
        b,
        engine(|c| {
            c.retry.max_attempts = 3;
            c.budget.deposit_on = DepositOn::Task;
            c.budget.ratio = 10.0;
        }),
        &[UNAVAILABLE, UNAVAILABLE, UNAVAILABLE],
    );
}

/// `snapshot()` after 100k calls (quantiles of the latency sketches, budget, pressure).
#[divan::bench]
fn snapshot(b: Bencher) {
    let mut e = engine(|_| {});
    let mut now = 0.0;
    for _ in 0..100_000 {
        now += 0.01;
        call(&mut e, &mut now, &[OK]);
    }
    b.bench_local(|| {
        now += 0.001;
        black_box(e.snapshot(now))
    });
}

//! The engine's per-task decision path, natively (divan): admit, start, record the outcome, decide,
//! finish; and the cost of `snapshot()`. Virtual time advances 10 us per task, so the windows,
//! sketches and the budget's slots rotate as they would under ~100k tasks/s.
//!
//!   cargo bench --bench engine            (bench/run.mjs runs it and reads the table)

use ballast_fetch::core::config::{DepositOn, LimitSetting};
use ballast_fetch::core::{Admit, BodyKind, Config, Decision, Engine, Outcome, RequestMeta};
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

const OK: Outcome = Outcome::Response {
    status: 200,
    retry_after_ms: None,
};
const UNAVAILABLE: Outcome = Outcome::Response {
    status: 503,
    retry_after_ms: None,
};

fn engine(edit: impl FnOnce(&mut Config)) -> Engine {
    let mut cfg = Config::default();
    edit(&mut cfg);
    Engine::new(cfg.validated().expect("valid config"), 7)
}

/// One task: begin, admit, attempt, outcome per `outcomes`, retries as decided, finish.
fn task(e: &mut Engine, now: &mut f64, outcomes: &[Outcome]) -> Decision {
    let mut t = e.begin(meta(), *now);
    let mut last = Decision::Done;
    for o in outcomes {
        match e.admit(&mut t, *now) {
            Admit::Now => {}
            other => panic!("not admitted at once: {other:?}"),
        }
        let id = e.attempt_started(&mut t, false, *now).id;
        *now += 0.005;
        last = e.attempt_finished(&mut t, id, o.clone(), *now);
        match last {
            Decision::Retry { delay_ms } => *now += delay_ms.min(0.001),
            _ => break,
        }
    }
    e.finish(&mut t, *now);
    last
}

fn run(b: Bencher, mut e: Engine, outcomes: &'static [Outcome]) {
    let mut now = 0.0;
    b.bench_local(|| {
        now += 0.01;
        black_box(task(&mut e, &mut now, black_box(outcomes)))
    });
}

/// Defaults (fixed limit 64, budget 0.1): one attempt, 200.
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

/// 503, retry (backoff drawn, budget withdrawn), then 200. Budget ratio 10 so it never runs dry.
#[divan::bench]
fn task_503_retry_ok(b: Bencher) {
    run(b, engine(|c| c.budget.ratio = 10.0), &[UNAVAILABLE, OK]);
}

/// 503 three times: gives up with max-attempts. Every task deposits (`depositOn: "task"`) and the
/// ratio is 10, so the budget never runs dry and the whole path (3 attempts, 2 retries) runs.
#[divan::bench]
fn task_503_give_up(b: Bencher) {
    run(
        b,
        engine(|c| {
            c.budget.deposit_on = DepositOn::Task;
            c.budget.ratio = 10.0;
        }),
        &[UNAVAILABLE, UNAVAILABLE, UNAVAILABLE],
    );
}

/// `snapshot()` after 100k tasks (quantiles of the latency sketches, budget, pressure).
#[divan::bench]
fn snapshot(b: Bencher) {
    let mut e = engine(|_| {});
    let mut now = 0.0;
    for _ in 0..100_000 {
        now += 0.01;
        task(&mut e, &mut now, &[OK]);
    }
    b.bench_local(|| {
        now += 0.001;
        black_box(e.snapshot(now))
    });
}

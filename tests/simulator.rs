//! The simulator on the very engine users ship: reproducible bit for bit from its seed (and the
//! same on every host: the fingerprints in tests/fixtures/sim-golden.tsv are checked here and by
//! the wasm build in Node and Chromium), its summary agreeing with the engine's own counters,
//! scenario errors naming their path, and the metastable retry storm: naive retries stay
//! collapsed after the trigger ends while ballast recovers.
//!
//! `BLESS=1 cargo test --test simulator` rewrites the fixture after a change that is meant to
//! move the numbers (say so in the commit).

use ballast_fetch::sim::scenario::{Arrival, Scenario};
use ballast_fetch::sim::series::Trace;
use ballast_fetch::sim::{presets, simulate, Options, Output, Policy, Run};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sim-golden.tsv");

fn options(policy: Policy, seed: u64) -> Options {
    Options {
        policy,
        seed,
        // The first 20 s of calls traced, as the page's raster does.
        trace: Some(Trace {
            from_ms: 0.0,
            to_ms: 20_000.0,
            max: 300,
        }),
        ..Options::default()
    }
}

fn run(name: &str, policy: Policy, seed: u64) -> Output {
    let s = presets::by_name(name).unwrap();
    simulate(&s, &options(policy, seed)).unwrap()
}

const COLUMNS: &str = "preset\tpolicy\tseed\tdigest\toffered\tattempts\tamplification\tsuccessRate\tgoodput\tp99Ms\tbelowHalfAfterTriggerMs\trecovered\tshed\ttimeInFallbackMs";

fn golden_line(o: &Output) -> String {
    let s = &o.summary;
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.0}"));
    format!(
        "{}\t{}\t{}\t{:016x}\t{}\t{}\t{:.4}\t{:.4}\t{:.2}\t{:.0}\t{}\t{}\t{}\t{:.0}",
        s.scenario,
        s.policy,
        s.seed,
        o.digest(),
        s.offered,
        s.attempts,
        s.amplification,
        s.success_rate,
        s.goodput,
        s.latency_p99,
        opt(s.below_half_after_trigger_ms),
        s.recovered,
        s.shed,
        s.time_in_fallback_ms,
    )
}

#[test]
fn every_preset_matches_its_committed_fingerprint() {
    let mut lines = vec![COLUMNS.to_string()];
    for s in presets::all() {
        for policy in [Policy::Naive, Policy::Ballast] {
            lines.push(golden_line(&run(&s.name, policy, 1)));
        }
    }
    let now = lines.join("\n") + "\n";
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(GOLDEN, &now).unwrap();
        return;
    }
    let committed =
        std::fs::read_to_string(GOLDEN).expect("tests/fixtures/sim-golden.tsv (BLESS=1 writes it)");
    for (a, b) in committed.lines().zip(now.lines()) {
        assert_eq!(
            a, b,
            "a run moved (BLESS=1 rewrites the fixture if that was meant)"
        );
    }
    assert_eq!(committed.lines().count(), now.lines().count());
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_another() {
    let a = run("brownout-tail", Policy::Ballast, 7);
    let b = run("brownout-tail", Policy::Ballast, 7);
    assert_eq!(a, b);
    assert_eq!(a.digest(), b.digest());
    let c = run("brownout-tail", Policy::Ballast, 8);
    assert_ne!(a.digest(), c.digest());
    assert_ne!(a.series, c.series);
}

#[test]
fn stepping_a_run_gives_what_simulate_gives() {
    let s = presets::by_name("primary-outage").unwrap();
    let o = options(Policy::Ballast, 3);
    let mut r = Run::new(&s, &o).unwrap();
    let mut steps = 0;
    while r.step() {
        steps += 1;
        let (points, _) = r.progress();
        assert_eq!(points, steps);
    }
    assert_eq!(steps as f64, s.duration_ms / 1000.0);
    assert_eq!(r.finish(), simulate(&s, &o).unwrap());
}

#[test]
fn a_run_stopped_early_is_a_shorter_run() {
    let s = presets::by_name("burst").unwrap();
    let o = options(Policy::Ballast, 2);
    let mut r = Run::new(&s, &o).unwrap();
    for _ in 0..10 {
        r.step();
    }
    let early = r.finish_so_far();
    let short = simulate(
        &s,
        &Options {
            duration_ms: Some(10_000.0),
            ..o
        },
    )
    .unwrap();
    assert_eq!(early.series, short.series);
    assert_eq!(early.summary.duration_ms, 10_000.0);
}

#[test]
fn the_summary_agrees_with_the_engines_own_counters() {
    for s in presets::all() {
        for policy in [Policy::Naive, Policy::Ballast] {
            let mut r = Run::new(&s, &options(policy.clone(), 5)).unwrap();
            while r.step() {}
            let snap = r.snapshot();
            let out = r.finish();
            let m = &out.summary;
            let what = format!("{} {}", s.name, m.policy);
            assert_eq!(m.offered, snap.tasks, "{what}: offered");
            assert_eq!(m.attempts, snap.attempts, "{what}: attempts");
            assert_eq!(m.retries, snap.retries, "{what}: retries");
            assert_eq!(m.shed, snap.shed.total, "{what}: shed");
            assert_eq!(
                m.successes + m.failures + m.shed + snap.active_tasks,
                m.offered,
                "{what}: every call settled once or is still running"
            );
            let per_second: u64 = out.series.iter().map(|p| p.attempts).sum();
            assert_eq!(
                per_second, m.attempts,
                "{what}: the series adds up to the summary"
            );
            let offered: u64 = out.series.iter().map(|p| p.offered).sum();
            assert_eq!(offered, m.offered, "{what}: offered per second");
        }
    }
}

#[test]
fn metastable_naive_stays_collapsed_ballast_recovers() {
    let naive = run("metastable", Policy::Naive, 1);
    let ballast = run("metastable", Policy::Ballast, 1);
    let (n, b) = (&naive.summary, &ballast.summary);
    assert!(!n.recovered, "naive stays collapsed: {n:?}");
    assert!(
        n.below_half_after_trigger_ms.unwrap()
            >= n.duration_ms - n.trigger_end_ms.unwrap() - 1000.0
    );
    assert!(n.amplification > 2.0, "naive's retries pile on: {n:?}");
    assert!(b.recovered, "ballast recovers: {b:?}");
    assert!(b.below_half_after_trigger_ms.unwrap() < 30_000.0, "{b:?}");
    assert!(b.amplification < 1.1, "{b:?}");
    // And it holds across seeds, not by luck of one.
    for seed in 2..6 {
        assert!(
            !run("metastable", Policy::Naive, seed).summary.recovered,
            "seed {seed}"
        );
        assert!(
            run("metastable", Policy::Ballast, seed).summary.recovered,
            "seed {seed}"
        );
    }
}

#[test]
fn scenario_errors_name_their_path() {
    let base = presets::by_name("primary-outage").unwrap();
    type Edit = Box<dyn Fn(&mut Scenario)>;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|s| s.duration_ms = 0.0), "durationMs"),
        (Box::new(|s| s.arrivals.clear()), "arrivals"),
        (
            Box::new(|s| {
                s.arrivals.push(Arrival::Ramp {
                    from: 1.0,
                    to: 2.0,
                    start_ms: 5000.0,
                    end_ms: 1000.0,
                    hold_ms: None,
                })
            }),
            "arrivals[1].endMs",
        ),
        (
            Box::new(|s| s.routes[1].name = s.routes[0].name.clone()),
            "routes[1].name",
        ),
        (
            Box::new(|s| s.routes[0].error_rate = 1.5),
            "routes[0].errorRate",
        ),
        (
            Box::new(|s| s.routes[0].latency.p99_ms = 1.0),
            "routes[0].latency.p99Ms",
        ),
        (
            Box::new(|s| s.routes.iter_mut().for_each(|r| r.fallback = true)),
            "routes",
        ),
    ];
    for (edit, path) in cases {
        let mut s = base.clone();
        edit(&mut s);
        let e = simulate(&s, &Options::default()).unwrap_err();
        assert_eq!(e.path, path, "{}", e.message());
        assert!(
            e.message().contains(path) && e.message().contains("allowed"),
            "{}",
            e.message()
        );
    }
    // A config passed as the policy is read as createFetch reads it; its paths say so.
    let mut cfg = ballast_fetch::core::config::Config::default();
    cfg.budget.ratio = -1.0;
    let e = simulate(&base, &options(Policy::Config(Box::new(cfg)), 1)).unwrap_err();
    assert_eq!(e.path, "policy.budget.ratio");
}

#[test]
fn a_config_with_its_own_routes_is_matched_to_the_scenarios_by_name_or_position() {
    use ballast_fetch::core::config::{Config, RouteConfig};
    let s = presets::by_name("primary-outage").unwrap();
    let mut cfg = Config {
        routes: s
            .routes
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut c =
                    RouteConfig::new(&format!("origin-{i}"), &format!("https://o{i}.example"));
                c.fallback = r.fallback;
                c
            })
            .collect(),
        ..Config::default()
    };
    let mine = simulate(&s, &options(Policy::Config(Box::new(cfg.clone())), 1)).unwrap();
    let named = simulate(&s, &options(Policy::Ballast, 1)).unwrap();
    assert_eq!(
        mine.summary.attempts, named.summary.attempts,
        "same models by position"
    );
    cfg.routes
        .push(RouteConfig::new("extra", "https://extra.example"));
    let e = simulate(&s, &options(Policy::Config(Box::new(cfg)), 1)).unwrap_err();
    assert_eq!(e.path, format!("policy.routes[{}]", s.routes.len()));
}

/// Native speed (the wasm figures are bench/sim.mjs's): `cargo test --release --test simulator
/// speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn speed() {
    // SPEED_PRESETS=a,b, SPEED_POLICIES=naive|ballast and SPEED_RUNS=N narrow it (for a profiler).
    let only = std::env::var("SPEED_PRESETS").ok();
    let policies = std::env::var("SPEED_POLICIES").ok();
    let runs: usize = std::env::var("SPEED_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    for s in presets::all() {
        let name = s.name.clone();
        if only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|n| n == name))
        {
            continue;
        }
        for policy in [Policy::Naive, Policy::Ballast] {
            if policies
                .as_deref()
                .is_some_and(|o| !o.split(',').any(|n| n == policy.name()))
            {
                continue;
            }
            let o = Options {
                policy: policy.clone(),
                ..Options::default()
            };
            let mut secs = f64::INFINITY;
            let mut out = None;
            for _ in 0..runs {
                let t0 = std::time::Instant::now();
                out = Some(simulate(&s, &o).unwrap());
                secs = secs.min(t0.elapsed().as_secs_f64());
            }
            let out = out.unwrap();
            eprintln!(
                "{name:>15} {:>8}: {} tasks in {:.3} s = {:.0} tasks/s (attempts {})",
                out.summary.policy,
                out.summary.offered,
                secs,
                out.summary.offered as f64 / secs,
                out.summary.attempts
            );
        }
    }
}

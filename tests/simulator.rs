//! The simulator on the very engine users ship: reproducible from its seed, its summary agreeing
//! with the engine's own counters, scenario errors naming their path, and the metastable retry
//! storm: naive retries stay collapsed after the trigger ends while ballast recovers.

use ballast_fetch::sim::{presets, simulate, Options, Policy};

fn run(name: &str, policy: Policy, seed: u64) -> ballast_fetch::sim::Output {
    let s = presets::by_name(name).unwrap();
    simulate(
        &s,
        &Options {
            policy,
            seed,
            ..Options::default()
        },
    )
    .unwrap()
}

#[test]
fn metastable_naive_stays_collapsed_ballast_recovers() {
    let naive = run("metastable", Policy::Naive, 1);
    let ballast = run("metastable", Policy::Ballast, 1);
    for o in [&naive, &ballast] {
        let s = &o.summary;
        eprintln!(
            "{:>8}: offered {} attempts {} amp {:.2} success {:.3} below-half {:?} recovered {} p99 {:.0}",
            s.policy, s.offered, s.attempts, s.amplification, s.success_rate, s.below_half_after_trigger_ms, s.recovered, s.latency_p99
        );
    }
    assert!(!naive.summary.recovered, "naive stays collapsed");
    assert!(ballast.summary.recovered, "ballast recovers");
}

#[test]
#[ignore]
fn speed() {
    for name in ["overload-ramp", "primary-outage", "metastable"] {
        for policy in [Policy::Naive, Policy::Ballast] {
            let mut secs = f64::INFINITY;
            let mut o = None;
            for _ in 0..7 {
                let t0 = std::time::Instant::now();
                o = Some(run(name, policy.clone(), 1));
                secs = secs.min(t0.elapsed().as_secs_f64());
            }
            let o = o.unwrap();
            eprintln!(
                "{name:>15} {:>8}: {} tasks in {:.3} s = {:.0} tasks/s (attempts {})",
                o.summary.policy,
                o.summary.offered,
                secs,
                o.summary.offered as f64 / secs,
                o.summary.attempts
            );
        }
    }
}
